// The live view in the window: installing its dock, menus, keys and status-bar parts, its
// settings, the context-menu entries, and stopping every watch on quitting. Following changes is
// in livefollow.cpp, re-routing in livereroute.cpp, dropped traffic in livewatch.cpp.
#include "livecontroller.h"
#include "liveprompts_p.h"

#include "actionlog.h"

#include "diagram/diagramscene.h"
#include "diagram/diagramview.h"
#include "diagram/qubeitem.h"
#include "document/networkdocument.h"
#include "droppedflowitem.h"
#include "live/droppedflowsdock.h"
#include "model/untrustedtext.h"

#include <QAbstractButton>
#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QCursor>
#include <QLabel>
#include <QMainWindow>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QStatusBar>
#include <QToolButton>

#include <memory>

namespace netmap {

using namespace liveprompts;

namespace {
const QString kFollowKey = QStringLiteral("live/follow");
const QString kPollKey = QStringLiteral("live/pollSeconds");
const QString kWatchKey = QStringLiteral("live/watchSeconds");
} // namespace

LiveController::LiveController(NetworkDocument *document, const WindowParts &parts)
    : QObject(parts.window)
    , m_document(document)
    , m_window(parts.window)
    , m_scene(parts.scene)
    , m_view(parts.view)
    , m_live(document->isLive())
{
    QMainWindow *window = parts.window;
    setObjectName(QStringLiteral("liveController"));
    m_confirm = [](QMessageBox &box) {
        box.exec();
        const auto *clicked = box.clickedButton();
        return clicked && clicked->objectName() == QLatin1String("confirmButton");
    };

    m_follower = new ChangeFollower([document] { return document->snapshot(); }, this);
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

    if (QMenu *view = parts.viewMenu) {
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
        auto *action = new QAction(m_view);
        action->setObjectName(entry + QStringLiteral("Key"));
        action->setShortcut(key);
        action->setShortcutContext(Qt::WidgetWithChildrenShortcut);
        connect(action, &QAction::triggered, this, [this] { qubeKey(); });
        m_view->addAction(action);
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
                    m_scene->selectQube(from);
            });
    connect(m_scene, &DiagramScene::contextMenuRequested, this, &LiveController::fillQubeMenu);

    connect(document, &NetworkDocument::liveStateChanged, this, &LiveController::showFollowState);
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

// ---- context menu

void LiveController::fillQubeMenu(const QString &qube, QMenu *menu)
{
    // Only on the live system: a demo or a snapshot file has no qubes to change or watch.
    const Snapshot &s = m_document->snapshot();
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
    const QString qube = m_scene->selectedQube();
    if (!key || qube.isEmpty())
        return;
    const std::unique_ptr<QMenu> menu(m_scene->createContextMenu(qube));
    if (key->shortcut() == m_keys.value(QStringLiteral("connectTo"))) {
        auto *list = menu->findChild<QMenu *>(QStringLiteral("connectToMenu"));
        if (!list || !list->isEnabled())
            return;
        QPoint at = QCursor::pos();
        if (QubeItem *item = m_scene->qubeItem(qube))
            at = m_view->viewport()->mapToGlobal(
                m_view->mapFromScene(item->sceneBoundingRect().bottomLeft()));
        list->exec(at);
        return;
    }
    for (const QString &name : {QStringLiteral("watchDrops"), QStringLiteral("stopWatchDrops")})
        if (auto *target = menu->findChild<QAction *>(name); target && target->isEnabled()) {
            target->trigger();
            return;
        }
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

} // namespace netmap
