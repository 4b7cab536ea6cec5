// The scene following an update of its document without a relayout: boxes redrawn where they
// are, links restyled or re-routed, verdict marks, comparison rings, and the busy spinners of
// qubes being checked.
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

namespace {

// A moved link, boxes left where they are: an S curve when the netvm is to the left of the
// qube, otherwise a bracket on the right of both boxes.
std::vector<QPointF> movedRoute(const QRectF &upper, const QRectF &lower, int *curveSegment)
{
    const QPointF exit(upper.right(), upper.center().y());
    if (lower.left() >= upper.right() + 16) {
        *curveSegment = 0;
        return {exit, QPointF(lower.left(), lower.center().y())};
    }
    *curveSegment = -1;
    const double x = std::max(upper.right(), lower.right()) + 22;
    return {exit, QPointF(x, exit.y()), QPointF(x, lower.center().y()),
            QPointF(lower.right(), lower.center().y())};
}

} // namespace

bool DiagramScene::restyleInPlace(const Snapshot &before)
{
    const Snapshot &snapshot = m_document->snapshot();
    if (!m_clusters.isEmpty())
        return false; // a fold's members and marks are worked out by the layout
    if (snapshot.qubes.size() != before.qubes.size())
        return false;
    QHash<QString, QString> moved; // lower -> new netvm
    for (size_t i = 0; i < snapshot.qubes.size(); ++i) {
        const Qube &a = before.qubes[i];
        const Qube &b = snapshot.qubes[i];
        if (!(a.name == b.name) || a.providesNetwork != b.providesNetwork
            || a.isTemplate() != b.isTemplate())
            return false;
        if (a.netvm == b.netvm)
            continue;
        if (!a.netvm || !b.netvm)
            return false;
        const QString name = b.name.toString();
        const bool shown = m_qubes.contains(name);
        if (shown != m_qubes.contains(b.netvm->toString()) || !snapshot.find(b.netvm->toString()))
            return false;
        if (shown)
            moved.insert(name, b.netvm->toString());
    }

    const QString selected = selectedQube();
    m_rebuilding = true;
    m_topology = std::make_unique<Topology>(snapshot);
    m_colouring = colourPaths(snapshot, *m_topology);

    // Boxes whose qube changed are drawn again where they are; the others are untouched.
    for (size_t i = 0; i < snapshot.qubes.size(); ++i) {
        const Qube &q = snapshot.qubes[i];
        const QString name = q.name.toString();
        QubeItem *old = m_qubes.value(name);
        if (!old || before.qubes[i] == q)
            continue;
        auto *item = new QubeItem(q, m_boxWidths.value(name, old->boundingRect().width()));
        item->setPos(old->pos());
        item->setZValue(old->zValue());
        item->setMatched(old->isMatched());
        item->setOpacity(old->opacity());
        item->setBusy(old->isBusy());
        removeItem(old);
        delete old;
        addItem(item);
        m_qubes.insert(name, item);
    }

    for (LinkItem *&link : m_links) {
        if (!link->toInternet() && moved.contains(link->lower())) {
            const QString netvm = moved.value(link->lower());
            QubeItem *upper = m_qubes.value(netvm);
            QubeItem *lower = m_qubes.value(link->lower());
            auto *item = new LinkItem(link->lower(), netvm, false);
            int curve = 0;
            const auto route = movedRoute(
                upper->mapRectToScene(upper->boundingRect()).adjusted(6, 6, -6, -6),
                lower->mapRectToScene(lower->boundingRect()).adjusted(6, 6, -6, -6), &curve);
            item->setRoute(route, curve, 0);
            for (auto it = m_busMembers.begin(); it != m_busMembers.end(); ++it)
                it->removeAll(link->lower());
            removeItem(link);
            delete link;
            addItem(item);
            link = item;
        }
        link->setLinkStyle(styleOf(m_colouring, link->lower(), link->toInternet()));
    }
    for (InternetItem *item : std::as_const(m_internets)) {
        const QString ip = m_colouring.qubeExitIp.value(item->rootProvider());
        item->setExit(ip, ip.isEmpty() ? QColor() : exitColourOf(m_colouring, ip));
    }
    for (BusItem *bus : std::as_const(m_buses)) {
        const QStringList members = m_busMembers.value(bus->netvm());
        bool first = true, uniform = true, dashed = false;
        QColor colour;
        for (const QString &lower : members) {
            const LinkStyle style = styleOf(m_colouring, lower, false);
            const bool plain = !style.failed && !style.stale;
            if (first) {
                colour = style.colour;
                dashed = !style.verified;
                uniform = plain;
                first = false;
            } else if (!plain || style.colour != colour || dashed == style.verified) {
                uniform = false;
            }
        }
        if (!first && uniform)
            bus->setColour(colour, dashed);
        else
            bus->setColour(DiagramTheme::mixedBus(), false);
    }
    updateLegend();
    applyVerdicts();
    applyComparison();
    placeSidePaths(); // the boxes stayed; what they say may have changed

    m_rebuilding = false;
    m_highlighted.clear();
    if (!m_findText.isEmpty())
        find(m_findText);
    if (QubeItem *item = qubeItem(selected)) {
        QSignalBlocker blocker(this);
        item->setSelected(true);
        blocker.unblock();
        onSelectionChanged();
    } else {
        highlightEgress(QString());
    }
    emit snapshotChanged();
    return true;
}

void DiagramScene::applyVerdicts()
{
    const CheckIndex checks(m_document->snapshot());
    for (auto it = m_qubes.cbegin(); it != m_qubes.cend(); ++it) {
        const QubeVerdict verdict
            = qubeVerdict(checks, it.key(), m_topology->egressChain(it.key()));
        it.value()->setVerdict(verdict.mark, verdictLines(verdict));
    }
}

void DiagramScene::setComparison(const QHash<QString, QStringList> &changes)
{
    m_comparison = changes;
    applyComparison();
}

void DiagramScene::applyComparison()
{
    for (auto it = m_qubes.cbegin(); it != m_qubes.cend(); ++it)
        it.value()->setChanges(m_comparison.value(it.key()));
    for (ClusterItem *fold : std::as_const(m_clusters)) {
        bool changed = false;
        for (const QString &member : fold->members())
            changed = changed || m_comparison.contains(member);
        fold->setChanged(changed);
    }
}

// ---- busy markers

void DiagramScene::setQubeBusy(const QString &name, bool busy)
{
    if (busy)
        m_busy.insert(name);
    else
        m_busy.remove(name);
    if (QubeItem *item = qubeItem(name))
        item->setBusy(busy);
    if (m_busy.isEmpty())
        m_busyTimer->stop();
    else if (!m_busyTimer->isActive())
        m_busyTimer->start();
}

void DiagramScene::clearBusy()
{
    const QSet<QString> busy = std::exchange(m_busy, {});
    for (const QString &name : busy)
        if (QubeItem *item = qubeItem(name))
            item->setBusy(false);
    m_busyTimer->stop();
}

QStringList DiagramScene::busyQubes() const
{
    QStringList names(m_busy.cbegin(), m_busy.cend());
    names.sort();
    return names;
}

} // namespace netmap
