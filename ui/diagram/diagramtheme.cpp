#include "diagramtheme.h"

#include <QGuiApplication>

namespace netmap {

namespace {

struct LabelColour
{
    const char *name;
    QRgb rgb;
};

// The colours Qubes itself gives its labels (qubes-core-admin, default labels).
constexpr LabelColour kLabels[] = {
    {"red", 0xcc0000},  {"orange", 0xf57900}, {"yellow", 0xedd400}, {"green", 0x73d216},
    {"gray", 0x555753}, {"blue", 0x3465a4},   {"purple", 0x75507b}, {"black", 0x000000},
};

QFont baseFont()
{
    // Pixel sizes, so the scene, the SVG and the PNG measure text the same on every screen.
    QFont font = QGuiApplication::font();
    font.setFamilies({QStringLiteral("Noto Sans"), QStringLiteral("DejaVu Sans"),
                      QStringLiteral("Cantarell"), QStringLiteral("Sans Serif")});
    font.setStyleHint(QFont::SansSerif);
    font.setKerning(true);
    return font;
}

} // namespace

QColor DiagramTheme::labelColour(const QString &untrustedLabel)
{
    for (const LabelColour &l : kLabels)
        if (untrustedLabel == QLatin1String(l.name))
            return QColor::fromRgb(l.rgb);
    return QColor::fromRgb(0x555753);
}

bool DiagramTheme::isKnownLabel(const QString &untrustedLabel)
{
    for (const LabelColour &l : kLabels)
        if (untrustedLabel == QLatin1String(l.name))
            return true;
    return false;
}

QColor DiagramTheme::textOn(const QColor &background)
{
    // Relative luminance, roughly: yellow and green want black text, the rest white.
    const double y
        = 0.2126 * background.redF() + 0.7152 * background.greenF() + 0.0722 * background.blueF();
    return y > 0.5 ? QColor(Qt::black) : QColor(Qt::white);
}

QFont DiagramTheme::nameFont()
{
    QFont font = baseFont();
    font.setPixelSize(13);
    font.setWeight(QFont::DemiBold);
    return font;
}

QFont DiagramTheme::detailFont()
{
    QFont font = baseFont();
    font.setPixelSize(12);
    return font;
}

QFont DiagramTheme::captionFont()
{
    QFont font = baseFont();
    font.setPixelSize(13);
    return font;
}

QFont DiagramTheme::titleFont()
{
    QFont font = baseFont();
    font.setPixelSize(17);
    font.setWeight(QFont::Bold);
    return font;
}

} // namespace netmap
