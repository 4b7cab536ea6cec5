// The kernel log lines of the dropped-traffic watch: good lines in both formats (journalctl -o
// cat and dmesg), and hostile ones a compromised network qube could print.

#include "formats/snapshotyaml.h"
#include "live/droplog.h"
#include "model/snapshot.h"

#include <QTest>

using namespace netmap;

namespace {
// The watch's token, as planDropWatch() makes them (16 hex digits).
const QByteArray kToken = "0123456789abcdef";
const QByteArray kIcmp = "netmap-drop-0123456789abcdef: IN=vif3.0 OUT=vif4.0 "
                         "MAC=fe:ff:ff:ff:ff:ff:00:16:3e:5e:6c:00:08:00 SRC=10.137.0.15 "
                         "DST=10.137.0.16 LEN=84 TOS=0x00 PREC=0x00 TTL=63 ID=12345 DF "
                         "PROTO=ICMP TYPE=8 CODE=0 ID=7 SEQ=1 ";
const QByteArray kTcp
    = "[ 2733.629786] netmap-drop-0123456789abcdef: IN=vif3.0 OUT=vif4.0 SRC=10.137.0.15 "
      "DST=10.137.0.16 LEN=60 TOS=0x00 PREC=0x00 TTL=63 ID=54321 DF PROTO=TCP "
      "SPT=40000 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0 ";
const QByteArray kUdp
    = "netmap-drop-0123456789abcdef: IN=vif3.0 OUT=vif4.0 SRC=10.137.0.15 DST=10.137.0.16 "
      "LEN=40 TOS=0x00 PREC=0x00 TTL=63 ID=1 PROTO=UDP SPT=5353 DPT=53 LEN=20";

QByteArray replaced(QByteArray line, const QByteArray &from, const QByteArray &to)
{
    return line.replace(from, to);
}
} // namespace

class tst_LiveDropLog : public QObject
{
    Q_OBJECT
private slots:
    void good_data();
    void good();
    void hostile_data();
    void hostile();
    void firewallRejects_data();
    void firewallRejects();
    void describeService();
    void mapsAddressesToQubes();
};

void tst_LiveDropLog::good_data()
{
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<QString>("in");
    QTest::addColumn<QString>("out");
    QTest::addColumn<QString>("src");
    QTest::addColumn<QString>("dst");
    QTest::addColumn<QString>("proto");
    QTest::addColumn<int>("spt");
    QTest::addColumn<int>("dpt");
    QTest::addColumn<int>("icmpType");
    QTest::newRow("icmp journalctl -o cat") << kIcmp << "vif3.0"
                                            << "vif4.0"
                                            << "10.137.0.15"
                                            << "10.137.0.16"
                                            << "ICMP" << -1 << -1 << 8;
    QTest::newRow("tcp dmesg time stamp") << kTcp << "vif3.0"
                                          << "vif4.0"
                                          << "10.137.0.15"
                                          << "10.137.0.16"
                                          << "TCP" << 40000 << 22 << -1;
    QTest::newRow("udp, LEN twice, no trailing space") << kUdp << "vif3.0"
                                                       << "vif4.0"
                                                       << "10.137.0.15"
                                                       << "10.137.0.16"
                                                       << "UDP" << 5353 << 53 << -1;
    QTest::newRow("empty IN") << replaced(kTcp, "IN=vif3.0", "IN=") << ""
                              << "vif4.0"
                              << "10.137.0.15"
                              << "10.137.0.16"
                              << "TCP" << 40000 << 22 << -1;
    QTest::newRow("protocol number") << QByteArray(
        "netmap-drop-0123456789abcdef: IN=vif3.0 OUT=vif4.0 SRC=10.137.0.15 DST=10.137.0.16 LEN=60 "
        "PROTO=47 ") << "vif3.0"
                                     << "vif4.0"
                                     << "10.137.0.15"
                                     << "10.137.0.16"
                                     << "47" << -1 << -1 << -1;
    QTest::newRow("small time stamp") << QByteArray("[    1.000001] ") + kIcmp << "vif3.0"
                                      << "vif4.0"
                                      << "10.137.0.15"
                                      << "10.137.0.16"
                                      << "ICMP" << -1 << -1 << 8;
    QTest::newRow("unknown harmless field")
        << replaced(kTcp, "URGP=0", "URGP=0 NEWFIELD=abc") << "vif3.0"
        << "vif4.0"
        << "10.137.0.15"
        << "10.137.0.16"
        << "TCP" << 40000 << 22 << -1;
    QTest::newRow("port 65535") << replaced(kTcp, "DPT=22", "DPT=65535") << "vif3.0"
                                << "vif4.0"
                                << "10.137.0.15"
                                << "10.137.0.16"
                                << "TCP" << 40000 << 65535 << -1;
    // What nf_log_ipv4 prints for fragments, IPsec, UDP-Lite and truncated packets.
    const QByteArray head
        = "netmap-drop-0123456789abcdef: IN=vif3.0 OUT=vif4.0 SRC=10.137.0.15 DST=10.137.0.16 "
          "LEN=1500 TOS=0x00 PREC=0x00 TTL=63 ID=4242 ";
    const auto row = [](const char *tag, const QByteArray &line, const char *proto, int spt,
                        int dpt, int type) {
        QTest::newRow(tag) << line << "vif3.0"
                           << "vif4.0"
                           << "10.137.0.15"
                           << "10.137.0.16" << proto << spt << dpt << type;
    };
    row("first fragment", head + "MF FRAG:0 PROTO=UDP SPT=5000 DPT=53 LEN=1480 ", "UDP", 5000, 53,
        -1);
    row("later fragment", head + "FRAG:185 PROTO=UDP ", "UDP", -1, -1, -1);
    row("later ICMP fragment", head + "FRAG:185 PROTO=ICMP ", "ICMP", -1, -1, -1);
    row("AH", head + "PROTO=AH SPI=0x1a2b3c4d ", "AH", -1, -1, -1);
    row("ESP", head + "PROTO=ESP SPI=0x1000 ", "ESP", -1, -1, -1);
    row("UDP-Lite", head + "PROTO=UDPLITE SPT=7000 DPT=7001 LEN=20 ", "UDPLITE", 7000, 7001, -1);
    row("truncated TCP", head + "PROTO=TCP INCOMPLETE [8 bytes] ", "TCP", -1, -1, -1);
    row("truncated ESP", head + "PROTO=ESP INCOMPLETE [65535 bytes] ", "ESP", -1, -1, -1);
}

