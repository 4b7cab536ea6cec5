// Verdicts: consensus, expectations, and never a pass on missing or malformed evidence.
#include "checks/verdicts.h"
#include "policy/expectations.h"
#include "qubes/commandrunner.h"

#include <QTest>

using namespace netmap;

namespace {

ProbeEvidence evidence(const QByteArray &lines)
{
    return parseProbeOutput("NETMAP-BEGIN 1\n" + lines + "NETMAP-END\n");
}

CommandOutput finished(int exitCode, const QByteArray &out = {})
{
    CommandOutput o;
    o.outcome = CommandOutput::Outcome::Finished;
    o.exitCode = exitCode;
    o.stdoutData = out;
    return o;
}

} // namespace

class tst_CheckVerdicts : public QObject
{
    Q_OBJECT
private slots:
    void consensus_data();
    void consensus();
    void consensus6_data();
    void consensus6();
    void externalIpv6_data();
    void externalIpv6();
    void vpnIpv6_data();
    void vpnIpv6();
    void externalIp_data();
    void externalIp();
    void vpn_data();
    void vpn();
    void dnsLeak_data();
    void dnsLeak();
    void zoneDnsLeak_data();
    void zoneDnsLeak();
    void transport_data();
    void transport();
    void exitOneSaysWhich_data();
    void exitOneSaysWhich();
    void freshStateQuery();
    void isolationNeedsEveryReport();
    void drill_data();
    void drill();
    void drillNeedsTheVpnExitBefore();
};

void tst_CheckVerdicts::consensus_data()
{
    QTest::addColumn<QByteArray>("lines");
    QTest::addColumn<int>("state");
    QTest::addColumn<QString>("ip");
    using S = ExitConsensus::State;
    const QByteArray curl = "NETMAP-TOOL http curl\n";
    QTest::newRow("agree") << curl + "NETMAP-IP 0 ok 203.0.113.7\nNETMAP-IP 1 ok 203.0.113.7\n"
                           << int(S::Agreed) << "203.0.113.7";
    QTest::newRow("disagree") << curl + "NETMAP-IP 0 ok 203.0.113.7\nNETMAP-IP 1 ok 198.51.100.1\n"
                              << int(S::Disagreed) << "";
    QTest::newRow("no egress") << curl + "NETMAP-IP 0 none\nNETMAP-IP 1 none\n"
                               << int(S::NoEgress) << "";
    QTest::newRow("one answer") << curl + "NETMAP-IP 0 ok 203.0.113.7\nNETMAP-IP 1 none\n"
                                << int(S::CannotCheck) << "";
    QTest::newRow("one report missing") << curl + "NETMAP-IP 0 ok 203.0.113.7\n"
                                        << int(S::CannotCheck) << "";
    QTest::newRow("html answer") << curl + "NETMAP-IP 0 ok 203.0.113.7\nNETMAP-IP 1 ok <html>\n"
                                 << int(S::CannotCheck) << "";
    QTest::newRow("no tool") << QByteArray("NETMAP-TOOL http none\n") << int(S::CannotCheck) << "";
    QTest::newRow("tool unreported")
        << QByteArray("NETMAP-IP 0 ok 203.0.113.7\nNETMAP-IP 1 ok 203.0.113.7\n")
        << int(S::CannotCheck) << "";
    QTest::newRow("nothing") << QByteArray() << int(S::CannotCheck) << "";
}

void tst_CheckVerdicts::consensus()
{
    QFETCH(QByteArray, lines);
    QFETCH(int, state);
    QFETCH(QString, ip);
    const ExitConsensus c = exitConsensus(evidence(lines), 2);
    QCOMPARE(int(c.state), state);
    QCOMPARE(c.ip, ip);
    if (c.state != ExitConsensus::State::Agreed)
        QVERIFY(!c.why.isEmpty());
}

void tst_CheckVerdicts::consensus6_data()
{
    QTest::addColumn<QByteArray>("lines");
    QTest::addColumn<int>("state");
    QTest::addColumn<QString>("prefix");
    using S = ExitConsensus::State;
    const QByteArray curl = "NETMAP-TOOL http curl\n";
    QTest::newRow("same address") << curl
            + "NETMAP-IP6 0 ok 2001:db8:5:1::42\nNETMAP-IP6 1 ok 2001:db8:5:1::42\n"
                                  << int(S::Agreed) << "2001:db8:5:1::/64";
    // Privacy addresses rotate: two addresses in one /64 are one exit.
    QTest::newRow("privacy addresses in one /64")
        << curl + "NETMAP-IP6 0 ok 2001:db8:5:1:a::1\nNETMAP-IP6 1 ok 2001:db8:5:1:b::2\n"
        << int(S::Agreed) << "2001:db8:5:1::/64";
    // A lying qube (or a forging network qube) that reports an address in another /64 to one
    // endpoint: never an agreed exit.
    QTest::newRow("lying: another /64")
        << curl + "NETMAP-IP6 0 ok 2001:db8:5:1::42\nNETMAP-IP6 1 ok 2001:db8:7:1::42\n"
        << int(S::Disagreed) << "";
    QTest::newRow("neighbouring /64")
        << curl + "NETMAP-IP6 0 ok 2001:db8:5:1::42\nNETMAP-IP6 1 ok 2001:db8:5:2::42\n"
        << int(S::Disagreed) << "";
    QTest::newRow("no ipv6 egress") << curl + "NETMAP-IP6 0 none\nNETMAP-IP6 1 none\n"
                                    << int(S::NoEgress) << "";
    QTest::newRow("one answer") << curl + "NETMAP-IP6 0 ok 2001:db8:5:1::42\nNETMAP-IP6 1 none\n"
                                << int(S::CannotCheck) << "";
    QTest::newRow("ipv4 answer over ipv6")
        << curl + "NETMAP-IP6 0 ok 203.0.113.7\nNETMAP-IP6 1 ok 203.0.113.7\n"
        << int(S::CannotCheck) << "";
    QTest::newRow("report missing") << curl + "NETMAP-IP6 0 ok 2001:db8:5:1::42\n"
                                    << int(S::CannotCheck) << "";
    // The IPv4 answers say nothing about IPv6.
    QTest::newRow("only ipv4 answers")
        << curl + "NETMAP-IP 0 ok 203.0.113.7\nNETMAP-IP 1 ok 203.0.113.7\n"
        << int(S::CannotCheck) << "";
    QTest::newRow("no tool") << QByteArray("NETMAP-TOOL http none\n") << int(S::CannotCheck) << "";
}

