// Compile-time guard: netmap_core must never be built with Qt Gui, Widgets or Svg. Includes of
// their headers are refused by the layer check (core/checklayers.py) before compiling.
#if defined(QT_GUI_LIB) || defined(QT_WIDGETS_LIB) || defined(QT_SVG_LIB)
#error "netmap_core must not depend on Qt Gui, Widgets or Svg"
#endif
