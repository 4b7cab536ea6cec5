#pragma once
// DiagramTheme: the colours, fonts and sizes that the diagram and its exports share.

#include <QColor>
#include <QFont>
#include <QString>

class QGraphicsItem;
class QPalette;

namespace netmap {

class DiagramTheme
{
public:
    // Qubes label colours (red, orange, yellow, green, gray, blue, purple, black); an unknown
    // label draws gray.
    static QColor labelColour(const QString &untrustedLabel);
    static bool isKnownLabel(const QString &untrustedLabel);
    // Black or white, whichever reads better on the colour.
    static QColor textOn(const QColor &background);

    static QFont nameFont(); // qube names
    static QFont detailFont(); // addresses, states
    static QFont captionFont(); // group captions, legend rows
    static QFont titleFont(); // the legend title

    static QColor paper() { return QColor(0xfc, 0xfc, 0xfb); }
    static QColor ink() { return QColor(0x20, 0x22, 0x26); }
    static QColor mutedInk() { return QColor(0x62, 0x66, 0x6d); }
    static QColor frame() { return QColor(0xc9, 0xcc, 0xd1); }
    static QColor findRing() { return QColor(0xff, 0xb3, 0x00); }
    static QColor selectionRing() { return QColor(0x1a, 0x73, 0xe8); }
    static QColor changeRing() { return QColor(0x8e, 0x24, 0xaa); } // changed since a compare
    static QColor mixedBus() { return QColor(0x6b, 0x6f, 0x76); }

    // The colours behind and around the boxes in the window: the light ones below, or, under a
    // dark palette, ones taken from it (text, base). Exports always use the light ones.
    struct Colours
    {
        QColor paper; // the background
        QColor card; // the Internet clouds, the legend
        QColor ink;
        QColor mutedInk;
        QColor frame;
        QColor groupFill;
        bool dark = false;
    };
    static Colours lightColours();
    static Colours colours(const QPalette &palette); // lightColours() unless the palette is dark
    static Colours colours(const QGraphicsItem *item); // by its scene's palette
    static bool isDark(const QPalette &palette);
    // A box's body: the card colour under a hint of the label colour.
    static QColor boxBody(const QColor &label, const Colours &colours);

    static constexpr double kBoxHeight = 46;
    static constexpr double kMinBoxWidth = 160;
    static constexpr double kMaxBoxWidth = 280;
    static constexpr double kIconWidth = 32;
    static constexpr double kDimmedOpacity = 0.16;
    static constexpr double kHaltedOpacity = 0.5;
};

} // namespace netmap
