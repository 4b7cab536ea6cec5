// The main window: clicking fills the inspector, context menu, find, zoom, shortcuts, settings,
// and text from qubes shown literally.

#include "checks/checkcontroller.h"
#include "checks/evidencedialog.h"
#include "checks/resultsdock.h"
#include "diagram/clusteritem.h"
#include "diagram/diagramscene.h"
#include "diagram/diagramtheme.h"
#include "diagram/diagramview.h"
#include "diagram/legenditem.h"
#include "diagram/overviewwidget.h"
#include "diagram/qubeitem.h"
#include "export/diagrampicture.h"
#include "formats/snapshotyaml.h"
#include "inspector/inspectordock.h"
#include "io/redaction.h"
#include "mainwindow.h"
#include "snapshots.h"

#include "realqubes.h"

#include <QAccessible>
#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QContextMenuEvent>
#include <QDockWidget>
#include <QFile>
#include <QGuiApplication>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPaintEngine>
#include <QPainter>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QSettings>
#include <QStandardPaths>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <functional>
#include <memory>

using namespace netmap;

namespace {

using test::findQube;

QString value(const MainWindow &window, const QString &key)
{
    auto *label = window.inspector()->findChild<QLabel *>("value." + key);
    return label ? label->text() : QString("<missing>");
}

void clickQube(MainWindow &window, const QString &name, Qt::MouseButton button = Qt::LeftButton)
{
    QubeItem *item = window.scene()->qubeItem(name);
    QVERIFY(item);
    window.view()->centerOn(item);
    const QPointF centre = item->mapToScene(item->shape().boundingRect().center());
    const QPoint pos = window.view()->mapFromScene(centre);
    QTest::mouseClick(window.view()->viewport(), button, {}, pos);
}

} // namespace

class tst_MainWindow : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void clickingAQubeFillsTheInspector();
    void egressListIsClickable();
    void contextMenuHoldsItsActions();
    void rightClickOpensTheMenu();
    void actionsHaveTheirShortcuts_data();
    void actionsHaveTheirShortcuts();
    void findHighlightsAndCentres();
    void zoomAndFit();
    void templatesToggle();
    void firewallSaidInWords_data();
    void firewallSaidInWords();
    void markupShownLiterallyInInspector();
    void statusSaysWhereDataCameFrom();
    void geometryPersists();
    void liveSourceReadsQubesAndFirewall();
    void liveFailureIsNeverTheDemo_data();
    void liveFailureIsNeverTheDemo();
    void demoAndSnapshotCarryABanner();
    void openAndSaveFromTheFileMenu();
    void failedSnapshotLoadKeepsAUsableWindow();
    void namesReadableAtFit();
    void findZoomsSelectsAndCycles();
    void keyboardReachesQubes();
    void helpDefinesEachStatus();
    void compareWithASavedSnapshot();
    void redactForSharing();
    void inspectorSaysWhatToDo();
    void largeNetworkFoldsToReadableNames();
    void overviewShowsAndMovesTheView();
    void qubesAreAccessibleItems();
    void contextEntriesHaveWorkingKeys();
    void darkPaletteIsRespected();
    void everyMenuEntryHasItsOwnKey();
    void userFoldsSurviveAGrowingNetwork();
};

void tst_MainWindow::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName("qubes-netmap-tests");
    // Its own settings per Qubes release: CTest runs the two at the same time, and
    // geometryPersists() reads back what it saved.
    QCoreApplication::setApplicationName("tst_mainwindow-" + test::RealQubes::release());
}

void tst_MainWindow::init()
{
    QSettings().clear();
}

void tst_MainWindow::clickingAQubeFillsTheInspector()
{
    MainWindow window(SourceSpec {SourceSpec::Kind::Demo, QString()});
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QCOMPARE(window.inspector()->currentQube(), QString());

    clickQube(window, "work");
    QCOMPARE(window.inspector()->currentQube(), QString("work"));
    QCOMPARE(window.scene()->selectedQube(), QString("work"));
    QCOMPARE(window.inspector()->findChild<QLabel *>("inspectorTitle")->text(), QString("work"));
    QCOMPARE(value(window, "class"), QString("AppVM"));
    QCOMPARE(value(window, "state"), QString("Running"));
    QCOMPARE(value(window, "label"), QString("blue"));
    QCOMPARE(value(window, "template"), QString("debian-12-xfce"));
    QCOMPARE(value(window, "netvm"), QString("sys-firewall"));
    QCOMPARE(value(window, "ip"), QString("10.137.0.15"));
    QCOMPARE(value(window, "gateway"), QString("10.137.0.6"));
    QVERIFY(value(window, "exit").startsWith("203.0.113.7"));
    QVERIFY(value(window, "expected").startsWith("clearnet"));
    auto *egress = window.inspector()->findChild<QListWidget *>("egressList");
    QCOMPARE(egress->count(), 4); // work, sys-firewall, sys-net, Internet
    QVERIFY(egress->item(2)->text().contains("sys-net"));
    auto *checks = window.inspector()->findChild<QTableWidget *>("checksTable");
    int externalIp = -1;
    for (int row = 0; row < checks->rowCount(); ++row)
        if (checks->item(row, 0)->text() == "external-ip")
            externalIp = row;
    QVERIFY(externalIp >= 0);
    QCOMPARE(checks->item(externalIp, 1)->text(), QString("pass"));
    QCOMPARE(checks->item(externalIp, 2)->text(), QString("203.0.113.7"));
    checks->setCurrentCell(externalIp, 0);
    auto *details = window.inspector()->findChild<QPlainTextEdit *>("checkDetails");
    QVERIFY(details->toPlainText().contains("NETMAP-IP 0 203.0.113.7"));

    // Clicking empty space clears the selection and the highlight.
    QTest::mouseClick(window.view()->viewport(), Qt::LeftButton, {}, QPoint(3, 3));
    QCOMPARE(window.scene()->selectedQube(), QString());
    QCOMPARE(window.inspector()->currentQube(), QString());
}

void tst_MainWindow::egressListIsClickable()
{
    MainWindow window(SourceSpec {SourceSpec::Kind::Demo, QString()});
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    window.inspect("work-vpn");
    auto *egress = window.inspector()->findChild<QListWidget *>("egressList");
    QCOMPARE(egress->count(), 5);
    const QRect hop = egress->visualItemRect(egress->item(1));
    QTest::mouseClick(egress->viewport(), Qt::LeftButton, {}, hop.center());
    QCOMPARE(window.inspector()->currentQube(), QString("sys-vpn"));
    QCOMPARE(window.scene()->selectedQube(), QString("sys-vpn"));
}

void tst_MainWindow::contextMenuHoldsItsActions()
{
    MainWindow window(SourceSpec {SourceSpec::Kind::Demo, QString()});
    // Another part of the program adds its entries after the window's.
    connect(
        window.scene(), &DiagramScene::contextMenuRequested, this,
        [](const QString &, QMenu *menu) { menu->addAction("Verify")->setObjectName("verify"); });
    std::unique_ptr<QMenu> menu(window.scene()->createContextMenu("work"));
    QStringList names;
    for (QAction *action : menu->actions())
        if (!action->isSeparator())
            names << action->objectName();
    // The window's entries come first; the test's own comes after every other part's.
    QCOMPARE(names.mid(0, 5),
             QStringList({"inspect", "highlightEgress", "showFirewall", "copyName", "copyIp"}));
    QCOMPARE(names.last(), QString("verify"));
    QCOMPARE(menu->defaultAction()->objectName(), QString("inspect"));

    menu->findChild<QAction *>("highlightEgress");
    for (QAction *action : menu->actions())
        if (action->objectName() == "highlightEgress")
            action->trigger();
    QCOMPARE(window.scene()->highlightedQube(), QString("work"));
    for (QAction *action : menu->actions())
        if (action->objectName() == "copyIp")
            action->trigger();
    QCOMPARE(QApplication::clipboard()->text(), QString("10.137.0.15"));
    for (QAction *action : menu->actions())
        if (action->objectName() == "copyName")
            action->trigger();
    QCOMPARE(QApplication::clipboard()->text(), QString("work"));
    for (QAction *action : menu->actions())
        if (action->objectName() == "inspect")
            action->trigger();
    QCOMPARE(window.inspector()->currentQube(), QString("work"));

    // A qube without an IP cannot copy one.
    std::unique_ptr<QMenu> vault(window.scene()->createContextMenu("vault"));
    for (QAction *action : vault->actions())
        if (action->objectName() == "copyIp")
            QVERIFY(!action->isEnabled());
}

