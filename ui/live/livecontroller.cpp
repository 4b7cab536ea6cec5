#include "livecontroller.h"

#include "actionlog.h"

#include "diagram/diagramscene.h"
#include "diagram/diagramview.h"
#include "diagram/qubeitem.h"
#include "droppedflowitem.h"
#include "live/droppedflowsdock.h"
#include "mainwindow.h"
#include "model/untrustedtext.h"

#include <QAbstractButton>
#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QCursor>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QStatusBar>
#include <QToolButton>

#include <memory>

namespace netmap {

namespace {
const QString kFollowKey = QStringLiteral("live/follow");
const QString kPollKey = QStringLiteral("live/pollSeconds");
const QString kWatchKey = QStringLiteral("live/watchSeconds");

QString duration(int seconds)
{
    if (seconds % 60 == 0)
        return seconds == 60 ? QStringLiteral("1 minute")
                             : QStringLiteral("%1 minutes").arg(seconds / 60);
    return QStringLiteral("%1 seconds").arg(seconds);
}

QString netvmText(const std::optional<QubeName> &netvm)
{
    return netvm ? netvm->toString() : QStringLiteral("no netvm");
}

// Every label of a message box as plain text: what a qube or a tool printed shows literally
// (the informative text would otherwise be taken for rich text when it looks like it).
void makePlain(QMessageBox &box)
{
    for (QLabel *label : box.findChildren<QLabel *>())
        label->setTextFormat(Qt::PlainText);
}

// Confirmation boxes: plain text only, the question first, Cancel the default.
void prepareBox(QMessageBox &box, const QString &question, const QString &details,
                const QString &yesText, bool warning)
{
    box.setIcon(warning ? QMessageBox::Warning : QMessageBox::Question);
    box.setWindowTitle(QStringLiteral("Qubes Network Map"));
    box.setTextFormat(Qt::PlainText);
    box.setText(untrustedtext::block(question, 2000));
    box.setInformativeText(untrustedtext::block(details, 4096));
    makePlain(box);
    QPushButton *yes = box.addButton(yesText, QMessageBox::YesRole);
    yes->setObjectName(QStringLiteral("confirmButton"));
    QPushButton *no = box.addButton(QMessageBox::Cancel);
    box.setDefaultButton(no);
    box.setEscapeButton(no);
}
} // namespace

LiveController::LiveController(MainWindow *window)
    : QObject(window)
    , m_window(window)
    , m_live(window->source().kind == SourceSpec::Kind::Live)
{
    setObjectName(QStringLiteral("liveController"));
    m_confirm = [](QMessageBox &box) {
        box.exec();
        const auto *clicked = box.clickedButton();
        return clicked && clicked->objectName() == QLatin1String("confirmButton");
    };

    m_follower = new ChangeFollower([window] { return window->snapshot(); }, this);
    m_changer = new NetvmChanger(this);

    m_dock = new DroppedFlowsDock(window);
    window->addDockWidget(Qt::BottomDockWidgetArea, m_dock);
    m_dock->hide(); // shown when a watch starts

    m_followLabel = new QLabel(window);
    m_followLabel->setObjectName(QStringLiteral("followLabel"));
    m_followLabel->setTextFormat(Qt::PlainText);
    m_undoButton = new QToolButton(window);
    m_undoButton->setObjectName(QStringLiteral("undoRerouteButton"));
    m_undoButton->setAutoRaise(true);
    m_undoButton->hide();
    window->statusBar()->addPermanentWidget(m_undoButton);
    window->statusBar()->addPermanentWidget(m_followLabel);

    m_followAction = new QAction(tr("Follow &changes"), this);
    m_followAction->setObjectName(QStringLiteral("followAction"));
    m_followAction->setCheckable(true);
    m_followAction->setStatusTip(
        tr("Update the map when qubes or their netvms change (qubesd events, or qvm-ls polling)"));
    m_followAction->setEnabled(m_live);
    m_followAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_F));
    m_followAction->setShortcutContext(Qt::WindowShortcut);
    window->addAction(m_followAction);
    m_undoAction = new QAction(tr("&Undo netvm change"), this);
    m_undoAction->setObjectName(QStringLiteral("undoRerouteAction"));
    m_undoAction->setShortcut(QKeySequence::Undo);
    m_undoAction->setEnabled(false);
    window->addAction(m_undoAction);

    if (QMenu *view = window->viewMenu()) {
        view->addSeparator();
        view->addAction(m_followAction);
        QAction *dropsAction = m_dock->toggleViewAction();
        dropsAction->setObjectName(QStringLiteral("droppedFlowsAction"));
        dropsAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_W));
        dropsAction->setShortcutContext(Qt::WindowShortcut);
        window->addAction(dropsAction);
        view->addAction(dropsAction);
        m_editMenu = new QMenu(tr("&Edit"), window);
        m_editMenu->setObjectName(QStringLiteral("editMenu"));
        m_editMenu->addAction(m_undoAction);
        window->menuBar()->insertMenu(view->menuAction(), m_editMenu);
    }

    // Keys for the qube menu's entries, acting on the selected qube while the map has the focus:
    // the entry is looked up in that qube's menu and used only when enabled there. "Connect to"
    // opens its list of netvms at the qube.
    const QList<std::pair<QString, QKeySequence>> keys {
        {QStringLiteral("connectTo"), QKeySequence(Qt::Key_C)},
        {QStringLiteral("watchDrops"), QKeySequence(Qt::Key_W)},
        {QStringLiteral("stopWatchDrops"), QKeySequence(Qt::Key_W)},
    };
    for (const auto &[entry, key] : keys) {
        m_keys.insert(entry, key);
        if (entry == QLatin1String("stopWatchDrops"))
            continue; // the same key as watchDrops: one menu holds one of them
        auto *action = new QAction(window->view());
        action->setObjectName(entry + QStringLiteral("Key"));
        action->setShortcut(key);
        action->setShortcutContext(Qt::WidgetWithChildrenShortcut);
        connect(action, &QAction::triggered, this, [this] { qubeKey(); });
        window->view()->addAction(action);
    }

    connect(m_followAction, &QAction::toggled, this, [this](bool on) {
        QSettings().setValue(kFollowKey, on);
        setFollowing(on);
    });
    connect(m_undoAction, &QAction::triggered, this, &LiveController::requestUndo);
    connect(m_undoButton, &QToolButton::clicked, this, &LiveController::requestUndo);
    connect(m_follower, &ChangeFollower::modeChanged, this, &LiveController::updateFollowStatus);
    connect(m_follower, &ChangeFollower::changed, this, &LiveController::onChanged);
    connect(m_follower, &ChangeFollower::refreshFailed, this, [this](const QString &why) {
        message(tr("Following changes: qvm-ls failed: %1").arg(why));
    });
    connect(m_changer, &NetvmChanger::prepared, this, &LiveController::onPrepared);
    connect(m_changer, &NetvmChanger::prepareFailed, this,
            [this](const QString &why) { message(tr("Cannot re-route: %1").arg(why), 10000); });
    connect(m_changer, &NetvmChanger::applied, this, &LiveController::onApplied);
    connect(m_changer, &NetvmChanger::undone, this, &LiveController::onUndone);
    connect(m_changer, &NetvmChanger::commandFailed, this,
            [this](const NetvmChangePlan &, bool wasUndo, const QString &why) {
                m_pendingUndoQube.clear();
                auto *box = new QMessageBox(QMessageBox::Warning, tr("Qubes Network Map"),
                                            wasUndo ? tr("The netvm change was not undone")
                                                    : tr("The netvm was not changed"),
                                            QMessageBox::Ok, m_window);
                box->setAttribute(Qt::WA_DeleteOnClose);
                box->setTextFormat(Qt::PlainText);
                box->setInformativeText(untrustedtext::block(why, 4096));
                makePlain(*box);
                box->open();
                m_follower->refreshNow();
            });
    connect(m_dock, &DroppedFlowsDock::stopRequested, this, [this] {
        const auto qubes = m_watchers.keys();
        for (const QString &qube : qubes)
            stopWatch(qube);
    });
    connect(m_dock, &DroppedFlowsDock::flowActivated, this,
            [this](const QString &from, const QString &) {
                if (!from.isEmpty())
                    m_window->scene()->selectQube(from);
            });
    connect(window->scene(), &DiagramScene::contextMenuRequested, this,
            &LiveController::fillQubeMenu);

    window->installEventFilter(this);
    connect(qApp, &QCoreApplication::aboutToQuit, this, &LiveController::shutdown);

    {
        const QSignalBlocker blocker(m_followAction);
        m_followAction->setChecked(m_live && QSettings().value(kFollowKey, true).toBool());
    }
    setFollowing(m_followAction->isChecked());
}

