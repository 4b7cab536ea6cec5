#pragma once
// LinkItem: the link from a qube to its netvm (or from a root provider to its Internet end),
// coloured by the exit IP verified from the qube.

#include <QColor>
#include <QGraphicsItem>
#include <QPainterPath>

#include <vector>

namespace netmap {

struct LinkStyle
{
    QColor colour;
    QString externalIp; // empty when unverified
    QString exitKind; // "clearnet", "vpn", "tor", "unknown" or empty
    bool verified = false;
    bool failed = false; // an expectation on the lower qube failed
    bool stale = false; // the evidence predates the qube's current path
};

class LinkItem : public QGraphicsItem
{
public:
    enum { Type = UserType + 2 };

    // upper is the netvm's name, or the root provider's name when toInternet.
    LinkItem(const QString &lower, const QString &upper, bool toInternet,
             QGraphicsItem *parent = nullptr);
    int type() const override { return Type; }

    const QString &lower() const { return m_lower; }
    const QString &upper() const { return m_upper; }
    bool toInternet() const { return m_toInternet; }
    const LinkStyle &linkStyle() const { return m_style; }

    // The route as the layout gives it (see LayoutLink).
    void setRoute(const std::vector<QPointF> &route, int curveSegment, int sharedSegments);
    void setLinkStyle(const LinkStyle &style);
    // A highlighted link draws its whole route, shared bus included, bold and on top.
    void setHighlighted(bool highlighted);
    bool isHighlighted() const { return m_highlighted; }

    static QPainterPath buildPath(const std::vector<QPointF> &route, int curveSegment, int from,
                                  int to);
    // Pen for a link of this style, as the legend shows it too.
    static QPen penFor(const LinkStyle &style, double width);
    static void paintFailedBadge(QPainter *painter, const QPointF &centre);

    QRectF boundingRect() const override;
    QPainterPath shape() const override;
    void paint(QPainter *painter, const QStyleOptionGraphicsItem *option, QWidget *widget) override;

private:
    void updateToolTip();

    QString m_lower;
    QString m_upper;
    bool m_toInternet = false;
    LinkStyle m_style;
    bool m_highlighted = false;
    QPainterPath m_full;
    QPainterPath m_own;
    QRectF m_bounds;
};

} // namespace netmap
