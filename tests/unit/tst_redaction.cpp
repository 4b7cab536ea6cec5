// Redaction for sharing: addresses to documentation addresses and names to pseudonyms, the same
// everywhere, in every field of a snapshot; what the map reads from names survives.

#include "formats/jsonexport.h"
#include "formats/markdownreport.h"
#include "formats/snapshotyaml.h"
#include "io/redaction.h"
#include "model/topology.h"
#include "policy/colouring.h"
#include "policy/expectations.h"

#include <QRegularExpression>
#include <QTest>

using namespace netmap;

class tst_Redaction : public QObject
{
    Q_OBJECT
private slots:
    void options_data();
    void options();
    void addresses_data();
    void addresses();
    void sameAddressSameReplacement();
    void originalsAreNotHandedOut();
    void names();
    void everyOutputOfTheDemo();
    void baselinesAndIntent();
};

void tst_Redaction::options_data()
{
    QTest::addColumn<QString>("id");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<bool>("ips");
    QTest::addColumn<bool>("names");
    QTest::newRow("empty") << "" << true << true << false;
    QTest::newRow("ips") << "ips" << true << true << false;
    QTest::newRow("names") << "names" << true << false << true;
    QTest::newRow("both") << "ips,names" << true << true << true;
    QTest::newRow("all") << "all" << true << true << true;
    QTest::newRow("unknown") << "ips,macs" << false << false << false;
}

void tst_Redaction::options()
{
    QFETCH(QString, id);
    QFETCH(bool, valid);
    const auto o = RedactOptions::fromId(id);
    QCOMPARE(o.has_value(), valid);
    if (!o)
        return;
    QFETCH(bool, ips);
    QFETCH(bool, names);
    QCOMPARE(o->ips, ips);
    QCOMPARE(o->names, names);
}

void tst_Redaction::addresses_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("expected");
    QTest::newRow("exit") << "exit 8.8.4.4 agreed"
                          << "exit 192.0.2.1 agreed";
    QTest::newRow("end of sentence") << "left by 8.8.4.4."
                                     << "left by 192.0.2.1.";
    QTest::newRow("prefix") << "dst4=8.8.4.0/24"
                            << "dst4=192.0.2.1/24";
    QTest::newRow("range") << "8.8.4.4-8.8.4.5"
                           << "192.0.2.1-192.0.2.2";
    QTest::newRow("qubes internal stays") << "10.137.0.5 via 10.138.3.1 dns 10.139.1.1"
                                          << "10.137.0.5 via 10.138.3.1 dns 10.139.1.1";
    QTest::newRow("lan") << "inet 192.168.1.20/24"
                         << "inet 192.0.2.1/24";
    QTest::newRow("special stays") << "0.0.0.0/0 127.0.0.1 255.255.255.0 224.0.0.1"
                                   << "0.0.0.0/0 127.0.0.1 255.255.255.0 224.0.0.1";
    QTest::newRow("not an address") << "version 1.2.3.4.5 and 300.1.1.1"
                                    << "version 1.2.3.4.5 and 300.1.1.1";
    QTest::newRow("ipv6") << "ip6 2a00:1450:4001::200e and ::1"
                          << "ip6 2001:db8::1 and ::1";
    QTest::newRow("time is not ipv6") << "at 04:11:24 aa:bb:cc:dd:ee:ff"
                                      << "at 04:11:24 aa:bb:cc:dd:ee:ff";
}

void tst_Redaction::addresses()
{
    QFETCH(QString, text);
    QFETCH(QString, expected);
    const Redaction r(Snapshot {}, RedactOptions {true, false});
    QCOMPARE(r.text(text), expected);
}

