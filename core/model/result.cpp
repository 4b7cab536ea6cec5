#include "result.h"

namespace netmap {

QString Error::toString() const
{
    QString where;
    if (!file.isEmpty()) {
        where = file;
        if (line > 0) {
            where += QLatin1Char(':') + QString::number(line);
            if (column > 0)
                where += QLatin1Char(':') + QString::number(column);
        }
        where += QLatin1String(": ");
    }
    return where + message;
}

} // namespace netmap
