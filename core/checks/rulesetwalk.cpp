// One packet through the chains: each condition true, false or unknown for it, jumps, gotos and
// returns followed up to nft's depth limit, memoised per rule. A rule that may or may not hold
// is walked both ways, so the result says whether the packet is dropped, passed, or either.

#include "rulesetproof_p.h"

namespace netmap::rulesetproof {

namespace {

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

} // namespace

void Res::merge(const Res &o)
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

Evaluator::Evaluator(const QList<Chain> &chains)
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

const Rule &Evaluator::ruleAt(int flat) const
{
    for (const Chain &c : m_chains) {
        if (flat >= c.offset && flat < c.offset + c.rules.size())
            return c.rules.at(flat - c.offset);
    }
    static const Rule none;
    return none;
}

QString Evaluator::describe(int flat) const
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

QString Evaluator::unknownText(int flat) const
{
    const Rule &r = ruleAt(flat);
    QString why = r.unknownWhy;
    if (why.isEmpty()) {
        for (const Cond &c : r.conds) {
            if (c.field == Field::Unknown || c.thDep) {
                why = QStringLiteral("the match \"%1\" this evaluator does not read").arg(c.text);
                break;
            }
        }
    }
    return QStringLiteral("%1: %2").arg(describe(flat), why);
}

Res Evaluator::base(int chain, const Packet &p)
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

Res Evaluator::eval(int ci, int i, const Packet &p, int depth)
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
                    act.ambiguousRule = flat; // the first rule on the path that may or may not hold
                }
            }
            out = act;
        }
    }
    m_stamp[flat] = m_generation;
    m_memo[flat] = out;
    return out;
}

} // namespace netmap::rulesetproof
