#include "mainwindow.h"

#include "actionlog.h"
#include "checks/checkcontroller.h"
#include "checks/resultsdock.h"
#include "diagram/diagramscene.h"
#include "diagram/diagramview.h"
#include "diagram/legendpanel.h"
#include "diagram/overviewwidget.h"
#include "diagram/qubeitem.h"
#include "export/diagramexport.h"
#include "formats/jsonexport.h"
#include "formats/markdownreport.h"
#include "formats/snapshotyaml.h"
#include "inspector/inspectordock.h"
#include "io/files.h"
#include "live/livecontroller.h"
#include "model/checkindex.h"
#include "model/qubeverdict.h"
#include "model/snapshotdiff.h"
#include "model/topology.h"
#include "model/untrustedtext.h"
#include "policy/colouring.h"
#include "qubes/livesource.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QFrame>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTextStream>
#include <QTimer>
#include <QToolBar>
#include <QVBoxLayout>

namespace netmap {

namespace {
const QString kGeometryKey = QStringLiteral("window/geometry");
const QString kStateKey = QStringLiteral("window/state");
const QString kTemplatesKey = QStringLiteral("view/showTemplates");
const QString kExportFolderKey = QStringLiteral("export/folder");
} // namespace

MainWindow::MainWindow(const SourceSpec &source, QWidget *parent)
    : QMainWindow(parent)
    , m_source(source)
{
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(tr("Qubes Network Map"));
    m_scene = new DiagramScene(this);
    // The banner sits above the map, outside the zoomed scene: it cannot be scrolled away.
    auto *central = new QWidget(this);
    auto *column = new QVBoxLayout(central);
    column->setContentsMargins(0, 0, 0, 0);
    column->setSpacing(0);
    m_banner = new QFrame(central);
    m_banner->setObjectName(QStringLiteral("sourceBanner"));
    m_banner->setFrameShape(QFrame::StyledPanel);
    m_banner->setAutoFillBackground(true);
    QPalette bannerPalette = m_banner->palette();
    bannerPalette.setColor(QPalette::Window, QColor(0xff, 0xf1, 0xc4));
    bannerPalette.setColor(QPalette::WindowText, QColor(0x3a, 0x2c, 0x00));
    bannerPalette.setColor(QPalette::ButtonText, QColor(0x20, 0x20, 0x20));
    m_banner->setPalette(bannerPalette);
    auto *bannerRow = new QHBoxLayout(m_banner);
    bannerRow->setContentsMargins(10, 6, 10, 6);
    m_bannerLabel = new QLabel(m_banner);
    m_bannerLabel->setObjectName(QStringLiteral("sourceBannerText"));
    m_bannerLabel->setTextFormat(Qt::PlainText);
    m_bannerLabel->setWordWrap(true);
    // A long unbreakable file name is cut at the window's edge rather than widening it.
    m_bannerLabel->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_bannerLabel->setMinimumWidth(200);
    QFont bannerFont = m_bannerLabel->font();
    bannerFont.setBold(true);
    m_bannerLabel->setFont(bannerFont);
    bannerRow->addWidget(m_bannerLabel, 1);
    m_retryButton = new QPushButton(tr("Try again"), m_banner);
    m_retryButton->setObjectName(QStringLiteral("retryButton"));
    m_openDemoButton = new QPushButton(tr("Open the demo"), m_banner);
    m_openDemoButton->setObjectName(QStringLiteral("openDemoButton"));
    m_openSnapshotButton = new QPushButton(tr("Open a snapshot…"), m_banner);
    m_openSnapshotButton->setObjectName(QStringLiteral("openSnapshotButton"));
    bannerRow->addWidget(m_retryButton);
    bannerRow->addWidget(m_openDemoButton);
    bannerRow->addWidget(m_openSnapshotButton);
    connect(m_retryButton, &QPushButton::clicked, this, &MainWindow::refresh);
    connect(m_openDemoButton, &QPushButton::clicked, this, [this] {
        openSource(SourceSpec {SourceSpec::Kind::Demo, QString()});
    });
    connect(m_openSnapshotButton, &QPushButton::clicked, this,
            &MainWindow::openSnapshotInteractively);
    column->addWidget(m_banner);
    m_view = new DiagramView(m_scene, central);
    column->addWidget(m_view, 1);
    setCentralWidget(central);

    m_inspector = new InspectorDock(this);
    addDockWidget(Qt::RightDockWidgetArea, m_inspector);
    // The legend stays readable at any zoom: outside the zoomed scene, under the inspector.
    m_legendPanel = new LegendPanel(m_scene, this);
    addDockWidget(Qt::RightDockWidgetArea, m_legendPanel);
    splitDockWidget(m_inspector, m_legendPanel, Qt::Vertical);
    m_inspector->setFirewallReadable(source.kind == SourceSpec::Kind::Live);

    m_sourceLabel = new QLabel(this);
    m_sourceLabel->setObjectName(QStringLiteral("sourceLabel"));
    m_sourceLabel->setTextFormat(Qt::PlainText);
    statusBar()->addWidget(m_sourceLabel, 1);

    createActions();
    createMenusAndToolBar();
    createQubeKeys();

    connect(m_scene, &DiagramScene::qubeSelected, this, [this](const QString &qube) {
        m_inspector->showQube(qube);
        if (!qube.isEmpty())
            requestFirewall(qube);
    });
    connect(m_scene, &DiagramScene::qubeActivated, this, &MainWindow::inspect);
    connect(m_scene, &DiagramScene::contextMenuRequested, this, &MainWindow::fillQubeMenu);
    connect(m_inspector, &InspectorDock::qubeRequested, this, [this](const QString &qube) {
        m_scene->selectQube(qube);
        if (QubeItem *item = m_scene->qubeItem(qube))
            m_view->ensureVisible(item, 40, 40);
    });
    connect(m_inspector, &InspectorDock::firewallRequested, this, &MainWindow::requestFirewall);

    if (source.kind == SourceSpec::Kind::Live) {
        m_live = new LiveSource(this);
        connect(m_live, &LiveSource::snapshotReady, this, [this](const Snapshot &snapshot) {
            m_refreshAction->setEnabled(true);
            m_lastError.clear();
            if (!m_loaded) {
                setSnapshot(snapshot);
                return;
            }
            // Refresh keeps the evidence: a result whose qube's path changed shows as stale
            // (its recorded path no longer matches), never silently dropped.
            Snapshot kept = snapshot;
            carryEvidence(m_scene->snapshot(), &kept);
            setSnapshot(kept);
        });
        connect(m_live, &LiveSource::failed, this, &MainWindow::onLiveFailed);
        connect(m_live, &LiveSource::firewallReady, this,
                [this](const QString &qube, const QList<FirewallRule> &rules) {
                    m_firewallPending.remove(qube);
                    m_inspector->setFirewallRules(qube, rules);
                });
        connect(m_live, &LiveSource::firewallFailed, this,
                [this](const QString &qube, const QString &message) {
                    m_firewallPending.remove(qube);
                    m_inspector->setFirewallError(qube, message);
                });
    }

    // After the window's own context-menu entries; before restoreSettings() (its dock).
    m_liveController = new LiveController(this);
    // Checks: after the window's own context-menu entries; before restoreSettings() (its dock).
    m_checkController = new CheckController(this);
    // The evidence dialog's Copy and Save follow File > Redact for sharing, with the mapping the
    // report and picture of this snapshot use.
    m_checkController->resultsDock()->setRedactionSource([this]() {
        const RedactOptions options = redaction();
        return options.any() ? std::make_shared<const Redaction>(m_scene->snapshot(), options)
                             : std::shared_ptr<const Redaction>();
    });

    restoreSettings();
    updateBanner();
    refresh();
}

MainWindow::~MainWindow() = default;

void MainWindow::createActions()
{
    const auto make = [this](const QString &text, const QString &name, const QString &icon,
                             const QList<QKeySequence> &keys, const QString &tip) {
        auto *action = new QAction(text, this);
        action->setObjectName(name);
        action->setShortcuts(keys);
        if (!icon.isEmpty())
            action->setIcon(QIcon::fromTheme(icon));
        action->setStatusTip(tip);
        action->setShortcutContext(Qt::WindowShortcut);
        addAction(action);
        return action;
    };
    m_refreshAction
        = make(tr("&Refresh"), QStringLiteral("refreshAction"), QStringLiteral("view-refresh"),
               {QKeySequence(Qt::Key_F5)}, tr("Read the qubes again"));
    m_fitAction = make(tr("&Fit"), QStringLiteral("fitAction"), QStringLiteral("zoom-fit-best"),
                       {QKeySequence(Qt::CTRL | Qt::Key_0)}, tr("Show the whole diagram"));
    m_zoomInAction
        = make(tr("Zoom &in"), QStringLiteral("zoomInAction"), QStringLiteral("zoom-in"),
               {QKeySequence(Qt::CTRL | Qt::Key_Equal), QKeySequence(Qt::CTRL | Qt::Key_Plus)},
               tr("Zoom in"));
    m_zoomOutAction
        = make(tr("Zoom &out"), QStringLiteral("zoomOutAction"), QStringLiteral("zoom-out"),
               {QKeySequence(Qt::CTRL | Qt::Key_Minus)}, tr("Zoom out"));
    m_findAction = make(tr("&Find…"), QStringLiteral("findAction"), QStringLiteral("edit-find"),
                        {QKeySequence(Qt::CTRL | Qt::Key_F)}, tr("Find a qube by name or IP"));
    m_exportAction = make(tr("&Export picture…"), QStringLiteral("exportAction"),
                          QStringLiteral("document-export"), {QKeySequence(Qt::CTRL | Qt::Key_E)},
                          tr("Save the diagram as SVG or PNG"));
    m_openSnapshotAction
        = make(tr("&Open snapshot…"), QStringLiteral("openSnapshotAction"),
               QStringLiteral("document-open"), {QKeySequence(Qt::CTRL | Qt::Key_O)},
               tr("Show a snapshot saved earlier (checks stay off)"));
    m_openDemoAction = make(tr("Open the &demo"), QStringLiteral("openDemoAction"), QString(),
                            {QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O)},
                            tr("Show the built-in demo network (invented qubes)"));
    m_saveSnapshotAction
        = make(tr("&Save snapshot…"), QStringLiteral("saveSnapshotAction"),
               QStringLiteral("document-save"), {QKeySequence(Qt::CTRL | Qt::Key_S)},
               tr("Save the map with its check results, to open it again later"));
    m_compareAction
        = make(tr("&Compare with snapshot…"), QStringLiteral("compareAction"), QString(),
               {QKeySequence(Qt::CTRL | Qt::Key_D)},
               tr("What moved, which exits and verdicts changed since a saved snapshot"));
    m_saveReportAction = make(tr("Save &report…"), QStringLiteral("saveReportAction"), QString(),
                              {QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S)},
                              tr("Save the write-up as Markdown or JSON"));
    m_redactIpsAction
        = make(tr("&IP addresses"), QStringLiteral("redactIpsAction"), QString(),
               {QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_I)},
               tr("Save report and Export picture write documentation addresses (192.0.2.x, "
                  "198.51.100.x, 203.0.113.x) in place of IP addresses; Qubes' own 10.137-10.139 "
                  "stay"));
    m_redactIpsAction->setCheckable(true);
    m_redactNamesAction
        = make(tr("&Qube names"), QStringLiteral("redactNamesAction"), QString(),
               {QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_N)},
               tr("Save report and Export picture write pseudonyms (qube-3, vpn-1, net-2) in "
                  "place of qube names"));
    m_redactNamesAction->setCheckable(true);
    m_clearComparisonAction
        = make(tr("Clear &comparison marks"), QStringLiteral("clearComparisonAction"), QString(),
               {QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_D)},
               tr("Remove the rings that mark what changed since the compared snapshot"));
    m_clearComparisonAction->setEnabled(false);
    connect(m_clearComparisonAction, &QAction::triggered, this, [this] {
        m_scene->setComparison({});
        m_clearComparisonAction->setEnabled(false);
    });
    m_templatesAction
        = make(tr("Show &templates"), QStringLiteral("templatesAction"), QString(),
               {QKeySequence(Qt::CTRL | Qt::Key_T)}, tr("Show or hide template qubes"));
    m_templatesAction->setCheckable(true);
    m_sidePathsAction = make(
        tr("Show &update and disposable paths"), QStringLiteral("sidePathsAction"), QString(),
        {QKeySequence(Qt::CTRL | Qt::Key_U)},
        tr("Where templates' updates go (dom0's qubes.UpdatesProxy policy) and where each qube's "
           "disposables leave, as dashed lines; shows the templates too"));
    m_sidePathsAction->setCheckable(true);
    m_overviewAction = make(tr("&Overview"), QStringLiteral("overviewAction"), QString(),
                            {QKeySequence(Qt::CTRL | Qt::Key_M)},
                            tr("A small picture of the whole map while part of it is out of view"));
    m_overviewAction->setCheckable(true);
    m_overviewAction->setChecked(true);
    connect(m_overviewAction, &QAction::toggled, m_view->overview(),
            &OverviewWidget::setEnabledByUser);
    m_legendAction = m_legendPanel->toggleViewAction();
    m_legendAction->setObjectName(QStringLiteral("legendAction"));
    m_legendAction->setText(tr("&Legend"));
    m_legendAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_L));
    m_legendAction->setShortcutContext(Qt::WindowShortcut);
    addAction(m_legendAction);
    QAction *inspectorAction = m_inspector->toggleViewAction();
    inspectorAction->setObjectName(QStringLiteral("inspectorAction"));
    inspectorAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_I));
    inspectorAction->setShortcutContext(Qt::WindowShortcut);
    addAction(inspectorAction);
    m_quitAction
        = make(tr("&Quit"), QStringLiteral("quitAction"), QStringLiteral("application-exit"),
               {QKeySequence(Qt::CTRL | Qt::Key_Q)}, tr("Quit"));
    m_aboutAction = make(tr("&About"), QStringLiteral("aboutAction"), QString(),
                         {QKeySequence(Qt::CTRL | Qt::Key_F1)}, QString());
    m_statusHelpAction = make(tr("What the &results mean"), QStringLiteral("statusHelpAction"),
                              QStringLiteral("help-contents"), {QKeySequence(Qt::Key_F1)},
                              tr("Pass, fail, cannot tell, disputed, stale and skipped in words"));
    m_actionLogAction
        = make(tr("&Log of changes and root commands"), QStringLiteral("actionLogAction"),
               QString(), {QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_L)},
               tr("Every command run as root in a qube or that changed something"));
    connect(m_statusHelpAction, &QAction::triggered, this, [this] {
        auto *box = new QMessageBox(QMessageBox::Information, tr("What the results mean"),
                                    statusHelpText(), QMessageBox::Close, this);
        box->setObjectName(QStringLiteral("statusHelp"));
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->setTextFormat(Qt::PlainText);
        box->open();
    });
    connect(m_actionLogAction, &QAction::triggered, this, [this] {
        auto *dialog = new QDialog(this);
        dialog->setObjectName(QStringLiteral("actionLogDialog"));
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->setWindowTitle(tr("Log of changes and root commands"));
        auto *layout = new QVBoxLayout(dialog);
        auto *where
            = new QLabel(tr("Kept in %1").arg(QDir::toNativeSeparators(ActionLog::path())), dialog);
        where->setTextFormat(Qt::PlainText);
        layout->addWidget(where);
        auto *text = new QPlainTextEdit(dialog); // plain text: names and commands as written
        text->setObjectName(QStringLiteral("actionLogText"));
        text->setReadOnly(true);
        text->setLineWrapMode(QPlainTextEdit::NoWrap);
        text->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
        const QString log = ActionLog::read();
        text->setPlainText(log.isEmpty() ? tr("Nothing has been run as root or changed yet.")
                                         : log);
        layout->addWidget(text, 1);
        auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, dialog);
        connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::reject);
        layout->addWidget(buttons);
        dialog->resize(900, 420);
        dialog->open();
    });

    connect(m_refreshAction, &QAction::triggered, this, &MainWindow::refresh);
    connect(m_fitAction, &QAction::triggered, this, &MainWindow::fitDiagram);
    connect(m_zoomInAction, &QAction::triggered, this, &MainWindow::zoomIn);
    connect(m_zoomOutAction, &QAction::triggered, this, &MainWindow::zoomOut);
    connect(m_findAction, &QAction::triggered, this, &MainWindow::focusFind);
    connect(m_exportAction, &QAction::triggered, this, &MainWindow::exportInteractively);
    connect(m_openSnapshotAction, &QAction::triggered, this,
            &MainWindow::openSnapshotInteractively);
    connect(m_openDemoAction, &QAction::triggered, this, [this] {
        openSource(SourceSpec {SourceSpec::Kind::Demo, QString()});
    });
    connect(m_saveSnapshotAction, &QAction::triggered, this,
            &MainWindow::saveSnapshotInteractively);
    connect(m_saveReportAction, &QAction::triggered, this, &MainWindow::saveReportInteractively);
    connect(m_compareAction, &QAction::triggered, this, [this] {
        QSettings settings;
        const QString path = QFileDialog::getOpenFileName(
            this, tr("Compare with snapshot"), settings.value(kExportFolderKey).toString(),
            tr("Snapshot (*.yaml *.yml)"));
        if (!path.isEmpty())
            compareWith(path);
    });
    connect(m_templatesAction, &QAction::toggled, this, [this](bool show) {
        m_scene->setShowTemplates(show);
        QSettings().setValue(kTemplatesKey, show);
        updateStatus();
    });
    connect(m_sidePathsAction, &QAction::toggled, this, [this](bool show) {
        // Update paths start at templates: drawing them needs the templates drawn.
        if (show && !m_templatesAction->isChecked())
            m_templatesAction->setChecked(true);
        m_scene->setShowSidePaths(show);
        m_inspector->setSidePathsShown(show);
    });
    connect(m_quitAction, &QAction::triggered, this, &QWidget::close);
    connect(m_aboutAction, &QAction::triggered, this, [this] {
        QMessageBox box(this);
        box.setWindowTitle(tr("About Qubes Network Map"));
        box.setTextFormat(Qt::PlainText);
        box.setText(tr("Qubes Network Map %1\n\nMaps qubes and their NetVM links, verifies where "
                       "each qube leaves the machine, and exports the picture.")
                        .arg(QStringLiteral(NETMAP_VERSION)));
        box.exec();
    });
}

