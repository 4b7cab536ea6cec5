#include "resultsdock.h"

#include "checkresultsmodel.h"
#include "evidencedialog.h"

#include <QHeaderView>
#include <QLabel>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

namespace netmap {

ResultsDock::ResultsDock(QWidget *parent)
    : QDockWidget(tr("Check results"), parent)
{
    setObjectName(QStringLiteral("resultsDock"));
    auto *body = new QWidget(this);
    auto *layout = new QVBoxLayout(body);
    layout->setContentsMargins(4, 4, 4, 4);
    m_summary = new QLabel(body);
    m_summary->setObjectName(QStringLiteral("resultsSummary"));
    m_summary->setTextFormat(Qt::PlainText);
    layout->addWidget(m_summary);

    m_model = new CheckResultsModel(this);
    m_proxy = new QSortFilterProxyModel(this);
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(CheckResultsModel::SortRole);
    m_proxy->setSortCaseSensitivity(Qt::CaseInsensitive);
    m_proxy->setDynamicSortFilter(true);

    m_view = new QTableView(body);
    m_view->setObjectName(QStringLiteral("resultsView"));
    m_view->setModel(m_proxy);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(CheckResultsModel::StatusColumn, Qt::AscendingOrder); // failures first
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_view->setAlternatingRowColors(true);
    m_view->setWordWrap(false);
    m_view->setTextElideMode(Qt::ElideRight);
    m_view->verticalHeader()->hide();
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 6);
    QHeaderView *header = m_view->horizontalHeader();
    header->setSectionResizeMode(QHeaderView::Interactive);
    header->setStretchLastSection(false);
    header->setSectionResizeMode(CheckResultsModel::ObservedColumn, QHeaderView::Stretch);
    header->resizeSection(CheckResultsModel::QubeColumn, 120);
    header->resizeSection(CheckResultsModel::CheckColumn, 100);
    header->resizeSection(CheckResultsModel::StatusColumn, 110);
    header->resizeSection(CheckResultsModel::ExpectedColumn, 190);
    header->resizeSection(CheckResultsModel::WhenColumn, 140);
    layout->addWidget(m_view, 1);
    setWidget(body);

    connect(m_view, &QTableView::doubleClicked, this,
            [this](const QModelIndex &index) { showEvidence(index.row()); });
    connect(m_view, &QTableView::clicked, this, [this](const QModelIndex &index) {
        emit qubeClicked(index.data(CheckResultsModel::QubeRole).toString());
    });
    connect(m_model, &QAbstractItemModel::rowsInserted, this, &ResultsDock::updateSummary);
    connect(m_model, &QAbstractItemModel::rowsRemoved, this, &ResultsDock::updateSummary);
    connect(m_model, &QAbstractItemModel::dataChanged, this, &ResultsDock::updateSummary);
    updateSummary();
}

void ResultsDock::setSnapshot(const Snapshot &snapshot)
{
    m_model->setSnapshot(snapshot);
    updateSummary();
}

QString ResultsDock::summary() const
{
    return m_summary->text();
}

void ResultsDock::updateSummary()
{
    const int n = m_model->rowCount();
    if (n == 0) {
        m_summary->setText(tr("No check results yet: right-click a qube, or Verify all (Ctrl+R)."));
        return;
    }
    QString text = tr("%n result(s): ", nullptr, n)
        + QStringLiteral("%1 ✔ · %2 ✘ · %3 ⚠ · %4 —")
              .arg(m_model->count(CheckStatus::Pass))
              .arg(m_model->count(CheckStatus::Fail))
              .arg(m_model->count(CheckStatus::Error))
              .arg(m_model->count(CheckStatus::Skipped));
    if (const int stale = m_model->staleCount())
        text += tr(" · %n stale (the path changed since they ran)", nullptr, stale);
    m_summary->setText(text);
}

EvidenceDialog *ResultsDock::showEvidence(int viewRow)
{
    const QModelIndex source = m_proxy->mapToSource(m_proxy->index(viewRow, 0));
    const CheckResult *result = m_model->resultAt(source.row());
    if (!result)
        return nullptr;
    auto *dialog
        = new EvidenceDialog(*result, m_model->currentChain(result->qube.toString()), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->open();
    return dialog;
}

} // namespace netmap
