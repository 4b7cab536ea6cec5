// netmap-bench-verify: does verify-all keep the allowed number of checks running?
//
// 24 running networked qubes (the seed system of tests/data/scripted-qubes plus app qubes), every
// check, against a fake qvm-run that takes a fixed extra delay per call. Runs once with the
// configured concurrency and once with concurrency 1, and compares the wall time with the ideal
// schedule: the work (sum of the qvm-run call durations, as the fake logged them) divided by the
// concurrency, or the longest call when that is longer (the Verifier makes one call per qube and
// no call waits for another; only verdicts wait for the baseline). Goal: within 1.25x the ideal.
// Exit status 1 when the goal is missed.
//
//   netmap-bench-verify [--delay SECONDS] [--concurrency N]

// GCC 12 warns about moving std::optional members while a std::vector<Qube> grows: a known
// false positive (-Wmaybe-uninitialized) that only shows at -O2 in this file.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "checks/verifier.h"
#include "formats/snapshotyaml.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QHash>
#include <QTemporaryDir>
#include <QTextStream>

#include <algorithm>

using namespace netmap;

namespace {

constexpr int kQubes = 24;

QTextStream &out()
{
    static QTextStream stream(stdout);
    return stream;
}

[[noreturn]] void die(const QString &message)
{
    QTextStream(stderr) << "netmap-bench-verify: " << message << Qt::endl;
    std::exit(2);
}

// The seed system with app qubes added under sys-firewall until kQubes qubes can be checked.
Snapshot benchSystem()
{
    auto loaded = loadSnapshotFile(QStringLiteral(NETMAP_TEST_DATA "/scripted-qubes/seed.yaml"));
    if (!loaded)
        die(loaded.error().toString());
    Snapshot s = std::move(loaded).value();
    s.checks.clear();
    const Qube *firewall = s.find(u"sys-firewall");
    if (!firewall)
        die(QStringLiteral("the seed system has no sys-firewall"));
    const auto checkable = [&s] {
        return std::count_if(s.qubes.begin(), s.qubes.end(), [](const Qube &q) {
            return q.isRunning() && (q.netvm || q.providesNetwork);
        });
    };
    const QString gateway = firewall->ip;
    for (int i = 1; checkable() < kQubes; ++i) {
        Qube &q = s.qubes.emplace_back();
        q.name = *QubeName::fromUntrusted(QStringLiteral("app-%1").arg(i, 2, 10, QLatin1Char('0')));
        q.klass = QStringLiteral("AppVM");
        q.state = QStringLiteral("Running");
        q.label = QStringLiteral("blue");
        q.templ = *QubeName::fromUntrusted(QStringLiteral("debian-12-xfce"));
        q.netvm = *QubeName::fromUntrusted(QStringLiteral("sys-firewall"));
        q.ip = q.visibleIp = QStringLiteral("10.137.0.%1").arg(100 + i);
        q.gateway = q.visibleGateway = gateway;
    }
    std::sort(s.qubes.begin(), s.qubes.end(),
              [](const Qube &a, const Qube &b) { return a.name < b.name; });
    return s;
}

struct Run
{
    double wallS = 0;
    double workS = 0; // sum of the call durations
    double longestS = 0;
    int calls = 0;
    int results = 0;
};

Run verifyOnce(const Snapshot &system, int concurrency, const QString &log)
{
    QFile::remove(log);
    VerifyRequest request;
    request.config.concurrency = concurrency;
    request.qvmRun = QStringLiteral(NETMAP_BENCH_DIR "/fake-qvm-delay/qvm-run");
    QElapsedTimer timer;
    timer.start();
    auto verified = verifySnapshot(system, request);
    Run run;
    run.wallS = double(timer.nsecsElapsed()) / 1e9;
    if (!verified)
        die(verified.error().toString());
    run.results = int(verified.value().checks.size());

    QFile file(log);
    if (!file.open(QIODevice::ReadOnly))
        die(QStringLiteral("the fake qvm-run wrote no log"));
    QHash<QByteArray, qint64> started;
    for (const QByteArray &line : file.readAll().split('\n')) {
        const QList<QByteArray> cells = line.split(' ');
        if (cells.size() != 3)
            continue;
        if (cells[0] == "start") {
            started.insert(cells[1], cells[2].toLongLong());
            ++run.calls;
        } else if (cells[0] == "end" && started.contains(cells[1])) {
            const double s = double(cells[2].toLongLong() - started.value(cells[1])) / 1e9;
            run.workS += s;
            run.longestS = std::max(run.longestS, s);
        }
    }
    return run;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    const QCommandLineOption delay(QStringLiteral("delay"), QStringLiteral("seconds per call"),
                                   QStringLiteral("S"), QStringLiteral("0.5"));
    const QCommandLineOption concurrencyOption(
        QStringLiteral("concurrency"), QStringLiteral("checks at once (default: the config's)"),
        QStringLiteral("N"));
    parser.addOptions({delay, concurrencyOption});
    parser.addHelpOption();
    parser.process(app);

    QTemporaryDir scratch;
    if (!scratch.isValid())
        die(QStringLiteral("no temporary directory"));
    qputenv("NETMAP_BENCH_QVM_DELAY", parser.value(delay).toLatin1());
    qputenv("NETMAP_BENCH_QUBE_SHELL", NETMAP_TEST_DATA "/scripted-qubes/qube-shell");
    qputenv("NETMAP_FAKE_QVM", NETMAP_TEST_DATA "/scripted-qubes/seed");
    qputenv("NETMAP_FAKE_STATE", (scratch.path() + QStringLiteral("/state")).toLocal8Bit());
    const QString log = scratch.path() + QStringLiteral("/calls.log");
    qputenv("NETMAP_BENCH_QVM_LOG", log.toLocal8Bit());

    const Snapshot system = benchSystem();
    const int concurrency = parser.isSet(concurrencyOption)
        ? parser.value(concurrencyOption).toInt()
        : CheckConfig::defaults().concurrency;
    auto planned = planVerification(system, VerifyRequest {});
    if (!planned)
        die(planned.error().toString());

    const Run concurrent = verifyOnce(system, concurrency, log);
    const Run sequential = verifyOnce(system, 1, log);
    const double ideal = std::max(concurrent.workS / concurrency, concurrent.longestS);
    const double ratio = concurrent.wallS / ideal;
    out() << "Verify all: " << kQubes << " qubes, " << planned.value().size()
          << " planned checks, fake qvm-run +" << parser.value(delay) << " s a call" << Qt::endl;
    out() << QStringLiteral("  concurrency %1: %2 s wall, %3 qvm-run calls, work %4 s, ideal %5 s "
                            "-> %6x the ideal (goal <= 1.25) %7")
                 .arg(concurrency)
                 .arg(concurrent.wallS, 0, 'f', 2)
                 .arg(concurrent.calls)
                 .arg(concurrent.workS, 0, 'f', 2)
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
    out() << QStringLiteral("  %1 results from %2 qvm-run processes (one per qube: the checks of a "
                            "qube share one call)")
                 .arg(concurrent.results)
                 .arg(concurrent.calls)
          << Qt::endl;
    return ratio <= 1.25 ? 0 : 1;
}
