#pragma once
// QubeItem: one qube in the diagram: label colour, a shape per kind, name and internal IP.

#include "model/qube.h"
#include "model/qubeverdict.h"

#include <QGraphicsItem>

namespace netmap {

class QubeItem : public QGraphicsItem
{
public:
    enum { Type = UserType + 1 };
    enum class Kind { Provider, App, Disposable, Template, Standalone, Admin };

    QubeItem(const Qube &qube, double width, QGraphicsItem *parent = nullptr);
    int type() const override { return Type; }

    const QString &name() const { return m_name; }
    const QString &ip() const { return m_ip; }
    Kind kind() const { return m_kind; }
    bool isHalted() const { return m_halted; }
    QColor labelColour() const { return m_labelColour; }
    // The text actually drawn (elided when too long); always plain text.
    const QString &displayedName() const { return m_shownName; }
    const QString &displayedDetail() const { return m_shownDetail; }

    static Kind kindOf(const Qube &qube);
    static QString kindName(Kind kind); // "network provider", "app qube", ...
    // The width the qube's text wants, within the theme's minimum and maximum.
    static double preferredWidth(const Qube &qube);
    static QString detailText(const Qube &qube);

    void setWidth(double width);
    void setMatched(bool matched);
    bool isMatched() const { return m_matched; }
    // A check runs in the qube: a spinner replaces the icon; advanceBusy() turns it a step.
    void setBusy(bool busy);
    bool isBusy() const { return m_busy; }
    void advanceBusy();
    // The qube's checks summed up: a mark at the box's corner (pass, fail, cannot tell, stale)
    // and, in the tool tip, one line per check with the time of its evidence.
    void setVerdict(VerdictMark mark, const QStringList &lines);
    VerdictMark verdict() const { return m_verdict; }
    // What changed since a compared snapshot ("moved: sys-firewall → sys-vpn"): a dashed ring
    // around the box and the lines in its tool tip; empty clears.
    void setChanges(const QStringList &changes);
    const QStringList &changes() const { return m_changes; }
    static void paintChangeRing(QPainter *painter, const QPainterPath &outline);
    // A netvm named by a qube but not in the snapshot: drawn as a dashed ghost with its name.
    void setMissing();
    bool isMissing() const { return m_missing; }
    // Draws a verdict mark centred on c (also used by the legend).
    static void paintVerdictMark(QPainter *painter, VerdictMark mark, const QPointF &c, double r);

    // The outline of a box of this kind; also used by the legend.
    static QPainterPath outline(Kind kind, const QRectF &rect);
    // The small white-on-colour glyph drawn at the box's left; also used by the legend.
    static void paintIcon(QPainter *painter, Kind kind, const QRectF &rect, const QColor &ink);

    QRectF boundingRect() const override;
    QPainterPath shape() const override;
    void paint(QPainter *painter, const QStyleOptionGraphicsItem *option, QWidget *widget) override;

protected:
    QVariant itemChange(GraphicsItemChange change, const QVariant &value) override;

private:
    void elide();

    QString m_name;
    QString m_ip;
    QString m_detail;
    QString m_shownName;
    QString m_shownDetail;
    Kind m_kind = Kind::App;
    QColor m_labelColour;
    bool m_halted = false;
    bool m_matched = false;
    bool m_busy = false;
    int m_busyPhase = 0; // spinner step, 0..11
    QRectF m_rect;
    QString m_baseToolTip;
    QStringList m_verdictLines;
    QStringList m_changes;
    VerdictMark m_verdict = VerdictMark::None;
    bool m_missing = false;
};

} // namespace netmap
