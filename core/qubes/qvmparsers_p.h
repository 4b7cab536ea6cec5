#pragma once
// The line and token reading shared by the qvm-* parsers (qvmparsers.cpp: qvm-ls and prefs;
// qvmfirewall.cpp: qvm-firewall), and the cap on a line they share. Include from .cpp files only.

#include "model/untrustedtext.h"

#include <QByteArrayView>
#include <QList>
#include <QString>

#include <algorithm>

namespace netmap::qvmtext {

constexpr int maxRowBytes = 4096; // a qvm-ls row without its tags; a firewall rule
constexpr int maxSnippet = 24;

using untrustedtext::isPrintableAscii;

// Splits on '\n', drops a trailing '\r' from each line. The last piece after a final '\n' is
// not a line.
inline QList<QByteArrayView> splitLines(QByteArrayView data)
{
    QList<QByteArrayView> lines;
    qsizetype start = 0;
    while (start < data.size()) {
        qsizetype end = data.indexOf('\n', start);
        if (end < 0)
            end = data.size();
        QByteArrayView line = data.sliced(start, end - start);
        if (line.endsWith('\r'))
            line.chop(1);
        lines << line;
        start = end + 1;
    }
    return lines;
}

inline bool isBlank(QByteArrayView bytes)
{
    return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == ' ' || c == '\t'; });
}

// A short, harmless piece of an untrusted value for a reason: printable ASCII only, no quotes.
inline QString snippet(QByteArrayView untrusted)
{
    QString out;
    for (qsizetype i = 0; i < untrusted.size() && out.size() < maxSnippet; ++i) {
        const auto c = static_cast<unsigned char>(untrusted[i]);
        out += (c > 0x20 && c < 0x7f && c != '"' && c != '\\') ? QChar(char16_t(c)) : QChar(u'?');
    }
    if (untrusted.size() > maxSnippet)
        out += QStringLiteral("...");
    return QStringLiteral("\"%1\"").arg(out);
}

inline bool isToken(QByteArrayView value, int maxLength, bool allowDot = false)
{
    if (value.isEmpty() || value.size() > maxLength)
        return false;
    return std::all_of(value.begin(), value.end(), [allowDot](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
            || c == '_' || c == '-' || (allowDot && c == '.');
    });
}

inline QString latin(QByteArrayView bytes)
{
    return QString::fromLatin1(bytes.data(), bytes.size());
}

} // namespace netmap::qvmtext
