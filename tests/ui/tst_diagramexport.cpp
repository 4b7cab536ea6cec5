// SVG and PNG export: valid XML with a group per qube, legend and timestamp; the SVG rendered by
// rsvg-convert looks like the PNG; the PNG keeps names legible (overview when too big); atomic
// writes.

#include "diagram/diagramscene.h"
#include "diagram/legenditem.h"
#include "diagram/linkitem.h"
#include "diagram/qubeitem.h"
#include "export/diagramexport.h"
#include "export/diagrampicture.h"
#include "export/svgwriter.h"
#include "formats/snapshotyaml.h"
#include "model/topology.h"
#include "skips.h"
#include "snapshots.h"

#include <QFile>
#include <QImage>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <QXmlStreamReader>

using namespace netmap;

namespace {

struct SvgContent
{
    QString error;
    QString title;
    QString viewBox;
    QStringList texts; // every text node, trimmed
    QHash<QString, QString> qubeClass; // group id -> class, for every <g class="qube ...">
    QHash<QString, QString> qubeTitle; // group id -> its title
    QStringList ids;
    int links = 0;
    QSet<QString> linkEnds; // "from>to" of every link path
};

SvgContent readSvg(const QString &path)
{
    SvgContent content;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        content.error = file.errorString();
        return content;
    }
    QXmlStreamReader xml(&file);
    QString group; // the qube group being read
    int depth = 0, groupDepth = -1;
    while (!xml.atEnd()) {
        xml.readNext();
        if (xml.isStartElement()) {
            ++depth;
            const QString element = xml.name().toString();
            const QXmlStreamAttributes a = xml.attributes();
            if (a.hasAttribute("id"))
                content.ids << a.value("id").toString();
            if (element == "svg")
                content.viewBox = a.value("viewBox").toString();
            if (element == "g" && a.value("class").startsWith(QLatin1String("qube "))) {
                group = a.value("id").toString();
                groupDepth = depth;
                content.qubeClass.insert(group, a.value("class").toString());
            }
            if (element == "path" && a.value("class").startsWith(QLatin1String("l "))) {
                ++content.links;
                content.linkEnds.insert(a.value("data-from").toString() + ">"
                                        + a.value("data-to").toString());
            }
            if (element == "title") {
                const QString t = xml.readElementText();
                --depth;
                if (content.title.isNull())
                    content.title = t;
                else if (!group.isEmpty())
                    content.qubeTitle.insert(group, t);
            }
        } else if (xml.isEndElement()) {
            if (depth == groupDepth) {
                group.clear();
                groupDepth = -1;
            }
            --depth;
        } else if (xml.isCharacters() && !xml.isWhitespace()) {
            content.texts << xml.text().toString().trimmed();
        }
    }
    if (xml.hasError())
        content.error = QString("%1 at line %2").arg(xml.errorString()).arg(xml.lineNumber());
    return content;
}

// A hostile snapshot: every free-text field holds what XML 1.0 cannot carry or would read as
// markup.
Snapshot hostile()
{
    Snapshot s = demoSnapshot();
    s.source = "snapshot";
    const QString bad
        = QString("a\x01b\x1b") + "c" + QChar(0xfffe) + QChar(0xd800) + "d</g><x>&amp;\"'";
    s.sourceDetail = bad;
    for (Qube &q : s.qubes) {
        q.state = bad;
        q.label = bad;
        q.klass = q.name.toString() == "work" ? bad : q.klass;
    }
    for (CheckResult &r : s.checks)
        r.observed = bad;
    return s;
}

// The demo with a failed VPN check on work-vpn (on its current path) and a qube whose netvm does
// not exist (a ghost box).
Snapshot checkedWithGhost()
{
    Snapshot s = demoSnapshot();
    const Topology topology(s);
    CheckResult failed;
    failed.qube = *QubeName::fromUntrusted(u"work-vpn");
    failed.check = CheckKind::Vpn;
    failed.status = CheckStatus::Fail;
    failed.observed = "203.0.113.7";
    failed.reason = "leaves by the clearnet exit";
    failed.started = QDateTime(QDate(2026, 11, 28), QTime(14, 2), Qt::UTC);
    failed.finished = QDateTime(QDate(2026, 11, 28), QTime(14, 3), Qt::UTC);
    failed.pathAtRun = topology.egressChain(u"work-vpn");
    s.checks.push_back(failed);
    test::setNetvm(s, "vault", "sys-gone");
    return s;
}

