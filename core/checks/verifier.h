#pragma once
// Verifier: runs the checks of docs/ARCHITECTURE.md §4 in qubes through qvm-run — bounded
// concurrency, a per-check timeout, cancel, progress, the clearnet baseline before the checks that
// compare with it, one qvm-run per qube for the checks that can share it — and turns the answers
// into CheckResults. verifySnapshot() is the blocking form for the command line.

#include "checks/checkconfig.h"
#include "model/checkresult.h"
#include "model/result.h"
#include "model/snapshot.h"
#include "policy/expectations.h"
#include "qubes/commandrunner.h"

#include <QObject>
#include <QString>
#include <QStringList>

#include <functional>
#include <memory>

namespace netmap {

struct VerifyRequest
{
    QStringList qubes; // empty: every networked qube
    QList<CheckKind> checks; // empty: every check
    bool autostart = false; // start halted qubes (drops --no-autostart)
    bool drill = false; // the kill-switch drill (changes a VPN qube for a moment; opt-in)
    CheckConfig config = CheckConfig::defaults();
    Expectations expectations;
    QString qvmRun = QStringLiteral("qvm-run"); // tests point this at a fake
    QString qvmLs = QStringLiteral("qvm-ls"); // the state query after an exit 1 of qvm-run
};

// One (qube, check) the run will produce a result for; skipReason set when it will be skipped.
struct PlannedCheck
{
    QString qube;
    CheckKind check = CheckKind::ExternalIp;
    QString skipReason;
};

class Verifier : public QObject
{
    Q_OBJECT
public:
    explicit Verifier(QObject *parent = nullptr);
    ~Verifier() override;

    // Plans and starts. An unknown or unrunnable qube in the request is an error (nothing runs).
    Status start(const Snapshot &snapshot, const VerifyRequest &request);
    // Stops what runs; a kill-switch drill in progress is still restored before finished().
    void cancel();
    bool isRunning() const;
    // The snapshot given to start(), with the tunnels seen and every result so far appended.
    const Snapshot &snapshot() const;
    QList<PlannedCheck> plan() const;
    int total() const;
    int done() const;

signals:
    void progress(int done, int total, const QString &current);
    void resultReady(const netmap::CheckResult &result);
    void qubeBusy(const QString &qube, bool busy);
    void finished();

private:
    struct Private;
    std::unique_ptr<Private> d;
};

using ProgressCallback = std::function<void(int done, int total, const QString &current)>;

// Blocking (a local event loop): runs the request and returns the snapshot with the results.
// Needs a QCoreApplication.
Result<Snapshot> verifySnapshot(Snapshot snapshot, const VerifyRequest &request,
                                const ProgressCallback &progress = {});

// The qubes a request would check and what for, without running anything.
Result<QList<PlannedCheck>> planVerification(const Snapshot &snapshot,
                                             const VerifyRequest &request);

// What the kill-switch drill on vpnQube would run, for a confirmation that shows it exactly:
// the same qvm-run command lines (program, arguments, scripts) the Verifier starts, in order.
struct DrillPlan
{
    QString vpnQube;
    QString interfaceName; // the first tunnel seen up in it (snapshot.tunnels)
    QString downstreamQube; // the qube behind it whose egress is tested
    int restoreAfterSeconds = 0; // the self-expiring restore inside the VPN qube
    QStringList steps; // in words
    QList<CommandSpec> commands; // client probe, break (root), client probe, restore (root)
};
// Seconds after which the drill's break undoes itself inside the VPN qube.
int drillRestoreAfterSeconds(const CheckConfig &config);
// An error when the drill cannot run: no tunnel known (probe the VPN qube first), no running qube
// behind it, not a runnable qube.
Result<DrillPlan> planDrill(const Snapshot &snapshot, const VerifyRequest &request,
                            const QString &vpnQube);

// Exactly what the kill-switch drill would do on vpnQube, step by step, for a confirmation.
QStringList describeDrill(const Snapshot &snapshot, const VerifyRequest &request,
                          const QString &vpnQube);

} // namespace netmap
