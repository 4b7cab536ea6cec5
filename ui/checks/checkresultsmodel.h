#pragma once
// CheckResultsModel: the newest result of every (qube, check) in a snapshot, as table rows for
// the results dock; a result whose qube's egress path changed since it ran is stale.

#include "model/snapshot.h"

#include <QAbstractTableModel>
#include <QHash>
#include <QSet>

namespace netmap {

class NetworkDocument;

class CheckResultsModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column {
        QubeColumn,
        CheckColumn,
        StatusColumn,
        ObservedColumn,
        ExpectedColumn,
        WhenColumn,
        ColumnCount
    };
    enum Role { SortRole = Qt::UserRole + 1, StaleRole, QubeRole };

    explicit CheckResultsModel(QObject *parent = nullptr);
    // Follows the document: its results (and what makes them stale) as they change.
    explicit CheckResultsModel(NetworkDocument *document, QObject *parent = nullptr);

    // Merges: rows of (qube, check) pairs already shown are updated in place, new ones are
    // appended, pairs the snapshot no longer has are removed.
    void setSnapshot(const Snapshot &snapshot);

    const CheckResult *resultAt(int row) const;
    int rowOf(const QString &qube, CheckKind check) const; // -1 when absent
    bool isStale(int row) const;
    // The egress chain of the qube now (what stale is measured against).
    QStringList currentChain(const QString &qube) const { return m_chains.value(qube); }
    int count(CheckStatus status) const;
    int staleCount() const;

    static QString checkTitle(CheckKind check); // "External IP", "VPN leak", ...
    // "✔ pass", "✘ fail", "⚠ error", "— skipped" (drawn green, red, amber, grey)
    static QString statusText(CheckStatus status);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    struct Row
    {
        CheckResult result;
        bool stale = false;
    };
    static QString keyOf(const QString &qube, CheckKind check);
    bool isMeasuredLeak(const Row &row) const;

    QList<Row> m_rows;
    QHash<QString, QStringList> m_chains; // qube -> egress chain now
    QSet<QString> m_leaking; // qubes with a current failed leak check
};

} // namespace netmap
