// Tidy tree layout of the NetVM forest: determinism, no overlaps, no crossings, groups, size.

#include "formats/snapshotyaml.h"
#include "layout/treelayout.h"
#include "model/topology.h"

#include <QLineF>
#include <QRandomGenerator>
#include <QTest>

#include <algorithm>

using namespace netmap;

namespace {

// A Qubes-shaped forest: sys-net -> sys-firewall -> a few VPN/Tor gateways, most app qubes on
// sys-firewall, some on the gateways, some without network, templates. Fixed seed.
std::vector<LayoutQube> syntheticForest(int n, quint32 seed = 7)
{
    QRandomGenerator rng(seed);
    std::vector<LayoutQube> q(n);
    const int gateways = std::clamp(n / 40, 1, 12);
    for (int i = 0; i < n; ++i) {
        q[i].size = QSizeF(120 + rng.bounded(80), 40 + 4 * rng.bounded(3));
        if (i == 0) {
            q[i].providesNetwork = true;
        } else if (i == 1) {
            q[i].parent = 0;
            q[i].providesNetwork = true;
        } else if (i < 2 + gateways) {
            q[i].parent = 1;
            q[i].providesNetwork = true;
        } else if (i % 29 == 0) {
            // no network
        } else if (i % 31 == 0) {
            q[i].isTemplate = true;
        } else if (i % 4 == 0) {
            q[i].parent = 2 + static_cast<int>(rng.bounded(gateways));
        } else if (i % 37 == 0) {
            q[i].parent = 0;
        } else {
            q[i].parent = 1;
        }
        q[i].hasNetvm = q[i].parent >= 0;
    }
    return q;
}

// The link drawn as straight pieces (its S curve sampled), as the scene would draw it.
QList<QLineF> linkLines(const LayoutLink &link)
{
    QList<QLineF> lines;
    for (size_t s = 0; s + 1 < link.route.size(); ++s) {
        const QPointF a = link.route[s];
        const QPointF b = link.route[s + 1];
        if (static_cast<int>(s) != link.curveSegment) {
            lines << QLineF(a, b);
            continue;
        }
        const double mx = (a.x() + b.x()) / 2;
        const QPointF c1(mx, a.y());
        const QPointF c2(mx, b.y());
        QPointF prev = a;
        for (int k = 1; k <= 24; ++k) {
            const double t = k / 24.0;
            const double u = 1 - t;
            const QPointF p
                = u * u * u * a + 3 * u * u * t * c1 + 3 * u * t * t * c2 + t * t * t * b;
            lines << QLineF(prev, p);
            prev = p;
        }
    }
    return lines;
}

double cross(QPointF o, QPointF a, QPointF b)
{
    return (a.x() - o.x()) * (b.y() - o.y()) - (a.y() - o.y()) * (b.x() - o.x());
}

// Proper crossing only: touching ends and collinear overlaps (shared bus lines) do not count.
bool crosses(const QLineF &l1, const QLineF &l2)
{
    const double eps = 1e-6;
    if (std::max(l1.x1(), l1.x2()) < std::min(l2.x1(), l2.x2())
        || std::max(l2.x1(), l2.x2()) < std::min(l1.x1(), l1.x2())
        || std::max(l1.y1(), l1.y2()) < std::min(l2.y1(), l2.y2())
        || std::max(l2.y1(), l2.y2()) < std::min(l1.y1(), l1.y2()))
        return false;
    const double d1 = cross(l2.p1(), l2.p2(), l1.p1());
    const double d2 = cross(l2.p1(), l2.p2(), l1.p2());
    const double d3 = cross(l1.p1(), l1.p2(), l2.p1());
    const double d4 = cross(l1.p1(), l1.p2(), l2.p2());
    return ((d1 > eps && d2 < -eps) || (d1 < -eps && d2 > eps))
        && ((d3 > eps && d4 < -eps) || (d3 < -eps && d4 > eps));
}

int countOverlaps(const NetworkLayout &layout)
{
    std::vector<int> order(layout.boxes.size());
    for (size_t i = 0; i < order.size(); ++i)
        order[i] = static_cast<int>(i);
    std::sort(order.begin(), order.end(), [&](int a, int b) {
        return layout.boxes[a].rect.left() < layout.boxes[b].rect.left();
    });
    int overlaps = 0;
    for (size_t i = 0; i < order.size(); ++i) {
        const QRectF &a = layout.boxes[order[i]].rect;
        for (size_t j = i + 1; j < order.size(); ++j) {
            const QRectF &b = layout.boxes[order[j]].rect;
            if (b.left() >= a.right())
                break;
            if (a.intersects(b))
                ++overlaps;
        }
    }
    return overlaps;
}

// Shapes that used to stack subtrees into one tall column. n qubes.
std::vector<LayoutQube> shapedForest(const QString &shape, int n)
{
    std::vector<LayoutQube> q(n);
    for (int i = 0; i < n; ++i)
        q[i].size = QSizeF(160 + 8 * (i % 5), 46);
    q[0].providesNetwork = true;
    q[1].parent = 0;
    q[1].providesNetwork = true;
    if (shape == "gateways") {
        // A firewall with a gateway per 100 qubes, each with its clients, half fanned out under
        // the firewall itself.
        const int gateways = std::max(3, n / 100);
        for (int i = 2; i < n; ++i) {
            if (i < 2 + gateways) {
                q[i].parent = 1;
                q[i].providesNetwork = true;
            } else {
                q[i].parent = i % 2 ? 1 : 2 + i % gateways;
            }
        }
    } else if (shape == "small netvms") {
        // Many netvms of about ten clients each under the firewall.
        const int netvms = std::max(3, n / 10);
        for (int i = 2; i < n; ++i) {
            q[i].parent = i < 2 + netvms ? 1 : 2 + i % netvms;
            q[i].providesNetwork = i < 2 + netvms;
        }
    } else { // "chains": gateways eight deep, clients hanging off every level
        const int chains = std::max(3, n / 100);
        int next = 2;
        std::vector<int> levels;
        for (int c = 0; c < chains && next < n; ++c) {
            int parent = 1;
            for (int d = 0; d < 8 && next < n; ++d) {
                q[next].parent = parent;
                q[next].providesNetwork = true;
                levels.push_back(next);
                parent = next++;
            }
        }
        for (int i = next; i < n; ++i)
            q[i].parent = levels[size_t(i) % levels.size()];
    }
    for (LayoutQube &x : q)
        x.hasNetvm = x.parent >= 0;
    return q;
}

int countCrossings(const NetworkLayout &layout)
{
    QList<QList<QLineF>> lines;
    for (const LayoutLink &link : layout.links)
        lines << linkLines(link);
    QList<QRectF> spans;
    for (const QList<QLineF> &link : lines) {
        QRectF span;
        for (const QLineF &line : link)
            span = span.united(QRectF(line.p1(), line.p2()).normalized().adjusted(-1, -1, 1, 1));
        spans << span;
    }
    int crossings = 0;
    for (int i = 0; i < lines.size(); ++i)
        for (int j = i + 1; j < lines.size(); ++j)
            if (spans[i].intersects(spans[j]))
                for (const QLineF &a : lines[i])
                    for (const QLineF &b : lines[j])
                        if (crosses(a, b))
                            ++crossings;
    return crossings;
}

} // namespace

