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
    QString ip; // verified external IP
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
};

struct Colouring
{
    QList<ExitInfo> exits; // legend order: clearnet, vpn, tor, unknown; then by IP
    QMap<QString, LinkColour> links; // keyed by the lower qube's name
    QMap<QString, QString> qubeExitIp; // qube -> verified external IP (current, not stale)
    static QString unverifiedColour(); // grey
    static QString failedColour(); // red
};

Colouring colourPaths(const Snapshot &snapshot, const Topology &topology);

} // namespace netmap
