// The live source against stand-ins for qvm-ls, qubes-prefs and qvm-firewall put first on PATH
// (tests/data/fake-bin, driven by FAKE_* environment variables).

#include "qubes/livesource.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace netmap;

namespace {

const QByteArray fakeBin = NETMAP_TEST_DATA "/fake-bin";
const QByteArray qvmLsListing = NETMAP_TEST_DATA "/qvm-ls/good-qubes43.txt";

QubeName name(const char *text)
{
    return *QubeName::fromUntrusted(QString::fromLatin1(text));
}

QString nameOf(const std::optional<QubeName> &n)
{
    return n ? n->toString() : QStringLiteral("<none>");
}

} // namespace

class tst_LiveSource : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanupTestCase();

    void readsListingAndGlobals();
    void keepsGoodRowsAndListsRejected();
    void sourceErrors_data();
    void sourceErrors();
    void missingQvmLs();
    void prefsProblemsAreNoted_data();
    void prefsProblemsAreNoted();
    void asyncRefresh();
    void asyncMissing();
    void firewall_data();
    void firewall();
    void asyncFirewall();

private:
    QByteArray m_path;
};

void tst_LiveSource::initTestCase()
{
    m_path = qgetenv("PATH");
}

void tst_LiveSource::init()
{
    qputenv("PATH", fakeBin + ':' + m_path);
    qputenv("FAKE_QVM_LS_MODE", "good");
    qputenv("FAKE_QVM_LS_FILE", qvmLsListing);
    qputenv("FAKE_QUBES_PREFS_MODE", "good");
    qputenv("FAKE_QVM_FIREWALL_MODE", "good");
    qputenv("FAKE_QVM_FIREWALL_FILE", NETMAP_TEST_DATA "/qvm-firewall/good-mixed.txt");
}

void tst_LiveSource::cleanupTestCase()
{
    qputenv("PATH", m_path);
}

void tst_LiveSource::readsListingAndGlobals()
{
    QVERIFY(liveSourceAvailable());
    qputenv("FAKE_QVM_LS_MODE", "locale"); // the stand-in refuses to answer unless LC_ALL=C
    const auto before = QDateTime::currentDateTimeUtc().addSecs(-1);
    const Result<Snapshot> result = readLiveSnapshot();
    QVERIFY2(result.ok(), qPrintable(result.ok() ? QString() : result.error().message));
    const Snapshot &s = result.value();
    QCOMPARE(s.source, QStringLiteral("qvm-ls"));
    QVERIFY(s.generated >= before && s.generated <= QDateTime::currentDateTimeUtc());
    QCOMPARE(int(s.qubes.size()), 20);
    QVERIFY2(s.rejected.isEmpty(), qPrintable(s.rejected.join(u'\n')));
    QCOMPARE(s.qubes.front().name.toString(), QStringLiteral("anon-whonix"));
    QCOMPARE(nameOf(s.globals.defaultNetvm), QStringLiteral("sys-firewall"));
    QCOMPARE(nameOf(s.globals.updatevm), QStringLiteral("sys-whonix"));
    QCOMPARE(nameOf(s.globals.clockvm), QStringLiteral("sys-net"));
    QCOMPARE(nameOf(s.globals.defaultDispvm), QStringLiteral("default-dvm"));
}

void tst_LiveSource::keepsGoodRowsAndListsRejected()
{
    qputenv("FAKE_QVM_LS_FILE", NETMAP_TEST_DATA "/qvm-ls/bad-ip-octet.txt");
    const Result<Snapshot> result = readLiveSnapshot();
    QVERIFY(result.ok());
    QCOMPARE(int(result->qubes.size()), 2);
    QCOMPARE(result->rejected.size(), 1);
    QVERIFY2(result->rejected.first().startsWith(QLatin1String("qvm-ls line 3: bad ip")),
             qPrintable(result->rejected.first()));
}

void tst_LiveSource::sourceErrors_data()
{
    QTest::addColumn<QByteArray>("mode");
    QTest::addColumn<QByteArray>("file");
    QTest::addColumn<QString>("message");
    QTest::newRow("fails")
        << QByteArray("fail") << qvmLsListing
        << QStringLiteral("qvm-ls exited with 1: qvm-ls: error: Got empty response from qubesd. "
                          "?[31mSee journalctl?[0m in dom0");
    QTest::newRow("fails silently")
        << QByteArray("fail-silent") << qvmLsListing << QStringLiteral("qvm-ls exited with 1");
    QTest::newRow("hangs") << QByteArray("hang") << qvmLsListing
                           << QStringLiteral("qvm-ls did not answer within 400 ms");
    QTest::newRow("garbage")
        << QByteArray("garbage") << qvmLsListing
        << QStringLiteral("qvm-ls printed no usable rows (3 rejected; first: qvm-ls line 1: "
                          "expected 17 cells, found 1)");
    QTest::newRow("nothing") << QByteArray("empty") << qvmLsListing
                             << QStringLiteral("qvm-ls printed no usable rows");
    QTest::newRow("only bad rows")
        << QByteArray("good") << QByteArray(NETMAP_TEST_DATA "/prefs/bad-two-lines.txt")
        << QStringLiteral("qvm-ls printed no usable rows (2 rejected; first: qvm-ls line "
                          "1: expected 17 cells, found 5)");
}

