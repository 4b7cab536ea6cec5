// The live view in the window, with stand-ins for the Qubes tools: a qubesd event updates the
// diagram in place; every change to a qube asks first and the question holds the exact
// command; nothing runs when the answer is no; dropped traffic is listed and drawn; closing the
// window removes the logging rule. The fakes record every call they get.

#include "diagram/diagramscene.h"
#include "diagram/diagramview.h"
#include "diagram/linkitem.h"
#include "diagram/qubeitem.h"
#include "live/droppedflowitem.h"
#include "live/livecontroller.h"
#include "mainwindow.h"
#include "panels/droppedflowsdock.h"

#include <QAction>
#include <QFile>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTest>

#include "fakequbesd.h"
#include "qubesdframe.h"
#include <QToolButton>

using namespace netmap;

namespace {
const QByteArray kLiveBin = NETMAP_TEST_DATA "/live/fake-bin";
const QByteArray kFakeBin = NETMAP_TEST_DATA "/fake-bin";
const QString kData = QStringLiteral(NETMAP_TEST_DATA "/live/");

QByteArray frame(const QByteArray &subject, const QByteArray &name,
                 const QList<QPair<QByteArray, QByteArray>> &args = {})
{
    return test::qubesdEventFrame(subject, name, args);
}

QString netvmOf(const MainWindow &w, const QString &qube)
{
    const Qube *q = w.snapshot().find(qube);
    return q && q->netvm ? q->netvm->toString() : QString();
}

LinkItem *linkOf(const MainWindow &w, const QString &lower)
{
    for (LinkItem *link : w.scene()->linkItems())
        if (link->lower() == lower && !link->toInternet())
            return link;
    return nullptr;
}

// What a confirmation showed, and the answer the test gives.
struct Asked
{
    QStringList texts;
    QStringList confirmLabels;
    QList<QMessageBox::Icon> icons;
    bool answer = false;
    LiveController::ConfirmHandler handler()
    {
        return [this](QMessageBox &box) {
            texts << box.text() + u'\n' + box.informativeText();
            const auto *yes = box.findChild<QPushButton *>(QStringLiteral("confirmButton"));
            confirmLabels << (yes ? yes->text() : QString());
            icons << box.icon();
            // Plain text: qube names and commands show literally.
            for (const QLabel *label : box.findChildren<QLabel *>())
                if (!label->text().isEmpty() && label->pixmap().isNull()
                    && label->textFormat() != Qt::PlainText)
                    return false;
            return answer;
        };
    }
};
} // namespace

class tst_LiveView : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void init();
    void cleanupTestCase();
    void followEventUpdatesInPlace();
    void staleAfterMove();
    void qubeGoneRelaysOutKeepingTheView();
    void connectMenuOffersProvidersOnly();
    void rerouteAsksWithTheExactCommand();
    void anonVmWarnsFirst();
    void watchAsksListsDrawsAndCloses();
    void demoHasNoLiveEntries();
    void failureTextIsPlain();

private:
    void use(const char *fixture)
    {
        QFile::remove(m_listing);
        QVERIFY(QFile::copy(kData + QString::fromLatin1(fixture), m_listing));
    }
    QStringList calls(const QString &log) const
    {
        QFile f(m_dir.filePath(log));
        if (!f.open(QIODevice::ReadOnly))
            return {};
        return QString::fromUtf8(f.readAll()).split(u'\n', Qt::SkipEmptyParts);
    }
    void waitLoaded(MainWindow &w)
    {
        QTRY_VERIFY_WITH_TIMEOUT(w.snapshot().find(u"work") != nullptr, 10000);
    }
    QByteArray m_path;
    QTemporaryDir m_dir;
    QString m_listing;
    QString m_socket;
};

