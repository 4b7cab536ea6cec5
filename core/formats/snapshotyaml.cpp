#include "snapshotyaml.h"

#include "io/files.h"
#include "model/ipv4.h"
#include "model/untrustedtext.h"
#include "policy/expectationsyaml_p.h"
#include "qubes/qvmparsers.h"
#include "yaml/strictyaml_p.h"

#include <QFile>

#include <yaml-cpp/yaml.h>

namespace netmap {

namespace {

constexpr QLatin1StringView kSchemaPrefix("qubes-netmap-snapshot/");
constexpr qsizetype kMaxChecks = 200000;
// The file cap of readFileCapped(). A saved snapshot holds about one value per 16 bytes, so
// 1,000,000 values is what a real 16 MiB file holds (2,000 qubes with some 25,000 check
// results); a file of one-letter values needs ~500 MB to load at this cap, four times that at
// the file cap alone.
constexpr YamlLimits kLimits {kMaxInputFileBytes, 64, 1000000, 32 << 20};

std::string utf8(const QString &s)
{
    return s.toStdString();
}

// Messages may quote a piece of the file (an unknown key, yaml-cpp's "unknown escape character:
// \x1b"): one line of plain text so a hostile file cannot put control sequences into it.
QString plainMessage(const QString &message)
{
    return untrustedtext::line(message, 500);
}

QString yamlMessage(const YAML::Exception &e)
{
    return plainMessage(QString::fromStdString(e.msg));
}

QString dateText(const QDateTime &t, bool withMs)
{
    if (!t.isValid())
        return {};
    return t.toUTC().toString(withMs ? Qt::ISODateWithMs : Qt::ISODate);
}

// A name, tag or key: plain where no reader can take it for anything but this string, double-
// quoted otherwise ("yes", "on", "1e3" and "null" are strings, not a boolean, a number or null).
// The emitter escapes every character outside printable ASCII (EscapeNonAscii).
void emitText(YAML::Emitter &out, const QString &value)
{
    if (untrustedtext::yamlNeedsQuotes(value))
        out << YAML::DoubleQuoted;
    out << utf8(untrustedtext::repaired(value));
}

void emitOptionalName(YAML::Emitter &out, const char *key, const std::optional<QubeName> &name)
{
    out << YAML::Key << key << YAML::Value;
    if (name)
        emitText(out, name->toString());
    else
        out << YAML::Null;
}

void emitString(YAML::Emitter &out, const char *key, const QString &value)
{
    out << YAML::Key << key << YAML::Value << YAML::DoubleQuoted
        << utf8(untrustedtext::repaired(value));
}

void emitStringList(YAML::Emitter &out, const QString &key, const QStringList &values)
{
    out << YAML::Key;
    emitText(out, key);
    out << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const QString &v : values)
        emitText(out, v);
    out << YAML::EndSeq;
}

// Reading: every failure carries the position of the offending node.
struct Reader
{
    QString file;
    std::optional<Error> error;

    bool fail(const YAML::Node &node, const QString &message)
    {
        if (!error) {
            const YAML::Mark mark = node.Mark();
            error = makeError(Error::Code::Input, plainMessage(message), file,
                              mark.is_null() ? 0 : mark.line + 1,
                              mark.is_null() ? 0 : mark.column + 1);
        }
        return false;
    }

    // Unknown keys are refused with the shared reader's rule and message (repeated keys never
    // get here: strictyaml::loadDocument() refuses them).
    bool checkKeys(const YAML::Node &map, std::initializer_list<const char *> allowed)
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

    bool map(const YAML::Node &node, const char *what)
    {
        if (!node.IsMap())
            return fail(node,
                        QStringLiteral("%1 must be a mapping").arg(QString::fromLatin1(what)));
        return true;
    }

    bool seq(const YAML::Node &node, const char *what)
    {
        if (!node.IsSequence())
            return fail(node, QStringLiteral("%1 must be a list").arg(QString::fromLatin1(what)));
        return true;
    }

