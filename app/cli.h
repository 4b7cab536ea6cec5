#pragma once
// The command line: options, the headless path (load, export, exit) and the exit codes.

#include "checks/verifier.h"
#include "io/redaction.h"
#include "model/result.h"

#include <QStringList>

namespace netmap {

enum ExitCode { ExitOk = 0, ExitFailed = 1, ExitUsage = 2, ExitSource = 3 };

struct CliOptions
{
    enum class Source { Live, Demo, File };
    Source source = Source::Live;
    bool sourceGiven = false;
    QString snapshotPath;
    QStringList exports;
    bool showTemplates = false;
    QString policyDir; // --policy-dir: the qrexec policy folder (empty: qrexec's own)
    bool quiet = false;
    RedactOptions redact; // --redact[=ips|names|ips,names]: what every export leaves out
    // Verification (--verify[=all|q1,q2] --checks ... --expect F --config F --autostart --drill).
    bool verify = false;
    QStringList verifyQubes; // empty: every networked qube
    QStringList checks; // check ids; empty: every check
    QString expectPath;
    QString configPath;
    bool autostart = false;
    bool drill = false;
    // --follow: print every change as a JSON line until SIGINT/SIGTERM (no window).
    bool follow = false;
};

// Parses the arguments; on --help/--version/usage errors prints and sets *exitCode.
bool parseCommandLine(const QStringList &arguments, CliOptions *options, int *exitCode);
// Runs without a window: loads the source, writes every --export, returns the exit code.
int runHeadless(const CliOptions &options);
// The checks --verify asks for: config and expectations loaded (errors name the file), qubes,
// checks, autostart and drill as given. Used by the headless path and by the window.
Result<VerifyRequest> makeVerifyRequest(const CliOptions &options);
// True when an export needs the Qt GUI libraries (SVG, PNG).
bool needsGui(const CliOptions &options);

} // namespace netmap
