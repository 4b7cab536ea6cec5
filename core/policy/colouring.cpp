#include "colouring.h"

#include "model/checkindex.h"
#include "model/qubeverdict.h"
#include "model/snapshot.h"
#include "model/topology.h"
#include "policy/expectations.h"

#include <QHostAddress>
#include <QSet>

namespace netmap {

namespace {

// Colour-blind-friendly families per kind; further exits of one kind take the next shade.
const char *const kClearnet[] = {"#0072b2", "#56b4e9", "#004c7a", "#3d8fd1"};
const char *const kVpn[] = {"#009e73", "#7ccf5b", "#006b4e", "#33c9a0"};
const char *const kTor[] = {"#8e44ad", "#cc79a7", "#5e2a75", "#b07cc6"};
const char *const kUnknown[] = {"#e69f00", "#a6761d", "#f0c05a", "#7a5a00"};

int kindRank(const QString &kind)
{
    if (kind == QLatin1String("clearnet"))
        return 0;
    if (kind == QLatin1String("vpn"))
        return 1;
    if (kind == QLatin1String("tor"))
        return 2;
    return 3;
}

QString paletteColour(const QString &kind, int n)
{
    const char *const *palette = kUnknown;
    switch (kindRank(kind)) {
    case 0:
        palette = kClearnet;
        break;
    case 1:
        palette = kVpn;
        break;
    case 2:
        palette = kTor;
        break;
    default:
        break;
    }
    return QString::fromLatin1(palette[n % 4]);
}

bool isLeakPair(const QString &kind4, const QString &kind6)
{
    // Different kinds, one of them the clearnet: one family bypasses the VPN or Tor. Two
    // different anonymous kinds (or an unknown one) are not called a leak here.
    const bool clear4 = kind4 == QLatin1String("clearnet");
    const bool clear6 = kind6 == QLatin1String("clearnet");
    const auto anonymous
        = [](const QString &k) { return k == QLatin1String("vpn") || k == QLatin1String("tor"); };
    return (clear4 && anonymous(kind6)) || (clear6 && anonymous(kind4));
}

} // namespace

QString exitKey(const QString &ip)
{
    if (!ip.contains(u':'))
        return ip;
    const QHostAddress address(ip);
    if (address.protocol() != QAbstractSocket::IPv6Protocol)
        return ip;
    Q_IPV6ADDR bytes = address.toIPv6Address();
    for (int i = 8; i < 16; ++i)
        bytes[i] = 0;
    return QHostAddress(bytes).toString() + QStringLiteral("/64");
}

const ExitInfo *Colouring::exitOf(const QString &ip) const
{
    if (ip.isEmpty())
        return nullptr;
    const QString key = exitKey(ip);
    for (const ExitInfo &exit : exits)
        if (exit.ip == key)
            return &exit;
    return nullptr;
}

QString Colouring::unverifiedColour()
{
    return QStringLiteral("#9e9e9e");
}

QString Colouring::failedColour()
{
    return QStringLiteral("#d62728");
}

Colouring colourPaths(const Snapshot &snapshot, const Topology &topology)
{
    Colouring colouring;
    QMap<QString, QStringList> qubesByIp;
    QMap<QString, QSet<QString>> kindsByIp;
    QSet<QString> failedQubes;
    QSet<QString> staleQubes;
    const CheckIndex checks(snapshot);

    for (int i = 0; i < topology.size(); ++i) {
        const QString name = topology.nameAt(i);
        const QStringList chain = topology.egressChain(name);
        // The exit is the newest result that established one, if it still fits the path.
        const CheckResult *exitResult = nullptr;
        const CheckResult *exitResult6 = nullptr;
        bool torPassed = false;
        bool errorFirst = false; // the newest exit evidence could not be completed
        for (const CheckResult *it : checks.resultsOf(name)) {
            if (it->pathAtRun != chain) {
                staleQubes.insert(name);
                continue;
            }
            // A newer check of the exit that timed out or failed to run: an older run's exit
            // is not shown as verified (the path may have changed in ways qvm-ls cannot see).
            if (!exitResult && it->externalIp.isEmpty() && it->status == CheckStatus::Error
                && (it->check == CheckKind::ExternalIp || it->check == CheckKind::Vpn
                    || it->check == CheckKind::Tor))
                errorFirst = true;
            if (!exitResult && !errorFirst && !it->externalIp.isEmpty())
                exitResult = it;
            if (!exitResult6 && !errorFirst && !it->externalIp6.isEmpty())
                exitResult6 = it;
            if (it->check == CheckKind::Tor && it->status == CheckStatus::Pass)
                torPassed = true;
        }
        for (CheckKind kind : allCheckKinds()) {
            const CheckResult *r = checks.latest(name, kind);
            // Only a leak colours the path; a failed kill switch or isolation check marks the
            // qube (the tunnel itself may be working).
            if (r && r->pathAtRun == chain && r->status == CheckStatus::Fail && isLeakCheck(kind))
                failedQubes.insert(name);
        }
        if (!exitResult && !exitResult6)
            continue;
        const Expectation expected = intendedEgress(snapshot, topology, name);
        const QString kind = torPassed ? QStringLiteral("tor") : expected.kindId();
        if (exitResult) {
            const QString ip = exitResult->externalIp;
            colouring.qubeExitIp.insert(name, ip);
            qubesByIp[ip] << name;
            kindsByIp[ip].insert(kind);
        }
        if (exitResult6) {
            // IPv6 exits are one exit per /64: privacy addresses rotate inside it.
            const QString ip6 = exitResult6->externalIp6;
            colouring.qubeExitIp6.insert(name, ip6);
            qubesByIp[exitKey(ip6)] << name;
            // Tor carries no IPv6 exit of its own here: the IPv6 exit takes the path's kind.
            kindsByIp[exitKey(ip6)].insert(expected.kindId());
        }
    }

    for (auto it = qubesByIp.cbegin(); it != qubesByIp.cend(); ++it) {
        const QSet<QString> &kinds = kindsByIp[it.key()];
        // A clearnet qube seeing this IP makes it the clearnet exit, whatever else claims it.
        QString kind = QStringLiteral("unknown");
        for (const char *k : {"clearnet", "tor", "vpn"})
            if (kinds.contains(QString::fromLatin1(k))) {
                kind = QString::fromLatin1(k);
                break;
            }
        QStringList qubes = it.value();
        qubes.sort();
        colouring.exits.append(ExitInfo {it.key(), kind, QString(), qubes});
    }
    std::stable_sort(colouring.exits.begin(), colouring.exits.end(),
                     [](const ExitInfo &a, const ExitInfo &b) {
                         if (kindRank(a.kind) != kindRank(b.kind))
                             return kindRank(a.kind) < kindRank(b.kind);
                         // IPv6 exits after the IPv4 ones of their kind: the IPv4 exits (which
                         // colour the links) keep the colours they have without IPv6.
                         const bool a6 = a.ip.contains(u':');
                         const bool b6 = b.ip.contains(u':');
                         if (a6 != b6)
                             return b6;
                         return a.ip < b.ip;
                     });
    QMap<QString, int> usedPerKind;
    QMap<QString, QString> colourByIp;
    for (ExitInfo &exit : colouring.exits) {
        exit.colour = paletteColour(exit.kind, usedPerKind[exit.kind]++);
        colourByIp.insert(exit.ip, exit.colour);
    }

    // A qube that leaves by IPv4 one way and by IPv6 another (a VPN that tunnels only IPv4):
    // its path is a leak, whatever each exit alone would say.
    QMap<QString, QString> kindOfExit;
    for (const ExitInfo &exit : std::as_const(colouring.exits))
        kindOfExit.insert(exit.ip, exit.kind);
    for (auto it = colouring.qubeExitIp6.cbegin(); it != colouring.qubeExitIp6.cend(); ++it) {
        const QString ip4 = colouring.qubeExitIp.value(it.key());
        if (ip4.isEmpty())
            continue;
        if (isLeakPair(kindOfExit.value(ip4), kindOfExit.value(exitKey(it.value())))) {
            colouring.familyLeaks << it.key();
            failedQubes.insert(it.key());
        }
    }

    for (int i = 0; i < topology.size(); ++i) {
        const int parent = topology.parentOf(i);
        if (parent < 0)
            continue;
        LinkColour link;
        link.from = topology.nameAt(i);
        link.to = topology.nameAt(parent);
        link.externalIp = colouring.qubeExitIp.value(link.from);
        link.verified = !link.externalIp.isEmpty();
        link.colour
            = link.verified ? colourByIp.value(link.externalIp) : Colouring::unverifiedColour();
        link.externalIp6 = colouring.qubeExitIp6.value(link.from);
        link.familyLeak = colouring.familyLeaks.contains(link.from);
        link.failed = failedQubes.contains(link.from);
        link.stale = !link.verified && staleQubes.contains(link.from);
        colouring.links.insert(link.from, link);
    }
    return colouring;
}

} // namespace netmap
