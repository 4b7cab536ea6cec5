#pragma once
// LegendItem: the key inside the scene (exit IP -> colour -> kind, link and box styles, where the
// data came from and when), so that every export carries it.

#include "policy/colouring.h"

#include <QGraphicsItem>

namespace netmap {

class LegendItem : public QGraphicsItem
{
public:
    enum { Type = UserType + 4 };

    explicit LegendItem(QGraphicsItem *parent = nullptr);
    int type() const override { return Type; }

    // details are plain lines under the title: source, snapshot time, export time.
    void setContents(const QString &title, const QStringList &details,
                     const QList<ExitInfo> &exits);
    const QList<ExitInfo> &exits() const { return m_exits; }
    // Every string the legend draws, for tests and accessibility.
    QStringList texts() const;

    QRectF boundingRect() const override;
    void paint(QPainter *painter, const QStyleOptionGraphicsItem *option, QWidget *widget) override;

private:
    void relayout();

    QString m_title;
    QStringList m_details;
    QList<ExitInfo> m_exits;
    QRectF m_rect;
};

} // namespace netmap