void tst_LiveView::initTestCase()
{
    QVERIFY(m_dir.isValid());
    qputenv("XDG_CONFIG_HOME", m_dir.filePath(QStringLiteral("config")).toLocal8Bit());
    m_listing = m_dir.filePath(QStringLiteral("qvm-ls.txt"));
    m_socket = m_dir.filePath(QStringLiteral("qubesd.sock"));
    m_path = qgetenv("PATH");
    qputenv("PATH", kLiveBin + ':' + kFakeBin + ':' + m_path);
    qputenv("FAKE_QVM_LS_MODE", "good");
    qputenv("FAKE_QVM_LS_FILE", m_listing.toLocal8Bit());
    qputenv("FAKE_QUBES_PREFS_MODE", "good");
    qputenv("FAKE_QVM_FIREWALL_MODE", "good");
    qputenv("FAKE_QVM_FIREWALL_FILE", NETMAP_TEST_DATA "/qvm-firewall/good-allow-all.txt");
    qputenv("FAKE_QVM_PREFS_LOG", m_dir.filePath(QStringLiteral("prefs.log")).toLocal8Bit());
    qputenv("FAKE_QVM_PREFS_LISTING", m_dir.filePath(QStringLiteral("listing")).toLocal8Bit());
    qputenv("FAKE_QVM_RUN_LOG", m_dir.filePath(QStringLiteral("run.log")).toLocal8Bit());
    qputenv("NETMAP_QUBESD_SOCKET", m_socket.toLocal8Bit());
    qputenv("NETMAP_POLL_MS", "600000"); // only events or the program itself cause a read
}

void tst_LiveView::init()
{
    use("network-a.txt");
    QFile::remove(m_dir.filePath(QStringLiteral("prefs.log")));
    QFile::remove(m_dir.filePath(QStringLiteral("run.log")));
    QFile listing(m_dir.filePath(QStringLiteral("listing")));
    QVERIFY(listing.open(QIODevice::WriteOnly | QIODevice::Truncate));
    listing.write("label  -  blue\nnetvm  -  sys-firewall\n");
}

void tst_LiveView::cleanupTestCase()
{
    qputenv("PATH", m_path);
}

void tst_LiveView::followEventUpdatesInPlace()
{
    // Reads the request to EOF and answers connection-established, as qubesd does.
    test::FakeQubesd qubesd;
    QVERIFY(qubesd.listen(m_socket));
    MainWindow w(SourceSpec {SourceSpec::Kind::Live, QString()});
    w.show();
    waitLoaded(w);
    LiveController *live = w.liveController();
    QTRY_COMPARE_WITH_TIMEOUT(qubesd.openStreams(), 1, 5000);
    QTRY_COMPARE(live->followStatus(), QStringLiteral("following changes (qubesd events)"));
    QVERIFY(live->followAction()->isChecked());
    // The window's first read and the follower's catch-up read on connecting race at start:
    // wait until both are in.
    QAction *refresh = w.findChild<QAction *>(QStringLiteral("refreshAction"));
    QTRY_VERIFY(refresh->isEnabled() && !live->follower()->isRefreshing());
    QTest::qWait(100);

    QHash<QString, QubeItem *> items;
    QHash<QString, QPointF> positions;
    for (QubeItem *item : w.scene()->qubeItems()) {
        items.insert(item->name(), item);
        positions.insert(item->name(), item->pos());
    }
    const int links = int(w.scene()->linkItems().size());
    const QTransform zoom = w.view()->transform();
    QCOMPARE(linkOf(w, "work")->upper(), QStringLiteral("sys-firewall"));

    use("network-b.txt");
    qubesd.sendEvent(frame("work", "property-set:netvm", {{"newvalue", "sys-vpn"}}));
    QTRY_COMPARE_WITH_TIMEOUT(netvmOf(w, "work"), QStringLiteral("sys-vpn"), 10000);
    QCOMPARE(linkOf(w, "work")->upper(), QStringLiteral("sys-vpn"));
    QCOMPARE(int(w.scene()->linkItems().size()), links);
    // Not rebuilt: every box is the same item where it was (work's changed: same place).
    for (QubeItem *item : w.scene()->qubeItems()) {
        QCOMPARE(item->pos(), positions.value(item->name()));
        if (item->name() != QLatin1String("work"))
            QCOMPARE(item, items.value(item->name()));
    }
    QCOMPARE(w.view()->transform(), zoom);
    QVERIFY(w.statusBar()->currentMessage().contains(QStringLiteral("work now uses sys-vpn")));

    live->followAction()->trigger(); // off
    QCOMPARE(live->followStatus(), QStringLiteral("not following changes"));
    QVERIFY(!live->isFollowing());
}

