// The Markdown write-up: both tables from evidence, and nothing a qube printed becomes markup.
#include "formats/markdownreport.h"
#include "formats/snapshotyaml.h"
#include "model/untrustedtext.h"
#include "snapshots.h"

#include <QRegularExpression>
#include <QTest>

using namespace netmap;

class tst_MarkdownReport : public QObject
{
    Q_OBJECT
private slots:
    void demoTables();
    void hostileEvidenceStaysFenced();
    void cellEscaping_data();
    void cellEscaping();
    void noChecksYet();
    void summaryFirstAndNoPassNextToALeak();
    void whenEachCheckRanAndWhatToDo();
    void deepChainListsEveryQube();
};

void tst_MarkdownReport::demoTables()
{
    const QString md = QString::fromUtf8(exportMarkdown(demoSnapshot()));
    // The demo has one IPv6 path: the flow table has IPv6 columns.
    QVERIFY(md.contains(QStringLiteral(
        "## Network flow and egress IP mapping\n\n| Qube | Internal IP | Internal IPv6 | NetVM | "
        "External IP | External IPv6 |")));
    QVERIFY(md.contains(QStringLiteral(
        "## Security verification tests\n\n| Test | Steps performed | Expected | Result |")));
    QVERIFY(
        md.contains(QStringLiteral("| work | 10.137.0.15 | fd09:24ef:4179::a89:f | sys-firewall "
                                   "| 203.0.113.7 (clearnet) | 2001:db8:7:1::5 (clearnet) |")));
    QVERIFY(md.contains(QStringLiteral(
        "| work-vpn | 10.137.0.27 | — | sys-vpn | 198.51.100.23 (vpn) | (IPv6 off) |")));
    QVERIFY(md.contains(QStringLiteral(
        "| whonix | 10.138.38.126 | — | sys-whonix | 192.0.2.45 (tor) | (IPv6 off) |")));
    QVERIFY(md.contains(QStringLiteral("| Tor — whonix |")));
    QVERIFY(md.contains(QStringLiteral("✅ pass")));
    QVERIFY(md.contains(QStringLiteral("## Findings")));
    // Templates and dom0 are not in the flow table; halted networked qubes are, unverified.
    QVERIFY(!md.contains(QStringLiteral("| dom0 |")));
    QVERIFY(!md.contains(QStringLiteral("| debian-12-xfce |")));
    QVERIFY(md.contains(QStringLiteral(
        "| default-dvm | 10.137.0.9 | — | sys-firewall | — (not verified) | (IPv6 off) |")));

    // Without IPv6 anywhere the table is as it always was.
    const Snapshot plain = test::withoutIpv6(demoSnapshot());
    const QString md4 = QString::fromUtf8(exportMarkdown(plain));
    QVERIFY(md4.contains(QStringLiteral(
        "## Network flow and egress IP mapping\n\n| Qube | Internal IP | NetVM | External IP |")));
    QVERIFY(!md4.contains(QStringLiteral("Internal IPv6")));
    QVERIFY(md4.contains(
        QStringLiteral("| work | 10.137.0.15 | sys-firewall | 203.0.113.7 (clearnet) |")));
    QVERIFY(
        md4.contains(QStringLiteral("| work-vpn | 10.137.0.27 | sys-vpn | 198.51.100.23 (vpn) |")));

    // A VPN client whose IPv6 leaves by the clearnet: said in its IPv6 cell.
    Snapshot leak = demoSnapshot();
    for (CheckResult &c : leak.checks)
        if (c.qube.toString() == QLatin1String("work-vpn") && c.check == CheckKind::ExternalIp)
            c.externalIp6 = QStringLiteral("2001:db8:7:1:9::3");
    const QString mdLeak = QString::fromUtf8(exportMarkdown(leak));
    QVERIFY2(
        mdLeak.contains(QStringLiteral("| work-vpn | 10.137.0.27 | — | sys-vpn | 198.51.100.23 "
                                       "(vpn) | 2001:db8:7:1:9::3 (clearnet) ❌ leaves "
                                       "outside the IPv4 path |")),
        qPrintable(mdLeak));
}

