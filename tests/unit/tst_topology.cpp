#include "model/topology.h"
#include "policy/colouring.h"
#include "policy/findings.h"
#include "policy/inference.h"
#include "snapshots.h"

#include <QTest>

using namespace netmap;

namespace {

QubeName n(const char *name)
{
    return *QubeName::fromUntrusted(QString::fromLatin1(name));
}

// test::makeQube with nullptr for no netvm.
Qube qube(const char *name, const char *netvm, bool provides = false, const char *state = "Running")
{
    return test::makeQube(name, netvm ? QString::fromLatin1(netvm) : QString(), provides, state);
}

Snapshot make(std::vector<Qube> qubes)
{
    return test::makeSnapshot(std::move(qubes));
}

bool hasFinding(const std::vector<Finding> &findings, const QString &qube, const char *code)
{
    return std::any_of(findings.begin(), findings.end(), [&](const Finding &f) {
        return f.qube == qube && f.code == QLatin1String(code);
    });
}

} // namespace

class tst_Topology : public QObject
{
    Q_OBJECT
private slots:
    void chains();
    void loopIsAFindingNotAHang();
    void loops_data();
    void loops();
    void largeLoopIsLinear();
    void dangling();
    void findings();
    void disposablesEgress_data();
    void disposablesEgress();
    void inference();
    void colouring();
    void largeChainIsLinear();
    void colouringIpv6_data();
    void colouringIpv6();
    void ipv6FeatureSource();
};

void tst_Topology::chains()
{
    Snapshot s = test::qubesDefaultChain();
    test::addQube(s, qube("untrusted", "sys-firewall"));
    test::addQube(s, qube("vault", nullptr));
    const Topology t(s);
    QCOMPARE(t.egressChain(u"work"), QStringList({"work", "sys-firewall", "sys-net"}));
    QCOMPARE(t.rootOf(u"work"), QStringLiteral("sys-net"));
    QCOMPARE(t.egressChain(u"vault"), QStringList({"vault"}));
    QCOMPARE(t.rootOf(u"vault"), QString());
    const int fw = t.indexOf(u"sys-firewall");
    QCOMPARE(t.childrenOf(fw).size(), size_t(2));
    QCOMPARE(t.nameAt(t.childrenOf(fw)[0]), QStringLiteral("untrusted"));
    QStringList roots;
    for (int r : t.roots())
        roots << t.nameAt(r);
    QCOMPARE(roots, QStringList({"sys-net", "vault"}));
    // Depth first, roots and siblings by name.
    QStringList order;
    for (int i : t.treeOrder())
        order << t.nameAt(i);
    QCOMPARE(order, QStringList({"sys-net", "sys-firewall", "untrusted", "work", "vault"}));
}

void tst_Topology::loopIsAFindingNotAHang()
{
    const Snapshot s
        = make({qube("a", "b", true), qube("b", "c", true), qube("c", "a", true), qube("d", "b")});
    const Topology t(s);
    QVERIFY(t.isInLoop(t.indexOf(u"a")));
    QVERIFY(t.isInLoop(t.indexOf(u"c")));
    QVERIFY(!t.isInLoop(t.indexOf(u"d")));
    const QStringList chain = t.egressChain(u"d");
    QVERIFY(chain.size() <= 4);
    QCOMPARE(chain.first(), QStringLiteral("d"));
    const auto findings = computeFindings(s, t);
    QVERIFY(hasFinding(findings, QStringLiteral("a"), "netvm-loop"));
    QVERIFY(!hasFinding(findings, QStringLiteral("d"), "netvm-loop"));
    // Self loop.
    const Snapshot self = make({qube("x", "x", true)});
    const Topology ts(self);
    QCOMPARE(ts.egressChain(u"x"), QStringList({"x"}));
    QVERIFY(ts.isInLoop(0));
}

