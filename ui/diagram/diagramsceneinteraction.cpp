// What the user does on the map: the egress highlight, find, moving from box to box with the
// keyboard, the selection, the context menu and the mouse.
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

QStringList DiagramScene::egressChain(const QString &qube) const
{
    if (m_topology->indexOf(qube) < 0)
        return {};
    return m_topology->egressChain(qube);
}

void DiagramScene::highlightEgress(const QString &qube)
{
    const QStringList chain = egressChain(qube);
    m_highlighted = chain.isEmpty() ? QString() : qube;
    const bool active = !m_highlighted.isEmpty();
    const auto onPath = [&](const QString &name) { return !active || chain.contains(name); };
    for (QubeItem *item : std::as_const(m_qubes))
        item->setOpacity(onPath(item->name()) ? 1.0 : DiagramTheme::kDimmedOpacity);
    for (LinkItem *link : std::as_const(m_links)) {
        const bool on = active && chain.contains(link->lower());
        link->setHighlighted(on);
        link->setOpacity(!active || on ? 1.0 : DiagramTheme::kDimmedOpacity);
    }
    for (InternetItem *item : std::as_const(m_internets))
        item->setOpacity(
            !active || chain.last() == item->rootProvider() ? 1.0 : DiagramTheme::kDimmedOpacity);
    for (BusItem *bus : std::as_const(m_buses))
        bus->setOpacity(active ? DiagramTheme::kDimmedOpacity : 1.0);
    for (GroupItem *group : std::as_const(m_groups))
        group->setOpacity(active ? 0.5 : 1.0);
    for (ClusterItem *fold : std::as_const(m_clusters))
        fold->setOpacity(active ? DiagramTheme::kDimmedOpacity : 1.0);
}

QStringList DiagramScene::find(const QString &text)
{
    m_findText = text.trimmed();
    m_matches.clear();
    const auto same = [this](const QString &value) {
        return !value.isEmpty() && value.compare(m_findText, Qt::CaseInsensitive) == 0;
    };
    // Part of a name, an IP or an exit IP; a whole label, tag or class. Folded qubes too: their
    // fold is marked, and going to them unfolds it.
    const auto matches = [&](const QString &name) {
        if (m_findText.isEmpty())
            return false;
        const Qube *q = m_document->snapshot().find(name);
        bool match = name.contains(m_findText, Qt::CaseInsensitive)
            || (q && q->ip.contains(m_findText, Qt::CaseInsensitive))
            || m_colouring.qubeExitIp.value(name).contains(m_findText);
        if (!match && q) {
            match = same(q->label) || same(q->klass);
            for (const QString &tag : q->tags)
                match = match || same(tag);
        }
        return match;
    };
    for (QubeItem *item : qubeItems()) {
        const bool match = matches(item->name());
        item->setMatched(match);
        if (match)
            m_matches << item->name();
    }
    for (ClusterItem *fold : std::as_const(m_clusters)) {
        bool any = false;
        for (const QString &member : fold->members())
            if (matches(member)) {
                m_matches << member;
                any = true;
            }
        fold->setMatched(any);
    }
    m_matches.sort();
    return m_matches;
}

