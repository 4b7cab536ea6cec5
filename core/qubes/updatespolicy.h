#pragma once
// Where templates' updates go: the qubes.UpdatesProxy rules of dom0's qrexec policy, read
// strictly and read-only (docs/ARCHITECTURE.md §3). Not `updatevm`, which is dom0's own.

#include "model/snapshot.h"

#include <QString>
#include <QStringList>

namespace netmap {

// The policy folders qrexec reads, in its order: the runtime folder first (a file there hides
// the one of the same name in /etc), then the system one.
QStringList defaultPolicyDirs();
// The folders the live source reads (the program's setting, `--policy-dir`); by default
// defaultPolicyDirs().
QStringList policyDirs();
void setPolicyDirs(const QStringList &dirs);

struct UpdatesPolicyOptions
{
    QStringList dirs = policyDirs(); // folders that do not exist are skipped
};

// Resolves every template of the snapshot: the first qubes.UpdatesProxy rule, in qrexec's file
// order, whose source matches the template and whose destination matches @default. A line the
// reader cannot understand, an include it cannot follow, or a rule it cannot evaluate makes the
// answer "cannot tell" (UpdatesRoute::Kind::Unknown with the reason), never a guess.
QList<UpdatesRoute> resolveUpdatesRoutes(const Snapshot &snapshot,
                                         const UpdatesPolicyOptions &options = {});

} // namespace netmap
