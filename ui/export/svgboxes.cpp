// SvgPictureWriter's boxes: a qube (body, band, icon, name, detail, verdict mark, and a title
// with what the tool tip says), a missing netvm, an Internet end, a collapsed summary.

#include "diagram/internetitem.h"
#include "diagrampicture.h"
#include "model/topology.h"
#include "svgwriter.h"
#include "svgwriter_p.h"

namespace netmap::svg {

QString SvgPictureWriter::qubeTitle(const Qube &q, int box) const
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

void SvgPictureWriter::writeGhost(int b)
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

void SvgPictureWriter::writeQube(int b)
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

void SvgPictureWriter::writeInternet(int b)
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

void SvgPictureWriter::writeSummary(int b)
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

} // namespace netmap::svg
