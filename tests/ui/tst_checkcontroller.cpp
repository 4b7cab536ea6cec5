// The checks in the window: the context menu, results filling the dock and recolouring the links
// in place, busy markers, Cancel, a responsive event loop while checks hang, and the drill only
// after confirmation. The system is read and the checks run with the real Qubes tools (qvm-ls,
// qvm-run, ...) against the qubesd stand-in (LiveSeed), whose qrexec-client plays each qube
// with tests/data/scripted-qubes/qube-shell from the test's scenario.

#include "actionlog.h"
#include "checks/checkcontroller.h"
#include "checks/checkresultsmodel.h"
#include "checks/drilldialog.h"
#include "checks/evidencedialog.h"
#include "checks/resultsdock.h"
#include "diagram/diagramscene.h"
#include "diagram/diagramview.h"
#include "diagram/legenditem.h"
#include "diagram/linkitem.h"
#include "diagram/qubeitem.h"
#include "formats/snapshotyaml.h"
#include "inspector/inspectordock.h"
#include "mainwindow.h"
#include "policy/expectations.h"
#include "snapshots.h"

#include "realqubes.h"

#include <QAction>
#include <QClipboard>
#include <QFile>
#include <QFontDatabase>
#include <QGuiApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QToolBar>

using namespace netmap;

namespace {

const QString kFake = QStringLiteral(NETMAP_TEST_DATA "/scripted-qubes");
const QString kSeedState = QStringLiteral(NETMAP_TEST_DATA "/standin/seed.json");

// Checks run only on the live source: the seed system is read live, with the real qvm-ls and
// qubes-prefs against the qubesd stand-in holding the qubes of seed.yaml (one stand-in for the
// whole test, started by the first LiveSeed; each LiveSeed puts the seed back). The checks run
// through the real qvm-run (fakeRequest()), the qubes answering from the Scenario.
class LiveSeed
{
public:
    LiveSeed()
        : m_path(qgetenv("PATH"))
    {
        test::RealQubes &qubes = shared();
        if (qubes.statePath().isEmpty())
            m_outcome = qubes.start(test::RealQubes::load(kSeedState),
                                    kFake + QStringLiteral("/qube-shell"));
        else if (!qubes.setState(test::RealQubes::load(kSeedState)))
            m_outcome = test::RealQubes::Outcome::Failed;
        if (m_outcome == test::RealQubes::Outcome::Started)
            qputenv("PATH", qubes.path(m_path));
    }
    ~LiveSeed() { qputenv("PATH", m_path); }
    test::RealQubes::Outcome outcome() const { return m_outcome; }
    static test::RealQubes &shared()
    {
        static test::RealQubes qubes;
        return qubes;
    }

private:
    QByteArray m_path;
    test::RealQubes::Outcome m_outcome = test::RealQubes::Outcome::Started;
};

// Declares `live` (a LiveSeed) or ends the test function: skipped without the client, failed
// under CI=true or when the stand-in does not start.
#define LIVE_SEED(live)                                                                            \
    LiveSeed live;                                                                                 \
    if (live.outcome() == test::RealQubes::Outcome::Skipped)                                       \
        QSKIP(qPrintable(LiveSeed::shared().problem()));                                           \
    if (live.outcome() == test::RealQubes::Outcome::Failed)                                        \
    QFAIL(qPrintable(LiveSeed::shared().problem()))

bool waitLoaded(MainWindow &window)
{
    return QTest::qWaitFor([&] { return !window.snapshot().qubes.empty(); }, 10000);
}

// Scenario folders: a private overlay (files written by the test) over the named base scenarios.
class Scenario
{
public:
    explicit Scenario(const QStringList &bases = {QStringLiteral("seed")})
    {
        QStringList dirs {m_overlay.path()};
        for (const QString &b : bases)
            dirs << kFake + u'/' + b;
        qputenv("NETMAP_FAKE_QVM", dirs.join(u':').toLocal8Bit());
        qputenv("NETMAP_FAKE_STATE", m_state.path().toLocal8Bit());
        qunsetenv("NETMAP_FAKE_LOG");
    }
    ~Scenario() { qunsetenv("NETMAP_FAKE_LOG"); }
    void set(const QString &qube, const QString &file, const QByteArray &content)
    {
        QDir().mkpath(m_overlay.path() + u'/' + qube);
        QFile f(m_overlay.path() + u'/' + qube + u'/' + file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(content);
    }
    QString logPath()
    {
        const QString path = m_state.path() + QStringLiteral("/calls.log");
        qputenv("NETMAP_FAKE_LOG", path.toLocal8Bit());
        return path;
    }

private:
    QTemporaryDir m_overlay;
    QTemporaryDir m_state;
};

VerifyRequest fakeRequest(int concurrency = 4, int timeoutSeconds = 20)
{
    VerifyRequest r; // the real qvm-run from PATH (LiveSeed)
    r.config.timeoutSeconds = timeoutSeconds;
    r.config.connectTimeoutSeconds = 2;
    r.config.concurrency = concurrency;
    // The unique-name method, as a configured system has it (the fake curl plays the zone's
    // service); without it dns-leak can never pass.
    r.config.dnsZone = QStringLiteral("probe.example.org");
    r.config.dnsZoneService = QStringLiteral("https://zone.example.org/resolvers");
    return r;
}

QStringList lines(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QString::fromUtf8(f.readAll()).split(u'\n', Qt::SkipEmptyParts);
}

QMap<QString, QAction *> menuActions(MainWindow &window, const QString &qube)
{
    QMap<QString, QAction *> found;
    QMenu *menu = window.scene()->createContextMenu(qube, &window);
    menu->setParent(&window); // kept alive for the caller's look
    for (QAction *a : menu->actions()) {
        if (!a->objectName().isEmpty())
            found.insert(a->objectName(), a);
        if (a->menu())
            for (QAction *sub : a->menu()->actions())
                if (!sub->objectName().isEmpty())
                    found.insert(sub->objectName(), sub);
    }
    return found;
}

} // namespace

class tst_CheckController : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void windowHasVerifyAllWithProgressAndCancel();
    void contextMenuHoldsTheCheckActions_data();
    void contextMenuHoldsTheCheckActions();
    void keysRunTheMenuEntries();
    void checksFillTheDockAndRecolourInPlace();
    void singleCheckFromTheMenu();
    void resultsGoStaleWhenTheNetvmChanges();
    void cancelStopsAndSaysCancelled();
    void eventLoopTurnsWhileChecksHang();
    void hostileOutputShownLiterally();
    void drillNeverRunsWithoutConfirmation();
    void startupVerifyRunsAfterTheWindowOpens();
    void expectAgreesInEveryView();
    void startupDrillIsStillAsked();
    void checksRunOnlyOnTheLiveSource_data();
    void checksRunOnlyOnTheLiveSource();
    void aLeakIsMarkedAndSaidInWords();
    void verdictMarksCarryTheirAge();
    void killSwitchFailureMarksTheVpnQube();
    void resultsFilterAndFollowTheMap();
    void refreshKeepsResultsAndAsksBeforeDiscarding();
    void evidenceCanBeCopiedAndSaved();
    void evidenceShowsTheScriptLineByLine();
    void rootCommandsAreKeptOnRecord();
    void cleanupTestCase();
};

void tst_CheckController::cleanupTestCase()
{
    LiveSeed::shared().stop(); // before the application goes
}

