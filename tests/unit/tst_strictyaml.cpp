// The one strict YAML reader (yaml/strictyaml_p.h) as each of its three users sees it: the
// snapshot, the check configuration and the expectations file refuse the same things (repeated
// keys, unknown keys, anchors, aliases, tags, non-text keys, and documents past the size, depth
// and count caps) with one error line "file:line:column: message".

#include "checks/checkconfig.h"
#include "formats/snapshotyaml.h"
#include "policy/expectations.h"

#include <QTest>

using namespace netmap;

namespace {

const QByteArray kSnapshotHead("schema: qubes-netmap-snapshot/1\n"
                               "source: snapshot\n");

Error readerError(const QString &kind, const QByteArray &yaml, bool *loaded)
{
    *loaded = false;
    if (kind == QLatin1String("snapshot")) {
        const auto r = snapshotFromYaml(yaml, QStringLiteral("in.yaml"));
        *loaded = r.ok();
        return r.ok() ? Error {} : r.error();
    }
    if (kind == QLatin1String("config")) {
        const auto r = checkConfigFromYaml(yaml, QStringLiteral("in.yaml"));
        *loaded = r.ok();
        return r.ok() ? Error {} : r.error();
    }
    const auto r = expectationsFromYaml(yaml, QStringLiteral("in.yaml"));
    *loaded = r.ok();
    return r.ok() ? Error {} : r.error();
}

QByteArray repeated(const QByteArray &item, int n, const QByteArray &separator)
{
    QByteArray out;
    out.reserve((item.size() + separator.size()) * n);
    for (int i = 0; i < n; ++i) {
        if (i)
            out += separator;
        out += item;
    }
    return out;
}

} // namespace

class tst_StrictYaml : public QObject
{
    Q_OBJECT
private slots:
    void refused_data();
    void refused();
    void validFilesLoad_data();
    void validFilesLoad();
};