LiveController::~LiveController()
{
    // The window's widgets may be gone already: nothing may report back into them.
    m_follower->disconnect(this);
    for (DropWatcher *w : std::as_const(m_watchers))
        w->disconnect(this);
    shutdown();
}

int LiveController::pollIntervalMs()
{
    bool ok = false;
    const int env = qEnvironmentVariableIntValue("NETMAP_POLL_MS", &ok);
    if (ok && env >= 200)
        return env;
    const int seconds = QSettings().value(kPollKey, 10).toInt();
    return std::clamp(seconds, 2, 3600) * 1000;
}

int LiveController::watchSeconds()
{
    bool ok = false;
    const int env = qEnvironmentVariableIntValue("NETMAP_WATCH_SECONDS", &ok);
    if (ok)
        return std::clamp(env, kMinWatchSeconds, kMaxWatchSeconds);
    return std::clamp(QSettings().value(kWatchKey, 600).toInt(), kMinWatchSeconds,
                      kMaxWatchSeconds);
}

bool LiveController::confirm(QMessageBox &box)
{
    return m_confirm && m_confirm(box);
}

void LiveController::message(const QString &text, int ms)
{
    m_window->statusBar()->showMessage(untrustedtext::line(text, 300), ms);
}

// ---- following changes

void LiveController::setFollowing(bool on)
{
    if (m_followAction->isChecked() != on) {
        const QSignalBlocker blocker(m_followAction);
        m_followAction->setChecked(on);
    }
    if (on && m_live) {
        FollowOptions options;
        options.pollIntervalMs = pollIntervalMs();
        const QString socket = qEnvironmentVariable("NETMAP_QUBESD_SOCKET");
        if (!socket.isEmpty())
            options.socketPath = socket;
        m_follower->start(options);
    } else {
        m_follower->stop();
    }
    updateFollowStatus();
}

