// SvgPictureWriter's document: the root element, stylesheet, definitions, groups, links and
// side paths, and the entry points writeSvg() and svgQubeId(). The boxes are drawn in
// svgboxes.cpp, the legend in svglegend.cpp.

#include "svgwriter.h"

#include "diagram/diagramscene.h"
#include "diagram/sidepathitem.h"
#include "diagrampicture.h"
#include "model/untrustedtext.h"
#include "svgwriter_p.h"

#include <QIODevice>

namespace netmap {

namespace svg {

QString SvgPictureWriter::colourClass(const QColor &colour)
{
    const QRgb key = colour.rgb();
    auto it = m_colourClasses.find(key);
    if (it == m_colourClasses.end()) {
        it = m_colourClasses.insert(key, QStringLiteral("c%1").arg(m_colourClasses.size()));
        m_colourOrder.append(key);
    }
    return it.value();
}

void SvgPictureWriter::writeStyle()
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
    // In the order they were made, not the hash's (which changes from run to run), so the same
    // picture is the same bytes.
    for (const QRgb key : std::as_const(m_colourOrder))
        css += QStringLiteral(".%1{stroke:%2}")
                   .arg(m_colourClasses.value(key), hex(QColor::fromRgb(key)));
    m_xml.writeTextElement(QStringLiteral("style"), css);
    newline();
}

void SvgPictureWriter::writeDefs()
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

void SvgPictureWriter::writeLinks()
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

void SvgPictureWriter::writeSides()
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

void SvgPictureWriter::write()
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

} // namespace svg

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
    svg::SvgPictureWriter writer(picture, device);
    writer.write();
    return Ok {};
}

} // namespace netmap