void tst_LiveSource::sourceErrors()
{
    QFETCH(QByteArray, mode);
    QFETCH(QByteArray, file);
    QFETCH(QString, message);
    qputenv("FAKE_QVM_LS_MODE", mode);
    qputenv("FAKE_QVM_LS_FILE", file);
    LiveOptions options;
    options.timeoutMs = 400;
    QElapsedTimer clock;
    clock.start();
    const Result<Snapshot> result = readLiveSnapshot(options);
    QVERIFY(!result.ok());
    QCOMPARE(result.error().code, Error::Code::Source);
    QCOMPARE(result.error().exitCode(), 3);
    QCOMPARE(result.error().message, message);
    QVERIFY(clock.elapsed() < 5000);
}

void tst_LiveSource::missingQvmLs()
{
    QTemporaryDir empty;
    QVERIFY(empty.isValid());
    qputenv("PATH", empty.path().toLocal8Bit());
    QVERIFY(!liveSourceAvailable());
    const Result<Snapshot> result = readLiveSnapshot();
    QVERIFY(!result.ok());
    QCOMPARE(result.error().code, Error::Code::Source);
    QCOMPARE(result.error().message, QStringLiteral("qvm-ls not found on PATH"));
    const auto rules = readFirewallRules(name("work"));
    QVERIFY(!rules.ok());
    QCOMPARE(rules.error().message, QStringLiteral("qvm-firewall not found on PATH"));
}

void tst_LiveSource::prefsProblemsAreNoted_data()
{
    QTest::addColumn<QByteArray>("mode");
    QTest::addColumn<QString>("clockvm");
    QTest::addColumn<QString>("updatevm");
    QTest::addColumn<QStringList>("notes");
    QTest::newRow("clockvm none") << QByteArray("none") << QStringLiteral("<none>")
                                  << QStringLiteral("sys-whonix") << QStringList();
    QTest::newRow("fails")
        << QByteArray("fail") << QStringLiteral("<none>") << QStringLiteral("<none>")
        << QStringList {
               QStringLiteral("qubes-prefs default_netvm exited with 1: qubes-prefs: error: Got "
                              "empty response from qubesd."),
               QStringLiteral("qubes-prefs updatevm exited with 1: qubes-prefs: error: Got "
                              "empty response from qubesd."),
               QStringLiteral("qubes-prefs clockvm exited with 1: qubes-prefs: error: Got empty "
                              "response from qubesd."),
               QStringLiteral("qubes-prefs default_dispvm exited with 1: qubes-prefs: error: Got "
                              "empty response from qubesd."),
           };
    QTest::newRow("garbage") << QByteArray("garbage") << QStringLiteral("sys-net")
                             << QStringLiteral("<none>")
                             << QStringList {QStringLiteral("qubes-prefs updatevm: bad qube name")};
}

void tst_LiveSource::prefsProblemsAreNoted()
{
    QFETCH(QByteArray, mode);
    QFETCH(QString, clockvm);
    QFETCH(QString, updatevm);
    QFETCH(QStringList, notes);
    qputenv("FAKE_QUBES_PREFS_MODE", mode);
    const Result<Snapshot> result = readLiveSnapshot();
    QVERIFY(result.ok()); // the globals are secondary: the map still loads
    QCOMPARE(int(result->qubes.size()), 20);
    QCOMPARE(nameOf(result->globals.clockvm), clockvm);
    QCOMPARE(nameOf(result->globals.updatevm), updatevm);
    QCOMPARE(result->rejected.size(), notes.size());
    for (int i = 0; i < notes.size(); ++i)
        QVERIFY2(result->rejected.at(i).startsWith(notes.at(i)),
                 qPrintable(result->rejected.at(i)));
}

void tst_LiveSource::asyncRefresh()
{
    LiveSource source;
    QSignalSpy ready(&source, &LiveSource::snapshotReady);
    QSignalSpy failed(&source, &LiveSource::failed);
    qputenv("FAKE_QVM_LS_MODE", "hang");
    LiveOptions options;
    options.timeoutMs = 3000;
    QElapsedTimer clock;
    clock.start();
    source.refresh(options);
    QVERIFY(clock.elapsed() < 1000); // refresh() never waits for the process
    QVERIFY(source.isBusy());
    source.refresh(options); // a second refresh while one runs is folded into it
    QVERIFY(failed.wait(10000));
    QCOMPARE(failed.size(), 1);
    QCOMPARE(failed.first().first().toString(), QStringLiteral("qvm-ls did not answer within 3 s"));
    QVERIFY(!source.isBusy());

    qputenv("FAKE_QVM_LS_MODE", "good");
    source.refresh();
    QVERIFY(ready.wait(10000));
    QCOMPARE(ready.size(), 1);
    const auto snapshot = ready.first().first().value<Snapshot>();
    QCOMPARE(int(snapshot.qubes.size()), 20);
    QCOMPARE(nameOf(snapshot.globals.defaultNetvm), QStringLiteral("sys-firewall"));
    QTest::qWait(100);
    QCOMPARE(failed.size(), 1);
    QCOMPARE(ready.size(), 1);
}

