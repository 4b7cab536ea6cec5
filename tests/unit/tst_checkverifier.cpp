// The Verifier end to end through the real qvm-run and qvm-ls of the Qubes admin client against
// the qubesd stand-in holding the seed system (tests/support/realqubes.h), whose qrexec-client
// plays each qube with tests/data/scripted-qubes/qube-shell: the real probe scripts run with
// fake network tools answering from a scenario. Whether a qube exists or runs is the stand-in's
// state (Scenario::set with the file "state").
#include "checks/checkscripts.h"
#include "checks/verifier.h"
#include "formats/jsonexport.h"
#include "formats/markdownreport.h"
#include "formats/snapshotyaml.h"
#include "model/topology.h"
#include "snapshots.h"

#include "realqubes.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace netmap;

namespace {

const QString kFake = QStringLiteral(NETMAP_TEST_DATA "/scripted-qubes");
const QString kSeedState = QStringLiteral(NETMAP_TEST_DATA "/standin/seed.json");

// One stand-in for the whole test (initTestCase), its tools first on PATH; each Scenario puts
// the seed system back.
test::RealQubes &qubes()
{
    static test::RealQubes q;
    return q;
}

QByteArray fixture(const char *name)
{
    QFile f(QStringLiteral(NETMAP_TEST_DATA "/") + QString::fromLatin1(name));
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

Snapshot seed()
{
    Snapshot s = test::demoWithoutChecks();
    s.tunnels.clear();
    return s;
}

VerifyRequest request()
{
    VerifyRequest r; // the real qvm-run and qvm-ls from PATH
    r.config.timeoutSeconds = 10;
    r.config.connectTimeoutSeconds = 2;
    r.config.dnsZone = QStringLiteral("probe.example.org");
    r.config.dnsZoneService = QStringLiteral("https://zone.example.org/resolvers");
    return r;
}

// Scenario folders: a private overlay (files written by the test) over the named base scenarios.
class Scenario
{
public:
    explicit Scenario(const QStringList &bases = {QStringLiteral("seed")})
    {
        QStringList dirs {m_overlay.path()};
        for (const QString &b : bases)
            dirs << kFake + u'/' + b;
        qputenv("NETMAP_FAKE_QVM", dirs.join(u':').toLocal8Bit());
        qputenv("NETMAP_FAKE_STATE", m_state.path().toLocal8Bit());
        qunsetenv("NETMAP_FAKE_LOG");
        m_system = test::RealQubes::load(kSeedState);
        if (m_system.isEmpty() || !qubes().setState(m_system))
            qWarning("the stand-in's state could not be reset");
    }
    // A scenario file for a qube; "state" (halted | unknown) changes the stand-in's state
    // instead: qubesd, not the qube, knows whether a qube runs or exists.
    void set(const QString &qube, const QString &file, const QByteArray &content)
    {
        if (file == QLatin1String("state")) {
            QJsonObject all = m_system.value(QStringLiteral("qubes")).toObject();
            if (content.trimmed() == "unknown") {
                all.remove(qube);
            } else {
                QJsonObject q = all.value(qube).toObject();
                q.insert(QStringLiteral("state"), QStringLiteral("Halted"));
                all.insert(qube, q);
            }
            m_system.insert(QStringLiteral("qubes"), all);
            QVERIFY(qubes().setState(m_system));
            return;
        }
        QDir().mkpath(m_overlay.path() + u'/' + qube);
        QFile f(m_overlay.path() + u'/' + qube + u'/' + file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(content);
    }
    QString statePath() const { return m_state.path(); }

private:
    QTemporaryDir m_overlay;
    QTemporaryDir m_state;
    QJsonObject m_system;
};

const CheckResult *find(const Snapshot &s, const char *qube, CheckKind kind)
{
    return s.latest(QString::fromLatin1(qube), kind);
}

QString describe(const Snapshot &s)
{
    QString out;
    for (const CheckResult &r : s.checks)
        out += QStringLiteral("%1 %2 %3: %4 | %5\n")
                   .arg(r.qube.toString(), checkKindId(r.check), checkStatusId(r.status),
                        r.observed, r.reason);
    return out;
}

Snapshot verify(const Snapshot &s, const VerifyRequest &r)
{
    auto result = verifySnapshot(s, r);
    if (!result) {
        qWarning() << result.error().toString();
        return {};
    }
    return std::move(result).value();
}

} // namespace

class tst_CheckVerifier : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void seedReproducesTheReference();
    void vpnLeakTurnsExactlyTheVpnCheckRed();
    void unreachableNothingPasses();
    void lyingBaselineQubeIsDisputed();
    void consistentDnsForgerIsCaught();
    void whoamiAloneNeverPasses();
    void pinnedBaselineOverrulesTheWitnesses();
    void singleWitnessIsUnconfirmed();
    void baselineOriginInExports();
    void plainHttpWitnessesCannotAgree();
    void singleQubeFaults_data();
    void singleQubeFaults();
    void killSwitchJudgesIpv6WhenClientsHaveIt();
    void ipv6Exits_data();
    void ipv6Exits();
    void isolationProbesIpv6Addresses();
    void concurrencyIsBounded();
    void probesOfDifferentExitsNeverShareAMoment();
    void timeoutStopsAHang();
    void cancelStopsEverything();
    void haltedQubesAreSkipped();
    void unknownQubeIsAnError();
    void evidenceIsSanitized();
    void drillRestoresTheTunnel();
    void onlyTheRulesetRunsAsRoot();
};

void tst_CheckVerifier::initTestCase()
{
    NETMAP_START_REAL_QUBES(qubes(), test::RealQubes::load(kSeedState),
                            kFake + QStringLiteral("/qube-shell"));
    qputenv("PATH", qubes().path(qgetenv("PATH")));
}

void tst_CheckVerifier::seedReproducesTheReference()
{
    Scenario scenario;
    const Snapshot s = verify(seed(), request());
    const QString all = describe(s);
    struct Expect
    {
        const char *qube;
        CheckKind kind;
        CheckStatus status;
        const char *observed;
    };
    const Expect expected[] = {
        {"sys-net", CheckKind::ExternalIp, CheckStatus::Pass, "203.0.113.7"},
        {"sys-firewall", CheckKind::ExternalIp, CheckStatus::Pass, "203.0.113.7"},
        {"work", CheckKind::ExternalIp, CheckStatus::Pass, "203.0.113.7"},
        {"untrusted", CheckKind::ExternalIp, CheckStatus::Pass, "203.0.113.7"},
        {"sys-vpn", CheckKind::ExternalIp, CheckStatus::Pass, "198.51.100.23"},
        {"work-vpn", CheckKind::ExternalIp, CheckStatus::Pass, "198.51.100.23"},
        {"work-vpn", CheckKind::Vpn, CheckStatus::Pass, "198.51.100.23"},
        {"work-vpn", CheckKind::DnsLeak, CheckStatus::Pass, "198.51.100.53"},
        {"sys-vpn", CheckKind::KillSwitch, CheckStatus::Pass, "kill switch proven by the ruleset"},
        {"whonix", CheckKind::ExternalIp, CheckStatus::Pass, "192.0.2.45"},
        {"whonix", CheckKind::Tor, CheckStatus::Pass, "IsTor=true IP=192.0.2.45"},
        {"whonix", CheckKind::DnsLeak, CheckStatus::Pass, "192.0.2.53"},
        {"work", CheckKind::Isolation, CheckStatus::Pass, "no reach"},
        {"untrusted", CheckKind::Isolation, CheckStatus::Pass, "no reach"},
        {"work-vpn", CheckKind::Isolation, CheckStatus::Pass, "no reach"},
    };
    for (const Expect &e : expected) {
        const CheckResult *r = find(s, e.qube, e.kind);
        QVERIFY2(r,
                 qPrintable(QStringLiteral("%1 %2 missing\n%3")
                                .arg(QString::fromLatin1(e.qube), checkKindId(e.kind), all)));
        QVERIFY2(r->status == e.status, qPrintable(all));
        QCOMPARE(r->observed, QString::fromLatin1(e.observed));
        QCOMPARE(r->pathAtRun, Topology(s).egressChain(r->qube.toString()));
        QVERIFY(r->started.isValid() && r->finished >= r->started);
        QVERIFY(!r->command.isEmpty());
        QCOMPARE(r->exitCode, 0);
    }
    // Nothing fails or errors on the seed system; halted and template qubes are not touched.
    for (const CheckResult &r : s.checks) {
        QVERIFY2(r.status == CheckStatus::Pass || r.status == CheckStatus::Skipped,
                 qPrintable(all));
        QVERIFY(r.qube.toString() != QLatin1String("vault"));
        QVERIFY(r.qube.toString() != QLatin1String("debian-12-xfce"));
    }
    QCOMPARE(s.tunnels.value(QStringLiteral("sys-vpn")), QStringList {QStringLiteral("tun0")});
}

void tst_CheckVerifier::vpnLeakTurnsExactlyTheVpnCheckRed()
{
    Scenario scenario({QStringLiteral("vpn-leak"), QStringLiteral("seed")});
    const Snapshot s = verify(seed(), request());
    const QString all = describe(s);
    int failed = 0;
    for (const CheckResult &r : s.checks) {
        if (r.status == CheckStatus::Fail || r.status == CheckStatus::Error) {
            ++failed;
            QCOMPARE(r.qube.toString(), QStringLiteral("work-vpn"));
            QCOMPARE(r.check, CheckKind::Vpn);
            QVERIFY(r.reason.contains(QStringLiteral("leak")));
            QCOMPARE(r.status, CheckStatus::Fail);
        }
    }
    QVERIFY2(failed == 1, qPrintable(all));
}

void tst_CheckVerifier::lyingBaselineQubeIsDisputed()
{
    // work-vpn leaks by the clearnet exit; a compromised sys-net claims another exit. With one
    // witness the leak would pass; with two the baseline is disputed: errors, never a pass.
    Scenario scenario({QStringLiteral("vpn-leak"), QStringLiteral("seed")});
    scenario.set(QStringLiteral("sys-net"), QStringLiteral("ip"), "192.0.2.200\n");
    const Snapshot s = verify(seed(), request());
    const CheckResult *vpn = find(s, "work-vpn", CheckKind::Vpn);
    QVERIFY2(vpn, qPrintable(describe(s)));
    QVERIFY2(vpn->status == CheckStatus::Error, qPrintable(describe(s)));
    QVERIFY2(vpn->reason.contains(QStringLiteral("disputed")), qPrintable(vpn->reason));
    QVERIFY2(vpn->reason.contains(QStringLiteral("sys-net says 192.0.2.200")),
             qPrintable(vpn->reason));
    QVERIFY2(vpn->reason.contains(QStringLiteral("baseline: {exit_ips")), qPrintable(vpn->reason));
    for (const CheckResult &r : s.checks) {
        if (r.check == CheckKind::ExternalIp && r.qube.toString() == QStringLiteral("work"))
            QVERIFY2(r.status == CheckStatus::Error, qPrintable(describe(s)));
    }
}

// sys-net answers every DNS query itself, the same way for everyone (192.0.2.77), the probe
// names included, while work-vpn's DNS leaks through the tunnel to the clearnet resolver. The
// witnesses' whoami answers agree, so by them alone the leak passed; the unique names show that
// no resolver asked the zone for the witnesses' names: the baseline is disputed, never a pass.
void tst_CheckVerifier::consistentDnsForgerIsCaught()
{
    Scenario scenario;
    for (const char *q : {"_default", "sys-net", "sys-firewall"}) {
        scenario.set(QString::fromLatin1(q), QStringLiteral("resolvers"), "192.0.2.77\n");
        scenario.set(QString::fromLatin1(q), QStringLiteral("zone-asked"), "");
    }
    scenario.set(QStringLiteral("work-vpn"), QStringLiteral("resolvers"), "203.0.113.53\n");
    scenario.set(QStringLiteral("work-vpn"), QStringLiteral("zone-asked"), "203.0.113.53\n");
    const Snapshot s = verify(seed(), request());
    const CheckResult *dns = find(s, "work-vpn", CheckKind::DnsLeak);
    QVERIFY2(dns, qPrintable(describe(s)));
    QVERIFY2(dns->status == CheckStatus::Error, qPrintable(describe(s)));
    for (const char *words : {"disputed", "sys-net: ", "no resolver asked the zone",
                              "intercepts DNS", "baseline: {resolvers"})
        QVERIFY2(dns->reason.contains(QString::fromLatin1(words)), qPrintable(dns->reason));
    QCOMPARE(dns->observed, QString());
    const auto record = std::find_if(s.baselines.cbegin(), s.baselines.cend(),
                                     [](const BaselineRecord &r) { return r.what == "resolvers"; });
    QVERIFY(record != s.baselines.cend());
    QCOMPARE(int(record->state), int(BaselineRecord::State::Disputed));
    // The same run with the whoami A record only: the forged answers agree, yet nothing passes.
    VerifyRequest r = request();
    r.config.dnsZone.clear();
    r.config.dnsZoneService.clear();
    const Snapshot w = verify(seed(), r);
    const CheckResult *whoami = find(w, "work-vpn", CheckKind::DnsLeak);
    QVERIFY2(whoami && whoami->status == CheckStatus::Error, qPrintable(describe(w)));
    QVERIFY2(whoami->reason.contains(QStringLiteral("plain DNS answer")),
             qPrintable(whoami->reason));
}

// Without a zone, the whoami A record still finds a leak but never passes a check.
void tst_CheckVerifier::whoamiAloneNeverPasses()
{
    VerifyRequest r = request();
    r.config.dnsZone.clear();
    r.config.dnsZoneService.clear();
    {
        Scenario scenario;
        const Snapshot s = verify(seed(), r);
        for (const char *q : {"work-vpn", "whonix"}) {
            const CheckResult *dns = find(s, q, CheckKind::DnsLeak);
            QVERIFY2(dns && dns->status == CheckStatus::Error, qPrintable(describe(s)));
            QVERIFY2(dns->reason.contains(QStringLiteral("dns.zone")), qPrintable(dns->reason));
        }
    }
    Scenario scenario;
    scenario.set(QStringLiteral("work-vpn"), QStringLiteral("resolvers"), "203.0.113.53\n");
    const Snapshot s = verify(seed(), r);
    const CheckResult *dns = find(s, "work-vpn", CheckKind::DnsLeak);
    QVERIFY2(dns && dns->status == CheckStatus::Fail, qPrintable(describe(s)));
    QVERIFY2(dns->reason.contains(QStringLiteral("method: the whoami A record")),
             qPrintable(dns->reason));
}

void tst_CheckVerifier::pinnedBaselineOverrulesTheWitnesses()
{
    Scenario scenario({QStringLiteral("vpn-leak"), QStringLiteral("seed")});
    scenario.set(QStringLiteral("sys-net"), QStringLiteral("ip"), "192.0.2.200\n");
    VerifyRequest r = request();
    r.config.baselineExitIps = QStringList {QStringLiteral("203.0.113.7")};
    const Snapshot s = verify(seed(), r);
    const CheckResult *vpn = find(s, "work-vpn", CheckKind::Vpn);
    QVERIFY2(vpn && vpn->status == CheckStatus::Fail, qPrintable(describe(s)));
    QVERIFY2(vpn->reason.contains(QStringLiteral("pinned in the configuration")),
             qPrintable(vpn->reason));
    // The lying qube's own exit is not the pinned clearnet exit.
    const CheckResult *net = find(s, "sys-net", CheckKind::ExternalIp);
    QVERIFY2(net && net->status == CheckStatus::Fail, qPrintable(describe(s)));
}

void tst_CheckVerifier::singleWitnessIsUnconfirmed()
{
    Scenario scenario;
    for (const char *q : {"sys-firewall", "work", "untrusted"})
        scenario.set(QString::fromLatin1(q), QStringLiteral("ip"), "none\n");
    const Snapshot s = verify(seed(), request());
    const CheckResult *vpn = find(s, "work-vpn", CheckKind::Vpn);
    QVERIFY2(vpn && vpn->status == CheckStatus::Error, qPrintable(describe(s)));
    QVERIFY2(vpn->reason.contains(QStringLiteral("unconfirmed")), qPrintable(vpn->reason));
    QVERIFY2(vpn->reason.contains(QStringLiteral("sys-net says 203.0.113.7")),
             qPrintable(vpn->reason));
}

namespace {
// The export's baselines by "uplink what".
QMap<QString, QJsonObject> exportedBaselines(const Snapshot &s)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(exportJson(s), &error);
    QMap<QString, QJsonObject> out;
    if (error.error != QJsonParseError::NoError)
        return out;
    for (const QJsonValue &v : doc.object().value(QStringLiteral("baselines")).toArray()) {
        const QJsonObject o = v.toObject();
        out.insert(o.value(QStringLiteral("uplink")).toString() + u' '
                       + o.value(QStringLiteral("what")).toString(),
                   o);
    }
    return out;
}

QString said(const QJsonObject &baseline, const QString &qube)
{
    for (const QJsonValue &w : baseline.value(QStringLiteral("witnesses")).toArray()) {
        const QJsonObject o = w.toObject();
        if (o.value(QStringLiteral("qube")).toString() == qube) {
            QStringList values;
            for (const QJsonValue &x : o.value(QStringLiteral("said")).toArray())
                values << x.toString();
            return values.isEmpty() ? QStringLiteral("(cannot say)")
                                    : values.join(QStringLiteral(", "));
        }
    }
    return {};
}

// The write-up rendered as GitHub renders it; the cells of the baseline table's rows.
QList<QStringList> renderedBaselineRows(const QByteArray &markdown)
{
    QProcess cmark;
    cmark.start(QStringLiteral("cmark-gfm"),
                {QStringLiteral("-e"), QStringLiteral("autolink"), QStringLiteral("-e"),
                 QStringLiteral("table")});
    cmark.write(markdown);
    cmark.closeWriteChannel();
    if (!cmark.waitForFinished(60000) || cmark.exitCode() != 0)
        return {};
    const QString html = QString::fromUtf8(cmark.readAllStandardOutput());
    const qsizetype header = html.indexOf(QStringLiteral("<th>Uplink</th>"));
    if (header < 0)
        return {};
    const QString table
        = html.mid(header, html.indexOf(QStringLiteral("</table>"), header) - header);
    QList<QStringList> rows;
    const QRegularExpression row(QStringLiteral("<tr>(.*?)</tr>"),
                                 QRegularExpression::DotMatchesEverythingOption);
    const QRegularExpression cell(QStringLiteral("<td[^>]*>(.*?)</td>"),
                                  QRegularExpression::DotMatchesEverythingOption);
    for (auto it = row.globalMatch(table); it.hasNext();) {
        QStringList cells;
        const QString r = it.next().captured(1);
        for (auto c = cell.globalMatch(r); c.hasNext();)
            cells << c.next().captured(1);
        if (!cells.isEmpty())
            rows << cells;
    }
    return rows;
}
} // namespace

