// Re-routing a qube: which netvms are offered, the exact qvm-prefs commands for the change and
// its undo, the anon-vm warning, and that nothing is changed before apply() is called (the real
// qvm-prefs against the qubesd stand-in, whose log and state show every change).

#include "formats/snapshotyaml.h"
#include "live/reroute.h"
#include "model/snapshot.h"
#include "snapshots.h"

#include "realqubes.h"

#include <QFile>
#include <QJsonArray>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace netmap;

Q_DECLARE_METATYPE(std::optional<QString>)

namespace {
// The networked qubes of the demo snapshot, as the stand-in serves them (work uses the default
// netvm unless a test says otherwise).
QJsonObject demoState(const QJsonObject &work = {})
{
    const auto provider = [](const char *netvm, const char *state = "Running") {
        return QJsonObject {
            {QStringLiteral("provides_network"), true},
            {QStringLiteral("netvm"),
             netvm ? QJsonValue(QString::fromLatin1(netvm)) : QJsonValue(QJsonValue::Null)},
            {QStringLiteral("state"), QString::fromLatin1(state)}};
    };
    return QJsonObject {
        {QStringLiteral("globals"),
         QJsonObject {{QStringLiteral("default_netvm"), QStringLiteral("sys-firewall")}}},
        {QStringLiteral("qubes"),
         QJsonObject {
             {QStringLiteral("sys-net"), provider(nullptr)},
             {QStringLiteral("sys-firewall"), provider("sys-net")},
             {QStringLiteral("sys-vpn"), provider("sys-firewall")},
             {QStringLiteral("sys-whonix"), provider("sys-firewall")},
             {QStringLiteral("vault"), QJsonObject {{QStringLiteral("netvm"), QJsonValue::Null}}},
             {QStringLiteral("work"), work}}}};
}

QString prefsListing(const char *mark, const char *value)
{
    return QStringLiteral(
               "label               -  red\nnetvm               %1  %2\nvcpus               D  2\n")
        .arg(QString::fromLatin1(mark), QString::fromLatin1(value));
}
} // namespace

class tst_LiveReroute : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanupTestCase();
    void candidates_data();
    void candidates();
    void runningQubeOntoHaltedNetvmStartsItFirst();
    void startsTheNetvmWithTheRealClient();
    void listing_data();
    void listing();
    void plans_data();
    void plans();
    void refusals();
    void anonVmWarning();
    void nothingRunsBeforeApply();
    void applyAndUndoRunExactly();
    void failureIsReported();

private:
    QByteArray m_path;
    test::RealQubes m_qubes;
    qsizetype m_seen = 0; // changes() before the test's state
    void use(const QJsonObject &state)
    {
        QVERIFY(m_qubes.setState(state));
        m_seen = 0;
        m_seen = changes().size();
    }
    // The netvm changes qubesd was asked for since use(): "Set work" (a value, also none) or
    // "Reset work" (the default).
    QStringList changes() const
    {
        static const QRegularExpression call(
            QStringLiteral("call b'admin\\.vm\\.property\\.(Set|Reset)'\\+b'netvm' \\(b'dom0' -> "
                           "b'([a-z0-9.-]+)'\\)"));
        QStringList out;
        for (const QString &line : m_qubes.log().split(u'\n')) {
            if (const auto m = call.match(line); m.hasMatch())
                out << m.captured(1) + u' ' + m.captured(2);
        }
        return out.mid(m_seen);
    }
    QString stateOf(const char *qube) const
    {
        return m_qubes.state()
            .value(QStringLiteral("qubes"))
            .toObject()
            .value(QString::fromLatin1(qube))
            .toObject()
            .value(QStringLiteral("state"))
            .toString();
    }
    QJsonValue netvmOf(const char *qube) const
    {
        const QJsonObject q = m_qubes.state()
                                  .value(QStringLiteral("qubes"))
                                  .toObject()
                                  .value(QString::fromLatin1(qube))
                                  .toObject();
        // No netvm (as the test wrote it) or netvm_default (as the stand-in writes it): the
        // default.
        const bool isDefault = !q.contains(QStringLiteral("netvm"))
            || q.value(QStringLiteral("netvm_default")).toBool();
        return isDefault ? QJsonValue(QStringLiteral("default")) : q.value(QStringLiteral("netvm"));
    }
};

