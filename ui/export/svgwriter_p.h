#pragma once
// SvgPictureWriter: streams a DiagramPicture as SVG. Its work is shared by three files:
// svgwriter.cpp (the document, stylesheet, definitions, groups, links and side paths),
// svgboxes.cpp (qube, Internet and summary boxes) and svglegend.cpp (the legend).

#include "diagram/diagramtheme.h"
#include "svgmarkup_p.h"

#include <QFontMetricsF>
#include <QHash>
#include <QXmlStreamWriter>

class QIODevice;

namespace netmap {

class DiagramPicture;
struct Qube;

namespace svg {

// One picture streamed into one device; write() is called once.
class SvgPictureWriter
{
public:
    SvgPictureWriter(const DiagramPicture &picture, QIODevice *device)
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
    QList<QRgb> m_colourOrder; // the classes in the order they were made: c0, c1, ...
};

} // namespace svg
} // namespace netmap
