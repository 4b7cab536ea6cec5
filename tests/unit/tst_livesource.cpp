// The live source with the real qvm-ls, qubes-prefs and qvm-firewall of the Qubes admin client
// against the qubesd stand-in (tests/support/realqubes.h); what goes wrong is what a broken or
// hostile qubesd makes the real tools print (the state's "misbehave", tests/qubes/README.md).

#include "qubes/livesource.h"
#include "qubes/updatespolicy.h"

#include "realqubes.h"

#include <QFile>
#include <QJsonArray>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace netmap;

namespace {

const QString kSystem = QStringLiteral(NETMAP_TEST_DATA "/standin/qubes43.json");

QubeName name(const char *text)
{
    return *QubeName::fromUntrusted(QString::fromLatin1(text));
}

QString nameOf(const std::optional<QubeName> &n)
{
    return n ? n->toString() : QStringLiteral("<none>");
}

// The rules of a qvm-firewall fixture as the state's firewall (admin.vm.firewall.Get lines).
QJsonArray rulesOf(const char *file)
{
    QFile f(QStringLiteral(NETMAP_TEST_DATA "/qvm-firewall/") + QString::fromLatin1(file));
    if (!f.open(QIODevice::ReadOnly))
        return {};
    QJsonArray rules;
    for (const QByteArray &line : f.readAll().split('\n')) {
        if (!line.trimmed().isEmpty())
            rules.append(QString::fromUtf8(line.trimmed()));
    }
    return rules;
}

// The system with `change` applied to its qubes, globals or misbehaviour.
QJsonObject systemWith(const std::function<void(QJsonObject &)> &change)
{
    QJsonObject state = test::RealQubes::load(kSystem);
    change(state);
    return state;
}

void setIn(QJsonObject &state, const QString &section, const QString &key, const QJsonValue &value)
{
    QJsonObject part = state.value(section).toObject();
    part.insert(key, value);
    state.insert(section, part);
}

void setQube(QJsonObject &state, const QString &qube, const QString &key, const QJsonValue &value)
{
    QJsonObject qubes = state.value(QStringLiteral("qubes")).toObject();
    QJsonObject q = qubes.value(qube).toObject();
    q.insert(key, value);
    qubes.insert(qube, q);
    state.insert(QStringLiteral("qubes"), qubes);
}

// qubesd answers `method` with an exception of type QubesException and this text.
void failing(QJsonObject &state, const char *method, const QString &text)
{
    QJsonObject misbehave = state.value(QStringLiteral("misbehave")).toObject();
    QJsonObject errors = misbehave.value(QStringLiteral("error")).toObject();
    errors.insert(QString::fromLatin1(method), QJsonArray {QStringLiteral("QubesException"), text});
    misbehave.insert(QStringLiteral("error"), errors);
    state.insert(QStringLiteral("misbehave"), misbehave);
}

// qubesd never answers `method`.
void hanging(QJsonObject &state, const char *method)
{
    QJsonObject misbehave = state.value(QStringLiteral("misbehave")).toObject();
    QJsonArray hang = misbehave.value(QStringLiteral("hang")).toArray();
    hang.append(QString::fromLatin1(method));
    misbehave.insert(QStringLiteral("hang"), hang);
    state.insert(QStringLiteral("misbehave"), misbehave);
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
    void readsWhereTemplatesUpdate();
    void keepsGoodRowsAndListsRejected();
    void sourceErrors_data();
    void sourceErrors();
    void qubesdNotRunning();
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
    test::RealQubes m_qubes;
};

void tst_LiveSource::initTestCase()
{
    m_path = qgetenv("PATH");
    NETMAP_START_REAL_QUBES(m_qubes, test::RealQubes::load(kSystem));
}

void tst_LiveSource::init()
{
    qputenv("PATH", m_qubes.path(m_path));
    QVERIFY(m_qubes.setState(systemWith([](QJsonObject &s) {
        setQube(s, QStringLiteral("work.web"), QStringLiteral("firewall"),
                rulesOf("good-mixed.txt"));
    })));
}

void tst_LiveSource::cleanupTestCase()
{
    qputenv("PATH", m_path);
}

void tst_LiveSource::readsListingAndGlobals()
{
    QVERIFY(liveSourceAvailable());
    const auto before = QDateTime::currentDateTimeUtc().addSecs(-1);
    const Result<Snapshot> result = readLiveSnapshot();
    QVERIFY2(result.ok(), qPrintable(result.ok() ? QString() : result.error().message));
    const Snapshot &s = result.value();
    QCOMPARE(s.source, QStringLiteral("qvm-ls"));
    QVERIFY(s.generated >= before && s.generated <= QDateTime::currentDateTimeUtc());
    QCOMPARE(int(s.qubes.size()), 19); // with dom0
    QVERIFY2(s.rejected.isEmpty(), qPrintable(s.rejected.join(u'\n')));
    QCOMPARE(s.qubes.front().name.toString(), QStringLiteral("anon-whonix"));
    QCOMPARE(nameOf(s.find(u"work.vpn")->netvm), QStringLiteral("sys-vpn-tor"));
    QCOMPARE(nameOf(s.find(u"vault")->netvm), QStringLiteral("<none>"));
    QCOMPARE(nameOf(s.globals.defaultNetvm), QStringLiteral("sys-firewall"));
    QCOMPARE(nameOf(s.globals.updatevm), QStringLiteral("sys-whonix"));
    QCOMPARE(nameOf(s.globals.clockvm), QStringLiteral("sys-net"));
    QCOMPARE(nameOf(s.globals.defaultDispvm), QStringLiteral("default-dvm"));
}

// The live read carries where each template's updates go, from the policy folder it is given
// (dom0's qrexec policy; never updatevm).
void tst_LiveSource::readsWhereTemplatesUpdate()
{
    QTemporaryDir policy;
    QFile f(policy.filePath(QStringLiteral("90-default.policy")));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("qubes.UpdatesProxy * @type:TemplateVM @default allow target=sys-net\n"
            "qubes.UpdatesProxy * @anyvm @anyvm deny\n");
    f.close();
    setPolicyDirs({policy.path()});
    const auto restore = qScopeGuard([] { setPolicyDirs({}); });
    const Result<Snapshot> result = readLiveSnapshot();
    QVERIFY2(result.ok(), qPrintable(result.ok() ? QString() : result.error().message));
    const Snapshot &s = result.value();
    int templates = 0;
    for (const Qube &q : s.qubes)
        if (q.isTemplate()) {
            ++templates;
            const UpdatesRoute *route = s.updatesRoute(q.name.toString());
            QVERIFY(route);
            QCOMPARE(route->kind, UpdatesRoute::Kind::Proxy);
            QCOMPARE(route->via->toString(), QStringLiteral("sys-net"));
            QCOMPARE(route->rule, QStringLiteral("90-default.policy:1"));
        }
    QVERIFY(templates > 0);
    QCOMPARE(s.updates.size(), templates);
}

void tst_LiveSource::keepsGoodRowsAndListsRejected()
{
    // qubesd reports an address no qube can have; the real qvm-ls prints it as it is.
    QVERIFY(m_qubes.setState(systemWith([](QJsonObject &s) {
        setQube(s, QStringLiteral("work"), QStringLiteral("ip"), QStringLiteral("10.137.0.256"));
    })));
    const Result<Snapshot> result = readLiveSnapshot();
    QVERIFY(result.ok());
    QCOMPARE(int(result->qubes.size()), 18);
    QCOMPARE(result->rejected.size(), 1);
    QVERIFY2(result->rejected.first().startsWith(QLatin1String("qvm-ls line 17: bad ip")),
             qPrintable(result->rejected.first()));
}

void tst_LiveSource::sourceErrors_data()
{
    QTest::addColumn<QJsonObject>("state");
    QTest::addColumn<QString>("message");
    // The real qvm-ls prints a traceback when qubesd answers admin.vm.List with an error.
    QTest::newRow("qubesd refuses the list") << systemWith([](QJsonObject &s) {
        failing(s, "admin.vm.List",
                QStringLiteral("Got empty response from qubesd. \x1b[31mSee journalctl\x1b[0m "
                               "in dom0\nsecond line"));
    }) << QStringLiteral("qvm-ls exited with 1: second line");
    QTest::newRow("qubesd refuses, one line")
        << systemWith([](QJsonObject &s) {
               failing(
                   s, "admin.vm.List",
                   QStringLiteral("Got empty response from qubesd. \x1b[31mSee journalctl\x1b[0m "
                                  "in dom0"));
           })
        << QStringLiteral("qvm-ls exited with 1: qubesadmin.exc.QubesException: Got empty "
                          "response from qubesd. ?[31mSee journalctl?[0m in dom0");
    QTest::newRow("qubesd hangs") << systemWith([](QJsonObject &s) { hanging(s, "admin.vm.List"); })
                                  << QStringLiteral("qvm-ls did not answer within 400 ms");
    // A hostile qubesd: qubes with tags that break the table. The real qvm-ls prints them as
    // they are, so no row is usable.
    QTest::newRow("only unusable rows")
        << systemWith([](QJsonObject &s) {
               const QJsonObject qubes = s.value(QStringLiteral("qubes")).toObject();
               for (auto it = qubes.begin(); it != qubes.end(); ++it)
                   setQube(s, it.key(), QStringLiteral("tags"), QJsonArray {QStringLiteral("a|b")});
               setQube(s, QStringLiteral("dom0"), QStringLiteral("klass"),
                       QStringLiteral("AdminVM"));
               setQube(s, QStringLiteral("dom0"), QStringLiteral("qid"), 0);
               setQube(s, QStringLiteral("dom0"), QStringLiteral("tags"),
                       QJsonArray {QStringLiteral("a|b")});
           })
        << QStringLiteral("qvm-ls printed no usable rows (19 rejected; first: qvm-ls line 1: "
                          "expected 17 cells, found 18)");
    // A hostile qubesd that lists no qubes at all (not even dom0).
    QTest::newRow("nothing") << systemWith([](QJsonObject &s) {
        QJsonObject misbehave;
        misbehave.insert(QStringLiteral("reply"),
                         QJsonObject {{QStringLiteral("admin.vm.List"), QString()}});
        s.insert(QStringLiteral("misbehave"), misbehave);
    }) << QStringLiteral("qvm-ls printed no usable rows");
}

void tst_LiveSource::sourceErrors()
{
    QFETCH(QJsonObject, state);
    QFETCH(QString, message);
    QVERIFY(m_qubes.setState(state));
    LiveOptions options;
    options.timeoutMs = 400;
    if (QByteArray(QTest::currentDataTag()) != "qubesd hangs")
        options.timeoutMs = 20000; // the real tools are Python: give them time to fail
    // The message says what ended the read (the hang row: the 0.4 s timeout, by name).
    const Result<Snapshot> result = readLiveSnapshot(options);
    QVERIFY(!result.ok());
    QCOMPARE(result.error().code, Error::Code::Source);
    QCOMPARE(result.error().exitCode(), 3);
    QCOMPARE(result.error().message, message);
}

void tst_LiveSource::qubesdNotRunning()
{
    // The real tools cannot reach qubesd: the socket is gone.
    const QString socket = m_qubes.socketPath();
    QVERIFY(QFile::rename(socket, socket + QStringLiteral(".away")));
    const Result<Snapshot> result = readLiveSnapshot(LiveOptions {20000});
    QVERIFY(QFile::rename(socket + QStringLiteral(".away"), socket));
    QVERIFY(!result.ok());
    QCOMPARE(result.error().code, Error::Code::Source);
    QVERIFY2(result.error().message.startsWith(QLatin1String("qvm-ls exited with 1: ")),
             qPrintable(result.error().message));
    QVERIFY2(result.error().message.contains(QLatin1String("qubesd")),
             qPrintable(result.error().message));
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
    QTest::addColumn<QJsonObject>("state");
    QTest::addColumn<QString>("clockvm");
    QTest::addColumn<QString>("updatevm");
    QTest::addColumn<QStringList>("notes");
    QTest::newRow("clockvm none") << systemWith([](QJsonObject &s) {
        setIn(s, QStringLiteral("globals"), QStringLiteral("clockvm"), QJsonValue::Null);
    }) << QStringLiteral("<none>") << QStringLiteral("sys-whonix")
                                  << QStringList();
    QTest::newRow("fails")
        << systemWith([](QJsonObject &s) {
               failing(s, "admin.property.Get", QStringLiteral("Got empty response from qubesd."));
           })
        << QStringLiteral("<none>") << QStringLiteral("<none>")
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
    // A hostile qubesd: the real qubes-prefs prints the value as qubesd sent it.
    QTest::newRow("garbage") << systemWith([](QJsonObject &s) {
        setIn(s, QStringLiteral("globals"), QStringLiteral("updatevm"),
              QStringLiteral("sys whonix; reboot"));
    }) << QStringLiteral("sys-net")
                             << QStringLiteral("<none>")
                             << QStringList {QStringLiteral("qubes-prefs updatevm: bad qube name")};
}

void tst_LiveSource::prefsProblemsAreNoted()
{
    QFETCH(QJsonObject, state);
    QFETCH(QString, clockvm);
    QFETCH(QString, updatevm);
    QFETCH(QStringList, notes);
    QVERIFY(m_qubes.setState(state));
    const Result<Snapshot> result = readLiveSnapshot(LiveOptions {20000});
    QVERIFY(result.ok()); // the globals are secondary: the map still loads
    QCOMPARE(int(result->qubes.size()), 19);
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
    QVERIFY(m_qubes.setState(systemWith([](QJsonObject &s) { hanging(s, "admin.vm.List"); })));
    LiveOptions options;
    options.timeoutMs = 3000;
    source.refresh(options);
    // refresh() never waits for the process: qubesd hangs, so qvm-ls cannot have ended, and
    // nothing is reported before the event loop turns.
    QVERIFY(source.isBusy());
    QCOMPARE(failed.size(), 0);
    QCOMPARE(ready.size(), 0);
    source.refresh(options); // a second refresh while one runs is folded into it
    QVERIFY(failed.wait(10000));
    QCOMPARE(failed.size(), 1);
    QCOMPARE(failed.first().first().toString(), QStringLiteral("qvm-ls did not answer within 3 s"));
    QVERIFY(!source.isBusy());

    QVERIFY(m_qubes.setState(test::RealQubes::load(kSystem)));
    source.refresh();
    QVERIFY(ready.wait(20000));
    QCOMPARE(ready.size(), 1);
    const auto snapshot = ready.first().first().value<Snapshot>();
    QCOMPARE(int(snapshot.qubes.size()), 19);
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
    QTest::addColumn<QString>("qube");
    QTest::addColumn<QJsonObject>("state");
    QTest::addColumn<int>("timeoutMs");
    QTest::addColumn<int>("rules");
    QTest::addColumn<QString>("error");
    const auto withRules = [](const char *file) {
        return systemWith([file](QJsonObject &s) {
            setQube(s, QStringLiteral("work"), QStringLiteral("firewall"), rulesOf(file));
        });
    };
    QTest::newRow("mixed") << "work" << withRules("good-mixed.txt") << 20000 << 9 << QString();
    QTest::newRow("allow all") << "work" << withRules("good-allow-all.txt") << 20000 << 1
                               << QString();
    QTest::newRow("ports from 0") << "work" << withRules("good-ports-zero.txt") << 20000 << 4
                                  << QString();
    // A rule qubesd holds that the real client cannot read: qvm-firewall fails with a
    // traceback whose last line says why (the parser marks such a line in its place when it
    // gets one, tst_qvmparsers).
    QTest::newRow("rule the client refuses")
        << "work" << withRules("bad-ports-reversed.txt") << 20000 << 0
        << QStringLiteral("qvm-firewall exited with 1: ValueError: Invalid port range");
    // argparse's usage comes first; the error line is the last.
    QTest::newRow("no such qube")
        << "nosuch" << test::RealQubes::load(kSystem) << 20000 << 0
        << QStringLiteral(
               "qvm-firewall exited with 2: qvm-firewall: error: no such domain: 'nosuch'");
    QTest::newRow("qubesd hangs") << "work" << systemWith([](QJsonObject &s) {
        hanging(s, "admin.vm.firewall.Get");
    }) << 300 << 0 << QStringLiteral("qvm-firewall did not answer within 300 ms");
}

void tst_LiveSource::firewall()
{
    QFETCH(QString, qube);
    QFETCH(QJsonObject, state);
    QFETCH(int, timeoutMs);
    QFETCH(int, rules);
    QFETCH(QString, error);
    QVERIFY(m_qubes.setState(state));
    const auto result = readFirewallRules(*QubeName::fromUntrusted(qube), timeoutMs);
    if (error.isEmpty()) {
        QVERIFY2(result.ok(), qPrintable(result.ok() ? QString() : result.error().message));
        QCOMPARE(int(result->size()), rules);
        for (const FirewallRule &rule : *result)
            QVERIFY2(rule.isReadable(), qPrintable(rule.describe()));
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
    QVERIFY(ready.wait(20000));
    QCOMPARE(ready.first().at(0).toString(), QStringLiteral("work.web"));
    const auto rules = ready.first().at(1).value<QList<FirewallRule>>();
    QCOMPARE(rules.size(), 9);
    QCOMPARE(rules.at(3).comment, QStringLiteral("VPN endpoint (primary)"));

    QVERIFY(m_qubes.setState(systemWith([](QJsonObject &s) {
        failing(s, "admin.vm.firewall.Get", QStringLiteral("no firewall for you"));
    })));
    source.readFirewall(name("sys-net"));
    QVERIFY(failed.wait(20000));
    QCOMPARE(failed.first().at(0).toString(), QStringLiteral("sys-net"));
    QCOMPARE(ready.size(), 1);
}

QTEST_GUILESS_MAIN(tst_LiveSource)
#include "tst_livesource.moc"
