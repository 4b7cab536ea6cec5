#include "qvmparsers.h"

#include "model/ipv4.h"
#include "model/untrustedtext.h"

#include <QHash>
#include <QSet>

#include <algorithm>

namespace netmap {

namespace {

constexpr int maxRows = 100000;
constexpr int maxRowBytes = 4096; // a row without its tags; a firewall rule
constexpr int maxTagBytes = 64 << 10; // all tags of one qube together (a tag has no length limit)
constexpr int maxTags = 1024;
constexpr int maxFirewallRules = 10000;
constexpr int maxPrefsBytes = 256;
constexpr int maxSnippet = 24;

// Splits on '\n', drops a trailing '\r' from each line. The last piece after a final '\n' is
// not a line.
QList<QByteArrayView> splitLines(QByteArrayView data)
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

QList<QByteArrayView> splitOn(QByteArrayView data, char separator)
{
    QList<QByteArrayView> parts;
    qsizetype start = 0;
    for (;;) {
        const qsizetype end = data.indexOf(separator, start);
        if (end < 0) {
            parts << data.sliced(start);
            return parts;
        }
        parts << data.sliced(start, end - start);
        start = end + 1;
    }
}

using untrustedtext::isPrintableAscii;

bool isBlank(QByteArrayView bytes)
{
    return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == ' ' || c == '\t'; });
}

// A short, harmless piece of an untrusted value for a reason: printable ASCII only, no quotes.
QString snippet(QByteArrayView untrusted)
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

bool isToken(QByteArrayView value, int maxLength, bool allowDot = false)
{
    if (value.isEmpty() || value.size() > maxLength)
        return false;
    return std::all_of(value.begin(), value.end(), [allowDot](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
            || c == '_' || c == '-' || (allowDot && c == '.');
    });
}

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

QString latin(QByteArrayView bytes)
{
    return QString::fromLatin1(bytes.data(), bytes.size());
}

bool isNoValue(QByteArrayView cell)
{
    return cell == "-";
}

// ---- qvm-ls ------------------------------------------------------------------------------

enum class Field {
    Name,
    Class,
    State,
    Label,
    Template,
    Netvm,
    DefaultDispvm,
    ProvidesNetwork,
    Ip,
    VisibleIp,
    Gateway,
    VisibleGateway,
    Tags,
    IsPreload,
    Ip6,
    VisibleIp6,
    Gateway6,
    Ignored
};

Field fieldFromName(const QString &name)
{
    static const QHash<QString, Field> fields = {
        {QStringLiteral("name"), Field::Name},
        {QStringLiteral("class"), Field::Class},
        {QStringLiteral("state"), Field::State},
        {QStringLiteral("label"), Field::Label},
        {QStringLiteral("template"), Field::Template},
        {QStringLiteral("netvm"), Field::Netvm},
        {QStringLiteral("default_dispvm"), Field::DefaultDispvm},
        {QStringLiteral("provides_network"), Field::ProvidesNetwork},
        {QStringLiteral("ip"), Field::Ip},
        {QStringLiteral("visible_ip"), Field::VisibleIp},
        {QStringLiteral("gateway"), Field::Gateway},
        {QStringLiteral("visible_gateway"), Field::VisibleGateway},
        {QStringLiteral("tags"), Field::Tags},
        {QStringLiteral("is_preload"), Field::IsPreload},
        {QStringLiteral("ip6"), Field::Ip6},
        {QStringLiteral("visible_ip6"), Field::VisibleIp6},
        {QStringLiteral("gateway6"), Field::Gateway6},
    };
    return fields.value(name.toLower(), Field::Ignored);
}

