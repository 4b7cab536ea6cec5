// ChangeFollower: a qubesd event (from a fake qubesd socket speaking admin.Events framing) leads
// to one re-read and a change with the evidence carried over; without the socket it polls. The
// system is read with the real qvm-ls and qubes-prefs against the qubesd stand-in
// (tests/support/realqubes.h); the events come from the fake so the test decides when.

#include "live/changefollower.h"
#include "qubes/livesource.h"

#include <QFile>
#include <QLocalServer>
#include <QLocalSocket>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "fakequbesd.h"
#include "qubesdframe.h"
#include "realqubes.h"

using namespace netmap;

namespace {
const QString kData = QStringLiteral(NETMAP_TEST_DATA "/standin/");

QByteArray frame(const QByteArray &subject, const QByteArray &name,
                 const QList<QPair<QByteArray, QByteArray>> &args = {})
{
    return test::qubesdEventFrame(subject, name, args);
}
} // namespace

class tst_LiveFollower : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void init();
    void cleanupTestCase();
    void eventLeadsToRefresh();
    void pollsWithoutSocket();
    void pollSeesQubeGo();
    void descriptions();

private:
    void use(const char *fixture)
    {
        QVERIFY(m_qubes.setState(test::RealQubes::load(kData + QString::fromLatin1(fixture))));
    }
    Snapshot read()
    {
        auto snapshot = readLiveSnapshot();
        return snapshot ? snapshot.value() : Snapshot();
    }
    QByteArray m_path;
    QTemporaryDir m_dir;
    test::RealQubes m_qubes;
};

void tst_LiveFollower::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_path = qgetenv("PATH");
    NETMAP_START_REAL_QUBES(m_qubes,
                            test::RealQubes::load(kData + QStringLiteral("network-a.json")));
    qputenv("PATH", m_qubes.path(m_path));
}

void tst_LiveFollower::init()
{
    use("network-a.json");
}

void tst_LiveFollower::cleanupTestCase()
{
    qputenv("PATH", m_path);
}

void tst_LiveFollower::eventLeadsToRefresh()
{
    Snapshot shown = read();
    QCOMPARE(shown.find(u"work")->netvm->toString(), QStringLiteral("sys-firewall"));
    // Evidence from before the change: it must survive the re-read.
    CheckResult r;
    r.qube = shown.find(u"work")->name;
    r.status = CheckStatus::Pass;
    r.externalIp = QStringLiteral("203.0.113.10");
    r.pathAtRun = {"work", "sys-firewall", "sys-net"};
    shown.checks.push_back(r);

    const QString socketPath = m_dir.filePath(QStringLiteral("qubesd.sock"));
    test::FakeQubesd qubesd;
    QVERIFY(qubesd.listen(socketPath));
    qubesd.setConfirmStreams(false);
    ChangeFollower follower([&shown] { return shown; });
    QSignalSpy modes(&follower, &ChangeFollower::modeChanged);
    QSignalSpy changed(&follower, &ChangeFollower::changed);
    QSignalSpy unchanged(&follower, &ChangeFollower::unchanged);
    FollowOptions options;
    options.socketPath = socketPath;
    options.pollIntervalMs = 600000; // never: only the event may cause a read
    follower.start(options);
    QTRY_COMPARE_WITH_TIMEOUT(qubesd.openStreams(), 1, 5000);
    // Connected, but qubesd has not confirmed the stream: still polling.
    QTest::qWait(200);
    QCOMPARE(follower.mode(), ChangeFollower::Mode::Polling);
    qubesd.sendEvent(frame("", "connection-established"));
    QTRY_COMPARE(follower.mode(), ChangeFollower::Mode::Events);
    QCOMPARE(follower.description(), QStringLiteral("following changes (qubesd events)"));
    QTRY_COMPARE_WITH_TIMEOUT(unchanged.size(), 1, 10000); // the catch-up read on connecting
    QVERIFY(changed.isEmpty());

    // qvm-prefs work netvm sys-vpn happened: qubesd says so.
    use("network-b.json");
    qubesd.sendEvent(
        frame("work", "property-set:netvm",
              {{"name", "netvm"}, {"newvalue", "sys-vpn"}, {"oldvalue", "sys-firewall"}}));
    qubesd.sendEvent(frame("work", "property-set:memory", {{"newvalue", "4000"}})); // not relevant
    QTRY_COMPARE_WITH_TIMEOUT(changed.size(), 1, 10000);
    const auto fresh = changed.first().at(0).value<Snapshot>();
    const auto diff = changed.first().at(1).value<SnapshotDiff>();
    QCOMPARE(diff.netvmChanged, QStringList {"work"});
    QVERIFY(diff.added.isEmpty() && diff.removed.isEmpty());
    QCOMPARE(fresh.find(u"work")->netvm->toString(), QStringLiteral("sys-vpn"));
    QCOMPARE(fresh.checks.size(), size_t(1)); // carried over; its path is the old one: stale
    QCOMPARE(fresh.checks.front().pathAtRun, QStringList({"work", "sys-firewall", "sys-net"}));
    QTest::qWait(500);
    QCOMPARE(changed.size(), 1); // one event, one read
    QCOMPARE(unchanged.size(), 1);

    // qubesd ends the stream: the follower falls back to polling.
    qubesd.close();
    QTRY_COMPARE(follower.mode(), ChangeFollower::Mode::Polling);
    follower.stop();
    QCOMPARE(follower.mode(), ChangeFollower::Mode::Off);
    QCOMPARE(modes.last().first().value<ChangeFollower::Mode>(), ChangeFollower::Mode::Off);
}

