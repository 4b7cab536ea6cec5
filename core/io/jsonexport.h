#pragma once
// JSON export, schema "qubes-netmap/1" (docs/ARCHITECTURE.md §5).

#include <QByteArray>

namespace netmap {

struct Snapshot;

QByteArray exportJson(const Snapshot &snapshot);

} // namespace netmap
