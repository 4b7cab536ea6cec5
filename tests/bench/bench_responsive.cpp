// netmap-bench-responsive: does the UI thread stay responsive while checks hang?
//
// The diagram of a 20-qube system is shown (offscreen) while a Verifier runs every check with
// concurrency 20 against a fake qvm-run that never answers: 20 qvm-run processes hang at once.
// A QTimer probe firing every 5 ms measures how late the event loop serves it. Goal: the worst
// lateness stays under 50 ms, starting the processes included. Exit status 1 when missed.
// NETMAP_BENCH_VERBOSE=1 also prints the five latest probes and the time Verifier::start() took.

// GCC 12 warns about moving std::optional members while a std::vector<Qube> grows: a known
// false positive (-Wmaybe-uninitialized) that only shows at -O2 in this file.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "checks/verifier.h"
#include "diagram/diagramscene.h"
#include "formats/snapshotyaml.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QGraphicsView>
#include <QTemporaryDir>
#include <QTextStream>
#include <QTimer>

#include <algorithm>
#include <vector>

using namespace netmap;

namespace {

constexpr int kHanging = 20;
constexpr int kProbeMs = 5;
constexpr int kWatchMs = 3000;

[[noreturn]] void die(const QString &message)
{
    QTextStream(stderr) << "netmap-bench-responsive: " << message << Qt::endl;
    std::exit(2);
}

Snapshot system()
{
    auto loaded = loadSnapshotFile(QStringLiteral(NETMAP_TEST_DATA "/scripted-qubes/seed.yaml"));
    if (!loaded)
        die(loaded.error().toString());
    Snapshot s = std::move(loaded).value();
    s.checks.clear();
    const auto checkable = [&s] {
        return std::count_if(s.qubes.begin(), s.qubes.end(), [](const Qube &q) {
            return q.isRunning() && (q.netvm || q.providesNetwork);
        });
    };
    for (int i = 1; checkable() < kHanging; ++i) {
        Qube &q = s.qubes.emplace_back();
        q.name = *QubeName::fromUntrusted(QStringLiteral("app-%1").arg(i, 2, 10, QLatin1Char('0')));
        q.klass = QStringLiteral("AppVM");
        q.state = QStringLiteral("Running");
        q.label = QStringLiteral("green");
        q.netvm = *QubeName::fromUntrusted(QStringLiteral("sys-firewall"));
        q.ip = q.visibleIp = QStringLiteral("10.137.0.%1").arg(100 + i);
    }
    std::sort(s.qubes.begin(), s.qubes.end(),
              [](const Qube &a, const Qube &b) { return a.name < b.name; });
    return s;
}

} // namespace

int main(int argc, char **argv)
{
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    QTemporaryDir scratch;
    if (!scratch.isValid())
        die(QStringLiteral("no temporary directory"));
    const QString log = scratch.path() + QStringLiteral("/calls.log");
    qputenv("NETMAP_BENCH_QVM_HANG", "1");
    qputenv("NETMAP_BENCH_QVM_LOG", log.toLocal8Bit());

    const Snapshot snapshot = system();
    DiagramScene scene;
    scene.setSnapshot(snapshot);
    QGraphicsView view(&scene);
    view.resize(1200, 800);
    view.show();

    Verifier verifier;
    QObject::connect(&verifier, &Verifier::qubeBusy, &scene,
                     [&scene](const QString &qube, bool) { scene.highlightEgress(qube); });
    VerifyRequest request;
    request.config.concurrency = kHanging;
    request.qvmRun = QStringLiteral(NETMAP_BENCH_DIR "/fake-qvm-delay/qvm-run");

    std::vector<double> lateMs;
    std::vector<std::pair<double, double>> worstAt; // lateness, ms since the start
    QElapsedTimer sinceStart;
    double startMs = 0; // how long Verifier::start() held the UI thread
    QElapsedTimer sinceLast;
    QTimer probe;
    probe.setTimerType(Qt::PreciseTimer);
    probe.setInterval(kProbeMs);
    QObject::connect(&probe, &QTimer::timeout, [&] {
        lateMs.push_back(std::max(0.0, double(sinceLast.nsecsElapsed()) / 1e6 - kProbeMs));
        worstAt.emplace_back(lateMs.back(), double(sinceStart.nsecsElapsed()) / 1e6);
        sinceLast.start();
    });
    QTimer::singleShot(0, [&] {
        sinceLast.start();
        sinceStart.start();
        probe.start();
        QElapsedTimer startTimer;
        startTimer.start();
        const Status started = verifier.start(snapshot, request);
        startMs = double(startTimer.nsecsElapsed()) / 1e6;
        if (!started)
            die(started.error().toString());
    });
    QTimer::singleShot(kWatchMs, [&] {
        probe.stop();
        verifier.cancel();
    });
    QElapsedTimer cancelTimer;
    QObject::connect(&verifier, &Verifier::finished, &app, &QApplication::quit);
    QTimer::singleShot(kWatchMs, [&] { cancelTimer.start(); });
    app.exec();
    const double cancelMs = double(cancelTimer.nsecsElapsed()) / 1e6;

    QFile file(log);
    file.open(QIODevice::ReadOnly);
    const int hung = int(file.readAll().count("start "));
    std::sort(lateMs.begin(), lateMs.end());
    const double worst = lateMs.empty() ? 0 : lateMs.back();
    const double p99 = lateMs.empty() ? 0 : lateMs[size_t(double(lateMs.size() - 1) * 0.99)];
    const bool ok = hung == kHanging && worst < 50;
    QTextStream(stdout) << QStringLiteral("UI thread while %1 qvm-run processes hang (%2 started): "
                                          "%3 probes every %4 ms over %5 s, lateness worst %6 ms, "
                                          "p99 %7 ms (goal < 50 ms) %8; cancel took %9 ms")
                               .arg(kHanging)
                               .arg(hung)
                               .arg(lateMs.size())
                               .arg(kProbeMs)
                               .arg(kWatchMs / 1000)
                               .arg(worst, 0, 'f', 1)
                               .arg(p99, 0, 'f', 1)
                               .arg(ok ? QStringLiteral("ok") : QStringLiteral("MISSED"))
                               .arg(cancelMs, 0, 'f', 0)
                        << Qt::endl;
    if (qEnvironmentVariableIntValue("NETMAP_BENCH_VERBOSE")) {
        QTextStream(stdout) << "  Verifier::start() took " << startMs << " ms" << Qt::endl;
        std::sort(worstAt.rbegin(), worstAt.rend());
        for (size_t i = 0; i < std::min<size_t>(5, worstAt.size()); ++i)
            QTextStream(stdout) << "  late " << worstAt[i].first << " ms at " << worstAt[i].second
                                << " ms" << Qt::endl;
    }
    return ok ? 0 : 1;
}