void tst_StrictYaml::refused_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QByteArray>("yaml");
    QTest::addColumn<int>("line");
    QTest::addColumn<int>("column");
    QTest::addColumn<QString>("message");

    // Repeated keys. The snapshot rows loaded before the one reader (yaml-cpp keeps both keys and
    // answers with the first; the firewall kept the second): they fail on the old reader.
    QTest::newRow("snapshot: top-level key twice")
        << "snapshot" << kSnapshotHead + "source: qvm-ls\nqubes: []\n"
        << 3 << 1 << "key \"source\" appears twice (first on line 2)";
    QTest::newRow("snapshot: qube key twice")
        << "snapshot"
        << kSnapshotHead
            + "qubes:\n  - name: work\n    class: AppVM\n    state: Running\n"
              "    netvm: sys-net\n    netvm: sys-vpn\n"
        << 8 << 5 << "key \"netvm\" appears twice (first on line 7)";
    QTest::newRow("snapshot: firewall qube twice")
        << "snapshot"
        << kSnapshotHead + "qubes: []\nfirewall:\n  work: []\n  work: [\"action=accept\"]\n"
        << 6 << 3 << "key \"work\" appears twice";
    QTest::newRow("snapshot: quoted and plain key")
        << "snapshot" << kSnapshotHead + "\"source\": x\nqubes: []\n"
        << 3 << 1 << "key \"source\" appears twice";
    QTest::newRow("config: key twice")
        << "config" << QByteArray("checks:\n  concurrency: 2\n  concurrency: 3\n") << 3 << 3
        << "key \"concurrency\" appears twice (first on line 2)";
    QTest::newRow("config: section twice")
        << "config" << QByteArray("dns: {}\nchecks: {}\ndns: {}\n") << 3 << 1
        << "key \"dns\" appears twice";
    QTest::newRow("expectations: qube twice")
        << "expect" << QByteArray("qubes:\n  work: vpn\n  work: tor\n") << 3 << 3
        << "key \"work\" appears twice (first on line 2)";
    QTest::newRow("expectations: allow entry key twice")
        << "expect" << QByteArray("allow:\n  - {from: a, to: b, to: c}\n") << 2 << 22
        << "key \"to\" appears twice";

    // Unknown keys.
    QTest::newRow("snapshot: unknown key")
        << "snapshot" << kSnapshotHead + "qubes: []\ncolour: red\n"
        << 4 << 1 << "unknown key \"colour\"";
    QTest::newRow("snapshot: unknown qube key")
        << "snapshot"
        << kSnapshotHead + "qubes:\n  - {name: work, class: AppVM, state: Running, vcpus: 2}\n"
        << 4 << 48 << "unknown key \"vcpus\"";
    QTest::newRow("config: unknown key")
        << "config" << QByteArray("checks:\n  timeout: 3\n") << 2 << 3 << "unknown key \"timeout\"";
    QTest::newRow("expectations: unknown key")
        << "expect" << QByteArray("qube:\n  work: vpn\n") << 1 << 1 << "unknown key \"qube\"";

    // Anchors, aliases and tags.
    QTest::newRow("snapshot: anchor") << "snapshot" << kSnapshotHead + "qubes: &q []\n"
                                      << 3 << 8 << "anchors (&name) are not accepted";
    QTest::newRow("snapshot: alias") << "snapshot" << kSnapshotHead + "qubes: []\nrejected: *r\n"
                                     << 4 << 11 << "aliases (*name) are not accepted";
    QTest::newRow("snapshot: tag")
        << "snapshot" << kSnapshotHead + "qubes: []\nrejected: !!seq []\n"
        << 4 << 11 << "tags (!name) are not accepted";
    QTest::newRow("snapshot: local tag")
        << "snapshot" << kSnapshotHead + "generated: !time 2026-01-01T00:00:00Z\nqubes: []\n"
        << 3 << 12 << "tags (!name) are not accepted";
    QTest::newRow("config: anchor") << "config" << QByteArray("checks:\n  concurrency: &c 2\n") << 2
                                    << 16 << "anchors (&name) are not accepted";
    QTest::newRow("config: alias") << "config" << QByteArray("checks:\n  concurrency: *c\n") << 2
                                   << 16 << "aliases (*name) are not accepted";
    QTest::newRow("config: tag") << "config" << QByteArray("checks:\n  concurrency: !!int 2\n") << 2
                                 << 16 << "tags (!name) are not accepted";
    QTest::newRow("expectations: anchor") << "expect" << QByteArray("qubes: &q {work: vpn}\n") << 1
                                          << 8 << "anchors (&name) are not accepted";
    QTest::newRow("expectations: alias") << "expect" << QByteArray("qubes: {work: vpn, mail: *v}\n")
                                         << 1 << 26 << "aliases (*name) are not accepted";
    QTest::newRow("expectations: tag") << "expect" << QByteArray("qubes:\n  work: !!str vpn\n") << 2
                                       << 9 << "tags (!name) are not accepted";

    // Keys that are not text.
    QTest::newRow("snapshot: list as key")
        << "snapshot" << kSnapshotHead + "? [a]\n: b\nqubes: []\n"
        << 3 << 3 << "a key must be plain text, not a list";
    QTest::newRow("config: mapping as key") << "config" << QByteArray("? {a: 1}\n: b\n") << 1 << 3
                                            << "a key must be plain text, not a mapping";
    QTest::newRow("expectations: empty key") << "expect" << QByteArray("qubes:\n  : vpn\n") << 2
                                             << 3 << "a key must be plain text, not empty";

    // Caps: size, depth (block nesting, which the text pre-scan of flow brackets does not see),
    // and the number of values.
    QTest::newRow("snapshot: size")
        << "snapshot" << kSnapshotHead + "qubes: []\n#" + QByteArray(16 << 20, 'x') + "\n"
        << 1 << 1 << "larger than 16384 KiB";
    QTest::newRow("config: size") << "config" << QByteArray("#") + QByteArray(256 << 10, 'x') << 1
                                  << 1 << "larger than 256 KiB";
    QTest::newRow("expectations: size") << "expect" << QByteArray("#") + QByteArray(1 << 20, 'x')
                                        << 1 << 1 << "larger than 1024 KiB";
    QTest::newRow("snapshot: block depth")
        << "snapshot" << kSnapshotHead + "qubes: []\nrejected:\n" + repeated("-", 100000, " ") << 5
        << 127 << "nesting is deeper than 64 levels";
    QTest::newRow("config: block depth")
        << "config" << QByteArray("checks:\n  isolation_ports:\n    ") + repeated("-", 20, " ") << 3
        << 33 << "nesting is deeper than 16 levels";
    QTest::newRow("expectations: block depth")
        << "expect" << QByteArray("allow:\n") + repeated("-", 20, " ") << 2 << 31
        << "nesting is deeper than 16 levels";
    QTest::newRow("snapshot: values")
        << "snapshot"
        << kSnapshotHead + "qubes: []\nrejected: [" + repeated("a", 1000000, ",") + "]\n"
        << 4 << 1999994 << "more than 1000000 values";
    QTest::newRow("config: values")
        << "config" << QByteArray("checks: {isolation_ports: [") + repeated("1", 10000, ",") + "]}"
        << 1 << 20018 << "more than 10000 values";
    QTest::newRow("expectations: values")
        << "expect" << QByteArray("allow: [") + repeated("[a, b]", 50000, ",") + "]" << 1 << 233334
        << "more than 100000 values";
}

