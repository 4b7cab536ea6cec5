// The scripts that run inside a qube: fixed templates, only validated values, single-quoted; the
// qvm-run argument list as QUBES-FACTS.md says.
#include "checks/checkconfig.h"
#include "checks/checkscripts.h"

#include <QFile>
#include <QSet>
#include <QTest>

using namespace netmap;

class tst_CheckScripts : public QObject
{
    Q_OBJECT
private slots:
    void shellQuoting_data();
    void shellQuoting();
    void onlyValidatedValuesGoIn();
    void sectionsFollowThePlan();
    void qvmRunArguments_data();
    void qvmRunArguments();
    void drillScripts();
    void caGoesInAsHereDocument();
    void zoneNamesAreFreshAndValidated();
};

void tst_CheckScripts::shellQuoting_data()
{
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("quoted");
    QTest::newRow("plain") << "https://api.ipify.org"
                           << "'https://api.ipify.org'";
    QTest::newRow("quote") << "a'b"
                           << "'a'\\''b'";
    QTest::newRow("empty") << ""
                           << "''";
}

void tst_CheckScripts::shellQuoting()
{
    QFETCH(QString, value);
    QFETCH(QString, quoted);
    QCOMPARE(shellQuote(value), quoted);
}

void tst_CheckScripts::onlyValidatedValuesGoIn()
{
    CheckConfig c = CheckConfig::defaults();
    c.ipEchoUrls
        = {QStringLiteral("https://good.example/ip"), QStringLiteral("https://x.example/$(reboot)"),
           QStringLiteral("https://y.example/'; rm -rf / #")};
    c.torCheckUrl = QStringLiteral("javascript:alert(1)");
    c.dnsWhoami = QStringLiteral("who$(id).example");
    ProbePlan p;
    p.externalIp = true;
    p.tor = true;
    p.dns = true;
    c.ipEchoUrls6 = {QStringLiteral("https://[2001:db8::80]/"),
                     QStringLiteral("https://v6.example/$(reboot)")};
    p.isolationTargets = {QStringLiteral("10.137.0.16"),  QStringLiteral("10.137.0.1;reboot"),
                          QStringLiteral("$(id)"),        QStringLiteral("fd09:24ef:4179::a89:10"),
                          QStringLiteral("fd09::1%eth0"), QStringLiteral("[fd09::1]")};
    const QString s = probeScript(p, c);
    QVERIFY(s.contains(QStringLiteral("nm_ip 4 0 'https://good.example/ip'")));
    QVERIFY(s.contains(QStringLiteral("nm_ip 6 0 'https://[2001:db8::80]/'")));
    QVERIFY(s.contains(QStringLiteral("'fd09:24ef:4179::a89:10'")));
    QVERIFY(!s.contains(QStringLiteral("eth0'")));
    QVERIFY(!s.contains(QStringLiteral("[fd09::1]")));
    QVERIFY(!s.contains(QStringLiteral("reboot")));
    QVERIFY(!s.contains(QStringLiteral("rm -rf")));
    QVERIFY(!s.contains(QStringLiteral("javascript")));
    QVERIFY(!s.contains(QStringLiteral("$(id)")));
    QVERIFY(s.contains(QStringLiteral("'10.137.0.16'")));
    QVERIFY(s.startsWith(QStringLiteral("{\n")));
    QVERIFY(s.endsWith(QStringLiteral("} </dev/null")));
}