void tst_LiveSource::asyncMissing()
{
    QTemporaryDir empty;
    qputenv("PATH", empty.path().toLocal8Bit());
    LiveSource source;
    QSignalSpy failed(&source, &LiveSource::failed);
    QSignalSpy firewallFailed(&source, &LiveSource::firewallFailed);
    source.refresh();
    source.readFirewall(name("work"));
    QCOMPARE(failed.size(), 0); // queued: a caller may connect after refresh()
    QVERIFY(failed.wait(5000));
    QCOMPARE(failed.first().first().toString(), QStringLiteral("qvm-ls not found on PATH"));
    QTRY_COMPARE(firewallFailed.size(), 1);
    QCOMPARE(firewallFailed.first().at(1).toString(),
             QStringLiteral("qvm-firewall not found on PATH"));
}

void tst_LiveSource::firewall_data()
{
    QTest::addColumn<QByteArray>("mode");
    QTest::addColumn<QByteArray>("file");
    QTest::addColumn<int>("rules");
    QTest::addColumn<QString>("error");
    QTest::newRow("mixed") << QByteArray("good")
                           << QByteArray(NETMAP_TEST_DATA "/qvm-firewall/good-mixed.txt") << 9
                           << QString();
    QTest::newRow("allow all") << QByteArray("good")
                               << QByteArray(NETMAP_TEST_DATA "/qvm-firewall/good-allow-all.txt")
                               << 1 << QString();
    // Rules are ordered: one bad line is marked in its place; it never hides the list.
    QTest::newRow("bad rule") << QByteArray("good")
                              << QByteArray(NETMAP_TEST_DATA "/qvm-firewall/bad-ports-reversed.txt")
                              << 3 << QString();
    QTest::newRow("fails")
        << QByteArray("fail") << QByteArray() << 0
        << QStringLiteral(
               "qvm-firewall exited with 2: qvm-firewall: error: no such domain: 'work'");
    QTest::newRow("hangs") << QByteArray("hang") << QByteArray() << 0
                           << QStringLiteral("qvm-firewall did not answer within 300 ms");
}

void tst_LiveSource::firewall()
{
    QFETCH(QByteArray, mode);
    QFETCH(QByteArray, file);
    QFETCH(int, rules);
    QFETCH(QString, error);
    qputenv("FAKE_QVM_FIREWALL_MODE", mode);
    qputenv("FAKE_QVM_FIREWALL_FILE", file);
    const auto result = readFirewallRules(name("work"), 300);
    if (error.isEmpty()) {
        QVERIFY2(result.ok(), qPrintable(result.ok() ? QString() : result.error().message));
        QCOMPARE(int(result->size()), rules);
        for (int i = 0; i < result->size(); ++i) {
            const bool marked = QByteArray(QTest::currentDataTag()) == "bad rule" && i == 1;
            QCOMPARE(result->at(i).isReadable(), !marked);
            if (marked)
                QVERIFY(result->at(i).describe().contains(QLatin1String("line 2: bad dstports")));
        }
    } else {
        QVERIFY(!result.ok());
        QVERIFY2(result.error().message.startsWith(error), qPrintable(result.error().message));
    }
}

void tst_LiveSource::asyncFirewall()
{
    LiveSource source;
    QSignalSpy ready(&source, &LiveSource::firewallReady);
    QSignalSpy failed(&source, &LiveSource::firewallFailed);
    source.readFirewall(name("work.web"));
    QVERIFY(ready.wait(10000));
    QCOMPARE(ready.first().at(0).toString(), QStringLiteral("work.web"));
    const auto rules = ready.first().at(1).value<QList<FirewallRule>>();
    QCOMPARE(rules.size(), 9);
    QCOMPARE(rules.at(3).comment, QStringLiteral("VPN endpoint (primary)"));

    qputenv("FAKE_QVM_FIREWALL_MODE", "fail");
    source.readFirewall(name("sys-net"));
    QVERIFY(failed.wait(10000));
    QCOMPARE(failed.first().at(0).toString(), QStringLiteral("sys-net"));
    QCOMPARE(ready.size(), 1);
}

QTEST_GUILESS_MAIN(tst_LiveSource)
#include "tst_livesource.moc"
