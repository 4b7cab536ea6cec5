// The Verifier's judging: a finished probe's evidence turned into verdicts (verdicts.h). The
// clearnet baselines of an uplink from its witnesses (or pinned in the configuration), the IPv6
// baseline, the context each verdict function takes, and the record of where each baseline came
// from in the run's snapshot.

#include "verifier.h"
#include "verifier_p.h"

#include "model/topology.h"

#include <algorithm>

namespace netmap {

QString expectedText(CheckKind kind, const Expectation &e)
{
    switch (kind) {
    case CheckKind::ExternalIp:
        return e.toString();
    case CheckKind::Vpn:
        return QStringLiteral("exit ≠ clearnet exit");
    case CheckKind::Tor:
        return QStringLiteral("IsTor");
    case CheckKind::DnsLeak:
        return QStringLiteral("no clearnet resolver");
    case CheckKind::Isolation:
        return QStringLiteral("no reach beyond the allowed pairs");
    case CheckKind::KillSwitch:
        return QStringLiteral("every new packet from a client to the uplink dropped");
    }
    return {};
}

// The plain http:// endpoints of a kind's echo set.
QStringList Verifier::Private::plainHttpEndpoints(const QString &kind) const
{
    QStringList plain;
    for (const QString &url : request.config.ipEchoFor(kind))
        if (isPlainHttp(url))
            plain.append(url);
    return plain;
}

// The clearnet path's IPv6 exits for w: the IPv6 entries pinned in baseline.exit_ips, or
// every /64 a clearnet witness other than w saw (a lying witness can only add prefixes, which
// never makes a leak pass), or "no IPv6 egress" when at least two witnesses, all that could
// be read, have none.
Ipv6Context Verifier::Private::ipv6ContextOf(const VerifierWork &w) const
{
    Ipv6Context c;
    QStringList pinned;
    for (const QString &ip : request.config.baselineExitIps) {
        if (const auto prefix = ipv6Prefix64(ip); prefix && !pinned.contains(*prefix))
            pinned.append(*prefix);
    }
    if (!pinned.isEmpty()) {
        c.clearnetPrefixes = pinned;
        c.baselineSource = QStringLiteral("pinned in the configuration (baseline.exit_ips)");
        return c;
    }
    QStringList prefixes, saw, none, silent;
    for (const QString &name : w.witnesses) {
        if (name == w.qube)
            continue;
        const VerifierWork *x = doneWork(name);
        if (!x || x->problem) {
            silent.append(QStringLiteral("%1: %2").arg(
                name, !x ? QStringLiteral("did not run") : *x->problem));
            continue;
        }
        const ExitConsensus c6 = exitConsensus6(x->evidence, echoCount6());
        if (c6.state == ExitConsensus::State::Agreed) {
            if (!prefixes.contains(c6.ip))
                prefixes.append(c6.ip);
            saw.append(name);
        } else if (c6.state == ExitConsensus::State::NoEgress) {
            none.append(name);
        } else {
            silent.append(QStringLiteral("%1: %2").arg(name, c6.why));
        }
    }
    if (!prefixes.isEmpty()) {
        c.clearnetPrefixes = prefixes;
        c.baselineSource = QStringLiteral("seen from %1").arg(saw.join(QStringLiteral(" and ")));
        return c;
    }
    if (none.size() >= 2 && silent.isEmpty()) {
        c.clearnetPrefixes = QStringList();
        c.clearnetHasNoIpv6 = true;
        c.baselineSource
            = QStringLiteral("%1 have no IPv6 egress").arg(none.join(QStringLiteral(" and ")));
        return c;
    }
    QStringList all = silent;
    for (const QString &n : std::as_const(none))
        all.append(QStringLiteral("%1: no IPv6 egress").arg(n));
    c.baselineProblem = all.isEmpty()
        ? QStringLiteral("no running qube on the clearnet path to compare with; pin the "
                         "clearnet IPv6 address in baseline.exit_ips")
        : QStringLiteral("the clearnet IPv6 baseline is unconfirmed (%1); pin the clearnet "
                         "IPv6 address in baseline.exit_ips")
              .arg(all.join(QStringLiteral("; ")));
    return c;
}

ZoneResolvers Verifier::Private::zoneOf(const VerifierWork &w) const
{
    return zoneResolvers(w.evidence, w.plan.zoneLabels, request.config.dnsZone,
                         request.config.dnsZoneService);
}

Verifier::Private::Baseline Verifier::Private::baselineOf(const VerifierWork &w,
                                                          bool resolvers) const
{
    Baseline b;
    const QStringList pinned
        = resolvers ? request.config.baselineResolvers : request.config.baselineExitIps;
    const QString key = resolvers ? QStringLiteral("resolvers") : QStringLiteral("exit_ips");
    const QString how
        = QStringLiteral("pin it in the configuration: baseline: {%1: [...]} with the "
                         "values you know to be your clearnet %2")
              .arg(key, resolvers ? QStringLiteral("resolvers") : QStringLiteral("exit addresses"));
    if (!pinned.isEmpty()) {
        b.values = pinned;
        b.source = QStringLiteral("pinned in the configuration (baseline.%1)").arg(key);
        return b;
    }
    if (w.witnesses.isEmpty()) {
        b.problem
            = QStringLiteral("no running qube on the clearnet path to compare with; %1").arg(how);
        return b;
    }
    QMap<QString, QStringList> said; // value (joined) -> witnesses
    QStringList silent;
    QStringList intercepted; // witnesses whose DNS is answered on the path (unique names)
    auto cannotSay = [&](const QString &name, const QString &why) {
        silent.append(QStringLiteral("%1: %2").arg(name, why));
        b.witnesses.append({name, {}, why});
    };
    for (const QString &name : w.witnesses) {
        const VerifierWork *x = doneWork(name);
        if (!x) {
            silent.append(QStringLiteral("%1 did not run").arg(name));
            b.witnesses.append({name, {}, QStringLiteral("did not run")});
            continue;
        }
        if (x->problem) {
            cannotSay(name, *x->problem);
            continue;
        }
        if (resolvers) {
            QStringList r;
            if (request.config.hasDnsZone()) {
                const ZoneResolvers z = zoneOf(*x);
                if (z.state == ZoneResolvers::State::Intercepted) {
                    // A qube on the clearnet path makes up DNS answers: no witness behind
                    // it can be believed, whatever the others say.
                    intercepted.append(QStringLiteral("%1: %2").arg(name, z.why));
                    b.witnesses.append({name, {}, QStringLiteral("intercepted: ") + z.why});
                    continue;
                }
                if (z.state != ZoneResolvers::State::Asked) {
                    cannotSay(name, z.why);
                    continue;
                }
                r = z.resolvers;
            } else {
                if (x->evidence.resolvers.isEmpty()) {
                    cannotSay(name, QStringLiteral("the whoami name did not resolve"));
                    continue;
                }
                r = x->evidence.resolvers;
            }
            r.sort();
            said[r.join(QStringLiteral(", "))].append(name);
            b.witnesses.append({name, r, {}});
        } else {
            const ExitConsensus c = exitConsensus(x->evidence, request.config.ipEchoUrls.size());
            if (c.state != ExitConsensus::State::Agreed) {
                cannotSay(name, c.why);
                continue;
            }
            said[c.ip].append(name);
            b.witnesses.append({name, {c.ip}, {}});
        }
    }
    QStringList claims;
    for (auto it = said.cbegin(); it != said.cend(); ++it)
        claims.append(
            QStringLiteral("%1 %2 %3")
                .arg(it.value().join(QStringLiteral(" and ")),
                     it.value().size() > 1 ? QStringLiteral("say") : QStringLiteral("says"),
                     it.key()));
    const QString what = resolvers ? QStringLiteral("resolvers") : QStringLiteral("exit");
    if (!intercepted.isEmpty()) {
        b.disputed = true;
        b.problem = QStringLiteral("the clearnet resolvers baseline is disputed: %1; a qube "
                                   "on the clearnet path intercepts DNS; %2")
                        .arg(intercepted.join(QStringLiteral("; ")), how);
        return b;
    }
    if (said.size() > 1) {
        b.disputed = true;
        b.problem = QStringLiteral("the clearnet %1 baseline is disputed: %2; a qube on the "
                                   "clearnet path is lying or the path differs; %3")
                        .arg(what, claims.join(QStringLiteral(", ")), how);
        return b;
    }
    if (said.isEmpty() || said.first().size() < 2) {
        QStringList all = claims + silent;
        b.problem = QStringLiteral("the clearnet %1 baseline is unconfirmed: fewer than two "
                                   "qubes on the clearnet path agree (%2); %3")
                        .arg(what, all.join(QStringLiteral("; ")), how);
        return b;
    }
    // An answer over plain HTTP can be forged by any network qube on the path, for every
    // witness behind it alike: such witnesses cannot make a baseline agreed.
    if (!resolvers) {
        const QStringList plain = plainHttpEndpoints(QStringLiteral("clearnet"));
        if (!plain.isEmpty()) {
            b.problem
                = QStringLiteral("the clearnet exit baseline is unconfirmed: %1 agree on %2, but "
                                 "over plain HTTP (%3), which a network qube on the path can "
                                 "forge for the qubes behind it; use https:// endpoints, or %4")
                      .arg(said.first().join(QStringLiteral(" and ")), said.firstKey(),
                           plain.join(QStringLiteral(", ")), how);
            return b;
        }
    }
    b.values
        = resolvers ? said.firstKey().split(QStringLiteral(", ")) : QStringList {said.firstKey()};
    b.source = QStringLiteral("seen from %1").arg(said.first().join(QStringLiteral(" and ")));
    return b;
}

// Keeps where the baselines of w's uplink came from in the run's snapshot (the JSON export
// and the write-up show it), once per uplink and kind.
void Verifier::Private::recordBaselines(const VerifierWork &w)
{
    if (w.uplink.isEmpty())
        return;
    const bool exits = w.checks.contains(CheckKind::Vpn)
        || (w.checks.contains(CheckKind::ExternalIp) && w.kind == EgressKind::Clearnet);
    const bool resolvers = w.checks.contains(CheckKind::DnsLeak);
    for (const bool res : {false, true}) {
        if (!(res ? resolvers : exits))
            continue;
        const QString what = res ? QStringLiteral("resolvers") : QStringLiteral("exit");
        const bool known = std::any_of(
            snapshot.baselines.cbegin(), snapshot.baselines.cend(),
            [&](const BaselineRecord &r) { return r.uplink == w.uplink && r.what == what; });
        if (known)
            continue;
        const Baseline b = baselineOf(w, res);
        BaselineRecord r;
        r.uplink = w.uplink;
        r.what = what;
        const bool pinned
            = !(res ? request.config.baselineResolvers : request.config.baselineExitIps).isEmpty();
        r.state = pinned ? BaselineRecord::State::Pinned
            : b.values   ? BaselineRecord::State::Agreed
            : b.disputed ? BaselineRecord::State::Disputed
                         : BaselineRecord::State::Unconfirmed;
        r.values = b.values.value_or(QStringList());
        r.summary = b.values ? b.source : b.problem;
        r.witnesses = pinned ? QList<BaselineWitness>() : b.witnesses;
        snapshot.baselines.append(r);
    }
}

std::optional<QStringList> Verifier::Private::anyClearnetExits() const
{
    for (const VerifierWork &w : plan.work) {
        if (!w.witnesses.isEmpty() || !request.config.baselineExitIps.isEmpty()) {
            const Baseline b = baselineOf(w, false);
            if (b.values)
                return b.values;
        }
    }
    if (!request.config.baselineExitIps.isEmpty())
        return request.config.baselineExitIps;
    return std::nullopt;
}

Verdict Verifier::Private::judge(const VerifierWork &w, CheckKind kind) const
{
    const ExitConsensus consensus = exitConsensus(w.evidence, echoCount(w));
    const Baseline exits = baselineOf(w, false);
    switch (kind) {
    case CheckKind::ExternalIp: {
        ExternalIpContext c;
        c.expectation = w.expectation;
        c.kind = w.kind;
        c.path = topology->egressChain(w.qube);
        for (const QString &hop : c.path.mid(1)) {
            const Qube *h = snapshot.find(hop);
            if (h && !h->isRunning()) {
                c.haltedHop = hop;
                break;
            }
        }
        c.clearnetExits = exits.values;
        c.baselineQube = exits.source;
        c.baselineProblem = exits.problem;
        c.baselineDisputed = exits.disputed;
        if (w.expectation.egress == Expectation::Egress::Via) {
            if (const VerifierWork *via = doneWork(w.expectation.via); via && !via->problem) {
                const ExitConsensus vc = exitConsensus(via->evidence, echoCount(*via));
                if (vc.state == ExitConsensus::State::Agreed)
                    c.viaExit = vc.ip;
            }
        }
        Ipv6Context v6 = ipv6ContextOf(w);
        if (w.expectation.egress == Expectation::Egress::Via) {
            if (const VerifierWork *via = doneWork(w.expectation.via); via && !via->problem) {
                const ExitConsensus vc = exitConsensus6(via->evidence, echoCount6());
                if (vc.state == ExitConsensus::State::Agreed)
                    v6.viaPrefix = vc.ip;
            }
        }
        const ExitConsensus consensus6 = exitConsensus6(w.evidence, echoCount6());
        return combineIpv6(judgeExternalIp(consensus, c), judgeExternalIpv6(consensus6, c, v6));
    }
    case CheckKind::Vpn: {
        VpnContext c;
        c.clearnetExits = exits.values;
        c.baselineQube = exits.source;
        c.baselineProblem = exits.problem;
        c.provider = w.provider;
        if (!w.provider.isEmpty()) {
            const VerifierWork *p = doneWork(w.provider);
            if (!p)
                c.providerProblem = notRunningReason(*snapshot.find(w.provider));
            else if (p->problem)
                c.providerProblem = *p->problem;
            else if (!p->evidence.interfacesDone)
                c.providerProblem = QStringLiteral("the interface list is incomplete");
            else
                c.providerTunnels = p->evidence.upTunnels();
        }
        const Verdict ipv4 = judgeVpn(consensus, c);
        const ExitConsensus consensus6 = exitConsensus6(w.evidence, echoCount6());
        return combineIpv6(
            ipv4, judgeVpnIpv6(consensus6, ipv6ContextOf(w), ipv4.status == CheckStatus::Pass));
    }
    case CheckKind::Tor:
        return judgeTor(w.evidence);
    case CheckKind::DnsLeak: {
        DnsContext c;
        c.kind = w.kind;
        if (request.config.hasDnsZone())
            c.zone = zoneOf(w);
        const Baseline res = baselineOf(w, true);
        c.baselineQube = res.source;
        c.baselineProblem = res.problem;
        c.baselineResolvers = res.values;
        return judgeDnsLeak(w.evidence, c);
    }
    case CheckKind::Isolation:
        return judgeIsolation(w.evidence, w.targets, request.config.isolationPorts, w.qube);
    case CheckKind::KillSwitch: {
        // Qubes gives the VPN qube's clients IPv6 exactly when it has a gateway6 for them
        // (the `ipv6` feature on its chain): then their IPv6 packets must be dropped too.
        const Qube *vpn = snapshot.find(w.qube);
        return judgeKillSwitchStatic(w.evidence, vpn && !vpn->gateway6.isEmpty());
    }
    }
    return {};
}

Verdict Verifier::Private::verdictFor(const VerifierWork &w, CheckKind kind) const
{
    if (w.problem) {
        Verdict v;
        v.status = w.cancelledBeforeRun ? CheckStatus::Skipped : CheckStatus::Error;
        v.expected = expectedText(kind, w.expectation);
        v.reason = w.cancelledBeforeRun ? *w.problem
                                        : QStringLiteral("cannot check: %1").arg(*w.problem);
        return v;
    }
    Verdict v = judge(w, kind);
    // Say when the exit came over plain HTTP: a network qube on the path could forge it.
    if ((kind == CheckKind::ExternalIp || kind == CheckKind::Vpn) && !v.externalIp.isEmpty()) {
        QStringList plain = plainHttpEndpoints(w.plan.echoKind);
        if (exitConsensus6(w.evidence, echoCount6()).state == ExitConsensus::State::Agreed) {
            for (const QString &url : request.config.ipEchoUrls6)
                if (isPlainHttp(url))
                    plain.append(url);
        }
        if (!plain.isEmpty())
            v.reason += QStringLiteral(" (over plain HTTP from %1: a network qube on the path "
                                       "could forge it)")
                            .arg(plain.join(QStringLiteral(", ")));
    }
    return v;
}

} // namespace netmap
