// qubes-netmap: the only place that decides between the window and the headless path.

#include "checks/checkcontroller.h"
#include "cli.h"
#include "follow.h"
#include "mainwindow.h"
#include "model/untrustedtext.h"
#include "qubes/livesource.h"

#include <QApplication>
#include <QCoreApplication>
#include <QFile>
#include <QIcon>
#include <QTemporaryDir>
#include <QTextStream>

#include <memory>
#include <optional>

int main(int argc, char **argv)
{
    QStringList arguments;
    for (int i = 0; i < argc; ++i)
        arguments << QString::fromLocal8Bit(argv[i]);

    netmap::CliOptions options;
    int exitCode = 0;
    if (!netmap::parseCommandLine(arguments, &options, &exitCode))
        return exitCode;

    QCoreApplication::setOrganizationName(QStringLiteral("qubes-netmap"));
    QCoreApplication::setApplicationName(QStringLiteral("qubes-netmap"));
    QCoreApplication::setApplicationVersion(QStringLiteral(NETMAP_VERSION));

    if (options.follow) {
        QCoreApplication app(argc, argv);
        return netmap::runFollow(options);
    }

    if (!options.exports.isEmpty()) {
        // Headless: no display needed, even for SVG and PNG.
        if (!netmap::needsGui(options)) {
            QCoreApplication app(argc, argv);
            return netmap::runHeadless(options);
        }
        qputenv("QT_QPA_PLATFORM", "offscreen");
        // The offscreen platform wants a private runtime folder; scripts and cron jobs often
        // have none, and Qt would print a warning about it on every run.
        QTemporaryDir runtimeDir;
        if (qEnvironmentVariableIsEmpty("XDG_RUNTIME_DIR") && runtimeDir.isValid())
            qputenv("XDG_RUNTIME_DIR", QFile::encodeName(runtimeDir.path()));
        QApplication app(argc, argv);
        return netmap::runHeadless(options);
    }

    // --verify in the window: the config and expectations are read before it opens.
    std::optional<netmap::VerifyRequest> verifyRequest;
    if (options.verify) {
        auto made = netmap::makeVerifyRequest(options);
        if (!made) {
            QTextStream(stderr) << "qubes-netmap: "
                                << netmap::untrustedtext::terminalLine(made.error().toString())
                                << Qt::endl;
            return made.error().exitCode();
        }
        verifyRequest = std::move(made).value();
    }

    QApplication app(argc, argv);
    QApplication::setDesktopFileName(QStringLiteral("qubes-netmap"));
    QApplication::setWindowIcon(QIcon::fromTheme(QStringLiteral("qubes-netmap")));

    netmap::SourceSpec source;
    switch (options.source) {
    case netmap::CliOptions::Source::Demo:
        source.kind = netmap::SourceSpec::Kind::Demo;
        break;
    case netmap::CliOptions::Source::File:
        source.kind = netmap::SourceSpec::Kind::File;
        source.path = options.snapshotPath;
        break;
    case netmap::CliOptions::Source::Live:
        // Never the demo in its place: when qvm-ls cannot be read the window says why and
        // offers the demo or a snapshot.
        source.kind = netmap::SourceSpec::Kind::Live;
        break;
    }
    netmap::MainWindow window(source);
    window.show();
    if (verifyRequest)
        window.checkController()->verifyWhenShown(*verifyRequest); // runs once the map is shown
    return app.exec();
}
