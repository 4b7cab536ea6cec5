#include "commandrunner.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFileInfo>
#include <QPointer>
#include <QProcess>
#include <QProcessEnvironment>
#include <QStandardPaths>
#include <QTimer>

#include <algorithm>
#include <utility>

#include <csignal>
#include <sys/types.h>
#include <unistd.h>

namespace netmap {

namespace {

constexpr int interruptGraceMs = 1000; // between SIGINT and SIGTERM
constexpr int killGraceMs = 2000; // between SIGTERM and SIGKILL
constexpr qint64 readChunk = 64 << 10; // bounded reads: memory stays flat whatever the child prints

QString formatDuration(qint64 ms)
{
    if (ms >= 1000 && ms % 1000 == 0)
        return QStringLiteral("%1 s").arg(ms / 1000);
    return QStringLiteral("%1 ms").arg(ms);
}

bool isPlainShellWord(const QString &word)
{
    if (word.isEmpty())
        return false;
    for (const QChar c : word) {
        const char16_t u = c.unicode();
        const bool ok = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9')
            || u == '_' || u == '-' || u == '.' || u == '/' || u == '=' || u == ':' || u == ','
            || u == '@' || u == '%' || u == '+';
        if (!ok)
            return false;
    }
    return true;
}

QString quoteForDisplay(const QString &word)
{
    if (isPlainShellWord(word))
        return word;
    QString out;
    out.reserve(word.size() + 2);
    out += u'\'';
    for (const QChar c : word) {
        if (c == u'\'')
            out += QStringLiteral("'\\''");
        else if (c == u'\n' || c == u'\t')
            out += c; // a script keeps its lines (inside single quotes, as a shell reads it)
        else if (c.unicode() < 0x20 || c.unicode() == 0x7f)
            out += u'?'; // display only: never show other control characters
        else
            out += c;
    }
    out += u'\'';
    return out;
}

} // namespace

QString CommandSpec::display() const
{
    QStringList words;
    words.reserve(arguments.size() + 1);
    words << quoteForDisplay(program);
    for (const QString &argument : arguments)
        words << quoteForDisplay(argument);
    return words.join(u' ');
}

QString CommandOutput::describe() const
{
    switch (outcome) {
    case Outcome::Finished:
        return QStringLiteral("exited with %1").arg(exitCode);
    case Outcome::FailedToStart:
        return errorString.isEmpty() ? QStringLiteral("could not start") : errorString;
    case Outcome::TimedOut:
        return errorString.isEmpty() ? QStringLiteral("timed out") : errorString;
    case Outcome::Crashed:
        return errorString.isEmpty() ? QStringLiteral("crashed") : errorString;
    case Outcome::Cancelled:
        return QStringLiteral("was cancelled");
    case Outcome::OutputCapped:
        return errorString.isEmpty() ? QStringLiteral("printed too much output") : errorString;
    }
    return QStringLiteral("unknown outcome");
}

QString CommandOutput::firstErrorLine(int maxChars) const
{
    QList<QByteArray> lines;
    for (const QByteArray &rawLine : stderrData.split('\n')) {
        if (const QByteArray line = rawLine.trimmed(); !line.isEmpty())
            lines << line;
    }
    if (lines.isEmpty())
        return {};
    // The Qubes tools are Python: an uncaught error prints a traceback and a usage error the
    // usage first; in both the last line says what went wrong.
    const QByteArray &first = lines.first();
    const bool lastSays
        = first.startsWith("Traceback (most recent call last):") || first.startsWith("usage: ");
    const QByteArray &line = lastSays ? lines.last() : first;
    QString out;
    for (const char ch : line) {
        if (out.size() >= maxChars) {
            out += QStringLiteral("...");
            break;
        }
        const auto c = static_cast<unsigned char>(ch);
        out += (c >= 0x20 && c < 0x7f) ? QChar(char16_t(c)) : QChar(u'?');
    }
    return out;
}

struct CommandRunner::Job
{
    CommandSpec spec;
    QProcess *process = nullptr;
    QTimer watchdog;
    QTimer killTimer;
    qint64 pid = 0; // the group leader (the group's id), while it runs
    int stopStage = 0; // 0 running, 1 SIGINT sent, 2 SIGTERM sent, 3 SIGKILL sent
    QElapsedTimer clock;
    CommandOutput output;
    // Set when we decided to stop the process; the outcome reported once it has exited.
    std::optional<CommandOutput::Outcome> stopReason;
    QString stopMessage;
    // Streaming: the incomplete last line, the bytes streamed so far, and whether the rest of
    // an over-long line is being skipped.
    QByteArray partialLine;
    qint64 streamed = 0;
    bool skippingLine = false;
};

CommandRunner::CommandRunner(QObject *parent)
    : QObject(parent)
{
}

CommandRunner::~CommandRunner()
{
    const auto jobs = m_jobs;
    m_jobs.clear();
    for (Job *job : jobs) {
        if (!job->process) {
            delete job;
            continue;
        }
        job->process->disconnect(this);
        // The group: SIGINT lets qvm-run end its qrexec-client; what remains is killed.
        if (job->pid > 0)
            ::kill(-pid_t(job->pid), SIGINT);
        if (!job->process->waitForFinished(300)) {
            if (job->pid > 0)
                ::kill(-pid_t(job->pid), SIGKILL);
            job->process->kill();
            job->process->waitForFinished(1000); // reap the child; it was sent SIGKILL
        }
        if (job->pid > 0)
            ::kill(-pid_t(job->pid), SIGKILL); // stragglers of the group
        delete job->process;
        delete job;
    }
}

QString CommandRunner::findProgram(const QString &name)
{
    if (name.isEmpty())
        return {};
    if (name.contains(u'/')) {
        const QFileInfo info(name);
        if (info.isAbsolute() && info.isFile() && info.isExecutable())
            return info.absoluteFilePath();
        return {};
    }
    return QStandardPaths::findExecutable(name);
}

CommandRunner::Id CommandRunner::start(const CommandSpec &spec)
{
    const Id id = m_nextId++;
    auto *job = new Job;
    job->spec = spec;
    job->clock.start();
    m_jobs.insert(id, job);

    const QString program = findProgram(spec.program);
    if (program.isEmpty()) {
        finish(id, CommandOutput::Outcome::FailedToStart,
               QStringLiteral("could not start: %1 not found").arg(spec.program));
        return id;
    }

    auto *process = new QProcess(this);
    job->process = process;
    process->setProgram(program);
    process->setArguments(spec.arguments);
    process->setProcessChannelMode(QProcess::SeparateChannels);
    // EOF on stdin from the first moment: nothing can be forwarded to a qube.
    process->setStandardInputFile(QProcess::nullDevice());
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("LC_ALL"), QStringLiteral("C"));
    env.insert(QStringLiteral("LANG"), QStringLiteral("C"));
    env.remove(QStringLiteral("LANGUAGE"));
    process->setProcessEnvironment(env);
    // Its own process group, so that the command and everything it starts (qvm-run's
    // qrexec-client) can be stopped together. Only async-signal-safe calls here.
    process->setChildProcessModifier([] { ::setpgid(0, 0); });

