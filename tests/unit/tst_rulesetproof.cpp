// The kill-switch proof over real `nft -j list ruleset` (and iptables-legacy-save) output,
// captured from real nftables in a scratch network namespace (tests/data/killswitch).
#include "checks/probeparser.h"
#include "checks/rulesetproof.h"
#include "checks/verdicts.h"

#include <QFile>
#include <QTest>

using namespace netmap;

namespace {

const QString kDir = QStringLiteral(NETMAP_TEST_DATA "/killswitch/");

std::optional<QByteArray> fixture(const QString &name)
{
    QFile f(kDir + name);
    if (!f.open(QIODevice::ReadOnly))
        return std::nullopt;
    return f.readAll();
}

KillSwitchProof prove(const QString &name)
{
    return proveKillSwitch(fixture(name + QStringLiteral(".json")),
                           fixture(name + QStringLiteral(".legacy")));
}

QString describe(const KillSwitchProof &p)
{
    return QStringLiteral(
               "outcome %1 | decided: %2 | leaks: %3 | accepted: %4 | why: %5 | notes: %6")
        .arg(int(p.outcome))
        .arg(p.decidedBy, p.leaks, p.acceptedBy, p.why, p.notes.join(u" / "));
}

} // namespace

class tst_RulesetProof : public QObject
{
    Q_OBJECT
private slots:
    void fixtures_data();
    void fixtures();
    void ipv6_data();
    void ipv6();
    void ipv6VerdictInWords();
    void hostileInput_data();
    void hostileInput();
    void legacyLines_data();
    void legacyLines();
};

void tst_RulesetProof::ipv6_data()
{
    // The same rulesets judged with IPv6 off (the IPv4 verdict, as it always was) and on for the
    // VPN qube's clients (IPv6 packets walk the ip6 and inet chains too).
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("ipv6");
    QTest::addColumn<int>("outcome");
    QTest::addColumn<QStringList>("words"); // all must appear in the description
    QTest::addColumn<QStringList>("absent"); // none may appear
    const int proven = int(KillSwitchProof::Outcome::Proven);
    const int leaks = int(KillSwitchProof::Outcome::Leaks);
    const QStringList none;

    QTest::newRow("ipv4-only rule, ipv6 off")
        << "ipv6-killswitch-ipv4-only" << false << proven
        << QStringList {"table ip qubes, chain custom-forward, rule 1"} << QStringList {"IPv6"};
    QTest::newRow("ipv4-only rule, ipv6 on")
        << "ipv6-killswitch-ipv4-only" << true << leaks
        << QStringList {"IPv6: every packet", "from fd09:24ef:4179::a89:1e",
                        "IPv6 by table ip6 qubes, chain forward: its policy accept",
                        "the kill switch drops IPv4 only"}
        << QStringList {"IPv4:"};
    QTest::newRow("inet rule, ipv6 on")
        << "ipv6-killswitch-inet" << true << proven
        << QStringList {"IPv4: table inet killswitch", "IPv6: table inet killswitch"} << none;
    QTest::newRow("ip and ip6 rules, ipv6 on")
        << "ipv6-killswitch-both" << true << proven
        << QStringList {"IPv4: table ip qubes, chain custom-forward",
                        "IPv6: table ip6 killswitch6, chain forward"}
        << none;
    // qubes-firewall drops every other source; the rule misses the client's own address.
    QTest::newRow("ip6 rule for another address, ipv6 on")
        << "ipv6-killswitch-wrong-address" << true << leaks
        << QStringList {"IPv6: every packet", "from fd09:24ef:4179::a89:1e",
                        "IPv6 by table ip6 killswitch6"}
        << QStringList {"a89:1f"};
    QTest::newRow("ip6 rule for another address, ipv6 off")
        << "ipv6-killswitch-wrong-address" << false << proven << none << QStringList {"IPv6"};
    // An inet table that drops only IPv6: IPv4 still leaves, whether IPv6 is on or not.
    QTest::newRow("inet ip6 only, ipv6 on")
        << "inet-ip6-only" << true << leaks << QStringList {"IPv4: every packet"}
        << QStringList {"IPv6: every"};
    // The base ruleset without any kill switch: both families leave.
    QTest::newRow("no kill switch, ipv6 on")
        << "none" << true << leaks << QStringList {"IPv4: every packet", "IPv6: every packet"}
        << none;
}

void tst_RulesetProof::ipv6()
{
    QFETCH(QString, name);
    QFETCH(bool, ipv6);
    QFETCH(int, outcome);
    QFETCH(QStringList, words);
    QFETCH(QStringList, absent);
    const KillSwitchProof p = proveKillSwitch(fixture(name + QStringLiteral(".json")),
                                              fixture(name + QStringLiteral(".legacy")), ipv6);
    const QString d = describe(p);
    QCOMPARE(int(p.outcome), outcome);
    for (const QString &w : words)
        QVERIFY2(d.contains(w), qPrintable(QStringLiteral("missing \"%1\" in %2").arg(w, d)));
    for (const QString &w : absent)
        QVERIFY2(!d.contains(w), qPrintable(QStringLiteral("unexpected \"%1\" in %2").arg(w, d)));
    // IPv6 off: exactly the verdict without the parameter.
    if (!ipv6)
        QCOMPARE(describe(proveKillSwitch(fixture(name + QStringLiteral(".json")),
                                          fixture(name + QStringLiteral(".legacy")))),
                 d);
}