// The JSON export and the write-up say where each baseline came from: which witnesses said
// what, whether they agreed, or that the values were pinned.
void tst_CheckVerifier::baselineOriginInExports()
{
    if (QStandardPaths::findExecutable(QStringLiteral("cmark-gfm")).isEmpty())
        QSKIP("cmark-gfm is missing (packaging/dev.sh installs it)");
    {
        Scenario scenario;
        const Snapshot s = verify(seed(), request());
        const auto b = exportedBaselines(s);
        const QJsonObject exit = b.value(QStringLiteral("sys-net exit"));
        QCOMPARE(exit.value(QStringLiteral("state")).toString(), QStringLiteral("agreed"));
        QCOMPARE(exit.value(QStringLiteral("values")).toArray(),
                 QJsonArray {QStringLiteral("203.0.113.7")});
        QCOMPARE(said(exit, QStringLiteral("sys-net")), QStringLiteral("203.0.113.7"));
        QCOMPARE(said(exit, QStringLiteral("sys-firewall")), QStringLiteral("203.0.113.7"));
        QVERIFY2(exit.value(QStringLiteral("summary"))
                     .toString()
                     .startsWith(QStringLiteral("seen from sys-net and sys-firewall")),
                 qPrintable(exit.value(QStringLiteral("summary")).toString()));
        QCOMPARE(
            b.value(QStringLiteral("sys-net resolvers")).value(QStringLiteral("state")).toString(),
            QStringLiteral("agreed"));
        const auto rows = renderedBaselineRows(exportMarkdown(s));
        QVERIFY2(rows.size() == 2, qPrintable(QString::number(rows.size())));
        QCOMPARE(rows[0].mid(0, 4),
                 (QStringList {QStringLiteral("sys-net"), QStringLiteral("exit address"),
                               QStringLiteral("agreed"), QStringLiteral("203.0.113.7")}));
        QVERIFY2(rows[0][5].contains(QStringLiteral("sys-firewall says 203.0.113.7")),
                 qPrintable(rows[0][5]));
    }
    {
        Scenario scenario({QStringLiteral("vpn-leak"), QStringLiteral("seed")});
        scenario.set(QStringLiteral("sys-net"), QStringLiteral("ip"), "192.0.2.200\n");
        const Snapshot s = verify(seed(), request());
        const QJsonObject exit = exportedBaselines(s).value(QStringLiteral("sys-net exit"));
        QCOMPARE(exit.value(QStringLiteral("state")).toString(), QStringLiteral("disputed"));
        QCOMPARE(exit.value(QStringLiteral("values")).toArray(), QJsonArray());
        QCOMPARE(said(exit, QStringLiteral("sys-net")), QStringLiteral("192.0.2.200"));
        QCOMPARE(said(exit, QStringLiteral("sys-firewall")), QStringLiteral("203.0.113.7"));
        QVERIFY(exit.value(QStringLiteral("summary"))
                    .toString()
                    .contains(QStringLiteral("baseline: {exit_ips")));
        const auto rows = renderedBaselineRows(exportMarkdown(s));
        QVERIFY2(!rows.isEmpty() && rows[0].size() == 6, qPrintable(QString::number(rows.size())));
        QCOMPARE(rows[0][2], QStringLiteral("⚠ disputed"));
        QCOMPARE(rows[0][3], QStringLiteral("—"));
        QVERIFY2(rows[0][5].contains(QStringLiteral("sys-net says 192.0.2.200")),
                 qPrintable(rows[0][5]));
    }
    {
        Scenario scenario({QStringLiteral("vpn-leak"), QStringLiteral("seed")});
        VerifyRequest r = request();
        r.config.baselineExitIps = QStringList {QStringLiteral("203.0.113.7")};
        const Snapshot s = verify(seed(), r);
        const QJsonObject exit = exportedBaselines(s).value(QStringLiteral("sys-net exit"));
        QCOMPARE(exit.value(QStringLiteral("state")).toString(), QStringLiteral("pinned"));
        QCOMPARE(exit.value(QStringLiteral("values")).toArray(),
                 QJsonArray {QStringLiteral("203.0.113.7")});
        QCOMPARE(exit.value(QStringLiteral("witnesses")).toArray(), QJsonArray());
        const auto rows = renderedBaselineRows(exportMarkdown(s));
        QVERIFY(!rows.isEmpty());
        QCOMPARE(rows[0][2], QStringLiteral("pinned"));
        QVERIFY2(rows[0][4].contains(QStringLiteral("pinned in the configuration")),
                 qPrintable(rows[0][4]));
    }
    {
        Scenario scenario;
        for (const char *q : {"sys-firewall", "work", "untrusted"})
            scenario.set(QString::fromLatin1(q), QStringLiteral("ip"), "none\n");
        const Snapshot s = verify(seed(), request());
        const QJsonObject exit = exportedBaselines(s).value(QStringLiteral("sys-net exit"));
        QCOMPARE(exit.value(QStringLiteral("state")).toString(), QStringLiteral("unconfirmed"));
        QCOMPARE(said(exit, QStringLiteral("sys-firewall")), QStringLiteral("(cannot say)"));
    }
}

