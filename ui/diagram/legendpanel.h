#pragma once
// LegendPanel: the diagram's legend and title in a dock beside the map, at their natural size
// whatever the zoom, so that fitting a network shrinks the qubes, not the key to them. The
// legend item stays in the scene, hidden (exports show it).

#include <QDockWidget>

namespace netmap {

class DiagramScene;

class LegendPanel : public QDockWidget
{
    Q_OBJECT
public:
    // Takes the scene's legend out of the zoomed scene.
    explicit LegendPanel(DiagramScene *scene, QWidget *parent = nullptr);
    QWidget *canvas() const { return m_canvas; } // what paints the legend

private:
    QWidget *m_canvas = nullptr;
};

} // namespace netmap
