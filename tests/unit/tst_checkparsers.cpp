// The strict readers of what a qube prints: the NETMAP line protocol, IP echo answers, the Tor
// check JSON, nftables / iptables kill-switch rules, evidence sanitizing.
#include "checks/checkscripts.h"
#include "checks/probeparser.h"
#include "model/untrustedtext.h"

#include <QTest>

using namespace netmap;

class tst_CheckParsers : public QObject
{
    Q_OBJECT
private slots:
    void ipEchoValue_data();
    void ipEchoValue();
    void ipv6EchoValue_data();
    void ipv6EchoValue();
    void ipv6Protocol_data();
    void ipv6Protocol();
    void torCheck_data();
    void torCheck();
    void protocol_data();
    void protocol();
    void interfaces();
    void sanitize_data();
    void sanitize();
    void interfaceNames_data();
    void interfaceNames();
};

void tst_CheckParsers::ipEchoValue_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QString>("expected"); // empty: refused
    QTest::newRow("plain") << QByteArray("203.0.113.7") << "203.0.113.7";
    QTest::newRow("blanks") << QByteArray("  203.0.113.7 \t") << "203.0.113.7";
    QTest::newRow("ipv6") << QByteArray("2001:db8::1") << "2001:db8::1";
    QTest::newRow("empty") << QByteArray("") << "";
    QTest::newRow("html") << QByteArray("<html>203.0.113.7</html>") << "";
    QTest::newRow("ansi") << QByteArray("\x1b[31m203.0.113.7") << "";
    QTest::newRow("non-utf8") << QByteArray("\xff"
                                            "203.0.113.7")
                              << "";
    QTest::newRow("two addresses") << QByteArray("203.0.113.7 198.51.100.1") << "";
    QTest::newRow("leading zero") << QByteArray("203.0.113.07") << "";
    QTest::newRow("octet too big") << QByteArray("203.0.113.256") << "";
    QTest::newRow("name") << QByteArray("example.com") << "";
    QTest::newRow("ip= line") << QByteArray("ip=203.0.113.7") << "";
    QTest::newRow("too long") << QByteArray(100, '1') << "";
}

void tst_CheckParsers::ipEchoValue()
{
    QFETCH(QByteArray, input);
    QFETCH(QString, expected);
    const auto parsed = parseIpEchoValue(input);
    QCOMPARE(parsed.value_or(QString()), expected);
}

void tst_CheckParsers::ipv6EchoValue_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QString>("expected"); // empty: refused
    QTest::newRow("plain") << QByteArray("2001:db8:5:1::42") << "2001:db8:5:1::42";
    QTest::newRow("blanks") << QByteArray(" 2001:db8::1\t") << "2001:db8::1";
    QTest::newRow("upper case, canonical") << QByteArray("2001:DB8:0:0::1") << "2001:db8::1";
    QTest::newRow("ipv4 over ipv6 is a lie") << QByteArray("203.0.113.7") << "";
    QTest::newRow("mapped ipv4") << QByteArray("::ffff:203.0.113.7") << "";
    QTest::newRow("zone") << QByteArray("fe80::1%eth0") << "";
    QTest::newRow("brackets") << QByteArray("[2001:db8::1]") << "";
    QTest::newRow("prefix") << QByteArray("2001:db8::/64") << "";
    QTest::newRow("two") << QByteArray("2001:db8::1 2001:db8::2") << "";
    QTest::newRow("ansi") << QByteArray("\x1b[31m2001:db8::1") << "";
    QTest::newRow("too long") << QByteArray(60, ':') << "";
}

void tst_CheckParsers::ipv6EchoValue()
{
    QFETCH(QByteArray, input);
    QFETCH(QString, expected);
    QCOMPARE(parseIpv6EchoValue(input).value_or(QString()), expected);
}

