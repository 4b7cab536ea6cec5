#pragma once
// Snapshot YAML: save and load, round trip exact; errors carry file:line:column.

#include "model/result.h"
#include "model/snapshot.h"

#include <QByteArray>
#include <QString>

namespace netmap {

// The most qubes a snapshot may hold: far above any real system, and small enough that every
// export (the SVG above all) stays within reasonable memory. A file with more is refused.
constexpr qsizetype kMaxSnapshotQubes = 2000;

// The snapshot format this program writes ("schema: qubes-netmap-snapshot/2"). Older formats
// load through one migration per step; a newer one is refused, naming both numbers. 1: the
// first; 2: adds "intent" (docs/ARCHITECTURE.md §5).
constexpr int kSnapshotFormat = 2;

QByteArray snapshotToYaml(const Snapshot &snapshot);
// fileName is only used in error positions.
Result<Snapshot> snapshotFromYaml(const QByteArray &untrustedYaml, const QString &fileName);
Result<Snapshot> loadSnapshotFile(const QString &path);
Status saveSnapshotFile(const Snapshot &snapshot, const QString &path);
// The built-in demo network (resources/demo.yaml).
Snapshot demoSnapshot();

} // namespace netmap
