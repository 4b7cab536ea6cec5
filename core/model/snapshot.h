#pragma once
// Snapshot: everything read from one source at one time, plus the evidence of checks run so far.

#include "checkresult.h"
#include "firewallrule.h"
#include "intent.h"
#include "qube.h"

#include <QDateTime>
#include <QList>
#include <QMap>
#include <QString>

#include <optional>
#include <vector>

namespace netmap {

struct Globals
{
    std::optional<QubeName> defaultNetvm;
    std::optional<QubeName> updatevm;
    std::optional<QubeName> clockvm;
    std::optional<QubeName> defaultDispvm;

    friend bool operator==(const Globals &, const Globals &) = default;
};

// Where one clearnet baseline of a verification run came from (docs/ARCHITECTURE.md §4): the
// clearnet exit or resolvers that vpn, dns-leak and clearnet external-ip compare with.
struct BaselineWitness
{
    QString qube;
    QStringList said; // the values it measured (empty: it could not say; see problem)
    QString problem; // why it could not say, in words

    friend bool operator==(const BaselineWitness &, const BaselineWitness &) = default;
};

struct BaselineRecord
{
    enum class State { Agreed, Pinned, Disputed, Unconfirmed };
    QString uplink; // the network qube at the root of the clearnet path
    QString what; // "exit" or "resolvers"
    State state = State::Unconfirmed;
    QStringList values; // the baseline when Agreed or Pinned
    QString summary; // where it came from or why there is none, in words
    QList<BaselineWitness> witnesses; // empty when pinned

    friend bool operator==(const BaselineRecord &, const BaselineRecord &) = default;
};
QString baselineStateId(BaselineRecord::State state); // "agreed", "pinned", ...

struct Snapshot
{
    QString source; // "demo", "qvm-ls", "snapshot"
    QString sourceDetail; // file path for a snapshot file, empty otherwise
    QDateTime generated; // UTC, second precision
    Globals globals;
    std::vector<Qube> qubes; // sorted by name
    QMap<QString, QList<FirewallRule>> firewall; // qube name -> rules, where read
    QMap<QString, QStringList> tunnels; // network qube -> tunnel interfaces seen up in it
    std::vector<CheckResult> checks; // evidence, in the order it arrived
    QList<BaselineRecord> baselines; // the clearnet baselines the latest verification run used
    QStringList rejected; // rows the source printed that were refused, with the reason
    // The owner's intent (--expect); empty: inferred from the network. Views, exports and
    // verdicts all judge by it (policy/expectations.h: intendedEgress()).
    Expectations intent;

    const Qube *find(QStringView name) const;
    int indexOf(QStringView name) const;
    // The newest result of this check for this qube, or nullptr.
    const CheckResult *latest(QStringView qube, CheckKind kind) const;
    // Where the `ipv6` feature that governs this qube is set: the first qube on its netvm chain
    // (itself first) whose feature was read, as Qubes' check_with_netvm looks it up. nullptr
    // when none was read; *on then says nothing.
    const Qube *ipv6FeatureSource(QStringView qube, bool *on = nullptr) const;
    // True when some qube has IPv6 (an address, a gateway, or the feature on).
    bool anyIpv6() const;
    // Sets generated to now (UTC, whole seconds).
    void stamp();

    friend bool operator==(const Snapshot &, const Snapshot &) = default;
};

} // namespace netmap
