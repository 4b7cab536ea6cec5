// The snapshot's field reader (snapshotyaml_p.h): text, tokens, names, addresses, booleans,
// numbers, times and lists, each refused with the position of its node.

#include "snapshotyaml_p.h"

#include "model/ipv4.h"
#include "model/untrustedtext.h"
#include "qubes/qvmparsers.h"
#include "yaml/strictyaml_p.h"

#include <QSet>

namespace netmap::snapshotyaml {

QString plainMessage(const QString &message)
{
    return untrustedtext::line(message, 500);
}

bool FieldReader::fail(const YAML::Node &node, const QString &message)
{
    if (!error) {
        const YAML::Mark mark = node.Mark();
        error = makeError(Error::Code::Input, plainMessage(message), file,
                          mark.is_null() ? 0 : mark.line + 1, mark.is_null() ? 0 : mark.column + 1);
    }
    return false;
}

bool FieldReader::checkKeys(const YAML::Node &map, std::initializer_list<const char *> allowed)
{
    QSet<QString> known;
    for (const char *a : allowed)
        known.insert(QString::fromLatin1(a));
    try {
        strictyaml::checkKeys(map, QStringLiteral("the snapshot"), known);
    } catch (const strictyaml::YamlError &e) {
        if (!error)
            error = strictyaml::toError(e, file);
        return false;
    }
    return true;
}

bool FieldReader::map(const YAML::Node &node, const char *what)
{
    if (!node.IsMap())
        return fail(node, QStringLiteral("%1 must be a mapping").arg(QString::fromLatin1(what)));
    return true;
}

bool FieldReader::seq(const YAML::Node &node, const char *what)
{
    if (!node.IsSequence())
        return fail(node, QStringLiteral("%1 must be a list").arg(QString::fromLatin1(what)));
    return true;
}

bool FieldReader::string(const YAML::Node &parent, const char *key, QString *out, bool required)
{
    const YAML::Node node = parent[key];
    if (!node || node.IsNull()) {
        if (required)
            return fail(parent, QStringLiteral("missing \"%1\"").arg(QString::fromLatin1(key)));
        out->clear();
        return true;
    }
    if (!node.IsScalar())
        return fail(node, QStringLiteral("\"%1\" must be text").arg(QString::fromLatin1(key)));
    *out = QString::fromStdString(node.Scalar());
    if (out->size() > 1 << 20)
        return fail(node, QStringLiteral("\"%1\" is too long").arg(QString::fromLatin1(key)));
    return true;
}

bool FieldReader::token(const YAML::Node &parent, const char *key, QString *out, bool required)
{
    if (!string(parent, key, out, required))
        return false;
    if (out->size() > 32)
        return fail(parent[key],
                    QStringLiteral("\"%1\" is too long").arg(QString::fromLatin1(key)));
    for (QChar c : *out)
        if (!c.isLetterOrNumber() || c.unicode() > 127)
            if (c != QLatin1Char('-') && c != QLatin1Char('_'))
                return fail(
                    parent[key],
                    QStringLiteral("\"%1\" must be a plain word").arg(QString::fromLatin1(key)));
    return true;
}

bool FieldReader::name(const YAML::Node &parent, const char *key, std::optional<QubeName> *out,
                       bool required)
{
    QString text;
    if (!string(parent, key, &text, required))
        return false;
    // A required name is never empty: callers read *out (an empty one was read as a
    // disengaged optional, undefined behaviour).
    if (text.isEmpty() && required)
        return fail(parent[key],
                    QStringLiteral("\"%1\" must not be empty").arg(QString::fromLatin1(key)));
    if (text.isEmpty()) {
        out->reset();
        return true;
    }
    QString why;
    *out = QubeName::fromUntrusted(text, &why);
    if (!*out)
        return fail(parent[key], QStringLiteral("\"%1\": %2").arg(QString::fromLatin1(key), why));
    return true;
}

bool FieldReader::ip(const YAML::Node &parent, const char *key, QString *out)
{
    return address(parent, key, out, validIpAddress, "an IP address");
}

bool FieldReader::ip6(const YAML::Node &parent, const char *key, QString *out)
{
    return address(parent, key, out, validIpv6, "an IPv6 address");
}

template <typename Validator>
bool FieldReader::address(const YAML::Node &parent, const char *key, QString *out, Validator valid,
                          const char *what)
{
    QString text;
    if (!string(parent, key, &text))
        return false;
    if (text.isEmpty()) {
        out->clear();
        return true;
    }
    const auto normal = valid(text);
    if (!normal)
        return fail(
            parent[key],
            QStringLiteral("\"%1\" is not %2").arg(QString::fromLatin1(key), QLatin1String(what)));
    *out = *normal;
    return true;
}

bool FieldReader::optionalBoolean(const YAML::Node &parent, const char *key,
                                  std::optional<bool> *out)
{
    const YAML::Node node = parent[key];
    if (!node || node.IsNull()) {
        out->reset();
        return true;
    }
    bool value = false;
    if (!boolean(parent, key, &value))
        return false;
    *out = value;
    return true;
}

bool FieldReader::boolean(const YAML::Node &parent, const char *key, bool *out)
{
    const YAML::Node node = parent[key];
    if (!node || node.IsNull()) {
        *out = false;
        return true;
    }
    if (!node.IsScalar() || (node.Scalar() != "true" && node.Scalar() != "false"))
        return fail(node,
                    QStringLiteral("\"%1\" must be true or false").arg(QString::fromLatin1(key)));
    *out = node.Scalar() == "true";
    return true;
}

bool FieldReader::integer(const YAML::Node &parent, const char *key, int *out, int fallback)
{
    const YAML::Node node = parent[key];
    if (!node || node.IsNull()) {
        *out = fallback;
        return true;
    }
    bool ok = false;
    const int v = node.IsScalar() ? QString::fromStdString(node.Scalar()).toInt(&ok) : 0;
    if (!ok)
        return fail(node,
                    QStringLiteral("\"%1\" must be a whole number").arg(QString::fromLatin1(key)));
    *out = v;
    return true;
}

bool FieldReader::date(const YAML::Node &parent, const char *key, QDateTime *out)
{
    QString text;
    if (!string(parent, key, &text))
        return false;
    if (text.isEmpty()) {
        *out = QDateTime();
        return true;
    }
    QDateTime t = QDateTime::fromString(text, Qt::ISODateWithMs);
    if (!t.isValid())
        return fail(
            parent[key],
            QStringLiteral("\"%1\" must be an ISO 8601 time").arg(QString::fromLatin1(key)));
    *out = t.toUTC();
    return true;
}

bool FieldReader::stringList(const YAML::Node &parent, const char *key, QStringList *out)
{
    out->clear();
    const YAML::Node node = parent[key];
    if (!node || node.IsNull())
        return true;
    if (!seq(node, key))
        return false;
    for (const auto &item : node) {
        if (!item.IsScalar())
            return fail(
                item, QStringLiteral("\"%1\" must list plain text").arg(QString::fromLatin1(key)));
        *out << QString::fromStdString(item.Scalar());
    }
    return true;
}

} // namespace netmap::snapshotyaml
