// CommandRunner: argument lists, closed stdin, caps, watchdog, exactly one finished() per start.

#include "peakmemory.h"
#include "qubes/commandrunner.h"
#include "sanitizer.h"
#include "skips.h"

#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <sys/types.h>

using namespace netmap;
using Outcome = CommandOutput::Outcome;

Q_DECLARE_METATYPE(netmap::CommandOutput::Outcome)

namespace {

CommandSpec spec(const QString &program, const QStringList &arguments = {}, int timeoutMs = 10000)
{
    CommandSpec s;
    s.program = program;
    s.arguments = arguments;
    s.timeoutMs = timeoutMs;
    return s;
}

// Runs one command asynchronously and returns its output; fails the test on a missing signal.
CommandOutput runOne(const CommandSpec &s, int *signalCount = nullptr)
{
    CommandRunner runner;
    QSignalSpy spy(&runner, &CommandRunner::finished);
    const CommandRunner::Id id = runner.start(s);
    if (!spy.wait(20000) && spy.isEmpty())
        return {};
    QTest::qWait(100); // a second signal would show up here
    if (signalCount)
        *signalCount = int(spy.size());
    const auto args = spy.first();
    if (args.at(0).value<CommandRunner::Id>() != id)
        return {};
    return args.at(1).value<CommandOutput>();
}

// Alive and not a zombie (an orphan may wait for a reaper that never comes in a container).
bool alive(pid_t pid)
{
    QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!stat.open(QIODevice::ReadOnly))
        return false;
    const QByteArray text = stat.readAll();
    const qsizetype close = text.lastIndexOf(')');
    return close > 0 && close + 2 < text.size() && text.at(close + 2) != 'Z';
}

pid_t readPid(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return 0;
    return pid_t(file.readAll().trimmed().toInt());
}

} // namespace

class tst_CommandRunner : public QObject
{
    Q_OBJECT

private slots:
    void exitCodes_data();
    void exitCodes();
    void argumentsAreNotAShell();
    void separateChannels();
    void stdinIsClosed();
    void localeIsC();
    void timeoutTerminates();
    void timeoutKillsWhenTermIgnored();
    void stdoutCapStopsProcess();
    void hugeStdoutStaysBounded();
    void hugeStderrStaysBounded();
    void missingProgram_data();
    void missingProgram();
    void finishedExactlyOnce_data();
    void finishedExactlyOnce();
    void cancel();
    void cancelAll();
    void destructorKillsChildren();
    void groupEnds_data();
    void groupEnds();
    void interruptFirst();
    void streamChunks();
    void noWatchdog();
    void runBlocking();
    void findProgram();
    void errorLine_data();
    void errorLine();
    void display_data();
    void display();
    void streamLines_data();
    void streamLines();
    void streamDeliversWhileRunning();
    void streamTotalCap();
    void streamCancelFromLine();
};

void tst_CommandRunner::exitCodes_data()
{
    QTest::addColumn<QString>("program");
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<int>("exitCode");
    QTest::newRow("true") << QStringLiteral("true") << QStringList() << 0;
    QTest::newRow("false") << QStringLiteral("false") << QStringList() << 1;
    QTest::newRow("exit 3") << QStringLiteral("sh")
                            << QStringList {QStringLiteral("-c"), QStringLiteral("exit 3")} << 3;
    QTest::newRow("exit 255") << QStringLiteral("sh")
                              << QStringList {QStringLiteral("-c"), QStringLiteral("exit 255")}
                              << 255;
}

void tst_CommandRunner::exitCodes()
{
    QFETCH(QString, program);
    QFETCH(QStringList, arguments);
    QFETCH(int, exitCode);
    const CommandOutput out = runOne(spec(program, arguments));
    QCOMPARE(out.outcome, Outcome::Finished);
    QCOMPARE(out.exitCode, exitCode);
    QCOMPARE(out.finishedOk(), exitCode == 0);
    QCOMPARE(out.describe(), QStringLiteral("exited with %1").arg(exitCode));
}

void tst_CommandRunner::argumentsAreNotAShell()
{
    const QStringList arguments
        = {QStringLiteral("$HOME"), QStringLiteral("a;b"), QStringLiteral("*"),
           QStringLiteral("`id`"), QStringLiteral("two words")};
    const CommandOutput out = runOne(spec(QStringLiteral("echo"), arguments));
    QCOMPARE(out.outcome, Outcome::Finished);
    QCOMPARE(out.stdoutData, QByteArray("$HOME a;b * `id` two words\n"));
}

