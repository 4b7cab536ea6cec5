#pragma once
// DiagramTheme: the colours, fonts and sizes that the diagram and its exports share.

#include <QColor>
#include <QFont>
#include <QString>

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
    static QColor mixedBus() { return QColor(0x6b, 0x6f, 0x76); }

    static constexpr double kBoxHeight = 46;
    static constexpr double kMinBoxWidth = 160;
    static constexpr double kMaxBoxWidth = 280;
    static constexpr double kIconWidth = 32;
    static constexpr double kDimmedOpacity = 0.16;
    static constexpr double kHaltedOpacity = 0.5;
};

} // namespace netmap
