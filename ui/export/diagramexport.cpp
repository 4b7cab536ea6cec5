#include "diagramexport.h"

#include "diagram/diagramtheme.h"
#include "diagrampicture.h"
#include "io/files.h"
#include "svgwriter.h"

#include <QBuffer>
#include <QFileInfo>
#include <QImage>
#include <QPainter>
#include <QSaveFile>

#include <cmath>
#include <memory>

namespace netmap {

namespace {

Error exportError(const QString &path, const QString &why)
{
    return makeError(Error::Code::Io, why, path);
}

Status writeSvgFile(const DiagramPicture &picture, const QString &path)
{
    // Streamed into the file as it is written: no copy of the document in memory.
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return exportError(path, QStringLiteral("cannot write: %1").arg(file.errorString()));
    const Status written = writeSvg(picture, &file);
    if (!written) {
        file.cancelWriting();
        return written;
    }
    // As writeFileAtomically: commit() does not report a failed flush of the buffer.
    if (file.error() != QFileDevice::NoError || !file.flush()) {
        const QString why = file.errorString();
        file.cancelWriting();
        return exportError(path, QStringLiteral("cannot write: %1").arg(why));
    }
    if (!file.commit())
        return exportError(path, QStringLiteral("cannot write: %1").arg(file.errorString()));
    return Ok {};
}

Result<QByteArray> renderPng(const DiagramPicture &picture)
{
    const QRectF source = picture.rect();
    const QSize size = pngSize(source.size());
    if (size.isEmpty())
        return makeError(Error::Code::Io, QStringLiteral("the diagram is empty"));
    QImage image(size, QImage::Format_ARGB32_Premultiplied);
    if (image.isNull())
        return makeError(Error::Code::Io,
                         QStringLiteral("not enough memory for a %1x%2 image")
                             .arg(size.width())
                             .arg(size.height()));
    image.fill(DiagramTheme::paper());
    const double scale = pngScale(source.size());
    image.setDotsPerMeterX(int(std::lround(96 / 0.0254 * scale)));
    image.setDotsPerMeterY(int(std::lround(96 / 0.0254 * scale)));
    {
        QPainter painter(&image);
        painter.setRenderHint(QPainter::Antialiasing);
        painter.setRenderHint(QPainter::TextAntialiasing);
        painter.setRenderHint(QPainter::SmoothPixmapTransform);
        painter.scale(size.width() / source.width(), size.height() / source.height());
        painter.translate(-source.topLeft());
        picture.paint(&painter);
    }
    QBuffer buffer;
    buffer.open(QIODevice::WriteOnly);
    if (!image.save(&buffer, "PNG"))
        return makeError(Error::Code::Io, QStringLiteral("the PNG encoder failed"));
    return buffer.data();
}

} // namespace

double pngScale(const QSizeF &pictureSize)
{
    const double area = pictureSize.width() * pictureSize.height();
    if (area <= 0)
        return 2;
    return std::min(2.0, std::sqrt(kMaxPngPixels / area));
}

bool pngLegible(const QSizeF &pictureSize)
{
    return pngScale(pictureSize) * DiagramTheme::nameFont().pixelSize() >= kMinNamePixels;
}

QSize pngSize(const QSizeF &pictureSize)
{
    const double scale = pngScale(pictureSize);
    return QSize(int(std::ceil(pictureSize.width() * scale)),
                 int(std::ceil(pictureSize.height() * scale)));
}

Status exportDiagram(const Snapshot &snapshot, const QString &path, bool showTemplates,
                     bool sidePaths)
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix != QLatin1String("svg") && suffix != QLatin1String("png"))
        return exportError(
            path, QStringLiteral("unknown image format \"%1\"; use .svg or .png").arg(suffix));
    const QDateTime now = QDateTime::currentDateTimeUtc();
    auto picture = std::make_unique<DiagramPicture>(snapshot, showTemplates, now, 0, sidePaths);
    if (suffix == QLatin1String("svg"))
        return writeSvgFile(*picture, path);

    // Too big to read as a PNG: collapse subtrees of growing height into counts until the
    // names are legible (doubling: a few layouts even for a hostile 10,000-deep chain).
    for (int collapse = 1; !pngLegible(picture->rect().size()); collapse *= 2) {
        if (collapse > int(snapshot.qubes.size()) + 1)
            return exportError(path,
                               QStringLiteral("the map is too big for a legible PNG even "
                                              "as an overview; export an SVG instead"));
        picture
            = std::make_unique<DiagramPicture>(snapshot, showTemplates, now, collapse, sidePaths);
    }
    Result<QByteArray> data = renderPng(*picture);
    if (!data)
        return exportError(path, data.error().message);
    return writeFileAtomically(path, data.value());
}

} // namespace netmap
