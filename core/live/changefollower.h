#pragma once
// ChangeFollower: notices when the qubes changed and hands out a fresh read with the evidence
// carried over. Listens to qubesd's event stream where the socket answers; polls qvm-ls
// otherwise.

#include "model/snapshot.h"
#include "model/snapshotdiff.h"
#include "qubes/livesource.h"
#include "qubes/qubesdevents.h"

#include <QObject>
#include <QTimer>

#include <functional>

namespace netmap {

struct FollowOptions
{
    QString socketPath = QubesdEventStream::defaultSocketPath();
    bool useEvents = true; // false: poll only
    int pollIntervalMs = 10000; // while the event stream is not available
    int reconnectMs = 30000; // how often to try the socket again while polling
    LiveOptions live;
};

class ChangeFollower : public QObject
{
    Q_OBJECT
public:
    enum class Mode { Off, Events, Polling };

    // current() gives the snapshot shown now: the one a fresh read is compared with.
    explicit ChangeFollower(std::function<Snapshot()> current, QObject *parent = nullptr);
    ~ChangeFollower() override;

    void start(const FollowOptions &options = {});
    void stop();
    Mode mode() const { return m_mode; }
    bool isActive() const { return m_mode != Mode::Off; }
    const FollowOptions &options() const { return m_options; }
    // "following changes (qubesd events)", "following changes (polling every 10 s)", or empty.
    QString description() const;

    // Reads again now, whatever the mode (after the program changed something itself).
    void refreshNow();
    bool isRefreshing() const { return m_refreshing; }

    // What a fresh read means against the shown snapshot: the diff, and the fresh snapshot
    // with the evidence carried over (results whose path changed show as stale).
    static SnapshotDiff merge(const Snapshot &shown, Snapshot *fresh);

signals:
    void modeChanged(netmap::ChangeFollower::Mode mode);
    // Something differs from the shown snapshot: show `snapshot` (evidence carried over).
    void changed(const netmap::Snapshot &snapshot, const netmap::SnapshotDiff &diff);
    // A read found nothing new.
    void unchanged();
    void refreshFailed(const QString &message);

private:
    void setMode(Mode mode);
    void onSnapshot(const Snapshot &fresh);

    std::function<Snapshot()> m_current;
    FollowOptions m_options;
    Mode m_mode = Mode::Off;
    LiveSource m_source;
    QubesdEventStream *m_events = nullptr;
    QTimer m_poll;
    bool m_refreshing = false;
    bool m_again = false; // a change was signalled while a read was running
};

} // namespace netmap