void tst_MarkdownReport::hostileEvidenceStaysFenced()
{
    Snapshot s = demoSnapshot();
    CheckResult r = s.checks.front();
    r.status = CheckStatus::Fail;
    r.observed = QStringLiteral("<img src=x onerror=alert(1)> | **bold** [link](http://evil)");
    r.reason = QStringLiteral("line1\n# heading\n| a | b |");
    r.output = QStringLiteral(
        "```\n# Injected "
        "heading\n<script>alert(1)</script>\n```\n~~~\n[x](javascript:alert(1))\n\x1b[31m");
    r.command = QStringLiteral("qvm-run ... `id`");
    s.checks.push_back(r);
    const QString md = QString::fromUtf8(exportMarkdown(s));
    // Outside fences: no raw HTML, no link syntax, no new heading or table row from the qube.
    QStringList outside;
    bool inFence = false;
    int fences = 0;
    for (const QString &line : md.split(u'\n')) {
        if (line.startsWith(QStringLiteral("```"))) {
            inFence = !inFence;
            ++fences;
            continue;
        }
        if (inFence) {
            QVERIFY2(!line.contains(u'`'), qPrintable(line));
            continue;
        }
        outside << line;
    }
    QVERIFY(!inFence);
    QVERIFY(fences % 2 == 0 && fences > 0);
    const QString text = outside.join(u'\n');
    QVERIFY(!text.contains(QStringLiteral("<img")));
    QVERIFY(!text.contains(QStringLiteral("<script")));
    QVERIFY(!text.contains(QRegularExpression(QStringLiteral("(?<!\\\\)\\]\\("))));
    QVERIFY(!text.contains(QStringLiteral("# Injected")));
    QVERIFY(!text.contains(QStringLiteral("\n# heading")));
    QVERIFY(!text.contains(QStringLiteral("**bold**")));
    QVERIFY(text.contains(QStringLiteral("&lt;img src=x onerror=alert(1)&gt;")));
    // The fenced evidence keeps the words, with the backticks neutralised.
    QVERIFY(md.contains(QStringLiteral("# Injected heading")));
    QVERIFY(md.contains(QStringLiteral("<script>alert(1)</script>")));
    QVERIFY(!md.contains(QChar(0x1b)));
    // Every table row has exactly its header's cells (unescaped pipes would add some).
    const QRegularExpression pipe(QStringLiteral("(?<!\\\\)\\|"));
    int expected = 0;
    for (qsizetype i = 0; i < outside.size(); ++i) {
        const QString &line = outside[i];
        if (!line.startsWith(u'|'))
            continue;
        const int pipes = int(line.count(pipe));
        if (i + 1 < outside.size() && outside[i + 1].startsWith(QStringLiteral("|---")))
            expected = pipes; // a header row
        QVERIFY(expected >= 5);
        QVERIFY2(pipes == expected, qPrintable(line));
    }
}

void tst_MarkdownReport::cellEscaping_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("expected");
    QTest::newRow("plain") << "work"
                           << "work";
    QTest::newRow("dash dot") << "sys-net 10.0.0.1"
                              << "sys-net 10.0.0.1";
    QTest::newRow("pipe") << "a|b"
                          << "a\\|b";
    QTest::newRow("html") << "<b>&"
                          << "&lt;b&gt;&amp;";
    QTest::newRow("newline") << "a\nb"
                             << "a b";
    QTest::newRow("backtick") << "`x`"
                              << "\\`x\\`";
    // The whole escape sequence goes, not only its ESC.
    QTest::newRow("control") << QString::fromUtf8("a\x1b[1mb") << "ab";
    QTest::newRow("www autolink") << "see www.evil.example/x"
                                  << "see www\\.evil.example/x";
    QTest::newRow("e-mail autolink")
        << "admin@evil.example"
        << QStringLiteral("admin") + QChar(0xff20) + QStringLiteral("evil.example");
    QTest::newRow("image") << "![x](http://e.example/p.png)"
                           << "!\\[x\\](http\\://e.example/p.png)";
    QTest::newRow("bidi and separators") << QString::fromUtf8("a\u200f\u061cb\u2028c") << "ab c";
}

