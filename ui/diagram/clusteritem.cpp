#include "clusteritem.h"

#include "diagramtheme.h"
#include "qubeitem.h"

#include <QFontMetricsF>
#include <QPainter>
#include <QStyleOptionGraphicsItem>

#include <algorithm>
#include <cmath>

namespace netmap {

namespace {

constexpr double kTextGap = 10;
constexpr double kStack = 4; // the offset of the sheets drawn behind the box

QString nameText(int count)
{
    return count == 1 ? QStringLiteral("1 qube") : QStringLiteral("%1 qubes").arg(count);
}

QString detailText(VerdictMark mark)
{
    switch (mark) {
    case VerdictMark::Fail:
        return QStringLiteral("a check failed · click to show");
    case VerdictMark::Error:
        return QStringLiteral("cannot tell · click to show");
    default:
        return QStringLiteral("click to show them");
    }
}

} // namespace

ClusterItem::ClusterItem(const QString &netvm, const QStringList &members, VerdictMark mark,
                         double width, QGraphicsItem *parent)
    : QGraphicsItem(parent)
    , m_netvm(netvm)
    , m_members(members)
    , m_verdict(mark)
    , m_rect(0, 0, width, DiagramTheme::kBoxHeight)
{
    setCacheMode(DeviceCoordinateCache);
    setCursor(Qt::PointingHandCursor);
    const double room = width - DiagramTheme::kIconWidth - 2 * kTextGap;
    m_shownName = QFontMetricsF(DiagramTheme::nameFont())
                      .elidedText(nameText(int(members.size())), Qt::ElideRight, room);
    m_shownDetail = QFontMetricsF(DiagramTheme::detailFont())
                        .elidedText(detailText(mark), Qt::ElideRight, room);
    // Names as read: escaped, since a tool tip that looks like markup is rich text.
    QStringList shown = members.mid(0, 30);
    for (QString &name : shown)
        name = name.toHtmlEscaped();
    QString tip = QStringLiteral("<qt><b>%1 qubes behind %2</b><br>%3")
                      .arg(members.size())
                      .arg(netvm.toHtmlEscaped(), shown.join(QStringLiteral(", ")));
    if (members.size() > shown.size())
        tip += QStringLiteral(" and %1 more").arg(members.size() - shown.size());
    if (mark != VerdictMark::None)
        tip += QStringLiteral("<br><b>Checks: %1</b>").arg(verdictMarkWords(mark).toHtmlEscaped());
    tip += QStringLiteral("<br>Click to show them.</qt>");
    setToolTip(tip);
}

double ClusterItem::preferredWidth(int count)
{
    const double text = std::max(
        QFontMetricsF(DiagramTheme::nameFont()).horizontalAdvance(nameText(count)),
        QFontMetricsF(DiagramTheme::detailFont()).horizontalAdvance(detailText(VerdictMark::Fail)));
    const double wanted = DiagramTheme::kIconWidth + 2 * kTextGap + text;
    return std::clamp(std::ceil(wanted / 4) * 4, DiagramTheme::kMinBoxWidth,
                      DiagramTheme::kMaxBoxWidth);
}

void ClusterItem::setMatched(bool matched)
{
    if (m_matched == matched)
        return;
    m_matched = matched;
    update();
}

void ClusterItem::setChanged(bool changed)
{
    if (m_changed == changed)
        return;
    m_changed = changed;
    update();
}

QRectF ClusterItem::boundingRect() const
{
    return m_rect.adjusted(-6, -6, 6 + kStack * 2, 6 + kStack * 2);
}

QPainterPath ClusterItem::shape() const
{
    QPainterPath path;
    path.addRect(m_rect.adjusted(0, 0, kStack * 2, kStack * 2));
    return path;
}

void ClusterItem::paint(QPainter *painter, const QStyleOptionGraphicsItem *, QWidget *)
{
    painter->setRenderHint(QPainter::Antialiasing);
    painter->setRenderHint(QPainter::TextAntialiasing);
    const QPainterPath body = QubeItem::outline(QubeItem::Kind::App, m_rect);
    const QColor band = DiagramTheme::mixedBus();
    const DiagramTheme::Colours colours = DiagramTheme::colours(this);
    if (m_matched) {
        QPen ring(DiagramTheme::findRing(), 7);
        ring.setJoinStyle(Qt::RoundJoin);
        painter->strokePath(body, ring);
    }
    if (m_changed)
        QubeItem::paintChangeRing(
            painter, QubeItem::outline(QubeItem::Kind::App, m_rect.adjusted(-4, -4, 4, 4)));
    // Two sheets behind the box: many qubes in one.
    for (int i = 2; i >= 1; --i) {
        const QPainterPath sheet = body.translated(kStack * i, kStack * i);
        painter->fillPath(sheet, colours.card);
        painter->strokePath(sheet, QPen(band, 1.2));
    }
    painter->fillPath(body, colours.card);
    QPainterPath bandArea;
    bandArea.addRect(
        QRectF(m_rect.left(), m_rect.top(), DiagramTheme::kIconWidth, m_rect.height()));
    painter->fillPath(body.intersected(bandArea), band);
    const QRectF iconRect(m_rect.left(), m_rect.top(), DiagramTheme::kIconWidth, m_rect.height());
    QubeItem::paintIcon(painter, QubeItem::Kind::App, iconRect, DiagramTheme::textOn(band));
    painter->strokePath(body, QPen(band, 1.6));

    const double x = m_rect.left() + DiagramTheme::kIconWidth + kTextGap;
    painter->setPen(colours.ink);
    painter->setFont(DiagramTheme::nameFont());
    painter->drawText(QPointF(x, m_rect.top() + 20), m_shownName);
    painter->setPen(colours.mutedInk);
    painter->setFont(DiagramTheme::detailFont());
    painter->drawText(QPointF(x, m_rect.top() + 37), m_shownDetail);
    if (m_verdict != VerdictMark::None)
        QubeItem::paintVerdictMark(painter, m_verdict,
                                   QPointF(m_rect.right() - 5, m_rect.top() + 3), 8);
}

} // namespace netmap