void tst_CheckScripts::sectionsFollowThePlan()
{
    const CheckConfig c = CheckConfig::defaults();
    ProbePlan ip;
    ip.externalIp = true;
    const QString s = probeScript(ip, c);
    // IPv4 endpoints over IPv4 only, and the IPv6 ones over IPv6 only, always.
    QCOMPARE(s.count(QStringLiteral("then nm_ip 4 ")), c.ipEchoUrls.size());
    QCOMPARE(s.count(QStringLiteral("then nm_ip 6 ")), c.ipEchoUrls6.size());
    QVERIFY(c.ipEchoUrls6.size() >= 2);
    QVERIFY(!s.contains(QStringLiteral("nft list ruleset")));
    QVERIFY(!s.contains(QStringLiteral("nm_dns '")));
    QVERIFY(s.contains(QStringLiteral("nm_t=%1\n").arg(c.connectTimeoutSeconds)));
    // Least privilege: the root part reads the ruleset and nothing else; the user part talks to
    // the network and never reads the ruleset.
    ProbePlan all;
    all.externalIp = all.tor = all.dns = all.interfaces = all.ruleset = true;
    all.isolationTargets = {QStringLiteral("10.137.0.5")};
    const QString rootPart = probeScript(all.rootPart(), c);
    const QString userPart = probeScript(all.userPart(), c);
    QVERIFY(all.rootPart().needsRoot());
    QVERIFY(!all.userPart().needsRoot());
    QVERIFY(rootPart.contains(QStringLiteral("nft list ruleset")));
    QVERIFY(!userPart.contains(QStringLiteral("nft list ruleset")));
    for (const char *network :
         {"nm_ip ", "nm_tor ", "nm_dns ", "nm_icmp", "nm_port", "nm_get", "/sys/class/net"})
        QVERIFY2(!rootPart.contains(QLatin1String(network)), network);
    for (const char *network : {"nm_ip ", "nm_tor ", "nm_dns ", "nm_icmp", "/sys/class/net"})
        QVERIFY2(userPart.contains(QLatin1String(network)), network);

    ProbePlan root;
    root.ruleset = true;
    root.interfaces = true;
    QVERIFY(root.needsRoot());
    const QString r = probeScript(root, c);
    QVERIFY(r.contains(QStringLiteral("nft list ruleset")));
    QVERIFY(r.contains(QStringLiteral("/sys/class/net/")));
    QVERIFY(!r.contains(QStringLiteral("nm_ip 0")));
    ProbePlan iso;
    iso.isolationTargets = {QStringLiteral("10.137.0.16")};
    QVERIFY(probeScript(iso, c).contains(QStringLiteral("for nm_p in 22 80 443")));
}

void tst_CheckScripts::qvmRunArguments_data()
{
    QTest::addColumn<bool>("root");
    QTest::addColumn<bool>("autostart");
    QTest::addColumn<QStringList>("expected");
    const QStringList base {"--pass-io", "--no-gui", "--no-colour-output", "--no-colour-stderr"};
    QTest::newRow("user") << false << false
                          << base + QStringList {"--no-autostart", "work", "SCRIPT"};
    QTest::newRow("root") << true << false
                          << base + QStringList {"--no-autostart", "-u", "root", "work", "SCRIPT"};
    QTest::newRow("autostart") << false << true << base + QStringList {"work", "SCRIPT"};
}

void tst_CheckScripts::qvmRunArguments()
{
    QFETCH(bool, root);
    QFETCH(bool, autostart);
    QFETCH(QStringList, expected);
    QCOMPARE(netmap::qvmRunArguments(*QubeName::fromUntrusted(u"work"), QStringLiteral("SCRIPT"),
                                     root, autostart),
             expected);
}

void tst_CheckScripts::drillScripts()
{
    const QString b = drillBreakScript(QStringLiteral("tun0"), 75);
    // The self-expiring restore is scheduled before the tunnel goes down.
    const qsizetype restoreAt = b.indexOf(QStringLiteral("setsid sh -c"));
    const qsizetype breakAt = b.indexOf(QStringLiteral("ip link set dev \"$nm_if\" down"));
    QVERIFY(restoreAt > 0 && breakAt > restoreAt);
    QVERIFY(b.contains(QStringLiteral("nm_if='tun0'")));
    QVERIFY(b.contains(QStringLiteral("nm_after=75")));
    QVERIFY(!b.contains(QStringLiteral("wait\n"))); // the restore job must outlive the call
    QVERIFY(drillBreakScript(QStringLiteral("tun0;reboot"), 75)
                .contains(QStringLiteral("nm_if='invalid'")));
    QVERIFY(drillRestoreScript().contains(QStringLiteral("kill -TERM")));
    QCOMPARE(drillSteps(QStringLiteral("sys-vpn"), QStringLiteral("tun0"),
                        QStringLiteral("work-vpn"), 75)
                 .size(),
             5);
}

