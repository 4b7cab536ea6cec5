#include "files.h"

#include <QFile>
#include <QFileInfo>
#include <QSaveFile>

namespace netmap {

namespace {

// The cap as a reader would say it: 16 MiB, 256 KiB, 100 bytes.
QString sizeText(qint64 bytes)
{
    if (bytes >= (1 << 20) && bytes % (1 << 20) == 0)
        return QStringLiteral("%1 MiB").arg(bytes >> 20);
    if (bytes >= 1024 && bytes % 1024 == 0)
        return QStringLiteral("%1 KiB").arg(bytes >> 10);
    return QStringLiteral("%1 bytes").arg(bytes);
}

class SaveFileTarget final : public AtomicWriteTarget
{
public:
    explicit SaveFileTarget(const QString &path)
        : m_file(path)
    {
    }
    QIODevice &device() override { return m_file; }
    bool open() override { return m_file.open(QIODevice::WriteOnly); }
    bool flush() override { return m_file.flush(); }
    bool commit() override { return m_file.commit(); }
    void cancel() override { m_file.cancelWriting(); }

private:
    QSaveFile m_file;
};

AtomicWriteTargetFactory &targetFactory()
{
    static AtomicWriteTargetFactory factory;
    return factory;
}

} // namespace

void setAtomicWriteTargetFactory(AtomicWriteTargetFactory factory)
{
    targetFactory() = std::move(factory);
}

Result<QByteArray> readFileCapped(const QString &path, qint64 cap)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return makeError(Error::Code::Input,
                         QStringLiteral("cannot read: %1").arg(file.errorString()), path);
    if (!file.isSequential() && file.size() > cap)
        return makeError(Error::Code::Input,
                         QStringLiteral("file is larger than %1").arg(sizeText(cap)), path);
    QByteArray data = file.read(cap + 1);
    if (data.size() > cap)
        return makeError(Error::Code::Input,
                         QStringLiteral("file is larger than %1").arg(sizeText(cap)), path);
    if (file.error() != QFileDevice::NoError)
        return makeError(Error::Code::Input,
                         QStringLiteral("cannot read: %1").arg(file.errorString()), path);
    return data;
}

Status writeFileAtomically(const QString &path, const QByteArray &data)
{
    const std::unique_ptr<AtomicWriteTarget> target
        = targetFactory() ? targetFactory()(path) : std::make_unique<SaveFileTarget>(path);
    QIODevice &file = target->device();
    if (!target->open())
        return makeError(Error::Code::Io,
                         QStringLiteral("cannot write: %1").arg(file.errorString()), path);
    if (file.write(data) != data.size()) {
        const QString why = file.errorString();
        target->cancel();
        return makeError(Error::Code::Io, QStringLiteral("cannot write: %1").arg(why), path);
    }
    // Qt 6.4's commit() does not report a failed flush of the write buffer: on a full disk a
    // small file was "saved" as an empty one in place of the old. Flush first and check.
    if (!target->flush()) {
        const QString why = file.errorString();
        target->cancel();
        return makeError(Error::Code::Io, QStringLiteral("cannot write: %1").arg(why), path);
    }
    if (!target->commit())
        return makeError(Error::Code::Io,
                         QStringLiteral("cannot write: %1").arg(file.errorString()), path);
    return Ok {};
}

} // namespace netmap
