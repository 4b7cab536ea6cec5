#include "yamlguard.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <sstream>
#include <string>

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

// Walks the parser's events without building a tree: the first anchor or alias, or scalars
// past the byte cap, end the walk.
class Guard : public YAML::EventHandler
{
public:
    explicit Guard(qint64 maxScalarBytes)
        : m_maxScalarBytes(maxScalarBytes)
    {
    }

    void OnDocumentStart(const YAML::Mark &) override { }
    void OnDocumentEnd() override { }
    void OnNull(const YAML::Mark &mark, YAML::anchor_t anchor) override
    {
        checkAnchor(mark, anchor);
    }
    void OnAlias(const YAML::Mark &mark, YAML::anchor_t) override
    {
        refuse(mark, QStringLiteral("aliases (*name) are not accepted"));
    }
    void OnScalar(const YAML::Mark &mark, const std::string &, YAML::anchor_t anchor,
                  const std::string &value) override
    {
        checkAnchor(mark, anchor);
        m_bytes += qint64(value.size());
        if (m_bytes > m_maxScalarBytes)
            refuse(mark,
                   QStringLiteral("the document holds more than %1 MiB of text")
                       .arg(m_maxScalarBytes >> 20));
    }
    void OnSequenceStart(const YAML::Mark &mark, const std::string &, YAML::anchor_t anchor,
                         YAML::EmitterStyle::value) override
    {
        checkAnchor(mark, anchor);
    }
    void OnSequenceEnd() override { }
    void OnMapStart(const YAML::Mark &mark, const std::string &, YAML::anchor_t anchor,
                    YAML::EmitterStyle::value) override
    {
        checkAnchor(mark, anchor);
    }
    void OnMapEnd() override { }
    void OnAnchor(const YAML::Mark &mark, const std::string &) override
    {
        refuse(mark, QStringLiteral("anchors (&name) are not accepted"));
    }

private:
    void checkAnchor(const YAML::Mark &mark, YAML::anchor_t anchor)
    {
        if (anchor != YAML::NullAnchor)
            refuse(mark, QStringLiteral("anchors (&name) are not accepted"));
    }
    [[noreturn]] void refuse(const YAML::Mark &mark, const QString &message)
    {
        throw Refused {YamlRefusal {message, mark.is_null() ? 0 : mark.line + 1,
                                    mark.is_null() ? 0 : mark.column + 1}};
    }

    qint64 m_maxScalarBytes;
    qint64 m_bytes = 0;
};

} // namespace

std::optional<YamlRefusal> refuseUnsafeYaml(QByteArrayView untrustedYaml, int maxFlowDepth,
                                            qint64 maxScalarBytes)
{
    if (auto deep = flowTooDeep(untrustedYaml, maxFlowDepth))
        return deep;
    std::istringstream stream(std::string(untrustedYaml.data(), size_t(untrustedYaml.size())));
    try {
        YAML::Parser parser(stream);
        Guard guard(maxScalarBytes);
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
