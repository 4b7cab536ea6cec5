// Hostile input files (issue 8, docs/ARCHITECTURE.md §6): snapshot files that try to smuggle
// control sequences into the error line, that are huge, deeply nested or of the wrong types, fail
// with one line of plain text and a position, without exhausting the stack or memory.

#include "checks/checkconfig.h"
#include "formats/markdownreport.h"
#include "formats/snapshotyaml.h"
#include "io/files.h"
#include "model/ipv4.h"
#include "model/untrustedtext.h"
#include "policy/expectations.h"
#include "qubes/qvmparsers.h"
#include "skips.h"

#include <QDir>
#include <QFile>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

using namespace netmap;

namespace {

bool hasControl(const QString &text)
{
    for (const QChar c : text)
        if (c.category() == QChar::Other_Control)
            return true;
    return false;
}

QStringList hostileFiles(const QString &pattern)
{
    QDir dir(QStringLiteral(NETMAP_TEST_DATA "/hostile"));
    QStringList paths;
    for (const QString &f : dir.entryList({pattern}, QDir::Files, QDir::Name))
        paths << dir.filePath(f);
    return paths;
}

} // namespace

class tst_HostileFiles : public QObject
{
    Q_OBJECT
private slots:
    void snapshotErrorsArePlainText_data();
    void snapshotErrorsArePlainText();
    void hugeSnapshotFile();
    void endlessSnapshotFile();
    void deepOrWrongSnapshot_data();
    void deepOrWrongSnapshot();
    void firewallCommentRoundTrips_data();
    void firewallCommentRoundTrips();
    void configErrorsArePlainText_data();
    void configErrorsArePlainText();
    void markdownCellsHaveNoAutolink_data();
    void markdownCellsHaveNoAutolink();
    void longDigitRunsAreNotAddresses();
};

void tst_HostileFiles::snapshotErrorsArePlainText_data()
{
    QTest::addColumn<QString>("path");
    const QStringList files = hostileFiles(QStringLiteral("snapshot-*.yaml"));
    QVERIFY(files.size() >= 4);
    for (const QString &path : files)
        QTest::newRow(qPrintable(QFileInfo(path).fileName())) << path;
}

// Protection: snapshotyaml.cpp passes every message through plainMessage() (control characters
// become '?'). Removing it (raw yaml-cpp message, raw unknown key) fails these rows.
void tst_HostileFiles::snapshotErrorsArePlainText()
{
    QFETCH(QString, path);
    const auto loaded = loadSnapshotFile(path);
    QVERIFY(!loaded.ok());
    const Error &e = loaded.error();
    QCOMPARE(e.file, path);
    QVERIFY2(e.line > 0 && e.column > 0, qPrintable(e.toString()));
    QVERIFY2(!hasControl(e.message), qPrintable(e.message.toUtf8().toPercentEncoding(" :\"")));
    QVERIFY(!hasControl(e.toString()));
}

// Protection: readFileCapped() checks the size before reading (kMaxInputFileBytes, 16 MiB).
// Without the check the 17 MiB file is read and refused by the YAML parser instead, and the
// message no longer says why (this test fails).
void tst_HostileFiles::hugeSnapshotFile()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("huge.yaml"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    QVERIFY(f.write("schema: qubes-netmap-snapshot/1\n") > 0);
    QVERIFY(f.resize(17 << 20)); // sparse: costs no disk
    f.close();
    const auto loaded = loadSnapshotFile(path);
    QVERIFY(!loaded.ok());
    QCOMPARE(loaded.error().file, path);
    QVERIFY2(loaded.error().message.contains(QLatin1String("larger than 16 MiB")),
             qPrintable(loaded.error().toString()));
}

