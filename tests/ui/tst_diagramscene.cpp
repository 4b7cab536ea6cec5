// The diagram scene: item counts, colours, highlight, find, literal text, the 300-qube network.

#include "diagram/diagramscene.h"
#include "diagram/diagramtheme.h"
#include "diagram/groupitem.h"
#include "diagram/internetitem.h"
#include "diagram/legenditem.h"
#include "diagram/linkitem.h"
#include "diagram/qubeitem.h"
#include "formats/snapshotyaml.h"
#include "model/topology.h"
#include "snapshots.h"

#include <QMenu>
#include <QSignalSpy>
#include <QTest>
#include <QTextDocument>

using namespace netmap;

namespace {

Snapshot synthetic300()
{
    const Result<Snapshot> loaded = loadSnapshotFile(NETMAP_TEST_DATA "/synthetic-300.yaml");
    if (!loaded)
        qFatal("%s", qPrintable(loaded.error().toString()));
    return loaded.value();
}

Snapshot snapshotNamed(const QString &name)
{
    return name == "demo" ? demoSnapshot() : synthetic300();
}

// What a tool tip shows: Qt renders it as rich text, so read it back as a user would see it.
QString shownToolTip(const QString &toolTip)
{
    QTextDocument doc;
    doc.setHtml(toolTip);
    return doc.toPlainText();
}

using test::findQube;

} // namespace

class tst_DiagramScene : public QObject
{
    Q_OBJECT

private slots:
    void missingNetvmIsAGhost();
    void itemCountsMatchModel_data();
    void itemCountsMatchModel();
    void positionsIdenticalAcrossRuns();
    void synthetic300AllVisibleNoOverlap();
    void linksFollowColouring();
    void failedAndStaleLinks();
    void selectionHighlightsEgressPath();
    void findMatchesNameOrIp_data();
    void findMatchesNameOrIp();
    void markupIsShownLiterally();
    void contextMenuHookAddsEntries();
    void legendCarriesExitsAndSource();
    void legendSaysIpv6();
};

void tst_DiagramScene::itemCountsMatchModel_data()
{
    QTest::addColumn<QString>("snapshot");
    QTest::addColumn<bool>("templates");
    QTest::newRow("demo") << "demo" << false;
    QTest::newRow("demo with templates") << "demo" << true;
    QTest::newRow("synthetic-300") << "synthetic-300" << false;
    QTest::newRow("synthetic-300 with templates") << "synthetic-300" << true;
}

void tst_DiagramScene::itemCountsMatchModel()
{
    QFETCH(QString, snapshot);
    QFETCH(bool, templates);
    const Snapshot s = snapshotNamed(snapshot);
    DiagramScene scene;
    scene.setShowTemplates(templates);
    scene.setSnapshot(s);

    const Topology topology(s);
    int qubes = 0;
    int links = 0;
    int internets = 0;
    for (int i = 0; i < topology.size(); ++i) {
        const Qube &q = s.qubes[size_t(i)];
        if (!templates && q.isTemplate())
            continue;
        ++qubes;
        if (topology.parentOf(i) >= 0)
            ++links;
        if (topology.parentOf(i) < 0 && q.providesNetwork && !q.netvm) {
            ++internets; // its Internet end, and the link to it
            ++links;
        }
    }
    QCOMPARE(scene.qubeItems().size(), qubes);
    QCOMPARE(scene.linkItems().size(), links);
    QCOMPARE(scene.internetItems().size(), internets);
    QVERIFY(scene.legend());
    for (const Qube &q : s.qubes)
        QCOMPARE(scene.qubeItem(q.name.toString()) != nullptr, templates || !q.isTemplate());
    // Every link joins two items that exist.
    for (LinkItem *link : scene.linkItems()) {
        QVERIFY(scene.qubeItem(link->lower()));
        QVERIFY(link->toInternet() || scene.qubeItem(link->upper()));
    }
}