    const auto drain = [this, id](QProcess::ProcessChannel channel) {
        Job *job = m_jobs.value(id);
        if (!job || !job->process)
            return;
        QProcess *p = job->process;
        const bool isStdout = channel == QProcess::StandardOutput;
        QByteArray &kept = isStdout ? job->output.stdoutData : job->output.stderrData;
        bool &truncated = isStdout ? job->output.stdoutTruncated : job->output.stderrTruncated;
        const qint64 cap
            = std::max<qint64>(0, isStdout ? job->spec.stdoutCap : job->spec.stderrCap);
        p->setReadChannel(channel);
        char buffer[readChunk];
        for (;;) {
            const qint64 n = p->read(buffer, sizeof buffer);
            if (n <= 0)
                break;
            if (isStdout && job->spec.streamChunks) {
                if (job->stopReason)
                    continue; // stopping: what still arrives is not delivered
                const qint64 room = std::max<qint64>(0, job->spec.stdoutCap) - job->streamed;
                const qint64 take = std::min(room, n);
                if (take > 0) {
                    job->streamed += take;
                    emit chunkReady(id, QByteArray(buffer, take));
                    job = m_jobs.value(id); // a receiver may have cancelled it
                    if (!job || !job->process)
                        return;
                }
                if (take < n && !job->stopReason) {
                    job->output.stdoutTruncated = true;
                    stopJob(job, CommandOutput::Outcome::OutputCapped,
                            QStringLiteral("printed more than %1 bytes").arg(job->spec.stdoutCap));
                }
                continue;
            }
            if (isStdout && job->spec.streamLines) {
                streamChunk(id, QByteArrayView(buffer, n));
                job = m_jobs.value(id);
                if (!job || !job->process)
                    return;
                continue;
            }
            const qint64 room = cap - kept.size();
            if (room > 0)
                kept.append(buffer, std::min(room, n));
            if (n > room && !truncated) {
                truncated = true;
                if (isStdout && !job->stopReason)
                    stopJob(job, CommandOutput::Outcome::OutputCapped,
                            QStringLiteral("printed more than %1 bytes").arg(cap));
            }
        }
    };
    connect(process, &QProcess::readyReadStandardOutput, this,
            [drain] { drain(QProcess::StandardOutput); });
    connect(process, &QProcess::readyReadStandardError, this,
            [drain] { drain(QProcess::StandardError); });
    connect(process, &QProcess::errorOccurred, this, [this, id](QProcess::ProcessError error) {
        Job *job = m_jobs.value(id);
        if (!job || error != QProcess::FailedToStart)
            return; // other errors are followed by finished()
        finish(id, CommandOutput::Outcome::FailedToStart,
               QStringLiteral("could not start: %1").arg(job->process->errorString()));
    });
    connect(process, &QProcess::finished, this,
            [this, id, drain](int exitCode, QProcess::ExitStatus status) {
                Job *job = m_jobs.value(id);
                if (!job)
                    return;
                drain(QProcess::StandardOutput);
                drain(QProcess::StandardError);
                job = m_jobs.value(id);
                if (!job)
                    return;
                flushPartialLine(id);
                job = m_jobs.value(id);
                if (!job)
                    return;
                job->output.exitCode = exitCode;
                if (job->stopReason)
                    finish(id, *job->stopReason, job->stopMessage);
                else if (status == QProcess::CrashExit)
                    finish(id, CommandOutput::Outcome::Crashed, QStringLiteral("crashed"));
                else
                    finish(id, CommandOutput::Outcome::Finished);
            });

