#include "verifier.h"

#include "checkscripts.h"
#include "model/ipv4.h"
#include "model/topology.h"
#include "model/untrustedtext.h"
#include "probeparser.h"
#include "verdicts.h"

#include <QCoreApplication>
#include <QEventLoop>
#include <QSet>
#include <QTimer>
#include <QUrl>

#include <algorithm>

namespace netmap {

namespace {

bool isNetworked(const Qube &q)
{
    return !q.isTemplate() && !q.isAdmin() && (q.netvm.has_value() || q.providesNetwork);
}

bool canRun(const Qube &q, bool autostart)
{
    return q.isRunning() || (autostart && q.isHalted());
}

QString notRunningReason(const Qube &q)
{
    if (q.isHalted())
        return QStringLiteral("%1 is halted and was not started (autostart is off)")
            .arg(q.name.toString());
    return QStringLiteral("%1 is %2, not running")
        .arg(q.name.toString(),
             q.state.isEmpty() ? QStringLiteral("in an unknown state") : q.state.toLower());
}

EgressKind effectiveKind(const Expectation &e, const Snapshot &s, const Topology &t)
{
    switch (e.egress) {
    case Expectation::Egress::Clearnet:
        return EgressKind::Clearnet;
    case Expectation::Egress::Vpn:
        return EgressKind::Vpn;
    case Expectation::Egress::Tor:
        return EgressKind::Tor;
    case Expectation::Egress::None:
        return EgressKind::None;
    case Expectation::Egress::Via:
        break;
    }
    if (const Qube *via = s.find(e.via)) {
        if (via->looksLikeWhonixGateway() || !torGatewayOf(s, t, e.via).isEmpty())
            return EgressKind::Tor;
        if (!vpnProviderOf(s, t, e.via).isEmpty())
            return EgressKind::Vpn;
    }
    return EgressKind::Clearnet;
}

QString expectedText(CheckKind kind, const Expectation &e)
{
    switch (kind) {
    case CheckKind::ExternalIp:
        return e.toString();
    case CheckKind::Vpn:
        return QStringLiteral("exit ≠ clearnet exit");
    case CheckKind::Tor:
        return QStringLiteral("IsTor");
    case CheckKind::DnsLeak:
        return QStringLiteral("no clearnet resolver");
    case CheckKind::Isolation:
        return QStringLiteral("no reach beyond the allowed pairs");
    case CheckKind::KillSwitch:
        return QStringLiteral("every new packet from a client to the uplink dropped");
    }
    return {};
}

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

struct Work
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

struct Plan
{
    QList<PlannedCheck> items;
    QMap<QString, Work> work;
    QStringList queue;
    QList<DrillRun> drills;
};

// The qubes whose exits and resolvers make the clearnet baseline of one uplink (root): the
// root itself and other running qubes behind it that are expected to leave in the clear, at
// most three. No single qube decides: two must agree.
QStringList chooseWitnesses(const Snapshot &s, const Topology &t, const VerifyRequest &r,
                            const QString &root)
{
    auto clearnet = [&](const Qube &q) {
        return effectiveKind(expectationFor(r.expectations, s, t, q.name.toString()), s, t)
            == EgressKind::Clearnet;
    };
    QStringList out;
    if (const Qube *rq = s.find(root)) {
        if (isNetworked(*rq) && canRun(*rq, r.autostart) && clearnet(*rq) && rq->name.isRunnable())
            out.append(root);
    }
    for (const Qube &q : s.qubes) {
        if (out.size() >= 3)
            break;
        const QString name = q.name.toString();
        if (name != root && isNetworked(q) && q.isRunning() && q.name.isRunnable()
            && t.egressChain(name).endsWith(root) && clearnet(q))
            out.append(name);
    }
    return out;
}

// Whether a qube's own qvm-firewall rules (where read) let it reach any address on the HTTP(S)
// ports the IP echo endpoints use: the first rule that decides such traffic is an accept.
// nullopt when the rules were not read.
std::optional<bool> firewallAllowsEndpoints(const Snapshot &s, const QString &qube)
{
    const auto it = s.firewall.constFind(qube);
    if (it == s.firewall.cend())
        return std::nullopt;
    for (const FirewallRule &r : *it) {
        if (!r.specialtarget.isEmpty())
            continue; // dns rules decide DNS traffic only
        const bool everyDestination = r.dst4.isEmpty() && r.dst6.isEmpty() && r.dsthost.isEmpty();
        const bool webPorts = r.proto.isEmpty()
            || (r.proto == QLatin1String("tcp")
                && (r.portFrom == 0 || (r.portFrom <= 80 && r.portTo >= 443)));
        if (r.action == QLatin1String("accept") && everyDestination && webPorts)
            return true;
        if (r.action == QLatin1String("drop") && everyDestination)
            return false;
        if (r.action == QLatin1String("drop"))
            return false; // some endpoint may be blocked: not a good witness
    }
    return it->isEmpty() ? std::optional<bool>(true) : std::optional<bool>(false);
}

// The client of a VPN qube whose egress the drill tests, picked on purpose: a running qube behind
// it (an app qube before another network qube) whose own firewall lets it reach the endpoints
// (known to allow before not read). *why says why it was picked.
QString chooseDownstream(const Snapshot &s, const Topology &t, const VerifyRequest &r,
                         const QString &vpn, QString *why = nullptr)
{
    QString best;
    int bestRank = 100;
    QString bestWhy;
    for (const Qube &q : s.qubes) {
        const QString name = q.name.toString();
        if (name == vpn || !canRun(q, r.autostart) || !q.name.isRunnable() || !isNetworked(q))
            continue;
        if (!t.egressChain(name).contains(vpn))
            continue;
        const auto allows = firewallAllowsEndpoints(s, name);
        int rank = q.providesNetwork ? 3 : 0;
        if (!allows)
            rank += 1;
        else if (!*allows)
            rank += 6;
        if (!q.isRunning())
            rank += 10;
        if (rank < bestRank) {
            bestRank = rank;
            best = name;
            bestWhy
                = QStringLiteral("%1 behind %2, %3")
                      .arg(q.isRunning() ? QStringLiteral("running") : QStringLiteral("halted"),
                           vpn,
                           !allows       ? QStringLiteral("its firewall rules not read")
                               : *allows ? QStringLiteral("its firewall allows the endpoints")
                                         : QStringLiteral("its firewall may block the endpoints"));
        }
    }
    if (why)
        *why = bestWhy;
    return best;
}

Result<Plan> makePlan(const Snapshot &s, const Topology &t, const VerifyRequest &r)
{
    Plan plan;
    const QList<CheckKind> kinds = r.checks.isEmpty() ? allCheckKinds() : r.checks;
    const bool explicitQubes = !r.qubes.isEmpty();
    QStringList selected;
    if (explicitQubes) {
        for (const QString &name : r.qubes) {
            const Qube *q = s.find(name);
            if (!q)
                return makeError(
                    Error::Code::Usage,
                    QStringLiteral("--verify: no qube named \"%1\"").arg(name.left(64)));
            if (!q->name.isRunnable() || q->isAdmin())
                return makeError(Error::Code::Usage,
                                 QStringLiteral("--verify: checks cannot run in %1").arg(name));
            if (!selected.contains(name))
                selected.append(name);
        }
    } else {
        for (const Qube &q : s.qubes) {
            if (isNetworked(q) && q.name.isRunnable())
                selected.append(q.name.toString());
        }
    }

    auto ensureWork = [&](const QString &name) -> Work & {
        auto it = plan.work.find(name);
        if (it == plan.work.end()) {
            Work w;
            w.qube = name;
            w.expectation = expectationFor(r.expectations, s, t, name);
            w.kind = effectiveKind(w.expectation, s, t);
            w.plan.echoKind
                = egressKindId(w.kind == EgressKind::None ? EgressKind::Clearnet : w.kind);
            it = plan.work.insert(name, w);
        }
        return *it;
    };

    QMap<QString, QStringList> witnessesOfRoot;
    auto rootFor = [&](const QString &qube) {
        QString root = t.rootOf(qube);
        if (root.isEmpty() && s.find(qube) && s.find(qube)->providesNetwork)
            root = qube; // a root provider is its own root
        return root;
    };
    auto witnessesFor = [&](const QString &qube) {
        const QString root = rootFor(qube);
        if (root.isEmpty())
            return QStringList();
        if (!witnessesOfRoot.contains(root))
            witnessesOfRoot.insert(root, chooseWitnesses(s, t, r, root));
        return witnessesOfRoot.value(root);
    };

    for (const QString &name : selected) {
        const Qube &q = *s.find(name);
        const Expectation expectation = expectationFor(r.expectations, s, t, name);
        const EgressKind kind = effectiveKind(expectation, s, t);
        const bool vpnProvider = q.providesNetwork
            && (vpnProviderOf(s, t, name) == name || !s.tunnels.value(name).isEmpty());
        QList<CheckKind> applicable;
        QList<PlannedCheck> notApplicable;
        for (CheckKind k : kinds) {
            QString why;
            switch (k) {
            case CheckKind::ExternalIp:
            case CheckKind::Isolation:
                break;
            case CheckKind::Vpn:
                if (kind != EgressKind::Vpn)
                    why = QStringLiteral("not expected to leave through a VPN (expected: %1)")
                              .arg(expectation.toString());
                break;
            case CheckKind::Tor:
                if (kind != EgressKind::Tor)
                    why = QStringLiteral("not expected to leave through Tor (expected: %1)")
                              .arg(expectation.toString());
                break;
            case CheckKind::DnsLeak:
                if (kind != EgressKind::Vpn && kind != EgressKind::Tor)
                    why = QStringLiteral(
                              "a DNS leak matters only on a VPN or Tor path (expected: %1)")
                              .arg(expectation.toString());
                break;
            case CheckKind::KillSwitch:
                if (!vpnProvider)
                    why = QStringLiteral("not a VPN qube");
                break;
            }
            if (why.isEmpty())
                applicable.append(k);
            else if (explicitQubes && !r.checks.isEmpty())
                notApplicable.append(PlannedCheck {name, k, why});
        }
        plan.items += notApplicable;
        if (!isNetworked(q)) {
            for (CheckKind k : applicable)
                plan.items.append(PlannedCheck {
                    name, k, QStringLiteral("%1 has no netvm and provides no network").arg(name)});
            continue;
        }
        if (!canRun(q, r.autostart)) {
            for (CheckKind k : applicable)
                plan.items.append(PlannedCheck {name, k, notRunningReason(q)});
            continue;
        }

        QList<IsolationTarget> targets;
        if (applicable.contains(CheckKind::Isolation)) {
            const QStringList upstream = t.egressChain(name);
            for (const Qube &o : s.qubes) {
                const QString other = o.name.toString();
                if (other == name || !isNetworked(o) || !o.isRunning() || upstream.contains(other))
                    continue;
                if (t.egressChain(other).contains(name))
                    continue; // its own clients: a netvm reaches them by design
                const bool allowed = reachAllowed(r.expectations, name, other);
                const auto ip = validIpv4(o.ip);
                if (ip && *ip != q.gateway && *ip != q.ip)
                    targets.append(IsolationTarget {*ip, other, allowed});
                // Its IPv6 address too, where Qubes gives it one: isolation must hold for both.
                const auto ip6 = validIpv6(o.ip6);
                if (ip6 && *ip6 != validIpv6(q.gateway6).value_or(QString())
                    && *ip6 != validIpv6(q.ip6).value_or(QString()))
                    targets.append(IsolationTarget {*ip6, other, allowed});
            }
            if (targets.isEmpty()) {
                applicable.removeAll(CheckKind::Isolation);
                plan.items.append(
                    PlannedCheck {name, CheckKind::Isolation,
                                  QStringLiteral("no other running networked qube to probe")});
            } else if (targets.size() > kMaxIsolationTargets) {
                applicable.removeAll(CheckKind::Isolation);
                plan.items.append(
                    PlannedCheck {name, CheckKind::Isolation,
                                  QStringLiteral("more than %1 qubes to probe; select fewer qubes")
                                      .arg(kMaxIsolationTargets)});
            }
        }
        if (applicable.isEmpty())
            continue;

        Work &w = ensureWork(name);
        w.checks = applicable;
        w.targets = targets;
        for (CheckKind k : applicable) {
            plan.items.append(PlannedCheck {name, k, {}});
            switch (k) {
            case CheckKind::ExternalIp:
            case CheckKind::Vpn:
                w.plan.externalIp = true;
                break;
            case CheckKind::Tor:
                w.plan.tor = true;
                break;
            case CheckKind::DnsLeak:
                w.plan.dns = true;
                break;
            case CheckKind::Isolation:
                for (const IsolationTarget &target : targets)
                    w.plan.isolationTargets.append(target.ip);
                break;
            case CheckKind::KillSwitch:
                w.plan.interfaces = true;
                w.plan.ruleset = true;
                break;
            }
        }
    }

    // Dependencies: the clearnet baseline and the VPN qube's interfaces, measured in this run.
    const QStringList planned = plan.work.keys();
    for (const QString &name : planned) {
        const Work w = plan.work.value(name);
        const bool compares = w.checks.contains(CheckKind::Vpn)
            || w.checks.contains(CheckKind::DnsLeak)
            || (w.checks.contains(CheckKind::ExternalIp) && w.kind == EgressKind::Clearnet);
        if (compares) {
            const QStringList witnesses = witnessesFor(name);
            for (const QString &witness : witnesses) {
                Work &b = ensureWork(witness);
                b.plan.externalIp = true;
                if (w.checks.contains(CheckKind::DnsLeak))
                    b.plan.dns = true;
            }
            plan.work[name].witnesses = witnesses;
            plan.work[name].uplink = rootFor(name);
        }
        if (w.checks.contains(CheckKind::Vpn)) {
            const QString provider = vpnProviderOf(s, t, name);
            plan.work[name].provider = provider;
            if (!provider.isEmpty()) {
                const Qube *p = s.find(provider);
                if (p && canRun(*p, r.autostart) && p->name.isRunnable())
                    ensureWork(provider).plan.interfaces = true;
            }
        }
    }

    if (r.drill) {
        for (const Work &w : std::as_const(plan.work)) {
            if (!w.checks.contains(CheckKind::KillSwitch))
                continue;
            DrillRun drill;
            drill.vpn = w.qube;
            drill.downstream = chooseDownstream(s, t, r, w.qube, &drill.choice);
            // The VPN's own exit tells the client's exit through the tunnel apart.
            plan.work[w.qube].plan.externalIp = true;
            plan.drills.append(drill);
            plan.work[w.qube].drillPlanned = true;
        }
    }

    // The unique-name method: fresh names for every qube that looks at its DNS, in every run.
    if (r.config.hasDnsZone()) {
        for (Work &w : plan.work) {
            if (w.plan.dns)
                w.plan.zoneLabels = newZoneLabels();
        }
    }

    // Queue: baselines first (others compare with them), then VPN qubes, then the rest by name.
    QStringList baselines;
    for (const QStringList &w : std::as_const(witnessesOfRoot))
        baselines += w;
    baselines.removeDuplicates();
    for (const QString &b : baselines)
        plan.queue.append(b);
    for (const Work &w : std::as_const(plan.work)) {
        if (!plan.queue.contains(w.qube) && w.plan.interfaces)
            plan.queue.append(w.qube);
    }
    for (const Work &w : std::as_const(plan.work)) {
        if (!plan.queue.contains(w.qube))
            plan.queue.append(w.qube);
    }
    return plan;
}

} // namespace

struct Verifier::Private
{
    Verifier *q = nullptr;
    CommandRunner runner;
    Snapshot snapshot;
    std::unique_ptr<Topology> topology;
    VerifyRequest request;
    Plan plan;
    QHash<CommandRunner::Id, QString> running; // id -> qube whose work runs
    QSet<CommandRunner::Id> stateQueries; // of running: state queries after an exit 1
    CommandRunner::Id drillId = 0;
    int drillIndex = -1;
    bool isRunning = false;
    bool cancelled = false;
    bool skippedEmitted = false;
    int done = 0;
    int total = 0;

