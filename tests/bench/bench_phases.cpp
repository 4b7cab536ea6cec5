// netmap-bench-phases: how long each step from qvm-ls output to the exported picture takes, for
// synthetic systems written by gensystem.py. Prints one line per (N, phase) with the median of
// several runs, as tab-separated values the driver (run_bench.py) reads, or a table.
//
//   netmap-bench-phases --data DIR [--sizes 10,100,1000,10000] [--runs 5] [--table]
//
// DIR/<N>/qvm-ls.txt and DIR/<N>/snapshot.yaml must exist (gensystem.py N DIR/<N>).

#include "diagram/diagramscene.h"
#include "export/diagramexport.h"
#include "formats/jsonexport.h"
#include "formats/snapshotyaml.h"
#include "io/files.h"
#include "layout/treelayout.h"
#include "model/topology.h"
#include "policy/colouring.h"
#include "policy/findings.h"
#include "qubes/qvmparsers.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QTextStream>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>
#include <map>
#include <vector>

// The fixtures hold the fields asked before is_preload (4.2 prints '-' there anyway) and the
// IPv6 fields after it.
[[maybe_unused]] static QStringList recordedFields()
{
    QStringList fields = netmap::qvmLsFields();
    for (const char *late : {"is_preload", "ip6", "visible_ip6", "gateway6"})
        fields.removeAll(QLatin1String(late));
    return fields;
}

using namespace netmap;

namespace {

QTextStream &out()
{
    static QTextStream stream(stdout);
    return stream;
}

[[noreturn]] void die(const QString &message)
{
    QTextStream(stderr) << "netmap-bench-phases: " << message << Qt::endl;
    std::exit(2);
}

// Median wall time in milliseconds of runs calls of step; prepare (untimed) runs before each.
double medianMs(int runs, const std::function<void()> &step,
                const std::function<void()> &prepare = {})
{
    std::vector<double> times;
    for (int i = 0; i < runs; ++i) {
        if (prepare)
            prepare();
        QElapsedTimer timer;
        timer.start();
        step();
        times.push_back(double(timer.nsecsElapsed()) / 1e6);
    }
    std::sort(times.begin(), times.end());
    const size_t mid = times.size() / 2;
    return times.size() % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
}

// Sink so the optimiser cannot drop a result.
std::atomic<size_t> g_sink {0};

const QStringList kPhases {
    QStringLiteral("parse"),     QStringLiteral("topology"), QStringLiteral("findings"),
    QStringLiteral("colouring"), QStringLiteral("layout"),   QStringLiteral("scene"),
    QStringLiteral("svg"),       QStringLiteral("png"),      QStringLiteral("json")};

QStringList g_only; // phases to run; empty: all

bool wanted(const char *phase)
{
    return g_only.isEmpty() || g_only.contains(QLatin1String(phase));
}

// Runs the phase when it was asked for, otherwise records -1 (not measured).
void measure(std::map<QString, double> &ms, const char *phase, int runs,
             const std::function<void()> &step, const std::function<void()> &prepare = {})
{
    ms[QLatin1String(phase)] = wanted(phase) ? medianMs(runs, step, prepare) : -1;
}

std::map<QString, double> benchOne(const QString &dir, int runs, const QString &scratch)
{
    std::map<QString, double> ms;
    auto qvmLs = readFileCapped(dir + QStringLiteral("/qvm-ls.txt"));
    if (!qvmLs)
        die(qvmLs.error().toString());

    measure(ms, "parse", runs, [&] {
        const QvmLsParse parsed = parseQvmLs(*qvmLs, recordedFields());
        if (!parsed.rejected.empty())
            die(QStringLiteral("the generated qvm-ls output has rejected rows: %1")
                    .arg(parsed.rejected.front().reason));
        g_sink += parsed.qubes.size();
    });
    // Loaded after the parse phase so the YAML reader's heap does not slow the parser's.
    auto loaded = loadSnapshotFile(dir + QStringLiteral("/snapshot.yaml"));
    if (!loaded)
        die(loaded.error().toString());
    const Snapshot snapshot = std::move(loaded).value();
    measure(ms, "topology", runs, [&] {
        const Topology topology(snapshot);
        g_sink += size_t(topology.size());
    });
    const Topology topology(snapshot);
    measure(ms, "findings", runs, [&] { g_sink += computeFindings(snapshot, topology).size(); });
    measure(ms, "colouring", runs,
            [&] { g_sink += size_t(colourPaths(snapshot, topology).links.size()); });
    // The scene gives every box one width; the layout's cost does not depend on it.
    const std::vector<QSizeF> sizes(snapshot.qubes.size(), QSizeF(200, 58));
    measure(ms, "layout", runs,
            [&] { g_sink += TreeLayout().layout(snapshot, topology, sizes).boxes.size(); });

    // The scene phase builds the window's diagram from the snapshot (its own topology,
    // colouring and layout included); the exports build their own picture from the snapshot.
    std::unique_ptr<DiagramScene> scene;
    const auto buildScene = [&] {
        scene = std::make_unique<DiagramScene>();
        scene->setSnapshot(snapshot);
        g_sink += size_t(scene->items().size());
    };
    measure(ms, "scene", runs, buildScene, [&] { scene.reset(); });
    if (!scene)
        buildScene();
    const int renderRuns = std::max(1, std::min(runs, snapshot.qubes.size() >= 5000 ? 3 : runs));
    for (const char *format : {"svg", "png"}) {
        const QString path = scratch + QStringLiteral("/out.") + QLatin1String(format);
        measure(ms, format, renderRuns, [&] {
            const Status written = exportDiagram(snapshot, path);
            if (!written)
                die(written.error().toString());
        });
    }
    measure(ms, "json", runs, [&] {
        const QByteArray json = exportJson(snapshot);
        g_sink += size_t(json.size());
    });
    return ms;
}

} // namespace