void tst_LiveReroute::initTestCase()
{
    m_path = qgetenv("PATH");
    NETMAP_START_REAL_QUBES(m_qubes, demoState());
    qputenv("PATH", m_qubes.path(m_path));
}

void tst_LiveReroute::cleanupTestCase()
{
    qputenv("PATH", m_path);
}

void tst_LiveReroute::candidates_data()
{
    QTest::addColumn<QString>("qube");
    QTest::addColumn<QStringList>("expected");
    const QStringList all {"sys-firewall", "sys-net", "sys-vpn", "sys-whonix"};
    QTest::newRow("app qube") << "work" << all;
    QTest::newRow("no netvm now") << "vault" << all;
    QTest::newRow("anon qube") << "whonix" << all;
    QTest::newRow("provider: not itself, not what is behind it")
        << "sys-firewall" << QStringList {"sys-net"};
    QTest::newRow("vpn qube") << "sys-vpn" << QStringList {"sys-firewall", "sys-net", "sys-whonix"};
    QTest::newRow("root provider: everything else is behind it") << "sys-net" << QStringList();
    QTest::newRow("dom0") << "dom0" << QStringList();
    QTest::newRow("unknown") << "nosuch" << QStringList();
}

void tst_LiveReroute::candidates()
{
    QFETCH(QString, qube);
    QFETCH(QStringList, expected);
    QCOMPARE(netvmCandidates(demoSnapshot(), qube), expected);
}

void tst_LiveReroute::runningQubeOntoHaltedNetvmStartsItFirst()
{
    // qubesd: "Cannot dynamically attach to stopped qube" (the stand-in refuses the same): a
    // running qube is still offered a halted netvm, and the plan starts that netvm first.
    Snapshot s = demoSnapshot();
    s.qubes[size_t(s.indexOf(u"sys-vpn"))].state = QStringLiteral("Halted");
    QCOMPARE(netvmCandidates(s, QStringLiteral("work")),
             QStringList({"sys-firewall", "sys-net", "sys-vpn", "sys-whonix"}));
    const auto plan
        = planNetvmChange(s, QStringLiteral("work"), QStringLiteral("sys-vpn"), std::nullopt);
    QVERIFY(plan);
    QVERIFY(plan->start);
    QCOMPARE(plan->start->display(), QStringLiteral("qvm-start sys-vpn"));
    QCOMPARE(plan->apply.display(), QStringLiteral("qvm-prefs work netvm sys-vpn"));
    QCOMPARE(plan->undo.display(), QStringLiteral("qvm-prefs work netvm sys-firewall"));
    // A running netvm, or a halted qube: nothing to start.
    QVERIFY(!planNetvmChange(s, QStringLiteral("work"), QStringLiteral("sys-net"), std::nullopt)
                 ->start);
    QVERIFY(!needsNetvmStarted(s, QStringLiteral("vault"), QStringLiteral("sys-vpn")));
    QVERIFY(!planNetvmChange(s, QStringLiteral("vault"), QStringLiteral("sys-vpn"), std::nullopt)
                 ->start);
    QCOMPARE(netvmCandidates(s, QStringLiteral("vault")),
             QStringList({"sys-firewall", "sys-net", "sys-vpn", "sys-whonix"}));
}

