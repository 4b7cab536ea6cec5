#include "checks/checkcontroller.h"

#include "actionlog.h"

#include "checks/drilldialog.h"
#include "checks/resultsdock.h"
#include "diagram/diagramscene.h"
#include "diagram/diagramview.h"
#include "inspector/inspectordock.h"
#include "mainwindow.h"
#include "model/topology.h"
#include "model/untrustedtext.h"
#include "policy/inference.h"

#include <QAction>
#include <QLabel>
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

const QList<CheckKind> kMenuChecks {CheckKind::ExternalIp, CheckKind::Vpn, CheckKind::Tor,
                                    CheckKind::DnsLeak, CheckKind::Isolation};

QString actionName(CheckKind check)
{
    switch (check) {
    case CheckKind::ExternalIp:
        return QStringLiteral("checkExternalIp");
    case CheckKind::Vpn:
        return QStringLiteral("checkVpn");
    case CheckKind::KillSwitch:
        return QStringLiteral("checkKillSwitch");
    case CheckKind::Tor:
        return QStringLiteral("checkTor");
    case CheckKind::DnsLeak:
        return QStringLiteral("checkDnsLeak");
    case CheckKind::Isolation:
        return QStringLiteral("checkIsolation");
    }
    return QString();
}

} // namespace

CheckController::CheckController(MainWindow *window)
    : QObject(window)
    , m_window(window)
{
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
        auto *action = new QAction(window->view());
        action->setObjectName(entry + QStringLiteral("Key"));
        action->setShortcut(key);
        action->setShortcutContext(Qt::WidgetWithChildrenShortcut);
        connect(action, &QAction::triggered, this, [this, name = entry] {
            const QString qube = m_window->scene()->selectedQube();
            if (qube.isEmpty())
                return;
            const std::unique_ptr<QMenu> menu(m_window->scene()->createContextMenu(qube));
            auto *target = menu->findChild<QAction *>(name);
            // In a submenu ("Start QUBE and check"), only while that submenu is enabled.
            const auto *within = target ? qobject_cast<QMenu *>(target->parent()) : nullptr;
            if (target && target->isEnabled() && (!within || within->isEnabled()))
                target->trigger();
        });
        window->view()->addAction(action);
        m_keys.insert(entry, key);
    }

    m_dock = new ResultsDock(window);
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

    DiagramScene *scene = window->scene();
    connect(scene, &DiagramScene::snapshotChanged, this, [this] {
        m_dock->setSnapshot(m_window->snapshot());
        if (m_startupRequest && !m_window->snapshot().qubes.empty())
            QTimer::singleShot(0, this, [this] { verifyWhenShown(VerifyRequest {}); });
    });
    connect(scene, &DiagramScene::contextMenuRequested, this, &CheckController::fillQubeMenu);
    connect(window, &MainWindow::sourceStateChanged, this, &CheckController::updateAvailability);
    connect(m_dock, &ResultsDock::qubeClicked, scene, &DiagramScene::selectQube);
    // And back: a qube selected on the map selects its results (unless one already is).
    connect(scene, &DiagramScene::qubeSelected, this, [this](const QString &qube) {
        if (!qube.isEmpty() && m_dock->selectedQube() != qube)
            m_dock->showQube(qube);
    });
    m_dock->setSnapshot(window->snapshot());
}

CheckController::~CheckController() = default;

QString CheckController::menuText(CheckKind check)
{
    switch (check) {
    case CheckKind::ExternalIp:
        return tr("Check external IP");
    case CheckKind::Vpn:
        return tr("Check VPN leak");
    case CheckKind::KillSwitch:
        return tr("Check kill switch");
    case CheckKind::Tor:
        return tr("Check Tor");
    case CheckKind::DnsLeak:
        return tr("Check DNS leak");
    case CheckKind::Isolation:
        return tr("Check isolation");
    }
    return QString();
}

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
    if (!m_window->checksAllowed(&why)) {
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
    connect(verifier, &Verifier::qubeBusy, m_window->scene(), &DiagramScene::setQubeBusy);
    connect(verifier, &Verifier::finished, this, &CheckController::onFinished);
    if (m_window->snapshot().intent != request.expectations) {
        // The map, inspector and exports judge by the intent the checks are judged by.
        Snapshot withIntent = m_window->snapshot();
        withIntent.intent = request.expectations;
        m_window->showFollowedSnapshot(withIntent);
    }
    const Status started = verifier->start(m_window->snapshot(), request);
    if (!started) {
        delete verifier;
        message(tr("The checks did not start: %1").arg(started.error().toString()));
        return started;
    }
    if (request.autostart)
        for (const QString &qube : request.qubes)
            if (const Qube *q = m_window->snapshot().find(qube); q && !q->isRunning())
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
    // Onto what the window shows now: a netvm that changed meanwhile makes the results stale.
    Snapshot snapshot = m_window->snapshot();
    for (const CheckResult &r : std::as_const(m_pending))
        snapshot.checks.push_back(r);
    for (auto it = m_pendingTunnels.cbegin(); it != m_pendingTunnels.cend(); ++it)
        if (snapshot.find(it.key()))
            snapshot.tunnels.insert(it.key(), it.value());
    // Where the run's clearnet baselines came from, for the exports.
    if (m_verifier)
        snapshot.baselines = m_verifier->snapshot().baselines;
    const QList<CheckResult> arrived = std::exchange(m_pending, {});
    m_pendingTunnels.clear();
    // The same qubes with more evidence: restyled in place, never laid out again.
    m_window->showFollowedSnapshot(snapshot);
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
    m_window->scene()->clearBusy();
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
    const bool allowed = m_window->checksAllowed(&why);
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
    }
    if (m_window->snapshot().qubes.empty() || m_verifier)
        return; // snapshotChanged calls again once the map is there
    VerifyRequest run = std::exchange(m_startupRequest, std::nullopt).value();
    if (run.drill) {
        // The drill is still asked for in the window, one VPN qube at a time, after the checks.
        if (auto plan = planVerification(m_window->snapshot(), run)) {
            for (const PlannedCheck &p : *plan)
                if (p.check == CheckKind::KillSwitch && p.skipReason.isEmpty()
                    && !m_drillQueue.contains(p.qube))
                    m_drillQueue << p.qube;
        }
        run.drill = false;
    }
    static_cast<void>(startRun(run));
}