void tst_MainWindow::rightClickOpensTheMenu()
{
    MainWindow window(SourceSpec {SourceSpec::Kind::Demo, QString()});
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QubeItem *item = window.scene()->qubeItem("untrusted");
    const QPoint pos
        = window.view()->mapFromScene(item->mapToScene(item->shape().boundingRect().center()));
    QStringList shown;
    // The menu runs its own event loop: read it and close it from inside.
    QTimer::singleShot(200, this, [&shown] {
        if (auto *menu = qobject_cast<QMenu *>(QApplication::activePopupWidget())) {
            for (QAction *action : menu->actions())
                if (!action->isSeparator())
                    shown << action->text();
            menu->close();
        }
    });
    QContextMenuEvent event(QContextMenuEvent::Mouse, pos,
                            window.view()->viewport()->mapToGlobal(pos));
    QCoreApplication::sendEvent(window.view()->viewport(), &event);
    // The window's own entries first (the checks and others follow them).
    QCOMPARE(shown.mid(0, 5),
             QStringList({"Inspect", "Highlight egress path", "Show firewall rules", "Copy name",
                          "Copy IP"}));
    QCOMPARE(window.scene()->selectedQube(), QString("untrusted"));
}

void tst_MainWindow::actionsHaveTheirShortcuts_data()
{
    QTest::addColumn<QString>("action");
    QTest::addColumn<QKeySequence>("keys");
    QTest::newRow("refresh") << "refreshAction" << QKeySequence(Qt::Key_F5);
    QTest::newRow("fit") << "fitAction" << QKeySequence(Qt::CTRL | Qt::Key_0);
    QTest::newRow("zoom in") << "zoomInAction" << QKeySequence(Qt::CTRL | Qt::Key_Equal);
    QTest::newRow("zoom out") << "zoomOutAction" << QKeySequence(Qt::CTRL | Qt::Key_Minus);
    QTest::newRow("find") << "findAction" << QKeySequence(Qt::CTRL | Qt::Key_F);
    QTest::newRow("export") << "exportAction" << QKeySequence(Qt::CTRL | Qt::Key_E);
    QTest::newRow("quit") << "quitAction" << QKeySequence(Qt::CTRL | Qt::Key_Q);
}

void tst_MainWindow::actionsHaveTheirShortcuts()
{
    QFETCH(QString, action);
    QFETCH(QKeySequence, keys);
    MainWindow window(SourceSpec {SourceSpec::Kind::Demo, QString()});
    auto *a = window.findChild<QAction *>(action);
    QVERIFY(a);
    QVERIFY2(a->shortcuts().contains(keys), qPrintable(a->shortcut().toString()));
}

void tst_MainWindow::findHighlightsAndCentres()
{
    MainWindow window(SourceSpec {SourceSpec::Kind::Demo, QString()});
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    window.view()->zoomBy(3); // so that centring is visible
    QTest::keyClick(&window, Qt::Key_F, Qt::ControlModifier);
    QVERIFY(window.findEdit()->hasFocus());
    QTest::keyClicks(window.findEdit(), "10.137.0.16");
    QCOMPARE(window.scene()->matches(), QStringList {"untrusted"});
    QVERIFY(window.scene()->qubeItem("untrusted")->isMatched());
    const QPointF centre = window.view()->mapToScene(window.view()->viewport()->rect().center());
    const QRectF box = window.scene()->qubeItem("untrusted")->sceneBoundingRect();
    QVERIFY2(box.adjusted(-20, -20, 20, 20).contains(centre), "the view centres on the match");
    window.findEdit()->clear();
    QVERIFY(!window.scene()->qubeItem("untrusted")->isMatched());
}

void tst_MainWindow::zoomAndFit()
{
    MainWindow window(SourceSpec {SourceSpec::Kind::File, NETMAP_TEST_DATA "/synthetic-300.yaml"});
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    DiagramView *view = window.view();
    // Fitted: the whole 300-qube diagram (its large groups of clients folded) is on screen, or
    // as much of it as fits with readable names.
    const QRectF shown = view->mapToScene(view->viewport()->rect()).boundingRect();
    QVERIFY(shown.adjusted(-2, -2, 2, 2).contains(window.scene()->diagramRect())
            || qFuzzyCompare(view->zoom(), DiagramView::kReadableZoom));
    QVERIFY(view->zoom() >= DiagramView::kReadableZoom - 1e-9);
    const double fitted = view->zoom();
    QTest::keySequence(&window, QKeySequence(Qt::CTRL | Qt::Key_Equal));
    QVERIFY(view->zoom() > fitted * 1.1);
    QTest::keySequence(&window, QKeySequence(Qt::CTRL | Qt::Key_Minus));
    QTest::keySequence(&window, QKeySequence(Qt::CTRL | Qt::Key_Minus));
    QVERIFY(view->zoom() < fitted);
    QTest::keySequence(&window, QKeySequence(Qt::CTRL | Qt::Key_0));
    QCOMPARE(view->zoom(), fitted);
    // The wheel zooms too, and never past the limits.
    for (int i = 0; i < 60; ++i)
        view->zoomBy(2);
    QCOMPARE(view->zoom(), DiagramView::kMaxZoom);
}

void tst_MainWindow::templatesToggle()
{
    MainWindow window(SourceSpec {SourceSpec::Kind::Demo, QString()});
    const int before = window.scene()->qubeItems().size();
    QVERIFY(!window.scene()->qubeItem("debian-12-xfce"));
    window.findChild<QAction *>("templatesAction")->trigger();
    QCOMPARE(window.scene()->qubeItems().size(), before + 3);
    QVERIFY(window.scene()->qubeItem("debian-12-xfce"));
    QCOMPARE(QSettings().value("view/showTemplates").toBool(), true);
}

void tst_MainWindow::firewallSaidInWords_data()
{
    QTest::addColumn<QString>("qube");
    QTest::addColumn<QString>("summary");
    QTest::addColumn<int>("rows");
    QTest::newRow("work: web and DNS only") << "work"
                                            << "Default drop" << 3;
    QTest::newRow("untrusted: no firewall") << "untrusted"
                                            << "Allow all" << 1;
    QTest::newRow("sys-vpn: not in the snapshot") << "sys-vpn"
                                                  << "Not in this snapshot" << 0;
}

void tst_MainWindow::firewallSaidInWords()
{
    QFETCH(QString, qube);
    QFETCH(QString, summary);
    QFETCH(int, rows);
    MainWindow window(SourceSpec {SourceSpec::Kind::Demo, QString()});
    window.inspect(qube);
    auto *label = window.inspector()->findChild<QLabel *>("firewallSummary");
    QVERIFY2(label->text().startsWith(summary), qPrintable(label->text()));
    auto *table = window.inspector()->findChild<QTableWidget *>("firewallTable");
    QCOMPARE(table->rowCount(), rows);
    if (qube == "work") {
        QCOMPARE(table->item(0, 2)->text(), QString("accept tcp to anywhere port 443"));
        QCOMPARE(table->item(0, 3)->text(), QString("web only"));
        QCOMPARE(table->item(2, 1)->text(), QString("drop"));
    }
}

void tst_MainWindow::markupShownLiterallyInInspector()
{
    Snapshot s = demoSnapshot();
    Qube *work = findQube(s, "work");
    work->state = "<b>x</b>";
    work->label = "<img src=x>";
    FirewallRule rule;
    rule.action = "accept";
    rule.comment = "<img src=x>";
    s.firewall["work"] = {rule};
    for (CheckResult &r : s.checks)
        if (r.qube.toString() == "work") {
            r.observed = "<b>observed</b>";
            r.output = "<script>alert(1)</script>";
        }
    MainWindow window(SourceSpec {SourceSpec::Kind::Demo, QString()});
    window.setSnapshot(s);
    window.inspect("work");
    QCOMPARE(value(window, "state"), QString("<b>x</b>"));
    QVERIFY(value(window, "label").startsWith("<img src=x>"));
    for (QLabel *label : window.inspector()->findChildren<QLabel *>())
        QVERIFY2(label->textFormat() == Qt::PlainText, qPrintable(label->objectName()));
    auto *table = window.inspector()->findChild<QTableWidget *>("firewallTable");
    QCOMPARE(table->item(0, 3)->text(), QString("<img src=x>"));
    auto *checks = window.inspector()->findChild<QTableWidget *>("checksTable");
    bool shown = false;
    for (int row = 0; row < checks->rowCount(); ++row) {
        if (checks->item(row, 2)->text() != "<b>observed</b>")
            continue;
        shown = true;
        checks->setCurrentCell(row, 0);
        auto *details = window.inspector()->findChild<QPlainTextEdit *>("checkDetails");
        QVERIFY(details->toPlainText().contains("<script>alert(1)</script>"));
    }
    QVERIFY(shown);
    QCOMPARE(window.findChild<QLabel *>("sourceLabel")->textFormat(), Qt::PlainText);
}

