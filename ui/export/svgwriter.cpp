#include "svgwriter.h"

#include "diagram/diagramscene.h"
#include "diagram/diagramtheme.h"
#include "diagram/internetitem.h"
#include "diagram/qubeitem.h"
#include "diagram/sidepathitem.h"
#include "diagrampicture.h"
#include "model/qubeverdict.h"
#include "model/topology.h"
#include "model/untrustedtext.h"

#include <QFontMetricsF>
#include <QHash>
#include <QIODevice>
#include <QXmlStreamWriter>

#include <cmath>

namespace netmap {

namespace {

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

const QList<QubeItem::Kind> kKinds
    = {QubeItem::Kind::Provider, QubeItem::Kind::App,        QubeItem::Kind::Disposable,
       QubeItem::Kind::Template, QubeItem::Kind::Standalone, QubeItem::Kind::Admin};

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

QString legendExitText(const ExitInfo &exit)
{
    const int n = int(exit.qubes.size());
    return QStringLiteral("%1  %2 · %3 %4")
        .arg(exit.ip, exit.kind, QString::number(n),
             n == 1 ? QStringLiteral("qube") : QStringLiteral("qubes"));
}

class Writer
{
public:
    Writer(const DiagramPicture &picture, QIODevice *device)
        : m_p(picture)
        , m_xml(device)
        , m_name(DiagramTheme::nameFont())
        , m_detail(DiagramTheme::detailFont())
        , m_caption(DiagramTheme::captionFont())
        , m_title(DiagramTheme::titleFont())
    {
        m_xml.setAutoFormatting(false);
    }

    void write();

private:
    void attr(const QString &name, const QString &value)
    {
        m_xml.writeAttribute(name, xmlSafe(value));
    }
    void text(const QString &cls, double x, double y, const QString &content)
    {
        m_xml.writeStartElement(QStringLiteral("text"));
        if (!cls.isEmpty())
            m_xml.writeAttribute(QStringLiteral("class"), cls);
        m_xml.writeAttribute(QStringLiteral("x"), num(x));
        m_xml.writeAttribute(QStringLiteral("y"), num(y));
        m_xml.writeCharacters(xmlSafe(content));
        m_xml.writeEndElement();
    }
    void newline() { m_xml.writeCharacters(QStringLiteral("\n")); }
    QString colourClass(const QColor &colour);
    void writeStyle();
    void writeDefs();
    void writeQube(int box);
    void writeGhost(int box);
    void writeInternet(int box);
    void writeSummary(int box);
    void writeLinks();
    void writeSides();
    void writeLegend();
    QString qubeTitle(const Qube &q, int box) const;

