// The results dock: newest result per (qube, check), merged in place as results arrive, status
// marks, stale rows when a qube's path changed, sorting, the evidence on double-click, and text
// from qubes kept plain.

#include "checks/checkresultsmodel.h"
#include "checks/evidencedialog.h"
#include "checks/resultsdock.h"
#include "formats/snapshotyaml.h"
#include "snapshots.h"

#include <QLabel>
#include <QPlainTextEdit>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTest>

using namespace netmap;

namespace {

using test::findQube;

CheckResult result(const QString &qube, CheckKind kind, CheckStatus status, const QStringList &path,
                   const QString &observed = {}, int minute = 0)
{
    CheckResult r;
    r.qube = *QubeName::fromUntrusted(qube);
    r.check = kind;
    r.status = status;
    r.observed = observed;
    r.expected = "clearnet";
    r.pathAtRun = path;
    r.started = QDateTime(QDate(2026, 11, 28), QTime(14, minute), Qt::UTC);
    r.finished = r.started.addSecs(3);
    return r;
}

Snapshot base()
{
    return test::demoWithoutChecks();
}

const QStringList kWorkPath {"work", "sys-firewall", "sys-net"};

} // namespace

class tst_ResultsDock : public QObject
{
    Q_OBJECT

private slots:
    void statusMarks_data();
    void statusMarks();
    void newestPerQubeAndCheck();
    void mergesInPlace();
    void staleWhenThePathChanges();
    void sortsByStatusAndTime();
    void summaryCounts();
    void doubleClickOpensEvidence();
    void markupStaysPlain();
};

void tst_ResultsDock::statusMarks_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("text");
    QTest::newRow("pass") << int(CheckStatus::Pass) << "✔ pass";
    QTest::newRow("fail") << int(CheckStatus::Fail) << "✘ fail";
    QTest::newRow("error") << int(CheckStatus::Error) << "⚠ error";
    QTest::newRow("skipped") << int(CheckStatus::Skipped) << "— skipped";
}

void tst_ResultsDock::statusMarks()
{
    QFETCH(int, status);
    QFETCH(QString, text);
    Snapshot s = base();
    s.checks.push_back(result("work", CheckKind::ExternalIp, CheckStatus(status), kWorkPath));
    CheckResultsModel model;
    model.setSnapshot(s);
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.index(0, CheckResultsModel::StatusColumn).data().toString(), text);
    QCOMPARE(model.index(0, CheckResultsModel::QubeColumn).data().toString(), QString("work"));
    QCOMPARE(model.index(0, CheckResultsModel::CheckColumn).data().toString(),
             QString("External IP"));
    QCOMPARE(model.index(0, CheckResultsModel::ExpectedColumn).data().toString(),
             QString("clearnet"));
    QVERIFY(!model.index(0, CheckResultsModel::WhenColumn).data().toString().isEmpty());
    QCOMPARE(model.headerData(CheckResultsModel::ObservedColumn, Qt::Horizontal).toString(),
             QString("Observed"));
}

void tst_ResultsDock::newestPerQubeAndCheck()
{
    Snapshot s = base();
    s.checks.push_back(result("work", CheckKind::ExternalIp, CheckStatus::Fail, kWorkPath, "a", 1));
    s.checks.push_back(result("work", CheckKind::Isolation, CheckStatus::Pass, kWorkPath, "", 2));
    s.checks.push_back(result("work", CheckKind::ExternalIp, CheckStatus::Pass, kWorkPath, "b", 3));
    CheckResultsModel model;
    model.setSnapshot(s);
    QCOMPARE(model.rowCount(), 2);
    const int row = model.rowOf("work", CheckKind::ExternalIp);
    QCOMPARE(model.resultAt(row)->observed, QString("b"));
    QCOMPARE(model.resultAt(row)->status, CheckStatus::Pass);
}

void tst_ResultsDock::mergesInPlace()
{
    Snapshot s = base();
    s.checks.push_back(result("work", CheckKind::ExternalIp, CheckStatus::Pass, kWorkPath, "a"));
    CheckResultsModel model;
    model.setSnapshot(s);
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);

    s.checks.push_back(result("untrusted", CheckKind::ExternalIp, CheckStatus::Pass,
                              {"untrusted", "sys-firewall", "sys-net"}));
    model.setSnapshot(s);
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(changed.count(), 0);
    s.checks.push_back(result("work", CheckKind::ExternalIp, CheckStatus::Fail, kWorkPath, "c"));
    model.setSnapshot(s);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(model.rowOf("work", CheckKind::ExternalIp), 0); // same row, new content
    QCOMPARE(model.resultAt(0)->observed, QString("c"));
    model.setSnapshot(s); // nothing new: nothing signalled
    QCOMPARE(changed.count(), 1);
    s.checks.clear();
    model.setSnapshot(s);
    QCOMPARE(removed.count(), 2);
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(reset.count(), 0);
}

void tst_ResultsDock::staleWhenThePathChanges()
{
    Snapshot s = base();
    s.checks.push_back(result("work", CheckKind::ExternalIp, CheckStatus::Pass, kWorkPath, "ip"));
    ResultsDock dock;
    dock.setSnapshot(s);
    CheckResultsModel *model = dock.model();
    QVERIFY(!model->isStale(0));
    QVERIFY(!dock.summary().contains("stale"));
    const QVariant fresh = model->index(0, 0).data(Qt::ForegroundRole);

    findQube(s, "work")->netvm = *QubeName::fromUntrusted(u"sys-vpn");
    dock.setSnapshot(s);
    QVERIFY(model->isStale(0));
    QCOMPARE(model->index(0, CheckResultsModel::StatusColumn).data().toString(),
             QString("✔ pass (stale)"));
    QVERIFY(model->index(0, 0).data(CheckResultsModel::StaleRole).toBool());
    QVERIFY(model->index(0, 0).data(Qt::ForegroundRole) != fresh); // drawn faded
    QVERIFY(model->index(0, 0).data(Qt::ToolTipRole).toString().contains("Stale"));
    QVERIFY(dock.summary().contains("1 stale"));
    QCOMPARE(model->currentChain("work"),
             QStringList({"work", "sys-vpn", "sys-firewall", "sys-net"}));

    // Back on the old path: fresh again.
    findQube(s, "work")->netvm = *QubeName::fromUntrusted(u"sys-firewall");
    dock.setSnapshot(s);
    QVERIFY(!model->isStale(0));
}