void tst_Redaction::sameAddressSameReplacement()
{
    Snapshot s;
    CheckResult a;
    a.qube = *QubeName::fromUntrusted(u"work");
    a.externalIp = "93.184.216.34";
    a.observed = "93.184.216.34";
    a.reason = "3 endpoints agree on 93.184.216.34";
    a.output = "ip 0 93.184.216.34\nip 1 151.101.1.69\n";
    s.checks.push_back(a);
    const Redaction r(s, RedactOptions {true, false});
    const Snapshot out = r.apply(s);
    const CheckResult &b = out.checks.front();
    QCOMPARE(b.externalIp, QStringLiteral("192.0.2.1")); // the exit gets the first address
    QCOMPARE(b.observed, b.externalIp);
    QCOMPARE(b.reason, QStringLiteral("3 endpoints agree on 192.0.2.1"));
    QCOMPARE(b.output, QStringLiteral("ip 0 192.0.2.1\nip 1 192.0.2.2\n"));
    // Another redaction of the same snapshot: the same mapping.
    QCOMPARE(redactedSnapshot(s, RedactOptions {true, false}), out);
    // Text met later (the evidence window) goes through the same table.
    QCOMPARE(r.text("seen 151.101.1.69"), QStringLiteral("seen 192.0.2.2"));
}

void tst_Redaction::originalsAreNotHandedOut()
{
    // The demo speaks documentation addresses already: none of them may come back standing for
    // another address.
    Snapshot s;
    CheckResult a;
    a.qube = *QubeName::fromUntrusted(u"work");
    a.output = "192.0.2.1 198.51.100.7 8.8.8.8";
    s.checks.push_back(a);
    const Snapshot out = redactedSnapshot(s, RedactOptions {true, false});
    const QStringList words = out.checks.front().output.split(u' ');
    QCOMPARE(words.size(), 3);
    for (const QString &w : words) {
        QVERIFY2(!a.output.contains(w), qPrintable(out.checks.front().output));
        QVERIFY(w.startsWith("192.0.2.") || w.startsWith("198.51.100.")
                || w.startsWith("203.0.113."));
    }
    QCOMPARE(QSet<QString>(words.begin(), words.end()).size(), 3);
}

void tst_Redaction::names()
{
    const Snapshot demo = demoSnapshot();
    const Redaction r(demo, RedactOptions {false, true});
    const Snapshot out = r.apply(demo);
    QCOMPARE(out.qubes.size(), demo.qubes.size());
    QCOMPARE(r.name("dom0"), QStringLiteral("dom0"));
    QSet<QString> pseudonyms;
    for (const Qube &q : demo.qubes) {
        const QString p = r.name(q.name.toString());
        QVERIFY(QubeName::fromUntrusted(p).has_value());
        if (!q.name.isDom0())
            QVERIFY2(p != q.name.toString(), qPrintable(p));
        pseudonyms.insert(p);
        QVERIFY(out.find(p));
    }
    QCOMPARE(pseudonyms.size(), qsizetype(demo.qubes.size())); // one each, no two alike
    // Names are whole words: a name inside a longer word is left alone.
    QCOMPARE(r.text("sys-net's uplink; sys-network stays."),
             r.name("sys-net") + QStringLiteral("'s uplink; sys-network stays."));
    QCOMPARE(r.text("leaves by sys-net."), QStringLiteral("leaves by %1.").arg(r.name("sys-net")));
    // The map reads the same: every link keeps its colour and exit.
    const Colouring before = colourPaths(demo, Topology(demo));
    const Colouring after = colourPaths(out, Topology(out));
    QCOMPARE(after.links.size(), before.links.size());
    for (const LinkColour &l : before.links) {
        bool found = false;
        for (const LinkColour &m : after.links)
            if (m.from == r.name(l.from) && m.to == r.name(l.to)) {
                QCOMPARE(m.colour, l.colour);
                QCOMPARE(m.externalIp, l.externalIp);
                QCOMPARE(m.failed, l.failed);
                found = true;
            }
        QVERIFY2(found, qPrintable(l.from));
    }
}

