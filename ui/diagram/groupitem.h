#pragma once
// GroupItem: a captioned frame around qubes that sit outside the NetVM forest.

#include <QGraphicsItem>

namespace netmap {

class GroupItem : public QGraphicsItem
{
public:
    enum { Type = UserType + 5 };

    GroupItem(const QString &caption, const QRectF &rect, const QRectF &captionRect,
              QGraphicsItem *parent = nullptr);
    int type() const override { return Type; }
    const QString &caption() const { return m_caption; }

    QRectF boundingRect() const override;
    void paint(QPainter *painter, const QStyleOptionGraphicsItem *option, QWidget *widget) override;

private:
    QString m_caption;
    QRectF m_rect;
    QRectF m_captionRect;
};

} // namespace netmap
