#include "sidepathitem.h"

#include <QLineF>
#include <QPainter>

#include <cmath>

namespace netmap {

SidePathItem::SidePathItem(const SidePath &path, const QRectF &from, const QRectF &to,
                           QGraphicsItem *parent)
    : QGraphicsPathItem(route(from, to), parent)
    , m_path(path)
{
    setPen(penFor(path.kind));
    setZValue(0.5); // above links and buses, below boxes
    setToolTip(path.text.toHtmlEscaped());
    setAcceptedMouseButtons(Qt::NoButton);
}

QPainterPath SidePathItem::route(const QRectF &from, const QRectF &to)
{
    // To a box on the right: from the right edge to its left edge. Otherwise vertically, from
    // the top or bottom edge to the facing edge, so the curve stays between the two boxes
    // instead of looping round the map (NetVM links leave boxes on the left and right).
    QPointF start, end, c1, c2;
    if (to.left() > from.right() + 20) {
        start = QPointF(from.right(), from.center().y());
        end = QPointF(to.left(), to.center().y());
        const double bend = std::max(40.0, (end.x() - start.x()) / 2);
        c1 = start + QPointF(bend, 0);
        c2 = end - QPointF(bend, 0);
    } else if (to.bottom() < from.top() || to.top() > from.bottom()) {
        const bool up = to.bottom() < from.top();
        start = QPointF(from.center().x(), up ? from.top() : from.bottom());
        end = QPointF(to.center().x(), up ? to.bottom() : to.top());
        const double bend = std::max(30.0, std::abs(end.y() - start.y()) / 2);
        c1 = start + QPointF(0, up ? -bend : bend);
        c2 = end + QPointF(0, up ? bend : -bend);
    } else {
        // Side by side, the target on the left: under both boxes.
        start = QPointF(from.center().x(), from.bottom());
        end = QPointF(to.center().x(), to.bottom());
        c1 = start + QPointF(0, 40);
        c2 = end + QPointF(0, 40);
    }
    QPainterPath path(start);
    path.cubicTo(c1, c2, end);
    // An arrow head at the end, along the curve's last direction, pointing into the box.
    QLineF back(end, c2);
    if (back.length() < 1)
        back = QLineF(end, start);
    back.setLength(9);
    QLineF left = back, right = back;
    left.setAngle(back.angle() + 30);
    right.setAngle(back.angle() - 30);
    path.moveTo(left.p2());
    path.lineTo(end);
    path.lineTo(right.p2());
    return path;
}

QColor SidePathItem::colourFor(SidePath::Kind kind)
{
    return kind == SidePath::Kind::Updates ? QColor(0x00, 0x89, 0x7b) : QColor(0x8e, 0x44, 0xad);
}

QPen SidePathItem::penFor(SidePath::Kind kind)
{
    QPen pen(colourFor(kind), 2.2);
    pen.setCapStyle(Qt::FlatCap);
    pen.setDashPattern(kind == SidePath::Kind::Updates ? QList<qreal> {6, 2.5, 1.5, 2.5}
                                                       : QList<qreal> {1.2, 2.2});
    return pen;
}

QString SidePathItem::dashArray(SidePath::Kind kind)
{
    // The pen's pattern is in pen widths (2.2).
    return kind == SidePath::Kind::Updates ? QStringLiteral("13.2 5.5 3.3 5.5")
                                           : QStringLiteral("2.6 4.8");
}

void SidePathItem::paintPath(QPainter *painter, const QPainterPath &path, SidePath::Kind kind)
{
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    painter->setPen(penFor(kind));
    painter->setBrush(Qt::NoBrush);
    painter->drawPath(path);
    painter->restore();
}

void SidePathItem::paint(QPainter *painter, const QStyleOptionGraphicsItem *, QWidget *)
{
    paintPath(painter, path(), m_path.kind);
}

} // namespace netmap