void tst_Topology::loops_data()
{
    // Each qube as "name>netvm" (">" alone: no netvm); which qubes are in a loop; the roots
    // after each loop is cut at its first member (by name: the snapshot is sorted).
    QTest::addColumn<QString>("qubes");
    QTest::addColumn<QString>("inLoop");
    QTest::addColumn<QString>("roots");

    QTest::newRow("loop") << "a>b b>c c>a"
                          << "a b c"
                          << "a";
    QTest::newRow("self-loop") << "x>x y>"
                               << "x"
                               << "x y";
    QTest::newRow("two loops") << "a>b b>a c>d d>e e>c"
                               << "a b c d e"
                               << "a c";
    // A tail behind a loop is not in it, and hangs below the cut loop.
    QTest::newRow("loop with a tail") << "a>b b>c c>a t1>t2 t2>b"
                                      << "a b c"
                                      << "a";
    QTest::newRow("self-loop with a tail") << "s>s t>s"
                                           << "s"
                                           << "s";
    QTest::newRow("no loop") << "net> fw>net app>fw"
                             << ""
                             << "net";
    // A loop beside a healthy tree and a dangling netvm.
    QTest::newRow("loop beside a tree") << "net> app>net p>q q>p lost>gone"
                                        << "p q"
                                        << "lost net p";
}

void tst_Topology::loops()
{
    QFETCH(QString, qubes);
    QFETCH(QString, inLoop);
    QFETCH(QString, roots);
    std::vector<Qube> list;
    std::vector<QByteArray> names;
    for (const QString &spec : qubes.split(QLatin1Char(' '))) {
        const QStringList parts = spec.split(QLatin1Char('>'));
        names.push_back(parts[0].toLatin1());
        names.push_back(parts[1].toLatin1());
    }
    for (size_t i = 0; i < names.size(); i += 2)
        list.push_back(qube(names[i].constData(),
                            names[i + 1].isEmpty() ? nullptr : names[i + 1].constData(), true));
    const Snapshot s = make(std::move(list));
    const Topology t(s);
    QStringList gotLoop;
    for (int i = 0; i < t.size(); ++i)
        if (t.isInLoop(i))
            gotLoop << t.nameAt(i);
    QCOMPARE(gotLoop.join(QLatin1Char(' ')), inLoop);
    QStringList gotRoots;
    for (int r : t.roots())
        gotRoots << t.nameAt(r);
    QCOMPARE(gotRoots.join(QLatin1Char(' ')), roots);
    // Every chain ends, at a root, within the number of qubes; each qube is a child of its
    // parent exactly once (the cut link is gone from both sides).
    for (int i = 0; i < t.size(); ++i) {
        const auto chain = t.egressChainIndices(i);
        QVERIFY(chain.size() <= size_t(t.size()));
        QCOMPARE(t.parentOf(chain.back()), -1);
        const int p = t.parentOf(i);
        if (p >= 0)
            QCOMPARE(std::count(t.childrenOf(p).begin(), t.childrenOf(p).end(), i), 1);
        for (int c : t.childrenOf(i))
            QCOMPARE(t.parentOf(c), i);
    }
    // The tree order lists every qube once, each after its netvm.
    const std::vector<int> order = t.treeOrder();
    QCOMPARE(order.size(), size_t(t.size()));
    std::vector<int> position(size_t(t.size()), -1);
    for (size_t k = 0; k < order.size(); ++k) {
        QCOMPARE(position[size_t(order[k])], -1);
        position[size_t(order[k])] = int(k);
    }
    for (int i = 0; i < t.size(); ++i)
        if (t.parentOf(i) >= 0)
            QVERIFY(position[size_t(t.parentOf(i))] < position[size_t(i)]);
    // The findings name each member of a loop, and no one else.
    const auto findings = computeFindings(s, t);
    for (int i = 0; i < t.size(); ++i)
        QCOMPARE(hasFinding(findings, t.nameAt(i), "netvm-loop"), bool(t.isInLoop(i)));
}

void tst_Topology::largeLoopIsLinear()
{
    // A 10,000-qube loop with a 10,000-qube tail: found without deep recursion, cut once.
    constexpr int kLoop = 10000;
    std::vector<Qube> qubes;
    const auto name = [](const char *prefix, int i) {
        return *QubeName::fromUntrusted(
            QString(QLatin1String(prefix) + QStringLiteral("%1").arg(i, 5, 10, QLatin1Char('0'))));
    };
    for (int i = 0; i < kLoop; ++i) {
        Qube q = qube("x", nullptr, true);
        q.name = name("l", i);
        q.netvm = name("l", (i + 1) % kLoop);
        qubes.push_back(q);
        Qube tail = qube("x", nullptr, true);
        tail.name = name("t", i);
        tail.netvm = i == 0 ? name("l", kLoop / 2) : name("t", i - 1);
        qubes.push_back(tail);
    }
    const Snapshot s = make(std::move(qubes));
    const Topology t(s);
    QCOMPARE(t.roots().size(), size_t(1));
    QCOMPARE(t.nameAt(t.roots().front()), QStringLiteral("l00000"));
    int looped = 0;
    for (int i = 0; i < t.size(); ++i)
        looped += t.isInLoop(i) ? 1 : 0;
    QCOMPARE(looped, kLoop);
    QVERIFY(!t.isInLoop(t.indexOf(u"t09999")));
    // t09999 .. t00000, then l05000 .. l09999 and l00000, where the loop was cut.
    QCOMPARE(t.egressChainIndices(t.indexOf(u"t09999")).size(), size_t(kLoop + kLoop / 2 + 1));
}