void tst_LiveDropLog::good()
{
    QFETCH(QByteArray, line);
    QString why;
    const auto packet = parseDropLogLine(line, kToken, &why);
    QVERIFY2(packet, qPrintable(why));
    QTEST(packet->inInterface, "in");
    QTEST(packet->outInterface, "out");
    QTEST(packet->source, "src");
    QTEST(packet->destination, "dst");
    QTEST(packet->protocol, "proto");
    QTEST(packet->sourcePort, "spt");
    QTEST(packet->destinationPort, "dpt");
    QTEST(packet->icmpType, "icmpType");
}

// The two logging rules of a watch: in front of the drop of new traffic to qubes, and in front
// of a reject of the qubes-firewall service ("-fw" after the token). Protection: the
// firewall-prefix branch of parseDropLogLine() (without it the "-fw" rows are refused, or, with
// the prefix check loosened, read as isolation drops).
void tst_LiveDropLog::firewallRejects_data()
{
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<bool>("parsed");
    QTest::addColumn<bool>("byFirewall");
    const QByteArray uplink = "IN=vif5.0 OUT=eth0 SRC=10.137.0.16 DST=192.0.2.10 LEN=60 TOS=0x00 "
                              "PREC=0x00 TTL=63 ID=1 DF PROTO=TCP SPT=40000 DPT=25 WINDOW=64240 "
                              "RES=0x00 SYN URGP=0 ";
    QTest::newRow("isolation drop") << kTcp << true << false;
    QTest::newRow("qubes-firewall reject, journalctl")
        << "netmap-drop-0123456789abcdef-fw: " + uplink << true << true;
    QTest::newRow("qubes-firewall reject, dmesg")
        << "[ 2733.629786] netmap-drop-0123456789abcdef-fw: " + uplink << true << true;
    QTest::newRow("another watch's reject")
        << "netmap-drop-fedcba9876543210-fw: " + uplink << false << false;
    QTest::newRow("another suffix")
        << "netmap-drop-0123456789abcdef-fx: " + uplink << false << false;
    QTest::newRow("suffix twice") << "netmap-drop-0123456789abcdef-fw-fw: " + uplink << false
                                  << false;
    QTest::newRow("suffix without the colon")
        << "netmap-drop-0123456789abcdef-fw " + uplink << false << false;
}

