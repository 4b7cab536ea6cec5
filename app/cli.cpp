#include "cli.h"

#include "export/diagramexport.h"
#include "io/files.h"
#include "io/jsonexport.h"
#include "io/snapshotyaml.h"
#include "model/findings.h"
#include "model/topology.h"
#include "qubes/livesource.h"

#include <QCommandLineParser>
#include <QFileInfo>
#include <QTextStream>

#include <cstdio>

namespace netmap {

namespace {

const QStringList kExportSuffixes { QStringLiteral("svg"), QStringLiteral("png"), QStringLiteral("json"),
                                    QStringLiteral("yaml"), QStringLiteral("yml") };

void printError(const QString &line)
{
    QTextStream err(stderr);
    err << "qubes-netmap: " << line << Qt::endl;
}

void printInfo(const QString &line)
{
    QTextStream err(stderr);
    err << line << Qt::endl;
}

QString suffixOf(const QString &path)
{
    return QFileInfo(path).suffix().toLower();
}

QString helpText()
{
    return QStringLiteral(
R"(Usage: qubes-netmap [SOURCE] [OPTIONS]

Maps your qubes and their NetVM links, checks where each qube really leaves the
machine, and draws it. With no --export it opens the window.

Source (default: the live system through qvm-ls; the demo when qvm-ls is missing
and a window is opened):
  --demo                 the built-in demo network (recorded check results)
  --snapshot FILE        a snapshot saved with --export FILE.yaml

Output:
  --export FILE          write FILE and exit, no window; repeatable; the format
                         follows the extension: .svg .png .json .yaml
  --templates            show templates in the diagram (hidden by default)
  -q, --quiet            say nothing on success
  -h, --help             show this help
  -v, --version          show the version

Exit codes:
  0  all fine
  1  a check failed or could not be completed, or an expectation is broken
  2  bad usage, bad input file, or an output file that cannot be written
  3  the source could not be read (qvm-ls missing or failing)

Examples:
  qubes-netmap --demo --export demo.svg --export demo.json
  qubes-netmap --export ~/netmap.yaml
  qubes-netmap --snapshot ~/netmap.yaml
)");
}

} // namespace

bool parseCommandLine(const QStringList &arguments, CliOptions *options, int *exitCode)
{
    QCommandLineParser parser;
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    const QCommandLineOption demo(QStringLiteral("demo"));
    const QCommandLineOption snapshot(QStringLiteral("snapshot"), QString(), QStringLiteral("FILE"));
    const QCommandLineOption exportOption(QStringLiteral("export"), QString(), QStringLiteral("FILE"));
    const QCommandLineOption templates(QStringLiteral("templates"));
    const QCommandLineOption quiet({ QStringLiteral("q"), QStringLiteral("quiet") });
    const QCommandLineOption help({ QStringLiteral("h"), QStringLiteral("help") });
    const QCommandLineOption version({ QStringLiteral("v"), QStringLiteral("version") });
    parser.addOptions({ demo, snapshot, exportOption, templates, quiet, help, version });

    if (!parser.parse(arguments)) {
        printError(parser.errorText() + QStringLiteral(" (see --help)"));
        *exitCode = ExitUsage;
        return false;
    }
    if (parser.isSet(help)) {
        QTextStream(stdout) << helpText();
        *exitCode = ExitOk;
        return false;
    }
    if (parser.isSet(version)) {
        QTextStream(stdout) << "qubes-netmap " << NETMAP_VERSION << Qt::endl;
        *exitCode = ExitOk;
        return false;
    }
    if (!parser.positionalArguments().isEmpty()) {
        printError(QStringLiteral("unexpected argument \"%1\" (see --help)")
                           .arg(parser.positionalArguments().first().left(80)));
        *exitCode = ExitUsage;
        return false;
    }
    if (parser.isSet(demo) && parser.isSet(snapshot)) {
        printError(QStringLiteral("--demo and --snapshot cannot be used together"));
        *exitCode = ExitUsage;
        return false;
    }
    if (parser.values(snapshot).size() > 1) {
        printError(QStringLiteral("--snapshot can be given once"));
        *exitCode = ExitUsage;
        return false;
    }
    if (parser.isSet(demo)) {
        options->source = CliOptions::Source::Demo;
        options->sourceGiven = true;
    } else if (parser.isSet(snapshot)) {
        options->source = CliOptions::Source::File;
        options->snapshotPath = parser.value(snapshot);
        options->sourceGiven = true;
    }
    options->exports = parser.values(exportOption);
    for (const QString &path : options->exports) {
        if (!kExportSuffixes.contains(suffixOf(path))) {
            printError(QStringLiteral("%1: unknown export format; use .svg, .png, .json or .yaml").arg(path));
            *exitCode = ExitUsage;
            return false;
        }
    }
    options->showTemplates = parser.isSet(templates);
    options->quiet = parser.isSet(quiet);
    return true;
}

bool needsGui(const CliOptions &options)
{
    for (const QString &path : options.exports) {
        const QString suffix = suffixOf(path);
        if (suffix == QLatin1String("svg") || suffix == QLatin1String("png"))
            return true;
    }
    return false;
}

int runHeadless(const CliOptions &options)
{
    Snapshot snapshot;
    switch (options.source) {
    case CliOptions::Source::Demo:
        snapshot = demoSnapshot();
        break;
    case CliOptions::Source::File: {
        auto loaded = loadSnapshotFile(options.snapshotPath);
        if (!loaded) {
            printError(loaded.error().toString());
            return ExitUsage;
        }
        snapshot = std::move(loaded).value();
        break;
    }
    case CliOptions::Source::Live: {
        auto live = readLiveSnapshot();
        if (!live) {
            printError(live.error().toString());
            return ExitSource;
        }
        snapshot = std::move(live).value();
        for (const QString &rejected : snapshot.rejected)
            printError(QStringLiteral("warning: %1").arg(rejected));
        break;
    }
    }

    for (const QString &path : options.exports) {
        const QString suffix = suffixOf(path);
        Status written = Ok {};
        if (suffix == QLatin1String("json"))
            written = writeFileAtomically(path, exportJson(snapshot));
        else if (suffix == QLatin1String("yaml") || suffix == QLatin1String("yml"))
            written = saveSnapshotFile(snapshot, path);
        else
            written = exportDiagram(snapshot, path, options.showTemplates);
        if (!written) {
            printError(written.error().toString());
            return ExitUsage;
        }
        if (!options.quiet)
            printInfo(QStringLiteral("wrote %1").arg(QFileInfo(path).absoluteFilePath()));
    }

    // The exit code tells scripts whether the map holds a broken expectation.
    const Topology topology(snapshot);
    int failures = 0;
    for (const Finding &f : computeFindings(snapshot, topology))
        if (f.severity == Finding::Severity::Error)
            ++failures;
    for (const Qube &q : snapshot.qubes) {
        const QStringList chain = topology.egressChain(q.name.toString());
        for (CheckKind kind : allCheckKinds()) {
            const CheckResult *r = snapshot.latest(q.name.toString(), kind);
            if (r && r->pathAtRun == chain
                && (r->status == CheckStatus::Fail || r->status == CheckStatus::Error))
                ++failures;
        }
    }
    if (failures > 0 && !options.quiet)
        printInfo(QStringLiteral("%1 problem(s) found: see the findings and checks in the export")
                          .arg(failures));
    return failures > 0 ? ExitFailed : ExitOk;
}

} // namespace netmap