// How different two pictures of the same size are: the share of 8 x 8 tiles whose mean colour
// differs by more than 32 in some channel. Two renderers antialias text a little differently
// everywhere, which averages out in a tile; a missing box, link, icon or label does not.
double differingShare(const QImage &a, const QImage &b)
{
    const QImage x = a.convertToFormat(QImage::Format_RGB32);
    const QImage y = b.convertToFormat(QImage::Format_RGB32);
    constexpr int tile = 8;
    qint64 tiles = 0, differing = 0;
    for (int top = 0; top + tile <= x.height(); top += tile)
        for (int left = 0; left + tile <= x.width(); left += tile) {
            int sum[2][3] = {};
            for (int row = top; row < top + tile; ++row) {
                const QRgb *p = reinterpret_cast<const QRgb *>(x.constScanLine(row));
                const QRgb *q = reinterpret_cast<const QRgb *>(y.constScanLine(row));
                for (int col = left; col < left + tile; ++col) {
                    sum[0][0] += qRed(p[col]), sum[0][1] += qGreen(p[col]),
                        sum[0][2] += qBlue(p[col]);
                    sum[1][0] += qRed(q[col]), sum[1][1] += qGreen(q[col]),
                        sum[1][2] += qBlue(q[col]);
                }
            }
            int d = 0;
            for (int c = 0; c < 3; ++c)
                d = std::max(d, std::abs(sum[0][c] - sum[1][c]) / (tile * tile));
            ++tiles;
            differing += d > 32;
        }
    return tiles ? double(differing) / double(tiles) : 1.0;
}

} // namespace

class tst_DiagramExport : public QObject
{
    Q_OBJECT

private slots:
    void svgIsXmlAndNamesEveryQube_data();
    void svgIsXmlAndNamesEveryQube();
    void svgSurvivesMarkupInData();
    void svgIsValidForHostileData();
    void svgCarriesVerdictMarksAndGhosts();
    void svgLooksLikeThePng_data();
    void svgLooksLikeThePng();
    void pictureIsTheWindowsDrawing_data();
    void pictureIsTheWindowsDrawing();
    void pngHasTheExpectedSize_data();
    void pngHasTheExpectedSize();
    void bigPngIsALegibleOverview();
    void failedWriteSaysWhyAndKeepsOldFile();
    void replacesAnOldExport();

private:
    QTemporaryDir m_dir;
};

void tst_DiagramExport::svgIsXmlAndNamesEveryQube_data()
{
    QTest::addColumn<QString>("snapshot");
    QTest::addColumn<bool>("templates");
    QTest::newRow("demo") << "demo" << false;
    QTest::newRow("demo with templates") << "demo" << true;
    QTest::newRow("synthetic-300") << NETMAP_TEST_DATA "/synthetic-300.yaml" << false;
}