void tst_CommandRunner::separateChannels()
{
    const CommandOutput out
        = runOne(spec(QStringLiteral("sh"),
                      {QStringLiteral("-c"), QStringLiteral("echo out; echo err >&2; exit 4")}));
    QCOMPARE(out.outcome, Outcome::Finished);
    QCOMPARE(out.exitCode, 4);
    QCOMPARE(out.stdoutData, QByteArray("out\n"));
    QCOMPARE(out.stderrData, QByteArray("err\n"));
    QVERIFY(!out.stdoutTruncated);
    QVERIFY(!out.stderrTruncated);
}

void tst_CommandRunner::stdinIsClosed()
{
    // cat waits for stdin: it must see end of file at once, long before the watchdog.
    const CommandOutput out = runOne(spec(QStringLiteral("cat"), {}, 10000));
    QCOMPARE(out.outcome, Outcome::Finished);
    QCOMPARE(out.exitCode, 0);
    QVERIFY(out.stdoutData.isEmpty());
    QVERIFY2(out.elapsedMs < 5000, qPrintable(QString::number(out.elapsedMs)));
}

void tst_CommandRunner::localeIsC()
{
    qputenv("LANGUAGE", "de_DE");
    qputenv("LC_ALL", "de_DE.UTF-8");
    const CommandOutput out = runOne(spec(QStringLiteral("env")));
    qunsetenv("LANGUAGE");
    qunsetenv("LC_ALL");
    QCOMPARE(out.outcome, Outcome::Finished);
    const QList<QByteArray> lines = out.stdoutData.split('\n');
    QVERIFY(lines.contains("LC_ALL=C"));
    QVERIFY(lines.contains("LANG=C"));
    for (const QByteArray &line : lines)
        QVERIFY(!line.startsWith("LANGUAGE="));
}

void tst_CommandRunner::timeoutTerminates()
{
    const CommandOutput out = runOne(spec(QStringLiteral("sleep"), {QStringLiteral("30")}, 300));
    QCOMPARE(out.outcome, Outcome::TimedOut);
    QVERIFY(!out.finishedOk());
    QCOMPARE(out.describe(), QStringLiteral("timed out after 300 ms"));
    QVERIFY2(out.elapsedMs >= 300 && out.elapsedMs < 2000,
             qPrintable(QString::number(out.elapsedMs)));
}

void tst_CommandRunner::timeoutKillsWhenTermIgnored()
{
    const CommandOutput out = runOne(
        spec(QStringLiteral("sh"),
             {QStringLiteral("-c"), QStringLiteral("trap '' INT TERM; exec sleep 30")}, 300));
    QCOMPARE(out.outcome, Outcome::TimedOut);
    // SIGINT at 300 ms and SIGTERM 1 s later are ignored; SIGKILL follows 2 s after that
    // (coarse timers: a few per cent early).
    QVERIFY2(out.elapsedMs >= 3000 && out.elapsedMs < 7000,
             qPrintable(QString::number(out.elapsedMs)));
}

void tst_CommandRunner::stdoutCapStopsProcess()
{
    CommandSpec s = spec(QStringLiteral("yes"));
    s.stdoutCap = 1001;
    const CommandOutput out = runOne(s);
    QCOMPARE(out.outcome, Outcome::OutputCapped);
    QVERIFY(out.stdoutTruncated);
    QCOMPARE(out.stdoutData.size(), 1001);
    QCOMPARE(out.stdoutData.left(1000), QByteArray("y\n").repeated(500));
    QVERIFY(out.describe().contains(QLatin1String("1001")));
}

void tst_CommandRunner::hugeStdoutStaysBounded()
{
    QVERIFY2(test::resetPeak(), "cannot reset the peak resident size (/proc/self/clear_refs)");
    const qint64 before = test::peakKiB();
    CommandSpec s
        = spec(QStringLiteral("head"),
               {QStringLiteral("-c"), QStringLiteral("60000000"), QStringLiteral("/dev/zero")});
    s.stdoutCap = 1 << 20;
    const CommandOutput out = runOne(s);
    QCOMPARE(out.outcome, Outcome::OutputCapped);
    QCOMPARE(out.stdoutData.size(), 1 << 20);
    const qint64 after = test::peakKiB();
    if (before < 0 || after < 0)
        NETMAP_SKIP("no /proc/self/status to measure memory");
    QVERIFY2(!kMeasuresMemory || after - before < 24 * 1024,
             qPrintable(QStringLiteral("grew by %1 KiB").arg(after - before)));
}

