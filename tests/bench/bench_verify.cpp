// netmap-bench-verify: does verify-all keep the allowed number of checks running?
//
// 24 running networked qubes (the seed system of tests/data/scripted-qubes plus app qubes), every
// check, through the real qvm-run of the Qubes admin client against the qubesd stand-in; the
// qrexec-client stand-in runs each command in a qube played by qube-shell, which takes a fixed
// delay per call (scenario file `delay`). Runs once with the configured concurrency and once with
// concurrency 1.
//
// The real client is Python: every call costs its start-up (qvm-run, its qubesd calls and the
// qrexec-client) on top of what the qube takes. That start-up is measured alone first (qvm-run
// calls one after the other: wall time minus the time the qube took) and reported as its own
// number. During the runs a sampler thread watches the program's qvm-run child processes (every
// 10 ms in /proc): each call's lifetime as the program saw it, client included, however slow the
// client was under the machine's load. The ideal schedule is the work (the sum of those
// lifetimes) divided by the concurrency, or the longest call when that is longer (the Verifier
// makes one call per qube and no call waits for another; only verdicts wait for the baseline):
// so the scheduling figure is the program's, not hidden in the client's start-up. Goal: within
// 1.25x the ideal. Exit status 1 when the goal is missed, 77 when the real client is missing (a
// failure under CI=true).
//
//   netmap-bench-verify [--delay SECONDS] [--concurrency N]

#include "benchsystem.h"
#include "checks/verifier.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QProcess>
#include <QTemporaryDir>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <dirent.h>
#include <map>
#include <thread>
#include <unistd.h>

using namespace netmap;

