#include "diagramview.h"

#include "diagramscene.h"
#include "qubeitem.h"

#include <QAccessible>
#include <QContextMenuEvent>
#include <QMenu>
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
    setFocusPolicy(Qt::StrongFocus);
    setAccessibleName(tr("Network map"));
    connect(scene, &DiagramScene::qubeSelected, this, &DiagramView::describeSelection);
}

void DiagramView::describeSelection(const QString &qube)
{
    auto *diagram = qobject_cast<DiagramScene *>(scene());
    const QubeItem *item = diagram ? diagram->qubeItem(qube) : nullptr;
    QString text;
    if (item) {
        text = tr("%1, %2").arg(item->name(), QubeItem::kindName(item->kind()));
        if (!item->displayedDetail().isEmpty())
            text += QStringLiteral(", ") + item->displayedDetail();
        if (item->verdict() != VerdictMark::None)
            text += tr(", checks: %1").arg(verdictMarkWords(item->verdict()));
    } else {
        text = tr("No qube selected. Arrow keys move between qubes.");
    }
    setAccessibleDescription(text);
    QAccessibleEvent event(this, QAccessible::DescriptionChanged);
    QAccessible::updateAccessibility(&event);
}

void DiagramView::focusInEvent(QFocusEvent *event)
{
    QGraphicsView::focusInEvent(event);
    auto *diagram = qobject_cast<DiagramScene *>(scene());
    describeSelection(diagram ? diagram->selectedQube() : QString());
}

void DiagramView::keyPressEvent(QKeyEvent *event)
{
    auto *diagram = qobject_cast<DiagramScene *>(scene());
    if (!diagram) {
        QGraphicsView::keyPressEvent(event);
        return;
    }
    const QString current = diagram->selectedQube();
    switch (event->key()) {
    case Qt::Key_Left:
    case Qt::Key_Right:
    case Qt::Key_Up:
    case Qt::Key_Down: {
        if (event->modifiers() & ~Qt::KeypadModifier)
            break; // Ctrl+arrows and friends keep scrolling
        const QString next = diagram->neighbour(current, Qt::Key(event->key()));
        if (!next.isEmpty()) {
            diagram->selectQube(next);
            if (QubeItem *item = diagram->qubeItem(next))
                ensureVisible(item, 40, 40);
        }
        event->accept();
        return;
    }
    case Qt::Key_Return:
    case Qt::Key_Enter:
        if (!current.isEmpty()) {
            emit diagram->qubeActivated(current);
            event->accept();
            return;
        }
        break;
    case Qt::Key_Menu:
        if (openContextMenu()) {
            event->accept();
            return;
        }
        break;
    case Qt::Key_F10:
        if ((event->modifiers() & Qt::ShiftModifier) && openContextMenu()) {
            event->accept();
            return;
        }
        break;
    default:
        break;
    }
    QGraphicsView::keyPressEvent(event);
}

void DiagramView::contextMenuEvent(QContextMenuEvent *event)
{
    // From the keyboard: the selected qube's menu at the qube, not at the mouse pointer.
    if (event->reason() == QContextMenuEvent::Keyboard) {
        if (openContextMenu())
            event->accept();
        return;
    }
    QGraphicsView::contextMenuEvent(event);
}

QMenu *DiagramView::openContextMenu()
{
    auto *diagram = qobject_cast<DiagramScene *>(scene());
    const QString current = diagram ? diagram->selectedQube() : QString();
    QubeItem *item = current.isEmpty() ? nullptr : diagram->qubeItem(current);
    if (!item)
        return nullptr;
    ensureVisible(item, 40, 40);
    QMenu *menu = diagram->createContextMenu(current, this);
    menu->setAttribute(Qt::WA_DeleteOnClose);
    if (menu->isEmpty()) {
        delete menu;
        return nullptr;
    }
    const QRectF box = item->sceneBoundingRect();
    menu->popup(viewport()->mapToGlobal(mapFromScene(QPointF(box.left() + 24, box.bottom()))));
    return menu;
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
