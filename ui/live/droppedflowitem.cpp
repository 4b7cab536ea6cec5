#include "droppedflowitem.h"

#include "model/untrustedtext.h"

#include <QFontMetricsF>
#include <QPainter>
#include <QPauseAnimation>
#include <QPropertyAnimation>
#include <QSequentialAnimationGroup>

#include <cmath>

namespace netmap {

namespace {
const QColor kRed(0xd6, 0x27, 0x28);
constexpr double kWidth = 2.6;
constexpr double kArrow = 11;

QFont labelFont()
{
    QFont font;
    font.setPointSizeF(8.5);
    font.setBold(true);
    return font;
}
} // namespace

DroppedFlowItem::DroppedFlowItem(const QString &from, const QString &to, const QRectF &fromBox,
                                 const QRectF &toBox, const QString &label, QGraphicsItem *parent)
    : QGraphicsObject(parent)
    , m_from(from)
    , m_to(to)
{
    setZValue(6);
    setAcceptedMouseButtons(Qt::NoButton);
    // Boxes side by side: from one facing edge to the other; one above the other (siblings
    // of one netvm): a loop out to the right of both, the side where nothing else is drawn.
    QPointF a, b, c1, c2;
    if (toBox.left() > fromBox.right() + 20) {
        a = QPointF(fromBox.right(), fromBox.center().y());
        b = QPointF(toBox.left(), toBox.center().y());
        const double mx = (a.x() + b.x()) / 2;
        c1 = QPointF(mx, a.y() - 30);
        c2 = QPointF(mx, b.y() - 30);
    } else if (fromBox.left() > toBox.right() + 20) {
        a = QPointF(fromBox.left(), fromBox.center().y());
        b = QPointF(toBox.right(), toBox.center().y());
        const double mx = (a.x() + b.x()) / 2;
        c1 = QPointF(mx, a.y() - 30);
        c2 = QPointF(mx, b.y() - 30);
    } else {
        a = QPointF(fromBox.right(), fromBox.center().y());
        b = QPointF(toBox.right(), toBox.center().y());
        // The two directions between the same qubes take different loops and label heights.
        const bool up = b.y() < a.y();
        const double bulge = std::clamp(std::abs(b.y() - a.y()) * 0.5, 60.0, 180.0) + (up ? 56 : 0);
        m_labelOffset = up ? -11 : 11;
        const double x = std::max(a.x(), b.x()) + bulge;
        c1 = QPointF(x, a.y());
        c2 = QPointF(x, b.y());
    }
    m_path.moveTo(a);
    m_path.cubicTo(c1, c2, b);
    m_tip = b;
    const QPointF d = b - m_path.pointAtPercent(0.96);
    const double len = std::hypot(d.x(), d.y());
    m_tipDirection = len > 0 ? d / len : QPointF(1, 0);
    m_labelAnchor = m_path.pointAtPercent(0.5);
    m_bounds = m_path.boundingRect().adjusted(-kArrow - 4, -kArrow - 4, kArrow + 4, kArrow + 4);
    m_bounds = m_bounds.united(QRectF(m_labelAnchor.x() - 10, m_labelAnchor.y() - 32, 280, 64));

    auto *fade = new QPropertyAnimation(this, "opacity", this);
    fade->setDuration(kFadeMs);
    fade->setStartValue(1.0);
    fade->setEndValue(0.0);
    m_animation = new QSequentialAnimationGroup(this);
    m_animation->addPause(kHoldMs);
    m_animation->addAnimation(fade);
    connect(m_animation, &QAbstractAnimation::finished, this, [this] {
        setVisible(false); // the owner removes it; a repeat can show it again
    });
    flash(label);
}

void DroppedFlowItem::flash(const QString &label)
{
    prepareGeometryChange();
    m_label = label;
    ++m_count;
    setVisible(true);
    setOpacity(1.0);
    m_animation->stop();
    m_animation->start();
    update();
}

QRectF DroppedFlowItem::boundingRect() const
{
    return m_bounds;
}

QPainterPath DroppedFlowItem::shape() const
{
    return m_path;
}

void DroppedFlowItem::paint(QPainter *painter, const QStyleOptionGraphicsItem *, QWidget *)
{
    painter->setRenderHint(QPainter::Antialiasing);
    // A white casing keeps the arrow readable over links and boxes.
    QPen casing(QColor(255, 255, 255, 200), kWidth + 3);
    casing.setCapStyle(Qt::RoundCap);
    painter->setPen(casing);
    painter->setBrush(Qt::NoBrush);
    painter->drawPath(m_path);
    QPen pen(kRed, kWidth);
    pen.setDashPattern({4, 2.5});
    pen.setCapStyle(Qt::FlatCap);
    painter->setPen(pen);
    painter->drawPath(m_path);

    const QPointF n(-m_tipDirection.y(), m_tipDirection.x());
    const QPointF back = m_tip - m_tipDirection * kArrow;
    QPolygonF head {m_tip, back + n * (kArrow * 0.5), back - n * (kArrow * 0.5)};
    painter->setPen(Qt::NoPen);
    painter->setBrush(kRed);
    painter->drawPolygon(head);

    // A "blocked" badge and what was dropped, as plain text.
    const QPointF c = m_labelAnchor;
    painter->setBrush(kRed);
    painter->setPen(QPen(Qt::white, 1.5));
    painter->drawEllipse(c, 8, 8);
    painter->setPen(QPen(Qt::white, 2.2, Qt::SolidLine, Qt::RoundCap));
    painter->drawLine(c + QPointF(-3.5, -3.5), c + QPointF(3.5, 3.5));
    painter->drawLine(c + QPointF(-3.5, 3.5), c + QPointF(3.5, -3.5));
    QString text = QStringLiteral("dropped: %1").arg(untrustedtext::line(m_label, 200));
    if (m_count > 1)
        text += QStringLiteral(" ×%1").arg(m_count);
    painter->setFont(labelFont());
    const QFontMetricsF fm(painter->font());
    const QString shown = fm.elidedText(text, Qt::ElideRight, 240);
    const QRectF box(c.x() + 12, c.y() - 9 + m_labelOffset, fm.horizontalAdvance(shown) + 8,
                     fm.height() + 2);
    painter->setPen(Qt::NoPen);
    painter->setBrush(QColor(255, 255, 255, 225));
    painter->drawRoundedRect(box, 3, 3);
    painter->setPen(kRed.darker(120));
    painter->drawText(box.adjusted(4, 0, 0, 0), Qt::AlignVCenter | Qt::AlignLeft, shown);
}

} // namespace netmap
