#pragma once
// MainWindow: the diagram, the inspector, the toolbar and menus, and where the data comes from.
// What it shows is its NetworkDocument: the window reads sources into it, and the scene, the
// inspector, the exports and the controllers all observe it.

#include "document/networkdocument.h"
#include "io/redaction.h"
#include "model/result.h"
#include "model/snapshot.h"

#include <QHash>
#include <QMainWindow>
#include <QSet>

#include <QPointF>
#include <QTransform>

#include <functional>
#include <optional>
#include <utility>

class QAction;
class QFrame;
class QLabel;
class QLineEdit;
class QMenu;
class QPushButton;

namespace netmap {

class CheckController;
class DiagramScene;
class DiagramView;
class InspectorDock;
class LegendPanel;
class LiveController;
class LiveSource;

class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    explicit MainWindow(const SourceSpec &source, QWidget *parent = nullptr);
    ~MainWindow() override;

    NetworkDocument *document() const { return m_document; }
    // Shows a snapshot: replaces the document's (Refresh reads the source again).
    void setSnapshot(const Snapshot &snapshot);
    // A refreshed read of the same system (following changes, after a re-route): updates the
    // document; the diagram updates in place when it can, otherwise it is laid out again with
    // the view kept.
    void showFollowedSnapshot(const Snapshot &snapshot);
    const SourceSpec &source() const { return m_document->source(); }
    LiveController *liveController() const { return m_liveController; }
    QMenu *viewMenu() const { return m_viewMenu; }
    const Snapshot &snapshot() const;

    DiagramScene *scene() const { return m_scene; }
    DiagramView *view() const { return m_view; }
    InspectorDock *inspector() const { return m_inspector; }
    CheckController *checkController() const { return m_checkController; }
    QLineEdit *findEdit() const { return m_findEdit; }
    QString statusText() const; // where the data came from and when
    static QString statusHelpText(); // Help ▸ What the results mean
    // The permanent line above the map naming a source that is not the live system (the demo,
    // a saved snapshot), or saying why the live system or a file could not be read.
    QString bannerText() const;
    bool isBannerShown() const;

    // Checks, Verify all and the drill run only on the live system: on the demo or a snapshot
    // they would run in local qubes that merely share a name. *why says it in words.
    bool checksAllowed(QString *why = nullptr) const;

    // Opens another source in a new window that replaces this one (after asking when results
    // would be lost); returns the new window, or nullptr when nothing was opened.
    MainWindow *openSource(const SourceSpec &source);
    // Saves the map with its check results (YAML snapshot) / the write-up (Markdown or JSON,
    // by the file's extension). Errors are shown and returned.
    Status saveSnapshotTo(const QString &path);
    Status saveReportTo(const QString &path);
    // Export ▸ picture (SVG or PNG, by the file's extension). Errors are shown and returned.
    Status exportPictureTo(const QString &path);
    // File ▸ Redact for sharing: what Save report and Export picture leave out (IP addresses,
    // qube names); the saved snapshot is never redacted.
    RedactOptions redaction() const;
    void setRedaction(RedactOptions options);
    // File ▸ Compare with snapshot: what moved, which exits and verdicts changed since the saved
    // one, listed in a dialog; returns the text (empty when the file cannot be read).
    QString compareWith(const QString &path);
    static QString comparisonText(const Snapshot &saved, const Snapshot &now);
    // The same by qube, as marked on the map ("moved: sys-firewall → sys-vpn").
    static QHash<QString, QStringList> comparisonMarks(const Snapshot &saved, const Snapshot &now);
    // Results gathered since the last save (asked about before they are discarded).
    bool hasUnsavedResults() const;
    // How a "discard unsaved results?" question is answered; by default a dialog. Tests set it.
    void setDiscardQuestion(std::function<bool()> ask) { m_askDiscard = std::move(ask); }

    // The window's entries of a qube's context menu; connected to
    // DiagramScene::contextMenuRequested first, so entries connected later come after them.
    void fillQubeMenu(const QString &qube, QMenu *menu);

public slots:
    void refresh();
    void fitDiagram();
    void zoomIn();
    void zoomOut();
    void focusFind();
    void exportInteractively();
    void openSnapshotInteractively();
    void saveSnapshotInteractively();
    void saveReportInteractively();
    void inspect(const QString &qube);
    void highlightEgress(const QString &qube);
    void showFirewall(const QString &qube);

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void createActions();
    void createMenusAndToolBar();
    void createQubeKeys();
    static void compare(const Snapshot &saved, const Snapshot &now, QStringList *lines,
                        QHash<QString, QStringList> *marks);
    void restoreSettings();
    void findNext();
    void onFind(const QString &text);
    void requestFirewall(const QString &qube);
    void showError(const QString &title, const QString &message);
    void updateStatus();
    void updateBanner();
    bool confirmDiscard();
    void onLiveFailed(const QString &message);
    void onSnapshotReplaced();
    void onSnapshotUpdated();

    struct QubeKey
    {
        QString name; // the context menu entry's object name
        QAction *action = nullptr; // on the view, with the key
        std::function<void(const QString &)> run;
    };
    std::vector<QubeKey> m_qubeKeys;

    NetworkDocument *m_document = nullptr;
    DiagramScene *m_scene = nullptr;
    DiagramView *m_view = nullptr;
    InspectorDock *m_inspector = nullptr;
    LiveSource *m_live = nullptr;
    LiveController *m_liveController = nullptr;
    QMenu *m_viewMenu = nullptr;
    CheckController *m_checkController = nullptr;
    QLabel *m_sourceLabel = nullptr;
    QLineEdit *m_findEdit = nullptr;
    int m_findIndex = 0;
    QSet<QString> m_firewallPending;
    bool m_loaded = false; // the window has shown a snapshot (and fitted the view to it)
    std::optional<std::pair<QPointF, QTransform>> m_keptView; // centre and zoom, over a relayout
    QString m_lastError;
    QString m_loadError; // the source could not be read at all: said in the banner
    std::size_t m_savedChecks = 0; // snapshot().checks.size() at the last save or load
    std::function<bool()> m_askDiscard;
    QFrame *m_banner = nullptr;
    QLabel *m_bannerLabel = nullptr;
    QPushButton *m_retryButton = nullptr;
    QPushButton *m_openDemoButton = nullptr;
    QPushButton *m_openSnapshotButton = nullptr;

    QAction *m_refreshAction = nullptr;
    QAction *m_fitAction = nullptr;
    QAction *m_zoomInAction = nullptr;
    QAction *m_zoomOutAction = nullptr;
    QAction *m_findAction = nullptr;
    QAction *m_exportAction = nullptr;
    QAction *m_openSnapshotAction = nullptr;
    QAction *m_openDemoAction = nullptr;
    QAction *m_saveSnapshotAction = nullptr;
    QAction *m_saveReportAction = nullptr;
    QAction *m_redactIpsAction = nullptr;
    QAction *m_redactNamesAction = nullptr;
    QAction *m_compareAction = nullptr;
    QAction *m_templatesAction = nullptr;
    QAction *m_sidePathsAction = nullptr;
    QAction *m_legendAction = nullptr;
    QAction *m_overviewAction = nullptr;
    QAction *m_clearComparisonAction = nullptr;
    LegendPanel *m_legendPanel = nullptr;
    QAction *m_quitAction = nullptr;
    QAction *m_aboutAction = nullptr;
    QAction *m_statusHelpAction = nullptr;
    QAction *m_actionLogAction = nullptr;
};

} // namespace netmap
