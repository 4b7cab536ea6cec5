// Saves on a real full disk and a real read-only folder (docs/ARCHITECTURE.md §6: exports and
// snapshot saves are atomic): what the kernel and Qt's QSaveFile really do there. Each must fail
// with one clear line naming the file and leave the old file exactly as it was, with no temporary
// file left behind. Every failure path of the save itself runs without root in tst_hostilesaves
// (a device that fails, tests/support/failingdevice.h); this binary is its own so that its skips
// (no root) never hide a failure of those.
//
// Staging needs root: the test moves itself into a private mount namespace (unshare(2)) and
// mounts a 64 KiB tmpfs, filled to the last byte or remounted read-only. Without root the
// full-disk rows are SKIPPED with the reason; the read-only rows fall back to a chmod 0555
// folder (which root would ignore).

#include "formats/jsonexport.h"
#include "formats/snapshotyaml.h"
#include "io/files.h"
#include "skips.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <cerrno>
#include <cstring>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

using namespace netmap;

namespace {

const QByteArray kOldContent("# the previous save, which must survive\nold: true\n");

Status save(const QString &writer, const QString &path)
{
    const Snapshot demo = demoSnapshot();
    if (writer == QLatin1String("snapshot"))
        return saveSnapshotFile(demo, path);
    if (writer == QLatin1String("small"))
        return writeFileAtomically(path, QByteArray("small: true\n"));
    if (writer == QLatin1String("json"))
        return writeFileAtomically(path, exportJson(demo));
    return makeError(Error::Code::Usage, QStringLiteral("unknown writer"));
}

} // namespace

class tst_FullDisk : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanup();
    void fullDisk_data() { writers(); }
    void fullDisk();
    void readOnlyFolder_data() { writers(); }
    void readOnlyFolder();

private:
    void writers();
    QString mountTmpfs(); // empty on failure (reason in m_why)
    void checkRefusal(const Status &status, const QString &path, const QString &dir,
                      const QStringList &expectedEntries);

    bool m_mounts = false;
    QString m_why;
    QTemporaryDir m_tmp;
    QStringList m_mounted;
    int m_count = 0;
};

void tst_FullDisk::initTestCase()
{
    QVERIFY(m_tmp.isValid());
    if (geteuid() != 0) {
        m_why = QStringLiteral("needs root to mount a tmpfs in a private mount namespace");
        return;
    }
    if (unshare(CLONE_NEWNS) != 0) {
        m_why = QStringLiteral("unshare(CLONE_NEWNS) failed: %1")
                    .arg(QString::fromLocal8Bit(strerror(errno)));
        return;
    }
    // Nothing mounted here reaches the rest of the system.
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        m_why = QStringLiteral("cannot make / private: %1")
                    .arg(QString::fromLocal8Bit(strerror(errno)));
        return;
    }
    m_mounts = true;
}

void tst_FullDisk::cleanup()
{
    for (const QString &dir : std::as_const(m_mounted))
        umount2(QFile::encodeName(dir).constData(), MNT_DETACH);
    m_mounted.clear();
}

void tst_FullDisk::writers()
{
    QTest::addColumn<QString>("writer");
    QTest::newRow("snapshot save (.yaml)") << QStringLiteral("snapshot");
    QTest::newRow("JSON export") << QStringLiteral("json");
    // Below Qt's 16 KiB write buffer: only the flush in commit() meets the full disk.
    QTest::newRow("small file") << QStringLiteral("small");
}

QString tst_FullDisk::mountTmpfs()
{
    const QString dir = m_tmp.filePath(QStringLiteral("mnt%1").arg(++m_count));
    if (!QDir().mkpath(dir))
        return {};
    if (mount("tmpfs", QFile::encodeName(dir).constData(), "tmpfs", MS_NOSUID | MS_NODEV,
              "size=64k,mode=0755")
        != 0) {
        m_why = QStringLiteral("cannot mount a tmpfs: %1")
                    .arg(QString::fromLocal8Bit(strerror(errno)));
        return {};
    }
    m_mounted << dir;
    return dir;
}

