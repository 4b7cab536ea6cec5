#pragma once
// The peak resident size of this process, measured from a fresh start: resetPeak() makes the
// kernel set VmHWM back to the current resident size (writing "5" to /proc/self/clear_refs), so
// peakKiB() afterwards is the peak since then, never an earlier test's higher peak hiding growth.

#include <QFile>

namespace netmap::test {

inline bool resetPeak()
{
    QFile clear(QStringLiteral("/proc/self/clear_refs"));
    return clear.open(QIODevice::WriteOnly) && clear.write("5") == 1;
}

// VmHWM in KiB since the last resetPeak(), or -1 where /proc cannot tell.
inline qint64 peakKiB()
{
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : status.readAll().split('\n'))
        if (line.startsWith("VmHWM:"))
            return line.mid(6).trimmed().split(' ').value(0).toLongLong();
    return -1;
}

} // namespace netmap::test
