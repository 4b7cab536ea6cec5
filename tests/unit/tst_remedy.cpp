// What to do after a failed check: plain words and only the commands Qubes documents.

#include "checks/remedy.h"
#include "formats/snapshotyaml.h"
#include "model/topology.h"

#include <QTest>

using namespace netmap;

class tst_Remedy : public QObject
{
    Q_OBJECT
private slots:
    void remedy_data();
    void remedy();
    void interceptedDns();
};

void tst_Remedy::remedy_data()
{
    QTest::addColumn<QString>("qube");
    QTest::addColumn<QString>("check");
    QTest::addColumn<QString>("status");
    QTest::addColumn<QString>("expected");
    QTest::addColumn<QString>("killSwitch"); // the VPN qube's kill-switch status, "" to keep
    QTest::addColumn<QStringList>("commands");
    QTest::addColumn<QString>("advice"); // a part of the advice

    const QStringList nft {"nft add rule qubes custom-forward oifname eth0 counter drop",
                           "nft add rule ip6 qubes custom-forward oifname eth0 counter drop"};
    QTest::newRow("pass: nothing") << "work"
                                   << "external-ip"
                                   << "pass"
                                   << "clearnet"
                                   << "" << QStringList {} << "";
    QTest::newRow("cannot tell: nothing") << "work"
                                          << "external-ip"
                                          << "error"
                                          << "clearnet"
                                          << "" << QStringList {} << "";
    QTest::newRow("kill switch") << "sys-vpn"
                                 << "kill-switch"
                                 << "fail"
                                 << ""
                                 << "" << nft << "/rw/config/qubes-firewall-user-script in sys-vpn";
    QTest::newRow("vpn leak, no kill switch") << "work-vpn"
                                              << "vpn"
                                              << "fail"
                                              << ""
                                              << "fail" << nft << "Connect the VPN in sys-vpn";
    QTest::newRow("vpn leak, kill switch in place")
        << "work-vpn"
        << "vpn"
        << "fail"
        << ""
        << "pass" << QStringList {} << "whose kill switch passed";
    QTest::newRow("vpn check on a clearnet qube")
        << "work"
        << "vpn"
        << "fail"
        << ""
        << "" << QStringList {"qvm-prefs work netvm sys-vpn"} << "not behind a VPN qube";
    QTest::newRow("tor outside whonix")
        << "work"
        << "tor"
        << "fail"
        << ""
        << "" << QStringList {"qvm-prefs work netvm sys-whonix"} << "not behind a Whonix gateway";
    QTest::newRow("no network meant")
        << "work"
        << "external-ip"
        << "fail"
        << "none"
        << "" << QStringList {"qvm-prefs work netvm ''"} << "no network";
    QTest::newRow("via a qube off the path")
        << "work"
        << "external-ip"
        << "fail"
        << "via sys-vpn"
        << "" << QStringList {"qvm-prefs work netvm sys-vpn"} << "not on its path";
    QTest::newRow("isolation") << "work"
                               << "isolation"
                               << "fail"
                               << ""
                               << "" << QStringList {"nft list ruleset"} << "Look in sys-firewall";
    QTest::newRow("hostile expectation is not a command")
        << "work"
        << "external-ip"
        << "fail"
        << "via $(reboot)"
        << "" << QStringList {"qvm-prefs work netvm"} << "does not leave where it is meant to";
}

void tst_Remedy::remedy()
{
    QFETCH(QString, qube);
    QFETCH(QString, check);
    QFETCH(QString, status);
    QFETCH(QString, expected);
    QFETCH(QString, killSwitch);
    QFETCH(QStringList, commands);
    QFETCH(QString, advice);
    Snapshot s = demoSnapshot();
    if (!killSwitch.isEmpty())
        for (CheckResult &r : s.checks)
            if (r.qube.toString() == "sys-vpn" && r.check == CheckKind::KillSwitch)
                r.status = *checkStatusFromId(killSwitch);
    CheckResult r;
    r.qube = *QubeName::fromUntrusted(qube);
    r.check = *checkKindFromId(check);
    r.status = *checkStatusFromId(status);
    r.expected = expected;
    r.reason = QStringLiteral("leak: the exit 203.0.113.7 is the clearnet exit");
    const Topology topology(s);
    r.pathAtRun = topology.egressChain(qube);
    const Remedy remedy = remedyFor(r, s, topology);
    QCOMPARE(remedy.commands, commands);
    if (advice.isEmpty()) {
        QVERIFY(remedy.isEmpty());
        return;
    }
    QVERIFY2(remedy.advice.contains(advice), qPrintable(remedy.advice));
    if (!commands.isEmpty())
        QVERIFY(remedy.toText().contains(commands.first()));
}

// DNS answered on the path is not fixed by another resolver or a kill switch: the advice points
// at the network qubes on the way, and runs nothing.
void tst_Remedy::interceptedDns()
{
    const Snapshot s = demoSnapshot();
    const Topology topology(s);
    CheckResult r;
    r.qube = *QubeName::fromUntrusted(QStringLiteral("work-vpn"));
    r.check = CheckKind::DnsLeak;
    r.status = CheckStatus::Fail;
    r.pathAtRun = topology.egressChain(QStringLiteral("work-vpn"));
    r.reason = QStringLiteral("leak: resolver 203.0.113.53 also answers for the clearnet baseline");
    const Remedy leak = remedyFor(r, s, topology);
    QVERIFY2(leak.advice.contains(QStringLiteral("clearnet resolver")), qPrintable(leak.advice));
    r.reason = QStringLiteral("intercepted: x.probe.example.org resolved to 192.0.2.77 ...");
    const Remedy intercepted = remedyFor(r, s, topology);
    QVERIFY(intercepted.commands.isEmpty());
    QVERIFY2(intercepted.advice.contains(QStringLiteral("DNS redirection")),
             qPrintable(intercepted.advice));
    QVERIFY2(intercepted.advice.contains(QStringLiteral("sys-vpn")),
             qPrintable(intercepted.advice));
}

QTEST_GUILESS_MAIN(tst_Remedy)
#include "tst_remedy.moc"
