#pragma once
// FirewallRule: one line of `qvm-firewall QUBE --raw list`, validated.

#include <QString>

#include <optional>

namespace netmap {

struct FirewallRule
{
    QString action; // accept | drop
    QString dst4; // address/prefix or empty
    QString dst6;
    QString dsthost;
    QString proto; // tcp | udp | icmp or empty
    int portFrom = 0; // dstports range, 0 when absent
    int portTo = 0;
    std::optional<int> icmptype;
    QString specialtarget; // "dns" or empty
    std::optional<qint64> expire; // epoch seconds
    QString comment; // free text (plain text only)

    // The rule in words for the inspector: "accept tcp to 1.2.3.4/32 port 443".
    QString describe() const;
    // The rule in qvm-firewall --raw form (canonical key order).
    QString toRaw() const;

    friend bool operator==(const FirewallRule &, const FirewallRule &) = default;
};

} // namespace netmap
