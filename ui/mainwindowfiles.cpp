// The window's files: opening another source (after asking when results would be lost),
// saving the snapshot, the report and the picture (redacted on request), and comparing with a
// saved snapshot.
#include "mainwindow.h"
#include "mainwindow_p.h"

#include "actionlog.h"
#include "checks/checkcontroller.h"
#include "checks/resultsdock.h"
#include "diagram/diagramscene.h"
#include "diagram/diagramview.h"
#include "diagram/legendpanel.h"
#include "diagram/overviewwidget.h"
#include "diagram/qubeitem.h"
#include "export/diagramexport.h"
#include "formats/jsonexport.h"
#include "formats/markdownreport.h"
#include "formats/snapshotyaml.h"
#include "inspector/inspectordock.h"
#include "io/files.h"
#include "live/livecontroller.h"
#include "model/checkindex.h"
#include "model/qubeverdict.h"
#include "model/snapshotdiff.h"
#include "model/topology.h"
#include "model/untrustedtext.h"
#include "policy/colouring.h"
#include "qubes/livesource.h"
#include "windowparts.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QFrame>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTextStream>
#include <QTimer>
#include <QToolBar>
#include <QVBoxLayout>

namespace netmap {

using namespace windowkeys;

QString MainWindow::comparisonText(const Snapshot &saved, const Snapshot &now)
{
    QStringList lines;
    compare(saved, now, &lines, nullptr);
    if (lines.isEmpty())
        lines << tr("Nothing changed: the same qubes, links, exits and verdicts.");
    return lines.join(QLatin1Char('\n'));
}

QHash<QString, QStringList> MainWindow::comparisonMarks(const Snapshot &saved, const Snapshot &now)
{
    QHash<QString, QStringList> marks;
    compare(saved, now, nullptr, &marks);
    return marks;
}

void MainWindow::compare(const Snapshot &saved, const Snapshot &now, QStringList *lines,
                         QHash<QString, QStringList> *marks)
{
    QStringList ignored;
    QHash<QString, QStringList> unused;
    QStringList &out = lines ? *lines : ignored;
    QHash<QString, QStringList> &mark = marks ? *marks : unused;
    const SnapshotDiff diff = diffSnapshots(saved, now);
    if (!diff.added.isEmpty())
        out << tr("Qubes added: %1").arg(diff.added.join(QStringLiteral(", ")));
    for (const QString &name : diff.added)
        mark[name] << tr("new: not in the compared snapshot");
    if (!diff.removed.isEmpty())
        out << tr("Qubes removed: %1").arg(diff.removed.join(QStringLiteral(", ")));
    const auto netvmOf = [](const Snapshot &s, const QString &name) {
        const Qube *q = s.find(name);
        return q && q->netvm ? q->netvm->toString() : QStringLiteral("(none)");
    };
    for (const QString &name : diff.netvmChanged) {
        out << tr("Moved: %1: %2 → %3").arg(name, netvmOf(saved, name), netvmOf(now, name));
        mark[name] << tr("moved: %1 → %2").arg(netvmOf(saved, name), netvmOf(now, name));
    }
    const Topology savedTopology(saved);
    const Topology nowTopology(now);
    const Colouring before = colourPaths(saved, savedTopology);
    const Colouring after = colourPaths(now, nowTopology);
    const CheckIndex savedChecks(saved);
    const CheckIndex nowChecks(now);
    const auto orNone
        = [](const QString &ip) { return ip.isEmpty() ? QStringLiteral("not verified") : ip; };
    for (const Qube &q : now.qubes) {
        const QString name = q.name.toString();
        if (!saved.find(name))
            continue;
        const QString was = before.qubeExitIp.value(name);
        const QString is = after.qubeExitIp.value(name);
        if (was != is) {
            out << tr("Exit changed: %1: %2 → %3").arg(name, orNone(was), orNone(is));
            mark[name] << tr("exit: %1 → %2").arg(orNone(was), orNone(is));
        }
        const VerdictMark old
            = qubeVerdict(savedChecks, name, savedTopology.egressChain(name)).mark;
        const VerdictMark verdict
            = qubeVerdict(nowChecks, name, nowTopology.egressChain(name)).mark;
        if (old != verdict) {
            out << tr("Verdict changed: %1: %2 → %3")
                       .arg(name, verdictMarkWords(old), verdictMarkWords(verdict));
            mark[name]
                << tr("verdict: %1 → %2").arg(verdictMarkWords(old), verdictMarkWords(verdict));
        }
    }
    // Exits and reasons come from files: one plain line each.
    for (QStringList &changes : mark)
        for (QString &line : changes)
            line = untrustedtext::line(line, 300);
}

QString MainWindow::compareWith(const QString &path)
{
    const Result<Snapshot> loaded = loadSnapshotFile(path);
    if (!loaded) {
        showError(tr("Cannot compare"), loaded.error().toString());
        return QString();
    }
    QString text = tr("Compared with %1").arg(QFileInfo(path).fileName());
    if (loaded.value().generated.isValid())
        text += tr(" (taken %1)")
                    .arg(loaded.value().generated.toLocalTime().toString(
                        QStringLiteral("yyyy-MM-dd HH:mm")));
    text += QStringLiteral(":\n\n") + comparisonText(loaded.value(), m_document->snapshot());
    // Drawn on the map too, until cleared.
    const QHash<QString, QStringList> marks
        = comparisonMarks(loaded.value(), m_document->snapshot());
    m_scene->setComparison(marks);
    m_clearComparisonAction->setEnabled(!marks.isEmpty());
    if (!marks.isEmpty())
        text += tr("\n\nThe %n changed qube(s) are ringed in purple on the map; View ▸ Clear "
                   "comparison marks (Ctrl+Shift+D) removes the rings.",
                   nullptr, int(marks.size()));
    auto *dialog = new QDialog(this);
    dialog->setObjectName(QStringLiteral("compareDialog"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(tr("Compare with snapshot"));
    auto *layout = new QVBoxLayout(dialog);
    auto *view = new QPlainTextEdit(dialog); // plain text: names as read
    view->setObjectName(QStringLiteral("compareText"));
    view->setReadOnly(true);
    view->setPlainText(untrustedtext::block(text, 1 << 20)); // names, exits and reasons as read
    layout->addWidget(view, 1);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, dialog);
    connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::reject);
    layout->addWidget(buttons);
    dialog->resize(640, 420);
    dialog->open();
    return text;
}

bool MainWindow::hasUnsavedResults() const
{
    return m_loaded && m_document->snapshot().checks.size() > m_savedChecks;
}

bool MainWindow::confirmDiscard()
{
    if (!hasUnsavedResults())
        return true;
    if (m_askDiscard)
        return m_askDiscard();
    QMessageBox box(QMessageBox::Question, tr("Qubes Network Map"),
                    tr("The check results have not been saved. Discard them?"),
                    QMessageBox::Discard | QMessageBox::Cancel, this);
    box.setObjectName(QStringLiteral("discardResultsQuestion"));
    box.setInformativeText(tr("File ▸ Save snapshot keeps the map with its results."));
    box.setDefaultButton(QMessageBox::Cancel);
    return box.exec() == QMessageBox::Discard;
}

MainWindow *MainWindow::openSource(const SourceSpec &source)
{
    if (!confirmDiscard())
        return nullptr;
    m_savedChecks = m_document->snapshot().checks.size(); // asked once
    auto *next = new MainWindow(source);
    next->setAttribute(Qt::WA_DeleteOnClose);
    next->m_askDiscard = m_askDiscard;
    // The same owner with the same intent: the next network is judged by it too.
    next->m_checkController->setBaseRequest(m_checkController->baseRequest());
    if (m_document->isIntentGiven())
        next->m_document->setIntent(m_document->intent());
    if (isVisible())
        next->show();
    close();
    return next;
}

void MainWindow::openSnapshotInteractively()
{
    QSettings settings;
    const QString folder = settings.value(kExportFolderKey).toString();
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open snapshot"),
        folder.isEmpty() ? QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation)
                         : folder,
        tr("Snapshot (*.yaml *.yml)"));
    if (path.isEmpty())
        return;
    settings.setValue(kExportFolderKey, QFileInfo(path).absolutePath());
    openSource(SourceSpec {SourceSpec::Kind::File, path});
}

