#pragma once
// Kill-switch proof from a VPN qube's firewall: does every new packet from a client (a vif*
// interface in group 2) that would leave by the clear uplink (eth0, group 1) get dropped, whatever
// its protocol, ports and addresses? Reads `nft -j list ruleset` (libnftables JSON) and, where
// present, `iptables-legacy-save`, both untrusted, and walks every base chain at the forward hook
// with a finite set of packets that stands for all packets (one per class of packets no rule
// tells apart). IPv4 packets walk the ip, inet and iptables-legacy chains; when IPv6 is on for
// the clients, IPv6 packets walk the ip6 and inet chains too (ip6tables-legacy is not read).

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace netmap {

struct KillSwitchProof
{
    enum class Outcome {
        Proven, // every such packet is dropped or rejected
        Leaks, // some such packets are accepted: `leaks` says which
        CannotProve, // a rule on the path is not understood, or the input is unusable
    };
    Outcome outcome = Outcome::CannotProve;
    QString decidedBy; // Proven: which chain and rule drop the packets, in words
    QString leaks; // Leaks: what still leaves, in words ("udp (any port), icmp")
    QString acceptedBy; // Leaks: the rule or policy that lets it through
    QString why; // CannotProve: the rule (or the input problem) in words
    QStringList notes; // facts worth knowing either way (OUTPUT-only drops, legacy tables)
    int packetClasses = 0; // how many packet classes were walked
};

constexpr qsizetype kMaxRulesetJsonBytes = 1 << 20;
constexpr qsizetype kMaxLegacySaveBytes = 256 << 10;

// nftJson: the output of `nft -j list ruleset` (nullopt when nft is not there);
// legacySave: the output of `iptables-legacy-save` (nullopt when absent or empty);
// ipv6ForClients: Qubes gives the VPN qube's clients IPv6 (the `ipv6` feature on its chain), so
// IPv6 packets must be dropped too. Without it the verdict is the IPv4 one, as it always was.
KillSwitchProof proveKillSwitch(const std::optional<QByteArray> &untrustedNftJson,
                                const std::optional<QByteArray> &untrustedLegacySave,
                                bool ipv6ForClients = false);

// One packet from a client out of the uplink (eth0, group 1, ct state new), for the
// differential test that sends real packets through a ruleset.
struct ProbePacket
{
    QString iif = QStringLiteral("vif30.0");
    quint32 proto = 6; // IP protocol number
    quint32 sport = 40000;
    quint32 dport = 0;
    quint32 saddr = 0; // host order
    quint32 daddr = 0;
};
enum class PacketFate { Dropped, Accepted, Unknown };
// What the evaluator says of each packet, by the same walk as proveKillSwitch.
QList<PacketFate> fatesOf(const std::optional<QByteArray> &untrustedNftJson,
                          const std::optional<QByteArray> &untrustedLegacySave,
                          const QList<ProbePacket> &packets);

} // namespace netmap
