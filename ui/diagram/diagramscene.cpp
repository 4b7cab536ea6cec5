#include "diagramscene.h"

#include "busitem.h"
#include "diagramtheme.h"
#include "groupitem.h"
#include "internetitem.h"
#include "layout/treelayout.h"
#include "legenditem.h"
#include "linkitem.h"
#include "model/topology.h"
#include "model/untrustedtext.h"
#include "qubeitem.h"

#include <QGraphicsSceneContextMenuEvent>
#include <QGraphicsSceneMouseEvent>
#include <QMenu>
#include <QTimer>

#include <algorithm>
#include <map>
#include <set>

namespace netmap {

namespace {

constexpr double kMargin = 28;
constexpr double kLegendGap = 44;

QString exitKindOf(const Colouring &colouring, const QString &ip)
{
    for (const ExitInfo &exit : colouring.exits)
        if (exit.ip == ip)
            return exit.kind;
    return QString();
}

QColor exitColourOf(const Colouring &colouring, const QString &ip)
{
    for (const ExitInfo &exit : colouring.exits)
        if (exit.ip == ip)
            return QColor(exit.colour);
    return QColor(Colouring::unverifiedColour());
}

} // namespace

DiagramScene::DiagramScene(QObject *parent)
    : QGraphicsScene(parent)
    , m_topology(std::make_unique<Topology>(m_snapshot))
{
    setBackgroundBrush(DiagramTheme::paper());
    // Nothing moves once laid out: a static BSP index answers hit tests in log time. Its
    // automatic depth (log2 of the item count) files every long link into thousands of leaves
    // on a big diagram: 10,000 qubes took 4 s and 600 MB to index. 1,024 leaves are plenty.
    setItemIndexMethod(BspTreeIndex);
    setBspTreeDepth(10);
    connect(this, &QGraphicsScene::selectionChanged, this, &DiagramScene::onSelectionChanged);
    m_busyTimer = new QTimer(this);
    m_busyTimer->setInterval(90);
    connect(m_busyTimer, &QTimer::timeout, this, [this] {
        for (const QString &name : std::as_const(m_busy))
            if (QubeItem *item = qubeItem(name))
                item->advanceBusy();
    });
    rebuild();
}

DiagramScene::~DiagramScene()
{
    // Items die before QGraphicsScene does: their deselection must not reach our slots.
    m_rebuilding = true;
    blockSignals(true);
    clear();
}

void DiagramScene::setSnapshot(const Snapshot &snapshot)
{
    m_snapshot = snapshot;
    rebuild();
    emit snapshotChanged();
}

void DiagramScene::setShowTemplates(bool show)
{
    if (m_showTemplates == show)
        return;
    m_showTemplates = show;
    rebuild();
}

void DiagramScene::setExportTime(const QDateTime &time)
{
    m_exportTime = time;
    updateLegend();
}

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

void DiagramScene::rebuild()
{
    const QString selected = selectedQube();
    m_rebuilding = true;
    clear();
    m_qubes.clear();
    m_links.clear();
    m_internets.clear();
    m_buses.clear();
    m_groups.clear();
    m_legend = nullptr;
    m_boxWidths.clear();
    m_busMembers.clear();

    m_topology = std::make_unique<Topology>(m_snapshot);
    m_colouring = colourPaths(m_snapshot, *m_topology);

    // Each box asks for its text's width; the layout widens it to its column's.
    std::vector<QSizeF> sizes;
    sizes.reserve(m_snapshot.qubes.size());
    for (const Qube &q : m_snapshot.qubes)
        sizes.emplace_back(QubeItem::preferredWidth(q), DiagramTheme::kBoxHeight);

    TreeLayoutOptions options;
    options.showTemplates = m_showTemplates;
    options.stretchToColumn = true;
    options.levelGap = 60;
    options.internetSize = QSizeF(128, 66);
    const NetworkLayout layout = TreeLayout(options).layout(m_snapshot, *m_topology, sizes);

    std::vector<QString> boxName(layout.boxes.size());
    for (size_t b = 0; b < layout.boxes.size(); ++b) {
        const LayoutBox &box = layout.boxes[b];
        const Qube &qube = m_snapshot.qubes[size_t(box.qube)];
        boxName[b] = qube.name.toString();
        if (box.kind == LayoutBox::Kind::Internet) {
            auto *item = new InternetItem(boxName[b], box.rect.size());
            item->setPos(box.rect.topLeft());
            const QString ip = m_colouring.qubeExitIp.value(boxName[b]);
            if (!ip.isEmpty())
                item->setExit(ip, exitColourOf(m_colouring, ip));
            addItem(item);
            m_internets << item;
        } else {
            auto *item = new QubeItem(qube, box.rect.width());
            m_boxWidths.insert(boxName[b], box.rect.width());
            item->setPos(box.rect.topLeft());
            item->setZValue(2);
            item->setBusy(m_busy.contains(boxName[b]));
            addItem(item);
            m_qubes.insert(boxName[b], item);
        }
    }

    // Shared bus lines, merged: from each start point and direction keep the longest piece.
    struct BusState
    {
        std::map<std::tuple<qint64, qint64, int, int>, std::pair<QPointF, QPointF>> lines;
        QPainterPath curves;
        std::set<std::pair<qint64, qint64>> curveEnds;
        QColor colour;
        bool dashed = false;
        bool uniform = true;
        bool first = true;
    };
    std::map<int, BusState> buses; // by upper box

    for (const LayoutLink &l : layout.links) {
        const bool toInternet = layout.boxes[size_t(l.upper)].kind == LayoutBox::Kind::Internet;
        const QString &lower = boxName[size_t(l.lower)];
        auto *item = new LinkItem(lower, boxName[size_t(l.upper)], toInternet);
        item->setRoute(l.route, l.curveSegment, l.sharedSegments);
        LinkStyle style;
        if (toInternet) {
            style.externalIp = m_colouring.qubeExitIp.value(lower);
            style.verified = !style.externalIp.isEmpty();
        } else {
            const LinkColour c = m_colouring.links.value(lower);
            style.externalIp = c.externalIp;
            style.verified = c.verified;
            style.failed = c.failed;
            style.stale = c.stale;
        }
        style.colour = style.verified ? exitColourOf(m_colouring, style.externalIp)
                                      : QColor(Colouring::unverifiedColour());
        if (style.failed)
            style.colour = QColor(Colouring::failedColour());
        style.exitKind = exitKindOf(m_colouring, style.externalIp);
        item->setLinkStyle(style);
        addItem(item);
        m_links << item;

        if (l.sharedSegments <= 0)
            continue;
        BusState &bus = buses[l.upper];
        m_busMembers[boxName[size_t(l.upper)]] << lower;
        const bool plain = !style.failed && !style.stale;
        if (bus.first) {
            bus.colour = style.colour;
            bus.dashed = !style.verified;
            bus.uniform = plain;
            bus.first = false;
        } else if (!plain || style.colour != bus.colour || bus.dashed == style.verified) {
            bus.uniform = false;
        }
        for (int s = 0; s < l.sharedSegments; ++s) {
            const QPointF a = l.route[size_t(s)];
            const QPointF b = l.route[size_t(s) + 1];
            if (s == l.curveSegment) {
                const auto key = std::make_pair(qRound64(b.x() * 8), qRound64(b.y() * 8));
                if (bus.curveEnds.insert(key).second)
                    bus.curves.addPath(LinkItem::buildPath(l.route, l.curveSegment, s, s + 1));
                continue;
            }
            const auto key = std::make_tuple(qRound64(a.x() * 8), qRound64(a.y() * 8),
                                             b.x() > a.x() ? 1 : (b.x() < a.x() ? -1 : 0),
                                             b.y() > a.y() ? 1 : (b.y() < a.y() ? -1 : 0));
            auto it = bus.lines.find(key);
            if (it == bus.lines.end()
                || QLineF(a, b).length() > QLineF(it->second.first, it->second.second).length())
                bus.lines[key] = {a, b};
        }
    }
    for (auto &[upper, bus] : buses) {
        QPainterPath path = bus.curves;
        for (const auto &entry : bus.lines) {
            path.moveTo(entry.second.first);
            path.lineTo(entry.second.second);
        }
        auto *item = new BusItem(boxName[size_t(upper)]);
        item->setPath(path);
        if (bus.uniform)
            item->setColour(bus.colour, bus.dashed);
        addItem(item);
        m_buses << item;
    }

    QRectF groupsRect;
    for (const LayoutGroup &g : layout.groups) {
        const QString caption = g.kind == LayoutGroup::Kind::NoNetwork
            ? QStringLiteral("No network")
            : QStringLiteral("Templates");
        auto *item = new GroupItem(caption, g.rect, g.caption);
        addItem(item);
        m_groups << item;
        groupsRect = groupsRect.isNull() ? g.rect : groupsRect.united(g.rect);
    }

    m_legend = new LegendItem;
    addItem(m_legend);
    updateLegend();
    // The legend goes under the forest, beside the groups when there is room for it there.
    const QSizeF legendSize = m_legend->boundingRect().size();
    QPointF legendPos(0, layout.bounds.bottom() + kLegendGap);
    if (!groupsRect.isNull()) {
        const double besideX = groupsRect.right() + kLegendGap;
        // A little wider than the forest is better than a lot taller.
        if (besideX + legendSize.width() <= std::max(layout.bounds.right() + 240, 900.0))
            legendPos = QPointF(besideX, groupsRect.top());
    } else if (layout.boxes.empty()) {
        legendPos = QPointF(0, 0);
    }
    m_legend->setPos(legendPos);

    m_diagramRect = itemsBoundingRect().adjusted(-kMargin, -kMargin, kMargin, kMargin);
    setSceneRect(m_diagramRect);

    m_rebuilding = false;
    m_highlighted.clear();
    if (!m_findText.isEmpty())
        find(m_findText);
    if (QubeItem *item = qubeItem(selected))
        item->setSelected(true); // highlights again through onSelectionChanged
    else if (!selected.isEmpty())
        emit qubeSelected(QString());
}

namespace {

// The style of a link as rebuild() gives it.
LinkStyle styleOf(const Colouring &colouring, const QString &lower, bool toInternet)
{
    LinkStyle style;
    if (toInternet) {
        style.externalIp = colouring.qubeExitIp.value(lower);
        style.verified = !style.externalIp.isEmpty();
    } else {
        const LinkColour c = colouring.links.value(lower);
        style.externalIp = c.externalIp;
        style.verified = c.verified;
        style.failed = c.failed;
        style.stale = c.stale;
    }
    style.colour = style.verified ? exitColourOf(colouring, style.externalIp)
                                  : QColor(Colouring::unverifiedColour());
    if (style.failed)
        style.colour = QColor(Colouring::failedColour());
    style.exitKind = exitKindOf(colouring, style.externalIp);
    return style;
}

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

bool DiagramScene::updateInPlace(const Snapshot &snapshot)
{
    if (snapshot.qubes.size() != m_snapshot.qubes.size())
        return false;
    QHash<QString, QString> moved; // lower -> new netvm
    for (size_t i = 0; i < snapshot.qubes.size(); ++i) {
        const Qube &a = m_snapshot.qubes[i];
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
    const Snapshot before = std::exchange(m_snapshot, snapshot);
    m_rebuilding = true;
    m_topology = std::make_unique<Topology>(m_snapshot);
    m_colouring = colourPaths(m_snapshot, *m_topology);

    // Boxes whose qube changed are drawn again where they are; the others are untouched.
    for (size_t i = 0; i < m_snapshot.qubes.size(); ++i) {
        const Qube &q = m_snapshot.qubes[i];
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

void DiagramScene::updateLegend()
{
    if (!m_legend)
        return;
    QStringList details;
    details << QStringLiteral("Source: %1").arg(sourceDescription(m_snapshot));
    if (m_snapshot.generated.isValid())
        details << QStringLiteral("Snapshot: %1 UTC")
                       .arg(m_snapshot.generated.toUTC().toString(
                           QStringLiteral("yyyy-MM-dd HH:mm")));
    if (m_exportTime.isValid())
        details << QStringLiteral("Exported: %1 UTC")
                       .arg(m_exportTime.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm")));
    int shown = 0;
    for (const Qube &q : m_snapshot.qubes)
        if (m_showTemplates || !q.isTemplate())
            ++shown;
    const int hidden = int(m_snapshot.qubes.size()) - shown;
    details << (hidden > 0
                    ? QStringLiteral("%1 qubes shown, %2 templates hidden").arg(shown).arg(hidden)
                    : QStringLiteral("%1 qubes").arg(shown));
    m_legend->setContents(QStringLiteral("Qubes network map"), details, m_colouring.exits);
}

QubeItem *DiagramScene::qubeItem(const QString &name) const
{
    return m_qubes.value(name, nullptr);
}

QList<QubeItem *> DiagramScene::qubeItems() const
{
    QList<QubeItem *> items = m_qubes.values();
    std::sort(items.begin(), items.end(),
              [](const QubeItem *a, const QubeItem *b) { return a->name() < b->name(); });
    return items;
}

QList<LinkItem *> DiagramScene::linkItems() const
{
    return m_links;
}

QList<InternetItem *> DiagramScene::internetItems() const
{
    return m_internets;
}

QList<GroupItem *> DiagramScene::groupItems() const
{
    return m_groups;
}

QRectF DiagramScene::diagramRect() const
{
    return m_diagramRect;
}

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
}

QStringList DiagramScene::find(const QString &text)
{
    m_findText = text.trimmed();
    m_matches.clear();
    for (QubeItem *item : qubeItems()) {
        const bool match = !m_findText.isEmpty()
            && (item->name().contains(m_findText, Qt::CaseInsensitive)
                || item->ip().contains(m_findText, Qt::CaseInsensitive));
        item->setMatched(match);
        if (match)
            m_matches << item->name();
    }
    return m_matches;
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

void DiagramScene::mouseDoubleClickEvent(QGraphicsSceneMouseEvent *event)
{
    if (QubeItem *item = qubeAt(event->scenePos())) {
        emit qubeActivated(item->name());
        event->accept();
        return;
    }
    QGraphicsScene::mouseDoubleClickEvent(event);
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
