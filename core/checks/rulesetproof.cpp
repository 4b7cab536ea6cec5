#include "rulesetproof.h"

#include <QHash>
#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>
#include <QMap>
#include <QSet>

#include <algorithm>

namespace netmap {

namespace {

// Caps on hostile input: beyond them the evaluator says it cannot prove, never guesses.
constexpr int kMaxItems = 20000;
constexpr int kMaxRules = 5000;
constexpr int kMaxExprsPerRule = 64;
constexpr int kMaxSetElements = 10000;
constexpr int kMaxDepth = 16; // nft's own jump depth limit
constexpr qint64 kMaxPacketClasses = 400000;
constexpr qint64 kMaxWork = 60000000; // packet classes x rules

enum class Field {
    IifName,
    OifName,
    IifGroup,
    OifGroup,
    CtState,
    L4Proto,
    NfProto,
    Saddr,
    Daddr,
    Saddr6,
    Daddr6,
    Sport,
    Dport,
    Never, // a match that never holds
    Unknown,
};

enum class Tri { False, True, Unknown };

struct Range
{
    quint32 lo = 0;
    quint32 hi = 0;
};

__extension__ typedef unsigned __int128 U128; // an IPv6 address, host order

struct Range6
{
    U128 lo = 0;
    U128 hi = 0;
};

struct Cond
{
    Field field = Field::Unknown;
    bool negate = false;
    QStringList names; // name patterns ("vif*")
    QList<Range> ranges;
    QList<Range6> ranges6; // Saddr6, Daddr6
    // 4 or 6: the match reads the IPv4 (ip ...) or IPv6 (ip6 ..., icmpv6 ...) header and so never
    // holds for a packet of the other family (nft adds that dependency itself); 0: either.
    int onlyFamily = 0;
    quint32 ctMask = 0;
    QList<quint32> protoDep; // ports: the packet's l4proto must be one of these
    bool thDep = false; // th sport/dport: raw bytes, unknown for a protocol without ports
    QString text;
};

enum class Action { None, Accept, Drop, Reject, Jump, Goto, Return, Unknown };

struct Rule
{
    QList<Cond> conds;
    Action action = Action::None;
    QString target;
    QString text; // the rule in nft or iptables words
    QString unknownWhy;
    int chain = -1;
    int number = 0; // 1-based position in its chain
};

struct Chain
{
    QString
        where; // "table ip qubes, chain forward" / "iptables-legacy table filter, chain FORWARD"
    QString family, table, name;
    bool base = false;
    QString hook;
    int prio = 0;
    bool policyDrop = false;
    QList<Rule> rules;
    int offset = 0; // index of its first rule in the flat memo
};

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

// Names and other text from the qube shown in a verdict: printable ASCII only, capped.
QString shown(const QString &untrusted, int cap = 80)
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

class Parser
{
public:
    QList<Chain> chains;
    QStringList notes;
    QString fatal; // the input cannot be used at all
    QStringList taint; // statements anywhere that could send a copy of a packet out (dup, fwd)

    // --- nft JSON -------------------------------------------------------------------------

    void readNft(const QByteArray &json)
    {
        if (json.size() > kMaxRulesetJsonBytes) {
            fatal = QStringLiteral("the nft ruleset is larger than %1 KiB")
                        .arg(kMaxRulesetJsonBytes >> 10);
            return;
        }
        QJsonParseError err;
        const QJsonDocument doc = QJsonDocument::fromJson(json, &err);
        if (err.error != QJsonParseError::NoError || !doc.isObject()
            || !doc.object().value(QStringLiteral("nftables")).isArray()) {
            fatal = QStringLiteral("the nft ruleset is not libnftables JSON (`nft -j list "
                                   "ruleset`): %1")
                        .arg(err.error != QJsonParseError::NoError
                                 ? err.errorString()
                                 : QStringLiteral("no \"nftables\" array"));
            return;
        }
        const QJsonArray items = doc.object().value(QStringLiteral("nftables")).toArray();
        if (items.size() > kMaxItems) {
            fatal = QStringLiteral("the nft ruleset has more than %1 objects").arg(kMaxItems);
            return;
        }
        // First sets, maps and chains (rules refer to them), then rules.
        for (const QJsonValue &v : items) {
            const QJsonObject o = v.toObject();
            if (o.contains(QStringLiteral("set")))
                addSet(o.value(QStringLiteral("set")).toObject(), false);
            else if (o.contains(QStringLiteral("map")))
                addSet(o.value(QStringLiteral("map")).toObject(), true);
            else if (o.contains(QStringLiteral("chain")))
                addNftChain(o.value(QStringLiteral("chain")).toObject());
        }
        int rules = 0;
        for (const QJsonValue &v : items) {
            const QJsonObject o = v.toObject();
            if (!o.contains(QStringLiteral("rule")))
                continue;
            if (++rules > kMaxRules) {
                fatal = QStringLiteral("the nft ruleset has more than %1 rules").arg(kMaxRules);
                return;
            }
            addNftRule(o.value(QStringLiteral("rule")).toObject());
            if (!fatal.isEmpty())
                return;
        }
    }

    struct NamedSet
    {
        QJsonArray elements;
        bool dynamic = false;
        bool verdictMap = false;
    };
    QHash<QString, NamedSet> sets; // "family table name"

    static QString key(const QString &family, const QString &table, const QString &name)
    {
        return family + u'\x1f' + table + u'\x1f' + name;
    }

    void addSet(const QJsonObject &s, bool map)
    {
        NamedSet n;
        n.elements = s.value(QStringLiteral("elem")).toArray();
        const QJsonValue flags = s.value(QStringLiteral("flags"));
        const QStringList f
            = flags.isArray() ? flags.toVariant().toStringList() : QStringList {flags.toString()};
        n.dynamic = f.contains(QStringLiteral("dynamic")) || f.contains(QStringLiteral("timeout"));
        n.verdictMap = map && s.value(QStringLiteral("map")).toString() == QLatin1String("verdict");
        sets.insert(key(s.value(QStringLiteral("family")).toString(),
                        s.value(QStringLiteral("table")).toString(),
                        s.value(QStringLiteral("name")).toString()),
                    n);
    }

    QHash<QString, int> chainIndex; // key -> index in chains

    void addNftChain(const QJsonObject &c)
    {
        Chain ch;
        ch.family = c.value(QStringLiteral("family")).toString();
        ch.table = c.value(QStringLiteral("table")).toString();
        ch.name = c.value(QStringLiteral("name")).toString();
        ch.where = QStringLiteral("table %1 %2, chain %3")
                       .arg(shown(ch.family, 16), shown(ch.table, 40), shown(ch.name, 40));
        ch.hook = c.value(QStringLiteral("hook")).toString();
        ch.base = !ch.hook.isEmpty();
        const QJsonValue prio = c.value(QStringLiteral("prio"));
        ch.prio = prio.isDouble() ? prio.toInt() : 0;
        if (ch.base && !prio.isDouble())
            notes.append(QStringLiteral("%1 has a priority this evaluator cannot read; taken as 0")
                             .arg(ch.where));
        ch.policyDrop = c.value(QStringLiteral("policy")).toString() == QLatin1String("drop");
        chainIndex.insert(key(ch.family, ch.table, ch.name), chains.size());
        chains.append(ch);
    }

    // The value(s) on the right of a match, as ranges of a numeric field; nullopt when not
    // understood.
    std::optional<QList<Range>> numericValues(Field f, const QJsonValue &v, const QString &family,
                                              const QString &table, int depth = 0)
    {
        if (depth > 4)
            return std::nullopt;
        QList<Range> out;
        if (v.isDouble()) {
            const double d = v.toDouble();
            if (d < 0 || d > domainMax(f) || d != double(quint32(d)))
                return std::nullopt;
            out.append(Range {quint32(d), quint32(d)});
            return out;
        }
        if (v.isString()) {
            const QString s = v.toString();
            if (s.startsWith(u'@')) {
                const auto it = sets.constFind(key(family, table, s.mid(1)));
                if (it == sets.cend() || it->dynamic || it->verdictMap)
                    return std::nullopt;
                return listValues(f, it->elements, family, table, depth + 1);
            }
            std::optional<quint32> n;
            switch (f) {
            case Field::L4Proto:
                n = protoNumber(s);
                break;
            case Field::Saddr:
            case Field::Daddr:
                n = parseIpv4(s);
                break;
            case Field::NfProto:
                if (s == QLatin1String("ipv4"))
                    n = 2;
                else if (s == QLatin1String("ipv6"))
                    n = 10;
                break;
            default: {
                bool ok = false;
                const uint u = s.toUInt(&ok);
                if (ok && u <= domainMax(f))
                    n = u;
            }
            }
            if (!n)
                return std::nullopt;
            out.append(Range {*n, *n});
            return out;
        }
        if (!v.isObject())
            return std::nullopt;
        const QJsonObject o = v.toObject();
        if (o.contains(QStringLiteral("set"))) {
            const QJsonValue s = o.value(QStringLiteral("set"));
            if (s.isArray())
                return listValues(f, s.toArray(), family, table, depth + 1);
            return numericValues(f, s, family, table, depth + 1);
        }
        if (o.contains(QStringLiteral("elem")))
            return numericValues(
                f, o.value(QStringLiteral("elem")).toObject().value(QStringLiteral("val")), family,
                table, depth + 1);
        if (o.contains(QStringLiteral("prefix"))) {
            if (f != Field::Saddr && f != Field::Daddr)
                return std::nullopt;
            const QJsonObject p = o.value(QStringLiteral("prefix")).toObject();
            const auto a = parseIpv4(p.value(QStringLiteral("addr")).toString());
            const QJsonValue len = p.value(QStringLiteral("len"));
            if (!a || !len.isDouble())
                return std::nullopt;
            const auto r = prefixRange(*a, len.toInt(-1));
            if (!r)
                return std::nullopt;
            out.append(*r);
            return out;
        }
        if (o.contains(QStringLiteral("range"))) {
            const QJsonArray r = o.value(QStringLiteral("range")).toArray();
            if (r.size() != 2)
                return std::nullopt;
            const auto lo = numericValues(f, r.at(0), family, table, depth + 1);
            const auto hi = numericValues(f, r.at(1), family, table, depth + 1);
            if (!lo || !hi || lo->size() != 1 || hi->size() != 1 || lo->first().lo > hi->first().hi)
                return std::nullopt;
            out.append(Range {lo->first().lo, hi->first().hi});
            return out;
        }
        return std::nullopt;
    }

