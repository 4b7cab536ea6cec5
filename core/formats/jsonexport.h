#pragma once
// JSON export, schema "qubes-netmap/1" (docs/ARCHITECTURE.md §5). IPv6 fields: per qube `ip6`,
// `gateway6`, `visible_ip6` (address or null), `ipv6` (true when Qubes gives it IPv6),
// `ipv6_feature` ({"set_on": qube, "on": bool} for the `ipv6` feature found on its netvm chain,
// or null), `external_ip6` (verified IPv6 exit or null), `ipv6_leak` (IPv4 and IPv6 leave by
// exits of different kinds); per link `external_ip6`; an IPv6 exit in `exits` is its /64.

#include <QByteArray>

namespace netmap {

struct Snapshot;

QByteArray exportJson(const Snapshot &snapshot);

} // namespace netmap
