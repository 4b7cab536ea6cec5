#include "snapshot.h"

#include <algorithm>

namespace netmap {

QString baselineStateId(BaselineRecord::State state)
{
    switch (state) {
    case BaselineRecord::State::Agreed:
        return QStringLiteral("agreed");
    case BaselineRecord::State::Pinned:
        return QStringLiteral("pinned");
    case BaselineRecord::State::Disputed:
        return QStringLiteral("disputed");
    case BaselineRecord::State::Unconfirmed:
        return QStringLiteral("unconfirmed");
    }
    return QStringLiteral("unconfirmed");
}

const Qube *Snapshot::find(QStringView name) const
{
    const int i = indexOf(name);
    return i < 0 ? nullptr : &qubes[size_t(i)];
}

int Snapshot::indexOf(QStringView name) const
{
    // qubes are sorted by name; fall back to a scan if a caller broke the order.
    auto it = std::lower_bound(qubes.begin(), qubes.end(), name,
                               [](const Qube &q, QStringView n) { return q.name.toString() < n; });
    if (it != qubes.end() && it->name.toString() == name)
        return int(it - qubes.begin());
    for (size_t i = 0; i < qubes.size(); ++i)
        if (qubes[i].name.toString() == name)
            return int(i);
    return -1;
}

const CheckResult *Snapshot::latest(QStringView qube, CheckKind kind) const
{
    for (auto it = checks.rbegin(); it != checks.rend(); ++it)
        if (it->check == kind && it->qube.toString() == qube)
            return &*it;
    return nullptr;
}

void Snapshot::stamp()
{
    QDateTime now = QDateTime::currentDateTimeUtc();
    now.setTime(QTime(now.time().hour(), now.time().minute(), now.time().second()));
    generated = now;
}

} // namespace netmap
