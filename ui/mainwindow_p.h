#pragma once
// The window's settings keys, shared by its files (mainwindow.cpp, mainwindowactions.cpp,
// mainwindowfiles.cpp).

#include <QString>

namespace netmap::windowkeys {

inline const QString kGeometryKey = QStringLiteral("window/geometry");
inline const QString kStateKey = QStringLiteral("window/state");
inline const QString kTemplatesKey = QStringLiteral("view/showTemplates");
inline const QString kExportFolderKey = QStringLiteral("export/folder");

} // namespace netmap::windowkeys
