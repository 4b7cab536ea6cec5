#include "findings.h"

#include "model/checkindex.h"
#include "model/snapshot.h"
#include "model/topology.h"
#include "policy/inference.h"

namespace netmap {

namespace {

Finding make(Finding::Severity severity, const QString &qube, const char *code, QString message)
{
    return Finding {severity, qube, QString::fromLatin1(code), std::move(message)};
}

} // namespace

std::vector<Finding> computeFindings(const Snapshot &snapshot, const Topology &topology)
{
    using S = Finding::Severity;
    std::vector<Finding> findings;
    const CheckIndex checks(snapshot);

    auto globalRef = [&](const std::optional<QubeName> &ref, const char *what) {
        if (ref && !snapshot.find(ref->toString()))
            findings.push_back(make(S::Error, {}, "dangling-global",
                                    QStringLiteral("The global %1 names %2, which does not exist.")
                                        .arg(QString::fromLatin1(what), ref->toString())));
    };
    globalRef(snapshot.globals.defaultNetvm, "default_netvm");
    globalRef(snapshot.globals.updatevm, "updatevm");
    globalRef(snapshot.globals.clockvm, "clockvm");
    globalRef(snapshot.globals.defaultDispvm, "default_dispvm");

    for (int i = 0; i < int(snapshot.qubes.size()); ++i) {
        const Qube &q = snapshot.qubes[size_t(i)];
        const QString name = q.name.toString();

        if (topology.isDangling(i))
            findings.push_back(make(S::Error, name, "dangling-netvm",
                                    QStringLiteral("%1 uses netvm %2, which does not exist.")
                                        .arg(name, q.netvm->toString())));
        if (topology.isInLoop(i))
            findings.push_back(make(S::Error, name, "netvm-loop",
                                    QStringLiteral("%1 is part of a netvm loop.").arg(name)));

        const int parent = topology.parentOf(i);
        if (parent >= 0 && q.isRunning() && !snapshot.qubes[size_t(parent)].isRunning())
            findings.push_back(make(S::Warning, name, "netvm-halted",
                                    QStringLiteral("%1 is running but its netvm %2 is %3: it has "
                                                   "no network.")
                                        .arg(name, topology.nameAt(parent),
                                             snapshot.qubes[size_t(parent)].state.toLower())));

        if (q.isTemplate() && q.netvm)
            findings.push_back(make(S::Warning, name, "template-netvm",
                                    QStringLiteral("Template %1 has netvm %2; templates normally "
                                                   "update through the updates proxy only.")
                                        .arg(name, q.netvm->toString())));

        if (q.hasTag(u"anon-vm") && torGatewayOf(snapshot, topology, name).isEmpty())
            findings.push_back(make(S::Error, name, "anon-vm-not-whonix",
                                    QStringLiteral("%1 is tagged anon-vm but is not behind a "
                                                   "Whonix gateway.")
                                        .arg(name)));

        // Disposables opened from this qube leave through its default_dispvm's netvm (a
        // disposable's netvm defaults to its disposable template's), not the qube's own. The
        // source prints default_dispvm as Qubes resolves it, so none means no disposables:
        // nothing is borrowed from the global. Network qubes are left out: nobody browses from
        // them, and they would only add noise.
        if (!q.isAdmin() && !q.isTemplate() && !q.providesNetwork) {
            QString dispvm;
            const auto exit = snapshot.disposablesNetvm(name, &dispvm);
            // A disposable template without network opens disposables without network: no
            // egress at all, so nothing hidden.
            if (exit && !exit->isNull() && dispvm != name) {
                if (q.netvm && *exit != *q.netvm)
                    findings.push_back(
                        make(S::Warning, name, "dispvm-netvm-differs",
                             QStringLiteral("Disposables opened from %1 use %2, whose netvm is "
                                            "%3, not %4: links opened there leave another way.")
                                 .arg(name, dispvm, exit->toString(), q.netvm->toString())));
                else if (!q.netvm)
                    findings.push_back(
                        make(S::Info, name, "dispvm-networked",
                             QStringLiteral("%1 has no network, but disposables opened from it "
                                            "use %2, whose netvm is %3: links opened there "
                                            "leave by %3.")
                                 .arg(name, dispvm, exit->toString())));
            }
        }

        // A qube on a VPN path whose VPN qube has no verified kill switch.
        if (q.netvm && !q.providesNetwork) {
            const QString vpn = vpnProviderOf(snapshot, topology, name);
            if (!vpn.isEmpty()) {
                const CheckResult *ks = checks.latest(vpn, CheckKind::KillSwitch);
                if (!ks || ks->status != CheckStatus::Pass)
                    findings.push_back(make(S::Info, name, "vpn-no-kill-switch",
                                            QStringLiteral("%1 is behind %2, whose kill switch is "
                                                           "not verified.")
                                                .arg(name, vpn)));
            }
        }
    }
    return findings;
}

} // namespace netmap
