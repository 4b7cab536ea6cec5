#include "firewallrule.h"

#include <QStringList>

namespace netmap {

QString FirewallRule::describe() const
{
    if (!isReadable())
        return QStringLiteral("cannot be read: %1").arg(unreadable);
    QStringList words {action};
    if (!proto.isEmpty())
        words << proto;
    if (specialtarget == QLatin1String("dns"))
        words << QStringLiteral("to the DNS servers");
    else if (!dst4.isEmpty())
        words << QStringLiteral("to") << dst4;
    else if (!dst6.isEmpty())
        words << QStringLiteral("to") << dst6;
    else if (!dsthost.isEmpty())
        words << QStringLiteral("to") << dsthost;
    else
        words << QStringLiteral("to anywhere");
    if (hasPorts()) {
        if (portFrom == portTo)
            words << QStringLiteral("port %1").arg(portFrom);
        else
            words << QStringLiteral("ports %1-%2").arg(portFrom).arg(portTo);
    }
    if (icmptype)
        words << QStringLiteral("icmp type %1").arg(*icmptype);
    if (expire)
        words << QStringLiteral("(expires %1)").arg(*expire);
    return words.join(QLatin1Char(' '));
}

QString FirewallRule::toRaw() const
{
    if (!isReadable())
        return QStringLiteral("# cannot be read: ") + unreadable;
    QStringList tokens {QStringLiteral("action=") + action};
    auto add = [&tokens](const char *key, const QString &value) {
        if (!value.isEmpty())
            tokens << QString::fromLatin1(key) + QLatin1Char('=') + value;
    };
    add("dst4", dst4);
    add("dst6", dst6);
    add("dsthost", dsthost);
    add("proto", proto);
    if (hasPorts())
        tokens << QStringLiteral("dstports=%1-%2").arg(portFrom).arg(portTo);
    if (icmptype)
        tokens << QStringLiteral("icmptype=%1").arg(*icmptype);
    add("specialtarget", specialtarget);
    if (expire)
        tokens << QStringLiteral("expire=%1").arg(*expire);
    if (!comment.isEmpty())
        tokens << QStringLiteral("comment=") + comment;
    return tokens.join(QLatin1Char(' '));
}

} // namespace netmap