    // A scalar string; missing or null gives an empty string when optional.
    bool string(const YAML::Node &parent, const char *key, QString *out, bool required = false)
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

    bool token(const YAML::Node &parent, const char *key, QString *out, bool required)
    {
        if (!string(parent, key, out, required))
            return false;
        if (out->size() > 32)
            return fail(parent[key],
                        QStringLiteral("\"%1\" is too long").arg(QString::fromLatin1(key)));
        for (QChar c : *out)
            if (!c.isLetterOrNumber() || c.unicode() > 127)
                if (c != QLatin1Char('-') && c != QLatin1Char('_'))
                    return fail(parent[key],
                                QStringLiteral("\"%1\" must be a plain word")
                                    .arg(QString::fromLatin1(key)));
        return true;
    }

    bool name(const YAML::Node &parent, const char *key, std::optional<QubeName> *out,
              bool required = false)
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
            return fail(parent[key],
                        QStringLiteral("\"%1\": %2").arg(QString::fromLatin1(key), why));
        return true;
    }

    bool ip(const YAML::Node &parent, const char *key, QString *out)
    {
        return address(parent, key, out, validIpAddress, "an IP address");
    }

    bool ip6(const YAML::Node &parent, const char *key, QString *out)
    {
        return address(parent, key, out, validIpv6, "an IPv6 address");
    }

    // An address field: empty means none; otherwise VALID's normal form, or refused as not WHAT.
    template <typename Validator>
    bool address(const YAML::Node &parent, const char *key, QString *out, Validator valid,
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
            return fail(parent[key],
                        QStringLiteral("\"%1\" is not %2")
                            .arg(QString::fromLatin1(key), QLatin1String(what)));
        *out = *normal;
        return true;
    }

    // Absent or null: not known (nullopt).
    bool optionalBoolean(const YAML::Node &parent, const char *key, std::optional<bool> *out)
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

    bool boolean(const YAML::Node &parent, const char *key, bool *out)
    {
        const YAML::Node node = parent[key];
        if (!node || node.IsNull()) {
            *out = false;
            return true;
        }
        if (!node.IsScalar() || (node.Scalar() != "true" && node.Scalar() != "false"))
            return fail(
                node, QStringLiteral("\"%1\" must be true or false").arg(QString::fromLatin1(key)));
        *out = node.Scalar() == "true";
        return true;
    }

    bool integer(const YAML::Node &parent, const char *key, int *out, int fallback)
    {
        const YAML::Node node = parent[key];
        if (!node || node.IsNull()) {
            *out = fallback;
            return true;
        }
        bool ok = false;
        const int v = node.IsScalar() ? QString::fromStdString(node.Scalar()).toInt(&ok) : 0;
        if (!ok)
            return fail(
                node,
                QStringLiteral("\"%1\" must be a whole number").arg(QString::fromLatin1(key)));
        *out = v;
        return true;
    }

    bool date(const YAML::Node &parent, const char *key, QDateTime *out)
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

    bool stringList(const YAML::Node &parent, const char *key, QStringList *out)
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
                    item,
                    QStringLiteral("\"%1\" must list plain text").arg(QString::fromLatin1(key)));
            *out << QString::fromStdString(item.Scalar());
        }
        return true;
    }
};

// Format steps (docs/ARCHITECTURE.md §5). Each migration turns a document of format N into one
// of format N + 1, in the tree before the reader of the current format sees it; kMigrations[N-1]
// is the step from N. Throws strictyaml::YamlError.
using Migration = void (*)(YAML::Node &root);