class tst_TreeLayout : public QObject
{
    Q_OBJECT

private slots:
    void identicalAcrossRuns_data();
    void identicalAcrossRuns();
    void noOverlapsAndParentsFirst_data();
    void noOverlapsAndParentsFirst();
    void linksAvoidBoxesAndEachOther_data();
    void linksAvoidBoxesAndEachOther();
    void groupsInternetAndTemplates();
    void badParentsAreCut();
    void wideFanOutStaysCompact_data();
    void wideFanOutStaysCompact();
    void areaGrowsLinearly();
    void subtreesPackInTwoDimensions_data();
    void subtreesPackInTwoDimensions();
    void synthetic300Snapshot();
};

void tst_TreeLayout::identicalAcrossRuns_data()
{
    QTest::addColumn<int>("n");
    QTest::newRow("1") << 1;
    QTest::newRow("8") << 8;
    QTest::newRow("300") << 300;
    QTest::newRow("3000") << 3000;
}

void tst_TreeLayout::identicalAcrossRuns()
{
    QFETCH(int, n);
    const TreeLayout layout;
    const NetworkLayout a = layout.layout(syntheticForest(n));
    const NetworkLayout b = TreeLayout().layout(syntheticForest(n));
    QCOMPARE(a.boxes.size(), b.boxes.size());
    for (size_t i = 0; i < a.boxes.size(); ++i) {
        QCOMPARE(a.boxes[i].qube, b.boxes[i].qube);
        QCOMPARE(a.boxes[i].rect, b.boxes[i].rect);
    }
    QCOMPARE(a.links.size(), b.links.size());
    for (size_t i = 0; i < a.links.size(); ++i)
        QVERIFY(a.links[i].route == b.links[i].route);
    QCOMPARE(a.bounds, b.bounds);
    QVERIFY(a.bounds.topLeft() == QPointF(0, 0));
}