void tst_MainWindow::statusSaysWhereDataCameFrom()
{
    MainWindow demo(SourceSpec {SourceSpec::Kind::Demo, QString()});
    QCOMPARE(demo.statusText(), QString("Demo network · 15 qubes"));
    MainWindow file(SourceSpec {SourceSpec::Kind::File, NETMAP_TEST_DATA "/synthetic-300.yaml"});
    const QDateTime taken = QDateTime::fromString("2026-11-28T14:00:00Z", Qt::ISODate);
    QCOMPARE(file.statusText(),
             QString("Snapshot file synthetic-300.yaml, taken %1 · 300 qubes")
                 .arg(taken.toLocalTime().toString("yyyy-MM-dd HH:mm")));
    // After --verify the lead's code hands over a new snapshot: the source stays the same.
    Snapshot verified = demoSnapshot();
    verified.qubes.pop_back();
    demo.setSnapshot(verified);
    QCOMPARE(demo.statusText(), QString("Demo network · 14 qubes"));
    // A snapshot file that cannot be read says so, without blocking.
    MainWindow broken(SourceSpec {SourceSpec::Kind::File, NETMAP_TEST_DATA "/no-such.yaml"});
    QVERIFY2(broken.statusText().contains("no-such.yaml"), qPrintable(broken.statusText()));
    QCOMPARE(broken.scene()->qubeItems().size(), 0);
}

void tst_MainWindow::geometryPersists()
{
    QByteArray state;
    {
        MainWindow window(SourceSpec {SourceSpec::Kind::Demo, QString()});
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.resize(1000, 700);
        window.inspector()->setFloating(false);
        window.inspector()->hide();
        window.findChild<QDockWidget *>("legendDock")->hide();
        QTRY_COMPARE(window.centralWidget()->width(), 1000); // laid out without the docks
        state = window.saveState();
        window.close();
    }
    MainWindow again(SourceSpec {SourceSpec::Kind::Demo, QString()});
    QCOMPARE(again.size(), QSize(1000, 700));
    QVERIFY(again.inspector()->isHidden());
    // Docks shown at the bottom get their sizes once the window is laid out.
    again.show();
    QVERIFY(QTest::qWaitForWindowExposed(&again));
    QCOMPARE(again.saveState(), state);
}

void tst_MainWindow::liveSourceReadsQubesAndFirewall()
{
    // The real qvm-ls, qubes-prefs and qvm-firewall against the qubesd stand-in.
    QJsonObject state = test::RealQubes::load(NETMAP_TEST_DATA "/standin/qubes43.json");
    QJsonObject qubes = state.value("qubes").toObject();
    QJsonObject work = qubes.value("work").toObject();
    QJsonArray rules;
    QFile mixed(NETMAP_TEST_DATA "/qvm-firewall/good-mixed.txt");
    QVERIFY(mixed.open(QIODevice::ReadOnly));
    for (const QByteArray &line : mixed.readAll().split('\n'))
        if (!line.trimmed().isEmpty())
            rules.append(QString::fromUtf8(line.trimmed()));
    work.insert("firewall", rules);
    qubes.insert("work", work);
    state.insert("qubes", qubes);
    test::RealQubes real;
    NETMAP_START_REAL_QUBES(real, state);
    const QByteArray path = qgetenv("PATH");
    qputenv("PATH", real.path(path));
    {
        MainWindow window(SourceSpec {SourceSpec::Kind::Live, QString()});
        // Never blocks: the window exists before qvm-ls has answered.
        QCOMPARE(window.statusText(), QString("Reading qubes with qvm-ls…"));
        QTRY_VERIFY_WITH_TIMEOUT(window.scene()->qubeItem("work"), 20000);
        QVERIFY2(window.statusText().startsWith("qvm-ls, "), qPrintable(window.statusText()));
        window.inspect("work");
        auto *table = window.inspector()->findChild<QTableWidget *>("firewallTable");
        QTRY_COMPARE_WITH_TIMEOUT(table->rowCount(), 9, 20000);
        auto *summary = window.inspector()->findChild<QLabel *>("firewallSummary");
        QVERIFY2(summary->text().startsWith("Default drop"), qPrintable(summary->text()));
        QCOMPARE(table->item(3, 3)->text(), QString("VPN endpoint (primary)"));

        // qubesd refusing the list on refresh: the picture stays and the status says why.
        QJsonObject misbehave {
            {"error", QJsonObject {{"admin.vm.List", QJsonArray {"QubesException", "down"}}}}};
        state.insert("misbehave", misbehave);
        QVERIFY(real.setState(state));
        window.refresh();
        QTRY_VERIFY_WITH_TIMEOUT(window.statusText().contains("qvm-ls failed"), 20000);
        QVERIFY(window.scene()->qubeItem("work"));
    }
    qputenv("PATH", path);
}

void tst_MainWindow::liveFailureIsNeverTheDemo_data()
{
    QTest::addColumn<bool>("tools");
    QTest::addColumn<QString>("why");
    QTest::newRow("qvm-ls missing") << false << QString("not found");
    // The real tools, but qubesd does not answer (its socket is gone).
    QTest::newRow("qvm-ls fails") << true << QString("qubesd");
}

// Problem 1: without a readable qvm-ls the window once showed the demo network as the user's.
void tst_MainWindow::liveFailureIsNeverTheDemo()
{
    QFETCH(bool, tools);
    QFETCH(QString, why);
    const QByteArray oldPath = qgetenv("PATH");
    test::RealQubes real;
    if (tools) {
        NETMAP_START_REAL_QUBES(real,
                                test::RealQubes::load(NETMAP_TEST_DATA "/standin/qubes43.json"));
        QVERIFY(QFile::remove(real.socketPath()));
        qputenv("PATH", real.path(oldPath));
    } else {
        qputenv("PATH", "/nonexistent");
    }
    {
        MainWindow window(SourceSpec {SourceSpec::Kind::Live, QString()});
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QTRY_VERIFY_WITH_TIMEOUT(window.isBannerShown(), 10000);
        QVERIFY2(window.bannerText().startsWith("Cannot read your qubes"),
                 qPrintable(window.bannerText()));
        QVERIFY2(window.bannerText().contains(why), qPrintable(window.bannerText()));
        QCOMPARE(window.scene()->qubeItems().size(), 0);
        QVERIFY(!window.statusText().contains("Demo"));
        QCOMPARE(window.source().kind, SourceSpec::Kind::Live);
        auto *demo = window.findChild<QPushButton *>("openDemoButton");
        auto *open = window.findChild<QPushButton *>("openSnapshotButton");
        QVERIFY(demo && demo->isVisible());
        QVERIFY(open && open->isVisible());
        QString reason;
        QVERIFY(!window.checksAllowed(&reason));

        // "Open the demo" opens it as the demo, in a window that says so.
        qputenv("PATH", oldPath);
        MainWindow *next = window.openSource(SourceSpec {SourceSpec::Kind::Demo, QString()});
        QVERIFY(next);
        QCOMPARE(next->source().kind, SourceSpec::Kind::Demo);
        QVERIFY(next->bannerText().startsWith("Demo network"));
        QVERIFY(!window.isVisible());
        delete next;
    }
    qputenv("PATH", oldPath);
}

// Problems 1 and 2: the demo and snapshots name their source above the map, at every zoom.
void tst_MainWindow::demoAndSnapshotCarryABanner()
{
    MainWindow demo(SourceSpec {SourceSpec::Kind::Demo, QString()});
    QVERIFY(demo.isBannerShown());
    QVERIFY2(demo.bannerText().contains("not your system"), qPrintable(demo.bannerText()));
    QVERIFY(demo.bannerText().contains("Checks are off"));
    QVERIFY(!demo.findChild<QPushButton *>("openDemoButton")->isVisibleTo(&demo));
    QString why;
    QVERIFY(!demo.checksAllowed(&why));
    QVERIFY(why.contains("live system"));
    // The banner is a widget above the view, not an item of the zoomed scene.
    auto *banner = demo.findChild<QWidget *>("sourceBanner");
    QVERIFY(banner);
    QVERIFY(!demo.view()->isAncestorOf(banner));

    MainWindow file(SourceSpec {SourceSpec::Kind::File, NETMAP_TEST_DATA "/synthetic-300.yaml"});
    QVERIFY(file.bannerText().startsWith("Saved snapshot synthetic-300.yaml, taken "));
    QVERIFY(file.bannerText().contains("not the live system"));
    QVERIFY(!file.checksAllowed());
}

