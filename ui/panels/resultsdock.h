#pragma once
// ResultsDock: every check result of the snapshot shown (qube, check, status, observed,
// expected, when) in a sortable table; double-click opens the evidence.

#include "model/snapshot.h"

#include <QDockWidget>

class QLabel;
class QSortFilterProxyModel;
class QTableView;

namespace netmap {

class CheckResultsModel;
class EvidenceDialog;

class ResultsDock : public QDockWidget
{
    Q_OBJECT
public:
    explicit ResultsDock(QWidget *parent = nullptr);

    void setSnapshot(const Snapshot &snapshot);
    CheckResultsModel *model() const { return m_model; }
    QTableView *view() const { return m_view; }
    QString summary() const; // "7 results: 5 ✔ · 1 ✘ · 1 ⚠ · 0 — · 2 stale"

    // Opens the evidence of the result shown in this row of the view (sorted order).
    EvidenceDialog *showEvidence(int viewRow);

signals:
    void qubeClicked(const QString &qube);

private:
    void updateSummary();

    CheckResultsModel *m_model = nullptr;
    QSortFilterProxyModel *m_proxy = nullptr;
    QTableView *m_view = nullptr;
    QLabel *m_summary = nullptr;
};

} // namespace netmap
