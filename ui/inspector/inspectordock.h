#pragma once
// InspectorDock: everything known about one qube, in plain text: properties, egress path,
// firewall rules in words, findings and check evidence.

#include "model/finding.h"
#include "model/snapshot.h"
#include "policy/colouring.h"

#include <QDockWidget>

#include <memory>
#include <vector>

class QLabel;
class QListWidget;
class QPlainTextEdit;
class QPushButton;
class QTableWidget;

namespace netmap {

class Topology;

class InspectorDock : public QDockWidget
{
    Q_OBJECT
public:
    explicit InspectorDock(QWidget *parent = nullptr);
    ~InspectorDock() override;

    void setSnapshot(const Snapshot &snapshot);
    // Shows the qube (an empty or unknown name shows the hint instead).
    void showQube(const QString &name);
    const QString &currentQube() const { return m_qube; }
    // Whether firewall rules can be read on request (the live source); shows a "Read" button.
    void setFirewallReadable(bool readable);
    // View ▸ Show update and disposable paths: the inspector lists them for the qube too.
    void setSidePathsShown(bool shown);

    bool hasFirewallRules(const QString &qube) const { return m_snapshot.firewall.contains(qube); }
    void setFirewallPending(const QString &qube);
    void setFirewallRules(const QString &qube, const QList<FirewallRule> &rules);
    void setFirewallError(const QString &qube, const QString &message);

    // "Allow all", "Default drop: ...", said in words.
    static QString firewallSummary(const QList<FirewallRule> &rules);

signals:
    void qubeRequested(const QString &qube); // a hop of the egress path was clicked
    void firewallRequested(const QString &qube);

private:
    void clear();
    void showChecks(const QString &qube);
    void showCheckDetails(int row);

    Snapshot m_snapshot;
    std::unique_ptr<Topology> m_topology;
    Colouring m_colouring;
    std::vector<Finding> m_findings;
    QString m_qube;
    bool m_firewallReadable = false;
    std::vector<CheckResult> m_shownChecks;

    QLabel *m_title = nullptr;
    QLabel *m_hint = nullptr;
    QWidget *m_body = nullptr;
    QHash<QString, QLabel *> m_values;
    QString ipv6Text(const Qube &qube) const;
    QListWidget *m_egress = nullptr;
    QLabel *m_firewallSummary = nullptr;
    QLabel *m_firewallNote = nullptr;
    QPushButton *m_readFirewall = nullptr;
    QTableWidget *m_firewall = nullptr;
    QLabel *m_findingsLabel = nullptr;
    QLabel *m_sideTitle = nullptr;
    QLabel *m_sideLabel = nullptr;
    bool m_sidePathsShown = false;
    QTableWidget *m_checks = nullptr;
    QPlainTextEdit *m_checkDetails = nullptr;
};

} // namespace netmap
