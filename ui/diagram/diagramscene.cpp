// The scene's construction from its document: the layout of qubes, links, Internet ends, buses,
// groups and the legend item, and the folds (level of detail). Following an update in place is in
// diagramsceneupdate.cpp, the legend's words in diagramscenetext.cpp, what the user does on the
// map in diagramsceneinteraction.cpp.
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

constexpr double kMargin = 28;
constexpr double kLegendGap = 44;

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
    : DiagramScene(nullptr, parent)
{
}

DiagramScene::DiagramScene(NetworkDocument *document, QObject *parent)
    : QGraphicsScene(parent)
    , m_document(document ? document : new NetworkDocument(this))
    , m_topology(std::make_unique<Topology>(m_document->snapshot()))
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
    connect(m_document, &NetworkDocument::snapshotReplaced, this, &DiagramScene::onReplaced);
    connect(m_document, &NetworkDocument::snapshotUpdated, this, &DiagramScene::onUpdated);
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
    m_document->replaceSnapshot(snapshot);
}

const Snapshot &DiagramScene::snapshot() const
{
    return m_document->snapshot();
}

void DiagramScene::onReplaced()
{
    rebuild();
    emit snapshotChanged();
}

void DiagramScene::onUpdated(const Snapshot &previous)
{
    if (restyleInPlace(previous))
        return;
    emit aboutToRelayout();
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
    for (const SidePath &path : sidePaths(m_document->snapshot())) {
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

    m_topology = std::make_unique<Topology>(m_document->snapshot());
    m_colouring = colourPaths(m_document->snapshot(), *m_topology);

    // What is drawn may differ from the snapshot (which stays as read): a netvm that does not
    // exist is drawn as missing (a ghost box with its name and its clients under it, not under
    // "No network"), and folded clients become one box.
    Snapshot drawn = m_document->snapshot();
    QSet<QString> ghosts;
    for (const QubeName &name : missingNetvms(m_document->snapshot())) {
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
    const Snapshot &laidOut = redrawn ? drawn : m_document->snapshot();
    std::unique_ptr<Topology> drawnTopology;
    if (redrawn)
        drawnTopology = std::make_unique<Topology>(drawn);
    const CheckIndex checks(m_document->snapshot());

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
    for (const Qube &q : m_document->snapshot().qubes)
        if (q.netvm)
            counts[q.netvm->toString()] += 0; // every netvm named
    int largest = 0;
    for (auto it = counts.begin(); it != counts.end(); ++it) {
        if (m_folded.contains(it.key()) || m_opened.contains(it.key()))
            continue;
        it.value() = int(plainClients(m_document->snapshot(), *m_topology, it.key()).size());
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
    return plainClients(m_document->snapshot(), *m_topology, netvm);
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
    if (!m_document->snapshot().qubes.empty() || m_legend)
        rebuild();
}

QRectF DiagramScene::diagramRect() const
{
    return m_diagramRect;
}

} // namespace netmap
