#include "cli.h"

#include "interrupts.h"

#include "checks/checkconfig.h"
#include "checks/checkscripts.h"
#include "checks/remedy.h"
#include "checks/verifier.h"
#include "export/diagramexport.h"
#include "formats/jsonexport.h"
#include "formats/markdownreport.h"
#include "formats/snapshotyaml.h"
#include "io/files.h"
#include "model/checkindex.h"
#include "model/topology.h"
#include "model/untrustedtext.h"
#include "policy/colouring.h"
#include "policy/findings.h"
#include "qubes/livesource.h"
#include "qubes/updatespolicy.h"

#include <QCommandLineParser>
#include <QDir>
#include <QEventLoop>
#include <QFileInfo>
#include <QTextStream>

#include <csignal>
#include <cstdio>
#include <unistd.h>

namespace netmap {

namespace {

const QStringList kExportSuffixes {QStringLiteral("svg"),  QStringLiteral("png"),
                                   QStringLiteral("json"), QStringLiteral("md"),
                                   QStringLiteral("yaml"), QStringLiteral("yml")};

// Every line this program prints may quote a qube (a rule comment in a kill-switch reason, a
// name in an error): it goes out as one line without escape sequences or hidden characters.
void printError(const QString &line)
{
    QTextStream err(stderr);
    err << "qubes-netmap: " << untrustedtext::terminalLine(line) << Qt::endl;
}

void printInfo(const QString &line)
{
    QTextStream err(stderr);
    err << untrustedtext::terminalLine(line) << Qt::endl;
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

Source (default: the live system through qvm-ls; when it cannot be read the
window says why and offers the demo or a snapshot, never shows one instead):
  --demo                 the built-in demo network (recorded check results)
  --snapshot FILE        a snapshot saved with --export FILE.yaml (at most %1
                         qubes and 16 MiB; YAML anchors, aliases, tags and
                         repeated keys are refused)
  --policy-dir DIR       the dom0 qrexec policy folder read (never written) for
                         where templates' updates go (qubes.UpdatesProxy);
                         default /run/qubes/policy.d, then /etc/qubes/policy.d

Checks (run inside the qubes with qvm-run; read-only unless --drill):
  --verify[=all|Q1,Q2]   check all networked qubes, or the ones named (live
                         system only: not with --demo or --snapshot)
  --checks LIST          external-ip,vpn,kill-switch,tor,dns-leak,isolation
                         (default: all that apply to each qube)
  --expect FILE          what you intend (egress per qube or tag, allowed pairs);
                         without it the intent is inferred from the NetVM paths
  --config FILE          endpoints, timeouts, concurrency (default:
                         ~/.config/qubes-netmap/config.yaml, else built in)
  --autostart            start halted qubes to check them (default: skip them)
  --drill                kill-switch drill: briefly take each checked VPN
                         qube's tunnel down, test a client's egress, restore
                         (restores by itself even if this program dies)

Following changes (no window):
  --follow               read the system, then print one JSON object per line on
                         stdout for every change until SIGINT or SIGTERM (exit 0):
                         netvm-changed, qube-started, qube-stopped, qube-added,
                         qube-removed, and with --verify verdict-changed for the
                         checks re-run on changed paths. Follows qubesd's event
                         stream (socket NETMAP_QUBESD_SOCKET, default
                         /var/run/qubesd.sock; qrexec-client-vm in a management
                         qube), else polls qvm-ls; says which on stderr

Output:
  --export FILE          write FILE and exit, no window; repeatable; the format
                         follows the extension: .svg .png .json .md .yaml
                         (a PNG too big to read becomes an overview with counts)
  --redact[=WHAT]        for sharing: every export (and the check lines printed)
                         with IP addresses replaced by documentation addresses
                         (192.0.2.x, 198.51.100.x, 203.0.113.x, 2001:db8::x), the
                         same address for the same original in every file; WHAT
                         is ips (the default), names (qube names to pseudonyms
                         such as qube-3, vpn-1, net-2; dom0 stays) or ips,names.
                         Qubes' own 10.137-10.139 addresses stay
  --templates            show templates in the diagram (hidden by default)
  -q, --quiet            say nothing on success
  -h, --help             show this help
  -v, --version          show the version

Exit codes:
  0  all fine
  1  a check failed or could not be completed, or an expectation is broken, or a
     qube's IPv4 and IPv6 leave by exits of different kinds (an IPv6 leak)
     (also Ctrl-C/SIGTERM during --verify: checks stopped, nothing written)
  2  bad usage, bad input file, or an output file that cannot be written
  3  the source could not be read (qvm-ls missing or failing)

Examples:
  qubes-netmap --demo --export demo.svg --export demo.json
  qubes-netmap --export ~/netmap.yaml
  qubes-netmap --snapshot ~/netmap.yaml
  qubes-netmap --verify --export report.md --export netmap.svg
  qubes-netmap --verify=work,work-vpn --checks external-ip,vpn
  qubes-netmap --snapshot ~/netmap.yaml --redact=ips,names --export share.md
  qubes-netmap --follow
)")
        .arg(kMaxSnapshotQubes);
}

} // namespace