void tst_CommandRunner::hugeStderrStaysBounded()
{
    QVERIFY2(test::resetPeak(), "cannot reset the peak resident size (/proc/self/clear_refs)");
    const qint64 before = test::peakKiB();
    CommandSpec s
        = spec(QStringLiteral("sh"),
               {QStringLiteral("-c"), QStringLiteral("head -c 60000000 /dev/zero >&2; echo done")});
    s.stderrCap = 4096;
    const CommandOutput out = runOne(s);
    // A chatty stderr is cut, not fatal: the process runs to its end.
    QCOMPARE(out.outcome, Outcome::Finished);
    QCOMPARE(out.exitCode, 0);
    QCOMPARE(out.stdoutData, QByteArray("done\n"));
    QVERIFY(out.stderrTruncated);
    QCOMPARE(out.stderrData, QByteArray(4096, '\0'));
    const qint64 after = test::peakKiB();
    if (before < 0 || after < 0)
        NETMAP_SKIP("no /proc/self/status to measure memory");
    QVERIFY2(!kMeasuresMemory || after - before < 24 * 1024,
             qPrintable(QStringLiteral("grew by %1 KiB").arg(after - before)));
}

void tst_CommandRunner::missingProgram_data()
{
    QTest::addColumn<QString>("program");
    QTest::newRow("not on PATH") << QStringLiteral("qubes-netmap-no-such-program");
    QTest::newRow("absolute, missing") << QStringLiteral("/nonexistent/qvm-ls");
    QTest::newRow("relative path") << QStringLiteral("./qvm-ls");
    QTest::newRow("not executable") << QStringLiteral(NETMAP_TEST_DATA "/qvm-ls/good-qubes43.txt");
    QTest::newRow("empty") << QString();
}

void tst_CommandRunner::missingProgram()
{
    QFETCH(QString, program);
    CommandRunner runner;
    QSignalSpy spy(&runner, &CommandRunner::finished);
    runner.start(spec(program));
    QCOMPARE(spy.size(), 0); // queued: a caller may still connect after start()
    QVERIFY(spy.wait(5000));
    QTest::qWait(50);
    QCOMPARE(spy.size(), 1);
    const auto out = spy.first().at(1).value<CommandOutput>();
    QCOMPARE(out.outcome, Outcome::FailedToStart);
    QVERIFY(out.describe().startsWith(QLatin1String("could not start")));
    QCOMPARE(runner.runningCount(), 0);
}

void tst_CommandRunner::finishedExactlyOnce_data()
{
    QTest::addColumn<QString>("program");
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<int>("timeoutMs");
    QTest::addColumn<Outcome>("outcome");
    QTest::newRow("finished") << QStringLiteral("true") << QStringList() << 5000
                              << Outcome::Finished;
    QTest::newRow("failed to start") << QStringLiteral("qubes-netmap-no-such-program")
                                     << QStringList() << 5000 << Outcome::FailedToStart;
    QTest::newRow("timed out") << QStringLiteral("sleep") << QStringList {QStringLiteral("30")}
                               << 200 << Outcome::TimedOut;
    QTest::newRow("capped") << QStringLiteral("yes") << QStringList() << 5000
                            << Outcome::OutputCapped;
    QTest::newRow("crashed") << QStringLiteral("sh")
                             << QStringList {QStringLiteral("-c"), QStringLiteral("kill -SEGV $$")}
                             << 5000 << Outcome::Crashed;
}

void tst_CommandRunner::finishedExactlyOnce()
{
    QFETCH(QString, program);
    QFETCH(QStringList, arguments);
    QFETCH(int, timeoutMs);
    QFETCH(Outcome, outcome);
    int signalCount = 0;
    CommandSpec s = spec(program, arguments, timeoutMs);
    s.stdoutCap = 4096;
    const CommandOutput out = runOne(s, &signalCount);
    QCOMPARE(out.outcome, outcome);
    QCOMPARE(signalCount, 1);
}

