#pragma once
// DiagramScene: the NetVM diagram of a NetworkDocument: qubes, links, Internet ends, groups,
// legend. It draws what the document holds and follows its changes; it keeps no snapshot of its
// own (only what it worked out to draw: topology, colours, boxes).

#include "model/snapshot.h"
#include "policy/colouring.h"

#include <QDateTime>
#include <QGraphicsScene>
#include <QHash>
#include <QSet>

#include <memory>

class QMenu;
class QTimer;

namespace netmap {

class BusItem;
class NetworkDocument;
class ClusterItem;
class GroupItem;
class InternetItem;
class LegendItem;
class LinkItem;
class QubeItem;
class SidePathItem;
class Topology;

class DiagramScene : public QGraphicsScene
{
    Q_OBJECT
public:
    // Draws the document and follows it: a replaced snapshot rebuilds every item (the selection
    // and the find text survive where the qubes still exist); an updated one (a followed change,
    // new evidence, new intent) is drawn in place where it can be (see restyleInPlace()).
    explicit DiagramScene(NetworkDocument *document, QObject *parent = nullptr);
    // A scene on a document of its own (exports, tests): setSnapshot() fills it.
    explicit DiagramScene(QObject *parent = nullptr);
    ~DiagramScene() override;

    NetworkDocument *document() const { return m_document; }
    // Replaces the document's snapshot (the scene follows, as every other view of it does).
    void setSnapshot(const Snapshot &snapshot);
    const Snapshot &snapshot() const;
    const Colouring &colouring() const { return m_colouring; }
    void setShowTemplates(bool show);
    bool showTemplates() const { return m_showTemplates; }
    // Side paths (View ▸ Show update and disposable paths): where templates' updates go and
    // where disposables leave, as dashed edges between the boxes drawn; off by default.
    void setShowSidePaths(bool show);
    bool showSidePaths() const { return m_showSidePaths; }
    QList<SidePathItem *> sidePathItems() const { return m_sidePaths; }
    // Shown in the legend as "Exported ..." (exports set it; the window does not).
    void setExportTime(const QDateTime &time);

    QubeItem *qubeItem(const QString &name) const;
    QList<QubeItem *> qubeItems() const; // sorted by name

    // Level of detail: a netvm's plain clients (no clients of their own, not templates) can be
    // folded into one ClusterItem ("42 qubes"). Folding and showing survive new snapshots by
    // the netvm's name; a fold the user opened is never folded again automatically.
    void foldClients(const QString &netvm);
    void showClients(const QString &netvm);
    // Folds the netvms with the most plain clients (all with at least half as many as the
    // largest, and at least three); false when there is nothing left to fold.
    bool foldLargest();
    ClusterItem *clusterItem(const QString &netvm) const;
    QList<ClusterItem *> clusterItems() const; // sorted by netvm
    // The netvm whose fold holds the qube, or empty when the qube has its own box.
    QString foldOf(const QString &qube) const;
    // The qubes foldClients(netvm) would fold (sorted).
    QStringList plainClientsOf(const QString &netvm) const;
    QList<LinkItem *> linkItems() const;
    QList<InternetItem *> internetItems() const;
    QList<GroupItem *> groupItems() const;
    LegendItem *legend() const { return m_legend; }
    // The window shows the legend outside the zoomed scene (LegendOverlay): the item stays,
    // hidden and left out of diagramRect(). Exports keep it in (the default).
    void setLegendInScene(bool inScene);
    bool isLegendInScene() const { return m_legendInScene; }
    // The drawing with a margin: what "fit" shows and what exports render.
    QRectF diagramRect() const;

    // The qube, its netvm, ..., the root provider.
    QStringList egressChain(const QString &qube) const;
    // Dims everything that is not on the qube's egress path; an empty name clears.
    void highlightEgress(const QString &qube);
    const QString &highlightedQube() const { return m_highlighted; }

    // Marks the qubes whose name or IP contains text (case-insensitive); returns them by name.
    QStringList find(const QString &text);
    const QStringList &matches() const { return m_matches; }

    // Qubes a check runs in: their box shows a spinner (kept across rebuilds).
    void setQubeBusy(const QString &name, bool busy);
    void clearBusy();
    QStringList busyQubes() const; // sorted

    // What changed since a compared snapshot, by qube (moved, exit, verdict, added): marked on
    // the map until cleared with an empty map. A fold holding a changed qube is marked too.
    void setComparison(const QHash<QString, QStringList> &changes);
    const QHash<QString, QStringList> &comparison() const { return m_comparison; }

