// The check config YAML: shipped default, strict validation, errors with line and column.
#include "checks/checkconfig.h"

#include <QFile>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

using namespace netmap;

class tst_CheckConfig : public QObject
{
    Q_OBJECT
private slots:
    void shippedDefault();
    void valid_data();
    void valid();
    void invalid_data();
    void invalid();
    void baselinePinned();
    void fileLookup();
    void caFile_data();
    void caFile();
};

void tst_CheckConfig::shippedDefault()
{
    const CheckConfig c = CheckConfig::defaults();
    QCOMPARE(c.sourceFile, QStringLiteral(":/netmap/config.yaml"));
    QCOMPARE(
        c.ipEchoUrls,
        (QStringList {"https://api.ipify.org", "https://icanhazip.com", "https://ifconfig.me/ip"}));
    QCOMPARE(c.torCheckUrl, QStringLiteral("https://check.torproject.org/api/ip"));
    QCOMPARE(c.dnsWhoami, QStringLiteral("whoami.akamai.net"));
    // No public service speaks the unique-name protocol: none is assumed (dns-leak then can
    // find a leak but never pass).
    QVERIFY(!c.hasDnsZone());
    QCOMPARE(c.timeoutSeconds, 30);
    QCOMPARE(c.connectTimeoutSeconds, 8);
    QCOMPARE(c.concurrency, 4);
    QCOMPARE(c.isolationPorts, (QList<int> {22, 80, 443}));
    // The shipped file itself parses as a config file would.
    QFile f(QStringLiteral(":/netmap/config.yaml"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    auto parsed = checkConfigFromYaml(f.readAll(), QStringLiteral("config.yaml"));
    QVERIFY(parsed.ok());
    // What the shipped file says is what defaults() gives (sourceFile above fails when the
    // file does not parse and the code's own values stand in).
    QCOMPARE(parsed->ipEchoUrls, c.ipEchoUrls);
    QCOMPARE(parsed->torCheckUrl, c.torCheckUrl);
    QCOMPARE(parsed->dnsWhoami, c.dnsWhoami);
    QCOMPARE(parsed->timeoutSeconds, c.timeoutSeconds);
    QCOMPARE(parsed->connectTimeoutSeconds, c.connectTimeoutSeconds);
    QCOMPARE(parsed->concurrency, c.concurrency);
    QCOMPARE(parsed->isolationPorts, c.isolationPorts);
    const auto broken = checkConfigFromYaml("checks: [", QStringLiteral("config.yaml"));
    QVERIFY(!broken.ok()); // and a broken file is refused, never replaced by those values
}

void tst_CheckConfig::valid_data()
{
    QTest::addColumn<QByteArray>("yaml");
    QTest::addColumn<int>("concurrency");
    QTest::addColumn<int>("echoes");
    QTest::newRow("empty file keeps defaults") << QByteArray("") << 4 << 3;
    QTest::newRow("lab") << QByteArray(
        "endpoints:\n  ip_echo: [http://198.51.100.80/ip, http://203.0.113.80/ip]\n"
        "  tor_check: http://192.0.2.80/api/ip\ndns:\n  whoami: whoami.lab.example\n"
        "  zone: Probe.Lab.Example\n  zone_service: https://203.0.113.56/resolvers\n"
        "checks:\n  timeout_seconds: 10\n  connect_timeout_seconds: 2\n  concurrency: 8\n"
        "  isolation_ports: [22]\n")
                         << 8 << 2;
    QTest::newRow("partial") << QByteArray("checks:\n  concurrency: 1\n") << 1 << 3;
    QTest::newRow("no ports") << QByteArray("checks:\n  isolation_ports: []\n") << 4 << 3;
}

void tst_CheckConfig::valid()
{
    QFETCH(QByteArray, yaml);
    QFETCH(int, concurrency);
    QFETCH(int, echoes);
    auto c = checkConfigFromYaml(yaml, QStringLiteral("c.yaml"));
    QVERIFY2(c.ok(), c.ok() ? "" : qPrintable(c.error().toString()));
    QCOMPARE(c->concurrency, concurrency);
    QCOMPARE(c->ipEchoUrls.size(), echoes);
    QCOMPARE(c->sourceFile, QStringLiteral("c.yaml"));
    if (yaml.contains("zone:")) {
        QCOMPARE(c->dnsZone, QStringLiteral("probe.lab.example"));
        QCOMPARE(c->dnsZoneService, QStringLiteral("https://203.0.113.56/resolvers"));
        QVERIFY(c->hasDnsZone());
    } else {
        QVERIFY(!c->hasDnsZone());
    }
}

void tst_CheckConfig::invalid_data()
{
    QTest::addColumn<QByteArray>("yaml");
    QTest::addColumn<int>("line");
    QTest::addColumn<int>("column");
    QTest::addColumn<QString>("message");
    QTest::newRow("syntax") << QByteArray("endpoints: [\n") << 2 << 1 << "";
    QTest::newRow("baseline not an address")
        << QByteArray("baseline:\n  exit_ips: [203.0.113.7, example.org]\n") << 2 << 27
        << "must be IP addresses";
    QTest::newRow("baseline unknown key")
        << QByteArray("baseline:\n  exit: [203.0.113.7]\n") << 2 << 3 << "unknown key";
    QTest::newRow("not a map") << QByteArray("- a\n- b\n") << 1 << 1 << "mapping";
    QTest::newRow("unknown top key") << QByteArray("checks:\n  concurrency: 2\nendpoint:\n  x: 1\n")
                                     << 3 << 1 << "unknown key \"endpoint\"";
    QTest::newRow("unknown nested key")
        << QByteArray("checks:\n  timeout: 3\n") << 2 << 3 << "unknown key \"timeout\"";
    QTest::newRow("duplicate key")
        << QByteArray("checks:\n  concurrency: 2\n  concurrency: 3\n") << 3 << 3 << "twice";
    QTest::newRow("one echo") << QByteArray("endpoints:\n  ip_echo: [https://a.example]\n") << 2
                              << 12 << "2 to 8";
    QTest::newRow("same host twice") << QByteArray(
        "endpoints:\n  ip_echo:\n    - https://a.example/ip\n    - https://a.example/other\n")
                                     << 4 << 7 << "independent";
    QTest::newRow("ftp url") << QByteArray(
        "endpoints:\n  ip_echo: [ftp://a.example, https://b.example]\n")
                             << 2 << 13 << "http";
    QTest::newRow("shell in url") << QByteArray(
        "endpoints:\n  ip_echo: [\"https://a.example/$(reboot)\", https://b.example]\n")
                                  << 2 << 13 << "URL";
    QTest::newRow("quote in url") << QByteArray(
        "endpoints:\n  tor_check: \"https://a.example/'x\"\n")
                                  << 2 << 14 << "URL";
    QTest::newRow("one ipv6 echo")
        << QByteArray("endpoints:\n  ip_echo6: [https://a.example]\n") << 2 << 13 << "2 to 8";
    QTest::newRow("ipv6 echo same host") << QByteArray(
        "endpoints:\n  ip_echo6: [\"https://[2001:db8::80]/\", \"http://[2001:db8::80]/ip\"]\n")
                                         << 2 << 41 << "independent";
    QTest::newRow("ipv6 echo on an ipv4 address")
        << QByteArray("endpoints:\n  ip_echo6: [https://203.0.113.80/, https://v6.example/]\n") << 2
        << 14 << "IPv6 only";
    QTest::newRow("shell in ipv6 url") << QByteArray(
        "endpoints:\n  ip_echo6: [\"https://v6.example/$(reboot)\", https://b.example]\n")
                                       << 2 << 14 << "URL";
    QTest::newRow("tor list") << QByteArray("endpoints:\n  tor_check: [https://a.example]\n") << 2
                              << 14 << "single value";
    QTest::newRow("bad dns") << QByteArray("dns:\n  whoami: \"who ami\"\n") << 2 << 11
                             << "DNS name";
    QTest::newRow("zone without service")
        << QByteArray("dns:\n  zone: probe.example.org\n") << 2 << 3 << "go together";
    QTest::newRow("zone service plain http")
        << QByteArray("dns:\n  zone: probe.example.org\n  zone_service: http://z.example/r\n") << 3
        << 17 << "https://";
    QTest::newRow("zone service with query")
        << QByteArray("dns:\n  zone: probe.example.org\n  zone_service: https://z.example/r?a=1\n")
        << 3 << 17 << "?query";
    QTest::newRow("zone service shell") << QByteArray(
        "dns:\n  zone: probe.example.org\n  zone_service: \"https://z.example/$(id)\"\n")
                                        << 3 << 17 << "URL";
    QTest::newRow("zone not a name")
        << QByteArray("dns:\n  zone: \"probe example\"\n  zone_service: https://z.example/r\n") << 2
        << 9 << "dns.zone must be a DNS name";
    QTest::newRow("zone not dotted")
        << QByteArray("dns:\n  zone: localhost\n  zone_service: https://z.example/r\n") << 2 << 9
        << "dns.zone must be a DNS name";
    QTest::newRow("dns not dotted")
        << QByteArray("dns:\n  whoami: localhost\n") << 2 << 11 << "DNS name";
    QTest::newRow("timeout zero") << QByteArray("checks:\n  timeout_seconds: 0\n") << 2 << 20
                                  << "between 2 and 600";
    QTest::newRow("timeout text") << QByteArray("checks:\n  timeout_seconds: soon\n") << 2 << 20
                                  << "whole number";
    QTest::newRow("timeout float")
        << QByteArray("checks:\n  timeout_seconds: 1.5\n") << 2 << 20 << "whole number";
    QTest::newRow("connect not below timeout")
        << QByteArray("checks:\n  timeout_seconds: 5\n  connect_timeout_seconds: 5\n") << 2 << 3
        << "smaller";
    QTest::newRow("concurrency huge")
        << QByteArray("checks:\n  concurrency: 1000\n") << 2 << 16 << "between 1 and 32";
    QTest::newRow("port zero") << QByteArray("checks:\n  isolation_ports: [22, 0]\n") << 2 << 25
                               << "between 1 and 65535";
    QTest::newRow("port twice") << QByteArray("checks:\n  isolation_ports: [22, 22]\n") << 2 << 25
                                << "twice";
}

void tst_CheckConfig::invalid()
{
    QFETCH(QByteArray, yaml);
    QFETCH(int, line);
    QFETCH(int, column);
    QFETCH(QString, message);
    auto c = checkConfigFromYaml(yaml, QStringLiteral("bad.yaml"));
    QVERIFY(!c.ok());
    QCOMPARE(c.error().exitCode(), 2);
    QCOMPARE(c.error().file, QStringLiteral("bad.yaml"));
    QVERIFY2(c.error().message.contains(message), qPrintable(c.error().message));
    QCOMPARE(c.error().line, line);
    QCOMPARE(c.error().column, column);
    QVERIFY(
        c.error().toString().startsWith(QStringLiteral("bad.yaml:%1:%2:").arg(line).arg(column)));
}

void tst_CheckConfig::baselinePinned()
{
    auto c = checkConfigFromYaml(
        "baseline:\n  exit_ips: [203.0.113.7, 2001:db8::1]\n  resolvers: [203.0.113.53]\n",
        QStringLiteral("c.yaml"));
    QVERIFY2(c.ok(), qPrintable(c.ok() ? QString() : c.error().toString()));
    QCOMPARE(c->baselineExitIps, (QStringList {"203.0.113.7", "2001:db8::1"}));
    QCOMPARE(c->baselineResolvers, QStringList {"203.0.113.53"});
    QVERIFY(CheckConfig::defaults().baselineExitIps.isEmpty());
    auto e = checkConfigFromYaml(
        "endpoints:\n  ip_echo_vpn: [https://a.example/, https://b.example/]\n",
        QStringLiteral("c.yaml"));
    QVERIFY(e.ok());
    QCOMPARE(e->ipEchoFor(QStringLiteral("vpn")).size(), 2);
    QCOMPARE(e->ipEchoFor(QStringLiteral("tor")), e->ipEchoUrls);
    auto six = checkConfigFromYaml(
        "endpoints:\n  ip_echo6: [\"https://[2001:db8::80]/\", https://v6.example/ip]\n",
        QStringLiteral("c.yaml"));
    QVERIFY2(six.ok(), qPrintable(six.ok() ? QString() : six.error().toString()));
    QCOMPARE(six->ipEchoUrls6, (QStringList {"https://[2001:db8::80]/", "https://v6.example/ip"}));
    QCOMPARE(six->ipEchoUrls, CheckConfig::defaults().ipEchoUrls);
    QCOMPARE(CheckConfig::defaults().ipEchoUrls6.size(), 3);
    QVERIFY(!checkConfigFromYaml("endpoints:\n  ip_echo_tor: [https://a.example/]\n",
                                 QStringLiteral("c.yaml"))
                 .ok());
}

void tst_CheckConfig::fileLookup()
{
    QTemporaryDir dir;
    qputenv("XDG_CONFIG_HOME", dir.path().toLocal8Bit());
    QCOMPARE(userCheckConfigPath(), dir.path() + QStringLiteral("/qubes-netmap/config.yaml"));
    // No user file: the shipped default.
    auto c = loadCheckConfig();
    QVERIFY(c.ok());
    QCOMPARE(c->sourceFile, QStringLiteral(":/netmap/config.yaml"));
    // A user file wins.
    QDir().mkpath(dir.path() + QStringLiteral("/qubes-netmap"));
    QFile f(userCheckConfigPath());
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("checks:\n  concurrency: 2\n");
    f.close();
    c = loadCheckConfig();
    QVERIFY(c.ok());
    QCOMPARE(c->concurrency, 2);
    QCOMPARE(c->sourceFile, userCheckConfigPath());
    // --config wins over both; a missing file is an error with exit code 2.
    auto missing = loadCheckConfig(dir.path() + QStringLiteral("/nope.yaml"));
    QVERIFY(!missing.ok());
    QCOMPARE(missing.error().exitCode(), 2);
    // Size cap.
    QFile big(dir.path() + QStringLiteral("/big.yaml"));
    QVERIFY(big.open(QIODevice::WriteOnly));
    big.write(QByteArray(kMaxConfigFileBytes + 10, '#'));
    big.close();
    QVERIFY(!loadCheckConfig(big.fileName()).ok());
}

namespace {
QByteArray testCa()
{
    QFile f(QStringLiteral(NETMAP_TEST_DATA "/test-ca.pem"));
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}
// Another CA (a second certificate in one file).
const char kSecondCa[] = "-----BEGIN CERTIFICATE-----\n"
                         "MIIBpDCCAUmgAwIBAgIUeNloDKRPACCUl8vwmTYffK2vx2QwCgYIKoZIzj0EAwIw\n"
                         "JjEkMCIGA1UEAwwbcXViZXMtbmV0bWFwIHNlY29uZCB0ZXN0IENBMCAXDTI2MTIw\n"
                         "NjA0MjUxOFoYDzIxMjYxMTEyMDQyNTE4WjAmMSQwIgYDVQQDDBtxdWJlcy1uZXRt\n"
                         "YXAgc2Vjb25kIHRlc3QgQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATNNiqo\n"
                         "tPx1lPjuhP9j+bkG3aOrGl2+nn5UwPpNj7XoKGmj+fkI5yqGOlDrmNjxObE6s0j5\n"
                         "GuOhi8G0a6Lm6WWfo1MwUTAdBgNVHQ4EFgQUySCCbV3kGx2jDWqkoQgaY//wbuMw\n"
                         "HwYDVR0jBBgwFoAUySCCbV3kGx2jDWqkoQgaY//wbuMwDwYDVR0TAQH/BAUwAwEB\n"
                         "/zAKBggqhkjOPQQDAgNJADBGAiEAuIjF/rHRvKhenLj65X8l8SWG4/Ja2Zpl9soJ\n"
                         "dMqaZYkCIQC/0NFhomN+29WCiMcnIa5wIQ6E2difwOiz2MPp/EdTJA==\n"
                         "-----END CERTIFICATE-----\n";
} // namespace

// endpoints.ca_file: PEM certificates only, each plausibly DER, re-encoded; anything else in the
// file (a key, text, a line that could end the here-document in the probe script) is refused.
void tst_CheckConfig::caFile_data()
{
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<int>("certificates");
    const QByteArray ca = testCa();
    QVERIFY(ca.startsWith("-----BEGIN CERTIFICATE-----\n"));
    QByteArray crlf = ca;
    crlf.replace("\n", "\r\n");
    QByteArray rewrapped; // 76-column lines, as some tools write them
    {
        QByteArray body = ca;
        body.replace("-----BEGIN CERTIFICATE-----", "").replace("-----END CERTIFICATE-----", "");
        body.replace("\n", "");
        rewrapped = "-----BEGIN CERTIFICATE-----\n";
        for (qsizetype i = 0; i < body.size(); i += 76)
            rewrapped += body.mid(i, 76) + '\n';
        rewrapped += "-----END CERTIFICATE-----\n";
    }
    QTest::newRow("one") << ca << true << 1;
    QTest::newRow("crlf") << crlf << true << 1;
    QTest::newRow("76 columns") << rewrapped << true << 1;
    QTest::newRow("two, blank lines")
        << QByteArray("\n" + ca + "\n\n" + kSecondCa + "\n") << true << 2;
    QTest::newRow("empty") << QByteArray() << false << 0;
    QTest::newRow("text before") << QByteArray("my CA\n" + ca) << false << 0;
    QTest::newRow("comment after") << QByteArray(ca + "# end\n") << false << 0;
    QTest::newRow("private key") << QByteArray(
        "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEH\n"
        "-----END PRIVATE KEY-----\n")
                                 << false << 0;
    QTest::newRow("not closed") << ca.left(ca.indexOf("-----END")) << false << 0;
    QByteArray injected = ca;
    injected.insert(injected.indexOf('\n') + 1, "NETMAP_CA\nreboot\n");
    QTest::newRow("here-document end") << injected << false << 0;
    QByteArray shell = ca;
    shell.insert(shell.indexOf('\n') + 1, "$(reboot)\n");
    QTest::newRow("shell") << shell << false << 0;
    QTest::newRow("base64 of no certificate")
        << QByteArray("-----BEGIN CERTIFICATE-----\n" + QByteArray(200, 'A').toBase64()
                      + "\n-----END CERTIFICATE-----\n")
        << false << 0;
    QByteArray cut = ca;
    cut.remove(cut.indexOf('\n') + 1, 4); // four base64 characters less: a wrong DER length
    QTest::newRow("truncated DER") << cut << false << 0;
    QByteArray many;
    for (int i = 0; i < 9; ++i)
        many += ca;
    QTest::newRow("nine") << many << false << 0;
}

void tst_CheckConfig::caFile()
{
    QFETCH(QByteArray, content);
    QFETCH(bool, valid);
    QFETCH(int, certificates);
    QString why;
    const auto pem = canonicalCaPem(content, &why);
    QCOMPARE(pem.has_value(), valid);
    if (!valid) {
        QVERIFY(!why.isEmpty());
    } else {
        QCOMPARE(int(pem->count("-----BEGIN CERTIFICATE-----\n")), certificates);
        // Only base64 and the armour lines go into a probe script; re-validating changes nothing.
        for (const QByteArray &line : pem->split('\n'))
            QVERIFY2(line.isEmpty() || line.startsWith("-----")
                         || QRegularExpression(QStringLiteral("^[A-Za-z0-9+/=]{1,64}$"))
                                .match(QString::fromLatin1(line))
                                .hasMatch(),
                     line.constData());
        QCOMPARE(canonicalCaPem(*pem), pem);
    }

    // Through the configuration file: the path must be absolute and the file valid.
    QTemporaryDir dir;
    QFile f(dir.filePath(QStringLiteral("ca.pem")));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(content);
    f.close();
    const auto c = checkConfigFromYaml(
        QStringLiteral("endpoints:\n  ca_file: %1\n").arg(f.fileName()).toUtf8(),
        QStringLiteral("c.yaml"));
    QCOMPARE(c.ok(), valid);
    if (valid) {
        QCOMPARE(c->caFile, f.fileName());
        QCOMPARE(c->caPem, *pem);
    } else {
        QVERIFY2(c.error().toString().contains(QStringLiteral("c.yaml:2")),
                 qPrintable(c.error().toString()));
    }
    QVERIFY(!checkConfigFromYaml("endpoints:\n  ca_file: ca.pem\n", QStringLiteral("c.yaml")).ok());
    QVERIFY(!checkConfigFromYaml(
                 QStringLiteral("endpoints:\n  ca_file: %1/missing.pem\n").arg(dir.path()).toUtf8(),
                 QStringLiteral("c.yaml"))
                 .ok());
}

QTEST_GUILESS_MAIN(tst_CheckConfig)
#include "tst_checkconfig.moc"
