// The check controller: installing its actions, menu, toolbar entry, status-bar progress and
// results dock, running the Verifier on the document and adding its results to it. The context
// menu is in checkmenu.cpp, the kill-switch drill in checkdrill.cpp.
#include "checks/checkcontroller.h"

#include "actionlog.h"

#include "checks/drilldialog.h"
#include "checks/resultsdock.h"
#include "diagram/diagramscene.h"
#include "diagram/diagramview.h"
#include "document/networkdocument.h"
#include "model/topology.h"
#include "model/untrustedtext.h"
#include "policy/inference.h"

#include <QAction>
#include <QLabel>
#include <QMainWindow>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QStatusBar>
#include <QTimer>
#include <QToolBar>

#include <memory>

namespace netmap {

namespace {

// Results that arrive together are drawn together: one restyle per burst, not per result.
constexpr int kApplyDelayMs = 40;

} // namespace

CheckController::CheckController(NetworkDocument *document, const WindowParts &parts)
    : QObject(parts.window)
    , m_document(document)
    , m_window(parts.window)
    , m_scene(parts.scene)
{
    QMainWindow *window = parts.window;
    setObjectName(QStringLiteral("checkController"));
    if (auto config = loadCheckConfig())
        m_base.config = std::move(config).value();
    else
        message(tr("Check config not read, using the defaults: %1").arg(config.error().toString()));

    m_verifyAllAction
        = new QAction(QIcon::fromTheme(QStringLiteral("system-run")), tr("&Verify all"), this);
    m_verifyAllAction->setObjectName(QStringLiteral("verifyAllAction"));
    m_verifyAllAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    m_verifyAllAction->setShortcutContext(Qt::WindowShortcut);
    m_verifyAllAction->setStatusTip(
        tr("Run every check in every running networked qube (halted qubes are not started)"));
    window->addAction(m_verifyAllAction);
    m_cancelAction
        = new QAction(QIcon::fromTheme(QStringLiteral("process-stop")), tr("&Cancel checks"), this);
    m_cancelAction->setObjectName(QStringLiteral("cancelChecksAction"));
    m_cancelAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R));
    m_cancelAction->setShortcutContext(Qt::WindowShortcut);
    m_cancelAction->setEnabled(false);
    window->addAction(m_cancelAction);
    connect(m_verifyAllAction, &QAction::triggered, this, &CheckController::verifyAll);
    connect(m_cancelAction, &QAction::triggered, this, &CheckController::cancel);

    // Keys for the qube menu's check entries, acting on the selected qube while the map has
    // the focus: the entry is looked up in that qube's menu and triggered only when enabled
    // there, so a key does exactly what the menu would (nothing on the demo, a halted qube...).
    const QList<std::pair<QString, QKeySequence>> keys {
        {actionName(CheckKind::ExternalIp), QKeySequence(Qt::Key_1)},
        {actionName(CheckKind::Vpn), QKeySequence(Qt::Key_2)},
        {actionName(CheckKind::Tor), QKeySequence(Qt::Key_3)},
        {actionName(CheckKind::DnsLeak), QKeySequence(Qt::Key_4)},
        {actionName(CheckKind::Isolation), QKeySequence(Qt::Key_5)},
        {actionName(CheckKind::KillSwitch), QKeySequence(Qt::Key_6)},
        {QStringLiteral("runAllChecks"), QKeySequence(Qt::Key_R)},
        {QStringLiteral("killSwitchDrill"), QKeySequence(Qt::Key_D)},
        // Start a halted qube and run all its checks (the "Start QUBE and check" submenu).
        {QStringLiteral("runAllChecksAutostart"), QKeySequence(Qt::SHIFT | Qt::Key_R)},
    };
    for (const auto &[entry, key] : keys) {
        auto *action = new QAction(parts.view);
        action->setObjectName(entry + QStringLiteral("Key"));
        action->setShortcut(key);
        action->setShortcutContext(Qt::WidgetWithChildrenShortcut);
        connect(action, &QAction::triggered, this, [this, name = entry] {
            const QString qube = m_scene->selectedQube();
            if (qube.isEmpty())
                return;
            const std::unique_ptr<QMenu> menu(m_scene->createContextMenu(qube));
            auto *target = menu->findChild<QAction *>(name);
            // In a submenu ("Start QUBE and check"), only while that submenu is enabled.
            const auto *within = target ? qobject_cast<QMenu *>(target->parent()) : nullptr;
            if (target && target->isEnabled() && (!within || within->isEnabled()))
                target->trigger();
        });
        parts.view->addAction(action);
        m_keys.insert(entry, key);
    }

    m_dock = new ResultsDock(document, window);
    window->addDockWidget(Qt::BottomDockWidgetArea, m_dock);

    m_checksMenu = new QMenu(tr("&Checks"), window);
    m_checksMenu->setObjectName(QStringLiteral("checksMenu"));
    m_unavailableAction = new QAction(this);
    m_unavailableAction->setObjectName(QStringLiteral("checksOffNote"));
    m_unavailableAction->setEnabled(false);
    m_checksMenu->addAction(m_unavailableAction);
    m_checksMenu->addAction(m_verifyAllAction);
    m_checksMenu->addAction(m_cancelAction);
    m_checksMenu->addSeparator();
    QAction *resultsAction = m_dock->toggleViewAction();
    resultsAction->setObjectName(QStringLiteral("resultsAction"));
    resultsAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_J));
    resultsAction->setShortcutContext(Qt::WindowShortcut);
    window->addAction(resultsAction);
    m_checksMenu->addAction(resultsAction);
    const QList<QAction *> menus = window->menuBar()->actions();
    // Before Help, the last menu.
    window->menuBar()->insertMenu(menus.isEmpty() ? nullptr : menus.last(), m_checksMenu);

    if (auto *bar = window->findChild<QToolBar *>(QStringLiteral("mainToolBar"))) {
        // Next to Refresh: reading the qubes and verifying them are the two data actions.
        const QList<QAction *> actions = bar->actions();
        QAction *before = nullptr;
        for (int i = 0; i < actions.size(); ++i)
            if (actions[i]->objectName() == QLatin1String("refreshAction")
                && i + 1 < actions.size())
                before = actions[i + 1];
        bar->insertAction(before, m_verifyAllAction);
    }

    m_progressLabel = new QLabel(window);
    m_progressLabel->setObjectName(QStringLiteral("checkProgressLabel"));
    m_progressLabel->setTextFormat(Qt::PlainText);
    m_progress = new QProgressBar(window);
    m_progress->setObjectName(QStringLiteral("checkProgress"));
    m_progress->setMinimumWidth(160);
    m_progress->setMaximumWidth(240);
    m_progress->setFormat(tr("%v / %m checks"));
    m_cancelButton = new QPushButton(tr("Cancel"), window);
    m_cancelButton->setObjectName(QStringLiteral("cancelChecksButton"));
    m_cancelButton->setToolTip(tr("Stop the checks (a kill-switch drill still restores first)"));
    window->statusBar()->addPermanentWidget(m_progressLabel);
    window->statusBar()->addPermanentWidget(m_progress);
    window->statusBar()->addPermanentWidget(m_cancelButton);
    connect(m_cancelButton, &QPushButton::clicked, this, &CheckController::cancel);
    setRunning(false);

    m_applyTimer = new QTimer(this);
    m_applyTimer->setSingleShot(true);
    m_applyTimer->setInterval(kApplyDelayMs);
    connect(m_applyTimer, &QTimer::timeout, this, &CheckController::applyPending);

    DiagramScene *scene = parts.scene;
    // --verify runs once the map shows the qubes.
    const auto startWhenShown = [this] {
        if (m_startupRequest && !m_document->snapshot().qubes.empty())
            QTimer::singleShot(0, this, [this] { verifyWhenShown(VerifyRequest {}); });
    };
    connect(document, &NetworkDocument::snapshotReplaced, this, startWhenShown);
    connect(document, &NetworkDocument::snapshotUpdated, this, startWhenShown);
    connect(scene, &DiagramScene::contextMenuRequested, this, &CheckController::fillQubeMenu);
    connect(document, &NetworkDocument::liveStateChanged, this,
            &CheckController::updateAvailability);
    connect(m_dock, &ResultsDock::qubeClicked, scene, &DiagramScene::selectQube);
    // And back: a qube selected on the map selects its results (unless one already is).
    connect(scene, &DiagramScene::qubeSelected, this, [this](const QString &qube) {
        if (!qube.isEmpty() && m_dock->selectedQube() != qube)
            m_dock->showQube(qube);
    });
}