void tst_LiveView::staleAfterMove()
{
    MainWindow w(SourceSpec {SourceSpec::Kind::Live, QString()});
    waitLoaded(w);
    // Evidence for work on its current path: the link is verified, not stale.
    Snapshot s = w.snapshot();
    CheckResult r;
    r.qube = s.find(u"work")->name;
    r.check = CheckKind::ExternalIp;
    r.status = CheckStatus::Pass;
    r.externalIp = QStringLiteral("203.0.113.10");
    r.observed = r.externalIp;
    r.pathAtRun = {"work", "sys-firewall", "sys-net"};
    r.started = r.finished = QDateTime::currentDateTimeUtc();
    s.checks.push_back(r);
    w.setSnapshot(s);
    QVERIFY(linkOf(w, "work")->linkStyle().verified);
    QVERIFY(!linkOf(w, "work")->linkStyle().stale);

    use("network-b.txt");
    w.liveController()->follower()->refreshNow();
    QTRY_COMPARE_WITH_TIMEOUT(netvmOf(w, "work"), QStringLiteral("sys-vpn"), 10000);
    QCOMPARE(w.snapshot().checks.size(), size_t(1)); // carried over
    QVERIFY(linkOf(w, "work")->linkStyle().stale);
}

void tst_LiveView::qubeGoneRelaysOutKeepingTheView()
{
    MainWindow w(SourceSpec {SourceSpec::Kind::Live, QString()});
    w.show();
    waitLoaded(w);
    w.view()->zoomBy(1.25);
    const QTransform zoom = w.view()->transform();
    use("network-c.txt");
    w.liveController()->follower()->refreshNow();
    QTRY_VERIFY_WITH_TIMEOUT(!w.scene()->qubeItem("untrusted"), 10000);
    QCOMPARE(w.view()->transform(), zoom);
    QVERIFY(w.statusBar()->currentMessage().contains(QStringLiteral("gone: untrusted")));
}

void tst_LiveView::connectMenuOffersProvidersOnly()
{
    MainWindow w(SourceSpec {SourceSpec::Kind::Live, QString()});
    waitLoaded(w);
    std::unique_ptr<QMenu> menu(w.scene()->createContextMenu("sys-vpn"));
    auto *connectTo = menu->findChild<QMenu *>(QStringLiteral("connectToMenu"));
    QVERIFY(connectTo);
    QStringList offered;
    for (QAction *a : connectTo->actions())
        if (!a->isSeparator())
            offered << a->objectName() + (a->isEnabled() ? "" : " (current)");
    // Not itself, nothing behind it; its current netvm checked and not selectable.
    QCOMPARE(offered,
             QStringList({"connectTo:sys-firewall (current)", "connectTo:sys-net",
                          "connectTo:sys-whonix", "connectTo:none"}));
    QVERIFY(menu->findChild<QAction *>(QStringLiteral("watchDrops")));
    std::unique_ptr<QMenu> work(w.scene()->createContextMenu("work"));
    QVERIFY(!work->findChild<QAction *>(QStringLiteral("watchDrops"))); // not a provider
    std::unique_ptr<QMenu> dom0(w.scene()->createContextMenu("dom0"));
    QVERIFY(!dom0->findChild<QMenu *>(QStringLiteral("connectToMenu")));
}

