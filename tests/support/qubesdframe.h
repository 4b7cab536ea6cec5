#pragma once
// Test helper: one event as qubesd frames it on the admin.Events stream
// ("1\0" subject "\0" event "\0" (key "\0" value "\0")* "\0").

#include <QByteArray>
#include <QList>
#include <QPair>

namespace netmap::test {

inline QByteArray qubesdEventFrame(const QByteArray &subject, const QByteArray &name,
                                   const QList<QPair<QByteArray, QByteArray>> &args = {})
{
    QByteArray b("1\0", 2);
    b += subject + '\0' + name + '\0';
    for (const auto &kv : args)
        b += kv.first + '\0' + kv.second + '\0';
    b += '\0';
    return b;
}

} // namespace netmap::test
