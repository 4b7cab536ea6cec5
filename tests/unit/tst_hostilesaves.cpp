// Saves that cannot succeed (docs/ARCHITECTURE.md §6: exports and snapshot saves are atomic),
// without root: every writeFileAtomically() of the process goes to a device that fails where it
// is told (tests/support/failingdevice.h): at the open (a read-only folder), after N bytes of
// the write (a disk that fills up), at the flush (Qt 6.4's commit() does not report a failed
// flush of its write buffer) or at the commit (the rename over the old file). Each save must
// fail with one clear line naming the file, cancel what it wrote, never commit, and leave the
// old file as it was. tst_fulldisk shows the same on a real full tmpfs (root only).
//
// Protections, each removed once and seen failing here: the size check of the write in
// writeFileAtomically() (the "write" rows: without it the save commits a truncated file), the
// flush check (the "flush" rows), the commit check (the "commit" rows), and saveSnapshotFile()
// returning the status of its write (every "snapshot" row).

#include "failingdevice.h"
#include "formats/jsonexport.h"
#include "formats/snapshotyaml.h"
#include "io/files.h"
#include "skips.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace netmap;
using At = test::FailingSaves::At;

namespace {

const QByteArray kOldContent("# the previous save, which must survive\nold: true\n");

QByteArray bytesOf(const QString &writer)
{
    const Snapshot demo = demoSnapshot();
    if (writer == QLatin1String("snapshot"))
        return snapshotToYaml(demo);
    if (writer == QLatin1String("json"))
        return exportJson(demo);
    return QByteArray("small: true\n");
}

// The save the program makes for each writer, through its own entry point.
Status save(const QString &writer, const QString &path)
{
    if (writer == QLatin1String("snapshot"))
        return saveSnapshotFile(demoSnapshot(), path);
    return writeFileAtomically(path, bytesOf(writer));
}

} // namespace

class tst_HostileSaves : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase() { QVERIFY(m_tmp.isValid()); }
    void failingSave_data();
    void failingSave();
    void successCommitsEverything_data();
    void successCommitsEverything();
    void realFilesAgainAfterwards();

private:
    QTemporaryDir m_tmp;
    int m_count = 0;
};

void tst_HostileSaves::failingSave_data()
{
    QTest::addColumn<QString>("writer");
    QTest::addColumn<int>("at");
    QTest::addColumn<qint64>("capacity"); // bytes the device takes (the write rows)
    for (const char *writer : {"snapshot", "json", "small"}) {
        const QString w = QString::fromLatin1(writer);
        const qint64 size = bytesOf(w).size();
        QTest::addRow("%s: open refused", writer) << w << int(At::Open) << qint64(0);
        QTest::addRow("%s: write, disk already full", writer) << w << int(At::Write) << qint64(0);
        QTest::addRow("%s: write, full after 5 bytes", writer) << w << int(At::Write) << qint64(5);
        QTest::addRow("%s: write, full one byte short", writer) << w << int(At::Write) << size - 1;
        QTest::addRow("%s: flush", writer) << w << int(At::Flush) << qint64(0);
        QTest::addRow("%s: commit", writer) << w << int(At::Commit) << qint64(0);
    }
}

void tst_HostileSaves::failingSave()
{
    QFETCH(QString, writer);
    QFETCH(int, at);
    QFETCH(qint64, capacity);
    const QString dir = m_tmp.filePath(QStringLiteral("d%1").arg(++m_count));
    QVERIFY(QDir().mkpath(dir));
    const QString path = dir + QStringLiteral("/netmap.out");
    QVERIFY(writeFileAtomically(path, kOldContent).ok()); // before the device is installed

    test::FailingSaves failing(At(at), capacity);
    const Status status = save(writer, path);
    QCOMPARE(failing.lastPath(), path); // the save went through the seam

    QVERIFY2(!status.ok(), "the save claimed success");
    const Error &e = status.error();
    QCOMPARE(e.code, Error::Code::Io);
    QCOMPARE(e.file, path);
    const QString line = e.toString();
    QVERIFY2(!line.contains(u'\n'), qPrintable(line));
    QVERIFY2(line.startsWith(path + QLatin1String(": cannot write: ")), qPrintable(line));
    QVERIFY2(e.message.contains(test::FailingSaves::reason(At(at))), qPrintable(line));
    // Nothing was committed; what was written is dropped (QSaveFile: its temporary file).
    QCOMPARE(failing.commits(), 0);
    if (At(at) == At::Write || At(at) == At::Flush)
        QCOMPARE(failing.cancels(), 1);
    // The old file is as it was, and nothing else appeared next to it.
    QFile old(path);
    QVERIFY(old.open(QIODevice::ReadOnly));
    QCOMPARE(old.readAll(), kOldContent);
    QCOMPARE(QDir(dir).entryList(QDir::Files | QDir::Hidden | QDir::System),
             QStringList {QStringLiteral("netmap.out")});
}

void tst_HostileSaves::successCommitsEverything_data()
{
    QTest::addColumn<QString>("writer");
    QTest::newRow("snapshot") << QStringLiteral("snapshot");
    QTest::newRow("json") << QStringLiteral("json");
    QTest::newRow("small") << QStringLiteral("small");
}

// The device that never fails sees the whole file committed once: the failing rows above fail
// for the reason they name, not because the seam loses data.
void tst_HostileSaves::successCommitsEverything()
{
    QFETCH(QString, writer);
    test::FailingSaves device(At::Nowhere);
    const QString path = m_tmp.filePath(QStringLiteral("ok.out"));
    const Status status = save(writer, path);
    QVERIFY2(status.ok(), qPrintable(status.ok() ? QString() : status.error().toString()));
    QCOMPARE(device.opens(), 1);
    QCOMPARE(device.commits(), 1);
    QCOMPARE(device.cancels(), 0);
    QCOMPARE(device.committed(), bytesOf(writer));
}

// Once the FailingSaves is gone, saves reach the disk again.
void tst_HostileSaves::realFilesAgainAfterwards()
{
    const QString path = m_tmp.filePath(QStringLiteral("real.out"));
    {
        test::FailingSaves failing(At::Commit);
        QVERIFY(!writeFileAtomically(path, "x\n").ok());
    }
    QVERIFY(writeFileAtomically(path, "y\n").ok());
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readAll(), QByteArray("y\n"));
}

NETMAP_GUILESS_TEST_MAIN(tst_HostileSaves)
#include "tst_hostilesaves.moc"
