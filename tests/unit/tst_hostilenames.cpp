// Names are validated before any use (docs/ARCHITECTURE.md §6): a qube name that could be an
// option, a shell word, markup or a look-alike never becomes a QubeName, so it never reaches
// qvm-run, qvm-prefs, qvm-firewall, the diagram or a file. Every way a name enters the program is
// tried here.
//
// Protection: QubeName::fromUntrusted (core/model/qubename.cpp). Removed once locally (letting a
// leading '-', spaces and ';' through): the option, shell-word and every "... refuses" row fail.

#include "checks/checkscripts.h"
#include "checks/verifier.h"
#include "formats/snapshotyaml.h"
#include "model/qubename.h"
#include "policy/expectations.h"
#include "qubes/qvmparsers.h"

#include <QTest>

// The fixtures hold the fields asked before is_preload (4.2 prints '-' there anyway) and the
// IPv6 fields after it.
[[maybe_unused]] static QStringList recordedFields()
{
    QStringList fields = netmap::qvmLsFields();
    for (const char *late : {"is_preload", "ip6", "visible_ip6", "gateway6"})
        fields.removeAll(QLatin1String(late));
    return fields;
}

using namespace netmap;

namespace {

QStringList hostileNames()
{
    return {
        QStringLiteral("-u"),
        QStringLiteral("--help"),
        QStringLiteral("--dispvm"),
        QStringLiteral("--pass-io"),
        QStringLiteral("-"),
        QStringLiteral("a;id"),
        QStringLiteral("$(id)"),
        QStringLiteral("`id`"),
        QStringLiteral("a b"),
        QStringLiteral("a|b"),
        QStringLiteral("a&b"),
        QStringLiteral("a>b"),
        QStringLiteral("a'b"),
        QStringLiteral("a\"b"),
        QStringLiteral("a\\b"),
        QStringLiteral("a\nb"),
        QString::fromUtf8("a\0b", 3),
        QStringLiteral("a\tb"),
        QStringLiteral("a\x1b[2Jb"),
        QStringLiteral("<img src=x>"),
        QStringLiteral("../etc"),
        QStringLiteral("a/b"),
        QStringLiteral("1work"),
        QStringLiteral("_work"),
        QStringLiteral(".work"),
        QString::fromUtf8("w\xc3\xb6rk"), // ö
        QString::fromUtf8("w\xd0\xberk"), // Cyrillic o, looks like "work"
        QString::fromUtf8("\xef\xbd\x97ork"), // fullwidth w
        QString::fromUtf8("work\xe2\x80\xae"), // right-to-left override
        QString::fromUtf8("wo\xe2\x80\x8brk"), // zero-width space
        QStringLiteral("none"),
        QStringLiteral("default"),
        QStringLiteral("Domain-0"),
        QStringLiteral("sys-net-dm"),
        QString(32, u'a'),
        QString(),
    };
}

} // namespace

class tst_HostileNames : public QObject
{
    Q_OBJECT
private slots:
    void refused_data();
    void refused();
    void dom0IsNeverRunnable();
    void qvmRunNeverSeesAnOption_data();
    void qvmRunNeverSeesAnOption();
    void qvmLsRowRefuses_data() { refused_data(); }
    void qvmLsRowRefuses();
    void prefsValueRefuses_data() { refused_data(); }
    void prefsValueRefuses();
    void snapshotRefuses_data() { refused_data(); }
    void snapshotRefuses();
    void expectationsRefuse_data() { refused_data(); }
    void expectationsRefuse();
    void verifierRefuses_data() { refused_data(); }
    void verifierRefuses();
};

void tst_HostileNames::refused_data()
{
    QTest::addColumn<QString>("name");
    int i = 0;
    for (const QString &n : hostileNames())
        QTest::newRow(qPrintable(QStringLiteral("%1 %2").arg(++i).arg(
            QString::fromLatin1(n.toUtf8().toPercentEncoding("-$()`;|&<>'\"./ \\=")))))
            << n;
}

void tst_HostileNames::refused()
{
    QFETCH(QString, name);
    QString why;
    QVERIFY2(!QubeName::fromUntrusted(name, &why).has_value(), qPrintable(name));
    QVERIFY(!why.isEmpty());
}

void tst_HostileNames::dom0IsNeverRunnable()
{
    const auto dom0 = QubeName::fromUntrusted(u"dom0");
    QVERIFY(dom0.has_value());
    QVERIFY(!dom0->isRunnable());
    QVERIFY(!QubeName().isRunnable());
}

void tst_HostileNames::qvmRunNeverSeesAnOption_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("root");
    for (const char *n : {"work", "a", "sys-vpn.2", "A_b-c.d", "x123456789012345678901234567890"})
        for (bool root : {false, true})
            QTest::newRow(qPrintable(QStringLiteral("%1%2").arg(
                QLatin1String(n), root ? QStringLiteral(" root") : QString())))
                << QString::fromLatin1(n) << root;
}