    // An IPv6 address, prefix, range or set of them on the right of an ip6 saddr/daddr match.
    std::optional<QList<Range6>> addressValues6(const QJsonValue &v, const QString &family,
                                                const QString &table, int depth = 0)
    {
        if (depth > 4)
            return std::nullopt;
        QList<Range6> out;
        const auto list = [&](const QJsonArray &a) -> std::optional<QList<Range6>> {
            if (a.size() > kMaxSetElements)
                return std::nullopt;
            QList<Range6> all;
            for (const QJsonValue &e : a) {
                const auto r = addressValues6(e, family, table, depth + 1);
                if (!r)
                    return std::nullopt;
                all += *r;
            }
            return all;
        };
        if (v.isString()) {
            const QString s = v.toString();
            if (s.startsWith(u'@')) {
                const auto it = sets.constFind(key(family, table, s.mid(1)));
                if (it == sets.cend() || it->dynamic || it->verdictMap)
                    return std::nullopt;
                return list(it->elements);
            }
            const auto a = parseIpv6(s);
            if (!a)
                return std::nullopt;
            out.append(Range6 {*a, *a});
            return out;
        }
        if (!v.isObject())
            return std::nullopt;
        const QJsonObject o = v.toObject();
        if (o.contains(QStringLiteral("set"))) {
            const QJsonValue s = o.value(QStringLiteral("set"));
            return s.isArray() ? list(s.toArray()) : addressValues6(s, family, table, depth + 1);
        }
        if (o.contains(QStringLiteral("elem")))
            return addressValues6(
                o.value(QStringLiteral("elem")).toObject().value(QStringLiteral("val")), family,
                table, depth + 1);
        if (o.contains(QStringLiteral("prefix"))) {
            const QJsonObject p = o.value(QStringLiteral("prefix")).toObject();
            const auto a = parseIpv6(p.value(QStringLiteral("addr")).toString());
            const QJsonValue len = p.value(QStringLiteral("len"));
            if (!a || !len.isDouble())
                return std::nullopt;
            const auto r = prefixRange6(*a, len.toInt(-1));
            if (!r)
                return std::nullopt;
            out.append(*r);
            return out;
        }
        if (o.contains(QStringLiteral("range"))) {
            const QJsonArray r = o.value(QStringLiteral("range")).toArray();
            if (r.size() != 2)
                return std::nullopt;
            const auto lo = addressValues6(r.at(0), family, table, depth + 1);
            const auto hi = addressValues6(r.at(1), family, table, depth + 1);
            if (!lo || !hi || lo->size() != 1 || hi->size() != 1 || lo->first().lo > hi->first().hi)
                return std::nullopt;
            out.append(Range6 {lo->first().lo, hi->first().hi});
            return out;
        }
        return std::nullopt;
    }

    std::optional<QList<Range>> listValues(Field f, const QJsonArray &a, const QString &family,
                                           const QString &table, int depth)
    {
        if (a.size() > kMaxSetElements)
            return std::nullopt;
        QList<Range> out;
        for (const QJsonValue &e : a) {
            const auto r = numericValues(f, e, family, table, depth);
            if (!r)
                return std::nullopt;
            out += *r;
        }
        return out;
    }

    std::optional<QStringList> nameValues(const QJsonValue &v, const QString &family,
                                          const QString &table, int depth = 0)
    {
        if (depth > 4)
            return std::nullopt;
        if (v.isString()) {
            const QString s = v.toString();
            if (s.startsWith(u'@')) {
                const auto it = sets.constFind(key(family, table, s.mid(1)));
                if (it == sets.cend() || it->dynamic || it->verdictMap)
                    return std::nullopt;
                return nameList(it->elements, family, table, depth + 1);
            }
            return QStringList {s};
        }
        if (v.isObject()) {
            const QJsonObject o = v.toObject();
            if (o.contains(QStringLiteral("set"))) {
                const QJsonValue s = o.value(QStringLiteral("set"));
                if (s.isArray())
                    return nameList(s.toArray(), family, table, depth + 1);
                return nameValues(s, family, table, depth + 1);
            }
            if (o.contains(QStringLiteral("elem")))
                return nameValues(
                    o.value(QStringLiteral("elem")).toObject().value(QStringLiteral("val")), family,
                    table, depth + 1);
        }
        return std::nullopt;
    }

    std::optional<QStringList> nameList(const QJsonArray &a, const QString &family,
                                        const QString &table, int depth)
    {
        if (a.size() > kMaxSetElements)
            return std::nullopt;
        QStringList out;
        for (const QJsonValue &e : a) {
            const auto n = nameValues(e, family, table, depth);
            if (!n)
                return std::nullopt;
            out += *n;
        }
        return out;
    }

    static QString valueText(const QJsonValue &v)
    {
        QString t;
        if (v.isString())
            t = u'"' + v.toString() + u'"';
        else if (v.isDouble())
            t = QString::number(v.toDouble(), 'g', 12);
        else
            t = QString::fromUtf8(QJsonDocument(v.isArray() ? QJsonDocument(v.toArray())
                                                            : QJsonDocument(v.toObject()))
                                      .toJson(QJsonDocument::Compact));
        return shown(t, 120);
    }

    // The field a match's left side reads, or Unknown (with its name in `what`).
    static Field leftField(const QJsonObject &left, QList<quint32> *dep, bool *th, QString *what,
                           int *onlyFamily)
    {
        if (left.contains(QStringLiteral("meta"))) {
            const QString k = left.value(QStringLiteral("meta"))
                                  .toObject()
                                  .value(QStringLiteral("key"))
                                  .toString();
            *what = k;
            if (k == QLatin1String("iifname") || k == QLatin1String("iif"))
                return Field::IifName;
            if (k == QLatin1String("oifname") || k == QLatin1String("oif"))
                return Field::OifName;
            if (k == QLatin1String("iifgroup"))
                return Field::IifGroup;
            if (k == QLatin1String("oifgroup"))
                return Field::OifGroup;
            if (k == QLatin1String("l4proto"))
                return Field::L4Proto;
            if (k == QLatin1String("nfproto"))
                return Field::NfProto;
            *what = QStringLiteral("meta ") + k;
            return Field::Unknown;
        }
        if (left.contains(QStringLiteral("ct"))) {
            const QString k = left.value(QStringLiteral("ct"))
                                  .toObject()
                                  .value(QStringLiteral("key"))
                                  .toString();
            *what = QStringLiteral("ct ") + k;
            const QJsonObject ct = left.value(QStringLiteral("ct")).toObject();
            if (k == QLatin1String("state") && !ct.contains(QStringLiteral("dir")))
                return Field::CtState;
            return Field::Unknown;
        }
        if (left.contains(QStringLiteral("payload"))) {
            const QJsonObject p = left.value(QStringLiteral("payload")).toObject();
            const QString proto = p.value(QStringLiteral("protocol")).toString();
            const QString field = p.value(QStringLiteral("field")).toString();
            *what = proto + u' ' + field;
            if (proto == QLatin1String("ip6") || proto == QLatin1String("icmpv6")) {
                *onlyFamily = 6;
                if (proto == QLatin1String("ip6") && field == QLatin1String("saddr"))
                    return Field::Saddr6;
                if (proto == QLatin1String("ip6") && field == QLatin1String("daddr"))
                    return Field::Daddr6;
                // nexthdr is the next header, not always the transport protocol.
                return Field::Unknown;
            }
            if (proto == QLatin1String("ip")) {
                *onlyFamily = 4;
                if (field == QLatin1String("saddr"))
                    return Field::Saddr;
                if (field == QLatin1String("daddr"))
                    return Field::Daddr;
                if (field == QLatin1String("protocol"))
                    return Field::L4Proto;
                return Field::Unknown;
            }
            if (field != QLatin1String("sport") && field != QLatin1String("dport"))
                return Field::Unknown;
            if (proto == QLatin1String("th"))
                *th = true;
            else if (const auto n = protoNumber(proto); n && portBearing(*n))
                dep->append(*n);
            else
                return Field::Unknown;
            return field == QLatin1String("sport") ? Field::Sport : Field::Dport;
        }
        *what = QStringLiteral("an expression of kind %1")
                    .arg(left.keys().isEmpty() ? QStringLiteral("none") : left.keys().first());
        return Field::Unknown;
    }