bool parseCommandLine(const QStringList &arguments, CliOptions *options, int *exitCode)
{
    QCommandLineParser parser;
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    const QCommandLineOption demo(QStringLiteral("demo"));
    const QCommandLineOption snapshot(QStringLiteral("snapshot"), QString(),
                                      QStringLiteral("FILE"));
    const QCommandLineOption exportOption(QStringLiteral("export"), QString(),
                                          QStringLiteral("FILE"));
    const QCommandLineOption templates(QStringLiteral("templates"));
    const QCommandLineOption policyDir(QStringLiteral("policy-dir"), QString(),
                                       QStringLiteral("DIR"));
    const QCommandLineOption verify(QStringLiteral("verify"), QString(), QStringLiteral("QUBES"));
    const QCommandLineOption checks(QStringLiteral("checks"), QString(), QStringLiteral("LIST"));
    const QCommandLineOption expect(QStringLiteral("expect"), QString(), QStringLiteral("FILE"));
    const QCommandLineOption config(QStringLiteral("config"), QString(), QStringLiteral("FILE"));
    const QCommandLineOption autostart(QStringLiteral("autostart"));
    const QCommandLineOption drill(QStringLiteral("drill"));
    const QCommandLineOption follow(QStringLiteral("follow"));
    const QCommandLineOption redact(QStringLiteral("redact"), QString(), QStringLiteral("WHAT"));
    const QCommandLineOption quiet(QStringList {QStringLiteral("q"), QStringLiteral("quiet")});
    const QCommandLineOption help(QStringList {QStringLiteral("h"), QStringLiteral("help")});
    const QCommandLineOption version(QStringList {QStringLiteral("v"), QStringLiteral("version")});
    parser.addOptions({demo, snapshot, exportOption, templates, quiet, help, version, verify,
                       checks, expect, config, autostart, drill, follow, redact, policyDir});

    // --verify and --redact take an optional value; QCommandLineParser only knows required ones.
    QStringList args = arguments;
    for (int i = 1; i < args.size(); ++i) {
        if (args[i] == QLatin1String("--verify") || args[i] == QLatin1String("-verify"))
            args[i] = QStringLiteral("--verify=all");
        else if (args[i] == QLatin1String("--redact") || args[i] == QLatin1String("-redact"))
            args[i] = QStringLiteral("--redact=ips");
    }
    if (!parser.parse(args)) {
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
            printError(
                QStringLiteral("%1: unknown export format; use .svg, .png, .json, .md or .yaml")
                    .arg(path));
            *exitCode = ExitUsage;
            return false;
        }
    }
    options->showTemplates = parser.isSet(templates);
    options->quiet = parser.isSet(quiet);

    auto usage = [&](const QString &message) {
        printError(message + QStringLiteral(" (see --help)"));
        *exitCode = ExitUsage;
        return false;
    };
    for (const QCommandLineOption *once :
         {&verify, &checks, &expect, &config, &redact, &policyDir}) {
        if (parser.values(*once).size() > 1)
            return usage(QStringLiteral("--%1 can be given once").arg(once->names().constFirst()));
    }
    if (parser.isSet(policyDir)) {
        options->policyDir = parser.value(policyDir);
        if (!QFileInfo(options->policyDir).isDir())
            return usage(QStringLiteral("--policy-dir: %1 is not a folder")
                             .arg(options->policyDir.left(200)));
        setPolicyDirs({options->policyDir});
    }
    options->verify = parser.isSet(verify);
    if (options->verify) {
        const QString value = parser.value(verify).trimmed();
        if (value.isEmpty())
            return usage(QStringLiteral("--verify= needs \"all\" or qube names"));
        if (value != QLatin1String("all")) {
            for (const QString &name : value.split(u',')) {
                QString why;
                const auto valid = QubeName::fromUntrusted(name.trimmed(), &why);
                if (!valid)
                    return usage(QStringLiteral("--verify: \"%1\" is not a qube name: %2")
                                     .arg(name.left(64), why));
                options->verifyQubes.append(valid->toString());
            }
        }
    }
    if (parser.isSet(checks)) {
        for (const QString &id : parser.value(checks).split(u',')) {
            if (!checkKindFromId(id.trimmed()))
                return usage(
                    QStringLiteral(
                        "--checks: unknown check \"%1\"; use external-ip, vpn, kill-switch, tor, "
                        "dns-leak or isolation")
                        .arg(id.left(64)));
            options->checks.append(id.trimmed());
        }
    }
    if (parser.isSet(redact)) {
        QString why;
        const auto what = RedactOptions::fromId(parser.value(redact), &why);
        if (!what || !what->any())
            return usage(QStringLiteral("--redact: %1; use ips, names or ips,names")
                             .arg(why.isEmpty() ? QStringLiteral("nothing to redact") : why));
        if (options->exports.isEmpty())
            return usage(
                QStringLiteral("--redact applies to the files written: it needs --export"));
        options->redact = *what;
    }
    options->expectPath = parser.value(expect);
    options->configPath = parser.value(config);
    options->autostart = parser.isSet(autostart);
    options->drill = parser.isSet(drill);
    options->follow = parser.isSet(follow);
    if (options->follow && (options->sourceGiven || !options->exports.isEmpty()))
        return usage(QStringLiteral("--follow reads the live system: not with --demo, --snapshot "
                                    "or --export"));
    if (options->follow && options->drill)
        return usage(QStringLiteral("--follow does not run the kill-switch drill"));
    const bool checkOptions = parser.isSet(checks) || parser.isSet(expect)
        || parser.isSet(autostart) || parser.isSet(drill);
    if (options->verify && options->source != CliOptions::Source::Live)
        return usage(QStringLiteral("--verify runs checks in your qubes and needs the live system; "
                                    "it cannot be used with --demo or --snapshot"));
    if (checkOptions && !options->verify)
        return usage(QStringLiteral("--checks, --expect, --autostart and --drill need --verify"));
    if (options->drill && !options->checks.isEmpty()
        && !options->checks.contains(QStringLiteral("kill-switch")))
        return usage(QStringLiteral("--drill needs the kill-switch check"));
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

