#pragma once
// DroppedFlowsDock: the dropped-traffic log: time, from, to, protocol, port, which network qube
// dropped it and why (the isolation of qubes, or the sender's own firewall rules); a line on
// what is being watched and a button to stop.

#include "live/droplog.h"

#include <QDockWidget>

class QLabel;
class QPushButton;
class QStandardItemModel;
class QTableView;

namespace netmap {

class DroppedFlowsDock : public QDockWidget
{
    Q_OBJECT
public:
    explicit DroppedFlowsDock(QWidget *parent = nullptr);

    static constexpr int kMaxRows = 2000; // the oldest rows go first

    void addFlow(const DroppedFlow &flow);
    void clear();
    int rowCount() const;
    // The text of a cell as shown (plain text), for tests and copying.
    QString cellText(int row, int column) const;
    enum Column { Time, From, To, Protocol, Port, SeenIn, Why, ColumnCount };

    // "Watching sys-firewall until 14:42" or "Not watching"; the Stop button follows.
    void setWatchStatus(const QString &text, bool watching);
    QString watchStatus() const;
    void setRefusedCount(int refused);

    QTableView *table() const { return m_table; }

signals:
    void stopRequested();
    void flowActivated(const QString &from, const QString &to);

private:
    void updateCounts();

    QLabel *m_status = nullptr;
    QLabel *m_counts = nullptr;
    QPushButton *m_stop = nullptr;
    QPushButton *m_clear = nullptr;
    QTableView *m_table = nullptr;
    QStandardItemModel *m_model = nullptr;
    int m_refused = 0;
};

} // namespace netmap