bool LiveController::isFollowing() const
{
    return m_follower->isActive();
}

QString LiveController::followStatus() const
{
    return m_followLabel->text();
}

void LiveController::updateFollowStatus()
{
    if (!m_live)
        m_followLabel->clear();
    else if (m_follower->isActive())
        m_followLabel->setText(m_follower->description());
    else
        m_followLabel->setText(tr("not following changes"));
}

void LiveController::onChanged(const Snapshot &snapshot, const SnapshotDiff &diff)
{
    m_window->showFollowedSnapshot(snapshot);
    QStringList parts;
    for (const QString &qube : diff.netvmChanged) {
        const Qube *q = snapshot.find(qube);
        parts << tr("%1 now uses %2").arg(qube, q ? netvmText(q->netvm) : QString());
    }
    if (!diff.added.isEmpty())
        parts << tr("new: %1").arg(diff.added.join(QStringLiteral(", ")));
    if (!diff.removed.isEmpty())
        parts << tr("gone: %1").arg(diff.removed.join(QStringLiteral(", ")));
    if (!diff.otherChanged.isEmpty())
        parts << tr("changed: %1").arg(diff.otherChanged.join(QStringLiteral(", ")));
    if (!parts.isEmpty())
        message(tr("Qubes changed: %1").arg(parts.join(QStringLiteral("; "))), 10000);
}

// ---- context menu

