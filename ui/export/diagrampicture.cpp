#include "diagrampicture.h"

#include "diagram/busitem.h"
#include "diagram/diagramscene.h"
#include "diagram/diagramtheme.h"
#include "diagram/groupitem.h"
#include "diagram/internetitem.h"
#include "diagram/legenditem.h"
#include "diagram/linkstyles.h"
#include "diagram/qubeitem.h"
#include "diagram/sidepathitem.h"
#include "model/checkindex.h"
#include "model/topology.h"

#include <QLocale>
#include <QPainter>
#include <QStyleOptionGraphicsItem>

#include <map>
#include <set>

// The geometry and styles here are the ones DiagramScene::rebuild() gives the window (layout
// options, bus merging, legend placement, margins); tst_diagramexport compares the two.

namespace netmap {

namespace {

constexpr double kMargin = 28;
constexpr double kLegendGap = 44;

using scenestyle::exitColourOf;
using scenestyle::styleOf;

void paintSummary(QPainter *painter, const QRectF &rect, const QString &text)
{
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    QPen pen(DiagramTheme::frame(), 1.2);
    pen.setDashPattern({4, 3});
    painter->setPen(pen);
    painter->setBrush(QColor(0xf3, 0xf4, 0xf6));
    painter->drawRoundedRect(rect, 8, 8);
    painter->setPen(DiagramTheme::ink());
    painter->setFont(DiagramTheme::nameFont());
    painter->drawText(QPointF(rect.left() + 12, rect.top() + 20), text);
    painter->setPen(DiagramTheme::mutedInk());
    painter->setFont(DiagramTheme::detailFont());
    painter->drawText(QPointF(rect.left() + 12, rect.top() + 37), QStringLiteral("collapsed"));
    painter->restore();
}

} // namespace

DiagramPicture::DiagramPicture(const Snapshot &snapshot, bool showTemplates,
                               const QDateTime &exportTime, int collapse, bool sidePaths)
    : m_snapshot(&snapshot)
    , m_topology(std::make_unique<Topology>(snapshot))
    , m_colouring(colourPaths(snapshot, *m_topology))
    , m_collapse(std::max(0, collapse))
{
    // A missing netvm is a ghost box with its clients under it, as the window draws it.
    for (const QubeName &name : DiagramScene::missingNetvms(snapshot)) {
        if (m_ghosts.isEmpty())
            m_drawn = snapshot;
        m_ghosts.insert(name.toString());
        Qube ghost;
        ghost.name = name;
        ghost.klass = QStringLiteral("AppVM");
        ghost.state = QStringLiteral("Missing");
        m_drawn.qubes.push_back(ghost);
    }
    const Snapshot &drawn = drawnSnapshot();
    std::unique_ptr<Topology> ghostTopology;
    if (!m_ghosts.isEmpty())
        ghostTopology = std::make_unique<Topology>(m_drawn);

    // Each qube's verdict, as DiagramScene::applyVerdicts() gives it.
    {
        const CheckIndex checks(snapshot);
        m_verdicts.reserve(snapshot.qubes.size());
        for (const Qube &q : snapshot.qubes) {
            const QString name = q.name.toString();
            m_verdicts.push_back(qubeVerdict(checks, name, m_topology->egressChain(name)));
        }
    }

    const int n = int(drawn.qubes.size());
    std::vector<QSizeF> sizes;
    sizes.reserve(drawn.qubes.size());
    for (const Qube &q : drawn.qubes)
        sizes.emplace_back(QubeItem::preferredWidth(q), DiagramTheme::kBoxHeight);
    std::vector<LayoutQube> input
        = TreeLayout::inputFrom(drawn, ghostTopology ? *ghostTopology : *m_topology, sizes);

    TreeLayoutOptions options;
    options.showTemplates = showTemplates;
    options.stretchToColumn = true;
    options.levelGap = 60;
    options.internetSize = QSizeF(128, 66);

    if (m_collapse > 0) {
        // Heights bottom up (Kahn's order from the leaves; a qube in a loop keeps a large one).
        std::vector<int> parent(n, -1), pendingChildren(n, 0), height(n, 0);
        for (int i = 0; i < n; ++i) {
            const int p = input[i].parent;
            if (p >= 0 && p < n && p != i)
                parent[i] = p;
        }
        const auto hidden = [&](int i) { return input[i].isTemplate && !showTemplates; };
        for (int i = 0; i < n; ++i)
            if (parent[i] >= 0 && !hidden(i))
                ++pendingChildren[parent[i]];
        std::vector<int> queue;
        std::vector<char> done(n, 0);
        for (int i = 0; i < n; ++i)
            if (pendingChildren[i] == 0)
                queue.push_back(i);
        for (size_t k = 0; k < queue.size(); ++k) {
            const int i = queue[k];
            done[i] = 1;
            const int p = parent[i];
            if (p >= 0 && !hidden(i)) {
                height[p] = std::max(height[p], height[i] + 1);
                if (--pendingChildren[p] == 0)
                    queue.push_back(p);
            }
        }
        const auto collapsed = [&](int i) {
            return done[i] && height[i] < m_collapse && !(parent[i] < 0 && input[i].providesNetwork)
                && !hidden(i);
        };
        // Each collapsed qube counts for its nearest drawn ancestor (or the no-network group).
        std::map<int, int> counts; // drawn ancestor (-1: none) -> collapsed qubes
        for (int i = 0; i < n; ++i) {
            if (!collapsed(i))
                continue;
            int a = parent[i];
            int steps = 0;
            while (a >= 0 && collapsed(a) && steps++ < n)
                a = parent[a];
            ++counts[a];
            ++m_collapsedQubes;
        }
        for (int i = 0; i < n; ++i)
            if (collapsed(i)) { // out of the drawing: a hidden template without clients
                input[i].parent = -1;
                input[i].isTemplate = true;
                input[i].providesNetwork = false;
            }
        options.showTemplates = false;
        for (const auto &[ancestor, count] : counts) {
            LayoutQube summary;
            summary.parent = ancestor;
            summary.hasNetvm = ancestor >= 0;
            summary.size = QSizeF(DiagramTheme::kMinBoxWidth, DiagramTheme::kBoxHeight);
            input.push_back(summary);
            m_summaries.push_back(
                {count,
                 QStringLiteral("%1 %2").arg(QLocale(QLocale::English).toString(count),
                                             count == 1 ? QStringLiteral("qube")
                                                        : QStringLiteral("qubes"))});
        }
    }

    m_layout = TreeLayout(options).layout(input);

    const auto nameOf = [&](int box) {
        const int q = m_layout.boxes[size_t(box)].qube;
        return q < n ? drawn.qubes[size_t(q)].name.toString() : QString();
    };

    // Link styles and the shared buses, merged as the window merges them.
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
    std::map<int, BusState> buses;
    m_linkStyles.reserve(m_layout.links.size());
    for (const LayoutLink &l : m_layout.links) {
        const bool toInternet = m_layout.boxes[size_t(l.upper)].kind == LayoutBox::Kind::Internet;
        const LinkStyle style = isSummary(l.lower)
            ? styleOf(m_colouring, QString(), false)
            : styleOf(m_colouring, nameOf(l.lower), toInternet);
        m_linkStyles.push_back(style);
        if (l.sharedSegments <= 0)
            continue;
        BusState &bus = buses[l.upper];
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
    for (auto &[upper, state] : buses) {
        Bus bus;
        bus.upper = upper;
        bus.path = state.curves;
        for (const auto &entry : state.lines) {
            bus.path.moveTo(entry.second.first);
            bus.path.lineTo(entry.second.second);
        }
        bus.uniform = state.uniform;
        bus.colour = state.uniform ? state.colour : DiagramTheme::mixedBus();
        bus.dashed = state.uniform && state.dashed;
        m_buses.push_back(std::move(bus));
    }

    if (sidePaths) {
        const auto boxOf = [this](const QString &name) -> QRectF {
            const int q = drawnSnapshot().indexOf(name);
            if (q < 0 || size_t(q) >= m_layout.boxOfQube.size())
                return {};
            const int b = m_layout.boxOfQube[size_t(q)];
            if (b < 0 || isSummary(b))
                return {};
            return m_layout.boxes[size_t(b)].rect;
        };
        for (const SidePath &path : netmap::sidePaths(snapshot)) {
            const QRectF from = boxOf(path.from), to = boxOf(path.to);
            if (!from.isNull() && !to.isNull() && from != to)
                m_sides.push_back({path, SidePathItem::route(from, to)});
        }
    }

    // The legend, as DiagramScene::updateLegend() words it.
    m_legendTitle = QStringLiteral("Qubes network map");
    m_legendDetails << QStringLiteral("Source: %1").arg(DiagramScene::sourceDescription(snapshot));
    if (snapshot.generated.isValid())
        m_legendDetails << QStringLiteral("Snapshot: %1 UTC")
                               .arg(snapshot.generated.toUTC().toString(
                                   QStringLiteral("yyyy-MM-dd HH:mm")));
    if (exportTime.isValid())
        m_legendDetails << QStringLiteral("Exported: %1 UTC")
                               .arg(
                                   exportTime.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm")));
    int shown = 0;
    for (const Qube &q : snapshot.qubes)
        if (showTemplates || !q.isTemplate())
            ++shown;
    const int hiddenTemplates = int(snapshot.qubes.size()) - shown;
    m_legendDetails << (hiddenTemplates > 0 ? QStringLiteral("%1 qubes shown, %2 templates hidden")
                                                  .arg(shown)
                                                  .arg(hiddenTemplates)
                                            : QStringLiteral("%1 qubes").arg(shown));
    if (m_collapse > 0)
        m_legendDetails << QStringLiteral("Overview: %1 qubes drawn as counts (the SVG has all)")
                               .arg(m_collapsedQubes);
    m_legendDetails << DiagramScene::ipv6Lines(snapshot, *m_topology, m_colouring);
    m_legendDetails << DiagramScene::problemLines(snapshot, *m_topology);
    if (sidePaths)
        m_legendDetails << sidePathLegend(snapshot);
    LegendItem legend;
    legend.setContents(m_legendTitle, m_legendDetails, m_colouring.exits);
    const QRectF legendBounds = legend.boundingRect();
    m_legendSize = legendBounds.adjusted(1, 1, -1, -1).size();

    QRectF groupsRect;
    for (const LayoutGroup &g : m_layout.groups)
        groupsRect = groupsRect.isNull() ? g.rect : groupsRect.united(g.rect);
    m_legendPos = QPointF(0, m_layout.bounds.bottom() + kLegendGap);
    if (!groupsRect.isNull()) {
        const double besideX = groupsRect.right() + kLegendGap;
        if (besideX + legendBounds.width() <= std::max(m_layout.bounds.right() + 240, 900.0))
            m_legendPos = QPointF(besideX, groupsRect.top());
    } else if (m_layout.boxes.empty()) {
        m_legendPos = QPointF(0, 0);
    }

    // What QGraphicsScene::itemsBoundingRect() gives the window: each item's bounding rect.
    QRectF r = legendBounds.translated(m_legendPos);
    for (const LayoutBox &box : m_layout.boxes)
        r |= box.kind == LayoutBox::Kind::Internet ? box.rect.adjusted(-2, -2, 2, 2)
                                                   : box.rect.adjusted(-6, -6, 6, 6);
    for (const LayoutLink &link : m_layout.links) {
        double left = link.route.front().x(), right = left;
        double top = link.route.front().y(), bottom = top;
        for (const QPointF &p : link.route) {
            left = std::min(left, p.x());
            right = std::max(right, p.x());
            top = std::min(top, p.y());
            bottom = std::max(bottom, p.y());
        }
        r |= QRectF(left - 12, top - 12, right - left + 24, bottom - top + 24);
    }
    for (const LayoutGroup &g : m_layout.groups)
        r |= g.rect.adjusted(-1, -1, 1, 1);
    for (const Side &side : m_sides)
        r |= side.route.boundingRect().adjusted(-3, -3, 3, 3);
    m_rect = r.adjusted(-kMargin, -kMargin, kMargin, kMargin);
}

DiagramPicture::~DiagramPicture() = default;

bool DiagramPicture::linkToInternet(int link) const
{
    return m_layout.boxes[size_t(m_layout.links[size_t(link)].upper)].kind
        == LayoutBox::Kind::Internet;
}

bool DiagramPicture::isSummary(int box) const
{
    return m_layout.boxes[size_t(box)].qube >= int(drawnSnapshot().qubes.size());
}

const DiagramPicture::Summary &DiagramPicture::summary(int box) const
{
    return m_summaries[size_t(m_layout.boxes[size_t(box)].qube) - drawnSnapshot().qubes.size()];
}

bool DiagramPicture::isGhost(int box) const
{
    const int q = m_layout.boxes[size_t(box)].qube;
    return q >= int(m_snapshot->qubes.size()) && q < int(drawnSnapshot().qubes.size());
}

VerdictMark DiagramPicture::verdictMark(int box) const
{
    const int q = m_layout.boxes[size_t(box)].qube;
    return q >= 0 && q < int(m_verdicts.size()) ? m_verdicts[size_t(q)].mark : VerdictMark::None;
}

QStringList DiagramPicture::verdictLines(int box) const
{
    const int q = m_layout.boxes[size_t(box)].qube;
    return q >= 0 && q < int(m_verdicts.size()) ? netmap::verdictLines(m_verdicts[size_t(q)])
                                                : QStringList();
}

QString DiagramPicture::groupCaption(const LayoutGroup &group) const
{
    return group.kind == LayoutGroup::Kind::NoNetwork ? QStringLiteral("No network")
                                                      : QStringLiteral("Templates");
}

void DiagramPicture::paint(QPainter *painter) const
{
    // The window's own items draw it, in the window's stacking order (groups, buses, links,
    // boxes, legend).
    const QStyleOptionGraphicsItem option;
    for (const LayoutGroup &g : m_layout.groups) {
        GroupItem item(groupCaption(g), g.rect, g.caption);
        item.paint(painter, &option, nullptr);
    }
    for (const Bus &bus : m_buses) {
        BusItem item {QString()};
        item.setPath(bus.path);
        item.setColour(bus.colour, bus.dashed);
        item.paint(painter, &option, nullptr);
    }
    for (size_t l = 0; l < m_layout.links.size(); ++l) {
        const LayoutLink &link = m_layout.links[l];
        LinkItem item(QString(), QString(), false);
        item.setRoute(link.route, link.curveSegment, link.sharedSegments);
        item.setLinkStyle(m_linkStyles[l]);
        item.paint(painter, &option, nullptr);
    }
    for (const Side &side : m_sides)
        SidePathItem::paintPath(painter, side.route, side.path.kind);
    for (size_t b = 0; b < m_layout.boxes.size(); ++b) {
        const LayoutBox &box = m_layout.boxes[b];
        painter->save();
        if (isSummary(int(b))) {
            paintSummary(painter, box.rect, summary(int(b)).text);
        } else if (box.kind == LayoutBox::Kind::Internet) {
            const QString root = drawnSnapshot().qubes[size_t(box.qube)].name.toString();
            InternetItem item(root, box.rect.size());
            const QString ip = m_colouring.qubeExitIp.value(root);
            if (!ip.isEmpty())
                item.setExit(ip, exitColourOf(m_colouring, ip));
            painter->translate(box.rect.topLeft());
            item.paint(painter, &option, nullptr);
        } else {
            QubeItem item(drawnSnapshot().qubes[size_t(box.qube)], box.rect.width());
            if (isGhost(int(b)))
                item.setMissing();
            else
                item.setVerdict(verdictMark(int(b)), verdictLines(int(b)));
            painter->translate(box.rect.topLeft());
            item.paint(painter, &option, nullptr);
        }
        painter->restore();
    }
    LegendItem legend;
    legend.setContents(m_legendTitle, m_legendDetails, m_colouring.exits);
    painter->save();
    painter->translate(m_legendPos);
    legend.paint(painter, &option, nullptr);
    painter->restore();
}

} // namespace netmap
