#include "yamlguard.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace netmap {

namespace {

bool isBlank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

// Flow nesting ([ and {) counted on the text, before any recursive parser sees it. Brackets
// inside quoted scalars and comments do not count. A quote opens a quoted scalar only where a
// scalar can begin (after indentation, ": ", "- ", "? ", or "[", "{" and "," in a flow); anywhere
// else it is an ordinary character of a plain scalar (it's, x"y), and treating it as an opening
// quote would hide every bracket up to the next quote from the count.
std::optional<YamlRefusal> flowTooDeep(QByteArrayView data, int maxDepth)
{
    enum class State { Plain, Double, Single, Comment } state = State::Plain;
    int depth = 0;
    int line = 1;
    qsizetype lineStart = 0;
    bool scalarStart = true; // a scalar may begin here
    bool afterBlank = true; // the previous character was a blank or a line start
    const qsizetype n = data.size();
    for (qsizetype i = 0; i < n; ++i) {
        const char c = data[i];
        if (c == '\n') {
            ++line;
            lineStart = i + 1;
            if (state == State::Comment)
                state = State::Plain;
            if (state == State::Plain) {
                scalarStart = true;
                afterBlank = true;
            }
            continue;
        }
        switch (state) {
        case State::Comment:
            continue;
        case State::Double:
            if (c == '\\' && i + 1 < n && data[i + 1] != '\n')
                ++i;
            else if (c == '"')
                state = State::Plain;
            continue;
        case State::Single:
            if (c == '\'' && i + 1 < n && data[i + 1] == '\'')
                ++i;
            else if (c == '\'')
                state = State::Plain;
            continue;
        case State::Plain:
            break;
        }
        if (isBlank(c)) {
            afterBlank = true;
            continue;
        }
        const bool blank = afterBlank;
        afterBlank = false;
        const char next = i + 1 < n ? data[i + 1] : '\n';
        const bool nextBlank = isBlank(next) || next == '\n';
        if (c == '#' && blank) {
            state = State::Comment;
        } else if ((c == '"' || c == '\'') && scalarStart) {
            state = c == '"' ? State::Double : State::Single;
            scalarStart = false;
        } else if (c == '[' || c == '{') {
            if (++depth > maxDepth)
                return YamlRefusal {
                    QStringLiteral("nesting is deeper than %1 levels").arg(maxDepth), line,
                    int(i - lineStart) + 1};
            scalarStart = true;
        } else if (c == ']' || c == '}') {
            depth = depth > 0 ? depth - 1 : 0;
            scalarStart = false;
        } else if (c == ',' && depth > 0) {
            scalarStart = true;
        } else if (c == ':' && (nextBlank || depth > 0)) {
            scalarStart = true;
        } else if ((c == '-' || c == '?') && scalarStart && nextBlank) {
            scalarStart = true;
        } else if ((c == '&' || c == '!' || c == '*') && scalarStart) {
            // An anchor, tag or alias before the value: the value may still start after it.
            while (i + 1 < n && !isBlank(data[i + 1]) && data[i + 1] != '\n')
                ++i;
        } else {
            scalarStart = false;
        }
    }
    return std::nullopt;
}

struct Refused
{
    YamlRefusal refusal;
};

QString keyText(const std::string &key)
{
    return QString::fromUtf8(key.data(), qsizetype(std::min<size_t>(key.size(), 64)));
}

// Walks the parser's events without building a tree and stops at the first thing refused.
// Throwing from an event handler ends yaml-cpp's recursion at once, so the depth cap also bounds
// the parser's own stack (block nesting such as "- - - -" is not seen by the text pre-scan).
class Guard : public YAML::EventHandler
{
public:
    explicit Guard(const YamlLimits &limits)
        : m_limits(limits)
    {
    }

    void OnDocumentStart(const YAML::Mark &) override { }
    void OnDocumentEnd() override { }
    void OnNull(const YAML::Mark &mark, YAML::anchor_t anchor) override
    {
        node(mark, anchor, "?");
        if (isKey())
            refuse(mark, QStringLiteral("a key must be plain text, not empty"));
        valueDone();
    }
    void OnAlias(const YAML::Mark &mark, YAML::anchor_t) override
    {
        refuse(mark, QStringLiteral("aliases (*name) are not accepted"));
    }
    void OnScalar(const YAML::Mark &mark, const std::string &tag, YAML::anchor_t anchor,
                  const std::string &value) override
    {
        node(mark, anchor, tag);
        m_bytes += qint64(value.size());
        if (m_bytes > m_limits.maxScalarBytes)
            refuse(mark,
                   QStringLiteral("the document holds more than %1 MiB of text")
                       .arg(m_limits.maxScalarBytes >> 20));
        if (isKey()) {
            Frame &map = m_frames.back();
            const auto [it, inserted] = map.keys.emplace(value, mark.line + 1);
            if (!inserted)
                refuse(mark,
                       QStringLiteral("key \"%1\" appears twice (first on line %2)")
                           .arg(keyText(value))
                           .arg(it->second));
        }
        valueDone();
    }
    void OnSequenceStart(const YAML::Mark &mark, const std::string &tag, YAML::anchor_t anchor,
                         YAML::EmitterStyle::value) override
    {
        open(mark, anchor, tag, false);
    }
    void OnSequenceEnd() override { close(); }
    void OnMapStart(const YAML::Mark &mark, const std::string &tag, YAML::anchor_t anchor,
                    YAML::EmitterStyle::value) override
    {
        open(mark, anchor, tag, true);
    }
    void OnMapEnd() override { close(); }
    void OnAnchor(const YAML::Mark &mark, const std::string &) override
    {
        refuse(mark, QStringLiteral("anchors (&name) are not accepted"));
    }

private:
    struct Frame
    {
        bool isMap = false;
        bool expectKey = true; // in a mapping: the next node is a key
        std::map<std::string, int> keys; // key -> its line, in a mapping
    };