void tst_LiveView::rerouteAsksWithTheExactCommand()
{
    MainWindow w(SourceSpec {SourceSpec::Kind::Live, QString()});
    waitLoaded(w);
    LiveController *live = w.liveController();
    Asked asked;
    live->setConfirmHandler(asked.handler());
    std::unique_ptr<QMenu> menu(w.scene()->createContextMenu("work"));
    QAction *toVpn = menu->findChild<QAction *>(QStringLiteral("connectTo:sys-vpn"));
    QVERIFY(toVpn);

    // Declined: only the read-only listing ran.
    asked.answer = false;
    toVpn->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(asked.texts.size(), 1, 10000);
    QVERIFY(asked.texts[0].startsWith(QStringLiteral("Connect work to sys-vpn?")));
    QVERIFY(asked.texts[0].contains(
        QStringLiteral("This runs in dom0:\n\n    qvm-prefs work netvm sys-vpn\n")));
    QVERIFY(asked.texts[0].contains(QStringLiteral(
        "Undo (Edit menu or the status bar) runs:\n\n    qvm-prefs work netvm sys-firewall")));
    QCOMPARE(asked.confirmLabels[0], QStringLiteral("Connect"));
    QTest::qWait(300);
    QCOMPARE(calls("prefs.log"), QStringList {"work"});
    QVERIFY(!live->undoAction()->isEnabled());

    // Accepted: exactly that command, then Undo is offered.
    asked.answer = true;
    QSignalSpy rerouted(live, &LiveController::rerouted);
    toVpn->trigger();
    QVERIFY(rerouted.wait(10000));
    QCOMPARE(calls("prefs.log"), QStringList({"work", "work", "work|netvm|sys-vpn"}));
    QVERIFY(live->undoAction()->isEnabled());
    QVERIFY(!live->undoButton()->isHidden());
    QCOMPARE(live->undoButton()->text(), QStringLiteral("Undo: work back to sys-firewall"));

    // Undo asks too; declined, nothing runs.
    asked.answer = false;
    live->undoAction()->trigger();
    QCOMPARE(asked.texts.size(), 3);
    QVERIFY(asked.texts[2].contains(QStringLiteral("qvm-prefs work netvm sys-firewall")));
    QTest::qWait(300);
    QCOMPARE(calls("prefs.log").size(), 3);
    asked.answer = true;
    rerouted.clear();
    live->undoButton()->click();
    QVERIFY(rerouted.wait(10000));
    QCOMPARE(calls("prefs.log").last(), QStringLiteral("work|netvm|sys-firewall"));
    QVERIFY(!live->undoAction()->isEnabled());
    QVERIFY(live->undoButton()->isHidden());

    // A default netvm is restored as the default, and none is an empty value.
    QFile listing(m_dir.filePath(QStringLiteral("listing")));
    QVERIFY(listing.open(QIODevice::WriteOnly | QIODevice::Truncate));
    listing.write("netvm  D  sys-firewall\n");
    listing.close();
    rerouted.clear();
    live->requestReroute("work", std::nullopt);
    QVERIFY(rerouted.wait(10000));
    QVERIFY(asked.texts.last().startsWith(QStringLiteral("Disconnect work from the network?")));
    QCOMPARE(calls("prefs.log").last(), QStringLiteral("work|netvm|"));
    rerouted.clear();
    live->requestUndo();
    QVERIFY(rerouted.wait(10000));
    QCOMPARE(calls("prefs.log").last(), QStringLiteral("--default|work|netvm"));
}

