#pragma once
// Dropped traffic: a strict parser for the kernel log lines of the program's nftables logging
// rules ("netmap-drop-TOKEN: IN=… OUT=… SRC=… DST=… PROTO=…" in front of the drop of new traffic
// to qubes, "netmap-drop-TOKEN-fw: …" in front of a reject of the qubes-firewall service), and
// mapping their addresses to qubes. TOKEN is the watch's random token: a line without it, or with
// another watch's, is not this watch's. Root in the watched qube can still write lines with the
// token (it can read the rule): what the log says is the qube's word.

#include <QByteArrayView>
#include <QDateTime>
#include <QString>

#include <optional>

namespace netmap {

struct Snapshot;

// The fixed start of the logging rule's prefix; the watch's token and ": " follow, and the kernel
// writes "IN=" right after.
inline constexpr char kDropLogPrefix[] = "netmap-drop-";
// The whole prefix of one watch: "netmap-drop-<token>: " (the drop of new traffic to qubes in
// table ip qubes), and "netmap-drop-<token>-fw: " (a reject in a per-client chain of table ip
// qubes-firewall, i.e. the client's qvm-firewall rules).
QByteArray dropLogPrefix(QByteArrayView token);
QByteArray firewallRejectLogPrefix(QByteArrayView token);
// Longest log line accepted; a kernel netfilter log line is well under 400 bytes.
inline constexpr qsizetype kMaxDropLogLine = 1024;

// One packet as the kernel logged it; every field validated.
struct DroppedPacket
{
    QString inInterface; // may be empty
    QString outInterface; // may be empty
    QString source; // dotted-quad IPv4
    QString destination;
    QString protocol; // "TCP", "UDP", "ICMP", or a protocol number 0-255
    int sourcePort = -1; // TCP/UDP only, 1-65535 (0 allowed for UDP)
    int destinationPort = -1;
    int icmpType = -1; // ICMP only
    int icmpCode = -1;
    // Logged in front of a reject of the qubes-firewall service: the sending qube's own
    // qvm-firewall rules refused it (not the isolation between qubes).
    bool rejectedByQubeFirewall = false;

    // "TCP 443", "UDP 53", "ICMP echo-request", "ICMP type 3 code 1", "47"
    QString describeService() const;
    friend bool operator==(const DroppedPacket &, const DroppedPacket &) = default;
};

// Parses one line: an optional dmesg time stamp "[  12.345678] ", the prefix with this watch's
// token, then the kernel's space-separated KEY=VALUE and FLAG tokens. Anything else (no token or
// another watch's, other text, markup, control characters, an over-long line, a bad address or
// number, a repeated key, a nested packet of an ICMP error) is refused with the reason in *why.
std::optional<DroppedPacket> parseDropLogLine(QByteArrayView untrustedLine, QByteArrayView token,
                                              QString *why = nullptr);

// A dropped packet as the program shows it: when, in which network qube, from and to which qube.
struct DroppedFlow
{
    QDateTime time; // when the line arrived (local clock of dom0)
    QString watchedQube; // the network qube that dropped it
    DroppedPacket packet;
    QString fromQube; // the qube that owns packet.source, or empty
    QString toQube; // the qube that owns packet.destination, or empty
};

// Maps the packet's addresses to qubes of the snapshot by their IP (ip, then visible_ip).
DroppedFlow mapDroppedFlow(const Snapshot &snapshot, const QString &watchedQube,
                           const DroppedPacket &packet, const QDateTime &time);

} // namespace netmap
