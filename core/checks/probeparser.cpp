#include "probeparser.h"

#include "checkscripts.h"
#include "model/ipv4.h"
#include "model/untrustedtext.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>
#include <QRegularExpression>
#include <QSet>

namespace netmap {

namespace {

constexpr qsizetype kMaxLine = 8 << 10;
constexpr int kMaxLines = 20000;
constexpr qsizetype kMaxTorJson = 4 << 10;

using untrustedtext::isPrintableAscii;

QList<QByteArrayView> splitSpaces(QByteArrayView s)
{
    QList<QByteArrayView> parts;
    qsizetype start = 0;
    for (qsizetype i = 0; i <= s.size(); ++i) {
        if (i == s.size() || s.at(i) == ' ') {
            parts.append(s.sliced(start, i - start));
            start = i + 1;
        }
    }
    return parts;
}

QString latin(QByteArrayView v)
{
    return QString::fromLatin1(v.data(), v.size());
}

bool toolAllowed(const QString &kind, const QString &tool)
{
    static const QMap<QString, QSet<QString>> allowed {
        {QStringLiteral("http"),
         {QStringLiteral("curl"), QStringLiteral("wget"), QStringLiteral("python3"),
          QStringLiteral("none")}},
        {QStringLiteral("ping"), {QStringLiteral("ping"), QStringLiteral("none")}},
        {QStringLiteral("tcp"),
         {QStringLiteral("bash"), QStringLiteral("nc"), QStringLiteral("python3"),
          QStringLiteral("none")}},
        {QStringLiteral("ruleset"),
         {QStringLiteral("nft"), QStringLiteral("iptables"), QStringLiteral("none")}},
    };
    return allowed.value(kind).contains(tool);
}

class Reader
{
public:
    ProbeEvidence e;
    QSet<QString> seenSingle;

    void problem(const QString &what)
    {
        if (e.problems.size() < 20)
            e.problems.append(what);
    }

    // Tags that may appear once only.
    bool once(const QString &key)
    {
        if (seenSingle.contains(key)) {
            problem(QStringLiteral("%1 was reported twice").arg(key));
            return false;
        }
        seenSingle.insert(key);
        return true;
    }

