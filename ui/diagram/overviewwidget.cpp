#include "overviewwidget.h"

#include "diagramscene.h"
#include "diagramview.h"

#include <QMouseEvent>
#include <QPainter>
#include <QScrollBar>

#include <algorithm>

namespace netmap {

namespace {
constexpr int kFrame = 4; // around the picture
constexpr int kInset = 12; // from the view's edges
} // namespace

OverviewWidget::OverviewWidget(DiagramView *view)
    : QWidget(view)
    , m_view(view)
{
    setObjectName(QStringLiteral("overview"));
    setAccessibleName(tr("Overview of the map"));
    setAccessibleDescription(tr("The whole diagram small; click to move the view there."));
    setCursor(Qt::PointingHandCursor);
    setAttribute(Qt::WA_OpaquePaintEvent);
    setToolTip(tr("Overview: click or drag to move the view"));
    const auto update = [this] {
        place();
        QWidget::update();
    };
    connect(view->horizontalScrollBar(), &QScrollBar::valueChanged, this, update);
    connect(view->verticalScrollBar(), &QScrollBar::valueChanged, this, update);
    connect(view->horizontalScrollBar(), &QScrollBar::rangeChanged, this, update);
    connect(view->verticalScrollBar(), &QScrollBar::rangeChanged, this, update);
    hide();
}

void OverviewWidget::setEnabledByUser(bool enabled)
{
    m_enabled = enabled;
    place();
}

void OverviewWidget::redraw()
{
    auto *diagram = qobject_cast<DiagramScene *>(m_view->scene());
    m_source = diagram ? diagram->diagramRect() : QRectF();
    if (m_source.isEmpty()) {
        m_picture = QPixmap();
        place();
        return;
    }
    const QSizeF size = m_source.size().scaled(QSizeF(kMaxWidth, kMaxHeight), Qt::KeepAspectRatio);
    const qreal ratio = devicePixelRatioF();
    QPixmap picture((size * ratio).toSize().expandedTo(QSize(1, 1)));
    picture.setDevicePixelRatio(ratio);
    picture.fill(diagram->backgroundBrush().color());
    {
        QPainter painter(&picture);
        painter.setRenderHint(QPainter::Antialiasing);
        diagram->render(&painter, QRectF(QPointF(0, 0), size), m_source, Qt::KeepAspectRatio);
    }
    m_picture = picture;
    setFixedSize(size.toSize() + QSize(2 * kFrame, 2 * kFrame));
    place();
    update();
}

void OverviewWidget::place()
{
    const QRect area = m_view->viewport()->geometry();
    move(area.right() - width() - kInset + 1, area.bottom() - height() - kInset + 1);
    // Only while part of the diagram is out of view, and only where it leaves room for the map.
    const QRectF shown = m_view->mapToScene(m_view->viewport()->rect()).boundingRect();
    const bool needed = m_enabled && !m_picture.isNull()
        && !shown.adjusted(-2, -2, 2, 2).contains(m_source) && area.width() >= 2 * width()
        && area.height() >= 2 * height();
    if (needed != isVisible())
        setVisible(needed);
    if (needed)
        raise();
}

QRectF OverviewWidget::pictureRect() const
{
    return QRectF(kFrame, kFrame, width() - 2 * kFrame, height() - 2 * kFrame);
}

QRectF OverviewWidget::visibleFrame() const
{
    if (m_source.isEmpty())
        return QRectF();
    const QRectF picture = pictureRect();
    const QRectF shown = m_view->mapToScene(m_view->viewport()->rect()).boundingRect();
    const double sx = picture.width() / m_source.width();
    const double sy = picture.height() / m_source.height();
    const QRectF frame(picture.left() + (shown.left() - m_source.left()) * sx,
                       picture.top() + (shown.top() - m_source.top()) * sy, shown.width() * sx,
                       shown.height() * sy);
    return frame.intersected(picture);
}

QPointF OverviewWidget::sceneAt(const QPointF &pos) const
{
    const QRectF picture = pictureRect();
    if (picture.isEmpty())
        return m_source.center();
    return QPointF(
        m_source.left() + (pos.x() - picture.left()) * m_source.width() / picture.width(),
        m_source.top() + (pos.y() - picture.top()) * m_source.height() / picture.height());
}

void OverviewWidget::moveViewTo(const QPointF &pos)
{
    const QRectF picture = pictureRect();
    const QPointF inside(std::clamp(pos.x(), picture.left(), picture.right()),
                         std::clamp(pos.y(), picture.top(), picture.bottom()));
    m_view->centerOn(sceneAt(inside));
}

void OverviewWidget::paintEvent(QPaintEvent *)
{
    QPainter painter(this);
    painter.fillRect(rect(), palette().color(QPalette::Window));
    painter.setPen(QPen(palette().color(QPalette::Mid), 1));
    painter.drawRect(QRectF(rect()).adjusted(0.5, 0.5, -0.5, -0.5));
    painter.drawPixmap(pictureRect().topLeft(), m_picture);
    const QRectF frame = visibleFrame();
    if (frame.isEmpty())
        return;
    painter.setRenderHint(QPainter::Antialiasing);
    QColor fill = palette().color(QPalette::Highlight);
    fill.setAlpha(40);
    painter.setBrush(fill);
    painter.setPen(QPen(palette().color(QPalette::Highlight), 2));
    painter.drawRect(frame.adjusted(1, 1, -1, -1));
}

void OverviewWidget::mousePressEvent(QMouseEvent *event)
{
    if (event->button() == Qt::LeftButton) {
        moveViewTo(event->position());
        event->accept();
        return;
    }
    QWidget::mousePressEvent(event);
}

void OverviewWidget::mouseMoveEvent(QMouseEvent *event)
{
    if (event->buttons() & Qt::LeftButton) {
        moveViewTo(event->position());
        event->accept();
        return;
    }
    QWidget::mouseMoveEvent(event);
}

} // namespace netmap