void tst_CommandRunner::cancel()
{
    CommandRunner runner;
    QSignalSpy spy(&runner, &CommandRunner::finished);
    const auto id = runner.start(spec(QStringLiteral("sleep"), {QStringLiteral("30")}));
    QCOMPARE(runner.runningCount(), 1);
    runner.cancel(id);
    runner.cancel(id); // twice is harmless
    QVERIFY(spy.wait(5000));
    QTest::qWait(100);
    QCOMPARE(spy.size(), 1);
    const auto out = spy.first().at(1).value<CommandOutput>();
    QCOMPARE(out.outcome, Outcome::Cancelled);
    QVERIFY(out.elapsedMs < 3000);
    QCOMPARE(runner.runningCount(), 0);
    runner.cancel(id); // after the end: nothing happens
    runner.cancel(12345); // unknown id
    QTest::qWait(50);
    QCOMPARE(spy.size(), 1);
}

void tst_CommandRunner::cancelAll()
{
    CommandRunner runner;
    QSignalSpy spy(&runner, &CommandRunner::finished);
    QSet<CommandRunner::Id> ids;
    for (int i = 0; i < 3; ++i)
        ids.insert(runner.start(spec(QStringLiteral("sleep"), {QStringLiteral("30")})));
    QCOMPARE(ids.size(), 3);
    QCOMPARE(runner.runningCount(), 3);
    runner.cancelAll();
    QTRY_COMPARE_WITH_TIMEOUT(spy.size(), 3, 5000);
    for (const auto &args : spy) {
        QVERIFY(ids.remove(args.at(0).value<CommandRunner::Id>()));
        QCOMPARE(args.at(1).value<CommandOutput>().outcome, Outcome::Cancelled);
    }
    QCOMPARE(runner.runningCount(), 0);
}

void tst_CommandRunner::destructorKillsChildren()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString pidFile = dir.filePath(QStringLiteral("pid"));
    auto *runner = new CommandRunner;
    runner->start(
        spec(QStringLiteral("sh"),
             {QStringLiteral("-c"), QStringLiteral("echo $$ > \"$0\"; exec sleep 30"), pidFile}));
    QTRY_VERIFY_WITH_TIMEOUT(QFile(pidFile).size() > 0, 5000);
    QFile file(pidFile);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const pid_t pid = file.readAll().trimmed().toInt();
    QVERIFY(pid > 0);
    QCOMPARE(::kill(pid, 0), 0); // running
    delete runner;
    QCOMPARE(::kill(pid, 0), -1); // killed and reaped
}

void tst_CommandRunner::groupEnds_data()
{
    QTest::addColumn<QString>("how");
    QTest::newRow("cancel") << QStringLiteral("cancel");
    QTest::newRow("timeout") << QStringLiteral("timeout");
    QTest::newRow("destructor") << QStringLiteral("destructor");
}

// Like qvm-run and its qrexec-client: the command leaves a child behind. Stopping the command
// ends the child too (its own process group is stopped, not only the leader).
void tst_CommandRunner::groupEnds()
{
    QFETCH(QString, how);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString pidFile = dir.filePath(QStringLiteral("child"));
    auto *runner = new CommandRunner;
    QSignalSpy spy(runner, &CommandRunner::finished);
    const auto id = runner->start(
        spec(QStringLiteral("sh"),
             {QStringLiteral("-c"), QStringLiteral("sleep 30 & echo $! > \"$0\"; wait"), pidFile},
             how == QLatin1String("timeout") ? 500 : 20000));
    QTRY_VERIFY_WITH_TIMEOUT(readPid(pidFile) > 0, 5000);
    const pid_t child = readPid(pidFile);
    QVERIFY(alive(child));
    if (how == QLatin1String("cancel"))
        runner->cancel(id);
    if (how == QLatin1String("destructor")) {
        delete runner;
        runner = nullptr;
    } else {
        QVERIFY(spy.wait(10000));
    }
    QTRY_VERIFY_WITH_TIMEOUT(!alive(child), 5000);
    delete runner;
}