void LiveController::fillQubeMenu(const QString &qube, QMenu *menu)
{
    // Only on the live system: a demo or a snapshot file has no qubes to change or watch.
    const Snapshot &s = m_window->snapshot();
    const Qube *q = s.find(qube);
    if (!m_live || !q || q->isAdmin())
        return;
    menu->addSeparator();

    QMenu *connectMenu = menu->addMenu(tr("Connect to"));
    connectMenu->setObjectName(QStringLiteral("connectToMenu"));
    connectMenu->menuAction()->setObjectName(QStringLiteral("connectTo"));
    connectMenu->menuAction()->setShortcut(m_keys.value(QStringLiteral("connectTo")));
    for (const QString &candidate : netvmCandidates(s, qube)) {
        // names hold no '&'
        QAction *a = connectMenu->addAction(needsNetvmStarted(s, qube, candidate)
                                                ? tr("%1 (halted: started first)").arg(candidate)
                                                : candidate);
        a->setObjectName(QStringLiteral("connectTo:") + candidate);
        a->setCheckable(true);
        const bool current = q->netvm && q->netvm->toString() == candidate;
        a->setChecked(current);
        a->setEnabled(!current && m_live);
        connect(a, &QAction::triggered, this,
                [this, qube, candidate] { requestReroute(qube, candidate); });
    }
    connectMenu->addSeparator();
    QAction *none = connectMenu->addAction(tr("none (no network)"));
    none->setObjectName(QStringLiteral("connectTo:none"));
    none->setCheckable(true);
    none->setChecked(!q->netvm);
    none->setEnabled(q->netvm.has_value() && m_live);
    connect(none, &QAction::triggered, this, [this, qube] { requestReroute(qube, std::nullopt); });

    if (q->providesNetwork) {
        if (isWatching(qube)) {
            QAction *stop = menu->addAction(tr("Stop watching dropped traffic"), this,
                                            [this, qube] { stopWatch(qube); });
            stop->setObjectName(QStringLiteral("stopWatchDrops"));
            stop->setShortcut(m_keys.value(stop->objectName()));
        } else {
            QAction *watch = menu->addAction(tr("Watch dropped traffic…"), this,
                                             [this, qube] { requestWatch(qube); });
            watch->setObjectName(QStringLiteral("watchDrops"));
            watch->setShortcut(m_keys.value(watch->objectName()));
            watch->setEnabled(m_live && q->isRunning());
        }
    }
}

void LiveController::qubeKey()
{
    auto *key = qobject_cast<QAction *>(sender());
    const QString qube = m_window->scene()->selectedQube();
    if (!key || qube.isEmpty())
        return;
    const std::unique_ptr<QMenu> menu(m_window->scene()->createContextMenu(qube));
    if (key->shortcut() == m_keys.value(QStringLiteral("connectTo"))) {
        auto *list = menu->findChild<QMenu *>(QStringLiteral("connectToMenu"));
        if (!list || !list->isEnabled())
            return;
        QPoint at = QCursor::pos();
        if (QubeItem *item = m_window->scene()->qubeItem(qube))
            at = m_window->view()->viewport()->mapToGlobal(
                m_window->view()->mapFromScene(item->sceneBoundingRect().bottomLeft()));
        list->exec(at);
        return;
    }
    for (const QString &name : {QStringLiteral("watchDrops"), QStringLiteral("stopWatchDrops")})
        if (auto *target = menu->findChild<QAction *>(name); target && target->isEnabled()) {
            target->trigger();
            return;
        }
}

// ---- re-route

void LiveController::requestReroute(const QString &qube, const std::optional<QString> &to)
{
    if (!m_live || m_changer->isBusy())
        return;
    message(tr("Reading the netvm setting of %1…").arg(qube), 4000);
    // Reads `qvm-prefs QUBE` (read-only) to know what Undo must restore; then asks.
    m_changer->prepare(m_window->snapshot(), qube, to);
}