// Format 1 had no intent: a snapshot of it is judged by inference, which is what format 2 reads
// when "intent" is absent. An "intent" key was unknown to format 1, so it is refused as then.
void migrate1to2(YAML::Node &root)
{
    const YAML::Node &constRoot = root;
    for (const auto &entry : constRoot)
        if (entry.first.IsScalar() && entry.first.Scalar() == "intent")
            throw strictyaml::errorAt(
                entry.first, QStringLiteral("unknown key \"intent\" in snapshot format 1"));
    root["schema"] = "qubes-netmap-snapshot/2";
}

constexpr Migration kMigrations[] = {migrate1to2};
static_assert(std::size(kMigrations) == kSnapshotFormat - 1, "one migration per format step");

// The format a document declares, after "qubes-netmap-snapshot/"; 0 when it is not one.
int declaredFormat(const QString &schema)
{
    if (!schema.startsWith(kSchemaPrefix))
        return 0;
    const QString number = schema.mid(kSchemaPrefix.size());
    bool ok = false;
    const int n = number.toInt(&ok);
    if (!ok || n < 1 || number != QString::number(n))
        return 0;
    return n;
}

// The schema line, then the migrations from the declared format up to the current one. A newer
// format is refused naming both: this program cannot know what its new keys mean.
void migrate(YAML::Node &root)
{
    const YAML::Node &constRoot = root;
    const YAML::Node schemaNode = constRoot["schema"];
    if (!schemaNode || schemaNode.IsNull())
        throw strictyaml::errorAt(root, QStringLiteral("missing \"schema\""));
    const QString schema = strictyaml::scalar(schemaNode, QStringLiteral("\"schema\""));
    const int format = declaredFormat(schema);
    if (format == 0)
        throw strictyaml::errorAt(schemaNode,
                                  QStringLiteral("unknown schema, expected %1%2")
                                      .arg(kSchemaPrefix)
                                      .arg(kSnapshotFormat));
    if (format > kSnapshotFormat)
        throw strictyaml::errorAt(
            schemaNode,
            QStringLiteral("snapshot format %1 is newer than this program reads (%2)")
                .arg(format)
                .arg(kSnapshotFormat));
    for (int step = format; step < kSnapshotFormat; ++step)
        kMigrations[step - 1](root);
}

void emitIntent(YAML::Emitter &out, const Expectations &intent)
{
    out << YAML::Key << "intent" << YAML::Value << YAML::BeginMap;
    if (!intent.sourceFile.isEmpty())
        emitString(out, "file", intent.sourceFile);
    if (!intent.byQube.isEmpty()) {
        out << YAML::Key << "qubes" << YAML::Value << YAML::BeginMap;
        for (auto it = intent.byQube.cbegin(); it != intent.byQube.cend(); ++it) {
            out << YAML::Key;
            emitText(out, it.key());
            out << YAML::Value;
            emitText(out, it.value().toString());
        }
        out << YAML::EndMap;
    }
    if (!intent.byTag.isEmpty()) {
        // In file order: the first tag a qube carries wins.
        out << YAML::Key << "tags" << YAML::Value << YAML::BeginMap;
        for (const auto &[tag, expectation] : intent.byTag) {
            out << YAML::Key;
            emitText(out, tag);
            out << YAML::Value;
            emitText(out, expectation.toString());
        }
        out << YAML::EndMap;
    }
    if (!intent.allowedReach.isEmpty()) {
        QList<QPair<QString, QString>> pairs(intent.allowedReach.cbegin(),
                                             intent.allowedReach.cend());
        std::sort(pairs.begin(), pairs.end());
        out << YAML::Key << "allow" << YAML::Value << YAML::BeginSeq;
        for (const auto &[from, to] : pairs) {
            out << YAML::Flow << YAML::BeginSeq;
            emitText(out, from);
            emitText(out, to);
            out << YAML::EndSeq;
        }
        out << YAML::EndSeq;
    }
    out << YAML::EndMap;
}

} // namespace

