#include "evidencedialog.h"

#include "checkresultsmodel.h"
#include "model/untrustedtext.h"

#include "io/files.h"

#include <QApplication>
#include <QClipboard>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFontDatabase>
#include <QLabel>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace netmap {

namespace {

QString timeText(const QDateTime &t)
{
    return t.isValid() ? t.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz 'UTC'"))
                       : QStringLiteral("-");
}

} // namespace

QString EvidenceDialog::visibleText(const QString &untrusted, int cap)
{
    return untrustedtext::visibleBlock(untrusted, cap);
}

QString EvidenceDialog::evidenceText(const CheckResult &r, const QStringList &currentChain)
{
    const auto v = [](const QString &s) { return visibleText(s, 64 << 10); };
    QStringList lines;
    lines << QStringLiteral("Qube:      %1").arg(r.qube.toString());
    lines << QStringLiteral("Check:     %1 (%2)")
                 .arg(CheckResultsModel::checkTitle(r.check), checkKindId(r.check));
    lines << QStringLiteral("Status:    %1").arg(CheckResultsModel::statusText(r.status));
    if (!r.reason.isEmpty())
        lines << QStringLiteral("Why:       %1").arg(v(r.reason));
    lines << QStringLiteral("Observed:  %1")
                 .arg(r.observed.isEmpty() ? QStringLiteral("-") : v(r.observed));
    lines << QStringLiteral("Expected:  %1")
                 .arg(r.expected.isEmpty() ? QStringLiteral("-") : v(r.expected));
    if (!r.externalIp.isEmpty())
        lines << QStringLiteral("Exit IP:   %1").arg(v(r.externalIp));
    lines << QStringLiteral("Path:      %1")
                 .arg(r.pathAtRun.isEmpty() ? QStringLiteral("-")
                                            : v(r.pathAtRun.join(QStringLiteral(" → "))));
    if (r.pathAtRun != currentChain)
        lines << QStringLiteral("STALE:     the path is now %1; this result predates the change.")
                     .arg(currentChain.isEmpty() ? QStringLiteral("unknown")
                                                 : currentChain.join(QStringLiteral(" → ")));
    lines << QStringLiteral("Started:   %1").arg(timeText(r.started));
    lines << QStringLiteral("Finished:  %1").arg(timeText(r.finished));
    if (r.started.isValid() && r.finished.isValid())
        lines << QStringLiteral("Duration:  %1 s")
                     .arg(double(r.started.msecsTo(r.finished)) / 1000.0, 0, 'f', 3);
    lines << QStringLiteral("Exit:      %1")
                 .arg(r.exitCode >= 0
                          ? QString::number(r.exitCode)
                          : QStringLiteral("none (did not run, timed out or cancelled)"));
    lines << QString() << QStringLiteral("Command:")
          << (r.command.isEmpty() ? QStringLiteral("-") : v(r.command));
    lines << QString() << QStringLiteral("Output (raw, as the qube printed it; untrusted):")
          << (r.output.isEmpty() ? QStringLiteral("-") : visibleText(r.output));
    return lines.join(QLatin1Char('\n'));
}

EvidenceDialog::EvidenceDialog(const CheckResult &result, const QStringList &currentChain,
                               QWidget *parent)
    : QDialog(parent)
    , m_result(result)
    , m_chain(currentChain)
{
    setObjectName(QStringLiteral("evidenceDialog"));
    setWindowTitle(tr("Evidence: %1 · %2")
                       .arg(untrustedtext::line(result.qube.toString(), 64),
                            CheckResultsModel::checkTitle(result.check)));
    auto *layout = new QVBoxLayout(this);
    auto *note = new QLabel(
        tr("Everything below the command was printed by the qube and is shown as plain text."),
        this);
    note->setTextFormat(Qt::PlainText);
    note->setWordWrap(true);
    layout->addWidget(note);
    m_text = new QPlainTextEdit(this); // plain text by construction: never rich text
    m_text->setObjectName(QStringLiteral("evidenceText"));
    m_text->setReadOnly(true);
    m_text->setLineWrapMode(QPlainTextEdit::WidgetWidth); // long reasons stay readable
    m_text->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_text->setPlainText(evidenceText(result, currentChain));
    layout->addWidget(m_text, 1);
    m_redactNote = new QLabel(this);
    m_redactNote->setObjectName(QStringLiteral("redactNote"));
    m_redactNote->setTextFormat(Qt::PlainText);
    m_redactNote->setWordWrap(true);
    m_redactNote->hide();
    layout->addWidget(m_redactNote);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    QPushButton *copy = buttons->addButton(tr("&Copy"), QDialogButtonBox::ActionRole);
    copy->setObjectName(QStringLiteral("copyEvidence"));
    connect(copy, &QPushButton::clicked, this, &EvidenceDialog::copyToClipboard);
    QPushButton *save = buttons->addButton(tr("&Save…"), QDialogButtonBox::ActionRole);
    save->setObjectName(QStringLiteral("saveEvidence"));
    const QString fileName = QStringLiteral("evidence-%1-%2.txt")
                                 .arg(result.qube.toString(), checkKindId(result.check));
    connect(save, &QPushButton::clicked, this, [this, fileName] {
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Save evidence"), QDir::home().filePath(fileName), tr("Text (*.txt)"));
        if (path.isEmpty())
            return;
        if (const Status saved = saveTo(path); !saved) {
            QMessageBox box(QMessageBox::Warning, tr("Evidence"), tr("The evidence was not saved."),
                            QMessageBox::Ok, this);
            box.setTextFormat(Qt::PlainText);
            box.setInformativeText(saved.error().toString());
            box.exec();
        }
    });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
    resize(820, 560);
}

QString EvidenceDialog::text() const
{
    return m_text->toPlainText();
}

void EvidenceDialog::setRedaction(std::shared_ptr<const Redaction> redaction)
{
    m_redaction = redaction && redaction->options().any() ? std::move(redaction) : nullptr;
    m_redactNote->setVisible(bool(m_redaction));
    if (m_redaction)
        m_redactNote->setText(
            tr("Copy and Save write this evidence redacted (%1), as File ▸ Redact for sharing is "
               "set; the window shows it as it is.")
                .arg(m_redaction->options().names && m_redaction->options().ips
                         ? tr("IP addresses and qube names")
                         : m_redaction->options().names ? tr("qube names")
                                                        : tr("IP addresses")));
}

QString EvidenceDialog::sharedText() const
{
    if (!m_redaction)
        return text();
    QStringList chain;
    for (const QString &hop : m_chain)
        chain << m_redaction->name(hop);
    return evidenceText(m_redaction->apply(m_result), chain);
}

void EvidenceDialog::copyToClipboard() const
{
    QApplication::clipboard()->setText(sharedText());
}

Status EvidenceDialog::saveTo(const QString &path) const
{
    return writeFileAtomically(path, sharedText().toUtf8() + '\n');
}

} // namespace netmap
