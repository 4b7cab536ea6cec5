#include "diagramscene.h"

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
// A netvm's plain clients: no clients of their own, no network to give, not templates.
QStringList plainClients(const Snapshot &snapshot, const Topology &topology, const QString &netvm)
{
    QStringList names;
    for (const Qube &q : snapshot.qubes) {
        if (!q.netvm || q.netvm->toString() != netvm || q.providesNetwork || q.isTemplate())
            continue;
        const QString name = q.name.toString();
        const int index = topology.indexOf(name);
        if (index >= 0 && !topology.childrenOf(index).empty())
            continue;
        names << name;
    }
    names.sort();
    return names;
}

int markWeight(VerdictMark mark)
{
    switch (mark) {
    case VerdictMark::Fail:
        return 4;
    case VerdictMark::Error:
        return 3;
    case VerdictMark::Stale:
        return 2;
    case VerdictMark::Pass:
        return 1;
    case VerdictMark::None:
        break;
    }
    return 0;
}

} // namespace

DiagramScene::DiagramScene(QObject *parent)
    : QGraphicsScene(parent)
    , m_topology(std::make_unique<Topology>(m_snapshot))
{
    setBackgroundBrush(DiagramTheme::colours(palette()).paper); // the system's dark palette too
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

void DiagramScene::setShowSidePaths(bool show)
{
    if (m_showSidePaths == show)
        return;
    m_showSidePaths = show;
    rebuild();
}

void DiagramScene::placeSidePaths()
{
    for (SidePathItem *item : std::as_const(m_sidePaths)) {
        removeItem(item);
        delete item;
    }
    m_sidePaths.clear();
    if (!m_showSidePaths)
        return;
    // The box a qube is drawn in: its own, or the fold that holds it; none when hidden.
    const auto boxOf = [this](const QString &name) -> QRectF {
        if (const QubeItem *item = m_qubes.value(name))
            return QRectF(item->pos(),
                          QSizeF(m_boxWidths.value(name, DiagramTheme::kMinBoxWidth),
                                 DiagramTheme::kBoxHeight));
        if (const ClusterItem *fold = m_clusters.value(m_foldOf.value(name)))
            return fold->sceneBoundingRect();
        return {};
    };
    for (const SidePath &path : sidePaths(m_snapshot)) {
        const QRectF from = boxOf(path.from), to = boxOf(path.to);
        if (from.isNull() || to.isNull() || from == to)
            continue;
        auto *item = new SidePathItem(path, from, to);
        addItem(item);
        m_sidePaths << item;
    }
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
    m_sidePaths.clear();
    m_boxWidths.clear();
    m_busMembers.clear();

    m_topology = std::make_unique<Topology>(m_snapshot);
    m_colouring = colourPaths(m_snapshot, *m_topology);

    // What is drawn may differ from the snapshot (which stays as read): a netvm that does not
    // exist is drawn as missing (a ghost box with its name and its clients under it, not under
    // "No network"), and folded clients become one box.
    Snapshot drawn = m_snapshot;
    QSet<QString> ghosts;
    for (const QubeName &name : missingNetvms(m_snapshot)) {
        ghosts.insert(name.toString());
        Qube ghost;
        ghost.name = name;
        ghost.klass = QStringLiteral("AppVM");
        ghost.state = QStringLiteral("Missing");
        drawn.qubes.push_back(ghost);
    }
    m_clusters.clear();
    m_foldOf.clear();
    QHash<QString, QString> foldBox; // the fold's box name -> its netvm
    QHash<QString, QStringList> foldMembers; // by netvm
    if (!m_folded.isEmpty()) {
        const Topology withGhosts(drawn);
        QStringList netvms(m_folded.cbegin(), m_folded.cend());
        netvms.sort();
        for (const QString &netvm : std::as_const(netvms)) {
            const QStringList members = plainClients(drawn, withGhosts, netvm);
            if (members.size() < 2)
                continue;
            foldMembers.insert(netvm, members);
            for (const QString &member : members)
                m_foldOf.insert(member, netvm);
        }
        std::erase_if(drawn.qubes,
                      [this](const Qube &q) { return m_foldOf.contains(q.name.toString()); });
        // Each fold is laid out as one more client of its netvm, under a name no qube has.
        int serial = 0;
        for (const QString &netvm : std::as_const(netvms)) {
            if (!foldMembers.contains(netvm))
                continue;
            std::optional<QubeName> name;
            do
                name = QubeName::fromUntrusted(QStringLiteral("fold-%1").arg(++serial));
            while (name && drawn.find(name->toString()));
            if (!name)
                continue;
            Qube fold;
            fold.name = *name;
            fold.klass = QStringLiteral("AppVM");
            fold.state = QStringLiteral("Running");
            fold.netvm = QubeName::fromUntrusted(netvm);
            drawn.qubes.push_back(fold);
            foldBox.insert(name->toString(), netvm);
        }
    }
    const bool redrawn = !ghosts.isEmpty() || !foldBox.isEmpty();
    const Snapshot &laidOut = redrawn ? drawn : m_snapshot;
    std::unique_ptr<Topology> drawnTopology;
    if (redrawn)
        drawnTopology = std::make_unique<Topology>(drawn);
    const CheckIndex checks(m_snapshot);

    // Each box asks for its text's width; the layout widens it to its column's.
    std::vector<QSizeF> sizes;
    sizes.reserve(laidOut.qubes.size());
    for (const Qube &q : laidOut.qubes) {
        const QString fold = foldBox.value(q.name.toString());
        sizes.emplace_back(fold.isEmpty()
                               ? QubeItem::preferredWidth(q)
                               : ClusterItem::preferredWidth(int(foldMembers.value(fold).size())),
                           DiagramTheme::kBoxHeight);
    }

    TreeLayoutOptions options;
    options.showTemplates = m_showTemplates;
    options.stretchToColumn = true;
    options.levelGap = 60;
    options.internetSize = QSizeF(128, 66);
    const NetworkLayout layout
        = TreeLayout(options).layout(laidOut, drawnTopology ? *drawnTopology : *m_topology, sizes);

    std::vector<QString> boxName(layout.boxes.size());
    for (size_t b = 0; b < layout.boxes.size(); ++b) {
        const LayoutBox &box = layout.boxes[b];
        const Qube &qube = laidOut.qubes[size_t(box.qube)];
        boxName[b] = qube.name.toString();
        if (box.kind == LayoutBox::Kind::Internet) {
            auto *item = new InternetItem(boxName[b], box.rect.size());
            item->setPos(box.rect.topLeft());
            const QString ip = m_colouring.qubeExitIp.value(boxName[b]);
            if (!ip.isEmpty())
                item->setExit(ip, exitColourOf(m_colouring, ip));
            addItem(item);
            m_internets << item;
        } else if (foldBox.contains(boxName[b])) {
            const QString netvm = foldBox.value(boxName[b]);
            const QStringList members = foldMembers.value(netvm);
            VerdictMark worst = VerdictMark::None;
            for (const QString &member : members) {
                const VerdictMark mark
                    = qubeVerdict(checks, member, m_topology->egressChain(member)).mark;
                if (markWeight(mark) > markWeight(worst))
                    worst = mark;
            }
            auto *item = new ClusterItem(netvm, members, worst, box.rect.width());
            item->setPos(box.rect.topLeft());
            item->setZValue(2);
            addItem(item);
            m_clusters.insert(netvm, item);
        } else {
            auto *item = new QubeItem(qube, box.rect.width());
            if (ghosts.contains(boxName[b]))
                item->setMissing();
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
        LinkStyle style = styleOf(m_colouring, lower, toInternet);
        if (const QString netvm = foldBox.value(lower); !netvm.isEmpty()) {
            // A fold's link: its members' style when they agree, a failure when one failed,
            // otherwise unverified.
            const QStringList members = foldMembers.value(netvm);
            style = styleOf(m_colouring, members.first(), false);
            for (const QString &member : members) {
                const LinkStyle other = styleOf(m_colouring, member, false);
                if (other.failed) {
                    style = other;
                    break;
                }
                if (other.colour != style.colour || other.verified != style.verified
                    || other.stale != style.stale) {
                    style = LinkStyle();
                    style.colour = QColor(Colouring::unverifiedColour());
                }
            }
        }
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
    m_legend->setVisible(m_legendInScene);

    applyVerdicts();
    applyComparison();
    placeSidePaths();
    // Without the legend when the window shows it outside the zoomed scene.
    QRectF drawing;
    for (QGraphicsItem *item : items())
        if (!item->parentItem() && (m_legendInScene || item != m_legend))
            drawing = drawing.isNull() ? item->sceneBoundingRect()
                                       : drawing.united(item->sceneBoundingRect());
    m_diagramRect = drawing.adjusted(-kMargin, -kMargin, kMargin, kMargin);
    setSceneRect(m_diagramRect);

    m_rebuilding = false;
    m_highlighted.clear();
    if (!m_findText.isEmpty())
        find(m_findText);
    if (QubeItem *item = qubeItem(selected))
        item->setSelected(true); // highlights again through onSelectionChanged
    else if (!selected.isEmpty())
        emit qubeSelected(QString());
    emit diagramRebuilt();
}

void DiagramScene::foldClients(const QString &netvm)
{
    m_opened.remove(netvm);
    if (m_folded.contains(netvm) && m_clusters.contains(netvm))
        return;
    m_folded.insert(netvm);
    rebuild();
}

void DiagramScene::showClients(const QString &netvm)
{
    m_opened.insert(netvm);
    if (!m_folded.remove(netvm))
        return;
    rebuild();
}

bool DiagramScene::foldLargest()
{
    QHash<QString, int> counts;
    for (const Qube &q : m_snapshot.qubes)
        if (q.netvm)
            counts[q.netvm->toString()] += 0; // every netvm named
    int largest = 0;
    for (auto it = counts.begin(); it != counts.end(); ++it) {
        if (m_folded.contains(it.key()) || m_opened.contains(it.key()))
            continue;
        it.value() = int(plainClients(m_snapshot, *m_topology, it.key()).size());
        largest = std::max(largest, it.value());
    }
    if (largest < 3)
        return false;
    for (auto it = counts.cbegin(); it != counts.cend(); ++it)
        if (it.value() >= 3 && it.value() * 2 >= largest && !m_folded.contains(it.key())
            && !m_opened.contains(it.key()))
            m_folded.insert(it.key());
    rebuild();
    return true;
}

ClusterItem *DiagramScene::clusterItem(const QString &netvm) const
{
    return m_clusters.value(netvm, nullptr);
}

QList<ClusterItem *> DiagramScene::clusterItems() const
{
    QList<ClusterItem *> items = m_clusters.values();
    std::sort(items.begin(), items.end(),
              [](const ClusterItem *a, const ClusterItem *b) { return a->netvm() < b->netvm(); });
    return items;
}

QString DiagramScene::foldOf(const QString &qube) const
{
    return m_foldOf.value(qube);
}

QStringList DiagramScene::plainClientsOf(const QString &netvm) const
{
    return plainClients(m_snapshot, *m_topology, netvm);
}

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

bool DiagramScene::updateInPlace(const Snapshot &snapshot)
{
    if (!m_clusters.isEmpty())
        return false; // a fold's members and marks are worked out by the layout
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
    const CheckIndex checks(m_snapshot);
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
    // What failed or could not be told, so that an exported picture says it on its own.
    if (m_topology) {
        details << ipv6Lines(m_snapshot, *m_topology, m_colouring);
        details << problemLines(m_snapshot, *m_topology);
    }
    if (m_showSidePaths)
        details << sidePathLegend(m_snapshot);
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

void DiagramScene::setLegendInScene(bool inScene)
{
    if (m_legendInScene == inScene)
        return;
    m_legendInScene = inScene;
    if (!m_snapshot.qubes.empty() || m_legend)
        rebuild();
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
        const Qube *q = m_snapshot.find(name);
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
            const Qube *q = m_snapshot.find(item->name());
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
    const Qube *q = m_snapshot.find(from);
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
        const Qube *other = m_snapshot.find(item->name());
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
