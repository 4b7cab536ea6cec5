// Parsers of qvm-ls, qubes-prefs and qvm-firewall output over folders of good and broken fixtures
// (one defect per file). A good fixture has a .expected dump beside it; the bad ones are listed
// with their rejected line and reason in expectations.txt.

#include "qubes/qvmparsers.h"

#include <QDir>
#include <QFile>
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

QString dataPath(const QString &relative)
{
    return QStringLiteral(NETMAP_TEST_DATA "/") + relative;
}

QByteArray readFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        qFatal("cannot read fixture %s", qPrintable(path));
    return file.readAll();
}

QStringList fixtures(const QString &folder, const QString &pattern)
{
    return QDir(dataPath(folder)).entryList({pattern}, QDir::Files, QDir::Name);
}

// file -> the fields after it, from an expectations.txt (tab-separated, '#' comments).
QHash<QString, QStringList> readExpectations(const QString &folder)
{
    QHash<QString, QStringList> table;
    const QString text
        = QString::fromUtf8(readFile(dataPath(folder + QStringLiteral("/expectations.txt"))));
    for (const QString &line : text.split(u'\n')) {
        if (line.isEmpty() || line.startsWith(u'#'))
            continue;
        QStringList parts = line.split(u'\t');
        const QString file = parts.takeFirst();
        table.insert(file, parts);
    }
    return table;
}

int nonBlankLines(const QByteArray &data)
{
    int count = 0;
    for (const QByteArray &line : data.split('\n'))
        count += line.trimmed().isEmpty() ? 0 : 1;
    return count;
}

QString orNone(const std::optional<QubeName> &name)
{
    return name ? name->toString() : QStringLiteral("<none>");
}

QString orEmpty(const QString &value)
{
    return value.isEmpty() ? QStringLiteral("<empty>") : value;
}

// Every field spelled out, so the expectation files say what each cell became.
QString dumpQube(const Qube &q)
{
    return QStringLiteral(
               "name=%1 class=%2 state=%3 label=%4 template=%5 netvm=%6 default_dispvm=%7 "
               "provides_network=%8 ip=%9 visible_ip=%10 gateway=%11 visible_gateway=%12 "
               "tags=[%13] ip6=%14 visible_ip6=%15 gateway6=%16")
        .arg(q.name.toString(), orEmpty(q.klass), orEmpty(q.state), orEmpty(q.label),
             orNone(q.templ), orNone(q.netvm), orNone(q.defaultDispvm),
             q.providesNetwork ? QStringLiteral("true") : QStringLiteral("false"), orEmpty(q.ip))
        .arg(orEmpty(q.visibleIp), orEmpty(q.gateway), orEmpty(q.visibleGateway), q.tags.join(u','),
             orEmpty(q.ip6), orEmpty(q.visibleIp6), orEmpty(q.gateway6));
}

QString dumpRule(const FirewallRule &r)
{
    return QStringLiteral("action=%1 dst4=%2 dst6=%3 dsthost=%4 proto=%5 ports=%6 icmptype=%7 "
                          "specialtarget=%8 expire=%9 comment=\"%10\"")
        .arg(r.action, orEmpty(r.dst4), orEmpty(r.dst6), orEmpty(r.dsthost), orEmpty(r.proto),
             r.hasPorts() ? QStringLiteral("%1-%2").arg(r.portFrom).arg(r.portTo)
                          : QStringLiteral("<none>"))
        .arg(r.icmptype ? QString::number(*r.icmptype) : QStringLiteral("<none>"),
             orEmpty(r.specialtarget),
             r.expire ? QString::number(*r.expire) : QStringLiteral("<none>"), r.comment);
}

QString expectedDump(const QString &folder, const QString &file)
{
    QString name = file;
    name.replace(QStringLiteral(".txt"), QStringLiteral(".expected"));
    return QString::fromUtf8(readFile(dataPath(folder + u'/' + name)));
}

