#include "inspectordock.h"

#include "document/networkdocument.h"

#include "checks/remedy.h"

#include "model/checkindex.h"
#include "model/qubeverdict.h"
#include "model/untrustedtext.h"

#include <algorithm>

#include "diagram/diagramtheme.h"
#include "model/sidepaths.h"
#include "model/topology.h"
#include "policy/expectations.h"
#include "policy/findings.h"

#include <QFormLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QTableWidget>
#include <QVBoxLayout>

namespace netmap {

namespace {

// Every label that may show data from a qube or a file is plain text.
QLabel *plainLabel(QWidget *parent, const QString &text = QString())
{
    auto *label = new QLabel(parent);
    label->setTextFormat(Qt::PlainText);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    label->setWordWrap(true);
    label->setText(text);
    return label;
}

QLabel *sectionLabel(QWidget *parent, const QString &text)
{
    QLabel *label = plainLabel(parent, text);
    QFont font = label->font();
    font.setBold(true);
    label->setFont(font);
    label->setContentsMargins(0, 8, 0, 0);
    return label;
}

QTableWidget *plainTable(QWidget *parent, const QStringList &headers)
{
    auto *table = new QTableWidget(0, int(headers.size()), parent);
    table->setHorizontalHeaderLabels(headers);
    table->verticalHeader()->setVisible(false);
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table->setSelectionBehavior(QAbstractItemView::SelectRows);
    table->setSelectionMode(QAbstractItemView::SingleSelection);
    table->setWordWrap(false);
    table->horizontalHeader()->setStretchLastSection(true);
    table->setSizeAdjustPolicy(QAbstractScrollArea::AdjustToContents);
    table->setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    return table;
}

// One line, at most 160 characters: a cell must never size a column to what a qube printed (the
// details pane below the table holds the whole value).
QString cellText(const QString &untrusted)
{
    return untrustedtext::line(untrusted, 160);
}

void setRow(QTableWidget *table, int row, const QStringList &cells)
{
    for (int c = 0; c < cells.size(); ++c) {
        auto *item = new QTableWidgetItem(cellText(cells[c])); // item text is never interpreted
        table->setItem(row, c, item);
    }
}

bool isUnconditional(const FirewallRule &rule)
{
    return rule.dst4.isEmpty() && rule.dst6.isEmpty() && rule.dsthost.isEmpty()
        && rule.proto.isEmpty() && !rule.hasPorts() && !rule.icmptype
        && rule.specialtarget.isEmpty();
}

QString orNone(const QString &text)
{
    return text.isEmpty() ? QStringLiteral("—") : untrustedtext::line(text, 300);
}

} // namespace

InspectorDock::InspectorDock(NetworkDocument *document, QWidget *parent)
    : QDockWidget(tr("Inspector"), parent)
    , m_document(document ? document : new NetworkDocument(this))
    , m_topology(std::make_unique<Topology>(m_document->snapshot()))
{
    connect(m_document, &NetworkDocument::snapshotReplaced, this,
            &InspectorDock::onDocumentChanged);
    connect(m_document, &NetworkDocument::snapshotUpdated, this, &InspectorDock::onDocumentChanged);
    setObjectName(QStringLiteral("inspectorDock"));
    auto *scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    auto *page = new QWidget(scroll);
    auto *layout = new QVBoxLayout(page);

    m_title = plainLabel(page);
    m_title->setObjectName(QStringLiteral("inspectorTitle"));
    QFont titleFont = m_title->font();
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.35);
    titleFont.setBold(true);
    m_title->setFont(titleFont);
    layout->addWidget(m_title);
    m_hint = plainLabel(page,
                        tr("Click a qube in the diagram to see its path, firewall rules "
                           "and check results."));
    layout->addWidget(m_hint);