void tst_CheckController::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName("qubes-netmap-tests");
    // Its own settings and action log per release: CTest runs the two at the same time.
    QCoreApplication::setApplicationName("tst_checkcontroller-" + test::RealQubes::release());
}

void tst_CheckController::init()
{
    QSettings().clear();
}

void tst_CheckController::windowHasVerifyAllWithProgressAndCancel()
{
    LIVE_SEED(live);
    MainWindow window(SourceSpec {SourceSpec::Kind::Live, QString()});
    QVERIFY(waitLoaded(window));
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    CheckController *checks = window.checkController();
    QVERIFY(checks);
    QAction *verifyAll = checks->verifyAllAction();
    QCOMPARE(verifyAll->shortcut(), QKeySequence(Qt::CTRL | Qt::Key_R));
    auto *bar = window.findChild<QToolBar *>("mainToolBar");
    QVERIFY(bar->actions().contains(verifyAll));
    auto *menu = window.findChild<QMenu *>("checksMenu");
    QVERIFY(menu);
    QVERIFY(menu->actions().contains(verifyAll));
    QVERIFY(window.menuBar()->actions().contains(menu->menuAction()));
    QVERIFY(checks->resultsDock()->isVisibleTo(&window));
    // Idle: no progress bar, no Cancel.
    QVERIFY(!checks->progressBar()->isVisibleTo(&window));
    QVERIFY(!checks->cancelButton()->isVisibleTo(&window));
    QVERIFY(!checks->cancelAction()->isEnabled());
}

void tst_CheckController::contextMenuHoldsTheCheckActions_data()
{
    QTest::addColumn<QString>("qube");
    QTest::addColumn<QStringList>("enabled");
    QTest::addColumn<QStringList>("disabled");
    QTest::addColumn<QStringList>("absent");
    // Only the checks that apply to the qube are offered (problem 6: Tor and VPN checks on
    // clearnet qubes were offered and then always skipped).
    const QStringList common {"checkExternalIp", "checkIsolation", "runAllChecks"};
    const QStringList vpnOnly {"checkVpn", "checkDnsLeak"};
    QTest::newRow("app qube") << "work" << common << QStringList()
                              << (vpnOnly
                                  + QStringList {"checkTor", "checkKillSwitch", "killSwitchDrill",
                                                 "notRunningNote", "startAndCheck"});
    QTest::newRow("vpn client") << "work-vpn" << (common + vpnOnly) << QStringList()
                                << QStringList {"checkTor", "checkKillSwitch", "killSwitchDrill"};
    QTest::newRow("tor client") << "whonix" << (common + QStringList {"checkTor", "checkDnsLeak"})
                                << QStringList() << QStringList {"checkVpn", "checkKillSwitch"};
    QTest::newRow("vpn qube") << "sys-vpn"
                              << (common + QStringList {"checkKillSwitch", "killSwitchDrill"})
                              << QStringList()
                              << QStringList {"checkTor", "notRunningNote", "startAndCheck"};
    // Every other networked qube is behind sys-firewall: no isolation to test from it.
    QTest::newRow("plain network qube")
        << "sys-firewall" << QStringList {"checkExternalIp", "runAllChecks"} << QStringList()
        << (vpnOnly
            + QStringList {"checkTor", "checkKillSwitch", "killSwitchDrill", "checkIsolation"});
    QTest::newRow("halted qube") << "default-dvm"
                                 << QStringList {"startAndCheck", "runAllChecksAutostart",
                                                 "checkExternalIpAutostart"}
                                 << (common + QStringList {"notRunningNote"})
                                 << QStringList {"checkKillSwitch", "checkVpn", "checkTor"};
    QTest::newRow("no network") << "vault" << QStringList() << QStringList {"checksUnavailable"}
                                << common;
    QTest::newRow("dom0") << "dom0" << QStringList() << QStringList()
                          << (common + QStringList {"checksUnavailable"});
}

void tst_CheckController::contextMenuHoldsTheCheckActions()
{
    QFETCH(QString, qube);
    QFETCH(QStringList, enabled);
    QFETCH(QStringList, disabled);
    QFETCH(QStringList, absent);
    LIVE_SEED(live);
    MainWindow window(SourceSpec {SourceSpec::Kind::Live, QString()});
    QVERIFY(waitLoaded(window));
    const auto actions = menuActions(window, qube);
    for (const QString &name : enabled) {
        QVERIFY2(actions.contains(name), qPrintable(name));
        QVERIFY2(actions[name]->isEnabled(), qPrintable(name));
    }
    for (const QString &name : disabled) {
        QVERIFY2(actions.contains(name), qPrintable(name));
        QVERIFY2(!actions[name]->isEnabled(), qPrintable(name));
    }
    for (const QString &name : absent)
        QVERIFY2(!actions.contains(name), qPrintable(name));
    if (actions.contains("checkExternalIp"))
        QCOMPARE(actions["checkExternalIp"]->text(), QString("Check external IP"));
    // Each check entry shows the key that runs it on the selected qube.
    for (auto it = actions.cbegin(); it != actions.cend(); ++it)
        if ((it.key().startsWith("check") && !it.key().endsWith("Autostart")
             && it.key() != "checksUnavailable" && it.key() != "checksOffNote")
            || it.key() == "runAllChecks" || it.key() == "killSwitchDrill"
            || it.key() == "startAndCheck" || it.key() == "runAllChecksAutostart")
            QVERIFY2(!it.value()->shortcut().isEmpty(), qPrintable(it.key()));
    // "Start QUBE and check" lists the key that starts the qube and runs all its checks.
    if (actions.contains("startAndCheck"))
        QCOMPARE(actions["startAndCheck"]->shortcut(), QKeySequence(Qt::SHIFT | Qt::Key_R));
    if (actions.contains("notRunningNote"))
        QVERIFY(actions["notRunningNote"]->text().contains("halted"));
}

// Problem 9: the checks in a qube's menu had no keys.
void tst_CheckController::keysRunTheMenuEntries()
{
    Scenario scenario;
    LiveSeed live;
    MainWindow window(SourceSpec {SourceSpec::Kind::Live, QString()});
    QVERIFY(waitLoaded(window));
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    CheckController *checks = window.checkController();
    checks->setBaseRequest(fakeRequest());
    window.activateWindow();
    window.view()->setFocus();
    QTRY_VERIFY(window.view()->hasFocus());
    // A halted qube: the entry is disabled in its menu, so its key does nothing.
    window.scene()->selectQube("default-dvm");
    QTest::keyClick(window.view(), Qt::Key_1);
    QVERIFY(!checks->isRunning());
    // A running one: 1 runs its external-IP check, as the menu entry would.
    window.scene()->selectQube("work");
    QSignalSpy finished(checks, &CheckController::runFinished);
    QTest::keyClick(window.view(), Qt::Key_1);
    QVERIFY(checks->isRunning());
    QVERIFY(finished.wait(60000));
    CheckResultsModel *model = checks->resultsDock()->model();
    QVERIFY(model->rowOf("work", CheckKind::ExternalIp) >= 0);
    QCOMPARE(model->rowCount(), 1);
}