void tst_CheckParsers::ipv6Protocol_data()
{
    QTest::addColumn<QByteArray>("lines");
    QTest::addColumn<bool>("clean");
    QTest::addColumn<int>("answers"); // ipEcho6 entries
    QTest::addColumn<QString>("first"); // endpoint 0's validated address
    QTest::addColumn<int>("ipv4Answers"); // ipEcho entries: the families never mix
    QTest::newRow("both families")
        << QByteArray("NETMAP-IP 0 ok 203.0.113.7\nNETMAP-IP6 0 ok 2001:db8:5:1::42\n"
                      "NETMAP-IP6 1 none\n")
        << true << 2 << "2001:db8:5:1::42" << 1;
    QTest::newRow("ipv4 answer over ipv6 is no address")
        << QByteArray("NETMAP-IP6 0 ok 203.0.113.7\n") << true << 1 << "" << 0;
    QTest::newRow("twice") << QByteArray("NETMAP-IP6 0 ok 2001:db8::1\nNETMAP-IP6 0 none\n")
                           << false << 1 << "2001:db8::1" << 0;
    QTest::newRow("same index, other family is no repeat")
        << QByteArray("NETMAP-IP 0 none\nNETMAP-IP6 0 none\n") << true << 1 << "" << 1;
    QTest::newRow("bad index") << QByteArray("NETMAP-IP6 8 ok 2001:db8::1\n") << false << 0 << ""
                               << 0;
    QTest::newRow("garbage word") << QByteArray("NETMAP-IP6 0 maybe 2001:db8::1\n") << false << 0
                                  << "" << 0;
    QTest::newRow("reach over ipv6")
        << QByteArray("NETMAP-REACH fd09:24ef:4179::a89:10 tcp/22 yes\n") << true << 0 << "" << 0;
    QTest::newRow("reach with a zone")
        << QByteArray("NETMAP-REACH fe80::1%eth0 icmp yes\n") << false << 0 << "" << 0;
}

void tst_CheckParsers::ipv6Protocol()
{
    QFETCH(QByteArray, lines);
    QFETCH(bool, clean);
    QFETCH(int, answers);
    QFETCH(QString, first);
    QFETCH(int, ipv4Answers);
    const ProbeEvidence e = parseProbeOutput("NETMAP-BEGIN 1\n" + lines + "NETMAP-END\n");
    QCOMPARE(e.begun && e.ended && e.problems.isEmpty(), clean);
    QCOMPARE(int(e.ipEcho6.size()), answers);
    QCOMPARE(int(e.ipEcho.size()), ipv4Answers);
    if (answers > 0)
        QCOMPARE(e.ipEcho6.value(0).ip, first);
    if (lines.startsWith("NETMAP-REACH") && clean) {
        QCOMPARE(e.reaches.size(), 1);
        QCOMPARE(e.reaches.first().ip, QStringLiteral("fd09:24ef:4179::a89:10"));
    }
}

void tst_CheckParsers::torCheck_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<bool>("isTor");
    QTest::addColumn<QString>("ip");
    QTest::newRow("tor") << QByteArray(R"({"IsTor":true,"IP":"192.0.2.45"})") << true << true
                         << "192.0.2.45";
    QTest::newRow("not tor") << QByteArray(R"({"IsTor":false,"IP":"203.0.113.7"})") << true << false
                             << "203.0.113.7";
    QTest::newRow("no IP") << QByteArray(R"({"IsTor":true})") << true << true << "";
    QTest::newRow("IP null") << QByteArray(R"({"IsTor":true,"IP":null})") << true << true << "";
    QTest::newRow("spaces") << QByteArray(R"( { "IsTor" : true } )") << true << true << "";
    QTest::newRow("bad IP") << QByteArray(R"({"IsTor":true,"IP":"<b>x</b>"})") << false << false
                            << "";
    QTest::newRow("IsTor string") << QByteArray(R"({"IsTor":"true"})") << false << false << "";
    QTest::newRow("IsTor number") << QByteArray(R"({"IsTor":1})") << false << false << "";
    QTest::newRow("no IsTor") << QByteArray(R"({"IP":"192.0.2.45"})") << false << false << "";
    QTest::newRow("array") << QByteArray(R"([{"IsTor":true}])") << false << false << "";
    QTest::newRow("html") << QByteArray("<html>Congratulations</html>") << false << false << "";
    QTest::newRow("truncated") << QByteArray(R"({"IsTor":tr)") << false << false << "";
    QTest::newRow("empty") << QByteArray() << false << false << "";
    QTest::newRow("too big") << QByteArray(R"({"IsTor":true,"pad":")") + QByteArray(5000, 'x')
            + QByteArray(R"("})")
                             << false << false << "";
}

void tst_CheckParsers::torCheck()
{
    QFETCH(QByteArray, input);
    QFETCH(bool, valid);
    QFETCH(bool, isTor);
    QFETCH(QString, ip);
    QString why;
    const auto answer = parseTorCheck(input, &why);
    QCOMPARE(answer.has_value(), valid);
    if (valid) {
        QCOMPARE(answer->isTor, isTor);
        QCOMPARE(answer->ip, ip);
    } else {
        QVERIFY(!why.isEmpty());
    }
}

