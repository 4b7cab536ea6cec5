#pragma once
// What the verify and responsiveness benchmarks share: the seed system of
// tests/data/scripted-qubes with app qubes added until N qubes can be checked, served to the real
// Qubes client by the qubesd stand-in (tests/support/realqubes.h), each qube played by
// scripted-qubes/qube-shell from a scenario overlay the benchmark writes (a delay per call, or a
// hang), and the qube-shell's log of every call ("start|end QUBE USER NANOSECONDS").

// GCC 12 warns about moving std::optional members while a std::vector<Qube> grows: a known
// false positive (-Wmaybe-uninitialized) that only shows at -O2 in these files.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "formats/snapshotyaml.h"
#include "realqubes.h"

#include <QDir>
#include <QFile>
#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QTextStream>

#include <algorithm>
#include <cstdlib>
#include <vector>

namespace netmap::bench {

[[noreturn]] inline void die(const char *bench, const QString &message)
{
    QTextStream(stderr) << bench << ": " << message << Qt::endl;
    std::exit(2);
}

// The seed system plus app qubes (app-01, ...) under sys-firewall until `checkable` running,
// networked qubes can be checked; and the same system as the stand-in's state.
struct BenchSystem
{
    Snapshot snapshot;
    QJsonObject state;
};

inline BenchSystem benchSystem(int checkable, const char *bench)
{
    auto loaded = loadSnapshotFile(QStringLiteral(NETMAP_TEST_DATA "/scripted-qubes/seed.yaml"));
    if (!loaded)
        die(bench, loaded.error().toString());
    BenchSystem out;
    out.state = test::RealQubes::load(QStringLiteral(NETMAP_TEST_DATA "/standin/seed.json"));
    if (out.state.isEmpty())
        die(bench, QStringLiteral("tests/data/standin/seed.json is missing"));
    Snapshot &s = out.snapshot;
    s = std::move(loaded).value();
    s.checks.clear();
    const Qube *firewall = s.find(u"sys-firewall");
    if (!firewall)
        die(bench, QStringLiteral("the seed system has no sys-firewall"));
    const QString gateway = firewall->ip;
    const auto count = [&s] {
        return std::count_if(s.qubes.begin(), s.qubes.end(), [](const Qube &q) {
            return q.isRunning() && (q.netvm || q.providesNetwork);
        });
    };
    QJsonObject qubes = out.state.value(QStringLiteral("qubes")).toObject();
    for (int i = 1; count() < checkable; ++i) {
        const QString name = QStringLiteral("app-%1").arg(i, 2, 10, QLatin1Char('0'));
        const QString ip = QStringLiteral("10.137.0.%1").arg(100 + i);
        Qube &q = s.qubes.emplace_back();
        q.name = *QubeName::fromUntrusted(name);
        q.klass = QStringLiteral("AppVM");
        q.state = QStringLiteral("Running");
        q.label = QStringLiteral("blue");
        q.templ = *QubeName::fromUntrusted(QStringLiteral("debian-12-xfce"));
        q.netvm = *QubeName::fromUntrusted(QStringLiteral("sys-firewall"));
        q.ip = q.visibleIp = ip;
        q.gateway = q.visibleGateway = gateway;
        qubes.insert(name,
                     QJsonObject {{QStringLiteral("klass"), QStringLiteral("AppVM")},
                                  {QStringLiteral("state"), QStringLiteral("Running")},
                                  {QStringLiteral("label"), QStringLiteral("blue")},
                                  {QStringLiteral("template"), QStringLiteral("debian-12-xfce")},
                                  {QStringLiteral("netvm"), QStringLiteral("sys-firewall")},
                                  {QStringLiteral("ip"), ip},
                                  {QStringLiteral("qid"), 100 + i}});
    }
    out.state.insert(QStringLiteral("qubes"), qubes);
    std::sort(s.qubes.begin(), s.qubes.end(),
              [](const Qube &a, const Qube &b) { return a.name < b.name; });
    return out;
}

// Starts the real Qubes client against the qubesd stand-in holding `system`, with qube-shell
// playing the qubes, and points this process's PATH and qube-shell's state (under `scratch`) at
// them. False where the client is missing: the bench then says SKIP and exits 77.
inline bool startRealQubes(test::RealQubes &qubes, const BenchSystem &system,
                           const QString &scratch, const char *bench)
{
    switch (
        qubes.start(system.state, QStringLiteral(NETMAP_TEST_DATA "/scripted-qubes/qube-shell"))) {
    case test::RealQubes::Outcome::Started:
        break;
    case test::RealQubes::Outcome::Skipped:
        QTextStream(stdout) << "SKIP: " << qubes.problem() << Qt::endl;
        return false;
    case test::RealQubes::Outcome::Failed:
        die(bench, qubes.problem());
    }
    qputenv("PATH", qubes.path(qgetenv("PATH")));
    qputenv("NETMAP_FAKE_STATE", (scratch + QStringLiteral("/state")).toLocal8Bit());
    return true;
}

// Writes FILE (e.g. "delay", "mode") with `content` for every qube of the overlay folder `dir`,
// and points qube-shell at the overlay over the seed scenario.
inline void useScenario(const QString &dir, const QString &file, const QByteArray &content,
                        const char *bench)
{
    if (!QDir().mkpath(dir + QStringLiteral("/_default")))
        die(bench, QStringLiteral("cannot write the scenario overlay"));
    QFile f(dir + QStringLiteral("/_default/") + file);
    if (!f.open(QIODevice::WriteOnly) || f.write(content) != content.size())
        die(bench, QStringLiteral("cannot write the scenario overlay"));
    qputenv("NETMAP_FAKE_QVM",
            (dir + QStringLiteral(":" NETMAP_TEST_DATA "/scripted-qubes/seed")).toLocal8Bit());
}

// One call as the qube saw it: from its command's start to its end (seconds).
struct QubeCall
{
    QByteArray qube;
    double seconds = 0;
};

// The calls of qube-shell's log, each start paired with the next end of the same qube and user;
// `started` counts the starts (a hanging qube never ends).
inline std::vector<QubeCall> readCalls(const QString &log, int *started = nullptr)
{
    QFile file(log);
    std::vector<QubeCall> calls;
    if (started)
        *started = 0;
    if (!file.open(QIODevice::ReadOnly))
        return calls;
    QHash<QByteArray, std::vector<qint64>> open;
    for (const QByteArray &line : file.readAll().split('\n')) {
        const QList<QByteArray> cells = line.split(' ');
        if (cells.size() != 4)
            continue;
        const QByteArray key = cells[1] + ' ' + cells[2];
        if (cells[0] == "start") {
            open[key].push_back(cells[3].toLongLong());
            if (started)
                ++*started;
        } else if (cells[0] == "end" && !open[key].empty()) {
            calls.push_back(
                QubeCall {cells[1], double(cells[3].toLongLong() - open[key].front()) / 1e9});
            open[key].erase(open[key].begin());
        }
    }
    return calls;
}

} // namespace netmap::bench
