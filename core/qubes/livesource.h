#pragma once
// Reading the live system: one qvm-ls call plus the globals from qubes-prefs, and where templates'
// updates go from dom0's qrexec policy files; firewall rules on demand with qvm-firewall.

#include "commandrunner.h"
#include "model/result.h"
#include "model/snapshot.h"

#include <QObject>

#include <optional>

namespace netmap {

struct LiveOptions
{
    int timeoutMs = 30000;
};

// Blocking, for the command line. Error code Source (exit 3) with one clear line when qvm-ls is
// missing, fails, hangs or prints nothing usable.
Result<Snapshot> readLiveSnapshot(const LiveOptions &options = {});
// Blocking read of one qube's firewall rules (command line and tests).
Result<QList<FirewallRule>> readFirewallRules(const QubeName &qube, int timeoutMs = 15000);
// True when qvm-ls is on PATH (the GUI falls back to the demo otherwise).
bool liveSourceAvailable();

// The same, asynchronous, for the GUI: never blocks the event loop.
class LiveSource : public QObject
{
    Q_OBJECT
public:
    explicit LiveSource(QObject *parent = nullptr);
    void refresh(const LiveOptions &options = {});
    void readFirewall(const QubeName &qube);
    bool isBusy() const { return m_pending > 0; }

signals:
    void snapshotReady(const netmap::Snapshot &snapshot);
    void failed(const QString &message);
    void firewallReady(const QString &qube, const QList<netmap::FirewallRule> &rules);
    void firewallFailed(const QString &qube, const QString &message);

private:
    void onFinished(CommandRunner::Id id, const CommandOutput &output);
    void collect();
    void finishFeatures();
    void emitReady(Snapshot snapshot);
    CommandRunner m_runner;
    int m_pending = 0; // every command still running (refresh and firewall reads)
    int m_refreshPending = 0; // commands of the refresh in progress
    LiveOptions m_options;
    QHash<QString, CommandOutput> m_outputs; // role -> output of the refresh in progress
    QHash<CommandRunner::Id, QString> m_roles; // "qvm-ls", "default_netvm", "firewall:<qube>"
    // The snapshot read, while the `whonix-gw` feature of its network providers' templates is
    // asked (one qvm-features per distinct template).
    std::optional<Snapshot> m_assembled;
};

} // namespace netmap