    void line(QByteArrayView raw, int number)
    {
        if (raw.isEmpty())
            return;
        if (!raw.startsWith("NETMAP-")) {
            ++e.otherLines;
            return;
        }
        if (e.ended) {
            problem(QStringLiteral("protocol line %1 came after the end marker").arg(number));
            return;
        }
        const qsizetype space = raw.indexOf(' ');
        const QByteArrayView tag = space < 0 ? raw : raw.first(space);
        const QByteArrayView rest = space < 0 ? QByteArrayView() : raw.sliced(space + 1);

        // Ruleset lines carry the qube's own text (comments may be UTF-8); kept, never parsed here.
        if (tag == "NETMAP-NFT" || tag == "NETMAP-IPT") {
            if (e.rulesetLines.size() >= kMaxLines) {
                problem(QStringLiteral("the ruleset has too many lines"));
                return;
            }
            e.rulesetLines.append(QString::fromUtf8(rest.data(), rest.size()));
            return;
        }
        if (tag == "NETMAP-NFTJ") {
            if (e.nftJson.size() + rest.size() > kRulesetJsonCapBytes) {
                problem(QStringLiteral("the JSON ruleset is longer than announced"));
                return;
            }
            e.nftJson.append(rest.data(), rest.size());
            return;
        }
        if (tag == "NETMAP-IPTL") {
            if (e.legacySave.size() + rest.size() + 1 > kRulesetCapBytes) {
                problem(QStringLiteral("the iptables-legacy rules are longer than announced"));
                return;
            }
            e.legacySave.append(rest.data(), rest.size());
            e.legacySave.append('\n');
            return;
        }
        // The zone service's answer is judged by parseZoneServiceAnswer, which refuses odd bytes.
        if (tag == "NETMAP-ZQ") {
            if (!e.zoneServiceAnswered || e.zoneTool.size()) {
                problem(QStringLiteral("a zone service line outside its answer"));
                return;
            }
            if (e.zoneServiceLines.size() >= kMaxZoneServiceLines) {
                problem(QStringLiteral("the zone service's answer has too many lines"));
                return;
            }
            e.zoneServiceLines.append(rest.toByteArray());
            return;
        }
        // Only the answers themselves may hold odd bytes; the protocol words never do.
        if (!isPrintableAscii(raw) && tag != "NETMAP-IP" && tag != "NETMAP-IP6"
            && tag != "NETMAP-TOR") {
            problem(QStringLiteral("line %1 holds characters the protocol never uses").arg(number));
            return;
        }
        if (!e.begun && tag != "NETMAP-BEGIN") {
            problem(QStringLiteral("line %1 came before the begin marker").arg(number));
            return;
        }
        const QList<QByteArrayView> f = splitSpaces(rest);
        const QString tagText = latin(tag);

        if (tag == "NETMAP-BEGIN") {
            if (e.begun || rest != "1")
                problem(QStringLiteral("unexpected begin marker"));
            e.begun = true;
        } else if (tag == "NETMAP-END") {
            if (!rest.isEmpty())
                problem(QStringLiteral("malformed end marker"));
            e.ended = true;
        } else if (tag == "NETMAP-STARTED") {
            once(tagText);
        } else if (tag == "NETMAP-TOOL") {
            if (f.size() != 2 || !toolAllowed(latin(f[0]), latin(f[1]))) {
                problem(QStringLiteral("malformed tool line"));
                return;
            }
            const QString kind = latin(f[0]);
            if (!once(QStringLiteral("tool ") + kind))
                return;
            const QString tool = latin(f[1]);
            if (kind == QLatin1String("http"))
                e.httpTool = tool;
            else if (kind == QLatin1String("ping"))
                e.pingTool = tool;
            else if (kind == QLatin1String("tcp"))
                e.tcpTool = tool;
            else
                e.rulesetTool = tool;
        } else if (tag == "NETMAP-IP" || tag == "NETMAP-IP6") {
            const bool v6 = tag == "NETMAP-IP6";
            bool ok = false;
            const int index = f.isEmpty() ? -1 : latin(f[0]).toInt(&ok);
            if (!ok || index < 0 || index > 7 || f.size() < 2
                || latin(f[0]) != QString::number(index)) {
                problem(QStringLiteral("malformed IP answer line"));
                return;
            }
            if (!once(QStringLiteral("%1 answer %2")
                          .arg(v6 ? QStringLiteral("IPv6") : QStringLiteral("IP"))
                          .arg(index)))
                return;
            IpEchoAnswer a;
            if (f[1] == "none" && f.size() == 2) {
                a.answered = false;
            } else if (f[1] == "ok" && f.size() >= 3) {
                a.answered = true;
                const QByteArrayView value = rest.sliced(f[0].size() + 4); // "N ok "
                a.ip = (v6 ? parseIpv6EchoValue(value) : parseIpEchoValue(value))
                           .value_or(QString());
            } else {
                problem(QStringLiteral("malformed IP answer line"));
                return;
            }
            (v6 ? e.ipEcho6 : e.ipEcho).insert(index, a);
        } else if (tag == "NETMAP-TOR") {
            if (!once(tagText))
                return;
            e.torReported = true;
            if (rest == "none") {
                e.torAnswered = false;
            } else if (rest.startsWith("ok ")) {
                e.torAnswered = true;
                QString why;
                e.tor = parseTorCheck(rest.sliced(3), &why);
                e.torProblem = why;
            } else {
                problem(QStringLiteral("malformed Tor answer line"));
            }
        } else if (tag == "NETMAP-DNS") {
            const auto ip = f.size() == 1 ? validIpAddress(latin(f[0])) : std::nullopt;
            if (!ip) {
                problem(QStringLiteral("the DNS answer holds something that is not an address"));
                return;
            }
            if (!e.resolvers.contains(*ip) && e.resolvers.size() < 32)
                e.resolvers.append(*ip);
        } else if (tag == "NETMAP-DNS-DONE") {
            static const QSet<QString> tools {QStringLiteral("dig"), QStringLiteral("getent"),
                                              QStringLiteral("python3"), QStringLiteral("none")};
            if (f.size() != 1 || !tools.contains(latin(f[0]))) {
                problem(QStringLiteral("malformed DNS end line"));
                return;
            }
            if (once(tagText))
                e.dnsTool = latin(f[0]);
        } else if (tag == "NETMAP-ZNAME") {
            bool ok = false;
            const int index = f.isEmpty() ? -1 : latin(f[0]).toInt(&ok);
            std::optional<QString> ip;
            if (f.size() == 3 && f[1] == "ok")
                ip = validIpAddress(latin(f[2]));
            const bool none = f.size() == 2 && f[1] == "none";
            if (!ok || index < 0 || index >= kZoneLabels || latin(f[0]) != QString::number(index)
                || (!ip && !none)) {
                problem(QStringLiteral("malformed zone name line"));
                return;
            }
            if (once(QStringLiteral("zone name %1").arg(index)))
                e.zoneNames.insert(index, ip.value_or(QString()));
        } else if (tag == "NETMAP-ZSVC") {
            if (rest != "ok" && rest != "none") {
                problem(QStringLiteral("malformed zone service line"));
                return;
            }
            if (!once(tagText))
                return;
            e.zoneServiceReported = true;
            e.zoneServiceAnswered = rest == "ok";
        } else if (tag == "NETMAP-ZONE-DONE") {
            static const QSet<QString> tools {QStringLiteral("dig"), QStringLiteral("getent"),
                                              QStringLiteral("python3"), QStringLiteral("none")};
            if (f.size() != 1 || !tools.contains(latin(f[0])) || !e.zoneServiceReported) {
                problem(QStringLiteral("malformed zone end line"));
                return;
            }
            if (once(tagText))
                e.zoneTool = latin(f[0]);
        } else if (tag == "NETMAP-REACH") {
            static const QRegularExpression probeRe(QStringLiteral("^(icmp|tcp/[1-9][0-9]{0,4})$"));
            const auto ip = f.size() == 3 ? validIpAddress(latin(f[0])) : std::nullopt;
            const bool portOk
                = f.size() == 3 && (f[1] == "icmp" || latin(f[1]).mid(4).toInt() <= 65535);
            if (!ip || !probeRe.match(latin(f[1])).hasMatch() || !portOk
                || (f[2] != "yes" && f[2] != "no")) {
                problem(QStringLiteral("malformed reach line"));
                return;
            }
            if (!once(QStringLiteral("reach %1 %2").arg(*ip, latin(f[1]))))
                return;
            e.reaches.append(ReachProbe {*ip, latin(f[1]), f[2] == "yes"});
        } else if (tag == "NETMAP-IF") {
            static const QSet<QString> states {QStringLiteral("up"),
                                               QStringLiteral("down"),
                                               QStringLiteral("unknown"),
                                               QStringLiteral("dormant"),
                                               QStringLiteral("lowerlayerdown"),
                                               QStringLiteral("notpresent"),
                                               QStringLiteral("testing"),
                                               QStringLiteral("-")};
            const auto name = f.size() == 4 ? validInterfaceName(latin(f[0])) : std::nullopt;
            bool typeOk = false, flagsOk = false;
            InterfaceInfo info;
            if (name) {
                info.name = *name;
                info.operstate = latin(f[1]);
                info.type = latin(f[2]).toInt(&typeOk);
                QString flags = latin(f[3]);
                if (flags.startsWith(QLatin1String("0x")))
                    info.flags = flags.mid(2).toUInt(&flagsOk, 16);
            }
            if (!name || !states.contains(info.operstate) || !typeOk || !flagsOk) {
                problem(QStringLiteral("malformed interface line"));
                return;
            }
            if (once(QStringLiteral("interface ") + info.name) && e.interfaces.size() < 256)
                e.interfaces.append(info);
        } else if (tag == "NETMAP-IF-DONE") {
            if (once(tagText))
                e.interfacesDone = true;
        } else if (tag == "NETMAP-RULES-SIZE") {
            bool ok = false;
            const qint64 n = f.size() == 1 ? latin(f[0]).toLongLong(&ok) : -1;
            if (!ok || n < 0) {
                problem(QStringLiteral("malformed ruleset size line"));
                return;
            }
            if (once(tagText))
                e.rulesetSize = n;
        } else if (tag == "NETMAP-NFTJ-SIZE" || tag == "NETMAP-LEGACY-SIZE") {
            bool ok = false;
            const qint64 n = f.size() == 1 ? latin(f[0]).toLongLong(&ok) : -1;
            if (!ok || n < 0) {
                problem(QStringLiteral("malformed ruleset size line"));
                return;
            }
            if (once(tagText))
                (tag == "NETMAP-NFTJ-SIZE" ? e.nftJsonSize : e.legacySize) = n;
        } else if (tag == "NETMAP-RULES-DONE") {
            if (once(tagText))
                e.rulesetDone = true;
        } else if (tag == "NETMAP-DRILL") {
            static const QRegularExpression re(QStringLiteral("^[a-z-]{1,32}( [0-9]{1,6})?$"));
            if (!re.match(latin(rest)).hasMatch() || e.drillEvents.size() >= 8) {
                problem(QStringLiteral("malformed drill line"));
                return;
            }
            e.drillEvents.append(latin(f[0]));
        } else {
            problem(QStringLiteral("unknown protocol line %1").arg(number));
        }
    }
};

} // namespace

bool InterfaceInfo::isUp() const
{
    return (flags & 0x1u)
        && (operstate == QLatin1String("up") || operstate == QLatin1String("unknown"));
}

bool InterfaceInfo::isTunnel() const
{
    static const QRegularExpression re(
        QStringLiteral("^(tun|tap|wg|ppp|ipsec|vti|proton|nordlynx)"));
    return re.match(name).hasMatch() || type == 65534 || type == 512;
}

QStringList ProbeEvidence::upTunnels() const
{
    QStringList names;
    for (const InterfaceInfo &i : interfaces) {
        if (i.isTunnel() && i.isUp())
            names.append(i.name);
    }
    names.sort();
    return names;
}

ProbeEvidence parseProbeOutput(const QByteArray &untrustedStdout)
{
    Reader r;
    qsizetype start = 0;
    int number = 0;
    while (start < untrustedStdout.size()) {
        qsizetype end = untrustedStdout.indexOf('\n', start);
        if (end < 0)
            end = untrustedStdout.size();
        ++number;
        if (number > kMaxLines + 1000) {
            r.problem(QStringLiteral("the output has too many lines"));
            break;
        }
        QByteArrayView line(untrustedStdout.constData() + start, end - start);
        if (line.endsWith('\r'))
            line.chop(1);
        if (line.size() > kMaxLine)
            r.problem(QStringLiteral("line %1 is longer than the protocol allows").arg(number));
        else
            r.line(line, number);
        start = end + 1;
    }
    if (!r.e.begun)
        r.e.problems.prepend(QStringLiteral("the qube printed no begin marker"));
    return r.e;
}

std::optional<QMap<QString, QStringList>>
parseZoneServiceAnswer(const QList<QByteArray> &untrustedLines, const QStringList &labels,
                       QString *why)
{
    auto fail = [why](const QString &reason) -> std::optional<QMap<QString, QStringList>> {
        if (why)
            *why = reason;
        return std::nullopt;
    };
    if (untrustedLines.isEmpty() || untrustedLines.first() != "netmap-resolvers 1")
        return fail(QStringLiteral("it does not start with \"netmap-resolvers 1\""));
    if (untrustedLines.size() > kMaxZoneServiceLines)
        return fail(QStringLiteral("it has more than %1 lines").arg(kMaxZoneServiceLines));
    QMap<QString, QStringList> asked;
    for (const QString &label : labels)
        asked.insert(label, {});
    bool ended = false;
    for (qsizetype i = 1; i < untrustedLines.size(); ++i) {
        const QByteArray &line = untrustedLines.at(i);
        if (ended)
            return fail(QStringLiteral("line %1 follows its \"end\" line").arg(i + 1));
        if (line == "end") {
            ended = true;
            continue;
        }
        if (line.size() > 100 || !isPrintableAscii(line))
            return fail(QStringLiteral("line %1 is not a \"NAME ADDRESS\" line").arg(i + 1));
        const QList<QByteArray> parts = line.split(' ');
        const auto ip = parts.size() == 2 ? validIpAddress(latin(parts[1])) : std::nullopt;
        if (!ip || parts[0].isEmpty())
            return fail(QStringLiteral("line %1 is not a \"NAME ADDRESS\" line").arg(i + 1));
        const QString label = latin(parts[0]);
        if (!asked.contains(label))
            return fail(QStringLiteral("line %1 names a probe name that was not asked about "
                                       "(an answer for someone else, or a replay)")
                            .arg(i + 1));
        QStringList &resolvers = asked[label];
        if (!resolvers.contains(*ip))
            resolvers.append(*ip);
    }
    if (!ended)
        return fail(QStringLiteral("it has no \"end\" line (cut short)"));
    return asked;
}

std::optional<QString> parseIpEchoValue(QByteArrayView untrusted)
{
    const QByteArrayView trimmed = untrusted.trimmed();
    if (trimmed.isEmpty() || trimmed.size() > 45 || !isPrintableAscii(trimmed))
        return std::nullopt;
    return validIpAddress(latin(trimmed));
}

std::optional<QString> parseIpv6EchoValue(QByteArrayView untrusted)
{
    const QByteArrayView trimmed = untrusted.trimmed();
    if (trimmed.isEmpty() || trimmed.size() > 45 || !isPrintableAscii(trimmed))
        return std::nullopt;
    return validIpv6(latin(trimmed));
}

std::optional<TorAnswer> parseTorCheck(QByteArrayView untrustedJson, QString *why)
{
    auto fail = [why](const QString &reason) -> std::optional<TorAnswer> {
        if (why)
            *why = reason;
        return std::nullopt;
    };
    if (untrustedJson.size() > kMaxTorJson)
        return fail(QStringLiteral("the Tor check answer is larger than 4 KiB"));
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(untrustedJson.toByteArray(), &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        return fail(QStringLiteral("the Tor check answer is not a JSON object"));
    const QJsonObject o = doc.object();
    const QJsonValue isTor = o.value(QLatin1String("IsTor"));
    if (!isTor.isBool())
        return fail(QStringLiteral("the Tor check answer has no boolean IsTor"));
    TorAnswer a;
    a.isTor = isTor.toBool();
    const QJsonValue ip = o.value(QLatin1String("IP"));
    if (!ip.isUndefined() && !ip.isNull()) {
        const auto valid = ip.isString() ? validIpAddress(ip.toString()) : std::nullopt;
        if (!valid)
            return fail(QStringLiteral("the Tor check answer has an IP that is not an address"));
        a.ip = *valid;
    }
    return a;
}

} // namespace netmap