    Cond nftMatch(const QJsonObject &m, const QString &family, const QString &table)
    {
        Cond c;
        const QString op = m.value(QStringLiteral("op")).toString();
        const QJsonValue leftValue = m.value(QStringLiteral("left"));
        const QJsonValue right = m.value(QStringLiteral("right"));
        QString what;
        c.field = leftValue.isObject()
            ? leftField(leftValue.toObject(), &c.protoDep, &c.thDep, &what, &c.onlyFamily)
            : Field::Unknown;
        c.text = shown(what, 40) + u' '
            + (op == QLatin1String("in") || op == QLatin1String("==") ? QString() : op + u' ')
            + valueText(right);
        if (c.field == Field::Unknown || c.field == Field::Never)
            return c;
        auto unknown = [&]() {
            c.field = Field::Unknown;
            return c;
        };
        const bool eq = op == QLatin1String("==") || op == QLatin1String("in");
        const bool ne = op == QLatin1String("!=");
        if (c.field == Field::IifName || c.field == Field::OifName) {
            if (!eq && !ne)
                return unknown();
            const auto names = nameValues(right, family, table);
            if (!names)
                return unknown();
            c.names = *names;
            c.negate = ne;
            return c;
        }
        if (c.field == Field::CtState) {
            static const QHash<QString, quint32> bits {
                {QStringLiteral("invalid"), 1},    {QStringLiteral("established"), 2},
                {QStringLiteral("related"), 4},    {QStringLiteral("new"), 8},
                {QStringLiteral("untracked"), 64},
            };
            QStringList words;
            if (right.isString())
                words = {right.toString()};
            else if (right.isArray())
                words = right.toVariant().toStringList();
            else if (right.isObject() && right.toObject().value(QStringLiteral("set")).isArray())
                words = right.toObject().value(QStringLiteral("set")).toVariant().toStringList();
            if (words.isEmpty() || (!eq && !ne) || (op == QLatin1String("==") && right.isArray()))
                return unknown();
            for (const QString &w : words) {
                if (!bits.contains(w))
                    return unknown();
                c.ctMask |= bits.value(w);
            }
            c.negate = ne;
            return c;
        }
        if (c.field == Field::Saddr6 || c.field == Field::Daddr6) {
            const auto values = addressValues6(right, family, table);
            if (!values || (!eq && !ne))
                return unknown();
            c.ranges6 = *values;
            c.negate = ne;
            return c;
        }
        const auto values = numericValues(c.field, right, family, table);
        if (!values)
            return unknown();
        if (eq || ne) {
            c.ranges = *values;
            c.negate = ne;
            return c;
        }
        if (values->size() != 1 || values->first().lo != values->first().hi)
            return unknown();
        const quint32 x = values->first().lo;
        const quint32 max = domainMax(c.field);
        if (op == QLatin1String("<")) {
            if (x == 0)
                c.negate = true, c.ranges = {Range {0, max}};
            else
                c.ranges = {Range {0, x - 1}};
        } else if (op == QLatin1String("<=")) {
            c.ranges = {Range {0, x}};
        } else if (op == QLatin1String(">")) {
            if (x == max)
                c.negate = true, c.ranges = {Range {0, max}};
            else
                c.ranges = {Range {x + 1, max}};
        } else if (op == QLatin1String(">=")) {
            c.ranges = {Range {x, max}};
        } else {
            return unknown();
        }
        return c;
    }

    // A verdict object ({"drop": null}, {"jump": {"target": "x"}}, ...) into the rule.
    static bool verdictOf(const QJsonObject &o, Rule &r)
    {
        if (o.contains(QStringLiteral("accept")))
            r.action = Action::Accept;
        else if (o.contains(QStringLiteral("drop")))
            r.action = Action::Drop;
        else if (o.contains(QStringLiteral("reject")))
            r.action = Action::Reject;
        else if (o.contains(QStringLiteral("return")))
            r.action = Action::Return;
        else if (o.contains(QStringLiteral("continue")))
            r.action = Action::None;
        else if (o.contains(QStringLiteral("jump")) || o.contains(QStringLiteral("goto"))) {
            const bool jump = o.contains(QStringLiteral("jump"));
            r.action = jump ? Action::Jump : Action::Goto;
            r.target = o.value(jump ? QStringLiteral("jump") : QStringLiteral("goto"))
                           .toObject()
                           .value(QStringLiteral("target"))
                           .toString();
        } else {
            return false;
        }
        return true;
    }

    static QString actionText(const Rule &r)
    {
        switch (r.action) {
        case Action::Accept:
            return QStringLiteral("accept");
        case Action::Drop:
            return QStringLiteral("drop");
        case Action::Reject:
            return QStringLiteral("reject");
        case Action::Return:
            return QStringLiteral("return");
        case Action::Jump:
            return QStringLiteral("jump ") + shown(r.target, 40);
        case Action::Goto:
            return QStringLiteral("goto ") + shown(r.target, 40);
        case Action::Unknown:
        case Action::None:
            break;
        }
        return {};
    }

    void addNftRule(const QJsonObject &o)
    {
        const QString family = o.value(QStringLiteral("family")).toString();
        const QString table = o.value(QStringLiteral("table")).toString();
        const int ci
            = chainIndex.value(key(family, table, o.value(QStringLiteral("chain")).toString()), -1);
        if (ci < 0)
            return; // a rule of a chain the listing does not hold: nft never prints one
        Chain &ch = chains[ci];
        const QJsonArray exprs = o.value(QStringLiteral("expr")).toArray();
        QList<Rule> made {Rule {}};
        Rule &r = made.first();
        QStringList words;
        bool done = false;
        if (exprs.size() > kMaxExprsPerRule) {
            r.action = Action::Unknown;
            r.unknownWhy
                = QStringLiteral("a rule of more than %1 expressions").arg(kMaxExprsPerRule);
            done = true;
        }
        for (int i = 0; i < exprs.size() && !done; ++i) {
            const QJsonObject e = exprs.at(i).toObject();
            const QString kind = e.keys().isEmpty() ? QString() : e.keys().first();
            if (kind == QLatin1String("match")) {
                const Cond c = nftMatch(e.value(kind).toObject(), family, table);
                words.append(c.text);
                r.conds.append(c);
            } else if (kind == QLatin1String("counter") || kind == QLatin1String("log")
                       || kind == QLatin1String("flow") || kind == QLatin1String("set")) {
                // Counting and logging change nothing; flow offload concerns established
                // flows only; a dynamic set update changes no verdict here.
                words.append(kind);
            } else if (kind == QLatin1String("limit") || kind == QLatin1String("quota")) {
                Cond c;
                c.text = kind;
                words.append(kind);
                r.conds.append(c); // holds for some packets and not others
            } else if (kind == QLatin1String("mangle")) {
                const QJsonObject k
                    = e.value(kind).toObject().value(QStringLiteral("key")).toObject();
                const QString mk = k.value(QStringLiteral("meta"))
                                       .toObject()
                                       .value(QStringLiteral("key"))
                                       .toString();
                const QString ck = k.value(QStringLiteral("ct"))
                                       .toObject()
                                       .value(QStringLiteral("key"))
                                       .toString();
                words.append(QStringLiteral("%1 set …")
                                 .arg(mk.isEmpty() ? QStringLiteral("ct ") + ck
                                                   : QStringLiteral("meta ") + mk));
                // Marks and trace flags decide nothing this evaluator reads (mark matches are
                // unknown); anything else rewrites the packet.
                if (!(mk == QLatin1String("mark") || mk == QLatin1String("nftrace")
                      || mk == QLatin1String("priority") || ck == QLatin1String("mark"))) {
                    r.action = Action::Unknown;
                    r.unknownWhy = QStringLiteral("a statement that rewrites the packet");
                    done = true;
                }
            } else if (kind == QLatin1String("vmap")) {
                const QJsonObject vm = e.value(kind).toObject();
                const QJsonValue keyExpr = vm.value(QStringLiteral("key"));
                const QJsonValue data = vm.value(QStringLiteral("data"));
                QJsonArray elements;
                bool ok = keyExpr.isObject();
                if (data.isString() && data.toString().startsWith(u'@')) {
                    const auto it = sets.constFind(key(family, table, data.toString().mid(1)));
                    ok = ok && it != sets.cend() && it->verdictMap && !it->dynamic;
                    if (ok)
                        elements = it->elements;
                } else if (data.isObject()
                           && data.toObject().value(QStringLiteral("set")).isArray()) {
                    elements = data.toObject().value(QStringLiteral("set")).toArray();
                } else {
                    ok = false;
                }
                words.append(QStringLiteral("vmap"));
                if (!ok || elements.size() > kMaxSetElements || i != exprs.size() - 1) {
                    r.action = Action::Unknown;
                    r.unknownWhy = QStringLiteral("a verdict map this evaluator cannot read");
                    done = true;
                    break;
                }
                // One rule per element: the elements are disjoint, so their order does not
                // matter, and a packet matching none falls through.
                const Rule base = r;
                made.clear();
                for (const QJsonValue &el : elements) {
                    const QJsonArray pair = el.toArray();
                    Rule one = base;
                    QJsonObject m;
                    m.insert(QStringLiteral("op"), QStringLiteral("=="));
                    m.insert(QStringLiteral("left"), keyExpr);
                    m.insert(QStringLiteral("right"), pair.at(0));
                    const Cond c = nftMatch(m, family, table);
                    one.conds.append(c);
                    if (pair.size() != 2 || !verdictOf(pair.at(1).toObject(), one)) {
                        one.action = Action::Unknown;
                        one.unknownWhy
                            = QStringLiteral("a verdict map element this evaluator cannot read");
                    }
                    one.text
                        = (words.mid(0, words.size() - 1) + QStringList {c.text, actionText(one)})
                              .join(u' ');
                    made.append(one);
                }
                done = true;
                break;
            } else if (verdictOf(e, r)) {
                words.append(actionText(r));
                if (r.action == Action::Jump || r.action == Action::Goto) {
                    if (!chainIndex.contains(key(family, table, r.target))) {
                        r.action = Action::Unknown;
                        r.unknownWhy = QStringLiteral("a jump to a chain that does not exist");
                    }
                }
                done = true;
            } else {
                words.append(shown(kind, 24));
                if (kind == QLatin1String("dup") || kind == QLatin1String("fwd"))
                    taint.append(QStringLiteral("%1 holds a %2 statement (a copy of the packet "
                                                "can leave elsewhere)")
                                     .arg(ch.where, kind));
                r.action = Action::Unknown;
                r.unknownWhy = kind == QLatin1String("xt")
                    ? QStringLiteral("an iptables extension (xt) that nft cannot show")
                    : QStringLiteral("a statement of kind \"%1\" this evaluator does not know")
                          .arg(shown(kind, 24));
                done = true;
            }
        }
        const int number = ch.rules.size() + 1;
        for (Rule &m : made) {
            if (m.text.isEmpty())
                m.text = words.join(u' ');
            m.chain = ci;
            m.number = number;
            ch.rules.append(m);
        }
    }

