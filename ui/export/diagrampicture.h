#pragma once
// DiagramPicture: what an export draws (the window's layout, styles and legend), built straight
// from a snapshot without a scene, so that a 10,000-qube export stays fast and small.

#include "diagram/linkitem.h"
#include "layout/treelayout.h"
#include "model/qubeverdict.h"
#include "model/sidepaths.h"
#include "model/snapshot.h"
#include "policy/colouring.h"

#include <QDateTime>
#include <QPainterPath>
#include <QSet>
#include <QSizeF>

#include <memory>

class QPainter;

namespace netmap {

class Topology;

class DiagramPicture
{
public:
    // A bus: the merged shared segments of the links that feed one netvm's block or pack.
    struct Bus
    {
        int upper = -1; // box index
        QPainterPath path;
        QColor colour;
        bool dashed = false;
        bool uniform = true; // one colour for all its links; else drawn in the mixed colour
    };
    // A box standing for collapsed qubes in the overview.
    struct Summary
    {
        int count = 0;
        QString text; // "1,234 qubes"
    };

    // collapse 0 draws every qube; collapse k >= 1 draws the overview in which every subtree
    // whose height is below k (leaves: height 0) is a count under its parent.
    // sidePaths draws where templates' updates go and where disposables leave, as the window
    // does while View ▸ Show update and disposable paths is on.
    DiagramPicture(const Snapshot &snapshot, bool showTemplates, const QDateTime &exportTime,
                   int collapse = 0, bool sidePaths = false);
    ~DiagramPicture();

    const Snapshot &snapshot() const { return *m_snapshot; }
    // What the layout's boxes index: the snapshot's qubes, then a ghost for each missing netvm.
    const Snapshot &drawnSnapshot() const { return m_ghosts.isEmpty() ? *m_snapshot : m_drawn; }
    // A box for a netvm named by a qube but not in the snapshot (drawn dashed, with its name).
    bool isGhost(int box) const;
    // The verdict mark of a qube box and its lines ("VPN leak: fail at ... UTC: ...").
    VerdictMark verdictMark(int box) const;
    QStringList verdictLines(int box) const;
    const Colouring &colouring() const { return m_colouring; }
    const Topology &topology() const { return *m_topology; }
    const NetworkLayout &layout() const { return m_layout; }
    const std::vector<LinkStyle> &linkStyles() const { return m_linkStyles; } // per layout link
    bool linkToInternet(int link) const;
    const std::vector<Bus> &buses() const { return m_buses; }
    // The side paths drawn (empty unless asked for), with their routes in layout coordinates.
    struct Side
    {
        SidePath path;
        QPainterPath route;
    };
    const std::vector<Side> &sides() const { return m_sides; }
    // A box of the layout stands for a qube (index < qube count) or a summary.
    bool isSummary(int box) const;
    const Summary &summary(int box) const;
    QString groupCaption(const LayoutGroup &group) const;
    const QString &legendTitle() const { return m_legendTitle; }
    const QStringList &legendDetails() const { return m_legendDetails; }
    QPointF legendPos() const { return m_legendPos; }
    QSizeF legendSize() const { return m_legendSize; }
    int collapse() const { return m_collapse; }
    int collapsedQubes() const { return m_collapsedQubes; }
    // The drawing with its margin, in layout coordinates: what exports render.
    QRectF rect() const { return m_rect; }

    // Paints the picture in layout coordinates with the window's own items.
    void paint(QPainter *painter) const;

private:
    const Snapshot *m_snapshot;
    Snapshot m_drawn; // with the ghosts, when there are any
    QSet<QString> m_ghosts;
    std::vector<QubeVerdict> m_verdicts; // per qube of the snapshot
    std::unique_ptr<Topology> m_topology;
    Colouring m_colouring;
    NetworkLayout m_layout;
    std::vector<LinkStyle> m_linkStyles;
    std::vector<Bus> m_buses;
    std::vector<Summary> m_summaries;
    std::vector<Side> m_sides;
    QString m_legendTitle;
    QStringList m_legendDetails;
    QPointF m_legendPos;
    QSizeF m_legendSize;
    int m_collapse = 0;
    int m_collapsedQubes = 0;
    QRectF m_rect;
};

} // namespace netmap