void tst_CheckController::checksFillTheDockAndRecolourInPlace()
{
    Scenario scenario;
    LIVE_SEED(live);
    MainWindow window(SourceSpec {SourceSpec::Kind::Live, QString()});
    QVERIFY(waitLoaded(window));
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    CheckController *checks = window.checkController();
    checks->setBaseRequest(fakeRequest());
    ResultsDock *dock = checks->resultsDock();
    QCOMPARE(dock->model()->rowCount(), 0);
    QubeItem *workBox = window.scene()->qubeItem("work");
    const auto linkOf = [&](const QString &lower) -> LinkItem * {
        for (LinkItem *l : window.scene()->linkItems())
            if (l->lower() == lower && !l->toInternet())
                return l;
        return nullptr;
    };
    QVERIFY(linkOf("work"));
    QVERIFY(!linkOf("work")->linkStyle().verified);

    QSignalSpy finished(checks, &CheckController::runFinished);
    QStringList seenBusy;
    connect(checks, &CheckController::resultArrived, this,
            [&] { seenBusy += window.scene()->busyQubes(); });
    QTimer busyProbe;
    connect(&busyProbe, &QTimer::timeout, this, [&] { seenBusy += window.scene()->busyQubes(); });
    busyProbe.start(5);
    checks->verifyAll();
    QVERIFY(checks->isRunning());
    QVERIFY(checks->progressBar()->isVisibleTo(&window));
    QVERIFY(checks->cancelButton()->isVisibleTo(&window));
    QVERIFY(!checks->verifyAllAction()->isEnabled());
    QVERIFY(finished.wait(90000));
    busyProbe.stop();
    QCOMPARE(finished.first().first().toBool(), false);
    QVERIFY(!checks->progressBar()->isVisibleTo(&window));
    QVERIFY(window.scene()->busyQubes().isEmpty());
    QVERIFY2(seenBusy.contains("work"), qPrintable(seenBusy.join(',')));
    for (QubeItem *item : window.scene()->qubeItems())
        QVERIFY(!item->isBusy());

    // No relayout: the same box object, at the same place.
    QCOMPARE(window.scene()->qubeItem("work"), workBox);

    // The dock lists every result; the reference outcome.
    CheckResultsModel *model = dock->model();
    QVERIFY(model->rowCount() >= 8);
    const auto status = [&](const QString &qube, CheckKind kind) {
        const int row = model->rowOf(qube, kind);
        return row < 0 ? QString("absent") : checkStatusId(model->resultAt(row)->status);
    };
    QCOMPARE(status("work", CheckKind::ExternalIp), QString("pass"));
    QCOMPARE(status("work-vpn", CheckKind::Vpn), QString("pass"));
    QCOMPARE(status("whonix", CheckKind::Tor), QString("pass"));
    QCOMPARE(status("work", CheckKind::Isolation), QString("pass"));
    QVERIFY(dock->summary().contains("✔"));
    const int row = model->rowOf("work", CheckKind::ExternalIp);
    QCOMPARE(model->index(row, CheckResultsModel::StatusColumn).data().toString(),
             QString("✔ pass"));

    // Links recoloured by exit: work and untrusted share the clearnet colour, work-vpn differs.
    QVERIFY(linkOf("work")->linkStyle().verified);
    QCOMPARE(linkOf("work")->linkStyle().externalIp, QString("203.0.113.7"));
    QCOMPARE(linkOf("work-vpn")->linkStyle().externalIp, QString("198.51.100.23"));
    QCOMPARE(linkOf("untrusted")->linkStyle().colour, linkOf("work")->linkStyle().colour);
    QVERIFY(linkOf("work-vpn")->linkStyle().colour != linkOf("work")->linkStyle().colour);
    QVERIFY(window.scene()->colouring().exits.size() >= 3); // the legend's rows
    // The window's snapshot holds the evidence (the inspector and exports read it).
    QVERIFY(window.snapshot().latest(u"work", CheckKind::ExternalIp));
    QVERIFY(checks->lastMessage().startsWith("Checks finished"));
}

void tst_CheckController::singleCheckFromTheMenu()
{
    Scenario scenario({"vpn-leak", "seed"});
    LIVE_SEED(live);
    MainWindow window(SourceSpec {SourceSpec::Kind::Live, QString()});
    QVERIFY(waitLoaded(window));
    CheckController *checks = window.checkController();
    checks->setBaseRequest(fakeRequest());
    QSignalSpy finished(checks, &CheckController::runFinished);
    const auto actions = menuActions(window, "work-vpn");
    actions["checkVpn"]->trigger();
    QVERIFY(checks->isRunning());
    // While it runs, the menu offers Cancel and no second run.
    const auto during = menuActions(window, "work");
    QVERIFY(!during["checkExternalIp"]->isEnabled());
    QVERIFY(during.contains("cancelChecksAction"));
    QVERIFY(finished.wait(60000));
    const CheckResult *vpn = window.snapshot().latest(u"work-vpn", CheckKind::Vpn);
    QVERIFY(vpn);
    QCOMPARE(vpn->status, CheckStatus::Fail); // the leak
    // Only what was asked for (plus the baseline it compares with) ran.
    QVERIFY(!window.snapshot().latest(u"work-vpn", CheckKind::Isolation));
    bool red = false;
    for (LinkItem *l : window.scene()->linkItems())
        if (l->lower() == "work-vpn" && !l->toInternet())
            red = l->linkStyle().failed;
    QVERIFY(red);
}

void tst_CheckController::resultsGoStaleWhenTheNetvmChanges()
{
    Scenario scenario;
    LIVE_SEED(live);
    MainWindow window(SourceSpec {SourceSpec::Kind::Live, QString()});
    QVERIFY(waitLoaded(window));
    CheckController *checks = window.checkController();
    checks->setBaseRequest(fakeRequest());
    QSignalSpy finished(checks, &CheckController::runFinished);
    QVERIFY(checks->verify({"work"}, {CheckKind::ExternalIp}));
    QVERIFY(finished.wait(60000));
    CheckResultsModel *model = checks->resultsDock()->model();
    const int row = model->rowOf("work", CheckKind::ExternalIp);
    QVERIFY(row >= 0);
    QVERIFY(!model->isStale(row));
    const auto link = [&]() -> LinkStyle {
        for (LinkItem *l : window.scene()->linkItems())
            if (l->lower() == "work" && !l->toInternet())
                return l->linkStyle();
        return {};
    };
    QVERIFY(link().verified);
    QVERIFY(!link().stale);

    // work moves behind sys-vpn (as following changes shows it): its evidence is now stale.
    Snapshot moved = window.snapshot();
    test::setNetvm(moved, "work", "sys-vpn");
    window.showFollowedSnapshot(moved);
    QVERIFY(model->isStale(row));
    QVERIFY(
        model->index(row, CheckResultsModel::StatusColumn).data().toString().endsWith("(stale)"));
    QVERIFY(checks->resultsDock()->summary().contains("stale"));
    QVERIFY(link().stale);
    window.inspect("work");
    bool said = false;
    for (QTableWidget *table : window.inspector()->findChildren<QTableWidget *>())
        for (int r = 0; r < table->rowCount(); ++r)
            for (int c = 0; c < table->columnCount(); ++c)
                if (table->item(r, c) && table->item(r, c)->text().contains("stale"))
                    said = true;
    QVERIFY(said);
}

