// The live view against the lab (tests/lab): a netvm change made outside the program shows up
// without a refresh; a blocked inter-qube ping, and a connection a qube's own firewall rules
// reject, appear in the Dropped traffic dock and on the diagram; the logging rules remove
// themselves; re-routing a qube from the window changes its
// verified exit, and Undo brings it back. Run through run_live.py (CTest label `lab`).

#include "checks/checkconfig.h"
#include "checks/verifier.h"
#include "diagram/diagramscene.h"
#include "diagram/diagramview.h"
#include "diagram/linkitem.h"
#include "diagram/qubeitem.h"
#include "live/droppedflowitem.h"
#include "live/droppedflowsdock.h"
#include "live/livecontroller.h"
#include "mainwindow.h"
#include "qubes/commandrunner.h"

#include <QAction>
#include <QMessageBox>
#include <QSignalSpy>
#include <QTest>
#include <QToolButton>

using namespace netmap;

namespace {

CommandOutput run(const QStringList &command, int timeoutMs = 30000)
{
    CommandSpec spec;
    spec.program = command.first();
    spec.arguments = command.mid(1);
    spec.timeoutMs = timeoutMs;
    return CommandRunner::runBlocking(spec);
}

QStringList qvmRun(const QString &qube, bool root)
{
    QStringList c {
        "qvm-run",       "--pass-io", "--no-gui", "--no-colour-output", "--no-colour-stderr",
        "--no-autostart"};
    if (root)
        c << "-u"
          << "root";
    c << qube;
    return c;
}

QByteArray forwardChain(const QString &qube)
{
    return run(qvmRun(qube, true) << "nft -a list chain ip qubes forward").stdoutData;
}

// Every rule of the network qube, in every table.
QByteArray ruleset(const QString &qube)
{
    return run(qvmRun(qube, true) << "nft -a list ruleset").stdoutData;
}

QString netvmOf(const MainWindow &w, const QString &qube)
{
    const Qube *q = w.snapshot().find(qube);
    return q && q->netvm ? q->netvm->toString() : QString();
}

bool hasLink(const MainWindow &w, const QString &lower, const QString &upper)
{
    for (const LinkItem *link : w.scene()->linkItems())
        if (link->lower() == lower && link->upper() == upper && !link->toInternet())
            return true;
    return false;
}

} // namespace

class tst_LiveLab : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void followsNetvmChange();
    void droppedPingIsShown();
    void ruleExpiresByItself();
    void reroutingChangesExit();

private:
    void waitLoaded(MainWindow &w)
    {
        QTRY_VERIFY_WITH_TIMEOUT(w.snapshot().find(u"work") != nullptr, 30000);
        QCOMPARE(w.snapshot().source, QStringLiteral("qvm-ls"));
    }
    QString verifiedExit(const MainWindow &w, const QString &qube)
    {
        const auto config = loadCheckConfigFile(qEnvironmentVariable("NETMAP_LAB_CONFIG"));
        if (!config)
            return QStringLiteral("config: ") + config.error().message;
        VerifyRequest request;
        request.qubes = {qube};
        request.checks = {CheckKind::ExternalIp};
        request.config = config.value();
        const auto verified = verifySnapshot(w.snapshot(), request);
        if (!verified)
            return QStringLiteral("verify: ") + verified.error().message;
        const CheckResult *r = verified->latest(qube, CheckKind::ExternalIp);
        return r ? r->externalIp : QString();
    }
};

void tst_LiveLab::initTestCase()
{
    if (qEnvironmentVariableIsEmpty("NETMAP_LAB_STATE"))
        QSKIP("needs the lab: run through tests/lab/live/run_live.py (CTest label lab)");
    QCoreApplication::setOrganizationName(QStringLiteral("qubes-netmap-lab"));
    QCoreApplication::setApplicationName(QStringLiteral("qubes-netmap-lab"));
}

