#include "linkitem.h"

#include "diagramtheme.h"
#include "model/untrustedtext.h"

#include <QPainter>
#include <QPainterPathStroker>

namespace netmap {

namespace {
constexpr double kWidth = 2.2;
constexpr double kHighlightWidth = 4.5;
constexpr double kBadgeRadius = 8;
} // namespace

LinkItem::LinkItem(const QString &lower, const QString &upper, bool toInternet,
                   QGraphicsItem *parent)
    : QGraphicsItem(parent)
    , m_lower(lower)
    , m_upper(upper)
    , m_toInternet(toInternet)
{
    setZValue(1);
    setAcceptedMouseButtons(Qt::NoButton);
    m_style.colour = QColor(0x9e, 0x9e, 0x9e);
    updateToolTip();
}

QPainterPath LinkItem::buildPath(const std::vector<QPointF> &route, int curveSegment, int from,
                                 int to)
{
    QPainterPath path;
    if (route.size() < 2 || from >= to)
        return path;
    path.moveTo(route[size_t(from)]);
    for (int s = from; s < to && s + 1 < int(route.size()); ++s) {
        const QPointF a = route[size_t(s)];
        const QPointF b = route[size_t(s) + 1];
        if (s == curveSegment) {
            const double mx = (a.x() + b.x()) / 2;
            path.cubicTo(QPointF(mx, a.y()), QPointF(mx, b.y()), b);
        } else {
            path.lineTo(b);
        }
    }
    return path;
}

void LinkItem::setRoute(const std::vector<QPointF> &route, int curveSegment, int sharedSegments)
{
    prepareGeometryChange();
    const int segments = int(route.size()) - 1;
    m_full = buildPath(route, curveSegment, 0, segments);
    m_own = buildPath(route, curveSegment, std::clamp(sharedSegments, 0, segments), segments);
    m_bounds = m_full.boundingRect().adjusted(-kBadgeRadius - 4, -kBadgeRadius - 4,
                                              kBadgeRadius + 4, kBadgeRadius + 4);
}

void LinkItem::setLinkStyle(const LinkStyle &style)
{
    m_style = style;
    updateToolTip();
    update();
}

void LinkItem::setHighlighted(bool highlighted)
{
    if (m_highlighted == highlighted)
        return;
    m_highlighted = highlighted;
    setZValue(highlighted ? 1.5 : 1);
    update();
}

void LinkItem::updateToolTip()
{
    QString text = m_toInternet
        ? QStringLiteral("%1 → Internet").arg(m_upper.toHtmlEscaped())
        : QStringLiteral("%1 → %2").arg(m_lower.toHtmlEscaped(), m_upper.toHtmlEscaped());
    if (m_style.verified)
        text += QStringLiteral("<br>exit %1 (%2), verified")
                    .arg(untrustedtext::line(m_style.externalIp, 64).toHtmlEscaped(),
                         untrustedtext::line(m_style.exitKind, 64).toHtmlEscaped());
    else
        text += QStringLiteral("<br>exit not verified");
    if (m_style.failed)
        text += QStringLiteral("<br>an expectation failed");
    if (m_style.stale)
        text += QStringLiteral("<br>evidence is older than the current path");
    setToolTip(QStringLiteral("<qt>") + text + QStringLiteral("</qt>"));
}

QPen LinkItem::penFor(const LinkStyle &style, double width)
{
    QColor colour = style.failed ? QColor(0xd6, 0x27, 0x28) : style.colour;
    if (style.stale)
        colour.setAlphaF(0.6);
    QPen pen(colour, width);
    pen.setCapStyle(Qt::FlatCap);
    pen.setJoinStyle(Qt::RoundJoin);
    if (style.stale)
        pen.setDashPattern({1, 2});
    else if (!style.verified && !style.failed)
        pen.setDashPattern({3, 2.5});
    return pen;
}

void LinkItem::paintFailedBadge(QPainter *painter, const QPointF &centre)
{
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    painter->setPen(QPen(Qt::white, 1.5));
    painter->setBrush(QColor(0xd6, 0x27, 0x28));
    painter->drawEllipse(centre, kBadgeRadius, kBadgeRadius);
    painter->setPen(QPen(Qt::white, 2.2, Qt::SolidLine, Qt::RoundCap));
    painter->drawLine(QPointF(centre.x(), centre.y() - 4), QPointF(centre.x(), centre.y() + 1));
    painter->drawPoint(QPointF(centre.x(), centre.y() + 4.2));
    painter->restore();
}

QRectF LinkItem::boundingRect() const
{
    return m_bounds;
}

QPainterPath LinkItem::shape() const
{
    QPainterPathStroker stroker;
    stroker.setWidth(8);
    return stroker.createStroke(m_own);
}

void LinkItem::paint(QPainter *painter, const QStyleOptionGraphicsItem *, QWidget *)
{
    painter->setRenderHint(QPainter::Antialiasing);
    painter->setBrush(Qt::NoBrush);
    if (m_highlighted) {
        // A casing of the background keeps the highlighted path readable where it crosses the
        // bus.
        QPen casing(DiagramTheme::colours(this).paper, kHighlightWidth + 3);
        casing.setJoinStyle(Qt::RoundJoin);
        painter->setPen(casing);
        painter->drawPath(m_full);
        painter->setPen(penFor(m_style, kHighlightWidth));
        painter->drawPath(m_full);
    } else {
        painter->setPen(penFor(m_style, kWidth));
        painter->drawPath(m_own);
    }
    if (m_style.failed && !m_own.isEmpty())
        paintFailedBadge(painter, m_own.pointAtPercent(0.5));
}

} // namespace netmap