void tst_CheckController::cancelStopsAndSaysCancelled()
{
    Scenario scenario;
    scenario.set("_default", "mode", "hang\n");
    LIVE_SEED(live);
    MainWindow window(SourceSpec {SourceSpec::Kind::Live, QString()});
    QVERIFY(waitLoaded(window));
    CheckController *checks = window.checkController();
    checks->setBaseRequest(fakeRequest(4, 120));
    QSignalSpy finished(checks, &CheckController::runFinished);
    checks->verifyAll();
    QTRY_VERIFY(!window.scene()->busyQubes().isEmpty());
    QTest::qWait(200);
    QVERIFY(checks->isRunning());
    QTest::mouseClick(checks->cancelButton(), Qt::LeftButton);
    // The wait only guards against a hang; the reasons below say the cancel, not the 120 s
    // timeout, ended the checks.
    QVERIFY(finished.count() == 1 || finished.wait(60000));
    QCOMPARE(finished.first().first().toBool(), true);
    QVERIFY2(checks->lastMessage().contains("cancelled"), qPrintable(checks->lastMessage()));
    QVERIFY(window.scene()->busyQubes().isEmpty());
    QVERIFY(!checks->isRunning());
    // Every planned check is reported, none passed, each says it was cancelled.
    CheckResultsModel *model = checks->resultsDock()->model();
    QVERIFY(model->rowCount() > 0);
    QCOMPARE(model->count(CheckStatus::Pass), 0);
    for (int row = 0; row < model->rowCount(); ++row) {
        const CheckResult *r = model->resultAt(row);
        if (r->status == CheckStatus::Skipped && !r->reason.contains("cancel"))
            continue; // skipped for its own reason (halted, not applicable)
        QVERIFY2(r->reason.contains("cancel"), qPrintable(r->reason));
    }
    QVERIFY(checks->verifyAllAction()->isEnabled());
}

void tst_CheckController::eventLoopTurnsWhileChecksHang()
{
    Scenario scenario;
    scenario.set("_default", "mode", "hang\n");
    LIVE_SEED(live);
    {
        // qubesd knows the twenty qubes too, so qvm-run reaches them and they hang.
        QJsonObject state = test::RealQubes::load(kSeedState);
        QJsonObject qubes = state.value("qubes").toObject();
        for (int i = 0; i < 20; ++i)
            qubes.insert(QStringLiteral("app%1").arg(i, 2, 10, QLatin1Char('0')),
                         QJsonObject {{"netvm", "sys-net"}, {"label", "blue"}});
        state.insert("qubes", qubes);
        QVERIFY(LiveSeed::shared().setState(state));
    }
    MainWindow window(SourceSpec {SourceSpec::Kind::Live, QString()});
    QVERIFY(waitLoaded(window));
    window.setSnapshot(test::fanOut(20)); // as a live read of a larger system would show it
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    CheckController *checks = window.checkController();
    checks->setBaseRequest(fakeRequest(32, 120));
    QSignalSpy finished(checks, &CheckController::runFinished);

    // How late the event loop is while checks hang is a benchmark (tests/bench,
    // netmap-bench-responsive); here: the timer keeps firing, and the window answers.
    int ticks = 0;
    QTimer probe;
    connect(&probe, &QTimer::timeout, this, [&ticks] { ++ticks; });
    const QString calls = scenario.logPath(); // each qube notes when its command starts
    const auto hanging = [&calls] {
        QFile f(calls);
        return f.open(QIODevice::ReadOnly) ? int(f.readAll().count("start ")) : 0;
    };
    probe.start(10);
    checks->verifyAll();
    QTRY_COMPARE_WITH_TIMEOUT(window.scene()->busyQubes().size(), 21, 30000);
    // Every qube runs its command (the real qvm-run and its qrexec-client are two Python
    // programs each: the generous limit only guards against a hang).
    QTRY_VERIFY_WITH_TIMEOUT(hanging() >= 21, 120000);
    // While all 21 hang, the event loop keeps serving the timer.
    const int ticksBefore = ticks;
    QTRY_VERIFY_WITH_TIMEOUT(ticks >= ticksBefore + 20, 60000);
    QVERIFY(checks->isRunning());
    // Nothing came back (only the checks skipped by plan, e.g. sys-net's isolation).
    CheckResultsModel *model = checks->resultsDock()->model();
    QCOMPARE(model->count(CheckStatus::Pass) + model->count(CheckStatus::Fail)
                 + model->count(CheckStatus::Error),
             0);
    // The window still answers meanwhile: the menu opens, the dock sorts.
    QVERIFY(menuActions(window, "app03").contains("checkExternalIp"));
    checks->resultsDock()->view()->sortByColumn(CheckResultsModel::StatusColumn,
                                                Qt::DescendingOrder);
    checks->cancel();
    QVERIFY(finished.wait(60000));
}

void tst_CheckController::hostileOutputShownLiterally()
{
    // The fake's garbage mode prints ANSI, non-UTF-8 and HTML around the answer.
    Scenario scenario;
    scenario.set("work", "mode", "garbage\n");
    LIVE_SEED(live);
    MainWindow window(SourceSpec {SourceSpec::Kind::Live, QString()});
    QVERIFY(waitLoaded(window));
    CheckController *checks = window.checkController();
    checks->setBaseRequest(fakeRequest());
    QSignalSpy finished(checks, &CheckController::runFinished);
    QVERIFY(checks->verify({"work"}, {CheckKind::ExternalIp}));
    QVERIFY(finished.wait(60000));
    ResultsDock *dock = checks->resultsDock();
    const int sourceRow = dock->model()->rowOf("work", CheckKind::ExternalIp);
    QVERIFY(sourceRow >= 0);
    int viewRow = -1;
    for (int r = 0; r < dock->view()->model()->rowCount(); ++r)
        if (dock->view()->model()->index(r, 0).data().toString() == "work"
            && dock->view()->model()->index(r, 1).data().toString() == "External IP")
            viewRow = r;
    QVERIFY(viewRow >= 0);
    // Double-click opens the evidence.
    QTableView *view = dock->view();
    dock->show();
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    const QModelIndex index = view->model()->index(viewRow, 0);
    view->scrollTo(index);
    const QPoint at = view->visualRect(index).center();
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, at);
    QTest::mouseDClick(view->viewport(), Qt::LeftButton, {}, at);
    EvidenceDialog *dialog = nullptr;
    QTRY_VERIFY((dialog = dock->findChild<EvidenceDialog *>()));
    const QString text = dialog->text();
    QVERIFY2(text.contains("<b>work</b>"), qPrintable(text));
    QVERIFY(text.contains("<html><script>alert(1)</script></html>"));
    QVERIFY(text.contains("Command:"));
    QVERIFY(text.contains("qvm-run"));
    QVERIFY(text.contains("Exit:"));
    QVERIFY(!text.contains(QChar(0x1b)));
    QVERIFY(dialog->textEdit()->isReadOnly());
    dialog->close();

    // A result with every kind of hostile text, straight into the dialog.
    CheckResult r;
    r.qube = *QubeName::fromUntrusted(u"work");
    r.check = CheckKind::Tor;
    r.status = CheckStatus::Fail;
    r.observed = "<img src=x>";
    r.reason = "evil \u202Egnp.exe";
    r.command = "qvm-run --pass-io work '<i>x</i>'";
    r.exitCode = 0;
    r.output = QString("<img src=x onerror=alert(1)>\n") + QChar(0x1b) + "[31mred" + QChar(0x1b)
        + "[0m\n" + QChar(0x202E) + "txt.exe\n" + QChar(0x200B) + "zero width\n" + QChar(0x9b)
        + "2J";
    EvidenceDialog hostile(r, {"work", "sys-firewall", "sys-net"});
    const QString shown = hostile.text();
    QVERIFY(shown.contains("<img src=x onerror=alert(1)>"));
    QVERIFY(shown.contains("\\x1b[31mred\\x1b[0m"));
    QVERIFY(shown.contains("<U+202E>txt.exe"));
    QVERIFY(shown.contains("<U+200B>zero width"));
    QVERIFY(shown.contains("\\x9b2J"));
    QVERIFY(shown.contains("evil <U+202E>gnp.exe"));
    for (const QChar c : shown)
        QVERIFY2(c == u'\n'
                     || (c.unicode() >= 0x20 && c.unicode() != 0x7f
                         && !(c.unicode() >= 0x80 && c.unicode() < 0xa0) && c.unicode() != 0x202E
                         && c.unicode() != 0x200B),
                 qPrintable(QString::number(c.unicode(), 16)));
    QVERIFY(shown.contains("STALE")); // its path was not the current one
    QVERIFY(!hostile.findChild<QTextEdit *>()); // never a rich-text widget
}