void tst_LiveReroute::startsTheNetvmWithTheRealClient()
{
    // sys-vpn is halted in qubesd and on the map; work runs.
    QJsonObject state = demoState();
    QJsonObject qubes = state.value(QStringLiteral("qubes")).toObject();
    QJsonObject vpn = qubes.value(QStringLiteral("sys-vpn")).toObject();
    vpn.insert(QStringLiteral("state"), QStringLiteral("Halted"));
    qubes.insert(QStringLiteral("sys-vpn"), vpn);
    state.insert(QStringLiteral("qubes"), qubes);
    use(state);
    Snapshot s = demoSnapshot();
    s.qubes[size_t(s.indexOf(u"sys-vpn"))].state = QStringLiteral("Halted");

    NetvmChanger changer;
    QSignalSpy prepared(&changer, &NetvmChanger::prepared);
    QSignalSpy applied(&changer, &NetvmChanger::applied);
    changer.prepare(s, QStringLiteral("work"), QStringLiteral("sys-vpn"));
    QVERIFY(prepared.wait(20000));
    const auto plan = prepared.first().first().value<NetvmChangePlan>();
    QVERIFY(plan.start);
    QTest::qWait(100);
    QCOMPARE(stateOf("sys-vpn"), QStringLiteral("Halted")); // nothing before apply()
    QVERIFY(!m_qubes.log().contains(QStringLiteral("admin.vm.Start")));

    changer.apply(plan);
    QVERIFY(applied.wait(20000));
    QCOMPARE(stateOf("sys-vpn"), QStringLiteral("Running"));
    QCOMPARE(netvmOf("work"), QJsonValue(QStringLiteral("sys-vpn")));
    const QString log = m_qubes.log();
    const qsizetype started
        = log.lastIndexOf(QStringLiteral("call b'admin.vm.Start'+b'' (b'dom0' -> b'sys-vpn')"));
    const qsizetype set = log.lastIndexOf(
        QStringLiteral("call b'admin.vm.property.Set'+b'netvm' (b'dom0' -> b'work')"));
    QVERIFY(started > 0);
    QVERIFY(set > started);
    QCOMPARE(changes(), QStringList {"Set work"}); // no refused attempt before the start
    QVERIFY(!log.contains(QStringLiteral("QubesVMNotStartedError")));

    // The start fails: nothing else is changed, and the message is qvm-start's.
    QJsonObject misbehave {{QStringLiteral("error"),
                            QJsonObject {{QStringLiteral("admin.vm.Start"),
                                          QJsonArray {QStringLiteral("QubesException"),
                                                      QStringLiteral("not enough memory")}}}}};
    state.insert(QStringLiteral("misbehave"), misbehave);
    use(state);
    QSignalSpy failed(&changer, &NetvmChanger::commandFailed);
    changer.apply(plan);
    QVERIFY(failed.wait(20000));
    const QString message = failed.first().at(2).toString();
    QVERIFY2(message.startsWith(QStringLiteral("qvm-start sys-vpn exited with")),
             qPrintable(message));
    QVERIFY2(message.contains(QStringLiteral("not enough memory")), qPrintable(message));
    QCOMPARE(changes(), QStringList());
    QCOMPARE(netvmOf("work"), QJsonValue(QStringLiteral("default")));
}

void tst_LiveReroute::listing_data()
{
    QTest::addColumn<QByteArray>("output");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<bool>("isDefault");
    QTest::addColumn<QString>("value");
    QTest::newRow("default") << prefsListing("D", "sys-firewall").toUtf8() << true << true
                             << "sys-firewall";
    QTest::newRow("set") << prefsListing("-", "sys-vpn").toUtf8() << true << false << "sys-vpn";
    QTest::newRow("set to none") << QByteArray("netvm  -\n") << true << false << "";
    QTest::newRow("set to none, trailing spaces")
        << QByteArray("netvm  -  \r\n") << true << false << "";
    // What the real qvm-prefs prints for a netvm set to none (cli.realclient checks the line).
    QTest::newRow("set to none, as qvm-prefs prints it")
        << QByteArray("name  -  vault\nnetvm  -  None\n") << true << false << "";
    QTest::newRow("unset") << QByteArray("netvm  U\n") << true << false << "";
    QTest::newRow("no netvm line") << QByteArray("label  -  red\n") << false << false << "";
    QTest::newRow("two netvm lines")
        << QByteArray("netvm  D  a\nnetvm  -  b\n") << false << false << "";
    QTest::newRow("bad mark") << QByteArray("netvm  X  sys-net\n") << false << false << "";
    QTest::newRow("bad name") << QByteArray("netvm  -  <b>x</b>\n") << false << false << "";
    QTest::newRow("reserved name") << QByteArray("netvm  -  none\n") << false << false << "";
    QTest::newRow("extra words") << QByteArray("netvm  -  sys-net now\n") << false << false << "";
    QTest::newRow("netvm_like property ignored")
        << QByteArray("netvm_extra  -  x\nnetvm  D  sys-net\n") << true << true << "sys-net";
}

void tst_LiveReroute::listing()
{
    QFETCH(QByteArray, output);
    QFETCH(bool, ok);
    QString why;
    const auto setting = parseNetvmListing(output, &why);
    QCOMPARE(bool(setting), ok);
    if (!ok) {
        QVERIFY(!why.isEmpty());
        return;
    }
    QTEST(setting->isDefault, "isDefault");
    QTEST(setting->value ? setting->value->toString() : QString(), "value");
}

