// Input files that cannot exhaust dom0: anchors and aliases refused in every file the program
// reads (snapshot, config, expectations) with file:line:column, the alias bomb failing fast in
// bounded memory, the flow-depth pre-scan not blinded by a quote, the qube cap of a snapshot, and
// size messages that say the real limit.

#include "checks/checkconfig.h"
#include "formats/snapshotyaml.h"
#include "io/files.h"
#include "peakmemory.h"
#include "policy/expectations.h"
#include "yaml/yamlguard.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace netmap;

namespace {

Error readerError(const QString &kind, const QByteArray &yaml)
{
    if (kind == QLatin1String("snapshot"))
        return snapshotFromYaml(yaml, QStringLiteral("in.yaml")).error();
    if (kind == QLatin1String("config"))
        return checkConfigFromYaml(yaml, QStringLiteral("in.yaml")).error();
    return expectationsFromYaml(yaml, QStringLiteral("in.yaml")).error();
}

} // namespace

class tst_YamlGuard : public QObject
{
    Q_OBJECT

private slots:
    void anchorsRefused_data();
    void anchorsRefused();
    void aliasBomb();
    void quoteDoesNotBlindDepth_data();
    void quoteDoesNotBlindDepth();
    void plainFilesPass_data();
    void plainFilesPass();
    void qubeCap();
    void sizeMessageSaysTheLimit();
};

void tst_YamlGuard::anchorsRefused_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QByteArray>("yaml");
    QTest::addColumn<int>("line");
    QTest::addColumn<QString>("what");
    QTest::newRow("snapshot anchor") << "snapshot"
                                     << QByteArray("schema: qubes-netmap-snapshot/1\n"
                                                   "source: snapshot\n"
                                                   "qubes: []\n"
                                                   "checks:\n"
                                                   "  - &c {qube: work}\n")
                                     << 5 << "anchors";
    QTest::newRow("snapshot alias") << "snapshot"
                                    << QByteArray("schema: qubes-netmap-snapshot/1\n"
                                                  "source: *s\n")
                                    << 2 << "aliases";
    QTest::newRow("config anchor") << "config"
                                   << QByteArray("timeout_seconds: &t 30\n"
                                                 "concurrency: 2\n")
                                   << 1 << "anchors";
    QTest::newRow("config alias") << "config"
                                  << QByteArray("endpoints:\n"
                                                "  ip: [https://a.example/]\n"
                                                "  other: *x\n")
                                  << 3 << "aliases";
    QTest::newRow("expectations anchor") << "expect"
                                         << QByteArray("qubes:\n"
                                                       "  work: &e vpn\n"
                                                       "  mail: *e\n")
                                         << 2 << "anchors";
    QTest::newRow("merge key") << "expect"
                               << QByteArray("base: &b {egress: vpn}\n"
                                             "qubes:\n"
                                             "  work: {<<: *b}\n")
                               << 1 << "anchors";
}

// Protection: refuseUnsafeYaml() in snapshotFromYaml() and strictyaml::loadDocument(); without
// it each row fails (loaded, or refused with another message or no position).
void tst_YamlGuard::anchorsRefused()
{
    QFETCH(QString, kind);
    QFETCH(QByteArray, yaml);
    QFETCH(int, line);
    QFETCH(QString, what);
    const Error e = readerError(kind, yaml);
    QCOMPARE(e.file, QStringLiteral("in.yaml"));
    QVERIFY2(e.message.contains(what), qPrintable(e.toString()));
    QCOMPARE(e.line, line);
    QVERIFY2(e.column > 0, qPrintable(e.toString()));
    QVERIFY2(e.toString().startsWith(QStringLiteral("in.yaml:%1:").arg(line)),
             qPrintable(e.toString()));
}

// The alias bomb: one anchored check of 2 x 1 MiB strings and 199,998 aliases of it (3.5 MB).
// yaml-cpp's tree shares the aliased node, but the loader copied it for every alias: 300 aliases
// already took 1.26 GB, the whole file aborted with bad_alloc. Refused at the anchor now, in
// bounded memory. Protection: refuseUnsafeYaml(); without it this test runs out of memory.
void tst_YamlGuard::aliasBomb()
{
    QByteArray yaml("schema: qubes-netmap-snapshot/1\nsource: snapshot\nqubes: []\nchecks:\n");
    yaml += "  - &c {qube: work, check: external-ip, status: pass, output: \"";
    yaml += QByteArray(1 << 20, 'a');
    yaml += "\", command: \"";
    yaml += QByteArray(1 << 20, 'b');
    yaml += "\"}\n";
    for (int i = 0; i < 199998; ++i)
        yaml += "  - *c\n";
    QVERIFY(yaml.size() > 3 << 20);
    QVERIFY2(test::resetPeak(), "cannot reset the peak resident size (/proc/self/clear_refs)");
    const qint64 before = test::peakKiB();
    QVERIFY(before > 0);
    const auto loaded = snapshotFromYaml(yaml, QStringLiteral("bomb.yaml"));
    QVERIFY(!loaded.ok());
    QVERIFY2(loaded.error().message.contains(QLatin1String("anchors")),
             qPrintable(loaded.error().toString()));
    QCOMPARE(loaded.error().line, 5);
    QVERIFY2(test::peakKiB() - before < 256 * 1024,
             qPrintable(QStringLiteral("peak grew by %1 KiB").arg(test::peakKiB() - before)));
}

