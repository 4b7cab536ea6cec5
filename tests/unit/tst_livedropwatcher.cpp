// The dropped-traffic watch: the exact commands (the self-removal starts before the rule is
// added), and the watch through the real qvm-run against the qubesd stand-in, whose
// qrexec-client runs the commands in a scripted network qube (tests/support/scriptednetqube.h)
// that records them and prints log lines.

#include "live/dropwatcher.h"

#include "realqubes.h"
#include "scriptednetqube.h"

#include <QFile>
#include <QJsonArray>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace netmap;

namespace {

const QString kToken = QStringLiteral("0123456789abcdef");

DropWatchPlan plan(int seconds = 60)
{
    return planDropWatch(*QubeName::fromUntrusted(u"sys-firewall"), seconds, kToken).value();
}
} // namespace

class tst_LiveDropWatcher : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void init();
    void cleanupTestCase();
    void commands();
    void refusals_data();
    void refusals();
    void tokens();
    void watchAndStop();
    void armFailure();
    void firewallRulesCounted_data();
    void firewallRulesCounted();
    void stopBlocking();

private:
    QByteArray m_path;
    QTemporaryDir m_dir;
    test::RealQubes m_qubes;
    QString logPath() const { return m_dir.filePath(QStringLiteral("calls.log")); }
    QStringList scripts() const
    {
        QFile f(logPath());
        if (!f.open(QIODevice::ReadOnly))
            return {};
        QStringList out;
        for (const QString &call : QString::fromUtf8(f.readAll()).split(u'\n', Qt::SkipEmptyParts))
            out << call.section(u'\t', 1);
        return out;
    }
};

void tst_LiveDropWatcher::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_path = qgetenv("PATH");
    const QString qube = test::writeScriptedNetQube(m_dir.path());
    QVERIFY(!qube.isEmpty());
    const QJsonObject state {
        {QStringLiteral("qubes"),
         QJsonObject {{QStringLiteral("sys-net"),
                       QJsonObject {{QStringLiteral("provides_network"), true},
                                    {QStringLiteral("netvm"), QJsonValue::Null}}},
                      {QStringLiteral("sys-firewall"),
                       QJsonObject {{QStringLiteral("provides_network"), true},
                                    {QStringLiteral("netvm"), QStringLiteral("sys-net")}}}}}};
    NETMAP_START_REAL_QUBES(m_qubes, state, qube);
    qputenv("PATH", m_qubes.path(m_path));
}

void tst_LiveDropWatcher::init()
{
    QFile::remove(logPath());
    QFile::remove(m_dir.filePath(QStringLiteral("arm-fail")));
    QFile::remove(m_dir.filePath(QStringLiteral("arm-out")));
    QFile::remove(m_dir.filePath(QStringLiteral("lines")));
}

void tst_LiveDropWatcher::cleanupTestCase()
{
    qputenv("PATH", m_path);
}

