// NetworkDocument: each change says what changed, once, and the document is the only copy.
#include "document/networkdocument.h"
#include "formats/snapshotyaml.h"
#include "policy/expectations.h"

#include <QSignalSpy>
#include <QTest>

using namespace netmap;

namespace {

CheckResult result(const char *qube, CheckKind check, CheckStatus status)
{
    CheckResult r;
    r.qube = *QubeName::fromUntrusted(QString::fromLatin1(qube));
    r.check = check;
    r.status = status;
    return r;
}

// Every signal of a document, counted.
struct Spies
{
    explicit Spies(NetworkDocument *d)
        : replaced(d, &NetworkDocument::snapshotReplaced)
        , updated(d, &NetworkDocument::snapshotUpdated)
        , results(d, &NetworkDocument::resultsChanged)
        , intent(d, &NetworkDocument::intentChanged)
        , live(d, &NetworkDocument::liveStateChanged)
    {
    }
    QList<int> counts() const
    {
        return {int(replaced.size()), int(updated.size()), int(results.size()), int(intent.size()),
                int(live.size())};
    }
    void clear()
    {
        replaced.clear();
        updated.clear();
        results.clear();
        intent.clear();
        live.clear();
    }
    QSignalSpy replaced, updated, results, intent, live;
};

} // namespace

class tst_NetworkDocument : public QObject
{
    Q_OBJECT
private slots:
    void replace();
    void updateInPlace();
    void results();
    void intent();
    void liveState();
    void checksAllowed_data();
    void checksAllowed();
};

void tst_NetworkDocument::replace()
{
    NetworkDocument doc(SourceSpec {SourceSpec::Kind::Live, QString()});
    Spies spies(&doc);
    QVERIFY(!doc.isLoaded());
    QVERIFY(!doc.checksAllowed()); // the qubes are not read yet
    const Snapshot demo = demoSnapshot();
    doc.replaceSnapshot(demo);
    QVERIFY(doc.isLoaded());
    QCOMPARE(doc.snapshot(), demo);
    // The first snapshot of the live system also lets checks run: liveStateChanged.
    QCOMPARE(spies.counts(), QList<int>({1, 0, 0, 0, 1}));
    QVERIFY(doc.checksAllowed());
    spies.clear();
    doc.replaceSnapshot(demo);
    QCOMPARE(spies.counts(), QList<int>({1, 0, 0, 0, 0}));
}

void tst_NetworkDocument::updateInPlace()
{
    NetworkDocument doc;
    doc.replaceSnapshot(demoSnapshot());
    Spies spies(&doc);
    Snapshot moved = doc.snapshot();
    const int i = moved.indexOf(u"untrusted");
    QVERIFY(i >= 0);
    moved.qubes[size_t(i)].netvm = QubeName::fromUntrusted(u"sys-net");
    doc.updateSnapshot(moved);
    // Neither results nor intent changed: only snapshotUpdated, with what was there before.
    QCOMPARE(spies.counts(), QList<int>({0, 1, 0, 0, 0}));
    const auto previous = spies.updated.first().first().value<Snapshot>();
    QCOMPARE(previous.find(u"untrusted")->netvm->toString(), QStringLiteral("sys-firewall"));
    QCOMPARE(doc.snapshot().find(u"untrusted")->netvm->toString(), QStringLiteral("sys-net"));
}

void tst_NetworkDocument::results()
{
    NetworkDocument doc;
    Snapshot s = demoSnapshot();
    s.checks.clear();
    s.tunnels.clear();
    doc.replaceSnapshot(s);
    Spies spies(&doc);
    BaselineRecord baseline;
    baseline.uplink = QStringLiteral("sys-net");
    baseline.what = QStringLiteral("exit");
    doc.addResults({result("work", CheckKind::ExternalIp, CheckStatus::Pass),
                    result("work-vpn", CheckKind::Vpn, CheckStatus::Fail)},
                   {{QStringLiteral("sys-vpn"), {QStringLiteral("tun0")}},
                    {QStringLiteral("gone"), {QStringLiteral("tun0")}}},
                   QList<BaselineRecord> {baseline});
    QCOMPARE(spies.counts(), QList<int>({0, 1, 1, 0, 0}));
    QCOMPARE(doc.snapshot().checks.size(), std::size_t(2));
    QVERIFY(doc.snapshot().latest(u"work-vpn", CheckKind::Vpn));
    // Tunnels of qubes the snapshot does not hold are not taken.
    QCOMPARE(doc.snapshot().tunnels.keys(), QStringList {QStringLiteral("sys-vpn")});
    QCOMPARE(doc.snapshot().baselines.size(), 1);
    // Without baselines the ones recorded stay.
    doc.addResults({result("work", CheckKind::Isolation, CheckStatus::Pass)});
    QCOMPARE(doc.snapshot().baselines.size(), 1);
    QCOMPARE(doc.snapshot().checks.size(), std::size_t(3));
    QCOMPARE(spies.results.size(), 2);
}

