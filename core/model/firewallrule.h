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
    int portFrom = -1; // dstports range (ports start at 0), -1 when absent
    int portTo = -1;
    std::optional<int> icmptype;
    QString specialtarget; // "dns" or empty
    std::optional<qint64> expire; // epoch seconds
    QString comment; // free text (plain text only)
    // Not empty: this line of qvm-firewall's output could not be read, for this reason. It keeps
    // its place in the list (rules are ordered) and nothing is concluded from it.
    QString unreadable;

    bool hasPorts() const { return portFrom >= 0; }
    bool isReadable() const { return unreadable.isEmpty(); }

    // The rule in words for the inspector: "accept tcp to 1.2.3.4/32 port 443".
    QString describe() const;
    // The rule in qvm-firewall --raw form (canonical key order); for an unreadable rule the line
    // "# cannot be read: <reason>", which parseFirewall reads back as such.
    QString toRaw() const;

    friend bool operator==(const FirewallRule &, const FirewallRule &) = default;
};

} // namespace netmap
