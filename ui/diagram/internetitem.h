#pragma once
// InternetItem: where a root provider's traffic leaves the machine, with its verified exit.

#include <QColor>
#include <QGraphicsItem>

namespace netmap {

class InternetItem : public QGraphicsItem
{
public:
    enum { Type = UserType + 3 };

    InternetItem(const QString &rootProvider, const QSizeF &size, QGraphicsItem *parent = nullptr);
    int type() const override { return Type; }

    const QString &rootProvider() const { return m_root; }
    // The exit seen from the root provider itself, or empty when not verified.
    void setExit(const QString &externalIp, const QColor &colour);
    const QString &exitIp() const { return m_exitIp; }

    QRectF boundingRect() const override;
    QPainterPath shape() const override;
    void paint(QPainter *painter, const QStyleOptionGraphicsItem *option, QWidget *widget) override;

private:
    QPainterPath cloud() const;

    QString m_root;
    QRectF m_rect;
    QString m_exitIp;
    QColor m_colour;
};

} // namespace netmap
