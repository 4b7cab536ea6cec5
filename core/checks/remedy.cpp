#include "remedy.h"

#include "model/snapshot.h"
#include "model/topology.h"
#include "model/untrustedtext.h"
#include "policy/inference.h"

namespace netmap {

namespace {

constexpr auto kFirewallScript = "/rw/config/qubes-firewall-user-script";

QString prefs(const QString &qube, const QString &netvm)
{
    return QStringLiteral("qvm-prefs %1 netvm %2").arg(qube, netvm);
}

// The first network qube (sorted by name) that looks like a VPN qube, to name in a command.
QString someVpnQube(const Snapshot &snapshot, const QString &except)
{
    for (const Qube &q : snapshot.qubes)
        if (q.providesNetwork && q.name.toString() != except
            && (q.hasTag(u"vpn")
                || q.name.toString().contains(QLatin1String("vpn"), Qt::CaseInsensitive)))
            return q.name.toString();
    return {};
}

QString someWhonixGateway(const Snapshot &snapshot)
{
    for (const Qube &q : snapshot.qubes)
        if (q.providesNetwork && q.looksLikeWhonixGateway())
            return q.name.toString();
    return {};
}

Remedy killSwitchIn(const QString &vpn, const QString &first)
{
    Remedy r;
    r.advice = first
        + QStringLiteral(" Add the kill-switch lines of the Qubes VPN guide to %1 in %2 (as "
                         "root), so that nothing from its clients leaves by the uplink eth0 "
                         "outside the tunnel; restart %2 and check again.")
              .arg(QLatin1String(kFirewallScript), vpn);
    r.where = QStringLiteral("in %1, in %2").arg(vpn, QLatin1String(kFirewallScript));
    r.commands = killSwitchLines();
    return r;
}

Remedy inDom0(const QString &advice, const QString &command)
{
    Remedy r;
    r.advice = advice;
    r.where = QStringLiteral("in dom0");
    r.commands << command;
    return r;
}

// The qube is not behind a VPN qube at all.
Remedy putBehindVpn(const Snapshot &snapshot, const QString &qube)
{
    const QString candidate = someVpnQube(snapshot, qube);
    if (candidate.isEmpty())
        return inDom0(QStringLiteral("%1 is not behind a VPN qube. Set its netvm to your VPN "
                                     "qube (no qube in this map looks like one):")
                          .arg(qube),
                      prefs(qube, QStringLiteral("<your VPN qube>")));
    return inDom0(
        QStringLiteral("%1 is not behind a VPN qube. To send it through %2:").arg(qube, candidate),
        prefs(qube, candidate));
}

Remedy putBehindWhonix(const Snapshot &snapshot, const QString &qube)
{
    const QString gateway = someWhonixGateway(snapshot);
    if (gateway.isEmpty()) {
        Remedy r;
        r.advice = QStringLiteral("%1 is not behind a Whonix gateway, and this map has none. "
                                  "Qubes installs Whonix with sys-whonix as its gateway; set "
                                  "%1's netvm to it.")
                       .arg(qube);
        return r;
    }
    return inDom0(QStringLiteral("%1 is not behind a Whonix gateway. To send it through %2:")
                      .arg(qube, gateway),
                  prefs(qube, gateway));
}

} // namespace

QStringList killSwitchLines()
{
    return {QStringLiteral("nft add rule qubes custom-forward oifname eth0 counter drop"),
            QStringLiteral("nft add rule ip6 qubes custom-forward oifname eth0 counter drop")};
}

QString Remedy::toText() const
{
    QString text = advice;
    if (!commands.isEmpty()) {
        text += QStringLiteral("\n%1:").arg(where.isEmpty() ? QStringLiteral("run") : where);
        for (const QString &c : commands)
            text += QStringLiteral("\n    ") + c;
    }
    return text;
}

Remedy remedyFor(const CheckResult &result, const Snapshot &snapshot, const Topology &topology)
{
    if (result.status != CheckStatus::Fail)
        return {};
    const QString qube = result.qube.toString();
    const Qube *q = snapshot.find(qube);
    const QString netvm = q && q->netvm ? q->netvm->toString() : QString();
    const QString vpn = vpnProviderOf(snapshot, topology, qube);
    const QString whonix = torGatewayOf(snapshot, topology, qube);

    switch (result.check) {
    case CheckKind::KillSwitch:
        return killSwitchIn(qube,
                            QStringLiteral("If the tunnel in %1 stops, its clients' traffic "
                                           "leaves in the clear.")
                                .arg(qube));
    case CheckKind::Vpn:
        if (vpn.isEmpty())
            return putBehindVpn(snapshot, qube);
        if (result.reason.startsWith(QLatin1String("no tunnel interface")))
            return killSwitchIn(vpn,
                                QStringLiteral("No tunnel is up in %1, yet %2 reaches the "
                                               "internet: start the VPN in %1.")
                                    .arg(vpn, qube));
        if (const CheckResult *ks = snapshot.latest(vpn, CheckKind::KillSwitch);
            ks && ks->status == CheckStatus::Pass) {
            // The kill switch is in place: adding it again would not help.
            Remedy r;
            r.advice = QStringLiteral("%1 leaves by the clearnet exit although it is behind %2, "
                                      "whose kill switch passed: its traffic does not go through "
                                      "the tunnel in %2. Check that the VPN in %2 is connected "
                                      "and routes its clients into the tunnel, then check again.")
                           .arg(qube, vpn);
            return r;
        }
        return killSwitchIn(vpn,
                            QStringLiteral("%1 leaves by the clearnet exit although it is "
                                           "behind %2: the VPN in %2 does not carry its "
                                           "traffic. Connect the VPN in %2.")
                                .arg(qube, vpn));
    case CheckKind::Tor:
        if (whonix.isEmpty())
            return putBehindWhonix(snapshot, qube);
        {
            Remedy r;
            r.advice = QStringLiteral("%1 is behind %2, but its traffic does not come from Tor. "
                                      "Check in %2 that Tor is connected (Whonix's systemcheck) "
                                      "and that nothing between %1 and %2 routes around it.")
                           .arg(qube, whonix);
            return r;
        }
    case CheckKind::DnsLeak:
        if (result.reason.startsWith(QLatin1String("intercepted:"))) {
            // Not a resolver to change: something on the path answers the DNS itself.
            Remedy r;
            const QStringList path = topology.egressChain(qube).mid(1);
            r.advice = QStringLiteral("%1's DNS is answered on its way by something other than a "
                                      "resolver (names nobody asked the zone for resolved): "
                                      "look for DNS redirection in the network qubes it goes "
                                      "through (%2) before trusting any DNS in %1.")
                           .arg(qube,
                                path.isEmpty() ? QStringLiteral("none")
                                               : path.join(QStringLiteral(", ")));
            return r;
        }
        if (!whonix.isEmpty()) {
            Remedy r;
            r.advice = QStringLiteral("%1's DNS is answered by the clearnet resolver although it "
                                      "is behind %2: check that Tor is connected in %2 and that "
                                      "%1 uses no resolver of its own.")
                           .arg(qube, whonix);
            return r;
        }
        if (!vpn.isEmpty())
            return killSwitchIn(
                vpn,
                QStringLiteral("%1 forwards its clients' DNS (sent to 10.139.1.1 and "
                               "10.139.1.2) to the clearnet resolvers, not through the "
                               "tunnel: point it at the VPN's resolvers, as your VPN "
                               "guide's DNS step does.")
                    .arg(vpn));
        return putBehindVpn(snapshot, qube);
    case CheckKind::Isolation: {
        Remedy r;
        const QString where = netvm.isEmpty() ? QStringLiteral("its network qube") : netvm;
        r.advice = QStringLiteral("Qubes drops traffic between qubes in each network qube; here "
                                  "%1 reaches other qubes. Look in %2 for a rule that lets it "
                                  "through (%3 or /rw/config/rc.local) and remove it; if the "
                                  "pair is intended, list it as allowed in the expectations "
                                  "file (--expect). To read the rules in %2:")
                       .arg(qube, where, QLatin1String(kFirewallScript));
        r.where = QStringLiteral("in %1, as root").arg(where);
        r.commands << QStringLiteral("nft list ruleset");
        return r;
    }
    case CheckKind::ExternalIp:
        break;
    }

    // External IP: by what was expected (validated again: the snapshot may come from a file).
    const QString expected = untrustedtext::line(result.expected, 80).trimmed();
    if (result.reason.startsWith(QLatin1String("no egress"))) {
        Remedy r;
        r.advice = QStringLiteral("%1 cannot reach the internet. Check that the qubes on its path "
                                  "(%2) are running and that its firewall rules let it out; to "
                                  "list them:")
                       .arg(qube, topology.egressChain(qube).join(QStringLiteral(" → ")));
        r.where = QStringLiteral("in dom0");
        r.commands << QStringLiteral("qvm-firewall %1 list").arg(qube);
        return r;
    }
    if (expected == QLatin1String("none"))
        return inDom0(QStringLiteral("%1 is meant to have no network but reaches the internet. "
                                     "To take its network away:")
                          .arg(qube),
                      QStringLiteral("qvm-prefs %1 netvm ''").arg(qube));
    if (expected.startsWith(QLatin1String("via "))) {
        const auto via = QubeName::fromUntrusted(QStringView(expected).mid(4).trimmed());
        const Qube *viaQube = via ? snapshot.find(via->toString()) : nullptr;
        if (viaQube && viaQube->providesNetwork
            && !topology.egressChain(qube).contains(via->toString()))
            return inDom0(QStringLiteral("%1 is meant to leave through %2, which is not on its "
                                         "path. To use %2 as its netvm:")
                              .arg(qube, via->toString()),
                          prefs(qube, via->toString()));
    }
    if (expected == QLatin1String("vpn") && vpn.isEmpty())
        return putBehindVpn(snapshot, qube);
    if (expected == QLatin1String("tor") && whonix.isEmpty())
        return putBehindWhonix(snapshot, qube);
    Remedy r;
    r.advice = QStringLiteral("%1 does not leave where it is meant to (%2). A qube on its path "
                              "(%3) sends its traffic elsewhere: check each one's netvm and its "
                              "VPN or proxy settings, then check again. To see %1's netvm:")
                   .arg(qube, expected.isEmpty() ? QStringLiteral("as expected") : expected,
                        topology.egressChain(qube).join(QStringLiteral(" → ")));
    r.where = QStringLiteral("in dom0");
    r.commands << QStringLiteral("qvm-prefs %1 netvm").arg(qube);
    return r;
}

} // namespace netmap
