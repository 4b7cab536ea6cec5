// The Markdown write-up: both tables from evidence, and nothing a qube printed becomes markup.
#include "io/markdownreport.h"
#include "io/snapshotyaml.h"
#include "model/untrustedtext.h"

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
};

void tst_MarkdownReport::demoTables()
{
    const QString md = QString::fromUtf8(exportMarkdown(demoSnapshot()));
    QVERIFY(md.contains(QStringLiteral(
        "## Network flow and egress IP mapping\n\n| Qube | Internal IP | NetVM | External IP |")));
    QVERIFY(md.contains(QStringLiteral(
        "## Security verification tests\n\n| Test | Steps performed | Expected | Result |")));
    QVERIFY(md.contains(QStringLiteral(
        "| work | 10.137.0.15 | sys-firewall | 203.0.113.7 (clearnet) |")));
    QVERIFY(md.contains(QStringLiteral(
        "| work-vpn | 10.137.0.27 | sys-vpn | 198.51.100.23 (vpn) |")));
    QVERIFY(md.contains(QStringLiteral(
        "| whonix | 10.138.38.126 | sys-whonix | 192.0.2.45 (tor) |")));
    QVERIFY(md.contains(QStringLiteral("| Tor — whonix |")));
    QVERIFY(md.contains(QStringLiteral("✅ pass")));
    QVERIFY(md.contains(QStringLiteral("## Findings")));
    // Templates and dom0 are not in the flow table; halted networked qubes are, unverified.
    QVERIFY(!md.contains(QStringLiteral("| dom0 |")));
    QVERIFY(!md.contains(QStringLiteral("| debian-12-xfce |")));
    QVERIFY(md.contains(QStringLiteral(
        "| default-dvm | 10.137.0.9 | sys-firewall | — (not verified) |")));
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
    // Every table row has exactly its four cells (unescaped pipes would add some).
    for (const QString &line : outside) {
        if (!line.startsWith(u'|'))
            continue;
        const int pipes = int(line.count(QRegularExpression(QStringLiteral("(?<!\\\\)\\|"))));
        QVERIFY2(pipes == 5, qPrintable(line));
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
    QVERIFY(md.contains(
        QStringLiteral("| work | 10.137.0.15 | sys-firewall | — (not verified) |")));
    QVERIFY(!md.contains(QStringLiteral("## Evidence")));
}

QTEST_GUILESS_MAIN(tst_MarkdownReport)
#include "tst_markdownreport.moc"
