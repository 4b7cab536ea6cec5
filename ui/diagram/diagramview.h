#pragma once
// DiagramView: pans by dragging, zooms with the wheel around the cursor, fits the diagram.

#include <QGraphicsView>

class QMenu;

namespace netmap {

class DiagramScene;
class OverviewWidget;

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
    // Fit never goes below this: qube names stay at least about 9 px high. A diagram too big
    // for it folds its largest groups of clients first (DiagramScene::foldLargest), and what
    // still does not fit is reached by scrolling or with the overview.
    static constexpr double kReadableZoom = 0.8;

    // Keyboard: arrows move between qubes along the tree (left: the netvm, right: a client),
    // Enter inspects, Menu or Shift+F10 opens the qube's context menu. Opens that menu (not
    // modal) and returns it, or nullptr when no qube is selected.
    QMenu *openContextMenu();

    // The small picture of the whole diagram in the corner (while part of it is out of view).
    OverviewWidget *overview() const { return m_overview; }

protected:
    void keyPressEvent(QKeyEvent *event) override;
    void contextMenuEvent(QContextMenuEvent *event) override;
    void focusInEvent(QFocusEvent *event) override;
    void wheelEvent(QWheelEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;
    void showEvent(QShowEvent *event) override;

private:
    void describeSelection(const QString &qube); // for screen readers
    void applyZoom(double factor, ViewportAnchor anchor);
    void fitNow();

    OverviewWidget *m_overview = nullptr;
    bool m_fitPending = true;
};

} // namespace netmap