Result<VerifyRequest> makeVerifyRequest(const CliOptions &options)
{
    VerifyRequest request;
    auto config = loadCheckConfig(options.configPath);
    if (!config)
        return config.error();
    request.config = std::move(config).value();
    if (!options.expectPath.isEmpty()) {
        auto expectations = loadExpectationsFile(options.expectPath);
        if (!expectations)
            return expectations.error();
        request.expectations = std::move(expectations).value();
    }
    request.qubes = options.verifyQubes;
    for (const QString &id : options.checks)
        request.checks.append(*checkKindFromId(id));
    request.autostart = options.autostart;
    request.drill = options.drill;
    return request;
}

namespace {

Error checkError(const QString &message)
{
    Error error;
    error.code = Error::Code::Check;
    error.message = message;
    return error;
}

// Reports progress on stderr when it is a terminal.
Result<Snapshot> runVerification(const CliOptions &options, Snapshot snapshot)
{
    auto made = makeVerifyRequest(options);
    if (!made)
        return made.error();
    const VerifyRequest request = std::move(made).value();
    // The exports, colours and exit code judge by the same intent as the checks.
    snapshot.intent = request.expectations;

    if (options.drill) {
        auto plan = planVerification(snapshot, request);
        if (!plan)
            return plan.error();
        QStringList vpnQubes;
        for (const PlannedCheck &p : *plan)
            if (p.check == CheckKind::KillSwitch && p.skipReason.isEmpty())
                vpnQubes.append(p.qube);
        for (const QString &vpn : vpnQubes) {
            printInfo(QStringLiteral("kill-switch drill on %1 (--drill):").arg(vpn));
            for (const QString &step : drillSteps(
                     vpn, snapshot.tunnels.value(vpn).value(0, QStringLiteral("its tunnel")),
                     QStringLiteral("a qube behind it"), request.config.timeoutSeconds * 2 + 15))
                printInfo(QStringLiteral("  - ") + step);
        }
    }

    const bool terminal = isatty(fileno(stderr)) && !options.quiet;
    ProgressCallback progress;
    if (terminal) {
        progress = [](int done, int total, const QString &current) {
            QTextStream err(stderr);
            err << "\r\x1b[K"
                << "checking " << done << '/' << total << "  "
                << untrustedtext::terminalLine(current, 60) << Qt::flush;
        };
    }
    // Each check's qvm-run runs in its own process group, out of reach of a terminal's Ctrl-C:
    // SIGINT and SIGTERM cancel the checks through the runner (SIGINT to each group, then
    // SIGTERM and SIGKILL), and nothing is written.
    const auto interrupts = watchInterrupts();
    if (!interrupts)
        return checkError(QStringLiteral("cannot set up signal handling"));
    Verifier verifier;
    QEventLoop loop;
    QObject::connect(&verifier, &Verifier::finished, &loop, &QEventLoop::quit);
    if (progress)
        QObject::connect(&verifier, &Verifier::progress, &loop, progress);
    bool interrupted = false;
    QObject::connect(
        interrupts.get(), &QSocketNotifier::activated, &loop, [&verifier, &interrupted, terminal] {
            if (interrupted)
                return;
            interrupted = true;
            if (terminal)
                QTextStream(stderr) << "\r\x1b[K" << Qt::flush;
            printError(QStringLiteral("%1: stopping the running checks")
                           .arg(lastInterrupt() == SIGTERM ? QStringLiteral("SIGTERM")
                                                           : QStringLiteral("SIGINT")));
            verifier.cancel();
        });
    const Status started = verifier.start(snapshot, request);
    if (!started)
        return started.error();
    if (verifier.isRunning())
        loop.exec();
    if (terminal)
        QTextStream(stderr) << "\r\x1b[K" << Qt::flush;
    if (interrupted)
        return checkError(
            QStringLiteral("interrupted: the checks were stopped and nothing was written"));
    return verifier.snapshot();
}

} // namespace

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

    const std::size_t checksBefore = snapshot.checks.size();
    if (options.verify) {
        auto verified = runVerification(options, std::move(snapshot));
        if (!verified) {
            printError(verified.error().toString());
            return verified.error().exitCode();
        }
        snapshot = std::move(verified).value();
    }
    // For sharing: everything below (the files and the check lines printed) comes from the
    // redacted snapshot, so each address and name is replaced alike everywhere.
    if (options.redact.any())
        snapshot = redactedSnapshot(snapshot, options.redact);

    // Every export is attempted: one unwritable file does not cost the others.
    int exportFailures = 0;
    for (const QString &path : options.exports) {
        const QString suffix = suffixOf(path);
        Status written = Ok {};
        if (suffix == QLatin1String("md")) {
            // The write-up names the picture written with it, relative to itself.
            MarkdownOptions markdown;
            for (const QString &other : options.exports)
                if (markdown.picture.isEmpty()
                    && (suffixOf(other) == QLatin1String("svg")
                        || suffixOf(other) == QLatin1String("png")))
                    markdown.picture = QFileInfo(path).absoluteDir().relativeFilePath(
                        QFileInfo(other).absoluteFilePath());
            written = writeFileAtomically(path, exportMarkdown(snapshot, markdown));
        } else if (suffix == QLatin1String("json"))
            written = writeFileAtomically(path, exportJson(snapshot));
        else if (suffix == QLatin1String("yaml") || suffix == QLatin1String("yml"))
            written = saveSnapshotFile(snapshot, path);
        else
            written = exportDiagram(snapshot, path, options.showTemplates);
        if (!written) {
            printError(written.error().toString());
            ++exportFailures;
            continue;
        }
        if (!options.quiet)
            printInfo(QStringLiteral("wrote %1").arg(QFileInfo(path).absoluteFilePath()));
    }

    if (exportFailures > 0) {
        printError(QStringLiteral("%1 of %2 export(s) could not be written")
                       .arg(exportFailures)
                       .arg(options.exports.size()));
        return ExitUsage;
    }

    // The exit code tells scripts whether the map holds a broken expectation.
    const Topology topology(snapshot);
    const CheckIndex checkIndex(snapshot);
    int failures = 0;
    for (const Finding &f : computeFindings(snapshot, topology))
        if (f.severity == Finding::Severity::Error)
            ++failures;
    // A qube whose IPv4 and IPv6 leave by exits of different kinds is drawn as a leak: the
    // exit code says so too, whatever each check alone said.
    for (const QString &qube : colourPaths(snapshot, topology).familyLeaks) {
        printError(QStringLiteral("%1: IPv4 and IPv6 leave by exits of different kinds (an IPv6 "
                                  "leak)")
                       .arg(qube));
        ++failures;
    }
    for (const Qube &q : snapshot.qubes) {
        const QStringList chain = topology.egressChain(q.name.toString());
        for (CheckKind kind : allCheckKinds()) {
            const CheckResult *r = checkIndex.latest(q.name.toString(), kind);
            if (r && r->pathAtRun == chain
                && (r->status == CheckStatus::Fail || r->status == CheckStatus::Error))
                ++failures;
        }
    }
    if (options.verify) {
        // Exit 0 only when every selected check that ran passed (skipped ones are reported).
        int passed = 0, failed = 0, skipped = 0;
        for (std::size_t i = checksBefore; i < snapshot.checks.size(); ++i) {
            const CheckResult &r = snapshot.checks[i];
            passed += r.status == CheckStatus::Pass;
            failed += r.status == CheckStatus::Fail || r.status == CheckStatus::Error;
            skipped += r.status == CheckStatus::Skipped;
            if (!options.quiet || r.status == CheckStatus::Fail || r.status == CheckStatus::Error)
                printInfo(
                    QStringLiteral("%1 %2 %3: %4%5")
                        .arg(checkStatusId(r.status).toUpper(), r.qube.toString(),
                             checkKindId(r.check),
                             r.observed.isEmpty() ? QString() : r.observed + QStringLiteral(" — "),
                             r.reason));
            // What to do, for a failure that still holds on the current path.
            if (r.pathAtRun == topology.egressChain(r.qube.toString())) {
                const Remedy remedy = remedyFor(r, snapshot, topology);
                if (!remedy.isEmpty()) {
                    printInfo(QStringLiteral("  what to do: ") + remedy.advice);
                    if (!remedy.commands.isEmpty())
                        printInfo(QStringLiteral("  %1:").arg(remedy.where));
                    for (const QString &command : remedy.commands)
                        printInfo(QStringLiteral("      ") + command);
                }
            }
        }
        if (!options.quiet)
            printInfo(
                QStringLiteral("checks: %1 passed, %2 failed or could not be completed, %3 skipped")
                    .arg(passed)
                    .arg(failed)
                    .arg(skipped));
        if (passed == 0 && failed == 0) {
            printError(QStringLiteral("no check could run (all skipped or none selected)"));
            ++failures;
        }
    }
    if (failures > 0 && !options.quiet)
        printInfo(QStringLiteral("%1 problem(s) found: see the findings and checks in the export")
                      .arg(failures));
    return failures > 0 ? ExitFailed : ExitOk;
}

} // namespace netmap