// A network qube on the path can forge plain HTTP for every witness behind it alike: agreeing
// witnesses over http:// endpoints do not make a baseline, and verdicts say "plain HTTP".
void tst_CheckVerifier::plainHttpWitnessesCannotAgree()
{
    Scenario scenario;
    VerifyRequest r = request();
    r.config.ipEchoUrls
        = {QStringLiteral("http://a.example/"), QStringLiteral("https://b.example/")};
    const Snapshot s = verify(seed(), r);
    const CheckResult *vpn = find(s, "work-vpn", CheckKind::Vpn);
    QVERIFY2(vpn && vpn->status == CheckStatus::Error, qPrintable(describe(s)));
    QVERIFY2(vpn->reason.contains(QStringLiteral("unconfirmed"))
                 && vpn->reason.contains(QStringLiteral("over plain HTTP (http://a.example/)"))
                 && vpn->reason.contains(QStringLiteral("https://")),
             qPrintable(vpn->reason));
    // external-ip measures the exit without a baseline to compare with, and says how it came.
    const CheckResult *work = find(s, "work", CheckKind::ExternalIp);
    QVERIFY2(work
                 && work->reason.contains(QStringLiteral("over plain HTTP from http://a.example/")),
             qPrintable(work ? work->reason : describe(s)));
    const QJsonObject exit = exportedBaselines(s).value(QStringLiteral("sys-net exit"));
    QCOMPARE(exit.value(QStringLiteral("state")).toString(), QStringLiteral("unconfirmed"));
    // A Tor qube's exit needs no baseline, but its verdict says it came over plain HTTP.
    r.config.ipEchoUrlsTor
        = {QStringLiteral("http://c.example/"), QStringLiteral("http://d.example/")};
    const Snapshot t = verify(seed(), r);
    const CheckResult *tor = find(t, "whonix", CheckKind::ExternalIp);
    QVERIFY2(tor && tor->status == CheckStatus::Pass, qPrintable(describe(t)));
    QVERIFY2(tor->reason.contains(QStringLiteral("over plain HTTP from http://c.example/")),
             qPrintable(tor->reason));
    // With https:// only, the same witnesses agree.
    r.config.ipEchoUrls
        = {QStringLiteral("https://a.example/"), QStringLiteral("https://b.example/")};
    const Snapshot u = verify(seed(), r);
    QVERIFY2(find(u, "work-vpn", CheckKind::Vpn)->status == CheckStatus::Pass,
             qPrintable(describe(u)));
}