void tst_CheckVerdicts::consensus6()
{
    QFETCH(QByteArray, lines);
    QFETCH(int, state);
    QFETCH(QString, prefix);
    const ExitConsensus c = exitConsensus6(evidence(lines), 2);
    QCOMPARE(int(c.state), state);
    QCOMPARE(c.ip, prefix);
    if (c.state != ExitConsensus::State::Agreed)
        QVERIFY(!c.why.isEmpty());
    QCOMPARE(ipv6Prefix64(QStringLiteral("2001:db8:5:1:ffff:1:2:3")).value_or(QString()),
             QStringLiteral("2001:db8:5:1::/64"));
    QVERIFY(!ipv6Prefix64(QStringLiteral("203.0.113.7")));
}

namespace {

ExitConsensus agreed6(const QString &prefix)
{
    ExitConsensus c;
    if (prefix == QLatin1String("none")) {
        c.state = ExitConsensus::State::NoEgress;
        c.why = QStringLiteral("none of the 2 IPv6 IP echo endpoints answered");
    } else if (prefix == QLatin1String("disagree")) {
        c.state = ExitConsensus::State::Disagreed;
        c.seen = {QStringLiteral("2001:db8:5:1::42 (IPv6 endpoint 1)"),
                  QStringLiteral("2001:db8:7:1::42 (IPv6 endpoint 2)")};
        c.why = QStringLiteral("the IPv6 endpoints disagree on the /64");
    } else if (prefix == QLatin1String("cannot")) {
        c.why = QStringLiteral("cannot check: only one IPv6 endpoint answered");
    } else {
        c.state = ExitConsensus::State::Agreed;
        c.ip = prefix;
        c.seen = {prefix, prefix};
    }
    return c;
}

// "2001:db8:10::/64" or "none" (the clearnet path has no IPv6 egress) or "" (unknown).
Ipv6Context context6(const QString &clearnet)
{
    Ipv6Context v6;
    if (clearnet == QLatin1String("none")) {
        v6.clearnetPrefixes = QStringList();
        v6.clearnetHasNoIpv6 = true;
    } else if (!clearnet.isEmpty()) {
        v6.clearnetPrefixes = QStringList {clearnet};
    } else {
        v6.baselineProblem = QStringLiteral("the clearnet IPv6 baseline is unconfirmed");
    }
    v6.baselineSource = QStringLiteral("seen from sys-net and work");
    return v6;
}

Verdict ipv4Verdict(int status)
{
    Verdict v;
    v.status = CheckStatus(status);
    v.observed = QStringLiteral("198.51.100.10");
    v.reason = QStringLiteral("the IPv4 words");
    return v;
}

} // namespace

void tst_CheckVerdicts::externalIpv6_data()
{
    QTest::addColumn<QString>("expect");
    QTest::addColumn<QString>("v6"); // the qube's IPv6 consensus
    QTest::addColumn<QString>("clearnet"); // the clearnet IPv6 baseline
    QTest::addColumn<int>("ipv4");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("words");
    const int pass = int(CheckStatus::Pass), fail = int(CheckStatus::Fail),
              error = int(CheckStatus::Error);
    const QString c = QStringLiteral("2001:db8:10::/64"), vpn = QStringLiteral("2001:db8:20::/64");
    QTest::newRow("no ipv6 egress: no ipv6 verdict")
        << "clearnet"
        << "none" << c << pass << pass << "no IPv6 egress: no IPv6 verdict";
    QTest::newRow("no ipv6 egress keeps an ipv4 fail")
        << "clearnet"
        << "none" << c << fail << fail << "no IPv6 egress: no IPv6 verdict";
    QTest::newRow("clearnet ipv6 is the clearnet one")
        << "clearnet" << c << c << pass << pass << "the clearnet IPv6 exit";
    QTest::newRow("clearnet ipv6 elsewhere")
        << "clearnet" << vpn << c << pass << fail << "is not the clearnet IPv6 exit";
    QTest::newRow("clearnet ipv6 though the path has none")
        << "clearnet" << vpn << "none" << pass << fail << "has no IPv6 egress";
    QTest::newRow("clearnet ipv6, baseline unknown")
        << "clearnet" << c << "" << pass << pass << "endpoints agree";
    QTest::newRow("vpn ipv6 in the clear")
        << "vpn" << c << c << pass << fail << "IPv6 leaves in the clear";
    QTest::newRow("vpn ipv6 elsewhere") << "vpn" << vpn << c << pass << pass << "endpoints agree";
    QTest::newRow("no egress expected, ipv6 egress")
        << "none" << vpn << c << pass << fail << "although no egress is expected";
    QTest::newRow("ipv6 endpoints disagree")
        << "clearnet"
        << "disagree" << c << pass << fail << "disagree on the /64";
    QTest::newRow("ipv6 unreadable never passes")
        << "clearnet"
        << "cannot" << c << pass << error << "only one IPv6 endpoint";
    QTest::newRow("ipv6 unreadable keeps an ipv4 fail")
        << "clearnet"
        << "cannot" << c << fail << fail << "only one IPv6 endpoint";
    QTest::newRow("an ipv6 leak fails an ipv4 error")
        << "vpn" << c << c << error << fail << "IPv6 leaves in the clear";
}

