#pragma once
// CheckConfig: endpoints, DNS names, timeouts and concurrency of the verification checks, read
// strictly from YAML (--config, the user's file, or the shipped default).

#include "model/result.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace netmap {

struct CheckConfig
{
    QStringList ipEchoUrls; // >= 2 validated http(s) URLs on distinct hosts (clearnet probes)
    // Separate sets for qubes expected to leave by a VPN or by Tor, so that no echo service links
    // one machine's clearnet, VPN and Tor exits; empty: ipEchoUrls.
    QStringList ipEchoUrlsVpn;
    QStringList ipEchoUrlsTor;
    // IPv6 echo endpoints (endpoints.ip_echo6), asked over IPv6 only by every qube whose exit is
    // checked, whatever qvm-ls says about its IPv6: 2 to 8 validated URLs on distinct hosts, none
    // an IPv4 literal. The IPv4 sets above are asked over IPv4 only.
    QStringList ipEchoUrls6;

    // The set for a kind of exit: "clearnet", "vpn", "tor" (anything else: clearnet).
    const QStringList &ipEchoFor(const QString &kind) const;
    QString torCheckUrl; // validated http(s) URL answering {"IsTor":...}
    // endpoints.ca_file: the only CAs the qubes trust for https:// endpoints (curl --cacert), for
    // private endpoints; caPem is its content, validated and re-encoded in dom0 (PEM
    // certificates only). Empty: the qube's own CA store.
    QString caFile;
    QByteArray caPem;
    QString dnsWhoami; // validated DNS name whose A record is the asking resolver
    // The unique-name method (dns.zone, dns.zone_service): probes resolve never-seen names under
    // dnsZone, then ask dnsZoneService (https:// only) which resolvers asked for them. Both set
    // or both empty; empty: only the whoami A record, which can fail a check but never pass it.
    QString dnsZone;
    QString dnsZoneService;
    bool hasDnsZone() const { return !dnsZone.isEmpty() && !dnsZoneService.isEmpty(); }
    int timeoutSeconds = 30; // per check, enforced by the runner
    int connectTimeoutSeconds = 8; // curl -m / ping -W inside the qube
    int concurrency = 4;
    QList<int> isolationPorts {22, 80, 443};
    // The clearnet baseline pinned by the owner (baseline: {exit_ips, resolvers}); empty: measured
    // by at least two agreeing qubes on the clearnet path.
    QStringList baselineExitIps;
    QStringList baselineResolvers;
    QString sourceFile; // where it was read from; ":/netmap/config.yaml" for the default

    // The shipped default (resources/config.yaml).
    static CheckConfig defaults();

    friend bool operator==(const CheckConfig &, const CheckConfig &) = default;
};

constexpr qint64 kMaxConfigFileBytes = 256 << 10;
constexpr qint64 kMaxCaFileBytes = 64 << 10;
constexpr qint64 kMaxCaPemBytes = 16 << 10; // what goes into a probe script

// A CA file as it may go into a probe script: one to eight PEM "CERTIFICATE" blocks and nothing
// else but blank lines, each strict base64 of one DER-encoded certificate (a SEQUENCE holding a
// SEQUENCE, lengths exact), re-encoded as 64-column PEM. nullopt with *why otherwise.
std::optional<QByteArray> canonicalCaPem(const QByteArray &untrusted, QString *why = nullptr);
// Whether an endpoint URL is plain http:// (a network qube on the path can forge its answer).
bool isPlainHttp(const QString &url);

// Parses a config file. Keys that are absent keep the shipped default; unknown keys, repeated
// keys and invalid values are errors with file:line:column. fileName is used in positions only.
Result<CheckConfig> checkConfigFromYaml(const QByteArray &untrustedYaml, const QString &fileName);
Result<CheckConfig> loadCheckConfigFile(const QString &path);
// $XDG_CONFIG_HOME/qubes-netmap/config.yaml (~/.config/... when unset).
QString userCheckConfigPath();
// --config PATH when given; else the user's file when it exists; else the shipped default.
Result<CheckConfig> loadCheckConfig(const QString &explicitPath = {});

} // namespace netmap
