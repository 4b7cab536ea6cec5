#pragma once
// QubeVerdict: one qube's check results summed up for the map, the inspector and the write-up:
// the worst current result wins (fail, then cannot tell, then stale, then pass).

#include "checkresult.h"

#include <QDateTime>
#include <QStringList>

#include <vector>

namespace netmap {

class CheckIndex;

enum class VerdictMark { None, Pass, Fail, Error, Stale };

struct QubeVerdict
{
    VerdictMark mark = VerdictMark::None;
    // The newest result of each check that ran (skipped ones left out), in check order.
    std::vector<const CheckResult *> results;
    std::vector<bool> stale; // per result: recorded on another path than the qube's current one
    QDateTime newest; // when the newest of them finished
    // A current external-ip, vpn, tor or dns-leak failure: traffic leaves where it should not.
    bool leak = false;
    bool killSwitchFailed = false;
};

// chain: the qube's current egress chain (Topology::egressChain).
QubeVerdict qubeVerdict(const CheckIndex &checks, const QString &qube, const QStringList &chain);

QString verdictMarkId(VerdictMark mark); // "", "pass", "fail", "error", "stale"
// Plain words: "pass", "fail", "cannot tell (error)", "stale (the path changed since)".
QString verdictMarkWords(VerdictMark mark);
// "External IP", "VPN leak", ...
QString checkKindTitle(CheckKind kind);
// One line per result: "VPN leak: fail at 2026-11-28 14:03 UTC: leaves by 203.0.113.7".
QStringList verdictLines(const QubeVerdict &verdict);
// True when a failure of this check means traffic leaves by the wrong exit (coloured as a leak).
bool isLeakCheck(CheckKind kind);

} // namespace netmap