void tst_TreeLayout::noOverlapsAndParentsFirst_data()
{
    QTest::addColumn<int>("n");
    QTest::addColumn<bool>("templates");
    QTest::addColumn<bool>("stretch");
    QTest::newRow("8") << 8 << false << false;
    QTest::newRow("300") << 300 << false << false;
    QTest::newRow("300 with templates") << 300 << true << false;
    QTest::newRow("300 stretched") << 300 << true << true;
    QTest::newRow("3000") << 3000 << false << false;
    QTest::newRow("3000 stretched") << 3000 << false << true;
}

void tst_TreeLayout::noOverlapsAndParentsFirst()
{
    QFETCH(int, n);
    QFETCH(bool, templates);
    QFETCH(bool, stretch);
    TreeLayoutOptions options;
    options.showTemplates = templates;
    options.stretchToColumn = stretch;
    const std::vector<LayoutQube> input = syntheticForest(n);
    const NetworkLayout layout = TreeLayout(options).layout(input);
    QCOMPARE(countOverlaps(layout), 0);
    for (const LayoutLink &link : layout.links) {
        const QRectF upper = layout.boxes[link.upper].rect;
        const QRectF lower = layout.boxes[link.lower].rect;
        QVERIFY2(upper.right() < lower.left(), "a netvm must sit left of its clients");
        QCOMPARE(link.route.front(), QPointF(upper.right(), upper.center().y()));
        QCOMPARE(link.route.back(), QPointF(lower.left(), lower.center().y()));
    }
    // Every qube is drawn except hidden templates, and each drawn qube once.
    for (int i = 0; i < n; ++i) {
        const bool hidden = input[i].isTemplate && !templates;
        QCOMPARE(layout.boxOfQube[i] < 0, hidden);
        if (!hidden)
            QCOMPARE(layout.boxes[layout.boxOfQube[i]].qube, i);
    }
    for (const LayoutBox &box : layout.boxes)
        QVERIFY(layout.bounds.contains(box.rect));
}

void tst_TreeLayout::linksAvoidBoxesAndEachOther_data()
{
    QTest::addColumn<bool>("stretch");
    QTest::newRow("boxes as wide as their text") << false;
    QTest::newRow("boxes as wide as their column") << true;
}

void tst_TreeLayout::linksAvoidBoxesAndEachOther()
{
    QFETCH(bool, stretch);
    TreeLayoutOptions options;
    options.stretchToColumn = stretch;
    const NetworkLayout layout = TreeLayout(options).layout(syntheticForest(300));
    QList<QList<QLineF>> lines;
    for (const LayoutLink &link : layout.links)
        lines << linkLines(link);
    QList<QRectF> spans;
    for (const QList<QLineF> &link : lines) {
        QRectF span;
        for (const QLineF &line : link)
            span = span.united(QRectF(line.p1(), line.p2()).normalized().adjusted(-1, -1, 1, 1));
        spans << span;
    }
    for (size_t l = 0; l < layout.links.size(); ++l) {
        const LayoutLink &link = layout.links[l];
        for (size_t b = 0; b < layout.boxes.size(); ++b) {
            if (static_cast<int>(b) == link.lower || static_cast<int>(b) == link.upper)
                continue;
            const QRectF inner = layout.boxes[b].rect.adjusted(1, 1, -1, -1);
            if (!inner.intersects(spans[l]))
                continue;
            for (const QLineF &line : lines[l]) {
                const QRectF span
                    = QRectF(line.p1(), line.p2()).normalized().adjusted(-0.01, -0.01, 0.01, 0.01);
                QVERIFY2(!inner.intersects(span),
                         qPrintable(QStringLiteral("link %1 runs through box %2").arg(l).arg(b)));
            }
        }
    }
    QCOMPARE(countCrossings(layout), 0);
}

