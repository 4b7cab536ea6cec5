#include "io/snapshotyaml.h"
#include "model/snapshotdiff.h"
#include "qubes/qubesdevents.h"

#include <QLocalServer>
#include <QLocalSocket>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "qubesdframe.h"

using namespace netmap;

namespace {

QByteArray frame(const QByteArray &subject, const QByteArray &name,
                 const QList<QPair<QByteArray, QByteArray>> &args = {})
{
    return test::qubesdEventFrame(subject, name, args);
}

} // namespace

class tst_QubesdEvents : public QObject
{
    Q_OBJECT
private slots:
    void parser_data();
    void parser();
    void parserByteByByte();
    void relevance();
    void fakeQubesdSocket();
    void missingSocket();
    void diff();
};

void tst_QubesdEvents::parser_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<int>("count");
    QTest::addColumn<bool>("ok");
    QTest::newRow("connection") << frame("", "connection-established") << 1 << true;
    QTest::newRow("netvm set") << frame(
        "work", "property-set:netvm",
        {{"name", "netvm"}, {"newvalue", "sys-vpn"}, {"oldvalue", "sys-firewall"}})
                               << 1 << true;
    QTest::newRow("two") << frame("", "domain-add", {{"vm", "new"}}) + frame("new", "domain-start")
                         << 2 << true;
    QTest::newRow("partial") << frame("work", "domain-start").chopped(1) << 0 << true;
    QTest::newRow("empty value") << frame("work", "property-set:ip", {{"newvalue", ""}}) << 1
                                 << true;
    QTest::newRow("bad header") << QByteArray("2\0QubesException\0\0", 18) << 0 << false;
    QTest::newRow("control char") << frame("wo\x1bk", "domain-start") << 0 << false;
    QTest::newRow("bad utf8") << frame("w\xff", "domain-start") << 0 << false;
    QTest::newRow("empty event name") << frame("work", "") << 0 << false;
    QTest::newRow("huge field") << QByteArray("1\0", 2) + QByteArray(70000, 'a') << 0 << false;
}

void tst_QubesdEvents::parser()
{
    QFETCH(QByteArray, bytes);
    QFETCH(int, count);
    QFETCH(bool, ok);
    QubesdEventParser parser;
    std::vector<QubesdEvent> events;
    QCOMPARE(parser.feed(bytes, &events), ok);
    QCOMPARE(int(events.size()), count);
    if (!ok)
        QVERIFY(!parser.error().isEmpty());
}

void tst_QubesdEvents::parserByteByByte()
{
    const QByteArray bytes = frame("work", "property-set:netvm", {{"newvalue", "sys-vpn"}})
        + frame("", "domain-delete", {{"vm", "old"}});
    QubesdEventParser parser;
    std::vector<QubesdEvent> events;
    for (char c : bytes)
        QVERIFY(parser.feed(QByteArray(1, c), &events));
    QCOMPARE(events.size(), size_t(2));
    QCOMPARE(events[0].subject, QStringLiteral("work"));
    QCOMPARE(events[0].argument(u"newvalue"), QStringLiteral("sys-vpn"));
    QCOMPARE(events[1].subject, QString());
    QCOMPARE(events[1].argument(u"vm"), QStringLiteral("old"));
}

void tst_QubesdEvents::relevance()
{
    auto e = [](const char *subject, const char *name) {
        QubesdEvent ev;
        ev.subject = QString::fromLatin1(subject);
        ev.name = QString::fromLatin1(name);
        return ev;
    };
    QVERIFY(e("work", "property-set:netvm").affectsMap());
    QVERIFY(e("work", "property-reset:netvm").affectsMap());
    QVERIFY(e("", "domain-add").affectsMap());
    QVERIFY(e("work", "domain-shutdown").affectsMap());
    QVERIFY(e("", "property-set:default_netvm").affectsMap());
    QVERIFY(!e("work", "property-set:memory").affectsMap());
    QVERIFY(!e("", "connection-established").affectsMap());
    QVERIFY(!e("work", "domain-qdb-change:/qubes-ip").affectsMap());
}

void tst_QubesdEvents::fakeQubesdSocket()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("qubesd.sock"));
    QLocalServer server;
    QVERIFY(server.listen(path));
    QubesdEventStream stream(path);
    QSignalSpy events(&stream, &QubesdEventStream::eventReceived);
    QSignalSpy changed(&stream, &QubesdEventStream::mapChanged);
    stream.start(200);
    QVERIFY(server.waitForNewConnection(5000));
    QLocalSocket *client = server.nextPendingConnection();
    QTRY_COMPARE(client->bytesAvailable(), qint64(24));
    QCOMPARE(client->readAll(), QByteArray("dom0\0admin.Events\0dom0\0\0", 24));
    client->write(frame("", "connection-established"));
    client->write(frame("work", "property-set:netvm", {{"newvalue", "sys-vpn"}}).left(10));
    client->flush();
    QTRY_COMPARE(events.size(), 1);
    client->write(frame("work", "property-set:netvm", {{"newvalue", "sys-vpn"}}).mid(10));
    client->write(frame("work", "property-set:netvm", {{"newvalue", "sys-net"}}));
    client->flush();
    QTRY_COMPARE(events.size(), 3);
    // Two relevant events within the debounce window: one change signal.
    QTRY_COMPARE(changed.size(), 1);
    QTest::qWait(400);
    QCOMPARE(changed.size(), 1);

    // A lie on the stream ends it; the stream reconnects.
    QSignalSpy unavailable(&stream, &QubesdEventStream::unavailable);
    client->write(QByteArray("garbage\0", 8));
    client->flush();
    QTRY_VERIFY(unavailable.size() >= 1);
    QTRY_VERIFY_WITH_TIMEOUT(server.hasPendingConnections(), 5000);
    stream.stop();
}

void tst_QubesdEvents::missingSocket()
{
    QubesdEventStream stream(QStringLiteral("/nonexistent/qubesd.sock"));
    QSignalSpy unavailable(&stream, &QubesdEventStream::unavailable);
    stream.start(60000);
    QTRY_COMPARE(unavailable.size(), 1);
    QVERIFY(unavailable.first().first().toString().contains(
        QStringLiteral("/nonexistent/qubesd.sock")));
    QVERIFY(!stream.isListening());
}

void tst_QubesdEvents::diff()
{
    const Snapshot a = demoSnapshot();
    Snapshot b = a;
    QVERIFY(diffSnapshots(a, b).isEmpty());
    b.qubes[size_t(b.indexOf(u"work"))].netvm = QubeName::fromUntrusted(u"sys-vpn");
    b.qubes[size_t(b.indexOf(u"vault"))].state = QStringLiteral("Running");
    b.qubes.erase(b.qubes.begin() + b.indexOf(u"untrusted"));
    const SnapshotDiff d = diffSnapshots(a, b);
    QCOMPARE(d.netvmChanged, QStringList({"work"}));
    QCOMPARE(d.otherChanged, QStringList({"vault"}));
    QCOMPARE(d.removed, QStringList({"untrusted"}));
    QVERIFY(d.added.isEmpty());
    QVERIFY(d.changesLinks());

    Snapshot fresh = b;
    fresh.checks.clear();
    carryEvidence(a, &fresh);
    QVERIFY(!fresh.checks.empty());
    for (const CheckResult &r : fresh.checks)
        QVERIFY(r.qube.toString() != QLatin1String("untrusted"));
}

QTEST_GUILESS_MAIN(tst_QubesdEvents)
#include "tst_qubesdevents.moc"