void tst_LiveDropWatcher::commands()
{
    const DropWatchPlan p = plan(90);
    const QStringList head {
        "--pass-io", "--no-gui", "--no-colour-output", "--no-colour-stderr", "--no-autostart",
        "-u",        "root",     "sys-firewall"};
    for (const CommandSpec *spec : {&p.arm, &p.stream, &p.disarm}) {
        QCOMPARE(spec->program, QStringLiteral("qvm-run"));
        QCOMPARE(spec->arguments.mid(0, 8), head);
        QCOMPARE(spec->arguments.size(), 9);
        const QString script = spec->arguments.last();
        QVERIFY(!script.contains(u'\n')); // one line: the confirmation shows it as it runs
        // Every placeholder filled (printf's own %s stays).
        QVERIFY(!script.contains(QRegularExpression(QStringLiteral("%[A-Z]+%"))));
    }
    const QString arm = p.arm.arguments.last();
    // The removal timer is started before the rule is inserted, and it deletes this watch's rule.
    const qsizetype timer = arm.indexOf(QStringLiteral("setsid sh -c 'sleep 90;"));
    const qsizetype insert = arm.indexOf(QStringLiteral("nft insert rule ip qubes forward"));
    QVERIFY(timer > 0);
    QVERIFY(insert > timer);
    QVERIFY(arm.indexOf(QStringLiteral("netmap-watch-0123456789abcdef"), timer) < insert);
    // The log prefix carries the token: lines of another watch, or of none, are told apart.
    QVERIFY(arm.contains(QStringLiteral("log prefix '\"netmap-drop-0123456789abcdef: \"'")));
    QVERIFY(arm.contains(QStringLiteral("comment '\"netmap-watch-0123456789abcdef\"'")));
    QVERIFY(arm.contains(QStringLiteral("limit rate 20/second")));
    QVERIFY(p.stream.streamLines);
    QCOMPARE(p.stream.maxLineBytes, kMaxDropLogLine);
    QVERIFY(p.stream.arguments.last().contains(QStringLiteral("timeout 90 journalctl -k -f")));
    QVERIFY(p.stream.arguments.last().contains(QStringLiteral("timeout 90 dmesg -W")));
    QVERIFY(p.stream.timeoutMs > 90000);
    // In front of each reject of the qubes-firewall service (the per-client chains qbs-…), after
    // the timer, which removes those too; with their own prefix, so a reject is told from an
    // isolation drop.
    const qsizetype rejects = arm.indexOf(QStringLiteral("insert rule ip qubes-firewall %s"));
    QVERIFY(rejects > timer);
    QVERIFY(rejects < insert);
    QVERIFY(arm.indexOf(QStringLiteral("nft delete rule ip qubes-firewall"), timer) < rejects);
    QVERIFY(arm.contains(QStringLiteral("/^qbs-[0-9a-f-]+$/")));
    QVERIFY(arm.contains(QStringLiteral("/[ \\t]reject( |$)/")));
    QVERIFY(arm.contains(QStringLiteral("log prefix \\\"netmap-drop-0123456789abcdef-fw: \\\"")));
    QVERIFY(arm.contains(QStringLiteral("| nft -f -")));
    const QString disarm = p.disarm.arguments.last();
    QVERIFY(disarm.contains(QStringLiteral("/netmap-watch-0123456789abcdef/")));
    QVERIFY(disarm.contains(QStringLiteral("nft delete rule ip qubes forward")));
    QVERIFY(disarm.contains(QStringLiteral("nft delete rule ip qubes-firewall \"$c\"")));
    // It fails when any rule of this watch is left, wherever it is.
    QVERIFY(disarm.contains(
        QStringLiteral("if nft list ruleset | grep -q netmap-watch-0123456789abcdef; then")));
    QCOMPARE(p.ruleComment(), QStringLiteral("netmap-watch-0123456789abcdef"));
}

void tst_LiveDropWatcher::refusals_data()
{
    QTest::addColumn<QString>("qube");
    QTest::addColumn<int>("seconds");
    QTest::addColumn<QString>("token");
    QTest::newRow("dom0") << "dom0" << 60 << kToken;
    QTest::newRow("too short") << "sys-net" << 5 << kToken;
    QTest::newRow("too long") << "sys-net" << 7200 << kToken;
    QTest::newRow("token with a quote") << "sys-net" << 60 << "0123456789abcd'f";
    QTest::newRow("token uppercase") << "sys-net" << 60 << "0123456789ABCDEF";
    QTest::newRow("token short") << "sys-net" << 60 << "0123";
}

void tst_LiveDropWatcher::refusals()
{
    QFETCH(QString, qube);
    QFETCH(int, seconds);
    QFETCH(QString, token);
    QVERIFY(!planDropWatch(*QubeName::fromUntrusted(qube), seconds, token));
}