void tst_DiagramExport::svgIsXmlAndNamesEveryQube()
{
    QFETCH(QString, snapshot);
    QFETCH(bool, templates);
    const Snapshot s = snapshot == "demo" ? demoSnapshot() : loadSnapshotFile(snapshot).value();
    const QString path = m_dir.filePath(QString("%1.svg").arg(QTest::currentDataTag()));
    const QString dayBefore = QDateTime::currentDateTimeUtc().toString("yyyy-MM-dd");
    const Status written = exportDiagram(s, path, templates);
    const QString dayAfter = QDateTime::currentDateTimeUtc().toString("yyyy-MM-dd");
    QVERIFY2(written.ok(), qPrintable(written.ok() ? QString() : written.error().toString()));

    const SvgContent svg = readSvg(path);
    QVERIFY2(svg.error.isEmpty(), qPrintable(svg.error));
    QVERIFY(svg.title.startsWith("Qubes network map"));
    const QStringList box = svg.viewBox.split(' ');
    QCOMPARE(box.size(), 4);
    QVERIFY(box[2].toDouble() > 300 && box[3].toDouble() > 200);
    QVERIFY(svg.texts.contains("Qubes network map")); // the legend
    bool stamped = false;
    for (const QString &t : svg.texts)
        stamped = stamped || t.startsWith("Exported: " + dayBefore)
            || t.startsWith("Exported: " + dayAfter); // an export across midnight
    QVERIFY2(stamped, "the legend carries the export time");
    // Every drawn qube is named (as drawn: a very long name is elided in the middle).
    DiagramScene scene;
    scene.setShowTemplates(templates);
    scene.setSnapshot(s);
    int named = 0;
    for (const Qube &q : s.qubes) {
        if (!templates && q.isTemplate()) {
            QVERIFY(!svg.texts.contains(q.name.toString()));
            continue;
        }
        const QString shown = scene.qubeItem(q.name.toString())->displayedName();
        QVERIFY2(svg.texts.contains(shown), qPrintable(q.name.toString()));
        named += shown == q.name.toString();
    }
    QVERIFY(named >= int(scene.qubeItems().size()) - 1);
    // One group per drawn qube, found by its id, with its classes and a title naming it.
    QCOMPARE(svg.qubeClass.size(), scene.qubeItems().size());
    for (const QubeItem *item : scene.qubeItems()) {
        const QString id = svgQubeId(item->name());
        QVERIFY2(svg.qubeClass.contains(id), qPrintable(id));
        QVERIFY(svg.qubeClass.value(id).split(' ').contains("qube"));
        QCOMPARE(svg.qubeTitle.value(id).section('\n', 0, 0), item->name());
    }
    const QSet<QString> ids(svg.ids.cbegin(), svg.ids.cend());
    QCOMPARE(ids.size(), svg.ids.size());
    // Every link a path with its ends named.
    for (const LinkItem *link : scene.linkItems())
        QVERIFY2(
            svg.linkEnds.contains(link->lower() + ">"
                                  + (link->toInternet() ? QString("Internet") : link->upper())),
            qPrintable(link->lower()));
    if (!QStandardPaths::findExecutable("xmllint").isEmpty())
        QCOMPARE(QProcess::execute("xmllint", {"--noout", path}), 0);
}

void tst_DiagramExport::svgIsValidForHostileData()
{
    // Control characters, a non-character, a lone surrogate and markup in every free-text field:
    // still well-formed XML (Qt's reader and libxml2's), the markup as text.
    const QString path = m_dir.filePath("hostile.svg");
    QVERIFY(exportDiagram(hostile(), path).ok());
    const SvgContent svg = readSvg(path);
    QVERIFY2(svg.error.isEmpty(), qPrintable(svg.error));
    QVERIFY(svg.title.contains("</g><x>"));
    QVERIFY(!svg.title.contains(QChar(1)));
    for (const QString &cls : svg.qubeClass) // classes are tokens, never the data
        QVERIFY2(!cls.contains('<') && !cls.contains('&'), qPrintable(cls));
    if (!QStandardPaths::findExecutable("xmllint").isEmpty())
        QCOMPARE(QProcess::execute("xmllint", {"--noout", path}), 0);
    QCOMPARE(svgQubeId("a_b"), QString("qube-a_005fb"));
    QVERIFY(svgQubeId("a.b") != svgQubeId("a_b") && svgQubeId("a.b") != svgQubeId("a-b"));
}