void tst_CheckVerifier::unreachableNothingPasses()
{
    Scenario scenario({QStringLiteral("unreachable"), QStringLiteral("seed")});
    const Snapshot s = verify(seed(), request());
    QVERIFY(!s.checks.empty());
    int errors = 0;
    for (const CheckResult &r : s.checks) {
        QVERIFY2(r.status != CheckStatus::Pass, qPrintable(describe(s)));
        if (r.status == CheckStatus::Error) {
            ++errors;
            QCOMPARE(r.exitCode, 126);
            QVERIFY(r.reason.contains(QStringLiteral("qrexec")));
        }
    }
    QVERIFY(errors > 10);
}

void tst_CheckVerifier::singleQubeFaults_data()
{
    QTest::addColumn<QString>("qube");
    QTest::addColumn<QString>("file");
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<int>("kind");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("reason"); // a part of the reason

    const int ip = int(CheckKind::ExternalIp);
    const int err = int(CheckStatus::Error);
    const int fail = int(CheckStatus::Fail);
    const int pass = int(CheckStatus::Pass);
    QTest::newRow("normal") << "work"
                            << "" << QByteArray() << ip << pass << "agree";
    QTest::newRow("no egress") << "work"
                               << "ip" << QByteArray("none") << ip << fail << "no egress";
    QTest::newRow("endpoints disagree")
        << "work"
        << "http@icanhazip.com" << QByteArray("198.51.100.99\n") << ip << fail << "disagree";
    QTest::newRow("html answer") << "work"
                                 << "ip" << QByteArray("<html><body>Login</body></html>\n") << ip
                                 << err << "not an IP address";
    QTest::newRow("ansi answer") << "work"
                                 << "ip" << QByteArray("\x1b[31m203.0.113.7\x1b[0m\n") << ip << err
                                 << "not an IP address";
    QTest::newRow("non-utf8 answer") << "work"
                                     << "ip"
                                     << QByteArray("\xff\xfe"
                                                   "203.0.113.7\n")
                                     << ip << err << "not an IP address";
    QTest::newRow("one endpoint only")
        << "work"
        << "http@api.ipify.org" << QByteArray("none") << ip << pass << "agree";
    QTest::newRow("curl missing") << "work"
                                  << "tools" << QByteArray("dig ping nc") << ip << err
                                  << "curl missing";
    QTest::newRow("wget fallback")
        << "work"
        << "tools" << QByteArray("wget dig ping nc") << ip << pass << "agree";
    QTest::newRow("exit 125") << "work"
                              << "mode" << QByteArray("exit125") << ip << err << "exit 125";
    QTest::newRow("exit 126") << "work"
                              << "mode" << QByteArray("exit126") << ip << err << "exit 126";
    QTest::newRow("exit 127") << "work"
                              << "mode" << QByteArray("exit127") << ip << err << "exit 127";
    QTest::newRow("exit 255") << "work"
                              << "mode" << QByteArray("exit255") << ip << err
                              << "could not be started";
    QTest::newRow("unknown qube") << "work"
                                  << "state" << QByteArray("unknown") << ip << err
                                  << "does not know";
    QTest::newRow("stopped since")
        << "work"
        << "state" << QByteArray("halted") << ip << err
        << "not running and was not started (autostart is off; exit 1; a "
           "fresh state query says Halted)";
    QTest::newRow("silent") << "work"
                            << "mode" << QByteArray("silent") << ip << err << "no begin marker";
    QTest::newRow("50 MB output") << "work"
                                  << "mode" << QByteArray("flood") << ip << err << "far more";
    QTest::newRow("endless output") << "work"
                                    << "mode" << QByteArray("endless") << ip << err << "far more";
    QTest::newRow("garbage around") << "work"
                                    << "mode" << QByteArray("garbage") << ip << pass << "agree";
    QTest::newRow("tor false") << "whonix"
                               << "tor" << QByteArray("{\"IsTor\":false,\"IP\":\"192.0.2.45\"}")
                               << int(CheckKind::Tor) << fail << "not come from Tor";
    QTest::newRow("tor html") << "whonix"
                              << "tor" << QByteArray("<html>hi</html>") << int(CheckKind::Tor)
                              << err << "not a JSON object";
    QTest::newRow("tor no IsTor") << "whonix"
                                  << "tor" << QByteArray("{\"IP\":\"192.0.2.45\"}")
                                  << int(CheckKind::Tor) << err << "IsTor";
    QTest::newRow("tor IsTor string")
        << "whonix"
        << "tor" << QByteArray("{\"IsTor\":\"true\"}") << int(CheckKind::Tor) << err << "IsTor";
    QTest::newRow("tor no IP") << "whonix"
                               << "tor" << QByteArray("{\"IsTor\":true}") << int(CheckKind::Tor)
                               << pass << "comes from Tor";
    QTest::newRow("tor huge") << "whonix"
                              << "tor"
                              << QByteArray("{\"IsTor\":true,\"x\":\"" + QByteArray(5000, 'a')
                                            + "\"}")
                              << int(CheckKind::Tor) << err << "4 KiB";
    QTest::newRow("tor unreachable")
        << "whonix"
        << "tor" << QByteArray("none") << int(CheckKind::Tor) << err << "did not answer";
    QTest::newRow("dns leak") << "work-vpn"
                              << "resolvers" << QByteArray("203.0.113.53\n")
                              << int(CheckKind::DnsLeak) << fail << "leak";
    QTest::newRow("dns via getent") << "work-vpn"
                                    << "tools" << QByteArray("curl getent ping nc")
                                    << int(CheckKind::DnsLeak) << pass << "differ";
    QTest::newRow("dns no tool") << "work-vpn"
                                 << "tools" << QByteArray("curl ping nc") << int(CheckKind::DnsLeak)
                                 << err << "dig missing";
    QTest::newRow("dns no answer")
        << "work-vpn"
        << "resolvers" << QByteArray("") << int(CheckKind::DnsLeak) << err << "did not resolve";
    QTest::newRow("dns made up on the path")
        << "work-vpn"
        << "zone-asked" << QByteArray("") << int(CheckKind::DnsLeak) << fail << "intercepted";
    QTest::newRow("dns zone service down")
        << "work-vpn"
        << "zone-asked" << QByteArray("none") << int(CheckKind::DnsLeak) << err
        << "did not answer over HTTPS";
    QTest::newRow("isolation broken") << "work"
                                      << "reach" << QByteArray("10.137.0.16 tcp/22\n")
                                      << int(CheckKind::Isolation) << fail << "work → untrusted";
    QTest::newRow("isolation ping only") << "work"
                                         << "tools" << QByteArray("curl dig ping")
                                         << int(CheckKind::Isolation) << pass << "ping only";
    QTest::newRow("isolation no tools")
        << "work"
        << "tools" << QByteArray("curl dig") << int(CheckKind::Isolation) << err << "ping missing";
    QTest::newRow("no kill switch")
        << "sys-vpn"
        << "nft.json" << fixture("killswitch/none.json") << int(CheckKind::KillSwitch) << fail
        << "every packet (any protocol, port and destination)";
    QTest::newRow("narrow rule is no kill switch")
        << "sys-vpn"
        << "nft.json" << fixture("killswitch/partial-443.json") << int(CheckKind::KillSwitch)
        << fail << "tcp to ports 0-442, 444-65535";
    QTest::newRow("policy-drop kill switch")
        << "sys-vpn"
        << "nft.json" << fixture("killswitch/mullvad-policy-drop.json")
        << int(CheckKind::KillSwitch) << pass
        << "table inet mullvad, chain forward: its policy drop";
    QTest::newRow("unknown rule") << "sys-vpn"
                                  << "nft.json" << fixture("killswitch/mark-unknown.json")
                                  << int(CheckKind::KillSwitch) << err
                                  << "cannot prove the kill switch";
    QTest::newRow("no JSON listing")
        << "sys-vpn"
        << "nft.json" << QByteArray("") << int(CheckKind::KillSwitch) << err << "no JSON listing";
    QTest::newRow("empty ruleset")
        << "sys-vpn"
        << "nft" << QByteArray("") << int(CheckKind::KillSwitch) << err << "empty";
    QTest::newRow("no nft") << "sys-vpn"
                            << "tools" << QByteArray("curl dig ping nc ip")
                            << int(CheckKind::KillSwitch) << err << "nft missing";
    QTest::newRow("vpn tunnel down")
        << "sys-vpn"
        << "ifaces" << QByteArray("lo unknown 772 0x9\neth0 up 1 0x1003\ntun0 down 65534 0x1090\n")
        << int(CheckKind::Vpn) << fail << "no tunnel interface";
}