QString MainWindow::comparisonText(const Snapshot &saved, const Snapshot &now)
{
    QStringList lines;
    compare(saved, now, &lines, nullptr);
    if (lines.isEmpty())
        lines << tr("Nothing changed: the same qubes, links, exits and verdicts.");
    return lines.join(QLatin1Char('\n'));
}

QHash<QString, QStringList> MainWindow::comparisonMarks(const Snapshot &saved, const Snapshot &now)
{
    QHash<QString, QStringList> marks;
    compare(saved, now, nullptr, &marks);
    return marks;
}

void MainWindow::compare(const Snapshot &saved, const Snapshot &now, QStringList *lines,
                         QHash<QString, QStringList> *marks)
{
    QStringList ignored;
    QHash<QString, QStringList> unused;
    QStringList &out = lines ? *lines : ignored;
    QHash<QString, QStringList> &mark = marks ? *marks : unused;
    const SnapshotDiff diff = diffSnapshots(saved, now);
    if (!diff.added.isEmpty())
        out << tr("Qubes added: %1").arg(diff.added.join(QStringLiteral(", ")));
    for (const QString &name : diff.added)
        mark[name] << tr("new: not in the compared snapshot");
    if (!diff.removed.isEmpty())
        out << tr("Qubes removed: %1").arg(diff.removed.join(QStringLiteral(", ")));
    const auto netvmOf = [](const Snapshot &s, const QString &name) {
        const Qube *q = s.find(name);
        return q && q->netvm ? q->netvm->toString() : QStringLiteral("(none)");
    };
    for (const QString &name : diff.netvmChanged) {
        out << tr("Moved: %1: %2 → %3").arg(name, netvmOf(saved, name), netvmOf(now, name));
        mark[name] << tr("moved: %1 → %2").arg(netvmOf(saved, name), netvmOf(now, name));
    }
    const Topology savedTopology(saved);
    const Topology nowTopology(now);
    const Colouring before = colourPaths(saved, savedTopology);
    const Colouring after = colourPaths(now, nowTopology);
    const CheckIndex savedChecks(saved);
    const CheckIndex nowChecks(now);
    const auto orNone
        = [](const QString &ip) { return ip.isEmpty() ? QStringLiteral("not verified") : ip; };
    for (const Qube &q : now.qubes) {
        const QString name = q.name.toString();
        if (!saved.find(name))
            continue;
        const QString was = before.qubeExitIp.value(name);
        const QString is = after.qubeExitIp.value(name);
        if (was != is) {
            out << tr("Exit changed: %1: %2 → %3").arg(name, orNone(was), orNone(is));
            mark[name] << tr("exit: %1 → %2").arg(orNone(was), orNone(is));
        }
        const VerdictMark old
            = qubeVerdict(savedChecks, name, savedTopology.egressChain(name)).mark;
        const VerdictMark verdict
            = qubeVerdict(nowChecks, name, nowTopology.egressChain(name)).mark;
        if (old != verdict) {
            out << tr("Verdict changed: %1: %2 → %3")
                       .arg(name, verdictMarkWords(old), verdictMarkWords(verdict));
            mark[name]
                << tr("verdict: %1 → %2").arg(verdictMarkWords(old), verdictMarkWords(verdict));
        }
    }
    // Exits and reasons come from files: one plain line each.
    for (QStringList &changes : mark)
        for (QString &line : changes)
            line = untrustedtext::line(line, 300);
}

