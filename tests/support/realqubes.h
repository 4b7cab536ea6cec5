#pragma once
// Test helper: the real Qubes admin client (qvm-ls, qvm-prefs, qubes-prefs, qvm-firewall,
// qvm-run, ...) against the qubesd stand-in, on a state file the test writes and may rewrite
// (tests/qubes/README.md; tests/qubes/serve.py does the work). The release comes from
// NETMAP_QUBES_RELEASE (default 4.3); CTest runs the tests that read the system once per
// release. Without the client the test is skipped with the how-to (a failure under CI=true),
// as the other tests with the real client are.
//
//     test::RealQubes qubes;
//     NETMAP_START_REAL_QUBES(qubes, stateJson);          // QSKIP/QFAIL without the client
//     qputenv("PATH", qubes.binDir().toLocal8Bit() + ':' + path);

#include <QByteArray>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSaveFile>
#include <QString>
#include <QTemporaryDir>

#include <memory>

namespace netmap::test {

class RealQubes
{
public:
    enum class Outcome { Started, Skipped, Failed };

    ~RealQubes() { stop(); }

    static QString release()
    {
        const QString r = qEnvironmentVariable("NETMAP_QUBES_RELEASE");
        return r.isEmpty() ? QStringLiteral("4.3") : r;
    }

    // Starts the stand-in on a copy of `state` (a stand-in state, README's format) kept in a
    // private folder; `fixture` is what qrexec-client runs as the qube (`PROG QUBE USER CMD`).
    Outcome start(const QJsonObject &state, const QString &fixture = QString())
    {
        stop();
        m_dir = std::make_unique<QTemporaryDir>();
        if (!m_dir->isValid())
            return fail(QStringLiteral("no temporary folder"));
        if (!setState(state))
            return fail(QStringLiteral("cannot write the state file"));
        m_proc = std::make_unique<QProcess>();
        m_proc->setProcessChannelMode(QProcess::SeparateChannels);
        QStringList args {QStringLiteral(NETMAP_QUBES_TOOLS "/serve.py"),
                          QStringLiteral("--release"),
                          release(),
                          QStringLiteral("--state"),
                          statePath(),
                          QStringLiteral("--dir"),
                          m_dir->path()};
        if (!fixture.isEmpty())
            args << QStringLiteral("--fixture") << fixture;
        m_proc->start(QStringLiteral("python3"), args);
        if (!m_proc->waitForStarted(10000))
            return fail(QStringLiteral("python3 did not start: ") + m_proc->errorString());
        QByteArray out;
        while (!out.contains('\n')) {
            if (!m_proc->waitForReadyRead(30000))
                break;
            out += m_proc->readAllStandardOutput();
        }
        if (out.startsWith("ready "))
            return Outcome::Started;
        m_proc->waitForFinished(10000);
        const QString why = QString::fromUtf8(m_proc->readAllStandardError()).trimmed();
        const bool skipped
            = m_proc->exitStatus() == QProcess::NormalExit && m_proc->exitCode() == 77;
        m_proc.reset();
        m_problem = why.isEmpty() ? QStringLiteral("the qubesd stand-in did not start") : why;
        return skipped ? Outcome::Skipped : Outcome::Failed;
    }

    // Replaces the state atomically (the stand-in never reads half a file); the next call to
    // the stand-in sees it, and its event stream reports the change as qubesd would.
    bool setState(const QJsonObject &state)
    {
        QSaveFile f(statePath());
        if (!f.open(QIODevice::WriteOnly))
            return false;
        f.write(QJsonDocument(state).toJson(QJsonDocument::Compact));
        if (!f.commit())
            return false;
        return true;
    }
    QJsonObject state() const
    {
        QFile f(statePath());
        if (!f.open(QIODevice::ReadOnly))
            return {};
        return QJsonDocument::fromJson(f.readAll()).object();
    }

    void stop()
    {
        if (m_proc) {
            m_proc->closeWriteChannel();
            if (!m_proc->waitForFinished(10000)) {
                m_proc->kill();
                m_proc->waitForFinished();
            }
            m_proc.reset();
        }
    }

    QString statePath() const
    {
        return m_dir ? m_dir->filePath(QStringLiteral("state.json")) : QString();
    }
    QString binDir() const { return m_dir->filePath(QStringLiteral("bin")); }
    QString socketPath() const { return m_dir->filePath(QStringLiteral("qubesd.sock")); }
    QString problem() const { return m_problem; }
    QString log() const
    {
        QFile f(m_dir->filePath(QStringLiteral("qubesd.log")));
        return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
    }
    // PATH with the real tools first.
    QByteArray path(const QByteArray &rest) const { return binDir().toLocal8Bit() + ':' + rest; }

    // Reads a state file of tests/data (JSON).
    static QJsonObject load(const QString &file)
    {
        QFile f(file);
        if (!f.open(QIODevice::ReadOnly))
            return {};
        return QJsonDocument::fromJson(f.readAll()).object();
    }

private:
    Outcome fail(const QString &why)
    {
        m_problem = why;
        return Outcome::Failed;
    }
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<QProcess> m_proc;
    QString m_problem;
};

} // namespace netmap::test

// Starts `qubes` (a RealQubes) or ends the test function: skipped without the client, failed
// under CI=true or when the stand-in does not start.
#define NETMAP_START_REAL_QUBES(qubes, ...)                                                        \
    do {                                                                                           \
        switch ((qubes).start(__VA_ARGS__)) {                                                      \
        case netmap::test::RealQubes::Outcome::Started:                                            \
            break;                                                                                 \
        case netmap::test::RealQubes::Outcome::Skipped:                                            \
            QSKIP(qPrintable((qubes).problem()));                                                  \
        case netmap::test::RealQubes::Outcome::Failed:                                             \
            QFAIL(qPrintable((qubes).problem()));                                                  \
        }                                                                                          \
    } while (false)