CheckController::~CheckController() = default;

void CheckController::setBaseRequest(const VerifyRequest &request)
{
    m_base = request;
    m_base.qubes.clear();
    m_base.checks.clear();
    m_base.autostart = false;
    m_base.drill = false;
}

DrillDialog *CheckController::drillDialog() const
{
    return m_drillDialog.data();
}

bool CheckController::isRunning() const
{
    return m_verifier != nullptr;
}

QString CheckController::progressText() const
{
    return m_progressLabel->text();
}

VerifyRequest CheckController::requestFor(const QStringList &qubes, const QList<CheckKind> &checks,
                                          bool autostart) const
{
    VerifyRequest request = m_base;
    request.qubes = qubes;
    request.checks = checks;
    request.autostart = autostart;
    request.drill = false;
    return request;
}

Status CheckController::verify(const QStringList &qubes, const QList<CheckKind> &checks,
                               bool autostart)
{
    return startRun(requestFor(qubes, checks, autostart));
}

void CheckController::verifyAll()
{
    static_cast<void>(verify({}, {})); // a refusal is said in the status bar
}

Status CheckController::startRun(const VerifyRequest &request)
{
    QString why;
    if (!m_document->checksAllowed(&why)) {
        message(why);
        return makeError(Error::Code::Usage, why);
    }
    if (m_verifier) {
        message(tr("A verification is already running"));
        return makeError(Error::Code::Usage, QStringLiteral("a verification is already running"));
    }
    auto *verifier = new Verifier(this);
    connect(verifier, &Verifier::resultReady, this, &CheckController::onResult);
    connect(verifier, &Verifier::progress, this, &CheckController::onProgress);
    connect(verifier, &Verifier::qubeBusy, m_scene, &DiagramScene::setQubeBusy);
    connect(verifier, &Verifier::finished, this, &CheckController::onFinished);
    // The map, inspector and exports judge by the intent the checks are judged by.
    m_document->setIntent(request.expectations);
    const Status started = verifier->start(m_document->snapshot(), request);
    if (!started) {
        delete verifier;
        message(tr("The checks did not start: %1").arg(started.error().toString()));
        return started;
    }
    if (request.autostart)
        for (const QString &qube : request.qubes)
            if (const Qube *q = m_document->snapshot().find(qube); q && !q->isRunning())
                ActionLog::record(qube, QStringLiteral("started to be checked (--autostart)"),
                                  QStringLiteral("qvm-run --autostart"));
    m_verifier = verifier;
    m_focusQube = request.qubes.size() == 1 ? request.qubes.constFirst() : QString();
    m_cancelled = false;
    m_done = 0;
    m_total = verifier->total();
    m_progress->setRange(0, std::max(1, m_total));
    m_progress->setValue(0);
    m_progressLabel->setText(request.drill ? tr("Kill-switch drill…") : tr("Checking…"));
    setRunning(true);
    m_window->statusBar()->clearMessage();
    emit runStarted(m_total);
    return Ok {};
}