QString MainWindow::compareWith(const QString &path)
{
    const Result<Snapshot> loaded = loadSnapshotFile(path);
    if (!loaded) {
        showError(tr("Cannot compare"), loaded.error().toString());
        return QString();
    }
    QString text = tr("Compared with %1").arg(QFileInfo(path).fileName());
    if (loaded.value().generated.isValid())
        text += tr(" (taken %1)")
                    .arg(loaded.value().generated.toLocalTime().toString(
                        QStringLiteral("yyyy-MM-dd HH:mm")));
    text += QStringLiteral(":\n\n") + comparisonText(loaded.value(), m_scene->snapshot());
    // Drawn on the map too, until cleared.
    const QHash<QString, QStringList> marks = comparisonMarks(loaded.value(), m_scene->snapshot());
    m_scene->setComparison(marks);
    m_clearComparisonAction->setEnabled(!marks.isEmpty());
    if (!marks.isEmpty())
        text += tr("\n\nThe %n changed qube(s) are ringed in purple on the map; View ▸ Clear "
                   "comparison marks (Ctrl+Shift+D) removes the rings.",
                   nullptr, int(marks.size()));
    auto *dialog = new QDialog(this);
    dialog->setObjectName(QStringLiteral("compareDialog"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(tr("Compare with snapshot"));
    auto *layout = new QVBoxLayout(dialog);
    auto *view = new QPlainTextEdit(dialog); // plain text: names as read
    view->setObjectName(QStringLiteral("compareText"));
    view->setReadOnly(true);
    view->setPlainText(untrustedtext::block(text, 1 << 20)); // names, exits and reasons as read
    layout->addWidget(view, 1);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, dialog);
    connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::reject);
    layout->addWidget(buttons);
    dialog->resize(640, 420);
    dialog->open();
    return text;
}

