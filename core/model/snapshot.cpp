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

QString updatesKindId(UpdatesRoute::Kind kind)
{
    switch (kind) {
    case UpdatesRoute::Kind::Proxy:
        return QStringLiteral("proxy");
    case UpdatesRoute::Kind::Denied:
        return QStringLiteral("denied");
    case UpdatesRoute::Kind::Ask:
        return QStringLiteral("ask");
    case UpdatesRoute::Kind::Unknown:
        return QStringLiteral("unknown");
    }
    return QStringLiteral("unknown");
}

std::optional<UpdatesRoute::Kind> updatesKindFromId(QStringView id)
{
    for (auto kind : {UpdatesRoute::Kind::Proxy, UpdatesRoute::Kind::Denied,
                      UpdatesRoute::Kind::Ask, UpdatesRoute::Kind::Unknown})
        if (updatesKindId(kind) == id)
            return kind;
    return std::nullopt;
}

const UpdatesRoute *Snapshot::updatesRoute(QStringView templ) const
{
    for (const UpdatesRoute &route : updates)
        if (route.templ.toString() == templ)
            return &route;
    return nullptr;
}

std::optional<QubeName> Snapshot::disposablesNetvm(QStringView qube, QString *dispvm) const
{
    const Qube *q = find(qube);
    if (!q || !q->defaultDispvm)
        return std::nullopt;
    // The source prints default_dispvm as Qubes resolves it (the global default included), so
    // none here means none: no disposables, and nothing is borrowed from the global.
    if (dispvm)
        *dispvm = q->defaultDispvm->toString();
    const Qube *dvm = find(q->defaultDispvm->toString());
    if (!dvm)
        return std::nullopt;
    return dvm->netvm ? *dvm->netvm : QubeName();
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

const Qube *Snapshot::ipv6FeatureSource(QStringView qube, bool *on) const
{
    const Qube *q = find(qube);
    // Bounded by the number of qubes: a netvm loop in bad input ends the walk.
    for (size_t hops = 0; q && hops <= qubes.size(); ++hops) {
        if (q->ipv6Feature) {
            if (on)
                *on = *q->ipv6Feature;
            return q;
        }
        q = q->netvm ? find(q->netvm->toString()) : nullptr;
    }
    return nullptr;
}

bool Snapshot::anyIpv6() const
{
    return std::any_of(qubes.begin(), qubes.end(),
                       [](const Qube &q) { return q.hasIpv6() || q.ipv6Feature.value_or(false); });
}

void Snapshot::stamp()
{
    QDateTime now = QDateTime::currentDateTimeUtc();
    now.setTime(QTime(now.time().hour(), now.time().minute(), now.time().second()));
    generated = now;
}

} // namespace netmap
