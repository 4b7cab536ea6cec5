#pragma once
// DroppedFlowItem: a blocked flow flashed on the diagram: a red dashed arrow from one qube to
// another with what was dropped, which fades away by itself.

#include <QGraphicsObject>
#include <QPainterPath>

class QPropertyAnimation;
class QSequentialAnimationGroup;

namespace netmap {

class DroppedFlowItem : public QGraphicsObject
{
    Q_OBJECT
public:
    enum { Type = UserType + 20 };

    // Boxes in scene coordinates; label is plain text ("ICMP echo-request").
    DroppedFlowItem(const QString &from, const QString &to, const QRectF &fromBox,
                    const QRectF &toBox, const QString &label, QGraphicsItem *parent = nullptr);
    int type() const override { return Type; }

    const QString &from() const { return m_from; }
    const QString &to() const { return m_to; }
    const QString &label() const { return m_label; }
    int count() const { return m_count; }

    // Shows it at full strength again (another packet of the same flow), then fades.
    void flash(const QString &label);
    static constexpr int kHoldMs = 6000;
    static constexpr int kFadeMs = 2500;

    QRectF boundingRect() const override;
    QPainterPath shape() const override;
    void paint(QPainter *painter, const QStyleOptionGraphicsItem *option, QWidget *widget) override;

private:
    QString m_from;
    QString m_to;
    QString m_label;
    int m_count = 0;
    QPainterPath m_path;
    QPointF m_tip;
    QPointF m_tipDirection;
    QPointF m_labelAnchor;
    double m_labelOffset = 0; // label above or below the badge
    QRectF m_bounds;
    QSequentialAnimationGroup *m_animation = nullptr;
};

} // namespace netmap
