#include "snapshotdiff.h"

#include "snapshot.h"

namespace netmap {

SnapshotDiff diffSnapshots(const Snapshot &older, const Snapshot &newer)
{
    SnapshotDiff diff;
    // Both lists are sorted by name: one merge pass.
    size_t i = 0, j = 0;
    while (i < older.qubes.size() || j < newer.qubes.size()) {
        if (j == newer.qubes.size()
            || (i < older.qubes.size() && older.qubes[i].name < newer.qubes[j].name)) {
            diff.removed << older.qubes[i++].name.toString();
        } else if (i == older.qubes.size() || newer.qubes[j].name < older.qubes[i].name) {
            diff.added << newer.qubes[j++].name.toString();
        } else {
            const Qube &a = older.qubes[i++];
            const Qube &b = newer.qubes[j++];
            if (a.netvm != b.netvm)
                diff.netvmChanged << b.name.toString();
            else if (!(a == b))
                diff.otherChanged << b.name.toString();
        }
    }
    return diff;
}

void carryEvidence(const Snapshot &older, Snapshot *newer)
{
    for (const CheckResult &r : older.checks)
        if (newer->find(r.qube.toString()))
            newer->checks.push_back(r);
    for (auto it = older.firewall.cbegin(); it != older.firewall.cend(); ++it)
        if (!newer->firewall.contains(it.key()) && newer->find(it.key()))
            newer->firewall.insert(it.key(), it.value());
    for (auto it = older.tunnels.cbegin(); it != older.tunnels.cend(); ++it)
        if (!newer->tunnels.contains(it.key()) && newer->find(it.key()))
            newer->tunnels.insert(it.key(), it.value());
    // The owner's intent belongs to the document, not to one reading of the system.
    if (newer->intent.isEmpty())
        newer->intent = older.intent;
}

} // namespace netmap
