// The values a ruleset speaks of: IP protocol numbers and names, IPv4 and IPv6 addresses and
// prefixes as ranges, interface name patterns, and untrusted text made safe to show.

#include "rulesetproof_p.h"

#include <QHash>
#include <QHostAddress>

namespace netmap::rulesetproof {

bool portBearing(quint32 proto)
{
    return proto == 6 || proto == 17 || proto == 33 || proto == 132 || proto == 136;
}

std::optional<quint32> protoNumber(const QString &name)
{
    static const QHash<QString, quint32> names {
        {QStringLiteral("icmp"), 1},       {QStringLiteral("igmp"), 2},
        {QStringLiteral("ipip"), 4},       {QStringLiteral("tcp"), 6},
        {QStringLiteral("egp"), 8},        {QStringLiteral("pup"), 12},
        {QStringLiteral("udp"), 17},       {QStringLiteral("idp"), 22},
        {QStringLiteral("tp"), 29},        {QStringLiteral("dccp"), 33},
        {QStringLiteral("ipv6"), 41},      {QStringLiteral("rsvp"), 46},
        {QStringLiteral("gre"), 47},       {QStringLiteral("esp"), 50},
        {QStringLiteral("ah"), 51},        {QStringLiteral("icmpv6"), 58},
        {QStringLiteral("ipv6-icmp"), 58}, {QStringLiteral("mtp"), 92},
        {QStringLiteral("beetph"), 94},    {QStringLiteral("encap"), 98},
        {QStringLiteral("pim"), 103},      {QStringLiteral("comp"), 108},
        {QStringLiteral("l2tp"), 115},     {QStringLiteral("sctp"), 132},
        {QStringLiteral("udplite"), 136},  {QStringLiteral("mpls-in-ip"), 137},
        {QStringLiteral("ethernet"), 143}, {QStringLiteral("raw"), 255},
        {QStringLiteral("mptcp"), 262},
    };
    const QString n = name.toLower();
    bool ok = false;
    const uint v = n.toUInt(&ok);
    if (ok && v <= 255)
        return v;
    const auto it = names.constFind(n);
    if (it == names.cend() || *it > 255)
        return std::nullopt;
    return *it;
}

QString protoName(quint32 p)
{
    switch (p) {
    case 1:
        return QStringLiteral("icmp");
    case 6:
        return QStringLiteral("tcp");
    case 17:
        return QStringLiteral("udp");
    case 33:
        return QStringLiteral("dccp");
    case 47:
        return QStringLiteral("gre");
    case 50:
        return QStringLiteral("esp");
    case 132:
        return QStringLiteral("sctp");
    case 136:
        return QStringLiteral("udplite");
    default:
        return QStringLiteral("ip protocol %1").arg(p);
    }
}

std::optional<quint32> parseIpv4(const QString &s)
{
    const QStringList parts = s.split(u'.');
    if (parts.size() != 4)
        return std::nullopt;
    quint32 v = 0;
    for (const QString &p : parts) {
        if (p.isEmpty() || p.size() > 3)
            return std::nullopt;
        bool ok = false;
        const uint b = p.toUInt(&ok, 10);
        if (!ok || b > 255)
            return std::nullopt;
        v = (v << 8) | b;
    }
    return v;
}

std::optional<U128> parseIpv6(const QString &s)
{
    if (!s.contains(u':') || s.size() > 45)
        return std::nullopt;
    QHostAddress a;
    if (!a.setAddress(s) || a.protocol() != QAbstractSocket::IPv6Protocol || !a.scopeId().isEmpty())
        return std::nullopt;
    const Q_IPV6ADDR b = a.toIPv6Address();
    U128 v = 0;
    for (int i = 0; i < 16; ++i)
        v = (v << 8) | b[i];
    return v;
}

QString ip6Text(U128 v)
{
    Q_IPV6ADDR b;
    for (int i = 15; i >= 0; --i) {
        b[i] = quint8(v & 0xff);
        v >>= 8;
    }
    return QHostAddress(b).toString();
}

std::optional<Range6> prefixRange6(U128 addr, int len)
{
    if (len < 0 || len > 128)
        return std::nullopt;
    const U128 all = ~U128(0);
    const U128 mask = len == 0 ? U128(0) : (all << (128 - len));
    return Range6 {addr & mask, (addr & mask) | ~mask};
}

QString ipText(quint32 v)
{
    return QStringLiteral("%1.%2.%3.%4")
        .arg(v >> 24)
        .arg((v >> 16) & 0xff)
        .arg((v >> 8) & 0xff)
        .arg(v & 0xff);
}

std::optional<Range> prefixRange(quint32 addr, int len)
{
    if (len < 0 || len > 32)
        return std::nullopt;
    const quint32 mask = len == 0 ? 0 : (0xffffffffu << (32 - len));
    return Range {addr & mask, (addr & mask) | ~mask};
}

QString shown(const QString &untrusted, int cap)
{
    QString out;
    for (QChar c : untrusted) {
        if (out.size() >= cap) {
            out += QStringLiteral("…");
            break;
        }
        const char16_t u = c.unicode();
        out += (u >= 0x20 && u < 0x7f) ? c : QChar(u'?');
    }
    return out;
}

bool nameMatches(const QString &pattern, const QString &name)
{
    if (pattern.endsWith(u'*') && !pattern.endsWith(QStringLiteral("\\*")))
        return name.startsWith(pattern.first(pattern.size() - 1));
    return pattern == name;
}

quint32 domainMax(Field f)
{
    switch (f) {
    case Field::L4Proto:
        return 255;
    case Field::Sport:
    case Field::Dport:
        return 65535;
    default:
        return 0xffffffffu;
    }
}

} // namespace netmap::rulesetproof
