#include "redaction.h"

#include <QFileInfo>
#include <QHostAddress>
#include <QRegularExpression>
#include <QSet>

#include <algorithm>

namespace netmap {

namespace {

// Every text field of a snapshot that may quote an address or a name, in a fixed order.
template <typename F>
void forEachResultText(CheckResult &r, F &&f)
{
    f(r.externalIp);
    f(r.observed);
    f(r.expected);
    f(r.reason);
    f(r.command);
    f(r.output);
}

template <typename F>
void forEachText(Snapshot &s, F &&f)
{
    for (Qube &q : s.qubes) {
        f(q.ip);
        f(q.visibleIp);
        f(q.gateway);
        f(q.visibleGateway);
        for (QString &tag : q.tags)
            f(tag);
    }
    for (auto it = s.firewall.begin(); it != s.firewall.end(); ++it) {
        for (FirewallRule &rule : *it) {
            f(rule.dst4);
            f(rule.dst6);
            f(rule.dsthost);
            f(rule.comment);
            f(rule.unreadable);
        }
    }
    for (CheckResult &r : s.checks)
        forEachResultText(r, f);
    for (QString &line : s.rejected)
        f(line);
    // The clearnet baselines: exit addresses and resolvers, and the witnesses' words.
    for (BaselineRecord &b : s.baselines) {
        for (QString &v : b.values)
            f(v);
        f(b.summary);
        for (BaselineWitness &w : b.witnesses) {
            for (QString &v : w.said)
                f(v);
            f(w.problem);
        }
    }
    for (UpdatesRoute &u : s.updates)
        f(u.reason);
    for (auto it = s.intent.byQube.begin(); it != s.intent.byQube.end(); ++it)
        f(it->why);
    for (auto &tagged : s.intent.byTag)
        f(tagged.second.why);
}

const QRegularExpression &ipv4Pattern()
{
    static const QRegularExpression re(
        QStringLiteral(R"((?<![0-9.])([0-9]{1,3}(?:\.[0-9]{1,3}){3})(?![0-9]|\.[0-9]))"));
    return re;
}

const QRegularExpression &ipv6Pattern()
{
    static const QRegularExpression re(QStringLiteral(
        R"((?<![0-9A-Za-z:.])([0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})(?![0-9A-Za-z:]|\.[0-9]))"));
    return re;
}

bool isIpv4(const QString &s)
{
    const QStringList parts = s.split(u'.');
    if (parts.size() != 4)
        return false;
    for (const QString &p : parts) {
        bool ok = false;
        const int v = p.toInt(&ok);
        if (!ok || v < 0 || v > 255)
            return false;
    }
    return true;
}

// An IPv6 address as an address is written (with "::" or all eight groups), so that times
// (04:11:24) and MAC addresses are left alone.
bool isIpv6(const QString &s)
{
    if (!s.contains(QLatin1String("::")) && s.count(u':') != 7)
        return false;
    QHostAddress a;
    return a.setAddress(s) && a.protocol() == QAbstractSocket::IPv6Protocol;
}

bool isNameChar(QChar c)
{
    const char16_t u = c.unicode();
    return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '_'
        || u == '-' || u == '.';
}

QString documentationIpv4(int index)
{
    // 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 (RFC 5737), then 198.18.0.0/15 (RFC 2544).
    static const char *const nets[] = {"192.0.2.", "198.51.100.", "203.0.113."};
    if (index < 3 * 254)
        return QString::fromLatin1(nets[index / 254]) + QString::number(index % 254 + 1);
    index -= 3 * 254;
    return QStringLiteral("198.%1.%2.%3")
        .arg(18 + (index / (256 * 254)) % 2)
        .arg((index / 254) % 256)
        .arg(index % 254 + 1);
}

template <typename Fn>
QString replaceMatches(const QString &text, const QRegularExpression &re, Fn &&replace)
{
    QString out;
    qsizetype from = 0;
    auto it = re.globalMatch(text);
    while (it.hasNext()) {
        const QRegularExpressionMatch m = it.next();
        out += QStringView(text).mid(from, m.capturedStart(1) - from);
        out += replace(m.captured(1));
        from = m.capturedEnd(1);
    }
    if (from == 0)
        return text;
    out += QStringView(text).mid(from);
    return out;
}

} // namespace

std::optional<RedactOptions> RedactOptions::fromId(QStringView id, QString *why)
{
    RedactOptions o;
    if (id.trimmed().isEmpty()) {
        o.ips = true;
        return o;
    }
    for (QStringView part : id.split(u',')) {
        part = part.trimmed();
        if (part == QLatin1String("ips"))
            o.ips = true;
        else if (part == QLatin1String("names"))
            o.names = true;
        else if (part == QLatin1String("all"))
            o.ips = o.names = true;
        else {
            if (why)
                *why = QStringLiteral("\"%1\" is not ips, names or all").arg(part.left(32));
            return std::nullopt;
        }
    }
    return o;
}

QString RedactOptions::id() const
{
    QStringList parts;
    if (ips)
        parts << QStringLiteral("ips");
    if (names)
        parts << QStringLiteral("names");
    return parts.join(u',');
}

bool Redaction::keepsAddress(const QString &address)
{
    if (isIpv4(address)) {
        const QStringList p = address.split(u'.');
        const int a = p[0].toInt(), b = p[1].toInt();
        return (a == 10 && b >= 137 && b <= 139) || a == 0 || a == 127 || a >= 224;
    }
    QHostAddress v6;
    if (v6.setAddress(address))
        return v6 == QHostAddress::AnyIPv6 || v6 == QHostAddress::LocalHostIPv6;
    return true;
}

Redaction::Redaction(const Snapshot &snapshot, RedactOptions options)
    : m_options(options)
{
    if (options.names) {
        // Every name the snapshot refers to, sorted; the pseudonym keeps what the program reads
        // from a name (a VPN qube, a Whonix template), so the redacted map is coloured alike.
        QSet<QString> all;
        const auto add = [&all](const std::optional<QubeName> &n) {
            if (n)
                all.insert(n->toString());
        };
        for (const Qube &q : snapshot.qubes) {
            all.insert(q.name.toString());
            add(q.templ);
            add(q.netvm);
            add(q.defaultDispvm);
        }
        add(snapshot.globals.defaultNetvm);
        add(snapshot.globals.updatevm);
        add(snapshot.globals.clockvm);
        add(snapshot.globals.defaultDispvm);
        for (const CheckResult &r : snapshot.checks) {
            all.insert(r.qube.toString());
            for (const QString &hop : r.pathAtRun)
                all.insert(hop);
        }
        for (auto it = snapshot.tunnels.begin(); it != snapshot.tunnels.end(); ++it)
            all.insert(it.key());
        for (const UpdatesRoute &u : snapshot.updates) {
            all.insert(u.templ.toString());
            add(u.via);
        }
        for (auto it = snapshot.firewall.begin(); it != snapshot.firewall.end(); ++it)
            all.insert(it.key());
        all.remove(QString());
        QStringList sorted(all.begin(), all.end());
        std::sort(sorted.begin(), sorted.end());
        QSet<QString> templates;
        for (const Qube &q : snapshot.qubes)
            if (q.templ)
                templates.insert(q.templ->toString());
        QHash<QString, int> counters;
        for (const QString &original : std::as_const(sorted)) {
            if (original == QLatin1String("dom0")) {
                m_names.insert(original, original);
                continue;
            }
            const Qube *q = snapshot.find(original);
            const QString lower = original.toLower();
            QString prefix = QStringLiteral("qube");
            if (lower.startsWith(QLatin1String("whonix-gateway"))
                || lower.startsWith(QLatin1String("whonix-gw")))
                prefix = QStringLiteral("whonix-gateway");
            else if (lower.startsWith(QLatin1String("whonix-workstation"))
                     || lower.startsWith(QLatin1String("whonix-ws")))
                prefix = QStringLiteral("whonix-workstation");
            else if ((q && q->isTemplate()) || templates.contains(original))
                prefix = QStringLiteral("template");
            else if (lower.contains(QLatin1String("vpn")))
                prefix = QStringLiteral("vpn");
            else if (q && q->providesNetwork)
                prefix = QStringLiteral("net");
            else if (q && q->isDisposable())
                prefix = QStringLiteral("disp");
            m_names.insert(original, QStringLiteral("%1-%2").arg(prefix).arg(++counters[prefix]));
        }
    }
    if (options.ips) {
        // Every address the snapshot holds, first in the order met: the documentation addresses
        // handed out skip these, so an original never reappears standing for another.
        // The exits first, so that the addresses a reader looks at most get the first numbers.
        for (const CheckResult &r : snapshot.checks)
            collect(r.externalIp);
        Snapshot copy = snapshot;
        forEachText(copy, [this](QString &t) { collect(t); });
        for (const QString &a : std::as_const(m_seenAddresses))
            static_cast<void>(address(a));
    }
}

void Redaction::collect(const QString &text)
{
    if (text.isEmpty())
        return;
    for (const QRegularExpression *re : {&ipv6Pattern(), &ipv4Pattern()}) {
        auto it = re->globalMatch(text);
        while (it.hasNext()) {
            const QString a = it.next().captured(1);
            if ((isIpv4(a) || isIpv6(a)) && !m_originals.contains(a)) {
                m_originals.insert(a, 1);
                m_seenAddresses << a;
            }
        }
    }
}

QString Redaction::address(const QString &original) const
{
    if (keepsAddress(original))
        return original;
    if (const auto it = m_addresses.constFind(original); it != m_addresses.constEnd())
        return *it;
    QString mapped;
    if (isIpv4(original)) {
        do
            mapped = documentationIpv4(m_next4++);
        while (m_originals.contains(mapped));
    } else {
        do
            mapped = QStringLiteral("2001:db8::%1").arg(++m_next6, 0, 16);
        while (m_originals.contains(mapped));
    }
    m_addresses.insert(original, mapped);
    return mapped;
}

QString Redaction::name(const QString &original) const
{
    return m_names.value(original, original);
}

QString Redaction::text(const QString &input) const
{
    QString out = input;
    if (out.isEmpty())
        return out;
    if (m_options.names && !m_names.isEmpty()) {
        // One pass over the words: a pseudonym put in is never looked up again.
        QString renamed;
        renamed.reserve(out.size());
        qsizetype i = 0;
        while (i < out.size()) {
            if (!isNameChar(out[i])) {
                renamed += out[i++];
                continue;
            }
            qsizetype j = i;
            while (j < out.size() && isNameChar(out[j]))
                ++j;
            QString word = out.mid(i, j - i);
            QString tail;
            while (!m_names.contains(word) && word.endsWith(u'.')) {
                word.chop(1);
                tail += u'.';
            }
            renamed += m_names.contains(word) ? m_names.value(word) + tail : out.mid(i, j - i);
            i = j;
        }
        out = renamed;
    }
    if (m_options.ips) {
        const auto one
            = [this](const QString &a) { return isIpv4(a) || isIpv6(a) ? address(a) : a; };
        out = replaceMatches(out, ipv6Pattern(), one);
        out = replaceMatches(out, ipv4Pattern(), one);
    }
    return out;
}

CheckResult Redaction::apply(const CheckResult &result) const
{
    CheckResult r = result;
    if (m_options.names) {
        if (const auto n = QubeName::fromUntrusted(name(r.qube.toString())))
            r.qube = *n;
        for (QString &hop : r.pathAtRun)
            hop = name(hop);
    }
    forEachResultText(r, [this](QString &t) { t = text(t); });
    return r;
}

Snapshot Redaction::apply(const Snapshot &snapshot) const
{
    if (!m_options.any())
        return snapshot;
    Snapshot s = snapshot;
    if (!s.sourceDetail.isEmpty())
        s.sourceDetail = QFileInfo(s.sourceDetail).fileName(); // a path names its owner
    forEachText(s, [this](QString &t) { t = text(t); });
    if (!m_options.names)
        return s;
    const auto rename = [this](std::optional<QubeName> &n) {
        if (n)
            if (const auto renamed = QubeName::fromUntrusted(name(n->toString())))
                n = *renamed;
    };
    for (Qube &q : s.qubes) {
        if (const auto renamed = QubeName::fromUntrusted(name(q.name.toString())))
            q.name = *renamed;
        rename(q.templ);
        rename(q.netvm);
        rename(q.defaultDispvm);
    }
    std::sort(s.qubes.begin(), s.qubes.end(),
              [](const Qube &a, const Qube &b) { return a.name < b.name; });
    rename(s.globals.defaultNetvm);
    rename(s.globals.updatevm);
    rename(s.globals.clockvm);
    rename(s.globals.defaultDispvm);
    for (CheckResult &r : s.checks) {
        if (const auto renamed = QubeName::fromUntrusted(name(r.qube.toString())))
            r.qube = *renamed;
        for (QString &hop : r.pathAtRun)
            hop = name(hop);
    }
    QMap<QString, QList<FirewallRule>> firewall;
    for (auto it = s.firewall.begin(); it != s.firewall.end(); ++it)
        firewall.insert(name(it.key()), *it);
    s.firewall = firewall;
    QMap<QString, QStringList> tunnels;
    for (auto it = s.tunnels.begin(); it != s.tunnels.end(); ++it)
        tunnels.insert(name(it.key()), *it);
    s.tunnels = tunnels;
    for (UpdatesRoute &u : s.updates) {
        if (const auto renamed = QubeName::fromUntrusted(name(u.templ.toString())))
            u.templ = *renamed;
        rename(u.via);
        // A reason quotes the policy file's words, which may name qubes.
        if (u.reason.contains(u'"'))
            u.reason = QStringLiteral("(withheld: it quotes the policy, which may name qubes)");
    }
    for (BaselineRecord &b : s.baselines) {
        b.uplink = name(b.uplink);
        for (BaselineWitness &w : b.witnesses)
            w.qube = name(w.qube);
    }
    // The owner's intent follows the names, so the redacted map is judged as the original.
    QMap<QString, Expectation> byQube;
    for (auto it = s.intent.byQube.begin(); it != s.intent.byQube.end(); ++it) {
        Expectation e = *it;
        if (!e.via.isEmpty())
            e.via = name(e.via);
        byQube.insert(name(it.key()), e);
    }
    s.intent.byQube = byQube;
    for (auto &tagged : s.intent.byTag)
        if (!tagged.second.via.isEmpty())
            tagged.second.via = name(tagged.second.via);
    QSet<QPair<QString, QString>> reach;
    for (const auto &pair : std::as_const(s.intent.allowedReach))
        reach.insert({name(pair.first), name(pair.second)});
    s.intent.allowedReach = reach;
    if (!s.intent.sourceFile.isEmpty())
        s.intent.sourceFile = QFileInfo(s.intent.sourceFile).fileName();
    return s;
}

Snapshot redactedSnapshot(const Snapshot &snapshot, RedactOptions options)
{
    if (!options.any())
        return snapshot;
    return Redaction(snapshot, options).apply(snapshot);
}

} // namespace netmap
