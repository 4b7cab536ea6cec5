#include "sidepaths.h"

#include "untrustedtext.h"

namespace netmap {

std::vector<SidePath> sidePaths(const Snapshot &snapshot)
{
    std::vector<SidePath> paths;
    for (const UpdatesRoute &u : snapshot.updates) {
        if (u.kind != UpdatesRoute::Kind::Proxy || !u.via)
            continue;
        paths.push_back(
            {SidePath::Kind::Updates, u.templ.toString(), u.via->toString(),
             QStringLiteral("%1 updates through %2 (qubes.UpdatesProxy, %3)")
                 .arg(u.templ.toString(), u.via->toString(), untrustedtext::line(u.rule, 200))});
    }
    for (const Qube &q : snapshot.qubes) {
        if (q.isAdmin() || q.isTemplate() || q.providesNetwork)
            continue;
        const QString name = q.name.toString();
        QString dispvm;
        const auto exit = snapshot.disposablesNetvm(name, &dispvm);
        if (!exit || exit->isNull() || dispvm == name || (q.netvm && *exit == *q.netvm))
            continue;
        paths.push_back({SidePath::Kind::Disposables, name, exit->toString(),
                         QStringLiteral("Disposables opened from %1 (%2) leave by %3")
                             .arg(name, dispvm, exit->toString())});
    }
    return paths;
}

QStringList sidePathLines(const Snapshot &snapshot, const QString &qube)
{
    QStringList lines;
    const Qube *q = snapshot.find(qube);
    if (!q)
        return lines;
    if (q->isTemplate()) {
        if (const UpdatesRoute *stored = snapshot.updatesRoute(qube)) {
            // The rule and reason may come from a snapshot file: one plain line each.
            UpdatesRoute copy = *stored;
            copy.rule = untrustedtext::line(copy.rule, 200);
            copy.reason = untrustedtext::line(copy.reason, 400);
            const UpdatesRoute *u = &copy;
            switch (u->kind) {
            case UpdatesRoute::Kind::Proxy:
                lines
                    << QStringLiteral("Updates: through %1 (%2)").arg(u->via->toString(), u->rule);
                if (!u->reason.isEmpty())
                    lines.last() += QStringLiteral("; ") + u->reason;
                break;
            case UpdatesRoute::Kind::Denied:
                lines << QStringLiteral("Updates: refused by the policy (%1)").arg(u->reason);
                break;
            case UpdatesRoute::Kind::Ask:
                lines << (u->via ? QStringLiteral("Updates: dom0 asks, suggesting %1 (%2)")
                                       .arg(u->via->toString(), u->rule)
                                 : QStringLiteral("Updates: dom0 asks (%1)").arg(u->rule));
                break;
            case UpdatesRoute::Kind::Unknown:
                lines << QStringLiteral("Updates: cannot tell (%1)").arg(u->reason);
                break;
            }
        } else {
            lines << QStringLiteral("Updates: not read (the source has no qrexec policy)");
        }
    }
    QStringList carried;
    for (const UpdatesRoute &u : snapshot.updates)
        if (u.kind == UpdatesRoute::Kind::Proxy && u.via && u.via->toString() == qube)
            carried << u.templ.toString();
    if (!carried.isEmpty())
        lines
            << QStringLiteral("Carries the updates of: %1").arg(carried.join(QStringLiteral(", ")));
    if (!q->isTemplate() && !q->isAdmin() && !q->providesNetwork) {
        QString dispvm;
        const auto exit = snapshot.disposablesNetvm(qube, &dispvm);
        if (dispvm.isEmpty())
            lines << QStringLiteral("Disposables: none (no default_dispvm)");
        else if (!exit)
            lines << QStringLiteral("Disposables: from %1, which is not on the map").arg(dispvm);
        else if (exit->isNull())
            lines << QStringLiteral("Disposables: from %1, without network").arg(dispvm);
        else
            lines << QStringLiteral("Disposables: from %1, leave by %2%3")
                         .arg(dispvm, exit->toString(),
                              q->netvm && *exit == *q->netvm
                                  ? QStringLiteral(" (its own netvm)")
                                  : QStringLiteral(" (not its own netvm)"));
    }
    return lines;
}

QStringList sidePathLegend(const Snapshot &snapshot)
{
    int updates = 0, disposables = 0;
    for (const SidePath &p : sidePaths(snapshot))
        ++(p.kind == SidePath::Kind::Updates ? updates : disposables);
    return {QStringLiteral("Dash-dot teal: templates' updates (qubes.UpdatesProxy), %1 shown")
                .arg(updates),
            QStringLiteral("Dotted violet: disposables leaving by another netvm, %1 shown")
                .arg(disposables)};
}

} // namespace netmap