    bool isKey() const
    {
        return !m_frames.empty() && m_frames.back().isMap && m_frames.back().expectKey;
    }

    // After a whole node (a scalar, or a collection at its end): a mapping's key is followed by
    // its value and the value by the next key.
    void valueDone()
    {
        if (!m_frames.empty() && m_frames.back().isMap)
            m_frames.back().expectKey = !m_frames.back().expectKey;
    }

    // Every node: counted, and neither anchored nor tagged. yaml-cpp reports "?" for an untagged
    // plain node and "!" for a quoted scalar (or the bare non-specific tag "!", which also means
    // a string); anything else is a tag written in the file (!!str, !foo, %TAG shorthands).
    void node(const YAML::Mark &mark, YAML::anchor_t anchor, const std::string &tag)
    {
        if (anchor != YAML::NullAnchor)
            refuse(mark, QStringLiteral("anchors (&name) are not accepted"));
        if (!tag.empty() && tag != "?" && tag != "!")
            refuse(mark, QStringLiteral("tags (!name) are not accepted"));
        if (++m_nodes > m_limits.maxNodes)
            refuse(mark,
                   QStringLiteral("the document holds more than %1 values").arg(m_limits.maxNodes));
    }

    void open(const YAML::Mark &mark, YAML::anchor_t anchor, const std::string &tag, bool isMap)
    {
        node(mark, anchor, tag);
        if (isKey())
            refuse(mark,
                   QStringLiteral("a key must be plain text, not %1")
                       .arg(isMap ? QStringLiteral("a mapping") : QStringLiteral("a list")));
        if (int(m_frames.size()) >= m_limits.maxDepth)
            refuse(mark, QStringLiteral("nesting is deeper than %1 levels").arg(m_limits.maxDepth));
        m_frames.push_back(Frame {isMap, true, {}});
    }

    void close()
    {
        if (!m_frames.empty())
            m_frames.pop_back();
        valueDone();
    }

    [[noreturn]] void refuse(const YAML::Mark &mark, const QString &message)
    {
        throw Refused {YamlRefusal {message, mark.is_null() ? 0 : mark.line + 1,
                                    mark.is_null() ? 0 : mark.column + 1}};
    }

    YamlLimits m_limits;
    qint64 m_bytes = 0;
    qint64 m_nodes = 0;
    std::vector<Frame> m_frames;
};

} // namespace

std::optional<YamlRefusal> refuseUnsafeYaml(QByteArrayView untrustedYaml, const YamlLimits &limits)
{
    if (untrustedYaml.size() > limits.maxBytes)
        return YamlRefusal {
            QStringLiteral("the document is larger than %1 KiB").arg(limits.maxBytes >> 10), 1, 1};
    if (auto deep = flowTooDeep(untrustedYaml, limits.maxDepth))
        return deep;
    std::istringstream stream(std::string(untrustedYaml.data(), size_t(untrustedYaml.size())));
    try {
        YAML::Parser parser(stream);
        Guard guard(limits);
        // The loaders read the first document only (YAML::Load), so only that one is guarded.
        // yaml-cpp 0.7 can also go on handing out documents from a broken stream for ever, so
        // looping until it says there are none would hang on a few hundred bytes.
        parser.HandleNextDocument(guard);
    } catch (const Refused &r) {
        return r.refusal;
    } catch (const YAML::Exception &e) {
        // An alias of an anchor that is not there is still an alias.
        if (e.msg == YAML::ErrorMsg::UNKNOWN_ANCHOR)
            return YamlRefusal {QStringLiteral("aliases (*name) are not accepted"),
                                e.mark.is_null() ? 0 : e.mark.line + 1,
                                e.mark.is_null() ? 0 : e.mark.column + 1};
        return std::nullopt; // a syntax error: the loader reports it with its position
    }
    return std::nullopt;
}

} // namespace netmap
