#include "formats/jsonexport.h"
#include "formats/snapshotyaml.h"
#include "model/topology.h"
#include "policy/expectations.h"
#include "snapshots.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <csignal>

#include <sys/resource.h>
#include <unistd.h>

using namespace netmap;

class tst_SnapshotYaml : public QObject
{
    Q_OBJECT
private slots:
    void demoLoads();
    void roundTripIsExact();
    void whonixGwFeatureRoundTrips();
    void demoIpv6();
    void hostileTextRoundTrips();
    void broken_data();
    void broken();
    void missingFile();
    void atomicSaveKeepsOldFileOnFailure();
    void jsonOfDemo();
    void formatOneMigrates();
    void formatOneHasNoIntent();
    void otherFormatsRefused_data();
    void otherFormatsRefused();
    void intentRoundTrips();
};

void tst_SnapshotYaml::demoLoads()
{
    const Snapshot demo = demoSnapshot();
    QCOMPARE(demo.source, QStringLiteral("demo"));
    QVERIFY(demo.qubes.size() >= 10);
    QVERIFY(demo.find(u"sys-vpn"));
    QVERIFY(demo.find(u"whonix"));
    QVERIFY(!demo.checks.empty());
}

void tst_SnapshotYaml::roundTripIsExact()
{
    const Snapshot demo = demoSnapshot();
    const QByteArray yaml = snapshotToYaml(demo);
    auto loaded = snapshotFromYaml(yaml, QStringLiteral("mem"));
    QVERIFY2(loaded.ok(), qPrintable(loaded.ok() ? QString() : loaded.error().toString()));
    QVERIFY(*loaded == demo);
    QCOMPARE(snapshotToYaml(*loaded), yaml);

    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("s.yaml"));
    QVERIFY(saveSnapshotFile(demo, path).ok());
    auto fromFile = loadSnapshotFile(path);
    QVERIFY(fromFile.ok());
    QVERIFY(*fromFile == demo);
}

// A gateway renamed away from "sys-whonix", on a renamed template: only the template's
// whonix-gw feature (read live) says what it is; a saved snapshot keeps that.
void tst_SnapshotYaml::whonixGwFeatureRoundTrips()
{
    Snapshot s = demoSnapshot();
    Qube &gw = s.qubes[size_t(s.indexOf(u"sys-whonix"))];
    gw.templ = QubeName::fromUntrusted(u"tor-gw-template");
    Qube renamed = gw;
    renamed.name = *QubeName::fromUntrusted(u"sys-tor");
    renamed.whonixGwFeature = true;
    QVERIFY(renamed.looksLikeWhonixGateway());
    s.qubes.push_back(renamed);
    std::sort(s.qubes.begin(), s.qubes.end(),
              [](const Qube &a, const Qube &b) { return a.name < b.name; });
    const QByteArray yaml = snapshotToYaml(s);
    QCOMPARE(yaml.count("template_whonix_gw: true"), 1);
    auto loaded = snapshotFromYaml(yaml, QStringLiteral("mem"));
    QVERIFY2(loaded.ok(), qPrintable(loaded.ok() ? QString() : loaded.error().toString()));
    QVERIFY(loaded->find(u"sys-tor")->whonixGwFeature);
    QVERIFY(loaded->find(u"sys-tor")->looksLikeWhonixGateway());
    QVERIFY(!loaded->find(u"sys-vpn")->whonixGwFeature);
    QVERIFY(*loaded == s);
    QCOMPARE(snapshotToYaml(*loaded), yaml);
    // Anything but true or false is refused.
    QByteArray bad = yaml;
    bad.replace("template_whonix_gw: true", "template_whonix_gw: yes");
    QVERIFY(!snapshotFromYaml(bad, QStringLiteral("mem")).ok());
}

void tst_SnapshotYaml::demoIpv6()
{
    // One IPv6 path in the demo: sys-net -> sys-firewall -> work; the VPN and Whonix gateways
    // have the feature off. The fields survive a round trip; a qube without IPv6 writes none of
    // them (a snapshot without IPv6 is as it always was).
    const Snapshot demo = demoSnapshot();
    const Qube *work = demo.find(u"work");
    QVERIFY(work);
    QCOMPARE(work->ip6, QStringLiteral("fd09:24ef:4179::a89:f"));
    QVERIFY(work->hasIpv6());
    QCOMPARE(demo.find(u"sys-net")->ipv6Feature, std::optional<bool>(true));
    QCOMPARE(demo.find(u"sys-vpn")->ipv6Feature, std::optional<bool>(false));
    QVERIFY(!demo.find(u"work-vpn")->hasIpv6());
    bool on = false;
    QCOMPARE(demo.ipv6FeatureSource(u"work-vpn", &on)->name.toString(), QStringLiteral("sys-vpn"));
    QVERIFY(!on);
    const CheckResult *r = demo.latest(u"work", CheckKind::ExternalIp);
    QVERIFY(r);
    QCOMPARE(r->externalIp6, QStringLiteral("2001:db8:7:1::5"));

    const Snapshot plain = test::withoutIpv6(demo);
    const QByteArray yaml = snapshotToYaml(plain);
    for (const char *key : {"ip6", "gateway6", "ipv6_feature", "external_ip6"})
        QVERIFY2(!yaml.contains(QByteArray(QByteArray(key) + ':')), key);
    const auto loaded = snapshotFromYaml(yaml, QStringLiteral("mem"));
    QVERIFY(loaded.ok());
    QVERIFY(*loaded == plain);
}