bool isShortPlainText(const QString &reason)
{
    if (reason.isEmpty() || reason.size() > 120)
        return false;
    return std::all_of(reason.begin(), reason.end(),
                       [](QChar c) { return c.unicode() >= 0x20 && c.unicode() < 0x7f; });
}

} // namespace

class tst_QvmParsers : public QObject
{
    Q_OBJECT

private slots:
    void arguments();

    void qvmLsGood_data();
    void qvmLsGood();
    void qvmLsBad_data();
    void qvmLsBad();
    void qvmLsRealistic();
    void qvmLsNothing_data();
    void qvmLsNothing();
    void qvmLsSortedByName();
    void qvmLsOtherFieldOrder();
    void qvmLsRowCap();
    void qvmLsReasonsStayShort();
    void qvmLsLongTagKeepsQube_data();
    void qvmLsLongTagKeepsQube();
    void qvmLsPreloadedDisposables();
    void qvmLsIpv6_data();
    void qvmLsIpv6();

    void prefs_data();
    void prefs();

    void firewallGood_data();
    void firewallGood();
    void firewallBad_data();
    void firewallBad();
    void firewallUnreadableKeepsItsPlace();
};

void tst_QvmParsers::arguments()
{
    const QStringList expected
        = {QStringLiteral("--raw-data"),
           QStringLiteral("--fields=name,class,state,label,template,netvm,default_dispvm,"
                          "provides_network,ip,visible_ip,gateway,visible_gateway,tags,is_preload,"
                          "ip6,visible_ip6,gateway6")};
    QCOMPARE(qvmLsArguments(), expected);
    // Hyphenated property names silently print '-' everywhere.
    for (const QString &field : qvmLsFields())
        QVERIFY(!field.contains(u'-'));
}

void tst_QvmParsers::qvmLsGood_data()
{
    QTest::addColumn<QString>("file");
    const QStringList files = fixtures(QStringLiteral("qvm-ls"), QStringLiteral("good-*.txt"));
    QVERIFY(files.size() >= 5);
    for (const QString &file : files)
        QTest::newRow(qPrintable(file)) << file;
}

void tst_QvmParsers::qvmLsGood()
{
    QFETCH(QString, file);
    const QByteArray input = readFile(dataPath(QStringLiteral("qvm-ls/") + file));
    const QvmLsParse parsed = parseQvmLs(input, recordedFields());
    for (const RejectedRow &row : parsed.rejected)
        qWarning("line %d: %s", row.line, qPrintable(row.reason));
    QVERIFY(parsed.rejected.empty());
    QCOMPARE(int(parsed.qubes.size()), nonBlankLines(input));
    QStringList dump;
    for (const Qube &qube : parsed.qubes)
        dump << dumpQube(qube);
    QCOMPARE(dump.join(u'\n') + u'\n', expectedDump(QStringLiteral("qvm-ls"), file));
}

void tst_QvmParsers::qvmLsBad_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<int>("line");
    QTest::addColumn<QString>("reason");
    const auto table = readExpectations(QStringLiteral("qvm-ls"));
    const QStringList files = fixtures(QStringLiteral("qvm-ls"), QStringLiteral("bad-*.txt"));
    QVERIFY(files.size() >= 20);
    for (const QString &file : files) {
        // A fixture without an expectation is a mistake in the test data.
        QVERIFY2(table.contains(file),
                 qPrintable(file + QStringLiteral(" has no line in expectations.txt")));
        const QStringList e = table.value(file);
        QVERIFY(e.size() == 2);
        QTest::newRow(qPrintable(file)) << file << e.at(0).toInt() << e.at(1);
    }
    QCOMPARE(int(table.size()), int(files.size()));
}