    // --- iptables-legacy-save ---------------------------------------------------------------

    static QStringList shellWords(const QString &line)
    {
        QStringList out;
        QString cur;
        bool inQuote = false, have = false;
        for (int i = 0; i < line.size(); ++i) {
            const QChar c = line.at(i);
            if (inQuote) {
                if (c == u'\\' && i + 1 < line.size())
                    cur += line.at(++i);
                else if (c == u'"')
                    inQuote = false;
                else
                    cur += c;
            } else if (c == u'"') {
                inQuote = true;
                have = true;
            } else if (c == u' ' || c == u'\t') {
                if (have || !cur.isEmpty())
                    out.append(cur);
                cur.clear();
                have = false;
            } else {
                cur += c;
            }
        }
        if (have || !cur.isEmpty())
            out.append(cur);
        return out;
    }

    void readLegacy(const QByteArray &save)
    {
        if (save.size() > kMaxLegacySaveBytes) {
            fatal = QStringLiteral("the iptables-legacy rules are larger than %1 KiB")
                        .arg(kMaxLegacySaveBytes >> 10);
            return;
        }
        const QList<QByteArray> lines = save.split('\n');
        QString table;
        QHash<QString, int> local; // chain name -> index, per table
        QList<QPair<QString, QStringList>> pending; // (chain, words) per table
        int rules = 0;
        auto flush = [&]() {
            for (const auto &[chain, words] : std::as_const(pending))
                addLegacyRule(local, chain, words);
            pending.clear();
            local.clear();
        };
        for (const QByteArray &raw : lines) {
            const QString line = QString::fromUtf8(raw).trimmed();
            if (line.isEmpty() || line.startsWith(u'#'))
                continue;
            if (line.startsWith(u'*')) {
                flush();
                table = line.mid(1);
            } else if (line == QLatin1String("COMMIT")) {
                flush();
                table.clear();
            } else if (line.startsWith(u':')) {
                const QStringList w = line.mid(1).split(u' ', Qt::SkipEmptyParts);
                if (w.isEmpty() || table.isEmpty())
                    continue;
                Chain ch;
                ch.family = QStringLiteral("iptables-legacy");
                ch.table = table;
                ch.name = w.at(0);
                ch.where = QStringLiteral("iptables-legacy table %1, chain %2")
                               .arg(shown(table, 20), shown(ch.name, 40));
                const QString policy = w.value(1);
                ch.base = policy != QLatin1String("-");
                if (ch.name == QLatin1String("FORWARD"))
                    ch.hook = QStringLiteral("forward");
                else if (ch.name == QLatin1String("OUTPUT"))
                    ch.hook = QStringLiteral("output");
                else if (ch.base)
                    ch.hook = ch.name.toLower();
                ch.prio = table == QLatin1String("mangle") ? -150
                    : table == QLatin1String("security")   ? 50
                    : table == QLatin1String("raw")        ? -300
                                                           : 0;
                ch.policyDrop = policy == QLatin1String("DROP");
                local.insert(ch.name, chains.size());
                chains.append(ch);
            } else if (line.startsWith(QLatin1String("-A "))) {
                if (++rules > kMaxRules) {
                    fatal = QStringLiteral("the iptables-legacy rules are more than %1")
                                .arg(kMaxRules);
                    return;
                }
                QStringList w = shellWords(line);
                if (w.size() < 2)
                    continue;
                const QString chain = w.at(1);
                pending.append({chain, w.mid(2)});
            }
        }
        flush();
    }

