#include "reroute.h"

#include "model/snapshot.h"

#include <algorithm>
#include <memory>

namespace netmap {

namespace {

const QString kQvmPrefs = QStringLiteral("qvm-prefs");
const QString kNetvm = QStringLiteral("netvm");
constexpr int kPrefsTimeoutMs = 30000;
constexpr int kStartTimeoutMs = 180000; // a qube (and the netvms above it) booting

// The chain of netvms above the qube (its netvm, that one's netvm, ...), bounded.
QStringList upstreamOf(const Snapshot &snapshot, const QString &qube)
{
    QStringList chain;
    const Qube *q = snapshot.find(qube);
    while (q && q->netvm && chain.size() < int(snapshot.qubes.size())) {
        const QString next = q->netvm->toString();
        if (chain.contains(next) || next == qube)
            break;
        chain << next;
        q = snapshot.find(next);
    }
    return chain;
}

bool behindWhonix(const Snapshot &snapshot, const QStringList &chain)
{
    for (const QString &name : chain)
        if (const Qube *q = snapshot.find(name); q && q->looksLikeWhonixGateway())
            return true;
    return false;
}

QString describeFailure(const CommandSpec &spec, const CommandOutput &output)
{
    QString message = QStringLiteral("%1 %2").arg(spec.display(), output.describe());
    if (const QString detail = output.firstErrorLine(); !detail.isEmpty())
        message += QStringLiteral(": ") + detail;
    return message;
}

} // namespace

QStringList netvmCandidates(const Snapshot &snapshot, const QString &qube)
{
    QStringList out;
    const Qube *self = snapshot.find(qube);
    if (!self || self->isAdmin())
        return out;
    for (const Qube &q : snapshot.qubes) {
        const QString name = q.name.toString();
        if (!q.providesNetwork || q.isAdmin() || name == qube)
            continue;
        // A provider that is behind the qube (directly or further down) would close a loop.
        if (upstreamOf(snapshot, name).contains(qube))
            continue;
        // A halted one is offered to a running qube too: the plan starts it first (qubesd
        // refuses to attach a running qube to a halted netvm, "Cannot dynamically attach to
        // stopped qube").
        out << name;
    }
    return out; // snapshot.qubes is sorted by name
}

std::optional<NetvmSetting> parseNetvmListing(const QByteArray &untrustedOutput, QString *why)
{
    const auto refuse = [why](const char *reason) -> std::optional<NetvmSetting> {
        if (why)
            *why = QString::fromLatin1(reason);
        return std::nullopt;
    };
    if (untrustedOutput.size() > (256 << 10))
        return refuse("qvm-prefs listing larger than 256 KiB");
    std::optional<NetvmSetting> found;
    for (QByteArray line : untrustedOutput.split('\n')) {
        if (line.endsWith('\r'))
            line.chop(1);
        if (!line.startsWith("netvm ") && line != "netvm")
            continue;
        if (found)
            return refuse("two netvm lines in the qvm-prefs listing");
        // "netvm" spaces mark [spaces value]
        const QList<QByteArray> parts = line.simplified().split(' ');
        if (parts.size() < 2 || parts.size() > 3)
            return refuse("malformed netvm line in the qvm-prefs listing");
        const QByteArray &mark = parts[1];
        NetvmSetting setting;
        if (mark == "D")
            setting.isDefault = true;
        else if (mark == "U")
            ; // unset: no value
        else if (mark != "-")
            return refuse("unknown mark on the netvm line of the qvm-prefs listing");
        if (parts.size() == 3 && parts[2] == "None") {
            // qvm-prefs prints a qube-valued property set to none as the literal "None"
            // (str(None)); "none" is no qube's name.
            if (mark == "U")
                return refuse("an unset netvm with a value");
        } else if (parts.size() == 3) {
            if (mark == "U")
                return refuse("an unset netvm with a value");
            QString reason;
            const auto name = QubeName::fromUntrusted(QString::fromLatin1(parts[2]), &reason);
            if (!name)
                return refuse("the netvm in the qvm-prefs listing is not a valid qube name");
            setting.value = *name;
        }
        found = setting;
    }
    if (!found)
        return refuse("no netvm line in the qvm-prefs listing");
    return found;
}

CommandSpec prefsListingCommand(const QubeName &qube)
{
    CommandSpec spec;
    spec.program = kQvmPrefs;
    spec.arguments = {qube.toString()};
    spec.timeoutMs = kPrefsTimeoutMs;
    spec.stdoutCap = 256 << 10;
    return spec;
}

CommandSpec setNetvmCommand(const QubeName &qube, const std::optional<QubeName> &netvm)
{
    CommandSpec spec;
    spec.program = kQvmPrefs;
    spec.arguments = {qube.toString(), kNetvm, netvm ? netvm->toString() : QString()};
    spec.timeoutMs = kPrefsTimeoutMs;
    spec.stdoutCap = 64 << 10;
    return spec;
}

CommandSpec resetNetvmCommand(const QubeName &qube)
{
    CommandSpec spec;
    spec.program = kQvmPrefs;
    spec.arguments = {QStringLiteral("--default"), qube.toString(), kNetvm};
    spec.timeoutMs = kPrefsTimeoutMs;
    spec.stdoutCap = 64 << 10;
    return spec;
}

CommandSpec startQubeCommand(const QubeName &qube)
{
    CommandSpec spec;
    spec.program = QStringLiteral("qvm-start");
    spec.arguments = {qube.toString()};
    spec.timeoutMs = kStartTimeoutMs;
    spec.stdoutCap = 64 << 10;
    return spec;
}

bool needsNetvmStarted(const Snapshot &snapshot, const QString &qube, const QString &netvm)
{
    const Qube *self = snapshot.find(qube);
    const Qube *target = snapshot.find(netvm);
    return self && target && !self->isHalted() && target->isHalted();
}

QString anonVmWarning(const Snapshot &snapshot, const QString &qube,
                      const std::optional<QString> &to)
{
    const Qube *q = snapshot.find(qube);
    if (!q || !q->hasTag(u"anon-vm") || !to)
        return {};
    if (!behindWhonix(snapshot, upstreamOf(snapshot, qube)))
        return {};
    QStringList newChain {*to};
    newChain += upstreamOf(snapshot, *to);
    if (behindWhonix(snapshot, newChain))
        return {};
    return QStringLiteral("%1 is tagged anon-vm and now leaves through Tor (a Whonix gateway). "
                          "Connected to %2 its traffic leaves without Tor: the sites it talks to "
                          "see this machine's real exit address, and it can be linked to you.")
        .arg(qube, *to);
}

Result<NetvmChangePlan> planNetvmChange(const Snapshot &snapshot, const QString &qube,
                                        const std::optional<QString> &to,
                                        const std::optional<NetvmSetting> &current)
{
    const Qube *q = snapshot.find(qube);
    if (!q || !q->name.isRunnable() || q->isAdmin())
        return makeError(Error::Code::Usage, QStringLiteral("%1 cannot be re-routed").arg(qube));
    NetvmChangePlan plan;
    plan.qube = q->name;
    if (to) {
        if (!netvmCandidates(snapshot, qube).contains(*to))
            return makeError(Error::Code::Usage,
                             QStringLiteral("%1 cannot be the netvm of %2").arg(*to, qube));
        plan.to = *QubeName::fromUntrusted(*to);
    }
    if (current) {
        plan.fromKnown = true;
        plan.from = current->value;
        plan.fromDefault = current->isDefault;
    } else {
        plan.from = q->netvm; // from qvm-ls: the value, not whether it is the default
    }
    if (plan.from == plan.to && !plan.fromDefault)
        return makeError(
            Error::Code::Usage,
            QStringLiteral("%1 already uses %2").arg(qube, to ? *to : QStringLiteral("no netvm")));
    if (to && needsNetvmStarted(snapshot, qube, *to))
        plan.start = startQubeCommand(*plan.to);
    plan.apply = setNetvmCommand(plan.qube, plan.to);
    plan.undo
        = plan.fromDefault ? resetNetvmCommand(plan.qube) : setNetvmCommand(plan.qube, plan.from);
    plan.warning = anonVmWarning(snapshot, qube, to);
    return plan;
}

NetvmChanger::NetvmChanger(QObject *parent)
    : QObject(parent)
{
    connect(&m_runner, &CommandRunner::finished, this, &NetvmChanger::onFinished);
}

void NetvmChanger::prepare(const Snapshot &snapshot, const QString &qube,
                           const std::optional<QString> &to)
{
    const Qube *q = snapshot.find(qube);
    if (!q || !q->name.isRunnable()) {
        const QString message = QStringLiteral("%1 cannot be re-routed").arg(qube);
        QMetaObject::invokeMethod(
            this, [this, message] { emit prepareFailed(message); }, Qt::QueuedConnection);
        return;
    }
    Pending pending;
    pending.kind = Pending::Kind::Prepare;
    pending.snapshot = std::make_shared<Snapshot>(snapshot);
    pending.qube = qube;
    pending.to = to;
    m_pending.insert(m_runner.start(prefsListingCommand(q->name)), pending);
}

void NetvmChanger::apply(const NetvmChangePlan &plan)
{
    Pending pending;
    pending.kind = plan.start ? Pending::Kind::Start : Pending::Kind::Apply;
    pending.plan = plan;
    m_pending.insert(m_runner.start(plan.start ? *plan.start : plan.apply), pending);
}

void NetvmChanger::undo(const NetvmChangePlan &plan)
{
    Pending pending;
    pending.kind = Pending::Kind::Undo;
    pending.plan = plan;
    m_pending.insert(m_runner.start(plan.undo), pending);
}

void NetvmChanger::onFinished(CommandRunner::Id id, const CommandOutput &output)
{
    if (!m_pending.contains(id))
        return;
    const Pending pending = m_pending.take(id);
    switch (pending.kind) {
    case Pending::Kind::Prepare: {
        // A listing that cannot be read still allows the change; undo then sets the old value.
        std::optional<NetvmSetting> current;
        if (output.finishedOk())
            current = parseNetvmListing(output.stdoutData);
        auto plan = planNetvmChange(*pending.snapshot, pending.qube, pending.to, current);
        if (plan)
            emit prepared(plan.value());
        else
            emit prepareFailed(plan.error().message);
        break;
    }
    case Pending::Kind::Start: {
        // The netvm runs now (or the start failed: then nothing else is changed).
        if (!output.finishedOk()) {
            emit commandFailed(pending.plan, false, describeFailure(*pending.plan.start, output));
            break;
        }
        Pending next = pending;
        next.kind = Pending::Kind::Apply;
        m_pending.insert(m_runner.start(pending.plan.apply), next);
        break;
    }
    case Pending::Kind::Apply:
    case Pending::Kind::Undo: {
        const bool isUndo = pending.kind == Pending::Kind::Undo;
        const CommandSpec &spec = isUndo ? pending.plan.undo : pending.plan.apply;
        if (!output.finishedOk())
            emit commandFailed(pending.plan, isUndo, describeFailure(spec, output));
        else if (isUndo)
            emit undone(pending.plan);
        else
            emit applied(pending.plan);
        break;
    }
    }
}

} // namespace netmap