void tst_CheckVerifier::singleQubeFaults()
{
    QFETCH(QString, qube);
    QFETCH(QString, file);
    QFETCH(QByteArray, content);
    QFETCH(int, kind);
    QFETCH(int, status);
    QFETCH(QString, reason);
    Scenario scenario;
    if (!file.isEmpty())
        scenario.set(qube, file, content);
    VerifyRequest r = request();
    r.qubes = QStringList {qube};
    r.checks = QList<CheckKind> {CheckKind(kind)};
    r.config.timeoutSeconds = 5;
    // Each fault ends in its own verdict: the reason says which (a cap, an exit code, a missing
    // marker); a fault that stopped the verification for good would hang the test instead.
    const Snapshot s = verify(seed(), r);
    const CheckResult *result = s.latest(qube, CheckKind(kind));
    QVERIFY2(result, qPrintable(describe(s)));
    QVERIFY2(int(result->status) == status, qPrintable(describe(s)));
    QVERIFY2(result->reason.contains(reason), qPrintable(result->reason));
    if (result->status != CheckStatus::Pass)
        QVERIFY(result->externalIp.isEmpty() || CheckKind(kind) != CheckKind::ExternalIp
                || status == int(CheckStatus::Fail));
    QVERIFY(result->output.size() <= 20 << 10);
}