    QString selectedQube() const;
    // The qube the keyboard moves to from this one: left its netvm, right its first client,
    // up and down the nearest box in that direction. From no qube: the first one.
    QString neighbour(const QString &from, Qt::Key key) const;
    void selectQube(const QString &name); // empty clears

    // A context menu for the qube; contextMenuRequested lets others add their entries.
    QMenu *createContextMenu(const QString &qube, QWidget *parent = nullptr);

    static QString sourceDescription(const Snapshot &snapshot); // "demo network", "qvm-ls, 14:02"
    // The legend's lines naming what failed or could not be told ("Failed vpn: VPN leak"), at
    // most six and a count of the rest; exports word their legend with it too.
    static QStringList problemLines(const Snapshot &snapshot, const Topology &topology);
    // The legend's IPv6 lines: each path on which Qubes gives IPv6, and each qube whose IPv4
    // and IPv6 leave by exits of different kinds (both exits named). Empty without IPv6.
    static QStringList ipv6Lines(const Snapshot &snapshot, const Topology &topology,
                                 const Colouring &colouring);
    // The netvms named by a qube but not in the snapshot, drawn as ghost boxes (in first-use
    // order).
    static QList<QubeName> missingNetvms(const Snapshot &snapshot);

signals:
    void qubeSelected(const QString &qube); // empty when nothing is selected
    void qubeActivated(const QString &qube); // double click
    // Emitted while a qube's context menu is built: add actions to menu (it is shown right after).
    void contextMenuRequested(const QString &qube, QMenu *menu);
    // The snapshot shown changed (a new snapshot, or new evidence on the same one).
    void snapshotChanged();
    // An update of the document cannot be drawn in place: every item is made again next (the
    // window keeps the part of the map the user looks at across it).
    void aboutToRelayout();
    void legendChanged(); // the legend's contents changed
    void diagramRebuilt(); // every item was made again (a new layout)

protected:
    void contextMenuEvent(QGraphicsSceneContextMenuEvent *event) override;
    void mouseDoubleClickEvent(QGraphicsSceneMouseEvent *event) override;
    void mousePressEvent(QGraphicsSceneMouseEvent *event) override;

private:
    void onReplaced();
    void onUpdated(const Snapshot &previous);
    // A refreshed read of the same system without a relayout (following changes): boxes stay
    // where they are, changed boxes are redrawn in place, every link is restyled (stale evidence
    // shows), and a moved link is re-routed from its new netvm. Returns false and changes
    // nothing when a relayout is needed (qubes came or went, a qube gained or lost its netvm or
    // became a provider, a shown qube's new netvm is hidden).
    bool restyleInPlace(const Snapshot &previous);
    void rebuild();
    void updateLegend();
    void applyVerdicts(); // each checked qube's mark and tool tip
    void applyComparison();
    void placeSidePaths();
    void onSelectionChanged();
    QubeItem *qubeAt(const QPointF &scenePos) const;

    NetworkDocument *m_document = nullptr;
    std::unique_ptr<Topology> m_topology;
    Colouring m_colouring;
    bool m_showTemplates = false;
    bool m_showSidePaths = false;
    QList<SidePathItem *> m_sidePaths;
    bool m_legendInScene = true;
    QDateTime m_exportTime;
    QHash<QString, QubeItem *> m_qubes;
    QHash<QString, ClusterItem *> m_clusters; // by netvm
    QHash<QString, QString> m_foldOf; // folded qube -> its netvm
    QSet<QString> m_folded; // netvms whose plain clients are folded
    QSet<QString> m_opened; // netvms the user unfolded: never folded automatically
    QList<LinkItem *> m_links;
    QList<InternetItem *> m_internets;
    QList<BusItem *> m_buses;
    QList<GroupItem *> m_groups;
    LegendItem *m_legend = nullptr;
    QRectF m_diagramRect;
    QString m_highlighted;
    QString m_findText;
    QStringList m_matches;
    bool m_rebuilding = false;
    QHash<QString, double> m_boxWidths; // for redrawing a box in place
    QHash<QString, QStringList> m_busMembers; // upper qube -> lower qubes sharing its bus
    QHash<QString, QStringList> m_comparison;
    QSet<QString> m_busy;
    QTimer *m_busyTimer = nullptr;
};

} // namespace netmap
