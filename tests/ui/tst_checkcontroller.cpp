// The checks in the window, against the scripted fake qvm-run (tests/data/fake-qvm-run): the
// context menu, results filling the dock and recolouring the links in place, busy markers,
// Cancel, a responsive event loop while checks hang, and the drill only after confirmation.

#include "checkcontroller.h"
#include "diagram/diagramscene.h"
#include "diagram/linkitem.h"
#include "diagram/qubeitem.h"
#include "io/snapshotyaml.h"
#include "mainwindow.h"
#include "panels/checkresultsmodel.h"
#include "panels/drilldialog.h"
#include "panels/evidencedialog.h"
#include "panels/inspectordock.h"
#include "panels/resultsdock.h"

#include <QAction>
#include <QElapsedTimer>
#include <QFile>
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

#include <sys/resource.h>

using namespace netmap;

namespace {

const QString kFake = QStringLiteral(NETMAP_TEST_DATA "/fake-qvm-run");
const QString kSeed = kFake + QStringLiteral("/seed.yaml");

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
    VerifyRequest r;
    r.qvmRun = kFake + QStringLiteral("/qvm-run");
    r.config.timeoutSeconds = timeoutSeconds;
    r.config.connectTimeoutSeconds = 2;
    r.config.concurrency = concurrency;
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

// CPU time of this process (user + system), in ms.
qint64 cpuMs()
{
    rusage usage {};
    getrusage(RUSAGE_SELF, &usage);
    return qint64(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000
        + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1000;
}

Snapshot manyQubes(int n)
{
    Snapshot s;
    s.source = QStringLiteral("snapshot");
    Qube net;
    net.name = *QubeName::fromUntrusted(u"sys-net");
    net.klass = QStringLiteral("AppVM");
    net.state = QStringLiteral("Running");
    net.label = QStringLiteral("red");
    net.providesNetwork = true;
    net.ip = QStringLiteral("10.137.0.5");
    s.qubes.push_back(net);
    for (int i = 0; i < n; ++i) {
        Qube q;
        q.name = *QubeName::fromUntrusted(QStringLiteral("app%1").arg(i, 2, 10, QLatin1Char('0')));
        q.klass = QStringLiteral("AppVM");
        q.state = QStringLiteral("Running");
        q.label = QStringLiteral("blue");
        q.netvm = net.name;
        q.ip = QStringLiteral("10.137.0.%1").arg(20 + i);
        q.gateway = QStringLiteral("10.137.0.5");
        s.qubes.push_back(q);
    }
    std::sort(s.qubes.begin(), s.qubes.end(),
              [](const Qube &a, const Qube &b) { return a.name.toString() < b.name.toString(); });
    return s;
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
    void checksFillTheDockAndRecolourInPlace();
    void singleCheckFromTheMenu();
    void resultsGoStaleWhenTheNetvmChanges();
    void cancelStopsAndSaysCancelled();
    void eventLoopTurnsWhileChecksHang();
    void hostileOutputShownLiterally();
    void drillNeverRunsWithoutConfirmation();
    void startupVerifyRunsAfterTheWindowOpens();
    void startupDrillIsStillAsked();
};

void tst_CheckController::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName("qubes-netmap-tests");
    QCoreApplication::setApplicationName("tst_checkcontroller");
}

void tst_CheckController::init()
{
    QSettings().clear();
}

void tst_CheckController::windowHasVerifyAllWithProgressAndCancel()
{
    MainWindow window(SourceSpec {SourceSpec::Kind::File, kSeed});
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
    const QStringList common {"checkExternalIp", "checkVpn",       "checkTor",
                              "checkDnsLeak",    "checkIsolation", "runAllChecks"};
    QTest::newRow("app qube") << "work" << common << QStringList()
                              << QStringList {"checkKillSwitch", "killSwitchDrill",
                                              "notRunningNote", "startAndCheck"};
    QTest::newRow("vpn qube") << "sys-vpn"
                              << (common + QStringList {"checkKillSwitch", "killSwitchDrill"})
                              << QStringList() << QStringList {"notRunningNote", "startAndCheck"};
    QTest::newRow("plain network qube") << "sys-firewall" << common << QStringList()
                                        << QStringList {"checkKillSwitch", "killSwitchDrill"};
    QTest::newRow("halted qube") << "default-dvm"
                                 << QStringList {"startAndCheck", "runAllChecksAutostart",
                                                 "checkExternalIpAutostart"}
                                 << (common + QStringList {"notRunningNote"})
                                 << QStringList {"checkKillSwitch"};
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
    MainWindow window(SourceSpec {SourceSpec::Kind::File, kSeed});
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
    if (actions.contains("notRunningNote"))
        QVERIFY(actions["notRunningNote"]->text().contains("halted"));
}

void tst_CheckController::checksFillTheDockAndRecolourInPlace()
{
    Scenario scenario;
    MainWindow window(SourceSpec {SourceSpec::Kind::File, kSeed});
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
    MainWindow window(SourceSpec {SourceSpec::Kind::File, kSeed});
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
    MainWindow window(SourceSpec {SourceSpec::Kind::File, kSeed});
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
    for (Qube &q : moved.qubes)
        if (q.name.toString() == "work")
            q.netvm = *QubeName::fromUntrusted(u"sys-vpn");
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
    MainWindow window(SourceSpec {SourceSpec::Kind::File, kSeed});
    CheckController *checks = window.checkController();
    checks->setBaseRequest(fakeRequest(4, 120));
    QSignalSpy finished(checks, &CheckController::runFinished);
    checks->verifyAll();
    QTRY_VERIFY(!window.scene()->busyQubes().isEmpty());
    QTest::qWait(200);
    QVERIFY(checks->isRunning());
    QElapsedTimer clock;
    clock.start();
    QTest::mouseClick(checks->cancelButton(), Qt::LeftButton);
    QVERIFY(finished.count() == 1 || finished.wait(10000));
    QVERIFY2(clock.elapsed() < 10000, "cancel is prompt, not the 120 s timeout");
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
    const QTemporaryDir dir;
    const QString path = dir.filePath("many.yaml");
    QVERIFY(saveSnapshotFile(manyQubes(20), path));
    MainWindow window(SourceSpec {SourceSpec::Kind::File, path});
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    CheckController *checks = window.checkController();
    checks->setBaseRequest(fakeRequest(32, 120));
    QSignalSpy finished(checks, &CheckController::runFinished);

    // A 10 ms timer measures how late the event loop serves it while 20 checks hang, and the
    // process's CPU time says whether the UI thread itself is busy (on a loaded machine the
    // scheduler alone can delay a tick now and then).
    QElapsedTimer clock;
    qint64 last = 0;
    QList<qint64> lateness;
    QTimer probe;
    probe.setTimerType(Qt::PreciseTimer);
    connect(&probe, &QTimer::timeout, this, [&] {
        const qint64 now = clock.elapsed();
        lateness << std::max<qint64>(0, now - last - 10);
        last = now;
    });
    clock.start();
    probe.start(10);
    checks->verifyAll();
    QTRY_COMPARE_WITH_TIMEOUT(window.scene()->busyQubes().size(), 21, 10000);
    QTest::qWait(100); // the starts are done
    const qint64 startWorst
        = lateness.isEmpty() ? 0 : *std::max_element(lateness.cbegin(), lateness.cend());
    qInfo("while starting 21 qvm-run processes: worst lateness %lld ms", startWorst);
    lateness.clear();
    const qint64 cpuBefore = cpuMs();
    const qint64 wallBefore = clock.elapsed();
    QTest::qWait(1500);
    const qint64 cpu = cpuMs() - cpuBefore;
    const qint64 wall = clock.elapsed() - wallBefore;
    QVERIFY(checks->isRunning());
    // Nothing came back (only the checks skipped by plan, e.g. sys-net's isolation).
    CheckResultsModel *model = checks->resultsDock()->model();
    QCOMPARE(model->count(CheckStatus::Pass) + model->count(CheckStatus::Fail)
                 + model->count(CheckStatus::Error),
             0);
    std::sort(lateness.begin(), lateness.end());
    QVERIFY(lateness.size() > 50);
    const qint64 median = lateness[lateness.size() / 2];
    const qint64 p95 = lateness[lateness.size() * 95 / 100];
    const qint64 worst = lateness.last();
    qInfo("20 checks hanging: %lld ticks, lateness median %lld ms, p95 %lld ms, worst %lld ms; "
          "CPU %lld ms in %lld ms",
          qint64(lateness.size()), median, p95, worst, cpu, wall);
    QVERIFY2(p95 < 50, qPrintable(QString("event loop late by %1 ms (p95)").arg(p95)));
    QVERIFY2(worst < 250, qPrintable(QString("event loop stalled %1 ms").arg(worst)));
    QVERIFY2(cpu < wall / 2, "the UI thread is busy while it only waits");
    // The window still answers meanwhile: the menu opens, the dock sorts.
    QVERIFY(menuActions(window, "app03").contains("checkExternalIp"));
    checks->resultsDock()->view()->sortByColumn(CheckResultsModel::StatusColumn,
                                                Qt::DescendingOrder);
    checks->cancel();
    QVERIFY(finished.wait(10000));
}

void tst_CheckController::hostileOutputShownLiterally()
{
    // The fake's garbage mode prints ANSI, non-UTF-8 and HTML around the answer.
    Scenario scenario;
    scenario.set("work", "mode", "garbage\n");
    MainWindow window(SourceSpec {SourceSpec::Kind::File, kSeed});
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
    MainWindow window(SourceSpec {SourceSpec::Kind::File, kSeed});
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
    MainWindow window(SourceSpec {SourceSpec::Kind::File, kSeed});
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

void tst_CheckController::startupDrillIsStillAsked()
{
    // --verify --drill in the window: the checks run, then the drill is asked for, not run.
    Scenario scenario;
    const QString log = scenario.logPath();
    MainWindow window(SourceSpec {SourceSpec::Kind::File, kSeed});
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

QTEST_MAIN(tst_CheckController)
#include "tst_checkcontroller.moc"
