// Prints the kill-switch evaluator's fate of each packet given on the command line
// ("tcp:443", "udp:53", "icmp", "47") for the `nft -j list ruleset` JSON on stdin: one of
// drop, accept or unknown per line. Used by differential.py.
#include "checks/rulesetproof.h"

#include <QCoreApplication>
#include <QFile>
#include <QTextStream>

using namespace netmap;

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QFile in;
    if (!in.open(stdin, QIODevice::ReadOnly))
        return 2;
    const QByteArray json = in.readAll();
    QList<ProbePacket> packets;
    for (const QString &arg : app.arguments().mid(1)) {
        ProbePacket p;
        p.saddr = (10u << 24) | (137u << 16) | 30u; // 10.137.0.30
        p.daddr = (203u << 24) | (113u << 8) | 1u; // 203.0.113.1
        const QStringList parts = arg.split(u':');
        if (parts[0] == QLatin1String("tcp"))
            p.proto = 6;
        else if (parts[0] == QLatin1String("udp"))
            p.proto = 17;
        else if (parts[0] == QLatin1String("icmp"))
            p.proto = 1;
        else
            p.proto = parts[0].toUInt();
        p.dport = parts.value(1).toUInt();
        packets.append(p);
    }
    QTextStream out(stdout);
    for (PacketFate f : fatesOf(json, std::nullopt, packets))
        out << (f == PacketFate::Dropped        ? "drop"
                    : f == PacketFate::Accepted ? "accept"
                                                : "unknown")
            << '\n';
    return 0;
}
