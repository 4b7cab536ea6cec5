#include "ipv4.h"

#include <QHostAddress>
#include <QUrl>

namespace netmap {

std::optional<QString> validIpv4(QStringView untrusted)
{
    if (untrusted.isEmpty() || untrusted.size() > 15)
        return std::nullopt;
    int parts = 0;
    qsizetype i = 0;
    while (i <= untrusted.size()) {
        qsizetype start = i;
        int value = 0;
        while (i < untrusted.size() && untrusted[i] >= QLatin1Char('0')
               && untrusted[i] <= QLatin1Char('9')) {
            if (i - start < 3) // a fourth digit is refused below; no int overflow meanwhile
                value = value * 10 + (untrusted[i].unicode() - '0');
            ++i;
        }
        qsizetype digits = i - start;
        if (digits == 0 || digits > 3 || value > 255)
            return std::nullopt;
        if (digits > 1 && untrusted[start] == QLatin1Char('0'))
            return std::nullopt; // leading zeros read as octal by some tools
        ++parts;
        if (i == untrusted.size())
            break;
        if (untrusted[i] != QLatin1Char('.'))
            return std::nullopt;
        ++i;
    }
    if (parts != 4)
        return std::nullopt;
    return untrusted.toString();
}

std::optional<QString> validIpAddress(QStringView untrusted)
{
    if (auto v4 = validIpv4(untrusted))
        return v4;
    if (untrusted.isEmpty() || untrusted.size() > 45 || !untrusted.contains(QLatin1Char(':')))
        return std::nullopt;
    for (QChar c : untrusted) {
        const bool hex = (c >= QLatin1Char('0') && c <= QLatin1Char('9'))
            || (c >= QLatin1Char('a') && c <= QLatin1Char('f'))
            || (c >= QLatin1Char('A') && c <= QLatin1Char('F'));
        if (!hex && c != QLatin1Char(':') && c != QLatin1Char('.'))
            return std::nullopt;
    }
    QHostAddress address;
    if (!address.setAddress(untrusted.toString())
        || address.protocol() != QAbstractSocket::IPv6Protocol)
        return std::nullopt;
    return address.toString();
}

std::optional<QString> validIpv6(QStringView untrusted)
{
    // At most 8 groups of 4 digits and 7 colons (39); "::" and the hexadecimal digits only.
    if (untrusted.size() < 2 || untrusted.size() > 39)
        return std::nullopt;
    for (QChar c : untrusted) {
        const bool hex = (c >= QLatin1Char('0') && c <= QLatin1Char('9'))
            || (c >= QLatin1Char('a') && c <= QLatin1Char('f'))
            || (c >= QLatin1Char('A') && c <= QLatin1Char('F'));
        if (!hex && c != QLatin1Char(':'))
            return std::nullopt;
    }
    QHostAddress address;
    if (!address.setAddress(untrusted.toString())
        || address.protocol() != QAbstractSocket::IPv6Protocol)
        return std::nullopt;
    return address.toString();
}

std::optional<QString> validDnsName(QStringView untrusted)
{
    QStringView name = untrusted;
    if (name.endsWith(QLatin1Char('.')))
        name.chop(1);
    if (name.isEmpty() || name.size() > 253)
        return std::nullopt;
    qsizetype labelLength = 0;
    for (qsizetype i = 0; i < name.size(); ++i) {
        const QChar c = name[i];
        if (c == QLatin1Char('.')) {
            if (labelLength == 0 || name[i - 1] == QLatin1Char('-'))
                return std::nullopt;
            labelLength = 0;
            continue;
        }
        const bool ok = (c >= QLatin1Char('a') && c <= QLatin1Char('z'))
            || (c >= QLatin1Char('A') && c <= QLatin1Char('Z'))
            || (c >= QLatin1Char('0') && c <= QLatin1Char('9')) || c == QLatin1Char('-')
            || c == QLatin1Char('_');
        if (!ok)
            return std::nullopt;
        if (labelLength == 0 && c == QLatin1Char('-'))
            return std::nullopt;
        if (++labelLength > 63)
            return std::nullopt;
    }
    if (name.back() == QLatin1Char('-'))
        return std::nullopt;
    return name.toString().toLower();
}

std::optional<QString> validHttpUrl(QStringView untrusted)
{
    if (untrusted.isEmpty() || untrusted.size() > 512)
        return std::nullopt;
    // Only characters that cannot close a quote or start an expansion in the qube's shell.
    for (QChar c : untrusted) {
        const ushort u = c.unicode();
        if (u <= 0x20 || u >= 0x7f)
            return std::nullopt;
        if (QStringView(u"'\"`$\\;&|<>(){}!*^").contains(c))
            return std::nullopt;
    }
    const QUrl url(untrusted.toString(), QUrl::StrictMode);
    if (!url.isValid()
        || (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https"))
        || !url.userInfo().isEmpty() || url.host().isEmpty())
        return std::nullopt;
    if (!validIpAddress(url.host()) && !validDnsName(url.host()))
        return std::nullopt;
    return url.toString(QUrl::FullyEncoded);
}

} // namespace netmap
