// The untrusted-text module, operation by operation. The sinks that use it (terminal, SVG,
// Markdown, YAML, JSON) are checked with their real consumers in tests/cli/test_sinks.py.

#include "model/untrustedtext.h"

#include <QTest>

using namespace netmap;

class tst_UntrustedText : public QObject
{
    Q_OBJECT

private slots:
    void hidden_data();
    void hidden();
    void line_data();
    void line();
    void lineCap();
    void block_data();
    void block();
    void visibleBlock();
    void fromUtf8_data();
    void fromUtf8();
    void xmlChars();
    void yamlNeedsQuotes_data();
    void yamlNeedsQuotes();
    void markdownFence();
};

void tst_UntrustedText::hidden_data()
{
    QTest::addColumn<uint>("c");
    QTest::addColumn<bool>("hidden");
    QTest::newRow("NUL") << 0u << true;
    QTest::newRow("ESC") << 0x1bu << true;
    QTest::newRow("DEL") << 0x7fu << true;
    QTest::newRow("C1 CSI") << 0x9bu << true;
    QTest::newRow("soft hyphen") << 0xadu << true;
    QTest::newRow("ALM U+061C") << 0x61cu << true;
    QTest::newRow("ZWSP") << 0x200bu << true;
    QTest::newRow("RLM") << 0x200fu << true;
    QTest::newRow("LSEP") << 0x2028u << true;
    QTest::newRow("PSEP") << 0x2029u << true;
    QTest::newRow("RLO") << 0x202eu << true;
    QTest::newRow("RLI") << 0x2067u << true;
    QTest::newRow("BOM") << 0xfeffu << true;
    QTest::newRow("interlinear anchor") << 0xfff9u << true;
    QTest::newRow("tag letter") << 0xe0041u << true;
    QTest::newRow("letter") << uint('a') << false;
    QTest::newRow("space") << 0x20u << false;
    QTest::newRow("arabic letter") << 0x628u << false;
    QTest::newRow("emoji") << 0x1f600u << false;
}

void tst_UntrustedText::hidden()
{
    QFETCH(uint, c);
    QFETCH(bool, hidden);
    QCOMPARE(untrustedtext::isHidden(char32_t(c)), hidden);
}

void tst_UntrustedText::line_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("expected");
    QTest::newRow("plain") << "sys-net 10.0.0.1"
                           << "sys-net 10.0.0.1";
    QTest::newRow("newlines and tabs") << "a\nb\r\nc\td\re"
                                       << "a b c d e";
    QTest::newRow("CSI colour") << "\x1b[1;31mred\x1b[0m"
                                << "red";
    QTest::newRow("erase line up") << "x\x1b[1A\x1b[2Ky"
                                   << "xy";
    QTest::newRow("OSC title BEL") << "\x1b]0;owned\x07text"
                                   << "text";
    QTest::newRow("OSC title ST") << "\x1b]2;owned\x1b\\text"
                                  << "text";
    QTest::newRow("two-char ESC") << "a\x1b"
                                     "cb"
                                  << "ab";
    QTest::newRow("trailing ESC") << "ab\x1b"
                                  << "ab";
    // ESC before half of a pair must not leave the other half alone (found by fuzz_untrustedtext).
    QTest::newRow("ESC before a pair")
        << QString::fromUtf8("a\x1b\U0001F600b") << QString::fromUtf8("a\U0001F600b");
    QTest::newRow("ESC before a control") << QString::fromUtf8("a\x1b\x01"
                                                               "b")
                                          << "ab";
    QTest::newRow("NUL") << QString::fromUtf8("a\0b", 3) << "ab";
    QTest::newRow("C1 CSI") << QString::fromUtf8("a\xc2\x9b"
                                                 "2Jb")
                            << "a2Jb";
    QTest::newRow("bidi override") << QString::fromUtf8("a\u202eb\u202c") << "ab";
    QTest::newRow("RLM, ALM") << QString::fromUtf8("a\u200fb\u061cc") << "abc";
    QTest::newRow("line separator") << QString::fromUtf8("a\u2028b\u2029c") << "a b c";
    QTest::newRow("noncharacter") << QString(QStringLiteral("a") + QChar(0xffff) + u'b')
                                  << QString::fromUtf8("a\uFFFDb");
    QTest::newRow("lone high surrogate")
        << QString(QStringLiteral("a") + QChar(0xd800) + u'b') << QString::fromUtf8("a\uFFFDb");
    QTest::newRow("lone low surrogate") << QString(QChar(0xdc00)) << QString::fromUtf8("\uFFFD");
    QTest::newRow("pair kept") << QString::fromUtf8("a\U0001F600b")
                               << QString::fromUtf8("a\U0001F600b");
    QTest::newRow("tag characters") << QString::fromUtf8("a\U000E0041\U000E0042b") << "ab";
}