void tst_CheckParsers::protocol_data()
{
    QTest::addColumn<QByteArray>("output");
    QTest::addColumn<bool>("clean"); // begun, ended, no problems
    QTest::addColumn<int>("answers"); // ipEcho entries

    const QByteArray ok = "NETMAP-BEGIN 1\nNETMAP-TOOL http curl\nNETMAP-IP 0 ok "
                          "203.0.113.7\nNETMAP-IP 1 none\nNETMAP-END\n";
    QTest::newRow("clean") << ok << true << 2;
    QTest::newRow("crlf") << QByteArray(ok).replace("\n", "\r\n") << true << 2;
    QTest::newRow("noise around") << "motd line\n" + ok + "<html>\n" << true << 2;
    QTest::newRow("empty") << QByteArray() << false << 0;
    QTest::newRow("no end") << QByteArray("NETMAP-BEGIN 1\nNETMAP-IP 0 ok 203.0.113.7\n") << false
                            << 1;
    QTest::newRow("no begin") << QByteArray("NETMAP-IP 0 ok 203.0.113.7\nNETMAP-END\n") << false
                              << 0;
    QTest::newRow("twice") << QByteArray(
        "NETMAP-BEGIN 1\nNETMAP-IP 0 ok 203.0.113.7\nNETMAP-IP 0 ok 198.51.100.1\nNETMAP-END\n")
                           << false << 1;
    QTest::newRow("after end") << ok + "NETMAP-IP 2 ok 1.2.3.4\n" << false << 2;
    QTest::newRow("bad index") << QByteArray(
        "NETMAP-BEGIN 1\nNETMAP-IP 9 ok 203.0.113.7\nNETMAP-END\n")
                               << false << 0;
    QTest::newRow("index with sign")
        << QByteArray("NETMAP-BEGIN 1\nNETMAP-IP +0 ok 203.0.113.7\nNETMAP-END\n") << false << 0;
    QTest::newRow("ok without value")
        << QByteArray("NETMAP-BEGIN 1\nNETMAP-IP 0 ok\nNETMAP-END\n") << false << 0;
    QTest::newRow("unknown tag") << QByteArray("NETMAP-BEGIN 1\nNETMAP-PASS all\nNETMAP-END\n")
                                 << false << 0;
    QTest::newRow("unknown tool") << QByteArray(
        "NETMAP-BEGIN 1\nNETMAP-TOOL http lynx\nNETMAP-END\n")
                                  << false << 0;
    QTest::newRow("binary tag line")
        << QByteArray("NETMAP-BEGIN 1\nNETMAP-DNS \xff\xfe\nNETMAP-END\n") << false << 0;
    QTest::newRow("dns not an address")
        << QByteArray("NETMAP-BEGIN 1\nNETMAP-DNS cafe.be\nNETMAP-END\n") << false << 0;
    QTest::newRow("reach malformed")
        << QByteArray("NETMAP-BEGIN 1\nNETMAP-REACH 10.137.0.16 tcp/99999 yes\nNETMAP-END\n")
        << false << 0;
    QTest::newRow("huge line") << "NETMAP-BEGIN 1\nNETMAP-IP 0 ok " + QByteArray(10000, '1')
            + "\nNETMAP-END\n" << false
                               << 0;
    const QByteArray zone = "NETMAP-BEGIN 1\nNETMAP-ZNAME 0 ok 192.0.2.1\nNETMAP-ZNAME 1 none\n"
                            "NETMAP-ZSVC ok\nNETMAP-ZQ netmap-resolvers 1\nNETMAP-ZQ end\n"
                            "NETMAP-ZONE-DONE dig\nNETMAP-END\n";
    QTest::newRow("zone clean") << zone << true << 0;
    // The service's answer is judged later (parseZoneServiceAnswer): odd bytes in it are not a
    // protocol error that would hide the rest of the probe.
    QTest::newRow("zone service odd bytes")
        << QByteArray(zone).replace("NETMAP-ZQ end", "NETMAP-ZQ \xff<b>") << true << 0;
    QTest::newRow("zone name index out of range")
        << QByteArray(zone).replace("NETMAP-ZNAME 1 none", "NETMAP-ZNAME 3 none") << false << 0;
    QTest::newRow("zone name not an address")
        << QByteArray(zone).replace("ok 192.0.2.1", "ok evil.example") << false << 0;
    QTest::newRow("zone name twice")
        << QByteArray(zone).replace("NETMAP-ZNAME 1 none", "NETMAP-ZNAME 0 ok 192.0.2.2") << false
        << 0;
    QTest::newRow("zone service line without answer")
        << QByteArray(zone).replace("NETMAP-ZSVC ok", "NETMAP-ZSVC none") << false << 0;
    QTest::newRow("zone service line after done")
        << QByteArray(zone).replace("NETMAP-END", "NETMAP-ZQ late\nNETMAP-END") << false << 0;
    QTest::newRow("zone done before service")
        << QByteArray("NETMAP-BEGIN 1\nNETMAP-ZONE-DONE dig\nNETMAP-END\n") << false << 0;
    QTest::newRow("zone service too long") << "NETMAP-BEGIN 1\nNETMAP-ZSVC ok\n"
            + QByteArray("NETMAP-ZQ x\n").repeated(41) + "NETMAP-ZONE-DONE dig\nNETMAP-END\n"
                                           << false << 0;
    QTest::newRow("answer not an ip is not a protocol error")
        << QByteArray("NETMAP-BEGIN 1\nNETMAP-IP 0 ok <b>hi</b>\nNETMAP-END\n") << true << 1;
}