// Validates one cell into the qube; returns a reason on refusal.
std::optional<QString> applyCell(Qube &qube, Field field, const QString &fieldName,
                                 QByteArrayView untrustedCell, bool *preload, QString *note)
{
    const auto qubeRef = [&](std::optional<QubeName> &target) -> std::optional<QString> {
        if (isNoValue(untrustedCell)) {
            target.reset();
            return std::nullopt;
        }
        QString why;
        auto name = QubeName::fromUntrusted(latin(untrustedCell), &why);
        if (!name)
            return QStringLiteral("bad %1 %2: %3").arg(fieldName, snippet(untrustedCell), why);
        target = *name;
        return std::nullopt;
    };
    const auto address = [&](QString &target) -> std::optional<QString> {
        if (isNoValue(untrustedCell)) {
            target.clear();
            return std::nullopt;
        }
        const auto ip = validIpAddress(latin(untrustedCell));
        if (!ip)
            return QStringLiteral("bad %1 %2: not an IP address")
                .arg(fieldName, snippet(untrustedCell));
        target = *ip;
        return std::nullopt;
    };
    // Qubes' ip6 properties are IPv6Address: anything else (IPv4, a zone id) is not its output.
    const auto address6 = [&](QString &target) -> std::optional<QString> {
        if (isNoValue(untrustedCell)) {
            target.clear();
            return std::nullopt;
        }
        const auto ip = validIpv6(latin(untrustedCell));
        if (!ip)
            return QStringLiteral("bad %1 %2: not an IPv6 address")
                .arg(fieldName, snippet(untrustedCell));
        target = *ip;
        return std::nullopt;
    };
    const auto token = [&](QString &target, bool required) -> std::optional<QString> {
        if (isNoValue(untrustedCell)) {
            if (required)
                return QStringLiteral("no %1").arg(fieldName);
            target.clear();
            return std::nullopt;
        }
        if (!isToken(untrustedCell, 32))
            return QStringLiteral("bad %1 %2").arg(fieldName, snippet(untrustedCell));
        target = latin(untrustedCell);
        return std::nullopt;
    };

    switch (field) {
    case Field::Name: {
        if (isNoValue(untrustedCell))
            return QStringLiteral("no name");
        QString why;
        auto name = QubeName::fromUntrusted(latin(untrustedCell), &why);
        if (!name)
            return QStringLiteral("bad name %1: %2").arg(snippet(untrustedCell), why);
        qube.name = *name;
        return std::nullopt;
    }
    case Field::Class:
        return token(qube.klass, true);
    case Field::State:
        return token(qube.state, false);
    case Field::Label:
        return token(qube.label, false);
    case Field::Template:
        return qubeRef(qube.templ);
    case Field::Netvm:
        return qubeRef(qube.netvm);
    case Field::DefaultDispvm:
        return qubeRef(qube.defaultDispvm);
    case Field::ProvidesNetwork:
        // dom0 has no such property: '-'.
        if (untrustedCell == "True")
            qube.providesNetwork = true;
        else if (untrustedCell == "False" || isNoValue(untrustedCell))
            qube.providesNetwork = false;
        else
            return QStringLiteral("bad %1 %2: not True or False")
                .arg(fieldName, snippet(untrustedCell));
        return std::nullopt;
    case Field::Ip:
        return address(qube.ip);
    case Field::VisibleIp:
        return address(qube.visibleIp);
    case Field::Gateway:
        return address(qube.gateway);
    case Field::VisibleGateway:
        return address(qube.visibleGateway);
    case Field::Ip6:
        return address6(qube.ip6);
    case Field::VisibleIp6:
        return address6(qube.visibleIp6);
    case Field::Gateway6:
        return address6(qube.gateway6);
    case Field::Tags: {
        // Tags have no length limit in Qubes: a long or unusual tag never drops the qube. What
        // does not fit the caps, or is not a tag Qubes would accept, is left out and noted.
        qube.tags.clear();
        if (isNoValue(untrustedCell))
            return std::nullopt;
        qsizetype kept = 0;
        int left = 0;
        for (const QByteArrayView part : splitOn(untrustedCell, ',')) {
            // Qubes takes [a-zA-Z0-9_.-]+ and nothing else: anything else is not its output.
            if (!isToken(part, int(untrustedCell.size()), true))
                return QStringLiteral("bad tag %1").arg(snippet(part));
            if (kept + part.size() > maxTagBytes || qube.tags.size() >= maxTags) {
                ++left;
                continue;
            }
            const QString tag = latin(part);
            if (!qube.tags.contains(tag)) {
                qube.tags << tag;
                kept += part.size();
            }
        }
        if (left > 0 && note)
            *note = QStringLiteral("%1 tag(s) left out (beyond %2 tags or %3 KiB of tags)")
                        .arg(left)
                        .arg(maxTags)
                        .arg(maxTagBytes >> 10);
        return std::nullopt;
    }
    case Field::IsPreload:
        // 4.3 preloaded disposables; 4.2 has no such property and prints '-'.
        if (untrustedCell == "True")
            *preload = true;
        else if (untrustedCell != "False" && !isNoValue(untrustedCell))
            return QStringLiteral("bad %1 %2: not True or False")
                .arg(fieldName, snippet(untrustedCell));
        return std::nullopt;
    case Field::Ignored:
        return std::nullopt;
    }
    return std::nullopt;
}

// ---- qvm-firewall ------------------------------------------------------------------------

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

QStringList qvmLsFields()
{
    return {QStringLiteral("name"),
            QStringLiteral("class"),
            QStringLiteral("state"),
            QStringLiteral("label"),
            QStringLiteral("template"),
            QStringLiteral("netvm"),
            QStringLiteral("default_dispvm"),
            QStringLiteral("provides_network"),
            QStringLiteral("ip"),
            QStringLiteral("visible_ip"),
            QStringLiteral("gateway"),
            QStringLiteral("visible_gateway"),
            QStringLiteral("tags"),
            QStringLiteral("is_preload"),
            QStringLiteral("ip6"),
            QStringLiteral("visible_ip6"),
            QStringLiteral("gateway6")};
}