void tst_CheckVerdicts::externalIpv6()
{
    QFETCH(QString, expect);
    QFETCH(QString, v6);
    QFETCH(QString, clearnet);
    QFETCH(int, ipv4);
    QFETCH(int, status);
    QFETCH(QString, words);
    ExternalIpContext ctx;
    ctx.expectation = *parseEgress(expect);
    ctx.kind = expect == QLatin1String("none") ? EgressKind::None
        : expect == QLatin1String("vpn")       ? EgressKind::Vpn
                                               : EgressKind::Clearnet;
    const Verdict v
        = combineIpv6(ipv4Verdict(ipv4), judgeExternalIpv6(agreed6(v6), ctx, context6(clearnet)));
    QCOMPARE(int(v.status), status);
    QVERIFY2(v.reason.contains(words), qPrintable(v.reason));
    QVERIFY2(v.reason.contains(QLatin1String("the IPv4 words")), qPrintable(v.reason));
    QCOMPARE(v.externalIp, QString()); // the IPv4 exit stays the IPv4 verdict's
    // No IPv6 egress leaves the observed exit alone; an IPv6 exit seen is shown next to it.
    const bool seen6 = v6 != QLatin1String("none") && v6 != QLatin1String("cannot");
    QCOMPARE(v.observed.startsWith(QLatin1String("198.51.100.10; IPv6 ")), seen6);
    QCOMPARE(v.observed == QLatin1String("198.51.100.10"), !seen6);
}

void tst_CheckVerdicts::vpnIpv6_data()
{
    QTest::addColumn<QString>("v6");
    QTest::addColumn<QString>("clearnet");
    QTest::addColumn<int>("ipv4");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("words");
    const int pass = int(CheckStatus::Pass), fail = int(CheckStatus::Fail),
              error = int(CheckStatus::Error);
    const QString c = QStringLiteral("2001:db8:10::/64"), vpn = QStringLiteral("2001:db8:20::/64");
    QTest::newRow("both tunnelled") << vpn << c << pass << pass << "differs from the clearnet IPv6";
    QTest::newRow("ipv6 in the clear while ipv4 is tunnelled")
        << c << c << pass << fail << "IPv6 leaves in the clear while IPv4 is tunnelled";
    QTest::newRow("both in the clear") << c << c << fail << fail << "the IPv6 exit";
    QTest::newRow("no ipv6 egress: no ipv6 verdict")
        << "none" << c << pass << pass << "no IPv6 egress: no IPv6 verdict";
    QTest::newRow("clearnet has no ipv6") << vpn << "none" << pass << pass << "no IPv6 egress";
    QTest::newRow("no clearnet ipv6 baseline: cannot tell")
        << vpn << "" << pass << error << "cannot tell";
    QTest::newRow("ipv6 endpoints disagree: cannot tell")
        << "disagree" << c << pass << error << "cannot check";
    QTest::newRow("ipv6 leak fails an ipv4 error") << c << c << error << fail << "clearnet one";
    // A lying witness that claims the VPN's /64 for the clearnet: a false alarm at worst, never a
    // pass.
    QTest::newRow("witness claims the vpn's /64") << vpn << vpn << pass << fail << "clearnet one";
}

void tst_CheckVerdicts::vpnIpv6()
{
    QFETCH(QString, v6);
    QFETCH(QString, clearnet);
    QFETCH(int, ipv4);
    QFETCH(int, status);
    QFETCH(QString, words);
    const Verdict v = combineIpv6(
        ipv4Verdict(ipv4),
        judgeVpnIpv6(agreed6(v6), context6(clearnet), ipv4 == int(CheckStatus::Pass)));
    QCOMPARE(int(v.status), status);
    QVERIFY2(v.reason.contains(words), qPrintable(v.reason));
}

