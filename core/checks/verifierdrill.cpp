// The kill-switch drill: which client of a VPN qube it tests, what it runs (planDrill and
// describeDrill show exactly that before it runs), and the Verifier running it step by step,
// one VPN qube at a time: the client probed with the tunnel up, the tunnel broken (with a
// restore that runs by itself), the client probed again, the tunnel restored.

#include "verifier.h"
#include "verifier_p.h"

#include "checkscripts.h"
#include "model/topology.h"
#include "model/untrustedtext.h"
#include "probeparser.h"

namespace netmap {

namespace {

// Whether a qube's own qvm-firewall rules (where read) let it reach any address on the HTTP(S)
// ports the IP echo endpoints use: the first rule that decides such traffic is an accept.
// nullopt when the rules were not read.
std::optional<bool> firewallAllowsEndpoints(const Snapshot &s, const QString &qube)
{
    const auto it = s.firewall.constFind(qube);
    if (it == s.firewall.cend())
        return std::nullopt;
    for (const FirewallRule &r : *it) {
        if (!r.specialtarget.isEmpty())
            continue; // dns rules decide DNS traffic only
        const bool everyDestination = r.dst4.isEmpty() && r.dst6.isEmpty() && r.dsthost.isEmpty();
        const bool webPorts = r.proto.isEmpty()
            || (r.proto == QLatin1String("tcp")
                && (r.portFrom == 0 || (r.portFrom <= 80 && r.portTo >= 443)));
        if (r.action == QLatin1String("accept") && everyDestination && webPorts)
            return true;
        if (r.action == QLatin1String("drop") && everyDestination)
            return false;
        if (r.action == QLatin1String("drop"))
            return false; // some endpoint may be blocked: not a good witness
    }
    return it->isEmpty() ? std::optional<bool>(true) : std::optional<bool>(false);
}

} // namespace

// The client of a VPN qube whose egress the drill tests, picked on purpose: a running qube behind
// it (an app qube before another network qube) whose own firewall lets it reach the endpoints
// (known to allow before not read). *why says why it was picked.
QString chooseDownstream(const Snapshot &s, const Topology &t, const VerifyRequest &r,
                         const QString &vpn, QString *why)
{
    QString best;
    int bestRank = 100;
    QString bestWhy;
    for (const Qube &q : s.qubes) {
        const QString name = q.name.toString();
        if (name == vpn || !canRun(q, r.autostart) || !q.name.isRunnable() || !isNetworked(q))
            continue;
        if (!t.egressChain(name).contains(vpn))
            continue;
        const auto allows = firewallAllowsEndpoints(s, name);
        int rank = q.providesNetwork ? 3 : 0;
        if (!allows)
            rank += 1;
        else if (!*allows)
            rank += 6;
        if (!q.isRunning())
            rank += 10;
        if (rank < bestRank) {
            bestRank = rank;
            best = name;
            bestWhy
                = QStringLiteral("%1 behind %2, %3")
                      .arg(q.isRunning() ? QStringLiteral("running") : QStringLiteral("halted"),
                           vpn,
                           !allows       ? QStringLiteral("its firewall rules not read")
                               : *allows ? QStringLiteral("its firewall allows the endpoints")
                                         : QStringLiteral("its firewall may block the endpoints"));
        }
    }
    if (why)
        *why = bestWhy;
    return best;
}

void Verifier::Private::nextDrill()
{
    while (true) {
        if (drillIndex >= 0 && drillIndex < plan.drills.size() && plan.drills[drillIndex].stage < 5)
            return;
        ++drillIndex;
        if (drillIndex >= plan.drills.size()) {
            finish();
            return;
        }
        DrillRun &d = plan.drills[drillIndex];
        const VerifierWork &w = plan.work[d.vpn];
        const Verdict staticVerdict = verdictFor(w, CheckKind::KillSwitch);
        QString why;
        if (cancelled)
            why = QStringLiteral("cancelled before the drill ran");
        else if (w.problem)
            why = *w.problem;
        else if (d.downstream.isEmpty())
            why = QStringLiteral("no running qube behind %1 to test").arg(d.vpn);
        else if (w.evidence.upTunnels().isEmpty())
            why = QStringLiteral("no tunnel interface is up in %1").arg(d.vpn);
        if (!why.isEmpty()) {
            Verdict v = staticVerdict;
            if (v.status != CheckStatus::Fail) {
                v.status = cancelled ? CheckStatus::Skipped : CheckStatus::Error;
                v.reason = QStringLiteral("drill not run: %1. Static check: %2")
                               .arg(why, staticVerdict.reason);
            }
            d.stage = 5;
            emitResult(resultFor(w, CheckKind::KillSwitch, v));
            continue;
        }
        d.interfaceName = w.evidence.upTunnels().constFirst();
        d.evidence.interfaceName = d.interfaceName;
        d.evidence.downstreamQube = d.downstream;
        d.evidence.restoreAfterSeconds = restoreAfter();
        d.evidence.clearnetExits = anyClearnetExits();
        d.evidence.downstreamChoice = d.choice;
        const ExitConsensus own = exitConsensus(w.evidence, echoCount(w));
        if (own.state == ExitConsensus::State::Agreed)
            d.evidence.vpnExit = own.ip;
        startDrillStep(d, 1);
        return;
    }
}

void Verifier::Private::startDrillStep(DrillRun &d, int stage)
{
    d.stage = stage;
    CommandSpec c;
    const bool client = stage == 1 || stage == 3;
    if (client) {
        ProbePlan p;
        p.externalIp = true;
        p.echoKind = QStringLiteral("vpn"); // a client of a VPN qube
        c = spec(d.downstream, probeScript(p, request.config), false, 64 << 10);
    } else if (stage == 2) {
        d.evidence.breakRun = true;
        c = spec(d.vpn, drillBreakScript(d.interfaceName, restoreAfter()), true, 64 << 10);
    } else {
        c = spec(d.vpn, drillRestoreScript(), true, 64 << 10);
    }
    d.commands += c.display() + QStringLiteral("\n\n");
    emit q->qubeBusy(client ? d.downstream : d.vpn, true);
    emit q->progress(done, total, QStringLiteral("%1: kill-switch drill").arg(d.vpn));
    drillId = runner.start(c);
}

void Verifier::Private::drillStepFinished(const CommandOutput &out)
{
    drillId = 0;
    DrillRun &d = plan.drills[drillIndex];
    const ProbeEvidence e = parseProbeOutput(out.stdoutData);
    const auto problem = transportProblem(out, request.autostart, e);
    d.outputs += "--- step " + QByteArray::number(d.stage) + " ---\n" + out.stdoutData.left(8192)
        + out.stderrData.left(2048);
    const bool client = d.stage == 1 || d.stage == 3;
    emit q->qubeBusy(client ? d.downstream : d.vpn, false);
    if (d.stage == 1) {
        // Egress by the VPN's exit with the tunnel up first; without it nothing is broken.
        d.evidence.beforeRun = true;
        d.evidence.beforeProblem = problem;
        d.evidence.before = exitConsensus(e, drillEchoCount());
        if (!cancelled && !drillBaselineProblem(d.evidence))
            startDrillStep(d, 2);
        else
            finishDrill(d);
        return;
    }
    if (d.stage == 2) {
        d.evidence.breakProblem = problem;
        d.evidence.breakStep = e;
        if (!problem && e.drillEvents.contains(QStringLiteral("broken")) && !cancelled)
            startDrillStep(d, 3);
        else if (e.drillEvents.contains(QStringLiteral("busy"))
                 || e.drillEvents.contains(QStringLiteral("no-such-interface")))
            finishDrill(d); // nothing was changed, nothing to restore
        else
            startDrillStep(d, 4);
        return;
    }
    if (d.stage == 3) {
        d.evidence.downstreamProblem = problem;
        if (cancelled && !problem)
            d.evidence.downstreamProblem = QStringLiteral("cancelled");
        d.evidence.downstream = exitConsensus(e, drillEchoCount());
        startDrillStep(d, 4);
        return;
    }
    d.evidence.restoreProblem = problem;
    d.evidence.restoreStep = e;
    if (!problem && e.interfacesDone)
        snapshot.tunnels.insert(d.vpn, e.upTunnels());
    finishDrill(d);
}

void Verifier::Private::finishDrill(DrillRun &d)
{
    d.stage = 5;
    const VerifierWork &w = plan.work[d.vpn];
    const Verdict staticVerdict = verdictFor(w, CheckKind::KillSwitch);
    Verdict v = judgeKillSwitchDrill(staticVerdict, d.evidence);
    if (cancelled && v.status == CheckStatus::Error)
        v.reason = QStringLiteral("cancelled during the drill. ") + v.reason;
    CheckResult r = resultFor(w, CheckKind::KillSwitch, v);
    r.command += QStringLiteral("\n\n") + d.commands.trimmed();
    r.output += u'\n' + untrustedtext::block(untrustedtext::fromUtf8(d.outputs), 16 << 10);
    r.finished = QDateTime::currentDateTimeUtc();
    emitResult(r);
    nextDrill();
}

int drillRestoreAfterSeconds(const CheckConfig &config)
{
    return config.timeoutSeconds * 2 + 15;
}

Result<DrillPlan> planDrill(const Snapshot &snapshot, const VerifyRequest &request,
                            const QString &vpnQube)
{
    const Qube *vpn = snapshot.find(vpnQube);
    if (!vpn || !vpn->name.isRunnable())
        return makeError(Error::Code::Usage,
                         QStringLiteral("no qube named \"%1\" to drill").arg(vpnQube.left(64)));
    const QStringList tunnels = snapshot.tunnels.value(vpnQube);
    if (tunnels.isEmpty())
        return makeError(
            Error::Code::Usage,
            QStringLiteral("no tunnel interface is known to be up in %1").arg(vpnQube));
    const auto iface = validInterfaceName(tunnels.constFirst());
    if (!iface)
        return makeError(Error::Code::Usage, QStringLiteral("bad tunnel interface name"));
    const Topology topology(snapshot);
    DrillPlan plan;
    plan.vpnQube = vpnQube;
    plan.interfaceName = *iface;
    plan.downstreamQube = chooseDownstream(snapshot, topology, request, vpnQube);
    if (plan.downstreamQube.isEmpty())
        return makeError(
            Error::Code::Usage,
            QStringLiteral("no running qube behind %1 to test the kill switch with").arg(vpnQube));
    plan.restoreAfterSeconds = drillRestoreAfterSeconds(request.config);
    plan.steps
        = drillSteps(vpnQube, plan.interfaceName, plan.downstreamQube, plan.restoreAfterSeconds);
    // As Verifier::Private::spec() builds them (the window shows display() of each).
    const auto command = [&](const QString &qube, const QString &script, bool root) {
        CommandSpec c;
        c.program = request.qvmRun;
        c.arguments
            = qvmRunArguments(*QubeName::fromUntrusted(qube), script, root, request.autostart);
        return c;
    };
    ProbePlan probe;
    probe.externalIp = true;
    probe.echoKind = QStringLiteral("vpn"); // as the Verifier probes a client of a VPN qube
    plan.commands << command(plan.downstreamQube, probeScript(probe, request.config), false)
                  << command(vpnQube,
                             drillBreakScript(plan.interfaceName, plan.restoreAfterSeconds), true)
                  << command(plan.downstreamQube, probeScript(probe, request.config), false)
                  << command(vpnQube, drillRestoreScript(), true);
    return plan;
}

QStringList describeDrill(const Snapshot &snapshot, const VerifyRequest &request,
                          const QString &vpnQube)
{
    const Topology topology(snapshot);
    const QString downstream = chooseDownstream(snapshot, topology, request, vpnQube);
    const QStringList tunnels = snapshot.tunnels.value(vpnQube);
    const QString iface = tunnels.isEmpty()
        ? QStringLiteral("its tunnel interface (found when it is probed)")
        : tunnels.constFirst();
    if (downstream.isEmpty())
        return {QStringLiteral("Nothing: no running qube behind %1 to test the kill switch with.")
                    .arg(vpnQube)};
    QStringList steps
        = drillSteps(vpnQube, iface, downstream, request.config.timeoutSeconds * 2 + 15);
    if (!tunnels.isEmpty()) {
        steps.append(QStringLiteral("Script run in %1 as root to break the tunnel:").arg(vpnQube));
        steps.append(drillBreakScript(iface, request.config.timeoutSeconds * 2 + 15));
        steps.append(QStringLiteral("Script run in %1 as root to restore it:").arg(vpnQube));
        steps.append(drillRestoreScript());
    }
    return steps;
}

} // namespace netmap