void tst_DiagramScene::positionsIdenticalAcrossRuns()
{
    const Snapshot s = synthetic300();
    DiagramScene a;
    a.setSnapshot(s);
    DiagramScene b;
    b.setSnapshot(s);
    const QList<QubeItem *> itemsA = a.qubeItems();
    const QList<QubeItem *> itemsB = b.qubeItems();
    QCOMPARE(itemsA.size(), itemsB.size());
    for (int i = 0; i < itemsA.size(); ++i) {
        QCOMPARE(itemsA[i]->name(), itemsB[i]->name());
        QCOMPARE(itemsA[i]->pos(), itemsB[i]->pos());
        QCOMPARE(itemsA[i]->boundingRect(), itemsB[i]->boundingRect());
    }
    QCOMPARE(a.diagramRect(), b.diagramRect());
    QCOMPARE(a.legend()->pos(), b.legend()->pos());
    // Rebuilding the same scene gives the same picture too.
    a.setShowTemplates(true);
    a.setShowTemplates(false);
    for (QubeItem *item : a.qubeItems())
        QCOMPARE(item->pos(), b.qubeItem(item->name())->pos());
}

void tst_DiagramScene::synthetic300AllVisibleNoOverlap()
{
    const Snapshot s = synthetic300();
    QCOMPARE(int(s.qubes.size()), 300);
    DiagramScene scene;
    scene.setSnapshot(s);
    const QList<QubeItem *> items = scene.qubeItems();
    QVERIFY(items.size() > 280);
    QList<QRectF> boxes;
    for (QubeItem *item : items) {
        QVERIFY(item->isVisible());
        QVERIFY(item->opacity() > 0.99);
        const QRectF box = item->mapRectToScene(item->shape().boundingRect());
        QVERIFY(scene.diagramRect().contains(box));
        QVERIFY2(!box.intersects(scene.legend()->sceneBoundingRect()),
                 qPrintable(item->name() + " is under the legend"));
        boxes << box;
    }
    for (int i = 0; i < boxes.size(); ++i)
        for (int j = i + 1; j < boxes.size(); ++j)
            QVERIFY2(!boxes[i].intersects(boxes[j]),
                     qPrintable(items[i]->name() + " overlaps " + items[j]->name()));
    // Nothing hides a qube: the only items above a box are rings of its own.
    for (QubeItem *item : items) {
        const QPointF centre = item->mapToScene(item->shape().boundingRect().center());
        QubeItem *top = nullptr;
        for (QGraphicsItem *hit : scene.items(centre))
            if ((top = qgraphicsitem_cast<QubeItem *>(hit)))
                break;
        QCOMPARE(top, item);
    }
}

void tst_DiagramScene::linksFollowColouring()
{
    DiagramScene scene;
    scene.setSnapshot(demoSnapshot());
    const Colouring &colouring = scene.colouring();
    QVERIFY(colouring.exits.size() >= 3);
    int verified = 0;
    for (LinkItem *link : scene.linkItems()) {
        if (link->toInternet())
            continue;
        const LinkColour expected = colouring.links.value(link->lower());
        QCOMPARE(link->linkStyle().verified, expected.verified);
        QCOMPARE(link->linkStyle().colour, QColor(expected.colour));
        if (expected.verified)
            ++verified;
        else
            QCOMPARE(link->linkStyle().colour, QColor(Colouring::unverifiedColour()));
    }
    QVERIFY(verified >= 5);
    // Links that share an exit share a colour: work and untrusted leave by the same clearnet IP.
    LinkItem *work = nullptr;
    LinkItem *untrusted = nullptr;
    for (LinkItem *link : scene.linkItems()) {
        if (link->lower() == "work")
            work = link;
        if (link->lower() == "untrusted")
            untrusted = link;
    }
    QVERIFY(work && untrusted);
    QCOMPARE(work->linkStyle().colour, untrusted->linkStyle().colour);
    QCOMPARE(work->linkStyle().externalIp, QString("203.0.113.7"));
    // The Internet end of sys-net shows its verified exit.
    QCOMPARE(scene.internetItems().size(), 1);
    QCOMPARE(scene.internetItems().first()->exitIp(), QString("203.0.113.7"));
}

void tst_DiagramScene::failedAndStaleLinks()
{
    Snapshot s = demoSnapshot();
    // A failed check on work (on its current path) and an old result for untrusted taken on
    // another path.
    const Topology topology(s);
    CheckResult failed;
    failed.qube = findQube(s, "work")->name;
    failed.check = CheckKind::ExternalIp;
    failed.status = CheckStatus::Fail;
    failed.pathAtRun = topology.egressChain(u"work");
    s.checks.push_back(failed);
    for (CheckResult &r : s.checks)
        if (r.qube.toString() == "untrusted")
            r.pathAtRun = QStringList {"untrusted", "sys-vpn", "sys-firewall", "sys-net"};
    DiagramScene scene;
    scene.setSnapshot(s);
    for (LinkItem *link : scene.linkItems()) {
        if (link->lower() == "work") {
            QVERIFY(link->linkStyle().failed);
            QCOMPARE(link->linkStyle().colour, QColor(Colouring::failedColour()));
        }
        if (link->lower() == "untrusted") {
            QVERIFY(link->linkStyle().stale);
            QVERIFY(!link->linkStyle().verified);
        }
    }
}

