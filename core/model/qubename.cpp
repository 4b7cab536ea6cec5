#include "qubename.h"

namespace netmap {

namespace {

bool isAsciiLetter(QChar c)
{
    return (c >= QLatin1Char('a') && c <= QLatin1Char('z'))
        || (c >= QLatin1Char('A') && c <= QLatin1Char('Z'));
}

bool isAsciiDigit(QChar c)
{
    return c >= QLatin1Char('0') && c <= QLatin1Char('9');
}

} // namespace

std::optional<QubeName> QubeName::fromUntrusted(QStringView untrustedName, QString *why)
{
    auto refuse = [why](const char *reason) -> std::optional<QubeName> {
        if (why)
            *why = QString::fromLatin1(reason);
        return std::nullopt;
    };
    if (untrustedName.isEmpty())
        return refuse("empty qube name");
    if (untrustedName.size() > 31)
        return refuse("qube name longer than 31 characters");
    if (!isAsciiLetter(untrustedName.front()))
        return refuse("qube name must start with a letter");
    for (QChar c : untrustedName) {
        if (!isAsciiLetter(c) && !isAsciiDigit(c) && c != QLatin1Char('_') && c != QLatin1Char('-')
            && c != QLatin1Char('.'))
            return refuse("qube name may hold only letters, digits, '_', '-' and '.'");
    }
    if (untrustedName == QLatin1String("none") || untrustedName == QLatin1String("default")
        || untrustedName == QLatin1String("Domain-0"))
        return refuse("reserved word used as a qube name");
    if (untrustedName.endsWith(QLatin1String("-dm")))
        return refuse("qube name must not end in -dm");
    return QubeName(untrustedName.toString());
}

} // namespace netmap