void tst_LiveDropLog::firewallRejects()
{
    QFETCH(QByteArray, line);
    QFETCH(bool, parsed);
    QFETCH(bool, byFirewall);
    QString why;
    const auto packet = parseDropLogLine(line, kToken, &why);
    QCOMPARE(bool(packet), parsed);
    if (!packet) {
        QVERIFY2(why.contains(QLatin1String("token")), qPrintable(why));
        return;
    }
    QCOMPARE(packet->rejectedByQubeFirewall, byFirewall);
}

void tst_LiveDropLog::hostile_data()
{
    QTest::addColumn<QByteArray>("line");
    QTest::addColumn<QString>("reason");
    QTest::newRow("empty") << QByteArray() << "not a line of the program's logging rule";
    QTest::newRow("other kernel message")
        << QByteArray("[ 12.5] eth0: link up") << "not a line of the program's logging rule";
    QTest::newRow("prefix not first")
        << QByteArray("x ") + kIcmp << "not a line of the program's logging rule";
    // Root in the watched qube (or anything that writes to its kernel log) can print lines with
    // the fixed prefix; without this watch's token they are not this watch's. Protection: the
    // token check in parseDropLogLine() (without it these two rows parse as packets).
    QTest::newRow("no token") << replaced(kIcmp, "netmap-drop-0123456789abcdef:", "netmap-drop:")
                              << "a line without this watch's token";
    QTest::newRow("another watch's token")
        << replaced(kIcmp, "0123456789abcdef", "fedcba9876543210")
        << "a line with another watch's token";
    QTest::newRow("token cut short") << replaced(kIcmp, "0123456789abcdef:", "0123456789abcde:")
                                     << "a line with another watch's token";
    QTest::newRow("prefix other case") << replaced(kIcmp, "netmap-drop-", "NETMAP-DROP-")
                                       << "not a line of the program's logging rule";
    QTest::newRow("markup in interface")
        << replaced(kIcmp, "IN=vif3.0", "IN=<b>vif</b>")
        << "a field value holds characters a kernel log line never has";
    QTest::newRow("markup as a field")
        << replaced(kIcmp, "DF ", "<img src=x> ") << "malformed field name";
    QTest::newRow("escape sequence")
        << replaced(kIcmp, "vif3.0", "vif\x1b[31m3.0")
        << "a field value holds characters a kernel log line never has";
    QTest::newRow("carriage return in a value")
        << replaced(kIcmp, "vif3.0", "vif3.0\r")
        << "a field value holds characters a kernel log line never has";
    QTest::newRow("carriage return at the end") << kIcmp + "\r"
                                                << "malformed field name";
    QTest::newRow("NUL byte") << replaced(kIcmp, "DF", QByteArray("D\0F", 3))
                              << "malformed field name";
    QTest::newRow("UTF-8") << replaced(kIcmp, "vif3.0", "vïf3.0")
                           << "a field value holds characters a kernel log line never has";
    QTest::newRow("huge") << kIcmp + QByteArray(2000, 'A') << "line longer than 1024 bytes";
    QByteArray many = kIcmp;
    for (char a = 'A'; a < 'J'; ++a)
        for (char b = 'A'; b < 'J'; ++b)
            many += QByteArray("X") + a + b + "=1 ";
    QTest::newRow("too many fields") << many << "too many fields";
    QTest::newRow("octet 256") << replaced(kIcmp, "SRC=10.137.0.15", "SRC=10.137.0.256")
                               << "bad IPv4 address";
    QTest::newRow("leading zero") << replaced(kIcmp, "SRC=10.137.0.15", "SRC=010.137.0.15")
                                  << "bad IPv4 address";
    QTest::newRow("three octets") << replaced(kIcmp, "DST=10.137.0.16", "DST=10.137.0")
                                  << "bad IPv4 address";
    QTest::newRow("IPv6") << replaced(kIcmp, "DST=10.137.0.16", "DST=fe80::1")
                          << "bad IPv4 address";
    QTest::newRow("empty address")
        << replaced(kIcmp, "DST=10.137.0.16", "DST=") << "bad IPv4 address";
    QTest::newRow("SRC twice") << replaced(kIcmp, "LEN=84", "SRC=10.137.0.99")
                               << "a field appears twice";
    QTest::newRow("no SRC") << replaced(kIcmp, "SRC=10.137.0.15 ", "")
                            << "IN=, OUT=, SRC=, DST= or PROTO= missing";
    QTest::newRow("no OUT") << replaced(kIcmp, "OUT=vif4.0 ", "")
                            << "IN=, OUT=, SRC=, DST= or PROTO= missing";
    QTest::newRow("long interface")
        << replaced(kIcmp, "OUT=vif4.0", "OUT=vif4444444444444.0") << "bad interface name";
    QTest::newRow("lowercase protocol")
        << replaced(kIcmp, "PROTO=ICMP", "PROTO=icmp") << "bad protocol";
    QTest::newRow("protocol 256") << replaced(kIcmp, "PROTO=ICMP TYPE=8 CODE=0", "PROTO=256")
                                  << "bad protocol";
    QTest::newRow("port 65536") << replaced(kTcp, "DPT=22", "DPT=65536") << "bad port";
    QTest::newRow("port leading zero") << replaced(kTcp, "DPT=22", "DPT=022") << "bad port";
    QTest::newRow("negative port") << replaced(kTcp, "DPT=22", "DPT=-1") << "bad port";
    QTest::newRow("TCP port 0") << replaced(kTcp, "DPT=22", "DPT=0") << "TCP port 0";
    QTest::newRow("TCP without DPT")
        << replaced(kTcp, "DPT=22 ", "") << "TCP or UDP without SPT= and DPT=";
    QTest::newRow("ports on ICMP")
        << replaced(kIcmp, "SEQ=1", "SEQ=1 DPT=22") << "ports on a protocol without ports";
    QTest::newRow("ICMP without type")
        << replaced(kIcmp, "TYPE=8 ", "") << "ICMP fields do not match the protocol";
    QTest::newRow("nested packet of an ICMP error")
        << replaced(kIcmp, "ID=7 SEQ=1", "[SRC=10.137.0.16 DST=10.137.0.15 ]")
        << "malformed field name";
    QTest::newRow("two spaces") << replaced(kIcmp, "DF ", "DF  ") << "two spaces in a row";
    QTest::newRow("bad time stamp") << QByteArray("[abc] ") + kIcmp << "malformed time stamp";
    QTest::newRow("unclosed time stamp") << QByteArray("[ 12.5 ") + kIcmp << "malformed time stamp";
    QTest::newRow("bad MAC") << replaced(kIcmp, "MAC=fe:ff", "MAC=fg:ff") << "bad MAC field";
    QTest::newRow("bad TOS") << replaced(kIcmp, "TOS=0x00", "TOS=high") << "bad TOS or PREC field";
    QTest::newRow("bad TTL") << replaced(kIcmp, "TTL=63", "TTL=sixty") << "bad number";
}