QStringList qvmLsArguments()
{
    return {QStringLiteral("--raw-data"), QStringLiteral("--fields=") + qvmLsFields().join(u',')};
}

QvmLsParse parseQvmLs(const QByteArray &untrustedOutput, const QStringList &fields)
{
    QvmLsParse result;
    std::vector<Field> kinds;
    kinds.reserve(fields.size());
    for (const QString &field : fields)
        kinds.push_back(fieldFromName(field));
    const bool hasName = std::find(kinds.begin(), kinds.end(), Field::Name) != kinds.end();
    const bool hasTags = std::find(kinds.begin(), kinds.end(), Field::Tags) != kinds.end();

    QHash<QString, int> firstLine; // name -> line where it was accepted
    const QList<QByteArrayView> lines = splitLines(untrustedOutput);
    int rows = 0;
    for (int i = 0; i < lines.size(); ++i) {
        const int lineNo = i + 1;
        const QByteArrayView line = lines[i];
        if (isBlank(line))
            continue;
        const auto reject = [&](const QString &reason) {
            result.rejected.push_back({lineNo, reason});
        };
        if (++rows > maxRows) {
            reject(QStringLiteral("more than %1 rows; the rest is ignored").arg(maxRows));
            break;
        }
        // The tags cell may be long (tags have no length limit): with tags, each other cell is
        // bounded instead, and the whole output is (qvm-ls's output cap).
        if (!hasTags && line.size() > maxRowBytes) {
            reject(QStringLiteral("row longer than %1 bytes").arg(maxRowBytes));
            continue;
        }
        if (!isPrintableAscii(line)) {
            reject(QStringLiteral("row holds control or non-ASCII characters"));
            continue;
        }
        if (!hasName) {
            reject(QStringLiteral("the field list has no name"));
            continue;
        }
        const QList<QByteArrayView> cells = splitOn(line, '|');
        if (cells.size() != qsizetype(kinds.size())) {
            reject(
                QStringLiteral("expected %1 cells, found %2").arg(kinds.size()).arg(cells.size()));
            continue;
        }
        Qube qube;
        std::optional<QString> why;
        bool preload = false;
        QString note;
        for (size_t c = 0; c < kinds.size() && !why; ++c) {
            if (kinds[c] != Field::Tags && cells[int(c)].size() > maxRowBytes)
                why = QStringLiteral("%1 cell longer than %2 bytes")
                          .arg(fields[int(c)])
                          .arg(maxRowBytes);
            else
                why = applyCell(qube, kinds[c], fields[int(c)], cells[int(c)], &preload, &note);
        }
        if (why) {
            reject(*why);
            continue;
        }
        if (preload) {
            ++result.preloaded; // a preloaded disposable: not on the map
            continue;
        }
        if (!note.isEmpty())
            result.notes.push_back(
                {lineNo, QStringLiteral("%1: %2").arg(qube.name.toString(), note)});
        const QString &name = qube.name.toString();
        if (const auto it = firstLine.constFind(name); it != firstLine.cend()) {
            reject(QStringLiteral("duplicate name %1 (first on line %2)").arg(name).arg(*it));
            continue;
        }
        firstLine.insert(name, lineNo);
        result.qubes.push_back(std::move(qube));
    }
    std::sort(result.qubes.begin(), result.qubes.end(),
              [](const Qube &a, const Qube &b) { return a.name < b.name; });
    return result;
}

std::optional<PrefsValue> parsePrefsQubeValue(const QByteArray &untrustedOutput, QString *why)
{
    const auto refuse = [why](const QString &reason) -> std::optional<PrefsValue> {
        if (why)
            *why = reason;
        return std::nullopt;
    };
    if (untrustedOutput.size() > maxPrefsBytes)
        return refuse(QStringLiteral("output longer than %1 bytes").arg(maxPrefsBytes));
    const QByteArray trimmed = untrustedOutput.trimmed();
    if (trimmed.isEmpty())
        return PrefsValue {};
    if (trimmed.contains('\n') || trimmed.contains('\r'))
        return refuse(QStringLiteral("more than one line"));
    if (!isPrintableAscii(trimmed))
        return refuse(QStringLiteral("control or non-ASCII characters"));
    QString reason;
    const auto name = QubeName::fromUntrusted(latin(trimmed), &reason);
    if (!name)
        return refuse(QStringLiteral("bad qube name %1: %2").arg(snippet(trimmed), reason));
    return PrefsValue {false, name->toString()};
}

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