// The kill switch of a VPN qube that gives its clients IPv6 (a gateway6 for them) must drop their
// IPv6 packets too: the Qubes documentation's IPv4 rule alone passes without IPv6 and fails with.
void tst_CheckVerifier::killSwitchJudgesIpv6WhenClientsHaveIt()
{
    for (const bool ipv6 : {false, true}) {
        Scenario scenario;
        scenario.set("sys-vpn", "nft.json", fixture("killswitch/ipv6-killswitch-ipv4-only.json"));
        Snapshot system = seed();
        Qube &vpn = system.qubes[size_t(system.indexOf(u"sys-vpn"))];
        vpn.gateway6 = ipv6 ? QStringLiteral("fd09:24ef:4179::a89:1a") : QString();
        VerifyRequest r = request();
        r.qubes = QStringList {"sys-vpn"};
        r.checks = QList<CheckKind> {CheckKind::KillSwitch};
        const Snapshot s = verify(system, r);
        const CheckResult *result = s.latest(u"sys-vpn", CheckKind::KillSwitch);
        QVERIFY2(result, qPrintable(describe(s)));
        QCOMPARE(result->status, ipv6 ? CheckStatus::Fail : CheckStatus::Pass);
        QCOMPARE(result->reason.contains(QLatin1String("drops IPv4 only")), ipv6);
    }
}

void tst_CheckVerifier::ipv6Exits_data()
{
    // The IPv6 echo answers: of the clearnet qubes (the witnesses sys-net, sys-firewall and
    // untrusted among them), of untrusted alone and of work-vpn; empty: no IPv6 egress.
    QTest::addColumn<QByteArray>("clearnet6");
    QTest::addColumn<QByteArray>("untrusted6");
    QTest::addColumn<QByteArray>("vpn6");
    QTest::addColumn<int>("vpnStatus");
    QTest::addColumn<QString>("words");
    QTest::addColumn<QString>("exit6"); // work-vpn's external_ip6
    const QByteArray clear = "2001:db8:10::5\n", tunnel = "2001:db8:20::77\n";
    QTest::newRow("no ipv6 anywhere") << QByteArray() << QByteArray() << QByteArray()
                                      << int(CheckStatus::Pass) << "no IPv6 egress: no IPv6 verdict"
                                      << "";
    QTest::newRow("both families tunnelled")
        << clear << clear << tunnel << int(CheckStatus::Pass)
        << "IPv6 exit 2001:db8:20::/64 differs from the clearnet IPv6 exit 2001:db8:10::/64"
        << "2001:db8:20::77";
    QTest::newRow("ipv6 in the clear while ipv4 is tunnelled")
        << clear << clear << QByteArray("2001:db8:10::99\n") << int(CheckStatus::Fail)
        << "IPv6 leaves in the clear while IPv4 is tunnelled"
        << "2001:db8:10::99";
    // A lying witness claims the VPN's /64 as its clearnet IPv6 exit: the vpn check fails (a
    // false alarm, which the owner can see in the evidence), never passes on the lie.
    QTest::newRow("lying witness claims the vpn's /64")
        << clear << QByteArray("2001:db8:20::1\n") << tunnel << int(CheckStatus::Fail)
        << "is the clearnet one"
        << "2001:db8:20::77";
}

void tst_CheckVerifier::ipv6Exits()
{
    QFETCH(QByteArray, clearnet6);
    QFETCH(QByteArray, untrusted6);
    QFETCH(QByteArray, vpn6);
    QFETCH(int, vpnStatus);
    QFETCH(QString, words);
    QFETCH(QString, exit6);
    Scenario scenario;
    if (!clearnet6.isEmpty())
        scenario.set("_default", "ip6", clearnet6);
    if (!untrusted6.isEmpty())
        scenario.set("untrusted", "ip6", untrusted6);
    scenario.set("work-vpn", "ip6", vpn6.isEmpty() ? QByteArray("none\n") : vpn6);
    scenario.set("sys-vpn", "ip6", vpn6.isEmpty() ? QByteArray("none\n") : vpn6);
    VerifyRequest r = request();
    r.qubes = QStringList {"work-vpn"};
    r.checks = QList<CheckKind> {CheckKind::Vpn, CheckKind::ExternalIp};
    const Snapshot s = verify(seed(), r);
    const CheckResult *vpn = s.latest(u"work-vpn", CheckKind::Vpn);
    QVERIFY2(vpn, qPrintable(describe(s)));
    QVERIFY2(int(vpn->status) == vpnStatus, qPrintable(describe(s)));
    QVERIFY2(vpn->reason.contains(words), qPrintable(vpn->reason));
    QCOMPARE(vpn->externalIp, QStringLiteral("198.51.100.23")); // IPv4 judged as before
    QCOMPARE(vpn->externalIp6, exit6);
    if (vpnStatus == int(CheckStatus::Pass) && exit6.isEmpty())
        QCOMPARE(vpn->observed, QStringLiteral("198.51.100.23"));
}

void tst_CheckVerifier::isolationProbesIpv6Addresses()
{
    // untrusted reaches work over IPv6 only: its IPv4 isolation holds, the IPv6 one does not.
    for (const bool reach6 : {false, true}) {
        Scenario scenario;
        Snapshot system = seed();
        Qube &work = system.qubes[size_t(system.indexOf(u"work"))];
        work.ip6 = QStringLiteral("fd09:24ef:4179::a89:f");
        if (reach6)
            scenario.set("untrusted", "reach", "fd09:24ef:4179::a89:f\n");
        VerifyRequest r = request();
        r.qubes = QStringList {"untrusted"};
        r.checks = QList<CheckKind> {CheckKind::Isolation};
        const Snapshot s = verify(system, r);
        const CheckResult *iso = s.latest(u"untrusted", CheckKind::Isolation);
        QVERIFY2(iso, qPrintable(describe(s)));
        QCOMPARE(iso->status, reach6 ? CheckStatus::Fail : CheckStatus::Pass);
        QVERIFY(iso->command.contains(QLatin1String("'fd09:24ef:4179::a89:f'")));
        if (reach6)
            QVERIFY2(
                iso->reason.contains(QStringLiteral("untrusted → work (fd09:24ef:4179::a89:f")),
                qPrintable(iso->reason));
    }
}

