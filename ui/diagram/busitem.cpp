#include "busitem.h"

#include "diagramtheme.h"

#include <QPainter>

namespace netmap {

BusItem::BusItem(const QString &netvm, QGraphicsItem *parent)
    : QGraphicsItem(parent)
    , m_netvm(netvm)
    , m_colour(DiagramTheme::mixedBus())
{
    setZValue(0.9);
    setAcceptedMouseButtons(Qt::NoButton);
}

void BusItem::setPath(const QPainterPath &path)
{
    prepareGeometryChange();
    m_path = path;
}

void BusItem::setColour(const QColor &colour, bool dashed)
{
    m_colour = colour;
    m_dashed = dashed;
    update();
}

QRectF BusItem::boundingRect() const
{
    return m_path.boundingRect().adjusted(-3, -3, 3, 3);
}

void BusItem::paint(QPainter *painter, const QStyleOptionGraphicsItem *, QWidget *)
{
    painter->setRenderHint(QPainter::Antialiasing);
    QPen pen(m_colour, 2.2);
    pen.setJoinStyle(Qt::RoundJoin);
    pen.setCapStyle(Qt::FlatCap);
    if (m_dashed)
        pen.setDashPattern({3, 2.5});
    painter->setPen(pen);
    painter->setBrush(Qt::NoBrush);
    painter->drawPath(m_path);
}

} // namespace netmap