void tst_LiveFollower::pollsWithoutSocket()
{
    const Snapshot shown = read();
    ChangeFollower follower([&shown] { return shown; });
    QSignalSpy changed(&follower, &ChangeFollower::changed);
    QSignalSpy unchanged(&follower, &ChangeFollower::unchanged);
    FollowOptions options;
    options.socketPath = m_dir.filePath(QStringLiteral("no-such.sock"));
    options.pollIntervalMs = 300;
    follower.start(options);
    QCOMPARE(follower.mode(), ChangeFollower::Mode::Polling);
    QCOMPARE(follower.description(), QStringLiteral("following changes (polling every 300 ms)"));
    QTRY_VERIFY_WITH_TIMEOUT(unchanged.size() >= 1, 10000);
    QVERIFY(changed.isEmpty());
    use("network-b.json");
    QTRY_VERIFY_WITH_TIMEOUT(changed.size() >= 1, 10000);
    QCOMPARE(changed.first().at(1).value<SnapshotDiff>().netvmChanged, QStringList {"work"});
    QCOMPARE(follower.mode(), ChangeFollower::Mode::Polling);
}

void tst_LiveFollower::pollSeesQubeGo()
{
    const Snapshot shown = read();
    ChangeFollower follower([&shown] { return shown; });
    QSignalSpy changed(&follower, &ChangeFollower::changed);
    FollowOptions options;
    options.useEvents = false;
    options.pollIntervalMs = 300;
    use("network-c.json");
    follower.start(options);
    QTRY_VERIFY_WITH_TIMEOUT(changed.size() >= 1, 10000);
    const auto diff = changed.first().at(1).value<SnapshotDiff>();
    QCOMPARE(diff.removed, QStringList {"untrusted"});
    QVERIFY(diff.changesLinks());
}

void tst_LiveFollower::descriptions()
{
    ChangeFollower follower([] { return Snapshot(); });
    QCOMPARE(follower.description(), QString());
    FollowOptions options;
    options.useEvents = false; // default interval
    follower.start(options);
    QCOMPARE(follower.description(), QStringLiteral("following changes (polling every 10 s)"));
    follower.stop();
}

QTEST_GUILESS_MAIN(tst_LiveFollower)
#include "tst_livefollower.moc"
