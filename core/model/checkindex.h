#pragma once
// CheckIndex: a snapshot's check results by qube, built in one pass, so code that visits every
// qube finds its results in constant time instead of scanning every result once per qube.

#include "checkresult.h"

#include <QHash>
#include <QString>

#include <array>
#include <vector>

namespace netmap {

struct Snapshot;

class CheckIndex
{
public:
    // Points into snapshot.checks: valid while that vector is not changed.
    explicit CheckIndex(const Snapshot &snapshot);

    // The newest result of this check for this qube, or nullptr (the same as Snapshot::latest).
    const CheckResult *latest(const QString &qube, CheckKind kind) const;
    // Every result for this qube, newest first.
    const std::vector<const CheckResult *> &resultsOf(const QString &qube) const;

private:
    struct Entry
    {
        std::vector<const CheckResult *> newestFirst;
        std::array<const CheckResult *, 6> latest {}; // by CheckKind
    };
    QHash<QString, Entry> m_byQube;
};

} // namespace netmap
