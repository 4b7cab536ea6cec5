#include "checkresultsmodel.h"

#include "document/networkdocument.h"

#include "model/qubeverdict.h"

#include "model/topology.h"
#include "model/untrustedtext.h"

#include <QBrush>
#include <QColor>
#include <QFont>
#include <QSet>

namespace netmap {

namespace {

int statusRank(CheckStatus status)
{
    switch (status) {
    case CheckStatus::Fail:
        return 0;
    case CheckStatus::Error:
        return 1;
    case CheckStatus::Pass:
        return 2;
    case CheckStatus::Skipped:
        return 3;
    }
    return 4;
}

// The marks are coloured text: the emoji ✅/❌ are missing from the fonts of minimal installs.
QColor statusColour(CheckStatus status)
{
    switch (status) {
    case CheckStatus::Pass:
        return QColor(0x1b, 0x7f, 0x3b);
    case CheckStatus::Fail:
        return QColor(0xd6, 0x27, 0x28);
    case CheckStatus::Error:
        return QColor(0xb3, 0x6b, 0x00);
    case CheckStatus::Skipped:
        return QColor(0x62, 0x66, 0x6d);
    }
    return {};
}

QDateTime whenOf(const CheckResult &r)
{
    return r.finished.isValid() ? r.finished : r.started;
}

} // namespace

CheckResultsModel::CheckResultsModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

CheckResultsModel::CheckResultsModel(NetworkDocument *document, QObject *parent)
    : CheckResultsModel(parent)
{
    const auto follow = [this, document] { setSnapshot(document->snapshot()); };
    connect(document, &NetworkDocument::snapshotReplaced, this, follow);
    connect(document, &NetworkDocument::snapshotUpdated, this, follow);
    follow();
}

QString CheckResultsModel::keyOf(const QString &qube, CheckKind check)
{
    return qube + QLatin1Char('/') + checkKindId(check);
}

QString CheckResultsModel::checkTitle(CheckKind check)
{
    switch (check) {
    case CheckKind::ExternalIp:
        return tr("External IP");
    case CheckKind::Vpn:
        return tr("VPN leak");
    case CheckKind::KillSwitch:
        return tr("Kill switch");
    case CheckKind::Tor:
        return tr("Tor");
    case CheckKind::DnsLeak:
        return tr("DNS leak");
    case CheckKind::Isolation:
        return tr("Isolation");
    }
    return QString();
}

QString CheckResultsModel::statusText(CheckStatus status)
{
    switch (status) {
    case CheckStatus::Pass:
        return QStringLiteral("✔ ") + tr("pass");
    case CheckStatus::Fail:
        return QStringLiteral("✘ ") + tr("fail");
    case CheckStatus::Error:
        return QStringLiteral("⚠ ") + tr("error");
    case CheckStatus::Skipped:
        return QStringLiteral("— ") + tr("skipped");
    }
    return QString();
}

void CheckResultsModel::setSnapshot(const Snapshot &snapshot)
{
    const Topology topology(snapshot);
    m_chains.clear();
    for (const Qube &q : snapshot.qubes) {
        const QString name = q.name.toString();
        if (topology.indexOf(name) >= 0)
            m_chains.insert(name, topology.egressChain(name));
    }

    // The newest result per (qube, check), in the order they first arrived.
    QHash<QString, int> newest;
    QList<const CheckResult *> order;
    for (const CheckResult &r : snapshot.checks) {
        const QString key = keyOf(r.qube.toString(), r.check);
        const auto it = newest.constFind(key);
        if (it == newest.cend()) {
            newest.insert(key, int(order.size()));
            order << &r;
        } else {
            order[*it] = &r;
        }
    }

    // Rows that went away, from the bottom up.
    for (int row = int(m_rows.size()) - 1; row >= 0; --row) {
        const CheckResult &r = m_rows[row].result;
        if (!newest.contains(keyOf(r.qube.toString(), r.check))) {
            beginRemoveRows({}, row, row);
            m_rows.removeAt(row);
            endRemoveRows();
        }
    }
    QHash<QString, int> shown;
    for (int row = 0; row < int(m_rows.size()); ++row)
        shown.insert(keyOf(m_rows[row].result.qube.toString(), m_rows[row].result.check), row);

    QList<Row> added;
    for (const CheckResult *r : std::as_const(order)) {
        const QString qube = r->qube.toString();
        Row row {*r, r->pathAtRun != m_chains.value(qube)};
        const auto it = shown.constFind(keyOf(qube, r->check));
        if (it == shown.cend()) {
            added << row;
            continue;
        }
        Row &old = m_rows[*it];
        if (old.result == row.result && old.stale == row.stale)
            continue;
        old = row;
        emit dataChanged(index(*it, 0), index(*it, ColumnCount - 1));
    }
    if (!added.isEmpty()) {
        beginInsertRows({}, int(m_rows.size()), int(m_rows.size() + added.size()) - 1);
        m_rows += added;
        endInsertRows();
    }
    // Qubes with a current leak: their external-IP pass only measured the wrong exit.
    QSet<QString> leaking;
    for (const Row &row : std::as_const(m_rows))
        if (!row.stale && row.result.status == CheckStatus::Fail && isLeakCheck(row.result.check))
            leaking.insert(row.result.qube.toString());
    if (leaking != m_leaking) {
        QList<int> flipped;
        for (int row = 0; row < int(m_rows.size()); ++row)
            if (isMeasuredLeak(m_rows[row]))
                flipped << row;
        m_leaking = leaking;
        for (int row = 0; row < int(m_rows.size()); ++row)
            if (isMeasuredLeak(m_rows[row]) != flipped.contains(row))
                emit dataChanged(index(row, StatusColumn), index(row, StatusColumn));
    }
}

bool CheckResultsModel::isMeasuredLeak(const Row &row) const
{
    return !row.stale && row.result.check == CheckKind::ExternalIp
        && row.result.status == CheckStatus::Pass && m_leaking.contains(row.result.qube.toString());
}

const CheckResult *CheckResultsModel::resultAt(int row) const
{
    if (row < 0 || row >= int(m_rows.size()))
        return nullptr;
    return &m_rows[row].result;
}

int CheckResultsModel::rowOf(const QString &qube, CheckKind check) const
{
    for (int row = 0; row < int(m_rows.size()); ++row)
        if (m_rows[row].result.check == check && m_rows[row].result.qube.toString() == qube)
            return row;
    return -1;
}

bool CheckResultsModel::isStale(int row) const
{
    return row >= 0 && row < int(m_rows.size()) && m_rows[row].stale;
}

int CheckResultsModel::count(CheckStatus status) const
{
    int n = 0;
    for (const Row &row : m_rows)
        if (row.result.status == status)
            ++n;
    return n;
}

int CheckResultsModel::staleCount() const
{
    int n = 0;
    for (const Row &row : m_rows)
        if (row.stale)
            ++n;
    return n;
}

int CheckResultsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int CheckResultsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant CheckResultsModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= int(m_rows.size()))
        return {};
    const Row &row = m_rows[index.row()];
    const CheckResult &r = row.result;
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case QubeColumn:
            return r.qube.toString();
        case CheckColumn:
            return checkTitle(r.check);
        case StatusColumn:
            if (isMeasuredLeak(row))
                return tr("✘ leak");
            return row.stale ? statusText(r.status) + tr(" (stale)") : statusText(r.status);
        case ObservedColumn: {
            // Validated summaries, but still shown as one short line. Why a check could not
            // tell (or was skipped) is said in the row, not only in a tool tip.
            QString text = untrustedtext::line(r.observed, 200);
            if ((r.status == CheckStatus::Error || r.status == CheckStatus::Skipped)
                && !r.reason.isEmpty())
                text = text.isEmpty()
                    ? untrustedtext::line(r.reason, 200)
                    : text + QStringLiteral(" — ") + untrustedtext::line(r.reason, 200);
            return text;
        }
        case ExpectedColumn:
            return untrustedtext::line(r.expected, 200);
        case WhenColumn: {
            const QDateTime when = whenOf(r);
            return when.isValid()
                ? when.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"))
                : QString();
        }
        }
        break;
    case SortRole:
        switch (index.column()) {
        case CheckColumn:
            return int(r.check);
        case StatusColumn:
            return statusRank(isMeasuredLeak(row) ? CheckStatus::Fail : r.status);
        case WhenColumn:
            return whenOf(r);
        default:
            return data(index, Qt::DisplayRole);
        }
    case Qt::ToolTipRole: {
        // Item-view tool tips are rich text when they look like it: escape and force rich mode.
        QString tip = untrustedtext::line(r.reason, 2000).toHtmlEscaped();
        if (row.stale)
            tip += QStringLiteral("<br>") + tr("Stale: the qube's path changed since this ran.");
        return tip.isEmpty() ? QVariant()
                             : QVariant(QStringLiteral("<qt>") + tip + QStringLiteral("</qt>"));
    }
    case Qt::ForegroundRole:
        if (row.stale)
            return QBrush(QColor(0x9e, 0x9e, 0x9e)); // faded, like stale links
        if (index.column() == StatusColumn)
            return QBrush(statusColour(isMeasuredLeak(row) ? CheckStatus::Fail : r.status));
        break;
    case Qt::FontRole:
        if (row.stale) {
            QFont font;
            font.setItalic(true);
            return font;
        }
        break;
    case StaleRole:
        return row.stale;
    case QubeRole:
        return r.qube.toString();
    }
    return {};
}

QVariant CheckResultsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case QubeColumn:
        return tr("Qube");
    case CheckColumn:
        return tr("Check");
    case StatusColumn:
        return tr("Status");
    case ObservedColumn:
        return tr("Observed");
    case ExpectedColumn:
        return tr("Expected");
    case WhenColumn:
        return tr("When");
    }
    return {};
}

} // namespace netmap