void tst_SnapshotYaml::hostileTextRoundTrips()
{
    Snapshot s = demoSnapshot();
    CheckResult r = s.checks.front();
    r.output = QStringLiteral("<img src=x> ```\n# heading\n'quote' \"dq\" : - [a] {b} \u202e rtl");
    r.reason = QStringLiteral("key: value # not a comment");
    s.checks.push_back(r);
    auto loaded = snapshotFromYaml(snapshotToYaml(s), QStringLiteral("mem"));
    QVERIFY(loaded.ok());
    QCOMPARE(loaded->checks.back().output, r.output);
    QCOMPARE(loaded->checks.back().reason, r.reason);
}

void tst_SnapshotYaml::broken_data()
{
    QTest::addColumn<QString>("path");
    QDir dir(QStringLiteral(NETMAP_TEST_DATA "/snapshots"));
    const auto files = dir.entryList({QStringLiteral("bad-*.yaml")}, QDir::Files, QDir::Name);
    QVERIFY(files.size() >= 10);
    for (const QString &f : files)
        QTest::newRow(qPrintable(f)) << dir.filePath(f);
}

void tst_SnapshotYaml::broken()
{
    QFETCH(QString, path);
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QString first = QString::fromUtf8(file.readLine()).trimmed();
    auto loaded = loadSnapshotFile(path);
    QVERIFY(!loaded.ok());
    const Error &e = loaded.error();
    QCOMPARE(e.file, path);
    QVERIFY(e.line >= 1);
    const QString text = e.toString();
    QVERIFY(text.startsWith(path + QLatin1Char(':')));
    QVERIFY2(!text.contains(QLatin1Char('\n')), qPrintable(text));
    static const QRegularExpression expect(QStringLiteral("^# expect: (\\d+):(\\d+) ?(.*)$"));
    const auto m = expect.match(first);
    if (m.hasMatch()) {
        QCOMPARE(QString::number(e.line) + QLatin1Char(':') + QString::number(e.column),
                 m.captured(1) + QLatin1Char(':') + m.captured(2));
        QVERIFY2(e.message.contains(m.captured(3)), qPrintable(e.message));
    }
}

void tst_SnapshotYaml::missingFile()
{
    auto loaded = loadSnapshotFile(QStringLiteral("/nonexistent/x.yaml"));
    QVERIFY(!loaded.ok());
    QVERIFY(loaded.error().toString().startsWith(QStringLiteral("/nonexistent/x.yaml: ")));
}

// A save that fails half-way (the file-size limit stands in for a full disk; it binds root too,
// where folder permissions would not) leaves the old file exactly as it was.
void tst_SnapshotYaml::atomicSaveKeepsOldFileOnFailure()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("s.yaml"));
    Snapshot big = demoSnapshot();
    QVERIFY(saveSnapshotFile(big, path).ok());
    QFile old(path);
    QVERIFY(old.open(QIODevice::ReadOnly));
    const QByteArray before = old.readAll();
    old.close();
    QVERIFY(before.size() > 4096);

    struct rlimit saved
    {
    };
    QCOMPARE(getrlimit(RLIMIT_FSIZE, &saved), 0);
    struct rlimit small = saved;
    small.rlim_cur = 1024; // smaller than the snapshot: its write fails with EFBIG
    const auto oldHandler = std::signal(SIGXFSZ, SIG_IGN);
    QCOMPARE(setrlimit(RLIMIT_FSIZE, &small), 0);
    Snapshot other = demoSnapshot();
    other.sourceDetail = QStringLiteral("a different save");
    const auto status = saveSnapshotFile(other, path);
    QCOMPARE(setrlimit(RLIMIT_FSIZE, &saved), 0);
    std::signal(SIGXFSZ, oldHandler);

    QVERIFY(!status.ok());
    QVERIFY2(status.error().toString().startsWith(path), qPrintable(status.error().toString()));
    QFile after(path);
    QVERIFY(after.open(QIODevice::ReadOnly));
    QCOMPARE(after.readAll(), before);
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden),
             QStringList {QStringLiteral("s.yaml")});
}

