// The Verifier's run: starting each qube's probe through the CommandRunner (qvm-run as the
// qube's user, then the ruleset read as root), a few at a time and never two kinds of exit at one
// echo service at once; the state query after an exit 1; cancel; putting the answers together
// and emitting each result once what it compares with (baselines, the VPN qube's tunnels) is in.
// Judging is in verifierjudge.cpp, the kill-switch drill in verifierdrill.cpp, the plan in
// verifierplan.cpp.

#include "verifier.h"
#include "verifier_p.h"

#include "checkscripts.h"
#include "model/topology.h"
#include "model/untrustedtext.h"
#include "probeparser.h"

#include <QEventLoop>
#include <QTimer>
#include <QUrl>

namespace netmap {

namespace {

QStringList evidencePrefixes(CheckKind kind)
{
    switch (kind) {
    case CheckKind::ExternalIp:
    case CheckKind::Vpn:
        return {QStringLiteral("NETMAP-TOOL http"), QStringLiteral("NETMAP-IP ")};
    case CheckKind::Tor:
        return {QStringLiteral("NETMAP-TOOL http"), QStringLiteral("NETMAP-TOR")};
    case CheckKind::DnsLeak:
        return {QStringLiteral("NETMAP-DNS"), QStringLiteral("NETMAP-TOOL http"),
                QStringLiteral("NETMAP-Z")};
    case CheckKind::Isolation:
        return {QStringLiteral("NETMAP-TOOL ping"), QStringLiteral("NETMAP-TOOL tcp"),
                QStringLiteral("NETMAP-REACH")};
    case CheckKind::KillSwitch:
        return {QStringLiteral("NETMAP-TOOL ruleset"), QStringLiteral("NETMAP-RULES"),
                QStringLiteral("NETMAP-NFT"), QStringLiteral("NETMAP-IPT"),
                QStringLiteral("NETMAP-IF")};
    }
    return {};
}

// The part of a qube's answer that belongs to one check, plus anything outside the protocol and
// stderr, sanitized and capped. With all = true every line is kept (the answer was not judged).
QString evidenceText(const CommandOutput &out, const QStringList &prefixes, bool all, int cap)
{
    QByteArray kept;
    const QList<QByteArray> lines = out.stdoutData.split('\n');
    for (const QByteArray &line : lines) {
        if (kept.size() > qsizetype(cap) * 2)
            break;
        bool keep = all || !line.startsWith("NETMAP-") || line.startsWith("NETMAP-BEGIN")
            || line.startsWith("NETMAP-END");
        for (const QString &p : prefixes)
            keep = keep || line.startsWith(p.toLatin1());
        if (keep && !line.isEmpty())
            kept += line + '\n';
    }
    if (!out.stderrData.isEmpty())
        kept += "--- stderr ---\n" + out.stderrData.left(4096);
    return untrustedtext::block(untrustedtext::fromUtf8(kept), cap);
}

} // namespace

CommandSpec Verifier::Private::spec(const QString &qube, const QString &script, bool root,
                                    int cap) const
{
    CommandSpec c;
    c.program = request.qvmRun;
    c.arguments = qvmRunArguments(*QubeName::fromUntrusted(qube), script, root, request.autostart);
    c.timeoutMs = request.config.timeoutSeconds * 1000;
    c.stdoutCap = cap;
    c.stderrCap = 64 << 10;
    return c;
}

void Verifier::Private::emitResult(CheckResult result)
{
    snapshot.checks.push_back(result);
    ++done;
    emit q->resultReady(result);
    emit q->progress(done, total, result.qube.toString());
}

CheckResult Verifier::Private::baseResult(const QString &qube, CheckKind kind) const
{
    CheckResult r;
    r.qube = *QubeName::fromUntrusted(qube);
    r.check = kind;
    r.pathAtRun = topology->egressChain(qube);
    return r;
}

void Verifier::Private::emitSkipped()
{
    const QDateTime now = QDateTime::currentDateTimeUtc();
    for (const PlannedCheck &p : std::as_const(plan.items)) {
        if (p.skipReason.isEmpty())
            continue;
        CheckResult r = baseResult(p.qube, p.check);
        r.status = CheckStatus::Skipped;
        r.reason = p.skipReason;
        r.expected = expectedText(
            p.check, expectationFor(request.expectations, snapshot, *topology, p.qube));
        r.started = now;
        r.finished = now;
        emitResult(r);
    }
}

void Verifier::Private::pump()
{
    if (!skippedEmitted) {
        skippedEmitted = true;
        emitSkipped();
    }
    // A few starts per event-loop turn: each is a fork in the caller's (the UI's) thread.
    constexpr int kStartsPerTurn = 2;
    int started = 0;
    while (!cancelled && running.size() < request.config.concurrency && !plan.queue.isEmpty()
           && started < kStartsPerTurn) {
        int pick = 0;
        while (pick < plan.queue.size() && collides(plan.work[plan.queue.at(pick)]))
            ++pick;
        if (pick == plan.queue.size())
            break; // everything left waits for a probe of another kind to finish
        ++started;
        VerifierWork &w = plan.work[plan.queue.takeAt(pick)];
        w.state = VerifierWork::State::Running;
        w.started = QDateTime::currentDateTimeUtc();
        // Only the ruleset is read as root, in a call of its own after the rest; the network
        // is probed as the qube's user. One call per qube at a time, as the concurrency says.
        QStringList commands;
        if (const ProbePlan root = w.plan.rootPart(); !root.isEmpty())
            w.rootSpec = spec(w.qube, probeScript(root, request.config), true, 1 << 20);
        if (const ProbePlan user = w.plan.userPart(); !user.isEmpty()) {
            const CommandSpec c = spec(w.qube, probeScript(user, request.config), false, 512 << 10);
            commands << c.display();
            w.id = runner.start(c);
            running.insert(w.id, w.qube);
        }
        if (w.rootSpec)
            commands << w.rootSpec->display();
        w.command = commands.join(QStringLiteral("\n\n")); // a blank line between commands
        if (w.id == 0)
            startRootPart(w);
        emit q->qubeBusy(w.qube, true);
        emit q->progress(done, total, w.qube);
    }
    if (!cancelled && running.size() < request.config.concurrency && !plan.queue.isEmpty())
        QTimer::singleShot(0, q, [this] { pump(); });
    if (running.isEmpty() && drillId == 0 && (plan.queue.isEmpty() || cancelled))
        nextDrill();
}

void Verifier::Private::onFinished(CommandRunner::Id id, const CommandOutput &out)
{
    if (id == drillId) {
        drillStepFinished(out);
        return;
    }
    const QString qube = running.take(id);
    if (qube.isEmpty())
        return;
    VerifierWork &w = plan.work[qube];
    if (stateQueries.remove(id)) {
        // The fresh state after an exit 1: halted, paused or a failure of qvm-run.
        w.freshState = parseQubeState(out, qube);
    } else {
        if (id == w.rootId)
            w.rootOutput = out;
        else
            w.output = out;
        if (!cancelled && exitOneNeedsState(out, parseProbeOutput(out.stdoutData))) {
            const CommandRunner::Id query = runner.start(qubeStateQuery(request.qvmLs, qube));
            running.insert(query, qube);
            stateQueries.insert(query);
            return;
        }
        if (id != w.rootId && w.rootSpec && !cancelled) {
            startRootPart(w);
            return;
        }
    }
    w.state = VerifierWork::State::Done;
    w.finished = QDateTime::currentDateTimeUtc();
    mergeParts(w);
    if (w.plan.interfaces && !w.problem && w.evidence.interfacesDone)
        snapshot.tunnels.insert(qube, w.evidence.upTunnels());
    emit q->qubeBusy(qube, false);
    emitReady();
    pump();
}

// Hosts of the echo endpoints a work asks.
QSet<QString> Verifier::Private::echoHosts(const VerifierWork &w) const
{
    QSet<QString> hosts;
    // The zone's service sees the exit that asks it and the resolvers: one service too.
    if (!w.plan.zoneLabels.isEmpty())
        hosts.insert(QUrl(request.config.dnsZoneService).host().toLower());
    if (!w.plan.externalIp)
        return hosts;
    for (const QString &u : request.config.ipEchoFor(w.plan.echoKind))
        hosts.insert(QUrl(u).host().toLower());
    for (const QString &u : request.config.ipEchoUrls6)
        hosts.insert(QUrl(u).host().toLower());
    return hosts;
}

// Probes of different kinds of exit are never sent to the same echo service (or the zone's
// service) at the same moment (the service could link them by their timing).
bool Verifier::Private::collides(const VerifierWork &w) const
{
    const QSet<QString> mine = echoHosts(w);
    if (mine.isEmpty())
        return false;
    for (const QString &name : running) {
        const VerifierWork &r = plan.work[name];
        if (r.plan.echoKind != w.plan.echoKind && echoHosts(r).intersects(mine))
            return true;
    }
    return false;
}

void Verifier::Private::startRootPart(VerifierWork &w)
{
    w.rootId = runner.start(*w.rootSpec);
    w.rootSpec.reset();
    running.insert(w.rootId, w.qube);
}

// The user part's evidence with the root part's ruleset in it; a problem in either part is
// the work's problem; the evidence text shows both outputs.
void Verifier::Private::mergeParts(VerifierWork &w) const
{
    // Exit 1 before any answer is told apart by the state queried right after it; empty
    // (cannot tell which) when it was not or could not be read.
    const QString knownState = w.freshState;
    if (w.id != 0) {
        w.evidence = parseProbeOutput(w.output.stdoutData);
        w.problem = transportProblem(w.output, request.autostart, w.evidence, knownState);
    }
    if (w.rootId == 0) {
        if (w.rootSpec && !w.problem) // cancelled before the ruleset was read
            w.problem = QStringLiteral("cancelled before the ruleset was read");
        return;
    }
    const ProbeEvidence root = parseProbeOutput(w.rootOutput.stdoutData);
    const auto rootProblem = transportProblem(w.rootOutput, request.autostart, root, knownState);
    if (w.id == 0) {
        w.output = w.rootOutput;
        w.evidence = root;
        w.problem = rootProblem;
        return;
    }
    w.evidence.rulesetTool = root.rulesetTool;
    w.evidence.rulesetSize = root.rulesetSize;
    w.evidence.rulesetLines = root.rulesetLines;
    w.evidence.nftJsonSize = root.nftJsonSize;
    w.evidence.nftJson = root.nftJson;
    w.evidence.legacySize = root.legacySize;
    w.evidence.legacySave = root.legacySave;
    w.evidence.rulesetDone = root.rulesetDone;
    for (const QString &p : root.problems)
        w.evidence.problems.append(QStringLiteral("ruleset (as root): %1").arg(p));
    if (!w.problem && rootProblem)
        w.problem = QStringLiteral("reading the ruleset as root: %1").arg(*rootProblem);
    w.output.stdoutData += w.rootOutput.stdoutData;
    if (!w.rootOutput.stderrData.isEmpty())
        w.output.stderrData += w.rootOutput.stderrData;
}

const VerifierWork *Verifier::Private::doneWork(const QString &name) const
{
    const auto it = plan.work.constFind(name);
    if (it == plan.work.cend() || it->state != VerifierWork::State::Done)
        return nullptr;
    return &*it;
}

bool Verifier::Private::ready(const VerifierWork &w) const
{
    if (w.state != VerifierWork::State::Done || w.emitted)
        return false;
    for (const QString &b : w.witnesses) {
        if (b != w.qube && plan.work.contains(b) && !doneWork(b))
            return false;
    }
    if (!w.provider.isEmpty() && w.provider != w.qube && plan.work.contains(w.provider)
        && !doneWork(w.provider))
        return false;
    return true;
}

CheckResult Verifier::Private::resultFor(const VerifierWork &w, CheckKind kind,
                                         const Verdict &verdict) const
{
    CheckResult r = baseResult(w.qube, kind);
    r.status = verdict.status;
    r.observed = verdict.observed;
    r.expected = verdict.expected.isEmpty() ? expectedText(kind, w.expectation) : verdict.expected;
    r.reason = verdict.reason;
    r.externalIp = verdict.externalIp;
    r.externalIp6 = verdict.externalIp6;
    r.command = w.command;
    r.exitCode = w.output.outcome == CommandOutput::Outcome::Finished ? w.output.exitCode : -1;
    const int cap = kind == CheckKind::KillSwitch ? (64 << 10) : (16 << 10);
    r.output = evidenceText(w.output, evidencePrefixes(kind), w.problem.has_value(), cap);
    r.started = w.started;
    r.finished = w.finished;
    return r;
}

void Verifier::Private::emitReady()
{
    for (const QString &name : plan.work.keys()) {
        VerifierWork &w = plan.work[name];
        if (!ready(w))
            continue;
        w.emitted = true;
        if (!w.cancelledBeforeRun)
            recordBaselines(w);
        for (CheckKind kind : std::as_const(w.checks)) {
            if (kind == CheckKind::KillSwitch && w.drillPlanned && !w.cancelledBeforeRun)
                continue; // comes with the drill
            if (w.cancelledBeforeRun)
                w.started = w.finished = QDateTime::currentDateTimeUtc();
            emitResult(resultFor(w, kind, verdictFor(w, kind)));
        }
    }
}

void Verifier::Private::finish()
{
    if (!isRunning)
        return;
    isRunning = false;
    emit q->finished();
}

Verifier::Verifier(QObject *parent)
    : QObject(parent)
    , d(std::make_unique<Private>())
{
    d->q = this;
    connect(&d->runner, &CommandRunner::finished, this,
            [this](CommandRunner::Id id, const CommandOutput &out) { d->onFinished(id, out); });
}

Verifier::~Verifier() = default;

Status Verifier::start(const Snapshot &snapshot, const VerifyRequest &request)
{
    if (d->isRunning)
        return makeError(Error::Code::Usage, QStringLiteral("a verification is already running"));
    auto topology = std::make_unique<Topology>(snapshot);
    auto plan = makeVerifierPlan(snapshot, *topology, request);
    if (!plan)
        return plan.error();
    d->snapshot = snapshot;
    d->snapshot.baselines.clear(); // this run's baselines replace the last run's
    d->topology = std::move(topology);
    d->request = request;
    d->request.config.concurrency = qBound(1, request.config.concurrency, 32);
    d->plan = std::move(plan).value();
    d->running.clear();
    d->drillId = 0;
    d->drillIndex = -1;
    d->cancelled = false;
    d->skippedEmitted = false;
    d->done = 0;
    d->total = d->plan.items.size();
    d->isRunning = true;
    QTimer::singleShot(0, this, [this] { d->pump(); });
    return Ok {};
}

void Verifier::cancel()
{
    if (!d->isRunning || d->cancelled)
        return;
    d->cancelled = true;
    for (const QString &name : std::as_const(d->plan.queue)) {
        VerifierWork &w = d->plan.work[name];
        w.state = VerifierWork::State::Done;
        w.problem = QStringLiteral("cancelled before it ran");
        w.cancelledBeforeRun = true;
    }
    d->plan.queue.clear();
    const QList<CommandRunner::Id> ids = d->running.keys();
    for (CommandRunner::Id id : ids)
        d->runner.cancel(id);
    // A drill's break or restore step is left to finish, so that the tunnel comes back now; its
    // downstream probe is cut short (the restore follows).
    if (d->drillId != 0 && d->drillIndex >= 0
        && (d->plan.drills[d->drillIndex].stage == 1 || d->plan.drills[d->drillIndex].stage == 3))
        d->runner.cancel(d->drillId);
    d->emitReady();
    if (d->running.isEmpty() && d->drillId == 0)
        QTimer::singleShot(0, this, [this] { d->nextDrill(); });
}

bool Verifier::isRunning() const
{
    return d->isRunning;
}

const Snapshot &Verifier::snapshot() const
{
    return d->snapshot;
}

QList<PlannedCheck> Verifier::plan() const
{
    return d->plan.items;
}

int Verifier::total() const
{
    return d->total;
}

int Verifier::done() const
{
    return d->done;
}

Result<Snapshot> verifySnapshot(Snapshot snapshot, const VerifyRequest &request,
                                const ProgressCallback &progress)
{
    Verifier verifier;
    QEventLoop loop;
    QObject::connect(&verifier, &Verifier::finished, &loop, &QEventLoop::quit);
    if (progress)
        QObject::connect(&verifier, &Verifier::progress, &loop, progress);
    const Status started = verifier.start(snapshot, request);
    if (!started)
        return started.error();
    if (verifier.isRunning())
        loop.exec();
    return verifier.snapshot();
}

} // namespace netmap
