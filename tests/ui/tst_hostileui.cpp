// Hostile text in the UI (issue 8, docs/ARCHITECTURE.md §6): markup, very long text, right-to-left
// overrides, control characters and newlines, arriving in the fields a snapshot file or a qube can
// fill (source detail, check observed/expected/reason/output, firewall comments, qube state), are
// shown literally — never interpreted as markup — and kept to their place (elided, one line where
// the place has one line) everywhere text appears: scene legend, status bar, inspector labels and
// tables, check details, tooltips, dialogs, SVG export and the Markdown report.
//
// Protections, each removed once locally: Qt::PlainText on the status label and the error dialog
// (the markup row then renders "bold" as rich text: the "literal" checks fail); toHtmlEscaped()
// in the qube tooltip (the tooltip markup rows fail); the legend's kMaxWidth (the long rows fail on
// width); untrustedtext::markdownInline()/markdownFence() (the Markdown rows fail).

#include "checks/checkresultsmodel.h"
#include "checks/evidencedialog.h"
#include "diagram/diagramscene.h"
#include "diagram/legenditem.h"
#include "diagram/qubeitem.h"
#include "export/diagramexport.h"
#include "formats/markdownreport.h"
#include "formats/snapshotyaml.h"
#include "inspector/inspectordock.h"
#include "mainwindow.h"
#include "model/untrustedtext.h"
#include "snapshots.h"

#include <QApplication>
#include <QLabel>
#include <QMessageBox>
#include <QPainter>
#include <QPlainTextEdit>
#include <QRegularExpression>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTextDocument>
#include <QXmlStreamReader>

using namespace netmap;

namespace {

void hostileStrings()
{
    QTest::addColumn<QString>("text");
    QTest::newRow("markup") << QStringLiteral(
        "<b>bold</b><img src=x onerror=alert(1)>&amp;<a href=x>y</a>");
    QTest::newRow("very long") << QString(4000, u'L') + QStringLiteral("END");
    QTest::newRow("right-to-left override") << QString::fromUtf8("abc\xe2\x80\xae"
                                                                 "exe.txt\xe2\x80\xac"
                                                                 "def\xe2\x81\xa6x\xe2\x81\xa9");
    QTest::newRow("control characters") << QString::fromUtf8("a\x1b[2J\x1b]0;title\x07"
                                                             "b\x01"
                                                             "c\x7f"
                                                             "d\xc2\x85"
                                                             "e");
    QTest::newRow("newlines") << QStringLiteral("line1\nline2\r\n# line3\n```\n| x | y |");
}

// A snapshot whose free-text fields all hold `text`.
Snapshot hostileSnapshot(const QString &text)
{
    Snapshot s = demoSnapshot();
    s.source = QStringLiteral("snapshot");
    s.sourceDetail = text;
    test::findQube(s, QStringLiteral("work"))->state = text;
    FirewallRule rule;
    rule.action = QStringLiteral("accept");
    rule.comment = text;
    s.firewall.insert(QStringLiteral("work"), {rule});
    for (CheckResult &r : s.checks)
        if (r.qube.toString() == QLatin1String("work")) {
            r.observed = text;
            r.expected = text;
            r.reason = text;
            r.output = text;
        }
    s.rejected << text;
    return s;
}

// A piece of the hostile text that survives display: the longest run without a character the
// display removes (escape sequences whole; Unicode Cc, Cf, Zl and Zp; the display may also turn
// line breaks into spaces), at most 20 characters.
QString piece(const QString &text)
{
    static const QRegularExpression escapes(
        QStringLiteral("\\x{1b}\\[[0-?]*[ "
                       "-/]*[@-~]|\\x{1b}\\][^\\x{07}\\x{1b}\\n]*(\\x{07}|\\x{1b}\\\\)?|\\x{1b}."));
    QString best, run;
    QString visible = text.left(200);
    visible.remove(escapes);
    for (const QChar c : std::as_const(visible)) {
        const auto category = c.category();
        if (category == QChar::Other_Control || category == QChar::Other_Format
            || category == QChar::Separator_Line || category == QChar::Separator_Paragraph) {
            run.clear();
            continue;
        }
        run += c;
        if (run.size() > best.size())
            best = run;
    }
    return best.left(20);
}

// What a reader sees of a rich-text string (markup interpreted).
QString rendered(const QString &richText)
{
    QTextDocument doc;
    doc.setHtml(richText);
    return doc.toPlainText();
}

QString markupRowPiece()
{
    return QStringLiteral("<b>bold</b>");
}

} // namespace

