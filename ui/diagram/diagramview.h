#pragma once
// DiagramView: pans by dragging, zooms with the wheel around the cursor, fits the diagram.

#include <QGraphicsView>

namespace netmap {

class DiagramScene;

class DiagramView : public QGraphicsView
{
    Q_OBJECT
public:
    explicit DiagramView(DiagramScene *scene, QWidget *parent = nullptr);

    double zoom() const;
    void zoomBy(double factor); // around the view centre
    void fitDiagram();
    // Fit now and keep fitting when the view is resized, until the user zooms.
    void requestFit() { m_fitPending = true; }
    bool isFitted() const { return m_fitPending; }

    static constexpr double kMinZoom = 0.04;
    static constexpr double kMaxZoom = 4.0;

protected:
    void wheelEvent(QWheelEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;
    void showEvent(QShowEvent *event) override;

private:
    void applyZoom(double factor, ViewportAnchor anchor);

    bool m_fitPending = true;
};

} // namespace netmap
