#pragma once
// ActionLog: the local record of every command this program ran as root in a qube or that
// changed something (kill-switch check and drill, drop watch, re-route, starting a qube), with
// the time, the qube and the command, so that what was done can be read back later.

#include <QString>

namespace netmap {

class ActionLog
{
public:
    // ~/.local/share/qubes-netmap/actions.log (kept under 1 MiB: the older half rotates out).
    static QString path();
    // what: plain words ("kill-switch drill: break"); command: as shown to the user.
    static void record(const QString &qube, const QString &what, const QString &command);
    // The newest part of the log (at most maxBytes), as text.
    static QString read(qint64 maxBytes = 256 << 10);
};

} // namespace netmap
