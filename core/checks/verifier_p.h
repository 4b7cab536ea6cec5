#pragma once
// What the Verifier's files share and no one else needs: the plan (VerifierPlan, made in
// verifierplan.cpp), the state of each qube's probe and of each drill, and Verifier::Private,
// whose work is spread by responsibility over verifier.cpp (running the probes and emitting the
// results), verifierjudge.cpp (baselines and verdicts) and verifierdrill.cpp (the kill-switch
// drill).

#include "verifier.h"

#include "checkscripts.h"
#include "model/topology.h"
#include "probeparser.h"
#include "verdicts.h"

#include <QDateTime>
#include <QHash>
#include <QMap>
#include <QSet>

#include <memory>
#include <optional>

namespace netmap {

// One qube's probe: what it asks, the results it produces, and its run.
struct VerifierWork
{
    QString qube;
    ProbePlan plan;
    QList<CheckKind> checks; // results this work produces
    QList<IsolationTarget> targets;
    Expectation expectation;
    EgressKind kind = EgressKind::Clearnet;
    QStringList witnesses; // clearnet baseline witnesses on its uplink
    QString uplink; // the root of its clearnet path, when it compares with a baseline
    QString provider;
    bool drillPlanned = false; // its kill-switch result waits for the drill

    enum class State { Queued, Running, Done };
    State state = State::Queued;
    CommandRunner::Id id = 0; // the part run as the qube's user (0: none)
    CommandRunner::Id rootId = 0; // the part run as root: reading the ruleset (0: not run)
    std::optional<CommandSpec> rootSpec; // the root part, started once the user part is done
    QDateTime started;
    QDateTime finished;
    CommandOutput output;
    CommandOutput rootOutput;
    QString freshState; // the qube's state queried after an exit 1 (empty: not read)
    ProbeEvidence evidence;
    std::optional<QString> problem;
    bool cancelledBeforeRun = false;
    QString command;
    bool emitted = false;
};

// One kill-switch drill in progress.
struct DrillRun
{
    QString vpn;
    QString downstream;
    QString interfaceName;
    QString choice; // why this client, in words
    // 0 not started, 1 client probed with the tunnel up, 2 break, 3 client probed while broken,
    // 4 restore, 5 done
    int stage = 0;
    CommandRunner::Id id = 0;
    QString commands;
    QByteArray outputs;
    DrillEvidence evidence;
};

// What a run will do: the results it will produce (and the skips), each qube's probe, the order
// they start in, the drills.
struct VerifierPlan
{
    QList<PlannedCheck> items;
    QMap<QString, VerifierWork> work;
    QStringList queue;
    QList<DrillRun> drills;
};

bool isNetworked(const Qube &q);
bool canRun(const Qube &q, bool autostart);
QString notRunningReason(const Qube &q);
// The egress kind the checks hold a qube to (Via QUBE resolves to the kind of QUBE's path).
EgressKind effectiveKind(const Expectation &e, const Snapshot &s, const Topology &t);
// What a check expects, in words, for a result that has no verdict's own.
QString expectedText(CheckKind kind, const Expectation &e);
// An unknown or unrunnable qube in the request is an error.
Result<VerifierPlan> makeVerifierPlan(const Snapshot &s, const Topology &t, const VerifyRequest &r);
// The client whose egress the drill tests (verifierdrill.cpp); *why says why it was picked.
QString chooseDownstream(const Snapshot &s, const Topology &t, const VerifyRequest &r,
                         const QString &vpn, QString *why = nullptr);

struct Verifier::Private
{
    Verifier *q = nullptr;
    CommandRunner runner;
    Snapshot snapshot;
    std::unique_ptr<Topology> topology;
    VerifyRequest request;
    VerifierPlan plan;
    QHash<CommandRunner::Id, QString> running; // id -> qube whose work runs
    QSet<CommandRunner::Id> stateQueries; // of running: state queries after an exit 1
    CommandRunner::Id drillId = 0;
    int drillIndex = -1;
    bool isRunning = false;
    bool cancelled = false;
    bool skippedEmitted = false;
    int done = 0;
    int total = 0;

    // run (verifier.cpp)
    CommandSpec spec(const QString &qube, const QString &script, bool root, int cap) const;
    void emitResult(CheckResult result);
    CheckResult baseResult(const QString &qube, CheckKind kind) const;
    void emitSkipped();
    void pump();
    void onFinished(CommandRunner::Id id, const CommandOutput &out);
    QSet<QString> echoHosts(const VerifierWork &w) const;
    bool collides(const VerifierWork &w) const;
    void startRootPart(VerifierWork &w);
    void mergeParts(VerifierWork &w) const;
    const VerifierWork *doneWork(const QString &name) const;
    bool ready(const VerifierWork &w) const;
    CheckResult resultFor(const VerifierWork &w, CheckKind kind, const Verdict &verdict) const;
    void emitReady();
    void finish();

    int echoCount(const VerifierWork &w) const
    {
        return request.config.ipEchoFor(w.plan.echoKind).size();
    }
    int echoCount6() const { return request.config.ipEchoUrls6.size(); }

    // judging (verifierjudge.cpp)
    // The clearnet baseline of a qube's uplink: pinned in the configuration, or at least two
    // witnesses that agree; disputed or unconfirmed otherwise (then *why says so, naming them).
    struct Baseline
    {
        std::optional<QStringList> values;
        QString source;
        QString problem;
        bool disputed = false;
        QList<BaselineWitness> witnesses; // what each witness said, or why it could not
    };
    QStringList plainHttpEndpoints(const QString &kind) const;
    Ipv6Context ipv6ContextOf(const VerifierWork &w) const;
    ZoneResolvers zoneOf(const VerifierWork &w) const;
    Baseline baselineOf(const VerifierWork &w, bool resolvers) const;
    void recordBaselines(const VerifierWork &w);
    std::optional<QStringList> anyClearnetExits() const;
    Verdict judge(const VerifierWork &w, CheckKind kind) const;
    Verdict verdictFor(const VerifierWork &w, CheckKind kind) const;

    // the kill-switch drill (verifierdrill.cpp)
    int restoreAfter() const { return drillRestoreAfterSeconds(request.config); }
    int drillEchoCount() const { return request.config.ipEchoFor(QStringLiteral("vpn")).size(); }
    void nextDrill();
    void startDrillStep(DrillRun &d, int stage);
    void drillStepFinished(const CommandOutput &out);
    void finishDrill(DrillRun &d);
};

} // namespace netmap