// A "file" that never ends (a FIFO a hostile tool keeps writing to) is read only up to the cap:
// a writer thread counts the bytes the reader took before it hung up. Protection: the read of
// cap + 1 bytes in readFileCapped(); a readAll() there would never return (the test would hang),
// a larger cap shows in the count.
void tst_HostileFiles::endlessSnapshotFile()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QByteArray fifo = QFile::encodeName(dir.filePath(QStringLiteral("endless.yaml")));
    QVERIFY2(mkfifo(fifo.constData(), 0600) == 0, strerror(errno));
    // A write to a FIFO nobody reads any more fails with EPIPE instead of killing the test.
    const auto oldPipe = std::signal(SIGPIPE, SIG_IGN);
    std::atomic<qint64> written {0};
    std::thread writer([&fifo, &written] {
        const int fd = ::open(fifo.constData(), O_WRONLY); // waits for the reader
        if (fd < 0)
            return;
        const QByteArray chunk(4096, 'a');
        for (;;) {
            const ssize_t n = ::write(fd, chunk.constData(), size_t(chunk.size()));
            if (n <= 0)
                break; // EPIPE: the reader closed the file
            written += n;
        }
        ::close(fd);
    });
    const auto loaded = loadSnapshotFile(QFile::decodeName(fifo));
    writer.join();
    std::signal(SIGPIPE, oldPipe);
    QVERIFY(!loaded.ok());
    QVERIFY2(loaded.error().message.contains(QLatin1String("larger than 16 MiB")),
             qPrintable(loaded.error().toString()));
    // Read: the cap and one byte. Written beyond that: what the pipe buffers (64 KiB by
    // default, at most /proc/sys/fs/pipe-max-size, 1 MiB) and one chunk in flight.
    QVERIFY2(written.load() > kMaxInputFileBytes, qPrintable(QString::number(written.load())));
    QVERIFY2(written.load() <= kMaxInputFileBytes + 1 + (1 << 20) + 4096,
             qPrintable(QString::number(written.load())));
}

void tst_HostileFiles::deepOrWrongSnapshot_data()
{
    QTest::addColumn<QByteArray>("yaml");
    QTest::addColumn<int>("line"); // expected line of the error, 0 = any line > 0
    QTest::addColumn<QString>("says"); // a piece of the expected message, or empty

    const QByteArray head("schema: qubes-netmap-snapshot/1\nsource: snapshot\n");
    const QByteArray qube("qubes:\n  - name: work\n    class: AppVM\n    state: Running\n");
    // Nesting the program never writes: flow collections, block sequences on one line, block
    // mappings by indentation, and a mix. yaml-cpp recurses on each level.
    QTest::newRow("flow [ x100000")
        << head + "qubes: " + QByteArray(100000, '[') << 3 << QStringLiteral("deeper than 64");
    QTest::newRow("flow { x100000") << head + "source_detail: " + QByteArray(100000, '{') << 3
                                    << QStringLiteral("deeper than 64");
    QTest::newRow("flow mixed x50000") << head + "rejected: " + QByteArray("[{").repeated(50000)
                                       << 3 << QStringLiteral("deeper than 64");
    QTest::newRow("block - x5000") << head + "qubes:\n" + QByteArray("- ").repeated(5000) + "x\n"
                                   << 0 << QString();
    QByteArray mapping = head + "globals:\n";
    for (int i = 1; i <= 3000; ++i)
        mapping += QByteArray(i, ' ') + "a:\n";
    QTest::newRow("block mapping x3000") << mapping << 0 << QString();
    // An alias bomb: each level refers to the one before ten times (10^11 leaves if expanded).
    QByteArray bomb = head + "qubes: []\nrejected:\n  - &a0 [\"lol\"]\n";
    for (int i = 1; i < 12; ++i) {
        bomb += "  - &a" + QByteArray::number(i) + " [";
        for (int j = 0; j < 10; ++j)
            bomb += (j ? ", *a" : "*a") + QByteArray::number(i - 1);
        bomb += "]\n";
    }
    QTest::newRow("alias bomb") << bomb << 5 << QStringLiteral("anchors");
    // Wrong types, one defect each.
    QTest::newRow("qubes is text") << head + "qubes: all of them\n" << 3 << QString();
    QTest::newRow("qubes is a mapping") << head + "qubes: {work: 1}\n" << 3 << QString();
    QTest::newRow("name is a list") << head + "qubes:\n  - name: [work]\n    class: AppVM\n"
                                    << 4 << QString();
    QTest::newRow("name is a mapping") << head + "qubes:\n  - name: {a: b}\n" << 4 << QString();
    QTest::newRow("provides_network yes") << head + qube + "    provides_network: yes\n"
                                          << 7 << QString();
    QTest::newRow("tags is text") << head + qube + "    tags: anon-vm\n" << 7 << QString();
    QTest::newRow("tags hold a list") << head + qube + "    tags: [[a]]\n" << 7 << QString();
    QTest::newRow("exit_code is a list") << head
            + "qubes: []\nchecks:\n  - qube: work\n    check: tor\n    status: pass\n"
              "    exit_code: [1]\n" << 8 << QString();
    QTest::newRow("exit_code huge") << head
            + "qubes: []\nchecks:\n  - qube: work\n    check: tor\n    status: pass\n"
              "    exit_code: 99999999999999999999999\n"
                                    << 8 << QString();
    QTest::newRow("generated not a time") << head + "generated: yesterday\nqubes: []\n"
                                          << 3 << QString();
    QTest::newRow("globals is a list") << head + "globals: [a]\nqubes: []\n" << 3 << QString();
    QTest::newRow("firewall rules text") << head + "qubes: []\nfirewall:\n  work: drop\n"
                                         << 5 << QString();
    QTest::newRow("root is a list") << QByteArray("- schema\n- qubes\n") << 1 << QString();
    QTest::newRow("root is text") << QByteArray("qubes-netmap\n") << 1 << QString();
    QTest::newRow("binary") << QByteArray("\x00\x01\x02\xff\xfe", 5) << 0 << QString();
}

