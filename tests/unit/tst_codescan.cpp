// Code scan (docs/ARCHITECTURE.md §6, issue 8): the dom0 program never hands a string to a shell
// and only CommandRunner starts processes. Scans every C++ file of app/, core/ and ui/:
//   - calls: system(), popen(), exec*(), fork(), posix_spawn(), wordexp() nowhere;
//   - QProcess nowhere but core/qubes/commandrunner.*;
//   - string literals: no shell as a program ("sh", "/bin/bash", ...) and no "sh -c" / "bash -c",
//     except in the files listed in qubeScriptFiles (core/checks/checkscripts.cpp,
//     core/live/dropwatcher.cpp), whose literals are the fixed POSIX-sh scripts that run INSIDE a
//     qube (passed to qvm-run as one argument, filled only with validated values).
// Comments are ignored; literals are checked on their own. The scanner is itself tested on
// snippets (scanner_data) so that a broken scanner cannot pass silently.

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QRegularExpression>
#include <QTest>

namespace {

struct Lexed
{
    QString code; // the source with comments removed and every literal replaced by ""
    QStringList literals; // the contents of every string literal, in order
    QList<int> literalLines;
    QList<qsizetype> literalOffsets; // where each literal's "" stands in code
};

// A small C++ lexer: // and /* */ comments, "..." and '...' with escapes, raw strings R"d(...)d"
// with any encoding prefix.
Lexed lex(const QString &src)
{
    Lexed out;
    int line = 1;
    const qsizetype n = src.size();
    qsizetype i = 0;
    auto at = [&](qsizetype k) { return k < n ? src.at(k) : QChar(); };
    while (i < n) {
        const QChar c = src.at(i);
        if (c == u'\n')
            ++line;
        if (c == u'/' && at(i + 1) == u'/') {
            while (i < n && src.at(i) != u'\n')
                ++i;
            continue;
        }
        if (c == u'/' && at(i + 1) == u'*') {
            i += 2;
            while (i < n && !(src.at(i) == u'*' && at(i + 1) == u'/')) {
                if (src.at(i) == u'\n')
                    ++line;
                ++i;
            }
            i += 2;
            out.code += u' ';
            continue;
        }
        if (c == u'R' && at(i + 1) == u'"') {
            const qsizetype open = src.indexOf(u'(', i + 2);
            if (open > 0) {
                const QString delim = u')' + src.mid(i + 2, open - i - 2) + u'"';
                const qsizetype close = src.indexOf(delim, open + 1);
                const qsizetype end = close < 0 ? n : close;
                out.literals << src.mid(open + 1, end - open - 1);
                out.literalLines << line;
                out.literalOffsets << out.code.size();
                line += int(src.mid(i, end - i).count(u'\n'));
                out.code += QStringLiteral("\"\"");
                i = close < 0 ? n : close + delim.size();
                continue;
            }
        }
        if (c == u'"' || c == u'\'') {
            const bool isChar = c == u'\'';
            // A digit separator (1'000'000) is not a character literal.
            if (isChar && i > 0 && src.at(i - 1).isLetterOrNumber() && at(i + 1).isLetterOrNumber()
                && !src.at(i - 1).isLetter()) {
                ++i;
                continue;
            }
            QString text;
            qsizetype k = i + 1;
            while (k < n && src.at(k) != c && src.at(k) != u'\n') {
                if (src.at(k) == u'\\' && k + 1 < n) {
                    text += src.at(k);
                    ++k;
                }
                text += src.at(k);
                ++k;
            }
            if (!isChar) {
                out.literals << text;
                out.literalLines << line;
                out.literalOffsets << out.code.size();
            }
            out.code += isChar ? QStringLiteral("' '") : QStringLiteral("\"\"");
            i = k + 1;
            continue;
        }
        out.code += c;
        ++i;
    }
    return out;
}

int lineOf(const QString &code, qsizetype pos)
{
    return int(code.left(pos).count(u'\n')) + 1;
}

// Problems found in one file; `path` is relative to the source root.
QStringList scan(const QString &path, const QString &source)
{
    static const QRegularExpression forbiddenCall(QStringLiteral(
        R"((?<![\w.>:])(?:std::|::)?(system|popen|execl|execlp|execle|execv|execvp|execvpe|fexecve|fork|vfork|posix_spawnp?|wordexp)\s*\()"));
    static const QRegularExpression qprocess(QStringLiteral(R"(\bQProcess\b)"));
    static const QRegularExpression shellProgram(
        QStringLiteral(R"(^\s*(/usr)?(/s?bin/)?(env\s+)?(ba|da|z|k|c|tc|fi)?sh\s*$)"));
    static const QRegularExpression shellDashC(QStringLiteral(R"(\b(ba|da|z|k)?sh\s+-\w*c\b)"));

    const bool isRunner = path.startsWith(QLatin1String("core/qubes/commandrunner."));
    // Files whose string literals are scripts that run INSIDE a qube (the last argument of
    // qvm-run, filled only with validated values). Adding a file here is a reviewed decision.
    static const QStringList qubeScriptFiles = {QStringLiteral("core/checks/checkscripts.cpp"),
                                                QStringLiteral("core/live/dropwatcher.cpp")};
    const bool isQubeScripts = qubeScriptFiles.contains(path);
    QStringList problems;
    const Lexed lexed = lex(source);
    for (auto it = forbiddenCall.globalMatch(lexed.code); it.hasNext();) {
        const auto m = it.next();
        problems << QStringLiteral("%1:%2: calls %3()")
                        .arg(path)
                        .arg(lineOf(lexed.code, m.capturedStart()))
                        .arg(m.captured(1));
    }
    if (!isRunner) {
        for (auto it = qprocess.globalMatch(lexed.code); it.hasNext();) {
            const auto m = it.next();
            problems << QStringLiteral("%1:%2: uses QProcess outside CommandRunner")
                            .arg(path)
                            .arg(lineOf(lexed.code, m.capturedStart()));
        }
    }
    // A bare shell name is a problem where it is used as a program: in the statement that sets
    // a CommandSpec's program or calls findProgram/start/runBlocking. Elsewhere ("bash" as the
    // name of a tool a qube reported) it is only a word.
    static const QRegularExpression programContext(QStringLiteral(
        R"(\b(program|CommandSpec|findProgram|start|startDetached|runBlocking|execute)\b)"));
    if (!isQubeScripts) {
        for (qsizetype k = 0; k < lexed.literals.size(); ++k) {
            const QString &lit = lexed.literals.at(k);
            bool bad = shellDashC.match(lit).hasMatch();
            if (!bad && shellProgram.match(lit).hasMatch()) {
                const qsizetype at = lexed.literalOffsets.at(k);
                qsizetype from = at;
                while (from > 0 && lexed.code.at(from - 1) != u';'
                       && lexed.code.at(from - 1) != u'}')
                    --from;
                // A path to a shell ("/bin/sh", "/usr/bin/env bash") has no other use.
                bad = lit.contains(u'/')
                    || programContext.match(lexed.code.mid(from, at - from)).hasMatch();
            }
            if (bad)
                problems << QStringLiteral("%1:%2: shell in a string literal: \"%3\"")
                                .arg(path)
                                .arg(lexed.literalLines.at(k))
                                .arg(lit.left(60));
        }
    }
    return problems;
}

QString sourceRoot()
{
    return QDir::cleanPath(QStringLiteral(NETMAP_TEST_DATA "/../.."));
}

} // namespace