void tst_LiveReroute::plans_data()
{
    QTest::addColumn<QString>("qube");
    QTest::addColumn<std::optional<QString>>("to");
    QTest::addColumn<QByteArray>("listingOutput"); // empty: the listing could not be read
    QTest::addColumn<QString>("apply");
    QTest::addColumn<QString>("undo");
    QTest::newRow("from the default")
        << "work" << std::optional<QString>("sys-vpn") << prefsListing("D", "sys-firewall").toUtf8()
        << "qvm-prefs work netvm sys-vpn"
        << "qvm-prefs --default work netvm";
    QTest::newRow("from a set value")
        << "work" << std::optional<QString>("sys-vpn") << prefsListing("-", "sys-firewall").toUtf8()
        << "qvm-prefs work netvm sys-vpn"
        << "qvm-prefs work netvm sys-firewall";
    QTest::newRow("to none") << "work" << std::optional<QString>()
                             << prefsListing("-", "sys-firewall").toUtf8()
                             << "qvm-prefs work netvm ''"
                             << "qvm-prefs work netvm sys-firewall";
    QTest::newRow("from none") << "vault" << std::optional<QString>("sys-firewall")
                               << QByteArray("netvm  -\n") << "qvm-prefs vault netvm sys-firewall"
                               << "qvm-prefs vault netvm ''";
    QTest::newRow("listing unreadable: undo sets the value qvm-ls showed")
        << "work" << std::optional<QString>("sys-net") << QByteArray()
        << "qvm-prefs work netvm sys-net"
        << "qvm-prefs work netvm sys-firewall";
}

void tst_LiveReroute::plans()
{
    QFETCH(QString, qube);
    QFETCH(std::optional<QString>, to);
    QFETCH(QByteArray, listingOutput);
    std::optional<NetvmSetting> current;
    if (!listingOutput.isEmpty())
        current = parseNetvmListing(listingOutput);
    const auto plan = planNetvmChange(demoSnapshot(), qube, to, current);
    QVERIFY2(plan, plan ? "" : qPrintable(plan.error().message));
    QTEST(plan->apply.display(), "apply");
    QTEST(plan->undo.display(), "undo");
    QCOMPARE(plan->fromKnown, !listingOutput.isEmpty());
    QVERIFY(plan->warning.isEmpty());
}

void tst_LiveReroute::refusals()
{
    const Snapshot demo = demoSnapshot();
    // A loop, itself, a non-provider, dom0, the value it already has.
    QVERIFY(!planNetvmChange(demo, "sys-firewall", QStringLiteral("sys-vpn"), std::nullopt));
    QVERIFY(!planNetvmChange(demo, "sys-vpn", QStringLiteral("sys-vpn"), std::nullopt));
    QVERIFY(!planNetvmChange(demo, "work", QStringLiteral("vault"), std::nullopt));
    QVERIFY(!planNetvmChange(demo, "dom0", QStringLiteral("sys-net"), std::nullopt));
    QVERIFY(!planNetvmChange(demo, "work", QStringLiteral("sys-firewall"), std::nullopt));
    QVERIFY(!planNetvmChange(demo, "vault", std::nullopt, std::nullopt));
}

void tst_LiveReroute::anonVmWarning()
{
    const Snapshot demo = demoSnapshot();
    QVERIFY(demo.find(u"whonix")->hasTag(u"anon-vm"));
    const auto off = planNetvmChange(demo, "whonix", QStringLiteral("sys-firewall"), std::nullopt);
    QVERIFY(off);
    QVERIFY(off->warning.contains(QStringLiteral("anon-vm")));
    QVERIFY(off->warning.contains(QStringLiteral("sys-firewall")));
    // To no netvm at all: nothing leaves, nothing to warn about.
    QVERIFY(netmap::anonVmWarning(demo, "whonix", std::nullopt).isEmpty());
    // A qube without the tag, and a tagged qube staying behind a Whonix gateway.
    QVERIFY(netmap::anonVmWarning(demo, "work", QStringLiteral("sys-net")).isEmpty());
    Snapshot two = demo;
    test::findQube(two, QStringLiteral("work"))->tags << QStringLiteral("anon-vm");
    QVERIFY(netmap::anonVmWarning(two, "work", QStringLiteral("sys-net")).isEmpty());
    QVERIFY(netmap::anonVmWarning(two, "whonix", QStringLiteral("sys-vpn")).contains("sys-vpn"));
}