bool CheckController::isVpnQube(const QString &qube) const
{
    const Snapshot &s = m_window->snapshot();
    const Qube *q = s.find(qube);
    if (!q || !q->providesNetwork)
        return false;
    if (!s.tunnels.value(qube).isEmpty())
        return true;
    const Topology topology(s);
    return vpnProviderOf(s, topology, qube) == qube;
}

void CheckController::requestDrill(const QString &vpnQube)
{
    QString why;
    if (!m_window->checksAllowed(&why)) {
        message(why);
        return;
    }
    if (m_verifier) {
        message(tr("Wait for the running checks to finish (or cancel them) first"));
        return;
    }
    const Snapshot &s = m_window->snapshot();
    if (!s.tunnels.contains(vpnQube)) {
        // Which tunnel to break is only known once the qube has been looked at.
        if (verify({vpnQube}, {CheckKind::KillSwitch}))
            m_drillAfterProbe = vpnQube;
        m_progressLabel->setText(tr("Looking for the tunnel in %1…").arg(vpnQube));
        return;
    }
    openDrillDialog(vpnQube);
}

void CheckController::openDrillDialog(const QString &vpnQube)
{
    if (m_drillDialog) {
        m_drillDialog->raise();
        m_drillDialog->activateWindow();
        return;
    }
    VerifyRequest request = requestFor({vpnQube}, {CheckKind::KillSwitch}, false);
    request.drill = true;
    const auto plan = planDrill(m_window->snapshot(), request, vpnQube);
    if (!plan) {
        auto *box = new QMessageBox(QMessageBox::Information, tr("Kill-switch drill"),
                                    tr("The kill-switch drill cannot run on %1.").arg(vpnQube),
                                    QMessageBox::Ok, m_window);
        box->setObjectName(QStringLiteral("drillRefused"));
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->setTextFormat(Qt::PlainText);
        box->setInformativeText(untrustedtext::block(plan.error().message, 4096));
        box->open();
        message(tr("Kill-switch drill on %1: %2").arg(vpnQube, plan.error().message));
        return;
    }
    if (!m_window->checksAllowed())
        return;
    m_drillDialog = new DrillDialog(*plan, m_window);
    m_drillDialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(m_drillDialog, &QDialog::accepted, this, [this, shown = *plan] { runDrill(shown); });
    connect(m_drillDialog, &QDialog::rejected, this, [this, vpnQube] {
        message(tr("Kill-switch drill on %1 not run").arg(vpnQube));
        if (!m_drillQueue.isEmpty())
            QTimer::singleShot(0, this, [this] { requestDrill(m_drillQueue.takeFirst()); });
    });
    m_drillDialog->open();
}

void CheckController::runDrill(const DrillPlan &shown)
{
    VerifyRequest request = requestFor({shown.vpnQube}, {CheckKind::KillSwitch}, false);
    request.drill = true;
    // Runs only what was shown: if anything changed since (another tunnel, another qube behind
    // it), ask again with the new commands.
    const auto now = planDrill(m_window->snapshot(), request, shown.vpnQube);
    bool same = now && now->commands.size() == shown.commands.size();
    for (int i = 0; same && i < shown.commands.size(); ++i)
        same = now->commands[i].display() == shown.commands[i].display();
    if (!same) {
        message(tr("The drill on %1 changed since it was shown; asking again").arg(shown.vpnQube));
        QTimer::singleShot(0, this, [this, vpn = shown.vpnQube] { openDrillDialog(vpn); });
        return;
    }
    if (startRun(request)) {
        static const char *const steps[]
            = {"kill-switch drill: break the tunnel (as root)",
               "kill-switch drill: test a client's egress", "kill-switch drill: restore (as root)"};
        for (int i = 0; i < shown.commands.size(); ++i)
            ActionLog::record(i == 1 ? shown.downstreamQube : shown.vpnQube,
                              QString::fromLatin1(steps[std::min(i, 2)]),
                              shown.commands[i].display());
    }
}

