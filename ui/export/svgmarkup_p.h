#pragma once
// The SVG exporter's building blocks: text made safe for XML, numbers and path data as SVG
// writes them, the CSS tokens of a qube's class, state, label and kind, and the constant
// markup of the kind icons and verdict marks (as QubeItem paints them). No picture data here.

#include "diagram/qubeitem.h"
#include "model/qubeverdict.h"

#include <QColor>
#include <QList>
#include <QPainterPath>
#include <QPointF>
#include <QString>

class QXmlStreamWriter;

namespace netmap::svg {

// Escape sequences and hidden characters removed (newlines kept for titles), then only the
// characters XML 1.0 allows. Markup characters are left to QXmlStreamWriter.
QString xmlSafe(const QString &untrusted);
// A coordinate with at most two decimals and no trailing zeros ("12", "12.5", "-3.25").
QString num(double v);
QString hex(const QColor &c);
// A QPainterPath as SVG path data (moves, lines, cubics).
QString pathData(const QPainterPath &path);

// Every kind of box, in the order the legend lists them.
inline const QList<QubeItem::Kind> kKinds
    = {QubeItem::Kind::Provider, QubeItem::Kind::App,        QubeItem::Kind::Disposable,
       QubeItem::Kind::Template, QubeItem::Kind::Standalone, QubeItem::Kind::Admin};

QString kindToken(QubeItem::Kind kind);
// Known values as CSS tokens; anything else "other" (class, label) or "unknown" (state).
QString classToken(const QString &untrustedClass);
QString stateToken(const QString &untrustedState);
QString labelToken(const QString &untrustedLabel);
// A box's body: the label colour tinted towards white, as QubeItem fills it.
QColor bodyColour(const QColor &label);
// The icon QubeItem::paintIcon() draws, for a band of 32 x 46 (centre 16,23; glyph size 16).
QString iconMarkup(QubeItem::Kind kind);
// QubeItem::paintVerdictMark() as markup: a mark of radius r centred on c.
void writeVerdictMark(QXmlStreamWriter &xml, VerdictMark mark, const QPointF &c, double r);

} // namespace netmap::svg