Status MainWindow::saveSnapshotTo(const QString &path)
{
    const Status written = saveSnapshotFile(m_document->snapshot(), path);
    if (!written) {
        showError(tr("The snapshot was not saved"), written.error().toString());
        return written;
    }
    m_savedChecks = m_document->snapshot().checks.size();
    statusBar()->showMessage(tr("Saved %1").arg(QDir::toNativeSeparators(path)), 6000);
    return written;
}

RedactOptions MainWindow::redaction() const
{
    RedactOptions o;
    o.ips = m_redactIpsAction->isChecked();
    o.names = m_redactNamesAction->isChecked();
    return o;
}

void MainWindow::setRedaction(RedactOptions options)
{
    m_redactIpsAction->setChecked(options.ips);
    m_redactNamesAction->setChecked(options.names);
}

Status MainWindow::saveReportTo(const QString &path)
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    const Snapshot shared = redactedSnapshot(m_document->snapshot(), redaction());
    const Status written = suffix == QLatin1String("json")
        ? writeFileAtomically(path, exportJson(shared))
        : writeFileAtomically(path, exportMarkdown(shared));
    if (!written) {
        showError(tr("The report was not saved"), written.error().toString());
        return written;
    }
    statusBar()->showMessage(redaction().any()
                                 ? tr("Saved %1 (redacted)").arg(QDir::toNativeSeparators(path))
                                 : tr("Saved %1").arg(QDir::toNativeSeparators(path)),
                             6000);
    return written;
}

