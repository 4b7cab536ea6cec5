// Verdicts of the dns-leak check: which resolvers asked the configured zone for the qube's
// fresh names (the unique-name method), and the resolvers against the clearnet baseline's.

#include "verdicts.h"
#include "verdicts_p.h"

namespace netmap {

ZoneResolvers zoneResolvers(const ProbeEvidence &e, const QStringList &labels, const QString &zone,
                            const QString &service)
{
    ZoneResolvers z;
    z.method = QStringLiteral("unique names under %1, resolvers reported by %2 over HTTPS")
                   .arg(zone, service);
    auto cannot = [&](const QString &why) {
        z.state = ZoneResolvers::State::CannotTell;
        z.why = why;
        return z;
    };
    if (labels.isEmpty())
        return cannot(QStringLiteral("no probe names were made"));
    if (e.zoneTool.isEmpty())
        return cannot(
            QStringLiteral("the lookup of the probe names under %1 did not finish").arg(zone));
    if (e.zoneTool == QLatin1String("none"))
        return cannot(
            QStringLiteral("dig missing (and no getent or python3 to fall back to) in the qube"));
    if (!e.zoneServiceAnswered)
        return cannot(QStringLiteral("the zone's service (%1) did not answer over HTTPS, so "
                                     "which resolvers asked is unknown")
                          .arg(service));
    QString why;
    const auto asked = parseZoneServiceAnswer(e.zoneServiceLines, labels, &why);
    if (!asked)
        return cannot(
            QStringLiteral("the zone's service (%1) answered malformed: %2").arg(service, why));
    QStringList resolved;
    QStringList all;
    for (int i = 0; i < labels.size(); ++i) {
        const QString name = labels.at(i) + u'.' + zone;
        const QString address = e.zoneNames.value(i);
        const QStringList by = asked->value(labels.at(i));
        if (!address.isEmpty()) {
            resolved.append(QStringLiteral("%1 → %2").arg(name, address));
            if (by.isEmpty()) {
                // Never-seen names: no resolver can have cached them, so an answer that no
                // resolver fetched from the zone was made up between the qube and the zone.
                z.state = ZoneResolvers::State::Intercepted;
                z.observed = QStringLiteral("%1 with no resolver asking the zone").arg(address);
                z.why = QStringLiteral(
                            "%1 resolved to %2 in the qube, yet no resolver asked the zone for "
                            "it (%3): a qube on the path answers DNS itself (DNS interception)")
                            .arg(name, address, service);
                return z;
            }
        }
        for (const QString &r : by) {
            if (!all.contains(r))
                all.append(r);
        }
    }
    if (all.isEmpty())
        return cannot(QStringLiteral("the probe names under %1 did not resolve in the qube and "
                                     "no resolver asked for them")
                          .arg(zone));
    all.sort();
    z.state = ZoneResolvers::State::Asked;
    z.resolvers = all;
    z.observed = all.join(QStringLiteral(", "));
    return z;
}

Verdict judgeDnsLeak(const ProbeEvidence &e, const DnsContext &ctx)
{
    const QString expected = QStringLiteral("no clearnet resolver");
    QStringList seen;
    QString method;
    if (ctx.zone) {
        const ZoneResolvers &z = *ctx.zone;
        if (z.state == ZoneResolvers::State::CannotTell)
            return errorVerdict(
                QStringLiteral("cannot check: %1 (method: %2)").arg(z.why, z.method), expected);
        if (z.state == ZoneResolvers::State::Intercepted) {
            Verdict v;
            v.expected = expected;
            v.observed = z.observed;
            v.status = CheckStatus::Fail;
            v.reason = QStringLiteral("intercepted: %1; its DNS cannot be trusted (method: %2)")
                           .arg(z.why, z.method);
            return v;
        }
        seen = z.resolvers;
        method = z.method;
    } else {
        if (e.dnsTool.isEmpty())
            return errorVerdict(QStringLiteral("cannot check: the DNS lookup did not finish"),
                                expected);
        if (e.dnsTool == QLatin1String("none"))
            return errorVerdict(
                QStringLiteral("cannot check: dig missing (and no getent or python3 to "
                               "fall back to) in the qube"),
                expected);
        if (e.resolvers.isEmpty())
            return errorVerdict(
                QStringLiteral("cannot check: the whoami name did not resolve in the qube"),
                expected);
        seen = e.resolvers;
        method = QStringLiteral("the whoami A record, a plain DNS answer");
    }
    if (!ctx.baselineResolvers || ctx.baselineResolvers->isEmpty())
        return errorVerdict(
            QStringLiteral("cannot check: no clearnet resolver measured in this run (%1)")
                .arg(ctx.baselineProblem.isEmpty() ? QStringLiteral("no clearnet baseline qube")
                                                   : ctx.baselineProblem),
            expected);
    Verdict v;
    v.expected = expected;
    v.observed = seen.join(QStringLiteral(", "));
    QStringList overlap;
    for (const QString &r : seen) {
        if (ctx.baselineResolvers->contains(r))
            overlap.append(r);
    }
    if (!overlap.isEmpty() && (ctx.kind == EgressKind::Vpn || ctx.kind == EgressKind::Tor)) {
        v.status = CheckStatus::Fail;
        v.reason = QStringLiteral(
                       "leak: resolver %1 also answers for the clearnet baseline (%2) (method: %3)")
                       .arg(overlap.join(QStringLiteral(", ")), ctx.baselineQube, method);
        return v;
    }
    if (!ctx.zone)
        return errorVerdict(
            QStringLiteral("cannot tell: the resolvers (%1) differ from the clearnet "
                           "baseline's, but they come from the whoami A record, a plain "
                           "DNS answer that any network qube on the path can forge; "
                           "configure dns.zone and dns.zone_service (the unique-name "
                           "method) to let this check pass")
                .arg(v.observed),
            expected);
    v.status = CheckStatus::Pass;
    v.reason = QStringLiteral("the resolvers (%1) differ from the clearnet baseline's (%2, %3) "
                              "(method: %4)")
                   .arg(v.observed, ctx.baselineResolvers->join(QStringLiteral(", ")),
                        ctx.baselineQube, method);
    return v;
}

} // namespace netmap
