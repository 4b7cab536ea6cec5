// The packet classes: a finite set of packets that stands for all packets from a client to the
// uplink. For each field the rules read (protocol, ports, addresses, input interface), the cut
// points of every range a rule names split its domain into classes no rule tells apart; one
// value of each class represents it.

#include "rulesetproof_p.h"

#include <QSet>

#include <algorithm>
#include <vector>

namespace netmap::rulesetproof {

namespace {

// Cut points of one numeric field over every condition that reads it.
QList<quint32> representatives(const QList<Chain> &chains, Field f, QList<Range> *classes)
{
    QSet<quint64> cuts {0};
    const quint64 max = domainMax(f);
    for (const Chain &c : chains) {
        for (const Rule &r : c.rules) {
            for (const Cond &k : r.conds) {
                if (f == Field::L4Proto)
                    for (quint32 d : k.protoDep)
                        cuts << d << quint64(d) + 1;
                if (k.field != f)
                    continue;
                for (const Range &x : k.ranges)
                    cuts << x.lo << quint64(x.hi) + 1;
            }
        }
    }
    if (f == Field::L4Proto) {
        for (quint32 p : {1u, 6u, 17u, 33u, 132u, 136u})
            cuts << p << p + 1;
    }
    QList<quint64> sorted(cuts.begin(), cuts.end());
    std::sort(sorted.begin(), sorted.end());
    QList<quint32> reps;
    for (int i = 0; i < sorted.size(); ++i) {
        if (sorted.at(i) > max)
            break;
        const quint64 end = i + 1 < sorted.size() ? qMin(sorted.at(i + 1) - 1, max) : max;
        reps.append(quint32(sorted.at(i)));
        classes->append(Range {quint32(sorted.at(i)), quint32(end)});
    }
    return reps;
}

// The same for IPv6 addresses: one address from each class no rule tells apart.
QList<U128> representatives6(const QList<Chain> &chains, Field f, QList<Range6> *classes)
{
    // Cut points: where a range starts and just after it ends (hi + 1 wraps past the top).
    std::vector<U128> cuts {0};
    for (const Chain &c : chains)
        for (const Rule &r : c.rules)
            for (const Cond &k : r.conds) {
                if (k.field != f)
                    continue;
                for (const Range6 &x : k.ranges6) {
                    cuts.push_back(x.lo);
                    if (x.hi != ~U128(0))
                        cuts.push_back(x.hi + 1);
                }
            }
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    QList<U128> reps;
    for (size_t i = 0; i < cuts.size(); ++i) {
        const U128 end = i + 1 < cuts.size() ? cuts[i + 1] - 1 : ~U128(0);
        reps.append(cuts[i]);
        classes->append(Range6 {cuts[i], end});
    }
    return reps;
}

// Interface names a client's packet may arrive on: every vif name a rule names, one for every
// narrower vif wildcard, and one no rule names.
QStringList clientInterfaces(const QList<Chain> &chains)
{
    QStringList reps;
    QStringList patterns;
    for (const Chain &c : chains)
        for (const Rule &r : c.rules)
            for (const Cond &k : r.conds)
                if (k.field == Field::IifName)
                    patterns += k.names;
    patterns.removeDuplicates();
    for (const QString &p : std::as_const(patterns)) {
        if (p.endsWith(u'*')) {
            const QString stem = p.first(p.size() - 1);
            if (stem.startsWith(QLatin1String("vif")) && stem.size() > 3 && stem.size() < 15)
                reps.append(stem + (stem.size() < 14 ? QStringLiteral("x") : QString()));
        } else if (p.startsWith(QLatin1String("vif")) && p.size() <= 15) {
            reps.append(p);
        }
    }
    for (int n = 9999;; --n) {
        const QString fresh = QStringLiteral("vif%1.9").arg(n);
        bool named = false;
        for (const QString &p : std::as_const(patterns)) {
            if (p != QLatin1String("vif*") && p != QLatin1String("*") && p != QLatin1String("v*")
                && p != QLatin1String("vi*") && nameMatches(p, fresh))
                named = true;
        }
        if (!named || n < 9000) {
            reps.append(fresh);
            break;
        }
    }
    reps.removeDuplicates();
    return reps;
}

} // namespace

int PacketClasses::saddrCount() const
{
    return family == 6 ? int(saddrs6.size()) : int(saddrs.size());
}

int PacketClasses::daddrCount() const
{
    return family == 6 ? int(daddrs6.size()) : int(daddrs.size());
}

qint64 PacketClasses::count() const
{
    qint64 portProtos = 0;
    for (quint32 p : protos)
        portProtos += portBearing(p) ? 1 : 0;
    return qint64(iifs.size()) * saddrCount() * daddrCount()
        * (portProtos * sports.size() * dports.size() + (protos.size() - portProtos));
}

PacketClasses packetClasses(const QList<Chain> &chains, int family)
{
    PacketClasses c;
    c.family = family;
    c.protos = representatives(chains, Field::L4Proto, &c.protoClasses);
    c.sports = representatives(chains, Field::Sport, &c.sportClasses);
    c.dports = representatives(chains, Field::Dport, &c.dportClasses);
    if (family == 6) {
        c.saddrs6 = representatives6(chains, Field::Saddr6, &c.saddrClasses6);
        c.daddrs6 = representatives6(chains, Field::Daddr6, &c.daddrClasses6);
    } else {
        c.saddrs = representatives(chains, Field::Saddr, &c.saddrClasses);
        c.daddrs = representatives(chains, Field::Daddr, &c.daddrClasses);
    }
    c.iifs = clientInterfaces(chains);
    return c;
}

} // namespace netmap::rulesetproof