void tst_Topology::dangling()
{
    const Snapshot s = make({qube("work", "sys-gone")});
    const Topology t(s);
    QVERIFY(t.isDangling(0));
    QCOMPARE(t.parentOf(0), -1);
    QCOMPARE(t.egressChain(u"work"), QStringList({"work"}));
    QVERIFY(hasFinding(computeFindings(s, t), QStringLiteral("work"), "dangling-netvm"));
}

void tst_Topology::findings()
{
    Qube tmpl = qube("debian-12", "sys-net");
    tmpl.klass = QStringLiteral("TemplateVM");
    Qube gw = qube("sys-whonix", "sys-net", true);
    gw.templ = n("whonix-gateway-17");
    Qube anonOk = qube("anon-whonix", "sys-whonix");
    anonOk.tags << QStringLiteral("anon-vm");
    Qube anonBad = qube("anon-lost", "sys-net");
    anonBad.tags << QStringLiteral("anon-vm");
    Qube dvm = qube("default-dvm", "sys-net", false, "Halted");
    Qube vpnClient = qube("work", "sys-vpn");
    vpnClient.defaultDispvm = n("default-dvm");
    Snapshot s = make({qube("sys-net", nullptr, true), qube("sys-vpn", "sys-net", true, "Halted"),
                       tmpl, gw, anonOk, anonBad, dvm, vpnClient});
    s.globals.defaultNetvm = n("sys-firewall");
    const Topology t(s);
    const auto f = computeFindings(s, t);
    QVERIFY(hasFinding(f, QStringLiteral("debian-12"), "template-netvm"));
    QVERIFY(hasFinding(f, QStringLiteral("anon-lost"), "anon-vm-not-whonix"));
    QVERIFY(!hasFinding(f, QStringLiteral("anon-whonix"), "anon-vm-not-whonix"));
    QVERIFY(hasFinding(f, QStringLiteral("work"), "netvm-halted"));
    QVERIFY(hasFinding(f, QStringLiteral("work"), "dispvm-netvm-differs"));
    QVERIFY(hasFinding(f, QString(), "dangling-global"));
    QVERIFY(!hasFinding(f, QStringLiteral("anon-whonix"), "netvm-halted"));
}

void tst_Topology::disposablesEgress_data()
{
    QTest::addColumn<QString>("netvm"); // the qube's own ("" none)
    QTest::addColumn<QString>("dispvm"); // its default_dispvm ("" none)
    QTest::addColumn<QString>("globalDispvm");
    QTest::addColumn<QString>("exit"); // Snapshot::disposablesNetvm ("-" nullopt, "" no network)
    QTest::addColumn<QString>("finding"); // the code expected, or ""

    QTest::newRow("same-netvm") << "sys-firewall"
                                << "default-dvm"
                                << ""
                                << "sys-firewall"
                                << "";
    QTest::newRow("vpn-client-clearnet-dvm") << "sys-vpn"
                                             << "default-dvm"
                                             << ""
                                             << "sys-firewall"
                                             << "dispvm-netvm-differs";
    QTest::newRow("vpn-dvm") << "sys-vpn"
                             << "vpn-dvm"
                             << ""
                             << "sys-vpn"
                             << "";
    // default_dispvm none (as qvm-ls prints a resolved none): no disposables, and the global
    // is not borrowed.
    QTest::newRow("none-not-global") << "sys-vpn"
                                     << ""
                                     << "default-dvm"
                                     << "-"
                                     << "";
    // A disposable template without network: disposables have none, nothing leaves.
    QTest::newRow("offline-dvm") << "sys-vpn"
                                 << "offline-dvm"
                                 << ""
                                 << ""
                                 << "";
    // An offline qube whose disposables have network: they leave where the qube cannot.
    QTest::newRow("offline-qube") << ""
                                  << "default-dvm"
                                  << ""
                                  << "sys-firewall"
                                  << "dispvm-networked";
    QTest::newRow("offline-both") << ""
                                  << "offline-dvm"
                                  << ""
                                  << ""
                                  << "";
    QTest::newRow("dvm-not-on-map") << "sys-vpn"
                                    << "gone-dvm"
                                    << ""
                                    << "-"
                                    << "";
}

