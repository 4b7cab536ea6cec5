#include "changefollower.h"

namespace netmap {

ChangeFollower::ChangeFollower(std::function<Snapshot()> current, QObject *parent)
    : QObject(parent)
    , m_current(std::move(current))
{
    m_poll.setSingleShot(false);
    connect(&m_poll, &QTimer::timeout, this, &ChangeFollower::refreshNow);
    connect(&m_source, &LiveSource::snapshotReady, this, &ChangeFollower::onSnapshot);
    connect(&m_source, &LiveSource::failed, this, [this](const QString &message) {
        m_refreshing = false;
        emit refreshFailed(message);
        if (std::exchange(m_again, false))
            refreshNow();
    });
}

ChangeFollower::~ChangeFollower()
{
    stop();
}

void ChangeFollower::start(const FollowOptions &options)
{
    stop();
    m_options = options;
    m_options.pollIntervalMs = std::max(200, m_options.pollIntervalMs);
    // Poll until the event stream says it is listening.
    setMode(Mode::Polling);
    m_poll.start(m_options.pollIntervalMs);
    if (!m_options.useEvents)
        return;
    m_events = new QubesdEventStream(m_options.socketPath, this);
    connect(m_events, &QubesdEventStream::listening, this, [this] {
        m_poll.stop();
        setMode(Mode::Events);
        refreshNow(); // whatever changed before the stream was there
    });
    connect(m_events, &QubesdEventStream::mapChanged, this, &ChangeFollower::refreshNow);
    connect(m_events, &QubesdEventStream::unavailable, this, [this](const QString &) {
        if (m_mode == Mode::Events || !m_poll.isActive()) {
            setMode(Mode::Polling);
            m_poll.start(m_options.pollIntervalMs);
        }
    });
    m_events->start(m_options.reconnectMs);
}

void ChangeFollower::stop()
{
    m_poll.stop();
    if (m_events) {
        m_events->stop();
        m_events->deleteLater();
        m_events = nullptr;
    }
    setMode(Mode::Off);
}

QString ChangeFollower::description() const
{
    switch (m_mode) {
    case Mode::Off:
        return {};
    case Mode::Events:
        return QStringLiteral("following changes (qubesd events)");
    case Mode::Polling: {
        const int ms = m_options.pollIntervalMs;
        const QString every = ms % 1000 == 0 ? QStringLiteral("%1 s").arg(ms / 1000)
                                             : QStringLiteral("%1 ms").arg(ms);
        return QStringLiteral("following changes (polling every %1)").arg(every);
    }
    }
    return {};
}

void ChangeFollower::setMode(Mode mode)
{
    if (m_mode == mode)
        return;
    m_mode = mode;
    emit modeChanged(mode);
}

void ChangeFollower::refreshNow()
{
    if (m_refreshing) {
        m_again = true;
        return;
    }
    m_refreshing = true;
    m_source.refresh(m_options.live);
}

SnapshotDiff ChangeFollower::merge(const Snapshot &shown, Snapshot *fresh)
{
    const SnapshotDiff diff = diffSnapshots(shown, *fresh);
    carryEvidence(shown, fresh);
    return diff;
}

void ChangeFollower::onSnapshot(const Snapshot &read)
{
    m_refreshing = false;
    const Snapshot shown = m_current ? m_current() : Snapshot();
    Snapshot fresh = read;
    const SnapshotDiff diff = merge(shown, &fresh);
    if (diff.isEmpty() && shown.globals == fresh.globals && shown.rejected == fresh.rejected)
        emit unchanged();
    else
        emit changed(fresh, diff);
    if (std::exchange(m_again, false))
        refreshNow();
}

} // namespace netmap
