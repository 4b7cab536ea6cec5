// The parser of `qvm-firewall QUBE --raw list` (qvmparsers.h: parseFirewall): one rule a line as
// key=value tokens, each key and value checked against what qubesd accepts; a line that cannot
// be read is kept in its place as unreadable, with the reason.

#include "qvmparsers.h"

#include "model/ipv4.h"
#include "model/untrustedtext.h"
#include "qvmparsers_p.h"

#include <QSet>

#include <algorithm>

namespace netmap {

using namespace qvmtext;

namespace {

constexpr int maxFirewallRules = 10000;

// Decimal digits only, no sign, no leading zero (except "0"), at most maxDigits.
std::optional<qint64> parseDecimal(QByteArrayView value, int maxDigits)
{
    if (value.isEmpty() || value.size() > maxDigits)
        return std::nullopt;
    if (value.size() > 1 && value.front() == '0')
        return std::nullopt;
    qint64 n = 0;
    for (const char c : value) {
        if (c < '0' || c > '9')
            return std::nullopt;
        n = n * 10 + (c - '0');
    }
    return n;
}

std::optional<QString> parsePrefix(QByteArrayView untrusted, bool v6, QString *canonical)
{
    const qsizetype slash = untrusted.indexOf('/');
    if (slash < 0)
        return QStringLiteral("no /prefix");
    const QByteArrayView addressPart = untrusted.first(slash);
    const auto prefix = parseDecimal(untrusted.sliced(slash + 1), 3);
    if (!prefix || *prefix > (v6 ? 128 : 32))
        return QStringLiteral("bad prefix length");
    std::optional<QString> address;
    if (v6) {
        address = validIpAddress(latin(addressPart));
        if (address && !address->contains(u':'))
            address.reset();
    } else {
        address = validIpv4(latin(addressPart));
    }
    if (!address)
        return v6 ? QStringLiteral("not an IPv6 address") : QStringLiteral("not an IPv4 address");
    *canonical = QStringLiteral("%1/%2").arg(*address).arg(*prefix);
    return std::nullopt;
}

std::optional<QString> parseFirewallLine(QByteArrayView line, FirewallRule *rule)
{
    QSet<QByteArray> seen;
    qsizetype pos = 0;
    while (pos < line.size()) {
        if (line[pos] == ' ') {
            ++pos;
            continue;
        }
        qsizetype end = line.indexOf(' ', pos);
        if (end < 0)
            end = line.size();
        const QByteArrayView token = line.sliced(pos, end - pos);
        const qsizetype eq = token.indexOf('=');
        if (eq <= 0)
            return QStringLiteral("%1 is not key=value").arg(snippet(token));
        const QByteArrayView key = token.first(eq);
        if (!isToken(key, 16))
            return QStringLiteral("bad key %1").arg(snippet(key));
        if (seen.contains(key.toByteArray()))
            return QStringLiteral("duplicate key %1").arg(latin(key));
        seen.insert(key.toByteArray());

        if (key == "comment") {
            // The rest of the line, spaces included. Plain text; control characters were
            // refused for the whole line already.
            const QByteArrayView text = line.sliced(pos + eq + 1);
            rule->comment = QString::fromUtf8(text.data(), text.size());
            for (QChar &c : rule->comment) {
                // No C1 controls or bidi/format characters that could disguise the text. Bytes
                // that are not UTF-8 become '?' too, not U+FFFD (3 bytes each): toRaw() of the
                // rule must still fit a line, or a saved snapshot would not load again.
                if (untrustedtext::isHidden(c.unicode()) || c == QChar::ReplacementCharacter)
                    c = u'?';
            }
            break;
        }
        const QByteArrayView value = token.sliced(eq + 1);
        const QString keyName = latin(key);
        const auto bad = [&](const QString &why) {
            return QStringLiteral("bad %1 %2: %3").arg(keyName, snippet(value), why);
        };
        if (!isPrintableAscii(value))
            return bad(QStringLiteral("not plain ASCII"));

        if (key == "action") {
            if (value != "accept" && value != "drop")
                return bad(QStringLiteral("not accept or drop"));
            rule->action = latin(value);
        } else if (key == "dst4" || key == "dst6") {
            const bool v6 = key == "dst6";
            QString canonical;
            if (auto why = parsePrefix(value, v6, &canonical))
                return bad(*why);
            (v6 ? rule->dst6 : rule->dst4) = canonical;
        } else if (key == "dsthost") {
            // What qubesd accepts as a host name: lower-case letters, digits, '.', '_', '-'.
            const bool host = !value.isEmpty() && value.size() <= 255
                && std::all_of(value.begin(), value.end(), [](char c) {
                       return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.'
                           || c == '_' || c == '-';
                   });
            if (!host)
                return bad(QStringLiteral("not a host name of a-z, 0-9, '.', '_' and '-'"));
            rule->dsthost = latin(value);
        } else if (key == "proto") {
            if (value != "tcp" && value != "udp" && value != "icmp")
                return bad(QStringLiteral("not tcp, udp or icmp"));
            rule->proto = latin(value);
        } else if (key == "dstports") {
            const qsizetype dash = value.indexOf('-');
            const auto from = dash > 0 ? parseDecimal(value.first(dash), 5) : std::nullopt;
            const auto to = dash > 0 ? parseDecimal(value.sliced(dash + 1), 5) : std::nullopt;
            if (!from || !to || *to > 65535 || *from > *to)
                return bad(QStringLiteral("not a port range N-M within 0-65535"));
            rule->portFrom = int(*from);
            rule->portTo = int(*to);
        } else if (key == "icmptype") {
            const auto type = parseDecimal(value, 3);
            if (!type || *type > 255)
                return bad(QStringLiteral("not an ICMP type 0-255"));
            rule->icmptype = int(*type);
        } else if (key == "specialtarget") {
            if (value != "dns")
                return bad(QStringLiteral("not dns"));
            rule->specialtarget = latin(value);
        } else if (key == "expire") {
            const auto expire = parseDecimal(value, 12);
            if (!expire)
                return bad(QStringLiteral("not epoch seconds"));
            rule->expire = *expire;
        } else {
            return QStringLiteral("unknown key %1").arg(snippet(key));
        }
        pos = end;
    }

    if (rule->action.isEmpty())
        return QStringLiteral("no action");
    const int destinations
        = int(!rule->dst4.isEmpty()) + int(!rule->dst6.isEmpty()) + int(!rule->dsthost.isEmpty());
    if (destinations > 1)
        return QStringLiteral("more than one of dst4, dst6, dsthost");
    if (rule->hasPorts() && rule->proto != QLatin1String("tcp")
        && rule->proto != QLatin1String("udp"))
        return QStringLiteral("dstports without proto tcp or udp");
    if (rule->icmptype && rule->proto != QLatin1String("icmp"))
        return QStringLiteral("icmptype without proto icmp");
    return std::nullopt;
}

// Control characters (and DEL) anywhere refuse a firewall line; UTF-8 is allowed for comments.
bool hasControl(QByteArrayView bytes)
{
    return std::any_of(bytes.begin(), bytes.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u < 0x20 || u == 0x7f;
    });
}

} // namespace

