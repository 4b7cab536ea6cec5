#include "formats/snapshotyaml.h"
#include "model/snapshotdiff.h"
#include "qubes/qubesdevents.h"

#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "fakequbesd.h"
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
    void request();
    void fakeQubesdSocket();
    void refusedOrSilent();
    void qrexecInManagementQube();
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

void tst_QubesdEvents::request()
{
    // What qubesadmin.events writes (qubesadmin/events/__init__.py, _get_events_reader).
    QCOMPARE(qubesdEventsRequest(), QByteArray("admin.Events+ dom0 name dom0\0", 29));
}

void tst_QubesdEvents::fakeQubesdSocket()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("qubesd.sock"));
    test::FakeQubesd qubesd;
    QVERIFY(qubesd.listen(path));
    qubesd.setConfirmStreams(false);
    QubesdEventStream stream(path);
    QSignalSpy listening(&stream, &QubesdEventStream::listening);
    QSignalSpy events(&stream, &QubesdEventStream::eventReceived);
    QSignalSpy changed(&stream, &QubesdEventStream::mapChanged);
    stream.start(200);
    // qubesd parses nothing before EOF: the request arrives only because writing was shut down.
    QTRY_COMPARE_WITH_TIMEOUT(qubesd.requests().size(), 1, 5000);
    const auto request = qubesd.requests().first();
    QVERIFY2(request.framed, request.raw.toPercentEncoding().constData());
    QCOMPARE(request.raw, QByteArray("admin.Events+ dom0 name dom0\0", 29));
    QCOMPARE(request.method, QByteArray("admin.Events"));
    QCOMPARE(request.dest, QByteArray("dom0"));
    QCOMPARE(stream.transport(), QubesdEventStream::Transport::Socket);

    // Connected is not listening: only connection-established says the stream is live.
    QTest::qWait(200);
    QVERIFY(!stream.isListening());
    QCOMPARE(listening.size(), 0);
    qubesd.sendEvent(frame("work", "property-set:netvm", {{"newvalue", "sys-vpn"}}));
    QTest::qWait(100);
    QCOMPARE(events.size(), 0);
    qubesd.sendEvent(frame("", "connection-established"));
    QTRY_COMPARE(listening.size(), 1);
    QVERIFY(stream.isListening());

    const QByteArray netvm = frame("work", "property-set:netvm", {{"newvalue", "sys-vpn"}});
    qubesd.sendEvent(netvm.left(10));
    QTest::qWait(50);
    QCOMPARE(events.size(), 0);
    qubesd.sendEvent(netvm.mid(10));
    qubesd.sendEvent(frame("work", "property-set:netvm", {{"newvalue", "sys-net"}}));
    QTRY_COMPARE(events.size(), 2);
    // Two relevant events within the debounce window: one change signal.
    QTRY_COMPARE(changed.size(), 1);
    QTest::qWait(400);
    QCOMPARE(changed.size(), 1);

    // A lie on the stream ends it; the stream reconnects.
    QSignalSpy unavailable(&stream, &QubesdEventStream::unavailable);
    QSignalSpy unavailableNow(&stream, &QubesdEventStream::unavailable);
    qubesd.setConfirmStreams(true); // for the next connection
    qubesd.sendEvent(QByteArray("garbage\0", 8));
    QVERIFY(unavailableNow.wait(5000));
    QVERIFY(!stream.isListening());
    QTRY_VERIFY_WITH_TIMEOUT(qubesd.accepted() >= 2, 5000);

    // qubesd ends the stream: unavailable, not listening, and a new connection later.
    QTRY_VERIFY_WITH_TIMEOUT(stream.isListening(), 5000);
    unavailable.clear();
    qubesd.endStreams();
    QTRY_VERIFY(unavailable.size() >= 1);
    QVERIFY(!stream.isListening());
    QTRY_VERIFY_WITH_TIMEOUT(qubesd.accepted() >= 3, 5000);
    stream.stop();
}