void tst_LiveView::anonVmWarnsFirst()
{
    MainWindow w(SourceSpec {SourceSpec::Kind::Live, QString()});
    waitLoaded(w);
    LiveController *live = w.liveController();
    Asked asked;
    live->setConfirmHandler(asked.handler());
    QFile listing(m_dir.filePath(QStringLiteral("listing")));
    QVERIFY(listing.open(QIODevice::WriteOnly | QIODevice::Truncate));
    listing.write("netvm  -  sys-whonix\n");
    listing.close();
    live->requestReroute("anon-whonix", QStringLiteral("sys-firewall"));
    QTRY_COMPARE_WITH_TIMEOUT(asked.texts.size(), 1, 10000);
    QVERIFY(asked.texts[0].contains(QStringLiteral("\nWarning: anon-whonix is tagged anon-vm")));
    QCOMPARE(asked.confirmLabels[0], QStringLiteral("Connect anyway"));
    QCOMPARE(asked.icons[0], QMessageBox::Warning);
    QTest::qWait(300);
    QCOMPARE(calls("prefs.log"), QStringList {"anon-whonix"}); // declined: nothing set
    // Staying behind Tor, or no network at all: no warning.
    live->requestReroute("anon-whonix", std::nullopt);
    QTRY_COMPARE_WITH_TIMEOUT(asked.texts.size(), 2, 10000);
    QVERIFY(!asked.texts[1].contains(QStringLiteral("Warning")));
}

void tst_LiveView::watchAsksListsDrawsAndCloses()
{
    QFile lines(m_dir.filePath(QStringLiteral("lines")));
    QVERIFY(lines.open(QIODevice::WriteOnly | QIODevice::Truncate));
    lines.write(
        "[ 5.000001] netmap-drop-%TOKEN%: IN=vif3.0 OUT=vif4.0 SRC=10.137.0.15 DST=10.137.0.16 "
        "LEN=84 TOS=0x00 PREC=0x00 TTL=63 ID=1 DF PROTO=ICMP TYPE=8 CODE=0 ID=7 SEQ=1 \n"
        "[ 5.100000] netmap-drop-%TOKEN%: IN=vif4.0 OUT=vif3.0 SRC=10.137.0.99 DST=10.137.0.15 "
        "LEN=60 TOS=0x00 PREC=0x00 TTL=63 ID=2 DF PROTO=TCP SPT=40000 DPT=22 SYN URGP=0 \n"
        "[ 5.2] netmap-drop-%TOKEN%: IN=<b>x</b> OUT=vif3.0 SRC=1.2.3.4 DST=1.2.3.4 PROTO=UDP\n");
    lines.close();
    qputenv("FAKE_QVM_RUN_LOGLINES", lines.fileName().toLocal8Bit());

    auto *w = new MainWindow(SourceSpec {SourceSpec::Kind::Live, QString()});
    w->show();
    waitLoaded(*w);
    LiveController *live = w->liveController();
    Asked asked;
    live->setConfirmHandler(asked.handler());
    std::unique_ptr<QMenu> menu(w->scene()->createContextMenu("sys-firewall"));
    QAction *watch = menu->findChild<QAction *>(QStringLiteral("watchDrops"));
    QVERIFY(watch && watch->isEnabled());

    watch->trigger(); // declined
    QCOMPARE(asked.texts.size(), 1);
    QVERIFY(asked.texts[0].startsWith(
        QStringLiteral("Watch the traffic sys-firewall drops between qubes for 10 minutes?")));
    QTest::qWait(200);
    QVERIFY(calls("run.log").isEmpty());

    asked.answer = true;
    QSignalSpy started(live, &LiveController::watchStarted);
    watch->trigger();
    QVERIFY(started.wait(10000));
    DroppedFlowsDock *dock = live->dock();
    QTRY_COMPARE_WITH_TIMEOUT(dock->rowCount(), 2, 10000);
    // The question held the very commands that ran.
    const QStringList ran = calls("run.log");
    QVERIFY(ran.size() >= 1);
    CommandSpec arm;
    arm.program = QStringLiteral("qvm-run");
    // Eight options and the qube, then the script (which holds '|' itself).
    const QStringList parts = ran[0].split(u'|');
    arm.arguments = parts.mid(0, 8);
    arm.arguments << parts.mid(8).join(u'|');
    QVERIFY(asked.texts[1].contains(arm.display()));
    QVERIFY(arm.arguments.last().contains(QStringLiteral("nft insert rule")));

    // Newest first; an address no qube has is shown as such; the hostile line is refused.
    QCOMPARE(dock->cellText(0, DroppedFlowsDock::From), QStringLiteral("10.137.0.99 (no qube)"));
    QCOMPARE(dock->cellText(0, DroppedFlowsDock::To), QStringLiteral("work"));
    QCOMPARE(dock->cellText(0, DroppedFlowsDock::Protocol), QStringLiteral("TCP"));
    QCOMPARE(dock->cellText(0, DroppedFlowsDock::Port), QStringLiteral("22"));
    QCOMPARE(dock->cellText(1, DroppedFlowsDock::From), QStringLiteral("work"));
    QCOMPARE(dock->cellText(1, DroppedFlowsDock::To), QStringLiteral("untrusted"));
    QCOMPARE(dock->cellText(1, DroppedFlowsDock::Port), QStringLiteral("echo-request"));
    QTRY_VERIFY(dock->findChild<QLabel *>(QStringLiteral("dropCounts"))
                    ->text()
                    .contains(QStringLiteral("1 line(s) refused")));
    QVERIFY(dock->watchStatus().startsWith(QStringLiteral("watching sys-firewall")));
    QStringList arrows;
    for (const DroppedFlowItem *item : live->flowItems())
        arrows << item->from() + u'>' + item->to();
    arrows.sort();
    // The unknown sender is drawn from the network qube that dropped it.
    QCOMPARE(arrows, QStringList({"sys-firewall>work", "work>untrusted"}));
    std::unique_ptr<QMenu> again(w->scene()->createContextMenu("sys-firewall"));
    QVERIFY(again->findChild<QAction *>(QStringLiteral("stopWatchDrops")));

    // Closing the window removes the rule before it goes.
    w->close();
    QVERIFY(calls("run.log").last().contains(QStringLiteral("nft delete rule")));
    delete w;
    qunsetenv("FAKE_QVM_RUN_LOGLINES");
}

