// Reading a snapshot: the strict YAML document, the migrations from older formats up to the
// current one, then every section checked field by field (snapshotyamlfields.cpp).

#include "snapshotyaml.h"

#include "io/files.h"
#include "model/ipv4.h"
#include "policy/expectationsyaml_p.h"
#include "qubes/qvmparsers.h"
#include "snapshotyaml_p.h"
#include "yaml/strictyaml_p.h"

#include <QFile>

#include <yaml-cpp/yaml.h>

namespace netmap {

using snapshotyaml::kSchemaPrefix;
using snapshotyaml::plainMessage;

namespace {

constexpr qsizetype kMaxChecks = 200000;
// The file cap of readFileCapped(). A saved snapshot holds about one value per 16 bytes, so
// 1,000,000 values is what a real 16 MiB file holds (2,000 qubes with some 25,000 check
// results); a file of one-letter values needs ~500 MB to load at this cap, four times that at
// the file cap alone.
constexpr YamlLimits kLimits {kMaxInputFileBytes, 64, 1000000, 32 << 20};

QString yamlMessage(const YAML::Exception &e)
{
    return plainMessage(QString::fromStdString(e.msg));
}

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

} // namespace

Result<Snapshot> snapshotFromYaml(const QByteArray &untrustedYaml, const QString &fileName)
{
    YAML::Node root;
    try {
        root = strictyaml::loadDocument(untrustedYaml, kLimits);
    } catch (const strictyaml::YamlError &e) {
        return strictyaml::toError(e, fileName);
    }

    snapshotyaml::FieldReader r {fileName, {}};
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