void tst_CheckVerdicts::externalIp_data()
{
    QTest::addColumn<QString>("expect");
    QTest::addColumn<int>("consensusState");
    QTest::addColumn<QString>("clearnet");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("haltedHop");
    using S = ExitConsensus::State;
    QTest::newRow("no egress, netvm halted")
        << "vpn" << int(S::NoEgress) << "" << int(CheckStatus::Error) << "sys-firewall";
    QTest::newRow("egress though a hop looks halted")
        << "clearnet" << int(S::Agreed) << "203.0.113.7" << int(CheckStatus::Pass)
        << "sys-firewall";
    QTest::newRow("clearnet match")
        << "clearnet" << int(S::Agreed) << "203.0.113.7" << int(CheckStatus::Pass) << QString();
    QTest::newRow("clearnet other ip")
        << "clearnet" << int(S::Agreed) << "198.51.100.9" << int(CheckStatus::Fail) << QString();
    QTest::newRow("clearnet no baseline")
        << "clearnet" << int(S::Agreed) << "" << int(CheckStatus::Pass) << QString();
    QTest::newRow("no egress expected")
        << "none" << int(S::NoEgress) << "" << int(CheckStatus::Pass) << QString();
    QTest::newRow("egress though none")
        << "none" << int(S::Agreed) << "" << int(CheckStatus::Fail) << QString();
    QTest::newRow("no egress on vpn")
        << "vpn" << int(S::NoEgress) << "" << int(CheckStatus::Fail) << QString();
    QTest::newRow("disagree") << "clearnet" << int(S::Disagreed) << "" << int(CheckStatus::Fail)
                              << QString();
    QTest::newRow("cannot") << "clearnet" << int(S::CannotCheck) << "203.0.113.7"
                            << int(CheckStatus::Error) << QString();
    QTest::newRow("via on path") << "via sys-firewall" << int(S::Agreed) << ""
                                 << int(CheckStatus::Pass) << QString();
    QTest::newRow("via not on path")
        << "via sys-vpn" << int(S::Agreed) << "" << int(CheckStatus::Fail) << QString();
}

void tst_CheckVerdicts::externalIp()
{
    QFETCH(QString, expect);
    QFETCH(int, consensusState);
    QFETCH(QString, clearnet);
    QFETCH(int, status);
    QFETCH(QString, haltedHop);
    ExitConsensus c;
    c.state = ExitConsensus::State(consensusState);
    if (c.state == ExitConsensus::State::Agreed) {
        c.ip = QStringLiteral("203.0.113.7");
        c.seen = {QStringLiteral("203.0.113.7 (endpoint 1)"),
                  QStringLiteral("203.0.113.7 (endpoint 2)")};
    }
    c.why = QStringLiteral("because");
    ExternalIpContext ctx;
    ctx.expectation = *parseEgress(expect);
    ctx.kind = expect == QLatin1String("none") ? EgressKind::None
        : expect == QLatin1String("vpn")       ? EgressKind::Vpn
                                               : EgressKind::Clearnet;
    ctx.path = {QStringLiteral("work"), QStringLiteral("sys-firewall"), QStringLiteral("sys-net")};
    if (!clearnet.isEmpty())
        ctx.clearnetExits = QStringList {clearnet};
    ctx.baselineQube = QStringLiteral("sys-net");
    ctx.haltedHop = haltedHop;
    const Verdict v = judgeExternalIp(c, ctx);
    QCOMPARE(int(v.status), status);
    QVERIFY(!v.reason.isEmpty());
    QCOMPARE(v.expected, ctx.expectation.toString());
    if (v.status == CheckStatus::Error)
        QVERIFY(v.externalIp.isEmpty());
}

void tst_CheckVerdicts::vpn_data()
{
    QTest::addColumn<QString>("ip");
    QTest::addColumn<QString>("clearnet");
    QTest::addColumn<QStringList>("tunnels");
    QTest::addColumn<bool>("probed");
    QTest::addColumn<int>("status");
    const QStringList tun {QStringLiteral("tun0")};
    QTest::newRow("differs") << "198.51.100.23"
                             << "203.0.113.7" << tun << true << int(CheckStatus::Pass);
    QTest::newRow("leak") << "203.0.113.7"
                          << "203.0.113.7" << tun << true << int(CheckStatus::Fail);
    QTest::newRow("no baseline") << "198.51.100.23"
                                 << "" << tun << true << int(CheckStatus::Error);
    QTest::newRow("no exit") << ""
                             << "203.0.113.7" << tun << true << int(CheckStatus::Error);
    QTest::newRow("tunnel down") << "198.51.100.23"
                                 << "203.0.113.7" << QStringList() << true
                                 << int(CheckStatus::Fail);
    QTest::newRow("provider unread") << "198.51.100.23"
                                     << "203.0.113.7" << tun << false << int(CheckStatus::Error);
}

void tst_CheckVerdicts::vpn()
{
    QFETCH(QString, ip);
    QFETCH(QString, clearnet);
    QFETCH(QStringList, tunnels);
    QFETCH(bool, probed);
    QFETCH(int, status);
    ExitConsensus c;
    if (!ip.isEmpty()) {
        c.state = ExitConsensus::State::Agreed;
        c.ip = ip;
    } else {
        c.why = QStringLiteral("none of the endpoints answered");
        c.state = ExitConsensus::State::NoEgress;
    }
    VpnContext ctx;
    if (!clearnet.isEmpty())
        ctx.clearnetExits = QStringList {clearnet};
    ctx.baselineQube = QStringLiteral("sys-net");
    ctx.provider = QStringLiteral("sys-vpn");
    if (probed)
        ctx.providerTunnels = tunnels;
    QCOMPARE(int(judgeVpn(c, ctx).status), status);
}