    m_body = new QWidget(page);
    auto *body = new QVBoxLayout(m_body);
    body->setContentsMargins(0, 0, 0, 0);
    auto *form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    const QList<std::pair<QString, QString>> fields = {
        {QStringLiteral("class"), tr("Class")},       {QStringLiteral("state"), tr("State")},
        {QStringLiteral("label"), tr("Label")},       {QStringLiteral("template"), tr("Template")},
        {QStringLiteral("netvm"), tr("NetVM")},       {QStringLiteral("ip"), tr("IP")},
        {QStringLiteral("gateway"), tr("Gateway")},   {QStringLiteral("ipv6"), tr("IPv6")},
        {QStringLiteral("exit"), tr("Exit IP")},      {QStringLiteral("exit6"), tr("Exit IPv6")},
        {QStringLiteral("expected"), tr("Expected")}, {QStringLiteral("verdict"), tr("Checks")},
    };
    for (const auto &[key, caption] : fields) {
        QLabel *value = plainLabel(m_body);
        value->setObjectName(QStringLiteral("value.") + key);
        m_values.insert(key, value);
        form->addRow(plainLabel(m_body, caption), value);
    }
    body->addLayout(form);

    body->addWidget(sectionLabel(m_body, tr("Egress path")));
    m_egress = new QListWidget(m_body);
    m_egress->setObjectName(QStringLiteral("egressList"));
    m_egress->setSizeAdjustPolicy(QAbstractScrollArea::AdjustToContents);
    m_egress->setToolTip(tr("Click a hop to inspect it"));
    connect(m_egress, &QListWidget::itemActivated, this, [this](QListWidgetItem *item) {
        const QString name = item->data(Qt::UserRole).toString();
        if (!name.isEmpty())
            emit qubeRequested(name);
    });
    connect(m_egress, &QListWidget::itemClicked, this, [this](QListWidgetItem *item) {
        const QString name = item->data(Qt::UserRole).toString();
        if (!name.isEmpty())
            emit qubeRequested(name);
    });
    body->addWidget(m_egress);

    body->addWidget(sectionLabel(m_body, tr("Firewall")));
    m_firewallSummary = plainLabel(m_body);
    m_firewallSummary->setObjectName(QStringLiteral("firewallSummary"));
    body->addWidget(m_firewallSummary);
    m_firewallNote = plainLabel(m_body);
    m_firewallNote->setObjectName(QStringLiteral("firewallNote"));
    body->addWidget(m_firewallNote);
    m_readFirewall = new QPushButton(tr("Read rules with qvm-firewall"), m_body);
    m_readFirewall->setObjectName(QStringLiteral("readFirewall"));
    connect(m_readFirewall, &QPushButton::clicked, this, [this] {
        if (!m_qube.isEmpty())
            emit firewallRequested(m_qube);
    });
    body->addWidget(m_readFirewall, 0, Qt::AlignLeft);
    m_firewall = plainTable(m_body, {tr("#"), tr("Action"), tr("Rule"), tr("Comment")});
    m_firewall->setObjectName(QStringLiteral("firewallTable"));
    body->addWidget(m_firewall);

    m_sideTitle = sectionLabel(m_body, tr("Updates and disposables"));
    body->addWidget(m_sideTitle);
    m_sideLabel = plainLabel(m_body);
    m_sideLabel->setObjectName(QStringLiteral("sidePaths"));
    body->addWidget(m_sideLabel);
    m_sideTitle->setVisible(false);
    m_sideLabel->setVisible(false);

    body->addWidget(sectionLabel(m_body, tr("Findings")));
    m_findingsLabel = plainLabel(m_body);
    m_findingsLabel->setObjectName(QStringLiteral("findings"));
    body->addWidget(m_findingsLabel);

    body->addWidget(sectionLabel(m_body, tr("Checks")));
    m_checks = plainTable(m_body,
                          {tr("Check"), tr("Status"), tr("Observed"), tr("Expected"), tr("When")});
    m_checks->setObjectName(QStringLiteral("checksTable"));
    connect(m_checks, &QTableWidget::currentCellChanged, this,
            [this](int row, int, int, int) { showCheckDetails(row); });
    body->addWidget(m_checks);
    m_checkDetails = new QPlainTextEdit(m_body); // plain text by construction
    m_checkDetails->setObjectName(QStringLiteral("checkDetails"));
    m_checkDetails->setReadOnly(true);
    m_checkDetails->setMaximumBlockCount(2000);
    m_checkDetails->setPlaceholderText(tr("Select a check to see its evidence"));
    m_checkDetails->setMinimumHeight(90);
    body->addWidget(m_checkDetails);