void tst_MarkdownReport::cellEscaping()
{
    QFETCH(QString, input);
    QFETCH(QString, expected);
    QCOMPARE(untrustedtext::markdownInline(input), expected);
}

void tst_MarkdownReport::noChecksYet()
{
    Snapshot s = demoSnapshot();
    s.checks.clear();
    const QString md = QString::fromUtf8(exportMarkdown(s));
    QVERIFY(md.contains(QStringLiteral("No checks have been run.")));
    QVERIFY(
        md.contains(QStringLiteral("| work | 10.137.0.15 | fd09:24ef:4179::a89:f | sys-firewall "
                                   "| — (not verified) | — (not verified) |")));
    QVERIFY(!md.contains(QStringLiteral("## Evidence")));
}

void tst_MarkdownReport::deepChainListsEveryQube()
{
    // A chain deeper than any real network: every qube still has its row in the summary (the
    // tree walk once stopped 64 levels down and left the rest out).
    Snapshot s;
    for (int i = 0; i < 100; ++i) {
        Qube q;
        q.name = *QubeName::fromUntrusted(QStringLiteral("q%1").arg(i, 3, 10, QLatin1Char('0')));
        q.klass = QStringLiteral("AppVM");
        q.state = QStringLiteral("Running");
        q.label = QStringLiteral("red");
        q.providesNetwork = true;
        if (i > 0)
            q.netvm = *QubeName::fromUntrusted(
                QStringLiteral("q%1").arg(i - 1, 3, 10, QLatin1Char('0')));
        s.qubes.push_back(q);
    }
    const QString md = QString::fromUtf8(exportMarkdown(s));
    const QString summary
        = md.section(QStringLiteral("## Summary"), 1).section(QStringLiteral("\n## "), 0, 0);
    for (int i = 1; i < 100; ++i)
        QVERIFY2(summary.contains(QStringLiteral("\n| q%1 | ").arg(i, 3, 10, QLatin1Char('0'))),
                 qPrintable(QString::number(i)));
}

QTEST_GUILESS_MAIN(tst_MarkdownReport)
// Problem 4 and 11: a VPN client leaving by the clearnet exit was written up as "✅ pass";
// fail and error shared one mark; no summary, no time of the checks, no picture.
void tst_MarkdownReport::summaryFirstAndNoPassNextToALeak()
{
    Snapshot s = demoSnapshot();
    bool leaked = false, errored = false;
    for (CheckResult &r : s.checks) {
        if (r.qube.toString() == QStringLiteral("work-vpn") && r.check == CheckKind::Vpn) {
            r.status = CheckStatus::Fail;
            r.reason = QStringLiteral("leaves by the clearnet exit 203.0.113.7");
            leaked = true;
        }
        if (r.qube.toString() == QStringLiteral("work") && r.check == CheckKind::ExternalIp) {
            r.status = CheckStatus::Error;
            r.externalIp.clear();
            r.reason = QStringLiteral("timed out");
            errored = true;
        }
    }
    QVERIFY(leaked && errored);
    MarkdownOptions options;
    options.picture = QStringLiteral("map.svg");
    const QString md = QString::fromUtf8(exportMarkdown(s, options));
    const qsizetype summary = md.indexOf(QStringLiteral("## Summary"));
    QVERIFY(summary > 0);
    QVERIFY(summary < md.indexOf(QStringLiteral("## Network flow")));
    QVERIFY(md.contains(QStringLiteral("Picture: [map.svg](map.svg)")));
    QVERIFY(md.contains(QStringLiteral("| Qube | Path | Exit | Verdict | Checks ran |")));
    // The failing qube comes first in the summary, as a leak, with when its checks ran.
    const QString firstRow = md.mid(summary).section(u'\n', 6, 6);
    QVERIFY2(firstRow.startsWith(QStringLiteral("| work-vpn | work-vpn → sys-vpn")),
             qPrintable(firstRow));
    QVERIFY2(firstRow.contains(QStringLiteral("❌ fail (leak)")), qPrintable(firstRow));
    QVERIFY2(firstRow.contains(QStringLiteral(" UTC")), qPrintable(firstRow));
    // Its external-IP row is never a plain pass.
    for (const QString &line : md.split(u'\n'))
        if (line.startsWith(QStringLiteral("| External IP — work-vpn |")))
            QVERIFY2(!line.contains(QStringLiteral("✅")), qPrintable(line));
    // "Cannot tell" has its own mark.
    bool errorRow = false;
    for (const QString &line : md.split(u'\n'))
        if (line.startsWith(QStringLiteral("| External IP — work |"))) {
            errorRow = true;
            QVERIFY2(line.contains(QStringLiteral("⚠️ cannot tell")), qPrintable(line));
            QVERIFY2(!line.contains(QStringLiteral("❌")), qPrintable(line));
        }
    QVERIFY(errorRow);
}