// Problem 3: results can be kept: File offers Open snapshot, Save snapshot, Save report and
// Export picture; a saved snapshot opens again with its results.
void tst_MainWindow::openAndSaveFromTheFileMenu()
{
    MainWindow window(SourceSpec {SourceSpec::Kind::Demo, QString()});
    QMenu *file = nullptr;
    for (QAction *a : window.menuBar()->actions())
        if (a->text() == "&File")
            file = a->menu();
    QVERIFY(file);
    QStringList names;
    for (QAction *a : file->actions())
        names << a->objectName();
    for (const char *name :
         {"openSnapshotAction", "saveSnapshotAction", "saveReportAction", "exportAction"})
        QVERIFY2(names.contains(name), name);
    QTemporaryDir dir;
    const QString yaml = dir.filePath("kept.yaml");
    QVERIFY(window.saveSnapshotTo(yaml));
    QVERIFY(window.saveReportTo(dir.filePath("kept.md")));
    QVERIFY(window.saveReportTo(dir.filePath("kept.json")));
    QFile md(dir.filePath("kept.md"));
    QVERIFY(md.open(QIODevice::ReadOnly));
    QVERIFY(md.readAll().startsWith("#"));
    QFile json(dir.filePath("kept.json"));
    QVERIFY(json.open(QIODevice::ReadOnly));
    QVERIFY(json.readAll().trimmed().startsWith("{"));
    MainWindow *again = window.openSource(SourceSpec {SourceSpec::Kind::File, yaml});
    QVERIFY(again);
    QCOMPARE(again->snapshot().checks.size(), window.snapshot().checks.size());
    QVERIFY(again->snapshot().checks.size() > 0);
    delete again;
}

// Problem 12: a snapshot that cannot be read leaves a window that can open another one.
void tst_MainWindow::failedSnapshotLoadKeepsAUsableWindow()
{
    MainWindow broken(SourceSpec {SourceSpec::Kind::File, NETMAP_TEST_DATA "/no-such.yaml"});
    broken.show();
    QVERIFY(QTest::qWaitForWindowExposed(&broken));
    QVERIFY(broken.bannerText().startsWith("Cannot open the snapshot"));
    QVERIFY(broken.findChild<QPushButton *>("openSnapshotButton")->isVisible());
    QVERIFY(broken.findChild<QPushButton *>("openDemoButton")->isVisible());
    auto *open = broken.findChild<QAction *>("openSnapshotAction");
    QVERIFY(open && open->isEnabled());
    QCOMPARE(open->shortcut(), QKeySequence(Qt::CTRL | Qt::Key_O));
}

namespace {

// The height in pixels of the ink of a qube's name as the view renders it (ascender to
// descender), measured on a grab of the viewport.
int renderedNameHeight(MainWindow &window, const QString &qube)
{
    QubeItem *item = window.scene()->qubeItem(qube);
    if (!item)
        return -1;
    const QRectF box = item->boundingRect().adjusted(6, 6, -6, -6); // the box itself
    // The name's line: from the top edge to just above the detail line, right of the icon band.
    const QRectF nameArea(box.left() + DiagramTheme::kIconWidth + 4, box.top() + 3,
                          box.width() - DiagramTheme::kIconWidth - 20, 22);
    const QRect area = window.view()
                           ->mapFromScene(item->mapToScene(nameArea))
                           .boundingRect()
                           .intersected(window.view()->viewport()->rect());
    const QImage image = window.view()->viewport()->grab().toImage();
    const double ratio = image.devicePixelRatio();
    int first = -1, last = -1;
    for (int y = area.top(); y <= area.bottom(); ++y) {
        bool ink = false;
        for (int x = area.left(); x <= area.right() && !ink; ++x)
            ink = qGray(image.pixel(int(x * ratio), int(y * ratio))) < 110;
        if (ink) {
            if (first < 0)
                first = y;
            last = y;
        }
    }
    return first < 0 ? 0 : last - first + 1;
}

} // namespace

// Problem 7: the legend was part of the scene, so Fit shrank qube names to about 8 px in a
// 1280x800 window. It now sits outside the zoomed scene (exports keep it inside).
void tst_MainWindow::namesReadableAtFit()
{
    MainWindow window(SourceSpec {SourceSpec::Kind::Demo, QString()});
    window.resize(1280, 800);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    window.fitDiagram();
    QVERIFY(!window.scene()->isLegendInScene());
    QVERIFY(!window.scene()->legend()->isVisible());
    const QRectF without = window.scene()->diagramRect();
    QVERIFY(!without.contains(window.scene()->legend()->sceneBoundingRect()));
    auto *dock = window.findChild<QDockWidget *>("legendDock");
    QVERIFY(dock && dock->isVisible());
    auto *canvas = dock->findChild<QWidget *>("legendCanvas");
    QVERIFY(canvas);
    QVERIFY(!window.view()->isAncestorOf(canvas));
    QCOMPARE(canvas->size(),
             window.scene()->legend()->boundingRect().size().toSize() + QSize(2, 2));
    QVERIFY(canvas->accessibleDescription().contains("203.0.113.7"));
    const int height = renderedNameHeight(window, "sys-firewall");
    qInfo("name ink height at fit: %d px (zoom %.2f)", height, window.view()->zoom());
    QVERIFY2(height >= 9, qPrintable(QString::number(height)));

    // The legend in the scene (as exports have it) would cost the names their size.
    window.scene()->setLegendInScene(true);
    window.fitDiagram();
    QVERIFY(window.scene()->diagramRect().contains(window.scene()->legend()->sceneBoundingRect()));
    QVERIFY(window.scene()->diagramRect().height() > without.height());
    qInfo("with the legend in the scene: %d px (zoom %.2f)",
          renderedNameHeight(window, "sys-firewall"), window.view()->zoom());
    window.scene()->setLegendInScene(false);
    // Ctrl+L hides and shows it.
    auto *legend = window.findChild<QAction *>("legendAction");
    QVERIFY(legend);
    QCOMPARE(legend->shortcut(), QKeySequence(Qt::CTRL | Qt::Key_L));
    legend->trigger();
    QVERIFY(!dock->isVisible());
    legend->trigger();
    QVERIFY(dock->isVisible());
}

// Problem 8: Find/Enter neither zoomed to nor selected the match; labels, tags, classes and
// exits could not be found.
void tst_MainWindow::findZoomsSelectsAndCycles()
{
    MainWindow window(SourceSpec {SourceSpec::Kind::Demo, QString()});
    window.resize(1280, 800);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    window.view()->zoomBy(0.3);
    QVERIFY(window.view()->zoom() < 0.5);
    window.focusFind();
    QTest::keyClicks(window.findEdit(), "vpn");
    QCOMPARE(window.scene()->matches(), (QStringList {"sys-vpn", "work-vpn"}));
    QTest::keyClick(window.findEdit(), Qt::Key_Return);
    QCOMPARE(window.scene()->selectedQube(), QString("sys-vpn"));
    QCOMPARE(window.inspector()->currentQube(), QString("sys-vpn"));
    QVERIFY(window.view()->zoom() >= 0.99);
    // Brought into view (centred as far as the scroll range allows).
    const auto centred = [&](const QString &name) {
        const QRect box = window.view()
                              ->mapFromScene(window.scene()->qubeItem(name)->sceneBoundingRect())
                              .boundingRect();
        return window.view()->viewport()->rect().contains(box);
    };
    QVERIFY(centred("sys-vpn"));
    QTest::keyClick(window.findEdit(), Qt::Key_Return);
    QCOMPARE(window.scene()->selectedQube(), QString("work-vpn"));
    QVERIFY(centred("work-vpn"));
    QTest::keyClick(window.findEdit(), Qt::Key_Return);
    QCOMPARE(window.scene()->selectedQube(), QString("sys-vpn")); // round again
    // A label, a tag, a class, an exit IP.
    window.findEdit()->setText("anon-vm");
    QVERIFY(window.scene()->matches().contains("whonix"));
    window.findEdit()->setText("DispVM");
    QVERIFY(window.scene()->matches().contains("whonix"));
    window.findEdit()->setText("orange");
    QVERIFY(window.scene()->matches().contains("sys-vpn"));
    window.findEdit()->setText("198.51.100.23");
    QVERIFY(window.scene()->matches().contains("work-vpn"));
}

