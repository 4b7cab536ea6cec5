#include "linkstyles.h"

namespace netmap::scenestyle {

QString exitKindOf(const Colouring &colouring, const QString &ip)
{
    for (const ExitInfo &exit : colouring.exits)
        if (exit.ip == ip)
            return exit.kind;
    return QString();
}

QColor exitColourOf(const Colouring &colouring, const QString &ip)
{
    for (const ExitInfo &exit : colouring.exits)
        if (exit.ip == ip)
            return QColor(exit.colour);
    return QColor(Colouring::unverifiedColour());
}

LinkStyle styleOf(const Colouring &colouring, const QString &lower, bool toInternet)
{
    LinkStyle style;
    if (toInternet) {
        style.externalIp = colouring.qubeExitIp.value(lower);
        style.verified = !style.externalIp.isEmpty();
    } else {
        const LinkColour c = colouring.links.value(lower);
        style.externalIp = c.externalIp;
        style.verified = c.verified;
        style.failed = c.failed;
        style.stale = c.stale;
    }
    style.colour = style.verified ? exitColourOf(colouring, style.externalIp)
                                  : QColor(Colouring::unverifiedColour());
    if (style.failed)
        style.colour = QColor(Colouring::failedColour());
    style.exitKind = exitKindOf(colouring, style.externalIp);
    return style;
}

} // namespace netmap::scenestyle
