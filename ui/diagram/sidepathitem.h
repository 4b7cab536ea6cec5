#pragma once
// SidePathItem: a dashed edge drawn on request beside the NetVM links: where a template's updates
// go (dash-dot teal) or where a qube's disposables leave (dotted violet).

#include "model/sidepaths.h"

#include <QGraphicsPathItem>

namespace netmap {

class SidePathItem : public QGraphicsPathItem
{
public:
    enum { Type = UserType + 8 };

    SidePathItem(const SidePath &path, const QRectF &from, const QRectF &to,
                 QGraphicsItem *parent = nullptr);
    int type() const override { return Type; }
    const SidePath &sidePath() const { return m_path; }

    // A curve from the right edge of one box to the nearest edge of the other, so it never
    // hides a NetVM link (those leave boxes on the left).
    static QPainterPath route(const QRectF &from, const QRectF &to);
    static QPen penFor(SidePath::Kind kind);
    static QColor colourFor(SidePath::Kind kind);
    static QString dashArray(SidePath::Kind kind); // SVG stroke-dasharray
    // Paints a path of this kind (exports draw with it too).
    static void paintPath(QPainter *painter, const QPainterPath &path, SidePath::Kind kind);

    void paint(QPainter *painter, const QStyleOptionGraphicsItem *option, QWidget *widget) override;

private:
    SidePath m_path;
};

} // namespace netmap
