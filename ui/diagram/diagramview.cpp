#include "diagramview.h"

#include "diagramscene.h"

#include <QWheelEvent>

#include <algorithm>
#include <cmath>

namespace netmap {

DiagramView::DiagramView(DiagramScene *scene, QWidget *parent)
    : QGraphicsView(scene, parent)
{
    setObjectName(QStringLiteral("diagramView"));
    setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing);
    // Items are cached and few repaint at once: repaint the changed region, not the viewport.
    setViewportUpdateMode(SmartViewportUpdate);
    setCacheMode(CacheBackground);
    setOptimizationFlag(DontAdjustForAntialiasing); // every item's bounding rect has a margin
    setDragMode(ScrollHandDrag);
    setTransformationAnchor(AnchorUnderMouse);
    setResizeAnchor(AnchorViewCenter);
    setFrameShape(QFrame::NoFrame);
    setBackgroundBrush(scene->backgroundBrush());
}

double DiagramView::zoom() const
{
    return transform().m11();
}

void DiagramView::applyZoom(double factor, ViewportAnchor anchor)
{
    const double target = std::clamp(zoom() * factor, kMinZoom, kMaxZoom);
    if (qFuzzyCompare(target, zoom()))
        return;
    const ViewportAnchor old = transformationAnchor();
    setTransformationAnchor(anchor);
    scale(target / zoom(), target / zoom());
    setTransformationAnchor(old);
}

void DiagramView::zoomBy(double factor)
{
    m_fitPending = false;
    applyZoom(factor, AnchorViewCenter);
}

void DiagramView::fitDiagram()
{
    auto *diagram = qobject_cast<DiagramScene *>(scene());
    const QRectF rect = diagram ? diagram->diagramRect() : sceneRect();
    if (rect.isEmpty() || viewport()->width() < 10 || viewport()->height() < 10)
        return;
    // Stays fitted through window resizes until the user zooms.
    m_fitPending = true;
    // Twice: the first fit may hide or show the scroll bars, which resizes the viewport.
    fitInView(rect, Qt::KeepAspectRatio);
    fitInView(rect, Qt::KeepAspectRatio);
    // Never blow a small network up beyond its natural size: text stays at its designed size.
    if (zoom() > 1.0)
        setTransform(QTransform());
    else if (zoom() < kMinZoom)
        setTransform(QTransform::fromScale(kMinZoom, kMinZoom));
    centerOn(rect.center());
}

void DiagramView::wheelEvent(QWheelEvent *event)
{
    const QPoint pixels = event->pixelDelta();
    const double steps = !pixels.isNull() ? pixels.y() / 60.0 : event->angleDelta().y() / 120.0;
    if (steps == 0) {
        QGraphicsView::wheelEvent(event);
        return;
    }
    m_fitPending = false;
    applyZoom(std::pow(1.2, steps), AnchorUnderMouse);
    event->accept();
}

void DiagramView::resizeEvent(QResizeEvent *event)
{
    QGraphicsView::resizeEvent(event);
    if (m_fitPending)
        fitDiagram();
}

void DiagramView::showEvent(QShowEvent *event)
{
    QGraphicsView::showEvent(event);
    if (m_fitPending)
        fitDiagram();
}

} // namespace netmap
