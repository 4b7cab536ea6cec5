#include "resultsdock.h"

#include "checkresultsmodel.h"
#include "document/networkdocument.h"
#include "evidencedialog.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

namespace netmap {

// Rows by status, check and qube name; sorting stays the table's.
class ResultsFilterModel : public QSortFilterProxyModel
{
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;
    QString status = QStringLiteral("all");
    std::optional<CheckKind> check;
    QString qube;
    void refilter() { invalidateFilter(); }

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &) const override
    {
        auto *model = static_cast<CheckResultsModel *>(sourceModel());
        const CheckResult *r = model->resultAt(sourceRow);
        if (!r)
            return false;
        if (check && r->check != *check)
            return false;
        if (!qube.isEmpty() && !r->qube.toString().contains(qube, Qt::CaseInsensitive))
            return false;
        const bool stale = model->isStale(sourceRow);
        if (status == QLatin1String("problems"))
            return stale || r->status == CheckStatus::Fail || r->status == CheckStatus::Error;
        if (status == QLatin1String("stale"))
            return stale;
        if (status == QLatin1String("all"))
            return true;
        return !stale && checkStatusId(r->status) == status;
    }
};

ResultsDock::ResultsDock(QWidget *parent)
    : ResultsDock(nullptr, parent)
{
}

ResultsDock::ResultsDock(NetworkDocument *document, QWidget *parent)
    : QDockWidget(tr("Check results"), parent)
    , m_document(document ? document : new NetworkDocument(this))
{
    setObjectName(QStringLiteral("resultsDock"));
    auto *body = new QWidget(this);
    auto *layout = new QVBoxLayout(body);
    layout->setContentsMargins(4, 4, 4, 4);
    m_summary = new QLabel(body);
    m_summary->setObjectName(QStringLiteral("resultsSummary"));
    m_summary->setTextFormat(Qt::PlainText);
    layout->addWidget(m_summary);

    auto *filters = new QHBoxLayout;
    filters->setContentsMargins(0, 0, 0, 0);
    m_statusBox = new QComboBox(body);
    m_statusBox->setObjectName(QStringLiteral("statusFilter"));
    m_statusBox->setAccessibleName(tr("Show results with status"));
    const QList<std::pair<QString, QString>> statuses = {
        {tr("All results"), QStringLiteral("all")},
        {tr("Problems: fail, cannot tell, stale"), QStringLiteral("problems")},
        {tr("Fail"), QStringLiteral("fail")},
        {tr("Cannot tell (error)"), QStringLiteral("error")},
        {tr("Stale"), QStringLiteral("stale")},
        {tr("Pass"), QStringLiteral("pass")},
        {tr("Skipped"), QStringLiteral("skipped")},
    };
    for (const auto &[text, id] : statuses)
        m_statusBox->addItem(text, id);
    m_checkBox = new QComboBox(body);
    m_checkBox->setObjectName(QStringLiteral("checkFilter"));
    m_checkBox->setAccessibleName(tr("Show results of check"));
    m_checkBox->addItem(tr("All checks"), -1);
    for (CheckKind kind : allCheckKinds())
        m_checkBox->addItem(CheckResultsModel::checkTitle(kind), int(kind));
    m_qubeEdit = new QLineEdit(body);
    m_qubeEdit->setObjectName(QStringLiteral("qubeFilter"));
    m_qubeEdit->setPlaceholderText(tr("Filter by qube"));
    m_qubeEdit->setAccessibleName(tr("Filter results by qube"));
    m_qubeEdit->setClearButtonEnabled(true);
    filters->addWidget(m_statusBox);
    filters->addWidget(m_checkBox);
    filters->addWidget(m_qubeEdit, 1);
    layout->addLayout(filters);

    m_model = new CheckResultsModel(m_document, this);
    m_proxy = new ResultsFilterModel(this);
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
    // The keyboard too: moving through the rows shows the row's qube on the map.
    connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex &current) {
                if (!m_following && current.isValid())
                    emit qubeClicked(current.data(CheckResultsModel::QubeRole).toString());
            });
    connect(m_statusBox, &QComboBox::currentIndexChanged, this,
            [this] { setStatusFilter(m_statusBox->currentData().toString()); });
    connect(m_checkBox, &QComboBox::currentIndexChanged, this, [this] {
        const int kind = m_checkBox->currentData().toInt();
        setCheckFilter(kind < 0 ? std::nullopt : std::optional<CheckKind>(CheckKind(kind)));
    });
    connect(m_qubeEdit, &QLineEdit::textChanged, this, &ResultsDock::setQubeFilter);
    connect(m_model, &QAbstractItemModel::rowsInserted, this, &ResultsDock::updateSummary);
    connect(m_model, &QAbstractItemModel::rowsRemoved, this, &ResultsDock::updateSummary);
    connect(m_model, &QAbstractItemModel::dataChanged, this, &ResultsDock::updateSummary);
    connect(m_document, &NetworkDocument::snapshotReplaced, this, &ResultsDock::updateSummary);
    connect(m_document, &NetworkDocument::snapshotUpdated, this, &ResultsDock::updateSummary);
    updateSummary();
}

