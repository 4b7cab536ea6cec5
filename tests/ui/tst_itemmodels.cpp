// Every item model of the window under QAbstractItemModelTester, driven through the changes the
// window makes to it: the check results (CheckResultsModel), the results dock's filter and sort
// proxy over it, and the dropped-flows table. The tester checks each signal against the model's
// answers (rows inserted where announced, parents and indexes consistent, data types sane) and
// fails the test on the first inconsistency.

#include "checks/checkresultsmodel.h"
#include "checks/resultsdock.h"
#include "formats/snapshotyaml.h"
#include "live/droplog.h"
#include "live/droppedflowsdock.h"

#include <QAbstractItemModelTester>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTest>

using namespace netmap;

namespace {

CheckResult result(const QString &qube, CheckKind kind, CheckStatus status, const QStringList &path,
                   int minute)
{
    CheckResult r;
    r.qube = *QubeName::fromUntrusted(qube);
    r.check = kind;
    r.status = status;
    r.observed = QStringLiteral("203.0.113.7");
    r.expected = QStringLiteral("clearnet");
    r.pathAtRun = path;
    r.started = QDateTime(QDate(2026, 11, 28), QTime(14, minute), Qt::UTC);
    r.finished = r.started.addSecs(3);
    return r;
}

const QStringList kWorkPath {QStringLiteral("work"), QStringLiteral("sys-firewall"),
                             QStringLiteral("sys-net")};
const QStringList kUntrustedPath {QStringLiteral("untrusted"), QStringLiteral("sys-firewall"),
                                  QStringLiteral("sys-net")};

// The sequence of snapshots the window shows while checks run, are redone and are dropped:
// rows appended, updated in place, gone stale, removed, and all cleared.
QList<Snapshot> snapshots()
{
    Snapshot s = demoSnapshot();
    s.checks.clear();
    QList<Snapshot> out {s};
    s.checks.push_back(
        result(QStringLiteral("work"), CheckKind::ExternalIp, CheckStatus::Pass, kWorkPath, 0));
    out << s;
    s.checks.push_back(result(QStringLiteral("untrusted"), CheckKind::ExternalIp, CheckStatus::Fail,
                              kUntrustedPath, 1));
    s.checks.push_back(result(QStringLiteral("vault"), CheckKind::ExternalIp, CheckStatus::Pass,
                              {QStringLiteral("vault")}, 2));
    out << s;
    s.checks.push_back(
        result(QStringLiteral("work"), CheckKind::Vpn, CheckStatus::Error, kWorkPath, 2));
    out << s;
    s.checks.push_back(result(QStringLiteral("work"), CheckKind::ExternalIp, CheckStatus::Fail,
                              kWorkPath, 3)); // newer: the row is updated in place
    out << s;
    s.checks.push_back(result(QStringLiteral("untrusted"), CheckKind::ExternalIp, CheckStatus::Pass,
                              {QStringLiteral("untrusted")}, 4)); // stale
    out << s;
    s.checks.erase(s.checks.begin()); // fewer results: nothing removed that is still newest
    s.checks.erase(s.checks.begin() + 2); // work's vpn result is gone: its row goes
    out << s;
    s.checks.clear();
    out << s;
    out << demoSnapshot(); // the demo's recorded results at once
    return out;
}

} // namespace

class tst_ItemModels : public QObject
{
    Q_OBJECT

private slots:
    void checkResultsModel();
    void resultsFilterModel();
    void droppedFlowsModel();
};

void tst_ItemModels::checkResultsModel()
{
    CheckResultsModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    int most = 0;
    for (const Snapshot &s : snapshots()) {
        model.setSnapshot(s);
        if (QTest::currentTestFailed())
            return;
        most = std::max(most, model.rowCount());
    }
    QVERIFY(most >= 3); // the sequence did add rows
}

void tst_ItemModels::resultsFilterModel()
{
    ResultsDock dock;
    auto *view = dock.findChild<QTableView *>(QStringLiteral("resultsView"));
    QVERIFY(view);
    QAbstractItemModel *proxy = view->model();
    QVERIFY(proxy);
    QVERIFY(qobject_cast<QSortFilterProxyModel *>(proxy));
    QAbstractItemModelTester tester(proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    for (const Snapshot &s : snapshots()) {
        dock.setSnapshot(s);
        if (QTest::currentTestFailed())
            return;
        dock.setStatusFilter(QStringLiteral("fail"));
        dock.setCheckFilter(CheckKind::ExternalIp);
        dock.setQubeFilter(QStringLiteral("wor"));
        dock.setQubeFilter({});
        dock.setCheckFilter(std::nullopt);
        dock.setStatusFilter({});
        view->sortByColumn(CheckResultsModel::WhenColumn, Qt::DescendingOrder);
        view->sortByColumn(CheckResultsModel::StatusColumn, Qt::AscendingOrder);
        if (QTest::currentTestFailed())
            return;
    }
}

void tst_ItemModels::droppedFlowsModel()
{
    DroppedFlowsDock dock;
    auto *view = dock.findChild<QTableView *>();
    QVERIFY(view);
    QVERIFY(view->model());
    QAbstractItemModelTester tester(view->model(),
                                    QAbstractItemModelTester::FailureReportingMode::QtTest);
    for (int i = 0; i < 40; ++i) {
        DroppedFlow flow;
        flow.time = QDateTime(QDate(2026, 11, 28), QTime(14, 0, i), Qt::UTC);
        flow.watchedQube = QStringLiteral("sys-firewall");
        flow.packet.source = QStringLiteral("10.137.0.%1").arg(10 + i % 3);
        flow.packet.destination = QStringLiteral("10.137.0.99");
        flow.packet.protocol = i % 2 ? QStringLiteral("TCP") : QStringLiteral("ICMP");
        if (i % 2) {
            flow.packet.sourcePort = 40000 + i;
            flow.packet.destinationPort = 22;
        } else {
            flow.packet.icmpType = 8;
            flow.packet.icmpCode = 0;
        }
        flow.fromQube = i % 3 ? QStringLiteral("work") : QString();
        dock.addFlow(flow);
        if (QTest::currentTestFailed())
            return;
    }
    QVERIFY(view->model()->rowCount() > 0);
    dock.clear();
    QCOMPARE(view->model()->rowCount(), 0);
}

QTEST_MAIN(tst_ItemModels)
#include "tst_itemmodels.moc"
