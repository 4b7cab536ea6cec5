#include "legendpanel.h"

#include "diagram/diagramscene.h"
#include "diagram/legenditem.h"

#include <QPainter>
#include <QScrollArea>
#include <QStyleOptionGraphicsItem>

namespace netmap {

namespace {

// Paints the scene's (hidden) legend item at scale 1.
class LegendCanvas : public QWidget
{
public:
    LegendCanvas(DiagramScene *scene, QWidget *parent)
        : QWidget(parent)
        , m_scene(scene)
    {
        setObjectName(QStringLiteral("legendCanvas"));
        setAccessibleName(QStringLiteral("Legend"));
    }
    QSize sizeHint() const override
    {
        const LegendItem *legend = m_scene->legend();
        return legend ? legend->boundingRect().size().toSize() + QSize(2, 2) : QSize(10, 10);
    }
    void refresh()
    {
        if (const LegendItem *legend = m_scene->legend())
            setAccessibleDescription(legend->texts().join(QLatin1Char('\n')));
        resize(sizeHint());
        updateGeometry();
        update();
    }

protected:
    void paintEvent(QPaintEvent *) override
    {
        LegendItem *legend = m_scene->legend();
        if (!legend)
            return;
        QPainter painter(this);
        painter.setRenderHint(QPainter::Antialiasing);
        painter.setRenderHint(QPainter::TextAntialiasing);
        painter.translate(-legend->boundingRect().topLeft() + QPointF(1, 1));
        QStyleOptionGraphicsItem option;
        option.exposedRect = legend->boundingRect();
        legend->paint(&painter, &option, this);
    }

private:
    DiagramScene *m_scene;
};

} // namespace

LegendPanel::LegendPanel(DiagramScene *scene, QWidget *parent)
    : QDockWidget(tr("Legend"), parent)
{
    setObjectName(QStringLiteral("legendDock"));
    scene->setLegendInScene(false);
    auto *scroll = new QScrollArea(this);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setWidgetResizable(false);
    auto *canvas = new LegendCanvas(scene, scroll);
    m_canvas = canvas;
    scroll->setWidget(canvas);
    setWidget(scroll);
    connect(scene, &DiagramScene::legendChanged, canvas, &LegendCanvas::refresh);
    canvas->refresh();
}

} // namespace netmap