QString MainWindow::statusHelpText()
{
    return tr(
        "Each check runs inside a qube (with qvm-run) and says one of:\n\n"
        "Pass: what was seen is what was expected (for example the qube leaves by its VPN's "
        "exit).\n\n"
        "Fail: what was seen contradicts what was expected. On the map a failed external IP, "
        "VPN, Tor or DNS check colours the path red as a leak; a failed kill switch marks the "
        "VPN qube.\n\n"
        "Cannot tell (error): the check could not finish (timed out, the qube did not answer, "
        "the output made no sense). It is not a pass: nothing is known.\n\n"
        "Disputed: independent services gave different answers (for example two IP echo "
        "services disagree). It is reported as cannot tell rather than picking one.\n\n"
        "Stale: the result was recorded when the qube had another path (its netvm changed "
        "since). Run the check again.\n\n"
        "Skipped: the check was not run, and says why (the qube is halted, or the check does "
        "not apply to it).\n\n"
        "Checks run only on the live system, never on the demo or a saved snapshot.");
}

void MainWindow::createMenusAndToolBar()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->addAction(m_openSnapshotAction);
    file->addAction(m_openDemoAction);
    file->addAction(m_compareAction);
    file->addSeparator();
    file->addAction(m_saveSnapshotAction);
    file->addAction(m_saveReportAction);
    file->addAction(m_exportAction);
    QMenu *redact = file->addMenu(tr("Re&dact for sharing"));
    redact->setObjectName(QStringLiteral("redactMenu"));
    redact->setToolTipsVisible(true);
    redact->addAction(m_redactIpsAction);
    redact->addAction(m_redactNamesAction);
    file->addSeparator();
    file->addAction(m_refreshAction);
    file->addSeparator();
    file->addAction(m_quitAction);
    QMenu *view = menuBar()->addMenu(tr("&View"));
    m_viewMenu = view;
    view->addAction(m_fitAction);
    view->addAction(m_zoomInAction);
    view->addAction(m_zoomOutAction);
    view->addSeparator();
    view->addAction(m_findAction);
    view->addAction(m_templatesAction);
    view->addAction(m_sidePathsAction);
    view->addAction(m_legendAction);
    view->addAction(m_overviewAction);
    view->addAction(m_clearComparisonAction);
    view->addSeparator();
    view->addAction(m_inspector->toggleViewAction());
    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(m_statusHelpAction);
    help->addAction(m_actionLogAction);
    help->addSeparator();
    help->addAction(m_aboutAction);

    QToolBar *bar = addToolBar(tr("Main"));
    bar->setObjectName(QStringLiteral("mainToolBar"));
    bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    bar->setMovable(false);
    bar->addAction(m_refreshAction);
    bar->addAction(m_fitAction);
    bar->addAction(m_zoomInAction);
    bar->addAction(m_zoomOutAction);
    bar->addSeparator();
    bar->addAction(m_templatesAction);
    bar->addAction(m_exportAction);
    bar->addSeparator();
    m_findEdit = new QLineEdit(bar);
    m_findEdit->setObjectName(QStringLiteral("findEdit"));
    m_findEdit->setPlaceholderText(tr("Find qube or IP (Ctrl+F)"));
    m_findEdit->setClearButtonEnabled(true);
    m_findEdit->setMaximumWidth(260);
    bar->addWidget(m_findEdit);
    connect(m_findEdit, &QLineEdit::textChanged, this, &MainWindow::onFind);
    connect(m_findEdit, &QLineEdit::returnPressed, this, &MainWindow::findNext);
}

