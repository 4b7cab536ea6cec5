#include "groupitem.h"

#include "diagramtheme.h"

#include <QPainter>

namespace netmap {

GroupItem::GroupItem(const QString &caption, const QRectF &rect, const QRectF &captionRect,
                     QGraphicsItem *parent)
    : QGraphicsItem(parent)
    , m_caption(caption)
    , m_rect(rect)
    , m_captionRect(captionRect)
{
    setZValue(0);
    setAcceptedMouseButtons(Qt::NoButton);
    setCacheMode(DeviceCoordinateCache);
}

QRectF GroupItem::boundingRect() const
{
    return m_rect.adjusted(-1, -1, 1, 1);
}

void GroupItem::paint(QPainter *painter, const QStyleOptionGraphicsItem *, QWidget *)
{
    painter->setRenderHint(QPainter::Antialiasing);
    const DiagramTheme::Colours colours = DiagramTheme::colours(this);
    QPen pen(colours.frame, 1.2);
    pen.setDashPattern({4, 3});
    painter->setPen(pen);
    painter->setBrush(colours.groupFill);
    painter->drawRoundedRect(m_rect, 10, 10);
    painter->setPen(colours.mutedInk);
    QFont font = DiagramTheme::captionFont();
    font.setWeight(QFont::DemiBold);
    painter->setFont(font);
    painter->drawText(m_captionRect, Qt::AlignLeft | Qt::AlignVCenter, m_caption);
}

} // namespace netmap
