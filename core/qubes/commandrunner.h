#pragma once
// CommandRunner: the one owner of QProcess. Program + argument list, closed stdin, separate
// channels, LC_ALL=C, output caps and a watchdog. Each command runs in its own process group and
// is stopped as a group: SIGINT first (qvm-run forwards only SIGINT to its qrexec-client), then
// SIGTERM, then SIGKILL. Nothing else starts processes.

#include <QByteArray>
#include <QByteArrayView>
#include <QHash>
#include <QObject>
#include <QString>
#include <QStringList>

#include <memory>

namespace netmap {

struct CommandSpec
{
    QString program; // a name found on PATH, or an absolute path
    QStringList arguments;
    // Watchdog: at the timeout the group gets SIGINT, SIGTERM 1 s later, SIGKILL 2 s after that.
    // Negative: no watchdog (a stream that runs until it is cancelled).
    int timeoutMs = 30000;
    qint64 stdoutCap = 1 << 20; // bytes kept; more output stops the process
    qint64 stderrCap = 64 << 10;
    // Streaming: stdout is handed out line by line through CommandRunner::lineReady (without the
    // newline) instead of being kept. A line longer than maxLineBytes is dropped whole and
    // counted; stdoutCap then bounds the total bytes streamed (more stops the process).
    bool streamLines = false;
    qint64 maxLineBytes = 4096;
    // Streaming raw bytes: stdout is handed out as it arrives through CommandRunner::chunkReady
    // (for NUL-framed streams); stdoutCap then bounds the total bytes streamed.
    bool streamChunks = false;

    // "program arg1 'arg two'" for evidence and confirmations; never executed. A script keeps its
    // line breaks and tabs (inside the quotes, as a shell would read it); other control
    // characters show as '?'.
    QString display() const;
};

struct CommandOutput
{
    enum class Outcome { Finished, FailedToStart, TimedOut, Crashed, Cancelled, OutputCapped };
    Outcome outcome = Outcome::FailedToStart;
    int exitCode = -1; // meaningful when outcome == Finished
    QByteArray stdoutData; // at most stdoutCap bytes
    QByteArray stderrData; // at most stderrCap bytes
    bool stdoutTruncated = false;
    bool stderrTruncated = false;
    qint64 linesDropped = 0; // streaming: lines longer than maxLineBytes, not delivered
    QString errorString; // plain words when not Finished
    qint64 elapsedMs = 0;

    bool finishedOk() const { return outcome == Outcome::Finished && exitCode == 0; }
    // "exited with 2", "timed out after 30 s", "could not start: no such program", ...
    QString describe() const;
    // The line of stderr that says what went wrong: the first non-empty one, or the last when
    // the first opens a Python traceback or a usage message (the Qubes tools print those). As
    // printable ASCII (anything else becomes '?'), cut to maxChars with "..." - safe to show
    // in one error line.
    QString firstErrorLine(int maxChars = 160) const;
};

class CommandRunner : public QObject
{
    Q_OBJECT
public:
    using Id = quint64;

    explicit CommandRunner(QObject *parent = nullptr);
    ~CommandRunner() override; // kills whatever still runs

    // Starts asynchronously; finished(id, output) follows exactly once, also on failure to start.
    Id start(const CommandSpec &spec);
    void cancel(Id id);
    void cancelAll();
    int runningCount() const;

    // For the command-line path only: runs one command to its end in a local event loop.
    static CommandOutput runBlocking(const CommandSpec &spec);
    // The absolute path of a program on PATH, or empty.
    static QString findProgram(const QString &name);

signals:
    void finished(netmap::CommandRunner::Id id, const netmap::CommandOutput &output);
    // Streaming commands only: one complete line of stdout, before finished() for that id.
    void lineReady(netmap::CommandRunner::Id id, const QByteArray &line);
    // streamChunks commands only: bytes of stdout as they arrive, before finished().
    void chunkReady(netmap::CommandRunner::Id id, const QByteArray &bytes);

private:
    struct Job;
    void finish(Id id, CommandOutput::Outcome outcome, const QString &error = {});
    // Starts stopping the group (SIGINT, then SIGTERM and SIGKILL on the kill timer).
    void stopJob(Job *job, CommandOutput::Outcome reason, const QString &message);
    void streamChunk(Id id, QByteArrayView chunk);
    void flushPartialLine(Id id);
    QHash<Id, Job *> m_jobs;
    Id m_nextId = 1;
};

} // namespace netmap