void tst_CheckParsers::protocol()
{
    QFETCH(QByteArray, output);
    QFETCH(bool, clean);
    QFETCH(int, answers);
    const ProbeEvidence e = parseProbeOutput(output);
    QCOMPARE(e.begun && e.ended && e.problems.isEmpty(), clean);
    QCOMPARE(int(e.ipEcho.size()), answers);
    if (e.ipEcho.contains(0) && e.ipEcho[0].answered && clean && answers == 2)
        QCOMPARE(e.ipEcho[0].ip, QStringLiteral("203.0.113.7"));
}

void tst_CheckParsers::interfaces()
{
    const ProbeEvidence e = parseProbeOutput("NETMAP-BEGIN 1\n"
                                             "NETMAP-IF lo unknown 772 0x9\n"
                                             "NETMAP-IF eth0 up 1 0x1003\n"
                                             "NETMAP-IF tun0 unknown 65534 0x1091\n"
                                             "NETMAP-IF wg0 down 65534 0x1090\n"
                                             "NETMAP-IF vif3.0 up 1 0x1003\n"
                                             "NETMAP-IF-DONE\nNETMAP-END\n");
    QVERIFY(e.problems.isEmpty());
    QVERIFY(e.interfacesDone);
    QCOMPARE(e.interfaces.size(), 5);
    QCOMPARE(e.upTunnels(), QStringList {QStringLiteral("tun0")});
    const ProbeEvidence bad = parseProbeOutput(
        "NETMAP-BEGIN 1\nNETMAP-IF ../../x up 1 0x1\nNETMAP-IF tun0 up x 0x1\nNETMAP-END\n");
    QCOMPARE(bad.problems.size(), 2);
    QVERIFY(bad.upTunnels().isEmpty());
}

void tst_CheckParsers::sanitize_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QString>("expected");
    QTest::newRow("plain") << QByteArray("a\tb\nc") << "a\tb\nc";
    QTest::newRow("ansi colour") << QByteArray("\x1b[1;31mred\x1b[0m") << "red";
    QTest::newRow("osc title") << QByteArray("\x1b]0;owned\x07text") << "text";
    // A lone CR would make a terminal overwrite the line: it is a line break in the evidence.
    QTest::newRow("controls") << QByteArray("a\x01\x08\x7f\rb") << "a\nb";
    QTest::newRow("non-utf8") << QByteArray("a\xff"
                                            "b")
                              << QString::fromUtf8("a\xef\xbf\xbd"
                                                   "b");
    QTest::newRow("bidi override") << QByteArray("a\xe2\x80\xae"
                                                 "b")
                                   << "ab";
    QTest::newRow("c1") << QByteArray("a\xc2\x9b"
                                      "b")
                        << "ab";
}

void tst_CheckParsers::sanitize()
{
    QFETCH(QByteArray, input);
    QFETCH(QString, expected);
    // Evidence kept from a probe's output (the verifier's use of untrustedtext).
    const auto evidence = [](const QByteArray &bytes, int cap) {
        return untrustedtext::block(untrustedtext::fromUtf8(bytes), cap);
    };
    QCOMPARE(evidence(input, 16 << 10), expected);
    const QString capped = evidence(QByteArray(100000, 'x'), 1000);
    QVERIFY(capped.size() < 1100);
    QVERIFY(capped.contains(QStringLiteral("truncated")));
}

void tst_CheckParsers::interfaceNames_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("valid");
    QTest::newRow("tun0") << "tun0" << true;
    QTest::newRow("vif3.0") << "vif3.0" << true;
    QTest::newRow("wg-home") << "wg-home" << true;
    QTest::newRow("quote") << "tun0'" << false;
    QTest::newRow("space") << "tun 0" << false;
    QTest::newRow("slash") << "../x" << false;
    QTest::newRow("dots") << ".." << false;
    QTest::newRow("too long") << "abcdefghijklmnop" << false;
    QTest::newRow("empty") << "" << false;
    QTest::newRow("dollar") << "$(id)" << false;
}

void tst_CheckParsers::interfaceNames()
{
    QFETCH(QString, name);
    QFETCH(bool, valid);
    QCOMPARE(validInterfaceName(name).has_value(), valid);
}

QTEST_GUILESS_MAIN(tst_CheckParsers)
#include "tst_checkparsers.moc"