QString DiagramScene::neighbour(const QString &from, Qt::Key key) const
{
    const QubeItem *current = qubeItem(from);
    if (!current) {
        // The first qube: the uplink of the topmost tree, else the top-left box.
        const QubeItem *first = nullptr;
        bool firstIsUplink = false;
        for (QubeItem *item : qubeItems()) {
            const Qube *q = m_document->snapshot().find(item->name());
            const bool uplink = q && q->providesNetwork && !q->netvm;
            const bool better = !first || (uplink && !firstIsUplink)
                || (uplink == firstIsUplink
                    && (item->pos().y() < first->pos().y() - 1
                        || (std::abs(item->pos().y() - first->pos().y()) <= 1
                            && item->pos().x() < first->pos().x())));
            if (better) {
                first = item;
                firstIsUplink = uplink;
            }
        }
        return first ? first->name() : QString();
    }
    const Qube *q = m_document->snapshot().find(from);
    if (key == Qt::Key_Left && q && q->netvm && qubeItem(q->netvm->toString()))
        return q->netvm->toString();
    if (key == Qt::Key_Right && m_topology) {
        const int index = m_topology->indexOf(from);
        QString best;
        double bestY = 0;
        for (int child : index >= 0 ? m_topology->childrenOf(index) : std::vector<int>()) {
            const QubeItem *item = qubeItem(m_topology->nameAt(child));
            if (item && (best.isEmpty() || item->pos().y() < bestY)) {
                best = item->name();
                bestY = item->pos().y();
            }
        }
        if (!best.isEmpty())
            return best;
    }
    // The nearest box in that direction, favouring the same row or column; up and down stay
    // among the qube's siblings (the clients of its netvm) while there are any that way.
    const QPointF c = current->sceneBoundingRect().center();
    QString best;
    double bestScore = 0;
    const auto sibling = [&](const QubeItem *item) {
        const Qube *other = m_document->snapshot().find(item->name());
        return q && other && other->netvm == q->netvm;
    };
    bool siblingsOnly = false;
    if (key == Qt::Key_Up || key == Qt::Key_Down) {
        for (QubeItem *item : qubeItems()) {
            const double dy = item->sceneBoundingRect().center().y() - c.y();
            if (item != current && sibling(item) && (key == Qt::Key_Up ? -dy : dy) > 1)
                siblingsOnly = true;
        }
    }
    for (QubeItem *item : qubeItems()) {
        if (item == current || (siblingsOnly && !sibling(item)))
            continue;
        const QPointF d = item->sceneBoundingRect().center() - c;
        double along = 0, across = 0;
        switch (key) {
        case Qt::Key_Left:
            along = -d.x(), across = d.y();
            break;
        case Qt::Key_Right:
            along = d.x(), across = d.y();
            break;
        case Qt::Key_Up:
            along = -d.y(), across = d.x();
            break;
        default:
            along = d.y(), across = d.x();
            break;
        }
        if (along <= 1)
            continue;
        const double score = along + 3 * std::abs(across);
        if (best.isEmpty() || score < bestScore) {
            best = item->name();
            bestScore = score;
        }
    }
    return best;
}

QString DiagramScene::selectedQube() const
{
    for (QGraphicsItem *item : selectedItems())
        if (auto *qube = qgraphicsitem_cast<QubeItem *>(item))
            return qube->name();
    return QString();
}

void DiagramScene::selectQube(const QString &name)
{
    if (!qubeItem(name) && m_foldOf.contains(name))
        showClients(m_foldOf.value(name));
    QubeItem *item = qubeItem(name);
    if (item && item->isSelected() && selectedItems().size() == 1)
        return;
    QSignalBlocker blocker(this);
    clearSelection();
    if (item)
        item->setSelected(true);
    blocker.unblock();
    onSelectionChanged();
}

void DiagramScene::onSelectionChanged()
{
    if (m_rebuilding)
        return;
    const QString selected = selectedQube();
    if (selected != m_highlighted)
        highlightEgress(selected);
    emit qubeSelected(selected);
}

QMenu *DiagramScene::createContextMenu(const QString &qube, QWidget *parent)
{
    auto *menu = new QMenu(parent);
    menu->setObjectName(QStringLiteral("qubeContextMenu"));
    menu->setTitle(qube);
    emit contextMenuRequested(qube, menu);
    return menu;
}

QubeItem *DiagramScene::qubeAt(const QPointF &scenePos) const
{
    for (QGraphicsItem *item : items(scenePos))
        if (auto *qube = qgraphicsitem_cast<QubeItem *>(item))
            return qube;
    return nullptr;
}

void DiagramScene::contextMenuEvent(QGraphicsSceneContextMenuEvent *event)
{
    QubeItem *item = qubeAt(event->scenePos());
    if (!item) {
        QGraphicsScene::contextMenuEvent(event);
        return;
    }
    selectQube(item->name());
    QMenu *menu = createContextMenu(item->name(), event->widget());
    if (!menu->isEmpty())
        menu->exec(event->screenPos());
    delete menu;
    event->accept();
}

void DiagramScene::mousePressEvent(QGraphicsSceneMouseEvent *event)
{
    if (event->button() == Qt::LeftButton) {
        for (QGraphicsItem *item : items(event->scenePos()))
            if (auto *fold = qgraphicsitem_cast<ClusterItem *>(item)) {
                event->accept();
                showClients(fold->netvm()); // deletes the fold
                return;
            }
    }
    QGraphicsScene::mousePressEvent(event);
}

void DiagramScene::mouseDoubleClickEvent(QGraphicsSceneMouseEvent *event)
{
    if (QubeItem *item = qubeAt(event->scenePos())) {
        emit qubeActivated(item->name());
        event->accept();
        return;
    }
    QGraphicsScene::mouseDoubleClickEvent(event);
}

} // namespace netmap