void tst_LiveLab::followsNetvmChange()
{
    MainWindow w(SourceSpec {SourceSpec::Kind::Live, QString()});
    w.show();
    waitLoaded(w);
    LiveController *live = w.liveController();
    QVERIFY(live->isFollowing());
    QCOMPARE(live->followStatus(), QStringLiteral("following changes (polling every 500 ms)"));
    QCOMPARE(netvmOf(w, "work"), QStringLiteral("sys-firewall"));
    QubeItem *untrusted = w.scene()->qubeItem("untrusted");
    QubeItem *vpn = w.scene()->qubeItem("sys-vpn");
    QVERIFY(untrusted && vpn);
    const QPointF untrustedAt = untrusted->pos();
    const QPointF vpnAt = vpn->pos();
    const QTransform zoom = w.view()->transform();

    // Changed outside the program, as qvm-prefs would in dom0.
    const CommandOutput moved = run({"qvm-prefs", "work", "netvm", "sys-vpn"});
    QVERIFY2(moved.finishedOk(), moved.stderrData.constData());
    // No refresh asked for: the poll notices it.
    QTRY_COMPARE_WITH_TIMEOUT(netvmOf(w, "work"), QStringLiteral("sys-vpn"), 15000);
    QVERIFY(hasLink(w, "work", "sys-vpn"));
    QVERIFY(!hasLink(w, "work", "sys-firewall"));
    // In place: the other boxes are the same items, where they were; the view did not jump.
    QCOMPARE(w.scene()->qubeItem("untrusted"), untrusted);
    QCOMPARE(untrusted->pos(), untrustedAt);
    QCOMPARE(w.scene()->qubeItem("sys-vpn"), vpn);
    QCOMPARE(vpn->pos(), vpnAt);
    QCOMPARE(w.view()->transform(), zoom);
}

void tst_LiveLab::droppedPingIsShown()
{
    MainWindow w(SourceSpec {SourceSpec::Kind::Live, QString()});
    w.show();
    waitLoaded(w);
    LiveController *live = w.liveController();
    QStringList asked;
    live->setConfirmHandler([&asked](QMessageBox &box) {
        asked << box.text() + u'\n' + box.informativeText() + u'\n' + box.detailedText();
        return true;
    });
    QSignalSpy started(live, &LiveController::watchStarted);
    QSignalSpy stopped(live, &LiveController::watchStopped);
    live->requestWatch("sys-firewall");
    QCOMPARE(asked.size(), 1);
    QVERIFY(asked.first().contains("nft insert rule ip qubes forward"));
    QVERIFY(asked.first().contains("table ip qubes-firewall"));
    QVERIFY(started.wait(30000));
    QVERIFY(forwardChain("sys-firewall").contains("netmap-drop"));
    // In front of the reject of untrusted's own rules (qbs-10-137-0-16), with its own prefix.
    const QByteArray untrustedChain
        = run(qvmRun("sys-firewall", true) << "nft list chain ip qubes-firewall qbs-10-137-0-16")
              .stdoutData;
    QVERIFY2(untrustedChain.contains("log prefix \"netmap-drop-"), untrustedChain.constData());
    QVERIFY(untrustedChain.contains("-fw: \""));

    // work pings untrusted: sys-firewall drops it (oifgroup 2 drop) and logs it first.
    const CommandOutput ping = run(qvmRun("work", false) << "ping -c 3 -i 0.3 -W 1 10.137.0.16");
    QVERIFY(ping.outcome == CommandOutput::Outcome::Finished && ping.exitCode != 0);
    DroppedFlowsDock *dock = live->dock();
    QTRY_VERIFY_WITH_TIMEOUT(dock->rowCount() >= 1, 15000);
    QVERIFY(dock->isVisible());
    QCOMPARE(dock->cellText(0, DroppedFlowsDock::From), QStringLiteral("work"));
    QCOMPARE(dock->cellText(0, DroppedFlowsDock::To), QStringLiteral("untrusted"));
    QCOMPARE(dock->cellText(0, DroppedFlowsDock::Protocol), QStringLiteral("ICMP"));
    QCOMPARE(dock->cellText(0, DroppedFlowsDock::Port), QStringLiteral("echo-request"));
    QCOMPARE(dock->cellText(0, DroppedFlowsDock::SeenIn), QStringLiteral("sys-firewall"));
    QCOMPARE(dock->cellText(0, DroppedFlowsDock::Why),
             QStringLiteral("qubes kept apart (no new traffic into a qube)"));
    bool drawn = false;
    for (const DroppedFlowItem *item : live->flowItems())
        drawn = drawn || (item->from() == "work" && item->to() == "untrusted");
    QVERIFY(drawn);

    // untrusted may reach TCP 80 and 443 only: its mail to the internet is rejected by its own
    // rules (reject with icmp admin-prohibited in sys-firewall), and the kernel logs it first.
    const int before = dock->rowCount();
    const CommandOutput mail = run(qvmRun("untrusted", false) << "nc -z -w 3 203.0.113.10 25");
    QVERIFY(mail.outcome == CommandOutput::Outcome::Finished && mail.exitCode != 0);
    QTRY_VERIFY_WITH_TIMEOUT(dock->rowCount() > before, 15000);
    QCOMPARE(dock->cellText(0, DroppedFlowsDock::From), QStringLiteral("untrusted"));
    QCOMPARE(dock->cellText(0, DroppedFlowsDock::To), QStringLiteral("203.0.113.10 (no qube)"));
    QCOMPARE(dock->cellText(0, DroppedFlowsDock::Protocol), QStringLiteral("TCP"));
    QCOMPARE(dock->cellText(0, DroppedFlowsDock::Port), QStringLiteral("25"));
    QCOMPARE(dock->cellText(0, DroppedFlowsDock::SeenIn), QStringLiteral("sys-firewall"));
    QCOMPARE(dock->cellText(0, DroppedFlowsDock::Why),
             QStringLiteral("rejected by untrusted's firewall rules"));

    live->stopWatch("sys-firewall");
    QVERIFY(stopped.wait(30000));
    QCOMPARE(stopped.first().first().toString(), QStringLiteral("sys-firewall"));
    QVERIFY2(!ruleset("sys-firewall").contains("netmap"), ruleset("sys-firewall").constData());
    QVERIFY(forwardChain("sys-firewall").contains("oifgroup 2")); // the drop itself stays
    QVERIFY(ruleset("sys-firewall").contains("reject with icmp")); // and untrusted's rules

    // Closing the window while watching removes the rule too.
    started.clear();
    live->requestWatch("sys-firewall");
    QVERIFY(started.wait(30000));
    QVERIFY(ruleset("sys-firewall").contains("-fw: "));
    w.close();
    QVERIFY(!ruleset("sys-firewall").contains("netmap"));
}

