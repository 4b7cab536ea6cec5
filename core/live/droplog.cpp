#include "droplog.h"

#include "model/ipv4.h"
#include "model/snapshot.h"

#include <QHash>
#include <QSet>

namespace netmap {

namespace {

bool fail(QString *why, const char *reason)
{
    if (why)
        *why = QString::fromLatin1(reason);
    return false;
}

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

bool isUpper(char c)
{
    return c >= 'A' && c <= 'Z';
}

// Characters any value of a kernel log token may hold; everything else refuses the line.
bool isValueChar(char c)
{
    return (c >= 'a' && c <= 'z') || isUpper(c) || isDigit(c) || c == '.' || c == ':' || c == '_'
        || c == '-' || c == '@';
}

// A decimal number without sign or leading zeros, within [0, max].
std::optional<int> decimal(QByteArrayView v, int max)
{
    if (v.isEmpty() || v.size() > 10 || (v.size() > 1 && v.front() == '0'))
        return std::nullopt;
    qint64 n = 0;
    for (const char c : v) {
        if (!isDigit(c))
            return std::nullopt;
        n = n * 10 + (c - '0');
    }
    if (n > max)
        return std::nullopt;
    return int(n);
}

// A Linux interface name: 1-15 of letters, digits, '.', '_', '-', '@' (or empty for IN=/OUT=).
bool validInterface(QByteArrayView v)
{
    if (v.size() > 15)
        return false;
    for (const char c : v)
        if (!((c >= 'a' && c <= 'z') || isUpper(c) || isDigit(c) || c == '.' || c == '_' || c == '-'
              || c == '@'))
            return false;
    return true;
}

// MAC= is dest:source:type, hex pairs joined by ':' (empty on interfaces without one).
bool validMac(QByteArrayView v)
{
    if (v.isEmpty())
        return true;
    if (v.size() > 3 * 40)
        return false;
    const QList<QByteArray> parts = v.toByteArray().split(':');
    for (const QByteArray &p : parts) {
        if (p.size() != 2)
            return false;
        for (const char c : p)
            if (!(isDigit(c) || (c >= 'a' && c <= 'f')))
                return false;
    }
    return true;
}

bool validHexByte(QByteArrayView v)
{
    if (v.size() != 4 || v[0] != '0' || v[1] != 'x')
        return false;
    for (qsizetype i = 2; i < 4; ++i) {
        const char c = v[i];
        if (!(isDigit(c) || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

// Decimal digits (up to 10) or 0x and up to 8 hex digits.
bool validNumber(QByteArrayView v)
{
    if (v.startsWith("0x")) {
        if (v.size() < 3 || v.size() > 10)
            return false;
        for (const char c : v.sliced(2))
            if (!(isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
                return false;
        return true;
    }
    if (v.isEmpty() || v.size() > 10)
        return false;
    for (const char c : v)
        if (!isDigit(c))
            return false;
    return true;
}

QString icmpTypeName(int type, int code)
{
    switch (type) {
    case 0:
        return QStringLiteral("echo-reply");
    case 8:
        return QStringLiteral("echo-request");
    case 3:
        return QStringLiteral("destination-unreachable (code %1)").arg(code);
    case 11:
        return QStringLiteral("time-exceeded");
    default:
        return QStringLiteral("type %1 code %2").arg(type).arg(code);
    }
}

} // namespace

QString DroppedPacket::describeService() const
{
    if (protocol == QLatin1String("TCP") || protocol == QLatin1String("UDP"))
        return destinationPort >= 0 ? QStringLiteral("%1 %2").arg(protocol).arg(destinationPort)
                                    : protocol;
    if (protocol == QLatin1String("ICMP") && icmpType >= 0)
        return QStringLiteral("ICMP ") + icmpTypeName(icmpType, icmpCode);
    return protocol;
}

QByteArray dropLogPrefix(QByteArrayView token)
{
    return QByteArray(kDropLogPrefix) + token.toByteArray() + ": ";
}

QByteArray firewallRejectLogPrefix(QByteArrayView token)
{
    return QByteArray(kDropLogPrefix) + token.toByteArray() + "-fw: ";
}

std::optional<DroppedPacket> parseDropLogLine(QByteArrayView untrustedLine, QByteArrayView token,
                                              QString *why)
{
    QByteArrayView line = untrustedLine;
    if (line.size() > kMaxDropLogLine) {
        fail(why, "line longer than 1024 bytes");
        return std::nullopt;
    }
    // Optional dmesg time stamp: "[" spaces digits "." digits "] ".
    if (line.startsWith('[')) {
        const qsizetype close = line.indexOf(']');
        if (close < 0 || close > 24 || close + 1 >= line.size() || line[close + 1] != ' ') {
            fail(why, "malformed time stamp");
            return std::nullopt;
        }
        QByteArrayView stamp = line.sliced(1, close - 1);
        while (stamp.startsWith(' '))
            stamp = stamp.sliced(1);
        const qsizetype dot = stamp.indexOf('.');
        bool ok = dot > 0 && dot + 1 < stamp.size();
        for (qsizetype i = 0; ok && i < stamp.size(); ++i)
            ok = i == dot || isDigit(stamp[i]);
        if (!ok) {
            fail(why, "malformed time stamp");
            return std::nullopt;
        }
        line = line.sliced(close + 2);
    }
    const QByteArrayView start = QByteArrayView(kDropLogPrefix).chopped(1); // "netmap-drop"
    if (!line.startsWith(start)) {
        fail(why, "not a line of the program's logging rule");
        return std::nullopt;
    }
    const QByteArray prefix = dropLogPrefix(token);
    const QByteArray firewallPrefix = firewallRejectLogPrefix(token);
    const bool byFirewall = !token.isEmpty() && line.startsWith(firewallPrefix);
    if (token.isEmpty() || (!byFirewall && !line.startsWith(prefix))) {
        fail(why,
             line.startsWith(QByteArrayView(kDropLogPrefix)) ? "a line with another watch's token"
                                                             : "a line without this watch's token");
        return std::nullopt;
    }
    line = line.sliced(byFirewall ? firewallPrefix.size() : prefix.size());
    while (line.endsWith(' '))
        line.chop(1); // the kernel ends its lines with a space

    // "INCOMPLETE [N bytes]": the kernel could not log the whole header (a truncated packet);
    // the fields before it are still what the kernel saw. Taken out before the fields are read.
    bool incomplete = false;
    QByteArray rest = line.toByteArray();
    if (const qsizetype at = rest.indexOf("INCOMPLETE ["); at >= 0) {
        const qsizetype close = rest.indexOf(" bytes]", at);
        const QByteArrayView count = close > at + 12
            ? QByteArrayView(rest).sliced(at + 12, close - at - 12)
            : QByteArrayView();
        if (!decimal(count, 65535) || (at > 0 && rest[at - 1] != ' ')) {
            fail(why, "malformed INCOMPLETE field");
            return std::nullopt;
        }
        rest.remove(at, close + 7 - at);
        rest = rest.trimmed();
        incomplete = true;
    }
    line = QByteArrayView(rest);
    bool laterFragment = false; // FRAG:N with N > 0: no transport header in this packet

    DroppedPacket packet;
    packet.rejectedByQubeFirewall = byFirewall;
    QSet<QByteArray> seen;
    bool haveIn = false, haveOut = false, haveSrc = false, haveDst = false, haveProto = false;
    int tokens = 0;
    for (const QByteArray &token : line.toByteArray().split(' ')) {
        if (++tokens > 64) {
            fail(why, "too many fields");
            return std::nullopt;
        }
        if (token.isEmpty()) {
            fail(why, "two spaces in a row");
            return std::nullopt;
        }
        if (token.startsWith("FRAG:")) {
            // The fragment offset of a fragmented packet.
            const auto offset = decimal(QByteArrayView(token).sliced(5), 65535);
            if (!offset || seen.contains("FRAG")) {
                fail(why, "bad FRAG field");
                return std::nullopt;
            }
            seen.insert("FRAG");
            laterFragment = *offset > 0;
            continue;
        }
        const qsizetype eq = token.indexOf('=');
        const QByteArrayView key = eq < 0 ? QByteArrayView(token) : QByteArrayView(token).first(eq);
        const QByteArrayView value
            = eq < 0 ? QByteArrayView() : QByteArrayView(token).sliced(eq + 1);
        if (key.isEmpty() || key.size() > 10) {
            fail(why, "malformed field name");
            return std::nullopt;
        }
        for (const char c : key)
            if (!isUpper(c)) {
                fail(why, "malformed field name");
                return std::nullopt;
            }
        for (const char c : value)
            if (!isValueChar(c)) {
                fail(why, "a field value holds characters a kernel log line never has");
                return std::nullopt;
            }
        // The IP and ICMP headers share ID, the IP and UDP headers LEN; the rest appears once.
        // ACK is both a TCP flag and, with sequence logging, a number.
        if (key != "ID" && key != "ACK" && key != "LEN" && seen.contains(key.toByteArray())) {
            fail(why, "a field appears twice");
            return std::nullopt;
        }
        seen.insert(key.toByteArray());
        if (key == "IN" || key == "OUT") {
            if (eq < 0 || !validInterface(value)) {
                fail(why, "bad interface name");
                return std::nullopt;
            }
            (key == "IN" ? packet.inInterface : packet.outInterface)
                = QString::fromLatin1(value.data(), value.size());
            (key == "IN" ? haveIn : haveOut) = true;
        } else if (key == "SRC" || key == "DST") {
            const auto ip = validIpv4(QString::fromLatin1(value.data(), value.size()));
            if (!ip) {
                fail(why, "bad IPv4 address");
                return std::nullopt;
            }
            (key == "SRC" ? packet.source : packet.destination) = *ip;
            (key == "SRC" ? haveSrc : haveDst) = true;
        } else if (key == "PROTO") {
            if (value == "TCP" || value == "UDP" || value == "ICMP" || value == "UDPLITE"
                || value == "AH" || value == "ESP") {
                packet.protocol = QString::fromLatin1(value.data(), value.size());
            } else if (const auto n = decimal(value, 255)) {
                packet.protocol = QString::number(*n);
            } else {
                fail(why, "bad protocol");
                return std::nullopt;
            }
            haveProto = true;
        } else if (key == "SPT" || key == "DPT") {
            const auto port = decimal(value, 65535);
            if (!port) {
                fail(why, "bad port");
                return std::nullopt;
            }
            (key == "SPT" ? packet.sourcePort : packet.destinationPort) = *port;
        } else if (key == "TYPE" || key == "CODE") {
            const auto n = decimal(value, 255);
            if (!n) {
                fail(why, "bad ICMP type or code");
                return std::nullopt;
            }
            (key == "TYPE" ? packet.icmpType : packet.icmpCode) = *n;
        } else if (key == "MAC") {
            if (!validMac(value)) {
                fail(why, "bad MAC field");
                return std::nullopt;
            }
        } else if (key == "TOS" || key == "PREC") {
            if (!validHexByte(value)) {
                fail(why, "bad TOS or PREC field");
                return std::nullopt;
            }
        } else if (key == "LEN" || key == "TTL" || key == "ID" || key == "WINDOW" || key == "URGP"
                   || key == "SEQ" || key == "ACK" || key == "MARK" || key == "UID" || key == "GID"
                   || key == "RES" || key == "MTU") {
            // Numbers the program does not use; still numbers (RES and MARK are hex).
            if (eq >= 0 && !validNumber(value)) {
                fail(why, "bad number");
                return std::nullopt;
            }
        } else if (eq >= 0) {
            // An unknown KEY=VALUE with harmless characters: ignored (newer kernels add fields).
        }
        // Bare flags (DF, MF, CE, SYN, ACK, FIN, RST, PSH, URG, ECE, CWR) carry no value.
    }
    if (!haveIn || !haveOut || !haveSrc || !haveDst || !haveProto) {
        fail(why, "IN=, OUT=, SRC=, DST= or PROTO= missing");
        return std::nullopt;
    }
    const bool ports = packet.protocol == QLatin1String("TCP")
        || packet.protocol == QLatin1String("UDP") || packet.protocol == QLatin1String("UDPLITE");
    // A later fragment or a truncated packet has no (complete) transport header to log.
    const bool headerMissing = laterFragment || incomplete;
    if (ports && !headerMissing && (packet.sourcePort < 0 || packet.destinationPort < 0)) {
        fail(why, "TCP or UDP without SPT= and DPT=");
        return std::nullopt;
    }
    if (ports && packet.protocol == QLatin1String("TCP")
        && (packet.sourcePort == 0 || packet.destinationPort == 0)) {
        fail(why, "TCP port 0");
        return std::nullopt;
    }
    if (!ports && (packet.sourcePort >= 0 || packet.destinationPort >= 0)) {
        fail(why, "ports on a protocol without ports");
        return std::nullopt;
    }
    const bool icmp = packet.protocol == QLatin1String("ICMP");
    if ((icmp && !headerMissing && packet.icmpType < 0)
        || (!icmp && (packet.icmpType >= 0 || packet.icmpCode >= 0))) {
        fail(why, "ICMP fields do not match the protocol");
        return std::nullopt;
    }
    return packet;
}

DroppedFlow mapDroppedFlow(const Snapshot &snapshot, const QString &watchedQube,
                           const DroppedPacket &packet, const QDateTime &time)
{
    DroppedFlow flow;
    flow.time = time;
    flow.watchedQube = watchedQube;
    flow.packet = packet;
    const auto owner = [&snapshot](const QString &ip) {
        for (const Qube &q : snapshot.qubes)
            if (q.ip == ip)
                return q.name.toString();
        for (const Qube &q : snapshot.qubes)
            if (q.visibleIp == ip)
                return q.name.toString();
        return QString();
    };
    flow.fromQube = owner(packet.source);
    flow.toQube = owner(packet.destination);
    return flow;
}

} // namespace netmap
