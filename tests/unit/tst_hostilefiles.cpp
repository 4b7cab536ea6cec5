// Hostile input files (issue 8, DESIGN.md §6): snapshot files that try to smuggle control
// sequences into the error line, that are huge, deeply nested or of the wrong types, fail with
// one line of plain text and a position, without exhausting the stack or memory.

#include "io/snapshotyaml.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

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

QTEST_GUILESS_MAIN(tst_HostileFiles)
#include "tst_hostilefiles.moc"
