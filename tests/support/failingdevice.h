#pragma once
// Test support: saves that fail without a full disk, a read-only folder or root. FailingDevice is
// a QIODevice that takes a given number of bytes and then fails as a full disk does;
// FailingSaves routes every writeFileAtomically() of the process (core/io/files.h, the seam
// AtomicWriteTarget) to such a device for as long as it lives, failing where it is told: at the
// open, after N bytes of the write, at the flush or at the commit (the rename over the old file).
// The file on disk is never touched, so the old content must still be there afterwards.
//
//     test::FailingSaves failing(test::FailingSaves::At::Write, 100);
//     const Status s = saveSnapshotFile(snapshot, path); // must report the failure
//     QCOMPARE(failing.commits(), 0);

#include <QByteArray>
#include <QIODevice>
#include <QString>

#include <memory>

namespace netmap::test {

class FailingDevice : public QIODevice
{
public:
    // Takes `capacity` bytes (negative: any number), then every write fails.
    explicit FailingDevice(qint64 capacity = -1);
    QByteArray written() const { return m_written; }
    void fail(const QString &why) { setErrorString(why); }

protected:
    qint64 readData(char *data, qint64 maxSize) override;
    qint64 writeData(const char *data, qint64 size) override;

private:
    qint64 m_capacity;
    QByteArray m_written;
};

class FailingSaves
{
public:
    enum class At { Nowhere, Open, Write, Flush, Commit };

    // `capacity`: for At::Write, the bytes the device takes before it fails.
    explicit FailingSaves(At at, qint64 capacity = 0);
    ~FailingSaves();
    FailingSaves(const FailingSaves &) = delete;
    FailingSaves &operator=(const FailingSaves &) = delete;

    // What the saves did since: targets opened, writes cancelled, commits that succeeded (and the
    // bytes of the last one), and the path of the last save.
    int opens() const;
    int cancels() const;
    int commits() const;
    QByteArray committed() const;
    QString lastPath() const;

    // The reason each failure gives (errorString of the device).
    static QString reason(At at);

    struct Record;

private:
    std::shared_ptr<Record> m_record;
};

} // namespace netmap::test