    void addLegacyRule(const QHash<QString, int> &local, const QString &chain, const QStringList &w)
    {
        const int ci = local.value(chain, -1);
        if (ci < 0)
            return;
        Rule r;
        r.text = shown(QStringLiteral("-A %1 %2").arg(chain, w.join(u' ')), 200);
        QList<quint32> proto; // from -p, for --dport/--sport
        bool protoNegated = false;
        bool negate = false;
        for (int i = 0; i < w.size(); ++i) {
            const QString &t = w.at(i);
            const QString arg = w.value(i + 1);
            auto take = [&]() { ++i; };
            Cond c;
            c.negate = negate;
            c.text = shown((negate ? QStringLiteral("! ") : QString()) + t + u' ' + arg, 80);
            bool isCond = true;
            if (t == QLatin1String("!")) {
                negate = true;
                continue;
            } else if (t.startsWith(u'[') && t.endsWith(u']')) {
                isCond = false; // counters of iptables-save -c
            } else if (t == QLatin1String("-i") || t == QLatin1String("--in-interface")
                       || t == QLatin1String("-o") || t == QLatin1String("--out-interface")) {
                c.field = (t == QLatin1String("-i") || t == QLatin1String("--in-interface"))
                    ? Field::IifName
                    : Field::OifName;
                QString n = arg;
                if (n.endsWith(u'+'))
                    n.chop(1), n += u'*';
                c.names = {n};
                take();
            } else if (t == QLatin1String("-p") || t == QLatin1String("--protocol")) {
                take();
                if (arg == QLatin1String("all") || arg == QLatin1String("0")) {
                    isCond = negate; // "! -p all" matches nothing
                    c.field = Field::L4Proto;
                    c.ranges = {Range {0, 255}};
                } else if (const auto n = protoNumber(arg)) {
                    c.field = Field::L4Proto;
                    c.ranges = {Range {*n, *n}};
                    proto = {*n};
                    protoNegated = negate;
                }
            } else if (t == QLatin1String("-s") || t == QLatin1String("--source")
                       || t == QLatin1String("-d") || t == QLatin1String("--destination")) {
                take();
                const QStringList parts = arg.split(u'/');
                const auto a = parseIpv4(parts.value(0));
                bool ok = parts.size() == 1;
                int len = 32;
                if (parts.size() == 2)
                    len = parts.at(1).toInt(&ok);
                const auto range = (a && ok) ? prefixRange(*a, len) : std::nullopt;
                if (range) {
                    c.field = (t == QLatin1String("-s") || t == QLatin1String("--source"))
                        ? Field::Saddr
                        : Field::Daddr;
                    c.ranges = {*range};
                }
            } else if (t == QLatin1String("-m") || t == QLatin1String("--match")) {
                take();
                static const QSet<QString> known {
                    QStringLiteral("tcp"),       QStringLiteral("udp"),
                    QStringLiteral("conntrack"), QStringLiteral("state"),
                    QStringLiteral("comment"),   QStringLiteral("multiport")};
                if (known.contains(arg)) {
                    isCond = false;
                } else {
                    c.text = QStringLiteral("-m ") + shown(arg, 30);
                    // Its options follow; they belong to the unknown match.
                    while (i + 1 < w.size()
                           && !(w.at(i + 1) == QLatin1String("-m")
                                || w.at(i + 1) == QLatin1String("-j")
                                || w.at(i + 1) == QLatin1String("-g")))
                        ++i;
                }
            } else if (t == QLatin1String("--dport") || t == QLatin1String("--destination-port")
                       || t == QLatin1String("--sport") || t == QLatin1String("--source-port")
                       || t == QLatin1String("--dports")
                       || t == QLatin1String("--destination-ports")
                       || t == QLatin1String("--sports") || t == QLatin1String("--source-ports")) {
                take();
                const bool dst = t.contains(QLatin1String("d"));
                QList<Range> ranges;
                bool ok = !proto.isEmpty() && !protoNegated;
                for (const QString &item : arg.split(u',')) {
                    const QStringList ab = item.split(u':');
                    bool ok1 = false, ok2 = false;
                    const uint lo = ab.value(0).isEmpty() ? 0 : ab.value(0).toUInt(&ok1);
                    const uint hi = ab.size() == 2
                        ? (ab.value(1).isEmpty() ? 65535 : ab.value(1).toUInt(&ok2))
                        : lo;
                    if (ab.value(0).isEmpty())
                        ok1 = true;
                    if (ab.size() == 2 && ab.value(1).isEmpty())
                        ok2 = true;
                    if (ab.size() == 1)
                        ok2 = ok1;
                    if (!ok1 || !ok2 || lo > hi || hi > 65535 || ab.size() > 2)
                        ok = false;
                    else
                        ranges.append(Range {lo, hi});
                }
                if (ok) {
                    c.field = dst ? Field::Dport : Field::Sport;
                    c.ranges = ranges;
                    c.protoDep = proto;
                }
            } else if (t == QLatin1String("--ctstate") || t == QLatin1String("--state")) {
                take();
                static const QHash<QString, quint32> bits {
                    {QStringLiteral("INVALID"), 1},    {QStringLiteral("ESTABLISHED"), 2},
                    {QStringLiteral("RELATED"), 4},    {QStringLiteral("NEW"), 8},
                    {QStringLiteral("UNTRACKED"), 64},
                };
                bool ok = true;
                for (const QString &s : arg.split(u',')) {
                    if (!bits.contains(s))
                        ok = false;
                    c.ctMask |= bits.value(s);
                }
                if (ok)
                    c.field = Field::CtState;
            } else if (t == QLatin1String("--comment")) {
                take();
                isCond = false;
            } else if (t == QLatin1String("-j") || t == QLatin1String("--jump")
                       || t == QLatin1String("-g") || t == QLatin1String("--goto")) {
                const bool go = t == QLatin1String("-g") || t == QLatin1String("--goto");
                static const QSet<QString> noop {QStringLiteral("LOG"), QStringLiteral("NFLOG"),
                                                 QStringLiteral("MARK"), QStringLiteral("CONNMARK"),
                                                 QStringLiteral("TRACE")};
                if (!go && arg == QLatin1String("ACCEPT"))
                    r.action = Action::Accept;
                else if (!go && arg == QLatin1String("DROP"))
                    r.action = Action::Drop;
                else if (!go && arg == QLatin1String("REJECT"))
                    r.action = Action::Reject;
                else if (!go && arg == QLatin1String("RETURN"))
                    r.action = Action::Return;
                else if (!go && noop.contains(arg))
                    r.action = Action::None;
                else if (local.contains(arg)) {
                    r.action = go ? Action::Goto : Action::Jump;
                    r.target = arg;
                } else {
                    r.action = Action::Unknown;
                    r.unknownWhy = QStringLiteral("the target %1 this evaluator does not know")
                                       .arg(shown(arg, 30));
                }
                break; // what follows are the target's options
            } else {
                // An option this evaluator does not read: it may or may not hold.
                c.text = shown(t, 40);
                while (i + 1 < w.size() && !w.at(i + 1).startsWith(u'-')
                       && w.at(i + 1) != QLatin1String("!"))
                    ++i;
            }
            negate = false;
            if (isCond)
                r.conds.append(c);
        }
        r.chain = ci;
        r.number = chains[ci].rules.size() + 1;
        if (r.action == Action::Jump || r.action == Action::Goto)
            r.target = QString::number(local.value(r.target)); // resolved below by index
        chains[ci].rules.append(r);
    }
};

struct Packet
{
    int family = 4; // 4 or 6
    U128 saddr6 = 0; // family 6
    U128 daddr6 = 0;
    QString iif;
    quint32 proto = 0;
    quint32 sport = 0;
    quint32 dport = 0;
    quint32 saddr = 0;
    quint32 daddr = 0;
};

bool inRanges(const QList<Range> &ranges, quint32 v)
{
    for (const Range &r : ranges) {
        if (v >= r.lo && v <= r.hi)
            return true;
    }
    return false;
}

bool inRanges6(const QList<Range6> &ranges, U128 v)
{
    for (const Range6 &r : ranges) {
        if (v >= r.lo && v <= r.hi)
            return true;
    }
    return false;
}

Tri evalCond(const Cond &c, const Packet &p)
{
    // Before anything, Unknown included: an ip6 match never holds for an IPv4 packet (and an
    // ip match for an IPv6 one), whatever the operator.
    if (c.onlyFamily != 0 && c.onlyFamily != p.family)
        return Tri::False;
    bool hit = false;
    switch (c.field) {
    case Field::Unknown:
        return Tri::Unknown;
    case Field::Never:
        return Tri::False;
    case Field::IifName:
    case Field::OifName: {
        const QString name = c.field == Field::IifName ? p.iif : QStringLiteral("eth0");
        for (const QString &pat : c.names)
            hit = hit || nameMatches(pat, name);
        break;
    }
    case Field::IifGroup:
        hit = inRanges(c.ranges, 2);
        break;
    case Field::OifGroup:
        hit = inRanges(c.ranges, 1);
        break;
    case Field::CtState:
        hit = (c.ctMask & 8) != 0;
        break;
    case Field::L4Proto:
        hit = inRanges(c.ranges, p.proto);
        break;
    case Field::NfProto:
        hit = inRanges(c.ranges, p.family == 6 ? 10 : 2);
        break;
    case Field::Saddr6:
        hit = inRanges6(c.ranges6, p.saddr6);
        break;
    case Field::Daddr6:
        hit = inRanges6(c.ranges6, p.daddr6);
        break;
    case Field::Saddr:
        hit = inRanges(c.ranges, p.saddr);
        break;
    case Field::Daddr:
        hit = inRanges(c.ranges, p.daddr);
        break;
    case Field::Sport:
    case Field::Dport:
        if (!c.protoDep.isEmpty() && !c.protoDep.contains(p.proto))
            return Tri::False; // the implicit protocol dependency fails, whatever the operator
        if (c.thDep && !portBearing(p.proto))
            return Tri::Unknown;
        hit = inRanges(c.ranges, c.field == Field::Sport ? p.sport : p.dport);
        break;
    }
    return (hit != c.negate) ? Tri::True : Tri::False;
}

struct Res
{
    bool drop = false;
    bool pass = false;
    bool ret = false;
    bool unknown = false;
    int dropRule = -1; // flat rule index; <= -2: policy of chain (-2 - index)
    int passRule = -1;
    int unknownRule = -1;
    int ambiguousRule = -1;

    void merge(const Res &o)
    {
        drop = drop || o.drop;
        pass = pass || o.pass;
        ret = ret || o.ret;
        unknown = unknown || o.unknown;
        if (dropRule == -1)
            dropRule = o.dropRule;
        if (passRule == -1)
            passRule = o.passRule;
        if (unknownRule == -1)
            unknownRule = o.unknownRule;
        if (ambiguousRule == -1)
            ambiguousRule = o.ambiguousRule;
    }
};

class Evaluator
{
public:
    explicit Evaluator(const QList<Chain> &chains)
        : m_chains(chains)
    {
        int offset = 0;
        for (Chain &c : m_chains) {
            c.offset = offset;
            offset += c.rules.size() + 1;
        }
        m_memo.resize(offset);
        m_stamp.resize(offset);
    }

    const Rule &ruleAt(int flat) const
    {
        for (const Chain &c : m_chains) {
            if (flat >= c.offset && flat < c.offset + c.rules.size())
                return c.rules.at(flat - c.offset);
        }
        static const Rule none;
        return none;
    }

    QString describe(int flat) const
    {
        if (flat <= -2) {
            const Chain &c = m_chains.at(-2 - flat);
            return QStringLiteral("%1: its policy %2")
                .arg(c.where, c.policyDrop ? QStringLiteral("drop") : QStringLiteral("accept"));
        }
        if (flat < 0)
            return QStringLiteral("nothing");
        const Rule &r = ruleAt(flat);
        const Chain &c = m_chains.at(r.chain);
        return QStringLiteral("%1, rule %2 (%3)").arg(c.where).arg(r.number).arg(r.text);
    }