void LiveController::onPrepared(const NetvmChangePlan &plan)
{
    const QString qube = plan.qube.toString();
    const QString question = plan.to ? tr("Connect %1 to %2?").arg(qube, plan.to->toString())
                                     : tr("Disconnect %1 from the network?").arg(qube);
    QString details;
    if (!plan.warning.isEmpty())
        details += tr("Warning: %1\n\n").arg(plan.warning);
    if (plan.start && plan.to)
        details += tr("%1 is not running, and qubesd cannot connect a running qube to a halted "
                      "netvm: it is started first.\n\n")
                       .arg(plan.to->toString());
    details += plan.start ? tr("This runs in dom0:\n\n    %1\n    %2\n\n")
                                .arg(plan.start->display(), plan.apply.display())
                          : tr("This runs in dom0:\n\n    %1\n\n").arg(plan.apply.display());
    details += plan.to
        ? tr("%1 then leaves through %2 (it now uses %3). Results verified on its "
             "old path will show as stale.\n\n")
              .arg(qube, plan.to->toString(), netvmText(plan.from))
        : tr("%1 then has no network (it now uses %2).\n\n").arg(qube, netvmText(plan.from));
    details += tr("Undo (Edit menu or the status bar) runs:\n\n    %1").arg(plan.undo.display());
    if (plan.fromDefault)
        details += tr("\n(back to following the global default netvm)");
    else if (!plan.fromKnown)
        details += tr("\n(qvm-prefs could not say whether %1 was the default)")
                       .arg(netvmText(plan.from));
    QMessageBox box(m_window);
    box.setObjectName(QStringLiteral("rerouteConfirmation"));
    const QString connectLabel = plan.start ? tr("Start and connect") : tr("Connect");
    prepareBox(box, question, details,
               plan.warning.isEmpty() ? (plan.to ? connectLabel : tr("Disconnect"))
                                      : tr("Connect anyway"),
               !plan.warning.isEmpty());
    if (!confirm(box)) {
        message(tr("Nothing was changed."), 4000);
        return;
    }
    message(tr("Running %1…").arg((plan.start ? *plan.start : plan.apply).display()), 4000);
    if (plan.start)
        ActionLog::record(plan.to->toString(), QStringLiteral("start for a re-route (in dom0)"),
                          plan.start->display());
    ActionLog::record(plan.qube.toString(), QStringLiteral("re-route (qvm-prefs in dom0)"),
                      plan.apply.display());
    m_changer->apply(plan);
}

void LiveController::onApplied(const NetvmChangePlan &plan)
{
    setUndo(plan);
    message(tr("%1 now uses %2").arg(plan.qube.toString(), netvmText(plan.to)), 8000);
    m_follower->refreshNow();
    emit rerouted(plan.qube.toString());
}

void LiveController::requestUndo()
{
    if (!m_undo || !m_live || m_changer->isBusy())
        return;
    const NetvmChangePlan plan = *m_undo;
    const QString qube = plan.qube.toString();
    QMessageBox box(m_window);
    box.setObjectName(QStringLiteral("undoConfirmation"));
    prepareBox(box, tr("Undo: connect %1 to %2 again?").arg(qube, netvmText(plan.from)),
               tr("This runs in dom0:\n\n    %1").arg(plan.undo.display()), tr("Undo"), false);
    if (!confirm(box))
        return;
    m_pendingUndoQube = qube;
    ActionLog::record(qube, QStringLiteral("undo re-route (qvm-prefs in dom0)"),
                      plan.undo.display());
    m_changer->undo(plan);
}

void LiveController::onUndone(const NetvmChangePlan &plan)
{
    m_pendingUndoQube.clear();
    setUndo(std::nullopt);
    message(tr("%1 uses %2 again").arg(plan.qube.toString(), netvmText(plan.from)), 8000);
    m_follower->refreshNow();
    emit rerouted(plan.qube.toString());
}

void LiveController::setUndo(const std::optional<NetvmChangePlan> &plan)
{
    m_undo = plan;
    m_undoAction->setEnabled(plan.has_value());
    if (plan) {
        const QString text
            = tr("Undo: %1 back to %2").arg(plan->qube.toString(), netvmText(plan->from));
        m_undoAction->setText(text);
        m_undoButton->setText(text);
        m_undoButton->setToolTip(plan->undo.display().toHtmlEscaped());
        m_undoButton->show();
    } else {
        m_undoAction->setText(tr("&Undo netvm change"));
        m_undoButton->hide();
    }
}

// ---- dropped traffic

bool LiveController::isWatching(const QString &qube) const
{
    const DropWatcher *w = m_watchers.value(qube);
    return w && w->isActive();
}

