#include "verdicts.h"

#include "checkscripts.h"
#include "qubes/commandrunner.h"

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
        if (knownState == QLatin1String("Paused"))
            return QStringLiteral("the qube is paused (exit 1): unpause it to check it");
        if (!autostart)
            return QStringLiteral(
                "the qube is not running and was not started (autostart is off; exit 1)");
        return QStringLiteral("qvm-run exited with 1 before the check began (the qube is %1)")
            .arg(knownState.isEmpty() ? QStringLiteral("in an unknown state") : knownState);
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

ExitConsensus exitConsensus(const ProbeEvidence &e, int endpointCount)
{
    ExitConsensus c;
    if (e.httpTool == QLatin1String("none")) {
        c.why = httpToolMissing();
        return c;
    }
    if (e.httpTool.isEmpty()) {
        c.why = QStringLiteral("cannot check: the qube did not report its HTTP tool");
        return c;
    }
    if (endpointCount < 2) {
        c.why = QStringLiteral("cannot check: fewer than two IP echo endpoints are configured");
        return c;
    }
    QSet<QString> distinct;
    int answered = 0;
    for (int i = 0; i < endpointCount; ++i) {
        const auto it = e.ipEcho.constFind(i);
        if (it == e.ipEcho.cend()) {
            c.why = QStringLiteral("cannot check: endpoint %1 gave no report").arg(i + 1);
            return c;
        }
        if (!it->answered)
            continue;
        if (it->ip.isEmpty()) {
            c.why = QStringLiteral(
                        "cannot check: endpoint %1 answered something that is not an IP address")
                        .arg(i + 1);
            return c;
        }
        ++answered;
        distinct.insert(it->ip);
        c.seen.append(QStringLiteral("%1 (endpoint %2)").arg(it->ip).arg(i + 1));
    }
    if (answered == 0) {
        c.state = ExitConsensus::State::NoEgress;
        c.why = QStringLiteral("none of the %1 IP echo endpoints answered").arg(endpointCount);
        return c;
    }
    if (distinct.size() > 1) {
        c.state = ExitConsensus::State::Disagreed;
        c.why = QStringLiteral("the endpoints disagree: %1").arg(c.seen.join(QStringLiteral(", ")));
        return c;
    }
    if (answered < 2) {
        c.why = QStringLiteral("cannot check: only one endpoint answered (%1); two must agree")
                    .arg(c.seen.join(QString()));
        return c;
    }
    c.state = ExitConsensus::State::Agreed;
    c.ip = *distinct.cbegin();
    return c;
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
    if (ctx.kind == EgressKind::Clearnet && ctx.clearnetExit && *ctx.clearnetExit != consensus.ip) {
        v.status = CheckStatus::Fail;
        v.reason = QStringLiteral("exit %1 is not the clearnet exit %2 seen from %3")
                       .arg(consensus.ip, *ctx.clearnetExit, ctx.baselineQube);
        return v;
    }
    v.status = CheckStatus::Pass;
    v.reason
        = QStringLiteral("%1 endpoints agree on %2").arg(consensus.seen.size()).arg(consensus.ip);
    if (ctx.kind == EgressKind::Clearnet && ctx.clearnetExit && ctx.baselineQube.size())
        v.reason += QStringLiteral(", the clearnet exit seen from %1").arg(ctx.baselineQube);
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
    if (!ctx.clearnetExit)
        return error(QStringLiteral("cannot check: no clearnet exit measured in this run (%1)")
                         .arg(ctx.baselineProblem.isEmpty()
                                  ? QStringLiteral("no clearnet baseline qube")
                                  : ctx.baselineProblem),
                     expected);
    Verdict v;
    v.expected = expected;
    v.observed = consensus.ip;
    v.externalIp = consensus.ip;
    if (*ctx.clearnetExit == consensus.ip) {
        v.status = CheckStatus::Fail;
        v.reason = QStringLiteral("leak: the exit %1 is the clearnet exit seen from %2")
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
                           .arg(ctx.provider, consensus.ip, *ctx.clearnetExit);
            return v;
        }
        tunnel = QStringLiteral("; tunnel %1 up in %2")
                     .arg(ctx.providerTunnels->join(QStringLiteral(", ")), ctx.provider);
    } else {
        tunnel = QStringLiteral("; no VPN qube found on the path to probe for a tunnel");
    }
    v.status = CheckStatus::Pass;
    v.reason = QStringLiteral("exit %1 differs from the clearnet exit %2 seen from %3%4")
                   .arg(consensus.ip, *ctx.clearnetExit, ctx.baselineQube, tunnel);
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