void tst_LiveLab::ruleExpiresByItself()
{
    // Armed and then abandoned, as if dom0 went away: the qube removes the rule on its own.
    const auto plan
        = planDropWatch(*QubeName::fromUntrusted(u"sys-firewall"), 10, newDropWatchToken());
    QVERIFY(plan);
    const CommandOutput armed = CommandRunner::runBlocking(plan->arm);
    QVERIFY2(armed.finishedOk(), armed.stderrData.constData());
    QVERIFY(armed.stdoutData.startsWith("netmap-armed "));
    // Clients' rejects got rules too (work's and untrusted's chains end in a reject).
    QVERIFY2(!armed.stdoutData.endsWith(" 0\n") && !armed.stdoutData.contains("refused"),
             armed.stdoutData.constData());
    QVERIFY(forwardChain("sys-firewall").contains(plan->ruleComment().toUtf8()));
    const QByteArray comment = plan->ruleComment().toUtf8();
    QVERIFY(run(qvmRun("sys-firewall", true) << "nft list table ip qubes-firewall")
                .stdoutData.contains(comment));
    QTRY_VERIFY_WITH_TIMEOUT(!ruleset("sys-firewall").contains(comment), 25000);
}

void tst_LiveLab::reroutingChangesExit()
{
    MainWindow w(SourceSpec {SourceSpec::Kind::Live, QString()});
    w.show();
    waitLoaded(w);
    QCOMPARE(verifiedExit(w, "work"), QStringLiteral("203.0.113.10")); // clearnet
    LiveController *live = w.liveController();
    QStringList asked;
    live->setConfirmHandler([&asked](QMessageBox &box) {
        asked << box.text() + u'\n' + box.informativeText() + u'\n' + box.detailedText();
        return true;
    });
    QSignalSpy rerouted(live, &LiveController::rerouted);
    live->requestReroute("work", QStringLiteral("sys-vpn"));
    QVERIFY(rerouted.wait(30000));
    QCOMPARE(asked.size(), 1);
    QVERIFY(asked.first().contains("qvm-prefs work netvm sys-vpn"));
    // The lab sets work's netvm explicitly (qvm-prefs listing "-"), so Undo sets it back.
    QVERIFY(asked.first().contains("Undo (Edit menu or the status bar) runs:\n\n    qvm-prefs "
                                   "work netvm sys-firewall"));
    QTRY_COMPARE_WITH_TIMEOUT(netvmOf(w, "work"), QStringLiteral("sys-vpn"), 15000);
    QVERIFY(hasLink(w, "work", "sys-vpn"));
    QCOMPARE(verifiedExit(w, "work"), QStringLiteral("198.51.100.10")); // the VPN's exit

    QVERIFY(live->undoAction()->isEnabled());
    QVERIFY(live->undoButton()->isVisible());
    rerouted.clear();
    live->requestUndo();
    QVERIFY(rerouted.wait(30000));
    QCOMPARE(asked.size(), 2);
    QVERIFY(asked.last().contains("qvm-prefs work netvm sys-firewall"));
    QTRY_COMPARE_WITH_TIMEOUT(netvmOf(w, "work"), QStringLiteral("sys-firewall"), 15000);
    QCOMPARE(verifiedExit(w, "work"), QStringLiteral("203.0.113.10"));
    QVERIFY(!live->undoAction()->isEnabled());
}

QTEST_MAIN(tst_LiveLab)
#include "tst_livelab.moc"