namespace {

constexpr int kQubes = 24;
constexpr int kStartupRuns = 5;
const char kBench[] = "netmap-bench-verify";

QTextStream &out()
{
    static QTextStream stream(stdout);
    return stream;
}

// Which qvm-run processes are children of this process, sampled every 10 ms from a thread:
// first and last time each was seen (a call's lifetime, within the sampling step).
class ChildSampler
{
public:
    void start()
    {
        m_stop = false;
        m_thread = std::thread([this] {
            QElapsedTimer clock;
            clock.start();
            while (!m_stop) {
                scan(double(clock.nsecsElapsed()) / 1e9);
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
        });
    }
    std::vector<double> stop()
    {
        m_stop = true;
        m_thread.join();
        std::vector<double> lifetimes;
        for (const auto &[pid, seen] : m_seen)
            lifetimes.push_back(seen.second - seen.first + 0.01);
        m_seen.clear();
        return lifetimes;
    }

private:
    void scan(double now)
    {
        DIR *proc = opendir("/proc");
        if (!proc)
            return;
        const pid_t self = getpid();
        while (const dirent *entry = readdir(proc)) {
            const int pid = std::atoi(entry->d_name);
            if (pid <= 0)
                continue;
            if (const auto known = m_seen.find(pid); known != m_seen.end()) {
                if (parentOf(pid) == self)
                    known->second.second = now;
                continue;
            }
            if (parentOf(pid) == self && isQvmRun(pid))
                m_seen[pid] = {now, now};
        }
        closedir(proc);
    }
    static pid_t parentOf(int pid)
    {
        QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
        if (!stat.open(QIODevice::ReadOnly))
            return -1;
        const QByteArray line = stat.readAll();
        const qsizetype close = line.lastIndexOf(')'); // after the command name
        const QList<QByteArray> fields = line.mid(close + 2).split(' ');
        return fields.size() > 1 ? pid_t(fields[1].toInt()) : -1;
    }
    static bool isQvmRun(int pid)
    {
        QFile cmdline(QStringLiteral("/proc/%1/cmdline").arg(pid));
        return cmdline.open(QIODevice::ReadOnly) && cmdline.readAll().contains("qvm-run");
    }

    std::thread m_thread;
    std::atomic<bool> m_stop {false};
    std::map<int, std::pair<double, double>> m_seen;
};

struct Run
{
    double wallS = 0;
    double qubeS = 0; // the sum of what the qubes took
    double workS = 0; // the sum of the qvm-run lifetimes
    double longestS = 0; // the longest qvm-run lifetime
    int calls = 0; // qvm-run processes
    int qubeCalls = 0; // commands the qubes ran
    int results = 0;
};

Run verifyOnce(const Snapshot &system, int concurrency, const QString &log)
{
    QFile::remove(log);
    qputenv("NETMAP_FAKE_LOG", log.toLocal8Bit());
    VerifyRequest request; // the real qvm-run from PATH
    request.config.concurrency = concurrency;
    ChildSampler sampler;
    sampler.start();
    QElapsedTimer timer;
    timer.start();
    auto verified = verifySnapshot(system, request);
    Run run;
    run.wallS = double(timer.nsecsElapsed()) / 1e9;
    const std::vector<double> lifetimes = sampler.stop();
    if (!verified)
        bench::die(kBench, verified.error().toString());
    run.results = int(verified.value().checks.size());
    for (const double s : lifetimes) {
        ++run.calls;
        run.workS += s;
        run.longestS = std::max(run.longestS, s);
    }
    for (const bench::QubeCall &call : bench::readCalls(log)) {
        ++run.qubeCalls;
        run.qubeS += call.seconds;
    }
    if (run.calls == 0 || run.qubeCalls == 0)
        bench::die(kBench, QStringLiteral("no qube was called (see the stand-in's log)"));
    return run;
}

// The real qvm-run's own cost per call: calls one after the other, each wall time minus what
// the qube took. The median of kStartupRuns.
double clientStartup(const QString &log)
{
    std::vector<double> costs;
    for (int i = 0; i < kStartupRuns; ++i) {
        QFile::remove(log);
        qputenv("NETMAP_FAKE_LOG", log.toLocal8Bit());
        QProcess qvmRun;
        QElapsedTimer timer;
        timer.start();
        qvmRun.start(QStringLiteral("qvm-run"),
                     {QStringLiteral("--pass-io"), QStringLiteral("--no-gui"),
                      QStringLiteral("--no-autostart"), QStringLiteral("work"),
                      QStringLiteral("echo ok")});
        if (!qvmRun.waitForFinished(120000) || qvmRun.exitCode() != 0)
            bench::die(kBench,
                       QStringLiteral("the real qvm-run failed: ")
                           + QString::fromUtf8(qvmRun.readAllStandardError()));
        const double wall = double(timer.nsecsElapsed()) / 1e9;
        const std::vector<bench::QubeCall> calls = bench::readCalls(log);
        if (calls.size() != 1)
            bench::die(kBench, QStringLiteral("qube-shell logged no call"));
        costs.push_back(wall - calls.front().seconds);
    }
    std::sort(costs.begin(), costs.end());
    return costs[costs.size() / 2];
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    const QCommandLineOption delay(QStringLiteral("delay"),
                                   QStringLiteral("seconds a qube takes per call"),
                                   QStringLiteral("S"), QStringLiteral("0.5"));
    const QCommandLineOption concurrencyOption(
        QStringLiteral("concurrency"), QStringLiteral("checks at once (default: the config's)"),
        QStringLiteral("N"));
    parser.addOptions({delay, concurrencyOption});
    parser.addHelpOption();
    parser.process(app);

    QTemporaryDir scratch;
    if (!scratch.isValid())
        bench::die(kBench, QStringLiteral("no temporary directory"));
    // NETMAP_BENCH_KEEP=1 keeps the scratch folder (qube-shell's log of the last run, the
    // stand-in's log) and says where it is.
    if (qEnvironmentVariableIntValue("NETMAP_BENCH_KEEP")) {
        scratch.setAutoRemove(false);
        out() << "scratch kept in " << scratch.path() << Qt::endl;
    }
    const bench::BenchSystem system = bench::benchSystem(kQubes, kBench);
    test::RealQubes qubes;
    if (!bench::startRealQubes(qubes, system, scratch.path(), kBench))
        return 77;
    bench::useScenario(scratch.path() + QStringLiteral("/scenario"), QStringLiteral("delay"),
                       parser.value(delay).toLatin1() + '\n', kBench);
    const QString log = scratch.path() + QStringLiteral("/calls.log");

    const int concurrency = parser.isSet(concurrencyOption)
        ? parser.value(concurrencyOption).toInt()
        : CheckConfig::defaults().concurrency;
    auto planned = planVerification(system.snapshot, VerifyRequest {});
    if (!planned)
        bench::die(kBench, planned.error().toString());

    const double startup = clientStartup(log);
    const Run concurrent = verifyOnce(system.snapshot, concurrency, log + QStringLiteral(".many"));
    const Run sequential = verifyOnce(system.snapshot, 1, log + QStringLiteral(".one"));
    const double ideal = std::max(concurrent.workS / concurrency, concurrent.longestS);
    const double ratio = concurrent.wallS / ideal;
    out() << "Verify all: " << kQubes << " qubes, " << planned.value().size()
          << " planned checks, the real qvm-run (Qubes " << test::RealQubes::release()
          << " client), each qube +" << parser.value(delay) << " s a call" << Qt::endl;
    out() << QStringLiteral("  the real client's start-up: %1 s a call (qvm-run, its qubesd calls "
                            "and qrexec-client; median of %2, one at a time)")
                 .arg(startup, 0, 'f', 2)
                 .arg(kStartupRuns)
          << Qt::endl;
    out() << QStringLiteral("  concurrency %1: %2 s wall, %3 qvm-run calls, work %4 s (the calls' "
                            "lifetimes; of it the qubes took %5 s, the client the rest), ideal "
                            "%6 s -> %7x the ideal (goal <= 1.25) %8")
                 .arg(concurrency)
                 .arg(concurrent.wallS, 0, 'f', 2)
                 .arg(concurrent.calls)
                 .arg(concurrent.workS, 0, 'f', 2)
                 .arg(concurrent.qubeS, 0, 'f', 2)
                 .arg(ideal, 0, 'f', 2)
                 .arg(ratio, 0, 'f', 2)
                 .arg(ratio <= 1.25 ? QStringLiteral("ok") : QStringLiteral("MISSED"))
          << Qt::endl;
    out() << QStringLiteral("  concurrency 1: %1 s wall, %2 qvm-run calls; sequential / concurrent "
                            "= %3x")
                 .arg(sequential.wallS, 0, 'f', 2)
                 .arg(sequential.calls)
                 .arg(sequential.wallS / concurrent.wallS, 0, 'f', 2)
          << Qt::endl;
    out() << QStringLiteral("  %1 results from %2 qvm-run calls (one per qube and user: the checks "
                            "of a qube share one call)")
                 .arg(concurrent.results)
                 .arg(concurrent.calls)
          << Qt::endl;
    return ratio <= 1.25 ? 0 : 1;
}