Status MainWindow::exportPictureTo(const QString &path)
{
    const Status written = exportDiagram(redactedSnapshot(m_document->snapshot(), redaction()),
                                         path, m_scene->showTemplates(), m_scene->showSidePaths());
    if (!written) {
        showError(tr("The diagram was not exported"), written.error().toString());
        return written;
    }
    statusBar()->showMessage(redaction().any()
                                 ? tr("Exported %1 (redacted)").arg(QDir::toNativeSeparators(path))
                                 : tr("Exported %1").arg(QDir::toNativeSeparators(path)),
                             6000);
    return written;
}

namespace {

// A save dialog that adds the filter's extension when the name has none of the allowed ones.
QString askSavePath(QWidget *parent, const QString &title, const QString &name,
                    const QStringList &filters, const QStringList &suffixes)
{
    QSettings settings;
    QString folder = settings.value(kExportFolderKey).toString();
    if (folder.isEmpty() || !QDir(folder).exists())
        folder = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
    QString filter = filters.first();
    QString path = QFileDialog::getSaveFileName(parent, title, QDir(folder).filePath(name),
                                                filters.join(QStringLiteral(";;")), &filter);
    if (path.isEmpty())
        return path;
    if (!suffixes.contains(QFileInfo(path).suffix().toLower()))
        path += u'.' + suffixes.value(std::max<qsizetype>(0, filters.indexOf(filter)));
    settings.setValue(kExportFolderKey, QFileInfo(path).absolutePath());
    return path;
}

} // namespace

void MainWindow::saveSnapshotInteractively()
{
    const QString path
        = askSavePath(this, tr("Save snapshot"), QStringLiteral("qubes-netmap.yaml"),
                      {tr("Snapshot (*.yaml)")}, {QStringLiteral("yaml"), QStringLiteral("yml")});
    if (!path.isEmpty())
        static_cast<void>(saveSnapshotTo(path));
}

void MainWindow::saveReportInteractively()
{
    const QString path = askSavePath(this, tr("Save report"), QStringLiteral("qubes-netmap.md"),
                                     {tr("Markdown report (*.md)"), tr("JSON (*.json)")},
                                     {QStringLiteral("md"), QStringLiteral("json")});
    if (!path.isEmpty())
        static_cast<void>(saveReportTo(path));
}

void MainWindow::exportInteractively()
{
    QSettings settings;
    QString folder = settings.value(kExportFolderKey).toString();
    if (folder.isEmpty() || !QDir(folder).exists())
        folder = QStandardPaths::writableLocation(QStandardPaths::PicturesLocation);
    const QString svgFilter = tr("SVG image (*.svg)");
    const QString pngFilter = tr("PNG image (*.png)");
    QString filter = svgFilter;
    QString path = QFileDialog::getSaveFileName(
        this, tr("Export diagram"), QDir(folder).filePath(QStringLiteral("qubes-netmap.svg")),
        svgFilter + QStringLiteral(";;") + pngFilter, &filter);
    if (path.isEmpty())
        return;
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix != QLatin1String("svg") && suffix != QLatin1String("png"))
        path += filter == pngFilter ? QStringLiteral(".png") : QStringLiteral(".svg");
    settings.setValue(kExportFolderKey, QFileInfo(path).absolutePath());
    static_cast<void>(exportPictureTo(path));
}

} // namespace netmap