Verdict judgeDnsLeak(const ProbeEvidence &e, const DnsContext &ctx)
{
    const QString expected = QStringLiteral("no clearnet resolver");
    if (e.dnsTool.isEmpty())
        return error(QStringLiteral("cannot check: the DNS lookup did not finish"), expected);
    if (e.dnsTool == QLatin1String("none"))
        return error(
            QStringLiteral(
                "cannot check: dig missing (and no getent or python3 to fall back to) in the qube"),
            expected);
    if (e.resolvers.isEmpty())
        return error(QStringLiteral("cannot check: the whoami name did not resolve in the qube"),
                     expected);
    if (!ctx.baselineResolvers || ctx.baselineResolvers->isEmpty())
        return error(QStringLiteral("cannot check: no clearnet resolver measured in this run (%1)")
                         .arg(ctx.baselineProblem.isEmpty()
                                  ? QStringLiteral("no clearnet baseline qube")
                                  : ctx.baselineProblem),
                     expected);
    Verdict v;
    v.expected = expected;
    v.observed = e.resolvers.join(QStringLiteral(", "));
    QStringList overlap;
    for (const QString &r : e.resolvers) {
        if (ctx.baselineResolvers->contains(r))
            overlap.append(r);
    }
    if (!overlap.isEmpty() && (ctx.kind == EgressKind::Vpn || ctx.kind == EgressKind::Tor)) {
        v.status = CheckStatus::Fail;
        v.reason = QStringLiteral("leak: resolver %1 also answers for the clearnet baseline %2")
                       .arg(overlap.join(QStringLiteral(", ")), ctx.baselineQube);
        return v;
    }
    v.status = CheckStatus::Pass;
    v.reason
        = QStringLiteral(
              "the resolvers (%1) differ from the clearnet baseline's (%2, seen from %3)")
              .arg(v.observed, ctx.baselineResolvers->join(QStringLiteral(", ")), ctx.baselineQube);
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

Verdict judgeKillSwitchStatic(const ProbeEvidence &e)
{
    const QString expected = QStringLiteral("forwarding to the uplink dropped");
    if (e.rulesetTool.isEmpty() || !e.rulesetDone)
        return error(QStringLiteral("cannot check: the ruleset was not read"), expected);
    if (e.rulesetTool == QLatin1String("none"))
        return error(QStringLiteral("cannot check: nft missing (and no iptables-save) in the qube"),
                     expected);
    if (e.rulesetSize <= 0)
        return error(QStringLiteral(
                         "cannot check: the ruleset is empty or unreadable (the check needs root)"),
                     expected);
    if (e.rulesetSize > kRulesetCapBytes)
        return error(QStringLiteral("cannot check: the ruleset is larger than %1 KiB")
                         .arg(kRulesetCapBytes >> 10),
                     expected);
    const auto rule = e.rulesetTool == QLatin1String("nft")
        ? findKillSwitchRule(e.rulesetLines)
        : findKillSwitchRuleIptables(e.rulesetLines);
    Verdict v;
    v.expected = expected;
    if (!rule) {
        v.status = CheckStatus::Fail;
        v.observed = QStringLiteral("no kill-switch rule");
        v.reason = QStringLiteral(
            "no rule drops or rejects forwarding to the uplink (eth0) in a forward chain; "
            "if the tunnel dies, client traffic leaves in the clear");
        return v;
    }
    v.status = CheckStatus::Pass;
    v.observed = QStringLiteral("kill-switch rule present");
    v.reason = QStringLiteral("found %1").arg(rule->left(300));
    return v;
}

Verdict judgeKillSwitchDrill(const Verdict &staticVerdict, const DrillEvidence &d)
{
    Verdict v = staticVerdict;
    v.expected
        = QStringLiteral("forwarding to the uplink dropped; no egress while the tunnel is down");
    QString restore;
    if (d.restoreProblem)
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

    auto drillError = [&](const QString &why) {
        Verdict e = v;
        e.status = CheckStatus::Error;
        e.reason = QStringLiteral("drill could not be completed: %1.%2 Static check: %3")
                       .arg(why, restore, staticVerdict.reason);
        return e;
    };
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
        if (staticVerdict.status == CheckStatus::Pass) {
            v.status = CheckStatus::Pass;
        } else if (staticVerdict.status == CheckStatus::Fail) {
            v.status = CheckStatus::Fail;
        } else {
            // The drill proves the behaviour even when the ruleset could not be read.
            v.status = CheckStatus::Pass;
        }
        v.observed = QStringLiteral("%1; no egress from %2 while %3 was down")
                         .arg(staticVerdict.observed, d.downstreamQube, d.interfaceName);
        v.reason = QStringLiteral("drill: %1 could not reach any endpoint while the tunnel was "
                                  "down.%2 Static check: %3")
                       .arg(d.downstreamQube, restore, staticVerdict.reason);
        return v;
    case ExitConsensus::State::Agreed:
    case ExitConsensus::State::Disagreed:
        break;
    }
    v.status = CheckStatus::Fail;
    const QString ip = d.downstream.state == ExitConsensus::State::Agreed
        ? d.downstream.ip
        : d.downstream.seen.join(QStringLiteral(", "));
    const bool clearnet = d.clearnetExit && d.downstream.ip == *d.clearnetExit;
    v.observed = QStringLiteral("traffic left while the tunnel was down: %1").arg(ip);
    v.reason
        = QStringLiteral("drill: %1 still reached the internet through %2%3 while %4 was down.%5")
              .arg(d.downstreamQube, ip,
                   clearnet ? QStringLiteral(" (the clearnet exit)") : QString(), d.interfaceName,
                   restore);
    return v;
}

} // namespace netmap