void tst_CheckVerdicts::dnsLeak_data()
{
    QTest::addColumn<QByteArray>("lines");
    QTest::addColumn<QStringList>("baseline");
    QTest::addColumn<int>("status");
    const QStringList clear {QStringLiteral("203.0.113.53")};
    // The whoami A record alone never passes: a network qube on the path can forge it.
    QTest::newRow("own resolver") << QByteArray("NETMAP-DNS 198.51.100.53\nNETMAP-DNS-DONE dig\n")
                                  << clear << int(CheckStatus::Error);
    QTest::newRow("leak") << QByteArray(
        "NETMAP-DNS 198.51.100.53\nNETMAP-DNS 203.0.113.53\nNETMAP-DNS-DONE dig\n")
                          << clear << int(CheckStatus::Fail);
    QTest::newRow("no answer") << QByteArray("NETMAP-DNS-DONE dig\n") << clear
                               << int(CheckStatus::Error);
    QTest::newRow("not finished") << QByteArray("NETMAP-DNS 198.51.100.53\n") << clear
                                  << int(CheckStatus::Error);
    QTest::newRow("no tool") << QByteArray("NETMAP-DNS-DONE none\n") << clear
                             << int(CheckStatus::Error);
    QTest::newRow("no baseline") << QByteArray("NETMAP-DNS 198.51.100.53\nNETMAP-DNS-DONE dig\n")
                                 << QStringList() << int(CheckStatus::Error);
}

void tst_CheckVerdicts::dnsLeak()
{
    QFETCH(QByteArray, lines);
    QFETCH(QStringList, baseline);
    QFETCH(int, status);
    DnsContext ctx;
    ctx.kind = EgressKind::Vpn;
    ctx.baselineQube = QStringLiteral("sys-net");
    if (!baseline.isEmpty())
        ctx.baselineResolvers = baseline;
    QCOMPARE(int(judgeDnsLeak(evidence(lines), ctx).status), status);
}

namespace {
const QStringList kLabels {QStringLiteral("0123456789abcdef0001"),
                           QStringLiteral("0123456789abcdef0002"),
                           QStringLiteral("0123456789abcdef0003")};

// The zone section's lines: each name's answer ("-" for none), then the service's answer
// (empty: it did not answer).
QByteArray zoneLines(const QStringList &answers, const QByteArray &service,
                     const char *tool = "dig")
{
    QByteArray out;
    for (int i = 0; i < answers.size(); ++i) {
        out += "NETMAP-ZNAME " + QByteArray::number(i)
            + (answers.at(i) == u'-' ? QByteArray(" none\n")
                                     : " ok " + answers.at(i).toLatin1() + '\n');
    }
    if (service.isEmpty()) {
        out += "NETMAP-ZSVC none\n";
    } else {
        out += "NETMAP-ZSVC ok\n";
        for (const QByteArray &line : service.split('\n'))
            out += "NETMAP-ZQ " + line + '\n';
    }
    return out + "NETMAP-ZONE-DONE " + tool + '\n';
}

QByteArray asked(const QStringList &resolvers, int labels = 3)
{
    QByteArray out = "netmap-resolvers 1\n";
    for (int i = 0; i < labels; ++i) {
        for (const QString &r : resolvers)
            out += kLabels.at(i).toLatin1() + ' ' + r.toLatin1() + '\n';
    }
    return out + "end";
}
} // namespace

void tst_CheckVerdicts::zoneDnsLeak_data()
{
    QTest::addColumn<QByteArray>("lines");
    QTest::addColumn<int>("kind");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("reason");
    const QStringList ok {QStringLiteral("192.0.2.1"), QStringLiteral("192.0.2.1"),
                          QStringLiteral("192.0.2.1")};
    const int vpn = int(EgressKind::Vpn);
    const int pass = int(CheckStatus::Pass);
    const int fail = int(CheckStatus::Fail);
    const int err = int(CheckStatus::Error);
    QTest::newRow("vpn resolver asked")
        << zoneLines(ok, asked({QStringLiteral("198.51.100.10")})) << vpn << pass
        << "method: unique names under probe.example.org";
    QTest::newRow("clearnet resolver asked")
        << zoneLines(ok, asked({QStringLiteral("203.0.113.53")})) << vpn << fail << "leak";
    QTest::newRow("one of two resolvers is clearnet")
        << zoneLines(ok, asked({QStringLiteral("198.51.100.10"), QStringLiteral("203.0.113.53")}))
        << vpn << fail << "leak: resolver 203.0.113.53";
    QTest::newRow("tor leaks too") << zoneLines(ok, asked({QStringLiteral("203.0.113.53")}))
                                   << int(EgressKind::Tor) << fail << "leak";
    // A forger on the path answers every name itself: the zone saw no ask.
    QTest::newRow("answered, nobody asked")
        << zoneLines(ok, asked({})) << vpn << fail << "intercepted";
    QTest::newRow("one name made up")
        << zoneLines(ok, asked({QStringLiteral("198.51.100.10")}, 2)) << vpn << fail
        << "0123456789abcdef0003.probe.example.org resolved to 192.0.2.1";
    QTest::newRow("service down") << zoneLines(ok, {}) << vpn << err << "did not answer over HTTPS";
    QTest::newRow("nothing resolved, nobody asked")
        << zoneLines({"-", "-", "-"}, asked({})) << vpn << err << "did not resolve";
    QTest::newRow("nothing resolved, but asked")
        << zoneLines({"-", "-", "-"}, asked({QStringLiteral("203.0.113.53")})) << vpn << fail
        << "leak";
    QTest::newRow("no lookup tool")
        << zoneLines({}, asked({}), "none") << vpn << err << "dig missing";
    QTest::newRow("not finished") << QByteArray("NETMAP-ZNAME 0 ok 192.0.2.1\n") << vpn << err
                                  << "did not finish";
    QTest::newRow("answer without end")
        << zoneLines(ok, "netmap-resolvers 1\n0123456789abcdef0001 198.51.100.10") << vpn << err
        << "no \"end\" line";
    QTest::newRow("answer for another name")
        << zoneLines(ok, "netmap-resolvers 1\nffffffffffffffffffff 198.51.100.10\nend") << vpn
        << err << "not asked about";
    QTest::newRow("answer not an address")
        << zoneLines(ok, "netmap-resolvers 1\n0123456789abcdef0001 resolver.example\nend") << vpn
        << err << "not a \"NAME ADDRESS\" line";
    QTest::newRow("answer wrong header")
        << zoneLines(ok, "<html>\n0123456789abcdef0001 198.51.100.10\nend") << vpn << err
        << "netmap-resolvers 1";
    QTest::newRow("line after end")
        << zoneLines(ok, asked({QStringLiteral("198.51.100.10")}) + "\nextra") << vpn << err
        << "follows";
}

