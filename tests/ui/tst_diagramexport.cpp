// SVG and PNG export: valid XML naming every qube, legend and timestamp, PNG size, atomic writes.

#include "diagram/diagramscene.h"
#include "diagram/qubeitem.h"
#include "export/diagramexport.h"
#include "io/snapshotyaml.h"

#include <QFile>
#include <QImage>
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
    QString element;
    while (!xml.atEnd()) {
        xml.readNext();
        if (xml.isStartElement()) {
            element = xml.name().toString();
            if (element == "svg")
                content.viewBox = xml.attributes().value("viewBox").toString();
            if (element == "title")
                content.title = xml.readElementText();
        } else if (xml.isCharacters() && !xml.isWhitespace()) {
            content.texts << xml.text().toString().trimmed();
        }
    }
    if (xml.hasError())
        content.error = QString("%1 at line %2").arg(xml.errorString()).arg(xml.lineNumber());
    return content;
}

} // namespace

class tst_DiagramExport : public QObject
{
    Q_OBJECT

private slots:
    void svgIsXmlAndNamesEveryQube_data();
    void svgIsXmlAndNamesEveryQube();
    void svgSurvivesMarkupInData();
    void pngHasTheExpectedSize_data();
    void pngHasTheExpectedSize();
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
    const Status written = exportDiagram(s, path, templates);
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
        stamped = stamped
            || t.startsWith("Exported: " + QDateTime::currentDateTimeUtc().toString("yyyy-MM-dd"));
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
}

void tst_DiagramExport::svgSurvivesMarkupInData()
{
    Snapshot s = demoSnapshot();
    s.source = "snapshot";
    s.sourceDetail = "<b>&amp; \"quoted\" 'x' </svg>";
    for (Qube &q : s.qubes)
        if (q.name.toString() == "work")
            q.state = "<img src=x>";
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
    const QSizeF sceneSize = scene.diagramRect().size();
    QCOMPARE(image.size(), pngSize(sceneSize));
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

QTEST_MAIN(tst_DiagramExport)
#include "tst_diagramexport.moc"