// The qube is one argument, after every option, and cannot itself look like one; the script is
// the last argument (one argv element, never split by a dom0 shell).
void tst_HostileNames::qvmRunNeverSeesAnOption()
{
    QFETCH(QString, name);
    QFETCH(bool, root);
    const auto qube = QubeName::fromUntrusted(name);
    QVERIFY(qube);
    const QString script = QStringLiteral("echo 'x'; $(id) `id` | cat > /dev/null");
    const QStringList args = qvmRunArguments(*qube, script, root, false);
    QCOMPARE(args.size() >= 3, true);
    QCOMPARE(args.last(), script);
    QCOMPARE(args.at(args.size() - 2), name);
    QVERIFY(!name.startsWith(u'-'));
    for (qsizetype i = 0; i < args.size() - 2; ++i)
        QVERIFY2(args.at(i).startsWith(u'-') || args.at(i) == QLatin1String("root"),
                 qPrintable(args.at(i)));
    QVERIFY(args.contains(QStringLiteral("--no-autostart")));
}

void tst_HostileNames::qvmLsRowRefuses()
{
    QFETCH(QString, name);
    // A row of a real Qubes 4.3 listing with the name replaced.
    const QByteArray row = name.toUtf8()
        + "|AppVM|Running|red|debian-12|sys-firewall|-|False|10.137.0.15|-|10.138.0.1|-|\n";
    const QvmLsParse parsed = parseQvmLs(row, recordedFields());
    QVERIFY2(parsed.qubes.empty(), qPrintable(name));
    // Also as the netvm of a good row.
    const QByteArray asNetvm = "work|AppVM|Running|red|debian-12|" + name.toUtf8()
        + "|-|False|10.137.0.15|-|10.138.0.1|-|\n";
    const QvmLsParse parsed2 = parseQvmLs(asNetvm, recordedFields());
    QVERIFY2(parsed2.qubes.empty()
                 || (parsed2.qubes.front().netvm == std::nullopt && name.isEmpty()),
             qPrintable(name));
}

void tst_HostileNames::prefsValueRefuses()
{
    QFETCH(QString, name);
    const auto v = parsePrefsQubeValue(name.toUtf8() + '\n');
    // An empty value means "none" and is the only thing accepted here.
    QVERIFY2(!v || (v->isNone && name.isEmpty()), qPrintable(name));
}

void tst_HostileNames::snapshotRefuses()
{
    QFETCH(QString, name);
    QByteArray quoted = name.toUtf8();
    quoted.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n").replace('\t', "\\t");
    quoted.replace('\0', "\\0").replace('\x1b', "\\e");
    for (const QByteArray &key : {QByteArray("name"), QByteArray("netvm")}) {
        if (name.isEmpty() && key == "netvm")
            continue; // an empty netvm is "none", which is not a name

        const QByteArray yaml
            = "schema: qubes-netmap-snapshot/1\nsource: snapshot\nqubes:\n"
              "  - name: work\n    class: AppVM\n    state: Running\n    netvm: sys-net\n"
              "  - "
            + (key == "name" ? QByteArray("name") : QByteArray("name: sys-net\n    netvm")) + ": \""
            + quoted + "\"\n    class: AppVM\n    state: Running\n";
        const auto loaded = snapshotFromYaml(yaml, QStringLiteral("names.yaml"));
        QVERIFY2(!loaded.ok(), qPrintable(key + " = " + name));
        QVERIFY(loaded.error().line > 0);
    }
}

void tst_HostileNames::expectationsRefuse()
{
    QFETCH(QString, name);
    QByteArray quoted = name.toUtf8();
    quoted.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n").replace('\t', "\\t");
    quoted.replace('\0', "\\0").replace('\x1b', "\\e");
    const QByteArray asQube = "qubes:\n  \"" + quoted + "\": clearnet\n";
    const QByteArray asVia = "qubes:\n  work: \"via " + quoted + "\"\n";
    const QByteArray asPair = "allow:\n  - [work, \"" + quoted + "\"]\n";
    for (const QByteArray &yaml : {asQube, asVia, asPair}) {
        const auto loaded = expectationsFromYaml(yaml, QStringLiteral("expect.yaml"));
        QVERIFY2(!loaded.ok(), yaml.constData());
        QVERIFY(loaded.error().line > 0);
    }
}

// A hostile name asked for on the command line (--verify=NAME) plans nothing and runs nothing.
void tst_HostileNames::verifierRefuses()
{
    QFETCH(QString, name);
    VerifyRequest request;
    request.qubes = {name};
    request.qvmRun = QStringLiteral("/nonexistent/qvm-run-must-not-start");
    const auto planned = planVerification(demoSnapshot(), request);
    QVERIFY2(!planned.ok(), qPrintable(name));
}

QTEST_GUILESS_MAIN(tst_HostileNames)
#include "tst_hostilenames.moc"