void tst_LiveView::demoHasNoLiveEntries()
{
    MainWindow w(SourceSpec {SourceSpec::Kind::Demo, QString()});
    LiveController *live = w.liveController();
    QVERIFY(!live->isLive());
    QVERIFY(!live->followAction()->isEnabled());
    QVERIFY(!live->isFollowing());
    std::unique_ptr<QMenu> menu(w.scene()->createContextMenu("sys-firewall"));
    QVERIFY(!menu->findChild<QMenu *>(QStringLiteral("connectToMenu")));
    QVERIFY(!menu->findChild<QAction *>(QStringLiteral("watchDrops")));
    live->requestWatch("sys-firewall");
    live->requestReroute("work", QStringLiteral("sys-net"));
    QTest::qWait(200);
    QVERIFY(calls("run.log").isEmpty());
    QVERIFY(calls("prefs.log").isEmpty());
}

void tst_LiveView::failureTextIsPlain()
{
    // What a qube prints when the rule cannot be added shows literally, never as markup.
    qputenv("FAKE_QVM_RUN_ARM_FAIL", "1");
    qputenv("FAKE_QVM_RUN_ARM_STDERR", "<b>bold</b><img src=x>");
    MainWindow w(SourceSpec {SourceSpec::Kind::Live, QString()});
    waitLoaded(w);
    Asked asked;
    asked.answer = true;
    w.liveController()->setConfirmHandler(asked.handler());
    w.liveController()->requestWatch("sys-firewall");
    QMessageBox *box = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT((box = w.findChild<QMessageBox *>()) != nullptr, 10000);
    QVERIFY(box->informativeText().contains(QStringLiteral("<b>bold</b><img src=x>")));
    for (const QLabel *label : box->findChildren<QLabel *>())
        if (label->text().contains(u'<'))
            QCOMPARE(label->textFormat(), Qt::PlainText);
    QVERIFY(!w.liveController()->isWatching("sys-firewall"));
    box->close();
    qunsetenv("FAKE_QVM_RUN_ARM_FAIL");
    qunsetenv("FAKE_QVM_RUN_ARM_STDERR");
}

QTEST_MAIN(tst_LiveView)
#include "tst_liveview.moc"
