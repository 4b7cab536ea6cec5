#include "qubeitem.h"

#include "diagramtheme.h"
#include "model/untrustedtext.h"

#include <QFontMetricsF>
#include <QPainter>
#include <QStyleOptionGraphicsItem>

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

namespace netmap {

namespace {

constexpr double kTextGap = 10; // between the icon band and the text, and at the right end
constexpr double kRingOutset = 6; // room for the selection and find rings

QString escapedTooltip(const Qube &qube, QubeItem::Kind kind)
{
    // Tool tips are rich text when they look like it: escape every value and force rich mode.
    QStringList lines;
    lines << QStringLiteral("<b>%1</b>").arg(qube.name.toString().toHtmlEscaped());
    lines << QStringLiteral("%1 · %2 · %3 label")
                 .arg(QubeItem::kindName(kind).toHtmlEscaped(), qube.state.toHtmlEscaped(),
                      qube.label.toHtmlEscaped());
    if (!qube.ip.isEmpty())
        lines << QStringLiteral("IP %1").arg(qube.ip.toHtmlEscaped());
    if (qube.netvm)
        lines << QStringLiteral("netvm %1").arg(qube.netvm->toString().toHtmlEscaped());
    if (qube.templ)
        lines << QStringLiteral("template %1").arg(qube.templ->toString().toHtmlEscaped());
    return QStringLiteral("<qt>") + lines.join(QStringLiteral("<br>")) + QStringLiteral("</qt>");
}

// Twelve spokes, the newest brightest: a check is running in the qube.
void paintSpinner(QPainter *painter, const QRectF &rect, const QColor &ink, int phase)
{
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    const QPointF c = rect.center();
    const double outer = std::min(rect.width(), rect.height()) * 0.34;
    const double inner = outer * 0.45;
    for (int i = 0; i < 12; ++i) {
        const int age = (phase - i + 12) % 12;
        QColor colour = ink;
        colour.setAlphaF(std::max(0.15, 1.0 - age / 9.0));
        painter->setPen(QPen(colour, 2.2, Qt::SolidLine, Qt::RoundCap));
        const double a = M_PI / 6 * i - M_PI / 2;
        painter->drawLine(QPointF(c.x() + inner * std::cos(a), c.y() + inner * std::sin(a)),
                          QPointF(c.x() + outer * std::cos(a), c.y() + outer * std::sin(a)));
    }
    painter->restore();
}

// A box's outline and its icon band (the outline's left end), made once per kind and size:
// intersecting paths for every box on every paint would cost more than drawing them.
struct BoxShapes
{
    QPainterPath body;
    QPainterPath band;
};

const BoxShapes &boxShapes(QubeItem::Kind kind, const QRectF &rect)
{
    static std::map<std::tuple<int, double, double, double, double>, BoxShapes> cache;
    const auto key = std::make_tuple(int(kind), rect.x(), rect.y(), rect.width(), rect.height());
    if (const auto it = cache.find(key); it != cache.end())
        return it->second;
    if (cache.size() >= 256) // boxes come in a handful of sizes; never grow without bound
        cache.clear();
    BoxShapes shapes;
    shapes.body = QubeItem::outline(kind, rect);
    QPainterPath band;
    band.addRect(QRectF(rect.left(), rect.top(), DiagramTheme::kIconWidth, rect.height()));
    shapes.band = shapes.body.intersected(band);
    return cache.emplace(key, std::move(shapes)).first->second;
}

} // namespace

QubeItem::QubeItem(const Qube &qube, double width, QGraphicsItem *parent)
    : QGraphicsItem(parent)
    , m_name(qube.name.toString())
    , m_ip(qube.ip)
    , m_detail(detailText(qube))
    , m_kind(kindOf(qube))
    , m_labelColour(DiagramTheme::labelColour(qube.label))
    , m_halted(qube.isHalted())
    , m_rect(0, 0, width, DiagramTheme::kBoxHeight)
{
    setFlag(ItemIsSelectable);
    setFlag(ItemIsFocusable);
    setAcceptHoverEvents(false);
    // Boxes are drawn once and then blitted: panning and zooming 300 of them stays smooth.
    setCacheMode(DeviceCoordinateCache);
    m_baseToolTip = escapedTooltip(qube, m_kind);
    setToolTip(m_baseToolTip);
    setData(0, m_name);
    elide();
}

QubeItem::Kind QubeItem::kindOf(const Qube &qube)
{
    if (qube.isAdmin())
        return Kind::Admin;
    if (qube.isTemplate())
        return Kind::Template;
    if (qube.providesNetwork)
        return Kind::Provider;
    if (qube.isDisposable())
        return Kind::Disposable;
    if (qube.isStandalone())
        return Kind::Standalone;
    return Kind::App;
}

QString QubeItem::kindName(Kind kind)
{
    switch (kind) {
    case Kind::Provider:
        return QStringLiteral("network provider");
    case Kind::App:
        return QStringLiteral("app qube");
    case Kind::Disposable:
        return QStringLiteral("disposable");
    case Kind::Template:
        return QStringLiteral("template");
    case Kind::Standalone:
        return QStringLiteral("standalone");
    case Kind::Admin:
        return QStringLiteral("admin qube");
    }
    return QString();
}

QString QubeItem::detailText(const Qube &qube)
{
    QString text;
    if (!qube.ip.isEmpty())
        text = qube.ip;
    else if (qube.isAdmin())
        text = QStringLiteral("admin qube");
    else if (qube.isTemplate())
        text = QStringLiteral("template");
    else
        text = QStringLiteral("no network");
    if (!qube.isRunning() && !qube.state.isEmpty())
        text += QStringLiteral(" · ") + qube.state.left(64).toLower();
    // One line, nothing a terminal or an SVG reader would choke on.
    return untrustedtext::line(text, 200);
}

double QubeItem::preferredWidth(const Qube &qube)
{
    const QFontMetricsF nameMetrics(DiagramTheme::nameFont());
    const QFontMetricsF detailMetrics(DiagramTheme::detailFont());
    const double text = std::max(nameMetrics.horizontalAdvance(qube.name.toString()),
                                 detailMetrics.horizontalAdvance(detailText(qube)));
    const double wanted = DiagramTheme::kIconWidth + 2 * kTextGap + text;
    return std::clamp(std::ceil(wanted / 4) * 4, DiagramTheme::kMinBoxWidth,
                      DiagramTheme::kMaxBoxWidth);
}

void QubeItem::setWidth(double width)
{
    if (qFuzzyCompare(width, m_rect.width()))
        return;
    prepareGeometryChange();
    m_rect.setWidth(width);
    elide();
}

void QubeItem::setMatched(bool matched)
{
    if (m_matched == matched)
        return;
    m_matched = matched;
    update();
}

void QubeItem::setBusy(bool busy)
{
    if (m_busy == busy)
        return;
    m_busy = busy;
    m_busyPhase = 0;
    update();
}

void QubeItem::advanceBusy()
{
    if (!m_busy)
        return;
    m_busyPhase = (m_busyPhase + 1) % 12;
    update();
}

void QubeItem::elide()
{
    const double room = m_rect.width() - DiagramTheme::kIconWidth - 2 * kTextGap;
    m_shownName = QFontMetricsF(DiagramTheme::nameFont()).elidedText(m_name, Qt::ElideMiddle, room);
    m_shownDetail
        = QFontMetricsF(DiagramTheme::detailFont()).elidedText(m_detail, Qt::ElideRight, room);
}

QRectF QubeItem::boundingRect() const
{
    return m_rect.adjusted(-kRingOutset, -kRingOutset, kRingOutset, kRingOutset);
}

QPainterPath QubeItem::shape() const
{
    QPainterPath path;
    path.addRect(m_rect);
    return path;
}

QPainterPath QubeItem::outline(Kind kind, const QRectF &r)
{
    QPainterPath path;
    switch (kind) {
    case Kind::Provider: {
        // Chamfered ends: reads as a "pipe" that traffic passes through.
        const double c = std::min(10.0, r.height() / 3);
        QPolygonF p;
        p << QPointF(r.left() + c, r.top()) << QPointF(r.right() - c, r.top())
          << QPointF(r.right(), r.top() + c) << QPointF(r.right(), r.bottom() - c)
          << QPointF(r.right() - c, r.bottom()) << QPointF(r.left() + c, r.bottom())
          << QPointF(r.left(), r.bottom() - c) << QPointF(r.left(), r.top() + c);
        path.addPolygon(p);
        path.closeSubpath();
        break;
    }
    case Kind::Template: {
        // A sheet with a folded corner.
        const double f = std::min(12.0, r.height() / 3);
        QPolygonF p;
        p << r.topLeft() << QPointF(r.right() - f, r.top()) << QPointF(r.right(), r.top() + f)
          << r.bottomRight() << r.bottomLeft();
        path.addPolygon(p);
        path.closeSubpath();
        break;
    }
    case Kind::Standalone:
    case Kind::Admin:
        path.addRoundedRect(r, 2, 2);
        break;
    case Kind::App:
    case Kind::Disposable:
        path.addRoundedRect(r, 8, 8);
        break;
    }
    return path;
}

void QubeItem::paintIcon(QPainter *painter, Kind kind, const QRectF &rect, const QColor &ink)
{
    // No save()/restore(): on the SVG engine each one writes a group of its own, and a big
    // diagram draws thousands of icons. Only the pen, brush and antialiasing change here.
    const QPen oldPen = painter->pen();
    const QBrush oldBrush = painter->brush();
    const bool oldAntialiasing = painter->testRenderHint(QPainter::Antialiasing);
    painter->setRenderHint(QPainter::Antialiasing);
    const QPointF c = rect.center();
    const double s = std::min(rect.width(), rect.height()) * 0.5; // glyph size
    QPen pen(ink, std::max(1.2, s / 9));
    pen.setJoinStyle(Qt::RoundJoin);
    pen.setCapStyle(Qt::RoundCap);
    painter->setPen(pen);
    painter->setBrush(Qt::NoBrush);
    switch (kind) {
    case Kind::Provider: {
        // Three connected nodes.
        const QPointF top(c.x(), c.y() - s * 0.42);
        const QPointF left(c.x() - s * 0.42, c.y() + s * 0.36);
        const QPointF right(c.x() + s * 0.42, c.y() + s * 0.36);
        painter->drawLine(top, left);
        painter->drawLine(top, right);
        painter->drawLine(left, right);
        painter->setBrush(ink);
        for (const QPointF &p : {top, left, right})
            painter->drawEllipse(p, s * 0.15, s * 0.15);
        break;
    }
    case Kind::App:
    case Kind::Disposable: {
        // A window; a disposable one is dashed and carries a small clock hand.
        const QRectF w(c.x() - s * 0.5, c.y() - s * 0.4, s, s * 0.8);
        if (kind == Kind::Disposable) {
            QPen dashed = pen;
            dashed.setDashPattern({1.6, 1.4});
            painter->setPen(dashed);
        }
        painter->drawRoundedRect(w, s * 0.08, s * 0.08);
        painter->setPen(pen);
        painter->setBrush(ink);
        painter->drawRect(QRectF(w.left(), w.top(), w.width(), s * 0.2));
        if (kind == Kind::Disposable) {
            painter->setBrush(Qt::NoBrush);
            const QPointF m(w.center().x(), w.center().y() + s * 0.1);
            painter->drawLine(m, QPointF(m.x(), m.y() - s * 0.18));
            painter->drawLine(m, QPointF(m.x() + s * 0.16, m.y()));
        }
        break;
    }
    case Kind::Template: {
        // Two stacked sheets.
        const QRectF back(c.x() - s * 0.32, c.y() - s * 0.48, s * 0.72, s * 0.8);
        painter->drawRect(back);
        painter->setBrush(ink);
        painter->drawRect(back.translated(-s * 0.18, s * 0.18));
        break;
    }
    case Kind::Standalone: {
        // A cube.
        const double r = s * 0.5;
        QPolygonF hex;
        for (int i = 0; i < 6; ++i) {
            const double a = M_PI / 3 * i + M_PI / 6;
            hex << QPointF(c.x() + r * std::cos(a), c.y() + r * std::sin(a));
        }
        painter->drawPolygon(hex);
        painter->drawLine(c, hex[1]);
        painter->drawLine(c, hex[3]);
        painter->drawLine(c, hex[5]);
        break;
    }
    case Kind::Admin: {
        // A shield.
        QPainterPath shield;
        shield.moveTo(c.x(), c.y() - s * 0.5);
        shield.lineTo(c.x() + s * 0.42, c.y() - s * 0.32);
        shield.quadTo(c.x() + s * 0.42, c.y() + s * 0.3, c.x(), c.y() + s * 0.52);
        shield.quadTo(c.x() - s * 0.42, c.y() + s * 0.3, c.x() - s * 0.42, c.y() - s * 0.32);
        shield.closeSubpath();
        painter->drawPath(shield);
        break;
    }
    }
    painter->setPen(oldPen);
    painter->setBrush(oldBrush);
    painter->setRenderHint(QPainter::Antialiasing, oldAntialiasing);
}

void QubeItem::setVerdict(VerdictMark mark, const QStringList &lines)
{
    m_verdictLines = lines;
    QString tip = m_baseToolTip;
    tip.chop(int(qstrlen("</qt>")));
    if (!lines.isEmpty()) {
        QStringList escaped;
        for (const QString &line : lines)
            escaped << line.toHtmlEscaped();
        tip += QStringLiteral("<br><b>Checks: %1</b><br>")
                   .arg(verdictMarkWords(mark).toHtmlEscaped())
            + escaped.join(QStringLiteral("<br>"));
    }
    if (!m_changes.isEmpty()) {
        QStringList escaped;
        for (const QString &line : m_changes)
            escaped << line.toHtmlEscaped();
        tip += QStringLiteral("<br><b>Changed since the compared snapshot:</b><br>")
            + escaped.join(QStringLiteral("<br>"));
    }
    tip += QStringLiteral("</qt>");
    if (tip != toolTip())
        setToolTip(tip);
    if (mark == m_verdict)
        return;
    m_verdict = mark;
    update();
}

void QubeItem::setChanges(const QStringList &changes)
{
    if (changes == m_changes)
        return;
    m_changes = changes;
    setVerdict(m_verdict, m_verdictLines); // the tool tip
    update();
}

void QubeItem::paintChangeRing(QPainter *painter, const QPainterPath &outline)
{
    QPen ring(DiagramTheme::changeRing(), 2.6, Qt::DashLine);
    ring.setDashPattern({3, 2});
    ring.setJoinStyle(Qt::RoundJoin);
    painter->strokePath(outline, ring);
}

void QubeItem::setMissing()
{
    m_missing = true;
    m_detail = QStringLiteral("missing: no such qube");
    m_baseToolTip = QStringLiteral("<qt><b>%1</b><br>No qube has this name: the qubes below "
                                   "name it as their netvm and have no network.</qt>")
                        .arg(m_name.toHtmlEscaped());
    setToolTip(m_baseToolTip);
    elide();
    update();
}

void QubeItem::paintVerdictMark(QPainter *painter, VerdictMark mark, const QPointF &c, double r)
{
    if (mark == VerdictMark::None)
        return;
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    QColor fill;
    switch (mark) {
    case VerdictMark::Pass:
        fill = QColor(0x1a, 0x7f, 0x37);
        break;
    case VerdictMark::Fail:
        fill = QColor(0xc6, 0x28, 0x28);
        break;
    case VerdictMark::Error:
        fill = QColor(0xd9, 0x8a, 0x00);
        break;
    case VerdictMark::Stale:
    case VerdictMark::None:
        fill = QColor(0x75, 0x75, 0x75);
        break;
    }
    painter->setPen(QPen(Qt::white, r * 0.22));
    painter->setBrush(fill);
    // A failure is a square, the others circles: told apart without colour too.
    if (mark == VerdictMark::Fail)
        painter->drawRoundedRect(QRectF(c.x() - r, c.y() - r, 2 * r, 2 * r), r * 0.25, r * 0.25);
    else
        painter->drawEllipse(c, r, r);
    QPen ink(Qt::white, r * 0.28, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin);
    painter->setPen(ink);
    painter->setBrush(Qt::NoBrush);
    const double s = r * 0.45;
    switch (mark) {
    case VerdictMark::Pass:
        painter->drawPolyline(
            QPolygonF({QPointF(c.x() - s, c.y()), QPointF(c.x() - s * 0.25, c.y() + s * 0.75),
                       QPointF(c.x() + s, c.y() - s * 0.7)}));
        break;
    case VerdictMark::Fail:
        painter->drawLine(QPointF(c.x() - s, c.y() - s), QPointF(c.x() + s, c.y() + s));
        painter->drawLine(QPointF(c.x() - s, c.y() + s), QPointF(c.x() + s, c.y() - s));
        break;
    case VerdictMark::Error: // "!": cannot tell
        painter->drawLine(QPointF(c.x(), c.y() - s * 1.1), QPointF(c.x(), c.y() + s * 0.3));
        painter->drawPoint(QPointF(c.x(), c.y() + s * 0.95));
        break;
    case VerdictMark::Stale: // a clock: old evidence
        painter->drawLine(c, QPointF(c.x(), c.y() - s));
        painter->drawLine(c, QPointF(c.x() + s * 0.8, c.y()));
        break;
    case VerdictMark::None:
        break;
    }
    painter->restore();
}

void QubeItem::paint(QPainter *painter, const QStyleOptionGraphicsItem *option, QWidget *)
{
    painter->setRenderHint(QPainter::Antialiasing);
    painter->setRenderHint(QPainter::TextAntialiasing);
    const BoxShapes &shapes = boxShapes(m_kind, m_rect);
    const QPainterPath &body = shapes.body;
    const bool selected = option->state & QStyle::State_Selected;
    const double baseOpacity = painter->opacity();
    const DiagramTheme::Colours colours = DiagramTheme::colours(this);

    if (m_matched) {
        QPen ring(DiagramTheme::findRing(), 7);
        ring.setJoinStyle(Qt::RoundJoin);
        painter->strokePath(body, ring);
    }
    if (selected) {
        QPen ring(DiagramTheme::selectionRing(), 5);
        ring.setJoinStyle(Qt::RoundJoin);
        painter->strokePath(body, ring);
    }
    if (!m_changes.isEmpty())
        paintChangeRing(painter, outline(m_kind, m_rect.adjusted(-4, -4, 4, 4)));
    if (m_missing) {
        // Nothing to fill: a dashed outline, the name, and what is wrong.
        QPen dashed(colours.mutedInk, 1.6, Qt::DashLine);
        painter->strokePath(body, dashed);
        const double x = m_rect.left() + kTextGap;
        painter->setPen(colours.ink);
        painter->setFont(DiagramTheme::nameFont());
        painter->drawText(QPointF(x, m_rect.top() + 20), m_shownName);
        painter->setPen(colours.mutedInk);
        painter->setFont(DiagramTheme::detailFont());
        painter->drawText(QPointF(x, m_rect.top() + 37), m_shownDetail);
        return;
    }
    if (m_halted)
        painter->setOpacity(painter->opacity() * DiagramTheme::kHaltedOpacity);

    // Body: paper with a hint of the label colour, and a solid label-coloured band for the icon.
    // Whole shapes rather than a clip: the SVG engine ignores clips, and every save()/restore()
    // costs the SVG a group.
    painter->fillPath(body, DiagramTheme::boxBody(m_labelColour, colours));
    painter->fillPath(shapes.band, m_labelColour);
    const QRectF band(m_rect.left(), m_rect.top(), DiagramTheme::kIconWidth, m_rect.height());
    if (m_busy)
        paintSpinner(painter, band, DiagramTheme::textOn(m_labelColour), m_busyPhase);
    else
        paintIcon(painter, m_kind, band, DiagramTheme::textOn(m_labelColour));

    QColor border = m_labelColour.darker(115);
    QPen pen(border, 1.6);
    pen.setJoinStyle(Qt::RoundJoin);
    if (m_kind == Kind::Disposable)
        pen.setDashPattern({4, 2.5});
    painter->strokePath(body, pen);
    if (m_kind == Kind::Standalone) {
        painter->strokePath(outline(m_kind, m_rect.adjusted(3, 3, -3, -3)), QPen(border, 0.8));
    } else if (m_kind == Kind::Template) {
        const double f = std::min(12.0, m_rect.height() / 3);
        QPainterPath fold;
        fold.moveTo(m_rect.right() - f, m_rect.top());
        fold.lineTo(m_rect.right() - f, m_rect.top() + f);
        fold.lineTo(m_rect.right(), m_rect.top() + f);
        painter->strokePath(fold, QPen(border, 1.0));
    }

    // Text: plain strings drawn with drawText, never interpreted as markup.
    const double x = m_rect.left() + DiagramTheme::kIconWidth + kTextGap;
    painter->setPen(colours.ink);
    painter->setFont(DiagramTheme::nameFont());
    painter->drawText(QPointF(x, m_rect.top() + 20), m_shownName);
    painter->setPen(colours.mutedInk);
    painter->setFont(DiagramTheme::detailFont());
    painter->drawText(QPointF(x, m_rect.top() + 37), m_shownDetail);
    if (m_verdict != VerdictMark::None) {
        painter->setOpacity(baseOpacity); // a halted qube's mark is not faded
        paintVerdictMark(painter, m_verdict, QPointF(m_rect.right() - 5, m_rect.top() + 3), 8);
    }
}

QVariant QubeItem::itemChange(GraphicsItemChange change, const QVariant &value)
{
    // A selected qube comes to the front so its ring is never hidden by a neighbour.
    if (change == ItemSelectedHasChanged)
        setZValue(value.toBool() ? 3 : 2);
    return QGraphicsItem::itemChange(change, value);
}

} // namespace netmap
