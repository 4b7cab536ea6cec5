#pragma once
// Diagram export: the scene as SVG (title, viewBox, legend, timestamp) or PNG, written atomically.

#include "model/result.h"
#include "model/snapshot.h"

#include <QRectF>
#include <QSize>
#include <QString>

namespace netmap {

class DiagramScene;

// Format by extension (.svg, .png). A failed write returns an Error saying why and leaves any old
// file intact. Needs a QGuiApplication (the offscreen platform will do), no display.
Status exportDiagram(const Snapshot &snapshot, const QString &path, bool showTemplates = false);
// The same for a scene that already exists; its selection and highlight are drawn as they are.
Status exportScene(DiagramScene &scene, const QString &path);

// PNG pixels per scene unit: 2 for crisp text, less for a drawing too big for memory.
double pngScale(const QSizeF &sceneSize);
QSize pngSize(const QSizeF &sceneSize);

} // namespace netmap
