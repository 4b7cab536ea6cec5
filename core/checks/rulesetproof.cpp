// The kill-switch proof (rulesetproof.h): both rulesets read into one list of chains, then
// every packet class of each address family walked through the base chains at the forward hook
// that see it, and the worse family's outcome is the verdict. The parts it uses are listed in
// rulesetproof_p.h.

#include "rulesetproof.h"

#include "rulesetproof_p.h"

#include <QMap>
#include <QSet>

#include <algorithm>

namespace netmap {

using namespace rulesetproof;

namespace {

// Both rulesets read into one list of chains with jump targets resolved to chain indexes;
// *fatal set when the input cannot be used at all.
QList<Chain> readChains(const std::optional<QByteArray> &untrustedNftJson,
                        const std::optional<QByteArray> &untrustedLegacySave, QString *fatal,
                        QStringList *notes, QStringList *taint)
{
    Parser parser;
    if (!untrustedNftJson && !untrustedLegacySave) {
        *fatal = QStringLiteral("no ruleset was read (neither nft nor iptables-legacy-save)");
        return {};
    }
    if (untrustedNftJson)
        parser.readNft(*untrustedNftJson);
    if (parser.fatal.isEmpty() && untrustedLegacySave) {
        const int before = parser.chains.size();
        parser.readLegacy(*untrustedLegacySave);
        if (parser.chains.size() > before)
            notes->append(QStringLiteral("iptables-legacy tables are loaded too; they were "
                                         "evaluated together with the nft tables"));
    }
    if (!parser.fatal.isEmpty()) {
        *fatal = parser.fatal;
        return {};
    }
    *taint = parser.taint;
    // Legacy jump targets were stored as chain indexes; nft ones as names: resolve the latter.
    QList<Chain> chains = parser.chains;
    for (Chain &c : chains) {
        for (Rule &r : c.rules) {
            if ((r.action == Action::Jump || r.action == Action::Goto)
                && c.family != QLatin1String("iptables-legacy"))
                r.target = QString::number(
                    parser.chainIndex.value(Parser::key(c.family, c.table, r.target)));
        }
    }
    return chains;
}

QList<int> forwardChains(const QList<Chain> &chains)
{
    QList<int> forward;
    for (int i = 0; i < chains.size(); ++i) {
        const Chain &c = chains.at(i);
        const bool ipv4 = c.family == QLatin1String("ip") || c.family == QLatin1String("inet")
            || c.family == QLatin1String("iptables-legacy");
        if (c.base && ipv4 && c.hook == QLatin1String("forward"))
            forward.append(i);
    }
    std::stable_sort(forward.begin(), forward.end(),
                     [&](int a, int b) { return chains.at(a).prio < chains.at(b).prio; });
    return forward;
}

} // namespace

QList<PacketFate> fatesOf(const std::optional<QByteArray> &untrustedNftJson,
                          const std::optional<QByteArray> &untrustedLegacySave,
                          const QList<ProbePacket> &packets)
{
    QString fatal;
    QStringList notes, taint;
    const QList<Chain> chains
        = readChains(untrustedNftJson, untrustedLegacySave, &fatal, &notes, &taint);
    QList<PacketFate> out;
    const QList<int> forward = forwardChains(chains);
    Evaluator ev(chains);
    for (const ProbePacket &pp : packets) {
        if (!fatal.isEmpty() || !taint.isEmpty()) {
            out.append(PacketFate::Unknown);
            continue;
        }
        Packet p;
        p.iif = pp.iif;
        p.proto = pp.proto;
        p.sport = pp.sport;
        p.dport = pp.dport;
        p.saddr = pp.saddr;
        p.daddr = pp.daddr;
        bool dropped = false, allPass = true;
        for (int ci : forward) {
            const Res r = ev.base(ci, p);
            if (r.drop && !r.pass && !r.unknown) {
                dropped = true;
                break;
            }
            if (r.drop || r.unknown)
                allPass = false;
        }
        out.append(dropped       ? PacketFate::Dropped
                       : allPass ? PacketFate::Accepted
                                 : PacketFate::Unknown);
    }
    return out;
}

namespace {

bool chainSeesFamily(const Chain &c, int family)
{
    if (c.family == QLatin1String("inet"))
        return true;
    if (family == 6)
        return c.family == QLatin1String("ip6");
    return c.family == QLatin1String("ip") || c.family == QLatin1String("iptables-legacy");
}

// The walk of every packet class of one family (4: IPv4, 6: IPv6) through the forward chains
// that see that family.
KillSwitchProof proveFamily(const QList<Chain> &chains, const QStringList &taint, int family)
{
    KillSwitchProof proof;
    QList<int> forward;
    QStringList outputOnly;
    for (int i = 0; i < chains.size(); ++i) {
        const Chain &c = chains.at(i);
        if (!c.base || !chainSeesFamily(c, family))
            continue;
        if (c.hook == QLatin1String("forward"))
            forward.append(i);
        if (c.hook == QLatin1String("output")) {
            bool uplinkDrop = c.policyDrop;
            for (const Rule &r : c.rules) {
                if (r.action != Action::Drop && r.action != Action::Reject)
                    continue;
                for (const Cond &k : r.conds)
                    uplinkDrop
                        = uplinkDrop || k.field == Field::OifName || k.field == Field::OifGroup;
            }
            if (uplinkDrop)
                outputOnly.append(c.where);
        }
    }
    std::stable_sort(forward.begin(), forward.end(),
                     [&](int a, int b) { return chains.at(a).prio < chains.at(b).prio; });

    // The packet classes: every combination of the representatives of each field.
    const PacketClasses pc = packetClasses(chains, family);
    const QStringList &iifs = pc.iifs;
    const QList<quint32> &protos = pc.protos;
    const QList<quint32> &sports = pc.sports;
    const QList<quint32> &dports = pc.dports;
    const int saddrCount = pc.saddrCount();
    const int daddrCount = pc.daddrCount();
    const qint64 classes = pc.count();
    qint64 totalRules = 1;
    for (const Chain &c : chains)
        totalRules += c.rules.size() + 1;
    if (classes > kMaxPacketClasses || classes * totalRules > kMaxWork) {
        proof.why = QStringLiteral("the ruleset tells apart too many kinds of packets (%1) to "
                                   "walk them all")
                        .arg(classes);
        return proof;
    }

    Evaluator ev(chains);
    QList<Leak> leaks;
    QMap<int, int> deciders; // flat rule -> packets it decides
    int firstAccept = -1;
    int firstUnknown = -1;
    bool unknownByAmbiguity = false;
    int unknownCount = 0;
    for (const QString &iif : iifs) {
        for (int pi = 0; pi < protos.size(); ++pi) {
            const bool ports = portBearing(protos.at(pi));
            const int ns = ports ? sports.size() : 1;
            const int nd = ports ? dports.size() : 1;
            for (int si = 0; si < saddrCount; ++si)
                for (int di = 0; di < daddrCount; ++di)
                    for (int sp = 0; sp < ns; ++sp)
                        for (int dp = 0; dp < nd; ++dp) {
                            Packet p;
                            p.family = family;
                            p.iif = iif;
                            p.proto = protos.at(pi);
                            if (family == 6) {
                                p.saddr6 = pc.saddrs6.at(si);
                                p.daddr6 = pc.daddrs6.at(di);
                            } else {
                                p.saddr = pc.saddrs.at(si);
                                p.daddr = pc.daddrs.at(di);
                            }
                            p.sport = ports ? sports.at(sp) : 0;
                            p.dport = ports ? dports.at(dp) : 0;
                            ++proof.packetClasses;
                            int dropper = -1;
                            bool allPass = true;
                            int accept = -1;
                            int unknown = -1;
                            bool ambiguity = false;
                            for (int ci : std::as_const(forward)) {
                                const Res r = ev.base(ci, p);
                                if (r.drop && !r.pass && !r.unknown) {
                                    dropper = r.dropRule;
                                    break;
                                }
                                if (r.drop || r.unknown) {
                                    allPass = false;
                                    if (unknown == -1) {
                                        unknown = r.unknown ? r.unknownRule : r.ambiguousRule;
                                        ambiguity = !r.unknown;
                                    }
                                } else if (accept == -1) {
                                    accept = r.passRule;
                                }
                            }
                            if (dropper != -1) {
                                ++deciders[dropper];
                            } else if (allPass) {
                                leaks.append(
                                    Leak {pi, ports ? dp : -1, di, si, ports ? sp : -1, iif});
                                if (firstAccept == -1)
                                    firstAccept = accept;
                            } else {
                                ++unknownCount;
                                if (firstUnknown == -1) {
                                    firstUnknown = unknown;
                                    unknownByAmbiguity = ambiguity;
                                }
                            }
                        }
        }
    }

    if (!outputOnly.isEmpty() && (!leaks.isEmpty() || unknownCount))
        proof.notes.append(
            QStringLiteral("%1 drops traffic to the uplink at the output hook: that protects the "
                           "VPN qube's own traffic only; its clients' packets are forwarded and "
                           "never pass there")
                .arg(outputOnly.join(QStringLiteral("; "))));

    if (!leaks.isEmpty()) {
        proof.outcome = KillSwitchProof::Outcome::Leaks;
        if (forward.isEmpty())
            proof.acceptedBy = family == 6
                ? QStringLiteral("no chain is hooked at forward in an ip6 or inet table: the "
                                 "kernel forwards every IPv6 packet")
                : QStringLiteral("no chain is hooked at forward in an ip or inet table: the "
                                 "kernel forwards everything");
        else
            proof.acceptedBy = ev.describe(firstAccept);
        proof.leaks = leakWords(pc, leaks);
        return proof;
    }
    if (unknownCount > 0) {
        proof.outcome = KillSwitchProof::Outcome::CannotProve;
        proof.why = unknownByAmbiguity
            ? QStringLiteral("whether some packets are dropped depends on %1")
                  .arg(ev.unknownText(firstUnknown))
            : QStringLiteral("a rule on the path is not understood: %1")
                  .arg(ev.unknownText(firstUnknown));
        return proof;
    }
    if (!taint.isEmpty()) {
        proof.outcome = KillSwitchProof::Outcome::CannotProve;
        proof.why = taint.first();
        return proof;
    }
    proof.outcome = KillSwitchProof::Outcome::Proven;
    proof.decidedBy = decidedByWords(deciders, ev);
    return proof;
}

} // namespace

KillSwitchProof proveKillSwitch(const std::optional<QByteArray> &untrustedNftJson,
                                const std::optional<QByteArray> &untrustedLegacySave,
                                bool ipv6ForClients)
{
    KillSwitchProof proof;
    QString fatal;
    QStringList taint;
    QStringList readNotes;
    const QList<Chain> chains
        = readChains(untrustedNftJson, untrustedLegacySave, &fatal, &readNotes, &taint);
    if (!fatal.isEmpty()) {
        proof.why = fatal;
        proof.notes = readNotes;
        return proof;
    }
    KillSwitchProof v4 = proveFamily(chains, taint, 4);
    v4.notes = readNotes + v4.notes;
    if (!ipv6ForClients)
        return v4;

    // IPv6 is on for the clients: IPv6 packets take the ip6 and inet chains, and a kill switch
    // must drop them too. The worse of the two families is the verdict, in words naming IPv6.
    const KillSwitchProof v6 = proveFamily(chains, taint, 6);
    using Outcome = KillSwitchProof::Outcome;
    proof.notes = v4.notes;
    for (const QString &n : v6.notes)
        proof.notes.append(QStringLiteral("IPv6: ") + n);
    proof.packetClasses = v4.packetClasses + v6.packetClasses;
    if (v4.outcome == Outcome::Leaks || v6.outcome == Outcome::Leaks) {
        proof.outcome = Outcome::Leaks;
        QStringList leaks, by;
        if (v4.outcome == Outcome::Leaks) {
            leaks.append(QStringLiteral("IPv4: ") + v4.leaks);
            by.append(QStringLiteral("IPv4 by ") + v4.acceptedBy);
        }
        if (v6.outcome == Outcome::Leaks) {
            leaks.append(QStringLiteral("IPv6: ") + v6.leaks);
            by.append(QStringLiteral("IPv6 by ") + v6.acceptedBy);
        }
        proof.leaks = leaks.join(QStringLiteral("; "));
        proof.acceptedBy = by.join(QStringLiteral("; "));
        if (v4.outcome == Outcome::Proven)
            proof.notes.prepend(QStringLiteral(
                "IPv6 is on for this qube's clients and the kill switch drops IPv4 only: "
                "their IPv6 traffic leaves by the uplink"));
        return proof;
    }
    if (v4.outcome == Outcome::CannotProve || v6.outcome == Outcome::CannotProve) {
        proof.outcome = Outcome::CannotProve;
        proof.why = v4.outcome == Outcome::CannotProve
            ? v4.why
            : QStringLiteral("for IPv6 (on for this qube's clients), %1").arg(v6.why);
        return proof;
    }
    proof.outcome = Outcome::Proven;
    proof.decidedBy = QStringLiteral("IPv4: %1; IPv6: %2").arg(v4.decidedBy, v6.decidedBy);
    return proof;
}

} // namespace netmap