void tst_FullDisk::checkRefusal(const Status &status, const QString &path, const QString &dir,
                                const QStringList &expectedEntries)
{
    QVERIFY2(!status.ok(), "the save claimed success");
    const Error &e = status.error();
    QCOMPARE(e.code, Error::Code::Io);
    QCOMPARE(e.file, path);
    const QString line = e.toString();
    QVERIFY2(!line.contains(u'\n') && e.message.startsWith(QLatin1String("cannot write")),
             qPrintable(line));
    QVERIFY2(line.startsWith(path + QLatin1String(": ")), qPrintable(line));
    // The old file is intact...
    QFile old(path);
    QVERIFY(old.open(QIODevice::ReadOnly));
    QCOMPARE(old.readAll(), kOldContent);
    // ...and no half-written temporary file is left next to it.
    QCOMPARE(QDir(dir).entryList(QDir::Files | QDir::Hidden | QDir::System, QDir::Name),
             expectedEntries);
}

// Protections, each removed once: writeFileAtomically() writes through QSaveFile (with a plain
// QFile, truncate then write, every row fails: the old file is gone), and it flushes and checks
// before commit() (without that, Qt 6.4 reports success for anything below its 16 KiB write
// buffer and leaves an EMPTY file in place of the old one: the "snapshot save" and "small file"
// rows fail).
void tst_FullDisk::fullDisk()
{
    QFETCH(QString, writer);
    if (!m_mounts)
        NETMAP_SKIP(qPrintable(m_why));
    const QString dir = mountTmpfs();
    if (dir.isEmpty())
        NETMAP_SKIP(qPrintable(m_why));
    const QString path = dir + QStringLiteral("/netmap.out");
    QVERIFY(writeFileAtomically(path, kOldContent).ok());

    // Fill the file system to the last block.
    QFile filler(dir + QStringLiteral("/filler"));
    QVERIFY(filler.open(QIODevice::WriteOnly | QIODevice::Unbuffered));
    const QByteArray block(4096, 'x');
    for (int i = 0; i < 64 && filler.write(block) == block.size(); ++i) { }
    while (filler.write("x", 1) == 1) { }
    filler.close();

    checkRefusal(save(writer, path), path, dir,
                 {QStringLiteral("filler"), QStringLiteral("netmap.out")});
}

// Protection: the error path of writeFileAtomically() (QSaveFile::open fails, one "cannot write"
// line). Note that the read-only case cannot show the atomic write itself (nothing can be
// written at all); the full-disk rows do.
void tst_FullDisk::readOnlyFolder()
{
    QFETCH(QString, writer);
    QString dir;
    if (m_mounts) {
        dir = mountTmpfs();
        if (dir.isEmpty())
            NETMAP_SKIP(qPrintable(m_why));
        QVERIFY(writeFileAtomically(dir + QStringLiteral("/netmap.out"), kOldContent).ok());
        QVERIFY2(mount(nullptr, QFile::encodeName(dir).constData(), nullptr,
                       MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr)
                     == 0,
                 strerror(errno));
    } else if (geteuid() != 0) {
        dir = m_tmp.filePath(QStringLiteral("ro%1").arg(++m_count));
        QVERIFY(QDir().mkpath(dir));
        QVERIFY(writeFileAtomically(dir + QStringLiteral("/netmap.out"), kOldContent).ok());
        QVERIFY(QFile::setPermissions(dir, QFile::ReadOwner | QFile::ExeOwner));
    } else {
        NETMAP_SKIP(qPrintable(m_why));
    }
    const QString path = dir + QStringLiteral("/netmap.out");
    checkRefusal(save(writer, path), path, dir, {QStringLiteral("netmap.out")});
    if (!m_mounts)
        QFile::setPermissions(dir, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
}

NETMAP_GUILESS_TEST_MAIN(tst_FullDisk)
#include "tst_fulldisk.moc"