void tst_CheckVerdicts::zoneDnsLeak()
{
    QFETCH(QByteArray, lines);
    QFETCH(int, kind);
    QFETCH(int, status);
    QFETCH(QString, reason);
    const ProbeEvidence e = evidence(lines);
    QVERIFY2(e.problems.isEmpty(), qPrintable(e.problems.join(u'\n')));
    DnsContext ctx;
    ctx.kind = EgressKind(kind);
    ctx.baselineQube = QStringLiteral("seen from sys-net and sys-firewall");
    ctx.baselineResolvers = QStringList {QStringLiteral("203.0.113.53")};
    ctx.zone = zoneResolvers(e, kLabels, QStringLiteral("probe.example.org"),
                             QStringLiteral("https://zone.example.org/resolvers"));
    const Verdict v = judgeDnsLeak(e, ctx);
    QVERIFY2(int(v.status) == status, qPrintable(v.reason));
    QVERIFY2(v.reason.contains(reason), qPrintable(v.reason));
    // Whatever decided, the words say which method it was (or why none could).
    QVERIFY2(v.reason.contains(QStringLiteral("method:")) || v.status == CheckStatus::Error,
             qPrintable(v.reason));
}

void tst_CheckVerdicts::transport_data()
{
    QTest::addColumn<int>("outcome");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<QByteArray>("out");
    QTest::addColumn<bool>("problem");
    using O = CommandOutput::Outcome;
    const QByteArray good = "NETMAP-BEGIN 1\nNETMAP-END\n";
    QTest::newRow("fine") << int(O::Finished) << 0 << good << false;
    QTest::newRow("125") << int(O::Finished) << 125 << QByteArray() << true;
    QTest::newRow("126") << int(O::Finished) << 126 << QByteArray() << true;
    QTest::newRow("127") << int(O::Finished) << 127 << QByteArray() << true;
    QTest::newRow("255") << int(O::Finished) << 255 << QByteArray() << true;
    QTest::newRow("1 halted") << int(O::Finished) << 1 << QByteArray() << true;
    QTest::newRow("1 after answer") << int(O::Finished) << 1 << good << true;
    QTest::newRow("no end") << int(O::Finished) << 0 << QByteArray("NETMAP-BEGIN 1\n") << true;
    QTest::newRow("timeout") << int(O::TimedOut) << -1 << good << true;
    QTest::newRow("capped") << int(O::OutputCapped) << -1 << good << true;
    QTest::newRow("crashed") << int(O::Crashed) << -1 << good << true;
    QTest::newRow("not started") << int(O::FailedToStart) << -1 << QByteArray() << true;
    QTest::newRow("malformed") << int(O::Finished) << 0
                               << QByteArray("NETMAP-BEGIN 1\nNETMAP-XYZ\nNETMAP-END\n") << true;
}

void tst_CheckVerdicts::transport()
{
    QFETCH(int, outcome);
    QFETCH(int, exitCode);
    QFETCH(QByteArray, out);
    QFETCH(bool, problem);
    CommandOutput o = finished(exitCode, out);
    o.outcome = CommandOutput::Outcome(outcome);
    const auto p = transportProblem(o, false, parseProbeOutput(out));
    QCOMPARE(p.has_value(), problem);
    if (p)
        QVERIFY(!p->isEmpty());
}