void tst_UntrustedText::line()
{
    QFETCH(QString, input);
    QFETCH(QString, expected);
    QCOMPARE(untrustedtext::line(input, 1000), expected);
    QCOMPARE(untrustedtext::terminalLine(input), expected);
    QVERIFY(!untrustedtext::hasHidden(expected) || expected.contains(QChar(0xfffd)));
}

void tst_UntrustedText::lineCap()
{
    const QString big(1 << 20, u'x');
    const QString one = untrustedtext::line(big, 160);
    QCOMPARE(one.size(), 160);
    QVERIFY(one.endsWith(QChar(0x2026)));
    QCOMPARE(untrustedtext::line(QStringLiteral("abc"), 3), QStringLiteral("abc"));
    // Found by fuzz_untrustedtext: a surrogate pair at the cap went out whole past the cap, or
    // was cut in half by the ellipsis. Protection: clean() and line() never split a pair.
    const QString emoji = QString::fromUtf8("\U0001F600\U0001F600\U0001F600");
    for (qsizetype cap = 1; cap <= 7; ++cap) {
        const QString cut = untrustedtext::line(emoji, cap);
        QVERIFY2(cut.size() <= cap, qPrintable(QString::number(cap)));
        QVERIFY(!untrustedtext::hasHidden(cut));
        QCOMPARE(untrustedtext::repaired(cut), cut);
    }
    QCOMPARE(untrustedtext::line(emoji, 6), emoji);
}

void tst_UntrustedText::block_data()
{
    QTest::addColumn<QString>("input");
    QTest::addColumn<QString>("expected");
    QTest::newRow("lines kept") << "a\tb\nc"
                                << "a\tb\nc";
    QTest::newRow("CR LF and lone CR") << "a\r\nb\rc"
                                       << "a\nb\nc";
    QTest::newRow("escapes") << "\x1b[2J\x1b[Hx\x1b]0;t\x07"
                             << "x";
    QTest::newRow("unterminated OSC stops at the line") << "\x1b]0;title\nnext"
                                                        << "\nnext";
    QTest::newRow("line separator") << QString::fromUtf8("a\u2028b") << "a\nb";
}

void tst_UntrustedText::block()
{
    QFETCH(QString, input);
    QFETCH(QString, expected);
    QCOMPARE(untrustedtext::block(input), expected);
    const QString cut = untrustedtext::block(QString(100000, u'x'), 1000);
    QVERIFY(cut.size() < 1100);
    QVERIFY(cut.contains(QStringLiteral("truncated at 1000 characters")));
}

void tst_UntrustedText::visibleBlock()
{
    QCOMPARE(untrustedtext::visibleBlock(QString::fromUtf8("a\x1b[2Jb\u202e\n\tc\x7f")),
             QStringLiteral("a\\x1b[2Jb<U+202E>\n\tc\\x7f"));
    QCOMPARE(untrustedtext::visibleBlock(QString::fromUtf8("\U000E0041")),
             QStringLiteral("<U+E0041>"));
    const QString cut = untrustedtext::visibleBlock(QString(50, u'x'), 10);
    QVERIFY(cut.startsWith(QString(10, u'x') + u'\n'));
    QVERIFY(cut.contains(QStringLiteral("40 more characters")));
}

