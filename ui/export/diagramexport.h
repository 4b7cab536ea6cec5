#pragma once
// Diagram export: the map as a semantic SVG (written directly, streamed) or a PNG, written
// atomically; both are drawn from the same DiagramPicture.

#include "model/result.h"
#include "model/snapshot.h"

#include <QRectF>
#include <QSize>
#include <QString>

namespace netmap {

// Format by extension (.svg, .png). A failed write returns an Error saying why and leaves any old
// file intact. Needs a QGuiApplication (the offscreen platform will do), no display.
// A PNG always has legible names: when the whole map cannot be drawn with names of at least
// kMinNamePixels within kMaxPngPixels, it is the overview (qubes collapsed into counts) and the
// legend says so.
// sidePaths: where templates' updates go and disposables leave, as the window shows them.
Status exportDiagram(const Snapshot &snapshot, const QString &path, bool showTemplates = false,
                     bool sidePaths = false);

constexpr double kMaxPngPixels = 30e6; // about 120 MB of RGBA
constexpr double kMinNamePixels = 9;

// PNG pixels per picture unit: 2 for crisp text, less for a big drawing (down to the legible
// minimum, kMinNamePixels / the 13 px name font).
double pngScale(const QSizeF &pictureSize);
QSize pngSize(const QSizeF &pictureSize);
bool pngLegible(const QSizeF &pictureSize);

} // namespace netmap
