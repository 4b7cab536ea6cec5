#include "checkindex.h"

#include "snapshot.h"

namespace netmap {

static_assert(int(CheckKind::Isolation) == 5, "CheckIndex keeps one slot per CheckKind");

CheckIndex::CheckIndex(const Snapshot &snapshot)
{
    for (auto it = snapshot.checks.rbegin(); it != snapshot.checks.rend(); ++it) {
        Entry &entry = m_byQube[it->qube.toString()];
        entry.newestFirst.push_back(&*it);
        const CheckResult *&slot = entry.latest[size_t(it->check)];
        if (!slot)
            slot = &*it;
    }
}

const CheckResult *CheckIndex::latest(const QString &qube, CheckKind kind) const
{
    const auto it = m_byQube.constFind(qube);
    return it == m_byQube.cend() ? nullptr : it->latest[size_t(kind)];
}

const std::vector<const CheckResult *> &CheckIndex::resultsOf(const QString &qube) const
{
    static const std::vector<const CheckResult *> none;
    const auto it = m_byQube.constFind(qube);
    return it == m_byQube.cend() ? none : it->newestFirst;
}

} // namespace netmap