// Protections: the flow-depth pre-scan (tooDeep, 64 levels) in snapshotyaml.cpp, yaml-cpp's
// own depth guard (2000 levels, 0.7+) for block nesting, and the typed readers that refuse a
// node of the wrong kind with its mark. Every row must fail with file, line and column.
// Removing tooDeep fails the three "flow" rows (yaml-cpp's own guard still stops the recursion,
// but with the message "bad file"; older yaml-cpp has no guard and overflows the stack).
void tst_HostileFiles::deepOrWrongSnapshot()
{
    QFETCH(QByteArray, yaml);
    QFETCH(int, line);
    QFETCH(QString, says);
    const auto loaded = snapshotFromYaml(yaml, QStringLiteral("hostile.yaml"));
    QVERIFY(!loaded.ok());
    const Error &e = loaded.error();
    QCOMPARE(e.file, QStringLiteral("hostile.yaml"));
    QVERIFY2(e.line > 0 && e.column > 0, qPrintable(e.toString()));
    if (line > 0)
        QVERIFY2(e.line == line, qPrintable(e.toString()));
    if (!says.isEmpty())
        QVERIFY2(e.message.contains(says), qPrintable(e.toString()));
    QVERIFY2(!hasControl(e.message), qPrintable(e.toString()));
    QVERIFY2(
        e.toString().startsWith(QStringLiteral("hostile.yaml:%1:%2: ").arg(e.line).arg(e.column)),
        qPrintable(e.toString()));
}

void tst_HostileFiles::firewallCommentRoundTrips_data()
{
    QTest::addColumn<QByteArray>("comment");
    QTest::newRow("bytes that are not UTF-8") << QByteArray(3000, '\xff');
    QTest::newRow("cut UTF-8 sequences") << QByteArray("\xe2\x80").repeated(1500);
    QTest::newRow("bidi overrides") << QByteArray("\xe2\x80\xae").repeated(1000);
    QTest::newRow("markup") << QByteArray("<b>x</b> & ").repeated(300);
}