// SIGINT comes first: qvm-run forwards it to qrexec-client, which ends the command in the qube.
void tst_CommandRunner::interruptFirst()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString mark = dir.filePath(QStringLiteral("signal"));
    CommandRunner runner;
    QSignalSpy spy(&runner, &CommandRunner::finished);
    const auto id = runner.start(
        spec(QStringLiteral("sh"),
             {QStringLiteral("-c"),
              QStringLiteral("trap 'echo INT > \"$0\"; exit 130' INT; trap 'echo TERM > \"$0\"; "
                             "exit 143' TERM; echo ready > \"$0\"; sleep 30 & wait"),
              mark}));
    QTRY_VERIFY_WITH_TIMEOUT(QFile(mark).size() > 0, 5000);
    runner.cancel(id);
    QVERIFY(spy.wait(5000));
    QFile file(mark);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll().trimmed(), QByteArray("INT"));
    QCOMPARE(spy.first().at(1).value<CommandOutput>().outcome, Outcome::Cancelled);
}

void tst_CommandRunner::streamChunks()
{
    CommandRunner runner;
    QSignalSpy chunks(&runner, &CommandRunner::chunkReady);
    QSignalSpy finished(&runner, &CommandRunner::finished);
    CommandSpec s = spec(QStringLiteral("printf"), {QStringLiteral("a\\0b\\0c")});
    s.streamChunks = true;
    s.stdoutCap = 4;
    runner.start(s);
    QVERIFY(finished.wait(5000));
    QByteArray all;
    for (const auto &args : chunks)
        all += args.at(1).toByteArray();
    QCOMPARE(all, QByteArray("a\0b\0", 4)); // the cap bounds what is streamed
    const auto out = finished.first().at(1).value<CommandOutput>();
    QVERIFY(out.stdoutData.isEmpty());
    QCOMPARE(out.outcome, Outcome::OutputCapped);
}

void tst_CommandRunner::noWatchdog()
{
    const CommandOutput out = runOne(
        spec(QStringLiteral("sh"), {QStringLiteral("-c"), QStringLiteral("sleep 0.3")}, -1));
    QCOMPARE(out.outcome, Outcome::Finished);
    QCOMPARE(out.exitCode, 0);
}

void tst_CommandRunner::runBlocking()
{
    const CommandOutput out
        = CommandRunner::runBlocking(spec(QStringLiteral("echo"), {QStringLiteral("hello")}));
    QCOMPARE(out.outcome, Outcome::Finished);
    QCOMPARE(out.stdoutData, QByteArray("hello\n"));
    const CommandOutput missing
        = CommandRunner::runBlocking(spec(QStringLiteral("qubes-netmap-no-such-program")));
    QCOMPARE(missing.outcome, Outcome::FailedToStart);
    const CommandOutput slow
        = CommandRunner::runBlocking(spec(QStringLiteral("sleep"), {QStringLiteral("30")}, 200));
    QCOMPARE(slow.outcome, Outcome::TimedOut);
}

void tst_CommandRunner::findProgram()
{
    const QString sh = CommandRunner::findProgram(QStringLiteral("sh"));
    QVERIFY(sh.startsWith(u'/'));
    QCOMPARE(CommandRunner::findProgram(sh), sh);
    QVERIFY(CommandRunner::findProgram(QStringLiteral("qubes-netmap-no-such-program")).isEmpty());
    QVERIFY(CommandRunner::findProgram(QStringLiteral("bin/sh")).isEmpty());
    QVERIFY(CommandRunner::findProgram(QString()).isEmpty());

    // Only the folders of PATH are searched: an executable qvm-ls in a private folder.
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString tool = dir.filePath(QStringLiteral("qvm-ls"));
    QFile f(tool);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("#!/bin/sh\n");
    f.close();
    QVERIFY(f.setPermissions(QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner));
    const QByteArray oldPath = qgetenv("PATH");
    qputenv("PATH", dir.path().toLocal8Bit());
    const QString found = CommandRunner::findProgram(QStringLiteral("qvm-ls"));
    QVERIFY(CommandRunner::findProgram(QStringLiteral("sh")).isEmpty());
    qputenv("PATH", oldPath);
    QCOMPARE(found, tool);
}