void tst_DiagramExport::svgCarriesVerdictMarksAndGhosts()
{
    // What the window shows of the checks is in the SVG: the qube's mark (as a class and an
    // element), its evidence with the time in its title, the legend's marks and failures, and
    // the missing netvm as a ghost box.
    const Snapshot s = checkedWithGhost();
    const QString path = m_dir.filePath("checked.svg");
    QVERIFY(exportDiagram(s, path).ok());
    const SvgContent svg = readSvg(path);
    QVERIFY2(svg.error.isEmpty(), qPrintable(svg.error));
    const QString failing = svgQubeId("work-vpn");
    QVERIFY2(svg.qubeClass.value(failing).split(' ').contains("verdict-fail"),
             qPrintable(svg.qubeClass.value(failing)));
    QVERIFY2(svg.qubeTitle.value(failing).contains("VPN leak: fail at 2026-11-28 14:03 UTC"),
             qPrintable(svg.qubeTitle.value(failing)));
    // A qube whose checks passed has the pass mark; an unchecked qube none.
    QVERIFY(svg.qubeClass.value(svgQubeId("sys-firewall")).split(' ').contains("verdict-pass"));
    QVERIFY(!svg.qubeClass.value(svgQubeId("vault")).contains("verdict-"));
    QVERIFY(svg.texts.contains("Failed work-vpn: VPN leak")); // the legend names it
    // The legend's marks (the last one is elided in a narrow legend, as the window draws it).
    for (const char *mark : {"checks passed", "a check failed", "cannot tell (error)"})
        QVERIFY2(svg.texts.contains(QString::fromLatin1(mark)), mark);
    QVERIFY(std::any_of(svg.texts.cbegin(), svg.texts.cend(),
                        [](const QString &t) { return t.startsWith("stale: path"); }));
    const QString ghost = svgQubeId("sys-gone");
    QVERIFY2(svg.qubeClass.value(ghost).split(' ').contains("ghost"),
             qPrintable(svg.qubeClass.value(ghost)));
    QVERIFY(svg.qubeTitle.value(ghost).startsWith("sys-gone\nmissing"));
    QVERIFY(std::any_of(svg.texts.cbegin(), svg.texts.cend(),
                        [](const QString &t) { return t.startsWith("missing"); }));
    QVERIFY(svg.linkEnds.contains("vault>sys-gone"));
    // The mark itself is drawn in the qube's group: one per marked qube, four in the legend.
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray data = file.readAll();
    QCOMPARE(data.count("class=\"mark verdict-fail\""), 2);
    if (!QStandardPaths::findExecutable("xmllint").isEmpty())
        QCOMPARE(QProcess::execute("xmllint", {"--noout", path}), 0);
}

void tst_DiagramExport::svgLooksLikeThePng_data()
{
    QTest::addColumn<QString>("snapshot");
    QTest::addColumn<bool>("templates");
    QTest::newRow("demo") << "demo" << false;
    QTest::newRow("demo with templates") << "demo" << true;
    QTest::newRow("hostile") << "hostile" << false;
    QTest::newRow("failed check and missing netvm") << "checked" << false;
    QTest::newRow("synthetic-300") << NETMAP_TEST_DATA "/synthetic-300.yaml" << false;
}

void tst_DiagramExport::svgLooksLikeThePng()
{
    // The SVG as another renderer (librsvg) draws it, against our PNG of the same picture.
    const QString rsvg = QStandardPaths::findExecutable("rsvg-convert");
    if (rsvg.isEmpty())
        NETMAP_SKIP("rsvg-convert is not installed (Debian: librsvg2-bin)");
    QFETCH(QString, snapshot);
    QFETCH(bool, templates);
    const Snapshot s = snapshot == "demo" ? demoSnapshot()
        : snapshot == "hostile"           ? hostile()
        : snapshot == "checked"           ? checkedWithGhost()
                                          : loadSnapshotFile(snapshot).value();
    const QString base = m_dir.filePath(QString("look-%1").arg(QTest::currentDataTag()));
    QVERIFY(exportDiagram(s, base + ".svg", templates).ok());
    QVERIFY(exportDiagram(s, base + ".png", templates).ok());
    const QImage png(base + ".png");
    QVERIFY(!png.isNull());
    QCOMPARE(
        QProcess::execute(rsvg,
                          {"-w", QString::number(png.width()), "-h", QString::number(png.height()),
                           "-o", base + "-rsvg.png", base + ".svg"}),
        0);
    const QImage rendered(base + "-rsvg.png");
    QCOMPARE(rendered.size(), png.size());
    const double share = differingShare(png, rendered);
    qInfo("%.3f %% of the tiles differ", share * 100);
    // Measured: 0.03-0.16 %; without the links 0.4-1.1 %, without the icons 0.4-0.7 %.
    QVERIFY2(share < 0.0025, qPrintable(QString("%1 % of the tiles differ").arg(share * 100)));
    // The measure sees a missing drawing: blank paper is far from either picture.
    QImage blank(png.size(), QImage::Format_RGB32);
    blank.fill(png.pixel(0, 0));
    QVERIFY(differingShare(png, blank) > 0.03);
}