void tst_TreeLayout::groupsInternetAndTemplates()
{
    // 0 sys-net, 1 sys-firewall, 2 work, 3 vault (no network), 4 fedora (template),
    // 5 sys-net2 (provider, no clients), 6 dangling (netvm set, unknown)
    std::vector<LayoutQube> q(7);
    for (LayoutQube &x : q)
        x.size = QSizeF(140, 44);
    q[0].providesNetwork = true;
    q[1].parent = 0;
    q[1].hasNetvm = true;
    q[1].providesNetwork = true;
    q[2].parent = 1;
    q[2].hasNetvm = true;
    q[4].isTemplate = true;
    q[5].providesNetwork = true;
    q[6].hasNetvm = true;

    const NetworkLayout hidden = TreeLayout().layout(q);
    QCOMPARE(hidden.boxOfQube[4], -1);
    int internets = 0;
    for (const LayoutBox &box : hidden.boxes)
        if (box.kind == LayoutBox::Kind::Internet) {
            ++internets;
            QVERIFY(box.qube == 0 || box.qube == 5);
        }
    QCOMPARE(internets, 2);
    QCOMPARE(hidden.links.size(), size_t(4)); // two Internet ends, firewall, work
    QCOMPARE(hidden.groups.size(), size_t(1));
    const LayoutGroup &noNet = hidden.groups.front();
    QCOMPARE(noNet.kind, LayoutGroup::Kind::NoNetwork);
    QCOMPARE(noNet.boxes.size(), size_t(2));
    QCOMPARE(hidden.boxes[noNet.boxes[0]].qube, 3);
    QCOMPARE(hidden.boxes[noNet.boxes[1]].qube, 6);
    for (int b : noNet.boxes)
        QVERIFY(noNet.rect.contains(hidden.boxes[b].rect));
    QVERIFY(!noNet.rect.intersects(noNet.caption.adjusted(0, noNet.caption.height(), 0, 0))
            || noNet.rect.contains(noNet.caption));

    TreeLayoutOptions options;
    options.showTemplates = true;
    const NetworkLayout shown = TreeLayout(options).layout(q);
    QVERIFY(shown.boxOfQube[4] >= 0);
    QCOMPARE(shown.groups.size(), size_t(2));
    QCOMPARE(shown.groups[1].kind, LayoutGroup::Kind::Templates);
    QCOMPARE(shown.boxes[shown.groups[1].boxes.front()].qube, 4);
    QVERIFY(!shown.groups[0].rect.intersects(shown.groups[1].rect));
}

void tst_TreeLayout::badParentsAreCut()
{
    std::vector<LayoutQube> q(6);
    for (LayoutQube &x : q)
        x.size = QSizeF(100, 40);
    q[0].parent = 1; // 0 <-> 1 loop
    q[1].parent = 0;
    q[2].parent = 2; // itself
    q[3].parent = 99; // out of range
    q[4].parent = 3;
    q[5].parent = -7;
    q[5].size = QSizeF(qQNaN(), -3); // garbage sizes fall back to a default
    const NetworkLayout layout = TreeLayout().layout(q);
    for (int i = 0; i < 6; ++i)
        QVERIFY(layout.boxOfQube[i] >= 0);
    QCOMPARE(countOverlaps(layout), 0);
    QVERIFY(std::isfinite(layout.bounds.width()) && std::isfinite(layout.bounds.height()));

    // A 20,000-deep chain must not recurse.
    std::vector<LayoutQube> chain(20000);
    for (int i = 0; i < 20000; ++i) {
        chain[i].parent = i - 1;
        chain[i].size = QSizeF(80, 30);
    }
    chain[0].providesNetwork = true;
    const NetworkLayout deep = TreeLayout().layout(chain);
    QCOMPARE(deep.links.size(), size_t(20000));
}

void tst_TreeLayout::wideFanOutStaysCompact_data()
{
    QTest::addColumn<int>("leaves");
    QTest::newRow("9") << 9;
    QTest::newRow("60") << 60;
    QTest::newRow("300") << 300;
    QTest::newRow("2000") << 2000;
}

void tst_TreeLayout::wideFanOutStaysCompact()
{
    QFETCH(int, leaves);
    std::vector<LayoutQube> q(leaves + 2);
    for (LayoutQube &x : q)
        x.size = QSizeF(160, 44);
    q[0].providesNetwork = true;
    q[1].parent = 0;
    q[1].providesNetwork = true;
    for (int i = 2; i < leaves + 2; ++i)
        q[i].parent = 1;
    const NetworkLayout layout = TreeLayout().layout(q);
    QCOMPARE(countOverlaps(layout), 0);
    // A fan-out becomes a block, not a single column thousands of pixels high.
    const double aspect = layout.bounds.height() / layout.bounds.width();
    QVERIFY2(aspect < 2.5, qPrintable(QString::number(aspect)));
    double boxArea = 0;
    for (const LayoutBox &box : layout.boxes)
        boxArea += box.rect.width() * box.rect.height();
    const double density = boxArea / (layout.bounds.width() * layout.bounds.height());
    QVERIFY2(density > (leaves > 50 ? 0.3 : 0.15), qPrintable(QString::number(density)));
}