void tst_QvmParsers::qvmLsBad()
{
    QFETCH(QString, file);
    QFETCH(int, line);
    QFETCH(QString, reason);
    const QByteArray input = readFile(dataPath(QStringLiteral("qvm-ls/") + file));
    const QvmLsParse parsed = parseQvmLs(input, recordedFields());
    QCOMPARE(int(parsed.rejected.size()), 1);
    QCOMPARE(parsed.rejected.front().line, line);
    QVERIFY2(parsed.rejected.front().reason.contains(reason),
             qPrintable(parsed.rejected.front().reason));
    QVERIFY2(isShortPlainText(parsed.rejected.front().reason),
             qPrintable(parsed.rejected.front().reason));
    // The rest still loads.
    QCOMPARE(int(parsed.qubes.size()), nonBlankLines(input) - 1);
}

void tst_QvmParsers::qvmLsRealistic()
{
    const QvmLsParse parsed = parseQvmLs(
        readFile(dataPath(QStringLiteral("qvm-ls/good-qubes43.txt"))), recordedFields());
    QVERIFY(parsed.rejected.empty());
    const auto find = [&](const char *name) -> const Qube * {
        for (const Qube &q : parsed.qubes)
            if (q.name.toString() == QLatin1String(name))
                return &q;
        return nullptr;
    };
    const Qube *dom0 = find("dom0");
    QVERIFY(dom0);
    QVERIFY(dom0->isAdmin());
    QVERIFY(!dom0->netvm);
    QVERIFY(!dom0->templ);
    QVERIFY(!dom0->providesNetwork);
    QVERIFY(dom0->ip.isEmpty() && dom0->gateway.isEmpty());
    QVERIFY(dom0->tags.isEmpty());

    const Qube *net = find("sys-net");
    QVERIFY(net && net->isDisposable() && net->providesNetwork && net->isRunning());
    QCOMPARE(net->ip, QStringLiteral("10.138.10.20"));
    QVERIFY(!net->netvm);
    const Qube *firewall = find("sys-firewall");
    QVERIFY(firewall && firewall->isDisposable() && firewall->providesNetwork);
    QCOMPARE(orNone(firewall->netvm), QStringLiteral("sys-net"));
    QCOMPARE(orNone(firewall->templ), QStringLiteral("default-dvm"));

    const Qube *web = find("work.web");
    QVERIFY(web);
    QCOMPARE(orNone(web->netvm), QStringLiteral("sys-firewall"));

    const Qube *vpn = find("sys-vpn-tor");
    QVERIFY(vpn && vpn->providesNetwork);
    QCOMPARE(orNone(vpn->netvm), QStringLiteral("sys-whonix"));
    QCOMPARE(orNone(find("work.vpn")->netvm), QStringLiteral("sys-vpn-tor"));

    QVERIFY(find("anon-whonix")->hasTag(u"anon-vm"));
    QVERIFY(find("sys-whonix")->providesNetwork);
    QVERIFY(find("whonix-gateway-18")->isTemplate());
    QVERIFY(!find("whonix-gateway-18")->netvm);
    QVERIFY(!find("vault")->netvm);
    QVERIFY(find("vault")->ip.isEmpty());

    const Qube *future = find("future-qube");
    QVERIFY(future);
    QCOMPARE(future->klass, QStringLiteral("RemoteVM"));
    QCOMPARE(future->state, QStringLiteral("Migrating"));
}

void tst_QvmParsers::qvmLsNothing_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("newlines") << QByteArray("\n\n\r\n");
    QTest::newRow("blanks") << QByteArray("   \n\t\n");
}

void tst_QvmParsers::qvmLsNothing()
{
    QFETCH(QByteArray, input);
    const QvmLsParse parsed = parseQvmLs(input, recordedFields());
    QVERIFY(parsed.qubes.empty());
    QVERIFY(parsed.rejected.empty());
}

