#pragma once
// Time bounds in tests that share the machine: a bound holds on an idle machine and is scaled by
// the load per core when that is above 1 (a CI machine runs two tests at once; a developer's
// may run builds beside them). The bounds catch a blocked event loop or a missing event path,
// which cost seconds, not a busy scheduler's tens of milliseconds.

#include <QThread>
#include <QtGlobal>

#include <cstdlib>

namespace netmap::testing {

inline double loadFactor()
{
    double load[1] = {0};
    const double cores = qMax(1, QThread::idealThreadCount());
    return getloadavg(load, 1) == 1 ? qMax(1.0, load[0] / cores) : 1.0;
}

inline qint64 loadScaled(qint64 ms)
{
    return qint64(double(ms) * loadFactor());
}

} // namespace netmap::testing
