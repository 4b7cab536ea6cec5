// SvgPictureWriter's legend: LegendItem::paint() element for element (exits, link styles,
// verdict marks, kinds of box).

#include "diagrampicture.h"
#include "svgwriter_p.h"

namespace netmap::svg {

namespace {

QString legendExitText(const ExitInfo &exit)
{
    const int n = int(exit.qubes.size());
    return QStringLiteral("%1  %2 · %3 %4")
        .arg(exit.ip, exit.kind, QString::number(n),
             n == 1 ? QStringLiteral("qube") : QStringLiteral("qubes"));
}

} // namespace

void SvgPictureWriter::writeLegend()
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

} // namespace netmap::svg
