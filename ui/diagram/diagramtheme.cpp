#include "diagramtheme.h"

#include <QGraphicsItem>
#include <QGraphicsScene>
#include <QGuiApplication>
#include <QPalette>

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

namespace {

QColor mix(const QColor &a, const QColor &b, double t) // t of b into a
{
    return QColor::fromRgbF(float(a.redF() * (1 - t) + b.redF() * t),
                            float(a.greenF() * (1 - t) + b.greenF() * t),
                            float(a.blueF() * (1 - t) + b.blueF() * t));
}

} // namespace

DiagramTheme::Colours DiagramTheme::lightColours()
{
    Colours c;
    c.paper = paper();
    c.card = QColor(Qt::white);
    c.ink = ink();
    c.mutedInk = mutedInk();
    c.frame = frame();
    c.groupFill = QColor(0xf3, 0xf4, 0xf6);
    return c;
}

bool DiagramTheme::isDark(const QPalette &palette)
{
    return palette.color(QPalette::Base).lightness() < 128
        && palette.color(QPalette::Text).lightness() > palette.color(QPalette::Base).lightness();
}

DiagramTheme::Colours DiagramTheme::colours(const QPalette &palette)
{
    if (!isDark(palette))
        return lightColours();
    const QColor base = palette.color(QPalette::Base);
    const QColor text = palette.color(QPalette::Text);
    Colours c;
    c.dark = true;
    c.paper = base;
    c.card = mix(base, text, 0.08);
    c.ink = text;
    c.mutedInk = mix(text, base, 0.3);
    c.frame = mix(base, text, 0.35);
    c.groupFill = mix(base, text, 0.05);
    return c;
}

DiagramTheme::Colours DiagramTheme::colours(const QGraphicsItem *item)
{
    const QGraphicsScene *scene = item ? item->scene() : nullptr;
    return colours(scene ? scene->palette() : QGuiApplication::palette());
}

QColor DiagramTheme::boxBody(const QColor &label, const Colours &colours)
{
    // White under 10 % of the label colour; on a dark card a little more, to be seen.
    return mix(colours.card, label, colours.dark ? 0.16 : 0.10);
}

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