    QString unknownText(int flat) const
    {
        const Rule &r = ruleAt(flat);
        QString why = r.unknownWhy;
        if (why.isEmpty()) {
            for (const Cond &c : r.conds) {
                if (c.field == Field::Unknown || c.thDep) {
                    why = QStringLiteral("the match \"%1\" this evaluator does not read")
                              .arg(c.text);
                    break;
                }
            }
        }
        return QStringLiteral("%1: %2").arg(describe(flat), why);
    }

    Res base(int chain, const Packet &p)
    {
        ++m_generation;
        Res r = eval(chain, 0, p, 0);
        if (r.ret) {
            r.ret = false;
            Res policy;
            if (m_chains.at(chain).policyDrop) {
                policy.drop = true;
                policy.dropRule = -2 - chain;
            } else {
                policy.pass = true;
                policy.passRule = -2 - chain;
            }
            r.merge(policy);
        }
        return r;
    }

    qint64 work = 0;

private:
    QList<Chain> m_chains;
    QList<Res> m_memo;
    QList<quint64> m_stamp;
    quint64 m_generation = 0;

    Res eval(int ci, int i, const Packet &p, int depth)
    {
        const Chain &ch = m_chains.at(ci);
        const int flat = ch.offset + i;
        if (m_stamp.at(flat) == m_generation)
            return m_memo.at(flat);
        ++work;
        Res out;
        if (i >= ch.rules.size()) {
            out.ret = true;
        } else if (depth > kMaxDepth) {
            out.unknown = true;
            out.unknownRule = flat;
        } else {
            const Rule &r = ch.rules.at(i);
            Tri t = Tri::True;
            for (const Cond &c : r.conds) {
                const Tri x = evalCond(c, p);
                if (x == Tri::False) {
                    t = Tri::False;
                    break;
                }
                if (x == Tri::Unknown)
                    t = Tri::Unknown;
            }
            if (t == Tri::False) {
                out = eval(ci, i + 1, p, depth);
            } else {
                Res act;
                switch (r.action) {
                case Action::None:
                    act = eval(ci, i + 1, p, depth);
                    break;
                case Action::Accept:
                    act.pass = true;
                    act.passRule = flat;
                    break;
                case Action::Drop:
                case Action::Reject:
                    act.drop = true;
                    act.dropRule = flat;
                    break;
                case Action::Return:
                    act.ret = true;
                    break;
                case Action::Unknown:
                    act.unknown = true;
                    act.unknownRule = flat;
                    break;
                case Action::Jump:
                case Action::Goto: {
                    const int target = r.target.toInt();
                    Res sub = eval(target, 0, p, depth + 1);
                    if (r.action == Action::Jump && sub.ret) {
                        sub.ret = false;
                        sub.merge(eval(ci, i + 1, p, depth));
                    }
                    act = sub;
                    break;
                }
                }
                if (t == Tri::Unknown) {
                    if (r.action != Action::None) {
                        act.merge(eval(ci, i + 1, p, depth));
                        act.ambiguousRule
                            = flat; // the first rule on the path that may or may not hold
                    }
                }
                out = act;
            }
        }
        m_stamp[flat] = m_generation;
        m_memo[flat] = out;
        return out;
    }
};

// Cut points of one numeric field over every condition that reads it.
QList<quint32> representatives(const QList<Chain> &chains, Field f, QList<Range> *classes)
{
    QSet<quint64> cuts {0};
    const quint64 max = domainMax(f);
    for (const Chain &c : chains) {
        for (const Rule &r : c.rules) {
            for (const Cond &k : r.conds) {
                if (f == Field::L4Proto)
                    for (quint32 d : k.protoDep)
                        cuts << d << quint64(d) + 1;
                if (k.field != f)
                    continue;
                for (const Range &x : k.ranges)
                    cuts << x.lo << quint64(x.hi) + 1;
            }
        }
    }
    if (f == Field::L4Proto) {
        for (quint32 p : {1u, 6u, 17u, 33u, 132u, 136u})
            cuts << p << p + 1;
    }
    QList<quint64> sorted(cuts.begin(), cuts.end());
    std::sort(sorted.begin(), sorted.end());
    QList<quint32> reps;
    for (int i = 0; i < sorted.size(); ++i) {
        if (sorted.at(i) > max)
            break;
        const quint64 end = i + 1 < sorted.size() ? qMin(sorted.at(i + 1) - 1, max) : max;
        reps.append(quint32(sorted.at(i)));
        classes->append(Range {quint32(sorted.at(i)), quint32(end)});
    }
    return reps;
}

// The same for IPv6 addresses: one address from each class no rule tells apart.
QList<U128> representatives6(const QList<Chain> &chains, Field f, QList<Range6> *classes)
{
    // Cut points: where a range starts and just after it ends (hi + 1 wraps past the top).
    std::vector<U128> cuts {0};
    for (const Chain &c : chains)
        for (const Rule &r : c.rules)
            for (const Cond &k : r.conds) {
                if (k.field != f)
                    continue;
                for (const Range6 &x : k.ranges6) {
                    cuts.push_back(x.lo);
                    if (x.hi != ~U128(0))
                        cuts.push_back(x.hi + 1);
                }
            }
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    QList<U128> reps;
    for (size_t i = 0; i < cuts.size(); ++i) {
        const U128 end = i + 1 < cuts.size() ? cuts[i + 1] - 1 : ~U128(0);
        reps.append(cuts[i]);
        classes->append(Range6 {cuts[i], end});
    }
    return reps;
}

QString rangesText6(const QList<Range6> &ranges)
{
    QStringList parts;
    for (const Range6 &r : ranges) {
        if (parts.size() >= 6) {
            parts.append(QStringLiteral("…"));
            break;
        }
        parts.append(r.lo == r.hi ? ip6Text(r.lo)
                                  : QStringLiteral("%1-%2").arg(ip6Text(r.lo), ip6Text(r.hi)));
    }
    return parts.join(QStringLiteral(", "));
}

QList<Range6> merged6(QList<Range6> r)
{
    std::sort(r.begin(), r.end(), [](const Range6 &a, const Range6 &b) { return a.lo < b.lo; });
    QList<Range6> out;
    for (const Range6 &x : r) {
        if (!out.isEmpty() && (out.last().hi == ~U128(0) || out.last().hi + 1 >= x.lo))
            out.last().hi = qMax(out.last().hi, x.hi);
        else
            out.append(x);
    }
    return out;
}

QString rangesText(const QList<Range> &ranges, bool addresses)
{
    QStringList parts;
    for (const Range &r : ranges) {
        if (parts.size() >= 6) {
            parts.append(QStringLiteral("…"));
            break;
        }
        if (addresses)
            parts.append(r.lo == r.hi ? ipText(r.lo)
                                      : QStringLiteral("%1-%2").arg(ipText(r.lo), ipText(r.hi)));
        else
            parts.append(r.lo == r.hi ? QString::number(r.lo)
                                      : QStringLiteral("%1-%2").arg(r.lo).arg(r.hi));
    }
    return parts.join(QStringLiteral(", "));
}

QList<Range> merged(QList<Range> r)
{
    std::sort(r.begin(), r.end(), [](const Range &a, const Range &b) { return a.lo < b.lo; });
    QList<Range> out;
    for (const Range &x : r) {
        if (!out.isEmpty() && quint64(out.last().hi) + 1 >= x.lo)
            out.last().hi = qMax(out.last().hi, x.hi);
        else
            out.append(x);
    }
    return out;
}

// Interface names a client's packet may arrive on: every vif name a rule names, one for every
// narrower vif wildcard, and one no rule names.
QStringList clientInterfaces(const QList<Chain> &chains)
{
    QStringList reps;
    QStringList patterns;
    for (const Chain &c : chains)
        for (const Rule &r : c.rules)
            for (const Cond &k : r.conds)
                if (k.field == Field::IifName)
                    patterns += k.names;
    patterns.removeDuplicates();
    for (const QString &p : std::as_const(patterns)) {
        if (p.endsWith(u'*')) {
            const QString stem = p.first(p.size() - 1);
            if (stem.startsWith(QLatin1String("vif")) && stem.size() > 3 && stem.size() < 15)
                reps.append(stem + (stem.size() < 14 ? QStringLiteral("x") : QString()));
        } else if (p.startsWith(QLatin1String("vif")) && p.size() <= 15) {
            reps.append(p);
        }
    }
    for (int n = 9999;; --n) {
        const QString fresh = QStringLiteral("vif%1.9").arg(n);
        bool named = false;
        for (const QString &p : std::as_const(patterns)) {
            if (p != QLatin1String("vif*") && p != QLatin1String("*") && p != QLatin1String("v*")
                && p != QLatin1String("vi*") && nameMatches(p, fresh))
                named = true;
        }
        if (!named || n < 9000) {
            reps.append(fresh);
            break;
        }
    }
    reps.removeDuplicates();
    return reps;
}

} // namespace

namespace {

// Both rulesets read into one list of chains with jump targets resolved to chain indexes;
// *fatal set when the input cannot be used at all.
QList<Chain> readChains(const std::optional<QByteArray> &untrustedNftJson,
                        const std::optional<QByteArray> &untrustedLegacySave, QString *fatal,
                        QStringList *notes, QStringList *taint)
{
    Parser parser;
    if (!untrustedNftJson && !untrustedLegacySave) {
        *fatal = QStringLiteral("no ruleset was read (neither nft nor iptables-legacy-save)");
        return {};
    }
    if (untrustedNftJson)
        parser.readNft(*untrustedNftJson);
    if (parser.fatal.isEmpty() && untrustedLegacySave) {
        const int before = parser.chains.size();
        parser.readLegacy(*untrustedLegacySave);
        if (parser.chains.size() > before)
            notes->append(QStringLiteral("iptables-legacy tables are loaded too; they were "
                                         "evaluated together with the nft tables"));
    }
    if (!parser.fatal.isEmpty()) {
        *fatal = parser.fatal;
        return {};
    }
    *taint = parser.taint;
    // Legacy jump targets were stored as chain indexes; nft ones as names: resolve the latter.
    QList<Chain> chains = parser.chains;
    for (Chain &c : chains) {
        for (Rule &r : c.rules) {
            if ((r.action == Action::Jump || r.action == Action::Goto)
                && c.family != QLatin1String("iptables-legacy"))
                r.target = QString::number(
                    parser.chainIndex.value(Parser::key(c.family, c.table, r.target)));
        }
    }
    return chains;
}

QList<int> forwardChains(const QList<Chain> &chains)
{
    QList<int> forward;
    for (int i = 0; i < chains.size(); ++i) {
        const Chain &c = chains.at(i);
        const bool ipv4 = c.family == QLatin1String("ip") || c.family == QLatin1String("inet")
            || c.family == QLatin1String("iptables-legacy");
        if (c.base && ipv4 && c.hook == QLatin1String("forward"))
            forward.append(i);
    }
    std::stable_sort(forward.begin(), forward.end(),
                     [&](int a, int b) { return chains.at(a).prio < chains.at(b).prio; });
    return forward;
}

} // namespace

QList<PacketFate> fatesOf(const std::optional<QByteArray> &untrustedNftJson,
                          const std::optional<QByteArray> &untrustedLegacySave,
                          const QList<ProbePacket> &packets)
{
    QString fatal;
    QStringList notes, taint;
    const QList<Chain> chains
        = readChains(untrustedNftJson, untrustedLegacySave, &fatal, &notes, &taint);
    QList<PacketFate> out;
    const QList<int> forward = forwardChains(chains);
    Evaluator ev(chains);
    for (const ProbePacket &pp : packets) {
        if (!fatal.isEmpty() || !taint.isEmpty()) {
            out.append(PacketFate::Unknown);
            continue;
        }
        Packet p;
        p.iif = pp.iif;
        p.proto = pp.proto;
        p.sport = pp.sport;
        p.dport = pp.dport;
        p.saddr = pp.saddr;
        p.daddr = pp.daddr;
        bool dropped = false, allPass = true;
        for (int ci : forward) {
            const Res r = ev.base(ci, p);
            if (r.drop && !r.pass && !r.unknown) {
                dropped = true;
                break;
            }
            if (r.drop || r.unknown)
                allPass = false;
        }
        out.append(dropped       ? PacketFate::Dropped
                       : allPass ? PacketFate::Accepted
                                 : PacketFate::Unknown);
    }
    return out;
}

namespace {

bool chainSeesFamily(const Chain &c, int family)
{
    if (c.family == QLatin1String("inet"))
        return true;
    if (family == 6)
        return c.family == QLatin1String("ip6");
    return c.family == QLatin1String("ip") || c.family == QLatin1String("iptables-legacy");
}

// The walk of every packet class of one family (4: IPv4, 6: IPv6) through the forward chains
// that see that family.
KillSwitchProof proveFamily(const QList<Chain> &chains, const QStringList &taint, int family)
{
    KillSwitchProof proof;
    QList<int> forward;
    QStringList outputOnly;
    for (int i = 0; i < chains.size(); ++i) {
        const Chain &c = chains.at(i);
        if (!c.base || !chainSeesFamily(c, family))
            continue;
        if (c.hook == QLatin1String("forward"))
            forward.append(i);
        if (c.hook == QLatin1String("output")) {
            bool uplinkDrop = c.policyDrop;
            for (const Rule &r : c.rules) {
                if (r.action != Action::Drop && r.action != Action::Reject)
                    continue;
                for (const Cond &k : r.conds)
                    uplinkDrop
                        = uplinkDrop || k.field == Field::OifName || k.field == Field::OifGroup;
            }
            if (uplinkDrop)
                outputOnly.append(c.where);
        }
    }
    std::stable_sort(forward.begin(), forward.end(),
                     [&](int a, int b) { return chains.at(a).prio < chains.at(b).prio; });

    // The packet classes: every combination of the representatives of each field.
    QList<Range> protoClasses, sportClasses, dportClasses, saddrClasses, daddrClasses;
    const QList<quint32> protos = representatives(chains, Field::L4Proto, &protoClasses);
    const QList<quint32> sports = representatives(chains, Field::Sport, &sportClasses);
    const QList<quint32> dports = representatives(chains, Field::Dport, &dportClasses);
    QList<quint32> saddrs, daddrs;
    QList<U128> saddrs6, daddrs6;
    QList<Range6> saddrClasses6, daddrClasses6;
    if (family == 6) {
        saddrs6 = representatives6(chains, Field::Saddr6, &saddrClasses6);
        daddrs6 = representatives6(chains, Field::Daddr6, &daddrClasses6);
    } else {
        saddrs = representatives(chains, Field::Saddr, &saddrClasses);
        daddrs = representatives(chains, Field::Daddr, &daddrClasses);
    }
    const int saddrCount = family == 6 ? int(saddrs6.size()) : int(saddrs.size());
    const int daddrCount = family == 6 ? int(daddrs6.size()) : int(daddrs.size());
    const QStringList iifs = clientInterfaces(chains);
    qint64 portProtos = 0;
    for (quint32 p : protos)
        portProtos += portBearing(p) ? 1 : 0;
    const qint64 classes = qint64(iifs.size()) * saddrCount * daddrCount
        * (portProtos * sports.size() * dports.size() + (protos.size() - portProtos));
    qint64 totalRules = 1;
    for (const Chain &c : chains)
        totalRules += c.rules.size() + 1;
    if (classes > kMaxPacketClasses || classes * totalRules > kMaxWork) {
        proof.why = QStringLiteral("the ruleset tells apart too many kinds of packets (%1) to "
                                   "walk them all")
                        .arg(classes);
        return proof;
    }

    Evaluator ev(chains);
    struct Leak
    {
        int proto;
        int dport;
        int daddr;
        int saddr;
        int sport;
        QString iif;
    };
    QList<Leak> leaks;
    QMap<int, int> deciders; // flat rule -> packets it decides
    int firstAccept = -1;
    int firstUnknown = -1;
    bool unknownByAmbiguity = false;
    int unknownCount = 0;
    for (const QString &iif : iifs) {
        for (int pi = 0; pi < protos.size(); ++pi) {
            const bool ports = portBearing(protos.at(pi));
            const int ns = ports ? sports.size() : 1;
            const int nd = ports ? dports.size() : 1;
            for (int si = 0; si < saddrCount; ++si)
                for (int di = 0; di < daddrCount; ++di)
                    for (int sp = 0; sp < ns; ++sp)
                        for (int dp = 0; dp < nd; ++dp) {
                            Packet p;
                            p.family = family;
                            p.iif = iif;
                            p.proto = protos.at(pi);
                            if (family == 6) {
                                p.saddr6 = saddrs6.at(si);
                                p.daddr6 = daddrs6.at(di);
                            } else {
                                p.saddr = saddrs.at(si);
                                p.daddr = daddrs.at(di);
                            }
                            p.sport = ports ? sports.at(sp) : 0;
                            p.dport = ports ? dports.at(dp) : 0;
                            ++proof.packetClasses;
                            int dropper = -1;
                            bool allPass = true;
                            int accept = -1;
                            int unknown = -1;
                            bool ambiguity = false;
                            for (int ci : std::as_const(forward)) {
                                const Res r = ev.base(ci, p);
                                if (r.drop && !r.pass && !r.unknown) {
                                    dropper = r.dropRule;
                                    break;
                                }
                                if (r.drop || r.unknown) {
                                    allPass = false;
                                    if (unknown == -1) {
                                        unknown = r.unknown ? r.unknownRule : r.ambiguousRule;
                                        ambiguity = !r.unknown;
                                    }
                                } else if (accept == -1) {
                                    accept = r.passRule;
                                }
                            }
                            if (dropper != -1) {
                                ++deciders[dropper];
                            } else if (allPass) {
                                leaks.append(
                                    Leak {pi, ports ? dp : -1, di, si, ports ? sp : -1, iif});
                                if (firstAccept == -1)
                                    firstAccept = accept;
                            } else {
                                ++unknownCount;
                                if (firstUnknown == -1) {
                                    firstUnknown = unknown;
                                    unknownByAmbiguity = ambiguity;
                                }
                            }
                        }
        }
    }

    if (!outputOnly.isEmpty() && (!leaks.isEmpty() || unknownCount))
        proof.notes.append(
            QStringLiteral("%1 drops traffic to the uplink at the output hook: that protects the "
                           "VPN qube's own traffic only; its clients' packets are forwarded and "
                           "never pass there")
                .arg(outputOnly.join(QStringLiteral("; "))));

    if (!leaks.isEmpty()) {
        proof.outcome = KillSwitchProof::Outcome::Leaks;
        if (forward.isEmpty())
            proof.acceptedBy = family == 6
                ? QStringLiteral("no chain is hooked at forward in an ip6 or inet table: the "
                                 "kernel forwards every IPv6 packet")
                : QStringLiteral("no chain is hooked at forward in an ip or inet table: the "
                                 "kernel forwards everything");
        else
            proof.acceptedBy = ev.describe(firstAccept);
        // What leaks, by protocol class; a class leaks fully when every packet of it does.
        QMap<int, QList<Leak>> byProto;
        QSet<QString> leakIifs;
        QSet<int> leakSaddrs;
        QSet<QString> leakPairs; // (interface, source) classes that leak at all
        for (const Leak &l : std::as_const(leaks)) {
            leakPairs.insert(l.iif + u' ' + QString::number(l.saddr));
            byProto[l.proto].append(l);
            leakIifs.insert(l.iif);
            leakSaddrs.insert(l.saddr);
        }
        auto full = [&](int pi) {
            const qint64 n = portBearing(protos.at(pi)) ? qint64(sports.size()) * dports.size() : 1;
            return byProto.value(pi).size() == n * daddrCount * leakPairs.size();
        };
        static const QSet<quint32> named {1, 6, 17, 33, 132, 136};
        bool allFull = true;
        bool othersFull = true;
        for (int pi = 0; pi < protos.size(); ++pi) {
            allFull = allFull && full(pi);
            if (!named.contains(protos.at(pi)))
                othersFull = othersFull && full(pi);
        }
        QStringList parts;
        if (allFull) {
            parts.append(QStringLiteral("every packet (any protocol, port and destination)"));
        } else {
            bool othersSaid = false;
            for (auto it = byProto.cbegin(); it != byProto.cend(); ++it) {
                const Range pr = protoClasses.at(it.key());
                const bool isNamed = pr.lo == pr.hi && named.contains(pr.lo);
                if (!isNamed && othersFull) {
                    if (!othersSaid)
                        parts.append(QStringLiteral("any other ip protocol"));
                    othersSaid = true;
                    continue;
                }
                QString what = pr.lo == pr.hi
                    ? protoName(pr.lo)
                    : QStringLiteral("ip protocols %1-%2").arg(pr.lo).arg(pr.hi);
                const bool ports = portBearing(protos.at(it.key()));
                QList<Range> dp, da;
                QList<Range6> da6;
                QSet<int> dpSeen, daSeen;
                for (const Leak &l : it.value()) {
                    if (ports && !dpSeen.contains(l.dport)) {
                        dpSeen.insert(l.dport);
                        dp.append(dportClasses.at(l.dport));
                    }
                    if (!daSeen.contains(l.daddr)) {
                        daSeen.insert(l.daddr);
                        if (family == 6)
                            da6.append(daddrClasses6.at(l.daddr));
                        else
                            da.append(daddrClasses.at(l.daddr));
                    }
                }
                if (ports) {
                    if (dpSeen.size() == dports.size())
                        what += QStringLiteral(" (any port)");
                    else
                        what += QStringLiteral(" to ports %1").arg(rangesText(merged(dp), false));
                }
                if (daSeen.size() != daddrCount)
                    what += QStringLiteral(" to %1").arg(
                        family == 6 ? rangesText6(merged6(da6)) : rangesText(merged(da), true));
                parts.append(what);
                if (parts.size() >= 8) {
                    parts.append(QStringLiteral("…"));
                    break;
                }
            }
        }
        if (leakSaddrs.size() != saddrCount) {
            QList<Range> from;
            QList<Range6> from6;
            for (int si : std::as_const(leakSaddrs)) {
                if (family == 6)
                    from6.append(saddrClasses6.at(si));
                else
                    from.append(saddrClasses.at(si));
            }
            parts.append(QStringLiteral("from %1").arg(
                family == 6 ? rangesText6(merged6(from6)) : rangesText(merged(from), true)));
        }
        if (leakIifs.size() != iifs.size()) {
            QStringList on;
            for (const QString &i : std::as_const(leakIifs))
                on.append(i == iifs.last() ? QStringLiteral("a client interface no rule names")
                                           : shown(i, 16));
            on.sort();
            parts.append(QStringLiteral("arriving on %1").arg(on.join(QStringLiteral(", "))));
        }
        proof.leaks = parts.join(QStringLiteral(", "));
        return proof;
    }
    if (unknownCount > 0) {
        proof.outcome = KillSwitchProof::Outcome::CannotProve;
        proof.why = unknownByAmbiguity
            ? QStringLiteral("whether some packets are dropped depends on %1")
                  .arg(ev.unknownText(firstUnknown))
            : QStringLiteral("a rule on the path is not understood: %1")
                  .arg(ev.unknownText(firstUnknown));
        return proof;
    }
    if (!taint.isEmpty()) {
        proof.outcome = KillSwitchProof::Outcome::CannotProve;
        proof.why = taint.first();
        return proof;
    }
    proof.outcome = KillSwitchProof::Outcome::Proven;
    QList<QPair<int, int>> ranked;
    for (auto it = deciders.cbegin(); it != deciders.cend(); ++it)
        ranked.append({it.value(), it.key()});
    std::sort(ranked.begin(), ranked.end(), [](auto a, auto b) { return a.first > b.first; });
    QStringList by;
    for (const auto &[count, rule] : std::as_const(ranked)) {
        if (by.size() >= 3) {
            by.append(QStringLiteral("and %1 more").arg(ranked.size() - 3));
            break;
        }
        by.append(ev.describe(rule));
    }
    proof.decidedBy = by.join(QStringLiteral("; "));
    return proof;
}

} // namespace

KillSwitchProof proveKillSwitch(const std::optional<QByteArray> &untrustedNftJson,
                                const std::optional<QByteArray> &untrustedLegacySave,
                                bool ipv6ForClients)
{
    KillSwitchProof proof;
    QString fatal;
    QStringList taint;
    QStringList readNotes;
    const QList<Chain> chains
        = readChains(untrustedNftJson, untrustedLegacySave, &fatal, &readNotes, &taint);
    if (!fatal.isEmpty()) {
        proof.why = fatal;
        proof.notes = readNotes;
        return proof;
    }
    KillSwitchProof v4 = proveFamily(chains, taint, 4);
    v4.notes = readNotes + v4.notes;
    if (!ipv6ForClients)
        return v4;

    // IPv6 is on for the clients: IPv6 packets take the ip6 and inet chains, and a kill switch
    // must drop them too. The worse of the two families is the verdict, in words naming IPv6.
    const KillSwitchProof v6 = proveFamily(chains, taint, 6);
    using Outcome = KillSwitchProof::Outcome;
    proof.notes = v4.notes;
    for (const QString &n : v6.notes)
        proof.notes.append(QStringLiteral("IPv6: ") + n);
    proof.packetClasses = v4.packetClasses + v6.packetClasses;
    if (v4.outcome == Outcome::Leaks || v6.outcome == Outcome::Leaks) {
        proof.outcome = Outcome::Leaks;
        QStringList leaks, by;
        if (v4.outcome == Outcome::Leaks) {
            leaks.append(QStringLiteral("IPv4: ") + v4.leaks);
            by.append(QStringLiteral("IPv4 by ") + v4.acceptedBy);
        }
        if (v6.outcome == Outcome::Leaks) {
            leaks.append(QStringLiteral("IPv6: ") + v6.leaks);
            by.append(QStringLiteral("IPv6 by ") + v6.acceptedBy);
        }
        proof.leaks = leaks.join(QStringLiteral("; "));
        proof.acceptedBy = by.join(QStringLiteral("; "));
        if (v4.outcome == Outcome::Proven)
            proof.notes.prepend(QStringLiteral(
                "IPv6 is on for this qube's clients and the kill switch drops IPv4 only: "
                "their IPv6 traffic leaves by the uplink"));
        return proof;
    }
    if (v4.outcome == Outcome::CannotProve || v6.outcome == Outcome::CannotProve) {
        proof.outcome = Outcome::CannotProve;
        proof.why = v4.outcome == Outcome::CannotProve
            ? v4.why
            : QStringLiteral("for IPv6 (on for this qube's clients), %1").arg(v6.why);
        return proof;
    }
    proof.outcome = Outcome::Proven;
    proof.decidedBy = QStringLiteral("IPv4: %1; IPv6: %2").arg(v4.decidedBy, v6.decidedBy);
    return proof;
}

} // namespace netmap
