#pragma once
// InspectorDock: everything known about one qube, in plain text: properties, egress path,
// firewall rules in words, findings and check evidence. It reads the NetworkDocument and follows
// its changes; it keeps no snapshot of its own.

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

class NetworkDocument;
class Topology;

class InspectorDock : public QDockWidget
{
    Q_OBJECT
public:
    explicit InspectorDock(NetworkDocument *document, QWidget *parent = nullptr);
    ~InspectorDock() override;

    // Shows the qube (an empty or unknown name shows the hint instead).
    void showQube(const QString &name);
    const QString &currentQube() const { return m_qube; }
    // Whether firewall rules can be read on request (the live source); shows a "Read" button.
    void setFirewallReadable(bool readable);
    // View ▸ Show update and disposable paths: the inspector lists them for the qube too.
    void setSidePathsShown(bool shown);

    // Rules the snapshot holds, or that were read on request since it last changed.
    bool hasFirewallRules(const QString &qube) const;
    void setFirewallPending(const QString &qube);
    // Rules read on request (qvm-firewall): shown until the document changes.
    void setFirewallRules(const QString &qube, const QList<FirewallRule> &rules);
    void setFirewallError(const QString &qube, const QString &message);

    // "Allow all", "Default drop: ...", said in words.
    static QString firewallSummary(const QList<FirewallRule> &rules);

signals:
    void qubeRequested(const QString &qube); // a hop of the egress path was clicked
    void firewallRequested(const QString &qube);

private:
    void onDocumentChanged();
    void clear();
    void showChecks(const QString &qube);
    void showCheckDetails(int row);

    NetworkDocument *m_document = nullptr;
    QMap<QString, QList<FirewallRule>> m_readRules; // read on request since the last change
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