void tst_Redaction::everyOutputOfTheDemo()
{
    const Snapshot demo = demoSnapshot();
    const Redaction r(demo, RedactOptions {true, true});
    const Snapshot out = r.apply(demo);
    QStringList originalIps, originalNames;
    for (const CheckResult &c : demo.checks)
        if (!c.externalIp.isEmpty() && !originalIps.contains(c.externalIp))
            originalIps << c.externalIp;
    for (const Qube &q : demo.qubes)
        if (!q.name.isDom0())
            originalNames << q.name.toString();
    QVERIFY(!originalIps.isEmpty());
    const QByteArray md = exportMarkdown(out);
    const QByteArray json = exportJson(out);
    const QByteArray yaml = snapshotToYaml(out);
    for (const QByteArray &file : {md, json, yaml}) {
        const QString text = QString::fromUtf8(file);
        for (const QString &ip : std::as_const(originalIps))
            QVERIFY2(!text.contains(ip), qPrintable(ip));
        for (const QString &name : std::as_const(originalNames)) {
            static const QRegularExpression nameChars(QStringLiteral("[A-Za-z0-9_.-]"));
            qsizetype at = -1;
            while ((at = text.indexOf(name, at + 1)) >= 0) {
                const bool before = at > 0 && nameChars.match(text.mid(at - 1, 1)).hasMatch();
                const qsizetype end = at + name.size();
                const bool after = end < text.size() && nameChars.match(text.mid(end, 1)).hasMatch()
                    && !(text[end] == u'.'
                         && (end + 1 >= text.size()
                             || !nameChars.match(text.mid(end + 1, 1)).hasMatch()));
                QVERIFY2(before || after,
                         qPrintable(QStringLiteral("%1 at %2: %3")
                                        .arg(name)
                                        .arg(at)
                                        .arg(text.mid(std::max<qsizetype>(0, at - 40), 80))));
            }
        }
    }
    // The redacted snapshot is a snapshot: it saves and loads back as it was.
    const auto loaded = snapshotFromYaml(yaml, QStringLiteral("redacted.yaml"));
    QVERIFY2(loaded.ok(), qPrintable(loaded ? QString() : loaded.error().toString()));
    QCOMPARE(loaded.value().qubes.size(), out.qubes.size());
}

// The clearnet baselines (public exit addresses, resolvers, witnesses) are redacted like the
// rest, and the owner's intent follows the pseudonyms, so the redacted map is judged the same.
void tst_Redaction::baselinesAndIntent()
{
    Snapshot demo = demoSnapshot();
    BaselineRecord b;
    b.uplink = QStringLiteral("sys-net");
    b.what = QStringLiteral("exit");
    b.state = BaselineRecord::State::Disputed;
    b.values = {QStringLiteral("81.2.69.160")};
    b.summary = QStringLiteral("sys-net says 81.2.69.160, sys-firewall says 81.2.69.161");
    b.witnesses
        = {BaselineWitness {QStringLiteral("sys-net"), {QStringLiteral("81.2.69.160")}, {}},
           BaselineWitness {QStringLiteral("sys-firewall"), {QStringLiteral("81.2.69.161")}, {}}};
    demo.baselines = {b};
    demo.intent = expectationsFromYaml("qubes:\n  work: vpn\n", QStringLiteral("/home/user/x.yaml"))
                      .value();
    const Redaction r(demo, RedactOptions {true, true});
    const Snapshot out = r.apply(demo);
    const QString json = QString::fromUtf8(exportJson(out));
    const QString md = QString::fromUtf8(exportMarkdown(out));
    for (const QString &text : {json, md}) {
        QVERIFY(!text.contains(QLatin1String("81.2.69.16")));
        QVERIFY(!text.contains(QLatin1String("/home/user")));
    }
    QCOMPARE(out.baselines.size(), 1);
    QCOMPARE(out.baselines[0].uplink, r.name(QStringLiteral("sys-net")));
    QCOMPARE(out.baselines[0].witnesses[1].qube, r.name(QStringLiteral("sys-firewall")));
    QVERIFY(!out.baselines[0].summary.contains(QLatin1String("sys-firewall")));
    const Topology t(out);
    QCOMPARE(intendedEgress(out, t, r.name(QStringLiteral("work"))).egress,
             Expectation::Egress::Vpn);
}

QTEST_GUILESS_MAIN(tst_Redaction)
#include "tst_redaction.moc"