void MainWindow::restoreSettings()
{
    QSettings settings;
    if (!restoreGeometry(settings.value(kGeometryKey).toByteArray()))
        resize(1280, 800);
    if (!restoreState(settings.value(kStateKey).toByteArray())) {
        // First run: the inspector gets most of the height, the legend scrolls below it.
        resizeDocks({m_inspector, m_legendPanel}, {420, 300}, Qt::Vertical);
        if (auto *results = findChild<QDockWidget *>(QStringLiteral("resultsDock")))
            resizeDocks({results}, {220}, Qt::Vertical);
    }
    const QSignalBlocker blocker(m_templatesAction);
    m_templatesAction->setChecked(settings.value(kTemplatesKey, false).toBool());
    m_scene->setShowTemplates(m_templatesAction->isChecked());
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    if (!confirmDiscard()) {
        event->ignore();
        return;
    }
    QSettings settings;
    settings.setValue(kGeometryKey, saveGeometry());
    settings.setValue(kStateKey, saveState());
    QMainWindow::closeEvent(event);
}

void MainWindow::setSnapshot(const Snapshot &snapshot)
{
    // Comparison marks describe the map they were made on.
    m_scene->setComparison({});
    m_clearComparisonAction->setEnabled(false);
    m_scene->setSnapshot(snapshot);
    m_inspector->setSnapshot(snapshot);
    // A view the user has not zoomed stays fitted to the new diagram.
    if (!m_loaded || m_view->isFitted())
        m_view->fitDiagram();
    if (!m_loaded)
        m_savedChecks = snapshot.checks.size(); // what a file or the demo brings is not new
    m_loaded = true;
    m_loadError.clear();
    if (!m_findEdit->text().isEmpty())
        onFind(m_findEdit->text());
    updateStatus();
}

void MainWindow::showFollowedSnapshot(const Snapshot &snapshot)
{
    if (!m_scene->updateInPlace(snapshot)) {
        // Qubes came or went: lay out again, but keep the part of the map the user looks at.
        const QPointF centre = m_view->mapToScene(m_view->viewport()->rect().center());
        const QTransform zoom = m_view->transform();
        m_scene->setSnapshot(snapshot);
        m_view->setTransform(zoom);
        m_view->centerOn(centre);
    }
    m_inspector->setSnapshot(snapshot);
    m_loaded = true;
    m_lastError.clear();
    if (!m_findEdit->text().isEmpty())
        onFind(m_findEdit->text());
    updateStatus();
}

const Snapshot &MainWindow::snapshot() const
{
    return m_scene->snapshot();
}

QString MainWindow::statusText() const
{
    return m_sourceLabel->text();
}

