// The proof's findings in words: what leaks (by protocol, ports, destination, source and client
// interface, with ranges merged and lists capped) and which rules drop the packets.

#include "rulesetproof_p.h"

#include <QSet>

#include <algorithm>

namespace netmap::rulesetproof {

namespace {

QString rangesText6(const QList<Range6> &ranges)
{
    QStringList parts;
    for (const Range6 &r : ranges) {
        if (parts.size() >= 6) {
            parts.append(QStringLiteral("…"));
            break;
        }
        parts.append(r.lo == r.hi ? ip6Text(r.lo)
                                  : QStringLiteral("%1-%2").arg(ip6Text(r.lo), ip6Text(r.hi)));
    }
    return parts.join(QStringLiteral(", "));
}

QList<Range6> merged6(QList<Range6> r)
{
    std::sort(r.begin(), r.end(), [](const Range6 &a, const Range6 &b) { return a.lo < b.lo; });
    QList<Range6> out;
    for (const Range6 &x : r) {
        if (!out.isEmpty() && (out.last().hi == ~U128(0) || out.last().hi + 1 >= x.lo))
            out.last().hi = qMax(out.last().hi, x.hi);
        else
            out.append(x);
    }
    return out;
}

QString rangesText(const QList<Range> &ranges, bool addresses)
{
    QStringList parts;
    for (const Range &r : ranges) {
        if (parts.size() >= 6) {
            parts.append(QStringLiteral("…"));
            break;
        }
        if (addresses)
            parts.append(r.lo == r.hi ? ipText(r.lo)
                                      : QStringLiteral("%1-%2").arg(ipText(r.lo), ipText(r.hi)));
        else
            parts.append(r.lo == r.hi ? QString::number(r.lo)
                                      : QStringLiteral("%1-%2").arg(r.lo).arg(r.hi));
    }
    return parts.join(QStringLiteral(", "));
}

QList<Range> merged(QList<Range> r)
{
    std::sort(r.begin(), r.end(), [](const Range &a, const Range &b) { return a.lo < b.lo; });
    QList<Range> out;
    for (const Range &x : r) {
        if (!out.isEmpty() && quint64(out.last().hi) + 1 >= x.lo)
            out.last().hi = qMax(out.last().hi, x.hi);
        else
            out.append(x);
    }
    return out;
}

} // namespace

QString leakWords(const PacketClasses &classes, const QList<Leak> &leaks)
{
    const int family = classes.family;
    const QStringList &iifs = classes.iifs;
    const QList<quint32> &protos = classes.protos;
    const QList<quint32> &sports = classes.sports;
    const QList<quint32> &dports = classes.dports;
    const QList<Range> &protoClasses = classes.protoClasses;
    const QList<Range> &dportClasses = classes.dportClasses;
    const QList<Range> &saddrClasses = classes.saddrClasses;
    const QList<Range> &daddrClasses = classes.daddrClasses;
    const QList<Range6> &saddrClasses6 = classes.saddrClasses6;
    const QList<Range6> &daddrClasses6 = classes.daddrClasses6;
    const int saddrCount = classes.saddrCount();
    const int daddrCount = classes.daddrCount();
    // What leaks, by protocol class; a class leaks fully when every packet of it does.
    QMap<int, QList<Leak>> byProto;
    QSet<QString> leakIifs;
    QSet<int> leakSaddrs;
    QSet<QString> leakPairs; // (interface, source) classes that leak at all
    for (const Leak &l : std::as_const(leaks)) {
        leakPairs.insert(l.iif + u' ' + QString::number(l.saddr));
        byProto[l.proto].append(l);
        leakIifs.insert(l.iif);
        leakSaddrs.insert(l.saddr);
    }
    auto full = [&](int pi) {
        const qint64 n = portBearing(protos.at(pi)) ? qint64(sports.size()) * dports.size() : 1;
        return byProto.value(pi).size() == n * daddrCount * leakPairs.size();
    };
    static const QSet<quint32> named {1, 6, 17, 33, 132, 136};
    bool allFull = true;
    bool othersFull = true;
    for (int pi = 0; pi < protos.size(); ++pi) {
        allFull = allFull && full(pi);
        if (!named.contains(protos.at(pi)))
            othersFull = othersFull && full(pi);
    }
    QStringList parts;
    if (allFull) {
        parts.append(QStringLiteral("every packet (any protocol, port and destination)"));
    } else {
        bool othersSaid = false;
        for (auto it = byProto.cbegin(); it != byProto.cend(); ++it) {
            const Range pr = protoClasses.at(it.key());
            const bool isNamed = pr.lo == pr.hi && named.contains(pr.lo);
            if (!isNamed && othersFull) {
                if (!othersSaid)
                    parts.append(QStringLiteral("any other ip protocol"));
                othersSaid = true;
                continue;
            }
            QString what = pr.lo == pr.hi
                ? protoName(pr.lo)
                : QStringLiteral("ip protocols %1-%2").arg(pr.lo).arg(pr.hi);
            const bool ports = portBearing(protos.at(it.key()));
            QList<Range> dp, da;
            QList<Range6> da6;
            QSet<int> dpSeen, daSeen;
            for (const Leak &l : it.value()) {
                if (ports && !dpSeen.contains(l.dport)) {
                    dpSeen.insert(l.dport);
                    dp.append(dportClasses.at(l.dport));
                }
                if (!daSeen.contains(l.daddr)) {
                    daSeen.insert(l.daddr);
                    if (family == 6)
                        da6.append(daddrClasses6.at(l.daddr));
                    else
                        da.append(daddrClasses.at(l.daddr));
                }
            }
            if (ports) {
                if (dpSeen.size() == dports.size())
                    what += QStringLiteral(" (any port)");
                else
                    what += QStringLiteral(" to ports %1").arg(rangesText(merged(dp), false));
            }
            if (daSeen.size() != daddrCount)
                what += QStringLiteral(" to %1").arg(family == 6 ? rangesText6(merged6(da6))
                                                                 : rangesText(merged(da), true));
            parts.append(what);
            if (parts.size() >= 8) {
                parts.append(QStringLiteral("…"));
                break;
            }
        }
    }
    if (leakSaddrs.size() != saddrCount) {
        QList<Range> from;
        QList<Range6> from6;
        for (int si : std::as_const(leakSaddrs)) {
            if (family == 6)
                from6.append(saddrClasses6.at(si));
            else
                from.append(saddrClasses.at(si));
        }
        parts.append(QStringLiteral("from %1").arg(family == 6 ? rangesText6(merged6(from6))
                                                               : rangesText(merged(from), true)));
    }
    if (leakIifs.size() != iifs.size()) {
        QStringList on;
        for (const QString &i : std::as_const(leakIifs))
            on.append(i == iifs.last() ? QStringLiteral("a client interface no rule names")
                                       : shown(i, 16));
        on.sort();
        parts.append(QStringLiteral("arriving on %1").arg(on.join(QStringLiteral(", "))));
    }
    return parts.join(QStringLiteral(", "));
}

QString decidedByWords(const QMap<int, int> &deciders, const Evaluator &ev)
{
    QList<QPair<int, int>> ranked;
    for (auto it = deciders.cbegin(); it != deciders.cend(); ++it)
        ranked.append({it.value(), it.key()});
    std::sort(ranked.begin(), ranked.end(), [](auto a, auto b) { return a.first > b.first; });
    QStringList by;
    for (const auto &[count, rule] : std::as_const(ranked)) {
        if (by.size() >= 3) {
            by.append(QStringLiteral("and %1 more").arg(ranked.size() - 3));
            break;
        }
        by.append(ev.describe(rule));
    }
    return by.join(QStringLiteral("; "));
}

} // namespace netmap::rulesetproof