void tst_CommandRunner::errorLine_data()
{
    QTest::addColumn<QByteArray>("stderrData");
    QTest::addColumn<QString>("expected");
    QTest::newRow("first line") << QByteArray("\n  qvm-ls: error: no\nmore\n")
                                << QStringLiteral("qvm-ls: error: no");
    QTest::newRow("nothing") << QByteArray(" \n\n") << QString();
    QTest::newRow("control characters")
        << QByteArray("a\x1b[31mb\xc3\xa9\n") << QStringLiteral("a?[31mb??");
    // What the real qvm-ls prints when qubesd answers an error (tests/qubes).
    QTest::newRow("traceback") << QByteArray(
        "Traceback (most recent call last):\n  File \"x.py\", line 1, in <module>\n"
        "    main()\nqubesadmin.exc.QubesException: Got \x1b[31mred\n\n")
                               << QStringLiteral("qubesadmin.exc.QubesException: Got ?[31mred");
    // What the real qvm-firewall prints for a qube that does not exist.
    QTest::newRow("usage") << QByteArray("usage: qvm-firewall [--verbose] [--quiet] [--help]\n"
                                         "                    VMNAME {add,del,list,reset} ...\n"
                                         "qvm-firewall: error: no such domain: 'work'\n")
                           << QStringLiteral("qvm-firewall: error: no such domain: 'work'");
    QTest::newRow("cut") << QByteArray(200, 'x') << QString(160, u'x') + QStringLiteral("...");
}

void tst_CommandRunner::errorLine()
{
    QFETCH(QByteArray, stderrData);
    QFETCH(QString, expected);
    CommandOutput output;
    output.stderrData = stderrData;
    QCOMPARE(output.firstErrorLine(), expected);
}

void tst_CommandRunner::display_data()
{
    QTest::addColumn<QString>("program");
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("expected");
    QTest::newRow("plain") << QStringLiteral("qvm-ls")
                           << QStringList {QStringLiteral("--raw-data"),
                                           QStringLiteral("--fields=name,class")}
                           << QStringLiteral("qvm-ls --raw-data --fields=name,class");
    QTest::newRow("spaces") << QStringLiteral("qvm-run")
                            << QStringList {QStringLiteral("work"), QStringLiteral("echo hi")}
                            << QStringLiteral("qvm-run work 'echo hi'");
    QTest::newRow("quote") << QStringLiteral("echo") << QStringList {QStringLiteral("it's")}
                           << QStringLiteral("echo 'it'\\''s'");
    QTest::newRow("empty") << QStringLiteral("echo") << QStringList {QString()}
                           << QStringLiteral("echo ''");
    QTest::newRow("control") << QStringLiteral("echo") << QStringList {QStringLiteral("a\rb\x1b")}
                             << QStringLiteral("echo 'a?b?'");
    QTest::newRow("script") << QStringLiteral("qvm-run")
                            << QStringList {QStringLiteral("work"),
                                            QStringLiteral("set -u\n\tcurl -m 5 x\n")}
                            << QStringLiteral("qvm-run work 'set -u\n\tcurl -m 5 x\n'");
}

void tst_CommandRunner::display()
{
    QFETCH(QString, program);
    QFETCH(QStringList, arguments);
    QFETCH(QString, expected);
    QCOMPARE(spec(program, arguments).display(), expected);
}

namespace {

struct StreamRun
{
    QList<QByteArray> lines;
    CommandOutput output;
    int linesBeforeFinished = -1;
};

StreamRun streamOne(const CommandSpec &s)
{
    StreamRun run;
    CommandRunner runner;
    QObject::connect(&runner, &CommandRunner::lineReady, &runner,
                     [&run](CommandRunner::Id, const QByteArray &line) { run.lines << line; });
    QSignalSpy spy(&runner, &CommandRunner::finished);
    QObject::connect(&runner, &CommandRunner::finished, &runner,
                     [&run](CommandRunner::Id, const CommandOutput &output) {
                         run.linesBeforeFinished = int(run.lines.size());
                         run.output = output;
                     });
    runner.start(s);
    spy.wait(20000);
    QTest::qWait(50);
    return run;
}

} // namespace

