#pragma once
// The fixed POSIX-sh templates that run inside a qube (through qvm-run), filled only with
// validated values, single-quoted. They answer in a line protocol (NETMAP-... lines) that
// probeparser.h reads strictly.

#include "model/qubename.h"

#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace netmap {

struct CheckConfig;

// What one qvm-run call collects in one qube. Sections that do not depend on each other share
// one call (each qvm-run is a Python start in dom0).
struct ProbePlan
{
    bool externalIp = false; // ask every ip_echo endpoint of echoKind's set, and ip_echo6
    QString echoKind = QStringLiteral("clearnet"); // clearnet | vpn | tor: which endpoint set
    bool tor = false; // ask the Tor check endpoint
    bool dns = false; // resolve the whoami name, or the zone names below
    // With dns and a configured zone (CheckConfig::hasDnsZone): resolve LABEL.ZONE for each of
    // these fresh labels, then ask the zone's service over HTTPS which resolvers asked for them
    // (the unique-name method); the whoami name is not used then.
    QStringList zoneLabels;
    QStringList isolationTargets; // validated IPv4/IPv6 addresses to ping and TCP-connect
    bool interfaces = false; // list network interfaces (tunnels)
    bool ruleset = false; // nft list ruleset (text and JSON), iptables-legacy-save (needs root)

    bool needsRoot() const { return ruleset; }
    // Least privilege: only reading the ruleset needs root, so it runs alone as root; the rest
    // (everything that talks to the network, and the interface list) runs as the qube's default
    // user, in a call of its own.
    ProbePlan rootPart() const
    {
        ProbePlan p;
        p.ruleset = ruleset;
        return p;
    }
    ProbePlan userPart() const
    {
        ProbePlan p = *this;
        p.ruleset = false;
        return p;
    }
    bool isEmpty() const
    {
        return !externalIp && !tor && !dns && isolationTargets.isEmpty() && !interfaces && !ruleset;
    }
};

constexpr int kMaxIsolationTargets = 64;
constexpr int kRulesetCapBytes = 256 << 10;
constexpr int kRulesetJsonCapBytes = 1 << 20; // equals kMaxRulesetJsonBytes

// The unique-name method: kZoneLabels fresh labels of kZoneLabelHexDigits lowercase hex digits
// each (80 bits from the system's random source), so that no resolver can have a cached answer
// and no one on the path can guess them in advance.
constexpr int kZoneLabels = 3;
constexpr int kZoneLabelHexDigits = 20;
QStringList newZoneLabels();
bool isZoneLabel(QStringView text);
// What the probe asks the zone's service: SERVICE?names=L1,L2,L3 (SERVICE has no query of its
// own); empty when a label, SERVICE or the result is not valid.
QString zoneServiceQuery(const QString &service, const QStringList &labels);

// 'value' with every ' written as '\'' (the values are validated before; this is belt and braces).
QString shellQuote(const QString &value);
// Interface names as the kernel allows them: 1-15 of [A-Za-z0-9_.-], not "." or "..".
std::optional<QString> validInterfaceName(QStringView untrusted);

// The probe script. Every URL, name and address in config and plan must already be validated;
// anything that is not is left out (and the parser then reports the missing answer).
QString probeScript(const ProbePlan &plan, const CheckConfig &config);

// Kill-switch drill, run as root in the VPN qube. The break script saves the tunnel's routes,
// starts a detached restore that fires after restoreAfterSeconds even if dom0 never comes back,
// then takes the tunnel down without a clean shutdown. The restore script cancels the pending
// restore, restores now, and lists the interfaces again.
QString drillBreakScript(const QString &interfaceName, int restoreAfterSeconds);
QString drillRestoreScript();
// The same steps in words, for the confirmation the user sees before anything runs.
QStringList drillSteps(const QString &vpnQube, const QString &interfaceName,
                       const QString &downstreamQube, int restoreAfterSeconds);

// qvm-run --pass-io --no-gui --no-colour-output --no-colour-stderr [--no-autostart] [-u root] QUBE
// SCRIPT
QStringList qvmRunArguments(const QubeName &qube, const QString &script, bool asRoot,
                            bool autostart);

} // namespace netmap