void tst_QvmParsers::qvmLsSortedByName()
{
    const QByteArray input = "work|AppVM|Halted|blue|-|-|-|False|-|-|-|-|-\n"
                             "dom0|AdminVM|Running|black|-|-|-|-|-|-|-|-|-\n"
                             "sys-net|DispVM|Running|red|-|-|-|True|-|-|-|-|-\n";
    const QvmLsParse parsed = parseQvmLs(input, recordedFields());
    QCOMPARE(int(parsed.qubes.size()), 3);
    QCOMPARE(parsed.qubes[0].name.toString(), QStringLiteral("dom0"));
    QCOMPARE(parsed.qubes[1].name.toString(), QStringLiteral("sys-net"));
    QCOMPARE(parsed.qubes[2].name.toString(), QStringLiteral("work"));
}

void tst_QvmParsers::qvmLsOtherFieldOrder()
{
    const QStringList fields
        = {QStringLiteral("netvm"), QStringLiteral("memory"), QStringLiteral("name")};
    const QvmLsParse parsed = parseQvmLs("sys-firewall|400|work\n-|4000|dom0\nsys-net|x\n", fields);
    QCOMPARE(int(parsed.qubes.size()), 2);
    QCOMPARE(orNone(parsed.qubes[1].netvm), QStringLiteral("sys-firewall"));
    QCOMPARE(int(parsed.rejected.size()), 1);
    QCOMPARE(parsed.rejected.front().reason, QStringLiteral("expected 3 cells, found 2"));
}

void tst_QvmParsers::qvmLsRowCap()
{
    QByteArray input;
    const int rows = 100001;
    input.reserve(rows * 48);
    for (int i = 0; i < rows; ++i)
        input += "q" + QByteArray::number(i) + "|AppVM|Halted|red|-|-|-|False|-|-|-|-|-\n";
    const QvmLsParse parsed = parseQvmLs(input, recordedFields());
    QCOMPARE(int(parsed.qubes.size()), 100000);
    QCOMPARE(int(parsed.rejected.size()), 1);
    QCOMPARE(parsed.rejected.front().line, rows);
    QVERIFY(parsed.rejected.front().reason.contains(QLatin1String("more than 100000 rows")));
}

void tst_QvmParsers::qvmLsReasonsStayShort()
{
    const QByteArray longName(4000, 'x');
    const QvmLsParse parsed = parseQvmLs(longName
                                             + "\"<b>|AppVM|Halted|red|-|-|-|False|-|-|-|-|-\n"
                                               "work|AppVM|Halted|red|"
                                             + longName + "|-|-|False|-|-|-|-|-\n",
                                         recordedFields());
    QCOMPARE(int(parsed.rejected.size()), 2);
    for (const RejectedRow &row : parsed.rejected) {
        QVERIFY2(isShortPlainText(row.reason), qPrintable(row.reason));
        QVERIFY(!row.reason.contains(u'<'));
    }
}

void tst_QvmParsers::qvmLsLongTagKeepsQube_data()
{
    QTest::addColumn<QByteArray>("tags");
    QTest::addColumn<int>("kept");
    QTest::addColumn<bool>("noted");
    QTest::newRow("one 5000-byte tag") << QByteArray(5000, 't') << 1 << false;
    QTest::newRow("anon-vm and a 70000-byte tag")
        << QByteArray("anon-vm,") + QByteArray(70000, 't') << 1 << true;
    QByteArray many;
    for (int i = 0; i < 3000; ++i)
        many += "tag" + QByteArray::number(i) + ',';
    many.chop(1);
    QTest::newRow("3000 tags") << many << 1024 << true;
}

