#pragma once
// Path colouring: every link qube -> netvm takes the colour of the exit IP verified from its qube.

#include <QList>
#include <QMap>
#include <QString>

namespace netmap {

struct Snapshot;
class Topology;

struct ExitInfo
{
    QString ip; // verified external IP; for IPv6 its /64 ("2001:db8:1:2::/64": addresses rotate)
    QString kind; // "clearnet", "vpn", "tor" or "unknown"
    QString colour; // "#rrggbb"
    QStringList qubes; // qubes verified to leave through this IP, sorted
};

struct LinkColour
{
    QString from; // the qube at the lower end
    QString to; // its netvm
    QString externalIp; // empty when unverified
    QString colour; // "#rrggbb"; the unverified grey when unverified
    bool verified = false;
    bool failed = false; // an expectation on this qube failed
    bool stale = false; // evidence older than the qube's current path
    QString externalIp6; // the verified IPv6 exit, empty when none
    // IPv4 and IPv6 leave by exits of different kinds (one of them clearnet): a leak.
    bool familyLeak = false;
};

struct Colouring
{
    QList<ExitInfo> exits; // legend order: clearnet, vpn, tor, unknown; then by IP
    QMap<QString, LinkColour> links; // keyed by the lower qube's name
    QMap<QString, QString> qubeExitIp; // qube -> verified external IP (current, not stale)
    QMap<QString, QString> qubeExitIp6; // qube -> verified IPv6 exit address (current)
    // Qubes whose IPv4 and IPv6 exits differ in kind, one of them clearnet: drawn as a leak.
    QStringList familyLeaks;
    // The legend entry of an exit address (an IPv6 address maps to its /64), or nullptr.
    const ExitInfo *exitOf(const QString &ip) const;
    static QString unverifiedColour(); // grey
    static QString failedColour(); // red
};

// "2001:db8:1:2::/64" for an IPv6 address; the address itself for anything else.
QString exitKey(const QString &ip);

Colouring colourPaths(const Snapshot &snapshot, const Topology &topology);

} // namespace netmap
