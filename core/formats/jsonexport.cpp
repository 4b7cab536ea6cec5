#include "jsonexport.h"

#include "model/checkindex.h"
#include "model/snapshot.h"
#include "model/topology.h"
#include "model/untrustedtext.h"
#include "policy/colouring.h"
#include "policy/expectations.h"
#include "policy/findings.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace netmap {

namespace {

// JSON carries every value as it is (the writer escapes controls), but lone surrogates and
// noncharacters would make the file invalid UTF-8 for a strict reader: they become U+FFFD.
QString text(const QString &untrusted)
{
    return untrustedtext::repaired(untrusted);
}

QJsonArray textArray(const QStringList &untrusted)
{
    QJsonArray out;
    for (const QString &s : untrusted)
        out.append(text(s));
    return out;
}

QJsonValue orNull(const QString &s)
{
    return s.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(text(s));
}

QJsonValue orNull(const std::optional<QubeName> &name)
{
    return name ? QJsonValue(name->toString()) : QJsonValue(QJsonValue::Null);
}

QString isoTime(const QDateTime &t)
{
    return t.isValid() ? t.toUTC().toString(Qt::ISODate) : QString();
}

} // namespace

QByteArray exportJson(const Snapshot &snapshot)
{
    const Topology topology(snapshot);
    const Colouring colouring = colourPaths(snapshot, topology);
    const CheckIndex checkIndex(snapshot);

    QJsonObject root;
    root.insert(QStringLiteral("schema"), QStringLiteral("qubes-netmap/1"));
    root.insert(QStringLiteral("source"), text(snapshot.source));
    root.insert(QStringLiteral("source_detail"), orNull(snapshot.sourceDetail));
    root.insert(QStringLiteral("generated"), orNull(isoTime(snapshot.generated)));

    QJsonObject globals;
    globals.insert(QStringLiteral("default_netvm"), orNull(snapshot.globals.defaultNetvm));
    globals.insert(QStringLiteral("updatevm"), orNull(snapshot.globals.updatevm));
    globals.insert(QStringLiteral("clockvm"), orNull(snapshot.globals.clockvm));
    globals.insert(QStringLiteral("default_dispvm"), orNull(snapshot.globals.defaultDispvm));
    root.insert(QStringLiteral("globals"), globals);

    QJsonArray qubes;
    for (const Qube &q : snapshot.qubes) {
        const QString name = q.name.toString();
        const QStringList chain = topology.egressChain(name);
        QJsonObject o;
        o.insert(QStringLiteral("name"), name);
        o.insert(QStringLiteral("class"), text(q.klass));
        o.insert(QStringLiteral("state"), text(q.state));
        o.insert(QStringLiteral("label"), orNull(q.label));
        o.insert(QStringLiteral("template"), orNull(q.templ));
        o.insert(QStringLiteral("netvm"), orNull(q.netvm));
        o.insert(QStringLiteral("provides_network"), q.providesNetwork);
        o.insert(QStringLiteral("ip"), orNull(q.ip));
        o.insert(QStringLiteral("gateway"), orNull(q.gateway));
        o.insert(QStringLiteral("visible_ip"), orNull(q.visibleIp));
        o.insert(QStringLiteral("ip6"), orNull(q.ip6));
        o.insert(QStringLiteral("gateway6"), orNull(q.gateway6));
        o.insert(QStringLiteral("visible_ip6"), orNull(q.visibleIp6));
        {
            // Whether IPv6 is on for the qube, and the `ipv6` feature that says so (null when
            // no feature was read on its netvm chain).
            bool on = false;
            const Qube *source = snapshot.ipv6FeatureSource(name, &on);
            o.insert(QStringLiteral("ipv6"), q.hasIpv6() || (source && on));
            QJsonObject feature;
            if (source) {
                feature.insert(QStringLiteral("set_on"), source->name.toString());
                feature.insert(QStringLiteral("on"), on);
            }
            o.insert(QStringLiteral("ipv6_feature"),
                     source ? QJsonValue(feature) : QJsonValue(QJsonValue::Null));
        }
        o.insert(QStringLiteral("tags"), textArray(q.tags));
        // Where its updates go (templates: dom0's qubes.UpdatesProxy policy), null when not read.
        if (const UpdatesRoute *u = snapshot.updatesRoute(name)) {
            QJsonObject updates;
            updates.insert(QStringLiteral("route"), updatesKindId(u->kind));
            updates.insert(QStringLiteral("via"), orNull(u->via));
            updates.insert(QStringLiteral("rule"), orNull(u->rule));
            updates.insert(QStringLiteral("reason"), orNull(u->reason));
            o.insert(QStringLiteral("updates"), updates);
        } else {
            o.insert(QStringLiteral("updates"), QJsonValue(QJsonValue::Null));
        }
        // Where disposables opened from it leave: its default_dispvm's netvm ("" when that has
        // none; null when it has no default_dispvm or that is not on the map).
        {
            QString dvm;
            const auto exit = snapshot.disposablesNetvm(name, &dvm);
            o.insert(QStringLiteral("default_dispvm"), orNull(dvm));
            o.insert(QStringLiteral("disposables_netvm"),
                     exit ? QJsonValue(exit->toString()) : QJsonValue(QJsonValue::Null));
        }
        o.insert(QStringLiteral("egress"), textArray(chain));
        o.insert(QStringLiteral("expected_egress"),
                 intendedEgress(snapshot, topology, name).toString());
        o.insert(QStringLiteral("external_ip"), orNull(colouring.qubeExitIp.value(name)));
        o.insert(QStringLiteral("external_ip6"), orNull(colouring.qubeExitIp6.value(name)));
        o.insert(QStringLiteral("ipv6_leak"), colouring.familyLeaks.contains(name));
        QJsonArray checks;
        for (CheckKind kind : allCheckKinds()) {
            const CheckResult *r = checkIndex.latest(name, kind);
            if (!r)
                continue;
            QJsonObject c;
            c.insert(QStringLiteral("check"), checkKindId(r->check));
            c.insert(QStringLiteral("status"), checkStatusId(r->status));
            c.insert(QStringLiteral("observed"), text(r->observed));
            c.insert(QStringLiteral("expected"), text(r->expected));
            c.insert(QStringLiteral("reason"), text(r->reason));
            if (!r->externalIp6.isEmpty())
                c.insert(QStringLiteral("external_ip6"), r->externalIp6);
            c.insert(QStringLiteral("at"), orNull(isoTime(r->finished)));
            c.insert(QStringLiteral("stale"), r->pathAtRun != chain);
            checks.append(c);
        }
        o.insert(QStringLiteral("checks"), checks);
        qubes.append(o);
    }
    root.insert(QStringLiteral("qubes"), qubes);

    QJsonArray links;
    for (const LinkColour &l : colouring.links) {
        QJsonObject o;
        o.insert(QStringLiteral("from"), l.from);
        o.insert(QStringLiteral("to"), l.to);
        o.insert(QStringLiteral("external_ip"), orNull(l.externalIp));
        o.insert(QStringLiteral("external_ip6"), orNull(l.externalIp6));
        o.insert(QStringLiteral("colour"), text(l.colour));
        o.insert(QStringLiteral("verified"), l.verified);
        o.insert(QStringLiteral("failed"), l.failed);
        o.insert(QStringLiteral("stale"), l.stale);
        links.append(o);
    }
    root.insert(QStringLiteral("links"), links);

    QJsonArray exits;
    for (const ExitInfo &e : colouring.exits) {
        QJsonObject o;
        o.insert(QStringLiteral("ip"), text(e.ip));
        o.insert(QStringLiteral("kind"), text(e.kind));
        o.insert(QStringLiteral("colour"), e.colour);
        o.insert(QStringLiteral("qubes"), textArray(e.qubes));
        exits.append(o);
    }
    root.insert(QStringLiteral("exits"), exits);

    QJsonArray findings;
    for (const Finding &f : computeFindings(snapshot, topology)) {
        QJsonObject o;
        o.insert(QStringLiteral("severity"), severityId(f.severity));
        o.insert(QStringLiteral("qube"), orNull(f.qube));
        o.insert(QStringLiteral("code"), text(f.code));
        o.insert(QStringLiteral("message"), text(f.message));
        findings.append(o);
    }
    root.insert(QStringLiteral("findings"), findings);

    // Where each clearnet baseline of the latest verification run came from.
    QJsonArray baselines;
    for (const BaselineRecord &b : snapshot.baselines) {
        QJsonObject o;
        o.insert(QStringLiteral("uplink"), text(b.uplink));
        o.insert(QStringLiteral("what"), text(b.what));
        o.insert(QStringLiteral("state"), baselineStateId(b.state));
        o.insert(QStringLiteral("values"), textArray(b.values));
        o.insert(QStringLiteral("summary"), text(b.summary));
        QJsonArray witnesses;
        for (const BaselineWitness &w : b.witnesses) {
            QJsonObject x;
            x.insert(QStringLiteral("qube"), text(w.qube));
            x.insert(QStringLiteral("said"), textArray(w.said));
            x.insert(QStringLiteral("problem"), orNull(w.problem));
            witnesses.append(x);
        }
        o.insert(QStringLiteral("witnesses"), witnesses);
        baselines.append(o);
    }
    root.insert(QStringLiteral("baselines"), baselines);
    root.insert(QStringLiteral("rejected"), textArray(snapshot.rejected));
    return QJsonDocument(root).toJson(QJsonDocument::Indented);
}

} // namespace netmap