void tst_NetworkDocument::intent()
{
    NetworkDocument doc;
    doc.replaceSnapshot(demoSnapshot());
    Spies spies(&doc);
    auto x = expectationsFromYaml("qubes:\n  work: vpn\n", QStringLiteral("x.yaml"));
    QVERIFY(x.ok());
    doc.setIntent(*x);
    QCOMPARE(spies.counts(), QList<int>({0, 1, 0, 1, 0}));
    QCOMPARE(doc.intent(), *x);
    QCOMPARE(doc.snapshot().intent, *x);
    doc.setIntent(*x); // the same: nothing changes, nothing is said
    QCOMPARE(spies.counts(), QList<int>({0, 1, 0, 1, 0}));
    // Once given, the intent is the document's: a refreshed read, a followed change or another
    // snapshot with no intent (or another one, from a file) is judged by it.
    QVERIFY(doc.isIntentGiven());
    Snapshot fresh = demoSnapshot();
    fresh.intent = Expectations {};
    doc.updateSnapshot(fresh);
    QCOMPARE(doc.intent(), *x);
    auto other = expectationsFromYaml("qubes:\n  work: tor\n", QStringLiteral("y.yaml"));
    QVERIFY(other.ok());
    fresh.intent = *other;
    doc.replaceSnapshot(fresh);
    QCOMPARE(doc.intent(), *x);
    QCOMPARE(spies.counts(), QList<int>({1, 2, 0, 1, 0}));
    // Without a given intent, the snapshot's own (a saved file's) is the one judged by.
    NetworkDocument plain;
    plain.replaceSnapshot(fresh);
    QVERIFY(!plain.isIntentGiven());
    QCOMPARE(plain.intent(), *other);
}

void tst_NetworkDocument::liveState()
{
    NetworkDocument doc(SourceSpec {SourceSpec::Kind::Live, QString()});
    Spies spies(&doc);
    doc.setFollowing(true, QStringLiteral("following changes (qubesd events)"));
    QVERIFY(doc.isFollowing());
    QCOMPARE(doc.followDescription(), QStringLiteral("following changes (qubesd events)"));
    doc.setFollowing(true, QStringLiteral("following changes (qubesd events)"));
    doc.setFollowing(false, QStringLiteral("ignored while not following"));
    QVERIFY(!doc.isFollowing());
    QVERIFY(doc.followDescription().isEmpty());
    QCOMPARE(spies.counts(), QList<int>({0, 0, 0, 0, 2}));
}

void tst_NetworkDocument::checksAllowed_data()
{
    QTest::addColumn<int>("kind");
    QTest::addColumn<bool>("loaded");
    QTest::addColumn<bool>("allowed");
    QTest::addColumn<QString>("why");
    QTest::newRow("demo") << int(SourceSpec::Kind::Demo) << true << false << "demo network";
    QTest::newRow("file") << int(SourceSpec::Kind::File) << true << false << "saved snapshot";
    QTest::newRow("live, unread") << int(SourceSpec::Kind::Live) << false << false << "read first";
    QTest::newRow("live") << int(SourceSpec::Kind::Live) << true << true << "";
}

void tst_NetworkDocument::checksAllowed()
{
    QFETCH(int, kind);
    QFETCH(bool, loaded);
    QFETCH(bool, allowed);
    QFETCH(QString, why);
    NetworkDocument doc(SourceSpec {SourceSpec::Kind(kind), QString()});
    if (loaded)
        doc.replaceSnapshot(demoSnapshot());
    QString reason;
    QCOMPARE(doc.checksAllowed(&reason), allowed);
    if (why.isEmpty())
        QVERIFY(reason.isEmpty());
    else
        QVERIFY2(reason.contains(why), qPrintable(reason));
}

QTEST_GUILESS_MAIN(tst_NetworkDocument)
#include "tst_networkdocument.moc"