void tst_DiagramExport::pictureIsTheWindowsDrawing_data()
{
    QTest::addColumn<QString>("snapshot");
    QTest::newRow("synthetic-300") << NETMAP_TEST_DATA "/synthetic-300.yaml";
    QTest::newRow("failed check and missing netvm") << "checked";
}

void tst_DiagramExport::pictureIsTheWindowsDrawing()
{
    // The export draws the window's layout: same boxes where the scene puts its items (a ghost
    // for a missing netvm too), same frame, same legend.
    QFETCH(QString, snapshot);
    const Snapshot s
        = snapshot == "checked" ? checkedWithGhost() : loadSnapshotFile(snapshot).value();
    DiagramScene scene;
    scene.setSnapshot(s);
    const DiagramPicture picture(s, false, QDateTime());
    QCOMPARE(picture.rect(), scene.diagramRect());
    int boxes = 0;
    for (const LayoutBox &box : picture.layout().boxes) {
        if (box.kind != LayoutBox::Kind::Qube)
            continue;
        const QubeItem *item
            = scene.qubeItem(picture.drawnSnapshot().qubes[size_t(box.qube)].name.toString());
        QVERIFY(item);
        QCOMPARE(item->pos(), box.rect.topLeft());
        const int b = int(&box - picture.layout().boxes.data());
        QCOMPARE(picture.isGhost(b), item->isMissing());
        QCOMPARE(picture.verdictMark(b), item->verdict());
        ++boxes;
    }
    QCOMPARE(boxes, int(scene.qubeItems().size()));
    QCOMPARE(picture.legendPos(), scene.legend()->pos());
    QCOMPARE(picture.legendDetails(),
             scene.legend()->texts().mid(1, picture.legendDetails().size()));
}

void tst_DiagramExport::svgSurvivesMarkupInData()
{
    Snapshot s = demoSnapshot();
    s.source = "snapshot";
    s.sourceDetail = "<b>&amp; \"quoted\" 'x' </svg>";
    test::findQube(s, "work")->state = "<img src=x>";
    const QString path = m_dir.filePath("markup.svg");
    QVERIFY(exportDiagram(s, path).ok());
    const SvgContent svg = readSvg(path);
    QVERIFY2(svg.error.isEmpty(), qPrintable(svg.error));
    QVERIFY(svg.title.contains("</svg>"));
    bool literal = false;
    for (const QString &t : svg.texts)
        literal = literal || t.contains("<img src=x>");
    QVERIFY2(literal, "markup in the data is drawn as text");
}

void tst_DiagramExport::pngHasTheExpectedSize_data()
{
    QTest::addColumn<QString>("snapshot");
    QTest::newRow("demo") << "demo";
    QTest::newRow("synthetic-300") << NETMAP_TEST_DATA "/synthetic-300.yaml";
}

void tst_DiagramExport::pngHasTheExpectedSize()
{
    QFETCH(QString, snapshot);
    const Snapshot s = snapshot == "demo" ? demoSnapshot() : loadSnapshotFile(snapshot).value();
    const QString path = m_dir.filePath(QString("%1.png").arg(QTest::currentDataTag()));
    QVERIFY(exportDiagram(s, path).ok());
    QImage image(path);
    QVERIFY(!image.isNull());
    DiagramScene scene;
    scene.setSnapshot(s);
    // The picture of the export (its legend has the export time the window's lacks).
    const QSizeF sceneSize
        = DiagramPicture(s, false, QDateTime::currentDateTimeUtc()).rect().size();
    QCOMPARE(image.size(), pngSize(sceneSize));
    QVERIFY(pngLegible(sceneSize));
    if (snapshot == "demo") // small enough for the full 2x
        QCOMPARE(image.size(), QSize(qCeil(sceneSize.width() * 2), qCeil(sceneSize.height() * 2)));
    QVERIFY(double(image.width()) * image.height() <= 30e6 + 2 * (image.width() + image.height()));
    // Not blank: the paper colour, and somewhere the blue of the clearnet links.
    QCOMPARE(image.pixelColor(2, 2), scene.backgroundBrush().color());
    int coloured = 0;
    for (int y = 0; y < image.height(); y += 7)
        for (int x = 0; x < image.width(); x += 7)
            coloured += image.pixelColor(x, y).saturation() > 120;
    QVERIFY(coloured > 50);
}

