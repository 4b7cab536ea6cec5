#include "actionlog.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QStandardPaths>

namespace netmap {

namespace {

constexpr qint64 kMaxLogBytes = 1 << 20;

// One line per entry: no tab or line break from a name or a command can forge another entry.
QString field(const QString &text)
{
    QString out = text.left(4096);
    for (QChar &c : out)
        if (c.unicode() < 0x20 || c.unicode() == 0x7f
            || (c.unicode() >= 0x80 && c.unicode() <= 0x9f))
            c = QChar(u' ');
    return out;
}

} // namespace

QString ActionLog::path()
{
    return QDir(QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation))
        .filePath(QStringLiteral("actions.log"));
}

void ActionLog::record(const QString &qube, const QString &what, const QString &command)
{
    const QString file = path();
    QDir().mkpath(QFileInfo(file).absolutePath());
    if (QFileInfo(file).size() > kMaxLogBytes) {
        QFile::remove(file + QStringLiteral(".1"));
        QFile::rename(file, file + QStringLiteral(".1"));
    }
    QFile out(file);
    if (!out.open(QIODevice::WriteOnly | QIODevice::Append | QIODevice::Text))
        return; // a record that cannot be written must not stop the action it records
    out.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    const QString line = QStringLiteral("%1\t%2\t%3\t%4\n")
                             .arg(QDateTime::currentDateTimeUtc().toString(Qt::ISODate),
                                  field(qube), field(what), field(command));
    out.write(line.toUtf8());
}

QString ActionLog::read(qint64 maxBytes)
{
    QFile in(path());
    if (!in.open(QIODevice::ReadOnly))
        return QString();
    if (in.size() > maxBytes)
        in.seek(in.size() - maxBytes);
    return QString::fromUtf8(in.read(maxBytes));
}

} // namespace netmap