void tst_SnapshotYaml::jsonOfDemo()
{
    const QJsonObject root = QJsonDocument::fromJson(exportJson(demoSnapshot())).object();
    QCOMPARE(root.value(QStringLiteral("schema")).toString(), QStringLiteral("qubes-netmap/1"));
    QSet<QString> ips;
    QSet<QString> colours;
    for (const QJsonValue &v : root.value(QStringLiteral("links")).toArray()) {
        const QJsonObject l = v.toObject();
        if (l.value(QStringLiteral("external_ip")).isString()) {
            ips.insert(l.value(QStringLiteral("external_ip")).toString());
            colours.insert(l.value(QStringLiteral("colour")).toString());
        }
    }
    QCOMPARE(ips.size(), 3);
    QCOMPARE(colours.size(), 3);
    bool sawChain = false;
    for (const QJsonValue &v : root.value(QStringLiteral("qubes")).toArray()) {
        const QJsonObject q = v.toObject();
        if (q.value(QStringLiteral("name")).toString() == QLatin1String("work-vpn")) {
            QCOMPARE(q.value(QStringLiteral("egress")).toArray().size(), 4);
            QCOMPARE(q.value(QStringLiteral("external_ip")).toString(),
                     QStringLiteral("198.51.100.23"));
            sawChain = true;
        }
        if (q.value(QStringLiteral("name")).toString() == QLatin1String("dom0"))
            QVERIFY(q.value(QStringLiteral("netvm")).isNull());
    }
    QVERIFY(sawChain);
    QVERIFY(root.value(QStringLiteral("findings")).isArray());
}

// A file written by the format-1 program (tests/data/snapshots/format-1.yaml: --demo --export,
// before the intent was saved) loads through migrate1to2() as the same network, with no intent.
void tst_SnapshotYaml::formatOneMigrates()
{
    const QString path = QStringLiteral(NETMAP_TEST_DATA "/snapshots/format-1.yaml");
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QVERIFY(file.readAll().contains("\nschema: qubes-netmap-snapshot/1\n"));
    auto loaded = loadSnapshotFile(path);
    QVERIFY2(loaded.ok(), qPrintable(loaded.ok() ? QString() : loaded.error().toString()));
    // The demo has grown since (tags, default_dispvm, update routes), so compare the network
    // the file describes: the same qubes on the same links with the same addresses, the same
    // checks and firewall rules.
    const Snapshot demo = demoSnapshot();
    QVERIFY(loaded->intent.isEmpty());
    QCOMPARE(loaded->qubes.size(), demo.qubes.size());
    for (const Qube &q : loaded->qubes) {
        const Qube *d = demo.find(q.name.toString());
        QVERIFY2(d, qPrintable(q.name.toString()));
        QCOMPARE(q.netvm, d->netvm);
        QCOMPARE(q.templ, d->templ);
        QCOMPARE(q.klass, d->klass);
        QCOMPARE(q.label, d->label);
        QCOMPARE(q.ip, d->ip);
        QCOMPARE(q.ip6, d->ip6);
    }
    QVERIFY(loaded->checks == demo.checks);
    QVERIFY(loaded->firewall == demo.firewall);
    QVERIFY(loaded->updates.isEmpty());
    // Saved again and read back, nothing changes.
    auto again = snapshotFromYaml(snapshotToYaml(*loaded), QStringLiteral("again.yaml"));
    QVERIFY2(again.ok(), qPrintable(again.ok() ? QString() : again.error().toString()));
    QVERIFY(*again == *loaded);
    // Saved again, it is written in the current format.
    const QByteArray schemaLine
        = "\nschema: qubes-netmap-snapshot/" + QByteArray::number(kSnapshotFormat) + '\n';
    QVERIFY(snapshotToYaml(*loaded).contains(schemaLine));
}

// Format 1 knew no "intent": the migration refuses one as the format-1 reader did, instead of
// reading a key that file could not have meant.
void tst_SnapshotYaml::formatOneHasNoIntent()
{
    const QByteArray yaml(
        "schema: qubes-netmap-snapshot/1\nqubes: []\nintent:\n  qubes: {work: vpn}\n");
    auto loaded = snapshotFromYaml(yaml, QStringLiteral("old.yaml"));
    QVERIFY(!loaded.ok());
    QCOMPARE(loaded.error().toString(),
             QStringLiteral("old.yaml:3:1: unknown key \"intent\" in snapshot format 1"));
    QCOMPARE(loaded.error().exitCode(), 2);
    // The same document in format 2 loads with its intent.
    QByteArray current = yaml;
    current.replace("snapshot/1", "snapshot/2");
    auto now = snapshotFromYaml(current, QStringLiteral("new.yaml"));
    QVERIFY2(now.ok(), qPrintable(now.ok() ? QString() : now.error().toString()));
    QCOMPARE(now->intent.byQube.value(QStringLiteral("work")).egress, Expectation::Egress::Vpn);
}