// Tags have no length limit in Qubes: a long tag never drops the qube (once a 4 KiB row cap
// did).
void tst_QvmParsers::qvmLsLongTagKeepsQube()
{
    QFETCH(QByteArray, tags);
    QFETCH(int, kept);
    QFETCH(bool, noted);
    const QByteArray input = "dom0|AdminVM|Running|black|-|-|-|-|-|-|-|-|-|-|-|-|-\n"
                             "work|AppVM|Running|blue|fedora-41|sys-firewall|-|False|10.137.0.5|-|"
                             "10.138.0.1|-|"
        + tags + "|False|-|-|-\n";
    const QvmLsParse parsed = parseQvmLs(input);
    QVERIFY(parsed.rejected.empty());
    QCOMPARE(int(parsed.qubes.size()), 2);
    const Qube &work = parsed.qubes[1];
    QCOMPARE(work.name.toString(), QStringLiteral("work"));
    QCOMPARE(orNone(work.netvm), QStringLiteral("sys-firewall"));
    QCOMPARE(int(work.tags.size()), kept);
    QCOMPARE(!parsed.notes.empty(), noted);
    if (tags.startsWith("anon-vm"))
        QVERIFY(work.hasTag(u"anon-vm"));
    for (const RejectedRow &row : parsed.notes)
        QVERIFY2(isShortPlainText(row.reason), qPrintable(row.reason));
}

void tst_QvmParsers::qvmLsPreloadedDisposables()
{
    // 4.3: a preloaded disposable says is_preload True and stays off the map; 4.2 prints '-'.
    const QByteArray input = "dom0|AdminVM|Running|black|-|-|-|-|-|-|-|-|-|-|-|-|-\n"
                             "disp1234|DispVM|Running|red|default-dvm|sys-firewall|-|False|"
                             "10.138.0.9|-|10.138.0.1|-|-|True|-|-|-\n"
                             "disp77|DispVM|Running|red|default-dvm|sys-firewall|-|False|"
                             "10.138.0.10|-|10.138.0.1|-|-|False|-|-|-\n"
                             "work|AppVM|Running|blue|fedora-41|-|-|False|-|-|-|-|-|-|-|-|-\n"
                             "bad|AppVM|Running|blue|fedora-41|-|-|False|-|-|-|-|-|yes|-|-|-\n";
    const QvmLsParse parsed = parseQvmLs(input);
    QCOMPARE(parsed.preloaded, 1);
    QStringList names;
    for (const Qube &q : parsed.qubes)
        names << q.name.toString();
    QCOMPARE(names, QStringList({"disp77", "dom0", "work"}));
    QCOMPARE(int(parsed.rejected.size()), 1);
    QVERIFY(parsed.rejected.front().reason.contains(QLatin1String("is_preload")));
}

void tst_QvmParsers::qvmLsIpv6_data()
{
    // One cell of `ip6` (or visible_ip6, gateway6) as qvm-ls might print it, and what the
    // program keeps: the canonical address, or a rejected row naming the field.
    QTest::addColumn<QByteArray>("field");
    QTest::addColumn<QByteArray>("cell");
    QTest::addColumn<QString>("kept"); // empty: the row is rejected

    const QByteArrayList fields = {"ip6", "visible_ip6", "gateway6"};
    for (const QByteArray &field : fields) {
        const auto row = [&](const char *tag, const char *cell, const char *kept) {
            QTest::addRow("%s %s", field.constData(), tag)
                << field << QByteArray(cell) << QString::fromLatin1(kept);
        };
        row("off", "-", "-");
        row("qubes prefix", "fd09:24ef:4179::a89:5", "fd09:24ef:4179::a89:5");
        row("uncompressed", "fd09:24ef:4179:0000:0000:0000:0a89:0005", "fd09:24ef:4179::a89:5");
        row("upper case", "FD09:24EF:4179::A89:5", "fd09:24ef:4179::a89:5");
        row("documentation", "2001:db8::7", "2001:db8::7");
        row("ipv4", "10.137.0.5", "");
        row("zone id", "fe80::1%eth0", "");
        row("zone id number", "fe80::1%2", "");
        row("brackets", "[fd09:24ef:4179::5]", "");
        row("prefix", "fd09:24ef:4179::/48", "");
        row("dotted tail", "::ffff:10.137.0.5", "");
        row("two double colons", "fd09::24ef::5", "");
        row("nine groups", "1:2:3:4:5:6:7:8:9", "");
        row("long group", "fd09:24ef0:4179::5", "");
        row("not hex", "fd09:24eg:4179::5", "");
        row("word", "None", "");
        row("empty", "", "");
        row("space", " fd09::5", "");
        row("markup", "<b>fd09::5</b>", "");
        row("single colon", ":", "");
        row("too long", "0000:0000:0000:0000:0000:0000:0000:00001", "");
    }
}

