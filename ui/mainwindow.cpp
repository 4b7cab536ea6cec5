#include "mainwindow.h"

#include "checkcontroller.h"
#include "diagram/diagramscene.h"
#include "diagram/diagramview.h"
#include "diagram/qubeitem.h"
#include "export/diagramexport.h"
#include "io/snapshotyaml.h"
#include "live/livecontroller.h"
#include "model/untrustedtext.h"
#include "panels/inspectordock.h"
#include "qubes/livesource.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTimer>
#include <QToolBar>

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
    m_view = new DiagramView(m_scene, this);
    setCentralWidget(m_view);
    m_inspector = new InspectorDock(this);
    addDockWidget(Qt::RightDockWidgetArea, m_inspector);
    m_inspector->setFirewallReadable(source.kind == SourceSpec::Kind::Live);

    m_sourceLabel = new QLabel(this);
    m_sourceLabel->setObjectName(QStringLiteral("sourceLabel"));
    m_sourceLabel->setTextFormat(Qt::PlainText);
    statusBar()->addWidget(m_sourceLabel, 1);

    createActions();
    createMenusAndToolBar();

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
            setSnapshot(snapshot);
        });
        connect(m_live, &LiveSource::failed, this, [this](const QString &message) {
            m_refreshAction->setEnabled(true);
            m_lastError = tr("qvm-ls failed: %1").arg(message);
            updateStatus();
            if (!m_loaded)
                showError(tr("Cannot read the qubes"), message);
        });
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

    restoreSettings();
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
    m_exportAction
        = make(tr("&Export…"), QStringLiteral("exportAction"), QStringLiteral("document-export"),
               {QKeySequence(Qt::CTRL | Qt::Key_E)}, tr("Save the diagram as SVG or PNG"));
    m_templatesAction = make(tr("Show &templates"), QStringLiteral("templatesAction"), QString(),
                             {}, tr("Show or hide template qubes"));
    m_templatesAction->setCheckable(true);
    m_quitAction
        = make(tr("&Quit"), QStringLiteral("quitAction"), QStringLiteral("application-exit"),
               {QKeySequence(Qt::CTRL | Qt::Key_Q)}, tr("Quit"));
    m_aboutAction = make(tr("&About"), QStringLiteral("aboutAction"), QString(), {}, QString());

    connect(m_refreshAction, &QAction::triggered, this, &MainWindow::refresh);
    connect(m_fitAction, &QAction::triggered, this, &MainWindow::fitDiagram);
    connect(m_zoomInAction, &QAction::triggered, this, &MainWindow::zoomIn);
    connect(m_zoomOutAction, &QAction::triggered, this, &MainWindow::zoomOut);
    connect(m_findAction, &QAction::triggered, this, &MainWindow::focusFind);
    connect(m_exportAction, &QAction::triggered, this, &MainWindow::exportInteractively);
    connect(m_templatesAction, &QAction::toggled, this, [this](bool show) {
        m_scene->setShowTemplates(show);
        QSettings().setValue(kTemplatesKey, show);
        updateStatus();
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

void MainWindow::createMenusAndToolBar()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->addAction(m_refreshAction);
    file->addAction(m_exportAction);
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
    view->addSeparator();
    view->addAction(m_inspector->toggleViewAction());
    QMenu *help = menuBar()->addMenu(tr("&Help"));
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
    restoreState(settings.value(kStateKey).toByteArray());
    const QSignalBlocker blocker(m_templatesAction);
    m_templatesAction->setChecked(settings.value(kTemplatesKey, false).toBool());
    m_scene->setShowTemplates(m_templatesAction->isChecked());
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    QSettings settings;
    settings.setValue(kGeometryKey, saveGeometry());
    settings.setValue(kStateKey, saveState());
    QMainWindow::closeEvent(event);
}

void MainWindow::setSnapshot(const Snapshot &snapshot)
{
    m_scene->setSnapshot(snapshot);
    m_inspector->setSnapshot(snapshot);
    // A view the user has not zoomed stays fitted to the new diagram.
    if (!m_loaded || m_view->isFitted())
        m_view->fitDiagram();
    m_loaded = true;
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
    } else if (m_source.kind == SourceSpec::Kind::Live) {
        text = tr("Reading qubes with qvm-ls…");
    }
    if (!m_lastError.isEmpty())
        text = text.isEmpty() ? m_lastError : text + QStringLiteral(" · ") + m_lastError;
    m_sourceLabel->setText(untrustedtext::line(text, 500));
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
            updateStatus();
            showError(tr("Cannot open the snapshot"), loaded.error().toString());
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
    m_findIndex = 0;
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
    if (QubeItem *item = m_scene->qubeItem(matches[m_findIndex]))
        m_view->centerOn(item);
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
    const Status written = exportDiagram(m_scene->snapshot(), path, m_scene->showTemplates());
    if (!written) {
        showError(tr("The diagram was not exported"), written.error().toString());
        return;
    }
    statusBar()->showMessage(tr("Exported %1").arg(QDir::toNativeSeparators(path)), 6000);
}

void MainWindow::fillQubeMenu(const QString &qube, QMenu *menu)
{
    const Qube *q = m_scene->snapshot().find(qube);
    if (!q)
        return;
    QAction *inspectAction = menu->addAction(tr("Inspect"), this, [this, qube] { inspect(qube); });
    inspectAction->setObjectName(QStringLiteral("inspect"));
    menu->setDefaultAction(inspectAction);
    menu->addAction(tr("Highlight egress path"), this, [this, qube] { highlightEgress(qube); })
        ->setObjectName(QStringLiteral("highlightEgress"));
    menu->addAction(tr("Show firewall rules"), this, [this, qube] { showFirewall(qube); })
        ->setObjectName(QStringLiteral("showFirewall"));
    menu->addSeparator();
    menu->addAction(tr("Copy name"), this, [qube] { QApplication::clipboard()->setText(qube); })
        ->setObjectName(QStringLiteral("copyName"));
    const QString ip = q->ip;
    QAction *copyIp
        = menu->addAction(tr("Copy IP"), this, [ip] { QApplication::clipboard()->setText(ip); });
    copyIp->setObjectName(QStringLiteral("copyIp"));
    copyIp->setEnabled(!ip.isEmpty());
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
