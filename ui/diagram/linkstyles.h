#pragma once
// The colours of the map's links and exits, one definition for the scene's first drawing
// (diagramscene.cpp), its restyling in place (diagramsceneupdate.cpp) and the exported picture
// (export/diagrampicture.cpp), so the window and the export cannot colour a path differently.

#include "linkitem.h"
#include "policy/colouring.h"

#include <QColor>
#include <QString>

namespace netmap::scenestyle {

// The kind ("clearnet", "vpn", "tor", ...) of a verified exit, or empty.
QString exitKindOf(const Colouring &colouring, const QString &ip);
// The colour of a verified exit, or the unverified colour.
QColor exitColourOf(const Colouring &colouring, const QString &ip);
// The style of the link above the qube `lower` (or from it to the Internet).
LinkStyle styleOf(const Colouring &colouring, const QString &lower, bool toInternet);

} // namespace netmap::scenestyle