void tst_QvmParsers::qvmLsIpv6()
{
    QFETCH(QByteArray, field);
    QFETCH(QByteArray, cell);
    QFETCH(QString, kept);
    const QStringList fields
        = {QStringLiteral("name"), QStringLiteral("class"), QString::fromLatin1(field)};
    const QvmLsParse parsed = parseQvmLs("work|AppVM|" + cell + "\n", fields);
    if (kept.isEmpty()) {
        QCOMPARE(int(parsed.qubes.size()), 0);
        QCOMPARE(int(parsed.rejected.size()), 1);
        QVERIFY2(parsed.rejected.front().reason.contains(QString::fromLatin1(field)),
                 qPrintable(parsed.rejected.front().reason));
        QVERIFY2(isShortPlainText(parsed.rejected.front().reason),
                 qPrintable(parsed.rejected.front().reason));
        return;
    }
    QCOMPARE(int(parsed.qubes.size()), 1);
    const Qube &q = parsed.qubes.front();
    const QString value = field == "ip6" ? q.ip6
        : field == "visible_ip6"         ? q.visibleIp6
                                         : q.gateway6;
    QCOMPARE(value, kept == QLatin1String("-") ? QString() : kept);
    QCOMPARE(q.hasIpv6(), kept != QLatin1String("-") && field != "visible_ip6");
}

void tst_QvmParsers::firewallUnreadableKeepsItsPlace()
{
    // One rule the program cannot read is marked in its place; the others are all there.
    const FirewallParse parsed
        = parseFirewall("action=accept specialtarget=dns\naction=accept proto=tcp dstports=443-80\n"
                        "action=drop\n");
    QCOMPARE(int(parsed.rules.size()), 2);
    QCOMPARE(int(parsed.listed.size()), 3);
    QVERIFY(parsed.listed[0].isReadable() && parsed.listed[2].isReadable());
    QVERIFY(!parsed.listed[1].isReadable());
    QCOMPARE(parsed.listed[2].action, QStringLiteral("drop"));
    // A snapshot saves it as "# cannot be read: ..." and reads it back as unreadable.
    const QString saved = parsed.listed[1].toRaw();
    QVERIFY(saved.startsWith(QLatin1String("# cannot be read: line 2: bad dstports")));
    const FirewallParse again = parseFirewall(saved.toLatin1());
    QVERIFY(again.rejected.empty());
    QVERIFY(again.rules.isEmpty());
    QCOMPARE(int(again.listed.size()), 1);
    QCOMPARE(again.listed[0].unreadable, parsed.listed[1].unreadable);
}

void tst_QvmParsers::prefs_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("detail");
    const auto table = readExpectations(QStringLiteral("prefs"));
    const QStringList files = fixtures(QStringLiteral("prefs"), QStringLiteral("*.txt"));
    int listed = 0;
    for (const QString &file : files) {
        if (file == QLatin1String("expectations.txt"))
            continue;
        ++listed;
        QVERIFY2(table.contains(file),
                 qPrintable(file + QStringLiteral(" has no line in expectations.txt")));
        const QStringList e = table.value(file);
        QTest::newRow(qPrintable(file)) << file << e.value(0) << e.value(1);
    }
    QVERIFY(listed >= 8);
    QCOMPARE(int(table.size()), listed);
}

