// The Verifier's plan (verifier_p.h, VerifierPlan): which checks apply to which qube and why
// the others are skipped, what each qube's probe asks, the clearnet witnesses of each uplink,
// the VPN qubes whose tunnels the vpn check reads, the drills, and the order the probes run in
// (baselines first). Nothing here runs anything.

#include "verifier.h"
#include "verifier_p.h"

#include "checkscripts.h"
#include "model/ipv4.h"
#include "model/topology.h"
#include "policy/inference.h"

namespace netmap {

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

namespace {

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

} // namespace

Result<VerifierPlan> makeVerifierPlan(const Snapshot &s, const Topology &t, const VerifyRequest &r)
{
    VerifierPlan plan;
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

    auto ensureWork = [&](const QString &name) -> VerifierWork & {
        auto it = plan.work.find(name);
        if (it == plan.work.end()) {
            VerifierWork w;
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

        VerifierWork &w = ensureWork(name);
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
        const VerifierWork w = plan.work.value(name);
        const bool compares = w.checks.contains(CheckKind::Vpn)
            || w.checks.contains(CheckKind::DnsLeak)
            || (w.checks.contains(CheckKind::ExternalIp) && w.kind == EgressKind::Clearnet);
        if (compares) {
            const QStringList witnesses = witnessesFor(name);
            for (const QString &witness : witnesses) {
                VerifierWork &b = ensureWork(witness);
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
        for (const VerifierWork &w : std::as_const(plan.work)) {
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
        for (VerifierWork &w : plan.work) {
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
    for (const VerifierWork &w : std::as_const(plan.work)) {
        if (!plan.queue.contains(w.qube) && w.plan.interfaces)
            plan.queue.append(w.qube);
    }
    for (const VerifierWork &w : std::as_const(plan.work)) {
        if (!plan.queue.contains(w.qube))
            plan.queue.append(w.qube);
    }
    return plan;
}

Result<QList<PlannedCheck>> planVerification(const Snapshot &snapshot, const VerifyRequest &request)
{
    const Topology topology(snapshot);
    auto plan = makeVerifierPlan(snapshot, topology, request);
    if (!plan)
        return plan.error();
    return plan->items;
}

} // namespace netmap
