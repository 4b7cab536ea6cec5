#include "failingdevice.h"

#include "io/files.h"

#include <algorithm>

namespace netmap::test {

FailingDevice::FailingDevice(qint64 capacity)
    : m_capacity(capacity)
{
}

qint64 FailingDevice::readData(char *, qint64)
{
    return -1;
}

qint64 FailingDevice::writeData(const char *data, qint64 size)
{
    qint64 take = size;
    if (m_capacity >= 0)
        take = std::min(size, m_capacity - qint64(m_written.size()));
    if (take <= 0) {
        setErrorString(FailingSaves::reason(FailingSaves::At::Write));
        return -1;
    }
    m_written.append(data, take);
    if (take < size) // a short write, as on a disk that fills up in the middle
        setErrorString(FailingSaves::reason(FailingSaves::At::Write));
    return take;
}

struct FailingSaves::Record
{
    At at = At::Nowhere;
    qint64 capacity = 0;
    int opens = 0;
    int cancels = 0;
    int commits = 0;
    QByteArray committed;
    QString lastPath;
};

namespace {

class FailingTarget final : public AtomicWriteTarget
{
public:
    FailingTarget(std::shared_ptr<FailingSaves::Record> record, const QString &path)
        : m_record(std::move(record))
        , m_device(m_record->at == FailingSaves::At::Write ? m_record->capacity : -1)
    {
        m_record->lastPath = path;
    }
    QIODevice &device() override { return m_device; }
    bool open() override
    {
        if (m_record->at == FailingSaves::At::Open) {
            m_device.fail(FailingSaves::reason(FailingSaves::At::Open));
            return false;
        }
        ++m_record->opens;
        return m_device.open(QIODevice::WriteOnly | QIODevice::Unbuffered);
    }
    bool flush() override
    {
        if (m_record->at != FailingSaves::At::Flush)
            return true;
        m_device.fail(FailingSaves::reason(FailingSaves::At::Flush));
        return false;
    }
    bool commit() override
    {
        if (m_record->at == FailingSaves::At::Commit) {
            m_device.fail(FailingSaves::reason(FailingSaves::At::Commit));
            return false;
        }
        ++m_record->commits;
        m_record->committed = m_device.written();
        return true;
    }
    void cancel() override { ++m_record->cancels; }

private:
    std::shared_ptr<FailingSaves::Record> m_record;
    FailingDevice m_device;
};

} // namespace

FailingSaves::FailingSaves(At at, qint64 capacity)
    : m_record(std::make_shared<Record>())
{
    m_record->at = at;
    m_record->capacity = capacity;
    std::shared_ptr<Record> record = m_record;
    setAtomicWriteTargetFactory([record](const QString &path) {
        return std::unique_ptr<AtomicWriteTarget>(new FailingTarget(record, path));
    });
}

FailingSaves::~FailingSaves()
{
    setAtomicWriteTargetFactory({});
}

int FailingSaves::opens() const
{
    return m_record->opens;
}
int FailingSaves::cancels() const
{
    return m_record->cancels;
}
int FailingSaves::commits() const
{
    return m_record->commits;
}
QByteArray FailingSaves::committed() const
{
    return m_record->committed;
}
QString FailingSaves::lastPath() const
{
    return m_record->lastPath;
}

QString FailingSaves::reason(At at)
{
    switch (at) {
    case At::Open:
        return QStringLiteral("Permission denied");
    case At::Write:
    case At::Flush:
        return QStringLiteral("No space left on device");
    case At::Commit:
        return QStringLiteral("Cannot rename the temporary file over the old one");
    case At::Nowhere:
        break;
    }
    return {};
}

} // namespace netmap::test
