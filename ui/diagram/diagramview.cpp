#include "diagramview.h"

#include "diagramaccessible.h"
#include "diagramscene.h"
#include "overviewwidget.h"
#include "qubeitem.h"

#include <QAccessible>
#include <QContextMenuEvent>
#include <QMenu>
#include <QTimer>
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
    DiagramAccessible::install(); // each qube is an item of the map's accessible list
    connect(scene, &DiagramScene::qubeSelected, this, &DiagramView::describeSelection);
    m_overview = new OverviewWidget(this);
    // Drawn again once per burst of changes (a fit may fold several times).
    auto *redraw = new QTimer(this);
    redraw->setSingleShot(true);
    redraw->setInterval(0);
    connect(redraw, &QTimer::timeout, m_overview, &OverviewWidget::redraw);
    connect(scene, &DiagramScene::diagramRebuilt, redraw, qOverload<>(&QTimer::start));
    connect(scene, &DiagramScene::snapshotChanged, redraw, qOverload<>(&QTimer::start));
    redraw->start();
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
    // The selected qube is the map's focused item: a screen reader reads it out.
    if (item && hasFocus() && QAccessible::isActive()) {
        auto *map = dynamic_cast<DiagramAccessible *>(QAccessible::queryAccessibleInterface(this));
        const int index = map ? map->indexOfEntry(qube, false) : -1;
        if (index >= 0) {
            QAccessibleEvent focus(this, QAccessible::Focus);
            focus.setChild(index);
            QAccessible::updateAccessibility(&focus);
            QAccessibleEvent selection(this, QAccessible::Selection);
            selection.setChild(index);
            QAccessible::updateAccessibility(&selection);
        }
    }
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
        // Right on a netvm whose clients are folded shows them, as in a tree view.
        if (event->key() == Qt::Key_Right && diagram->clusterItem(current))
            diagram->showClients(current);
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
    m_overview->place();
}

void DiagramView::zoomBy(double factor)
{
    m_fitPending = false;
    applyZoom(factor, AnchorViewCenter);
}

void DiagramView::fitDiagram()
{
    fitNow();
    m_overview->place();
}

void DiagramView::fitNow()
{
    auto *diagram = qobject_cast<DiagramScene *>(scene());
    const QRectF rect = diagram ? diagram->diagramRect() : sceneRect();
    if (rect.isEmpty() || viewport()->width() < 10 || viewport()->height() < 10)
        return;
    // Stays fitted through window resizes until the user zooms.
    m_fitPending = true;
    // Level of detail: fold the largest groups of clients until names are readable at fit.
    const auto fitZoom = [this](const QRectF &r) {
        return std::min(viewport()->width() / r.width(), viewport()->height() / r.height());
    };
    QRectF target = rect;
    // Only once shown: a hidden view's viewport has no real size yet.
    while (isVisible() && diagram && fitZoom(target) < kReadableZoom && diagram->foldLargest())
        target = diagram->diagramRect();
    // Twice: the first fit may hide or show the scroll bars, which resizes the viewport.
    fitInView(target, Qt::KeepAspectRatio);
    fitInView(target, Qt::KeepAspectRatio);
    // Never blow a small network up beyond its natural size: text stays at its designed size.
    if (zoom() > 1.0) {
        setTransform(QTransform());
    } else if (zoom() < kReadableZoom && isVisible()) {
        // Still too big: readable names from the top left (the overview shows the rest).
        setTransform(QTransform::fromScale(kReadableZoom, kReadableZoom));
        const QRectF shown = mapToScene(viewport()->rect()).boundingRect();
        centerOn(target.topLeft() + QPointF(shown.width() / 2, shown.height() / 2));
        return;
    } else if (zoom() < kMinZoom) {
        setTransform(QTransform::fromScale(kMinZoom, kMinZoom));
    }
    centerOn(target.center());
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
    m_overview->place();
}

void DiagramView::showEvent(QShowEvent *event)
{
    QGraphicsView::showEvent(event);
    if (m_fitPending)
        fitDiagram();
}

} // namespace netmap