void MainWindow::updateStatus()
{
    QString text;
    if (m_loaded) {
        const Snapshot &s = m_scene->snapshot();
        switch (m_source.kind) {
        case SourceSpec::Kind::Demo:
            text = tr("Demo network");
            break;
        case SourceSpec::Kind::File:
            text = tr("Snapshot file %1").arg(QFileInfo(m_source.path).fileName());
            if (s.generated.isValid())
                text += tr(", taken %1")
                            .arg(s.generated.toLocalTime().toString(
                                QStringLiteral("yyyy-MM-dd HH:mm")));
            break;
        case SourceSpec::Kind::Live:
            text = s.generated.isValid()
                ? tr("qvm-ls, %1").arg(s.generated.toLocalTime().toString(QStringLiteral("HH:mm")))
                : tr("qvm-ls");
            break;
        }
        const int n = int(s.qubes.size());
        text += n == 1 ? tr(" · 1 qube") : tr(" · %1 qubes").arg(n);
        if (!s.rejected.isEmpty())
            text += tr(" · %1 row(s) refused").arg(s.rejected.size());
    } else if (m_source.kind == SourceSpec::Kind::Live && m_loadError.isEmpty()) {
        text = tr("Reading qubes with qvm-ls…");
    }
    if (!m_lastError.isEmpty())
        text = text.isEmpty() ? m_lastError : text + QStringLiteral(" · ") + m_lastError;
    m_sourceLabel->setText(untrustedtext::line(text, 500));
    updateBanner();
    emit sourceStateChanged();
}

QString MainWindow::bannerText() const
{
    return m_banner->isHidden() ? QString() : m_bannerLabel->text();
}

bool MainWindow::isBannerShown() const
{
    return !m_banner->isHidden();
}

void MainWindow::updateBanner()
{
    QString text;
    bool offerOthers = false;
    const Snapshot &s = m_scene->snapshot();
    if (!m_loadError.isEmpty()) {
        text = m_loadError;
        offerOthers = true;
    } else {
        switch (m_source.kind) {
        case SourceSpec::Kind::Demo:
            text = tr("Demo network: invented qubes with recorded results, not your system. "
                      "Checks are off.");
            break;
        case SourceSpec::Kind::File:
            text = tr("Saved snapshot %1").arg(QFileInfo(m_source.path).fileName());
            if (m_loaded && s.generated.isValid())
                text += tr(", taken %1")
                            .arg(s.generated.toLocalTime().toString(
                                QStringLiteral("yyyy-MM-dd HH:mm")));
            text += tr(": not the live system. Checks are off.");
            break;
        case SourceSpec::Kind::Live:
            break;
        }
    }
    m_bannerLabel->setText(untrustedtext::line(text, 600));
    m_banner->setHidden(text.isEmpty());
    m_retryButton->setVisible(offerOthers);
    m_openDemoButton->setVisible(offerOthers && m_source.kind != SourceSpec::Kind::Demo);
    m_openSnapshotButton->setVisible(offerOthers);
}

void MainWindow::onLiveFailed(const QString &message)
{
    m_refreshAction->setEnabled(true);
    m_lastError = tr("qvm-ls failed: %1").arg(message);
    if (!m_loaded) {
        // Nothing is shown rather than an invented network: say why, here and on stderr.
        m_loadError = tr("Cannot read your qubes: %1. Nothing is shown rather than a network "
                         "that is not yours. Try again, or open the demo or a saved snapshot.")
                          .arg(message);
        QTextStream(stderr) << untrustedtext::terminalLine(
            QStringLiteral("qubes-netmap: cannot read the qubes: %1").arg(message))
                            << Qt::endl;
    }
    updateStatus();
}

bool MainWindow::checksAllowed(QString *why) const
{
    QString reason;
    switch (m_source.kind) {
    case SourceSpec::Kind::Demo:
        reason = tr("Checks run only on the live system; this is the demo network");
        break;
    case SourceSpec::Kind::File:
        reason = tr("Checks run only on the live system; this is a saved snapshot");
        break;
    case SourceSpec::Kind::Live:
        if (!m_loaded)
            reason = tr("Checks need the qubes read first");
        break;
    }
    if (why)
        *why = reason;
    return reason.isEmpty();
}

bool MainWindow::hasUnsavedResults() const
{
    return m_loaded && m_scene->snapshot().checks.size() > m_savedChecks;
}

bool MainWindow::confirmDiscard()
{
    if (!hasUnsavedResults())
        return true;
    if (m_askDiscard)
        return m_askDiscard();
    QMessageBox box(QMessageBox::Question, tr("Qubes Network Map"),
                    tr("The check results have not been saved. Discard them?"),
                    QMessageBox::Discard | QMessageBox::Cancel, this);
    box.setObjectName(QStringLiteral("discardResultsQuestion"));
    box.setInformativeText(tr("File ▸ Save snapshot keeps the map with its results."));
    box.setDefaultButton(QMessageBox::Cancel);
    return box.exec() == QMessageBox::Discard;
}

MainWindow *MainWindow::openSource(const SourceSpec &source)
{
    if (!confirmDiscard())
        return nullptr;
    m_savedChecks = m_scene->snapshot().checks.size(); // asked once
    auto *next = new MainWindow(source);
    next->setAttribute(Qt::WA_DeleteOnClose);
    next->m_askDiscard = m_askDiscard;
    if (isVisible())
        next->show();
    close();
    return next;
}

void MainWindow::openSnapshotInteractively()
{
    QSettings settings;
    const QString folder = settings.value(kExportFolderKey).toString();
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open snapshot"),
        folder.isEmpty() ? QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation)
                         : folder,
        tr("Snapshot (*.yaml *.yml)"));
    if (path.isEmpty())
        return;
    settings.setValue(kExportFolderKey, QFileInfo(path).absolutePath());
    openSource(SourceSpec {SourceSpec::Kind::File, path});
}

Status MainWindow::saveSnapshotTo(const QString &path)
{
    const Status written = saveSnapshotFile(m_scene->snapshot(), path);
    if (!written) {
        showError(tr("The snapshot was not saved"), written.error().toString());
        return written;
    }
    m_savedChecks = m_scene->snapshot().checks.size();
    statusBar()->showMessage(tr("Saved %1").arg(QDir::toNativeSeparators(path)), 6000);
    return written;
}