void LiveController::requestWatch(const QString &qube)
{
    const Qube *q = m_window->snapshot().find(qube);
    if (!m_live || !q || !q->providesNetwork || isWatching(qube))
        return;
    const int seconds = watchSeconds();
    const auto planned = planDropWatch(q->name, seconds, newDropWatchToken());
    if (!planned) {
        message(tr("Cannot watch %1: %2").arg(qube, planned.error().message), 8000);
        return;
    }
    const DropWatchPlan &plan = planned.value();
    const QString details
        = tr("This adds logging rules to the firewall of %1 (as root, with qvm-run) and reads "
             "its kernel log.\n\n"
             "It sees:\n"
             "- new traffic %1 would forward into a qube, which it drops to keep qubes apart "
             "(one qube reaching another, or anything from outside reaching a qube): a rule in "
             "front of \"oifgroup 2 drop\" in table ip qubes, chain forward;\n"
             "- what a qube connected to %1 sends and its own firewall rules (qvm-firewall) "
             "reject, to the internet or to another qube: a rule in front of each reject in the "
             "qube's chain (qbs-10-137-0-12, ...) of table ip qubes-firewall, as the rules are "
             "when the watch starts.\n\n"
             "It does not see: drops by rules added in %1 itself (chain custom-forward, e.g. a "
             "VPN kill switch, or a qubes-firewall-user-script), traffic with an invalid "
             "connection state or a spoofed source address, traffic to %1 itself (chain "
             "input), IPv6, and the firewall rules of a qube that connects or changes them "
             "after the watch started (until it is started again). Each rule logs at most "
             "20 packets a second.\n\n"
             "The rules remove themselves in %1 after %2, even if this program stops; stopping "
             "the watch, quitting or closing the window removes them at once.\n\n"
             "Runs in dom0, one after the other, the commands below.")
              .arg(qube, duration(seconds));
    const QString commands
        = tr("1. Start the rules' removal timer in %1, then add the rules:\n"
             "%2\n\n"
             "2. Follow the kernel log:\n%3\n\n"
             "3. When the watch stops:\n%4")
              .arg(qube, plan.arm.display(), plan.stream.display(), plan.disarm.display());
    QMessageBox box(m_window);
    box.setObjectName(QStringLiteral("watchConfirmation"));
    prepareBox(box, tr("Watch the traffic %1 drops for %2?").arg(qube, duration(seconds)), details,
               tr("Watch"), false);
    // The commands whole, shown from the start, in the box's scrolling details: inline they
    // made the question taller than a laptop screen, its buttons out of reach.
    box.setDetailedText(untrustedtext::block(commands, 12000));
    for (QAbstractButton *button : box.buttons())
        if (box.buttonRole(button) == QMessageBox::ActionRole)
            button->click(); // "Show Details..."
    if (!confirm(box)) {
        message(tr("Nothing was changed."), 4000);
        return;
    }
    auto *watcher = m_watchers.value(qube);
    if (!watcher) {
        watcher = new DropWatcher(this);
        m_watchers.insert(qube, watcher);
        connect(watcher, &DropWatcher::started, this, [this, watcher](const QString &qube) {
            updateWatchStatus();
            m_dock->show();
            m_dock->raise();
            const int rejects = watcher->firewallLogRules();
            message(rejects > 0
                        ? tr("Watching the traffic %1 drops, and what %2 qubes-firewall rule(s) "
                             "reject")
                              .arg(qube)
                              .arg(rejects)
                        : rejects == 0 ? tr("Watching the traffic %1 drops (no qubes-firewall "
                                            "reject rules in it to log)")
                                             .arg(qube)
                                       : tr("Watching the traffic %1 drops; nft refused the "
                                            "logging rules for its qubes-firewall rejects, so "
                                            "those are not shown")
                                             .arg(qube),
                    10000);
            emit watchStarted(qube);
        });
        connect(watcher, &DropWatcher::packetDropped, this, &LiveController::onPacket);
        connect(watcher, &DropWatcher::lineRefused, this, [this](const QString &, const QString &) {
            int refused = 0;
            for (const DropWatcher *w : std::as_const(m_watchers))
                refused += w->refusedLines();
            m_dock->setRefusedCount(refused);
        });
        connect(watcher, &DropWatcher::failed, this,
                [this](const QString &qube, const QString &why) {
                    updateWatchStatus();
                    auto *box = new QMessageBox(QMessageBox::Warning, tr("Qubes Network Map"),
                                                tr("Cannot watch the traffic %1 drops").arg(qube),
                                                QMessageBox::Ok, m_window);
                    box->setAttribute(Qt::WA_DeleteOnClose);
                    box->setTextFormat(Qt::PlainText);
                    box->setInformativeText(untrustedtext::block(why, 4096));
                    makePlain(*box);
                    box->open();
                });
        connect(watcher, &DropWatcher::stopped, this,
                [this](const QString &qube, const QString &why) {
                    updateWatchStatus();
                    message(why.isEmpty()
                                ? tr("Stopped watching %1; its logging rules are removed").arg(qube)
                                : tr("Stopped watching %1: %2").arg(qube, why),
                            10000);
                    emit watchStopped(qube);
                });
    }
    ActionLog::record(plan.qube.toString(),
                      QStringLiteral("drop watch: add logging rules (as root)"),
                      plan.arm.display());
    watcher->start(plan);
    updateWatchStatus();
}