void tst_SnapshotYaml::otherFormatsRefused_data()
{
    QTest::addColumn<QByteArray>("schema");
    QTest::addColumn<QString>("error");
    const QString newer = QStringLiteral("in.yaml:1:9: snapshot format %1 is newer than this "
                                         "program reads (%2)");
    const QString unknown
        = QStringLiteral("in.yaml:1:9: unknown schema, expected qubes-netmap-snapshot/%1")
              .arg(kSnapshotFormat);
    QTest::newRow("next") << QByteArray::number(kSnapshotFormat + 1)
                          << newer.arg(kSnapshotFormat + 1).arg(kSnapshotFormat);
    QTest::newRow("far") << QByteArray("99") << newer.arg(99).arg(kSnapshotFormat);
    QTest::newRow("zero") << QByteArray("0") << unknown;
    QTest::newRow("negative") << QByteArray("-1") << unknown;
    QTest::newRow("leading zero") << QByteArray("02") << unknown;
    QTest::newRow("plus") << QByteArray("+2") << unknown;
    QTest::newRow("suffix") << QByteArray("2x") << unknown;
    QTest::newRow("none") << QByteArray("") << unknown;
    QTest::newRow("huge") << QByteArray("99999999999999999999") << unknown;
}

// A newer format is refused naming both numbers (exit code 2), before its keys are read: a key
// this program does not know would otherwise be reported, or worse, one whose meaning changed
// would be read the old way.
void tst_SnapshotYaml::otherFormatsRefused()
{
    QFETCH(QByteArray, schema);
    QFETCH(QString, error);
    const QByteArray yaml
        = "schema: qubes-netmap-snapshot/" + schema + "\nqubes: []\nsomething_new: {a: 1}\n";
    auto loaded = snapshotFromYaml(yaml, QStringLiteral("in.yaml"));
    QVERIFY(!loaded.ok());
    QCOMPARE(loaded.error().toString(), error);
    QCOMPARE(loaded.error().exitCode(), 2);
}

// The intent (--expect) is saved: a reopened snapshot gives the same expected egress in the JSON
// (and so in the colours, the inspector and the verdicts, which read Snapshot::intent through
// intendedEgress() as the JSON does).
void tst_SnapshotYaml::intentRoundTrips()
{
    Snapshot s = demoSnapshot();
    auto x = expectationsFromYaml("qubes:\n  work: vpn\n  untrusted: via sys-vpn\n  \"yes\": none\n"
                                  "tags:\n  anon-vm: tor\n  audio: clearnet\n"
                                  "allow:\n  - [work, personal]\n  - [dev, dev-db]\n",
                                  QStringLiteral("/home/user/expect.yaml"));
    QVERIFY2(x.ok(), qPrintable(x.ok() ? QString() : x.error().toString()));
    const Topology t(s);
    QCOMPARE(intendedEgress(s, t, u"work").egress, Expectation::Egress::Clearnet);
    s.intent = *x;

    const QByteArray yaml = snapshotToYaml(s);
    auto loaded = snapshotFromYaml(yaml, QStringLiteral("s.yaml"));
    QVERIFY2(loaded.ok(), qPrintable(loaded.ok() ? QString() : loaded.error().toString()));
    QCOMPARE(loaded->intent.byQube, s.intent.byQube);
    QCOMPARE(loaded->intent.byTag, s.intent.byTag);
    QCOMPARE(loaded->intent.allowedReach, s.intent.allowedReach);
    QCOMPARE(loaded->intent.sourceFile, s.intent.sourceFile);
    QVERIFY(*loaded == s);
    QCOMPARE(snapshotToYaml(*loaded), yaml);

    auto expected = [](const Snapshot &snapshot, const QString &qube) {
        const QJsonObject root = QJsonDocument::fromJson(exportJson(snapshot)).object();
        for (const QJsonValue &v : root.value(QStringLiteral("qubes")).toArray())
            if (v.toObject().value(QStringLiteral("name")).toString() == qube)
                return v.toObject().value(QStringLiteral("expected_egress")).toString();
        return QStringLiteral("absent");
    };
    QCOMPARE(expected(*loaded, QStringLiteral("work")), QStringLiteral("vpn"));
    QCOMPARE(expected(*loaded, QStringLiteral("untrusted")), QStringLiteral("via sys-vpn"));
    QCOMPARE(exportJson(*loaded), exportJson(s));

    // No intent: no "intent" key, and a reopened snapshot is judged by inference again.
    QVERIFY(!snapshotToYaml(demoSnapshot()).contains("\nintent:"));
}

QTEST_GUILESS_MAIN(tst_SnapshotYaml)
#include "tst_snapshotyaml.moc"