void tst_LiveDropLog::hostile()
{
    QFETCH(QByteArray, line);
    QFETCH(QString, reason);
    QString why;
    QVERIFY(!parseDropLogLine(line, kToken, &why));
    QCOMPARE(why, reason);
}

void tst_LiveDropLog::describeService()
{
    QCOMPARE(parseDropLogLine(kTcp, kToken)->describeService(), QStringLiteral("TCP 22"));
    QCOMPARE(parseDropLogLine(kUdp, kToken)->describeService(), QStringLiteral("UDP 53"));
    QCOMPARE(parseDropLogLine(kIcmp, kToken)->describeService(),
             QStringLiteral("ICMP echo-request"));
}

void tst_LiveDropLog::mapsAddressesToQubes()
{
    const Snapshot demo = demoSnapshot();
    const Qube *work = demo.find(u"work");
    const Qube *untrusted = demo.find(u"untrusted");
    QVERIFY(work && untrusted && !work->ip.isEmpty() && !untrusted->ip.isEmpty());
    DroppedPacket packet = *parseDropLogLine(kTcp, kToken);
    packet.source = work->ip;
    packet.destination = untrusted->ip;
    const QDateTime when = QDateTime::currentDateTimeUtc();
    DroppedFlow flow = mapDroppedFlow(demo, QStringLiteral("sys-firewall"), packet, when);
    QCOMPARE(flow.fromQube, QStringLiteral("work"));
    QCOMPARE(flow.toQube, QStringLiteral("untrusted"));
    QCOMPARE(flow.watchedQube, QStringLiteral("sys-firewall"));
    QCOMPARE(flow.time, when);
    packet.destination = QStringLiteral("192.0.2.200"); // no qube has it
    flow = mapDroppedFlow(demo, QStringLiteral("sys-firewall"), packet, when);
    QCOMPARE(flow.fromQube, QStringLiteral("work"));
    QVERIFY(flow.toQube.isEmpty());
}

QTEST_GUILESS_MAIN(tst_LiveDropLog)
#include "tst_livedroplog.moc"
