#include "droppedflowsdock.h"

#include "model/untrustedtext.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QStandardItemModel>
#include <QTableView>
#include <QVBoxLayout>

namespace netmap {

namespace {

QStandardItem *cell(const QString &text, const QString &tip = {})
{
    // QStandardItem text is shown as plain text; the tool tip would be rich text if it looked so.
    auto *item = new QStandardItem(untrustedtext::line(text, 200));
    item->setEditable(false);
    if (!tip.isEmpty())
        item->setToolTip(untrustedtext::line(tip, 2000).toHtmlEscaped());
    return item;
}

QString endpoint(const QString &qube, const QString &ip)
{
    return qube.isEmpty() ? QStringLiteral("%1 (no qube)").arg(ip) : qube;
}

QString portText(const DroppedPacket &p)
{
    if (p.destinationPort >= 0)
        return QString::number(p.destinationPort);
    if (p.protocol == QLatin1String("ICMP") && p.icmpType >= 0) {
        const QString service = p.describeService();
        return service.mid(5); // "echo-request", "type 3 code 1", ...
    }
    return QStringLiteral("—");
}

// Which of the watch's rules logged it.
QString whyText(const DroppedFlow &flow)
{
    if (!flow.packet.rejectedByQubeFirewall)
        return DroppedFlowsDock::tr("qubes kept apart (no new traffic into a qube)");
    return DroppedFlowsDock::tr("rejected by %1's firewall rules")
        .arg(flow.fromQube.isEmpty() ? flow.packet.source : flow.fromQube);
}

} // namespace

DroppedFlowsDock::DroppedFlowsDock(QWidget *parent)
    : QDockWidget(tr("Dropped traffic"), parent)
{
    setObjectName(QStringLiteral("droppedFlowsDock"));
    auto *body = new QWidget(this);
    auto *layout = new QVBoxLayout(body);
    layout->setContentsMargins(6, 4, 6, 6);
    auto *top = new QHBoxLayout;
    m_status = new QLabel(tr("Not watching"), body);
    m_status->setObjectName(QStringLiteral("watchStatus"));
    m_status->setTextFormat(Qt::PlainText);
    m_status->setWordWrap(true);
    m_counts = new QLabel(body);
    m_counts->setObjectName(QStringLiteral("dropCounts"));
    m_counts->setTextFormat(Qt::PlainText);
    m_stop = new QPushButton(tr("Stop watching"), body);
    m_stop->setObjectName(QStringLiteral("stopWatching"));
    m_stop->setEnabled(false);
    m_clear = new QPushButton(tr("Clear"), body);
    m_clear->setObjectName(QStringLiteral("clearDrops"));
    top->addWidget(m_status, 1);
    top->addWidget(m_counts);
    top->addWidget(m_stop);
    top->addWidget(m_clear);
    layout->addLayout(top);
    // The lines come from the watched qube's kernel log, tagged with this watch's random token;
    // root in that qube can read the token and write such lines too.
    auto *note = new QLabel(tr("Read from the watched qube's own kernel log: these lines are the "
                               "qube's word (root in it can write them). Lines without this "
                               "watch's token are refused and counted."),
                            body);
    note->setObjectName(QStringLiteral("dropLogNote"));
    note->setTextFormat(Qt::PlainText);
    note->setWordWrap(true);
    layout->addWidget(note);

    m_model = new QStandardItemModel(0, ColumnCount, this);
    m_model->setHorizontalHeaderLabels({tr("Time"), tr("From"), tr("To"), tr("Protocol"),
                                        tr("Port"), tr("Dropped in"), tr("Why")});
    m_table = new QTableView(body);
    m_table->setObjectName(QStringLiteral("droppedFlowsTable"));
    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(22);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->setWordWrap(false);
    layout->addWidget(m_table, 1);
    setWidget(body);

    connect(m_stop, &QPushButton::clicked, this, &DroppedFlowsDock::stopRequested);
    connect(m_clear, &QPushButton::clicked, this, &DroppedFlowsDock::clear);
    connect(m_table, &QTableView::activated, this, [this](const QModelIndex &index) {
        const QStandardItem *from = m_model->item(index.row(), From);
        const QStandardItem *to = m_model->item(index.row(), To);
        if (from && to)
            emit flowActivated(from->data(Qt::UserRole).toString(),
                               to->data(Qt::UserRole).toString());
    });
    updateCounts();
}

void DroppedFlowsDock::addFlow(const DroppedFlow &flow)
{
    const DroppedPacket &p = flow.packet;
    auto *from = cell(endpoint(flow.fromQube, p.source), p.source);
    from->setData(flow.fromQube, Qt::UserRole);
    auto *to = cell(endpoint(flow.toQube, p.destination), p.destination);
    to->setData(flow.toQube, Qt::UserRole);
    QList<QStandardItem *> row {
        cell(flow.time.toLocalTime().toString(QStringLiteral("HH:mm:ss"))),
        from,
        to,
        cell(p.protocol),
        cell(portText(p)),
        cell(flow.watchedQube, QStringLiteral("IN=%1 OUT=%2").arg(p.inInterface, p.outInterface)),
        cell(whyText(flow),
             p.rejectedByQubeFirewall
                 ? tr("Logged in front of a reject in table ip qubes-firewall (qvm-firewall)")
                 : tr("Logged in front of \"oifgroup 2 drop\" in table ip qubes, chain forward")),
    };
    m_model->insertRow(0, row); // newest first
    while (m_model->rowCount() > kMaxRows)
        m_model->removeRow(m_model->rowCount() - 1);
    updateCounts();
}

void DroppedFlowsDock::clear()
{
    m_model->removeRows(0, m_model->rowCount());
    updateCounts();
}

int DroppedFlowsDock::rowCount() const
{
    return m_model->rowCount();
}

QString DroppedFlowsDock::cellText(int row, int column) const
{
    const QStandardItem *item = m_model->item(row, column);
    return item ? item->text() : QString();
}

void DroppedFlowsDock::setWatchStatus(const QString &text, bool watching)
{
    m_status->setText(text);
    m_stop->setEnabled(watching);
}

QString DroppedFlowsDock::watchStatus() const
{
    return m_status->text();
}

void DroppedFlowsDock::setRefusedCount(int refused)
{
    m_refused = refused;
    updateCounts();
}

void DroppedFlowsDock::updateCounts()
{
    QString text = tr("%n dropped", nullptr, m_model->rowCount());
    if (m_refused > 0)
        text += tr(" · %n line(s) refused", nullptr, m_refused);
    m_counts->setText(text);
}

} // namespace netmap
