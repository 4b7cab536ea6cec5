// Every view follows the NetworkDocument: the test changes only the document (a new snapshot,
// an update in place, new results, new intent) and sees the map, the inspector, the results dock
// and the exports follow, and agree with each other about the owner's intent.

#include "checks/checkcontroller.h"
#include "checks/checkresultsmodel.h"
#include "checks/resultsdock.h"
#include "diagram/diagramscene.h"
#include "diagram/linkitem.h"
#include "diagram/qubeitem.h"
#include "document/networkdocument.h"
#include "formats/snapshotyaml.h"
#include "inspector/inspectordock.h"
#include "mainwindow.h"
#include "model/topology.h"
#include "policy/expectations.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

using namespace netmap;

namespace {

QString value(const MainWindow &window, const QString &key)
{
    auto *label = window.inspector()->findChild<QLabel *>("value." + key);
    return label ? label->text() : QString("<missing>");
}

// The qube as the JSON report the window saves now says it.
QJsonObject jsonQube(MainWindow &window, const QString &name)
{
    QTemporaryDir dir;
    const QString path = dir.filePath("report.json");
    if (!window.saveReportTo(path))
        return {};
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    const QJsonObject root = QJsonDocument::fromJson(f.readAll()).object();
    for (const QJsonValue &q : root.value("qubes").toArray())
        if (q.toObject().value("name").toString() == name)
            return q.toObject();
    return {};
}

QByteArray svg(MainWindow &window)
{
    QTemporaryDir dir;
    const QString path = dir.filePath("map.svg");
    if (!window.exportPictureTo(path))
        return {};
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

const LinkItem *linkOf(DiagramScene *scene, const QString &lower)
{
    for (const LinkItem *l : scene->linkItems())
        if (l->lower() == lower && !l->toInternet())
            return l;
    return nullptr;
}

} // namespace

class tst_DocumentViews : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void viewsFollowTheDocument();
    void intentReachesEveryView();
};

void tst_DocumentViews::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName("qubes-netmap-tests");
    QCoreApplication::setApplicationName("tst_documentviews");
    QSettings().clear();
}

void tst_DocumentViews::viewsFollowTheDocument()
{
    MainWindow window(SourceSpec {SourceSpec::Kind::Demo, QString()});
    window.setDiscardQuestion([] { return true; });
    QTRY_VERIFY(!window.snapshot().qubes.empty());
    NetworkDocument *doc = window.document();
    // One snapshot: the window, the scene and the results dock read the document's.
    QCOMPARE(&window.snapshot(), &doc->snapshot());
    QCOMPARE(&window.scene()->snapshot(), &doc->snapshot());
    QCOMPARE(window.checkController()->resultsDock()->document(), doc);
    CheckResultsModel *results = window.checkController()->resultsDock()->model();

    // A new snapshot: a qube the demo does not have, and no results.
    Snapshot s = demoSnapshot();
    s.checks.clear();
    Qube newcomer = *s.find(u"untrusted");
    newcomer.name = *QubeName::fromUntrusted(u"newcomer");
    newcomer.ip = "10.137.0.99";
    s.qubes.push_back(newcomer);
    std::sort(s.qubes.begin(), s.qubes.end(),
              [](const Qube &a, const Qube &b) { return a.name.toString() < b.name.toString(); });
    doc->replaceSnapshot(s);
    QVERIFY(window.scene()->qubeItem("newcomer"));
    QCOMPARE(results->rowCount(), 0);
    // Shown in the inspector with nothing selected on the map: the inspector follows the
    // document itself, not through the map's selection.
    window.scene()->selectQube(QString());
    window.inspector()->showQube("newcomer");
    QCOMPARE(window.inspector()->currentQube(), QString("newcomer"));
    QCOMPARE(value(window, "ip"), QString("10.137.0.99"));
    QCOMPARE(value(window, "netvm"), QString("sys-firewall"));
    QCOMPARE(jsonQube(window, "newcomer").value("netvm").toString(), QString("sys-firewall"));
    QVERIFY(svg(window).contains("newcomer"));

    // Updated in place: the newcomer moves to sys-net; the map is not laid out again.
    QSignalSpy rebuilt(window.scene(), &DiagramScene::diagramRebuilt);
    Snapshot moved = doc->snapshot();
    for (Qube &q : moved.qubes)
        if (q.name.toString() == "newcomer")
            q.netvm = QubeName::fromUntrusted(u"sys-net");
    doc->updateSnapshot(moved);
    QCOMPARE(rebuilt.count(), 0);
    QVERIFY(linkOf(window.scene(), "newcomer"));
    QCOMPARE(linkOf(window.scene(), "newcomer")->upper(), QString("sys-net"));
    QCOMPARE(window.inspector()->currentQube(), QString("newcomer"));
    QCOMPARE(value(window, "netvm"), QString("sys-net"));
    QCOMPARE(jsonQube(window, "newcomer").value("netvm").toString(), QString("sys-net"));

    // Results: the map marks the qube, the inspector and the dock list it, the export holds it.
    CheckResult r;
    r.qube = *QubeName::fromUntrusted(u"work");
    r.check = CheckKind::ExternalIp;
    r.status = CheckStatus::Fail;
    r.externalIp = "203.0.113.99";
    r.observed = "203.0.113.99";
    r.expected = "clearnet";
    r.finished = QDateTime::currentDateTimeUtc();
    r.pathAtRun = Topology(doc->snapshot()).egressChain(u"work");
    window.inspector()->showQube("work");
    auto *inspectorChecks = window.inspector()->findChild<QTableWidget *>("checksTable");
    QCOMPARE(inspectorChecks->rowCount(), 0);
    QSignalSpy resultsChanged(doc, &NetworkDocument::resultsChanged);
    doc->addResults({r});
    QCOMPARE(resultsChanged.count(), 1);
    QCOMPARE(results->rowCount(), 1);
    QCOMPARE(window.scene()->qubeItem("work")->verdict(), VerdictMark::Fail);
    QVERIFY(linkOf(window.scene(), "work")->linkStyle().failed); // a leak colours the path
    QCOMPARE(inspectorChecks->rowCount(), 1);
    const QJsonArray checks = jsonQube(window, "work").value("checks").toArray();
    QCOMPARE(checks.size(), 1);
    QCOMPARE(checks.first().toObject().value("status").toString(), QString("fail"));
    QCOMPARE(rebuilt.count(), 0);
}

