#include "colouring.h"

#include "checkindex.h"
#include "policy/expectations.h"
#include "qubeverdict.h"
#include "snapshot.h"
#include "topology.h"

#include <QSet>

namespace netmap {

namespace {

// Colour-blind-friendly families per kind; further exits of one kind take the next shade.
const char *const kClearnet[] = { "#0072b2", "#56b4e9", "#004c7a", "#3d8fd1" };
const char *const kVpn[] = { "#009e73", "#7ccf5b", "#006b4e", "#33c9a0" };
const char *const kTor[] = { "#8e44ad", "#cc79a7", "#5e2a75", "#b07cc6" };
const char *const kUnknown[] = { "#e69f00", "#a6761d", "#f0c05a", "#7a5a00" };

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

} // namespace

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
        if (!exitResult)
            continue;
        const QString ip = exitResult->externalIp;
        colouring.qubeExitIp.insert(name, ip);
        qubesByIp[ip] << name;
        const Expectation expected = intendedEgress(snapshot, topology, name);
        kindsByIp[ip].insert(torPassed ? QStringLiteral("tor") : expected.kindId());
    }

    for (auto it = qubesByIp.cbegin(); it != qubesByIp.cend(); ++it) {
        const QSet<QString> &kinds = kindsByIp[it.key()];
        // A clearnet qube seeing this IP makes it the clearnet exit, whatever else claims it.
        QString kind = QStringLiteral("unknown");
        for (const char *k : { "clearnet", "tor", "vpn" })
            if (kinds.contains(QString::fromLatin1(k))) {
                kind = QString::fromLatin1(k);
                break;
            }
        QStringList qubes = it.value();
        qubes.sort();
        colouring.exits.append(ExitInfo { it.key(), kind, QString(), qubes });
    }
    std::stable_sort(colouring.exits.begin(), colouring.exits.end(),
                     [](const ExitInfo &a, const ExitInfo &b) {
                         if (kindRank(a.kind) != kindRank(b.kind))
                             return kindRank(a.kind) < kindRank(b.kind);
                         return a.ip < b.ip;
                     });
    QMap<QString, int> usedPerKind;
    QMap<QString, QString> colourByIp;
    for (ExitInfo &exit : colouring.exits) {
        exit.colour = paletteColour(exit.kind, usedPerKind[exit.kind]++);
        colourByIp.insert(exit.ip, exit.colour);
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
        link.colour = link.verified ? colourByIp.value(link.externalIp)
                                    : Colouring::unverifiedColour();
        link.failed = failedQubes.contains(link.from);
        link.stale = !link.verified && staleQubes.contains(link.from);
        colouring.links.insert(link.from, link);
    }
    return colouring;
}

} // namespace netmap
