// Verdict of the isolation check: every probe of every other qube reported, and none of them
// reached outside the pairs the expectations allow.

#include "verdicts.h"
#include "verdicts_p.h"

#include <QHash>
#include <QSet>

namespace netmap {

Verdict judgeIsolation(const ProbeEvidence &e, const QList<IsolationTarget> &targets,
                       const QList<int> &ports, const QString &qube)
{
    const QString expected = QStringLiteral("no reach beyond the allowed pairs");
    if (targets.isEmpty())
        return errorVerdict(QStringLiteral("cannot check: no other qube to probe"), expected);
    const bool havePing = e.pingTool == QLatin1String("ping");
    const bool haveTcp
        = !e.tcpTool.isEmpty() && e.tcpTool != QLatin1String("none") && !ports.isEmpty();
    if (e.pingTool.isEmpty() || e.tcpTool.isEmpty())
        return errorVerdict(
            QStringLiteral("cannot check: the qube did not report its probing tools"), expected);
    if (!havePing && !haveTcp)
        return errorVerdict(
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
        return errorVerdict(QStringLiteral("cannot check: no report for %1")
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

} // namespace netmap