void tst_QubesdEvents::refusedOrSilent()
{
    // qubesd answering with an exception, or closing without a word: never listening.
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("qubesd.sock"));
    test::FakeQubesd qubesd;
    QVERIFY(qubesd.listen(path));
    qubesd.setConfirmStreams(false);
    QubesdEventStream stream(path);
    QSignalSpy listening(&stream, &QubesdEventStream::listening);
    QSignalSpy unavailable(&stream, &QubesdEventStream::unavailable);
    stream.start(60000);
    QTRY_COMPARE_WITH_TIMEOUT(qubesd.openStreams(), 1, 5000);
    qubesd.sendEvent(QByteArray("2\0QubesException\0\0denied\0", 26));
    qubesd.endStreams(); // qubesd closes after an exception
    QTRY_COMPARE(unavailable.size(), 1);
    QVERIFY(unavailable.first().first().toString().contains(QStringLiteral("refused")));
    QCOMPARE(listening.size(), 0);
    stream.start(60000);
    QTRY_COMPARE_WITH_TIMEOUT(qubesd.openStreams(), 1, 5000);
    qubesd.endStreams();
    QTRY_COMPARE(unavailable.size(), 2);
    QVERIFY(unavailable.last().first().toString().contains(QStringLiteral("without an answer")));
    QCOMPARE(listening.size(), 0);
}

void tst_QubesdEvents::qrexecInManagementQube()
{
    // No socket, qrexec-client-vm on PATH: the stream comes from "qrexec-client-vm dom0
    // admin.Events", through the one process runner, with stdin closed.
    QTemporaryDir dir;
    const QString bin = dir.filePath(QStringLiteral("bin"));
    QVERIFY(QDir().mkpath(bin));
    const QString argsFile = dir.filePath(QStringLiteral("args"));
    QFile script(bin + QStringLiteral("/qrexec-client-vm"));
    QVERIFY(script.open(QIODevice::WriteOnly));
    script.write("#!/bin/sh\n"
                 "echo \"$@\" > \""
                 + argsFile.toLocal8Bit()
                 + "\"\n"
                   "cat >/dev/null\n" // stdin must be at EOF, or this waits forever
                   "printf '1\\0\\0connection-established\\0\\0'\n"
                   "printf '1\\0work\\0property-set:netvm\\0newvalue\\0sys-vpn\\0\\0'\n"
                   "sleep 0.5\n");
    script.close();
    QVERIFY(script.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner
                                  | QFileDevice::ExeOwner));
    const QByteArray oldPath = qgetenv("PATH");
    qputenv("PATH", bin.toLocal8Bit() + ':' + oldPath);
    QubesdEventStream stream(dir.filePath(QStringLiteral("no-such.sock")));
    QSignalSpy listening(&stream, &QubesdEventStream::listening);
    QSignalSpy events(&stream, &QubesdEventStream::eventReceived);
    QSignalSpy unavailable(&stream, &QubesdEventStream::unavailable);
    stream.start(60000);
    QCOMPARE(stream.transport(), QubesdEventStream::Transport::Qrexec);
    QCOMPARE(stream.transportDescription(), QStringLiteral("qrexec-client-vm dom0 admin.Events"));
    QTRY_COMPARE_WITH_TIMEOUT(listening.size(), 1, 5000);
    QTRY_COMPARE(events.size(), 1);
    QCOMPARE(events.first().first().value<QubesdEvent>().argument(u"newvalue"),
             QStringLiteral("sys-vpn"));
    QTRY_COMPARE_WITH_TIMEOUT(unavailable.size(), 1, 5000); // the stream ended
    QVERIFY(!stream.isListening());
    stream.stop();
    qputenv("PATH", oldPath);
    QFile args(argsFile);
    QVERIFY(args.open(QIODevice::ReadOnly));
    QCOMPARE(args.readAll().trimmed(), QByteArray("dom0 admin.Events"));
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