void tst_DiagramExport::bigPngIsALegibleOverview()
{
    // 10,000 qubes cannot all be legible in 30 Mpx: the PNG is the overview, names at 9 px or
    // more, and its legend says so.
    Snapshot s;
    s.source = "demo";
    const auto add = [&](const QString &name, const QString &netvm, bool provides) {
        Qube q = test::makeQube(name, netvm, provides);
        q.label = "blue";
        s.qubes.push_back(q);
    };
    add("sys-net", QString(), true);
    add("sys-firewall", "sys-net", true);
    for (int g = 0; g < 100; ++g)
        add(QString("gw-%1").arg(g), "sys-firewall", true);
    for (int i = 0; s.qubes.size() < 10000; ++i)
        add(QString("app-%1").arg(i), i % 2 ? "sys-firewall" : QString("gw-%1").arg(i % 100),
            false);
    const QDateTime now = QDateTime::currentDateTimeUtc();
    const DiagramPicture full(s, false, now);
    QVERIFY(!pngLegible(full.rect().size()));
    const QString path = m_dir.filePath("big.png");
    const Status written = exportDiagram(s, path);
    QVERIFY2(written.ok(), qPrintable(written.ok() ? QString() : written.error().toString()));
    const QImage image(path);
    QVERIFY(!image.isNull());
    int collapse = 1;
    while (!pngLegible(DiagramPicture(s, false, now, collapse).rect().size()))
        collapse *= 2;
    const DiagramPicture overview(s, false, now, collapse);
    QCOMPARE(image.size(), pngSize(overview.rect().size()));
    QVERIFY(pngScale(overview.rect().size()) * 13 >= kMinNamePixels);
    QVERIFY(overview.collapsedQubes() > 9000);
    QVERIFY(overview.legendDetails().last().startsWith("Overview: "));
    QVERIFY(!full.legendDetails().last().startsWith("Overview: "));
}

void tst_DiagramExport::failedWriteSaysWhyAndKeepsOldFile()
{
    const Snapshot s = demoSnapshot();
    // An unknown format writes nothing and leaves the old file.
    const QString old = m_dir.filePath("picture.gif");
    {
        QFile f(old);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("old");
    }
    const Status gif = exportDiagram(s, old);
    QVERIFY(!gif.ok());
    QVERIFY(gif.error().message.contains(".svg"));
    QFile f(old);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readAll(), QByteArray("old"));
    // A folder that does not exist: an error naming the file, nothing created.
    const QString missing = m_dir.filePath("no/such/folder/d.svg");
    const Status svg = exportDiagram(s, missing);
    QVERIFY(!svg.ok());
    QCOMPARE(svg.error().code, Error::Code::Io);
    QVERIFY(svg.error().toString().contains(missing));
    QVERIFY(!QFile::exists(missing));
    // A directory where the file should go.
    const QString folder = m_dir.filePath("folder.png");
    QVERIFY(QDir().mkpath(folder));
    QVERIFY(!exportDiagram(s, folder).ok());
    QVERIFY(QFileInfo(folder).isDir());
}

void tst_DiagramExport::replacesAnOldExport()
{
    const QString path = m_dir.filePath("again.svg");
    {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("old");
    }
    QVERIFY(exportDiagram(demoSnapshot(), path).ok());
    QVERIFY(readSvg(path).error.isEmpty());
    QVERIFY(readSvg(path).texts.contains("sys-firewall"));
}

NETMAP_TEST_MAIN(tst_DiagramExport)
#include "tst_diagramexport.moc"
