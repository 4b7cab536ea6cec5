#pragma once
// Expectation: what the owner intends for a qube's egress; inference when no file says it.

#include "model/intent.h"

#include <QString>

namespace netmap {

struct Snapshot;
class Topology;

// docs/ARCHITECTURE.md §4 inference: behind a Whonix gateway or tagged anon-vm -> tor; behind a
// qube with a tunnel interface, or a network qube named or tagged "vpn" (tunnel up or not) -> vpn;
// no netvm and not providing network -> none; otherwise clearnet.
Expectation inferExpectation(const Snapshot &snapshot, const Topology &topology, QStringView qube);

// The qube on the qube's own chain (itself included) that carries its VPN, or empty.
QString vpnProviderOf(const Snapshot &snapshot, const Topology &topology, QStringView qube);
// The Whonix gateway on the chain, or empty.
QString torGatewayOf(const Snapshot &snapshot, const Topology &topology, QStringView qube);

} // namespace netmap
