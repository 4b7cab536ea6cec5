// The window's actions, menus and toolbar, Help ▸ What the results mean, and the keys and
// context-menu entries that act on a qube.
#include "mainwindow.h"
#include "mainwindow_p.h"

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
#include "windowparts.h"

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

using namespace windowkeys;

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
             if (const Qube *q = m_document->snapshot().find(qube); q && !q->ip.isEmpty())
                 QApplication::clipboard()->setText(q->ip);
         });
    // Return is handled by the view itself (it also works with no window around it).
    m_view->removeAction(m_qubeKeys.front().action);
}

void MainWindow::fillQubeMenu(const QString &qube, QMenu *menu)
{
    const Qube *q = m_document->snapshot().find(qube);
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

} // namespace netmap
