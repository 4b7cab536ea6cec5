// The expectations YAML and how it falls back to inference.
#include "formats/jsonexport.h"
#include "formats/snapshotyaml.h"
#include "model/snapshotdiff.h"
#include "model/topology.h"
#include "policy/colouring.h"
#include "policy/expectations.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace netmap;

class tst_Expectations : public QObject
{
    Q_OBJECT
private slots:
    void egressValues_data();
    void egressValues();
    void example();
    void lookup();
    void intentEverywhere();
    void invalid_data();
    void invalid();
};

void tst_Expectations::egressValues_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("parsed"); // toString(), empty when refused
    QTest::newRow("clearnet") << "clearnet"
                              << "clearnet";
    QTest::newRow("vpn") << "vpn"
                         << "vpn";
    QTest::newRow("tor") << "tor"
                         << "tor";
    QTest::newRow("none") << "none"
                          << "none";
    QTest::newRow("via") << "via sys-vpn"
                         << "via sys-vpn";
    QTest::newRow("via blanks") << "via   sys-vpn "
                                << "via sys-vpn";
    QTest::newRow("via dom0") << "via dom0"
                              << "";
    QTest::newRow("via bad name") << "via <b>"
                                  << "";
    QTest::newRow("via nothing") << "via "
                                 << "";
    QTest::newRow("capital") << "VPN"
                             << "";
    QTest::newRow("other") << "proxy"
                           << "";
}

void tst_Expectations::egressValues()
{
    QFETCH(QString, text);
    QFETCH(QString, parsed);
    const auto e = parseEgress(text);
    QCOMPARE(e ? e->toString() : QString(), parsed);
}

void tst_Expectations::example()
{
    QFile f(QStringLiteral(":/netmap/expectations.example.yaml"));
    QVERIFY(f.open(QIODevice::ReadOnly));
    auto x = expectationsFromYaml(f.readAll(), QStringLiteral("example.yaml"));
    QVERIFY2(x.ok(), x.ok() ? "" : qPrintable(x.error().toString()));
    QCOMPARE(x->byQube.value(QStringLiteral("personal")).toString(), QStringLiteral("via sys-vpn"));
    QCOMPARE(x->byQube.value(QStringLiteral("vault")).egress, Expectation::Egress::None);
    QCOMPARE(x->byTag.size(), 2);
    QCOMPARE(x->byTag.first().first, QStringLiteral("anon-vm"));
    QVERIFY(reachAllowed(*x, u"work", u"work-printer"));
    QVERIFY(!reachAllowed(*x, u"work-printer", u"work"));
    QVERIFY(reachAllowed(*x, u"dev", u"dev-db"));
}

void tst_Expectations::lookup()
{
    const Snapshot s = demoSnapshot();
    const Topology t(s);
    auto x = expectationsFromYaml("qubes:\n  work: vpn\ntags:\n  anon-vm: none\n",
                                  QStringLiteral("x.yaml"));
    QVERIFY(x.ok());
    // By name, then by tag, then inference.
    QCOMPARE(expectationFor(*x, s, t, u"work").egress, Expectation::Egress::Vpn);
    QVERIFY(expectationFor(*x, s, t, u"work").why.contains(QStringLiteral("qube work")));
    QCOMPARE(expectationFor(*x, s, t, u"whonix").egress, Expectation::Egress::None);
    QCOMPARE(expectationFor(*x, s, t, u"untrusted"), inferExpectation(s, t, u"untrusted"));
    // No file at all: inference everywhere.
    const Expectations none;
    QCOMPARE(expectationFor(none, s, t, u"whonix").egress, Expectation::Egress::Tor);
    QCOMPARE(expectationFor(none, s, t, u"work-vpn").egress, Expectation::Egress::Vpn);
    QCOMPARE(expectationFor(none, s, t, u"work").egress, Expectation::Egress::Clearnet);
    QVERIFY(!reachAllowed(none, u"work", u"untrusted"));
}