    job->watchdog.setSingleShot(true);
    job->watchdog.setTimerType(Qt::PreciseTimer); // never fires before the timeout
    job->watchdog.setInterval(std::max(0, spec.timeoutMs));
    connect(&job->watchdog, &QTimer::timeout, this, [this, id] {
        Job *job = m_jobs.value(id);
        if (!job || job->stopReason)
            return;
        stopJob(job, CommandOutput::Outcome::TimedOut,
                QStringLiteral("timed out after %1").arg(formatDuration(job->spec.timeoutMs)));
    });
    job->killTimer.setSingleShot(true);
    connect(&job->killTimer, &QTimer::timeout, this, [this, id] {
        Job *job = m_jobs.value(id);
        if (!job || !job->process)
            return;
        if (job->stopStage == 1) {
            job->stopStage = 2;
            if (job->pid > 0)
                ::kill(-pid_t(job->pid), SIGTERM);
            job->process->terminate();
            job->killTimer.start(killGraceMs);
        } else {
            job->stopStage = 3;
            if (job->pid > 0)
                ::kill(-pid_t(job->pid), SIGKILL);
            job->process->kill();
        }
    });

    process->start(QIODevice::ReadOnly);
    if (m_jobs.contains(id)) { // not already failed to start
        job->pid = process->processId();
        if (job->pid > 0)
            ::setpgid(pid_t(job->pid), pid_t(job->pid)); // the child does it too; whoever is first
        if (spec.timeoutMs >= 0)
            job->watchdog.start();
    }
    return id;
}

