#include "report/jsonexport.h"
#include "io/snapshotyaml.h"
#include "model/topology.h"

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

    Snapshot plain = demo;
    for (Qube &q : plain.qubes) {
        q.ip6.clear();
        q.visibleIp6.clear();
        q.gateway6.clear();
        q.ipv6Feature.reset();
    }
    for (CheckResult &c : plain.checks)
        c.externalIp6.clear();
    const QByteArray yaml = snapshotToYaml(plain);
    for (const char *key : {"ip6", "gateway6", "ipv6_feature", "external_ip6"})
        QVERIFY2(!yaml.contains(QByteArray(key) + ':'), key);
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

    struct rlimit saved {};
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
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden), QStringList {QStringLiteral("s.yaml")});
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

QTEST_GUILESS_MAIN(tst_SnapshotYaml)
#include "tst_snapshotyaml.moc"
