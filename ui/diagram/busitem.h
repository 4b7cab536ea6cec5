#pragma once
// BusItem: the shared line that feeds a packed block of qubes from their netvm.

#include <QColor>
#include <QGraphicsItem>
#include <QPainterPath>

namespace netmap {

class BusItem : public QGraphicsItem
{
public:
    enum { Type = UserType + 6 };

    explicit BusItem(const QString &netvm, QGraphicsItem *parent = nullptr);
    int type() const override { return Type; }
    const QString &netvm() const { return m_netvm; }

    void setPath(const QPainterPath &path);
    // The colour every link on the bus shares, or the neutral bus colour when they differ.
    void setColour(const QColor &colour, bool dashed);

    QRectF boundingRect() const override;
    void paint(QPainter *painter, const QStyleOptionGraphicsItem *option, QWidget *widget) override;

private:
    QString m_netvm;
    QPainterPath m_path;
    QColor m_colour;
    bool m_dashed = false;
};

} // namespace netmap
