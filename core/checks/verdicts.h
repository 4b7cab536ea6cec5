#pragma once
// Verdicts: from parsed evidence and the owner's expectation to pass / fail / error. No verdict
// ever passes on missing or malformed evidence.

#include "model/checkresult.h"
#include "policy/inference.h"
#include "probeparser.h"

#include <QString>
#include <QStringList>

#include <optional>

namespace netmap {

struct CommandOutput;
struct CommandSpec;

struct Verdict
{
    CheckStatus status = CheckStatus::Error;
    QString observed;
    QString expected;
    QString reason;
    QString externalIp; // set when the check verified an exit IP
    QString externalIp6; // set when the IPv6 echo endpoints agreed on an exit (one address of it)
    bool filtersNothing = false; // kill switch: the ruleset lets every client packet through
};

// The egress kind a check should hold a qube to: Via QUBE resolves to the kind of QUBE's path.
enum class EgressKind { Clearnet, Vpn, Tor, None };
QString egressKindId(EgressKind kind);

// Why a qvm-run's answer cannot be judged at all (timeout, qrexec failure, truncated or
// malformed answer), in plain words; nullopt when it can. Exit 1 before any answer means the
// qube is halted, paused, or qvm-run failed: a traceback or the client's "non-default user not
// possible" on stderr says which, else `knownState`: the qube's state from a fresh query made
// after the failure (parseQubeState), empty when it could not be read ("cannot tell").
std::optional<QString> transportProblem(const CommandOutput &output, bool autostart,
                                        const ProbeEvidence &evidence,
                                        const QString &knownState = {});
// Exit 1 before any answer, without a traceback or the client's own error: only the qube's
// state, queried now, tells halted from paused from a failure.
bool exitOneNeedsState(const CommandOutput &output, const ProbeEvidence &evidence);
// `qvm-ls --raw-data --fields=name,state QUBE`, the state query for one qube.
CommandSpec qubeStateQuery(const QString &qvmLs, const QString &qube);
// Its answer "QUBE|State" (a known power state only), or empty.
QString parseQubeState(const CommandOutput &output, const QString &qube);

struct ExitConsensus
{
    enum class State { Agreed, Disagreed, NoEgress, CannotCheck };
    State state = State::CannotCheck;
    QString ip; // when Agreed (for IPv6: the /64)
    QString address; // when Agreed: the first address seen (for IPv6, one address of the /64)
    QStringList seen; // "198.51.100.7 (endpoint 1)" for every valid answer
    QString why; // plain words for Disagreed / CannotCheck
};
// At least two endpoints must answer and agree; any non-address answer or missing report is
// CannotCheck; no answer at all (with a working HTTP tool) is NoEgress.
ExitConsensus exitConsensus(const ProbeEvidence &evidence, int endpointCount);
// The same for the IPv6 echo endpoints (ipEcho6), where agreeing means the same /64: a qube's
// privacy addresses rotate within its prefix. ip is then the prefix ("2001:db8:1:2::/64"), seen
// the full addresses. NoEgress: no IPv6 endpoint answered (the qube has no IPv6 egress).
ExitConsensus exitConsensus6(const ProbeEvidence &evidence, int endpointCount);
// The /64 an IPv6 address lies in, "2001:db8:1:2::/64"; nullopt for anything else.
std::optional<QString> ipv6Prefix64(const QString &address);

struct ExternalIpContext
{
    Expectation expectation;
    EgressKind kind = EgressKind::Clearnet;
    QStringList path; // egress chain
    std::optional<QStringList> clearnetExits; // the clearnet baseline's exits
    QString baselineQube; // where the baseline came from: "seen from A and B" / "pinned in ..."
    QString baselineProblem; // why there is no baseline (disputed, unconfirmed)
    bool baselineDisputed = false; // witnesses disagree: a clearnet exit cannot be judged
    std::optional<QString> viaExit; // the verified exit of the "via" qube, when measured
    QString haltedHop; // a qube on the path that is not running (the qube cannot have egress)
};
Verdict judgeExternalIp(const ExitConsensus &consensus, const ExternalIpContext &context);

struct VpnContext
{
    std::optional<QStringList> clearnetExits;
    QString baselineQube; // where the baseline came from, in words
    QString baselineProblem; // why there is no clearnet exit
    QString provider; // the VPN qube on the path, or empty
    std::optional<QStringList> providerTunnels; // tunnel interfaces up; nullopt when not probed
    QString providerProblem;
};
Verdict judgeVpn(const ExitConsensus &consensus, const VpnContext &context);

// The IPv6 side of an exit check (external-ip, vpn), judged apart from IPv4 and then combined
// with the IPv4 verdict (combineIpv6): a qube with no IPv6 egress gets no IPv6 verdict, and a
// proven IPv6 leak fails the check whatever IPv4 says.
struct Ipv6Context
{
    // The clearnet path's IPv6 /64s: pinned (the IPv6 entries of baseline.exit_ips) or every
    // /64 a clearnet witness saw; empty with clearnetHasNoIpv6 when at least two witnesses agree
    // that the clearnet path has no IPv6 egress; nullopt when unknown (baselineProblem says why).
    std::optional<QStringList> clearnetPrefixes;
    bool clearnetHasNoIpv6 = false;
    QString baselineSource;
    QString baselineProblem;
    std::optional<QString> viaPrefix; // the via qube's IPv6 /64, when it has one
};
struct Ipv6Part
{
    enum class State { NoEgress, Pass, Fail, CannotTell };
    State state = State::CannotTell;
    QString observed; // "IPv6 2001:db8:1:2::/64"; empty when there is no IPv6 egress
    QString text; // plain words, beginning with "IPv6" or "no IPv6 egress"
    QString exitAddress; // the agreed IPv6 exit (one address of its /64), empty when none
};
Ipv6Part judgeExternalIpv6(const ExitConsensus &consensus6, const ExternalIpContext &context,
                           const Ipv6Context &v6);
// ipv4Tunnelled: the IPv4 exit was judged to leave by the VPN (the IPv4 verdict passed).
Ipv6Part judgeVpnIpv6(const ExitConsensus &consensus6, const Ipv6Context &v6, bool ipv4Tunnelled);
Verdict combineIpv6(const Verdict &ipv4, const Ipv6Part &ipv6);

Verdict judgeTor(const ProbeEvidence &evidence);

// What the unique-name method shows about one qube's DNS (checkscripts.h, ProbePlan::zoneLabels).
struct ZoneResolvers
{
    enum class State {
        Asked, // the zone's service names the resolvers that asked for the qube's names
        Intercepted, // a name resolved in the qube, yet no resolver asked the zone for it
        CannotTell, // the lookups or the service's answer are missing or malformed
    };
    State state = State::CannotTell;
    QStringList resolvers; // Asked: the resolvers that asked, sorted, unique
    QString why; // Intercepted / CannotTell: in plain words
    QString observed; // what the qube saw, for the result's "observed"
    QString method; // "unique names under ZONE, resolvers reported by SERVICE over HTTPS"
};
// labels: the probe's labels; zone and service: the configured zone and its service (words only).
ZoneResolvers zoneResolvers(const ProbeEvidence &evidence, const QStringList &labels,
                            const QString &zone, const QString &service);

struct DnsContext
{
    EgressKind kind = EgressKind::Vpn;
    // Set when the unique-name method ran (a zone is configured): it decides. Without it, the
    // whoami A record can find a leak but never pass (any network qube on the path can forge it).
    std::optional<ZoneResolvers> zone;
    std::optional<QStringList> baselineResolvers;
    QString baselineQube;
    QString baselineProblem;
};
Verdict judgeDnsLeak(const ProbeEvidence &evidence, const DnsContext &context);

struct IsolationTarget
{
    QString ip;
    QString qube;
    bool allowed = false; // the expectations allow this reach
};
Verdict judgeIsolation(const ProbeEvidence &evidence, const QList<IsolationTarget> &targets,
                       const QList<int> &ports, const QString &qube);

// ipv6ForClients: Qubes gives the VPN qube's clients IPv6 (its gateway6, the `ipv6` feature on
// its chain); then a kill switch must drop their IPv6 packets too (rulesetproof.h).
Verdict judgeKillSwitchStatic(const ProbeEvidence &evidence, bool ipv6ForClients = false);

struct DrillEvidence
{
    QString downstreamChoice; // why this client was picked, in words
    bool beforeRun = false; // the client was probed with the tunnel up
    std::optional<QString> beforeProblem; // transport problem of that probe
    ExitConsensus before; // the client's exit with the tunnel up
    std::optional<QString> vpnExit; // the VPN qube's own exit in this run
    bool breakRun = false; // the tunnel was touched
    std::optional<QString> breakProblem; // transport problem of the break step
    ProbeEvidence breakStep;
    QString downstreamQube;
    std::optional<QString> downstreamProblem;
    ExitConsensus downstream;
    std::optional<QString> restoreProblem;
    ProbeEvidence restoreStep;
    QString interfaceName;
    std::optional<QStringList> clearnetExits;
    int restoreAfterSeconds = 0;
};
// Whether the client's probe with the tunnel up proves egress by the VPN's exit; the reason
// in words when it does not.
std::optional<QString> drillBaselineProblem(const DrillEvidence &drill);
// The static verdict combined with the drill's. "No egress while broken" counts only after the
// client was seen leaving by the VPN's exit with the tunnel up.
Verdict judgeKillSwitchDrill(const Verdict &staticVerdict, const DrillEvidence &drill);

} // namespace netmap