class tst_HostileUi : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void legend_data() { hostileStrings(); }
    void legend();
    void statusBar_data() { hostileStrings(); }
    void statusBar();
    void inspector_data() { hostileStrings(); }
    void inspector();
    void resultsTable_data() { hostileStrings(); }
    void resultsTable();
    void evidenceDialog_data() { hostileStrings(); }
    void evidenceDialog();
    void tooltip_data() { hostileStrings(); }
    void tooltip();
    void errorDialog_data() { hostileStrings(); }
    void errorDialog();
    void svgExport_data() { hostileStrings(); }
    void svgExport();
    void markdownReport_data() { hostileStrings(); }
    void markdownReport();
};

void tst_HostileUi::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("qubes-netmap-tests"));
    QCoreApplication::setApplicationName(QStringLiteral("tst_hostileui"));
    QSettings().clear();
}

// Scene: the legend keeps the text as it is (drawn as plain text, never parsed) and stays the
// size it has with a harmless source: one line per detail, elided to its maximum width.
void tst_HostileUi::legend()
{
    QFETCH(QString, text);
    DiagramScene plain;
    Snapshot benign = hostileSnapshot(QStringLiteral("x.yaml"));
    plain.setSnapshot(benign);
    DiagramScene scene;
    scene.setSnapshot(hostileSnapshot(text));
    QVERIFY(scene.legend());
    bool shown = false;
    for (const QString &line : scene.legend()->texts())
        shown = shown
            || (line.startsWith(QStringLiteral("Source: snapshot file "))
                && line.contains(piece(text)));
    QVERIFY(shown);
    const QRectF hostileRect = scene.legend()->boundingRect();
    const QRectF benignRect = plain.legend()->boundingRect();
    QCOMPARE(hostileRect.height(), benignRect.height());
    QVERIFY2(hostileRect.width() <= 800, qPrintable(QString::number(hostileRect.width())));
    // Drawing it is harmless.
    QImage image(hostileRect.size().toSize(), QImage::Format_ARGB32);
    QPainter painter(&image);
    scene.render(&painter, QRectF(), scene.legend()->sceneBoundingRect());
}

// Status bar: plain text, literal, and a long source does not make the window wider.
void tst_HostileUi::statusBar()
{
    QFETCH(QString, text);
    MainWindow window(SourceSpec {SourceSpec::Kind::Demo, QString()});
    window.setSnapshot(hostileSnapshot(text));
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    auto *label = window.findChild<QLabel *>(QStringLiteral("sourceLabel"));
    QVERIFY(label);
    QCOMPARE(label->textFormat(), Qt::PlainText);
    QVERIFY2(window.minimumSizeHint().width() < 1600,
             qPrintable(QString::number(window.minimumSizeHint().width())));
    QVERIFY2(label->minimumSizeHint().width() < 1600,
             qPrintable(QString::number(label->minimumSizeHint().width())));
}

