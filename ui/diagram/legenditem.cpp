#include "legenditem.h"

#include "diagramtheme.h"
#include "linkitem.h"
#include "model/untrustedtext.h"
#include "qubeitem.h"

#include <QFontMetricsF>
#include <QPainter>

#include <algorithm>

namespace netmap {

namespace {

constexpr double kPad = 14;
constexpr double kRow = 22;
constexpr double kSwatch = 34;
constexpr double kMinWidth = 300;
constexpr double kMaxWidth = 460;

const QList<QubeItem::Kind> kKinds
    = {QubeItem::Kind::Provider, QubeItem::Kind::App,        QubeItem::Kind::Disposable,
       QubeItem::Kind::Template, QubeItem::Kind::Standalone, QubeItem::Kind::Admin};

QString exitText(const ExitInfo &exit)
{
    const int n = int(exit.qubes.size());
    return QStringLiteral("%1  %2 · %3 %4")
        .arg(exit.ip, exit.kind, QString::number(n),
             n == 1 ? QStringLiteral("qube") : QStringLiteral("qubes"));
}

const QStringList kStyleTexts
    = {QStringLiteral("not verified"), QStringLiteral("expectation failed"),
       QStringLiteral("stale: checked on another path"),
       QStringLiteral("halted qubes are drawn faded")};

} // namespace

LegendItem::LegendItem(QGraphicsItem *parent)
    : QGraphicsItem(parent)
{
    setZValue(4);
    setCacheMode(DeviceCoordinateCache);
    setAcceptedMouseButtons(Qt::NoButton);
    relayout();
}

void LegendItem::setContents(const QString &title, const QStringList &details,
                             const QList<ExitInfo> &exits)
{
    // The title and details quote the snapshot file and the qubes: one line each, and nothing
    // the SVG export could not hold.
    m_title = untrustedtext::line(title, 300);
    m_details.clear();
    for (const QString &d : details)
        m_details.append(untrustedtext::line(d, 300));
    m_exits = exits;
    relayout();
    update();
}

namespace {
// The marks a checked qube carries at its corner.
const std::pair<VerdictMark, const char *> kMarkTexts[] = {
    {VerdictMark::Pass, "checks passed"},
    {VerdictMark::Fail, "a check failed"},
    {VerdictMark::Error, "cannot tell (error)"},
    {VerdictMark::Stale, "stale: path changed"},
};
const QList<std::pair<VerdictMark, QString>> kMarks = [] {
    QList<std::pair<VerdictMark, QString>> marks;
    for (const auto &[mark, text] : kMarkTexts)
        marks.append({mark, QString::fromLatin1(text)});
    return marks;
}();
} // namespace

QStringList LegendItem::texts() const
{
    QStringList all {m_title};
    all << m_details << QStringLiteral("Exits");
    for (const ExitInfo &exit : m_exits)
        all << exitText(exit);
    if (m_exits.isEmpty())
        all << QStringLiteral("no exit verified yet");
    all << kStyleTexts;
    for (const auto &[mark, text] : kMarks)
        all << text;
    for (QubeItem::Kind kind : kKinds)
        all << QubeItem::kindName(kind);
    return all;
}

void LegendItem::relayout()
{
    const QFontMetricsF title(DiagramTheme::titleFont());
    const QFontMetricsF caption(DiagramTheme::captionFont());
    double width = std::max(kMinWidth, title.horizontalAdvance(m_title) + 2 * kPad);
    for (const QString &line : m_details)
        width = std::max(width, caption.horizontalAdvance(line) + 2 * kPad);
    for (const ExitInfo &exit : m_exits)
        width
            = std::max(width, caption.horizontalAdvance(exitText(exit)) + kSwatch + 10 + 2 * kPad);
    double kindWidth = 0;
    for (QubeItem::Kind kind : kKinds)
        kindWidth = std::max(kindWidth, caption.horizontalAdvance(QubeItem::kindName(kind)));
    width = std::max(width, 2 * (kindWidth + 32 + 12) + 2 * kPad);
    for (const QString &text : kStyleTexts)
        width = std::max(width, caption.horizontalAdvance(text) + kSwatch + 10 + 2 * kPad);
    width = std::min(width, kMaxWidth);
    const int exitRows = std::max(1, int(m_exits.size()));
    const int kindRows = (int(kKinds.size()) + 1) / 2;
    const double height = kPad + 24 + m_details.size() * 18 + 10 // title and details
        + kRow + exitRows * kRow // "Exits" and the rows
        + 6 + 4 * kRow // link styles and halted
        + 6 + 2 * kRow // verdict marks
        + 6 + kindRows * kRow + kPad;
    prepareGeometryChange();
    m_rect = QRectF(0, 0, std::ceil(width), std::ceil(height));
}

QRectF LegendItem::boundingRect() const
{
    return m_rect.adjusted(-1, -1, 1, 1);
}

void LegendItem::paint(QPainter *painter, const QStyleOptionGraphicsItem *, QWidget *)
{
    painter->setRenderHint(QPainter::Antialiasing);
    painter->setRenderHint(QPainter::TextAntialiasing);
    const DiagramTheme::Colours colours = DiagramTheme::colours(this);
    painter->setPen(QPen(colours.frame, 1));
    painter->setBrush(colours.card);
    painter->drawRoundedRect(m_rect, 10, 10);

    const double left = m_rect.left() + kPad;
    const double textWidth = m_rect.width() - 2 * kPad;
    const QFontMetricsF titleMetrics(DiagramTheme::titleFont());
    const QFontMetricsF captionMetrics(DiagramTheme::captionFont());
    double y = m_rect.top() + kPad + 17;
    painter->setFont(DiagramTheme::titleFont());
    painter->setPen(colours.ink);
    painter->drawText(QPointF(left, y),
                      titleMetrics.elidedText(m_title, Qt::ElideRight, textWidth));
    y += 7;
    painter->setFont(DiagramTheme::captionFont());
    painter->setPen(colours.mutedInk);
    for (const QString &line : m_details) {
        y += 18;
        painter->drawText(QPointF(left, y),
                          captionMetrics.elidedText(line, Qt::ElideMiddle, textWidth));
    }
    y += 10;

    const auto rowText = [&](const QString &text, double x, double baseline, const QColor &ink) {
        painter->setPen(ink);
        painter->drawText(
            QPointF(x, baseline),
            captionMetrics.elidedText(text, Qt::ElideRight, m_rect.right() - kPad - x));
    };
    QFont bold = DiagramTheme::captionFont();
    bold.setWeight(QFont::DemiBold);
    painter->setFont(bold);
    y += kRow;
    rowText(QStringLiteral("Exits"), left, y - 6, colours.ink);
    painter->setFont(DiagramTheme::captionFont());

    const auto swatch = [&](const LinkStyle &style, double rowBottom) {
        const double cy = rowBottom - 10;
        painter->setPen(LinkItem::penFor(style, 3));
        painter->drawLine(QPointF(left, cy), QPointF(left + kSwatch, cy));
        if (style.failed)
            LinkItem::paintFailedBadge(painter, QPointF(left + kSwatch / 2, cy));
    };
    for (const ExitInfo &exit : m_exits) {
        y += kRow;
        LinkStyle style;
        style.colour = QColor(exit.colour);
        style.verified = true;
        swatch(style, y);
        rowText(exitText(exit), left + kSwatch + 10, y - 6, colours.ink);
    }
    if (m_exits.isEmpty()) {
        y += kRow;
        rowText(QStringLiteral("no exit verified yet"), left, y - 6, colours.mutedInk);
    }

    y += 6;
    LinkStyle unverified;
    unverified.colour = QColor(Colouring::unverifiedColour());
    LinkStyle failed = unverified;
    failed.failed = true;
    failed.colour = QColor(Colouring::failedColour());
    LinkStyle stale;
    stale.colour = QColor(0x00, 0x72, 0xb2);
    stale.verified = true;
    stale.stale = true;
    const LinkStyle styles[] = {unverified, failed, stale};
    for (int i = 0; i < 3; ++i) {
        y += kRow;
        swatch(styles[i], y);
        rowText(kStyleTexts[i], left + kSwatch + 10, y - 6, colours.ink);
    }
    y += kRow;
    {
        const QRectF box(left + 4, y - 18, kSwatch - 8, 16);
        painter->save();
        painter->setOpacity(DiagramTheme::kHaltedOpacity);
        painter->fillPath(QubeItem::outline(QubeItem::Kind::App, box), QColor(0x55, 0x57, 0x53));
        painter->restore();
        rowText(kStyleTexts[3], left + kSwatch + 10, y - 6, colours.ink);
    }

    y += 6;
    const double columnWidth = (m_rect.width() - 2 * kPad) / 2;
    for (int i = 0; i < kMarks.size(); ++i) {
        const double x = left + (i % 2) * columnWidth;
        const double rowBottom = y + (i / 2 + 1) * kRow;
        QubeItem::paintVerdictMark(painter, kMarks[i].first, QPointF(x + 12, rowBottom - 10), 7);
        painter->setFont(DiagramTheme::captionFont());
        rowText(kMarks[i].second, x + 32, rowBottom - 6, colours.ink);
    }
    y += 2 * kRow + 6;
    for (int i = 0; i < kKinds.size(); ++i) {
        const double x = left + (i % 2) * columnWidth;
        const double rowBottom = y + (i / 2 + 1) * kRow;
        const QRectF box(x, rowBottom - 19, 24, 17);
        const QColor grey(0x55, 0x57, 0x53);
        painter->fillPath(QubeItem::outline(kKinds[i], box), grey);
        QubeItem::paintIcon(painter, kKinds[i], box, Qt::white);
        painter->setFont(DiagramTheme::captionFont());
        rowText(QubeItem::kindName(kKinds[i]), x + 32, rowBottom - 6, colours.ink);
    }
}

} // namespace netmap