void tst_Topology::disposablesEgress()
{
    QFETCH(QString, netvm);
    QFETCH(QString, dispvm);
    QFETCH(QString, globalDispvm);
    QFETCH(QString, exit);
    QFETCH(QString, finding);

    Qube q = qube("mine", nullptr);
    if (!netvm.isEmpty())
        q.netvm = QubeName::fromUntrusted(netvm);
    if (!dispvm.isEmpty())
        q.defaultDispvm = QubeName::fromUntrusted(dispvm);
    Snapshot s = make({qube("sys-net", nullptr, true), qube("sys-firewall", "sys-net", true),
                       qube("sys-vpn", "sys-firewall", true), qube("default-dvm", "sys-firewall"),
                       qube("vpn-dvm", "sys-vpn"), qube("offline-dvm", nullptr), q});
    if (!globalDispvm.isEmpty())
        s.globals.defaultDispvm = QubeName::fromUntrusted(globalDispvm);
    const auto got = s.disposablesNetvm(u"mine");
    QCOMPARE(got ? got->toString() : QStringLiteral("-"), exit);
    const Topology t(s);
    const auto f = computeFindings(s, t);
    for (const char *code : {"dispvm-netvm-differs", "dispvm-networked"})
        QCOMPARE(hasFinding(f, QStringLiteral("mine"), code), finding == QLatin1String(code));
    // Only the qube itself: its disposable templates and the network qubes say nothing.
    for (const Finding &x : f)
        if (x.code.startsWith(QLatin1String("dispvm")))
            QCOMPARE(x.qube, QStringLiteral("mine"));
}

void tst_Topology::inference()
{
    // The VPN chain and the Whonix chain side by side, a qube without netvm, and a VPN behind Tor.
    Snapshot s = test::vpnChain();
    for (const Qube &q : test::whonixChain().qubes)
        if (!test::findQube(s, q.name.toString()))
            test::addQube(s, q);
    for (const Qube &q : {qube("anon", "sys-whonix"), qube("vault", nullptr),
                          qube("vpn-over-tor", "tunnel"), qube("tunnel", "sys-whonix", true)})
        test::addQube(s, q);
    s.tunnels.insert(QStringLiteral("tunnel"), {QStringLiteral("wg0")});
    const Topology t(s);
    auto kind
        = [&](const char *q) { return inferExpectation(s, t, QString::fromLatin1(q)).kindId(); };
    QCOMPARE(kind("work"), QStringLiteral("clearnet"));
    QCOMPARE(kind("work-vpn"), QStringLiteral("vpn"));
    QCOMPARE(kind("anon"), QStringLiteral("tor"));
    QCOMPARE(kind("anon-whonix"), QStringLiteral("tor"));
    QCOMPARE(kind("vault"), QStringLiteral("none"));
    QCOMPARE(kind("sys-net"), QStringLiteral("clearnet"));
    QCOMPARE(kind("vpn-over-tor"), QStringLiteral("vpn"));
    QCOMPARE(vpnProviderOf(s, t, u"work-vpn"), QStringLiteral("sys-vpn"));
    QCOMPARE(torGatewayOf(s, t, u"anon"), QStringLiteral("sys-whonix"));
}

