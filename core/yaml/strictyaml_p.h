#pragma once
// The one strict YAML reader of the program: the snapshot (formats/snapshotyaml), the check
// configuration (io/checkconfig) and the expectations file (policy/expectations) load through
// loadDocument() and read with these helpers, so that all three refuse the same things the same
// way (yaml/yamlguard.h: anchors, aliases, tags, repeated keys, the caps; checkKeys(): unknown
// keys) and every error is one line "file:line:column: message". yaml-cpp stays inside .cpp
// files: include this from .cpp files only.

#include "model/result.h"
#include "model/untrustedtext.h"
#include "yaml/yamlguard.h"

#include <QSet>
#include <QString>

#include <yaml-cpp/yaml.h>

#include <string>

namespace netmap::strictyaml {

// A thrown position-carrying error, turned into an Error at the API boundary.
struct YamlError
{
    QString message;
    int line = 0; // 1-based, 0 when unknown
    int column = 0;
};

inline YamlError errorAt(const YAML::Node &node, QString message)
{
    const YAML::Mark mark = node.Mark();
    if (mark.is_null())
        return YamlError {std::move(message), 0, 0};
    return YamlError {std::move(message), mark.line + 1, mark.column + 1};
}

inline QString text(const std::string &s)
{
    return QString::fromUtf8(s.data(), qsizetype(s.size()));
}

// Plain words describing a node's kind, for messages.
inline QString kindName(const YAML::Node &node)
{
    switch (node.Type()) {
    case YAML::NodeType::Map:
        return QStringLiteral("a mapping");
    case YAML::NodeType::Sequence:
        return QStringLiteral("a list");
    case YAML::NodeType::Scalar:
        return QStringLiteral("a single value");
    case YAML::NodeType::Null:
        return QStringLiteral("an empty value");
    default:
        return QStringLiteral("nothing");
    }
}

inline void requireMap(const YAML::Node &node, const QString &what)
{
    if (!node.IsMap())
        throw errorAt(node,
                      QStringLiteral("%1 must be a mapping, not %2").arg(what, kindName(node)));
}

inline void requireSequence(const YAML::Node &node, const QString &what)
{
    if (!node.IsSequence())
        throw errorAt(node, QStringLiteral("%1 must be a list, not %2").arg(what, kindName(node)));
}

inline QString scalar(const YAML::Node &node, const QString &what)
{
    if (!node.IsScalar())
        throw errorAt(
            node, QStringLiteral("%1 must be a single value, not %2").arg(what, kindName(node)));
    return text(node.Scalar());
}

inline int integer(const YAML::Node &node, const QString &what, int min, int max)
{
    const QString value = scalar(node, what);
    bool ok = false;
    const int n = value.toInt(&ok);
    if (!ok || value.trimmed() != value || value.startsWith(u'+'))
        throw errorAt(node, QStringLiteral("%1 must be a whole number").arg(what));
    if (n < min || n > max)
        throw errorAt(node,
                      QStringLiteral("%1 must be between %2 and %3, not %4")
                          .arg(what)
                          .arg(min)
                          .arg(max)
                          .arg(n));
    return n;
}

// Refuses keys that are not in `known` (repeated keys never get here: loadDocument() refuses
// them in every mapping of the document). An empty `known` accepts any plain key.
inline void checkKeys(const YAML::Node &map, const QString &where, const QSet<QString> &known)
{
    for (auto it = map.begin(); it != map.end(); ++it) {
        if (!it->first.IsScalar())
            throw errorAt(it->first, QStringLiteral("%1: keys must be plain names").arg(where));
        const QString key = text(it->first.Scalar());
        if (!known.isEmpty() && !known.contains(key))
            throw errorAt(it->first,
                          QStringLiteral("%1: unknown key \"%2\"").arg(where, key.left(64)));
    }
}

// Loads the first YAML document after yaml/yamlguard.h has passed it within `limits`; what it
// refuses and parse errors become YamlError with the position.
inline YAML::Node loadDocument(const QByteArray &untrustedYaml, const YamlLimits &limits = {})
{
    if (auto refused = refuseUnsafeYaml(untrustedYaml, limits))
        throw YamlError {refused->message, refused->line, refused->column};
    try {
        return YAML::Load(std::string(untrustedYaml.constData(), size_t(untrustedYaml.size())));
    } catch (const YAML::Exception &e) {
        YamlError error {text(e.msg), 0, 0};
        if (!e.mark.is_null()) {
            error.line = e.mark.line + 1;
            error.column = e.mark.column + 1;
        }
        throw error;
    }
}

// Messages may quote the file (an unknown key, yaml-cpp's "unknown escape character: \x1b"):
// one line of plain text, so that the error line cannot carry terminal sequences.
inline QString plainMessage(const QString &message)
{
    return untrustedtext::line(message, 500);
}

inline Error toError(const YamlError &e, const QString &fileName)
{
    return makeError(Error::Code::Input, plainMessage(e.message), fileName, e.line, e.column);
}

} // namespace netmap::strictyaml
