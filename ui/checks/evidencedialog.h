#pragma once
// EvidenceDialog: the evidence of one check result (command, exit status, times, raw output) as
// plain text in a read-only monospace box; nothing a qube printed is interpreted.

#include "io/redaction.h"
#include "model/checkresult.h"
#include "model/result.h"

#include <QDialog>

#include <memory>

class QLabel;
class QPlainTextEdit;

namespace netmap {

class EvidenceDialog : public QDialog
{
    Q_OBJECT
public:
    // currentChain: the qube's egress chain now (a different pathAtRun makes the result stale).
    EvidenceDialog(const CheckResult &result, const QStringList &currentChain,
                   QWidget *parent = nullptr);

    QString text() const;
    QPlainTextEdit *textEdit() const { return m_text; }
    // Copy puts the whole evidence on the clipboard; Save writes it as a text file (both
    // redacted when a redaction is set: File > Redact for sharing, the report's own mapping).
    void copyToClipboard() const;
    Status saveTo(const QString &path) const;
    void setRedaction(std::shared_ptr<const Redaction> redaction);
    QString sharedText() const; // what Copy and Save write

    // The whole evidence as the dialog shows it.
    static QString evidenceText(const CheckResult &result, const QStringList &currentChain);
    // Untrusted text made visible: control characters as \xNN, bidirectional and invisible
    // formatting characters as <U+XXXX>, so what is shown is what was printed, in order.
    static QString visibleText(const QString &untrusted, int cap = 1 << 20);

private:
    QPlainTextEdit *m_text = nullptr;
    QLabel *m_redactNote = nullptr;
    CheckResult m_result;
    QStringList m_chain;
    std::shared_ptr<const Redaction> m_redaction;
};

} // namespace netmap