// A firewall rule as qvm-firewall printed it (comment near the 4 KiB line cap) survives a
// snapshot save and load. Found by fuzz_firewall: invalid UTF-8 in a comment became U+FFFD
// (3 bytes each), toRaw() outgrew the line cap and the saved snapshot no longer loaded.
// Protection: qvmparsers.cpp turns U+FFFD in comments into '?' (removing it fails row 1 and 2).
void tst_HostileFiles::firewallCommentRoundTrips()
{
    QFETCH(QByteArray, comment);
    const FirewallParse parsed
        = parseFirewall("action=accept proto=tcp dstports=443-443 comment=" + comment + "\n");
    QCOMPARE(parsed.rules.size(), 1);
    const FirewallRule rule = parsed.rules.front();
    QVERIFY(!hasControl(rule.comment));

    Snapshot s = demoSnapshot();
    s.firewall.insert(QStringLiteral("work"), {rule});
    const auto loaded = snapshotFromYaml(snapshotToYaml(s), QStringLiteral("saved.yaml"));
    QVERIFY2(loaded.ok(), qPrintable(loaded.ok() ? QString() : loaded.error().toString()));
    QCOMPARE(loaded->firewall.value(QStringLiteral("work")).size(), 1);
    QVERIFY(loaded->firewall.value(QStringLiteral("work")).front() == rule);
}

void tst_HostileFiles::configErrorsArePlainText_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QByteArray>("yaml");
    QTest::newRow("config: escape in a key") << "config" << QByteArray("\"\\e]0;x\\a\\e[2J\": 1\n");
    QTest::newRow("config: raw control key") << "config" << QByteArray("\x1d\x1b[2J: 1\n");
    QTest::newRow("config: bad escape") << "config" << QByteArray("checks: \"\\\x1b\"\n");
    QTest::newRow("expectations: escape in a key")
        << "expect" << QByteArray("\"\\e]0;x\\a\\e[2J\": 1\n");
    QTest::newRow("expectations: raw control key")
        << "expect" << QByteArray("qubes:\n  \x1b[2Jw: vpn\n");
    QTest::newRow("expectations: bad escape") << "expect" << QByteArray("qubes: \"\\\x1b\"\n");
}

// Found by fuzz_checkconfig and fuzz_expectations: like the snapshot reader, the config and
// expectations readers quoted yaml-cpp's messages and unknown keys raw into the error line.
// Protection: strictyaml::plainMessage() (removing it fails every row).
void tst_HostileFiles::configErrorsArePlainText()
{
    QFETCH(QString, kind);
    QFETCH(QByteArray, yaml);
    const Error e = kind == QLatin1String("config")
        ? checkConfigFromYaml(yaml, QStringLiteral("c.yaml")).error()
        : expectationsFromYaml(yaml, QStringLiteral("c.yaml")).error();
    QCOMPARE(e.file, QStringLiteral("c.yaml"));
    QVERIFY2(!hasControl(e.toString()), qPrintable(e.message.toUtf8().toPercentEncoding(" :\"")));
    QVERIFY2(e.line > 0, qPrintable(e.toString()));
}

void tst_HostileFiles::markdownCellsHaveNoAutolink_data()
{
    QTest::addColumn<QString>("text");
    QTest::newRow("plain") << QStringLiteral("see http://evil.example/x");
    QTest::newRow("NUL before //") << QString::fromUtf8("http:\0//evil.example", 20);
    QTest::newRow("ESC before //") << QStringLiteral("http:\x1b//evil.example");
    QTest::newRow("bidi between slashes") << QString::fromUtf8("http:/\xe2\x80\xae/evil.example");
}

// Found by fuzz_markdown: the "://" look-ahead ran before control characters were dropped, so
// "http:\x01//x" came out as an autolink. Protection: the look-ahead skips dropped characters.
void tst_HostileFiles::markdownCellsHaveNoAutolink()
{
    QFETCH(QString, text);
    const QString cell = untrustedtext::markdownInline(text);
    QVERIFY2(!cell.contains(QRegularExpression(QStringLiteral("(^|[^\\\\])://"))),
             qPrintable(cell));
}

// Found by fuzz_probevalues under UBSan: a run of digits overflowed int in validIpv4().
void tst_HostileFiles::longDigitRunsAreNotAddresses()
{
    for (const char *s : {"299999999917", "99999999999.1", "1.2.3.4444444444", "4294967296"})
        QVERIFY2(!validIpv4(QString::fromLatin1(s)).has_value(), s);
    QVERIFY(validIpv4(u"203.0.113.7").has_value());
}

NETMAP_GUILESS_TEST_MAIN(tst_HostileFiles)
#include "tst_hostilefiles.moc"
