#pragma once
// OverviewWidget: a small picture of the whole diagram in the map's corner, with the part the
// view shows framed; clicking or dragging in it moves the view there. Shown while part of the
// diagram is out of view.

#include <QPixmap>
#include <QWidget>

namespace netmap {

class DiagramView;

class OverviewWidget : public QWidget
{
    Q_OBJECT
public:
    explicit OverviewWidget(DiagramView *view);

    // Off: never shown; on: shown while part of the diagram is out of view.
    void setEnabledByUser(bool enabled);
    bool isEnabledByUser() const { return m_enabled; }
    // The visible part of the scene, framed in the overview (widget coordinates).
    QRectF visibleFrame() const;
    // The scene point under a point of the overview.
    QPointF sceneAt(const QPointF &pos) const;

    void place(); // in the view's bottom-right corner; shown or hidden as needed
    void redraw(); // the diagram changed: draw the picture again

    static constexpr int kMaxWidth = 240;
    static constexpr int kMaxHeight = 170;

protected:
    void paintEvent(QPaintEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;

private:
    void moveViewTo(const QPointF &pos);
    QRectF pictureRect() const; // where the picture sits in the widget

    DiagramView *m_view = nullptr;
    QPixmap m_picture;
    QRectF m_source; // the scene rectangle the picture shows
    bool m_enabled = true;
};

} // namespace netmap
