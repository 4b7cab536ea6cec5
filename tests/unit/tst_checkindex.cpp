#include "model/checkindex.h"
#include "model/snapshot.h"

#include <QTest>

using namespace netmap;

namespace {

CheckResult result(const char *qube, CheckKind kind, CheckStatus status, const char *observed)
{
    CheckResult r;
    r.qube = *QubeName::fromUntrusted(QString::fromLatin1(qube));
    r.check = kind;
    r.status = status;
    r.observed = QString::fromLatin1(observed);
    return r;
}

} // namespace

class tst_CheckIndex : public QObject
{
    Q_OBJECT
private slots:
    void sameAnswerAsSnapshotLatest_data();
    void sameAnswerAsSnapshotLatest();
    void resultsNewestFirst();
};

void tst_CheckIndex::sameAnswerAsSnapshotLatest_data()
{
    QTest::addColumn<QString>("qube");
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("observed"); // empty: no result
    QTest::newRow("only result") << "work" << int(CheckKind::Vpn) << "vpn-1";
    QTest::newRow("newer wins") << "work" << int(CheckKind::ExternalIp) << "ip-3";
    QTest::newRow("other qube's newer result ignored")
        << "mail" << int(CheckKind::ExternalIp) << "ip-2";
    QTest::newRow("no result of this kind") << "mail" << int(CheckKind::Tor) << "";
    QTest::newRow("unknown qube") << "nobody" << int(CheckKind::ExternalIp) << "";
}

void tst_CheckIndex::sameAnswerAsSnapshotLatest()
{
    QFETCH(QString, qube);
    QFETCH(int, kind);
    QFETCH(QString, observed);
    Snapshot s;
    s.checks = {result("work", CheckKind::ExternalIp, CheckStatus::Pass, "ip-1"),
                result("mail", CheckKind::ExternalIp, CheckStatus::Fail, "ip-2"),
                result("work", CheckKind::Vpn, CheckStatus::Pass, "vpn-1"),
                result("work", CheckKind::ExternalIp, CheckStatus::Error, "ip-3")};
    const CheckIndex index(s);
    const CheckResult *expected = s.latest(qube, CheckKind(kind));
    QCOMPARE(index.latest(qube, CheckKind(kind)), expected);
    QCOMPARE(expected ? expected->observed : QString(), observed);
}

void tst_CheckIndex::resultsNewestFirst()
{
    Snapshot s;
    s.checks = {result("work", CheckKind::ExternalIp, CheckStatus::Pass, "a"),
                result("mail", CheckKind::Tor, CheckStatus::Pass, "b"),
                result("work", CheckKind::Tor, CheckStatus::Pass, "c")};
    const CheckIndex index(s);
    const auto &work = index.resultsOf(QStringLiteral("work"));
    QCOMPARE(work.size(), size_t(2));
    QCOMPARE(work[0], &s.checks[2]);
    QCOMPARE(work[1], &s.checks[0]);
    QVERIFY(index.resultsOf(QStringLiteral("nobody")).empty());
}

QTEST_GUILESS_MAIN(tst_CheckIndex)
#include "tst_checkindex.moc"
