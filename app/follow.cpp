#include "follow.h"

#include "interrupts.h"

#include "checks/verifier.h"
#include "live/changefollower.h"
#include "model/topology.h"
#include "model/untrustedtext.h"
#include "qubes/livesource.h"
#include "qubes/qubesdevents.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QFileInfo>
#include <QHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <QSocketNotifier>
#include <QTextStream>
#include <QTimer>

#include <cstdio>

namespace netmap {

namespace {

void printLine(const QString &line)
{
    // What the source or qubesd said can carry a qube's text: one clean line, never raw.
    QTextStream(stderr) << untrustedtext::terminalLine(QStringLiteral("qubes-netmap: ") + line)
                        << Qt::endl;
}

int pollIntervalMs()
{
    bool ok = false;
    const int env = qEnvironmentVariableIntValue("NETMAP_POLL_MS", &ok);
    return ok && env > 0 ? env : 10000;
}

// Where the event stream comes from, decided as QubesdEventStream decides it.
QString eventSource()
{
    const QString socket = qubesdSocketPath();
    if (!QFileInfo::exists(socket)
        && !CommandRunner::findProgram(QStringLiteral("qrexec-client-vm")).isEmpty())
        return QStringLiteral("qrexec-client-vm dom0 admin.Events");
    return socket;
}

QJsonValue nameOrNull(const std::optional<QubeName> &name)
{
    return name ? QJsonValue(name->toString()) : QJsonValue(QJsonValue::Null);
}

class Follow : public QObject
{
public:
    Follow(Snapshot first, std::optional<VerifyRequest> request)
        : m_shown(std::move(first))
        , m_request(std::move(request))
        , m_follower([this] { return m_shown; })
    {
        connect(
            &m_follower, &ChangeFollower::changed, this,
            [this](const Snapshot &fresh, const SnapshotDiff &diff) { onChanged(fresh, diff); });
        connect(&m_follower, &ChangeFollower::refreshFailed, this,
                [](const QString &why) { printLine(QStringLiteral("warning: %1").arg(why)); });
        connect(&m_follower, &ChangeFollower::modeChanged, this, [this] { modeChanged(); });
        if (m_request) {
            connect(&m_verifier, &Verifier::resultReady, this,
                    [this](const CheckResult &r) { onResult(r); });
            connect(&m_verifier, &Verifier::finished, this, [this] { verifyPending(); });
        }
        // The mode is said once qubesd confirmed the stream, or when it did not in time.
        m_announce.setSingleShot(true);
        m_announce.setInterval(3000);
        connect(&m_announce, &QTimer::timeout, this, [this] { announce(); });
    }

    void start()
    {
        FollowOptions options;
        options.pollIntervalMs = pollIntervalMs();
        options.socketPath = qubesdSocketPath();
        m_follower.start(options);
        m_announce.start();
        if (m_request) {
            // The baseline verdicts; a change later re-runs the checks on the changed paths.
            m_pendingAll = true;
            verifyPending();
        }
    }

    void stop()
    {
        m_follower.stop();
        if (m_verifier.isRunning())
            m_verifier.cancel();
    }

private:
    void modeChanged()
    {
        if (m_follower.mode() == ChangeFollower::Mode::Events) {
            announce();
        } else if (m_announced && m_follower.mode() == ChangeFollower::Mode::Polling) {
            announce();
        }
    }

    void announce()
    {
        const auto mode = m_follower.mode();
        if (mode == ChangeFollower::Mode::Off || (m_announced && mode == m_announcedMode))
            return;
        m_announce.stop();
        m_announced = true;
        m_announcedMode = mode;
        if (mode == ChangeFollower::Mode::Events)
            printLine(QStringLiteral("following qubesd events (%1)").arg(eventSource()));
        else
            printLine(QStringLiteral("polling qvm-ls every %1 ms: the qubesd event stream at %2 "
                                     "is not available")
                          .arg(m_follower.options().pollIntervalMs)
                          .arg(qubesdSocketPath()));
    }

    void emitEvent(QJsonObject object)
    {
        QJsonObject line;
        line.insert(QStringLiteral("at"),
                    QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs));
        for (auto it = object.constBegin(); it != object.constEnd(); ++it)
            line.insert(it.key(), it.value());
        // QJsonObject sorts its keys: "at" and "event" come first in every line.
        const QByteArray out = QJsonDocument(line).toJson(QJsonDocument::Compact);
        ::fwrite(out.constData(), 1, size_t(out.size()), stdout);
        ::fputc('\n', stdout);
        if (::fflush(stdout) != 0 || ::ferror(stdout)) {
            // Nobody reads any more (a closed pipe): stop as after a signal.
            stop();
            QCoreApplication::quit();
        }
    }

