#pragma once
// What changed between two snapshots of the same system, for following changes live.

#include <QStringList>

namespace netmap {

struct Snapshot;

struct SnapshotDiff
{
    QStringList added; // qubes only in the newer snapshot
    QStringList removed; // qubes only in the older snapshot
    QStringList netvmChanged; // qubes whose netvm changed
    QStringList otherChanged; // state, label, IP, class, tags, ... changed

    bool isEmpty() const
    {
        return added.isEmpty() && removed.isEmpty() && netvmChanged.isEmpty()
            && otherChanged.isEmpty();
    }
    // Topology changed: a qube came, went or moved.
    bool changesLinks() const
    {
        return !added.isEmpty() || !removed.isEmpty() || !netvmChanged.isEmpty();
    }
};

SnapshotDiff diffSnapshots(const Snapshot &older, const Snapshot &newer);

// Carries the evidence and firewall rules of `older` over to `newer` (a refreshed read of the
// same system), and the owner's intent; results whose path changed stay, and show as stale.
void carryEvidence(const Snapshot &older, Snapshot *newer);

} // namespace netmap