void tst_CheckController::drillNeverRunsWithoutConfirmation()
{
    Scenario scenario;
    const QString log = scenario.logPath();
    LIVE_SEED(live);
    MainWindow window(SourceSpec {SourceSpec::Kind::Live, QString()});
    QVERIFY(waitLoaded(window));
    CheckController *checks = window.checkController();
    checks->setBaseRequest(fakeRequest());
    QSignalSpy finished(checks, &CheckController::runFinished);

    auto actions = menuActions(window, "sys-vpn");
    QVERIFY(actions.contains("killSwitchDrill"));
    actions["killSwitchDrill"]->trigger();
    // The tunnel is not known yet: sys-vpn is looked at first (read-only), then the question.
    QTRY_VERIFY_WITH_TIMEOUT(checks->drillDialog(), 60000);
    QCOMPARE(finished.count(), 1);
    QVERIFY(!checks->isRunning());
    DrillDialog *dialog = checks->drillDialog();
    const DrillPlan plan = dialog->plan();
    QCOMPARE(plan.vpnQube, QString("sys-vpn"));
    QCOMPARE(plan.interfaceName, QString("tun0"));
    QCOMPARE(plan.downstreamQube, QString("work-vpn"));
    QCOMPARE(plan.commands.size(), 4);
    const QString shown = dialog->commandsText();
    for (const CommandSpec &c : plan.commands) {
        // The command line, then its script verbatim (multi-line, readable).
        QStringList head = c.arguments;
        const QString script = head.takeLast();
        QVERIFY(shown.contains(c.program + " " + head.join(' ') + " SCRIPT\n"));
        QVERIFY(shown.contains("exactly ---\n" + script + "\n--- end of SCRIPT"));
        QVERIFY(script.contains('\n'));
    }
    QVERIFY(shown.contains("ip link set"));
    QVERIFY(dialog->findChild<QPlainTextEdit *>("drillCommands")->isReadOnly());
    QVERIFY(dialog->findChild<QLabel *>("drillIntro")
                ->text()
                .contains("restores itself even if this program dies"));
    QVERIFY(!dialog->confirmButton()->isDefault());

    // Refused: nothing runs.
    const int callsBefore = int(lines(log).size());
    QVERIFY(callsBefore > 0);
    dialog->reject();
    QTest::qWait(1500);
    QCOMPARE(int(lines(log).size()), callsBefore);
    QVERIFY(!checks->isRunning());
    QCOMPARE(finished.count(), 1);
    const CheckResult *r = window.snapshot().latest(u"sys-vpn", CheckKind::KillSwitch);
    QVERIFY(r);
    QVERIFY(!r->command.contains("ip link set"));

    // Closing the dialog by Escape refuses as well.
    checks->requestDrill("sys-vpn");
    QTRY_VERIFY(checks->drillDialog());
    QTest::keyClick(checks->drillDialog(), Qt::Key_Escape);
    QTest::qWait(300);
    QVERIFY(!checks->isRunning());
    QCOMPARE(int(lines(log).size()), callsBefore);

    // Confirmed: exactly the commands shown run.
    checks->requestDrill("sys-vpn");
    QTRY_VERIFY(checks->drillDialog());
    const DrillPlan confirmed = checks->drillDialog()->plan();
    QTest::mouseClick(checks->drillDialog()->confirmButton(), Qt::LeftButton);
    QVERIFY(checks->isRunning());
    QVERIFY(finished.wait(90000));
    const CheckResult *drill = window.snapshot().latest(u"sys-vpn", CheckKind::KillSwitch);
    QVERIFY(drill);
    for (const CommandSpec &c : confirmed.commands)
        QVERIFY2(drill->command.contains(c.display()), qPrintable(drill->command));
    QVERIFY(lines(log).filter(" sys-vpn root ").size() > 2);
}

void tst_CheckController::startupVerifyRunsAfterTheWindowOpens()
{
    Scenario scenario;
    LIVE_SEED(live);
    MainWindow window(SourceSpec {SourceSpec::Kind::Live, QString()});
    QVERIFY(waitLoaded(window));
    CheckController *checks = window.checkController();
    QSignalSpy started(checks, &CheckController::runStarted);
    QSignalSpy finished(checks, &CheckController::runFinished);
    VerifyRequest request = fakeRequest();
    request.qubes = QStringList {"work", "untrusted"};
    request.checks = {CheckKind::ExternalIp};
    checks->verifyWhenShown(request);
    window.show();
    QVERIFY(started.count() == 1 || started.wait(5000));
    QVERIFY(checks->progressBar()->isVisibleTo(&window));
    QVERIFY(finished.wait(60000));
    QVERIFY(window.snapshot().latest(u"work", CheckKind::ExternalIp));
    QVERIFY(window.snapshot().latest(u"untrusted", CheckKind::ExternalIp));
    QVERIFY(!window.snapshot().latest(u"work", CheckKind::Isolation));
    // The base of later runs is the startup request's (its config and qvm-run).
    QCOMPARE(checks->baseRequest().qvmRun, request.qvmRun);
}