QByteArray snapshotToYaml(const Snapshot &snapshot)
{
    YAML::Emitter out;
    out.SetIndent(2);
    // DEL, C1 controls, U+2028 and the like written raw make some readers refuse the file or
    // read another value: everything outside printable ASCII is escaped in quoted scalars.
    out.SetOutputCharset(YAML::EscapeNonAscii);
    out << YAML::Comment("qubes-netmap snapshot");
    out << YAML::BeginMap;
    out << YAML::Key << "schema" << YAML::Value
        << utf8(kSchemaPrefix + QString::number(kSnapshotFormat));
    emitString(out, "source", snapshot.source);
    emitString(out, "source_detail", snapshot.sourceDetail);
    emitString(out, "generated", dateText(snapshot.generated, false));

    out << YAML::Key << "globals" << YAML::Value << YAML::BeginMap;
    emitOptionalName(out, "default_netvm", snapshot.globals.defaultNetvm);
    emitOptionalName(out, "updatevm", snapshot.globals.updatevm);
    emitOptionalName(out, "clockvm", snapshot.globals.clockvm);
    emitOptionalName(out, "default_dispvm", snapshot.globals.defaultDispvm);
    out << YAML::EndMap;

    out << YAML::Key << "qubes" << YAML::Value << YAML::BeginSeq;
    for (const Qube &q : snapshot.qubes) {
        out << YAML::BeginMap;
        out << YAML::Key << "name" << YAML::Value;
        emitText(out, q.name.toString());
        emitString(out, "class", q.klass);
        emitString(out, "state", q.state);
        emitString(out, "label", q.label);
        emitOptionalName(out, "template", q.templ);
        emitOptionalName(out, "netvm", q.netvm);
        emitOptionalName(out, "default_dispvm", q.defaultDispvm);
        out << YAML::Key << "provides_network" << YAML::Value << q.providesNetwork;
        emitString(out, "ip", q.ip);
        emitString(out, "visible_ip", q.visibleIp);
        emitString(out, "gateway", q.gateway);
        emitString(out, "visible_gateway", q.visibleGateway);
        // IPv6 only where there is some: a snapshot without IPv6 reads as it always did.
        if (!q.ip6.isEmpty())
            emitString(out, "ip6", q.ip6);
        if (!q.visibleIp6.isEmpty())
            emitString(out, "visible_ip6", q.visibleIp6);
        if (!q.gateway6.isEmpty())
            emitString(out, "gateway6", q.gateway6);
        if (q.ipv6Feature)
            out << YAML::Key << "ipv6_feature" << YAML::Value << *q.ipv6Feature;
        emitStringList(out, QStringLiteral("tags"), q.tags);
        // Only when set: what tells a renamed Whonix gateway apart (older files lack it).
        if (q.whonixGwFeature)
            out << YAML::Key << "template_whonix_gw" << YAML::Value << true;
        out << YAML::EndMap;
    }
    out << YAML::EndSeq;

    out << YAML::Key << "firewall" << YAML::Value << YAML::BeginMap;
    for (auto it = snapshot.firewall.cbegin(); it != snapshot.firewall.cend(); ++it) {
        out << YAML::Key;
        emitText(out, it.key());
        out << YAML::Value << YAML::BeginSeq;
        for (const FirewallRule &rule : it.value())
            out << YAML::DoubleQuoted << utf8(untrustedtext::repaired(rule.toRaw()));
        out << YAML::EndSeq;
    }
    out << YAML::EndMap;

    out << YAML::Key << "tunnels" << YAML::Value << YAML::BeginMap;
    for (auto it = snapshot.tunnels.cbegin(); it != snapshot.tunnels.cend(); ++it)
        emitStringList(out, it.key(), it.value());
    out << YAML::EndMap;

    out << YAML::Key << "checks" << YAML::Value << YAML::BeginSeq;
    for (const CheckResult &r : snapshot.checks) {
        out << YAML::BeginMap;
        out << YAML::Key << "qube" << YAML::Value;
        emitText(out, r.qube.toString());
        out << YAML::Key << "check" << YAML::Value << utf8(checkKindId(r.check));
        out << YAML::Key << "status" << YAML::Value << utf8(checkStatusId(r.status));
        emitString(out, "observed", r.observed);
        emitString(out, "expected", r.expected);
        emitString(out, "reason", r.reason);
        emitString(out, "external_ip", r.externalIp);
        if (!r.externalIp6.isEmpty())
            emitString(out, "external_ip6", r.externalIp6);
        emitString(out, "command", r.command);
        out << YAML::Key << "exit_code" << YAML::Value << r.exitCode;
        emitString(out, "output", r.output);
        emitString(out, "started", dateText(r.started, true));
        emitString(out, "finished", dateText(r.finished, true));
        emitStringList(out, QStringLiteral("path"), r.pathAtRun);
        out << YAML::EndMap;
    }
    out << YAML::EndSeq;

    // Where templates' updates go, only when read: older files read as they always did.
    if (!snapshot.updates.isEmpty()) {
        out << YAML::Key << "updates" << YAML::Value << YAML::BeginSeq;
        for (const UpdatesRoute &u : snapshot.updates) {
            out << YAML::BeginMap;
            out << YAML::Key << "template" << YAML::Value;
            emitText(out, u.templ.toString());
            out << YAML::Key << "route" << YAML::Value << utf8(updatesKindId(u.kind));
            emitOptionalName(out, "via", u.via);
            emitString(out, "rule", u.rule);
            emitString(out, "reason", u.reason);
            out << YAML::EndMap;
        }
        out << YAML::EndSeq;
    }

    out << YAML::Key << "rejected" << YAML::Value << YAML::BeginSeq;
    for (const QString &r : snapshot.rejected)
        out << YAML::DoubleQuoted << utf8(untrustedtext::repaired(r));
    out << YAML::EndSeq;
    // Only when there is one: no intent means inferred, as in format 1.
    if (!snapshot.intent.isEmpty() || !snapshot.intent.sourceFile.isEmpty())
        emitIntent(out, snapshot.intent);
    out << YAML::EndMap;
    QByteArray bytes(out.c_str(), qsizetype(out.size()));
    bytes += '\n';
    return bytes;
}

