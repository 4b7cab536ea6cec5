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

// Where one template's updates go: the qubes.UpdatesProxy rule of dom0's qrexec policy that
// applies to it (qubes/updatespolicy.h). Not `updatevm`, which is dom0's own.
struct UpdatesRoute
{
    enum class Kind {
        Proxy, // allowed, through the qube in `via`
        Denied, // the policy refuses it (no proxy: the template cannot update this way)
        Ask, // dom0 asks each time; `via` is the suggested qube, if any
        Unknown, // cannot tell: `reason` says why
    };
    QubeName templ;
    Kind kind = Kind::Unknown;
    std::optional<QubeName> via;
    QString rule; // the deciding rule as "file:line" (file name only); empty when none decided
    QString reason; // in words: why it cannot tell, or how it was denied

    friend bool operator==(const UpdatesRoute &, const UpdatesRoute &) = default;
};
QString updatesKindId(UpdatesRoute::Kind kind); // "proxy", "denied", "ask", "unknown"
std::optional<UpdatesRoute::Kind> updatesKindFromId(QStringView id);

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
    // Where each template's updates go (live: dom0's qrexec policy), by template name; empty
    // when the policy was not read (older snapshot files, a source without it).
    QList<UpdatesRoute> updates;
    // The owner's intent (--expect); empty: inferred from the network. Views, exports and
    // verdicts all judge by it (policy/expectations.h: intendedEgress()).
    Expectations intent;

    const Qube *find(QStringView name) const;
    int indexOf(QStringView name) const;
    // The newest result of this check for this qube, or nullptr.
    const CheckResult *latest(QStringView qube, CheckKind kind) const;
    // The route of this template's updates, or nullptr when none was read for it.
    const UpdatesRoute *updatesRoute(QStringView templ) const;
    // Where disposables opened from this qube leave: the netvm of its default_dispvm (a
    // disposable's netvm defaults to its disposable template's). nullopt when the qube has no
    // default_dispvm or it is not in the snapshot; *dispvm (if given) is set to the
    // default_dispvm whenever there is one. A disposable template without netvm gives
    // QubeName() (disposables without network).
    std::optional<QubeName> disposablesNetvm(QStringView qube, QString *dispvm = nullptr) const;
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