// Inspector: labels are plain text, table cells and the details pane hold the text as it is.
void tst_HostileUi::inspector()
{
    QFETCH(QString, text);
    MainWindow window(SourceSpec {SourceSpec::Kind::Demo, QString()});
    window.setSnapshot(hostileSnapshot(text));
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    window.inspect(QStringLiteral("work"));
    QCOMPARE(window.inspector()->currentQube(), QStringLiteral("work"));
    for (QLabel *label : window.inspector()->findChildren<QLabel *>()) {
        if (label->text().contains(piece(text)))
            QVERIFY2(label->textFormat() == Qt::PlainText, qPrintable(label->objectName()));
    }
    auto *state = window.inspector()->findChild<QLabel *>(QStringLiteral("value.state"));
    QVERIFY(state);
    QCOMPARE(state->textFormat(), Qt::PlainText);
    QVERIFY(state->text().contains(piece(text)));

    auto *checks = window.inspector()->findChild<QTableWidget *>(QStringLiteral("checksTable"));
    QVERIFY(checks && checks->rowCount() > 0);
    bool seen = false;
    for (int row = 0; row < checks->rowCount(); ++row)
        for (int col = 0; col < checks->columnCount(); ++col)
            if (checks->item(row, col) && checks->item(row, col)->text().contains(piece(text)))
                seen = true;
    QVERIFY(seen);
    for (int col = 0; col < checks->columnCount(); ++col)
        QVERIFY2(checks->columnWidth(col) < 1600,
                 qPrintable(QString::number(checks->columnWidth(col))));

    checks->selectRow(0);
    auto *details = window.inspector()->findChild<QPlainTextEdit *>(QStringLiteral("checkDetails"));
    QVERIFY(details);
    QVERIFY(details->toPlainText().contains(piece(text)));

    window.inspector()->setFirewallRules(
        QStringLiteral("work"), hostileSnapshot(text).firewall.value(QStringLiteral("work")));
    auto *firewall = window.inspector()->findChild<QTableWidget *>(QStringLiteral("firewallTable"));
    QVERIFY(firewall && firewall->rowCount() == 1);
    bool commentSeen = false;
    for (int col = 0; col < firewall->columnCount(); ++col)
        if (firewall->item(0, col) && firewall->item(0, col)->text().contains(piece(text)))
            commentSeen = true;
    QVERIFY(commentSeen);
    // Nothing in the dock became wider than a screen.
    QVERIFY2(window.inspector()->minimumSizeHint().width() < 1600,
             qPrintable(QString::number(window.inspector()->minimumSizeHint().width())));

    // A failed check puts its reason among the findings: one cleaned line, no hidden character
    // (once the reason was only cut and simplified there, keeping escapes and bidi overrides).
    Snapshot failed = hostileSnapshot(text);
    for (CheckResult &r : failed.checks)
        if (r.qube.toString() == QLatin1String("work"))
            r.status = CheckStatus::Fail;
    window.setSnapshot(failed);
    window.inspect(QStringLiteral("work"));
    bool reasonSeen = false;
    for (QLabel *label : window.inspector()->findChildren<QLabel *>()) {
        for (const QString &line : label->text().split(u'\n')) {
            QVERIFY2(!untrustedtext::hasHidden(line),
                     qPrintable(label->objectName() + QStringLiteral(": ") + line.toHtmlEscaped()));
            reasonSeen = reasonSeen || line.contains(piece(text));
        }
    }
    QVERIFY(reasonSeen);
}

// Results table: cells show the text as data (item views never parse DisplayRole), capped to
// a line; the tool tip (rich text) is escaped.
void tst_HostileUi::resultsTable()
{
    QFETCH(QString, text);
    CheckResultsModel model;
    model.setSnapshot(hostileSnapshot(text));
    int row = -1;
    for (int r = 0; r < model.rowCount(); ++r)
        if (model.resultAt(r) && model.resultAt(r)->qube.toString() == QLatin1String("work"))
            row = r;
    QVERIFY(row >= 0);
    const QString observed
        = model.data(model.index(row, CheckResultsModel::ObservedColumn)).toString();
    QVERIFY2(observed.contains(piece(text)) || text.startsWith(QLatin1String("line1")),
             qPrintable(observed.left(80)));
    const QString tip
        = model.data(model.index(row, CheckResultsModel::ObservedColumn), Qt::ToolTipRole)
              .toString();
    if (QTest::currentDataTag() == QLatin1String("markup"))
        QVERIFY2(!tip.contains(markupRowPiece()), qPrintable(tip));
    QVERIFY2(tip.size() < 20000, qPrintable(QString::number(tip.size())));
}

// Evidence dialog: plain text, what was printed made visible (controls as \xNN, bidi as <U+..>).
void tst_HostileUi::evidenceDialog()
{
    QFETCH(QString, text);
    const Snapshot s = hostileSnapshot(text);
    const CheckResult *work = s.latest(u"work", s.checks.front().check);
    CheckResult r = work ? *work : s.checks.front();
    r.reason = text;
    r.output = text;
    EvidenceDialog dialog(r, {});
    const QString shown = dialog.textEdit()->toPlainText();
    for (const QChar c : shown)
        QVERIFY2(c == u'\n' || c == u'\t'
                     || (c.category() != QChar::Other_Control && c.unicode() != 0x202e),
                 qPrintable(QString::number(c.unicode(), 16)));
    if (QTest::currentDataTag() == QLatin1String("markup"))
        QVERIFY(shown.contains(markupRowPiece()));
}