class tst_CodeScan : public QObject
{
    Q_OBJECT
private slots:
    void scanner_data();
    void scanner();
    void dom0CodeBuildsNoShellString();
};

void tst_CodeScan::scanner_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("source");
    QTest::addColumn<int>("problems");

    const QString core = QStringLiteral("core/model/x.cpp");
    QTest::newRow("clean") << core << QStringLiteral("int f() { return g(1, \"qvm-ls\"); }") << 0;
    QTest::newRow("system()") << core << QStringLiteral("void f() { system(cmd); }") << 1;
    QTest::newRow("std::system()") << core << QStringLiteral("void f() { std::system(cmd); }") << 1;
    QTest::newRow("popen()") << core << QStringLiteral("FILE *p = ::popen(c, \"r\");") << 1;
    QTest::newRow("execvp()") << core << QStringLiteral("execvp (argv[0], argv);") << 1;
    QTest::newRow("fork()") << core << QStringLiteral("pid_t p = fork();") << 1;
    QTest::newRow("posix_spawnp()")
        << core << QStringLiteral("posix_spawnp(&p, a, 0, 0, v, e);") << 1;
    QTest::newRow("member system() is not libc")
        << core << QStringLiteral("o.system(); p->popen();") << 0;
    QTest::newRow("word containing system")
        << core << QStringLiteral("fileSystem(); subsystem(x);") << 0;
    QTest::newRow("QProcess") << QStringLiteral("ui/mainwindow.cpp")
                              << QStringLiteral("QProcess p;") << 1;
    QTest::newRow("QProcess include")
        << QStringLiteral("app/cli.cpp") << QStringLiteral("#include <QProcess>\n") << 1;
    QTest::newRow("QProcess in the runner") << QStringLiteral("core/qubes/commandrunner.cpp")
                                            << QStringLiteral("QProcess *p = new QProcess;") << 0;
    QTest::newRow("QProcess in a comment")
        << core << QStringLiteral("// only the runner uses QProcess\n/* QProcess */") << 0;
    QTest::newRow("system() in a comment") << core << QStringLiteral("// never system() here") << 0;
    QTest::newRow("system() in a literal")
        << core << QStringLiteral("tr(\"the system(s) are down\");") << 0;
    QTest::newRow("shell as program")
        << core << QStringLiteral("spec.program = QStringLiteral(\"sh\");") << 1;
    QTest::newRow("shell in a CommandSpec")
        << core << QStringLiteral("CommandSpec c {u\"bash\"_s, {}};") << 1;
    QTest::newRow("shell in a CommandSpec, next line")
        << core << QStringLiteral("CommandSpec c {\n    QStringLiteral(\"sh\"), {}};") << 1;
    QTest::newRow("shell via findProgram")
        << core << QStringLiteral("x = CommandRunner::findProgram(QStringLiteral(\"dash\"));") << 1;
    QTest::newRow("shell name as a reported tool")
        << core << QStringLiteral("tools = {QStringLiteral(\"bash\"), QStringLiteral(\"nc\")};")
        << 0;
    QTest::newRow("/bin/bash as program") << core << QStringLiteral("run(u\"/bin/bash\"_s);") << 1;
    QTest::newRow("/usr/bin/env sh") << core << QStringLiteral("p = \"/usr/bin/env sh\";") << 1;
    QTest::newRow("sh -c") << core << QStringLiteral("args << \"sh -c 'qvm-ls'\";") << 1;
    QTest::newRow("bash -lc") << core << QStringLiteral("args << QLatin1String(\"bash -lc x\");")
                              << 1;
    QTest::newRow("raw string sh -c")
        << core << QStringLiteral("auto s = R\"x(sh -c \"y\")x\";") << 1;
    QTest::newRow("escaped quote before sh -c")
        << core << QStringLiteral("f(\"\\\"\", \"sh -c\");") << 1;
    QTest::newRow("shell in qube templates")
        << QStringLiteral("core/checks/checkscripts.cpp")
        << QStringLiteral("R\"(setsid sh -c \"sleep 1\")\"") << 0;
    QTest::newRow("QProcess in qube templates")
        << QStringLiteral("core/checks/checkscripts.cpp") << QStringLiteral("QProcess p;") << 1;
    QTest::newRow("word sh inside text")
        << core << QStringLiteral("tr(\"push the button\"); x(\"ssh\");") << 0;
    QTest::newRow("digit separators")
        << core << QStringLiteral("int n = 1'000'000; system(x);") << 1;
}