void tst_LiveReroute::nothingRunsBeforeApply()
{
    use(demoState());
    NetvmChanger changer;
    QSignalSpy prepared(&changer, &NetvmChanger::prepared);
    changer.prepare(demoSnapshot(), QStringLiteral("work"), QStringLiteral("sys-vpn"));
    QVERIFY(prepared.wait(20000));
    const auto plan = prepared.first().first().value<NetvmChangePlan>();
    QCOMPARE(plan.apply.display(), QStringLiteral("qvm-prefs work netvm sys-vpn"));
    QCOMPARE(plan.undo.display(), QStringLiteral("qvm-prefs --default work netvm"));
    QVERIFY(plan.fromDefault);
    QVERIFY(plan.fromKnown);
    QTest::qWait(100);
    QCOMPARE(changes(), QStringList()); // only the read-only listing
    QCOMPARE(netvmOf("work"), QJsonValue(QStringLiteral("default")));
}

void tst_LiveReroute::applyAndUndoRunExactly()
{
    use(demoState({{QStringLiteral("netvm"), QStringLiteral("sys-firewall")}}));
    NetvmChanger changer;
    QSignalSpy prepared(&changer, &NetvmChanger::prepared);
    QSignalSpy applied(&changer, &NetvmChanger::applied);
    QSignalSpy undone(&changer, &NetvmChanger::undone);
    changer.prepare(demoSnapshot(), QStringLiteral("work"), std::nullopt);
    QVERIFY(prepared.wait(20000));
    const auto plan = prepared.first().first().value<NetvmChangePlan>();
    QCOMPARE(plan.apply.display(), QStringLiteral("qvm-prefs work netvm ''"));
    QCOMPARE(plan.undo.display(), QStringLiteral("qvm-prefs work netvm sys-firewall"));
    changer.apply(plan);
    QVERIFY(applied.wait(20000));
    QCOMPARE(changes(), QStringList {"Set work"});
    QCOMPARE(netvmOf("work"), QJsonValue(QJsonValue::Null));
    changer.undo(plan);
    QVERIFY(undone.wait(20000));
    QCOMPARE(changes(), (QStringList {"Set work", "Set work"}));
    QCOMPARE(netvmOf("work"), QJsonValue(QStringLiteral("sys-firewall")));
}

void tst_LiveReroute::failureIsReported()
{
    // The map still shows sys-vpn running, but it stopped since: qubesd refuses to connect the
    // running work to it, and the real qvm-prefs says so.
    QJsonObject state = demoState();
    QJsonObject qubes = state.value(QStringLiteral("qubes")).toObject();
    QJsonObject vpn = qubes.value(QStringLiteral("sys-vpn")).toObject();
    vpn.insert(QStringLiteral("state"), QStringLiteral("Halted"));
    qubes.insert(QStringLiteral("sys-vpn"), vpn);
    state.insert(QStringLiteral("qubes"), qubes);
    use(state);
    NetvmChanger changer;
    QSignalSpy prepared(&changer, &NetvmChanger::prepared);
    QSignalSpy failed(&changer, &NetvmChanger::commandFailed);
    changer.prepare(demoSnapshot(), QStringLiteral("work"), QStringLiteral("sys-vpn"));
    QVERIFY(prepared.wait(20000));
    changer.apply(prepared.first().first().value<NetvmChangePlan>());
    QVERIFY(failed.wait(20000));
    QCOMPARE(failed.first().at(1).toBool(), false);
    const QString message = failed.first().at(2).toString();
    QVERIFY2(message.startsWith(QStringLiteral("qvm-prefs work netvm sys-vpn exited with 1")),
             qPrintable(message));
    QVERIFY2(message.contains(QStringLiteral("Cannot dynamically attach to stopped qube sys-vpn")),
             qPrintable(message));
    QCOMPARE(netvmOf("work"), QJsonValue(QStringLiteral("default")));
}

QTEST_GUILESS_MAIN(tst_LiveReroute)
#include "tst_livereroute.moc"