Result<Snapshot> snapshotFromYaml(const QByteArray &untrustedYaml, const QString &fileName)
{
    YAML::Node root;
    try {
        root = strictyaml::loadDocument(untrustedYaml, kLimits);
    } catch (const strictyaml::YamlError &e) {
        return strictyaml::toError(e, fileName);
    }

    Reader r {fileName, {}};
    Snapshot s;
    auto failed = [&r]() -> Result<Snapshot> { return *r.error; };
    try {
        if (!root || root.IsNull())
            return makeError(Error::Code::Input, QStringLiteral("the file is empty"), fileName, 1,
                             1);
        if (!r.map(root, "the snapshot"))
            return failed();
        try {
            migrate(root);
        } catch (const strictyaml::YamlError &e) {
            return strictyaml::toError(e, fileName);
        }
        if (!r.checkKeys(root,
                         {"schema", "source", "source_detail", "generated", "globals", "qubes",
                          "firewall", "tunnels", "checks", "updates", "rejected", "intent"}))
            return failed();
        if (!r.token(root, "source", &s.source, false)
            || !r.string(root, "source_detail", &s.sourceDetail)
            || !r.date(root, "generated", &s.generated))
            return failed();

        if (const YAML::Node g = root["globals"]; g && !g.IsNull()) {
            if (!r.map(g, "globals")
                || !r.checkKeys(g, {"default_netvm", "updatevm", "clockvm", "default_dispvm"})
                || !r.name(g, "default_netvm", &s.globals.defaultNetvm)
                || !r.name(g, "updatevm", &s.globals.updatevm)
                || !r.name(g, "clockvm", &s.globals.clockvm)
                || !r.name(g, "default_dispvm", &s.globals.defaultDispvm))
                return failed();
        }

        const YAML::Node qubes = root["qubes"];
        if (!qubes) {
            r.fail(root, QStringLiteral("missing \"qubes\""));
            return failed();
        }
        if (!r.seq(qubes, "qubes"))
            return failed();
        if (qubes.size() > size_t(kMaxSnapshotQubes)) {
            r.fail(qubes,
                   QStringLiteral("more than %1 qubes (the most this program maps)")
                       .arg(kMaxSnapshotQubes));
            return failed();
        }
        QSet<QString> seen;
        for (const auto &node : qubes) {
            Qube q;
            std::optional<QubeName> name;
            if (!r.map(node, "a qube")
                || !r.checkKeys(node,
                                {"name", "class", "state", "label", "template", "netvm",
                                 "default_dispvm", "provides_network", "ip", "visible_ip",
                                 "gateway", "visible_gateway", "ip6", "visible_ip6", "gateway6",
                                 "ipv6_feature", "tags", "template_whonix_gw"})
                || !r.name(node, "name", &name, true) || !r.token(node, "class", &q.klass, true)
                || !r.token(node, "state", &q.state, true)
                || !r.token(node, "label", &q.label, false) || !r.name(node, "template", &q.templ)
                || !r.name(node, "netvm", &q.netvm)
                || !r.name(node, "default_dispvm", &q.defaultDispvm)
                || !r.boolean(node, "provides_network", &q.providesNetwork)
                || !r.ip(node, "ip", &q.ip) || !r.ip(node, "visible_ip", &q.visibleIp)
                || !r.ip(node, "gateway", &q.gateway)
                || !r.ip(node, "visible_gateway", &q.visibleGateway) || !r.ip6(node, "ip6", &q.ip6)
                || !r.ip6(node, "visible_ip6", &q.visibleIp6)
                || !r.ip6(node, "gateway6", &q.gateway6)
                || !r.optionalBoolean(node, "ipv6_feature", &q.ipv6Feature)
                || !r.stringList(node, "tags", &q.tags)
                || !r.boolean(node, "template_whonix_gw", &q.whonixGwFeature))
                return failed();
            q.name = *name;
            for (const QString &tag : q.tags) {
                const bool ok = !tag.isEmpty() && tag.size() <= 64
                    && std::all_of(tag.begin(), tag.end(), [](QChar c) {
                           return c.unicode() < 128
                               && (c.isLetterOrNumber() || c == QLatin1Char('-')
                                   || c == QLatin1Char('_'));
                       });
                if (!ok) {
                    r.fail(node["tags"],
                           QStringLiteral("a tag may hold only letters, digits, '-' and '_'"));
                    return failed();
                }
            }
            if (seen.contains(q.name.toString())) {
                r.fail(node["name"],
                       QStringLiteral("qube %1 is listed twice").arg(q.name.toString()));
                return failed();
            }
            seen.insert(q.name.toString());
            s.qubes.push_back(std::move(q));
        }
        std::sort(s.qubes.begin(), s.qubes.end(),
                  [](const Qube &a, const Qube &b) { return a.name < b.name; });

        if (const YAML::Node fw = root["firewall"]; fw && !fw.IsNull()) {
            if (!r.map(fw, "firewall"))
                return failed();
            for (const auto &entry : fw) {
                QString why;
                auto qube
                    = QubeName::fromUntrusted(QString::fromStdString(entry.first.Scalar()), &why);
                if (!qube) {
                    r.fail(entry.first, QStringLiteral("firewall: %1").arg(why));
                    return failed();
                }
                if (!r.seq(entry.second, "the firewall rules"))
                    return failed();
                QList<FirewallRule> rules;
                for (const auto &line : entry.second) {
                    if (!line.IsScalar()) {
                        r.fail(line, QStringLiteral("a firewall rule must be text"));
                        return failed();
                    }
                    const FirewallParse parsed
                        = parseFirewall(QByteArray::fromStdString(line.Scalar()));
                    // One rule per entry; "# cannot be read: ..." is a rule saved as unreadable.
                    if (!parsed.rejected.empty() || parsed.listed.size() != 1) {
                        r.fail(line,
                               QStringLiteral("bad firewall rule: %1")
                                   .arg(parsed.rejected.empty() ? QStringLiteral("empty")
                                                                : parsed.rejected.front().reason));
                        return failed();
                    }
                    rules << parsed.listed.front();
                }
                s.firewall.insert(qube->toString(), rules);
            }
        }

        if (const YAML::Node tunnels = root["tunnels"]; tunnels && !tunnels.IsNull()) {
            if (!r.map(tunnels, "tunnels"))
                return failed();
            for (const auto &entry : tunnels) {
                QString why;
                auto qube
                    = QubeName::fromUntrusted(QString::fromStdString(entry.first.Scalar()), &why);
                if (!qube) {
                    r.fail(entry.first, QStringLiteral("tunnels: %1").arg(why));
                    return failed();
                }
                QStringList ifaces;
                if (!r.seq(entry.second, "the tunnel interfaces"))
                    return failed();
                for (const auto &i : entry.second) {
                    const QString iface
                        = i.IsScalar() ? QString::fromStdString(i.Scalar()) : QString();
                    const bool ok = !iface.isEmpty() && iface.size() <= 15
                        && std::all_of(iface.begin(), iface.end(), [](QChar c) {
                               return c.unicode() < 128
                                   && (c.isLetterOrNumber() || c == QLatin1Char('-')
                                       || c == QLatin1Char('_') || c == QLatin1Char('.'));
                           });
                    if (!ok) {
                        r.fail(i, QStringLiteral("not an interface name"));
                        return failed();
                    }
                    ifaces << iface;
                }
                s.tunnels.insert(qube->toString(), ifaces);
            }
        }

        if (const YAML::Node checks = root["checks"]; checks && !checks.IsNull()) {
            if (!r.seq(checks, "checks"))
                return failed();
            if (checks.size() > size_t(kMaxChecks)) {
                r.fail(checks, QStringLiteral("more than %1 check results").arg(kMaxChecks));
                return failed();
            }
            for (const auto &node : checks) {
                CheckResult c;
                std::optional<QubeName> qube;
                QString kind, status;
                if (!r.map(node, "a check result")
                    || !r.checkKeys(node,
                                    {"qube", "check", "status", "observed", "expected", "reason",
                                     "external_ip", "external_ip6", "command", "exit_code",
                                     "output", "started", "finished", "path"})
                    || !r.name(node, "qube", &qube, true) || !r.token(node, "check", &kind, true)
                    || !r.token(node, "status", &status, true)
                    || !r.string(node, "observed", &c.observed)
                    || !r.string(node, "expected", &c.expected)
                    || !r.string(node, "reason", &c.reason)
                    || !r.ip(node, "external_ip", &c.externalIp)
                    || !r.ip6(node, "external_ip6", &c.externalIp6)
                    || !r.string(node, "command", &c.command)
                    || !r.integer(node, "exit_code", &c.exitCode, -1)
                    || !r.string(node, "output", &c.output) || !r.date(node, "started", &c.started)
                    || !r.date(node, "finished", &c.finished)
                    || !r.stringList(node, "path", &c.pathAtRun))
                    return failed();
                c.qube = *qube;
                auto k = checkKindFromId(kind);
                auto st = checkStatusFromId(status);
                if (!k) {
                    r.fail(node["check"], QStringLiteral("unknown check \"%1\"").arg(kind));
                    return failed();
                }
                if (!st) {
                    r.fail(node["status"], QStringLiteral("unknown status \"%1\"").arg(status));
                    return failed();
                }
                c.check = *k;
                c.status = *st;
                for (const QString &hop : c.pathAtRun)
                    if (!QubeName::fromUntrusted(hop)) {
                        r.fail(node["path"], QStringLiteral("the path must list qube names"));
                        return failed();
                    }
                s.checks.push_back(std::move(c));
            }
        }
        if (const YAML::Node updates = root["updates"]; updates && !updates.IsNull()) {
            if (!r.seq(updates, "updates"))
                return failed();
            if (updates.size() > size_t(kMaxSnapshotQubes)) {
                r.fail(updates,
                       QStringLiteral("more than %1 update routes").arg(kMaxSnapshotQubes));
                return failed();
            }
            QSet<QString> templates;
            for (const auto &node : updates) {
                UpdatesRoute u;
                std::optional<QubeName> templ;
                QString kind;
                if (!r.map(node, "an update route")
                    || !r.checkKeys(node, {"template", "route", "via", "rule", "reason"})
                    || !r.name(node, "template", &templ, true)
                    || !r.token(node, "route", &kind, true) || !r.name(node, "via", &u.via)
                    || !r.string(node, "rule", &u.rule) || !r.string(node, "reason", &u.reason))
                    return failed();
                const auto k = updatesKindFromId(kind);
                if (!k) {
                    r.fail(node["route"],
                           QStringLiteral("unknown route \"%1\"; use proxy, denied, ask or unknown")
                               .arg(kind));
                    return failed();
                }
                if (*k == UpdatesRoute::Kind::Proxy && !u.via) {
                    r.fail(node, QStringLiteral("a proxy route needs \"via\""));
                    return failed();
                }
                if (u.rule.size() > 300 || u.reason.size() > 2000) {
                    r.fail(node, QStringLiteral("an update route's rule or reason is too long"));
                    return failed();
                }
                u.templ = *templ;
                u.kind = *k;
                if (templates.contains(u.templ.toString())) {
                    r.fail(node["template"],
                           QStringLiteral("template %1 has two update routes")
                               .arg(u.templ.toString()));
                    return failed();
                }
                templates.insert(u.templ.toString());
                s.updates << u;
            }
        }
        if (!r.stringList(root, "rejected", &s.rejected))
            return failed();
        if (const YAML::Node intent = root["intent"]; intent && !intent.IsNull()) {
            try {
                s.intent = expectationsFromNode(intent, QStringLiteral("intent"),
                                                {QStringLiteral("file")});
            } catch (const strictyaml::YamlError &e) {
                return strictyaml::toError(e, fileName);
            }
            if (!r.string(intent, "file", &s.intent.sourceFile))
                return failed();
        }
    } catch (const YAML::Exception &e) {
        return makeError(Error::Code::Input, yamlMessage(e), fileName,
                         e.mark.is_null() ? 0 : e.mark.line + 1,
                         e.mark.is_null() ? 0 : e.mark.column + 1);
    }
    return s;
}

Result<Snapshot> loadSnapshotFile(const QString &path)
{
    auto data = readFileCapped(path);
    if (!data)
        return data.error();
    auto snapshot = snapshotFromYaml(*data, path);
    if (!snapshot)
        return snapshot;
    Snapshot s = std::move(snapshot).value();
    return s;
}

Status saveSnapshotFile(const Snapshot &snapshot, const QString &path)
{
    return writeFileAtomically(path, snapshotToYaml(snapshot));
}

Snapshot demoSnapshot()
{
    QFile file(QStringLiteral(":/netmap/demo.yaml"));
    file.open(QIODevice::ReadOnly);
    auto loaded = snapshotFromYaml(file.readAll(), QStringLiteral(":/netmap/demo.yaml"));
    Q_ASSERT_X(loaded.ok(), "demoSnapshot", "the built-in demo must load");
    Snapshot s = loaded.ok() ? std::move(loaded).value() : Snapshot {};
    s.source = QStringLiteral("demo");
    return s;
}

} // namespace netmap