void tst_DiagramScene::selectionHighlightsEgressPath()
{
    DiagramScene scene;
    scene.setSnapshot(demoSnapshot());
    QSignalSpy selected(&scene, &DiagramScene::qubeSelected);
    scene.selectQube("work-vpn");
    QCOMPARE(selected.count(), 1);
    QCOMPARE(selected.first().first().toString(), QString("work-vpn"));
    QCOMPARE(scene.selectedQube(), QString("work-vpn"));
    const QStringList chain = scene.egressChain("work-vpn");
    QCOMPARE(chain, QStringList({"work-vpn", "sys-vpn", "sys-firewall", "sys-net"}));
    for (QubeItem *item : scene.qubeItems())
        QCOMPARE(item->opacity() > 0.99, chain.contains(item->name()));
    int highlighted = 0;
    for (LinkItem *link : scene.linkItems()) {
        QCOMPARE(link->isHighlighted(), chain.contains(link->lower()));
        highlighted += link->isHighlighted();
    }
    QCOMPARE(highlighted, 4); // three netvm links and sys-net's link to the Internet
    QCOMPARE(scene.legend()->opacity(), 1.0);

    scene.selectQube(QString());
    QCOMPARE(scene.highlightedQube(), QString());
    for (QubeItem *item : scene.qubeItems())
        QCOMPARE(item->opacity(), 1.0);
    for (LinkItem *link : scene.linkItems())
        QVERIFY(!link->isHighlighted());
}

void tst_DiagramScene::findMatchesNameOrIp_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QStringList>("expected");
    QTest::newRow("part of a name") << "vpn" << QStringList {"sys-vpn", "work-vpn"};
    QTest::newRow("any case") << "WHONIX"
                              << QStringList {"sys-whonix", "whonix", "whonix-workstation-17-dvm"};
    QTest::newRow("an IP") << "10.137.0.15" << QStringList {"work"};
    QTest::newRow("part of an IP") << "10.138." << QStringList {"whonix"};
    QTest::newRow("nothing") << "nosuchqube" << QStringList {};
    QTest::newRow("empty clears") << "  " << QStringList {};
}

void tst_DiagramScene::findMatchesNameOrIp()
{
    QFETCH(QString, text);
    QFETCH(QStringList, expected);
    DiagramScene scene;
    scene.setSnapshot(demoSnapshot());
    QCOMPARE(scene.find(text), expected);
    for (QubeItem *item : scene.qubeItems())
        QCOMPARE(item->isMatched(), expected.contains(item->name()));
    // A refresh keeps the find.
    scene.setSnapshot(demoSnapshot());
    QCOMPARE(scene.matches(), expected);
}

void tst_DiagramScene::markupIsShownLiterally()
{
    // Qube names are validated and cannot carry markup...
    QVERIFY(!QubeName::fromUntrusted(u"<b>x</b>"));
    QVERIFY(!QubeName::fromUntrusted(u"<img src=x>"));
    // ...but states, classes, labels and the source detail come as they are.
    Snapshot s = demoSnapshot();
    Qube *work = findQube(s, "work");
    work->state = "<b>x</b>";
    work->label = "<img src=x>";
    work->klass = "<i>Odd</i>";
    s.sourceDetail = "<b>bold</b> & co";
    s.source = "snapshot";
    DiagramScene scene;
    scene.setSnapshot(s);
    QubeItem *item = scene.qubeItem("work");
    QVERIFY(item);
    QVERIFY2(item->displayedDetail().contains("<b>x</b>"), qPrintable(item->displayedDetail()));
    const QString tip = shownToolTip(item->toolTip());
    QVERIFY2(tip.contains("<b>x</b>"), qPrintable(tip));
    QVERIFY2(tip.contains("<img src=x>"), qPrintable(tip));
    QVERIFY(!item->toolTip().contains("<img"));
    QVERIFY(scene.legend()->texts().contains("Source: snapshot file <b>bold</b> & co"));
    for (LinkItem *link : scene.linkItems())
        QVERIFY(!link->toolTip().contains("<img"));
    // Unknown labels draw gray rather than failing.
    QCOMPARE(item->labelColour(), DiagramTheme::labelColour("gray"));
}