    CommandSpec spec(const QString &qube, const QString &script, bool root, int cap) const
    {
        CommandSpec c;
        c.program = request.qvmRun;
        c.arguments
            = qvmRunArguments(*QubeName::fromUntrusted(qube), script, root, request.autostart);
        c.timeoutMs = request.config.timeoutSeconds * 1000;
        c.stdoutCap = cap;
        c.stderrCap = 64 << 10;
        return c;
    }

    void emitResult(CheckResult result)
    {
        snapshot.checks.push_back(result);
        ++done;
        emit q->resultReady(result);
        emit q->progress(done, total, result.qube.toString());
    }

    CheckResult baseResult(const QString &qube, CheckKind kind) const
    {
        CheckResult r;
        r.qube = *QubeName::fromUntrusted(qube);
        r.check = kind;
        r.pathAtRun = topology->egressChain(qube);
        return r;
    }

    void emitSkipped()
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

    void pump()
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
            Work &w = plan.work[plan.queue.takeAt(pick)];
            w.state = Work::State::Running;
            w.started = QDateTime::currentDateTimeUtc();
            // Only the ruleset is read as root, in a call of its own after the rest; the network
            // is probed as the qube's user. One call per qube at a time, as the concurrency says.
            QStringList commands;
            if (const ProbePlan root = w.plan.rootPart(); !root.isEmpty())
                w.rootSpec = spec(w.qube, probeScript(root, request.config), true, 1 << 20);
            if (const ProbePlan user = w.plan.userPart(); !user.isEmpty()) {
                const CommandSpec c
                    = spec(w.qube, probeScript(user, request.config), false, 512 << 10);
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

    void onFinished(CommandRunner::Id id, const CommandOutput &out)
    {
        if (id == drillId) {
            drillStepFinished(out);
            return;
        }
        const QString qube = running.take(id);
        if (qube.isEmpty())
            return;
        Work &w = plan.work[qube];
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
        w.state = Work::State::Done;
        w.finished = QDateTime::currentDateTimeUtc();
        mergeParts(w);
        if (w.plan.interfaces && !w.problem && w.evidence.interfacesDone)
            snapshot.tunnels.insert(qube, w.evidence.upTunnels());
        emit q->qubeBusy(qube, false);
        emitReady();
        pump();
    }

    int echoCount(const Work &w) const { return request.config.ipEchoFor(w.plan.echoKind).size(); }

    // The plain http:// endpoints of a kind's echo set.
    QStringList plainHttpEndpoints(const QString &kind) const
    {
        QStringList plain;
        for (const QString &url : request.config.ipEchoFor(kind))
            if (isPlainHttp(url))
                plain.append(url);
        return plain;
    }
    int echoCount6() const { return request.config.ipEchoUrls6.size(); }

    // The clearnet path's IPv6 exits for w: the IPv6 entries pinned in baseline.exit_ips, or
    // every /64 a clearnet witness other than w saw (a lying witness can only add prefixes, which
    // never makes a leak pass), or "no IPv6 egress" when at least two witnesses, all that could
    // be read, have none.
    Ipv6Context ipv6ContextOf(const Work &w) const
    {
        Ipv6Context c;
        QStringList pinned;
        for (const QString &ip : request.config.baselineExitIps) {
            if (const auto prefix = ipv6Prefix64(ip); prefix && !pinned.contains(*prefix))
                pinned.append(*prefix);
        }
        if (!pinned.isEmpty()) {
            c.clearnetPrefixes = pinned;
            c.baselineSource = QStringLiteral("pinned in the configuration (baseline.exit_ips)");
            return c;
        }
        QStringList prefixes, saw, none, silent;
        for (const QString &name : w.witnesses) {
            if (name == w.qube)
                continue;
            const Work *x = doneWork(name);
            if (!x || x->problem) {
                silent.append(QStringLiteral("%1: %2").arg(
                    name, !x ? QStringLiteral("did not run") : *x->problem));
                continue;
            }
            const ExitConsensus c6 = exitConsensus6(x->evidence, echoCount6());
            if (c6.state == ExitConsensus::State::Agreed) {
                if (!prefixes.contains(c6.ip))
                    prefixes.append(c6.ip);
                saw.append(name);
            } else if (c6.state == ExitConsensus::State::NoEgress) {
                none.append(name);
            } else {
                silent.append(QStringLiteral("%1: %2").arg(name, c6.why));
            }
        }
        if (!prefixes.isEmpty()) {
            c.clearnetPrefixes = prefixes;
            c.baselineSource
                = QStringLiteral("seen from %1").arg(saw.join(QStringLiteral(" and ")));
            return c;
        }
        if (none.size() >= 2 && silent.isEmpty()) {
            c.clearnetPrefixes = QStringList();
            c.clearnetHasNoIpv6 = true;
            c.baselineSource
                = QStringLiteral("%1 have no IPv6 egress").arg(none.join(QStringLiteral(" and ")));
            return c;
        }
        QStringList all = silent;
        for (const QString &n : std::as_const(none))
            all.append(QStringLiteral("%1: no IPv6 egress").arg(n));
        c.baselineProblem = all.isEmpty()
            ? QStringLiteral("no running qube on the clearnet path to compare with; pin the "
                             "clearnet IPv6 address in baseline.exit_ips")
            : QStringLiteral("the clearnet IPv6 baseline is unconfirmed (%1); pin the clearnet "
                             "IPv6 address in baseline.exit_ips")
                  .arg(all.join(QStringLiteral("; ")));
        return c;
    }

    int drillEchoCount() const { return request.config.ipEchoFor(QStringLiteral("vpn")).size(); }

    // Hosts of the echo endpoints a work asks.
    QSet<QString> echoHosts(const Work &w) const
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
    bool collides(const Work &w) const
    {
        const QSet<QString> mine = echoHosts(w);
        if (mine.isEmpty())
            return false;
        for (const QString &name : running) {
            const Work &r = plan.work[name];
            if (r.plan.echoKind != w.plan.echoKind && echoHosts(r).intersects(mine))
                return true;
        }
        return false;
    }

    void startRootPart(Work &w)
    {
        w.rootId = runner.start(*w.rootSpec);
        w.rootSpec.reset();
        running.insert(w.rootId, w.qube);
    }

    // The user part's evidence with the root part's ruleset in it; a problem in either part is
    // the work's problem; the evidence text shows both outputs.
    void mergeParts(Work &w) const
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
        const auto rootProblem
            = transportProblem(w.rootOutput, request.autostart, root, knownState);
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

    const Work *doneWork(const QString &name) const
    {
        const auto it = plan.work.constFind(name);
        if (it == plan.work.cend() || it->state != Work::State::Done)
            return nullptr;
        return &*it;
    }

    bool ready(const Work &w) const
    {
        if (w.state != Work::State::Done || w.emitted)
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

    ZoneResolvers zoneOf(const Work &w) const
    {
        return zoneResolvers(w.evidence, w.plan.zoneLabels, request.config.dnsZone,
                             request.config.dnsZoneService);
    }

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

    Baseline baselineOf(const Work &w, bool resolvers) const
    {
        Baseline b;
        const QStringList pinned
            = resolvers ? request.config.baselineResolvers : request.config.baselineExitIps;
        const QString key = resolvers ? QStringLiteral("resolvers") : QStringLiteral("exit_ips");
        const QString how
            = QStringLiteral("pin it in the configuration: baseline: {%1: [...]} with the "
                             "values you know to be your clearnet %2")
                  .arg(key,
                       resolvers ? QStringLiteral("resolvers") : QStringLiteral("exit addresses"));
        if (!pinned.isEmpty()) {
            b.values = pinned;
            b.source = QStringLiteral("pinned in the configuration (baseline.%1)").arg(key);
            return b;
        }
        if (w.witnesses.isEmpty()) {
            b.problem = QStringLiteral("no running qube on the clearnet path to compare with; %1")
                            .arg(how);
            return b;
        }
        QMap<QString, QStringList> said; // value (joined) -> witnesses
        QStringList silent;
        QStringList intercepted; // witnesses whose DNS is answered on the path (unique names)
        auto cannotSay = [&](const QString &name, const QString &why) {
            silent.append(QStringLiteral("%1: %2").arg(name, why));
            b.witnesses.append({name, {}, why});
        };
        for (const QString &name : w.witnesses) {
            const Work *x = doneWork(name);
            if (!x) {
                silent.append(QStringLiteral("%1 did not run").arg(name));
                b.witnesses.append({name, {}, QStringLiteral("did not run")});
                continue;
            }
            if (x->problem) {
                cannotSay(name, *x->problem);
                continue;
            }
            if (resolvers) {
                QStringList r;
                if (request.config.hasDnsZone()) {
                    const ZoneResolvers z = zoneOf(*x);
                    if (z.state == ZoneResolvers::State::Intercepted) {
                        // A qube on the clearnet path makes up DNS answers: no witness behind
                        // it can be believed, whatever the others say.
                        intercepted.append(QStringLiteral("%1: %2").arg(name, z.why));
                        b.witnesses.append({name, {}, QStringLiteral("intercepted: ") + z.why});
                        continue;
                    }
                    if (z.state != ZoneResolvers::State::Asked) {
                        cannotSay(name, z.why);
                        continue;
                    }
                    r = z.resolvers;
                } else {
                    if (x->evidence.resolvers.isEmpty()) {
                        cannotSay(name, QStringLiteral("the whoami name did not resolve"));
                        continue;
                    }
                    r = x->evidence.resolvers;
                }
                r.sort();
                said[r.join(QStringLiteral(", "))].append(name);
                b.witnesses.append({name, r, {}});
            } else {
                const ExitConsensus c
                    = exitConsensus(x->evidence, request.config.ipEchoUrls.size());
                if (c.state != ExitConsensus::State::Agreed) {
                    cannotSay(name, c.why);
                    continue;
                }
                said[c.ip].append(name);
                b.witnesses.append({name, {c.ip}, {}});
            }
        }
        QStringList claims;
        for (auto it = said.cbegin(); it != said.cend(); ++it)
            claims.append(
                QStringLiteral("%1 %2 %3")
                    .arg(it.value().join(QStringLiteral(" and ")),
                         it.value().size() > 1 ? QStringLiteral("say") : QStringLiteral("says"),
                         it.key()));
        const QString what = resolvers ? QStringLiteral("resolvers") : QStringLiteral("exit");
        if (!intercepted.isEmpty()) {
            b.disputed = true;
            b.problem = QStringLiteral("the clearnet resolvers baseline is disputed: %1; a qube "
                                       "on the clearnet path intercepts DNS; %2")
                            .arg(intercepted.join(QStringLiteral("; ")), how);
            return b;
        }
        if (said.size() > 1) {
            b.disputed = true;
            b.problem = QStringLiteral("the clearnet %1 baseline is disputed: %2; a qube on the "
                                       "clearnet path is lying or the path differs; %3")
                            .arg(what, claims.join(QStringLiteral(", ")), how);
            return b;
        }
        if (said.isEmpty() || said.first().size() < 2) {
            QStringList all = claims + silent;
            b.problem = QStringLiteral("the clearnet %1 baseline is unconfirmed: fewer than two "
                                       "qubes on the clearnet path agree (%2); %3")
                            .arg(what, all.join(QStringLiteral("; ")), how);
            return b;
        }
        // An answer over plain HTTP can be forged by any network qube on the path, for every
        // witness behind it alike: such witnesses cannot make a baseline agreed.
        if (!resolvers) {
            const QStringList plain = plainHttpEndpoints(QStringLiteral("clearnet"));
            if (!plain.isEmpty()) {
                b.problem = QStringLiteral(
                                "the clearnet exit baseline is unconfirmed: %1 agree on %2, but "
                                "over plain HTTP (%3), which a network qube on the path can "
                                "forge for the qubes behind it; use https:// endpoints, or %4")
                                .arg(said.first().join(QStringLiteral(" and ")), said.firstKey(),
                                     plain.join(QStringLiteral(", ")), how);
                return b;
            }
        }
        b.values = resolvers ? said.firstKey().split(QStringLiteral(", "))
                             : QStringList {said.firstKey()};
        b.source = QStringLiteral("seen from %1").arg(said.first().join(QStringLiteral(" and ")));
        return b;
    }

    // Keeps where the baselines of w's uplink came from in the run's snapshot (the JSON export
    // and the write-up show it), once per uplink and kind.
    void recordBaselines(const Work &w)
    {
        if (w.uplink.isEmpty())
            return;
        const bool exits = w.checks.contains(CheckKind::Vpn)
            || (w.checks.contains(CheckKind::ExternalIp) && w.kind == EgressKind::Clearnet);
        const bool resolvers = w.checks.contains(CheckKind::DnsLeak);
        for (const bool res : {false, true}) {
            if (!(res ? resolvers : exits))
                continue;
            const QString what = res ? QStringLiteral("resolvers") : QStringLiteral("exit");
            const bool known = std::any_of(
                snapshot.baselines.cbegin(), snapshot.baselines.cend(),
                [&](const BaselineRecord &r) { return r.uplink == w.uplink && r.what == what; });
            if (known)
                continue;
            const Baseline b = baselineOf(w, res);
            BaselineRecord r;
            r.uplink = w.uplink;
            r.what = what;
            const bool pinned
                = !(res ? request.config.baselineResolvers : request.config.baselineExitIps)
                       .isEmpty();
            r.state = pinned ? BaselineRecord::State::Pinned
                : b.values   ? BaselineRecord::State::Agreed
                : b.disputed ? BaselineRecord::State::Disputed
                             : BaselineRecord::State::Unconfirmed;
            r.values = b.values.value_or(QStringList());
            r.summary = b.values ? b.source : b.problem;
            r.witnesses = pinned ? QList<BaselineWitness>() : b.witnesses;
            snapshot.baselines.append(r);
        }
    }

    std::optional<QStringList> anyClearnetExits() const
    {
        for (const Work &w : plan.work) {
            if (!w.witnesses.isEmpty() || !request.config.baselineExitIps.isEmpty()) {
                const Baseline b = baselineOf(w, false);
                if (b.values)
                    return b.values;
            }
        }
        if (!request.config.baselineExitIps.isEmpty())
            return request.config.baselineExitIps;
        return std::nullopt;
    }

    Verdict judge(const Work &w, CheckKind kind) const
    {
        const ExitConsensus consensus = exitConsensus(w.evidence, echoCount(w));
        const Baseline exits = baselineOf(w, false);
        switch (kind) {
        case CheckKind::ExternalIp: {
            ExternalIpContext c;
            c.expectation = w.expectation;
            c.kind = w.kind;
            c.path = topology->egressChain(w.qube);
            for (const QString &hop : c.path.mid(1)) {
                const Qube *h = snapshot.find(hop);
                if (h && !h->isRunning()) {
                    c.haltedHop = hop;
                    break;
                }
            }
            c.clearnetExits = exits.values;
            c.baselineQube = exits.source;
            c.baselineProblem = exits.problem;
            c.baselineDisputed = exits.disputed;
            if (w.expectation.egress == Expectation::Egress::Via) {
                if (const Work *via = doneWork(w.expectation.via); via && !via->problem) {
                    const ExitConsensus vc = exitConsensus(via->evidence, echoCount(*via));
                    if (vc.state == ExitConsensus::State::Agreed)
                        c.viaExit = vc.ip;
                }
            }
            Ipv6Context v6 = ipv6ContextOf(w);
            if (w.expectation.egress == Expectation::Egress::Via) {
                if (const Work *via = doneWork(w.expectation.via); via && !via->problem) {
                    const ExitConsensus vc = exitConsensus6(via->evidence, echoCount6());
                    if (vc.state == ExitConsensus::State::Agreed)
                        v6.viaPrefix = vc.ip;
                }
            }
            const ExitConsensus consensus6 = exitConsensus6(w.evidence, echoCount6());
            return combineIpv6(judgeExternalIp(consensus, c), judgeExternalIpv6(consensus6, c, v6));
        }
        case CheckKind::Vpn: {
            VpnContext c;
            c.clearnetExits = exits.values;
            c.baselineQube = exits.source;
            c.baselineProblem = exits.problem;
            c.provider = w.provider;
            if (!w.provider.isEmpty()) {
                const Work *p = doneWork(w.provider);
                if (!p)
                    c.providerProblem = notRunningReason(*snapshot.find(w.provider));
                else if (p->problem)
                    c.providerProblem = *p->problem;
                else if (!p->evidence.interfacesDone)
                    c.providerProblem = QStringLiteral("the interface list is incomplete");
                else
                    c.providerTunnels = p->evidence.upTunnels();
            }
            const Verdict ipv4 = judgeVpn(consensus, c);
            const ExitConsensus consensus6 = exitConsensus6(w.evidence, echoCount6());
            return combineIpv6(
                ipv4, judgeVpnIpv6(consensus6, ipv6ContextOf(w), ipv4.status == CheckStatus::Pass));
        }
        case CheckKind::Tor:
            return judgeTor(w.evidence);
        case CheckKind::DnsLeak: {
            DnsContext c;
            c.kind = w.kind;
            if (request.config.hasDnsZone())
                c.zone = zoneOf(w);
            const Baseline res = baselineOf(w, true);
            c.baselineQube = res.source;
            c.baselineProblem = res.problem;
            c.baselineResolvers = res.values;
            return judgeDnsLeak(w.evidence, c);
        }
        case CheckKind::Isolation:
            return judgeIsolation(w.evidence, w.targets, request.config.isolationPorts, w.qube);
        case CheckKind::KillSwitch: {
            // Qubes gives the VPN qube's clients IPv6 exactly when it has a gateway6 for them
            // (the `ipv6` feature on its chain): then their IPv6 packets must be dropped too.
            const Qube *vpn = snapshot.find(w.qube);
            return judgeKillSwitchStatic(w.evidence, vpn && !vpn->gateway6.isEmpty());
        }
        }
        return {};
    }

    CheckResult resultFor(const Work &w, CheckKind kind, const Verdict &verdict) const
    {
        CheckResult r = baseResult(w.qube, kind);
        r.status = verdict.status;
        r.observed = verdict.observed;
        r.expected
            = verdict.expected.isEmpty() ? expectedText(kind, w.expectation) : verdict.expected;
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

    Verdict verdictFor(const Work &w, CheckKind kind) const
    {
        if (w.problem) {
            Verdict v;
            v.status = w.cancelledBeforeRun ? CheckStatus::Skipped : CheckStatus::Error;
            v.expected = expectedText(kind, w.expectation);
            v.reason = w.cancelledBeforeRun ? *w.problem
                                            : QStringLiteral("cannot check: %1").arg(*w.problem);
            return v;
        }
        Verdict v = judge(w, kind);
        // Say when the exit came over plain HTTP: a network qube on the path could forge it.
        if ((kind == CheckKind::ExternalIp || kind == CheckKind::Vpn) && !v.externalIp.isEmpty()) {
            QStringList plain = plainHttpEndpoints(w.plan.echoKind);
            if (exitConsensus6(w.evidence, echoCount6()).state == ExitConsensus::State::Agreed) {
                for (const QString &url : request.config.ipEchoUrls6)
                    if (isPlainHttp(url))
                        plain.append(url);
            }
            if (!plain.isEmpty())
                v.reason += QStringLiteral(" (over plain HTTP from %1: a network qube on the path "
                                           "could forge it)")
                                .arg(plain.join(QStringLiteral(", ")));
        }
        return v;
    }

    void emitReady()
    {
        for (const QString &name : plan.work.keys()) {
            Work &w = plan.work[name];
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

    // --- kill-switch drill: break, probe downstream, restore; one VPN qube at a time ---

    int restoreAfter() const { return drillRestoreAfterSeconds(request.config); }

    void nextDrill()
    {
        while (true) {
            if (drillIndex >= 0 && drillIndex < plan.drills.size()
                && plan.drills[drillIndex].stage < 5)
                return;
            ++drillIndex;
            if (drillIndex >= plan.drills.size()) {
                finish();
                return;
            }
            DrillRun &d = plan.drills[drillIndex];
            const Work &w = plan.work[d.vpn];
            const Verdict staticVerdict = verdictFor(w, CheckKind::KillSwitch);
            QString why;
            if (cancelled)
                why = QStringLiteral("cancelled before the drill ran");
            else if (w.problem)
                why = *w.problem;
            else if (d.downstream.isEmpty())
                why = QStringLiteral("no running qube behind %1 to test").arg(d.vpn);
            else if (w.evidence.upTunnels().isEmpty())
                why = QStringLiteral("no tunnel interface is up in %1").arg(d.vpn);
            if (!why.isEmpty()) {
                Verdict v = staticVerdict;
                if (v.status != CheckStatus::Fail) {
                    v.status = cancelled ? CheckStatus::Skipped : CheckStatus::Error;
                    v.reason = QStringLiteral("drill not run: %1. Static check: %2")
                                   .arg(why, staticVerdict.reason);
                }
                d.stage = 5;
                emitResult(resultFor(w, CheckKind::KillSwitch, v));
                continue;
            }
            d.interfaceName = w.evidence.upTunnels().constFirst();
            d.evidence.interfaceName = d.interfaceName;
            d.evidence.downstreamQube = d.downstream;
            d.evidence.restoreAfterSeconds = restoreAfter();
            d.evidence.clearnetExits = anyClearnetExits();
            d.evidence.downstreamChoice = d.choice;
            const ExitConsensus own = exitConsensus(w.evidence, echoCount(w));
            if (own.state == ExitConsensus::State::Agreed)
                d.evidence.vpnExit = own.ip;
            startDrillStep(d, 1);
            return;
        }
    }

    void startDrillStep(DrillRun &d, int stage)
    {
        d.stage = stage;
        CommandSpec c;
        const bool client = stage == 1 || stage == 3;
        if (client) {
            ProbePlan p;
            p.externalIp = true;
            p.echoKind = QStringLiteral("vpn"); // a client of a VPN qube
            c = spec(d.downstream, probeScript(p, request.config), false, 64 << 10);
        } else if (stage == 2) {
            d.evidence.breakRun = true;
            c = spec(d.vpn, drillBreakScript(d.interfaceName, restoreAfter()), true, 64 << 10);
        } else {
            c = spec(d.vpn, drillRestoreScript(), true, 64 << 10);
        }
        d.commands += c.display() + QStringLiteral("\n\n");
        emit q->qubeBusy(client ? d.downstream : d.vpn, true);
        emit q->progress(done, total, QStringLiteral("%1: kill-switch drill").arg(d.vpn));
        drillId = runner.start(c);
    }

    void drillStepFinished(const CommandOutput &out)
    {
        drillId = 0;
        DrillRun &d = plan.drills[drillIndex];
        const ProbeEvidence e = parseProbeOutput(out.stdoutData);
        const auto problem = transportProblem(out, request.autostart, e);
        d.outputs += "--- step " + QByteArray::number(d.stage) + " ---\n"
            + out.stdoutData.left(8192) + out.stderrData.left(2048);
        const bool client = d.stage == 1 || d.stage == 3;
        emit q->qubeBusy(client ? d.downstream : d.vpn, false);
        if (d.stage == 1) {
            // Egress by the VPN's exit with the tunnel up first; without it nothing is broken.
            d.evidence.beforeRun = true;
            d.evidence.beforeProblem = problem;
            d.evidence.before = exitConsensus(e, drillEchoCount());
            if (!cancelled && !drillBaselineProblem(d.evidence))
                startDrillStep(d, 2);
            else
                finishDrill(d);
            return;
        }
        if (d.stage == 2) {
            d.evidence.breakProblem = problem;
            d.evidence.breakStep = e;
            if (!problem && e.drillEvents.contains(QStringLiteral("broken")) && !cancelled)
                startDrillStep(d, 3);
            else if (e.drillEvents.contains(QStringLiteral("busy"))
                     || e.drillEvents.contains(QStringLiteral("no-such-interface")))
                finishDrill(d); // nothing was changed, nothing to restore
            else
                startDrillStep(d, 4);
            return;
        }
        if (d.stage == 3) {
            d.evidence.downstreamProblem = problem;
            if (cancelled && !problem)
                d.evidence.downstreamProblem = QStringLiteral("cancelled");
            d.evidence.downstream = exitConsensus(e, drillEchoCount());
            startDrillStep(d, 4);
            return;
        }
        d.evidence.restoreProblem = problem;
        d.evidence.restoreStep = e;
        if (!problem && e.interfacesDone)
            snapshot.tunnels.insert(d.vpn, e.upTunnels());
        finishDrill(d);
    }

    void finishDrill(DrillRun &d)
    {
        d.stage = 5;
        const Work &w = plan.work[d.vpn];
        const Verdict staticVerdict = verdictFor(w, CheckKind::KillSwitch);
        Verdict v = judgeKillSwitchDrill(staticVerdict, d.evidence);
        if (cancelled && v.status == CheckStatus::Error)
            v.reason = QStringLiteral("cancelled during the drill. ") + v.reason;
        CheckResult r = resultFor(w, CheckKind::KillSwitch, v);
        r.command += QStringLiteral("\n\n") + d.commands.trimmed();
        r.output += u'\n' + untrustedtext::block(untrustedtext::fromUtf8(d.outputs), 16 << 10);
        r.finished = QDateTime::currentDateTimeUtc();
        emitResult(r);
        nextDrill();
    }

    void finish()
    {
        if (!isRunning)
            return;
        isRunning = false;
        emit q->finished();
    }
};

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
    auto plan = makePlan(snapshot, *topology, request);
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
        Work &w = d->plan.work[name];
        w.state = Work::State::Done;
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

Result<QList<PlannedCheck>> planVerification(const Snapshot &snapshot, const VerifyRequest &request)
{
    const Topology topology(snapshot);
    auto plan = makePlan(snapshot, topology, request);
    if (!plan)
        return plan.error();
    return plan->items;
}

int drillRestoreAfterSeconds(const CheckConfig &config)
{
    return config.timeoutSeconds * 2 + 15;
}

Result<DrillPlan> planDrill(const Snapshot &snapshot, const VerifyRequest &request,
                            const QString &vpnQube)
{
    const Qube *vpn = snapshot.find(vpnQube);
    if (!vpn || !vpn->name.isRunnable())
        return makeError(Error::Code::Usage,
                         QStringLiteral("no qube named \"%1\" to drill").arg(vpnQube.left(64)));
    const QStringList tunnels = snapshot.tunnels.value(vpnQube);
    if (tunnels.isEmpty())
        return makeError(
            Error::Code::Usage,
            QStringLiteral("no tunnel interface is known to be up in %1").arg(vpnQube));
    const auto iface = validInterfaceName(tunnels.constFirst());
    if (!iface)
        return makeError(Error::Code::Usage, QStringLiteral("bad tunnel interface name"));
    const Topology topology(snapshot);
    DrillPlan plan;
    plan.vpnQube = vpnQube;
    plan.interfaceName = *iface;
    plan.downstreamQube = chooseDownstream(snapshot, topology, request, vpnQube);
    if (plan.downstreamQube.isEmpty())
        return makeError(
            Error::Code::Usage,
            QStringLiteral("no running qube behind %1 to test the kill switch with").arg(vpnQube));
    plan.restoreAfterSeconds = drillRestoreAfterSeconds(request.config);
    plan.steps
        = drillSteps(vpnQube, plan.interfaceName, plan.downstreamQube, plan.restoreAfterSeconds);
    // As Verifier::Private::spec() builds them (the window shows display() of each).
    const auto command = [&](const QString &qube, const QString &script, bool root) {
        CommandSpec c;
        c.program = request.qvmRun;
        c.arguments
            = qvmRunArguments(*QubeName::fromUntrusted(qube), script, root, request.autostart);
        return c;
    };
    ProbePlan probe;
    probe.externalIp = true;
    probe.echoKind = QStringLiteral("vpn"); // as the Verifier probes a client of a VPN qube
    plan.commands << command(plan.downstreamQube, probeScript(probe, request.config), false)
                  << command(vpnQube,
                             drillBreakScript(plan.interfaceName, plan.restoreAfterSeconds), true)
                  << command(plan.downstreamQube, probeScript(probe, request.config), false)
                  << command(vpnQube, drillRestoreScript(), true);
    return plan;
}

QStringList describeDrill(const Snapshot &snapshot, const VerifyRequest &request,
                          const QString &vpnQube)
{
    const Topology topology(snapshot);
    const QString downstream = chooseDownstream(snapshot, topology, request, vpnQube);
    const QStringList tunnels = snapshot.tunnels.value(vpnQube);
    const QString iface = tunnels.isEmpty()
        ? QStringLiteral("its tunnel interface (found when it is probed)")
        : tunnels.constFirst();
    if (downstream.isEmpty())
        return {QStringLiteral("Nothing: no running qube behind %1 to test the kill switch with.")
                    .arg(vpnQube)};
    QStringList steps
        = drillSteps(vpnQube, iface, downstream, request.config.timeoutSeconds * 2 + 15);
    if (!tunnels.isEmpty()) {
        steps.append(QStringLiteral("Script run in %1 as root to break the tunnel:").arg(vpnQube));
        steps.append(drillBreakScript(iface, request.config.timeoutSeconds * 2 + 15));
        steps.append(QStringLiteral("Script run in %1 as root to restore it:").arg(vpnQube));
        steps.append(drillRestoreScript());
    }
    return steps;
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