// Problem 9: Tab, arrows, Enter, Menu and Shift+F10 did nothing on the diagram.
void tst_MainWindow::keyboardReachesQubes()
{
    MainWindow window(SourceSpec {SourceSpec::Kind::Demo, QString()});
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    DiagramView *view = window.view();
    QCOMPARE(view->focusPolicy(), Qt::StrongFocus);
    view->setFocus();
    QTest::keyClick(view, Qt::Key_Right);
    QCOMPARE(window.scene()->selectedQube(), QString("sys-net"));
    QVERIFY(view->accessibleDescription().startsWith("sys-net, network provider"));
    QTest::keyClick(view, Qt::Key_Right);
    QCOMPARE(window.scene()->selectedQube(), QString("sys-firewall"));
    QTest::keyClick(view, Qt::Key_Left); // back to its netvm
    QCOMPARE(window.scene()->selectedQube(), QString("sys-net"));
    QTest::keyClick(view, Qt::Key_Right);
    QTest::keyClick(view, Qt::Key_Right); // a client of sys-firewall
    const QString client = window.scene()->selectedQube();
    QCOMPARE(window.snapshot().find(client)->netvm->toString(), QString("sys-firewall"));
    QTest::keyClick(view, Qt::Key_Down);
    const QString below = window.scene()->selectedQube();
    QVERIFY(below != client);
    QVERIFY(window.scene()->qubeItem(below)->pos().y()
            > window.scene()->qubeItem(client)->pos().y());
    // Enter inspects.
    QTest::keyClick(view, Qt::Key_Return);
    QCOMPARE(window.inspector()->currentQube(), below);
    // Shift+F10 and the Menu key open the qube's context menu.
    for (const auto &[key, modifiers] :
         {std::pair {Qt::Key_F10, Qt::KeyboardModifiers(Qt::ShiftModifier)},
          std::pair {Qt::Key_Menu, Qt::KeyboardModifiers()}}) {
        QTest::keyClick(view, key, modifiers);
        QMenu *menu = nullptr;
        QTRY_VERIFY((menu = view->findChild<QMenu *>("qubeContextMenu")) && menu->isVisible());
        QCOMPARE(menu->title(), below);
        QVERIFY(menu->findChild<QAction *>("inspect") || !menu->actions().isEmpty());
        menu->close();
        QTRY_VERIFY(!view->findChild<QMenu *>("qubeContextMenu"));
    }
}

void tst_MainWindow::helpDefinesEachStatus()
{
    MainWindow window(SourceSpec {SourceSpec::Kind::Demo, QString()});
    auto *help = window.findChild<QAction *>("statusHelpAction");
    QVERIFY(help);
    QCOMPARE(help->shortcut(), QKeySequence(Qt::Key_F1));
    const QString text = MainWindow::statusHelpText();
    for (const char *word :
         {"Pass:", "Fail:", "Cannot tell (error):", "Disputed:", "Stale:", "Skipped:"})
        QVERIFY2(text.contains(word), word);
    help->trigger();
    QMessageBox *box = nullptr;
    QTRY_VERIFY((box = window.findChild<QMessageBox *>("statusHelp")));
    QCOMPARE(box->textFormat(), Qt::PlainText);
    box->close();
}

// Problem 3: a saved snapshot could not be compared with what is shown now.
void tst_MainWindow::compareWithASavedSnapshot()
{
    QTemporaryDir dir;
    const QString saved = dir.filePath("before.yaml");
    QVERIFY(saveSnapshotFile(demoSnapshot(), saved));
    Snapshot now = demoSnapshot();
    test::setNetvm(now, "untrusted", "sys-vpn");
    for (CheckResult &r : now.checks)
        if (r.qube.toString() == "work-vpn" && r.check == CheckKind::Vpn)
            r.status = CheckStatus::Fail;
    MainWindow window(SourceSpec {SourceSpec::Kind::Demo, QString()});
    window.setSnapshot(now);
    QVERIFY(window.findChild<QAction *>("compareAction"));
    const QString text = window.compareWith(saved);
    QVERIFY2(text.contains("Moved: untrusted: sys-firewall → sys-vpn"), qPrintable(text));
    QVERIFY2(text.contains("Exit changed: untrusted: 203.0.113.7 → not verified"),
             qPrintable(text));
    QVERIFY2(text.contains("Verdict changed: work-vpn: pass → fail"), qPrintable(text));
    auto *shown = window.findChild<QPlainTextEdit *>("compareText");
    QVERIFY(shown);
    QCOMPARE(shown->toPlainText(), text);
    QVERIFY(
        MainWindow::comparisonText(demoSnapshot(), demoSnapshot()).startsWith("Nothing changed"));
    // Drawn on the map: each changed qube carries its changes (a ring and its tool tip).
    DiagramScene *scene = window.scene();
    QVERIFY(scene->qubeItem("untrusted")->changes().contains("moved: sys-firewall → sys-vpn"));
    QVERIFY(scene->qubeItem("untrusted")->changes().contains("exit: 203.0.113.7 → not verified"));
    QVERIFY(scene->qubeItem("work-vpn")->changes().contains("verdict: pass → fail"));
    QVERIFY(scene->qubeItem("work-vpn")->toolTip().contains("Changed since the compared snapshot"));
    QVERIFY(scene->qubeItem("sys-net")->changes().isEmpty());
    QVERIFY(text.contains("ringed in purple"));
    // A fold holding a changed qube is marked too.
    QVERIFY(scene->plainClientsOf("sys-vpn").contains("untrusted"));
    scene->foldClients("sys-vpn");
    QVERIFY(scene->clusterItem("sys-vpn") && scene->clusterItem("sys-vpn")->isChanged());
    scene->showClients("sys-vpn");
    QVERIFY(!scene->qubeItem("untrusted")->changes().isEmpty());
    // Cleared on request.
    auto *clear = window.findChild<QAction *>("clearComparisonAction");
    QVERIFY(clear && clear->isEnabled());
    QCOMPARE(clear->shortcut(), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_D));
    clear->trigger();
    for (QubeItem *item : scene->qubeItems())
        QVERIFY2(item->changes().isEmpty(), qPrintable(item->name()));
    QVERIFY(!clear->isEnabled());
}

namespace {

// The first qube whose whole box is in view, or empty.
QString qubeInView(MainWindow &window)
{
    const QRect viewport = window.view()->viewport()->rect();
    for (QubeItem *item : window.scene()->qubeItems())
        if (viewport.contains(
                window.view()->mapFromScene(item->sceneBoundingRect()).boundingRect()))
            return item->name();
    return QString();
}

} // namespace

// Problem 8: at Fit a 314-qube network drew every name at about 1 px. The largest groups of
// plain clients fold into a count box until names are readable; a click, Right, "+" or Find
// opens a fold, "-" closes it.
void tst_MainWindow::largeNetworkFoldsToReadableNames()
{
    MainWindow window(SourceSpec {SourceSpec::Kind::File, NETMAP_TEST_DATA "/bench-314.yaml"});
    window.resize(1280, 800);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    window.fitDiagram();
    DiagramScene *scene = window.scene();
    DiagramView *view = window.view();
    QCOMPARE(window.snapshot().qubes.size(), std::size_t(314));
    QVERIFY(view->zoom() >= DiagramView::kReadableZoom - 1e-9);
    QVERIFY(!qubeInView(window).isEmpty());
    // Measured as in namesReadableAtFit (a name with an ascender and a descender).
    view->centerOn(scene->qubeItem("sys-firewall"));
    const int height = renderedNameHeight(window, "sys-firewall");
    qInfo("name ink height at fit %d px (zoom %.2f), %d folds", height, view->zoom(),
          int(scene->clusterItems().size()));
    QVERIFY2(height >= 9, qPrintable(QString::number(height)));

    ClusterItem *fold = scene->clusterItem("sys-firewall");
    QVERIFY(fold);
    const QStringList members = fold->members();
    QVERIFY(members.size() > 100);
    QCOMPARE(fold->displayedName(), QString("%1 qubes").arg(members.size()));
    QVERIFY(!scene->qubeItem(members.first()));
    QCOMPARE(scene->foldOf(members.first()), QString("sys-firewall"));
    // A failure among the folded qubes shows on the fold.
    bool anyFailed = false;
    for (const CheckResult &r : window.snapshot().checks)
        anyFailed
            = anyFailed || (members.contains(r.qube.toString()) && r.status == CheckStatus::Fail);
    if (anyFailed)
        QCOMPARE(fold->verdict(), VerdictMark::Fail);

    // A click shows them.
    view->centerOn(fold);
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {},
                      view->mapFromScene(fold->sceneBoundingRect().center()));
    QVERIFY(!scene->clusterItem("sys-firewall"));
    QVERIFY(scene->qubeItem(members.first()));
    // "-" on the netvm folds them again, Right shows them and goes to the first.
    view->setFocus();
    scene->selectQube("sys-firewall");
    QTest::keyClick(view, Qt::Key_Minus);
    QVERIFY(scene->clusterItem("sys-firewall"));
    QCOMPARE(scene->selectedQube(), QString("sys-firewall"));
    QTest::keyClick(view, Qt::Key_Right);
    QVERIFY(!scene->clusterItem("sys-firewall"));
    QCOMPARE(window.snapshot().find(scene->selectedQube())->netvm->toString(),
             QString("sys-firewall"));
    // A fold the user opened stays open through another Fit.
    window.fitDiagram();
    QVERIFY(!scene->clusterItem("sys-firewall"));

    // Find reaches a folded qube: the match is counted, Enter opens its fold and selects it.
    QVERIFY(!scene->clusterItems().isEmpty());
    const QString netvm = scene->clusterItems().first()->netvm();
    const QString target = scene->clusterItems().first()->members().last();
    window.findEdit()->setText(target);
    QVERIFY(scene->matches().contains(target));
    QVERIFY(scene->clusterItem(netvm)->isMatched());
    for (int i = 0; i < scene->matches().size() && scene->selectedQube() != target; ++i)
        QTest::keyClick(window.findEdit(), Qt::Key_Return);
    QCOMPARE(scene->selectedQube(), target);
    QVERIFY(scene->qubeItem(target));
    QVERIFY(!scene->clusterItem(netvm));
}