void tst_TreeLayout::areaGrowsLinearly()
{
    // Size, not time: the drawing of ten times more qubes needs about ten times the area.
    const NetworkLayout small = TreeLayout().layout(syntheticForest(300));
    const NetworkLayout large = TreeLayout().layout(syntheticForest(3000));
    const double perSmall = small.bounds.width() * small.bounds.height() / 300;
    const double perLarge = large.bounds.width() * large.bounds.height() / 3000;
    QVERIFY2(perLarge < 2.5 * perSmall,
             qPrintable(QStringLiteral("%1 vs %2").arg(perLarge).arg(perSmall)));
    QVERIFY(large.links.size() < 3000);
}

void tst_TreeLayout::subtreesPackInTwoDimensions_data()
{
    QTest::addColumn<QString>("shape");
    QTest::addColumn<int>("n");
    QTest::addColumn<bool>("stretch");
    for (const char *shape : {"gateways", "small netvms", "chains"}) {
        QTest::addRow("%s 1000", shape) << QString(shape) << 1000 << false;
        QTest::addRow("%s 1000 stretched", shape) << QString(shape) << 1000 << true;
        QTest::addRow("%s 10000", shape) << QString(shape) << 10000 << true;
    }
}

void tst_TreeLayout::subtreesPackInTwoDimensions()
{
    // Many provider subtrees under one parent go side by side: the picture stays within 3:1
    // either way, with no overlap and (checked where it is affordable) no crossing.
    QFETCH(QString, shape);
    QFETCH(int, n);
    QFETCH(bool, stretch);
    TreeLayoutOptions options;
    options.stretchToColumn = stretch;
    const NetworkLayout layout = TreeLayout(options).layout(shapedForest(shape, n));
    for (int i = 0; i < n; ++i)
        QVERIFY(layout.boxOfQube[i] >= 0);
    QCOMPARE(countOverlaps(layout), 0);
    const double aspect = layout.bounds.height() / layout.bounds.width();
    QVERIFY2(aspect <= 3 && aspect >= 1.0 / 3,
             qPrintable(
                 QStringLiteral("%1 x %2").arg(layout.bounds.width()).arg(layout.bounds.height())));
    for (const LayoutBox &box : layout.boxes)
        QVERIFY(layout.bounds.contains(box.rect));
    for (const LayoutLink &link : layout.links) {
        const QRectF upper = layout.boxes[link.upper].rect;
        const QRectF lower = layout.boxes[link.lower].rect;
        QCOMPARE(link.route.front(), QPointF(upper.right(), upper.center().y()));
        QCOMPARE(link.route.back(), QPointF(lower.left(), lower.center().y()));
    }
    if (n <= 1000)
        QCOMPARE(countCrossings(layout), 0);
}

void tst_TreeLayout::synthetic300Snapshot()
{
    const Result<Snapshot> loaded
        = loadSnapshotFile(QStringLiteral(NETMAP_TEST_DATA "/synthetic-300.yaml"));
    QVERIFY2(loaded.ok(), qPrintable(loaded.ok() ? QString() : loaded.error().toString()));
    const Snapshot &snapshot = loaded.value();
    QCOMPARE(int(snapshot.qubes.size()), 300);
    const Topology topology(snapshot);
    std::vector<QSizeF> sizes;
    for (const Qube &q : snapshot.qubes)
        sizes.push_back(QSizeF(60 + 7 * q.name.toString().size(), 44));
    const NetworkLayout a = TreeLayout().layout(snapshot, topology, sizes);
    const NetworkLayout b = TreeLayout().layout(snapshot, topology, sizes);
    QCOMPARE(countOverlaps(a), 0);
    for (size_t i = 0; i < a.boxes.size(); ++i)
        QCOMPARE(a.boxes[i].rect, b.boxes[i].rect);
    for (size_t i = 0; i < snapshot.qubes.size(); ++i)
        QCOMPARE(a.boxOfQube[i] < 0, snapshot.qubes[i].isTemplate());
}

QTEST_GUILESS_MAIN(tst_TreeLayout)
#include "tst_treelayout.moc"