    const DiagramPicture &m_p;
    QXmlStreamWriter m_xml;
    QFontMetricsF m_name;
    QFontMetricsF m_detail;
    QFontMetricsF m_caption;
    QFontMetricsF m_title;
    QHash<QRgb, QString> m_colourClasses;
};

QString Writer::colourClass(const QColor &colour)
{
    const QRgb key = colour.rgb();
    auto it = m_colourClasses.find(key);
    if (it == m_colourClasses.end())
        it = m_colourClasses.insert(key, QStringLiteral("c%1").arg(m_colourClasses.size()));
    return it.value();
}

void Writer::writeStyle()
{
    // Every colour a link or bus uses gets one class, defined once.
    for (const LinkStyle &style : m_p.linkStyles())
        colourClass(style.failed ? QColor(0xd6, 0x27, 0x28) : style.colour);
    for (const DiagramPicture::Bus &bus : m_p.buses())
        colourClass(bus.colour);
    QString css = QStringLiteral(
        "text{font-family:'Noto Sans','DejaVu Sans',Cantarell,sans-serif;fill:#202226}"
        ".n{font-size:13px;font-weight:600}.d{font-size:12px;fill:#62666d}"
        ".dk{font-size:12px}.c{font-size:13px}.cb{font-size:13px;font-weight:600}.m{fill:#62666d}"
        ".t{font-size:17px;font-weight:700}"
        ".b{stroke-width:1.6;stroke-linejoin:round}.disp .b{stroke-dasharray:6.4 4}"
        ".in{fill:none;stroke-width:.8}.fold{fill:none;stroke-width:1}"
        ".i{fill:none;stroke:currentColor;stroke-width:1.78;stroke-linecap:round;stroke-linejoin:"
        "round}"
        ".halted{fill-opacity:.5;stroke-opacity:.5}.mark{fill-opacity:1;stroke-opacity:1}"
        ".gb{fill:none;stroke:#62666d;stroke-width:1.6;stroke-dasharray:6.4 3.2}"
        ".l,.bus{fill:none;stroke-width:2.2;stroke-linejoin:round}"
        ".unv{stroke-dasharray:6.6 5.5}.stale{stroke-opacity:.6;stroke-dasharray:2.2 4.4}"
        ".badge{fill:#d62728;stroke:#fff;stroke-width:1.5}"
        ".grp{fill:#f3f4f6;stroke:#c9ccd1;stroke-width:1.2;stroke-dasharray:4.8 3.6}"
        ".lg{fill:#fff;stroke:#c9ccd1;stroke-width:1}");
    static const char *const labels[]
        = {"red", "orange", "yellow", "green", "gray", "blue", "purple", "black", "other"};
    for (const char *label : labels) {
        const QColor c = DiagramTheme::labelColour(QLatin1String(label));
        const QColor border = c.darker(115);
        css += QStringLiteral(".label-%1 .b,.label-%1 .in,.label-%1 .fold{stroke:%2}"
                              ".label-%1 .b{fill:%3}.label-%1 .k{fill:%4}.label-%1 .i{color:%5}")
                   .arg(QLatin1String(label), hex(border), hex(bodyColour(c)), hex(c),
                        hex(DiagramTheme::textOn(c)));
    }
    for (auto it = m_colourClasses.cbegin(); it != m_colourClasses.cend(); ++it)
        css += QStringLiteral(".%1{stroke:%2}").arg(it.value(), hex(QColor::fromRgb(it.key())));
    m_xml.writeTextElement(QStringLiteral("style"), css);
    newline();
}

void Writer::writeDefs()
{
    // The label-coloured band at a box's left, one per kind (every box is kBoxHeight tall).
    m_xml.writeStartElement(QStringLiteral("defs"));
    const QRectF box(0, 0, DiagramTheme::kMaxBoxWidth, DiagramTheme::kBoxHeight);
    QPainterPath bandRect;
    bandRect.addRect(QRectF(0, 0, DiagramTheme::kIconWidth, DiagramTheme::kBoxHeight));
    for (QubeItem::Kind kind : kKinds) {
        m_xml.writeStartElement(QStringLiteral("path"));
        m_xml.writeAttribute(QStringLiteral("id"), QStringLiteral("b-") + kindToken(kind));
        m_xml.writeAttribute(QStringLiteral("d"),
                             pathData(QubeItem::outline(kind, box).intersected(bandRect)));
        m_xml.writeEndElement();
    }
    m_xml.writeEndElement();
    newline();
    // Icons go in as markup written here (constant, no data).
    QString icons = QStringLiteral("<defs>");
    for (QubeItem::Kind kind : kKinds)
        icons += QStringLiteral("<g id=\"i-%1\">%2</g>").arg(kindToken(kind), iconMarkup(kind));
    icons += QStringLiteral("</defs>");
    m_xml.device()->write(icons.toUtf8());
    newline();
}

QString Writer::qubeTitle(const Qube &q, int box) const
{
    const QString name = q.name.toString();
    QStringList lines;
    lines << name;
    lines << QStringLiteral("%1 (%2), %3 label, %4")
                 .arg(QubeItem::kindName(QubeItem::kindOf(q)), q.klass, q.label, q.state);
    if (!q.ip.isEmpty())
        lines << QStringLiteral("IP %1").arg(q.ip);
    if (!q.visibleIp.isEmpty() && q.visibleIp != q.ip)
        lines << QStringLiteral("visible IP %1").arg(q.visibleIp);
    if (!q.ip6.isEmpty())
        lines << QStringLiteral("IPv6 %1").arg(q.ip6);
    if (!q.gateway6.isEmpty())
        lines << QStringLiteral("IPv6 gateway %1").arg(q.gateway6);
    if (q.netvm)
        lines << QStringLiteral("netvm %1").arg(q.netvm->toString());
    const QString exit = m_p.colouring().qubeExitIp.value(name);
    if (!exit.isEmpty())
        lines << QStringLiteral("exit %1").arg(exit);
    const QString exit6 = m_p.colouring().qubeExitIp6.value(name);
    if (!exit6.isEmpty())
        lines << QStringLiteral("IPv6 exit %1").arg(exit6);
    if (m_p.colouring().familyLeaks.contains(name))
        lines << QStringLiteral("IPv6 leak: IPv4 and IPv6 leave by exits of different kinds");
    // The verdict and each check's result with the time of its evidence, as the tool tip has it.
    const VerdictMark mark = m_p.verdictMark(box);
    if (mark != VerdictMark::None) {
        lines << QStringLiteral("checks: %1").arg(verdictMarkWords(mark));
        lines << m_p.verdictLines(box);
    }
    return lines.join(QLatin1Char('\n'));
}

void Writer::writeGhost(int b)
{
    // QubeItem's missing netvm: a dashed outline, the name and what is wrong.
    const LayoutBox &box = m_p.layout().boxes[size_t(b)];
    const Qube &q = m_p.drawnSnapshot().qubes[size_t(box.qube)];
    const QString name = q.name.toString();
    const QRectF r = box.rect;
    m_xml.writeStartElement(QStringLiteral("g"));
    attr(QStringLiteral("id"), svgQubeId(name));
    m_xml.writeAttribute(QStringLiteral("class"), QStringLiteral("qube ghost"));
    m_xml.writeTextElement(
        QStringLiteral("title"),
        xmlSafe(QStringLiteral("%1\nmissing: no qube has this name; the qubes below name it as "
                               "their netvm and have no network")
                    .arg(name)));
    m_xml.writeEmptyElement(QStringLiteral("path"));
    m_xml.writeAttribute(QStringLiteral("class"), QStringLiteral("gb"));
    m_xml.writeAttribute(QStringLiteral("d"), pathData(QubeItem::outline(QubeItem::kindOf(q), r)));
    const double room = r.width() - DiagramTheme::kIconWidth - 20;
    const double x = r.left() + 10;
    text(QStringLiteral("n"), x, r.top() + 20, m_name.elidedText(name, Qt::ElideMiddle, room));
    text(QStringLiteral("d"), x, r.top() + 37,
         m_detail.elidedText(QStringLiteral("missing: no such qube"), Qt::ElideRight, room));
    m_xml.writeEndElement();
    newline();
}

void Writer::writeQube(int b)
{
    if (m_p.isGhost(b)) {
        writeGhost(b);
        return;
    }
    const LayoutBox &box = m_p.layout().boxes[size_t(b)];
    const Qube &q = m_p.drawnSnapshot().qubes[size_t(box.qube)];
    const QString name = q.name.toString();
    const QubeItem::Kind kind = QubeItem::kindOf(q);
    const QRectF r = box.rect;
    const VerdictMark mark = m_p.verdictMark(b);
    m_xml.writeStartElement(QStringLiteral("g"));
    attr(QStringLiteral("id"), svgQubeId(name));
    // The state token of a halted qube is "halted", which the stylesheet fades.
    QString cls
        = QStringLiteral("qube %1 label-%2 %3 %4")
              .arg(classToken(q.klass), labelToken(q.label), stateToken(q.state), kindToken(kind));
    if (mark != VerdictMark::None)
        cls += QStringLiteral(" verdict-") + verdictMarkId(mark);
    attr(QStringLiteral("class"), cls);
    m_xml.writeTextElement(QStringLiteral("title"), xmlSafe(qubeTitle(q, b)));
    switch (kind) {
    case QubeItem::Kind::App:
    case QubeItem::Kind::Disposable:
    case QubeItem::Kind::Standalone:
    case QubeItem::Kind::Admin: {
        const double radius
            = kind == QubeItem::Kind::App || kind == QubeItem::Kind::Disposable ? 8 : 2;
        m_xml.writeEmptyElement(QStringLiteral("rect"));
        m_xml.writeAttribute(QStringLiteral("class"), QStringLiteral("b"));
        m_xml.writeAttribute(QStringLiteral("x"), num(r.x()));
        m_xml.writeAttribute(QStringLiteral("y"), num(r.y()));
        m_xml.writeAttribute(QStringLiteral("width"), num(r.width()));
        m_xml.writeAttribute(QStringLiteral("height"), num(r.height()));
        m_xml.writeAttribute(QStringLiteral("rx"), num(radius));
        break;
    }
    case QubeItem::Kind::Provider:
    case QubeItem::Kind::Template:
        m_xml.writeEmptyElement(QStringLiteral("path"));
        m_xml.writeAttribute(QStringLiteral("class"), QStringLiteral("b"));
        m_xml.writeAttribute(QStringLiteral("d"), pathData(QubeItem::outline(kind, r)));
        break;
    }
    // The band over the body (it hides the inner half of the border's left edge, which is
    // nearly the band's colour anyway), the icon over the band.
    m_xml.writeEmptyElement(QStringLiteral("use"));
    m_xml.writeAttribute(QStringLiteral("class"), QStringLiteral("k"));
    m_xml.writeAttribute(QStringLiteral("href"), QStringLiteral("#b-") + kindToken(kind));
    m_xml.writeAttribute(QStringLiteral("x"), num(r.x()));
    m_xml.writeAttribute(QStringLiteral("y"), num(r.y()));
    m_xml.writeEmptyElement(QStringLiteral("use"));
    m_xml.writeAttribute(QStringLiteral("class"), QStringLiteral("i"));
    m_xml.writeAttribute(QStringLiteral("href"), QStringLiteral("#i-") + kindToken(kind));
    m_xml.writeAttribute(QStringLiteral("x"), num(r.x()));
    m_xml.writeAttribute(QStringLiteral("y"), num(r.y()));
    if (kind == QubeItem::Kind::Standalone) {
        m_xml.writeEmptyElement(QStringLiteral("rect"));
        m_xml.writeAttribute(QStringLiteral("class"), QStringLiteral("in"));
        m_xml.writeAttribute(QStringLiteral("x"), num(r.x() + 3));
        m_xml.writeAttribute(QStringLiteral("y"), num(r.y() + 3));
        m_xml.writeAttribute(QStringLiteral("width"), num(r.width() - 6));
        m_xml.writeAttribute(QStringLiteral("height"), num(r.height() - 6));
        m_xml.writeAttribute(QStringLiteral("rx"), QStringLiteral("2"));
    } else if (kind == QubeItem::Kind::Template) {
        const double f = std::min(12.0, r.height() / 3);
        m_xml.writeEmptyElement(QStringLiteral("path"));
        m_xml.writeAttribute(QStringLiteral("class"), QStringLiteral("fold"));
        m_xml.writeAttribute(
            QStringLiteral("d"),
            QStringLiteral("M%1 %2V%3H%4")
                .arg(num(r.right() - f), num(r.top()), num(r.top() + f), num(r.right())));
    }
    const double room = r.width() - DiagramTheme::kIconWidth - 20;
    const double x = r.left() + DiagramTheme::kIconWidth + 10;
    text(QStringLiteral("n"), x, r.top() + 20, m_name.elidedText(name, Qt::ElideMiddle, room));
    text(QStringLiteral("d"), x, r.top() + 37,
         m_detail.elidedText(QubeItem::detailText(q), Qt::ElideRight, room));
    // At the top right corner, not faded with a halted qube.
    writeVerdictMark(m_xml, mark, QPointF(r.right() - 5, r.top() + 3), 8);
    m_xml.writeEndElement();
    newline();
}

void Writer::writeInternet(int b)
{
    const LayoutBox &box = m_p.layout().boxes[size_t(b)];
    const QString root = m_p.drawnSnapshot().qubes[size_t(box.qube)].name.toString();
    const QString ip = m_p.colouring().qubeExitIp.value(root);
    QColor colour(0x9e, 0x9e, 0x9e);
    for (const ExitInfo &exit : m_p.colouring().exits)
        if (!ip.isEmpty() && exit.ip == ip)
            colour = QColor(exit.colour);
    InternetItem item(root, box.rect.size());
    const QRectF r = box.rect;
    m_xml.writeStartElement(QStringLiteral("g"));
    attr(QStringLiteral("id"), QStringLiteral("internet-") + svgQubeId(root).mid(5));
    m_xml.writeAttribute(QStringLiteral("class"), QStringLiteral("internet"));
    m_xml.writeTextElement(
        QStringLiteral("title"),
        xmlSafe(QStringLiteral("Internet, reached through %1").arg(root)
                + (ip.isEmpty() ? QString() : QStringLiteral("\nexit %1").arg(ip))));
    // White under 14 % of the exit colour, as InternetItem fills it.
    const QColor fill = QColor::fromRgbF(float(1 - 0.14 + 0.14 * colour.redF()),
                                         float(1 - 0.14 + 0.14 * colour.greenF()),
                                         float(1 - 0.14 + 0.14 * colour.blueF()));
    m_xml.writeEmptyElement(QStringLiteral("path"));
    m_xml.writeAttribute(QStringLiteral("fill"), hex(fill));
    m_xml.writeAttribute(QStringLiteral("stroke"), hex(colour.darker(110)));
    m_xml.writeAttribute(QStringLiteral("stroke-width"), QStringLiteral("1.6"));
    m_xml.writeAttribute(QStringLiteral("d"), pathData(item.shape().translated(r.topLeft())));
    const QRectF t = r.adjusted(4, r.height() * 0.42, -4, -2);
    const QString internet = QStringLiteral("Internet");
    text(QStringLiteral("n"), t.center().x() - m_name.horizontalAdvance(internet) / 2, t.top() + 12,
         internet);
    if (!ip.isEmpty()) {
        const QString shown = m_detail.elidedText(ip, Qt::ElideMiddle, t.width());
        text(QStringLiteral("dk"), t.center().x() - m_detail.horizontalAdvance(shown) / 2,
             t.top() + 26, shown);
    }
    m_xml.writeEndElement();
    newline();
}

void Writer::writeSummary(int b)
{
    const QRectF r = m_p.layout().boxes[size_t(b)].rect;
    const DiagramPicture::Summary &summary = m_p.summary(b);
    m_xml.writeStartElement(QStringLiteral("g"));
    m_xml.writeAttribute(QStringLiteral("class"), QStringLiteral("summary"));
    m_xml.writeTextElement(QStringLiteral("title"), summary.text + QStringLiteral(", collapsed"));
    m_xml.writeEmptyElement(QStringLiteral("rect"));
    m_xml.writeAttribute(QStringLiteral("class"), QStringLiteral("grp"));
    m_xml.writeAttribute(QStringLiteral("x"), num(r.x()));
    m_xml.writeAttribute(QStringLiteral("y"), num(r.y()));
    m_xml.writeAttribute(QStringLiteral("width"), num(r.width()));
    m_xml.writeAttribute(QStringLiteral("height"), num(r.height()));
    m_xml.writeAttribute(QStringLiteral("rx"), QStringLiteral("8"));
    text(QStringLiteral("n"), r.left() + 12, r.top() + 20, summary.text);
    text(QStringLiteral("d"), r.left() + 12, r.top() + 37, QStringLiteral("collapsed"));
    m_xml.writeEndElement();
    newline();
}

void Writer::writeLinks()
{
    const NetworkLayout &layout = m_p.layout();
    m_xml.writeStartElement(QStringLiteral("g"));
    m_xml.writeAttribute(QStringLiteral("id"), QStringLiteral("buses"));
    for (const DiagramPicture::Bus &bus : m_p.buses()) {
        m_xml.writeEmptyElement(QStringLiteral("path"));
        m_xml.writeAttribute(QStringLiteral("class"),
                             QStringLiteral("bus ") + colourClass(bus.colour)
                                 + (bus.dashed ? QStringLiteral(" unv") : QString()));
        const int q = layout.boxes[size_t(bus.upper)].qube;
        if (q < int(m_p.drawnSnapshot().qubes.size()))
            attr(QStringLiteral("data-from"), m_p.drawnSnapshot().qubes[size_t(q)].name.toString());
        m_xml.writeAttribute(QStringLiteral("d"), pathData(bus.path));
    }
    m_xml.writeEndElement();
    newline();

    const int qubes = int(m_p.drawnSnapshot().qubes.size());
    const auto nameOf = [&](int box) {
        const int q = layout.boxes[size_t(box)].qube;
        return q < qubes ? m_p.drawnSnapshot().qubes[size_t(q)].name.toString() : QString();
    };
    m_xml.writeStartElement(QStringLiteral("g"));
    m_xml.writeAttribute(QStringLiteral("id"), QStringLiteral("links"));
    newline();
    std::vector<QPointF> badges;
    for (size_t l = 0; l < layout.links.size(); ++l) {
        const LayoutLink &link = layout.links[l];
        const LinkStyle &style = m_p.linkStyles()[l];
        const int segments = int(link.route.size()) - 1;
        const QPainterPath own = LinkItem::buildPath(
            link.route, link.curveSegment, std::clamp(link.sharedSegments, 0, segments), segments);
        if (own.isEmpty())
            continue;
        QString cls = QStringLiteral("l ")
            + colourClass(style.failed ? QColor(0xd6, 0x27, 0x28) : style.colour);
        if (style.stale)
            cls += QStringLiteral(" stale");
        else if (!style.verified && !style.failed)
            cls += QStringLiteral(" unv");
        if (style.failed)
            cls += QStringLiteral(" failed");
        m_xml.writeEmptyElement(QStringLiteral("path"));
        m_xml.writeAttribute(QStringLiteral("class"), cls);
        const bool toInternet = m_p.linkToInternet(int(l));
        if (toInternet) {
            attr(QStringLiteral("data-from"), nameOf(link.lower));
            m_xml.writeAttribute(QStringLiteral("data-to"), QStringLiteral("Internet"));
        } else {
            if (!m_p.isSummary(link.lower))
                attr(QStringLiteral("data-from"), nameOf(link.lower));
            attr(QStringLiteral("data-to"), nameOf(link.upper));
        }
        if (!style.externalIp.isEmpty())
            attr(QStringLiteral("data-exit"), style.externalIp);
        m_xml.writeAttribute(QStringLiteral("d"), pathData(own));
        newline();
        if (style.failed)
            badges.push_back(own.pointAtPercent(0.5));
    }
    for (const QPointF &c : badges) {
        m_xml.writeStartElement(QStringLiteral("g"));
        m_xml.writeAttribute(QStringLiteral("class"), QStringLiteral("badge"));
        m_xml.writeAttribute(QStringLiteral("transform"),
                             QStringLiteral("translate(%1 %2)").arg(num(c.x()), num(c.y())));
        m_xml.writeEmptyElement(QStringLiteral("circle"));
        m_xml.writeAttribute(QStringLiteral("r"), QStringLiteral("8"));
        m_xml.writeEmptyElement(QStringLiteral("path"));
        m_xml.writeAttribute(QStringLiteral("d"), QStringLiteral("M0 -4V1"));
        m_xml.writeAttribute(QStringLiteral("stroke-width"), QStringLiteral("2.2"));
        m_xml.writeAttribute(QStringLiteral("stroke-linecap"), QStringLiteral("round"));
        m_xml.writeEmptyElement(QStringLiteral("circle"));
        m_xml.writeAttribute(QStringLiteral("cy"), QStringLiteral("4.2"));
        m_xml.writeAttribute(QStringLiteral("r"), QStringLiteral("1.1"));
        m_xml.writeAttribute(QStringLiteral("fill"), QStringLiteral("#fff"));
        m_xml.writeAttribute(QStringLiteral("stroke"), QStringLiteral("none"));
        m_xml.writeEndElement();
    }
    m_xml.writeEndElement();
    newline();
}

void Writer::writeSides()
{
    // Where templates' updates go and where disposables leave: only when the window shows them.
    if (m_p.sides().empty())
        return;
    m_xml.writeStartElement(QStringLiteral("g"));
    m_xml.writeAttribute(QStringLiteral("id"), QStringLiteral("side-paths"));
    m_xml.writeAttribute(QStringLiteral("fill"), QStringLiteral("none"));
    m_xml.writeAttribute(QStringLiteral("stroke-width"), QStringLiteral("2.2"));
    newline();
    for (const DiagramPicture::Side &side : m_p.sides()) {
        const bool updates = side.path.kind == SidePath::Kind::Updates;
        m_xml.writeStartElement(QStringLiteral("path"));
        m_xml.writeAttribute(QStringLiteral("class"),
                             updates ? QStringLiteral("side updates")
                                     : QStringLiteral("side disposables"));
        attr(QStringLiteral("data-from"), side.path.from);
        attr(QStringLiteral("data-to"), side.path.to);
        m_xml.writeAttribute(QStringLiteral("stroke"),
                             SidePathItem::colourFor(side.path.kind).name());
        m_xml.writeAttribute(QStringLiteral("stroke-dasharray"),
                             SidePathItem::dashArray(side.path.kind));
        m_xml.writeAttribute(QStringLiteral("d"), pathData(side.route));
        m_xml.writeStartElement(QStringLiteral("title"));
        m_xml.writeCharacters(xmlSafe(untrustedtext::line(side.path.text, 300)));
        m_xml.writeEndElement();
        m_xml.writeEndElement();
        newline();
    }
    m_xml.writeEndElement();
    newline();
}

void Writer::writeLegend()
{
    // LegendItem::paint(), element for element.
    constexpr double kPad = 14;
    constexpr double kRow = 22;
    constexpr double kSwatch = 34;
    const QRectF rect(QPointF(0, 0), m_p.legendSize());
    m_xml.writeStartElement(QStringLiteral("g"));
    m_xml.writeAttribute(QStringLiteral("id"), QStringLiteral("legend"));
    m_xml.writeAttribute(QStringLiteral("xml:space"), QStringLiteral("preserve"));
    m_xml.writeAttribute(
        QStringLiteral("transform"),
        QStringLiteral("translate(%1 %2)").arg(num(m_p.legendPos().x()), num(m_p.legendPos().y())));
    m_xml.writeEmptyElement(QStringLiteral("rect"));
    m_xml.writeAttribute(QStringLiteral("class"), QStringLiteral("lg"));
    m_xml.writeAttribute(QStringLiteral("width"), num(rect.width()));
    m_xml.writeAttribute(QStringLiteral("height"), num(rect.height()));
    m_xml.writeAttribute(QStringLiteral("rx"), QStringLiteral("10"));
    const double left = kPad;
    const double textWidth = rect.width() - 2 * kPad;
    double y = kPad + 17;
    text(QStringLiteral("t"), left, y,
         m_title.elidedText(m_p.legendTitle(), Qt::ElideRight, textWidth));
    y += 7;
    for (const QString &line : m_p.legendDetails()) {
        y += 18;
        text(QStringLiteral("c m"), left, y,
             m_caption.elidedText(line, Qt::ElideMiddle, textWidth));
    }
    y += 10;
    QFont boldFont = DiagramTheme::captionFont();
    boldFont.setWeight(QFont::DemiBold);
    const QFontMetricsF bold(boldFont);
    const auto rowText = [&](const QString &cls, const QFontMetricsF &metrics, const QString &s,
                             double x, double baseline) {
        text(cls, x, baseline, metrics.elidedText(s, Qt::ElideRight, rect.right() - kPad - x));
    };
    y += kRow;
    rowText(QStringLiteral("cb"), bold, QStringLiteral("Exits"), left, y - 6);
    const auto swatch = [&](const LinkStyle &style, double rowBottom) {
        const double cy = rowBottom - 10;
        const QColor colour = style.failed ? QColor(0xd6, 0x27, 0x28) : style.colour;
        m_xml.writeEmptyElement(QStringLiteral("path"));
        m_xml.writeAttribute(
            QStringLiteral("d"),
            QStringLiteral("M%1 %2H%3").arg(num(left), num(cy), num(left + kSwatch)));
        m_xml.writeAttribute(QStringLiteral("stroke"), hex(colour));
        m_xml.writeAttribute(QStringLiteral("stroke-width"), QStringLiteral("3"));
        if (style.stale) {
            m_xml.writeAttribute(QStringLiteral("stroke-opacity"), QStringLiteral(".6"));
            m_xml.writeAttribute(QStringLiteral("stroke-dasharray"), QStringLiteral("3 6"));
        } else if (!style.verified && !style.failed) {
            m_xml.writeAttribute(QStringLiteral("stroke-dasharray"), QStringLiteral("9 7.5"));
        }
        if (style.failed) {
            m_xml.writeStartElement(QStringLiteral("g"));
            m_xml.writeAttribute(QStringLiteral("class"), QStringLiteral("badge"));
            m_xml.writeAttribute(
                QStringLiteral("transform"),
                QStringLiteral("translate(%1 %2)").arg(num(left + kSwatch / 2), num(cy)));
            m_xml.writeEmptyElement(QStringLiteral("circle"));
            m_xml.writeAttribute(QStringLiteral("r"), QStringLiteral("8"));
            m_xml.writeEmptyElement(QStringLiteral("path"));
            m_xml.writeAttribute(QStringLiteral("d"), QStringLiteral("M0 -4V1"));
            m_xml.writeAttribute(QStringLiteral("stroke-width"), QStringLiteral("2.2"));
            m_xml.writeAttribute(QStringLiteral("stroke-linecap"), QStringLiteral("round"));
            m_xml.writeEndElement();
        }
    };
    for (const ExitInfo &exit : m_p.colouring().exits) {
        y += kRow;
        LinkStyle style;
        style.colour = QColor(exit.colour);
        style.verified = true;
        swatch(style, y);
        rowText(QStringLiteral("c"), m_caption, legendExitText(exit), left + kSwatch + 10, y - 6);
    }
    if (m_p.colouring().exits.isEmpty()) {
        y += kRow;
        rowText(QStringLiteral("c m"), m_caption, QStringLiteral("no exit verified yet"), left,
                y - 6);
    }
    y += 6;
    LinkStyle unverified;
    unverified.colour = QColor(Colouring::unverifiedColour());
    LinkStyle failed = unverified;
    failed.failed = true;
    LinkStyle stale;
    stale.colour = QColor(0x00, 0x72, 0xb2);
    stale.verified = true;
    stale.stale = true;
    const LinkStyle styles[] = {unverified, failed, stale};
    const QString styleTexts[]
        = {QStringLiteral("not verified"), QStringLiteral("expectation failed"),
           QStringLiteral("stale: checked on another path"),
           QStringLiteral("halted qubes are drawn faded")};
    for (int i = 0; i < 3; ++i) {
        y += kRow;
        swatch(styles[i], y);
        rowText(QStringLiteral("c"), m_caption, styleTexts[i], left + kSwatch + 10, y - 6);
    }
    y += kRow;
    m_xml.writeEmptyElement(QStringLiteral("path"));
    m_xml.writeAttribute(QStringLiteral("fill"), QStringLiteral("#555753"));
    m_xml.writeAttribute(QStringLiteral("fill-opacity"), QStringLiteral(".5"));
    m_xml.writeAttribute(QStringLiteral("d"),
                         pathData(QubeItem::outline(QubeItem::Kind::App,
                                                    QRectF(left + 4, y - 18, kSwatch - 8, 16))));
    rowText(QStringLiteral("c"), m_caption, styleTexts[3], left + kSwatch + 10, y - 6);
    y += 6;
    const double columnWidth = (rect.width() - 2 * kPad) / 2;
    // The verdict marks a checked qube carries at its corner.
    const std::pair<VerdictMark, QString> marks[] = {
        {VerdictMark::Pass, QStringLiteral("checks passed")},
        {VerdictMark::Fail, QStringLiteral("a check failed")},
        {VerdictMark::Error, QStringLiteral("cannot tell (error)")},
        {VerdictMark::Stale, QStringLiteral("stale: path changed")},
    };
    for (int i = 0; i < 4; ++i) {
        const double x = left + (i % 2) * columnWidth;
        const double rowBottom = y + (i / 2 + 1) * kRow;
        writeVerdictMark(m_xml, marks[i].first, QPointF(x + 12, rowBottom - 10), 7);
        rowText(QStringLiteral("c"), m_caption, marks[i].second, x + 32, rowBottom - 6);
    }
    y += 2 * kRow + 6;
    for (int i = 0; i < kKinds.size(); ++i) {
        const double x = left + (i % 2) * columnWidth;
        const double rowBottom = y + (i / 2 + 1) * kRow;
        const QRectF box(x, rowBottom - 19, 24, 17);
        m_xml.writeEmptyElement(QStringLiteral("path"));
        m_xml.writeAttribute(QStringLiteral("fill"), QStringLiteral("#555753"));
        m_xml.writeAttribute(QStringLiteral("d"), pathData(QubeItem::outline(kKinds[i], box)));
        // The icon scaled to the small box (glyph size 8.5 instead of 16), pen 1.2 as drawn.
        const double scale = 8.5 / 16;
        m_xml.writeEmptyElement(QStringLiteral("use"));
        m_xml.writeAttribute(QStringLiteral("href"), QStringLiteral("#i-") + kindToken(kKinds[i]));
        m_xml.writeAttribute(QStringLiteral("fill"), QStringLiteral("none"));
        m_xml.writeAttribute(QStringLiteral("stroke"), QStringLiteral("#fff"));
        m_xml.writeAttribute(QStringLiteral("color"), QStringLiteral("#fff"));
        m_xml.writeAttribute(QStringLiteral("stroke-width"), num(1.2 / scale));
        m_xml.writeAttribute(QStringLiteral("stroke-linecap"), QStringLiteral("round"));
        m_xml.writeAttribute(QStringLiteral("stroke-linejoin"), QStringLiteral("round"));
        m_xml.writeAttribute(QStringLiteral("transform"),
                             QStringLiteral("translate(%1 %2) scale(%3)")
                                 .arg(num(box.center().x() - 16 * scale),
                                      num(box.center().y() - 23 * scale), QString::number(scale)));
        rowText(QStringLiteral("c"), m_caption, QubeItem::kindName(kKinds[i]), x + 32,
                rowBottom - 6);
    }
    m_xml.writeEndElement();
    newline();
}

void Writer::write()
{
    const QRectF view = m_p.rect();
    m_xml.writeStartDocument();
    m_xml.writeStartElement(QStringLiteral("svg"));
    m_xml.writeDefaultNamespace(QStringLiteral("http://www.w3.org/2000/svg"));
    m_xml.writeAttribute(QStringLiteral("version"), QStringLiteral("1.1"));
    m_xml.writeAttribute(QStringLiteral("width"), num(view.width()));
    m_xml.writeAttribute(QStringLiteral("height"), num(view.height()));
    m_xml.writeAttribute(
        QStringLiteral("viewBox"),
        QStringLiteral("%1 %2 %3 %4")
            .arg(num(view.x()), num(view.y()), num(view.width()), num(view.height())));
    newline();
    m_xml.writeTextElement(QStringLiteral("title"),
                           xmlSafe(QStringLiteral("Qubes network map: %1")
                                       .arg(DiagramScene::sourceDescription(m_p.snapshot()))));
    QString description
        = QStringLiteral("Made by qubes-netmap %1").arg(QStringLiteral(NETMAP_VERSION));
    if (m_p.snapshot().generated.isValid())
        description += QStringLiteral("; snapshot %1")
                           .arg(m_p.snapshot().generated.toUTC().toString(Qt::ISODate));
    description += QStringLiteral("; exported %1")
                       .arg(QDateTime::currentDateTimeUtc().toString(Qt::ISODate));
    m_xml.writeTextElement(QStringLiteral("desc"), xmlSafe(description));
    newline();
    writeStyle();
    writeDefs();

    m_xml.writeEmptyElement(QStringLiteral("rect"));
    m_xml.writeAttribute(QStringLiteral("id"), QStringLiteral("paper"));
    m_xml.writeAttribute(QStringLiteral("fill"), hex(DiagramTheme::paper()));
    m_xml.writeAttribute(QStringLiteral("x"), num(view.x()));
    m_xml.writeAttribute(QStringLiteral("y"), num(view.y()));
    m_xml.writeAttribute(QStringLiteral("width"), num(view.width()));
    m_xml.writeAttribute(QStringLiteral("height"), num(view.height()));
    newline();

    const NetworkLayout &layout = m_p.layout();
    m_xml.writeStartElement(QStringLiteral("g"));
    m_xml.writeAttribute(QStringLiteral("id"), QStringLiteral("groups"));
    for (const LayoutGroup &g : layout.groups) {
        QFont bold = DiagramTheme::captionFont();
        bold.setWeight(QFont::DemiBold);
        const QFontMetricsF metrics(bold);
        m_xml.writeEmptyElement(QStringLiteral("rect"));
        m_xml.writeAttribute(QStringLiteral("class"), QStringLiteral("grp"));
        m_xml.writeAttribute(QStringLiteral("x"), num(g.rect.x()));
        m_xml.writeAttribute(QStringLiteral("y"), num(g.rect.y()));
        m_xml.writeAttribute(QStringLiteral("width"), num(g.rect.width()));
        m_xml.writeAttribute(QStringLiteral("height"), num(g.rect.height()));
        m_xml.writeAttribute(QStringLiteral("rx"), QStringLiteral("10"));
        const double baseline = g.caption.top()
            + (g.caption.height() - metrics.ascent() - metrics.descent()) / 2 + metrics.ascent();
        text(QStringLiteral("cb m"), g.caption.left(), baseline, m_p.groupCaption(g));
    }
    m_xml.writeEndElement();
    newline();

    writeLinks();
    writeSides();

    m_xml.writeStartElement(QStringLiteral("g"));
    m_xml.writeAttribute(QStringLiteral("id"), QStringLiteral("qubes"));
    newline();
    for (size_t b = 0; b < layout.boxes.size(); ++b) {
        if (m_p.isSummary(int(b)))
            writeSummary(int(b));
        else if (layout.boxes[b].kind == LayoutBox::Kind::Internet)
            writeInternet(int(b));
        else
            writeQube(int(b));
    }
    m_xml.writeEndElement();
    newline();
    writeLegend();
    m_xml.writeEndElement();
    m_xml.writeEndDocument();
}

} // namespace

QString svgQubeId(const QString &name)
{
    QString id = QStringLiteral("qube-");
    for (const QChar c : name) {
        const char16_t u = c.unicode();
        if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '-')
            id += c;
        else
            id += QStringLiteral("_%1").arg(int(u), 4, 16, QLatin1Char('0'));
    }
    return id;
}

Status writeSvg(const DiagramPicture &picture, QIODevice *device)
{
    Writer writer(picture, device);
    writer.write();
    return Ok {};
}

} // namespace netmap