    void onChanged(const Snapshot &fresh, const SnapshotDiff &diff)
    {
        const Snapshot old = m_shown;
        m_shown = fresh;
        for (const QString &name : diff.added)
            emitEvent({{QStringLiteral("event"), QStringLiteral("qube-added")},
                       {QStringLiteral("qube"), name}});
        for (const QString &name : diff.removed)
            emitEvent({{QStringLiteral("event"), QStringLiteral("qube-removed")},
                       {QStringLiteral("qube"), name}});
        for (const QString &name : diff.netvmChanged) {
            const Qube *before = old.find(name);
            const Qube *after = fresh.find(name);
            if (!before || !after)
                continue;
            emitEvent({{QStringLiteral("event"), QStringLiteral("netvm-changed")},
                       {QStringLiteral("qube"), name},
                       {QStringLiteral("from"), nameOrNull(before->netvm)},
                       {QStringLiteral("to"), nameOrNull(after->netvm)}});
        }
        for (const Qube &after : fresh.qubes) {
            const Qube *before = old.find(after.name.toString());
            if (!before || before->isRunning() == after.isRunning())
                continue;
            emitEvent({{QStringLiteral("event"),
                        after.isRunning() ? QStringLiteral("qube-started")
                                          : QStringLiteral("qube-stopped")},
                       {QStringLiteral("qube"), after.name.toString()},
                       {QStringLiteral("state"), after.state}});
        }
        if (!m_request)
            return;
        // Checks are re-run where the way out changed (a qube moved, or a qube on its path).
        const Topology before(old);
        const Topology now(fresh);
        for (const Qube &q : fresh.qubes) {
            const QString name = q.name.toString();
            if (!m_request->qubes.isEmpty() && !m_request->qubes.contains(name))
                continue;
            if (before.egressChain(name) != now.egressChain(name) || diff.added.contains(name))
                m_pending.insert(name);
        }
        verifyPending();
    }

    void verifyPending()
    {
        if (!m_request || m_verifier.isRunning())
            return;
        if (!m_pendingAll && m_pending.isEmpty())
            return;
        VerifyRequest request = *m_request;
        if (!m_pendingAll) {
            // Only the qubes the plan can run: planning an unknown or unrunnable one is an error.
            auto plan = planVerification(m_shown, *m_request);
            QSet<QString> runnable;
            if (plan)
                for (const PlannedCheck &p : *plan)
                    runnable.insert(p.qube);
            request.qubes.clear();
            for (const QString &name : std::as_const(m_pending))
                if (runnable.contains(name))
                    request.qubes.append(name);
            request.qubes.sort();
        }
        m_pending.clear();
        const bool baseline = std::exchange(m_pendingAll, false);
        if (!baseline && request.qubes.isEmpty())
            return;
        m_baseline = baseline;
        if (const Status started = m_verifier.start(m_shown, request); !started)
            printLine(
                QStringLiteral("warning: checks not run: %1").arg(started.error().toString()));
    }

    void onResult(const CheckResult &r)
    {
        const QString key = r.qube.toString() + u'\n' + checkKindId(r.check);
        const QString to = checkStatusId(r.status);
        const QString from = m_verdicts.value(key);
        m_verdicts.insert(key, to);
        m_shown.checks.push_back(r);
        if (m_baseline || from == to)
            return;
        emitEvent({{QStringLiteral("event"), QStringLiteral("verdict-changed")},
                   {QStringLiteral("qube"), r.qube.toString()},
                   {QStringLiteral("check"), checkKindId(r.check)},
                   {QStringLiteral("from"),
                    from.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(from)},
                   {QStringLiteral("to"), to}});
    }

    Snapshot m_shown;
    std::optional<VerifyRequest> m_request;
    ChangeFollower m_follower;
    Verifier m_verifier;
    QTimer m_announce;
    bool m_announced = false;
    ChangeFollower::Mode m_announcedMode = ChangeFollower::Mode::Off;
    QSet<QString> m_pending;
    bool m_pendingAll = false;
    bool m_baseline = false;
    QHash<QString, QString> m_verdicts; // "qube\ncheck" -> pass, fail, error, skipped
};

} // namespace

int runFollow(const CliOptions &options)
{
    std::optional<VerifyRequest> request;
    if (options.verify) {
        auto made = makeVerifyRequest(options);
        if (!made) {
            printLine(made.error().toString());
            return made.error().exitCode();
        }
        request = std::move(made).value();
    }
    auto first = readLiveSnapshot();
    if (!first) {
        printLine(first.error().toString());
        return ExitSource;
    }
    for (const QString &rejected : first.value().rejected)
        printLine(QStringLiteral("warning: %1").arg(rejected));

    const auto notifier = watchInterrupts();
    if (!notifier) {
        printLine(QStringLiteral("cannot set up signal handling"));
        return ExitFailed;
    }

    Follow follow(std::move(first).value(), std::move(request));
    QObject::connect(notifier.get(), &QSocketNotifier::activated, &follow, [&follow] {
        follow.stop();
        QCoreApplication::quit();
    });
    follow.start();
    QCoreApplication::exec();
    return ExitOk;
}

} // namespace netmap
