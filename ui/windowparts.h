#pragma once
// WindowParts: what a feature controller (checks, live view) installs itself into and acts on:
// the window's frame (menus, toolbar, docks, status bar), the map (scene and view) and the View
// menu. The data they act on is the NetworkDocument, never the window.

class QMainWindow;
class QMenu;

namespace netmap {

class DiagramScene;
class DiagramView;

struct WindowParts
{
    QMainWindow *window = nullptr;
    DiagramScene *scene = nullptr;
    DiagramView *view = nullptr;
    QMenu *viewMenu = nullptr;
};

} // namespace netmap