RedactOptions MainWindow::redaction() const
{
    RedactOptions o;
    o.ips = m_redactIpsAction->isChecked();
    o.names = m_redactNamesAction->isChecked();
    return o;
}

void MainWindow::setRedaction(RedactOptions options)
{
    m_redactIpsAction->setChecked(options.ips);
    m_redactNamesAction->setChecked(options.names);
}

Status MainWindow::saveReportTo(const QString &path)
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    const Snapshot shared = redactedSnapshot(m_scene->snapshot(), redaction());
    const Status written = suffix == QLatin1String("json")
        ? writeFileAtomically(path, exportJson(shared))
        : writeFileAtomically(path, exportMarkdown(shared));
    if (!written) {
        showError(tr("The report was not saved"), written.error().toString());
        return written;
    }
    statusBar()->showMessage(redaction().any()
                                 ? tr("Saved %1 (redacted)").arg(QDir::toNativeSeparators(path))
                                 : tr("Saved %1").arg(QDir::toNativeSeparators(path)),
                             6000);
    return written;
}

Status MainWindow::exportPictureTo(const QString &path)
{
    const Status written = exportDiagram(redactedSnapshot(m_scene->snapshot(), redaction()), path,
                                         m_scene->showTemplates(), m_scene->showSidePaths());
    if (!written) {
        showError(tr("The diagram was not exported"), written.error().toString());
        return written;
    }
    statusBar()->showMessage(redaction().any()
                                 ? tr("Exported %1 (redacted)").arg(QDir::toNativeSeparators(path))
                                 : tr("Exported %1").arg(QDir::toNativeSeparators(path)),
                             6000);
    return written;
}

namespace {

// A save dialog that adds the filter's extension when the name has none of the allowed ones.
QString askSavePath(QWidget *parent, const QString &title, const QString &name,
                    const QStringList &filters, const QStringList &suffixes)
{
    QSettings settings;
    QString folder = settings.value(kExportFolderKey).toString();
    if (folder.isEmpty() || !QDir(folder).exists())
        folder = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
    QString filter = filters.first();
    QString path = QFileDialog::getSaveFileName(parent, title, QDir(folder).filePath(name),
                                                filters.join(QStringLiteral(";;")), &filter);
    if (path.isEmpty())
        return path;
    if (!suffixes.contains(QFileInfo(path).suffix().toLower()))
        path += u'.' + suffixes.value(std::max<qsizetype>(0, filters.indexOf(filter)));
    settings.setValue(kExportFolderKey, QFileInfo(path).absolutePath());
    return path;
}

} // namespace

void MainWindow::saveSnapshotInteractively()
{
    const QString path
        = askSavePath(this, tr("Save snapshot"), QStringLiteral("qubes-netmap.yaml"),
                      {tr("Snapshot (*.yaml)")}, {QStringLiteral("yaml"), QStringLiteral("yml")});
    if (!path.isEmpty())
        static_cast<void>(saveSnapshotTo(path));
}

void MainWindow::saveReportInteractively()
{
    const QString path = askSavePath(this, tr("Save report"), QStringLiteral("qubes-netmap.md"),
                                     {tr("Markdown report (*.md)"), tr("JSON (*.json)")},
                                     {QStringLiteral("md"), QStringLiteral("json")});
    if (!path.isEmpty())
        static_cast<void>(saveReportTo(path));
}

void MainWindow::refresh()
{
    switch (m_source.kind) {
    case SourceSpec::Kind::Demo:
        setSnapshot(demoSnapshot());
        break;
    case SourceSpec::Kind::File: {
        const Result<Snapshot> loaded = loadSnapshotFile(m_source.path);
        if (!loaded) {
            m_lastError = loaded.error().toString();
            if (!m_loaded)
                m_loadError = tr("Cannot open the snapshot: %1").arg(loaded.error().toString());
            QTextStream(stderr) << "qubes-netmap: " << loaded.error().toString() << Qt::endl;
            updateStatus();
            break;
        }
        m_lastError.clear();
        setSnapshot(loaded.value());
        break;
    }
    case SourceSpec::Kind::Live:
        if (!m_live || !m_refreshAction->isEnabled())
            break;
        m_refreshAction->setEnabled(false);
        statusBar()->showMessage(tr("Reading qubes with qvm-ls…"), 3000);
        updateStatus();
        m_live->refresh();
        break;
    }
}

void MainWindow::showError(const QString &title, const QString &message)
{
    // Not modal and queued: a failing source at start-up must not block the event loop.
    QTimer::singleShot(0, this, [this, title, message] {
        auto *box = new QMessageBox(QMessageBox::Warning, tr("Qubes Network Map"), QString(),
                                    QMessageBox::Ok, this);
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->setTextFormat(Qt::PlainText);
        box->setText(untrustedtext::line(title, 300) + QStringLiteral("\n\n")
                     + untrustedtext::block(message, 4096));
        box->open();
    });
}

void MainWindow::fitDiagram()
{
    m_view->fitDiagram();
}

void MainWindow::zoomIn()
{
    m_view->zoomBy(1.25);
}

void MainWindow::zoomOut()
{
    m_view->zoomBy(0.8);
}

void MainWindow::focusFind()
{
    m_findEdit->setFocus(Qt::ShortcutFocusReason);
    m_findEdit->selectAll();
}

void MainWindow::onFind(const QString &text)
{
    const QStringList matches = m_scene->find(text);
    m_findIndex = -1; // Enter goes to the first match
    if (text.trimmed().isEmpty()) {
        statusBar()->clearMessage();
        return;
    }
    if (matches.isEmpty()) {
        statusBar()->showMessage(tr("No qube matches \"%1\"").arg(text.trimmed()), 4000);
        return;
    }
    if (QubeItem *item = m_scene->qubeItem(matches.first()))
        m_view->centerOn(item);
    statusBar()->showMessage(matches.size() == 1 ? tr("1 qube matches")
                                                 : tr("%1 qubes match").arg(matches.size()),
                             4000);
}