// Problem 8: nothing showed where the view was in a large network, or moved it there.
void tst_MainWindow::overviewShowsAndMovesTheView()
{
    {
        // A network that fits needs no overview.
        MainWindow demo(SourceSpec {SourceSpec::Kind::Demo, QString()});
        demo.resize(1280, 800);
        demo.show();
        QVERIFY(QTest::qWaitForWindowExposed(&demo));
        demo.fitDiagram();
        QTest::qWait(20);
        QVERIFY(!demo.view()->overview()->isVisible());
    }
    MainWindow window(SourceSpec {SourceSpec::Kind::File, NETMAP_TEST_DATA "/bench-314.yaml"});
    window.resize(1280, 800);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    DiagramView *view = window.view();
    window.scene()->showClients("sys-firewall"); // more than fits at a readable size
    view->zoomBy(1.5);
    OverviewWidget *overview = view->overview();
    QTRY_VERIFY(overview->isVisible());
    QCOMPARE(overview->accessibleName(), QString("Overview of the map"));
    QVERIFY(view->viewport()->geometry().contains(overview->geometry()));
    const QRectF frame = overview->visibleFrame();
    QVERIFY(!frame.isEmpty());
    QVERIFY(frame.width() < overview->width() - 8 || frame.height() < overview->height() - 8);
    // A click moves the view there: the frame follows the click.
    const QPoint target(overview->width() * 3 / 4, overview->height() * 3 / 4);
    QVERIFY(!frame.contains(target));
    QTest::mouseClick(overview, Qt::LeftButton, {}, target);
    QVERIFY(overview->visibleFrame().adjusted(-2, -2, 2, 2).contains(target));
    const QPointF centre = view->mapToScene(view->viewport()->rect().center());
    QVERIFY(view->mapToScene(view->viewport()->rect())
                .boundingRect()
                .contains(overview->sceneAt(target)));
    Q_UNUSED(centre);
    // Ctrl+M hides it and shows it again.
    auto *action = window.findChild<QAction *>("overviewAction");
    QVERIFY(action);
    QCOMPARE(action->shortcut(), QKeySequence(Qt::CTRL | Qt::Key_M));
    action->trigger();
    QVERIFY(!overview->isVisible());
    action->trigger();
    QVERIFY(overview->isVisible());
}

// Problem 9: a screen reader saw one "Network map" and nothing of the qubes on it.
void tst_MainWindow::qubesAreAccessibleItems()
{
    MainWindow window(SourceSpec {SourceSpec::Kind::Demo, QString()});
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    DiagramScene *scene = window.scene();
    QAccessibleInterface *map = QAccessible::queryAccessibleInterface(window.view());
    QVERIFY(map);
    QCOMPARE(map->role(), QAccessible::List);
    QCOMPARE(map->text(QAccessible::Name), QString("Network map"));
    QCOMPARE(map->childCount(), int(scene->qubeItems().size() + scene->clusterItems().size()));
    QAccessibleInterface *net = nullptr;
    QAccessibleInterface *checked = nullptr;
    for (int i = 0; i < map->childCount(); ++i) {
        QAccessibleInterface *item = map->child(i);
        QVERIFY(item && item->isValid());
        QCOMPARE(item->parent(), map);
        QCOMPARE(map->indexOfChild(item), i);
        QCOMPARE(item->role(), QAccessible::ListItem);
        const QString name = item->text(QAccessible::Name);
        if (name.startsWith("sys-net, network provider"))
            net = item;
        if (name.contains(", checks: "))
            checked = item;
    }
    QVERIFY(net);
    QVERIFY2(checked, "a checked qube's verdict is said in words");
    QVERIFY(net->state().focusable);
    QVERIFY(!net->state().selected);
    QVERIFY(!net->rect().isEmpty());
    QVERIFY(map->rect().intersects(net->rect()));
    // Its actions: press inspects, Shift+F10 is named for the menu.
    QAccessibleActionInterface *actions = net->actionInterface();
    QVERIFY(actions);
    QVERIFY(actions->actionNames().contains(QAccessibleActionInterface::showMenuAction()));
    actions->doAction(QAccessibleActionInterface::pressAction());
    QCOMPARE(scene->selectedQube(), QString("sys-net"));
    QCOMPARE(window.inspector()->currentQube(), QString("sys-net"));
    QVERIFY(net->state().selected);
    window.activateWindow();
    window.view()->setFocus();
    QTRY_VERIFY(window.view()->hasFocus());
    QCOMPARE(map->focusChild(), net);
    QVERIFY(net->state().focused);
    // The same object for the same qube; gone when its box is.
    QCOMPARE(map->child(map->indexOfChild(net)), net);
}

// Problem 9: the qube's context menu listed no keys, and had none.
void tst_MainWindow::contextEntriesHaveWorkingKeys()
{
    MainWindow window(SourceSpec {SourceSpec::Kind::Demo, QString()});
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    DiagramScene *scene = window.scene();
    DiagramView *view = window.view();
    std::unique_ptr<QMenu> menu(scene->createContextMenu("sys-firewall", &window));
    QStringList names;
    for (QAction *action : menu->actions()) {
        if (action->isSeparator() || action->objectName().isEmpty())
            continue;
        names << action->objectName();
        if (action->menu() == nullptr && action->isEnabled()
            && QStringList({"inspect", "highlightEgress", "showFirewall", "foldClients",
                            "showClients", "copyName", "copyIp"})
                   .contains(action->objectName()))
            QVERIFY2(!action->shortcut().isEmpty(), qPrintable(action->objectName()));
    }
    for (const char *name :
         {"inspect", "highlightEgress", "showFirewall", "foldClients", "copyName", "copyIp"})
        QVERIFY2(names.contains(name), name);

    window.activateWindow();
    view->setFocus();
    QTRY_VERIFY(view->hasFocus());
    scene->selectQube("untrusted");
    QTest::keyClick(view, Qt::Key_C, Qt::ControlModifier);
    QCOMPARE(QApplication::clipboard()->text(), QString("untrusted"));
    QTest::keyClick(view, Qt::Key_C, Qt::ControlModifier | Qt::ShiftModifier);
    QCOMPARE(QApplication::clipboard()->text(), window.snapshot().find(u"untrusted")->ip);
    scene->highlightEgress(QString());
    QTest::keyClick(view, Qt::Key_E);
    QCOMPARE(scene->highlightedQube(), QString("untrusted"));
    QTest::keyClick(view, Qt::Key_F);
    QCOMPARE(window.inspector()->currentQube(), QString("untrusted"));
    // Folding from the keyboard, and the menu says how to open the fold.
    scene->selectQube("sys-firewall");
    QTest::keyClick(view, Qt::Key_Minus);
    QVERIFY(scene->clusterItem("sys-firewall"));
    menu.reset(scene->createContextMenu("sys-firewall", &window));
    QAction *show = menu->findChild<QAction *>("showClients");
    QVERIFY(show);
    QCOMPARE(show->shortcut(), QKeySequence(Qt::Key_Plus));
    QTest::keyClick(view, Qt::Key_Plus);
    QVERIFY(!scene->clusterItem("sys-firewall"));
}

