#pragma once
// LiveController: the live view in the window: following changes (View ▸ Follow changes, a
// status-bar note), watching a network qube's dropped traffic (context menu, the "Dropped
// traffic" dock, red arrows on the diagram) and re-routing a qube (context menu "Connect to",
// Undo in the Edit menu and the status bar). Everything that changes a qube asks first and
// shows exactly what it runs.

#include "live/changefollower.h"
#include "live/dropwatcher.h"
#include "live/reroute.h"
#include "windowparts.h"

#include <QHash>
#include <QKeySequence>
#include <QObject>
#include <QPointer>

#include <functional>
#include <optional>

class QAction;
class QLabel;
class QMenu;
class QMessageBox;
class QToolButton;

namespace netmap {

class DroppedFlowItem;
class DroppedFlowsDock;
class NetworkDocument;

class LiveController : public QObject
{
    Q_OBJECT
public:
    // Installs itself in the window: dock, menus, status bar, context-menu entries. Follows
    // and changes the system the document holds (live sources only), and tells the document
    // whether changes are followed.
    LiveController(NetworkDocument *document, const WindowParts &parts);
    ~LiveController() override;

    bool isLive() const { return m_live; }
    ChangeFollower *follower() const { return m_follower; }
    DroppedFlowsDock *dock() const { return m_dock; }
    QAction *followAction() const { return m_followAction; }
    QAction *undoAction() const { return m_undoAction; }
    QToolButton *undoButton() const { return m_undoButton; }
    QString followStatus() const; // the status-bar note

    // How a confirmation is answered: by default the dialog is shown modally and Yes/OK
    // proceeds. Tests put a function here that reads the dialog and answers.
    using ConfirmHandler = std::function<bool(QMessageBox &box)>;
    void setConfirmHandler(ConfirmHandler handler) { m_confirm = std::move(handler); }

    // The entries of a qube's context menu (connected after the window's own).
    void fillQubeMenu(const QString &qube, QMenu *menu);

    // The same as the menu entries, for the keyboard-less and for tests.
    void requestReroute(const QString &qube, const std::optional<QString> &to);
    void requestUndo();
    void requestWatch(const QString &qube);
    void stopWatch(const QString &qube);
    bool isWatching(const QString &qube) const;
    // Stops every watch and waits (bounded) for the rules to be removed: quitting.
    void shutdown();

    void setFollowing(bool on);
    bool isFollowing() const;
    // Poll interval: QSettings live/pollSeconds (10), or NETMAP_POLL_MS for the lab.
    static int pollIntervalMs();
    // Watch length: QSettings live/watchSeconds (600), or NETMAP_WATCH_SECONDS.
    static int watchSeconds();

    QList<DroppedFlowItem *> flowItems() const;

signals:
    // A re-route was applied (or undone) and the diagram shows the result.
    void rerouted(const QString &qube);
    void watchStarted(const QString &qube);
    void watchStopped(const QString &qube);
    void flowDropped(const netmap::DroppedFlow &flow);

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void qubeKey(); // a key of the qube menu's entries, on the selected qube
    QHash<QString, QKeySequence> m_keys; // qube menu entry -> its key
    bool confirm(QMessageBox &box);
    void onPrepared(const NetvmChangePlan &plan);
    void onApplied(const NetvmChangePlan &plan);
    void onUndone(const NetvmChangePlan &plan);
    void onChanged(const Snapshot &snapshot, const SnapshotDiff &diff);
    void onPacket(const QString &qube, const DroppedPacket &packet);
    void showFlow(const DroppedFlow &flow);
    void updateWatchStatus();
    void updateFollowStatus();
    void showFollowState();
    void setUndo(const std::optional<NetvmChangePlan> &plan);
    void message(const QString &text, int ms = 6000);

    NetworkDocument *m_document;
    QMainWindow *m_window;
    DiagramScene *m_scene;
    DiagramView *m_view;
    bool m_live = false;
    ChangeFollower *m_follower = nullptr;
    NetvmChanger *m_changer = nullptr;
    DroppedFlowsDock *m_dock = nullptr;
    QLabel *m_followLabel = nullptr;
    QToolButton *m_undoButton = nullptr;
    QAction *m_followAction = nullptr;
    QAction *m_undoAction = nullptr;
    QMenu *m_editMenu = nullptr;
    ConfirmHandler m_confirm;
    std::optional<NetvmChangePlan> m_undo;
    QString m_pendingUndoQube; // an undo is running for this qube
    QHash<QString, DropWatcher *> m_watchers; // network qube -> its watch
    QHash<QString, QPointer<DroppedFlowItem>> m_flows; // "from>to" -> arrow on the diagram
    bool m_shutDown = false;
};

} // namespace netmap