    layout->addWidget(m_body);
    layout->addStretch(1);
    scroll->setWidget(page);
    setWidget(scroll);
    setMinimumWidth(260);
    clear();
}

InspectorDock::~InspectorDock() = default;

QString InspectorDock::ipv6Text(const Qube &qube) const
{
    // The addresses are validated IPv6 literals; the qube names validated names.
    QStringList parts;
    if (!qube.ip6.isEmpty())
        parts << qube.ip6;
    if (!qube.visibleIp6.isEmpty() && qube.visibleIp6 != qube.ip6)
        parts << tr("visible %1").arg(qube.visibleIp6);
    if (!qube.gateway6.isEmpty())
        parts << tr("gateway %1 for its clients").arg(qube.gateway6);
    QString text = parts.isEmpty() ? tr("off") : parts.join(QStringLiteral(", "));
    bool on = false;
    if (const Qube *source = m_document->snapshot().ipv6FeatureSource(qube.name.toString(), &on))
        text += source->name == qube.name
            ? tr(" (ipv6 feature %1 here)").arg(on ? tr("on") : tr("off"))
            : tr(" (ipv6 feature %1 on %2)")
                  .arg(on ? tr("on") : tr("off"), source->name.toString());
    return text;
}

void InspectorDock::onDocumentChanged()
{
    const Snapshot &snapshot = m_document->snapshot();
    m_readRules.clear();
    m_topology = std::make_unique<Topology>(snapshot);
    m_colouring = colourPaths(snapshot, *m_topology);
    m_findings = computeFindings(snapshot, *m_topology);
    showQube(snapshot.find(m_qube) ? m_qube : QString());
}

bool InspectorDock::hasFirewallRules(const QString &qube) const
{
    return m_document->snapshot().firewall.contains(qube) || m_readRules.contains(qube);
}

void InspectorDock::setSidePathsShown(bool shown)
{
    m_sidePathsShown = shown;
    m_sideTitle->setVisible(shown && !m_qube.isEmpty());
    m_sideLabel->setVisible(shown && !m_qube.isEmpty());
}

void InspectorDock::setFirewallReadable(bool readable)
{
    m_firewallReadable = readable;
    showQube(m_qube);
}

void InspectorDock::clear()
{
    m_qube.clear();
    m_title->setText(tr("No qube selected"));
    m_hint->show();
    m_body->hide();
    m_shownChecks.clear();
}

QString InspectorDock::firewallSummary(const QList<FirewallRule> &rules)
{
    if (rules.isEmpty())
        return tr("Default drop: no rule accepts anything, so this qube cannot connect out.");
    for (int i = 0; i < rules.size(); ++i) {
        if (!rules[i].isReadable())
            return tr("Cannot tell what this qube may reach: rule %1 cannot be read (marked "
                      "below).")
                .arg(i + 1);
        if (!isUnconditional(rules[i]))
            continue;
        const bool accept = rules[i].action == QLatin1String("accept");
        if (accept && i == 0)
            return tr("Allow all: this qube may connect anywhere.");
        if (accept)
            return tr("Allow all, except what the %n rule(s) above the final \"accept\" drop.",
                      nullptr, i);
        return tr("Default drop: only what the rules above accept is allowed; everything else "
                  "is dropped.");
    }
    return tr("Default drop: only what these rules accept is allowed; everything else is "
              "dropped.");
}