void CheckController::cancel()
{
    if (!m_verifier || m_cancelled)
        return;
    m_cancelled = true;
    m_drillAfterProbe.clear();
    m_drillQueue.clear();
    m_progressLabel->setText(tr("Cancelling…"));
    m_cancelButton->setEnabled(false);
    m_verifier->cancel();
}

void CheckController::onResult(const CheckResult &result)
{
    // The kill-switch check reads the ruleset as root in the VPN qube: kept on record.
    if (result.check == CheckKind::KillSwitch && !result.command.isEmpty())
        ActionLog::record(result.qube.toString(), QStringLiteral("kill-switch check (as root)"),
                          result.command);
    m_pending << result;
    // The tunnels the run saw (a VPN qube's menu offers the drill once one is known).
    m_pendingTunnels = m_verifier ? m_verifier->snapshot().tunnels : m_pendingTunnels;
    emit resultArrived(result);
    if (!m_applyTimer->isActive())
        m_applyTimer->start();
}

void CheckController::applyPending()
{
    if (m_pending.isEmpty() && m_pendingTunnels.isEmpty())
        return;
    // Onto what the document holds now: a netvm that changed meanwhile makes the results stale.
    // The same qubes with more evidence: restyled in place, never laid out again. Where the
    // run's clearnet baselines came from goes with them, for the exports.
    const QList<CheckResult> arrived = std::exchange(m_pending, {});
    const QMap<QString, QStringList> tunnels = std::exchange(m_pendingTunnels, {});
    m_document->addResults(arrived, tunnels,
                           m_verifier ? std::optional(m_verifier->snapshot().baselines)
                                      : std::nullopt);
    // A run on one qube: its newest row is selected and scrolled into view, so a single check
    // from the context menu is seen, not only counted in the status bar.
    if (!m_focusQube.isEmpty())
        for (const CheckResult &r : arrived)
            if (r.qube.toString() == m_focusQube)
                m_dock->showQube(m_focusQube, r.check);
}