void tst_RulesetProof::ipv6VerdictInWords()
{
    // The check's verdict over the documented IPv4-only kill switch: a pass with IPv6 off, a
    // failure that names IPv6 when Qubes gives the clients IPv6.
    ProbeEvidence e;
    e.rulesetTool = QStringLiteral("nft");
    e.rulesetDone = true;
    e.nftJson = *fixture(QStringLiteral("ipv6-killswitch-ipv4-only.json"));
    e.nftJsonSize = e.nftJson.size();
    e.rulesetSize = e.nftJson.size();
    const Verdict off = judgeKillSwitchStatic(e);
    QCOMPARE(off.status, CheckStatus::Pass);
    QVERIFY(!off.reason.contains(QLatin1String("IPv6")));
    const Verdict on = judgeKillSwitchStatic(e, true);
    QCOMPARE(on.status, CheckStatus::Fail);
    QVERIFY2(on.reason.contains(QLatin1String("IPv6 is on for this qube's clients and the kill "
                                              "switch drops IPv4 only")),
             qPrintable(on.reason));
    QVERIFY2(on.observed.contains(QLatin1String("IPv6: every packet")), qPrintable(on.observed));
}

void tst_RulesetProof::fixtures_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("outcome");
    QTest::addColumn<QStringList>("words"); // all must appear in the description
    const int proven = int(KillSwitchProof::Outcome::Proven);
    const int leaks = int(KillSwitchProof::Outcome::Leaks);
    const int cannot = int(KillSwitchProof::Outcome::CannotProve);
    QTest::newRow("qubes docs custom-forward")
        << "qubes-docs-custom-forward" << proven
        << QStringList {"table ip qubes, chain custom-forward, rule 1", "oifname \"eth0\""};
    QTest::newRow("iptables-nft FORWARD -o eth0 -j DROP")
        << "iptables-nft-forward" << proven << QStringList {"table ip filter, chain FORWARD"};
    QTest::newRow("policy-drop chain accepting only the tunnel")
        << "mullvad-policy-drop" << proven
        << QStringList {"table inet mullvad, chain forward: its policy drop"};
    QTest::newRow("drop in a separate table")
        << "separate-table" << proven << QStringList {"table ip killswitch, chain ks_forward"};
    QTest::newRow("reject") << "reject" << proven << QStringList {"reject"};
    QTest::newRow("vmap") << "vmap" << proven << QStringList {"custom-forward"};
    QTest::newRow("everything but the tunnel rejected")
        << "not-tunnel" << proven << QStringList {"!= \"tun0\""};
    QTest::newRow("legacy FORWARD -o eth0 -j DROP")
        << "legacy-forward" << proven
        << QStringList {"iptables-legacy table filter, chain FORWARD", "evaluated together"};
    QTest::newRow("drop after an accept is dead")
        << "dead-after-accept" << leaks
        << QStringList {"every packet", "custom-forward, rule 1 (iifgroup 2 accept)"};
    QTest::newRow("output chain only")
        << "output-only" << leaks
        << QStringList {"table ip vpnguard, chain output", "own traffic only"};
    QTest::newRow("partial: tcp 443 only")
        << "partial-443" << leaks
        << QStringList {"tcp to ports 0-442, 444-65535", "udp (any port)", "icmp",
                        "any other ip protocol"};
    QTest::newRow("legacy partial: tcp only")
        << "legacy-partial" << leaks << QStringList {"udp (any port)", "icmp"};
    QTest::newRow("inet table dropping IPv6 only")
        << "inet-ip6-only" << leaks << QStringList {"every packet"};
    QTest::newRow("one client interface only")
        << "one-client-only" << leaks
        << QStringList {"arriving on a client interface no rule names"};
    QTest::newRow("none") << "none" << leaks
                          << QStringList {"every packet (any protocol, port and destination)"};
    QTest::newRow("unknown rule on the path")
        << "mark-unknown" << cannot << QStringList {"custom-forward, rule 1", "meta skuid"};
}

void tst_RulesetProof::fixtures()
{
    QFETCH(QString, name);
    QFETCH(int, outcome);
    QFETCH(QStringList, words);
    QVERIFY2(fixture(name + QStringLiteral(".json")), qPrintable(name));
    const KillSwitchProof p = prove(name);
    const QString text = describe(p);
    QVERIFY2(int(p.outcome) == outcome, qPrintable(text));
    for (const QString &w : words)
        QVERIFY2(text.contains(w), qPrintable(QStringLiteral("'%1' missing in: %2").arg(w, text)));
}