// Tooltips are rich text by nature: whatever comes from outside is escaped in them.
void tst_HostileUi::tooltip()
{
    QFETCH(QString, text);
    DiagramScene scene;
    scene.setSnapshot(hostileSnapshot(text));
    QubeItem *work = scene.qubeItem(QStringLiteral("work"));
    QVERIFY(work);
    const QString tip = work->toolTip();
    QVERIFY(rendered(tip).contains(piece(text).toLower()) || rendered(tip).contains(piece(text)));
    if (QTest::currentDataTag() == QLatin1String("markup"))
        QVERIFY2(!tip.contains(markupRowPiece()), qPrintable(tip));
}

// The error dialog (a broken snapshot file whose name is hostile): plain text, literal, and no
// wider than a screen.
void tst_HostileUi::errorDialog()
{
    QFETCH(QString, text);
    QTemporaryDir dir;
    QString name = text;
    name.replace(u'/', u'_');
    name.remove(QChar(0));
    if (name.size() > 200)
        name = name.left(100) + name.right(100); // a file name has at most 255 bytes
    const QString path = dir.filePath(name);
    QFile f(path);
    QVERIFY2(f.open(QIODevice::WriteOnly), qPrintable(f.errorString()));
    f.write("qubes: [\n");
    f.close();

    MainWindow window(SourceSpec {SourceSpec::Kind::File, path});
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    // The failure is said in the banner above the map (no dialog to dismiss).
    auto *banner = window.findChild<QLabel *>(QStringLiteral("sourceBannerText"));
    QVERIFY(banner);
    QTRY_VERIFY(banner->isVisible());
    QCOMPARE(banner->textFormat(), Qt::PlainText);
    QVERIFY(banner->text().contains(piece(name)));
    QVERIFY2(window.width() < 1600, qPrintable(QString::number(window.width())));
}

// SVG: well-formed XML whatever the text, and the text is there as characters, not markup.
void tst_HostileUi::svgExport()
{
    QFETCH(QString, text);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("map.svg"));
    const Status written = exportDiagram(hostileSnapshot(text), path);
    QVERIFY2(written.ok(), qPrintable(written.ok() ? QString() : written.error().toString()));
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QXmlStreamReader xml(&f);
    QString allText;
    QString title;
    while (!xml.atEnd()) {
        xml.readNext();
        if (xml.isStartElement() && xml.name() == QLatin1String("img"))
            QFAIL("markup from the snapshot became an SVG element");
        if (xml.isStartElement() && xml.name() == QLatin1String("title")) {
            const QString t = xml.readElementText(); // the first is the document's
            if (title.isNull())
                title = t;
        }
        if (xml.isCharacters())
            allText += xml.text();
    }
    QVERIFY2(
        !xml.hasError(),
        qPrintable(QStringLiteral("%1 at line %2").arg(xml.errorString()).arg(xml.lineNumber())));
    if (QTest::currentDataTag() == QLatin1String("markup")) {
        // The title reads as the characters of the source (QSvgGenerator does not escape it).
        QVERIFY2(title.contains(markupRowPiece()), qPrintable(title));
        QVERIFY2(!title.contains(QLatin1String("&lt;")), qPrintable(title));
    }
}

// Markdown: outside the fenced evidence, nothing from outside is markup, a new line or a table
// border.
void tst_HostileUi::markdownReport()
{
    QFETCH(QString, text);
    const QString md = QString::fromUtf8(exportMarkdown(hostileSnapshot(text)));
    bool inFence = false;
    int fences = 0;
    for (const QString &line : md.split(u'\n')) {
        if (line.startsWith(QLatin1String("```"))) {
            inFence = !inFence;
            ++fences;
            continue;
        }
        if (inFence)
            continue;
        QVERIFY2(!line.contains(QLatin1String("<b>")) && !line.contains(QLatin1String("<img")),
                 qPrintable(line));
        QVERIFY2(!line.startsWith(QLatin1String("# line3"))
                     && !line.startsWith(QLatin1String("line2")),
                 qPrintable(line));
        QVERIFY2(!line.contains(QChar(0x1b)) && !line.contains(QChar(0x202e)), qPrintable(line));
        QVERIFY2(line.size() < 2000, qPrintable(QString::number(line.size())));
    }
    QVERIFY(!inFence);
    QVERIFY(fences % 2 == 0);
}

QTEST_MAIN(tst_HostileUi)
#include "tst_hostileui.moc"