void CheckController::onProgress(int done, int total, const QString &current)
{
    m_done = done;
    m_total = total;
    m_progress->setRange(0, std::max(1, total));
    m_progress->setValue(done);
    if (!m_cancelled && !current.isEmpty())
        m_progressLabel->setText(tr("Checking %1…").arg(untrustedtext::line(current, 80)));
}

void CheckController::onFinished()
{
    m_applyTimer->stop();
    applyPending();
    m_scene->clearBusy();
    Verifier *verifier = std::exchange(m_verifier, nullptr);
    int counts[4] = {0, 0, 0, 0};
    const Snapshot &ran = verifier->snapshot();
    const std::size_t first = ran.checks.size() - std::min<std::size_t>(ran.checks.size(), m_done);
    for (std::size_t i = first; i < ran.checks.size(); ++i)
        ++counts[int(ran.checks[i].status)];
    const QString tally = QStringLiteral("%1 ✔ · %2 ✘ · %3 ⚠ · %4 —")
                              .arg(counts[int(CheckStatus::Pass)])
                              .arg(counts[int(CheckStatus::Fail)])
                              .arg(counts[int(CheckStatus::Error)])
                              .arg(counts[int(CheckStatus::Skipped)]);
    const bool cancelled = m_cancelled;
    if (cancelled)
        message(tr("Checks cancelled: %1 of %2 done before the cancel; %3")
                    .arg(counts[int(CheckStatus::Pass)] + counts[int(CheckStatus::Fail)])
                    .arg(m_total)
                    .arg(tally),
                30000);
    else if (m_total == 0)
        message(tr("Nothing to check: no running networked qube was selected"));
    else
        message(tr("Checks finished: %1").arg(tally), 30000);
    verifier->deleteLater();
    m_cancelled = false;
    setRunning(false);
    emit runFinished(cancelled);

    if (!m_drillAfterProbe.isEmpty())
        openDrillDialog(std::exchange(m_drillAfterProbe, QString()));
    else if (!m_drillQueue.isEmpty())
        requestDrill(m_drillQueue.takeFirst());
}

void CheckController::setRunning(bool running)
{
    m_progress->setVisible(running);
    m_progressLabel->setVisible(running);
    m_cancelButton->setVisible(running);
    m_cancelButton->setEnabled(running);
    m_cancelAction->setEnabled(running);
    updateAvailability();
}

void CheckController::updateAvailability()
{
    QString why;
    const bool allowed = m_document->checksAllowed(&why);
    m_verifyAllAction->setEnabled(allowed && !m_verifier);
    const QString tip = allowed
        ? tr("Run every check in every running networked qube (halted qubes are not started)")
        : why;
    m_verifyAllAction->setStatusTip(tip);
    m_verifyAllAction->setToolTip(allowed ? tr("Verify all (Ctrl+R)") : why);
    m_unavailableAction->setText(why);
    m_unavailableAction->setVisible(!allowed);
}

void CheckController::message(const QString &text, int ms)
{
    m_lastMessage = untrustedtext::line(text, 300);
    m_window->statusBar()->showMessage(m_lastMessage, ms);
}

void CheckController::verifyWhenShown(const VerifyRequest &request)
{
    if (!m_startupRequest) {
        setBaseRequest(request);
        m_startupRequest = request;
        // --expect reaches the map, the inspector and the exports before the checks run.
        if (!request.expectations.isEmpty() || !request.expectations.sourceFile.isEmpty())
            m_document->setIntent(request.expectations);
    }
    if (m_document->snapshot().qubes.empty() || m_verifier)
        return; // snapshotChanged calls again once the map is there
    VerifyRequest run = std::exchange(m_startupRequest, std::nullopt).value();
    if (run.drill) {
        // The drill is still asked for in the window, one VPN qube at a time, after the checks.
        if (auto plan = planVerification(m_document->snapshot(), run)) {
            for (const PlannedCheck &p : *plan)
                if (p.check == CheckKind::KillSwitch && p.skipReason.isEmpty()
                    && !m_drillQueue.contains(p.qube))
                    m_drillQueue << p.qube;
        }
        run.drill = false;
    }
    static_cast<void>(startRun(run));
}

} // namespace netmap