void tst_CheckVerdicts::exitOneSaysWhich_data()
{
    QTest::addColumn<QByteArray>("stderrText");
    QTest::addColumn<QString>("state");
    QTest::addColumn<bool>("autostart");
    QTest::addColumn<QString>("says");
    // What the real qvm-run prints (qubesadmin/app.py QubesRemote.run_service, 4.2 and 4.3
    // before 4.3.26) when asked for -u root in a management qube.
    QTest::newRow("-u root from a management qube")
        << QByteArray("Traceback (most recent call last):\n  File \"/usr/bin/qvm-run\", line 5\n"
                      "ValueError: non-default user not possible for calls from VM\n")
        << "Running" << false << "not possible from a management qube";
    QTest::newRow("traceback") << QByteArray(
        "Traceback (most recent call last):\n  File \"x\", line 1\n"
        "qubesadmin.exc.QubesDaemonCommunicationError: Failed to connect\n")
                               << "Running" << false
                               << "Python error: qubesadmin.exc.QubesDaemonCommunicationError";
    // The state comes from a fresh query after the failure (parseQubeState).
    QTest::newRow("paused") << QByteArray() << "Paused" << false << "says Paused";
    QTest::newRow("halted") << QByteArray() << "Halted" << false
                            << "not running and was not started (autostart is off; exit 1; a "
                               "fresh state query says Halted)";
    QTest::newRow("halted, autostart")
        << QByteArray() << "Halted" << true << "could not be started (exit 1; a fresh state";
    QTest::newRow("running") << QByteArray("Qube 'work' is busy\n") << "Running" << false
                             << "although a fresh state query says Running: Qube 'work' is busy";
    QTest::newRow("state unreadable") << QByteArray() << "" << true << "cannot tell which";
}

// Exit 1 before any answer: halted, paused or a traceback, and the result says which.
void tst_CheckVerdicts::exitOneSaysWhich()
{
    QFETCH(QByteArray, stderrText);
    QFETCH(QString, state);
    QFETCH(bool, autostart);
    QFETCH(QString, says);
    CommandOutput o = finished(1);
    o.stderrData = stderrText;
    const auto p = transportProblem(o, autostart, parseProbeOutput({}), state);
    QVERIFY(p.has_value());
    QVERIFY2(p->contains(says), qPrintable(*p));
}

// The state query after an exit 1: one qube, one line, a known state; anything else is unknown.
void tst_CheckVerdicts::freshStateQuery()
{
    const CommandSpec spec = qubeStateQuery(QStringLiteral("qvm-ls"), QStringLiteral("work"));
    QCOMPARE(spec.program, QStringLiteral("qvm-ls"));
    QCOMPARE(spec.arguments,
             (QStringList {QStringLiteral("--raw-data"), QStringLiteral("--fields=name,state"),
                           QStringLiteral("work")}));
    QVERIFY(spec.timeoutMs > 0);
    const auto state = [](int code, const QByteArray &out) {
        CommandOutput o = finished(code);
        o.stdoutData = out;
        return parseQubeState(o, QStringLiteral("work"));
    };
    QCOMPARE(state(0, "work|Paused\n"), QStringLiteral("Paused"));
    QCOMPARE(state(0, "work|Halted\n"), QStringLiteral("Halted"));
    QCOMPARE(state(0, "work|Running"), QStringLiteral("Running"));
    QCOMPARE(state(1, "work|Paused\n"), QString());
    QCOMPARE(state(0, "other|Paused\n"), QString());
    QCOMPARE(state(0, "work|Paused\nwork|Halted\n"), QString());
    QCOMPARE(state(0, "work|Sleeping\n"), QString());
    QCOMPARE(state(0, "work|Paused|x\n"), QString());
    QCOMPARE(state(0, ""), QString());

    CommandOutput one = finished(1);
    QVERIFY(exitOneNeedsState(one, parseProbeOutput({})));
    one.stderrData = "Traceback (most recent call last):\n";
    QVERIFY(!exitOneNeedsState(one, parseProbeOutput({})));
    QVERIFY(!exitOneNeedsState(finished(2), parseProbeOutput({})));
}

void tst_CheckVerdicts::isolationNeedsEveryReport()
{
    const QList<IsolationTarget> targets {
        {QStringLiteral("10.137.0.16"), QStringLiteral("untrusted"), false},
        {QStringLiteral("10.137.0.27"), QStringLiteral("work-vpn"), true}};
    const QList<int> ports {22};
    const QByteArray tools = "NETMAP-TOOL ping ping\nNETMAP-TOOL tcp nc\n";
    const QByteArray all
        = "NETMAP-REACH 10.137.0.16 icmp no\nNETMAP-REACH 10.137.0.16 tcp/22 no\n"
          "NETMAP-REACH 10.137.0.27 icmp yes\nNETMAP-REACH 10.137.0.27 tcp/22 no\n";
    QCOMPARE(judgeIsolation(evidence(tools + all), targets, ports, QStringLiteral("work")).status,
             CheckStatus::Pass);
    // One report missing: not a pass.
    QCOMPARE(judgeIsolation(evidence(tools + all.left(all.lastIndexOf("NETMAP-REACH"))), targets,
                            ports, QStringLiteral("work"))
                 .status,
             CheckStatus::Error);
    // A reach that is not allowed fails and names the pair.
    const Verdict v = judgeIsolation(
        evidence(tools
                 + QByteArray(all).replace("10.137.0.16 tcp/22 no", "10.137.0.16 tcp/22 yes")),
        targets, ports, QStringLiteral("work"));
    QCOMPARE(v.status, CheckStatus::Fail);
    QVERIFY(v.observed.contains(QStringLiteral("work → untrusted")));
    QCOMPARE(judgeIsolation(evidence(all), targets, ports, QStringLiteral("work")).status,
             CheckStatus::Error);
    QCOMPARE(judgeIsolation(evidence(tools + all), {}, ports, QStringLiteral("work")).status,
             CheckStatus::Error);
}