void tst_QvmParsers::prefs()
{
    QFETCH(QString, file);
    QFETCH(QString, kind);
    QFETCH(QString, detail);
    QString why;
    const auto value
        = parsePrefsQubeValue(readFile(dataPath(QStringLiteral("prefs/") + file)), &why);
    if (kind == QLatin1String("reject")) {
        QVERIFY(!value);
        QVERIFY2(why.contains(detail), qPrintable(why));
        QVERIFY2(isShortPlainText(why), qPrintable(why));
    } else if (kind == QLatin1String("none")) {
        QVERIFY2(value, qPrintable(why));
        QVERIFY(value->isNone);
        QVERIFY(value->value.isEmpty());
    } else {
        QCOMPARE(kind, QStringLiteral("value"));
        QVERIFY2(value, qPrintable(why));
        QVERIFY(!value->isNone);
        QCOMPARE(value->value, detail);
    }
}

void tst_QvmParsers::firewallGood_data()
{
    QTest::addColumn<QString>("file");
    const QStringList files
        = fixtures(QStringLiteral("qvm-firewall"), QStringLiteral("good-*.txt"));
    QVERIFY(files.size() >= 3);
    for (const QString &file : files)
        QTest::newRow(qPrintable(file)) << file;
}

void tst_QvmParsers::firewallGood()
{
    QFETCH(QString, file);
    const QByteArray input = readFile(dataPath(QStringLiteral("qvm-firewall/") + file));
    const FirewallParse parsed = parseFirewall(input);
    for (const RejectedRow &row : parsed.rejected)
        qWarning("line %d: %s", row.line, qPrintable(row.reason));
    QVERIFY(parsed.rejected.empty());
    QCOMPARE(int(parsed.rules.size()), nonBlankLines(input));
    QStringList dump;
    for (const FirewallRule &rule : parsed.rules) {
        dump << dumpRule(rule);
        // The canonical raw form reads back as the same rule.
        const FirewallParse again = parseFirewall(rule.toRaw().toUtf8());
        QVERIFY2(again.rejected.empty() && again.rules.size() == 1, qPrintable(rule.toRaw()));
        QCOMPARE(again.rules.first(), rule);
    }
    QCOMPARE(dump.join(u'\n') + u'\n', expectedDump(QStringLiteral("qvm-firewall"), file));
}

void tst_QvmParsers::firewallBad_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<int>("line");
    QTest::addColumn<QString>("reason");
    const auto table = readExpectations(QStringLiteral("qvm-firewall"));
    const QStringList files = fixtures(QStringLiteral("qvm-firewall"), QStringLiteral("bad-*.txt"));
    QVERIFY(files.size() >= 15);
    for (const QString &file : files) {
        QVERIFY2(table.contains(file),
                 qPrintable(file + QStringLiteral(" has no line in expectations.txt")));
        const QStringList e = table.value(file);
        QVERIFY(e.size() == 2);
        QTest::newRow(qPrintable(file)) << file << e.at(0).toInt() << e.at(1);
    }
    QCOMPARE(int(table.size()), int(files.size()));
}

void tst_QvmParsers::firewallBad()
{
    QFETCH(QString, file);
    QFETCH(int, line);
    QFETCH(QString, reason);
    const QByteArray input = readFile(dataPath(QStringLiteral("qvm-firewall/") + file));
    const FirewallParse parsed = parseFirewall(input);
    QCOMPARE(int(parsed.rejected.size()), 1);
    QCOMPARE(parsed.rejected.front().line, line);
    QVERIFY2(parsed.rejected.front().reason.contains(reason),
             qPrintable(parsed.rejected.front().reason));
    QVERIFY2(isShortPlainText(parsed.rejected.front().reason),
             qPrintable(parsed.rejected.front().reason));
    QCOMPARE(int(parsed.rules.size()), nonBlankLines(input) - 1);
}

QTEST_GUILESS_MAIN(tst_QvmParsers)
#include "tst_qvmparsers.moc"
