#include "verdicts.h"

#include "checkscripts.h"
#include "qubes/commandrunner.h"
#include "rulesetproof.h"

#include "model/ipv4.h"

#include <QHostAddress>
#include <QSet>

namespace netmap {

namespace {

Verdict error(QString reason, QString expected = {})
{
    Verdict v;
    v.status = CheckStatus::Error;
    v.reason = std::move(reason);
    v.expected = std::move(expected);
    return v;
}

QString httpToolMissing()
{
    return QStringLiteral(
        "cannot check: curl missing (and no wget or python3 to fall back to) in the qube");
}

} // namespace

QString egressKindId(EgressKind kind)
{
    switch (kind) {
    case EgressKind::Clearnet:
        return QStringLiteral("clearnet");
    case EgressKind::Vpn:
        return QStringLiteral("vpn");
    case EgressKind::Tor:
        return QStringLiteral("tor");
    case EgressKind::None:
        return QStringLiteral("none");
    }
    return QStringLiteral("clearnet");
}

namespace {
// The last non-empty stderr line (a traceback's exception line), printable ASCII, cut short.
QString lastErrorLine(const CommandOutput &output)
{
    const QList<QByteArray> lines = output.stderrData.trimmed().split('\n');
    CommandOutput last;
    last.stderrData = lines.isEmpty() ? QByteArray() : lines.back();
    const QString line = last.firstErrorLine(160);
    return line.isEmpty() ? QStringLiteral("no message") : line;
}
} // namespace

std::optional<QString> transportProblem(const CommandOutput &output, bool autostart,
                                        const ProbeEvidence &evidence, const QString &knownState)
{
    switch (output.outcome) {
    case CommandOutput::Outcome::FailedToStart:
        return QStringLiteral("could not run qvm-run: %1").arg(output.describe());
    case CommandOutput::Outcome::TimedOut:
        return QStringLiteral(
                   "no answer in time: %1 (qvm-run has no timeout of its own; stopped from dom0)")
            .arg(output.describe());
    case CommandOutput::Outcome::Crashed:
        return QStringLiteral("qvm-run crashed: %1").arg(output.describe());
    case CommandOutput::Outcome::Cancelled:
        return QStringLiteral("cancelled before it finished");
    case CommandOutput::Outcome::OutputCapped:
        return QStringLiteral(
                   "the qube printed far more than any answer needs; stopped and not judged (%1)")
            .arg(output.describe());
    case CommandOutput::Outcome::Finished:
        break;
    }
    if (output.stdoutTruncated)
        return QStringLiteral("the answer was cut off at the output cap; not judged");
    switch (output.exitCode) {
    case 0:
        break;
    case 125:
    case 126:
    case 127:
        return QStringLiteral(
                   "qrexec could not run the check in the qube (exit %1): the qube refused the "
                   "call or the agent is not answering")
            .arg(output.exitCode);
    case 255:
        return QStringLiteral("the qube could not be started (exit 255)");
    case 2:
        if (!evidence.begun)
            return QStringLiteral("qvm-run does not know this qube (exit 2)");
        break;
    case 1: {
        if (evidence.begun)
            break;
        // qvm-run with --pass-io prints nothing when the qube is halted or paused; the client
        // speaks only when it failed.
        if (output.stderrData.contains("non-default user not possible"))
            return QStringLiteral(
                "qvm-run -u root is not possible from a management qube with this Qubes client "
                "(4.2, and 4.3 before 4.3.26): run this check from dom0 (exit 1)");
        if (output.stderrData.contains("Traceback (most recent call last)"))
            return QStringLiteral("qvm-run failed with a Python error: %1 (exit 1)")
                .arg(lastErrorLine(output));
        // knownState comes from a fresh state query made after the failure (qvm-ls of this
        // one qube), not from the last map refresh.
        if (knownState.isEmpty())
            return QStringLiteral(
                "qvm-run exited with 1 before the check began and the qube's state could not be "
                "read afterwards: halted, paused or a qvm-run failure, cannot tell which");
        if (knownState == QLatin1String("Paused"))
            return QStringLiteral("the qube is paused (exit 1; a fresh state query says Paused): "
                                  "unpause it to check it");
        if (knownState == QLatin1String("Running") || knownState == QLatin1String("Transient"))
            return QStringLiteral("qvm-run exited with 1 before the check began although a fresh "
                                  "state query says %1: %2")
                .arg(knownState,
                     output.stderrData.trimmed().isEmpty() ? QStringLiteral("qvm-run said nothing")
                                                           : output.firstErrorLine());
        if (!autostart)
            return QStringLiteral("the qube is not running and was not started (autostart is off; "
                                  "exit 1; a fresh state query says %1)")
                .arg(knownState);
        return QStringLiteral("the qube could not be started (exit 1; a fresh state query says %1)")
            .arg(knownState);
    }
    default:
        break;
    }
    if (output.exitCode != 0)
        return QStringLiteral("the check exited with status %1").arg(output.exitCode);
    if (!evidence.begun)
        return QStringLiteral("the qube gave no answer (no begin marker in its output)");
    if (!evidence.ended)
        return QStringLiteral(
            "the answer is incomplete (no end marker): the check did not run to its end");
    if (!evidence.problems.isEmpty())
        return QStringLiteral("malformed answer: %1")
            .arg(evidence.problems.join(QStringLiteral("; ")));
    return std::nullopt;
}

namespace {

// At least two endpoints answer and agree on key(answer); v6 words the texts for IPv6.
ExitConsensus consensusOf(const ProbeEvidence &e, const QMap<int, IpEchoAnswer> &answers,
                          int endpointCount, bool v6)
{
    ExitConsensus c;
    const QString kind = v6 ? QStringLiteral("IPv6 ") : QString();
    if (e.httpTool == QLatin1String("none")) {
        c.why = httpToolMissing();
        return c;
    }
    if (e.httpTool.isEmpty()) {
        c.why = QStringLiteral("cannot check: the qube did not report its HTTP tool");
        return c;
    }
    if (endpointCount < 2) {
        c.why = QStringLiteral("cannot check: fewer than two %1IP echo endpoints are configured")
                    .arg(kind);
        return c;
    }
    QSet<QString> distinct;
    QString first;
    int answered = 0;
    for (int i = 0; i < endpointCount; ++i) {
        const auto it = answers.constFind(i);
        if (it == answers.cend()) {
            c.why
                = QStringLiteral("cannot check: %1endpoint %2 gave no report").arg(kind).arg(i + 1);
            return c;
        }
        if (!it->answered)
            continue;
        // An IPv6 answer is compared by its /64 (privacy addresses rotate within it).
        const QString key = v6 ? ipv6Prefix64(it->ip).value_or(QString()) : it->ip;
        if (key.isEmpty()) {
            c.why = QStringLiteral("cannot check: %1endpoint %2 answered something that is not an "
                                   "%3 address")
                        .arg(kind)
                        .arg(i + 1)
                        .arg(v6 ? QStringLiteral("IPv6") : QStringLiteral("IP"));
            return c;
        }
        ++answered;
        if (distinct.isEmpty()) {
            first = key;
            c.address = it->ip;
        }
        distinct.insert(key);
        c.seen.append(QStringLiteral("%1 (%2endpoint %3)").arg(it->ip, kind).arg(i + 1));
    }
    if (answered == 0) {
        c.state = ExitConsensus::State::NoEgress;
        c.why = QStringLiteral("none of the %1 %2IP echo endpoints answered")
                    .arg(endpointCount)
                    .arg(kind);
        return c;
    }
    if (distinct.size() > 1) {
        c.state = ExitConsensus::State::Disagreed;
        c.why = QStringLiteral("the %1endpoints disagree%2: %3")
                    .arg(kind, v6 ? QStringLiteral(" on the /64") : QString(),
                         c.seen.join(QStringLiteral(", ")));
        return c;
    }
    if (answered < 2) {
        c.why = QStringLiteral("cannot check: only one %1endpoint answered (%2); two must agree")
                    .arg(kind, c.seen.join(QString()));
        return c;
    }
    c.state = ExitConsensus::State::Agreed;
    c.ip = first;
    return c;
}

} // namespace

ExitConsensus exitConsensus(const ProbeEvidence &e, int endpointCount)
{
    return consensusOf(e, e.ipEcho, endpointCount, false);
}

ExitConsensus exitConsensus6(const ProbeEvidence &e, int endpointCount)
{
    return consensusOf(e, e.ipEcho6, endpointCount, true);
}

std::optional<QString> ipv6Prefix64(const QString &address)
{
    const auto valid = validIpv6(address);
    if (!valid)
        return std::nullopt;
    const QHostAddress a(*valid);
    Q_IPV6ADDR bytes = a.toIPv6Address();
    for (int i = 8; i < 16; ++i)
        bytes[i] = 0;
    return QHostAddress(bytes).toString() + QStringLiteral("/64");
}

Verdict judgeExternalIp(const ExitConsensus &consensus, const ExternalIpContext &ctx)
{
    Verdict v;
    v.expected = ctx.expectation.toString();
    switch (consensus.state) {
    case ExitConsensus::State::CannotCheck:
        return error(consensus.why, v.expected);
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
            return error(
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
        return error(QStringLiteral("cannot check: %1").arg(ctx.baselineProblem), v.expected);
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
        return error(consensus.why, expected);
    case ExitConsensus::State::Disagreed:
        return error(QStringLiteral("cannot check: %1").arg(consensus.why), expected);
    case ExitConsensus::State::NoEgress:
        return error(QStringLiteral("cannot check: the qube has no egress (%1)").arg(consensus.why),
                     expected);
    case ExitConsensus::State::Agreed:
        break;
    }
    if (!ctx.clearnetExits)
        return error(QStringLiteral("cannot check: no clearnet exit baseline in this run (%1)")
                         .arg(ctx.baselineProblem.isEmpty()
                                  ? QStringLiteral("no clearnet baseline qube")
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
            return error(
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
        return error(httpToolMissing(), expected);
    if (!e.torReported)
        return error(QStringLiteral("cannot check: the Tor check gave no report"), expected);
    if (!e.torAnswered)
        return error(QStringLiteral("cannot check: the Tor check endpoint did not answer"),
                     expected);
    if (!e.tor)
        return error(QStringLiteral("cannot check: %1").arg(e.torProblem), expected);
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
            return error(QStringLiteral("cannot check: %1 (method: %2)").arg(z.why, z.method),
                         expected);
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
            return error(QStringLiteral("cannot check: the DNS lookup did not finish"), expected);
        if (e.dnsTool == QLatin1String("none"))
            return error(QStringLiteral("cannot check: dig missing (and no getent or python3 to "
                                        "fall back to) in the qube"),
                         expected);
        if (e.resolvers.isEmpty())
            return error(
                QStringLiteral("cannot check: the whoami name did not resolve in the qube"),
                expected);
        seen = e.resolvers;
        method = QStringLiteral("the whoami A record, a plain DNS answer");
    }
    if (!ctx.baselineResolvers || ctx.baselineResolvers->isEmpty())
        return error(QStringLiteral("cannot check: no clearnet resolver measured in this run (%1)")
                         .arg(ctx.baselineProblem.isEmpty()
                                  ? QStringLiteral("no clearnet baseline qube")
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
        return error(QStringLiteral("cannot tell: the resolvers (%1) differ from the clearnet "
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

Verdict judgeIsolation(const ProbeEvidence &e, const QList<IsolationTarget> &targets,
                       const QList<int> &ports, const QString &qube)
{
    const QString expected = QStringLiteral("no reach beyond the allowed pairs");
    if (targets.isEmpty())
        return error(QStringLiteral("cannot check: no other qube to probe"), expected);
    const bool havePing = e.pingTool == QLatin1String("ping");
    const bool haveTcp
        = !e.tcpTool.isEmpty() && e.tcpTool != QLatin1String("none") && !ports.isEmpty();
    if (e.pingTool.isEmpty() || e.tcpTool.isEmpty())
        return error(QStringLiteral("cannot check: the qube did not report its probing tools"),
                     expected);
    if (!havePing && !haveTcp)
        return error(
            QStringLiteral(
                "cannot check: ping missing and no bash (with timeout), nc or python3 for TCP"),
            expected);

    QHash<QString, QStringList> reachedBy; // ip -> probes that reached it
    QSet<QString> reported;
    for (const ReachProbe &r : e.reaches) {
        reported.insert(r.ip + u' ' + r.probe);
        if (r.reached)
            reachedBy[r.ip].append(r.probe);
    }
    QStringList missing;
    for (const IsolationTarget &t : targets) {
        if (havePing && !reported.contains(t.ip + QStringLiteral(" icmp")))
            missing.append(t.ip + QStringLiteral(" icmp"));
        if (haveTcp) {
            for (int p : ports) {
                if (!reported.contains(QStringLiteral("%1 tcp/%2").arg(t.ip).arg(p)))
                    missing.append(QStringLiteral("%1 tcp/%2").arg(t.ip).arg(p));
            }
        }
    }
    if (!missing.isEmpty())
        return error(QStringLiteral("cannot check: no report for %1")
                         .arg(missing.mid(0, 5).join(QStringLiteral(", "))),
                     expected);

    Verdict v;
    v.expected = expected;
    QStringList broken, allowed;
    for (const IsolationTarget &t : targets) {
        const QStringList probes = reachedBy.value(t.ip);
        if (probes.isEmpty())
            continue;
        const QString pair = QStringLiteral("%1 → %2 (%3: %4)")
                                 .arg(qube, t.qube, t.ip, probes.join(QStringLiteral(", ")));
        (t.allowed ? allowed : broken).append(pair);
    }
    QString tools;
    if (!havePing)
        tools = QStringLiteral(" (ping missing: TCP only)");
    else if (!haveTcp)
        tools = QStringLiteral(" (no TCP tool: ping only)");
    if (!broken.isEmpty()) {
        v.status = CheckStatus::Fail;
        v.observed = broken.join(QStringLiteral("; "));
        v.reason
            = QStringLiteral("reaches qubes the expectations do not allow: %1").arg(v.observed);
        return v;
    }
    v.status = CheckStatus::Pass;
    v.observed = allowed.isEmpty()
        ? QStringLiteral("no reach")
        : QStringLiteral("allowed only: %1").arg(allowed.join(QStringLiteral("; ")));
    v.reason = QStringLiteral("probed %1 qube(s)%2; nothing outside the allowed pairs answered")
                   .arg(targets.size())
                   .arg(tools);
    return v;
}

static QString routingNote()
{
    return QStringLiteral(
        "A kill switch made by routing (a blackhole or unreachable default route when the tunnel "
        "is gone) does not show in a ruleset; only the drill can show it.");
}

Verdict judgeKillSwitchStatic(const ProbeEvidence &e, bool ipv6ForClients)
{
    const QString expected = QStringLiteral("every new packet from a client to the uplink dropped");
    if (e.rulesetTool.isEmpty() || !e.rulesetDone)
        return error(QStringLiteral("cannot check: the ruleset was not read"), expected);
    if (e.rulesetTool == QLatin1String("none") && e.legacySize < 0)
        return error(QStringLiteral("cannot check: nft missing (and no iptables-save) in the qube"),
                     expected);
    if (e.rulesetSize <= 0 && e.legacySize <= 0)
        return error(QStringLiteral(
                         "cannot check: the ruleset is empty or unreadable (the check needs root)"),
                     expected);
    if (e.rulesetSize > kRulesetCapBytes || e.legacySize > kRulesetCapBytes)
        return error(QStringLiteral("cannot check: the ruleset is larger than %1 KiB")
                         .arg(kRulesetCapBytes >> 10),
                     expected);
    std::optional<QByteArray> nft;
    std::optional<QByteArray> legacy;
    if (e.rulesetTool == QLatin1String("nft")) {
        if (e.nftJsonSize <= 0)
            return error(QStringLiteral("cannot check: nft in the qube gave no JSON listing "
                                        "(nft -j list ruleset); it may lack JSON support"),
                         expected);
        if (e.nftJsonSize > kRulesetJsonCapBytes || e.nftJson.size() != e.nftJsonSize)
            return error(
                QStringLiteral("cannot check: the JSON ruleset is larger than %1 KiB or was cut")
                    .arg(kRulesetJsonCapBytes >> 10),
                expected);
        nft = e.nftJson;
    } else if (e.rulesetTool == QLatin1String("iptables")) {
        // Without nft, iptables-save shows the only tables there are.
        legacy = e.rulesetLines.join(u'\n').toUtf8();
    }
    if (e.legacySize > 0) {
        if (e.legacySave.size() < e.legacySize - 1)
            return error(QStringLiteral("cannot check: the iptables-legacy rules were cut"),
                         expected);
        legacy = legacy ? *legacy + '\n' + e.legacySave : e.legacySave;
    }
    const KillSwitchProof proof = proveKillSwitch(nft, legacy, ipv6ForClients);
    const QString notes = proof.notes.isEmpty()
        ? QString()
        : QStringLiteral(" Note: %1.").arg(proof.notes.join(QStringLiteral("; ")));
    Verdict v;
    v.expected = expected;
    switch (proof.outcome) {
    case KillSwitchProof::Outcome::Proven:
        v.status = CheckStatus::Pass;
        v.observed = QStringLiteral("kill switch proven by the ruleset");
        v.reason = QStringLiteral("every new packet from a client (vif*, group 2) out of the "
                                  "uplink (eth0, group 1) is dropped, whatever its protocol, "
                                  "ports and addresses (%1 packet classes walked through every "
                                  "forward chain); decided by %2.%3")
                       .arg(proof.packetClasses)
                       .arg(proof.decidedBy, notes);
        return v;
    case KillSwitchProof::Outcome::Leaks:
        v.status = CheckStatus::Fail;
        v.filtersNothing = proof.leaks.startsWith(QStringLiteral("every packet"));
        v.observed = QStringLiteral("still leaves: %1").arg(proof.leaks.left(300));
        v.reason = QStringLiteral("if the tunnel dies, client traffic leaves in the clear: %1 "
                                  "is let through by %2.%3 %4")
                       .arg(proof.leaks, proof.acceptedBy, notes, routingNote());
        return v;
    case KillSwitchProof::Outcome::CannotProve:
        break;
    }
    return error(QStringLiteral("cannot prove the kill switch: %1.%2 %3")
                     .arg(proof.why, notes, routingNote()),
                 expected);
}

std::optional<QString> drillBaselineProblem(const DrillEvidence &d)
{
    const QString who
        = d.downstreamQube.isEmpty() ? QStringLiteral("the client") : d.downstreamQube;
    if (!d.beforeRun)
        return QStringLiteral("%1 was not probed with the tunnel up").arg(who);
    if (d.beforeProblem)
        return QStringLiteral("%1, probed with the tunnel up: %2").arg(who, *d.beforeProblem);
    switch (d.before.state) {
    case ExitConsensus::State::CannotCheck:
    case ExitConsensus::State::Disagreed:
        return QStringLiteral("%1, probed with the tunnel up: %2").arg(who, d.before.why);
    case ExitConsensus::State::NoEgress:
        return QStringLiteral("%1 had no egress even with the tunnel up (%2); it may be offline "
                              "or blocked by its own firewall")
            .arg(who, d.before.why);
    case ExitConsensus::State::Agreed:
        break;
    }
    if (d.vpnExit && d.before.ip == *d.vpnExit)
        return std::nullopt;
    if (d.clearnetExits && d.clearnetExits->contains(d.before.ip))
        return QStringLiteral("%1 leaves by the clearnet exit %2 even with the tunnel up")
            .arg(who, d.before.ip);
    if (d.vpnExit)
        return QStringLiteral("%1 leaves by %2 with the tunnel up, not by the VPN's exit %3")
            .arg(who, d.before.ip, *d.vpnExit);
    if (d.clearnetExits)
        return std::nullopt; // not the clearnet exit: it leaves through the tunnel
    return QStringLiteral("neither the VPN's exit nor the clearnet exit is known in this run, so "
                          "%1's exit %2 cannot be told to be the VPN's")
        .arg(who, d.before.ip);
}

Verdict judgeKillSwitchDrill(const Verdict &staticVerdict, const DrillEvidence &d)
{
    Verdict v = staticVerdict;
    v.expected = QStringLiteral("every new packet from a client to the uplink dropped; no egress "
                                "while the tunnel is down");
    QString restore;
    if (!d.breakRun)
        restore = QStringLiteral(" The tunnel was not touched.");
    else if (d.restoreProblem)
        restore = QStringLiteral(" Restore failed (%1); the scheduled restore in the qube runs by "
                                 "itself within %2 s.")
                      .arg(*d.restoreProblem)
                      .arg(d.restoreAfterSeconds);
    else if (!d.restoreStep.drillEvents.contains(QStringLiteral("restored")))
        restore = QStringLiteral(" The tunnel was not restored by the drill; the scheduled restore "
                                 "runs within %1 s.")
                      .arg(d.restoreAfterSeconds);
    else if (!d.restoreStep.upTunnels().contains(d.interfaceName))
        restore = QStringLiteral(" After the restore %1 is not up yet.").arg(d.interfaceName);
    else
        restore = QStringLiteral(" %1 restored.").arg(d.interfaceName);
    const QString chosen = d.downstreamChoice.isEmpty()
        ? QString()
        : QStringLiteral(" (%1)").arg(d.downstreamChoice);

    // A drill that cannot conclude leaves a static fail a fail and anything else an error.
    auto drillError = [&](const QString &why) {
        Verdict e = v;
        e.status
            = staticVerdict.status == CheckStatus::Fail ? CheckStatus::Fail : CheckStatus::Error;
        e.reason = QStringLiteral("drill could not conclude: %1.%2 Static check: %3")
                       .arg(why, restore, staticVerdict.reason);
        return e;
    };
    if (const auto problem = drillBaselineProblem(d))
        return drillError(
            QStringLiteral("%1; \"no egress while broken\" would prove nothing").arg(*problem));
    const QString before = QStringLiteral("with %1 up, %2%3 left by %4")
                               .arg(d.interfaceName, d.downstreamQube, chosen, d.before.ip);
    if (d.breakProblem)
        return drillError(*d.breakProblem);
    const QStringList &ev = d.breakStep.drillEvents;
    if (!ev.contains(QStringLiteral("broken"))) {
        const QString what = ev.isEmpty() ? QStringLiteral("no report") : ev.last();
        return drillError(
            QStringLiteral("the tunnel %1 could not be broken (%2)").arg(d.interfaceName, what));
    }
    if (d.downstreamProblem)
        return drillError(QStringLiteral("%1: %2").arg(d.downstreamQube, *d.downstreamProblem));
    switch (d.downstream.state) {
    case ExitConsensus::State::CannotCheck:
        return drillError(QStringLiteral("%1: %2").arg(d.downstreamQube, d.downstream.why));
    case ExitConsensus::State::NoEgress:
        v.observed = QStringLiteral("no egress from %1 while %2 was down")
                         .arg(d.downstreamQube, d.interfaceName);
        if (staticVerdict.status == CheckStatus::Fail && !staticVerdict.filtersNothing) {
            // The ruleset lets some traffic through that the drill's HTTP probes do not send.
            v.status = CheckStatus::Fail;
            v.reason = QStringLiteral("drill: %1, and nothing left while the tunnel was down; but "
                                      "the ruleset still lets other traffic through.%2 Static "
                                      "check: %3")
                           .arg(before, restore, staticVerdict.reason);
            return v;
        }
        v.status = CheckStatus::Pass;
        v.reason = QStringLiteral("drill: %1; while the tunnel was down %2 could not reach any "
                                  "endpoint: the kill switch holds.%3")
                       .arg(before, d.downstreamQube, restore);
        if (staticVerdict.status == CheckStatus::Pass)
            v.reason += QStringLiteral(" Static check agrees: %1").arg(staticVerdict.reason);
        else if (staticVerdict.status == CheckStatus::Fail)
            v.reason += QStringLiteral(" The ruleset drops nothing, so the kill switch is "
                                       "elsewhere (routing). Static check: %1")
                            .arg(staticVerdict.reason);
        else
            v.reason += QStringLiteral(" The static check could not prove it: %1")
                            .arg(staticVerdict.reason);
        return v;
    case ExitConsensus::State::Agreed:
    case ExitConsensus::State::Disagreed:
        break;
    }
    v.status = CheckStatus::Fail;
    const QString ip = d.downstream.state == ExitConsensus::State::Agreed
        ? d.downstream.ip
        : d.downstream.seen.join(QStringLiteral(", "));
    const bool clearnet = d.clearnetExits && d.clearnetExits->contains(d.downstream.ip);
    v.observed = QStringLiteral("traffic left while the tunnel was down: %1").arg(ip);
    v.reason = QStringLiteral(
                   "drill: %1; while %2 was down it still reached the internet through %3%4.%5 "
                   "Static check: %6")
                   .arg(before, d.interfaceName, ip,
                        clearnet ? QStringLiteral(" (the clearnet exit)") : QString(), restore,
                        staticVerdict.reason);
    return v;
}

bool exitOneNeedsState(const CommandOutput &output, const ProbeEvidence &evidence)
{
    return output.outcome == CommandOutput::Outcome::Finished && output.exitCode == 1
        && !evidence.begun && !output.stderrData.contains("non-default user not possible")
        && !output.stderrData.contains("Traceback (most recent call last)");
}

CommandSpec qubeStateQuery(const QString &qvmLs, const QString &qube)
{
    CommandSpec spec;
    spec.program = qvmLs;
    spec.arguments = {QStringLiteral("--raw-data"), QStringLiteral("--fields=name,state"), qube};
    spec.timeoutMs = 15000;
    spec.stdoutCap = 4096;
    spec.stderrCap = 4096;
    return spec;
}

QString parseQubeState(const CommandOutput &output, const QString &qube)
{
    if (!output.finishedOk() || output.stdoutTruncated)
        return {};
    static const QStringList known {
        QStringLiteral("Running"),   QStringLiteral("Halted"),    QStringLiteral("Paused"),
        QStringLiteral("Transient"), QStringLiteral("Halting"),   QStringLiteral("Dying"),
        QStringLiteral("Crashed"),   QStringLiteral("Suspended"), QStringLiteral("NA")};
    const QList<QByteArray> lines = output.stdoutData.trimmed().split('\n');
    if (lines.size() != 1)
        return {};
    const QList<QByteArray> cells = lines.first().split('|');
    if (cells.size() != 2 || cells[0] != qube.toLatin1())
        return {};
    const QString state = QString::fromLatin1(cells[1]);
    return known.contains(state) ? state : QString();
}

} // namespace netmap
