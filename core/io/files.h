#pragma once
// Bounded reads and atomic writes (QSaveFile): a failed write leaves the old file intact.

#include "model/result.h"

#include <QByteArray>
#include <QString>

#include <functional>
#include <memory>

class QIODevice;

namespace netmap {

constexpr qint64 kMaxInputFileBytes = 16 << 20;

Result<QByteArray> readFileCapped(const QString &path, qint64 cap = kMaxInputFileBytes);
Status writeFileAtomically(const QString &path, const QByteArray &data);

// Where writeFileAtomically() writes: a QSaveFile (a temporary file next to the target that
// commit() renames over it). The seam exists for tests: setAtomicWriteTargetFactory() replaces it
// for every later save in the process with a device that fails (tests/support/failingdevice.h),
// so each failure path of every save is seen without a full disk or root. An empty factory puts
// the QSaveFile back.
class AtomicWriteTarget
{
public:
    virtual ~AtomicWriteTarget() = default;
    virtual QIODevice &device() = 0; // write() goes here; errorString() says why it failed
    virtual bool open() = 0;
    virtual bool flush() = 0;
    virtual bool commit() = 0;
    virtual void cancel() = 0;
};
using AtomicWriteTargetFactory
    = std::function<std::unique_ptr<AtomicWriteTarget>(const QString &path)>;
void setAtomicWriteTargetFactory(AtomicWriteTargetFactory factory);

} // namespace netmap
