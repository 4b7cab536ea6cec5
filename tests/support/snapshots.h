#pragma once
// Test support: finding a qube in a snapshot, building small systems, and the named systems many
// tests start from. Every builder sorts the qubes by name, as the live source and snapshot files
// give them.
//
//     Snapshot s = test::vpnChain();
//     test::findQube(s, u"work-vpn")->state = QStringLiteral("Halted");

#include "model/snapshot.h"

#include <QString>

#include <initializer_list>
#include <vector>

namespace netmap::test {

// The qube called `name`, or nullptr.
Qube *findQube(Snapshot &snapshot, const QString &name);
const Qube *findQube(const Snapshot &snapshot, const QString &name);

// A running AppVM with a red label; `netvm` empty for none.
Qube makeQube(const QString &name, const QString &netvm = {}, bool providesNetwork = false,
              const QString &state = QStringLiteral("Running"));

// A snapshot (source "snapshot") of these qubes, sorted by name.
Snapshot makeSnapshot(std::vector<Qube> qubes);
// Adds a qube where name order puts it.
void addQube(Snapshot &snapshot, const Qube &qube);

// Sets the netvm of `qube` (empty: none); false when there is no such qube.
bool setNetvm(Snapshot &snapshot, const QString &qube, const QString &netvm);

// The demo system (resources/demo.yaml) without its recorded check results.
Snapshot demoWithoutChecks();
// The same snapshot with no IPv6 anywhere: addresses, the ipv6 feature, IPv6 exits of checks.
Snapshot withoutIpv6(Snapshot snapshot);

// Qubes' default chain: sys-net (provides network, no netvm) -> sys-firewall (provides network,
// the default_netvm) -> work, all running, addresses as Qubes gives them.
Snapshot qubesDefaultChain();
// The default chain with a VPN qube: sys-net -> sys-firewall -> sys-vpn (provides network,
// tunnel tun0) -> work-vpn; work still behind sys-firewall.
Snapshot vpnChain();
// The default chain with Whonix: sys-net -> sys-firewall -> sys-whonix (a Whonix gateway by its
// template whonix-gateway-17) -> anon-whonix (tag anon-vm); work still behind sys-firewall.
Snapshot whonixChain();
// sys-net and `n` running app qubes (app00, app01, ...) directly behind it.
Snapshot fanOut(int n);

} // namespace netmap::test
