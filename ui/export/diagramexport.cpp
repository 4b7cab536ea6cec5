#include "diagramexport.h"

#include "diagram/diagramscene.h"
#include "io/files.h"
#include "model/untrustedtext.h"

#include <QBuffer>
#include <QFileInfo>
#include <QGraphicsItem>
#include <QImage>
#include <QPainter>
#include <QSvgGenerator>

#include <cmath>

namespace netmap {

namespace {

// Escaped for XML: one line, and only characters XML 1.0 can hold (one U+FFFF from a snapshot
// file would make the whole SVG unreadable).
QString xmlText(const QString &untrusted)
{
    return untrustedtext::xmlChars(untrustedtext::line(untrusted, 1000)).toHtmlEscaped();
}

// About 120 MB of RGBA: under the 128 MB that Qt-based viewers accept by default.
constexpr double kMaxPngPixels = 30e6;

Error exportError(const QString &path, const QString &why)
{
    return makeError(Error::Code::Io, why, path);
}

Result<QByteArray> renderSvg(DiagramScene &scene)
{
    const QRectF source = scene.diagramRect();
    QBuffer buffer;
    buffer.open(QIODevice::WriteOnly);
    QSvgGenerator generator;
    generator.setOutputDevice(&buffer);
    generator.setSize(QSize(int(std::ceil(source.width())), int(std::ceil(source.height()))));
    generator.setViewBox(QRectF(0, 0, source.width(), source.height()));
    generator.setResolution(96);
    // QSvgGenerator writes title and description as they are: escape them (the source detail
    // comes from a snapshot file).
    generator.setTitle(xmlText(QStringLiteral("Qubes network map: %1")
                                   .arg(DiagramScene::sourceDescription(scene.snapshot()))));
    QString description
        = QStringLiteral("Made by qubes-netmap %1").arg(QStringLiteral(NETMAP_VERSION));
    if (scene.snapshot().generated.isValid())
        description += QStringLiteral("; snapshot %1")
                           .arg(scene.snapshot().generated.toUTC().toString(Qt::ISODate));
    description += QStringLiteral("; exported %1")
                       .arg(QDateTime::currentDateTimeUtc().toString(Qt::ISODate));
    generator.setDescription(xmlText(description));
    QPainter painter;
    if (!painter.begin(&generator))
        return makeError(Error::Code::Io, QStringLiteral("cannot start the SVG renderer"));
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setRenderHint(QPainter::TextAntialiasing);
    scene.render(&painter, QRectF(0, 0, source.width(), source.height()), source);
    painter.end();
    return buffer.data();
}

Result<QByteArray> renderPng(DiagramScene &scene)
{
    const QRectF source = scene.diagramRect();
    const QSize size = pngSize(source.size());
    if (size.isEmpty())
        return makeError(Error::Code::Io, QStringLiteral("the diagram is empty"));
    QImage image(size, QImage::Format_ARGB32_Premultiplied);
    if (image.isNull())
        return makeError(Error::Code::Io,
                         QStringLiteral("not enough memory for a %1x%2 image")
                             .arg(size.width())
                             .arg(size.height()));
    image.fill(scene.backgroundBrush().color());
    const double scale = pngScale(source.size());
    image.setDotsPerMeterX(int(std::lround(96 / 0.0254 * scale)));
    image.setDotsPerMeterY(int(std::lround(96 / 0.0254 * scale)));
    {
        QPainter painter(&image);
        painter.setRenderHint(QPainter::Antialiasing);
        painter.setRenderHint(QPainter::TextAntialiasing);
        painter.setRenderHint(QPainter::SmoothPixmapTransform);
        scene.render(&painter, QRectF(QPointF(0, 0), QSizeF(size)), source);
    }
    QBuffer buffer;
    buffer.open(QIODevice::WriteOnly);
    if (!image.save(&buffer, "PNG"))
        return makeError(Error::Code::Io, QStringLiteral("the PNG encoder failed"));
    return buffer.data();
}

} // namespace

double pngScale(const QSizeF &sceneSize)
{
    const double area = sceneSize.width() * sceneSize.height();
    if (area <= 0)
        return 2;
    return std::min(2.0, std::sqrt(kMaxPngPixels / area));
}

QSize pngSize(const QSizeF &sceneSize)
{
    const double scale = pngScale(sceneSize);
    return QSize(int(std::ceil(sceneSize.width() * scale)),
                 int(std::ceil(sceneSize.height() * scale)));
}

Status exportScene(DiagramScene &scene, const QString &path)
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix != QLatin1String("svg") && suffix != QLatin1String("png"))
        return exportError(
            path, QStringLiteral("unknown image format \"%1\"; use .svg or .png").arg(suffix));
    // Cached items would be drawn as bitmaps of screen resolution: paint them for real, so the
    // SVG holds text and shapes and the PNG is sharp at its own scale.
    QList<std::pair<QGraphicsItem *, QGraphicsItem::CacheMode>> cached;
    for (QGraphicsItem *item : scene.items())
        if (item->cacheMode() != QGraphicsItem::NoCache) {
            cached.append({item, item->cacheMode()});
            item->setCacheMode(QGraphicsItem::NoCache);
        }
    Result<QByteArray> data = suffix == QLatin1String("svg") ? renderSvg(scene) : renderPng(scene);
    for (const auto &[item, mode] : cached)
        item->setCacheMode(mode);
    if (!data)
        return exportError(path, data.error().message);
    return writeFileAtomically(path, data.value());
}

Status exportDiagram(const Snapshot &snapshot, const QString &path, bool showTemplates)
{
    DiagramScene scene;
    scene.setShowTemplates(showTemplates);
    scene.setSnapshot(snapshot);
    scene.setExportTime(QDateTime::currentDateTimeUtc());
    return exportScene(scene, path);
}

} // namespace netmap