void LiveController::stopWatch(const QString &qube)
{
    if (DropWatcher *w = m_watchers.value(qube))
        w->stop();
}

void LiveController::shutdown()
{
    if (m_shutDown)
        return;
    m_shutDown = true;
    m_follower->stop();
    for (DropWatcher *w : std::as_const(m_watchers))
        if (w->isActive())
            w->stopBlocking();
}

bool LiveController::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_window && event->type() == QEvent::Close) {
        for (DropWatcher *w : std::as_const(m_watchers))
            if (w->isActive())
                w->stopBlocking();
    }
    return QObject::eventFilter(watched, event);
}

void LiveController::updateWatchStatus()
{
    QStringList watching;
    for (auto it = m_watchers.cbegin(); it != m_watchers.cend(); ++it) {
        const DropWatcher *w = it.value();
        if (!w->isActive())
            continue;
        switch (w->state()) {
        case DropWatcher::State::Arming:
            watching << tr("adding the logging rules in %1…").arg(it.key());
            break;
        case DropWatcher::State::Watching:
            watching << tr("watching %1 (rules %2, expire by themselves)")
                            .arg(it.key(), w->plan().ruleComment());
            break;
        case DropWatcher::State::Disarming:
            watching << tr("removing the logging rules in %1…").arg(it.key());
            break;
        case DropWatcher::State::Idle:
            break;
        }
    }
    watching.sort();
    m_dock->setWatchStatus(watching.isEmpty() ? tr("Not watching")
                                              : watching.join(QStringLiteral("; ")),
                           !watching.isEmpty());
}

void LiveController::onPacket(const QString &qube, const DroppedPacket &packet)
{
    const DroppedFlow flow
        = mapDroppedFlow(m_window->snapshot(), qube, packet, QDateTime::currentDateTime());
    m_dock->addFlow(flow);
    showFlow(flow);
    emit flowDropped(flow);
}

void LiveController::showFlow(const DroppedFlow &flow)
{
    // Between the two qubes when both are known; otherwise between the known one and the
    // network qube that dropped it.
    QString from = flow.fromQube.isEmpty() ? flow.watchedQube : flow.fromQube;
    QString to = flow.toQube.isEmpty() ? flow.watchedQube : flow.toQube;
    DiagramScene *scene = m_window->scene();
    QubeItem *a = scene->qubeItem(from);
    QubeItem *b = scene->qubeItem(to);
    if (!a || !b || a == b)
        return;
    const QString key = from + u'>' + to;
    const QString label = flow.packet.rejectedByQubeFirewall
        ? tr("%1 (firewall rules)").arg(flow.packet.describeService())
        : flow.packet.describeService();
    QPointer<DroppedFlowItem> item = m_flows.value(key);
    if (item && item->scene() == scene) {
        item->flash(label);
        return;
    }
    const auto box
        = [](QubeItem *q) { return q->mapRectToScene(q->boundingRect()).adjusted(6, 6, -6, -6); };
    auto *arrow = new DroppedFlowItem(from, to, box(a), box(b), label);
    scene->addItem(arrow); // the scene owns it; a rebuild removes it with everything else
    m_flows.insert(key, arrow);
}

QList<DroppedFlowItem *> LiveController::flowItems() const
{
    QList<DroppedFlowItem *> out;
    for (const auto &p : m_flows)
        if (p && p->scene() == m_window->scene() && p->isVisible())
            out << p.data();
    return out;
}

} // namespace netmap
