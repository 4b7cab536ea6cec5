#pragma once
// ResultsDock: every check result of the document shown (qube, check, status, observed,
// expected, when) in a sortable table; double-click opens the evidence.

#include "io/redaction.h"
#include "model/snapshot.h"

#include <QDockWidget>

#include <functional>
#include <memory>
#include <optional>

class QComboBox;
class QLabel;
class QLineEdit;
class QTableView;

namespace netmap {

class CheckResultsModel;
class EvidenceDialog;
class NetworkDocument;
class ResultsFilterModel;

class ResultsDock : public QDockWidget
{
    Q_OBJECT
public:
    // Shows the document's results and follows them.
    explicit ResultsDock(NetworkDocument *document, QWidget *parent = nullptr);
    // A dock on a document of its own: setSnapshot() fills it.
    explicit ResultsDock(QWidget *parent = nullptr);

    NetworkDocument *document() const { return m_document; }
    // Replaces the document's snapshot (the dock follows, as every other view of it does).
    void setSnapshot(const Snapshot &snapshot);
    CheckResultsModel *model() const { return m_model; }
    QTableView *view() const { return m_view; }
    QString summary() const; // "7 results: 5 ✔ · 1 ✘ · 1 ⚠ · 0 — · 2 stale"

    // Opens the evidence of the result shown in this row of the view (sorted order).
    EvidenceDialog *showEvidence(int viewRow);
    // Where the evidence dialog gets the redaction its Copy and Save apply (none: as shown).
    void setRedactionSource(std::function<std::shared_ptr<const Redaction>()> source)
    {
        m_redactionSource = std::move(source);
    }

    // Filters: by status ("all", "problems", "pass", "fail", "error", "skipped", "stale"),
    // by check (nullopt: all) and by qube name (contains, case-insensitive).
    void setStatusFilter(const QString &status);
    void setCheckFilter(std::optional<CheckKind> check);
    void setQubeFilter(const QString &text);
    int visibleRows() const;
    QComboBox *statusFilter() const { return m_statusBox; }

    // Follows the map: selects (and scrolls to) the qube's first row, or the given check's row.
    // Does not emit qubeClicked. Returns false when no row shows it.
    bool showQube(const QString &qube, std::optional<CheckKind> check = std::nullopt);
    QString selectedQube() const;

signals:
    void qubeClicked(const QString &qube);

private:
    void updateSummary();

    NetworkDocument *m_document = nullptr;
    CheckResultsModel *m_model = nullptr;
    ResultsFilterModel *m_proxy = nullptr;
    QComboBox *m_statusBox = nullptr;
    QComboBox *m_checkBox = nullptr;
    QLineEdit *m_qubeEdit = nullptr;
    bool m_following = false; // selecting a row for the map: no echo back
    QTableView *m_view = nullptr;
    QLabel *m_summary = nullptr;
    std::function<std::shared_ptr<const Redaction>()> m_redactionSource;
};

} // namespace netmap
