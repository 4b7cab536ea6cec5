#pragma once
// Watching what a network qube's firewall drops: logging rules that remove themselves after a
// while, in front of the drop of new traffic to qubes (table ip qubes, chain forward) and in
// front of each reject of the qubes-firewall service (the qubes' qvm-firewall rules), and the
// kernel log followed through qvm-run.

#include "droplog.h"
#include "model/qubename.h"
#include "model/result.h"
#include "qubes/commandrunner.h"

#include <QObject>
#include <QTimer>

namespace netmap {

// Exactly what a watch runs in the network qube (as root, through qvm-run), for the
// confirmation and for the run itself. Only the qube name, the duration and the token (all
// validated) are filled into the fixed scripts.
struct DropWatchPlan
{
    QubeName qube;
    int seconds = 600; // the rule deletes itself in the qube after this long
    QString token; // 16 hex digits: the rule's comment is "netmap-watch-<token>"
    CommandSpec arm; // starts the self-removal timer in the qube, then inserts the rules
    CommandSpec stream; // follows the kernel log (journalctl, or dmesg where it cannot)
    CommandSpec disarm; // deletes the rules now, and fails if one is left

    QString ruleComment() const { return QStringLiteral("netmap-watch-") + token; }
};

inline constexpr int kMinWatchSeconds = 10;
inline constexpr int kMaxWatchSeconds = 3600;

// A fresh random token.
QString newDropWatchToken();
// Refuses dom0, a bad duration (10 s to 1 h) or a token that is not 16 hex digits.
Result<DropWatchPlan> planDropWatch(const QubeName &qube, int seconds, const QString &token);

class DropWatcher : public QObject
{
    Q_OBJECT
public:
    enum class State { Idle, Arming, Watching, Disarming };

    explicit DropWatcher(QObject *parent = nullptr);
    // Kills the stream and removes the rule, waiting for that at most a few seconds.
    ~DropWatcher() override;

    // Arms the rule, then follows the log. started() or failed() follows.
    void start(const DropWatchPlan &plan);
    // Kills the stream and removes the rule; stopped() follows.
    void stop();
    // The same, waiting for the removal (at most timeoutMs): for quitting.
    void stopBlocking(int timeoutMs = 8000);

    State state() const { return m_state; }
    bool isActive() const { return m_state != State::Idle; }
    const DropWatchPlan &plan() const { return m_plan; }
    int refusedLines() const { return m_refused; }
    // How many qubes-firewall rejects got a logging rule in front (once started): 0 where the
    // qube has none (no qubes-firewall service, or no client with a reject rule), -1 where nft
    // refused them (the watch then sees only the drop of new traffic to qubes).
    int firewallLogRules() const { return m_firewallRules; }

signals:
    void started(const QString &qube);
    void packetDropped(const QString &qube, const netmap::DroppedPacket &packet);
    // A line that carried the prefix but was not a valid log line (the reason, never the line).
    void lineRefused(const QString &qube, const QString &reason);
    // The watch ended: the rule was removed (or had expired). reason says why when not asked.
    void stopped(const QString &qube, const QString &reason);
    void failed(const QString &qube, const QString &message);

private:
    void onFinished(CommandRunner::Id id, const CommandOutput &output);
    void onLine(CommandRunner::Id id, const QByteArray &line);
    void disarm(const QString &reason);

    CommandRunner m_runner;
    DropWatchPlan m_plan;
    State m_state = State::Idle;
    CommandRunner::Id m_armId = 0;
    CommandRunner::Id m_streamId = 0;
    CommandRunner::Id m_disarmId = 0;
    QString m_stopReason;
    QTimer m_expiry;
    int m_refused = 0;
    int m_firewallRules = 0;
};

} // namespace netmap
