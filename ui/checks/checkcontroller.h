#pragma once
// CheckController: the verification checks in the window: the qube context-menu entries, Checks
// ▸ Verify all (Ctrl+R) with progress and Cancel in the status bar, spinners on the qubes being
// checked, the results dock, and the kill-switch drill behind a confirmation that shows exactly
// what runs. The Verifier is asynchronous: the window never waits on a qube.

#include "checks/verifier.h"
#include "windowparts.h"

#include <QHash>
#include <QKeySequence>
#include <QObject>
#include <QPointer>

#include <optional>

class QAction;
class QLabel;
class QMenu;
class QProgressBar;
class QPushButton;
class QTimer;

namespace netmap {

class DrillDialog;
class NetworkDocument;
class ResultsDock;

class CheckController : public QObject
{
    Q_OBJECT
public:
    // Installs itself in the window: Checks menu, toolbar entry, status bar, dock, context menu.
    // Runs on the document's snapshot, judged by its intent, and adds the results to it.
    CheckController(NetworkDocument *document, const WindowParts &parts);
    ~CheckController() override;

    // What every run uses: the check config, the expectations, the qvm-run program (the request's
    // qubes, checks, autostart and drill fields are ignored here).
    void setBaseRequest(const VerifyRequest &request);
    const VerifyRequest &baseRequest() const { return m_base; }

    // Runs checks now (empty qubes: every networked qube; empty checks: every check that
    // applies). Refused while a run is going on, or when the plan is invalid (said in the
    // status bar).
    Status verify(const QStringList &qubes, const QList<CheckKind> &checks, bool autostart = false);
    void verifyAll();
    void cancel();
    bool isRunning() const;
    int done() const { return m_done; }
    int total() const { return m_total; }

    // --verify in the window: request's base, qubes, checks and autostart run as soon as the
    // window shows a snapshot; with request.drill each VPN qube's drill is then offered (asked).
    void verifyWhenShown(const VerifyRequest &request);

    // The kill-switch drill on a VPN qube: when its tunnel is not known yet, the qube is probed
    // first; then the confirmation opens. Nothing is changed unless it is confirmed.
    void requestDrill(const QString &vpnQube);
    DrillDialog *drillDialog() const; // the open confirmation, if any

    // A network qube with a tunnel seen up, or that the inference takes for a VPN provider.
    bool isVpnQube(const QString &qube) const;
    // The check entries of a qube's context menu (connected after the window's own).
    void fillQubeMenu(const QString &qube, QMenu *menu);

    QAction *verifyAllAction() const { return m_verifyAllAction; }
    QAction *cancelAction() const { return m_cancelAction; }
    ResultsDock *resultsDock() const { return m_dock; }
    QProgressBar *progressBar() const { return m_progress; }
    QPushButton *cancelButton() const { return m_cancelButton; }
    QString progressText() const; // the status-bar label next to the bar
    QString lastMessage() const { return m_lastMessage; }

    static QString menuText(CheckKind check); // "Check external IP", ...
    static QString actionName(CheckKind check); // the menu entry's object name: "checkExternalIp"

signals:
    void runStarted(int total);
    void resultArrived(const netmap::CheckResult &result);
    void runFinished(bool cancelled);

private:
    Status startRun(const VerifyRequest &request);
    void onResult(const CheckResult &result);
    void onProgress(int done, int total, const QString &current);
    void onFinished();
    void applyPending();
    void openDrillDialog(const QString &vpnQube);
    void runDrill(const DrillPlan &plan);
    void setRunning(bool running);
    void updateAvailability(); // checks run only on the live source: said where they are offered
    void message(const QString &text, int ms = 10000);
    VerifyRequest requestFor(const QStringList &qubes, const QList<CheckKind> &checks,
                             bool autostart) const;

    NetworkDocument *m_document;
    QMainWindow *m_window;
    DiagramScene *m_scene;
    QHash<QString, QKeySequence> m_keys; // menu entry -> its key on the map
    VerifyRequest m_base;
    Verifier *m_verifier = nullptr;
    QList<CheckResult> m_pending; // results not yet drawn (coalesced)
    QMap<QString, QStringList> m_pendingTunnels;
    QTimer *m_applyTimer = nullptr;
    int m_done = 0;
    int m_total = 0;
    bool m_cancelled = false;
    QString m_drillAfterProbe; // probe first, then ask for the drill on this qube
    QStringList m_drillQueue; // --verify --drill: drills offered after the run
    std::optional<VerifyRequest> m_startupRequest;
    QPointer<DrillDialog> m_drillDialog;
    QString m_lastMessage;
    QString m_focusQube; // a run on one qube: its rows are brought into view as they arrive

    QAction *m_verifyAllAction = nullptr;
    QAction *m_cancelAction = nullptr;
    QAction *m_unavailableAction = nullptr; // the Checks menu's note saying why they are off
    QMenu *m_checksMenu = nullptr;
    ResultsDock *m_dock = nullptr;
    QProgressBar *m_progress = nullptr;
    QLabel *m_progressLabel = nullptr;
    QPushButton *m_cancelButton = nullptr;
};

} // namespace netmap