FirewallParse parseFirewall(const QByteArray &untrustedOutput)
{
    FirewallParse result;
    const QList<QByteArrayView> lines = splitLines(untrustedOutput);
    int rules = 0;
    for (int i = 0; i < lines.size(); ++i) {
        const int lineNo = i + 1;
        const QByteArrayView line = lines[i];
        if (isBlank(line))
            continue;
        const auto reject = [&](const QString &reason) {
            result.rejected.push_back({lineNo, reason});
            FirewallRule marked;
            marked.unreadable = QStringLiteral("line %1: %2").arg(lineNo).arg(reason);
            result.listed << marked;
        };
        static constexpr QByteArrayView savedUnreadable = "# cannot be read: ";
        if (line.startsWith(savedUnreadable)) {
            // A snapshot's record of a rule that could not be read: shown as such again, with
            // the reason in the same plain characters a reason is made of.
            const QByteArrayView why = line.sliced(savedUnreadable.size());
            FirewallRule marked;
            marked.unreadable = isPrintableAscii(why) && !why.isEmpty()
                ? latin(why.first(std::min<qsizetype>(why.size(), 300)))
                : QStringLiteral("(reason not readable)");
            result.listed << marked;
            ++rules;
            continue;
        }
        if (++rules > maxFirewallRules) {
            reject(QStringLiteral("more than %1 rules; the rest is ignored").arg(maxFirewallRules));
            break;
        }
        if (line.size() > maxRowBytes) {
            reject(QStringLiteral("rule longer than %1 bytes").arg(maxRowBytes));
            continue;
        }
        if (hasControl(line)) {
            reject(QStringLiteral("rule holds control characters"));
            continue;
        }
        FirewallRule rule;
        if (auto why = parseFirewallLine(line, &rule)) {
            reject(*why);
            continue;
        }
        result.rules << rule;
        result.listed << rule;
    }
    return result;
}

} // namespace netmap
