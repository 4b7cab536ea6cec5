// The live view in the window, with the real Qubes tools against the qubesd stand-in
// (tests/support/realqubes.h): a qubesd event updates the diagram in place; every change to a
// qube asks first and the question holds the exact command; nothing runs when the answer is
// no; dropped traffic is listed and drawn; closing the window removes the logging rule. The
// stand-in's log shows every change qubesd was asked for, and the scripted network qube
// (tests/support/scriptednetqube.h) every command that ran in it.

#include "diagram/diagramscene.h"
#include "diagram/diagramview.h"
#include "diagram/linkitem.h"
#include "diagram/qubeitem.h"
#include "live/droppedflowitem.h"
#include "live/droppedflowsdock.h"
#include "live/livecontroller.h"
#include "mainwindow.h"

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
#include <QTextEdit>

#include "realqubes.h"
#include "scriptednetqube.h"

#include <QJsonArray>
#include <QRegularExpression>
#include <QToolButton>

using namespace netmap;

namespace {
const QString kData = QStringLiteral(NETMAP_TEST_DATA "/standin/");

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
    QList<int> heights; // of the box as it would open
    QList<bool> detailsShown;
    bool answer = false;
    LiveController::ConfirmHandler handler()
    {
        return [this](QMessageBox &box) {
            texts << box.text() + u'\n' + box.informativeText() + u'\n' + box.detailedText();
            const auto *yes = box.findChild<QPushButton *>(QStringLiteral("confirmButton"));
            confirmLabels << (yes ? yes->text() : QString());
            icons << box.icon();
            heights << box.sizeHint().height();
            const auto *details = box.findChild<QTextEdit *>();
            detailsShown << (details && details->isVisibleTo(&box));
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
        use(test::RealQubes::load(kData + QString::fromLatin1(fixture)));
    }
    void use(const QJsonObject &state)
    {
        QVERIFY(m_qubes.setState(state));
        m_seen = 0;
        m_seen = changes().size();
    }
    // The commands that ran in the network qube ("QUBE USER<TAB>CMD").
    QStringList ran() const
    {
        QFile f(m_dir.filePath(QStringLiteral("calls.log")));
        if (!f.open(QIODevice::ReadOnly))
            return {};
        return QString::fromUtf8(f.readAll()).split(u'\n', Qt::SkipEmptyParts);
    }
    // The netvm changes qubesd was asked for since use(): "Set QUBE" (a value, also none) or
    // "Reset QUBE" (the default).
    QStringList changes() const
    {
        static const QRegularExpression call(
            QStringLiteral("call b'admin\\.vm\\.property\\.(Set|Reset)'\\+b'netvm' \\(b'dom0' -> "
                           "b'([a-z0-9.-]+)'\\)"));
        QStringList out;
        for (const QString &line : m_qubes.log().split(u'\n')) {
            if (const auto m = call.match(line); m.hasMatch())
                out << m.captured(1) + u' ' + m.captured(2);
        }
        return out.mid(m_seen);
    }
    // work's netvm as qubesd holds it: a name, null (none) or "default".
    QJsonValue netvmHeld(const char *qube) const
    {
        const QJsonObject q = m_qubes.state()
                                  .value(QStringLiteral("qubes"))
                                  .toObject()
                                  .value(QString::fromLatin1(qube))
                                  .toObject();
        const bool isDefault = !q.contains(QStringLiteral("netvm"))
            || q.value(QStringLiteral("netvm_default")).toBool();
        return isDefault ? QJsonValue(QStringLiteral("default")) : q.value(QStringLiteral("netvm"));
    }
    void waitLoaded(MainWindow &w)
    {
        QTRY_VERIFY_WITH_TIMEOUT(w.snapshot().find(u"work") != nullptr, 10000);
    }
    QByteArray m_path;
    QTemporaryDir m_dir;
    test::RealQubes m_qubes;
    qsizetype m_seen = 0;
};

void tst_LiveView::initTestCase()
{
    QVERIFY(m_dir.isValid());
    qputenv("XDG_CONFIG_HOME", m_dir.filePath(QStringLiteral("config")).toLocal8Bit());
    m_path = qgetenv("PATH");
    const QString qube = test::writeScriptedNetQube(m_dir.path());
    QVERIFY(!qube.isEmpty());
    NETMAP_START_REAL_QUBES(m_qubes,
                            test::RealQubes::load(kData + QStringLiteral("network-a.json")), qube);
    qputenv("PATH", m_qubes.path(m_path));
    // The window follows the stand-in's admin.Events, as it follows qubesd's.
    qputenv("NETMAP_QUBESD_SOCKET", m_qubes.socketPath().toLocal8Bit());
    qputenv("NETMAP_POLL_MS", "600000"); // only events or the program itself cause a read
}

void tst_LiveView::init()
{
    use("network-a.json");
    QFile::remove(m_dir.filePath(QStringLiteral("calls.log")));
    QFile::remove(m_dir.filePath(QStringLiteral("lines")));
    QFile::remove(m_dir.filePath(QStringLiteral("arm-fail")));
}

void tst_LiveView::cleanupTestCase()
{
    qputenv("PATH", m_path);
}

void tst_LiveView::followEventUpdatesInPlace()
{
    MainWindow w(SourceSpec {SourceSpec::Kind::Live, QString()});
    w.show();
    waitLoaded(w);
    LiveController *live = w.liveController();
    QTRY_COMPARE_WITH_TIMEOUT(live->followStatus(),
                              QStringLiteral("following changes (qubesd events)"), 10000);
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

    use("network-b.json"); // qubesd sends property-set:netvm for work
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

    use("network-b.json");
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
    use("network-c.json");
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
    // Both list their keys; the keys act on the selected qube from the map.
    QCOMPARE(connectTo->menuAction()->shortcut(), QKeySequence(Qt::Key_C));
    QCOMPARE(menu->findChild<QAction *>(QStringLiteral("watchDrops"))->shortcut(),
             QKeySequence(Qt::Key_W));
    QVERIFY(w.view()->findChild<QAction *>(QStringLiteral("connectToKey")));
    QVERIFY(w.view()->findChild<QAction *>(QStringLiteral("watchDropsKey")));
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
    QCOMPARE(changes(), QStringList()); // only the read-only listing ran
    QVERIFY(!live->undoAction()->isEnabled());

    // Accepted: exactly that command, then Undo is offered.
    asked.answer = true;
    QSignalSpy rerouted(live, &LiveController::rerouted);
    toVpn->trigger();
    QVERIFY(rerouted.wait(10000));
    QCOMPARE(changes(), QStringList {"Set work"});
    QCOMPARE(netvmHeld("work"), QJsonValue(QStringLiteral("sys-vpn")));
    QVERIFY(live->undoAction()->isEnabled());
    QVERIFY(!live->undoButton()->isHidden());
    QCOMPARE(live->undoButton()->text(), QStringLiteral("Undo: work back to sys-firewall"));

    // Undo asks too; declined, nothing runs.
    asked.answer = false;
    live->undoAction()->trigger();
    QCOMPARE(asked.texts.size(), 3);
    QVERIFY(asked.texts[2].contains(QStringLiteral("qvm-prefs work netvm sys-firewall")));
    QTest::qWait(300);
    QCOMPARE(changes().size(), 1);
    asked.answer = true;
    rerouted.clear();
    live->undoButton()->click();
    QVERIFY(rerouted.wait(10000));
    QCOMPARE(changes(), (QStringList {"Set work", "Set work"}));
    QCOMPARE(netvmHeld("work"), QJsonValue(QStringLiteral("sys-firewall")));
    QVERIFY(!live->undoAction()->isEnabled());
    QVERIFY(live->undoButton()->isHidden());

    // A default netvm is restored as the default, and none is an empty value.
    QJsonObject state = test::RealQubes::load(kData + QStringLiteral("network-a.json"));
    QJsonObject qubes = state.value(QStringLiteral("qubes")).toObject();
    QJsonObject work = qubes.value(QStringLiteral("work")).toObject();
    work.remove(QStringLiteral("netvm")); // the default, sys-firewall
    qubes.insert(QStringLiteral("work"), work);
    state.insert(QStringLiteral("qubes"), qubes);
    use(state);
    rerouted.clear();
    live->requestReroute("work", std::nullopt);
    QVERIFY(rerouted.wait(10000));
    QVERIFY(asked.texts.last().startsWith(QStringLiteral("Disconnect work from the network?")));
    QCOMPARE(changes(), QStringList {"Set work"});
    QCOMPARE(netvmHeld("work"), QJsonValue(QJsonValue::Null));
    rerouted.clear();
    live->requestUndo();
    QVERIFY(rerouted.wait(10000));
    QCOMPARE(changes(), (QStringList {"Set work", "Reset work"}));
    QCOMPARE(netvmHeld("work"), QJsonValue(QStringLiteral("default")));
}

void tst_LiveView::anonVmWarnsFirst()
{
    MainWindow w(SourceSpec {SourceSpec::Kind::Live, QString()});
    waitLoaded(w);
    LiveController *live = w.liveController();
    Asked asked;
    live->setConfirmHandler(asked.handler());
    live->requestReroute("anon-whonix", QStringLiteral("sys-firewall"));
    QTRY_COMPARE_WITH_TIMEOUT(asked.texts.size(), 1, 10000);
    QVERIFY(asked.texts[0].contains(QStringLiteral("\nWarning: anon-whonix is tagged anon-vm")));
    QCOMPARE(asked.confirmLabels[0], QStringLiteral("Connect anyway"));
    QCOMPARE(asked.icons[0], QMessageBox::Warning);
    QTest::qWait(300);
    QCOMPARE(changes(), QStringList()); // declined: nothing set
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
        // work's own firewall rules reject its mail to the internet (the oldest line).
        "[ 4.900000] netmap-drop-%TOKEN%-fw: IN=vif3.0 OUT=eth0 SRC=10.137.0.15 DST=192.0.2.10 "
        "LEN=60 TOS=0x00 PREC=0x00 TTL=63 ID=3 DF PROTO=TCP SPT=40001 DPT=25 SYN URGP=0 \n"
        "[ 5.000001] netmap-drop-%TOKEN%: IN=vif3.0 OUT=vif4.0 SRC=10.137.0.15 DST=10.137.0.16 "
        "LEN=84 TOS=0x00 PREC=0x00 TTL=63 ID=1 DF PROTO=ICMP TYPE=8 CODE=0 ID=7 SEQ=1 \n"
        "[ 5.100000] netmap-drop-%TOKEN%: IN=vif4.0 OUT=vif3.0 SRC=10.137.0.99 DST=10.137.0.15 "
        "LEN=60 TOS=0x00 PREC=0x00 TTL=63 ID=2 DF PROTO=TCP SPT=40000 DPT=22 SYN URGP=0 \n"
        "[ 5.2] netmap-drop-%TOKEN%: IN=<b>x</b> OUT=vif3.0 SRC=1.2.3.4 DST=1.2.3.4 PROTO=UDP\n");
    lines.close();

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
        QStringLiteral("Watch the traffic sys-firewall drops for 10 minutes?")));
    // The commands are in the box's details, open from the start, and the box fits a laptop
    // screen (inline, the commands made it taller than 800 px, its buttons out of reach).
    QVERIFY(asked.detailsShown[0]);
    QVERIFY2(asked.heights[0] < 700, qPrintable(QString::number(asked.heights[0])));
    // It says which drops it sees and where it hooks, and what it cannot see.
    for (const char *said :
         {"It sees:", "in front of \"oifgroup 2 drop\" in table ip qubes, chain forward",
          "its own firewall rules (qvm-firewall) reject",
          "in front of each reject in the qube's chain (qbs-10-137-0-12, ...) of table ip "
          "qubes-firewall",
          "It does not see: drops by rules added in sys-firewall itself (chain custom-forward",
          "IPv6", "remove themselves in sys-firewall after 10 minutes"})
        QVERIFY2(asked.texts[0].contains(QLatin1String(said)), said);
    QTest::qWait(200);
    QVERIFY(ran().isEmpty());

    asked.answer = true;
    QSignalSpy started(live, &LiveController::watchStarted);
    watch->trigger();
    QVERIFY(started.wait(10000));
    DroppedFlowsDock *dock = live->dock();
    QTRY_COMPARE_WITH_TIMEOUT(dock->rowCount(), 3, 10000);
    // The question held the very command that ran in the qube, as root.
    const QStringList commands = ran();
    QVERIFY(commands.size() >= 1);
    QVERIFY2(commands[0].startsWith(QStringLiteral("sys-firewall root\t")),
             qPrintable(commands[0]));
    CommandSpec arm;
    arm.program = QStringLiteral("qvm-run");
    arm.arguments = QStringList {"--pass-io",
                                 "--no-gui",
                                 "--no-colour-output",
                                 "--no-colour-stderr",
                                 "--no-autostart",
                                 "-u",
                                 "root",
                                 "sys-firewall"}
        << commands[0].section(u'\t', 1);
    QVERIFY(asked.texts[1].contains(arm.display()));
    QVERIFY(arm.arguments.last().contains(QStringLiteral("nft insert rule")));
    QVERIFY(arm.arguments.last().contains(QStringLiteral("insert rule ip qubes-firewall")));
    // The whole command, and the disarm after it, not cut short.
    QVERIFY(asked.texts[1].contains(QStringLiteral("echo netmap-disarmed")));

    // Newest first; an address no qube has is shown as such; the hostile line is refused.
    QCOMPARE(dock->cellText(0, DroppedFlowsDock::From), QStringLiteral("10.137.0.99 (no qube)"));
    QCOMPARE(dock->cellText(0, DroppedFlowsDock::To), QStringLiteral("work"));
    QCOMPARE(dock->cellText(0, DroppedFlowsDock::Protocol), QStringLiteral("TCP"));
    QCOMPARE(dock->cellText(0, DroppedFlowsDock::Port), QStringLiteral("22"));
    QCOMPARE(dock->cellText(1, DroppedFlowsDock::From), QStringLiteral("work"));
    QCOMPARE(dock->cellText(1, DroppedFlowsDock::To), QStringLiteral("untrusted"));
    QCOMPARE(dock->cellText(1, DroppedFlowsDock::Port), QStringLiteral("echo-request"));
    QCOMPARE(dock->cellText(1, DroppedFlowsDock::Why),
             QStringLiteral("qubes kept apart (no new traffic into a qube)"));
    // The reject of work's own firewall rules says so.
    QCOMPARE(dock->cellText(2, DroppedFlowsDock::From), QStringLiteral("work"));
    QCOMPARE(dock->cellText(2, DroppedFlowsDock::To), QStringLiteral("192.0.2.10 (no qube)"));
    QCOMPARE(dock->cellText(2, DroppedFlowsDock::Port), QStringLiteral("25"));
    QCOMPARE(dock->cellText(2, DroppedFlowsDock::Why),
             QStringLiteral("rejected by work's firewall rules"));
    QTRY_VERIFY(dock->findChild<QLabel *>(QStringLiteral("dropCounts"))
                    ->text()
                    .contains(QStringLiteral("1 line(s) refused")));
    QVERIFY(dock->watchStatus().startsWith(QStringLiteral("watching sys-firewall")));
    QStringList arrows;
    for (const DroppedFlowItem *item : live->flowItems())
        arrows << item->from() + u'>' + item->to();
    arrows.sort();
    // The unknown sender is drawn from the network qube that dropped it.
    QCOMPARE(arrows, QStringList({"sys-firewall>work", "work>sys-firewall", "work>untrusted"}));
    std::unique_ptr<QMenu> again(w->scene()->createContextMenu("sys-firewall"));
    QVERIFY(again->findChild<QAction *>(QStringLiteral("stopWatchDrops")));

    // Closing the window removes the rule before it goes.
    w->close();
    QVERIFY(ran().last().contains(QStringLiteral("nft delete rule")));
    delete w;
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
    QVERIFY(ran().isEmpty());
    QVERIFY(changes().isEmpty());
}

void tst_LiveView::failureTextIsPlain()
{
    // What a qube prints when the rule cannot be added shows literally, never as markup.
    QFile fail(m_dir.filePath(QStringLiteral("arm-fail")));
    QVERIFY(fail.open(QIODevice::WriteOnly));
    fail.write("<b>bold</b><img src=x>\n");
    fail.close();
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
}

QTEST_MAIN(tst_LiveView)
#include "tst_liveview.moc"