void tst_CheckVerifier::probesOfDifferentExitsNeverShareAMoment()
{
    // One endpoint set for every kind of exit (the default): a clearnet, a VPN and a Tor probe
    // must never be at the same echo service at the same moment.
    Scenario scenario;
    QTemporaryDir dir;
    const QString log = dir.filePath(QStringLiteral("calls.log"));
    qputenv("NETMAP_FAKE_LOG", log.toLocal8Bit());
    VerifyRequest r = request();
    r.config.concurrency = 8;
    const Snapshot s = verify(seed(), r);
    qunsetenv("NETMAP_FAKE_LOG");
    QFile f(log);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QMap<QString, QPair<qint64, qint64>> span; // qube -> (start, end) of its probe
    for (const QByteArray &line : f.readAll().split('\n')) {
        const QList<QByteArray> p = line.split(' ');
        if (p.size() != 4)
            continue;
        auto &x = span[QString::fromLatin1(p[1])];
        (p[0] == "start" ? x.first : x.second) = p[3].toLongLong();
    }
    const QStringList clearnet {"sys-net", "sys-firewall", "work", "untrusted"};
    for (const QString &other : {QStringLiteral("work-vpn"), QStringLiteral("whonix")}) {
        QVERIFY2(span.contains(other), qPrintable(describe(s)));
        for (const QString &c : clearnet) {
            QVERIFY(span.contains(c));
            const bool overlap
                = span[c].first < span[other].second && span[other].first < span[c].second;
            QVERIFY2(!overlap,
                     qPrintable(QStringLiteral("%1 and %2 probed at once").arg(c, other)));
        }
    }
    // With separate sets they may run together, and each asks its own set.
    r.config.ipEchoUrlsVpn
        = {QStringLiteral("https://vpn-a.example/"), QStringLiteral("https://vpn-b.example/")};
    ProbePlan p;
    p.externalIp = true;
    p.echoKind = QStringLiteral("vpn");
    const QString script = probeScript(p, r.config);
    QVERIFY(script.contains(QStringLiteral("vpn-a.example")));
    QVERIFY(!script.contains(r.config.ipEchoUrls.first()));
}

void tst_CheckVerifier::concurrencyIsBounded()
{
    Scenario scenario;
    QTemporaryDir dir;
    const QString log = dir.filePath(QStringLiteral("calls.log"));
    qputenv("NETMAP_FAKE_LOG", log.toLocal8Bit());
    VerifyRequest r = request();
    r.config.concurrency = 2;
    const Snapshot s = verify(seed(), r);
    qunsetenv("NETMAP_FAKE_LOG");
    QFile f(log);
    QVERIFY(f.open(QIODevice::ReadOnly));
    struct Event
    {
        qint64 at;
        int delta;
    };
    QList<Event> events;
    int calls = 0, rootCalls = 0;
    for (const QByteArray &line : f.readAll().split('\n')) {
        const QList<QByteArray> parts = line.split(' ');
        if (parts.size() != 4)
            continue;
        const bool start = parts[0] == "start";
        calls += start && parts[2] != "root";
        rootCalls += start && parts[2] == "root";
        events.append(Event {parts[3].toLongLong(), start ? 1 : -1});
    }
    std::sort(events.begin(), events.end(), [](const Event &a, const Event &b) {
        return a.at != b.at ? a.at < b.at : a.delta < b.delta;
    });
    int now = 0, peak = 0;
    for (const Event &e : events) {
        now += e.delta;
        peak = std::max(peak, now);
    }
    QVERIFY2(peak <= 2, qPrintable(QString::number(peak)));
    QCOMPARE(peak, 2);
    // One qvm-run per qube: the checks of a qube share a call; reading a ruleset is one more,
    // as root, on its own.
    QSet<QString> qubes;
    int rulesets = 0;
    for (const CheckResult &c : s.checks) {
        if (c.status != CheckStatus::Skipped)
            qubes.insert(c.qube.toString());
        rulesets += c.check == CheckKind::KillSwitch && c.status != CheckStatus::Skipped;
    }
    QCOMPARE(calls, qubes.size());
    QCOMPARE(rootCalls, rulesets);
}

void tst_CheckVerifier::timeoutStopsAHang()
{
    Scenario scenario;
    scenario.set(QStringLiteral("work"), QStringLiteral("mode"), "hang");
    VerifyRequest r = request();
    r.qubes = QStringList {QStringLiteral("work"), QStringLiteral("untrusted")};
    // Long enough for the real qvm-run and qrexec-client (two Python programs) to start on a
    // loaded machine; the hang would last an hour.
    r.config.timeoutSeconds = 6;
    r.config.connectTimeoutSeconds = 1;
    const Snapshot s = verify(seed(), r);
    // The timeout ended the hang (not the qube: it stays silent for an hour), and said so.
    const CheckResult *hung = s.latest(u"work", CheckKind::ExternalIp);
    QVERIFY(hung);
    QCOMPARE(hung->status, CheckStatus::Error);
    QVERIFY2(hung->reason.contains(QStringLiteral("no answer in time")), qPrintable(hung->reason));
    QVERIFY2(hung->reason.contains(QStringLiteral("stopped from dom0")), qPrintable(hung->reason));
    const CheckResult *other = s.latest(u"untrusted", CheckKind::ExternalIp);
    QVERIFY2(other->status == CheckStatus::Pass, qPrintable(other->reason));
}

void tst_CheckVerifier::cancelStopsEverything()
{
    Scenario scenario;
    scenario.set(QStringLiteral("_default"), QStringLiteral("mode"), "hang");
    VerifyRequest r = request();
    r.config.concurrency = 2;
    Verifier verifier;
    QSignalSpy finished(&verifier, &Verifier::finished);
    QSignalSpy results(&verifier, &Verifier::resultReady);
    QVERIFY(verifier.start(seed(), r).ok());
    QTest::qWait(500);
    QVERIFY(verifier.isRunning());
    verifier.cancel();
    // The wait only keeps a broken cancel from hanging the test: what ended the checks is in
    // their reasons (the cancel, not the 10 s timeout: none says "in time").
    QVERIFY(finished.wait(60000) || finished.size() == 1);
    QVERIFY(!verifier.isRunning());
    QCOMPARE(verifier.done(), verifier.total());
    for (const CheckResult &c : verifier.snapshot().checks) {
        QVERIFY(c.status == CheckStatus::Error || c.status == CheckStatus::Skipped);
        QVERIFY2(!c.reason.contains(QStringLiteral("in time")), qPrintable(c.reason));
        if (c.status == CheckStatus::Error)
            QVERIFY2(c.reason.contains(QStringLiteral("cancelled")), qPrintable(c.reason));
    }
    QCOMPARE(int(results.size()), verifier.total());
}

