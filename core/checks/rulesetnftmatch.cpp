// One nft match expression ({"match": {"op", "left", "right"}}) into a condition: the field its
// left side reads, and on its right side the values, prefixes, ranges, anonymous and named sets
// of that field, per address family. What is not understood becomes an unknown condition.

#include "rulesetproof_p.h"

#include <QJsonDocument>

namespace netmap::rulesetproof {

namespace {

QString valueText(const QJsonValue &v)
{
    QString t;
    if (v.isString())
        t = u'"' + v.toString() + u'"';
    else if (v.isDouble())
        t = QString::number(v.toDouble(), 'g', 12);
    else
        t = QString::fromUtf8(
            QJsonDocument(v.isArray() ? QJsonDocument(v.toArray()) : QJsonDocument(v.toObject()))
                .toJson(QJsonDocument::Compact));
    return shown(t, 120);
}

// The field a match's left side reads, or Unknown (with its name in `what`).
Field leftField(const QJsonObject &left, QList<quint32> *dep, bool *th, QString *what,
                int *onlyFamily)
{
    if (left.contains(QStringLiteral("meta"))) {
        const QString k
            = left.value(QStringLiteral("meta")).toObject().value(QStringLiteral("key")).toString();
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
        const QString k
            = left.value(QStringLiteral("ct")).toObject().value(QStringLiteral("key")).toString();
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

} // namespace

// The value(s) on the right of a match, as ranges of a numeric field; nullopt when not
// understood.
std::optional<QList<Range>> Parser::numericValues(Field f, const QJsonValue &v,
                                                  const QString &family, const QString &table,
                                                  int depth)
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
std::optional<QList<Range6>> Parser::addressValues6(const QJsonValue &v, const QString &family,
                                                    const QString &table, int depth)
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
            o.value(QStringLiteral("elem")).toObject().value(QStringLiteral("val")), family, table,
            depth + 1);
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

std::optional<QList<Range>> Parser::listValues(Field f, const QJsonArray &a, const QString &family,
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

std::optional<QStringList> Parser::nameValues(const QJsonValue &v, const QString &family,
                                              const QString &table, int depth)
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

std::optional<QStringList> Parser::nameList(const QJsonArray &a, const QString &family,
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

Cond Parser::nftMatch(const QJsonObject &m, const QString &family, const QString &table)
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

} // namespace netmap::rulesetproof
