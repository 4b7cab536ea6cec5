// The scene's words: where the data came from, and the legend (the problems, the IPv6 paths and
// leaks, the side paths) that the window and the exports show.
#include "diagramscene.h"
#include "linkstyles.h"

#include "document/networkdocument.h"

#include "model/checkindex.h"
#include "model/qubeverdict.h"

#include "busitem.h"
#include "clusteritem.h"
#include "diagramtheme.h"
#include "groupitem.h"
#include "internetitem.h"
#include "layout/treelayout.h"
#include "legenditem.h"
#include "linkitem.h"
#include "model/topology.h"
#include "model/untrustedtext.h"
#include "qubeitem.h"
#include "sidepathitem.h"

#include <QGraphicsSceneContextMenuEvent>
#include <QGraphicsSceneMouseEvent>
#include <QMenu>
#include <QSet>
#include <QTimer>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace netmap {

using namespace scenestyle;

QString DiagramScene::sourceDescription(const Snapshot &snapshot)
{
    if (snapshot.source == QLatin1String("demo"))
        return QStringLiteral("demo network");
    if (snapshot.source == QLatin1String("qvm-ls")) {
        const QDateTime when = snapshot.generated.toLocalTime();
        return when.isValid()
            ? QStringLiteral("qvm-ls, %1").arg(when.toString(QStringLiteral("HH:mm")))
            : QStringLiteral("qvm-ls");
    }
    if (snapshot.source == QLatin1String("snapshot")) {
        if (snapshot.sourceDetail.isEmpty())
            return QStringLiteral("snapshot file");
        // The detail comes from the file: one line, no control characters (the legend, the
        // title and the SVG show it).
        return QStringLiteral("snapshot file %1")
            .arg(untrustedtext::line(snapshot.sourceDetail, 300));
    }
    if (snapshot.source.isEmpty())
        return QStringLiteral("no data");
    return untrustedtext::line(snapshot.source, 80);
}

void DiagramScene::updateLegend()
{
    if (!m_legend)
        return;
    QStringList details;
    details << QStringLiteral("Source: %1").arg(sourceDescription(m_document->snapshot()));
    if (m_document->snapshot().generated.isValid())
        details << QStringLiteral("Snapshot: %1 UTC")
                       .arg(m_document->snapshot().generated.toUTC().toString(
                           QStringLiteral("yyyy-MM-dd HH:mm")));
    if (m_exportTime.isValid())
        details << QStringLiteral("Exported: %1 UTC")
                       .arg(m_exportTime.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm")));
    int shown = 0;
    for (const Qube &q : m_document->snapshot().qubes)
        if (m_showTemplates || !q.isTemplate())
            ++shown;
    const int hidden = int(m_document->snapshot().qubes.size()) - shown;
    details << (hidden > 0
                    ? QStringLiteral("%1 qubes shown, %2 templates hidden").arg(shown).arg(hidden)
                    : QStringLiteral("%1 qubes").arg(shown));
    // What failed or could not be told, so that an exported picture says it on its own.
    if (m_topology) {
        details << ipv6Lines(m_document->snapshot(), *m_topology, m_colouring);
        details << problemLines(m_document->snapshot(), *m_topology);
    }
    if (m_showSidePaths)
        details << sidePathLegend(m_document->snapshot());
    m_legend->setContents(QStringLiteral("Qubes network map"), details, m_colouring.exits);
    emit legendChanged();
}

QStringList DiagramScene::problemLines(const Snapshot &snapshot, const Topology &topology)
{
    const CheckIndex checks(snapshot);
    QStringList problems;
    for (const Qube &q : snapshot.qubes) {
        const QString name = q.name.toString();
        const QubeVerdict v = qubeVerdict(checks, name, topology.egressChain(name));
        if (v.mark != VerdictMark::Fail && v.mark != VerdictMark::Error)
            continue;
        QStringList which;
        for (std::size_t i = 0; i < v.results.size(); ++i)
            if (!v.stale[i]
                && (v.results[i]->status == CheckStatus::Fail
                    || v.results[i]->status == CheckStatus::Error))
                which << checkKindTitle(v.results[i]->check);
        problems << QStringLiteral("%1 %2: %3")
                        .arg(v.mark == VerdictMark::Fail ? QStringLiteral("Failed")
                                                         : QStringLiteral("Cannot tell"),
                             name, which.join(QStringLiteral(", ")));
    }
    constexpr int kShown = 6;
    QStringList lines = problems.mid(0, kShown);
    if (problems.size() > kShown)
        lines << QStringLiteral("and %1 more (see the report)").arg(problems.size() - kShown);
    return lines;
}

QStringList DiagramScene::ipv6Lines(const Snapshot &snapshot, const Topology &topology,
                                    const Colouring &colouring)
{
    QStringList lines;
    // A path with IPv6: a qube with an IPv6 address that is no network provider, from it up to
    // the uplink. Names are validated qube names; addresses validated IPv6 literals.
    QStringList paths;
    for (const Qube &q : snapshot.qubes)
        if (!q.ip6.isEmpty() && !q.providesNetwork)
            paths << topology.egressChain(q.name.toString()).join(QStringLiteral(" → "));
    constexpr int kShown = 3;
    for (const QString &path : paths.mid(0, kShown))
        lines << QStringLiteral("IPv6 on: %1").arg(path);
    if (paths.size() > kShown)
        lines << QStringLiteral("IPv6 on for %1 more qubes").arg(paths.size() - kShown);
    for (const QString &name : colouring.familyLeaks) {
        const ExitInfo *exit4 = colouring.exitOf(colouring.qubeExitIp.value(name));
        const ExitInfo *exit6 = colouring.exitOf(colouring.qubeExitIp6.value(name));
        if (!exit4 || !exit6)
            continue;
        // Two lines: the legend elides a long one, and both exits must stay readable.
        lines << QStringLiteral("IPv6 leak %1: IPv4 by %2 (%3),").arg(name, exit4->ip, exit4->kind);
        lines << QStringLiteral("    IPv6 by %1 (%2)").arg(exit6->ip, exit6->kind);
    }
    return lines;
}

QList<QubeName> DiagramScene::missingNetvms(const Snapshot &snapshot)
{
    QList<QubeName> missing;
    QSet<QString> seen;
    for (const Qube &q : snapshot.qubes) {
        if (!q.netvm)
            continue;
        const QString netvm = q.netvm->toString();
        if (seen.contains(netvm) || snapshot.find(netvm))
            continue;
        seen.insert(netvm);
        missing << *q.netvm;
    }
    return missing;
}

} // namespace netmap