void tst_LiveDropWatcher::tokens()
{
    const QString a = newDropWatchToken();
    QVERIFY(planDropWatch(*QubeName::fromUntrusted(u"sys-net"), 60, a));
    QVERIFY(a != newDropWatchToken());
}

void tst_LiveDropWatcher::watchAndStop()
{
    QFile lines(m_dir.filePath(QStringLiteral("lines"))); // what the kernel log shows
    QVERIFY(lines.open(QIODevice::WriteOnly | QIODevice::Truncate));
    // Two lines of this watch, one broken line, and two forged ones a process in the qube could
    // write (no token, another watch's token): the forged ones are refused and counted.
    lines.write("netmap-drop-0123456789abcdef: IN=vif3.0 OUT=vif4.0 SRC=10.137.0.15 "
                "DST=10.137.0.16 LEN=84 "
                "TOS=0x00 PREC=0x00 TTL=63 ID=1 DF PROTO=ICMP TYPE=8 CODE=0 ID=7 SEQ=1 \n"
                "[ 10.000001] usb 1-1: new device\n"
                "netmap-drop-0123456789abcdef: IN=vif3.0 OUT=vif4.0 SRC=10.137.0.15 DST=<script> "
                "PROTO=TCP\n"
                "netmap-drop: IN=vif3.0 OUT=vif4.0 SRC=10.137.0.66 DST=10.137.0.16 PROTO=UDP "
                "SPT=1 DPT=2\n"
                "[ 10.2] netmap-drop-fedcba9876543210: IN=vif3.0 OUT=vif4.0 SRC=10.137.0.66 "
                "DST=10.137.0.16 PROTO=UDP SPT=1 DPT=2\n"
                "[ 10.5] netmap-drop-0123456789abcdef: IN=vif3.0 OUT=vif4.0 SRC=10.137.0.15 "
                "DST=10.137.0.16 "
                "LEN=60 TOS=0x00 PREC=0x00 TTL=63 ID=2 DF PROTO=TCP SPT=40000 DPT=22 "
                "WINDOW=64240 RES=0x00 SYN URGP=0 \n"
                "[ 10.6] netmap-drop-0123456789abcdef-fw: IN=vif3.0 OUT=eth0 SRC=10.137.0.15 "
                "DST=192.0.2.10 LEN=60 TOS=0x00 PREC=0x00 TTL=63 ID=3 DF PROTO=TCP SPT=40001 "
                "DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 \n");
    lines.close();

    DropWatcher watcher;
    QSignalSpy started(&watcher, &DropWatcher::started);
    QSignalSpy dropped(&watcher, &DropWatcher::packetDropped);
    QSignalSpy refused(&watcher, &DropWatcher::lineRefused);
    QSignalSpy stopped(&watcher, &DropWatcher::stopped);
    watcher.start(plan());
    QCOMPARE(watcher.state(), DropWatcher::State::Arming);
    QVERIFY(started.wait(10000));
    QCOMPARE(watcher.state(), DropWatcher::State::Watching);
    QCOMPARE(watcher.firewallLogRules(), 2); // "netmap-armed 7 2"
    QTRY_COMPARE_WITH_TIMEOUT(dropped.size(), 3, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(refused.size(), 3, 5000); // other kernel messages are ignored
    QCOMPARE(watcher.refusedLines(), 3);
    QCOMPARE(refused.at(1).at(1).toString(), QStringLiteral("a line without this watch's token"));
    QCOMPARE(refused.at(2).at(1).toString(), QStringLiteral("a line with another watch's token"));
    const auto first = dropped.at(0).at(1).value<DroppedPacket>();
    QCOMPARE(first.protocol, QStringLiteral("ICMP"));
    const auto second = dropped.at(1).at(1).value<DroppedPacket>();
    QCOMPARE(second.destinationPort, 22);
    QVERIFY(!second.rejectedByQubeFirewall);
    const auto third = dropped.at(2).at(1).value<DroppedPacket>();
    QVERIFY(third.rejectedByQubeFirewall);
    QCOMPARE(third.destination, QStringLiteral("192.0.2.10"));
    QCOMPARE(dropped.at(0).at(0).toString(), QStringLiteral("sys-firewall"));

    watcher.stop();
    QVERIFY(stopped.wait(10000));
    QCOMPARE(stopped.first().at(1).toString(), QString()); // asked for, removed cleanly
    QCOMPARE(watcher.state(), DropWatcher::State::Idle);
    const QStringList runs = scripts();
    QCOMPARE(runs.size(), 3);
    QVERIFY(runs[0].contains(QStringLiteral("nft insert rule")));
    QVERIFY(runs[1].contains(QStringLiteral("journalctl")));
    QVERIFY(runs[2].contains(QStringLiteral("nft delete rule")));
}

void tst_LiveDropWatcher::armFailure()
{
    QFile fail(m_dir.filePath(QStringLiteral("arm-fail")));
    QVERIFY(fail.open(QIODevice::WriteOnly));
    fail.write("no oifgroup 2 drop rule in table ip qubes chain forward\n");
    fail.close();
    DropWatcher watcher;
    QSignalSpy failed(&watcher, &DropWatcher::failed);
    QSignalSpy started(&watcher, &DropWatcher::started);
    watcher.start(plan());
    QVERIFY(failed.wait(10000));
    const QString message = failed.first().at(1).toString();
    QVERIFY(message.contains(QStringLiteral("exited with 3")));
    QVERIFY(message.contains(QStringLiteral("no oifgroup 2 drop rule")));
    QVERIFY(started.isEmpty());
    QCOMPARE(watcher.state(), DropWatcher::State::Idle);
    QCOMPARE(scripts().size(), 1); // no stream was started
}

// What the arm prints about the qubes-firewall rejects: how many got a logging rule, or that
// nft refused them (the watch goes on with the isolation drop alone).
void tst_LiveDropWatcher::firewallRulesCounted_data()
{
    QTest::addColumn<QByteArray>("out");
    QTest::addColumn<int>("rules");
    QTest::newRow("three") << QByteArray("netmap-armed 7 3\n") << 3;
    QTest::newRow("none") << QByteArray("netmap-armed 7 0\n") << 0;
    QTest::newRow("refused") << QByteArray("netmap-armed 7 refused\n") << -1;
    QTest::newRow("not said") << QByteArray("netmap-armed 7\n") << -1;
    QTest::newRow("absurd") << QByteArray("netmap-armed 7 99999\n") << -1;
}

void tst_LiveDropWatcher::firewallRulesCounted()
{
    QFETCH(QByteArray, out);
    QFETCH(int, rules);
    QFile f(m_dir.filePath(QStringLiteral("arm-out")));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(out);
    f.close();
    DropWatcher watcher;
    QSignalSpy started(&watcher, &DropWatcher::started);
    QSignalSpy stopped(&watcher, &DropWatcher::stopped);
    watcher.start(plan());
    QVERIFY(started.wait(10000));
    QCOMPARE(watcher.firewallLogRules(), rules);
    watcher.stop();
    QVERIFY(stopped.wait(10000));
}

void tst_LiveDropWatcher::stopBlocking()
{
    auto *watcher = new DropWatcher;
    QSignalSpy started(watcher, &DropWatcher::started);
    watcher->start(plan());
    QVERIFY(started.wait(10000));
    delete watcher; // quitting: the rule is removed before the watcher is gone
    // (The stream may be killed before the fake could note its call.)
    const QStringList runs = scripts();
    QVERIFY(runs.size() >= 2);
    QVERIFY(runs.first().contains(QStringLiteral("nft insert rule")));
    QVERIFY(runs.last().contains(QStringLiteral("nft delete rule")));
}

QTEST_GUILESS_MAIN(tst_LiveDropWatcher)
#include "tst_livedropwatcher.moc"