void tst_YamlGuard::quoteDoesNotBlindDepth_data()
{
    QTest::addColumn<QByteArray>("prefix");
    QTest::newRow("quote inside a plain value") << QByteArray("source: it\"s\n");
    QTest::newRow("apostrophe inside a plain value") << QByteArray("source: it's\n");
    QTest::newRow("quote in a comment") << QByteArray("# it\"s a comment\n");
    QTest::newRow("escaped quote in a quoted value") << QByteArray("source: \"a\\\"b\"\n");
}

// A '"' in the middle of a plain scalar opened a "quoted string" in the pre-scan, which then
// counted no bracket up to the next quote: the nesting below went unseen (yaml-cpp's own guard
// was the last line). Protection: the pre-scan opens quotes only where a scalar can begin.
void tst_YamlGuard::quoteDoesNotBlindDepth()
{
    QFETCH(QByteArray, prefix);
    const QByteArray yaml = "schema: qubes-netmap-snapshot/1\n" + prefix
        + "qubes: " + QByteArray(200, '[') + QByteArray(200, ']') + "\n";
    const auto refused = refuseUnsafeYaml(yaml);
    QVERIFY(refused.has_value());
    QVERIFY2(refused->message.contains(QLatin1String("nesting is deeper")),
             qPrintable(refused->message));
    QCOMPARE(refused->line, prefix.count('\n') + 2);
    const Error e = snapshotFromYaml(yaml, QStringLiteral("deep.yaml")).error();
    QVERIFY2(e.message.contains(QLatin1String("nesting is deeper")), qPrintable(e.toString()));
}

void tst_YamlGuard::plainFilesPass_data()
{
    QTest::addColumn<QByteArray>("yaml");
    QTest::newRow("brackets in quotes") << QByteArray("a: \"" + QByteArray(100, '[') + "\"\n");
    QTest::newRow("brackets in single quotes") << QByteArray("a: '" + QByteArray(100, '[') + "'\n");
    QTest::newRow("brackets in a comment") << QByteArray("a: 1 # " + QByteArray(100, '[') + "\n");
    QTest::newRow("ampersand in a value") << QByteArray("a: fish & chips\nb: \"&x *y\"\n");
    QTest::newRow("flow") << QByteArray("a: [1, [2, {b: \"[\"}]]\n");
}

void tst_YamlGuard::plainFilesPass()
{
    QFETCH(QByteArray, yaml);
    const auto refused = refuseUnsafeYaml(yaml);
    QVERIFY2(!refused, refused ? qPrintable(refused->message) : "");
}

// The qube cap: the SVG export of 100,000 qubes took 2.9 GB. Protection: kMaxSnapshotQubes in
// snapshotFromYaml() (raised to 100,000 again, the 2001-qube row loads and this fails).
void tst_YamlGuard::qubeCap()
{
    const auto make = [](int n) {
        QByteArray yaml("schema: qubes-netmap-snapshot/1\nsource: snapshot\nqubes:\n");
        for (int i = 0; i < n; ++i)
            yaml += "  - {name: q" + QByteArray::number(i) + ", class: AppVM, state: Halted}\n";
        return yaml;
    };
    const auto atCap = snapshotFromYaml(make(int(kMaxSnapshotQubes)), QStringLiteral("ok.yaml"));
    QVERIFY2(atCap.ok(), atCap.ok() ? "" : qPrintable(atCap.error().toString()));
    const auto over
        = snapshotFromYaml(make(int(kMaxSnapshotQubes) + 1), QStringLiteral("big.yaml"));
    QVERIFY(!over.ok());
    QVERIFY2(
        over.error().message.contains(QStringLiteral("more than %1 qubes").arg(kMaxSnapshotQubes)),
        qPrintable(over.error().toString()));
    QCOMPARE(over.error().line, 4);
}

// "larger than 0 MiB" for the 256 KiB config cap. Protection: sizeText() in files.cpp.
void tst_YamlGuard::sizeMessageSaysTheLimit()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("config.yaml"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    QVERIFY(f.write(QByteArray(kMaxConfigFileBytes + 1, '#')) > 0);
    f.close();
    const auto loaded = loadCheckConfig(path);
    QVERIFY(!loaded.ok());
    QVERIFY2(loaded.error().message.contains(QLatin1String("larger than 256 KiB")),
             qPrintable(loaded.error().toString()));
    QVERIFY2(readFileCapped(path, 100).error().message.contains(QLatin1String("100 bytes")),
             qPrintable(readFileCapped(path, 100).error().toString()));
    QVERIFY(readFileCapped(path, 1 << 20).ok());
}

QTEST_GUILESS_MAIN(tst_YamlGuard)
#include "tst_yamlguard.moc"
