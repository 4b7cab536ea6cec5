// `iptables-legacy-save` (untrusted) read into the same chains and rules as the nft ruleset:
// tables, chains with their policy, and -A lines with the matches and targets this evaluator
// reads; any other match or target makes the rule unknown.

#include "rulesetproof_p.h"

#include <QSet>

namespace netmap::rulesetproof {

namespace {

QStringList shellWords(const QString &line)
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

} // namespace

void Parser::readLegacy(const QByteArray &save)
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
                fatal = QStringLiteral("the iptables-legacy rules are more than %1").arg(kMaxRules);
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

void Parser::addLegacyRule(const QHash<QString, int> &local, const QString &chain,
                           const QStringList &w)
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
                QStringLiteral("tcp"),   QStringLiteral("udp"),     QStringLiteral("conntrack"),
                QStringLiteral("state"), QStringLiteral("comment"), QStringLiteral("multiport")};
            if (known.contains(arg)) {
                isCond = false;
            } else {
                c.text = QStringLiteral("-m ") + shown(arg, 30);
                // Its options follow; they belong to the unknown match.
                while (i + 1 < w.size()
                       && !(w.at(i + 1) == QLatin1String("-m") || w.at(i + 1) == QLatin1String("-j")
                            || w.at(i + 1) == QLatin1String("-g")))
                    ++i;
            }
        } else if (t == QLatin1String("--dport") || t == QLatin1String("--destination-port")
                   || t == QLatin1String("--sport") || t == QLatin1String("--source-port")
                   || t == QLatin1String("--dports") || t == QLatin1String("--destination-ports")
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

} // namespace netmap::rulesetproof