void CheckController::fillQubeMenu(const QString &qube, QMenu *menu)
{
    const Snapshot &s = m_window->snapshot();
    const Qube *q = s.find(qube);
    if (!q || q->isAdmin() || !q->name.isRunnable())
        return;
    menu->addSeparator();
    QString why;
    if (!m_window->checksAllowed(&why)) {
        QAction *note = menu->addAction(why);
        note->setObjectName(QStringLiteral("checksOffNote"));
        note->setEnabled(false);
        return;
    }
    const bool networked = !q->isTemplate() && (q->netvm.has_value() || q->providesNetwork);
    if (!networked) {
        QAction *note = menu->addAction(tr("Checks: %1 has no network").arg(qube));
        note->setObjectName(QStringLiteral("checksUnavailable"));
        note->setEnabled(false);
        return;
    }
    const bool running = isRunning();
    const bool canRun = q->isRunning() && !running;
    const bool vpn = isVpnQube(qube);
    QList<CheckKind> checks = kMenuChecks;
    if (vpn)
        checks << CheckKind::KillSwitch;
    // Only the checks that apply to this qube (a Tor check on a clearnet qube is always
    // skipped): the plan says which, as if the qube were running.
    if (const auto plan = planVerification(s, requestFor({qube}, {}, true))) {
        QList<CheckKind> applicable;
        for (const PlannedCheck &p : *plan)
            if (p.qube == qube && p.skipReason.isEmpty())
                applicable << p.check;
        checks.removeIf([&](CheckKind c) {
            return !applicable.contains(c) && !(c == CheckKind::KillSwitch && vpn);
        });
    }

    if (!q->isRunning()) {
        const QString state = q->state.isEmpty() ? tr("in an unknown state") : q->state.toLower();
        QAction *note
            = menu->addAction(q->isHalted() ? tr("%1 is halted: checks do not start it").arg(qube)
                                            : tr("%1 is %2: checks cannot run").arg(qube, state));
        note->setObjectName(QStringLiteral("notRunningNote"));
        note->setEnabled(false);
    }
    for (CheckKind check : std::as_const(checks)) {
        QAction *action = menu->addAction(menuText(check), this, [this, qube, check] {
            static_cast<void>(verify({qube}, {check}));
        });
        action->setObjectName(actionName(check));
        action->setShortcut(m_keys.value(action->objectName()));
        action->setEnabled(canRun);
    }
    QAction *all = menu->addAction(tr("Run all checks"), this,
                                   [this, qube] { static_cast<void>(verify({qube}, {})); });
    all->setObjectName(QStringLiteral("runAllChecks"));
    all->setShortcut(m_keys.value(all->objectName()));
    all->setEnabled(canRun);

    if (q->isHalted()) {
        // Starting a qube is a change: only when asked for, by name.
        QMenu *start = menu->addMenu(tr("Start %1 and check").arg(qube));
        start->setObjectName(QStringLiteral("startAndCheckMenu"));
        start->menuAction()->setObjectName(QStringLiteral("startAndCheck"));
        // Its key starts the qube and runs all its checks, as the entry at its end does.
        start->menuAction()->setShortcut(m_keys.value(QStringLiteral("runAllChecksAutostart")));
        start->setEnabled(!running);
        for (CheckKind check : std::as_const(checks))
            start
                ->addAction(
                    menuText(check), this,
                    [this, qube, check] { static_cast<void>(verify({qube}, {check}, true)); })
                ->setObjectName(actionName(check) + QStringLiteral("Autostart"));
        start->addSeparator();
        start
            ->addAction(tr("Run all checks"), this,
                        [this, qube] { static_cast<void>(verify({qube}, {}, true)); })
            ->setObjectName(QStringLiteral("runAllChecksAutostart"));
        start->actions().constLast()->setShortcut(
            m_keys.value(QStringLiteral("runAllChecksAutostart")));
    }
    if (vpn) {
        QAction *drill
            = menu->addAction(tr("Kill-switch drill…"), this, [this, qube] { requestDrill(qube); });
        drill->setObjectName(QStringLiteral("killSwitchDrill"));
        drill->setShortcut(m_keys.value(drill->objectName()));
        drill->setEnabled(canRun);
        drill->setStatusTip(tr("Break the tunnel for a moment and see whether traffic still "
                               "leaves (asks first, shows what it runs)"));
    }
    if (running)
        menu->addAction(m_cancelAction);
}

} // namespace netmap