void tst_RulesetProof::hostileInput_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("why");
    QTest::newRow("not json") << QByteArray("table ip qubes {") << "not libnftables JSON";
    QTest::newRow("no nftables array") << QByteArray("{\"x\": 1}") << "not libnftables JSON";
    QTest::newRow("too large") << QByteArray(kMaxRulesetJsonBytes + 1, ' ') << "larger than";
    QByteArray many = "{\"nftables\": [";
    for (int i = 0; i < 20001; ++i)
        many += "{\"x\":1},";
    many.chop(1);
    many += "]}";
    QTest::newRow("too many objects") << many << "more than 20000 objects";
    QTest::newRow("jump to a missing chain") << QByteArray(
        R"({"nftables":[{"chain":{"family":"ip","table":"t","name":"f","type":"filter","hook":"forward","prio":0,"policy":"drop"}},)"
        R"({"rule":{"family":"ip","table":"t","chain":"f","expr":[{"jump":{"target":"nowhere"}}]}}]})")
                                             << "does not exist";
    QTest::newRow("unknown statement") << QByteArray(
        R"({"nftables":[{"chain":{"family":"ip","table":"t","name":"f","type":"filter","hook":"forward","prio":0,"policy":"drop"}},)"
        R"({"rule":{"family":"ip","table":"t","chain":"f","expr":[{"queue":{"num":1}}]}}]})")
                                       << "queue";
    QTest::newRow("dup sends a copy out") << QByteArray(
        R"({"nftables":[{"chain":{"family":"ip","table":"t","name":"f","type":"filter","hook":"forward","prio":0,"policy":"drop"}},)"
        R"({"chain":{"family":"ip","table":"t","name":"p","type":"filter","hook":"prerouting","prio":0,"policy":"accept"}},)"
        R"({"rule":{"family":"ip","table":"t","chain":"p","expr":[{"dup":{"addr":"1.2.3.4"}}]}}]})")
                                          << "dup";
}

void tst_RulesetProof::hostileInput()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, why);
    const KillSwitchProof p = proveKillSwitch(json, std::nullopt);
    QVERIFY2(p.outcome == KillSwitchProof::Outcome::CannotProve, qPrintable(describe(p)));
    QVERIFY2(p.why.contains(why), qPrintable(describe(p)));
}

void tst_RulesetProof::legacyLines_data()
{
    QTest::addColumn<QString>("lines");
    QTest::addColumn<int>("outcome");
    const int proven = int(KillSwitchProof::Outcome::Proven);
    const int leaks = int(KillSwitchProof::Outcome::Leaks);
    const int cannot = int(KillSwitchProof::Outcome::CannotProve);
    QTest::newRow("forward drop") << "-A FORWARD -o eth0 -j DROP" << proven;
    QTest::newRow("reject with")
        << "-A FORWARD -o eth0 -j REJECT --reject-with icmp-host-prohibited" << proven;
    QTest::newRow("comment") << "-A FORWARD -o eth0 -m comment --comment \"kill switch\" -j DROP"
                             << proven;
    QTest::newRow("wildcard client") << "-A FORWARD -i vif+ ! -o tun0 -j DROP" << proven;
    QTest::newRow("accept") << "-A FORWARD -o eth0 -j ACCEPT" << leaks;
    QTest::newRow("narrow") << "-A FORWARD -o eth0 -p tcp --dport 443 -j DROP" << leaks;
    QTest::newRow("multiport all")
        << "-A FORWARD -o eth0 -p tcp -m multiport --dports 0:65535 -j DROP\n"
           "-A FORWARD -o eth0 ! -p tcp -j DROP"
        << proven;
    QTest::newRow("input only") << "-A INPUT -o eth0 -j DROP" << leaks;
    QTest::newRow("output only") << "-A OUTPUT -o eth0 -j DROP" << leaks;
    QTest::newRow("established first")
        << "-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"
           "-A FORWARD -o eth0 -j DROP"
        << proven;
    QTest::newRow("unknown match before the drop")
        << "-A FORWARD -m owner --uid-owner 0 -j ACCEPT\n-A FORWARD -o eth0 -j DROP" << cannot;
    QTest::newRow("user chain") << "-A FORWARD -j KS\n-A KS -i lo -j RETURN\n-A KS -o eth0 -j DROP"
                                << proven;
}

void tst_RulesetProof::legacyLines()
{
    QFETCH(QString, lines);
    QFETCH(int, outcome);
    const QByteArray save = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n"
                            ":OUTPUT ACCEPT [0:0]\n:KS - [0:0]\n"
        + lines.toUtf8() + "\nCOMMIT\n";
    const KillSwitchProof p = proveKillSwitch(std::nullopt, save);
    QVERIFY2(int(p.outcome) == outcome, qPrintable(describe(p)));
}

QTEST_GUILESS_MAIN(tst_RulesetProof)
#include "tst_rulesetproof.moc"