// The intent the snapshot carries is the one the JSON, the colours and a refreshed read show,
// not inference (with {work: vpn} the JSON once said clearnet while the checks said vpn).
void tst_Expectations::intentEverywhere()
{
    Snapshot s = demoSnapshot();
    s.checks.clear();
    auto x = expectationsFromYaml("qubes:\n  work: vpn\n", QStringLiteral("x.yaml"));
    QVERIFY(x.ok());
    const Topology t(s);
    QCOMPARE(intendedEgress(s, t, u"work").egress, Expectation::Egress::Clearnet);
    s.intent = *x;
    QCOMPARE(intendedEgress(s, t, u"work").egress, Expectation::Egress::Vpn);

    auto expectedIn = [](const Snapshot &snapshot, const QString &qube) {
        const QJsonObject root = QJsonDocument::fromJson(exportJson(snapshot)).object();
        for (const QJsonValue &v : root.value(QStringLiteral("qubes")).toArray())
            if (v.toObject().value(QStringLiteral("name")).toString() == qube)
                return v.toObject().value(QStringLiteral("expected_egress")).toString();
        return QStringLiteral("absent");
    };
    QCOMPARE(expectedIn(s, QStringLiteral("work")), QStringLiteral("vpn"));
    QCOMPARE(expectedIn(s, QStringLiteral("untrusted")),
             inferExpectation(s, t, u"untrusted").toString());

    // The only qube that saw this exit is meant to be on a VPN: the legend calls it a VPN exit.
    CheckResult r;
    r.qube = *QubeName::fromUntrusted(u"work");
    r.check = CheckKind::ExternalIp;
    r.status = CheckStatus::Fail;
    r.externalIp = QStringLiteral("203.0.113.99");
    r.pathAtRun = t.egressChain(u"work");
    s.checks.push_back(r);
    const Colouring c = colourPaths(s, t);
    bool found = false;
    for (const ExitInfo &e : c.exits)
        if (e.ip == r.externalIp) {
            QCOMPARE(e.kind, QStringLiteral("vpn"));
            found = true;
        }
    QVERIFY(found);

    // A refreshed read of the system keeps the intent.
    Snapshot refreshed = demoSnapshot();
    carryEvidence(s, &refreshed);
    QCOMPARE(refreshed.intent, s.intent);
    QCOMPARE(expectedIn(refreshed, QStringLiteral("work")), QStringLiteral("vpn"));
}

void tst_Expectations::invalid_data()
{
    QTest::addColumn<QByteArray>("yaml");
    QTest::addColumn<int>("line");
    QTest::addColumn<int>("column");
    QTest::addColumn<QString>("message");
    QTest::newRow("syntax") << QByteArray("qubes: {work: vpn\n") << 2 << 1 << "";
    QTest::newRow("unknown key") << QByteArray("qube:\n  work: vpn\n") << 1 << 1
                                 << "unknown key \"qube\"";
    QTest::newRow("bad egress") << QByteArray("qubes:\n  work: proxy\n") << 2 << 9
                                << "clearnet, vpn, tor, none";
    QTest::newRow("bad qube name")
        << QByteArray("qubes:\n  \"<img>\": vpn\n") << 2 << 3 << "not a valid qube name";
    QTest::newRow("duplicate qube")
        << QByteArray("qubes:\n  work: vpn\n  work: tor\n") << 3 << 3 << "twice";
    QTest::newRow("egress list") << QByteArray("qubes:\n  work: [vpn]\n") << 2 << 9
                                 << "single value";
    QTest::newRow("bad tag") << QByteArray("tags:\n  \"a b\": tor\n") << 2 << 3
                             << "not a valid tag";
    QTest::newRow("pair of three")
        << QByteArray("allow:\n  - [a, b, c]\n") << 2 << 5 << "[FROM, TO]";
    QTest::newRow("pair half") << QByteArray("allow:\n  - from: a\n") << 2 << 5 << "both";
    QTest::newRow("pair self") << QByteArray("allow:\n  - [a, a]\n") << 2 << 5 << "itself";
    QTest::newRow("pair bad name")
        << QByteArray("allow:\n  - [a, \"b;c\"]\n") << 2 << 9 << "not a valid qube name";
    QTest::newRow("allow map") << QByteArray("allow:\n  a: b\n") << 2 << 3 << "list";
}

void tst_Expectations::invalid()
{
    QFETCH(QByteArray, yaml);
    QFETCH(int, line);
    QFETCH(int, column);
    QFETCH(QString, message);
    auto x = expectationsFromYaml(yaml, QStringLiteral("x.yaml"));
    QVERIFY(!x.ok());
    QCOMPARE(x.error().exitCode(), 2);
    QVERIFY2(x.error().message.contains(message), qPrintable(x.error().message));
    QCOMPARE(x.error().line, line);
    QCOMPARE(x.error().column, column);
    QVERIFY(!loadExpectationsFile(QStringLiteral("/nonexistent/x.yaml")).ok());
}

QTEST_GUILESS_MAIN(tst_Expectations)
#include "tst_expectations.moc"