namespace {

ExitConsensus agreed(const char *ip)
{
    ExitConsensus c;
    c.state = ExitConsensus::State::Agreed;
    c.ip = QString::fromLatin1(ip);
    c.seen = {c.ip + QStringLiteral(" (endpoint 1)"), c.ip + QStringLiteral(" (endpoint 2)")};
    return c;
}

ExitConsensus noEgress()
{
    ExitConsensus c;
    c.state = ExitConsensus::State::NoEgress;
    c.why = QStringLiteral("none of the 2 IP echo endpoints answered");
    return c;
}

} // namespace

void tst_CheckVerdicts::drill_data()
{
    QTest::addColumn<int>("staticStatus");
    QTest::addColumn<bool>("filtersNothing");
    QTest::addColumn<bool>("egressBefore"); // the client left by the VPN's exit, tunnel up
    QTest::addColumn<bool>("egressDuring"); // it still left while the tunnel was down
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("reason");
    const int pass = int(CheckStatus::Pass), fail = int(CheckStatus::Fail),
              err = int(CheckStatus::Error);
    QTest::newRow("static pass, drill proves")
        << pass << false << true << false << pass << "Static check agrees";
    QTest::newRow("static error, drill proves")
        << err << false << true << false << pass << "static check could not prove it";
    QTest::newRow("ruleset filters nothing, drill proves (routing)")
        << fail << true << true << false << pass << "elsewhere (routing)";
    QTest::newRow("ruleset partial, drill sees nothing")
        << fail << false << true << false << fail << "still lets other traffic through";
    QTest::newRow("static pass, leak during the drill")
        << pass << false << true << true << fail << "the clearnet exit";
    QTest::newRow("static pass, client offline before")
        << pass << false << false << false << err << "no egress even with the tunnel up";
    QTest::newRow("static error, client offline before")
        << err << false << false << false << err << "would prove nothing";
    QTest::newRow("static fail, client offline before")
        << fail << false << false << false << fail << "would prove nothing";
}

void tst_CheckVerdicts::drill()
{
    QFETCH(int, staticStatus);
    QFETCH(bool, filtersNothing);
    QFETCH(bool, egressBefore);
    QFETCH(bool, egressDuring);
    QFETCH(int, status);
    QFETCH(QString, reason);
    Verdict st;
    st.status = CheckStatus(staticStatus);
    st.filtersNothing = filtersNothing;
    st.reason = QStringLiteral("static reason");
    DrillEvidence d;
    d.downstreamQube = QStringLiteral("work-vpn");
    d.interfaceName = QStringLiteral("tun0");
    d.clearnetExits = QStringList {QStringLiteral("203.0.113.10")};
    d.vpnExit = QStringLiteral("198.51.100.10");
    d.beforeRun = true;
    d.before = egressBefore ? agreed("198.51.100.10") : noEgress();
    if (egressBefore) {
        d.breakRun = true;
        d.breakStep.drillEvents = {QStringLiteral("restore-scheduled"), QStringLiteral("broken")};
        d.downstream = egressDuring ? agreed("203.0.113.10") : noEgress();
        d.restoreStep.drillEvents = {QStringLiteral("restored")};
    }
    const Verdict v = judgeKillSwitchDrill(st, d);
    QVERIFY2(int(v.status) == status, qPrintable(v.reason));
    QVERIFY2(v.reason.contains(reason), qPrintable(v.reason));
    QVERIFY2(v.reason.contains(QStringLiteral("work-vpn")), qPrintable(v.reason));
}

void tst_CheckVerdicts::drillNeedsTheVpnExitBefore()
{
    Verdict st;
    st.status = CheckStatus::Error;
    DrillEvidence d;
    d.downstreamQube = QStringLiteral("work-vpn");
    d.beforeRun = true;
    d.clearnetExits = QStringList {QStringLiteral("203.0.113.10")};
    d.before = agreed("203.0.113.10"); // leaves in the clear even with the tunnel up
    d.breakRun = true;
    d.breakStep.drillEvents = {QStringLiteral("broken")};
    d.downstream = noEgress();
    QCOMPARE(judgeKillSwitchDrill(st, d).status, CheckStatus::Error);
    QVERIFY(drillBaselineProblem(d)->contains(QStringLiteral("clearnet exit")));
    d.before = agreed("192.0.2.99");
    d.vpnExit = QStringLiteral("198.51.100.10"); // another exit than the VPN's
    QVERIFY(drillBaselineProblem(d)->contains(QStringLiteral("not by the VPN's exit")));
    d.vpnExit.reset();
    d.clearnetExits.reset(); // nothing to tell the exits apart with
    QVERIFY(drillBaselineProblem(d));
    d.clearnetExits = QStringList {QStringLiteral("203.0.113.10")};
    QVERIFY(!drillBaselineProblem(d)); // not the clearnet exit: through the tunnel
    QCOMPARE(judgeKillSwitchDrill(st, d).status, CheckStatus::Pass);
}

QTEST_GUILESS_MAIN(tst_CheckVerdicts)
#include "tst_checkverdicts.moc"