void tst_CodeScan::scanner()
{
    QFETCH(QString, path);
    QFETCH(QString, source);
    QFETCH(int, problems);
    const QStringList found = scan(path, source);
    QVERIFY2(found.size() == problems, qPrintable(found.join(QStringLiteral("; "))));
}

// Protection proved by removing it: a QProcess in ui/, a popen() in core/, "sh -c" in app/
// (each added once to a scratch file under the scanned folders) make this test fail.
void tst_CodeScan::dom0CodeBuildsNoShellString()
{
    const QString root = sourceRoot();
    QVERIFY2(QFile::exists(root + QStringLiteral("/core/qubes/commandrunner.cpp")),
             qPrintable(root));
    QStringList problems;
    int files = 0;
    for (const char *folder : {"app", "core", "ui"}) {
        QDirIterator it(root + u'/' + QLatin1String(folder),
                        {QStringLiteral("*.cpp"), QStringLiteral("*.h")}, QDir::Files,
                        QDirIterator::Subdirectories);
        while (it.hasNext()) {
            const QString file = it.next();
            QFile f(file);
            QVERIFY(f.open(QIODevice::ReadOnly));
            problems << scan(QDir(root).relativeFilePath(file), QString::fromUtf8(f.readAll()));
            ++files;
        }
    }
    QVERIFY2(files >= 20, qPrintable(QStringLiteral("only %1 files scanned").arg(files)));
    QVERIFY2(problems.isEmpty(), qPrintable(problems.join(u'\n')));
}

QTEST_GUILESS_MAIN(tst_CodeScan)
#include "tst_codescan.moc"