// Protection: yaml/yamlguard.h (Guard) and strictyaml::checkKeys(). The snapshot's repeated-key
// rows loaded without an error before the snapshot went through the shared reader.
void tst_StrictYaml::refused()
{
    QFETCH(QString, kind);
    QFETCH(QByteArray, yaml);
    QFETCH(int, line);
    QFETCH(int, column);
    QFETCH(QString, message);
    bool loaded = false;
    const Error e = readerError(kind, yaml, &loaded);
    QVERIFY2(!loaded, "the document was loaded");
    QVERIFY2(e.message.contains(message), qPrintable(e.toString()));
    QCOMPARE(e.code, Error::Code::Input);
    const QString where = QStringLiteral("in.yaml:%1:%2: ").arg(line).arg(column);
    QVERIFY2(e.toString().startsWith(where), qPrintable(e.toString().left(200)));
    QVERIFY(!e.toString().contains(QLatin1Char('\n')));
}

void tst_StrictYaml::validFilesLoad_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QByteArray>("yaml");
    QTest::newRow("snapshot") << "snapshot"
                              << kSnapshotHead
            + "qubes:\n  - {name: work, class: AppVM, state: Running, netvm: sys-net}\n"
              "  - {name: sys-net, class: AppVM, state: Running, provides_network: true}\n"
              "firewall:\n  work: [\"action=accept\"]\n  sys-net: []\n";
    QTest::newRow("snapshot: same key in two mappings") << "snapshot"
                                                        << kSnapshotHead
            + "qubes:\n  - {name: a, class: AppVM, state: Halted}\n"
              "  - {name: b, class: AppVM, state: Halted}\n";
    QTest::newRow("config: quoted string")
        << "config" << QByteArray("dns: {whoami: \"o-o.myaddr.l.google.com\"}\n");
    QTest::newRow("config: nesting within the cap")
        << "config" << QByteArray("checks:\n  isolation_ports:\n    - 22\n");
    QTest::newRow("expectations: bare non-specific tag is a string")
        << "expect" << QByteArray("qubes:\n  work: ! vpn\n");
    QTest::newRow("expectations: values within the cap")
        << "expect" << QByteArray("allow: [") + repeated("[a, b]", 1000, ",") + "]";
}

// The rules refuse only what they name: the same key in different mappings, quoted values and
// ordinary nesting still load.
void tst_StrictYaml::validFilesLoad()
{
    QFETCH(QString, kind);
    QFETCH(QByteArray, yaml);
    bool loaded = false;
    const Error e = readerError(kind, yaml, &loaded);
    QVERIFY2(loaded, qPrintable(e.toString()));
}

QTEST_GUILESS_MAIN(tst_StrictYaml)
#include "tst_strictyaml.moc"