// The map was paper white with dark text under a dark system palette.
void tst_MainWindow::darkPaletteIsRespected()
{
    const QPalette old = QApplication::palette();
    QPalette dark(QColor(0x35, 0x35, 0x35)); // a dark button colour: a dark palette
    dark.setColor(QPalette::Base, QColor(0x23, 0x23, 0x23));
    dark.setColor(QPalette::Text, QColor(0xee, 0xee, 0xee));
    dark.setColor(QPalette::WindowText, QColor(0xee, 0xee, 0xee));
    QApplication::setPalette(dark);
    const auto restore = qScopeGuard([&] { QApplication::setPalette(old); });
    MainWindow window(SourceSpec {SourceSpec::Kind::Demo, QString()});
    window.resize(1280, 800);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    window.fitDiagram();
    QVERIFY(DiagramTheme::isDark(window.scene()->palette()));
    const QImage image = window.view()->viewport()->grab().toImage();
    const double ratio = image.devicePixelRatio();
    const auto grey = [&](const QPoint &p) {
        return qGray(image.pixel(int(p.x() * ratio), int(p.y() * ratio)));
    };
    // The background is the palette's base, not paper white.
    QVERIFY2(grey(QPoint(3, 3)) < 80, qPrintable(QString::number(grey(QPoint(3, 3)))));
    // A box: a dark body under light text.
    QubeItem *item = window.scene()->qubeItem("sys-firewall");
    QVERIFY(item);
    const QRectF box = item->boundingRect().adjusted(6, 6, -6, -6);
    const QPoint body
        = window.view()->mapFromScene(item->mapToScene(QPointF(box.right() - 8, box.bottom() - 4)));
    QVERIFY2(grey(body) < 128, qPrintable(QString::number(grey(body))));
    const QRect name = window.view()
                           ->mapFromScene(item->mapToScene(
                               QRectF(box.left() + DiagramTheme::kIconWidth + 4, box.top() + 3,
                                      box.width() - DiagramTheme::kIconWidth - 20, 22)))
                           .boundingRect();
    int brightest = 0;
    for (int y = name.top(); y <= name.bottom(); ++y)
        for (int x = name.left(); x <= name.right(); ++x)
            brightest = std::max(brightest, grey(QPoint(x, y)));
    QVERIFY2(brightest > 180, qPrintable(QString::number(brightest)));
    // Exports keep their light colours (they are documents, not the window).
    QCOMPARE(DiagramTheme::lightColours().paper, DiagramTheme::paper());
}

// Every entry of the menu bar's menus and of a qube's menu lists a key, and no key does two
// things. Documented exceptions: disabled notes (they say why something is off) and the
// "Redact for sharing" submenu title (its entries have keys; the menu bar's menus open with
// their mnemonics).
void tst_MainWindow::everyMenuEntryHasItsOwnKey()
{
    MainWindow window(SourceSpec {SourceSpec::Kind::Demo, QString()});
    QStringList missing;
    QHash<QString, QString> windowKeys; // key -> the action's name
    QStringList clashes;
    const auto claim = [&clashes](QHash<QString, QString> &keys, QAction *a) {
        for (const QKeySequence &k : a->shortcuts()) {
            const QString key = k.toString();
            const QString name = a->objectName().isEmpty() ? a->text() : a->objectName();
            if (keys.contains(key) && keys[key] != name)
                clashes << QStringLiteral("%1: %2 and %3").arg(key, keys[key], name);
            keys.insert(key, name);
        }
    };
    std::function<void(QMenu *)> walk = [&](QMenu *menu) {
        for (QAction *a : menu->actions()) {
            if (a->isSeparator() || !a->isVisible())
                continue;
            if (a->menu()) {
                walk(a->menu());
                continue;
            }
            if (a->shortcut().isEmpty() && a->isEnabled())
                missing << a->objectName() + " (" + a->text() + ")";
        }
    };
    for (QAction *top : window.menuBar()->actions())
        if (top->menu())
            walk(top->menu());
    // The Checks menu's note is disabled on the demo; Cancel checks is disabled until checks run
    // but must have its key.
    auto *cancel = window.findChild<QAction *>("cancelChecksAction");
    QVERIFY(cancel);
    QVERIFY(!cancel->shortcut().isEmpty());
    QVERIFY2(missing.isEmpty(), qPrintable(missing.join(", ")));
    // The names the issue lists, by object name.
    for (const char *name : {"openDemoAction", "templatesAction", "aboutAction", "sidePathsAction",
                             "redactIpsAction", "redactNamesAction", "inspectorAction"}) {
        auto *a = window.findChild<QAction *>(name);
        QVERIFY2(a && !a->shortcut().isEmpty(), name);
    }
    // Window-wide keys: every action the window answers to (menus, toolbar, docks).
    for (QAction *a : window.findChildren<QAction *>())
        if (!a->shortcuts().isEmpty() && a->associatedObjects().contains(&window))
            claim(windowKeys, a);
    // Keys on the map act on the selected qube; none may also be a window key.
    QHash<QString, QString> mapKeys = windowKeys;
    for (QAction *a : window.view()->actions())
        if (!a->shortcuts().isEmpty())
            claim(mapKeys, a);
    // A qube's menu: every entry lists a key, and each is the key of the map's action.
    for (const QString qube : {"work", "sys-firewall", "sys-vpn"}) {
        std::unique_ptr<QMenu> menu(window.scene()->createContextMenu(qube));
        QHash<QString, QString> inMenu;
        std::function<void(QMenu *)> walkMenu = [&](QMenu *m) {
            for (QAction *a : m->actions()) {
                if (a->isSeparator() || !a->isEnabled())
                    continue;
                if (a->menu())
                    walkMenu(a->menu());
                if (a->shortcut().isEmpty())
                    missing << qube + ": " + a->objectName();
                claim(inMenu, a);
                const QString key = a->shortcut().toString();
                if (!key.isEmpty() && windowKeys.contains(key))
                    clashes << qube + ": " + key + " is also " + windowKeys[key];
            }
        };
        walkMenu(menu.get());
    }
    QVERIFY2(missing.isEmpty(), qPrintable(missing.join(", ")));
    QVERIFY2(clashes.isEmpty(), qPrintable(clashes.join("; ")));
}

// A fold the user made stays folded, and one the user opened stays open, when a refresh brings
// more qubes (and the view, fitted, folds what it needs to for readable names).
void tst_MainWindow::userFoldsSurviveAGrowingNetwork()
{
    const auto network = [](int perGroup) {
        Snapshot s;
        s.source = "qvm-ls";
        const auto add = [&s](const QString &name, const char *netvm, bool provides) {
            Qube q = test::makeQube(name, netvm ? QString::fromLatin1(netvm) : QString(), provides);
            q.label = "blue";
            s.qubes.push_back(q);
        };
        add("sys-net", nullptr, true);
        add("sys-firewall", "sys-net", true);
        for (const char *gw : {"sys-a", "sys-b", "sys-c"})
            add(QString::fromLatin1(gw), "sys-firewall", true);
        for (int i = 0; i < perGroup; ++i) {
            add(QString("a-%1").arg(i), "sys-a", false);
            add(QString("b-%1").arg(i), "sys-b", false);
        }
        for (int i = 0; i < 3 + perGroup / 20; ++i)
            add(QString("c-%1").arg(i), "sys-c", false);
        std::sort(s.qubes.begin(), s.qubes.end(),
                  [](const Qube &x, const Qube &y) { return x.name < y.name; });
        s.stamp();
        return s;
    };
    MainWindow window(SourceSpec {SourceSpec::Kind::Demo, QString()});
    window.resize(1280, 800);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    window.setSnapshot(network(40));
    window.fitDiagram();
    DiagramScene *scene = window.scene();
    // The user opens sys-b's fold and folds sys-c's clients (too few to fold by themselves),
    // as the qube menu's entries do.
    scene->foldClients("sys-c");
    QVERIFY(scene->clusterItem("sys-c"));
    scene->showClients("sys-b");
    QVERIFY(!scene->clusterItem("sys-b"));
    QVERIFY(scene->qubeItem("b-0"));
    window.fitDiagram();
    QVERIFY(!scene->clusterItem("sys-b"));

    // A refresh brings more qubes behind every gateway: the view is still fitted.
    window.setSnapshot(network(80));
    window.fitDiagram();
    QVERIFY2(scene->clusterItem("sys-c"), "the fold the user made was opened by a refresh");
    QCOMPARE(scene->clusterItem("sys-c")->members().size(), 7); // new qubes join it
    QVERIFY2(!scene->clusterItem("sys-b"), "the fold the user opened was folded by a refresh");
    QVERIFY(scene->qubeItem("b-79"));
    // sys-a, neither folded nor opened by the user, is the view's to fold for readable names.
    QVERIFY(scene->clusterItem("sys-a"));
}