QTEST_GUILESS_MAIN(tst_CheckScripts)
void tst_CheckScripts::caGoesInAsHereDocument()
{
    QFile f(QStringLiteral(NETMAP_TEST_DATA "/test-ca.pem"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const auto pem = canonicalCaPem(f.readAll());
    QVERIFY(pem);
    CheckConfig c = CheckConfig::defaults();
    c.caPem = *pem;
    ProbePlan p;
    p.externalIp = true;
    const QString s = probeScript(p, c);
    QVERIFY2(s.contains(QStringLiteral("cat > \"$nm_ca\" <<'NETMAP_CA'\n")
                        + QString::fromLatin1(*pem) + QStringLiteral("NETMAP_CA\n")),
             qPrintable(s));
    QVERIFY(s.contains(QStringLiteral("--cacert \"$nm_ca\"")));
    QVERIFY(s.contains(QStringLiteral("rm -f \"$nm_ca\"")));
    // No CA configured, or no HTTP probe: nothing of it.
    ProbePlan dns;
    dns.dns = true;
    QVERIFY(!probeScript(dns, c).contains(QStringLiteral("NETMAP_CA")));
    QVERIFY(!probeScript(p, CheckConfig::defaults()).contains(QStringLiteral("NETMAP_CA")));
    // Whatever reached the config is validated again before it goes in.
    c.caPem = *pem + "NETMAP_CA\nreboot\n";
    const QString bad = probeScript(p, c);
    QVERIFY(!bad.contains(QStringLiteral("NETMAP_CA")));
    QVERIFY(!bad.contains(QStringLiteral("reboot")));
}

// The unique-name method: fresh unguessable labels in every plan, the names under the
// configured zone and the service's query built from validated parts only.
void tst_CheckScripts::zoneNamesAreFreshAndValidated()
{
    QSet<QString> seen;
    for (int round = 0; round < 50; ++round) {
        const QStringList labels = newZoneLabels();
        QCOMPARE(labels.size(), kZoneLabels);
        for (const QString &label : labels) {
            QVERIFY2(isZoneLabel(label), qPrintable(label));
            QVERIFY2(!seen.contains(label), "a label came twice");
            seen.insert(label);
        }
    }
    QVERIFY(!isZoneLabel(u"0123456789ABCDEF0123")); // lowercase only
    QVERIFY(!isZoneLabel(u"0123456789abcdef012"));
    QVERIFY(!isZoneLabel(u"0123456789abcdef012g"));

    CheckConfig c = CheckConfig::defaults();
    c.dnsZone = QStringLiteral("probe.example.org");
    c.dnsZoneService = QStringLiteral("https://zone.example.org/resolvers");
    const QStringList labels {QStringLiteral("0123456789abcdef0001"),
                              QStringLiteral("0123456789abcdef0002"),
                              QStringLiteral("0123456789abcdef0003")};
    QCOMPARE(zoneServiceQuery(c.dnsZoneService, labels),
             QStringLiteral("https://zone.example.org/resolvers?names=0123456789abcdef0001,"
                            "0123456789abcdef0002,0123456789abcdef0003"));
    QVERIFY(zoneServiceQuery(QStringLiteral("http://zone.example.org/r"), labels).isEmpty());
    QVERIFY(zoneServiceQuery(QStringLiteral("https://zone.example.org/r?x=1"), labels).isEmpty());
    QVERIFY(zoneServiceQuery(c.dnsZoneService, {QStringLiteral("$(id)")}).isEmpty());

    ProbePlan p;
    p.dns = true;
    p.zoneLabels = labels;
    const QString s = probeScript(p, c);
    QVERIFY2(s.contains(QStringLiteral("nm_zone 'https://zone.example.org/resolvers?names="
                                       "0123456789abcdef0001,0123456789abcdef0002,"
                                       "0123456789abcdef0003' '0123456789abcdef0001.probe."
                                       "example.org' '0123456789abcdef0002.probe.example.org' "
                                       "'0123456789abcdef0003.probe.example.org' &\n")),
             qPrintable(s));
    QVERIFY(!s.contains(QStringLiteral("nm_dns '"))); // the whoami answer decides nothing here
    QVERIFY(s.contains(QStringLiteral("nm_get()"))); // the service is asked over HTTPS
    // No zone configured: the whoami name, as before.
    const QString whoami = probeScript(p, CheckConfig::defaults());
    QVERIFY(whoami.contains(QStringLiteral("nm_dns 'whoami.akamai.net' &")));
    QVERIFY(!whoami.contains(QStringLiteral("nm_zone '")));
    // A label that is not one of ours, or a zone that is not a name: nothing is asked.
    ProbePlan bad = p;
    bad.zoneLabels = {QStringLiteral("x;reboot"), labels.at(1), labels.at(2)};
    QVERIFY(!probeScript(bad, c).contains(QStringLiteral("nm_zone '")));
    c.dnsZone = QStringLiteral("probe$(id).example");
    const QString badZone = probeScript(p, c);
    QVERIFY(!badZone.contains(QStringLiteral("nm_zone '")));
    QVERIFY(!badZone.contains(QStringLiteral("$(id)")));
}

#include "tst_checkscripts.moc"