void tst_CheckVerifier::haltedQubesAreSkipped()
{
    Scenario scenario;
    Snapshot s = seed();
    test::findQube(s, QStringLiteral("untrusted"))->state = QStringLiteral("Halted");
    VerifyRequest r = request();
    r.qubes = QStringList {QStringLiteral("untrusted")};
    const Snapshot out = verify(s, r);
    QVERIFY(!out.checks.empty());
    for (const CheckResult &c : out.checks) {
        QCOMPARE(c.status, CheckStatus::Skipped);
        QVERIFY(c.reason.contains(QStringLiteral("autostart")));
    }
    scenario.set(QStringLiteral("untrusted"), QStringLiteral("state"), "halted");
    r.autostart = true; // qvm-run starts it through qubesd
    const Snapshot started = verify(s, r);
    QCOMPARE(started.latest(u"untrusted", CheckKind::ExternalIp)->status, CheckStatus::Pass);
}

void tst_CheckVerifier::unknownQubeIsAnError()
{
    VerifyRequest r = request();
    r.qubes = QStringList {QStringLiteral("nosuchqube")};
    const auto result = verifySnapshot(seed(), r);
    QVERIFY(!result.ok());
    QCOMPARE(result.error().exitCode(), 2);
    r.qubes = QStringList {QStringLiteral("dom0")};
    QVERIFY(!verifySnapshot(seed(), r).ok());
}

// Least privilege: a qube that gets the kill-switch check ran its whole probe (curl, DNS, ping,
// TCP to other qubes) as root in one qvm-run -u root; only reading the ruleset needs root.
// Protection: ProbePlan::userPart()/rootPart() in Verifier (with one call as before, the root
// script holds the network probes and this test fails).
void tst_CheckVerifier::onlyTheRulesetRunsAsRoot()
{
    Scenario scenario;
    QTemporaryDir scripts;
    qputenv("NETMAP_FAKE_SCRIPT_LOG", scripts.path().toLocal8Bit());
    const Snapshot s = verify(seed(), request());
    qunsetenv("NETMAP_FAKE_SCRIPT_LOG");
    int rootCalls = 0, userCalls = 0;
    bool vpnProbedAsUser = false;
    for (const QFileInfo &f : QDir(scripts.path()).entryInfoList(QDir::Files)) {
        QFile file(f.filePath());
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QString script = QString::fromUtf8(file.readAll());
        const QStringList parts = f.fileName().split(u'.');
        const QString qube = parts.mid(1, parts.size() - 2).join(u'.');
        const bool root = parts.last() == QLatin1String("root");
        if (root) {
            ++rootCalls;
            QVERIFY2(script.contains(QLatin1String("nft list ruleset")), qPrintable(script));
            for (const char *network : {"nm_ip ", "nm_tor ", "nm_dns ", "nm_icmp", "nm_port",
                                        "nm_get", "curl", "/sys/class/net"})
                QVERIFY2(
                    !script.contains(QLatin1String(network)),
                    qPrintable(qube + QStringLiteral(" as root runs ") + QLatin1String(network)));
        } else {
            ++userCalls;
            QCOMPARE(parts.last(), QStringLiteral("user"));
            QVERIFY(!script.contains(QLatin1String("nft list ruleset")));
            if (qube == QLatin1String("sys-vpn") && script.contains(QLatin1String("nm_ip ")))
                vpnProbedAsUser = true;
        }
    }
    QVERIFY(rootCalls >= 1);
    QVERIFY(userCalls >= 1);
    QVERIFY(vpnProbedAsUser);
    const CheckResult *ks = s.latest(u"sys-vpn", CheckKind::KillSwitch);
    QVERIFY(ks);
    QCOMPARE(ks->status, CheckStatus::Pass);
    QVERIFY2(ks->command.contains(QLatin1String("-u root")), qPrintable(ks->command));
    const CheckResult *ip = s.latest(u"sys-vpn", CheckKind::ExternalIp);
    QVERIFY(ip);
    QCOMPARE(ip->status, CheckStatus::Pass);
}

void tst_CheckVerifier::evidenceIsSanitized()
{
    Scenario scenario;
    scenario.set(QStringLiteral("work"), QStringLiteral("mode"), "garbage");
    VerifyRequest r = request();
    r.qubes = QStringList {QStringLiteral("work")};
    r.checks = QList<CheckKind> {CheckKind::ExternalIp};
    const Snapshot s = verify(seed(), r);
    const CheckResult *c = s.latest(u"work", CheckKind::ExternalIp);
    QVERIFY(c);
    QVERIFY(!c->output.contains(QChar(0x1b)));
    QVERIFY(c->output.contains(QStringLiteral("Welcome")));
    for (QChar ch : c->output)
        QVERIFY(ch == u'\n' || ch == u'\t' || ch.unicode() >= 0x20);
}

void tst_CheckVerifier::drillRestoresTheTunnel()
{
    Scenario scenario;
    VerifyRequest r = request();
    r.qubes = QStringList {QStringLiteral("sys-vpn")};
    r.checks = QList<CheckKind> {CheckKind::KillSwitch};
    r.drill = true;
    // Kill switch holds: no egress while the tunnel is down.
    Snapshot s = verify(seed(), r);
    const CheckResult *c = s.latest(u"sys-vpn", CheckKind::KillSwitch);
    QVERIFY(c);
    QVERIFY2(c->status == CheckStatus::Pass, qPrintable(c->reason));
    QVERIFY2(c->reason.contains(QStringLiteral("tun0 restored")), qPrintable(c->reason));
    QVERIFY(!QFile::exists(scenario.statePath() + QStringLiteral("/sys-vpn.down.tun0")));
    QFile ipLog(scenario.statePath() + QStringLiteral("/ip.log"));
    QVERIFY(ipLog.open(QIODevice::ReadOnly));
    const QByteArray log = ipLog.readAll();
    QVERIFY(log.contains("link set dev tun0 down"));
    QVERIFY(log.contains("link set dev tun0 up"));
    QVERIFY(log.contains("route replace 0.0.0.0/1 via 10.8.0.1 dev tun0"));

    // A leak during the break fails the check, and the tunnel still comes back.
    scenario.set(QStringLiteral("work-vpn"), QStringLiteral("ip-when-down"), "203.0.113.7\n");
    r.checks = QList<CheckKind> {CheckKind::ExternalIp, CheckKind::KillSwitch};
    r.qubes = QStringList {QStringLiteral("sys-vpn"), QStringLiteral("sys-net")};
    s = verify(seed(), r);
    c = s.latest(u"sys-vpn", CheckKind::KillSwitch);
    QVERIFY(c);
    QVERIFY2(c->status == CheckStatus::Fail, qPrintable(c->reason));
    QVERIFY2(c->reason.contains(QStringLiteral("clearnet exit")), qPrintable(c->reason));
    QVERIFY(!QFile::exists(scenario.statePath() + QStringLiteral("/sys-vpn.down.tun0")));
}

QTEST_GUILESS_MAIN(tst_CheckVerifier)
#include "tst_checkverifier.moc"
