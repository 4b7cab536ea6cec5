// `nft -j list ruleset` (libnftables JSON, untrusted) read into chains and rules: the caps on
// its size, sets and verdict maps, chains with their hook, priority and policy, and each rule's
// statements; a statement this evaluator does not know makes its rule unknown.

#include "rulesetproof_p.h"

#include <QJsonDocument>
#include <QJsonParseError>

namespace netmap::rulesetproof {

namespace {

// A verdict object ({"drop": null}, {"jump": {"target": "x"}}, ...) into the rule.
bool verdictOf(const QJsonObject &o, Rule &r)
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

QString actionText(const Rule &r)
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

} // namespace

void Parser::readNft(const QByteArray &json)
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

QString Parser::key(const QString &family, const QString &table, const QString &name)
{
    return family + u'\x1f' + table + u'\x1f' + name;
}

void Parser::addSet(const QJsonObject &s, bool map)
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

void Parser::addNftChain(const QJsonObject &c)
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

void Parser::addNftRule(const QJsonObject &o)
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
        r.unknownWhy = QStringLiteral("a rule of more than %1 expressions").arg(kMaxExprsPerRule);
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
            const QJsonObject k = e.value(kind).toObject().value(QStringLiteral("key")).toObject();
            const QString mk = k.value(QStringLiteral("meta"))
                                   .toObject()
                                   .value(QStringLiteral("key"))
                                   .toString();
            const QString ck
                = k.value(QStringLiteral("ct")).toObject().value(QStringLiteral("key")).toString();
            words.append(
                QStringLiteral("%1 set …")
                    .arg(mk.isEmpty() ? QStringLiteral("ct ") + ck : QStringLiteral("meta ") + mk));
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
            } else if (data.isObject() && data.toObject().value(QStringLiteral("set")).isArray()) {
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
                one.text = (words.mid(0, words.size() - 1) + QStringList {c.text, actionText(one)})
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

} // namespace netmap::rulesetproof
