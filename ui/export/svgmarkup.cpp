// The SVG exporter's building blocks (svgmarkup_p.h): escaping, numbers, path data, CSS
// tokens, and the constant markup of icons and verdict marks.

#include "svgmarkup_p.h"

#include "diagram/diagramtheme.h"
#include "model/untrustedtext.h"

#include <QXmlStreamWriter>

#include <cmath>

namespace netmap::svg {

// Text on its way into the SVG: escape sequences and hidden characters removed (newlines kept
// for titles), then only characters XML 1.0 allows, so one control character from a snapshot
// cannot make the whole file unreadable. Markup characters are left to QXmlStreamWriter.
QString xmlSafe(const QString &untrusted)
{
    return untrustedtext::xmlChars(untrustedtext::block(untrusted, 1 << 20));
}

// A coordinate with at most two decimals and no trailing zeros ("12", "12.5", "-3.25").
QString num(double v)
{
    if (!std::isfinite(v))
        return QStringLiteral("0");
    const double r = std::round(v * 100) / 100;
    if (r == std::floor(r) && std::abs(r) < 1e9)
        return QString::number(qint64(r));
    QString text = QString::number(r, 'f', 2);
    while (text.endsWith(QLatin1Char('0')))
        text.chop(1);
    if (text.endsWith(QLatin1Char('.')))
        text.chop(1);
    return text;
}

QString hex(const QColor &c)
{
    return c.name(QColor::HexRgb);
}

// A QPainterPath as SVG path data (moves, lines, cubics).
QString pathData(const QPainterPath &path)
{
    QString d;
    for (int i = 0; i < path.elementCount(); ++i) {
        const QPainterPath::Element e = path.elementAt(i);
        switch (e.type) {
        case QPainterPath::MoveToElement:
            d += QLatin1Char('M') + num(e.x) + QLatin1Char(' ') + num(e.y);
            break;
        case QPainterPath::LineToElement:
            d += QLatin1Char('L') + num(e.x) + QLatin1Char(' ') + num(e.y);
            break;
        case QPainterPath::CurveToElement: {
            const QPainterPath::Element c2 = path.elementAt(i + 1);
            const QPainterPath::Element to = path.elementAt(i + 2);
            d += QLatin1Char('C') + num(e.x) + QLatin1Char(' ') + num(e.y) + QLatin1Char(' ')
                + num(c2.x) + QLatin1Char(' ') + num(c2.y) + QLatin1Char(' ') + num(to.x)
                + QLatin1Char(' ') + num(to.y);
            i += 2;
            break;
        }
        case QPainterPath::CurveToDataElement:
            break;
        }
    }
    return d;
}

QString kindToken(QubeItem::Kind kind)
{
    switch (kind) {
    case QubeItem::Kind::Provider:
        return QStringLiteral("provider");
    case QubeItem::Kind::App:
        return QStringLiteral("app");
    case QubeItem::Kind::Disposable:
        return QStringLiteral("disp");
    case QubeItem::Kind::Template:
        return QStringLiteral("template");
    case QubeItem::Kind::Standalone:
        return QStringLiteral("standalone");
    case QubeItem::Kind::Admin:
        return QStringLiteral("admin");
    }
    return QStringLiteral("app");
}

// The class of a qube as a CSS token: only known classes, anything else "other".
QString classToken(const QString &untrustedClass)
{
    static const QStringList known
        = {QStringLiteral("AdminVM"), QStringLiteral("AppVM"), QStringLiteral("TemplateVM"),
           QStringLiteral("StandaloneVM"), QStringLiteral("DispVM")};
    return known.contains(untrustedClass) ? untrustedClass.toLower() : QStringLiteral("other");
}

QString stateToken(const QString &untrustedState)
{
    static const QStringList known
        = {QStringLiteral("Running"),   QStringLiteral("Halted"),    QStringLiteral("Paused"),
           QStringLiteral("Transient"), QStringLiteral("Suspended"), QStringLiteral("Crashed"),
           QStringLiteral("Dying")};
    return known.contains(untrustedState) ? untrustedState.toLower() : QStringLiteral("unknown");
}

QString labelToken(const QString &untrustedLabel)
{
    return DiagramTheme::isKnownLabel(untrustedLabel) ? untrustedLabel : QStringLiteral("other");
}

QColor bodyColour(const QColor &label)
{
    constexpr double tint = 0.10; // as QubeItem paints it
    return QColor::fromRgbF(float(1 - tint + tint * label.redF()),
                            float(1 - tint + tint * label.greenF()),
                            float(1 - tint + tint * label.blueF()));
}

// The icons QubeItem::paintIcon() draws, for a band of 32 x 46 (centre 16,23; glyph size 16).
QString iconMarkup(QubeItem::Kind kind)
{
    switch (kind) {
    case QubeItem::Kind::Provider:
        return QStringLiteral(
            "<path d=\"M16 16.28L9.28 28.76M16 16.28L22.72 28.76M9.28 28.76H22.72\"/>"
            "<g fill=\"currentColor\"><circle cx=\"16\" cy=\"16.28\" r=\"2.4\"/>"
            "<circle cx=\"9.28\" cy=\"28.76\" r=\"2.4\"/>"
            "<circle cx=\"22.72\" cy=\"28.76\" r=\"2.4\"/></g>");
    case QubeItem::Kind::App:
        return QStringLiteral("<rect x=\"8\" y=\"16.6\" width=\"16\" height=\"12.8\" rx=\"1.28\"/>"
                              "<rect x=\"8\" y=\"16.6\" width=\"16\" height=\"3.2\" "
                              "fill=\"currentColor\"/>");
    case QubeItem::Kind::Disposable:
        return QStringLiteral("<rect x=\"8\" y=\"16.6\" width=\"16\" height=\"12.8\" rx=\"1.28\" "
                              "stroke-dasharray=\"2.85 2.49\"/>"
                              "<rect x=\"8\" y=\"16.6\" width=\"16\" height=\"3.2\" "
                              "fill=\"currentColor\"/>"
                              "<path d=\"M16 24.6V21.72M16 24.6H18.56\"/>");
    case QubeItem::Kind::Template:
        return QStringLiteral("<rect x=\"10.88\" y=\"15.32\" width=\"11.52\" height=\"12.8\"/>"
                              "<rect x=\"8\" y=\"18.2\" width=\"11.52\" height=\"12.8\" "
                              "fill=\"currentColor\"/>");
    case QubeItem::Kind::Standalone:
        return QStringLiteral("<path d=\"M22.93 27L16 31L9.07 27V19L16 15L22.93 19Z"
                              "M16 23V31M16 23L9.07 19M16 23L22.93 19\"/>");
    case QubeItem::Kind::Admin:
        return QStringLiteral("<path d=\"M16 15L22.72 17.88Q22.72 27.8 16 31.32"
                              "Q9.28 27.8 9.28 17.88Z\"/>");
    }
    return QString();
}

// QubeItem::paintVerdictMark() as markup: a mark of radius r centred on c, in a group whose
// class names it ("mark verdict-fail"). A failure is a square, the others circles.
void writeVerdictMark(QXmlStreamWriter &xml, VerdictMark mark, const QPointF &c, double r)
{
    if (mark == VerdictMark::None)
        return;
    xml.writeStartElement(QStringLiteral("g"));
    xml.writeAttribute(QStringLiteral("class"),
                       QStringLiteral("mark verdict-") + verdictMarkId(mark));
    xml.writeAttribute(QStringLiteral("transform"),
                       QStringLiteral("translate(%1 %2)").arg(num(c.x()), num(c.y())));
    const char *fill = "#757575";
    if (mark == VerdictMark::Pass)
        fill = "#1a7f37";
    else if (mark == VerdictMark::Fail)
        fill = "#c62828";
    else if (mark == VerdictMark::Error)
        fill = "#d98a00";
    if (mark == VerdictMark::Fail) {
        xml.writeEmptyElement(QStringLiteral("rect"));
        xml.writeAttribute(QStringLiteral("x"), num(-r));
        xml.writeAttribute(QStringLiteral("y"), num(-r));
        xml.writeAttribute(QStringLiteral("width"), num(2 * r));
        xml.writeAttribute(QStringLiteral("height"), num(2 * r));
        xml.writeAttribute(QStringLiteral("rx"), num(r * 0.25));
    } else {
        xml.writeEmptyElement(QStringLiteral("circle"));
        xml.writeAttribute(QStringLiteral("r"), num(r));
    }
    xml.writeAttribute(QStringLiteral("fill"), QLatin1String(fill));
    xml.writeAttribute(QStringLiteral("stroke"), QStringLiteral("#fff"));
    xml.writeAttribute(QStringLiteral("stroke-width"), num(r * 0.22));
    const double s = r * 0.45;
    QString d;
    const auto pt
        = [](double x, double y) -> QString { return num(x) + QLatin1Char(' ') + num(y); };
    switch (mark) {
    case VerdictMark::Pass:
        d = QLatin1Char('M') + pt(-s, 0) + QLatin1Char('L') + pt(-s * 0.25, s * 0.75)
            + QLatin1Char('L') + pt(s, -s * 0.7);
        break;
    case VerdictMark::Fail:
        d = QLatin1Char('M') + pt(-s, -s) + QLatin1Char('L') + pt(s, s) + QLatin1Char('M')
            + pt(-s, s) + QLatin1Char('L') + pt(s, -s);
        break;
    case VerdictMark::Error:
        d = QLatin1Char('M') + pt(0, -s * 1.1) + QLatin1Char('V') + num(s * 0.3);
        break;
    case VerdictMark::Stale:
        d = QStringLiteral("M0 0V") + num(-s) + QStringLiteral("M0 0H") + num(s * 0.8);
        break;
    case VerdictMark::None:
        break;
    }
    xml.writeEmptyElement(QStringLiteral("path"));
    xml.writeAttribute(QStringLiteral("d"), d);
    xml.writeAttribute(QStringLiteral("fill"), QStringLiteral("none"));
    xml.writeAttribute(QStringLiteral("stroke"), QStringLiteral("#fff"));
    xml.writeAttribute(QStringLiteral("stroke-width"), num(r * 0.28));
    xml.writeAttribute(QStringLiteral("stroke-linecap"), QStringLiteral("round"));
    xml.writeAttribute(QStringLiteral("stroke-linejoin"), QStringLiteral("round"));
    if (mark == VerdictMark::Error) { // the point of the "!", a round dot of the pen's width
        xml.writeEmptyElement(QStringLiteral("circle"));
        xml.writeAttribute(QStringLiteral("cy"), num(s * 0.95));
        xml.writeAttribute(QStringLiteral("r"), num(r * 0.14));
        xml.writeAttribute(QStringLiteral("fill"), QStringLiteral("#fff"));
    }
    xml.writeEndElement();
}

} // namespace netmap::svg