void tst_DiagramScene::contextMenuHookAddsEntries()
{
    DiagramScene scene;
    scene.setSnapshot(demoSnapshot());
    QStringList asked;
    connect(&scene, &DiagramScene::contextMenuRequested, this,
            [&asked](const QString &qube, QMenu *menu) {
                asked << qube;
                menu->addAction("Run checks on " + qube);
            });
    std::unique_ptr<QMenu> menu(scene.createContextMenu("work"));
    QCOMPARE(asked, QStringList {"work"});
    QCOMPARE(menu->actions().size(), 1);
    QCOMPARE(menu->actions().first()->text(), QString("Run checks on work"));
}

void tst_DiagramScene::legendCarriesExitsAndSource()
{
    DiagramScene scene;
    scene.setSnapshot(demoSnapshot());
    const QStringList texts = scene.legend()->texts();
    QVERIFY(texts.contains("Source: demo network"));
    QVERIFY(texts.contains("Snapshot: 2026-11-28 14:02 UTC"));
    for (const ExitInfo &exit : scene.colouring().exits) {
        bool found = false;
        for (const QString &t : texts)
            found = found || (t.startsWith(exit.ip) && t.contains(exit.kind));
        QVERIFY2(found, qPrintable(exit.ip));
    }
    QVERIFY(texts.contains("not verified"));
    QVERIFY(texts.contains("expectation failed"));
    // The legend lies inside what fit shows and exports render, and covers no qube.
    QVERIFY(scene.diagramRect().contains(scene.legend()->sceneBoundingRect()));
    for (QubeItem *item : scene.qubeItems())
        QVERIFY(!item->sceneBoundingRect().intersects(scene.legend()->sceneBoundingRect()));
    for (GroupItem *group : scene.groupItems())
        QVERIFY(!group->sceneBoundingRect().intersects(scene.legend()->sceneBoundingRect()));
}

void tst_DiagramScene::legendSaysIpv6()
{
    // The demo's one IPv6 path is named; a VPN client whose IPv6 leaves by the clearnet /64 is
    // drawn as a leak and both its exits are in the legend.
    Snapshot s = demoSnapshot();
    DiagramScene plain;
    plain.setSnapshot(s);
    QVERIFY(plain.legend()->texts().contains("IPv6 on: work → sys-firewall → sys-net"));
    for (CheckResult &c : s.checks)
        if (c.qube.toString() == "work-vpn" && c.check == CheckKind::ExternalIp)
            c.externalIp6 = "2001:db8:7:1:9::3";
    DiagramScene scene;
    scene.setSnapshot(s);
    const QStringList texts = scene.legend()->texts();
    QVERIFY2(texts.contains("IPv6 leak work-vpn: IPv4 by 198.51.100.23 (vpn),"),
             qPrintable(texts.join(" | ")));
    QVERIFY(texts.contains("    IPv6 by 2001:db8:7:1::/64 (clearnet)"));
    QVERIFY(scene.colouring().links.value("work-vpn").failed);
    QVERIFY(!plain.colouring().links.value("work-vpn").failed);
}

QTEST_MAIN(tst_DiagramScene)
// Problem 12: a netvm that does not exist was drawn under "No network", its name nowhere.
void tst_DiagramScene::missingNetvmIsAGhost()
{
    Snapshot s = demoSnapshot();
    test::setNetvm(s, "work", "sys-gone");
    DiagramScene scene;
    scene.setSnapshot(s);
    QubeItem *ghost = scene.qubeItem("sys-gone");
    QVERIFY(ghost);
    QVERIFY(ghost->isMissing());
    QVERIFY(ghost->displayedDetail().startsWith("missing"));
    QVERIFY(!scene.snapshot().find(u"sys-gone")); // the data stays as read
    bool linked = false;
    for (LinkItem *l : scene.linkItems())
        linked |= l->lower() == "work" && l->upper() == "sys-gone";
    QVERIFY(linked);
    // The qube sits one level after its missing netvm (levels run left to right).
    QVERIFY(scene.qubeItem("work")->pos().x() > ghost->pos().x());
    QVERIFY(!scene.qubeItem("sys-firewall")->isMissing());
}

#include "tst_diagramscene.moc"
