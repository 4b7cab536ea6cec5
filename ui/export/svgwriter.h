#pragma once
// SvgWriter: a DiagramPicture as a semantic SVG, streamed: one group per qube (id, classes,
// title), links as paths with data-from/-to/-exit, the legend as its own group, one stylesheet.

#include "model/result.h"

#include <QString>

class QIODevice;

namespace netmap {

class DiagramPicture;

// Writes the picture to device; the result is well-formed XML 1.0 whatever the qube data holds.
Status writeSvg(const DiagramPicture &picture, QIODevice *device);

// "qube-" and the name, every character outside [A-Za-z0-9-] written as _XXXX (hex): a valid
// XML id, and distinct names give distinct ids.
QString svgQubeId(const QString &name);

} // namespace netmap