int main(int argc, char **argv)
{
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    QCommandLineParser parser;
    const QCommandLineOption data(QStringLiteral("data"), QStringLiteral("directory of systems"),
                                  QStringLiteral("DIR"));
    const QCommandLineOption sizes(QStringLiteral("sizes"), QStringLiteral("N,N,..."),
                                   QStringLiteral("LIST"), QStringLiteral("10,100,1000,10000"));
    const QCommandLineOption runs(QStringLiteral("runs"), QStringLiteral("runs per phase"),
                                  QStringLiteral("R"), QStringLiteral("5"));
    const QCommandLineOption table(QStringLiteral("table"), QStringLiteral("print a table"));
    const QCommandLineOption only(QStringLiteral("only"),
                                  QStringLiteral("phases to run (profiling)"),
                                  QStringLiteral("LIST"));
    parser.addOptions({data, sizes, runs, table, only});
    parser.addHelpOption();
    parser.process(app);
    if (!parser.isSet(data))
        die(QStringLiteral("--data DIR is required (see --help)"));
    g_only = parser.value(only).split(u',', Qt::SkipEmptyParts);
    const int runCount = std::clamp(parser.value(runs).toInt(), 1, 99);
    QTemporaryDir scratch;
    if (!scratch.isValid())
        die(QStringLiteral("no temporary directory"));

    if (parser.isSet(table)) {
        out() << QStringLiteral("%1").arg(QStringLiteral("N"), 7);
        for (const QString &phase : kPhases)
            out() << QStringLiteral("%1").arg(phase, 11);
        out() << "   (ms, median of " << runCount << ")" << Qt::endl;
    }
    for (const QString &n : parser.value(sizes).split(u',', Qt::SkipEmptyParts)) {
        const auto ms = benchOne(QDir(parser.value(data)).filePath(n), runCount, scratch.path());
        if (parser.isSet(table)) {
            out() << QStringLiteral("%1").arg(n, 7);
            for (const QString &phase : kPhases)
                out() << QStringLiteral("%1").arg(ms.at(phase), 11, 'f', 2);
            out() << Qt::endl;
        } else {
            for (const QString &phase : kPhases)
                out() << "phase\t" << n << '\t' << phase << '\t'
                      << QString::number(ms.at(phase), 'f', 3) << Qt::endl;
        }
    }
    return 0;
}