void tst_Topology::colouring()
{
    Snapshot s
        = make({qube("sys-net", nullptr, true), qube("sys-vpn", "sys-net", true),
                qube("work", "sys-net"), qube("work-vpn", "sys-vpn"), qube("other", "sys-net")});
    s.tunnels.insert(QStringLiteral("sys-vpn"), {QStringLiteral("tun0")});
    const Topology t(s);
    auto result = [&](const char *q, const char *ip, CheckStatus status = CheckStatus::Pass) {
        CheckResult r;
        r.qube = n(q);
        r.check = CheckKind::ExternalIp;
        r.status = status;
        r.externalIp = QString::fromLatin1(ip);
        r.pathAtRun = t.egressChain(QString::fromLatin1(q));
        s.checks.push_back(r);
    };
    result("work", "203.0.113.7");
    result("sys-net", "203.0.113.7");
    result("work-vpn", "198.51.100.23");
    Colouring c = colourPaths(s, t);
    QCOMPARE(c.exits.size(), 2);
    QCOMPARE(c.exits[0].kind, QStringLiteral("clearnet"));
    QCOMPARE(c.exits[1].kind, QStringLiteral("vpn"));
    QVERIFY(c.exits[0].colour != c.exits[1].colour);
    QCOMPARE(c.links[QStringLiteral("work")].colour, c.exits[0].colour);
    QCOMPARE(c.links[QStringLiteral("work-vpn")].colour, c.exits[1].colour);
    QVERIFY(!c.links[QStringLiteral("other")].verified);
    QCOMPARE(c.links[QStringLiteral("other")].colour, Colouring::unverifiedColour());

    // A leak: the VPN client shows the clearnet exit; it shares the clearnet colour.
    result("work-vpn", "203.0.113.7", CheckStatus::Fail);
    c = colourPaths(s, t);
    QCOMPARE(c.exits.size(), 1);
    QCOMPARE(c.links[QStringLiteral("work-vpn")].colour, c.links[QStringLiteral("work")].colour);
    QVERIFY(c.links[QStringLiteral("work-vpn")].failed);

    // Moving work-vpn makes its evidence stale: unverified again.
    Snapshot moved = s;
    moved.qubes[size_t(moved.indexOf(u"work-vpn"))].netvm = n("sys-net");
    const Topology tm(moved);
    c = colourPaths(moved, tm);
    QVERIFY(!c.links[QStringLiteral("work-vpn")].verified);
    QVERIFY(c.links[QStringLiteral("work-vpn")].stale);
}

void tst_Topology::colouringIpv6_data()
{
    // work is clearnet (behind sys-net), work-vpn behind a VPN qube with its tunnel up. Each row
    // gives work-vpn's IPv4 and IPv6 exits; work shows the clearnet exits of both families.
    QTest::addColumn<QString>("ip4");
    QTest::addColumn<QString>("ip6");
    QTest::addColumn<bool>("leak");
    QTest::addColumn<QString>("kind6"); // the kind of work-vpn's IPv6 exit

    QTest::newRow("both tunnelled") << "198.51.100.23"
                                    << "2001:db8:99::17" << false << "vpn";
    // A VPN that tunnels only IPv4: IPv6 leaves by the clearnet /64 (another privacy address).
    QTest::newRow("ipv4 only tunnel") << "198.51.100.23"
                                      << "2001:db8:7:1:aaaa::9" << true << "clearnet";
    // The reverse: IPv4 by the clearnet, IPv6 tunnelled.
    QTest::newRow("ipv6 only tunnel") << "203.0.113.7"
                                      << "2001:db8:99::17" << true << "vpn";
    QTest::newRow("no ipv6 exit") << "198.51.100.23"
                                  << "" << false << "";
    // Only an IPv6 exit: nothing to compare, no leak called here.
    QTest::newRow("ipv6 exit only") << ""
                                    << "2001:db8:7:1::77" << false << "clearnet";
}

