#include "inference.h"

#include "model/snapshot.h"
#include "model/topology.h"

namespace netmap {

namespace {

bool carriesVpn(const Snapshot &snapshot, const Qube &q)
{
    if (!q.providesNetwork)
        return false;
    if (!snapshot.tunnels.value(q.name.toString()).isEmpty())
        return true;
    // The owner's intent outlives the tunnel: a network qube named or tagged for a VPN is meant
    // to carry one even when a probe finds its tunnel down, which is exactly when it leaks.
    return q.hasTag(u"vpn")
        || q.name.toString().contains(QLatin1String("vpn"), Qt::CaseInsensitive);
}

} // namespace

QString torGatewayOf(const Snapshot &snapshot, const Topology &topology, QStringView qube)
{
    for (const QString &hop : topology.egressChain(qube)) {
        const Qube *q = snapshot.find(hop);
        if (q && q->looksLikeWhonixGateway())
            return hop;
    }
    return {};
}

QString vpnProviderOf(const Snapshot &snapshot, const Topology &topology, QStringView qube)
{
    for (const QString &hop : topology.egressChain(qube)) {
        const Qube *q = snapshot.find(hop);
        if (q && carriesVpn(snapshot, *q))
            return hop;
    }
    return {};
}

Expectation inferExpectation(const Snapshot &snapshot, const Topology &topology, QStringView qube)
{
    using E = Expectation::Egress;
    const Qube *q = snapshot.find(qube);
    if (!q)
        return {E::None, {}, QStringLiteral("unknown qube")};
    const QStringList chain = topology.egressChain(qube);
    // Which comes first on the way out decides: a VPN behind Tor leaves through the VPN.
    for (const QString &hop : chain) {
        const Qube *h = snapshot.find(hop);
        if (!h)
            continue;
        if (carriesVpn(snapshot, *h))
            return {E::Vpn, {}, QStringLiteral("behind %1 (VPN)").arg(hop)};
        if (h->looksLikeWhonixGateway())
            return {E::Tor, {}, QStringLiteral("behind %1 (Whonix gateway)").arg(hop)};
    }
    if (q->hasTag(u"anon-vm"))
        return {E::Tor, {}, QStringLiteral("tagged anon-vm")};
    if (!q->netvm && !q->providesNetwork)
        return {E::None, {}, QStringLiteral("no netvm")};
    return {E::Clearnet,
            {},
            chain.size() > 1 ? QStringLiteral("behind %1").arg(chain.back())
                             : QStringLiteral("network provider")};
}

} // namespace netmap