void InspectorDock::showQube(const QString &name)
{
    const Qube *qube = name.isEmpty() ? nullptr : m_document->snapshot().find(name);
    if (!qube) {
        clear();
        return;
    }
    m_qube = qube->name.toString();
    m_title->setText(m_qube);
    m_hint->hide();
    m_body->show();

    QString state = qube->state;
    m_values[QStringLiteral("class")]->setText(orNone(qube->klass));
    m_values[QStringLiteral("state")]->setText(orNone(state));
    m_values[QStringLiteral("label")]->setText(
        DiagramTheme::isKnownLabel(qube->label)
            ? qube->label
            : tr("%1 (not a Qubes label)").arg(orNone(qube->label)));
    m_values[QStringLiteral("template")]->setText(qube->templ ? qube->templ->toString()
                                                              : QStringLiteral("—"));
    QString netvm = qube->netvm ? qube->netvm->toString() : tr("none");
    const int index = m_topology->indexOf(m_qube);
    if (index >= 0 && m_topology->isDangling(index))
        netvm += tr(" (no such qube)");
    if (index >= 0 && m_topology->isInLoop(index))
        netvm += tr(" (netvm loop)");
    m_values[QStringLiteral("netvm")]->setText(netvm);
    m_values[QStringLiteral("ip")]->setText(orNone(qube->ip));
    m_values[QStringLiteral("gateway")]->setText(orNone(qube->gateway));
    m_values[QStringLiteral("ipv6")]->setText(ipv6Text(*qube));
    const QString exitIp = m_colouring.qubeExitIp.value(m_qube);
    const QubeVerdict verdict
        = qubeVerdict(CheckIndex(m_document->snapshot()), m_qube, m_topology->egressChain(m_qube));
    QString exitText = tr("not verified");
    for (const ExitInfo &exit : m_colouring.exits)
        if (exit.ip == exitIp)
            exitText = verdict.leak
                ? tr("leaks: leaves by the %1 exit %2 (a check failed)").arg(exit.kind, exit.ip)
                : tr("%1 (%2, verified)").arg(exit.ip, exit.kind);
    if (exitIp.isEmpty() && verdict.leak)
        exitText = tr("leaks: a check failed");
    m_values[QStringLiteral("exit")]->setText(exitText);
    const QString exitIp6 = m_colouring.qubeExitIp6.value(m_qube);
    QString exit6Text = qube->hasIpv6() ? tr("not verified") : tr("none (IPv6 off)");
    if (const ExitInfo *exit6 = m_colouring.exitOf(exitIp6)) {
        exit6Text = tr("%1 (%2, %3, verified)").arg(exitIp6, exit6->ip, exit6->kind);
        const ExitInfo *exit4 = m_colouring.exitOf(exitIp);
        if (m_colouring.familyLeaks.contains(m_qube) && exit4)
            exit6Text = tr("leaks: IPv6 leaves by the %1 exit %2, IPv4 by the %3 exit %4")
                            .arg(exit6->kind, exit6->ip, exit4->kind, exit4->ip);
    }
    m_values[QStringLiteral("exit6")]->setText(exit6Text);
    QString verdictText = verdictMarkWords(verdict.mark);
    if (verdict.newest.isValid())
        verdictText
            += tr(", newest evidence %1")
                   .arg(verdict.newest.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm")));
    if (verdict.killSwitchFailed)
        verdictText += tr("; kill switch failed: traffic leaves when the tunnel is down");
    m_values[QStringLiteral("verdict")]->setText(verdictText);
    const Expectation expected = intendedEgress(m_document->snapshot(), *m_topology, m_qube);
    m_values[QStringLiteral("expected")]->setText(
        expected.why.isEmpty() ? expected.toString()
                               : tr("%1 — %2").arg(expected.toString(), expected.why));

    m_egress->clear();
    const QStringList chain = m_topology->egressChain(m_qube);
    for (int i = 0; i < chain.size(); ++i) {
        const Qube *hop = m_document->snapshot().find(chain[i]);
        QString text = chain[i];
        if (hop && !hop->ip.isEmpty())
            text += QStringLiteral("  ") + hop->ip;
        if (hop && hop->isHalted())
            text += tr("  (halted)");
        auto *item = new QListWidgetItem(QString(i == 0 ? QString() : QStringLiteral("→ ")) + text);
        item->setData(Qt::UserRole, chain[i]);
        m_egress->addItem(item);
    }
    if (qube->providesNetwork || qube->netvm) {
        auto *end = new QListWidgetItem(tr("→ Internet"));
        end->setFlags(Qt::ItemIsEnabled);
        if (!chain.isEmpty() && m_document->snapshot().find(chain.last())
            && m_document->snapshot().find(chain.last())->netvm)
            end->setText(tr("→ (path ends: netvm missing)"));
        m_egress->addItem(end);
    }
    m_egress->setMaximumHeight(m_egress->sizeHintForRow(0) * (m_egress->count() + 1) + 8);

    // Firewall: from the snapshot when it holds the rules, else read on request (live).
    m_firewall->setRowCount(0);
    m_firewallNote->clear();
    m_readFirewall->setVisible(false);
    if (hasFirewallRules(m_qube)) {
        setFirewallRules(m_qube,
                         m_readRules.value(m_qube, m_document->snapshot().firewall.value(m_qube)));
    } else {
        m_firewallSummary->setText(m_firewallReadable ? tr("Not read yet.")
                                                      : tr("Not in this snapshot."));
        m_firewall->hide();
        m_readFirewall->setVisible(m_firewallReadable && qube->name.isRunnable());
    }

    // Where its updates go and where its disposables leave (qube names and policy file
    // positions, already validated; one label of plain text).
    const QStringList side = sidePathLines(m_document->snapshot(), m_qube);
    m_sideLabel->setText(side.isEmpty() ? tr("Nothing to say.") : side.join(QLatin1Char('\n')));
    m_sideTitle->setVisible(m_sidePathsShown);
    m_sideLabel->setVisible(m_sidePathsShown);

    QStringList findings;
    // Failed checks first, in words: a finding list that says "None." above failed checks
    // would read as all clear.
    for (std::size_t i = 0; i < verdict.results.size(); ++i) {
        const CheckResult &r = *verdict.results[i];
        if (verdict.stale[i] || r.status == CheckStatus::Pass)
            continue;
        const QString what = r.status == CheckStatus::Fail ? tr("fail") : tr("cannot tell");
        QString line = tr("%1: %2 check").arg(what, checkKindTitle(r.check));
        if (r.status == CheckStatus::Fail && isLeakCheck(r.check))
            line += tr(" (leak)");
        const QString why = untrustedtext::line(r.reason, 200); // a qube's words, one line
        if (!why.isEmpty())
            line += QStringLiteral(" — ") + why;
        findings << line;
        if (const Remedy remedy = remedyFor(r, m_document->snapshot(), *m_topology);
            !remedy.isEmpty())
            findings << tr("What to do: %1").arg(untrustedtext::block(remedy.toText(), 2000));
    }
    for (const Finding &f : m_findings)
        if (f.qube == m_qube)
            findings << QStringLiteral("%1: %2").arg(severityId(f.severity),
                                                     untrustedtext::line(f.message, 500));
    m_findingsLabel->setText(findings.isEmpty() ? tr("None.") : findings.join(QLatin1Char('\n')));

    showChecks(m_qube);
}

void InspectorDock::setFirewallPending(const QString &qube)
{
    if (qube != m_qube)
        return;
    m_firewallSummary->setText(tr("Reading rules with qvm-firewall…"));
    m_readFirewall->setVisible(false);
}

void InspectorDock::setFirewallRules(const QString &qube, const QList<FirewallRule> &rules)
{
    if (!m_document->snapshot().find(qube))
        return;
    if (!m_document->snapshot().firewall.contains(qube))
        m_readRules.insert(qube, rules);
    if (qube != m_qube)
        return;
    m_readFirewall->setVisible(false);
    m_firewallSummary->setText(firewallSummary(rules));
    const Qube *q = m_document->snapshot().find(qube);
    const Qube *netvm = q && q->netvm ? m_document->snapshot().find(q->netvm->toString()) : nullptr;
    if (q && !q->netvm)
        m_firewallNote->setText(tr("This qube has no netvm, so the rules have no effect."));
    else if (netvm && netvm->looksLikeWhonixGateway())
        m_firewallNote->setText(tr("Enforced by %1, a Whonix gateway, which ignores these rules.")
                                    .arg(netvm->name.toString()));
    else if (netvm)
        m_firewallNote->setText(tr("Enforced by %1.").arg(netvm->name.toString()));
    else
        m_firewallNote->clear();
    m_firewall->setRowCount(int(rules.size()));
    for (int i = 0; i < rules.size(); ++i)
        setRow(m_firewall, i,
               {QString::number(i + 1), rules[i].isReadable() ? rules[i].action : tr("unreadable"),
                rules[i].describe(), rules[i].comment});
    m_firewall->resizeColumnsToContents();
    m_firewall->setVisible(!rules.isEmpty());
}

void InspectorDock::setFirewallError(const QString &qube, const QString &message)
{
    if (qube != m_qube)
        return;
    m_firewallSummary->setText(
        tr("Could not read the rules: %1").arg(untrustedtext::line(message, 300)));
    m_readFirewall->setVisible(m_firewallReadable);
}

void InspectorDock::showChecks(const QString &qube)
{
    m_shownChecks.clear();
    // Newest first.
    for (auto it = m_document->snapshot().checks.rbegin();
         it != m_document->snapshot().checks.rend(); ++it)
        if (it->qube.toString() == qube)
            m_shownChecks.push_back(*it);
    const QStringList chain = m_topology->egressChain(qube);
    m_checks->setRowCount(int(m_shownChecks.size()));
    for (int i = 0; i < int(m_shownChecks.size()); ++i) {
        const CheckResult &r = m_shownChecks[size_t(i)];
        QString status = checkStatusId(r.status);
        if (r.pathAtRun != chain)
            status += tr(" (stale)");
        const QDateTime when = r.finished.isValid() ? r.finished : r.started;
        setRow(m_checks, i,
               {checkKindId(r.check), status, r.observed, r.expected,
                when.isValid() ? when.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm"))
                               : QString()});
    }
    m_checks->resizeColumnsToContents();
    m_checks->setVisible(!m_shownChecks.empty());
    m_checkDetails->setVisible(!m_shownChecks.empty());
    m_checkDetails->clear();
    if (!m_shownChecks.empty()) {
        const QSignalBlocker blocker(m_checks);
        m_checks->setCurrentCell(0, 0);
        showCheckDetails(0);
    }
}

void InspectorDock::showCheckDetails(int row)
{
    if (row < 0 || row >= int(m_shownChecks.size())) {
        m_checkDetails->clear();
        return;
    }
    const CheckResult &r = m_shownChecks[size_t(row)];
    QStringList lines;
    lines << tr("%1: %2").arg(checkKindId(r.check), checkStatusId(r.status));
    if (!r.reason.isEmpty())
        lines << tr("Why: %1").arg(untrustedtext::block(r.reason, 4096));
    if (!r.pathAtRun.isEmpty())
        lines << tr("Path when run: %1").arg(r.pathAtRun.join(QStringLiteral(" → ")));
    if (!r.command.isEmpty())
        lines << tr("Command: %1").arg(untrustedtext::block(r.command));
    if (const Remedy remedy = remedyFor(r, m_document->snapshot(), *m_topology);
        !remedy.isEmpty() && r.pathAtRun == m_topology->egressChain(r.qube.toString()))
        lines << tr("What to do: %1").arg(remedy.toText());
    if (r.exitCode >= 0)
        lines << tr("Exit code: %1").arg(r.exitCode);
    if (!r.output.isEmpty())
        lines << tr("Output:") << untrustedtext::block(r.output);
    m_checkDetails->setPlainText(lines.join(QLatin1Char('\n')));
}

} // namespace netmap