void MainWindow::findNext()
{
    const QStringList &matches = m_scene->matches();
    if (matches.isEmpty())
        return;
    m_findIndex = (m_findIndex + 1) % int(matches.size());
    // Enter goes to the match: selected (the inspector shows it), zoomed to a readable size,
    // centred; again for the next one, round and round.
    const QString name = matches[m_findIndex];
    m_scene->selectQube(name);
    if (m_view->zoom() < 1.0)
        m_view->zoomBy(1.0 / m_view->zoom());
    if (QubeItem *item = m_scene->qubeItem(name))
        m_view->centerOn(item);
    statusBar()->showMessage(
        tr("Match %1 of %2: %3").arg(m_findIndex + 1).arg(matches.size()).arg(name), 4000);
}

void MainWindow::exportInteractively()
{
    QSettings settings;
    QString folder = settings.value(kExportFolderKey).toString();
    if (folder.isEmpty() || !QDir(folder).exists())
        folder = QStandardPaths::writableLocation(QStandardPaths::PicturesLocation);
    const QString svgFilter = tr("SVG image (*.svg)");
    const QString pngFilter = tr("PNG image (*.png)");
    QString filter = svgFilter;
    QString path = QFileDialog::getSaveFileName(
        this, tr("Export diagram"), QDir(folder).filePath(QStringLiteral("qubes-netmap.svg")),
        svgFilter + QStringLiteral(";;") + pngFilter, &filter);
    if (path.isEmpty())
        return;
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix != QLatin1String("svg") && suffix != QLatin1String("png"))
        path += filter == pngFilter ? QStringLiteral(".png") : QStringLiteral(".svg");
    settings.setValue(kExportFolderKey, QFileInfo(path).absolutePath());
    static_cast<void>(exportPictureTo(path));
}

void MainWindow::createQubeKeys()
{
    // Keys that act on the selected qube while the map has the focus; the context menu lists
    // the same entries with these keys.
    const auto make = [this](const QString &text, const QString &name, const QKeySequence &key,
                             std::function<void(const QString &)> run) {
        auto *action = new QAction(text, m_view);
        action->setObjectName(name + QStringLiteral("Key"));
        action->setShortcut(key);
        action->setShortcutContext(Qt::WidgetWithChildrenShortcut);
        connect(action, &QAction::triggered, this, [this, run] {
            const QString qube = m_scene->selectedQube();
            if (!qube.isEmpty())
                run(qube);
        });
        m_view->addAction(action);
        m_qubeKeys.push_back({name, action, std::move(run)});
    };
    make(tr("Inspect"), QStringLiteral("inspect"), QKeySequence(Qt::Key_Return),
         [this](const QString &qube) { inspect(qube); });
    make(tr("Highlight egress path"), QStringLiteral("highlightEgress"), QKeySequence(Qt::Key_E),
         [this](const QString &qube) { highlightEgress(qube); });
    make(tr("Show firewall rules"), QStringLiteral("showFirewall"), QKeySequence(Qt::Key_F),
         [this](const QString &qube) { showFirewall(qube); });
    make(tr("Show its clients"), QStringLiteral("showClients"), QKeySequence(Qt::Key_Plus),
         [this](const QString &qube) { m_scene->showClients(qube); });
    make(tr("Fold its clients"), QStringLiteral("foldClients"), QKeySequence(Qt::Key_Minus),
         [this](const QString &qube) {
             m_scene->foldClients(qube);
             m_scene->selectQube(qube);
         });
    make(tr("Copy name"), QStringLiteral("copyName"), QKeySequence(Qt::CTRL | Qt::Key_C),
         [](const QString &qube) { QApplication::clipboard()->setText(qube); });
    make(tr("Copy IP"), QStringLiteral("copyIp"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C),
         [this](const QString &qube) {
             if (const Qube *q = m_scene->snapshot().find(qube); q && !q->ip.isEmpty())
                 QApplication::clipboard()->setText(q->ip);
         });
    // Return is handled by the view itself (it also works with no window around it).
    m_view->removeAction(m_qubeKeys.front().action);
}

void MainWindow::fillQubeMenu(const QString &qube, QMenu *menu)
{
    const Qube *q = m_scene->snapshot().find(qube);
    if (!q)
        return;
    const auto add = [this, menu, &qube](const QString &name) -> QAction * {
        for (const QubeKey &key : m_qubeKeys) {
            if (key.name != name)
                continue;
            QAction *entry = menu->addAction(key.action->text());
            entry->setObjectName(name);
            entry->setShortcut(key.action->shortcut());
            connect(entry, &QAction::triggered, this, [run = key.run, qube] { run(qube); });
            return entry;
        }
        return nullptr;
    };
    menu->setDefaultAction(add(QStringLiteral("inspect")));
    add(QStringLiteral("highlightEgress"));
    add(QStringLiteral("showFirewall"));
    if (m_scene->clusterItem(qube))
        add(QStringLiteral("showClients"));
    else if (m_scene->plainClientsOf(qube).size() >= 2)
        add(QStringLiteral("foldClients"));
    menu->addSeparator();
    add(QStringLiteral("copyName"));
    add(QStringLiteral("copyIp"))->setEnabled(!q->ip.isEmpty());
}

void MainWindow::inspect(const QString &qube)
{
    m_scene->selectQube(qube);
    m_inspector->showQube(qube);
    m_inspector->show();
    m_inspector->raise();
}

void MainWindow::highlightEgress(const QString &qube)
{
    m_scene->selectQube(qube);
    m_scene->highlightEgress(qube); // again, when it was selected already
}

void MainWindow::showFirewall(const QString &qube)
{
    inspect(qube);
    requestFirewall(qube);
}

void MainWindow::requestFirewall(const QString &qube)
{
    const Snapshot &s = m_scene->snapshot();
    const Qube *q = s.find(qube);
    // Read once per snapshot: the inspector keeps what it was given until the next refresh.
    if (!m_live || !q || !q->name.isRunnable() || s.firewall.contains(qube)
        || m_inspector->hasFirewallRules(qube) || m_firewallPending.contains(qube))
        return;
    m_firewallPending.insert(qube);
    m_inspector->setFirewallPending(qube);
    m_live->readFirewall(q->name);
}

} // namespace netmap
