// Compile-time guard: netmap_core must never see Qt Gui or Widgets.
#if defined(QT_GUI_LIB) || defined(QT_WIDGETS_LIB) || defined(QT_SVG_LIB)
#error "netmap_core must not depend on Qt Gui, Widgets or Svg"
#endif
#if __has_include(<QtGui/qtguiglobal.h>) && defined(NETMAP_REQUIRE_NO_GUI_HEADERS)
#error "Qt Gui headers are reachable from netmap_core"
#endif
