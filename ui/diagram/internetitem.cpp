#include "internetitem.h"

#include "diagramtheme.h"
#include "model/untrustedtext.h"

#include <QFontMetricsF>
#include <QPainter>

namespace netmap {

InternetItem::InternetItem(const QString &rootProvider, const QSizeF &size, QGraphicsItem *parent)
    : QGraphicsItem(parent)
    , m_root(rootProvider)
    , m_rect(QPointF(0, 0), size)
    , m_colour(0x9e, 0x9e, 0x9e)
{
    setZValue(2);
    setCacheMode(DeviceCoordinateCache);
    setToolTip(
        QStringLiteral("<qt>Internet, reached through %1</qt>").arg(rootProvider.toHtmlEscaped()));
}

void InternetItem::setExit(const QString &externalIp, const QColor &colour)
{
    m_exitIp = untrustedtext::line(externalIp, 64);
    m_colour = colour;
    update();
}

QPainterPath InternetItem::cloud() const
{
    // A cloud made of overlapping circles, flattened at the bottom.
    const QRectF r = m_rect;
    const double h = r.height();
    const double w = r.width();
    QPainterPath p;
    p.addRoundedRect(QRectF(r.left(), r.top() + h * 0.42, w, h * 0.58), h * 0.29, h * 0.29);
    // One circle at a time: uniting overlapping circles in one path would keep inner arcs.
    const QRectF circles[] = {
        QRectF(r.left() + w * 0.16, r.top() + h * 0.2, w * 0.34, h * 0.62),
        QRectF(r.left() + w * 0.36, r.top(), w * 0.38, h * 0.78),
        QRectF(r.left() + w * 0.6, r.top() + h * 0.22, w * 0.28, h * 0.56),
    };
    for (const QRectF &c : circles) {
        QPainterPath circle;
        circle.addEllipse(c);
        p = p.united(circle);
    }
    return p.simplified();
}

QRectF InternetItem::boundingRect() const
{
    return m_rect.adjusted(-2, -2, 2, 2);
}

QPainterPath InternetItem::shape() const
{
    return cloud();
}

void InternetItem::paint(QPainter *painter, const QStyleOptionGraphicsItem *, QWidget *)
{
    painter->setRenderHint(QPainter::Antialiasing);
    const QPainterPath path = cloud();
    QColor fill = m_colour;
    fill.setAlphaF(0.14);
    const DiagramTheme::Colours colours = DiagramTheme::colours(this);
    painter->fillPath(path, colours.card);
    painter->fillPath(path, fill);
    painter->strokePath(path, QPen(m_colour.darker(110), 1.6));

    const QRectF text = m_rect.adjusted(4, m_rect.height() * 0.42, -4, -2);
    painter->setPen(colours.ink);
    painter->setFont(DiagramTheme::nameFont());
    const QFontMetricsF name(DiagramTheme::nameFont());
    painter->drawText(
        QPointF(text.center().x() - name.horizontalAdvance(QStringLiteral("Internet")) / 2,
                text.top() + 12),
        QStringLiteral("Internet"));
    if (!m_exitIp.isEmpty()) {
        const QFontMetricsF detail(DiagramTheme::detailFont());
        const QString shown = detail.elidedText(m_exitIp, Qt::ElideMiddle, text.width());
        painter->setFont(DiagramTheme::detailFont());
        painter->setPen(colours.ink);
        painter->drawText(
            QPointF(text.center().x() - detail.horizontalAdvance(shown) / 2, text.top() + 26),
            shown);
    }
}

} // namespace netmap
