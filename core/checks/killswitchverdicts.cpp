// Verdicts of the kill-switch check: the static one from the ruleset proof (rulesetproof.h) and
// the drill's (the client seen leaving by the VPN's exit with the tunnel up, then nothing leaving
// while it is broken), which includes the static one.

#include "verdicts.h"

#include "checkscripts.h"
#include "rulesetproof.h"
#include "verdicts_p.h"

namespace netmap {

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
        return errorVerdict(QStringLiteral("cannot check: the ruleset was not read"), expected);
    if (e.rulesetTool == QLatin1String("none") && e.legacySize < 0)
        return errorVerdict(
            QStringLiteral("cannot check: nft missing (and no iptables-save) in the qube"),
            expected);
    if (e.rulesetSize <= 0 && e.legacySize <= 0)
        return errorVerdict(
            QStringLiteral(
                "cannot check: the ruleset is empty or unreadable (the check needs root)"),
            expected);
    if (e.rulesetSize > kRulesetCapBytes || e.legacySize > kRulesetCapBytes)
        return errorVerdict(QStringLiteral("cannot check: the ruleset is larger than %1 KiB")
                                .arg(kRulesetCapBytes >> 10),
                            expected);
    std::optional<QByteArray> nft;
    std::optional<QByteArray> legacy;
    if (e.rulesetTool == QLatin1String("nft")) {
        if (e.nftJsonSize <= 0)
            return errorVerdict(QStringLiteral("cannot check: nft in the qube gave no JSON listing "
                                               "(nft -j list ruleset); it may lack JSON support"),
                                expected);
        if (e.nftJsonSize > kRulesetJsonCapBytes || e.nftJson.size() != e.nftJsonSize)
            return errorVerdict(
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
            return errorVerdict(QStringLiteral("cannot check: the iptables-legacy rules were cut"),
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
    return errorVerdict(QStringLiteral("cannot prove the kill switch: %1.%2 %3")
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

} // namespace netmap