QTEST_MAIN(tst_MainWindow)
namespace {

// A paint device that keeps the text drawn on it: what a PNG of the picture would show in words.
class TextRecorder : public QPaintDevice
{
public:
    QStringList texts() const { return m_engine.texts; }
    QPaintEngine *paintEngine() const override { return &m_engine; }

protected:
    int metric(PaintDeviceMetric metric) const override
    {
        switch (metric) {
        case PdmWidth:
        case PdmHeight:
            return 8000;
        case PdmWidthMM:
        case PdmHeightMM:
            return 2000;
        case PdmDpiX:
        case PdmDpiY:
        case PdmPhysicalDpiX:
        case PdmPhysicalDpiY:
            return 96;
        case PdmDepth:
            return 32;
        case PdmNumColors:
            return INT_MAX;
        case PdmDevicePixelRatio:
            return 1;
        case PdmDevicePixelRatioScaled:
            return int(QPaintDevice::devicePixelRatioFScale());
        }
        return 0;
    }

private:
    class Engine : public QPaintEngine
    {
    public:
        Engine()
            : QPaintEngine(QPaintEngine::AllFeatures)
        {
        }
        bool begin(QPaintDevice *) override { return true; }
        bool end() override { return true; }
        void updateState(const QPaintEngineState &) override { }
        void drawPixmap(const QRectF &, const QPixmap &, const QRectF &) override { }
        // The defaults of these call each other: shapes are of no interest here.
        void drawPolygon(const QPointF *, int, PolygonDrawMode) override { }
        void drawPath(const QPainterPath &) override { }
        void drawTextItem(const QPointF &, const QTextItem &item) override { texts << item.text(); }
        Type type() const override { return QPaintEngine::User; }
        QStringList texts;
    };
    mutable Engine m_engine;
};

// Whole-word occurrences of name in text (as the redaction reads words).
bool holdsName(const QString &text, const QString &name)
{
    static const QRegularExpression chars(QStringLiteral("[A-Za-z0-9_-]"));
    qsizetype at = -1;
    while ((at = text.indexOf(name, at + 1)) >= 0) {
        const qsizetype end = at + name.size();
        const bool before
            = at > 0 && (chars.match(text.mid(at - 1, 1)).hasMatch() || text[at - 1] == u'.');
        const bool after = end < text.size() && chars.match(text.mid(end, 1)).hasMatch();
        if (!before && !after)
            return true;
    }
    return false;
}

} // namespace

// Problem 11: nothing could be shared without the owner's addresses and qube names. File ▸
// Redact for sharing covers Save report (Markdown, JSON) and Export picture (SVG, PNG).
void tst_MainWindow::redactForSharing()
{
    MainWindow window(SourceSpec {SourceSpec::Kind::Demo, QString()});
    QAction *ips = window.findChild<QAction *>("redactIpsAction");
    QAction *names = window.findChild<QAction *>("redactNamesAction");
    QVERIFY(ips && names);
    QVERIFY(ips->isCheckable() && !ips->isChecked() && !names->isChecked());
    QMenu *menu = window.findChild<QMenu *>("redactMenu");
    QVERIFY(menu);
    QVERIFY(menu->actions().contains(ips) && menu->actions().contains(names));
    ips->setChecked(true);
    names->setChecked(true);
    QCOMPARE(window.redaction().id(), QStringLiteral("ips,names"));

    const Snapshot &demo = window.snapshot();
    QStringList originalIps, originalNames;
    for (const CheckResult &c : demo.checks)
        if (!c.externalIp.isEmpty() && !originalIps.contains(c.externalIp))
            originalIps << c.externalIp;
    for (const Qube &q : demo.qubes)
        if (!q.name.isDom0())
            originalNames << q.name.toString();
    QVERIFY(originalIps.size() >= 3);

    QTemporaryDir dir;
    QVERIFY(window.saveReportTo(dir.filePath("r.md")));
    QVERIFY(window.saveReportTo(dir.filePath("r.json")));
    QVERIFY(window.exportPictureTo(dir.filePath("r.svg")));
    QVERIFY(window.exportPictureTo(dir.filePath("r.png")));
    QVERIFY(!QImage(dir.filePath("r.png")).isNull());
    for (const char *file : {"r.md", "r.json", "r.svg"}) {
        QFile f(dir.filePath(file));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(f.readAll());
        for (const QString &ip : std::as_const(originalIps))
            QVERIFY2(!text.contains(ip), qPrintable(QStringLiteral("%1 in %2").arg(ip, file)));
        for (const QString &name : std::as_const(originalNames))
            QVERIFY2(!holdsName(text, name),
                     qPrintable(QStringLiteral("%1 in %2").arg(name, file)));
    }
    // The PNG draws the picture of the redacted snapshot: every word it paints is redacted.
    const Snapshot shared = redactedSnapshot(demo, window.redaction());
    const DiagramPicture picture(shared, false, QDateTime::currentDateTimeUtc());
    TextRecorder recorder;
    {
        QPainter painter(&recorder);
        picture.paint(&painter);
    }
    const QString painted = recorder.texts().join(u'\n');
    QVERIFY2(painted.contains(QStringLiteral("qube-")), qPrintable(painted.left(400)));
    for (const QString &ip : std::as_const(originalIps))
        QVERIFY2(!painted.contains(ip), qPrintable(ip));
    for (const QString &name : std::as_const(originalNames))
        QVERIFY2(!holdsName(painted, name), qPrintable(name));
    // The evidence: shown as it is, copied and saved redacted with the report's mapping.
    ResultsDock *dock = window.checkController()->resultsDock();
    EvidenceDialog *evidence = nullptr;
    for (int row = 0; row < dock->view()->model()->rowCount() && !evidence; ++row)
        if (dock->view()->model()->index(row, 0).data().toString() == "work-vpn"
            && dock->view()->model()->index(row, 1).data().toString() == "VPN leak")
            evidence = dock->showEvidence(row);
    QVERIFY(evidence);
    QVERIFY(evidence->text().contains(QStringLiteral("work-vpn")));
    QVERIFY(evidence->findChild<QLabel *>("redactNote")->isVisibleTo(evidence));
    evidence->copyToClipboard();
    const QString copied = QGuiApplication::clipboard()->text();
    QVERIFY(evidence->saveTo(dir.filePath("evidence.txt")));
    QFile savedEvidence(dir.filePath("evidence.txt"));
    QVERIFY(savedEvidence.open(QIODevice::ReadOnly));
    QCOMPARE(QString::fromUtf8(savedEvidence.readAll()).trimmed(), copied.trimmed());
    QVERIFY(
        copied.contains(QStringLiteral("Qube:      %1").arg(shared.qubes.front().name.toString()))
        || copied.contains(QStringLiteral("Qube:      vpn-")));
    for (const QString &ip : std::as_const(originalIps))
        QVERIFY2(!copied.contains(ip), qPrintable(ip));
    // (The dialog's own heading says "untrusted", which is also a qube's name in the demo.)
    QString words = copied;
    words.remove(QStringLiteral("Output (raw, as the qube printed it; untrusted):"));
    for (const QString &name : std::as_const(originalNames))
        QVERIFY2(!holdsName(words, name), qPrintable(name));
    // The same exit as the report gives it.
    const QString exitLine = copied.section(QStringLiteral("Exit IP:   "), 1).section(u'\n', 0, 0);
    QVERIFY2(!exitLine.isEmpty(), qPrintable(copied));
    QFile report(dir.filePath("r.md"));
    QVERIFY(report.open(QIODevice::ReadOnly));
    QVERIFY2(report.readAll().contains(exitLine.toUtf8()), qPrintable(exitLine));
    evidence->close();
    // The window itself and the saved snapshot keep the real names.
    QVERIFY(window.snapshot().find(u"work"));
    QVERIFY(window.saveSnapshotTo(dir.filePath("kept.yaml")));
    QFile kept(dir.filePath("kept.yaml"));
    QVERIFY(kept.open(QIODevice::ReadOnly));
    QVERIFY(kept.readAll().contains("sys-firewall"));
    // Off again: the report names the qubes.
    window.setRedaction({});
    QVERIFY(window.saveReportTo(dir.filePath("plain.md")));
    QFile plain(dir.filePath("plain.md"));
    QVERIFY(plain.open(QIODevice::ReadOnly));
    QVERIFY(plain.readAll().contains("sys-firewall"));
}

// Say what to do: a failed check carries its fix, with the commands Qubes documents.
void tst_MainWindow::inspectorSaysWhatToDo()
{
    Snapshot s = demoSnapshot();
    bool failed = false;
    for (CheckResult &r : s.checks)
        if (r.qube.toString() == QStringLiteral("sys-vpn") && r.check == CheckKind::KillSwitch) {
            r.status = CheckStatus::Fail;
            r.reason = QStringLiteral("if the tunnel dies, client traffic leaves in the clear");
            failed = true;
        }
    QVERIFY(failed);
    MainWindow window(SourceSpec {SourceSpec::Kind::Demo, QString()});
    window.setSnapshot(s);
    window.inspector()->showQube("sys-vpn");
    QLabel *findings = window.inspector()->findChild<QLabel *>("findings");
    QVERIFY(findings);
    QVERIFY2(findings->text().contains(QStringLiteral("What to do: ")),
             qPrintable(findings->text()));
    QVERIFY2(findings->text().contains(
                 QStringLiteral("nft add rule qubes custom-forward oifname eth0 counter drop")),
             qPrintable(findings->text()));
    QVERIFY(findings->text().contains(QStringLiteral("/rw/config/qubes-firewall-user-script")));
    QCOMPARE(findings->textFormat(), Qt::PlainText);
}

#include "tst_mainwindow.moc"
