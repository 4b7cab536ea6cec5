#pragma once
// Strict reader of the NETMAP-... line protocol the probe scripts print inside a qube. Everything
// here is untrusted until it leaves this file as a validated value.

#include <QByteArray>
#include <QList>
#include <QMap>
#include <QString>
#include <QStringList>

#include <optional>

namespace netmap {

struct IpEchoAnswer
{
    bool answered = false; // the endpoint returned something
    QString ip; // validated address, empty when the answer was not an address
};

struct TorAnswer
{
    bool isTor = false;
    QString ip; // validated address or empty ("IP" is optional)
};

struct InterfaceInfo
{
    QString name; // validated interface name
    QString operstate; // up, down, unknown, dormant, lowerlayerdown, notpresent, testing
    int type = -1; // ARPHRD_* from /sys/class/net/X/type
    quint32 flags = 0; // IFF_* from /sys/class/net/X/flags

    bool isUp() const;
    bool isTunnel() const; // tun/tap/wg/ppp by name, or a tunnel device type
};

struct ReachProbe
{
    QString ip; // validated target
    QString probe; // "icmp" or "tcp/PORT"
    bool reached = false;
};

struct ProbeEvidence
{
    bool begun = false; // NETMAP-BEGIN seen
    bool ended = false; // NETMAP-END seen: the script ran to its end
    QStringList problems; // protocol violations, in plain words: the evidence is malformed

    QString httpTool; // curl | wget | python3 | none | empty when not reported
    QMap<int, IpEchoAnswer> ipEcho; // endpoint index -> answer
    QMap<int, IpEchoAnswer> ipEcho6; // ip_echo6 endpoint index -> answer (an IPv6 address only)
    bool torReported = false;
    bool torAnswered = false;
    std::optional<TorAnswer> tor; // set when the answer parsed
    QString torProblem; // why the answer did not parse
    QString dnsTool; // dig | getent | python3 | none | empty when the section did not finish
    QStringList resolvers; // validated, unique, in order
    // The unique-name method (checkscripts.h, ProbePlan::zoneLabels).
    QMap<int, QString> zoneNames; // probe name index -> first address it resolved to, "" for none
    bool zoneServiceReported = false; // NETMAP-ZSVC seen
    bool zoneServiceAnswered = false; // the zone's service answered something over HTTPS
    QList<QByteArray> zoneServiceLines; // its answer, line by line (untrusted, at most 40 lines)
    QString zoneTool; // like dnsTool, set when the section finished (NETMAP-ZONE-DONE)
    QString pingTool; // ping | none
    QString tcpTool; // bash | nc | python3 | none
    QList<ReachProbe> reaches;
    bool interfacesDone = false;
    QList<InterfaceInfo> interfaces;
    QString rulesetTool; // nft | iptables | none
    qint64 rulesetSize = -1;
    QStringList rulesetLines; // NETMAP-NFT / NETMAP-IPT lines without the tag (untrusted text)
    qint64 nftJsonSize = -1; // size of `nft -j list ruleset`; -1 when not reported
    QByteArray nftJson; // NETMAP-NFTJ chunks joined (untrusted)
    qint64 legacySize = -1; // size of `iptables-legacy-save`; -1 when the tool is absent
    QByteArray legacySave; // NETMAP-IPTL lines (untrusted)
    bool rulesetDone = false;
    QStringList drillEvents; // NETMAP-DRILL words in order ("broken", "restored", ...)
    int otherLines = 0; // lines outside the protocol (ignored)

    QStringList upTunnels() const; // names of tunnel interfaces that are up
};

// Parses a probe script's stdout. Never throws; every defect lands in problems.
ProbeEvidence parseProbeOutput(const QByteArray &untrustedStdout);

// The zone service's answer to SERVICE?names=L1,L2,L3: the line "netmap-resolvers 1", then any
// number of "LABEL ADDRESS" lines (a resolver at ADDRESS asked for LABEL.ZONE; LABEL one of the
// labels asked about, ADDRESS an IPv4/IPv6 address, one space between), then "end" and nothing
// after it. At most 40 lines of at most 100 characters. Returns label -> resolvers (unique, in
// order; every asked label present, possibly empty); nullopt with *why otherwise.
std::optional<QMap<QString, QStringList>>
parseZoneServiceAnswer(const QList<QByteArray> &untrustedLines, const QStringList &labels,
                       QString *why = nullptr);
constexpr int kMaxZoneServiceLines = 40;

// One IP echo answer: optional surrounding blanks, then exactly one IPv4/IPv6 address.
std::optional<QString> parseIpEchoValue(QByteArrayView untrusted);
// The same for an endpoint asked over IPv6: an IPv6 address only.
std::optional<QString> parseIpv6EchoValue(QByteArrayView untrusted);
// The Tor check JSON: an object, at most 4 KiB, "IsTor" a boolean, "IP" optional but valid.
std::optional<TorAnswer> parseTorCheck(QByteArrayView untrustedJson, QString *why = nullptr);

} // namespace netmap
