// Writing a snapshot: the current format, every name and text quoted where a YAML reader
// could take it for something else, everything outside printable ASCII escaped.

#include "snapshotyaml.h"

#include "io/files.h"
#include "model/untrustedtext.h"
#include "snapshotyaml_p.h"

#include <yaml-cpp/yaml.h>

namespace netmap {

using snapshotyaml::kSchemaPrefix;

namespace {

std::string utf8(const QString &s)
{
    return s.toStdString();
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

Status saveSnapshotFile(const Snapshot &snapshot, const QString &path)
{
    return writeFileAtomically(path, snapshotToYaml(snapshot));
}

} // namespace netmap
