#pragma once
// Bounded reads and atomic writes (QSaveFile): a failed write leaves the old file intact.

#include "model/result.h"

#include <QByteArray>
#include <QString>

namespace netmap {

constexpr qint64 kMaxInputFileBytes = 16 << 20;

Result<QByteArray> readFileCapped(const QString &path, qint64 cap = kMaxInputFileBytes);
Status writeFileAtomically(const QString &path, const QByteArray &data);

} // namespace netmap