void tst_Topology::colouringIpv6()
{
    QFETCH(QString, ip4);
    QFETCH(QString, ip6);
    QFETCH(bool, leak);
    QFETCH(QString, kind6);
    Snapshot s = make({qube("sys-net", nullptr, true), qube("sys-vpn", "sys-net", true),
                       qube("work", "sys-net"), qube("work-vpn", "sys-vpn")});
    s.tunnels.insert(QStringLiteral("sys-vpn"), {QStringLiteral("tun0")});
    const Topology t(s);
    auto result = [&](const char *q, const QString &exit4, const QString &exit6) {
        CheckResult r;
        r.qube = n(q);
        r.check = CheckKind::ExternalIp;
        r.status = CheckStatus::Pass;
        r.externalIp = exit4;
        r.externalIp6 = exit6;
        r.pathAtRun = t.egressChain(QString::fromLatin1(q));
        s.checks.push_back(r);
    };
    result("work", QStringLiteral("203.0.113.7"), QStringLiteral("2001:db8:7:1::5"));
    result("work-vpn", ip4, ip6);
    const Colouring c = colourPaths(s, t);

    QCOMPARE(c.familyLeaks.contains(QStringLiteral("work-vpn")), leak);
    QCOMPARE(c.links[QStringLiteral("work-vpn")].familyLeak, leak);
    QCOMPARE(c.links[QStringLiteral("work-vpn")].failed, leak); // drawn as a leak
    QCOMPARE(c.links[QStringLiteral("work-vpn")].externalIp6, ip6);
    QVERIFY(!c.links[QStringLiteral("work")].failed);
    QCOMPARE(c.qubeExitIp6.value(QStringLiteral("work-vpn")), ip6);
    const ExitInfo *exit6 = c.exitOf(ip6);
    QCOMPARE(exit6 ? exit6->kind : QString(), kind6);
    if (exit6) // IPv6 exits are /64s, so a rotating address is the same exit
        QVERIFY(exit6->ip.endsWith(QLatin1String("::/64")));
    // Both exits of a leaking qube are in the legend.
    if (leak) {
        QVERIFY(c.exitOf(ip4));
        QVERIFY(c.exitOf(ip6));
        QVERIFY(c.exitOf(ip4)->kind != c.exitOf(ip6)->kind);
    }
    QCOMPARE(exitKey(QStringLiteral("2001:db8:7:1:aaaa:bbbb:cccc:dddd")),
             QStringLiteral("2001:db8:7:1::/64"));
    QCOMPARE(exitKey(QStringLiteral("203.0.113.7")), QStringLiteral("203.0.113.7"));
    // The IPv4 exits come first in their kind and keep the colours they have without IPv6.
    QCOMPARE(c.exits.first().ip, QStringLiteral("203.0.113.7"));
    QCOMPARE(c.exits.first().colour, QStringLiteral("#0072b2"));
}

void tst_Topology::ipv6FeatureSource()
{
    // check_with_netvm: the qube itself first, then up its netvm chain; a loop ends the walk.
    Snapshot s = test::vpnChain();
    test::addQube(s, qube("a", "b", true));
    test::addQube(s, qube("b", "a", true));
    s.qubes[size_t(s.indexOf(u"sys-net"))].ipv6Feature = true;
    s.qubes[size_t(s.indexOf(u"sys-vpn"))].ipv6Feature = false;
    bool on = false;
    QCOMPARE(s.ipv6FeatureSource(u"work", &on)->name.toString(), QStringLiteral("sys-net"));
    QVERIFY(on);
    QCOMPARE(s.ipv6FeatureSource(u"work-vpn", &on)->name.toString(), QStringLiteral("sys-vpn"));
    QVERIFY(!on);
    QVERIFY(!s.ipv6FeatureSource(u"a", &on));
    QVERIFY(!s.ipv6FeatureSource(u"nobody", &on));
    QVERIFY(s.anyIpv6());
}

void tst_Topology::largeChainIsLinear()
{
    // A 20,000-deep chain must not recurse or go quadratic in construction.
    std::vector<Qube> qubes;
    for (int i = 0; i < 20000; ++i) {
        Qube q;
        q.name = *QubeName::fromUntrusted(QStringLiteral("q%1").arg(i, 5, 10, QLatin1Char('0')));
        q.klass = QStringLiteral("AppVM");
        q.state = QStringLiteral("Running");
        q.providesNetwork = true;
        if (i > 0)
            q.netvm = *QubeName::fromUntrusted(
                QStringLiteral("q%1").arg(i - 1, 5, 10, QLatin1Char('0')));
        qubes.push_back(q);
    }
    Snapshot s = make(std::move(qubes));
    const Topology t(s);
    QCOMPARE(t.roots().size(), size_t(1));
    QCOMPARE(t.egressChainIndices(t.indexOf(u"q19999")).size(), size_t(20000));
    const std::vector<int> order = t.treeOrder(); // Boost's search keeps its own stack
    QCOMPARE(order.size(), size_t(20000));
    QCOMPARE(t.nameAt(order.back()), QStringLiteral("q19999"));
}

QTEST_GUILESS_MAIN(tst_Topology)
#include "tst_topology.moc"
