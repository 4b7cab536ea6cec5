#include "snapshots.h"

#include "formats/snapshotyaml.h"

#include <algorithm>

namespace netmap::test {

namespace {

QubeName name(const QString &text)
{
    return *QubeName::fromUntrusted(text);
}

// What Qubes gives a qube behind a netvm: its address, and the netvm's as its gateway.
void address(Snapshot &s, const QString &qube, const QString &ip)
{
    Qube *q = findQube(s, qube);
    q->ip = q->visibleIp = ip;
    if (q->netvm) {
        if (const Qube *up = findQube(s, q->netvm->toString()))
            q->gateway = q->visibleGateway = up->ip;
    }
}

} // namespace

void addQube(Snapshot &snapshot, const Qube &qube)
{
    const auto at = std::lower_bound(snapshot.qubes.begin(), snapshot.qubes.end(), qube,
                                     [](const Qube &a, const Qube &b) { return a.name < b.name; });
    snapshot.qubes.insert(at, qube);
}

Qube *findQube(Snapshot &snapshot, const QString &qube)
{
    for (Qube &q : snapshot.qubes)
        if (q.name.toString() == qube)
            return &q;
    return nullptr;
}

const Qube *findQube(const Snapshot &snapshot, const QString &qube)
{
    return snapshot.find(qube);
}

Qube makeQube(const QString &qube, const QString &netvm, bool providesNetwork, const QString &state)
{
    Qube q;
    q.name = name(qube);
    q.klass = QStringLiteral("AppVM");
    q.state = state;
    q.label = QStringLiteral("red");
    if (!netvm.isEmpty())
        q.netvm = name(netvm);
    q.providesNetwork = providesNetwork;
    return q;
}

Snapshot makeSnapshot(std::vector<Qube> qubes)
{
    Snapshot s;
    s.source = QStringLiteral("snapshot");
    s.qubes = std::move(qubes);
    std::sort(s.qubes.begin(), s.qubes.end(),
              [](const Qube &a, const Qube &b) { return a.name < b.name; });
    return s;
}

bool setNetvm(Snapshot &snapshot, const QString &qube, const QString &netvm)
{
    Qube *q = findQube(snapshot, qube);
    if (!q)
        return false;
    q->netvm.reset();
    if (!netvm.isEmpty())
        q->netvm = name(netvm);
    return true;
}

Snapshot demoWithoutChecks()
{
    Snapshot s = demoSnapshot();
    s.checks.clear();
    return s;
}

Snapshot withoutIpv6(Snapshot snapshot)
{
    for (Qube &q : snapshot.qubes) {
        q.ip6.clear();
        q.visibleIp6.clear();
        q.gateway6.clear();
        q.ipv6Feature.reset();
    }
    for (CheckResult &c : snapshot.checks)
        c.externalIp6.clear();
    return snapshot;
}

Snapshot qubesDefaultChain()
{
    Qube net = makeQube(QStringLiteral("sys-net"), {}, true);
    Qube firewall = makeQube(QStringLiteral("sys-firewall"), QStringLiteral("sys-net"), true);
    firewall.label = QStringLiteral("green");
    Qube work = makeQube(QStringLiteral("work"), QStringLiteral("sys-firewall"));
    work.label = QStringLiteral("blue");
    for (Qube *q : {&net, &firewall, &work})
        q->templ = name(QStringLiteral("debian-12-xfce"));
    Snapshot s = makeSnapshot({net, firewall, work});
    s.globals.defaultNetvm = name(QStringLiteral("sys-firewall"));
    s.globals.updatevm = name(QStringLiteral("sys-firewall"));
    s.globals.clockvm = name(QStringLiteral("sys-net"));
    address(s, QStringLiteral("sys-net"), QStringLiteral("10.137.0.5"));
    address(s, QStringLiteral("sys-firewall"), QStringLiteral("10.137.0.6"));
    address(s, QStringLiteral("work"), QStringLiteral("10.137.0.15"));
    return s;
}

Snapshot vpnChain()
{
    Snapshot s = qubesDefaultChain();
    Qube vpn = makeQube(QStringLiteral("sys-vpn"), QStringLiteral("sys-firewall"), true);
    vpn.label = QStringLiteral("orange");
    vpn.templ = name(QStringLiteral("debian-12-xfce"));
    Qube client = makeQube(QStringLiteral("work-vpn"), QStringLiteral("sys-vpn"));
    client.label = QStringLiteral("blue");
    client.templ = vpn.templ;
    addQube(s, vpn);
    addQube(s, client);
    address(s, QStringLiteral("sys-vpn"), QStringLiteral("10.137.0.26"));
    address(s, QStringLiteral("work-vpn"), QStringLiteral("10.137.0.27"));
    s.tunnels.insert(QStringLiteral("sys-vpn"), {QStringLiteral("tun0")});
    return s;
}

Snapshot whonixChain()
{
    Snapshot s = qubesDefaultChain();
    Qube gateway = makeQube(QStringLiteral("sys-whonix"), QStringLiteral("sys-firewall"), true);
    gateway.label = QStringLiteral("black");
    gateway.templ = name(QStringLiteral("whonix-gateway-17"));
    Qube anon = makeQube(QStringLiteral("anon-whonix"), QStringLiteral("sys-whonix"));
    anon.label = QStringLiteral("red");
    anon.templ = name(QStringLiteral("whonix-workstation-17"));
    anon.tags << QStringLiteral("anon-vm");
    addQube(s, gateway);
    addQube(s, anon);
    address(s, QStringLiteral("sys-whonix"), QStringLiteral("10.137.0.10"));
    address(s, QStringLiteral("anon-whonix"), QStringLiteral("10.137.0.11"));
    return s;
}

Snapshot fanOut(int n)
{
    std::vector<Qube> qubes {makeQube(QStringLiteral("sys-net"), {}, true)};
    for (int i = 0; i < n; ++i) {
        Qube q = makeQube(QStringLiteral("app%1").arg(i, 2, 10, QLatin1Char('0')),
                          QStringLiteral("sys-net"));
        q.label = QStringLiteral("blue");
        qubes.push_back(q);
    }
    Snapshot s = makeSnapshot(std::move(qubes));
    address(s, QStringLiteral("sys-net"), QStringLiteral("10.137.0.5"));
    for (int i = 0; i < n; ++i)
        address(s, QStringLiteral("app%1").arg(i, 2, 10, QLatin1Char('0')),
                QStringLiteral("10.137.0.%1").arg(20 + i));
    return s;
}

} // namespace netmap::test
