#pragma once
// Changing a qube's netvm from the diagram: which qubes it may connect to, the exact qvm-prefs
// commands (change and undo), and the warning for an anon-vm qube leaving its Whonix gateway.

#include "model/qubename.h"
#include "model/result.h"
#include "qubes/commandrunner.h"

#include <QObject>
#include <QStringList>

#include <optional>

namespace netmap {

struct Snapshot;

// Network-providing qubes the qube may use as its netvm, sorted by name: not itself, not dom0,
// nothing behind it (that would make a loop, which Qubes refuses). A halted netvm is offered to
// a qube that is not halted too: qubesd refuses to attach a running qube to a halted netvm, so
// the plan starts it first (NetvmChangePlan::start).
QStringList netvmCandidates(const Snapshot &snapshot, const QString &qube);

// The netvm line of qvm-prefs' listing mode ("netvm  D  sys-firewall": D = default,
// '-' = set, U = unset).
struct NetvmSetting
{
    bool isDefault = false;
    std::optional<QubeName> value; // none when empty
};
std::optional<NetvmSetting> parseNetvmListing(const QByteArray &untrustedOutput,
                                              QString *why = nullptr);

// `qvm-prefs QUBE` (listing mode, read-only)
CommandSpec prefsListingCommand(const QubeName &qube);
// `qvm-prefs QUBE netvm NEW`, or `qvm-prefs QUBE netvm ''` for none
CommandSpec setNetvmCommand(const QubeName &qube, const std::optional<QubeName> &netvm);
// `qvm-prefs --default QUBE netvm`: back to following the global default_netvm
CommandSpec resetNetvmCommand(const QubeName &qube);
// `qvm-start QUBE`
CommandSpec startQubeCommand(const QubeName &qube);
// True when connecting `qube` to `netvm` needs `netvm` started first: the qube is not halted
// and the netvm is.
bool needsNetvmStarted(const Snapshot &snapshot, const QString &qube, const QString &netvm);

struct NetvmChangePlan
{
    QubeName qube;
    std::optional<QubeName> from; // the netvm now (none = nullopt)
    bool fromDefault = false; // the netvm now is the default (qvm-prefs listing said D)
    bool fromKnown = false; // false when the listing could not be read: undo sets the value
    std::optional<QubeName> to;
    // `qvm-start TO`, run before `apply` when the qube is not halted and TO is (qubesd refuses
    // to attach a running qube to a halted netvm). Undo does not stop it again.
    std::optional<CommandSpec> start;
    CommandSpec apply;
    CommandSpec undo;
    QString warning; // non-empty: say it before asking (anon-vm leaving Whonix)
};

// The plan for qube -> to, given what the listing said (nullopt when it could not be read).
// Refuses what netvmCandidates() would not offer.
Result<NetvmChangePlan> planNetvmChange(const Snapshot &snapshot, const QString &qube,
                                        const std::optional<QString> &to,
                                        const std::optional<NetvmSetting> &current);

// Non-empty when the qube is tagged anon-vm, leaves through a Whonix gateway now, and would not
// after connecting it to `to`.
QString anonVmWarning(const Snapshot &snapshot, const QString &qube,
                      const std::optional<QString> &to);

// Runs a plan's commands: prepare() reads the listing (read-only) and hands back the plan;
// apply() runs the plan's qvm-start (if any) and then qvm-prefs, undo() qvm-prefs. Nothing
// changes a qube unless apply() or undo() is called.
class NetvmChanger : public QObject
{
    Q_OBJECT
public:
    explicit NetvmChanger(QObject *parent = nullptr);

    void prepare(const Snapshot &snapshot, const QString &qube, const std::optional<QString> &to);
    void apply(const NetvmChangePlan &plan);
    void undo(const NetvmChangePlan &plan);
    bool isBusy() const { return !m_pending.isEmpty(); }

signals:
    void prepared(const netmap::NetvmChangePlan &plan);
    void prepareFailed(const QString &message);
    void applied(const netmap::NetvmChangePlan &plan);
    void undone(const netmap::NetvmChangePlan &plan);
    void commandFailed(const netmap::NetvmChangePlan &plan, bool wasUndo, const QString &message);

private:
    struct Pending
    {
        enum class Kind { Prepare, Start, Apply, Undo } kind = Kind::Prepare;
        NetvmChangePlan plan;
        std::shared_ptr<Snapshot> snapshot; // Prepare: what the plan is made against
        QString qube;
        std::optional<QString> to;
    };
    void onFinished(CommandRunner::Id id, const CommandOutput &output);
    CommandRunner m_runner;
    QHash<CommandRunner::Id, Pending> m_pending;
};

} // namespace netmap