void tst_CommandRunner::streamLines_data()
{
    QTest::addColumn<QString>("script");
    QTest::addColumn<int>("maxLine");
    QTest::addColumn<QList<QByteArray>>("lines");
    QTest::addColumn<int>("dropped");
    using L = QList<QByteArray>;
    QTest::newRow("plain") << "printf 'a\\nb\\n'" << 100 << L {"a", "b"} << 0;
    QTest::newRow("crlf and no final newline") << "printf 'a\\r\\nb'" << 100 << L {"a", "b"} << 0;
    QTest::newRow("empty lines kept") << "printf '\\n\\nx\\n'" << 100 << L {"", "", "x"} << 0;
    QTest::newRow("over-long line dropped whole")
        << "head -c 5000 /dev/zero | tr '\\0' x; printf '\\nok\\n'" << 100 << L {"ok"} << 1;
    QTest::newRow("exactly the cap") << "printf '0123456789\\n'" << 10 << L {"0123456789"} << 0;
    QTest::newRow("one over the cap") << "printf '0123456789A\\nz\\n'" << 10 << L {"z"} << 1;
    QTest::newRow("unfinished over-long line")
        << "printf 'ok\\n'; head -c 300 /dev/zero | tr '\\0' x" << 100 << L {"ok"} << 1;
}

void tst_CommandRunner::streamLines()
{
    QFETCH(QString, script);
    QFETCH(int, maxLine);
    QFETCH(QList<QByteArray>, lines);
    QFETCH(int, dropped);
    CommandSpec s = spec(QStringLiteral("sh"), {QStringLiteral("-c"), script});
    s.streamLines = true;
    s.maxLineBytes = maxLine;
    const StreamRun run = streamOne(s);
    QCOMPARE(run.output.outcome, Outcome::Finished);
    QCOMPARE(run.lines, lines);
    QCOMPARE(run.linesBeforeFinished, int(lines.size())); // every line before finished()
    QCOMPARE(run.output.linesDropped, qint64(dropped));
    QVERIFY(run.output.stdoutData.isEmpty()); // streamed, not kept
}

void tst_CommandRunner::streamDeliversWhileRunning()
{
    CommandRunner runner;
    QList<QByteArray> lines;
    connect(&runner, &CommandRunner::lineReady, this,
            [&lines](CommandRunner::Id, const QByteArray &line) { lines << line; });
    QSignalSpy finished(&runner, &CommandRunner::finished);
    CommandSpec s = spec(QStringLiteral("sh"),
                         {QStringLiteral("-c"), QStringLiteral("echo first; exec sleep 30")});
    s.streamLines = true;
    const auto id = runner.start(s);
    QTRY_COMPARE_WITH_TIMEOUT(lines.size(), 1, 5000);
    QCOMPARE(lines.first(), QByteArray("first"));
    QVERIFY(finished.isEmpty()); // still running
    runner.cancel(id);
    QVERIFY(finished.wait(5000));
    QCOMPARE(finished.first().at(1).value<CommandOutput>().outcome, Outcome::Cancelled);
}

void tst_CommandRunner::streamTotalCap()
{
    CommandSpec s = spec(QStringLiteral("yes"));
    s.streamLines = true;
    s.stdoutCap = 1000; // 500 lines of "y\n"
    const StreamRun run = streamOne(s);
    QCOMPARE(run.output.outcome, Outcome::OutputCapped);
    QVERIFY(run.output.stdoutTruncated);
    QCOMPARE(run.lines.size(), 500);
    for (const QByteArray &line : run.lines)
        QCOMPARE(line, QByteArray("y"));
}

void tst_CommandRunner::streamCancelFromLine()
{
    // A receiver that cancels on the first line gets no further lines and one finished().
    CommandRunner runner;
    int lines = 0;
    connect(&runner, &CommandRunner::lineReady, this,
            [&](CommandRunner::Id id, const QByteArray &) {
                ++lines;
                runner.cancel(id);
            });
    QSignalSpy finished(&runner, &CommandRunner::finished);
    CommandSpec s = spec(QStringLiteral("yes"));
    s.streamLines = true;
    s.stdoutCap = 1 << 30;
    runner.start(s);
    QVERIFY(finished.wait(5000));
    QTest::qWait(100);
    QCOMPARE(lines, 1);
    QCOMPARE(finished.size(), 1);
    QCOMPARE(finished.first().at(1).value<CommandOutput>().outcome, Outcome::Cancelled);
}

NETMAP_GUILESS_TEST_MAIN(tst_CommandRunner)
#include "tst_commandrunner.moc"