// --expect is the document's: the colours, the inspector and the exports judge by the same
// intent the checks were judged by (the verdicts' side runs in tst_checkcontroller and
// cli.verify.intent).
void tst_DocumentViews::intentReachesEveryView()
{
    MainWindow window(SourceSpec {SourceSpec::Kind::Demo, QString()});
    window.setDiscardQuestion([] { return true; });
    QTRY_VERIFY(!window.snapshot().qubes.empty());
    NetworkDocument *doc = window.document();
    Snapshot s = doc->snapshot();
    s.checks.clear();
    doc->replaceSnapshot(s);
    CheckResult r;
    r.qube = *QubeName::fromUntrusted(u"work");
    r.check = CheckKind::ExternalIp;
    r.status = CheckStatus::Fail;
    r.externalIp = "203.0.113.99";
    r.finished = QDateTime::currentDateTimeUtc();
    r.pathAtRun = Topology(doc->snapshot()).egressChain(u"work");
    doc->addResults({r});
    window.scene()->selectQube(QString());
    window.inspector()->showQube("work");
    // Inferred: work is a clearnet qube, and so is the exit only it saw.
    QVERIFY2(value(window, "expected").startsWith("clearnet"),
             qPrintable(value(window, "expected")));
    QCOMPARE(window.scene()->colouring().exitOf("203.0.113.99")->kind, QString("clearnet"));
    QCOMPARE(jsonQube(window, "work").value("expected_egress").toString(), QString("clearnet"));

    auto intent = expectationsFromYaml("qubes:\n  work: vpn\n", "expect.yaml");
    QVERIFY(intent.ok());
    QSignalSpy rebuilt(window.scene(), &DiagramScene::diagramRebuilt);
    doc->setIntent(*intent);
    QCOMPARE(rebuilt.count(), 0); // restyled in place
    QVERIFY2(value(window, "expected").startsWith("vpn"), qPrintable(value(window, "expected")));
    QVERIFY(value(window, "expected").contains("expectations file"));
    QCOMPARE(window.scene()->colouring().exitOf("203.0.113.99")->kind, QString("vpn"));
    QCOMPARE(jsonQube(window, "work").value("expected_egress").toString(), QString("vpn"));

    // A refreshed read (the demo again) is judged by the same intent.
    window.refresh();
    window.scene()->selectQube("work");
    QCOMPARE(doc->intent(), *intent);
    QVERIFY(value(window, "expected").startsWith("vpn"));
    QCOMPARE(jsonQube(window, "work").value("expected_egress").toString(), QString("vpn"));
}

QTEST_MAIN(tst_DocumentViews)
#include "tst_documentviews.moc"