void tst_ResultsDock::sortsByStatusAndTime()
{
    Snapshot s = base();
    s.checks.push_back(result("work", CheckKind::ExternalIp, CheckStatus::Pass, kWorkPath, "", 5));
    s.checks.push_back(result("work", CheckKind::Isolation, CheckStatus::Fail, kWorkPath, "", 9));
    s.checks.push_back(result("work", CheckKind::DnsLeak, CheckStatus::Skipped, kWorkPath, "", 1));
    s.checks.push_back(result("work", CheckKind::Tor, CheckStatus::Error, kWorkPath, "", 7));
    ResultsDock dock;
    dock.setSnapshot(s);
    QTableView *view = dock.view();
    QVERIFY(view->isSortingEnabled());
    QAbstractItemModel *shown = view->model();
    view->sortByColumn(CheckResultsModel::StatusColumn, Qt::AscendingOrder);
    QStringList order;
    for (int r = 0; r < shown->rowCount(); ++r)
        order << shown->index(r, CheckResultsModel::StatusColumn).data().toString();
    QCOMPARE(order, QStringList({"✘ fail", "⚠ error", "✔ pass", "— skipped"}));
    view->sortByColumn(CheckResultsModel::WhenColumn, Qt::DescendingOrder);
    order.clear();
    for (int r = 0; r < shown->rowCount(); ++r)
        order << shown->index(r, CheckResultsModel::CheckColumn).data().toString();
    QCOMPARE(order, QStringList({"Isolation", "Tor", "External IP", "DNS leak"}));
}

void tst_ResultsDock::summaryCounts()
{
    ResultsDock dock;
    QVERIFY(dock.summary().contains("No check results"));
    Snapshot s = base();
    s.checks.push_back(result("work", CheckKind::ExternalIp, CheckStatus::Pass, kWorkPath));
    s.checks.push_back(result("work", CheckKind::Isolation, CheckStatus::Fail, kWorkPath));
    s.checks.push_back(result("work", CheckKind::Tor, CheckStatus::Skipped, kWorkPath));
    dock.setSnapshot(s);
    QCOMPARE(dock.summary(), QString("3 result(s): 1 ✔ · 1 ✘ · 0 ⚠ · 1 —"));
}

void tst_ResultsDock::doubleClickOpensEvidence()
{
    Snapshot s = base();
    CheckResult r = result("work", CheckKind::ExternalIp, CheckStatus::Pass, kWorkPath, "ip");
    r.command = "qvm-run --pass-io --no-gui work 'probe'";
    r.exitCode = 0;
    r.output = "NETMAP-IP 0 ok 203.0.113.7\n<img src=x>";
    s.checks.push_back(r);
    ResultsDock dock;
    dock.setSnapshot(s);
    dock.resize(900, 300);
    dock.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dock));
    QTableView *view = dock.view();
    const QPoint at = view->visualRect(view->model()->index(0, 3)).center();
    // An item view opens on a double click only on the index the press was on.
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, at);
    QTest::mouseDClick(view->viewport(), Qt::LeftButton, {}, at);
    EvidenceDialog *dialog = nullptr;
    QTRY_VERIFY((dialog = dock.findChild<EvidenceDialog *>()));
    const QString text = dialog->text();
    QVERIFY(text.contains("Command:\nqvm-run --pass-io --no-gui work 'probe'"));
    QVERIFY(text.contains("Exit:      0"));
    QVERIFY(text.contains("Started:   2026-11-28 14:00:00.000 UTC"));
    QVERIFY(text.contains("Finished:  2026-11-28 14:00:03.000 UTC"));
    QVERIFY(text.contains("Duration:  3.000 s"));
    QVERIFY(text.contains("NETMAP-IP 0 ok 203.0.113.7\n<img src=x>"));
    QVERIFY(!text.contains("STALE"));
    QVERIFY(dialog->textEdit()->isReadOnly());
    QVERIFY(dialog->windowTitle().contains("work"));
    dialog->close();
}

void tst_ResultsDock::markupStaysPlain()
{
    Snapshot s = base();
    CheckResult r
        = result("work", CheckKind::ExternalIp, CheckStatus::Fail, kWorkPath, "<b>bold</b>");
    r.reason = "<img src=x> & <a href=y>";
    s.checks.push_back(r);
    CheckResultsModel model;
    model.setSnapshot(s);
    QCOMPARE(model.index(0, CheckResultsModel::ObservedColumn).data().toString(),
             QString("<b>bold</b>"));
    const QString tip = model.index(0, 0).data(Qt::ToolTipRole).toString();
    QVERIFY(tip.startsWith("<qt>"));
    QVERIFY(tip.contains("&lt;img src=x&gt; &amp; &lt;a href=y&gt;"));
    QVERIFY(!tip.contains("<img"));
    ResultsDock dock;
    dock.setSnapshot(s);
    for (QLabel *label : dock.findChildren<QLabel *>())
        QCOMPARE(label->textFormat(), Qt::PlainText);
}

QTEST_MAIN(tst_ResultsDock)
#include "tst_resultsdock.moc"
