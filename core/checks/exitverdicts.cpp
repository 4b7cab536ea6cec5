// Verdicts of the exit checks: external-ip and vpn (the IPv4 exit against the expectation and
// the clearnet baseline), their IPv6 side judged apart and combined with it, and tor.

#include "verdicts.h"
#include "verdicts_p.h"

namespace netmap {

Verdict judgeExternalIp(const ExitConsensus &consensus, const ExternalIpContext &ctx)
{
    Verdict v;
    v.expected = ctx.expectation.toString();
    switch (consensus.state) {
    case ExitConsensus::State::CannotCheck:
        return errorVerdict(consensus.why, v.expected);
    case ExitConsensus::State::Disagreed:
        v.status = CheckStatus::Fail;
        v.observed = consensus.seen.join(QStringLiteral(", "));
        v.reason = consensus.why;
        return v;
    case ExitConsensus::State::NoEgress:
        v.observed = QStringLiteral("no egress");
        if (ctx.kind == EgressKind::None) {
            v.status = CheckStatus::Pass;
            v.reason = QStringLiteral("no endpoint answered (%1), as expected").arg(consensus.why);
        } else if (!ctx.haltedHop.isEmpty()) {
            // Nothing to verify while the path itself is down: an error, never a pass.
            return errorVerdict(
                QStringLiteral("cannot check: no egress, %1 on its path is not running (%2)")
                    .arg(ctx.haltedHop, consensus.why),
                v.expected);
        } else {
            v.status = CheckStatus::Fail;
            v.reason = QStringLiteral("no egress: %1").arg(consensus.why);
        }
        return v;
    case ExitConsensus::State::Agreed:
        break;
    }
    v.observed = consensus.ip;
    v.externalIp = consensus.ip;
    if (ctx.kind == EgressKind::None) {
        v.status = CheckStatus::Fail;
        v.reason = QStringLiteral("reaches the internet through %1 although no egress is expected")
                       .arg(consensus.ip);
        return v;
    }
    if (ctx.expectation.egress == Expectation::Egress::Via) {
        if (!ctx.path.contains(ctx.expectation.via)) {
            v.status = CheckStatus::Fail;
            v.reason = QStringLiteral("%1 is not on the path (%2)")
                           .arg(ctx.expectation.via, ctx.path.join(QStringLiteral(" → ")));
            return v;
        }
        if (ctx.viaExit && *ctx.viaExit != consensus.ip) {
            v.status = CheckStatus::Fail;
            v.reason = QStringLiteral("exit %1 is not %2's exit %3")
                           .arg(consensus.ip, ctx.expectation.via, *ctx.viaExit);
            return v;
        }
    }
    if (ctx.kind == EgressKind::Clearnet && ctx.baselineDisputed)
        return errorVerdict(QStringLiteral("cannot check: %1").arg(ctx.baselineProblem),
                            v.expected);
    if (ctx.kind == EgressKind::Clearnet && ctx.clearnetExits
        && !ctx.clearnetExits->contains(consensus.ip)) {
        v.status = CheckStatus::Fail;
        v.reason = QStringLiteral("exit %1 is not the clearnet exit %2 (%3)")
                       .arg(consensus.ip, ctx.clearnetExits->join(QStringLiteral(", ")),
                            ctx.baselineQube);
        return v;
    }
    v.status = CheckStatus::Pass;
    v.reason
        = QStringLiteral("%1 endpoints agree on %2").arg(consensus.seen.size()).arg(consensus.ip);
    if (ctx.kind == EgressKind::Clearnet && ctx.clearnetExits && ctx.baselineQube.size())
        v.reason += QStringLiteral(", the clearnet exit (%1)").arg(ctx.baselineQube);
    return v;
}

Verdict judgeVpn(const ExitConsensus &consensus, const VpnContext &ctx)
{
    const QString expected = QStringLiteral("exit ≠ clearnet exit");
    switch (consensus.state) {
    case ExitConsensus::State::CannotCheck:
        return errorVerdict(consensus.why, expected);
    case ExitConsensus::State::Disagreed:
        return errorVerdict(QStringLiteral("cannot check: %1").arg(consensus.why), expected);
    case ExitConsensus::State::NoEgress:
        return errorVerdict(
            QStringLiteral("cannot check: the qube has no egress (%1)").arg(consensus.why),
            expected);
    case ExitConsensus::State::Agreed:
        break;
    }
    if (!ctx.clearnetExits)
        return errorVerdict(
            QStringLiteral("cannot check: no clearnet exit baseline in this run (%1)")
                .arg(ctx.baselineProblem.isEmpty() ? QStringLiteral("no clearnet baseline qube")
                                                   : ctx.baselineProblem),
            expected);
    Verdict v;
    v.expected = expected;
    v.observed = consensus.ip;
    v.externalIp = consensus.ip;
    const QString clearnetText = ctx.clearnetExits->join(QStringLiteral(", "));
    if (ctx.clearnetExits->contains(consensus.ip)) {
        v.status = CheckStatus::Fail;
        v.reason = QStringLiteral("leak: the exit %1 is the clearnet exit (%2)")
                       .arg(consensus.ip, ctx.baselineQube);
        return v;
    }
    QString tunnel;
    if (!ctx.provider.isEmpty()) {
        if (!ctx.providerTunnels)
            return errorVerdict(
                QStringLiteral("cannot check: the tunnel interfaces of %1 could not be read (%2)")
                    .arg(ctx.provider, ctx.providerProblem),
                expected);
        if (ctx.providerTunnels->isEmpty()) {
            v.status = CheckStatus::Fail;
            v.reason = QStringLiteral("no tunnel interface is up in %1 although the exit %2 "
                                      "differs from the clearnet exit %3")
                           .arg(ctx.provider, consensus.ip, clearnetText);
            return v;
        }
        tunnel = QStringLiteral("; tunnel %1 up in %2")
                     .arg(ctx.providerTunnels->join(QStringLiteral(", ")), ctx.provider);
    } else {
        tunnel = QStringLiteral("; no VPN qube found on the path to probe for a tunnel");
    }
    v.status = CheckStatus::Pass;
    v.reason = QStringLiteral("exit %1 differs from the clearnet exit %2 (%3)%4")
                   .arg(consensus.ip, clearnetText, ctx.baselineQube, tunnel);
    return v;
}

namespace {

// The part every IPv6 judgement shares: no egress, cannot check, endpoints that disagree.
std::optional<Ipv6Part> ipv6Unagreed(const ExitConsensus &c6, bool disagreementFails)
{
    Ipv6Part p;
    switch (c6.state) {
    case ExitConsensus::State::NoEgress:
        p.state = Ipv6Part::State::NoEgress; // the observed exit stays the IPv4 one
        p.text = QStringLiteral("no IPv6 egress: no IPv6 verdict");
        return p;
    case ExitConsensus::State::CannotCheck:
        p.state = Ipv6Part::State::CannotTell;
        p.text = QStringLiteral("IPv6: %1").arg(c6.why);
        return p;
    case ExitConsensus::State::Disagreed:
        p.state = disagreementFails ? Ipv6Part::State::Fail : Ipv6Part::State::CannotTell;
        p.observed = QStringLiteral("IPv6 %1").arg(c6.seen.join(QStringLiteral(", ")));
        p.text = disagreementFails ? QStringLiteral("IPv6: %1").arg(c6.why)
                                   : QStringLiteral("IPv6: cannot check: %1").arg(c6.why);
        return p;
    case ExitConsensus::State::Agreed:
        break;
    }
    return std::nullopt;
}

Ipv6Part ipv6Verdict(Ipv6Part::State state, const ExitConsensus &c6, QString text)
{
    Ipv6Part p;
    p.state = state;
    p.observed = QStringLiteral("IPv6 %1").arg(c6.ip);
    p.text = std::move(text);
    p.exitAddress = c6.address;
    return p;
}

} // namespace

Ipv6Part judgeExternalIpv6(const ExitConsensus &c6, const ExternalIpContext &ctx,
                           const Ipv6Context &v6)
{
    if (auto p = ipv6Unagreed(c6, true))
        return *p;
    const QString &prefix = c6.ip;
    const bool clearnetPrefix = v6.clearnetPrefixes && v6.clearnetPrefixes->contains(prefix);
    using S = Ipv6Part::State;
    switch (ctx.kind) {
    case EgressKind::None:
        return ipv6Verdict(S::Fail, c6,
                           QStringLiteral("IPv6: reaches the internet through %1 although no "
                                          "egress is expected")
                               .arg(prefix));
    case EgressKind::Vpn:
    case EgressKind::Tor:
        if (clearnetPrefix)
            return ipv6Verdict(S::Fail, c6,
                               QStringLiteral("IPv6 leaves in the clear: %1 is the clearnet IPv6 "
                                              "exit (%2)")
                                   .arg(prefix, v6.baselineSource));
        break;
    case EgressKind::Clearnet:
        if (ctx.expectation.egress == Expectation::Egress::Via && v6.viaPrefix
            && *v6.viaPrefix != prefix)
            return ipv6Verdict(S::Fail, c6,
                               QStringLiteral("IPv6: exit %1 is not %2's IPv6 exit %3")
                                   .arg(prefix, ctx.expectation.via, *v6.viaPrefix));
        if (v6.clearnetHasNoIpv6)
            return ipv6Verdict(S::Fail, c6,
                               QStringLiteral("IPv6: exit %1 although the clearnet path has no "
                                              "IPv6 egress (%2)")
                                   .arg(prefix, v6.baselineSource));
        if (v6.clearnetPrefixes && !v6.clearnetPrefixes->isEmpty() && !clearnetPrefix)
            return ipv6Verdict(S::Fail, c6,
                               QStringLiteral("IPv6: exit %1 is not the clearnet IPv6 exit %2 (%3)")
                                   .arg(prefix, v6.clearnetPrefixes->join(QStringLiteral(", ")),
                                        v6.baselineSource));
        break;
    }
    return ipv6Verdict(
        S::Pass, c6,
        QStringLiteral("IPv6: %1 endpoints agree on %2%3")
            .arg(c6.seen.size())
            .arg(prefix,
                 clearnetPrefix && ctx.kind == EgressKind::Clearnet
                     ? QStringLiteral(", the clearnet IPv6 exit (%1)").arg(v6.baselineSource)
                     : QString()));
}

Ipv6Part judgeVpnIpv6(const ExitConsensus &c6, const Ipv6Context &v6, bool ipv4Tunnelled)
{
    if (auto p = ipv6Unagreed(c6, false))
        return *p;
    const QString &prefix = c6.ip;
    using S = Ipv6Part::State;
    if (v6.clearnetPrefixes && v6.clearnetPrefixes->contains(prefix))
        return ipv6Verdict(
            S::Fail, c6,
            ipv4Tunnelled
                ? QStringLiteral("leak: IPv6 leaves in the clear while IPv4 is tunnelled: the "
                                 "IPv6 exit %1 is the clearnet one (%2)")
                      .arg(prefix, v6.baselineSource)
                : QStringLiteral("leak: the IPv6 exit %1 is the clearnet one (%2)")
                      .arg(prefix, v6.baselineSource));
    if (v6.clearnetHasNoIpv6)
        return ipv6Verdict(S::Pass, c6,
                           QStringLiteral("IPv6 exit %1, and the clearnet path has no IPv6 "
                                          "egress (%2)")
                               .arg(prefix, v6.baselineSource));
    if (v6.clearnetPrefixes && !v6.clearnetPrefixes->isEmpty())
        return ipv6Verdict(
            S::Pass, c6,
            QStringLiteral("IPv6 exit %1 differs from the clearnet IPv6 exit %2 (%3)")
                .arg(prefix, v6.clearnetPrefixes->join(QStringLiteral(", ")), v6.baselineSource));
    return ipv6Verdict(S::CannotTell, c6,
                       QStringLiteral("IPv6: cannot tell whether the IPv6 exit %1 is the clearnet "
                                      "one: no clearnet IPv6 baseline (%2)")
                           .arg(prefix,
                                v6.baselineProblem.isEmpty()
                                    ? QStringLiteral("no clearnet baseline qube")
                                    : v6.baselineProblem));
}

Verdict combineIpv6(const Verdict &ipv4, const Ipv6Part &p)
{
    Verdict v = ipv4;
    v.externalIp6 = p.exitAddress;
    if (!p.observed.isEmpty())
        v.observed = v.observed.isEmpty() ? p.observed
                                          : QStringLiteral("%1; %2").arg(v.observed, p.observed);
    const QString ipv4Reason = QStringLiteral("IPv4: %1").arg(ipv4.reason);
    switch (p.state) {
    case Ipv6Part::State::NoEgress:
    case Ipv6Part::State::Pass:
        v.reason = QStringLiteral("%1; %2").arg(ipv4.reason, p.text);
        return v;
    case Ipv6Part::State::Fail:
        // A proven IPv6 leak fails the check whatever IPv4 says; its words come first.
        v.status = CheckStatus::Fail;
        v.reason = ipv4.status == CheckStatus::Fail
            ? QStringLiteral("%1; %2").arg(ipv4.reason, p.text)
            : QStringLiteral("%1 (%2)").arg(p.text, ipv4Reason);
        return v;
    case Ipv6Part::State::CannotTell:
        // Never a pass on IPv4 alone while the qube's IPv6 egress is unjudged.
        if (ipv4.status == CheckStatus::Fail) {
            v.reason = QStringLiteral("%1; %2").arg(ipv4.reason, p.text);
        } else {
            v.status = CheckStatus::Error;
            v.reason = QStringLiteral("%1 (%2)").arg(p.text, ipv4Reason);
        }
        return v;
    }
    return v;
}

Verdict judgeTor(const ProbeEvidence &e)
{
    const QString expected = QStringLiteral("IsTor");
    if (e.httpTool == QLatin1String("none"))
        return errorVerdict(httpToolMissing(), expected);
    if (!e.torReported)
        return errorVerdict(QStringLiteral("cannot check: the Tor check gave no report"), expected);
    if (!e.torAnswered)
        return errorVerdict(QStringLiteral("cannot check: the Tor check endpoint did not answer"),
                            expected);
    if (!e.tor)
        return errorVerdict(QStringLiteral("cannot check: %1").arg(e.torProblem), expected);
    Verdict v;
    v.expected = expected;
    v.observed = QStringLiteral("IsTor=%1")
                     .arg(e.tor->isTor ? QStringLiteral("true") : QStringLiteral("false"));
    if (!e.tor->ip.isEmpty())
        v.observed += QStringLiteral(" IP=%1").arg(e.tor->ip);
    if (!e.tor->isTor) {
        v.status = CheckStatus::Fail;
        v.reason = QStringLiteral("the Tor check service says this traffic does not come from Tor");
        return v;
    }
    v.status = CheckStatus::Pass;
    v.reason = QStringLiteral("the Tor check service says this traffic comes from Tor");
    return v;
}

} // namespace netmap