// --verify --expect in the window: the verdict, the inspector, the map's colours, the results dock
// and the JSON report judge by the same intent (work is meant to leave by a VPN; on the seed it
// leaves by the clearnet, so its vpn check fails).
void tst_CheckController::expectAgreesInEveryView()
{
    Scenario scenario;
    LIVE_SEED(live);
    MainWindow window(SourceSpec {SourceSpec::Kind::Live, QString()});
    QVERIFY(waitLoaded(window));
    CheckController *checks = window.checkController();
    QSignalSpy finished(checks, &CheckController::runFinished);
    VerifyRequest request = fakeRequest();
    request.qubes = QStringList {"work"};
    request.checks = {CheckKind::Vpn};
    auto intent = expectationsFromYaml("qubes:\n  work: vpn\n", "expect.yaml");
    QVERIFY(intent.ok());
    request.expectations = *intent;
    checks->verifyWhenShown(request);
    const auto expected = [&] {
        auto *label = window.inspector()->findChild<QLabel *>("value.expected");
        return label ? label->text() : QString();
    };
    // Before the run: the map and the inspector already judge by it.
    QCOMPARE(window.document()->intent(), *intent);
    window.scene()->selectQube("work");
    QVERIFY2(expected().startsWith("vpn"), qPrintable(expected()));
    QVERIFY(finished.wait(60000));

    const CheckResult *r = window.snapshot().latest(u"work", CheckKind::Vpn);
    QVERIFY(r);
    // Inferred, work is a clearnet qube and the vpn check does not apply; meant for a VPN, it runs
    // and fails.
    QCOMPARE(r->status, CheckStatus::Fail);
    QVERIFY2(expected().startsWith("vpn"), qPrintable(expected()));
    bool red = false;
    for (LinkItem *l : window.scene()->linkItems())
        if (l->lower() == "work" && !l->toInternet())
            red = l->linkStyle().failed;
    QVERIFY(red); // the leak colours work's path
    CheckResultsModel *model = checks->resultsDock()->model();
    const int row = model->rowOf("work", CheckKind::Vpn);
    QVERIFY(row >= 0);
    QCOMPARE(model->data(model->index(row, CheckResultsModel::ExpectedColumn)).toString(),
             r->expected);

    QTemporaryDir dir;
    QVERIFY(window.saveReportTo(dir.filePath("report.json")));
    QFile f(dir.filePath("report.json"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QJsonObject root = QJsonDocument::fromJson(f.readAll()).object();
    bool found = false;
    for (const QJsonValue &v : root.value("qubes").toArray()) {
        const QJsonObject q = v.toObject();
        if (q.value("name").toString() != "work")
            continue;
        found = true;
        QCOMPARE(q.value("expected_egress").toString(), QString("vpn"));
        for (const QJsonValue &c : q.value("checks").toArray())
            if (c.toObject().value("check").toString() == "vpn") {
                QCOMPARE(c.toObject().value("status").toString(), QString("fail"));
                QCOMPARE(c.toObject().value("expected").toString(), r->expected);
            }
    }
    QVERIFY(found);
}

void tst_CheckController::startupDrillIsStillAsked()
{
    // --verify --drill in the window: the checks run, then the drill is asked for, not run.
    Scenario scenario;
    const QString log = scenario.logPath();
    LIVE_SEED(live);
    MainWindow window(SourceSpec {SourceSpec::Kind::Live, QString()});
    QVERIFY(waitLoaded(window));
    CheckController *checks = window.checkController();
    QSignalSpy finished(checks, &CheckController::runFinished);
    VerifyRequest request = fakeRequest();
    request.qubes = QStringList {"sys-vpn"};
    request.checks = {CheckKind::KillSwitch};
    request.drill = true;
    checks->verifyWhenShown(request);
    window.show();
    QVERIFY(finished.wait(60000));
    QTRY_VERIFY(checks->drillDialog());
    QCOMPARE(checks->drillDialog()->plan().vpnQube, QString("sys-vpn"));
    const int calls = int(lines(log).size());
    checks->drillDialog()->reject();
    QTest::qWait(500);
    QVERIFY(!checks->isRunning());
    QCOMPARE(int(lines(log).size()), calls);
    const CheckResult *r = window.snapshot().latest(u"sys-vpn", CheckKind::KillSwitch);
    QVERIFY(r);
    QVERIFY(!r->command.contains("ip link set"));
}

void tst_CheckController::checksRunOnlyOnTheLiveSource_data()
{
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("path");
    QTest::newRow("demo") << int(SourceSpec::Kind::Demo) << QString();
    QTest::newRow("snapshot") << int(SourceSpec::Kind::File)
                              << QString(kFake + QStringLiteral("/seed.yaml"));
}

// Problem 2: on the demo or a snapshot, checks and the drill once ran real qvm-run in local
// qubes that shared a name, and merged the results into the foreign map.
void tst_CheckController::checksRunOnlyOnTheLiveSource()
{
    QFETCH(int, kind);
    QFETCH(QString, path);
    Scenario scenario;
    const QString log = scenario.logPath();
    MainWindow window(SourceSpec {SourceSpec::Kind(kind), path});
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    CheckController *checks = window.checkController();
    checks->setBaseRequest(fakeRequest());
    const std::size_t before = window.snapshot().checks.size();

    // Verify all: disabled, saying why, in the window and in the Checks menu.
    QVERIFY(!checks->verifyAllAction()->isEnabled());
    QVERIFY2(checks->verifyAllAction()->statusTip().contains("only on the live system"),
             qPrintable(checks->verifyAllAction()->statusTip()));
    bool noted = false;
    for (QAction *a : window.findChild<QMenu *>("checksMenu")->actions())
        noted |= a->objectName() == "checksOffNote" && a->isVisible() && !a->isEnabled()
            && a->text().contains("live system");
    QVERIFY(noted);
    // The context menu offers no check, only the reason.
    for (const QString &qube : {QString("work"), QString("sys-vpn")}) {
        const auto actions = menuActions(window, qube);
        QVERIFY2(actions.contains("checksOffNote"), qPrintable(qube));
        QVERIFY(!actions["checksOffNote"]->isEnabled());
        for (const char *name : {"checkExternalIp", "runAllChecks", "killSwitchDrill"})
            QVERIFY2(!actions.contains(name), name);
    }
    // Called directly, nothing starts either: no qvm-run, no dialog, no new result.
    QVERIFY(!checks->verify({"work"}, {CheckKind::ExternalIp}));
    checks->verifyAll();
    checks->requestDrill("sys-vpn");
    QTest::qWait(300);
    QVERIFY(!checks->isRunning());
    QVERIFY(!checks->drillDialog());
    QVERIFY(lines(log).isEmpty());
    QCOMPARE(window.snapshot().checks.size(), before);
    QVERIFY(checks->lastMessage().contains("live system"));
}

// Problem 4: a VPN client leaving by the clearnet exit looked verified and clean.
// Problem 6: a single check's row landed out of view.
void tst_CheckController::aLeakIsMarkedAndSaidInWords()
{
    Scenario scenario({"vpn-leak", "seed"});
    LIVE_SEED(live);
    MainWindow window(SourceSpec {SourceSpec::Kind::Live, QString()});
    window.resize(1280, 800);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QVERIFY(waitLoaded(window));
    CheckController *checks = window.checkController();
    checks->setBaseRequest(fakeRequest());
    QSignalSpy finished(checks, &CheckController::runFinished);
    // Many rows first, so that the single check's row would land out of view.
    QVERIFY(checks->verify({}, {}));
    QVERIFY(finished.wait(60000));
    QVERIFY(checks->verify({"work-vpn"}, {CheckKind::Vpn}));
    QVERIFY(finished.wait(60000));

    QubeItem *item = window.scene()->qubeItem("work-vpn");
    QCOMPARE(item->verdict(), VerdictMark::Fail);
    QVERIFY2(item->toolTip().contains("VPN leak: fail at "), qPrintable(item->toolTip()));
    window.inspect("work-vpn");
    const QString exit = window.inspector()->findChild<QLabel *>("value.exit")->text();
    QVERIFY2(exit.startsWith("leaks: leaves by the clearnet exit"), qPrintable(exit));
    QVERIFY(!exit.contains("verified"));
    const QString findings = window.inspector()->findChild<QLabel *>("findings")->text();
    QVERIFY2(findings.contains("fail: VPN leak check (leak)"), qPrintable(findings));
    QVERIFY(findings != "None.");
    const QString verdict = window.inspector()->findChild<QLabel *>("value.verdict")->text();
    QVERIFY2(verdict.startsWith("fail"), qPrintable(verdict));
    // Its external-IP result measured the clearnet exit: not shown as a green pass.
    CheckResultsModel *model = checks->resultsDock()->model();
    const int ipRow = model->rowOf("work-vpn", CheckKind::ExternalIp);
    QVERIFY(ipRow >= 0);
    QCOMPARE(model->resultAt(ipRow)->status, CheckStatus::Pass);
    const QString shown = model->index(ipRow, CheckResultsModel::StatusColumn).data().toString();
    QVERIFY2(shown.startsWith("✘ leak"), qPrintable(shown));

    // The legend (in exported pictures too) says what failed.
    QVERIFY(window.scene()->legend()->texts().contains("Failed work-vpn: VPN leak"));

    // The single check's row is the selected one, and on screen.
    ResultsDock *dock = checks->resultsDock();
    QTableView *view = dock->view();
    const QModelIndex current = view->currentIndex();
    QVERIFY(current.isValid());
    QCOMPARE(current.data(CheckResultsModel::QubeRole).toString(), QString("work-vpn"));
    QCOMPARE(view->model()->index(current.row(), CheckResultsModel::CheckColumn).data().toString(),
             QString("VPN leak"));
    QVERIFY(view->viewport()->rect().intersects(view->visualRect(current)));
}

// Problem 5: after a check that could not complete, the path stayed verified from an older
// run, and no qube carried a mark.
void tst_CheckController::verdictMarksCarryTheirAge()
{
    Scenario scenario;
    LIVE_SEED(live);
    MainWindow window(SourceSpec {SourceSpec::Kind::Live, QString()});
    QVERIFY(waitLoaded(window));
    CheckController *checks = window.checkController();
    checks->setBaseRequest(fakeRequest(4, 3));
    QSignalSpy finished(checks, &CheckController::runFinished);
    QVERIFY(checks->verify({"work"}, {CheckKind::ExternalIp}));
    QVERIFY(finished.wait(60000));
    QubeItem *work = window.scene()->qubeItem("work");
    QCOMPARE(work->verdict(), VerdictMark::Pass);
    const QDateTime ran = window.snapshot().latest(u"work", CheckKind::ExternalIp)->finished;
    QVERIFY(work->toolTip().contains("External IP: pass at "
                                     + ran.toUTC().toString("yyyy-MM-dd HH:mm") + " UTC"));
    QCOMPARE(window.scene()->qubeItem("untrusted")->verdict(), VerdictMark::None);
    const auto link = [&]() -> LinkStyle {
        for (LinkItem *l : window.scene()->linkItems())
            if (l->lower() == "work" && !l->toInternet())
                return l->linkStyle();
        return {};
    };
    QVERIFY(link().verified);

    // The same check again, now timing out: the mark says so, and the path is not verified.
    scenario.set("work", "mode", "hang\n");
    QVERIFY(checks->verify({"work"}, {CheckKind::ExternalIp}));
    QVERIFY(finished.wait(60000));
    QCOMPARE(window.snapshot().latest(u"work", CheckKind::ExternalIp)->status, CheckStatus::Error);
    QCOMPARE(work->verdict(), VerdictMark::Error);
    QVERIFY(work->toolTip().contains("External IP: cannot tell at "));
    QVERIFY(!link().verified);

    // Moved behind another netvm: stale.
    Snapshot moved = window.snapshot();
    test::setNetvm(moved, "work", "sys-vpn");
    window.showFollowedSnapshot(moved);
    QCOMPARE(window.scene()->qubeItem("work")->verdict(), VerdictMark::Stale);
    QVERIFY(window.scene()->qubeItem("work")->toolTip().contains("stale"));
}

// A failed kill switch marks the VPN qube, not the path: the tunnel itself may work.
void tst_CheckController::killSwitchFailureMarksTheVpnQube()
{
    Snapshot s = demoSnapshot();
    bool found = false;
    QStringList chain;
    for (CheckResult &r : s.checks)
        if (r.check == CheckKind::KillSwitch) {
            r.status = CheckStatus::Fail;
            found = true;
            chain = r.pathAtRun;
        }
    QVERIFY(found);
    MainWindow window(SourceSpec {SourceSpec::Kind::Demo, QString()});
    window.setSnapshot(s);
    const QString vpn = chain.value(0);
    QCOMPARE(window.scene()->qubeItem(vpn)->verdict(), VerdictMark::Fail);
    for (LinkItem *l : window.scene()->linkItems())
        QVERIFY2(!l->linkStyle().failed, qPrintable(l->lower()));
    window.inspect(vpn);
    QVERIFY(window.inspector()
                ->findChild<QLabel *>("value.verdict")
                ->text()
                .contains("kill switch failed"));
}

// Problems 6 and 8: the results table could not be filtered and did not follow the map.
void tst_CheckController::resultsFilterAndFollowTheMap()
{
    Scenario scenario({"unreachable", "seed"});
    LIVE_SEED(live);
    MainWindow window(SourceSpec {SourceSpec::Kind::Live, QString()});
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QVERIFY(waitLoaded(window));
    CheckController *checks = window.checkController();
    checks->setBaseRequest(fakeRequest(4, 3));
    QSignalSpy finished(checks, &CheckController::runFinished);
    QVERIFY(checks->verify({}, {}));
    QVERIFY(finished.wait(60000));
    ResultsDock *dock = checks->resultsDock();
    CheckResultsModel *model = dock->model();
    const int all = dock->visibleRows();
    QVERIFY(all > 3);
    // An error's reason is in the row itself.
    bool errorSaid = false;
    for (int row = 0; row < model->rowCount(); ++row) {
        const CheckResult *r = model->resultAt(row);
        if (r->status != CheckStatus::Error || r->reason.isEmpty())
            continue;
        errorSaid = model->index(row, CheckResultsModel::ObservedColumn)
                        .data()
                        .toString()
                        .contains(r->reason.left(40).simplified());
        break;
    }
    QVERIFY(errorSaid);
    dock->setStatusFilter("error");
    QVERIFY(dock->visibleRows() > 0);
    for (int row = 0; row < dock->visibleRows(); ++row)
        QVERIFY(dock->view()
                    ->model()
                    ->index(row, CheckResultsModel::StatusColumn)
                    .data()
                    .toString()
                    .startsWith(CheckResultsModel::statusText(CheckStatus::Error)));
    dock->setStatusFilter("all");
    dock->setQubeFilter("work-vpn");
    QVERIFY(dock->visibleRows() > 0 && dock->visibleRows() < all);
    dock->setQubeFilter(QString());
    dock->setCheckFilter(CheckKind::ExternalIp);
    QVERIFY(dock->visibleRows() < all);
    dock->setCheckFilter(std::nullopt);
    QCOMPARE(dock->visibleRows(), all);
    QVERIFY(dock->summary().contains(QString::number(all)));

    // Map to table: selecting a qube selects its row.
    window.scene()->selectQube("untrusted");
    QCOMPARE(dock->selectedQube(), QString("untrusted"));
    // Table to map, by keyboard too: moving to another row selects its qube.
    QTableView *view = dock->view();
    int other = -1;
    for (int row = 0; row < view->model()->rowCount() && other < 0; ++row)
        if (view->model()->index(row, 0).data(CheckResultsModel::QubeRole).toString() == "work-vpn")
            other = row;
    QVERIFY(other >= 0);
    view->setCurrentIndex(view->model()->index(other, 0));
    QCOMPARE(window.scene()->selectedQube(), QString("work-vpn"));
    QCOMPARE(dock->selectedQube(), QString("work-vpn")); // not pulled back to the first row
}

// Problem 3: F5 after Verify all discarded every result without asking.
void tst_CheckController::refreshKeepsResultsAndAsksBeforeDiscarding()
{
    Scenario scenario;
    LIVE_SEED(live);
    auto *window = new MainWindow(SourceSpec {SourceSpec::Kind::Live, QString()});
    QVERIFY(waitLoaded(*window));
    CheckController *checks = window->checkController();
    checks->setBaseRequest(fakeRequest());
    QSignalSpy finished(checks, &CheckController::runFinished);
    QVERIFY(checks->verify({"work", "untrusted"}, {CheckKind::ExternalIp}));
    QVERIFY(finished.wait(60000));
    const std::size_t results = window->snapshot().checks.size();
    QVERIFY(results >= 2);
    QVERIFY(window->hasUnsavedResults());

    // Refresh: the qubes are read again, the results stay; a moved qube's are stale.
    QTemporaryDir dir;
    {
        QJsonObject state = test::RealQubes::load(kSeedState);
        QJsonObject qubes = state.value("qubes").toObject();
        QJsonObject untrusted = qubes.value("untrusted").toObject();
        untrusted.insert("netvm", "sys-vpn");
        qubes.insert("untrusted", untrusted);
        state.insert("qubes", qubes);
        QVERIFY(LiveSeed::shared().setState(state));
    }
    QSignalSpy changed(window->scene(), &DiagramScene::snapshotChanged);
    window->refresh();
    QTRY_VERIFY_WITH_TIMEOUT(window->snapshot().find(u"untrusted")->netvm->toString() == "sys-vpn",
                             10000);
    QCOMPARE(window->snapshot().checks.size(), results);
    QCOMPARE(window->scene()->qubeItem("work")->verdict(), VerdictMark::Pass);
    QCOMPARE(window->scene()->qubeItem("untrusted")->verdict(), VerdictMark::Stale);
    QVERIFY(checks->resultsDock()->summary().contains("stale"));

    // Closing asks first; a No keeps the window and its results.
    int asked = 0;
    bool answer = false;
    window->setDiscardQuestion([&] {
        ++asked;
        return answer;
    });
    window->show();
    QVERIFY(!window->close());
    QCOMPARE(asked, 1);
    QVERIFY(window->isVisible());
    // Saved: nothing to ask.
    QVERIFY(window->saveSnapshotTo(dir.filePath("kept.yaml")));
    QVERIFY(!window->hasUnsavedResults());
    QVERIFY(window->close());
    QCOMPARE(asked, 1);
    delete window;
}

// Problem 10: evidence could not be copied or saved.
void tst_CheckController::evidenceCanBeCopiedAndSaved()
{
    MainWindow window(SourceSpec {SourceSpec::Kind::Demo, QString()});
    ResultsDock *dock = window.checkController()->resultsDock();
    EvidenceDialog *dialog = dock->showEvidence(0);
    QVERIFY(dialog);
    QVERIFY(dialog->findChild<QPushButton *>("copyEvidence"));
    QVERIFY(dialog->findChild<QPushButton *>("saveEvidence"));
    QCOMPARE(dialog->textEdit()->font().family(),
             QFontDatabase::systemFont(QFontDatabase::FixedFont).family());
    dialog->findChild<QPushButton *>("copyEvidence")->click();
    QCOMPARE(QGuiApplication::clipboard()->text(), dialog->text());
    QTemporaryDir dir;
    QVERIFY(dialog->saveTo(dir.filePath("e.txt")));
    QFile saved(dir.filePath("e.txt"));
    QVERIFY(saved.open(QIODevice::ReadOnly));
    QCOMPARE(QString::fromUtf8(saved.readAll()).trimmed(), dialog->text().trimmed());
    QVERIFY(dialog->text().contains(u'\n'));
    dialog->close();
}

// Problem 10: the command in the evidence showed the probe script as one line with '?' for each
// newline. It is shown as it runs, one line of the script per line, in a monospace box.
void tst_CheckController::evidenceShowsTheScriptLineByLine()
{
    Scenario scenario;
    LiveSeed live;
    MainWindow window(SourceSpec {SourceSpec::Kind::Live, QString()});
    QVERIFY(waitLoaded(window));
    CheckController *checks = window.checkController();
    checks->setBaseRequest(fakeRequest());
    QSignalSpy finished(checks, &CheckController::runFinished);
    QVERIFY(checks->verify({"work"}, {CheckKind::ExternalIp}));
    QVERIFY(finished.wait(60000));
    ResultsDock *dock = checks->resultsDock();
    int row = -1;
    for (int r = 0; r < dock->view()->model()->rowCount(); ++r)
        if (dock->view()->model()->index(r, 0).data().toString() == "work"
            && dock->view()->model()->index(r, 1).data().toString() == "External IP")
            row = r;
    QVERIFY(row >= 0);
    EvidenceDialog *dialog = dock->showEvidence(row);
    QVERIFY(dialog);
    const QString text = dialog->text();
    const QStringList lines = text.split(u'\n');
    const qsizetype command = lines.indexOf(QStringLiteral("Command:"));
    QVERIFY2(command >= 0, qPrintable(text));
    const qsizetype output = lines.indexOf(
        QStringLiteral("Output (raw, as the qube printed it; untrusted):"), command);
    QVERIFY2(output > command, qPrintable(text));
    const QStringList shown = lines.mid(command + 1, output - command - 1);
    // The command line itself, then the script's own lines (the connect timeout is one of them).
    QVERIFY2(shown.value(0).contains(QStringLiteral("qvm-run")), qPrintable(text));
    QVERIFY2(shown.size() > 5, qPrintable(text));
    bool timeoutLine = false;
    for (const QString &line : shown) {
        timeoutLine = timeoutLine || line.startsWith(QStringLiteral("nm_t="));
        QVERIFY2(!line.contains(QStringLiteral("?nm_")), qPrintable(line));
    }
    QVERIFY2(timeoutLine, qPrintable(text));
    QCOMPARE(dialog->textEdit()->font().family(),
             QFontDatabase::systemFont(QFontDatabase::FixedFont).family());
    dialog->close();
}

// What ran as root in a qube, or changed something, is kept in a local log the window shows.
void tst_CheckController::rootCommandsAreKeptOnRecord()
{
    QFile::remove(ActionLog::path());
    Scenario scenario;
    LIVE_SEED(live);
    MainWindow window(SourceSpec {SourceSpec::Kind::Live, QString()});
    QVERIFY(waitLoaded(window));
    CheckController *checks = window.checkController();
    checks->setBaseRequest(fakeRequest());
    QSignalSpy finished(checks, &CheckController::runFinished);
    QVERIFY(checks->verify({"work"}, {CheckKind::ExternalIp}));
    QVERIFY(finished.wait(60000));
    QVERIFY(ActionLog::read().isEmpty()); // a read-only check is not a change
    QVERIFY(checks->verify({"sys-vpn"}, {CheckKind::KillSwitch}));
    QVERIFY(finished.wait(60000));
    const QStringList lines = ActionLog::read().split(u'\n', Qt::SkipEmptyParts);
    QVERIFY2(lines.size() == 1, qPrintable(lines.join(u'\n')));
    const QStringList fields = lines.first().split(u'\t');
    QCOMPARE(fields.size(), 4);
    QVERIFY(QDateTime::fromString(fields[0], Qt::ISODate).isValid());
    QCOMPARE(fields[1], QString("sys-vpn"));
    QCOMPARE(fields[2], QString("kill-switch check (as root)"));
    QVERIFY(fields[3].contains("qvm-run"));
    // Help > Log of changes shows it.
    window.findChild<QAction *>("actionLogAction")->trigger();
    auto *text = window.findChild<QPlainTextEdit *>("actionLogText");
    QVERIFY(text);
    QVERIFY(text->toPlainText().contains("kill-switch check (as root)"));
}

QTEST_MAIN(tst_CheckController)
#include "tst_checkcontroller.moc"