// Problem 11: the date was the snapshot's, not when the checks ran; and a failure did not say
// what to do about it.
void tst_MarkdownReport::whenEachCheckRanAndWhatToDo()
{
    Snapshot s = demoSnapshot();
    s.generated = QDateTime(QDate(2026, 12, 1), QTime(9, 0), Qt::UTC);
    bool killSwitch = false;
    for (CheckResult &r : s.checks) {
        // The checks ran days after the qubes were read (a snapshot refreshed later, or loaded).
        r.started = QDateTime(QDate(2026, 12, 5), QTime(22, 10, 3), Qt::UTC);
        r.finished = r.started.addSecs(4);
        if (r.qube.toString() == QStringLiteral("sys-vpn") && r.check == CheckKind::KillSwitch) {
            r.status = CheckStatus::Fail;
            r.reason = QStringLiteral("if the tunnel dies, client traffic leaves in the clear");
            r.finished = QDateTime(QDate(2026, 12, 5), QTime(22, 31, 9), Qt::UTC);
            killSwitch = true;
        }
    }
    QVERIFY(killSwitch);
    const QString md = QString::fromUtf8(exportMarkdown(s));
    QVERIFY2(md.contains(QStringLiteral("qubes read 2026-12-01 09:00 UTC · checks ran "
                                        "2026-12-05 22:10 UTC to 2026-12-05 22:31 UTC")),
             qPrintable(md.left(300)));
    QVERIFY(md.contains(QStringLiteral("| Test | Steps performed | Expected | Result | Ran |")));
    bool row = false;
    for (const QString &line : md.split(u'\n'))
        if (line.startsWith(QStringLiteral("| VPN kill switch — sys-vpn |"))) {
            row = true;
            QVERIFY2(line.endsWith(QStringLiteral("| 2026-12-05 22:31:09 UTC |")),
                     qPrintable(line));
        }
    QVERIFY(row);
    // What to do: the kill-switch lines of the Qubes VPN guide, in a fence, for sys-vpn.
    const qsizetype todo = md.indexOf(QStringLiteral("## What to do"));
    QVERIFY(todo > 0);
    QVERIFY(todo < md.indexOf(QStringLiteral("## Findings")));
    const QString section = md.mid(todo, md.indexOf(QStringLiteral("## Findings")) - todo);
    QVERIFY2(section.contains(QStringLiteral("**VPN kill switch — sys-vpn**: ")),
             qPrintable(section));
    QVERIFY2(section.contains(QStringLiteral("/rw/config/qubes-firewall-user-script")),
             qPrintable(section));
    QVERIFY2(section.contains(QStringLiteral("```text\nnft add rule qubes custom-forward oifname "
                                             "eth0 counter drop\nnft add rule ip6 qubes "
                                             "custom-forward oifname eth0 counter drop\n```")),
             qPrintable(section));
    // A passing check has nothing to do.
    QVERIFY(!section.contains(QStringLiteral("— work**")));
}

#include "tst_markdownreport.moc"