void tst_UntrustedText::fromUtf8_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QString>("expected");
    QTest::newRow("valid") << QByteArray("a\xc3\xa9") << QString::fromUtf8("a\u00e9");
    QTest::newRow("invalid byte") << QByteArray("a\xff") << QString::fromUtf8("a\uFFFD");
    QTest::newRow("encoded surrogate")
        << QByteArray("a\xed\xa0\x80z") << QString::fromUtf8("a\uFFFD\uFFFD\uFFFDz");
    QTest::newRow("overlong slash") << QByteArray("\xc0\xaf") << QString::fromUtf8("\uFFFD\uFFFD");
    QTest::newRow("noncharacter U+FFFF")
        << QByteArray("\xef\xbf\xbf") << QString::fromUtf8("\uFFFD");
}

void tst_UntrustedText::fromUtf8()
{
    QFETCH(QByteArray, input);
    QFETCH(QString, expected);
    const QString decoded = untrustedtext::fromUtf8(input);
    // The number of U+FFFD per bad sequence is the decoder's business; none may be a surrogate.
    for (QChar c : decoded)
        QVERIFY(!c.isSurrogate());
    QCOMPARE(QString(decoded).remove(QChar(0xfffd)), QString(expected).remove(QChar(0xfffd)));
    QCOMPARE(decoded.contains(QChar(0xfffd)), expected.contains(QChar(0xfffd)));
}

void tst_UntrustedText::xmlChars()
{
    const QString in = QStringLiteral("a") + QChar(0xffff) + QChar(0xfffe) + QChar(0xd800)
        + QStringLiteral("\x01\x1b\t\n\r") + QString::fromUtf8("\U0001F600") + QChar(0xdc00) + u'z';
    QCOMPARE(untrustedtext::xmlChars(in),
             QStringLiteral("a\t\n\r") + QString::fromUtf8("\U0001F600") + u'z');
}

void tst_UntrustedText::yamlNeedsQuotes_data()
{
    QTest::addColumn<QString>("value");
    QTest::addColumn<bool>("quoted");
    for (const char *s :
         {"yes",    "No",   "ON",    "off",        "y",      "n",       "true", "False",
          "null",   "Null", "~",     "",           "1e3",    "0x10",    "012",  "1_000",
          ".inf",   ".NaN", "-.inf", "2026-12-06", "*alias", "&anchor", "!tag", "[a]",
          "{a: 1}", "a: b", "a #c",  "- a",        "é",      "a b",     "'q'",  "\"q\"",
          "@x",     "`x",   "%x",    "|",          ">",      "?x",      "nan",  "inf"})
        QTest::newRow(s[0] ? s : "empty") << QString::fromUtf8(s) << true;
    for (const char *s : {"work", "sys-net", "work.web", "anon_vm", "debian-12-xfce", "yesno",
                          "nono", "online", "Whonix"})
        QTest::newRow(s) << QString::fromUtf8(s) << false;
}

void tst_UntrustedText::yamlNeedsQuotes()
{
    QFETCH(QString, value);
    QFETCH(bool, quoted);
    QCOMPARE(untrustedtext::yamlNeedsQuotes(value), quoted);
}

void tst_UntrustedText::markdownFence()
{
    const QString fence = untrustedtext::markdownFence(QStringLiteral("```\n# x\n\x1b[2J`y`"));
    QVERIFY(fence.startsWith(QStringLiteral("```text\n")));
    QVERIFY(fence.endsWith(QStringLiteral("\n```\n")));
    QCOMPARE(fence.count(u'`'), 6);
    QVERIFY(!fence.contains(QChar(0x1b)));
}

QTEST_GUILESS_MAIN(tst_UntrustedText)
#include "tst_untrustedtext.moc"
