// Re-routing a qube: which netvms are offered, the exact qvm-prefs commands for the change and
// its undo, the anon-vm warning, and that nothing is changed before apply() is called (a fake
// qvm-prefs records every call).

#include "io/snapshotyaml.h"
#include "live/reroute.h"
#include "model/snapshot.h"

#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace netmap;

Q_DECLARE_METATYPE(std::optional<QString>)

namespace {
const QByteArray fakeBin = NETMAP_TEST_DATA "/live/fake-bin";

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
    void runningQubeGetsRunningNetvms();
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
    QTemporaryDir m_dir;
    QString logPath() const { return m_dir.filePath(QStringLiteral("calls.log")); }
    QStringList calls() const
    {
        QFile f(logPath());
        if (!f.open(QIODevice::ReadOnly))
            return {};
        return QString::fromUtf8(f.readAll()).split(u'\n', Qt::SkipEmptyParts);
    }
    void writeListing(const QString &text)
    {
        QFile f(m_dir.filePath(QStringLiteral("listing")));
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write(text.toUtf8());
    }
};

void tst_LiveReroute::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_path = qgetenv("PATH");
    qputenv("PATH", fakeBin + ':' + m_path);
    qputenv("FAKE_QVM_PREFS_LOG", logPath().toLocal8Bit());
    qputenv("FAKE_QVM_PREFS_LISTING", m_dir.filePath(QStringLiteral("listing")).toLocal8Bit());
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

void tst_LiveReroute::runningQubeGetsRunningNetvms()
{
    // qubesd: "Cannot dynamically attach to stopped qube" (the stand-in refuses the same).
    Snapshot s = demoSnapshot();
    s.qubes[size_t(s.indexOf(u"sys-vpn"))].state = QStringLiteral("Halted");
    QCOMPARE(netvmCandidates(s, QStringLiteral("work")),
             QStringList({"sys-firewall", "sys-net", "sys-whonix"}));
    QVERIFY(!planNetvmChange(s, QStringLiteral("work"), QStringLiteral("sys-vpn"), std::nullopt));
    // A halted qube may be connected to a halted netvm.
    QCOMPARE(netvmCandidates(s, QStringLiteral("vault")),
             QStringList({"sys-firewall", "sys-net", "sys-vpn", "sys-whonix"}));
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
    for (Qube &q : two.qubes)
        if (q.name.toString() == QLatin1String("work"))
            q.tags << QStringLiteral("anon-vm");
    QVERIFY(netmap::anonVmWarning(two, "work", QStringLiteral("sys-net")).isEmpty());
    QVERIFY(netmap::anonVmWarning(two, "whonix", QStringLiteral("sys-vpn")).contains("sys-vpn"));
}

void tst_LiveReroute::nothingRunsBeforeApply()
{
    QFile::remove(logPath());
    writeListing(prefsListing("D", "sys-firewall"));
    NetvmChanger changer;
    QSignalSpy prepared(&changer, &NetvmChanger::prepared);
    changer.prepare(demoSnapshot(), QStringLiteral("work"), QStringLiteral("sys-vpn"));
    QVERIFY(prepared.wait(10000));
    const auto plan = prepared.first().first().value<NetvmChangePlan>();
    QCOMPARE(plan.apply.display(), QStringLiteral("qvm-prefs work netvm sys-vpn"));
    QCOMPARE(plan.undo.display(), QStringLiteral("qvm-prefs --default work netvm"));
    QVERIFY(plan.fromDefault);
    QTest::qWait(100);
    QCOMPARE(calls(), QStringList {"work"}); // only the read-only listing
}

void tst_LiveReroute::applyAndUndoRunExactly()
{
    QFile::remove(logPath());
    writeListing(prefsListing("-", "sys-firewall"));
    NetvmChanger changer;
    QSignalSpy prepared(&changer, &NetvmChanger::prepared);
    QSignalSpy applied(&changer, &NetvmChanger::applied);
    QSignalSpy undone(&changer, &NetvmChanger::undone);
    changer.prepare(demoSnapshot(), QStringLiteral("work"), std::nullopt);
    QVERIFY(prepared.wait(10000));
    const auto plan = prepared.first().first().value<NetvmChangePlan>();
    changer.apply(plan);
    QVERIFY(applied.wait(10000));
    QCOMPARE(calls(), (QStringList {"work", "work|netvm|"}));
    changer.undo(plan);
    QVERIFY(undone.wait(10000));
    QCOMPARE(calls(), (QStringList {"work", "work|netvm|", "work|netvm|sys-firewall"}));
}

void tst_LiveReroute::failureIsReported()
{
    QFile::remove(logPath());
    writeListing(prefsListing("D", "sys-firewall"));
    qputenv("FAKE_QVM_PREFS_FAIL", "1");
    NetvmChanger changer;
    QSignalSpy prepared(&changer, &NetvmChanger::prepared);
    QSignalSpy failed(&changer, &NetvmChanger::commandFailed);
    changer.prepare(demoSnapshot(), QStringLiteral("work"), QStringLiteral("sys-net"));
    QVERIFY(prepared.wait(10000));
    changer.apply(prepared.first().first().value<NetvmChangePlan>());
    QVERIFY(failed.wait(10000));
    qunsetenv("FAKE_QVM_PREFS_FAIL");
    QCOMPARE(failed.first().at(1).toBool(), false);
    const QString message = failed.first().at(2).toString();
    QVERIFY(message.startsWith(QStringLiteral("qvm-prefs work netvm sys-net exited with 1")));
    QVERIFY(message.contains(QStringLiteral("no such domain")));
}

QTEST_GUILESS_MAIN(tst_LiveReroute)
#include "tst_livereroute.moc"