void CommandRunner::streamChunk(Id id, QByteArrayView chunk)
{
    Job *job = m_jobs.value(id);
    if (!job)
        return;
    const qint64 cap = std::max<qint64>(0, job->spec.stdoutCap);
    const qint64 maxLine = std::max<qint64>(1, job->spec.maxLineBytes);
    const qint64 room = cap - job->streamed;
    if (room <= 0 || job->stopReason)
        return; // stopping: what still arrives is not delivered
    QByteArrayView data = chunk.first(std::min<qint64>(room, chunk.size()));
    job->streamed += data.size();
    const bool capped = data.size() < chunk.size();
    while (!data.isEmpty()) {
        const qsizetype nl = data.indexOf('\n');
        const QByteArrayView piece = nl < 0 ? data : data.first(nl);
        if (!job->skippingLine) {
            if (job->partialLine.size() + piece.size() > maxLine) {
                job->skippingLine = true; // dropped whole: a cut line could parse as another
                job->partialLine.clear();
                ++job->output.linesDropped;
            } else {
                job->partialLine.append(piece);
            }
        }
        if (nl < 0)
            break;
        data = data.sliced(nl + 1);
        if (job->skippingLine) {
            job->skippingLine = false;
            continue;
        }
        QByteArray line = std::exchange(job->partialLine, QByteArray());
        if (line.endsWith('\r'))
            line.chop(1);
        emit lineReady(id, line);
        job = m_jobs.value(id); // a receiver may have cancelled or finished it
        if (!job || job->stopReason)
            return;
    }
    if (capped && !job->stopReason) {
        job->output.stdoutTruncated = true;
        stopJob(job, CommandOutput::Outcome::OutputCapped,
                QStringLiteral("printed more than %1 bytes").arg(cap));
    }
}

void CommandRunner::flushPartialLine(Id id)
{
    Job *job = m_jobs.value(id);
    if (!job || !job->spec.streamLines || job->stopReason || job->skippingLine
        || job->partialLine.isEmpty())
        return;
    QByteArray line = std::exchange(job->partialLine, QByteArray());
    if (line.endsWith('\r'))
        line.chop(1);
    emit lineReady(id, line);
}

void CommandRunner::cancel(Id id)
{
    Job *job = m_jobs.value(id);
    if (!job || !job->process)
        return;
    if (job->stopReason == CommandOutput::Outcome::Cancelled)
        return;
    job->stopReason.reset(); // a cancel outranks a timeout or cap already under way
    job->stopStage = 0;
    stopJob(job, CommandOutput::Outcome::Cancelled, QStringLiteral("was cancelled"));
    // finished() follows from the event loop
}

void CommandRunner::stopJob(Job *job, CommandOutput::Outcome reason, const QString &message)
{
    if (job->stopReason || !job->process)
        return;
    job->stopReason = reason;
    job->stopMessage = message;
    job->stopStage = 1;
    if (job->pid <= 0 || ::kill(-pid_t(job->pid), SIGINT) != 0)
        job->process->terminate();
    job->killTimer.start(interruptGraceMs);
}

void CommandRunner::cancelAll()
{
    const auto ids = m_jobs.keys();
    for (const Id id : ids)
        cancel(id);
}

int CommandRunner::runningCount() const
{
    return int(m_jobs.size());
}

void CommandRunner::finish(Id id, CommandOutput::Outcome outcome, const QString &error)
{
    Job *job = m_jobs.take(id);
    if (!job)
        return;
    job->watchdog.stop();
    job->killTimer.stop();
    CommandOutput output = std::move(job->output);
    output.outcome = outcome;
    if (outcome != CommandOutput::Outcome::Finished) {
        output.exitCode = -1;
        output.errorString = error;
    }
    output.elapsedMs = job->clock.elapsed();
    // Stopped by us: whatever of its group outlived the leader (a qrexec-client that qvm-run
    // left behind) is ended too. The group id is not reused while a member lives.
    if (job->stopReason && job->pid > 0)
        ::kill(-pid_t(job->pid), job->stopStage >= 3 ? SIGKILL : SIGTERM);
    if (job->process) {
        job->process->disconnect(this);
        job->process->deleteLater(); // it has exited, or never started
    }
    delete job;
    // Always queued: a caller may connect after start(), and never sees a reentrant signal.
    QMetaObject::invokeMethod(
        this, [this, id, output] { emit finished(id, output); }, Qt::QueuedConnection);
}

CommandOutput CommandRunner::runBlocking(const CommandSpec &spec)
{
    Q_ASSERT(QCoreApplication::instance());
    CommandRunner runner;
    QEventLoop loop;
    CommandOutput result;
    connect(&runner, &CommandRunner::finished, &loop, [&](Id, const CommandOutput &output) {
        result = output;
        loop.quit();
    });
    runner.start(spec);
    loop.exec(QEventLoop::ExcludeUserInputEvents);
    return result;
}

} // namespace netmap
