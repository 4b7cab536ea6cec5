// The main window: its layout, following its document (status line, banner, the view kept over
// a relayout), reading its source, find, zoom and the inspector. Actions and menus are in
// mainwindowactions.cpp, files (open, save, export, compare) in mainwindowfiles.cpp.
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

MainWindow::MainWindow(const SourceSpec &source, QWidget *parent)
    : QMainWindow(parent)
    , m_document(new NetworkDocument(source, this))
{
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(tr("Qubes Network Map"));
    m_scene = new DiagramScene(m_document, this);
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

    m_inspector = new InspectorDock(m_document, this);
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
            carryEvidence(m_document->snapshot(), &kept);
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

    // After the scene and the inspector: the window follows the document after they drew it.
    connect(m_document, &NetworkDocument::snapshotReplaced, this, &MainWindow::onSnapshotReplaced);
    connect(m_document, &NetworkDocument::snapshotUpdated, this, &MainWindow::onSnapshotUpdated);
    // A followed change the scene cannot draw in place: the part of the map the user looks at
    // stays in view across the new layout.
    connect(m_scene, &DiagramScene::aboutToRelayout, this, [this] {
        m_keptView.emplace(m_view->mapToScene(m_view->viewport()->rect().center()),
                           m_view->transform());
    });
    connect(m_scene, &DiagramScene::diagramRebuilt, this, [this] {
        if (!m_keptView)
            return;
        const auto [centre, zoom] = *std::exchange(m_keptView, std::nullopt);
        m_view->setTransform(zoom);
        m_view->centerOn(centre);
    });

    const WindowParts parts {this, m_scene, m_view, m_viewMenu};
    // After the window's own context-menu entries; before restoreSettings() (its dock).
    m_liveController = new LiveController(m_document, parts);
    // Checks: after the window's own context-menu entries; before restoreSettings() (its dock).
    m_checkController = new CheckController(m_document, parts);
    // The evidence dialog's Copy and Save follow File > Redact for sharing, with the mapping the
    // report and picture of this snapshot use.
    m_checkController->resultsDock()->setRedactionSource([this]() {
        const RedactOptions options = redaction();
        return options.any() ? std::make_shared<const Redaction>(m_document->snapshot(), options)
                             : std::shared_ptr<const Redaction>();
    });

    restoreSettings();
    updateBanner();
    refresh();
}

MainWindow::~MainWindow() = default;

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
    m_document->replaceSnapshot(snapshot);
}

void MainWindow::showFollowedSnapshot(const Snapshot &snapshot)
{
    m_document->updateSnapshot(snapshot);
}

void MainWindow::onSnapshotReplaced()
{
    // Comparison marks describe the map they were made on.
    m_scene->setComparison({});
    m_clearComparisonAction->setEnabled(false);
    // A view the user has not zoomed stays fitted to the new diagram.
    if (!m_loaded || m_view->isFitted())
        m_view->fitDiagram();
    if (!m_loaded) // what a file or the demo brings is not new
        m_savedChecks = m_document->snapshot().checks.size();
    m_loaded = true;
    m_loadError.clear();
    if (!m_findEdit->text().isEmpty())
        onFind(m_findEdit->text());
    updateStatus();
}

void MainWindow::onSnapshotUpdated()
{
    m_loaded = true;
    m_lastError.clear();
    if (!m_findEdit->text().isEmpty())
        onFind(m_findEdit->text());
    updateStatus();
}

const Snapshot &MainWindow::snapshot() const
{
    return m_document->snapshot();
}

QString MainWindow::statusText() const
{
    return m_sourceLabel->text();
}

void MainWindow::updateStatus()
{
    QString text;
    if (m_loaded) {
        const Snapshot &s = m_document->snapshot();
        switch (m_document->source().kind) {
        case SourceSpec::Kind::Demo:
            text = tr("Demo network");
            break;
        case SourceSpec::Kind::File:
            text = tr("Snapshot file %1").arg(QFileInfo(m_document->source().path).fileName());
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
    } else if (m_document->source().kind == SourceSpec::Kind::Live && m_loadError.isEmpty()) {
        text = tr("Reading qubes with qvm-ls…");
    }
    if (!m_lastError.isEmpty())
        text = text.isEmpty() ? m_lastError : text + QStringLiteral(" · ") + m_lastError;
    m_sourceLabel->setText(untrustedtext::line(text, 500));
    updateBanner();
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
    const Snapshot &s = m_document->snapshot();
    if (!m_loadError.isEmpty()) {
        text = m_loadError;
        offerOthers = true;
    } else {
        switch (m_document->source().kind) {
        case SourceSpec::Kind::Demo:
            text = tr("Demo network: invented qubes with recorded results, not your system. "
                      "Checks are off.");
            break;
        case SourceSpec::Kind::File:
            text = tr("Saved snapshot %1").arg(QFileInfo(m_document->source().path).fileName());
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
    m_openDemoButton->setVisible(offerOthers
                                 && m_document->source().kind != SourceSpec::Kind::Demo);
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
    return m_document->checksAllowed(why);
}

void MainWindow::refresh()
{
    switch (m_document->source().kind) {
    case SourceSpec::Kind::Demo:
        setSnapshot(demoSnapshot());
        break;
    case SourceSpec::Kind::File: {
        const Result<Snapshot> loaded = loadSnapshotFile(m_document->source().path);
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
    const Snapshot &s = m_document->snapshot();
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