void ResultsDock::setSnapshot(const Snapshot &snapshot)
{
    m_document->replaceSnapshot(snapshot);
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
    if (m_proxy && m_proxy->rowCount() != n)
        text += tr(" · %1 shown").arg(m_proxy->rowCount());
    m_summary->setText(text);
}

void ResultsDock::setStatusFilter(const QString &status)
{
    m_proxy->status = status;
    m_proxy->refilter();
    const int index = m_statusBox->findData(status);
    if (index >= 0 && index != m_statusBox->currentIndex()) {
        const QSignalBlocker blocker(m_statusBox);
        m_statusBox->setCurrentIndex(index);
    }
    updateSummary();
}

void ResultsDock::setCheckFilter(std::optional<CheckKind> check)
{
    m_proxy->check = check;
    m_proxy->refilter();
    const int index = m_checkBox->findData(check ? int(*check) : -1);
    if (index >= 0 && index != m_checkBox->currentIndex()) {
        const QSignalBlocker blocker(m_checkBox);
        m_checkBox->setCurrentIndex(index);
    }
    updateSummary();
}

void ResultsDock::setQubeFilter(const QString &text)
{
    m_proxy->qube = text.trimmed();
    m_proxy->refilter();
    if (m_qubeEdit->text() != text) {
        const QSignalBlocker blocker(m_qubeEdit);
        m_qubeEdit->setText(text);
    }
    updateSummary();
}

int ResultsDock::visibleRows() const
{
    return m_proxy->rowCount();
}

bool ResultsDock::showQube(const QString &qube, std::optional<CheckKind> check)
{
    int found = -1;
    for (int row = 0; row < m_proxy->rowCount() && found < 0; ++row) {
        const QModelIndex index = m_proxy->index(row, 0);
        const CheckResult *r = m_model->resultAt(m_proxy->mapToSource(index).row());
        if (r && r->qube.toString() == qube && (!check || r->check == *check))
            found = row;
    }
    m_following = true;
    if (found < 0) {
        m_view->clearSelection();
        m_following = false;
        return false;
    }
    const QModelIndex index = m_proxy->index(found, 0);
    m_view->setCurrentIndex(index);
    m_view->selectRow(found);
    m_view->scrollTo(index, QAbstractItemView::EnsureVisible);
    m_following = false;
    return true;
}

QString ResultsDock::selectedQube() const
{
    const QModelIndex current = m_view->currentIndex();
    return current.isValid() && m_view->selectionModel()->isRowSelected(current.row(), {})
        ? current.data(CheckResultsModel::QubeRole).toString()
        : QString();
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
    if (m_redactionSource)
        dialog->setRedaction(m_redactionSource());
    dialog->open();
    return dialog;
}

} // namespace netmap
