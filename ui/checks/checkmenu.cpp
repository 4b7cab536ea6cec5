// The checks in a qube's context menu: the entries that apply to it, the notes saying why they
// are off, "Start QUBE and check", and the drill; the names and texts of the entries.
#include "checks/checkcontroller.h"

#include "actionlog.h"

#include "checks/drilldialog.h"
#include "checks/resultsdock.h"
#include "diagram/diagramscene.h"
#include "diagram/diagramview.h"
#include "document/networkdocument.h"
#include "model/topology.h"
#include "model/untrustedtext.h"
#include "policy/inference.h"

#include <QAction>
#include <QLabel>
#include <QMainWindow>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QStatusBar>
#include <QTimer>
#include <QToolBar>

#include <memory>

namespace netmap {

namespace {

const QList<CheckKind> kMenuChecks {CheckKind::ExternalIp, CheckKind::Vpn, CheckKind::Tor,
                                    CheckKind::DnsLeak, CheckKind::Isolation};

} // namespace

QString CheckController::menuText(CheckKind check)
{
    switch (check) {
    case CheckKind::ExternalIp:
        return tr("Check external IP");
    case CheckKind::Vpn:
        return tr("Check VPN leak");
    case CheckKind::KillSwitch:
        return tr("Check kill switch");
    case CheckKind::Tor:
        return tr("Check Tor");
    case CheckKind::DnsLeak:
        return tr("Check DNS leak");
    case CheckKind::Isolation:
        return tr("Check isolation");
    }
    return QString();
}

QString CheckController::actionName(CheckKind check)
{
    switch (check) {
    case CheckKind::ExternalIp:
        return QStringLiteral("checkExternalIp");
    case CheckKind::Vpn:
        return QStringLiteral("checkVpn");
    case CheckKind::KillSwitch:
        return QStringLiteral("checkKillSwitch");
    case CheckKind::Tor:
        return QStringLiteral("checkTor");
    case CheckKind::DnsLeak:
        return QStringLiteral("checkDnsLeak");
    case CheckKind::Isolation:
        return QStringLiteral("checkIsolation");
    }
    return QString();
}

void CheckController::fillQubeMenu(const QString &qube, QMenu *menu)
{
    const Snapshot &s = m_document->snapshot();
    const Qube *q = s.find(qube);
    if (!q || q->isAdmin() || !q->name.isRunnable())
        return;
    menu->addSeparator();
    QString why;
    if (!m_document->checksAllowed(&why)) {
        QAction *note = menu->addAction(why);
        note->setObjectName(QStringLiteral("checksOffNote"));
        note->setEnabled(false);
        return;
    }
    const bool networked = !q->isTemplate() && (q->netvm.has_value() || q->providesNetwork);
    if (!networked) {
        QAction *note = menu->addAction(tr("Checks: %1 has no network").arg(qube));
        note->setObjectName(QStringLiteral("checksUnavailable"));
        note->setEnabled(false);
        return;
    }
    const bool running = isRunning();
    const bool canRun = q->isRunning() && !running;
    const bool vpn = isVpnQube(qube);
    QList<CheckKind> checks = kMenuChecks;
    if (vpn)
        checks << CheckKind::KillSwitch;
    // Only the checks that apply to this qube (a Tor check on a clearnet qube is always
    // skipped): the plan says which, as if the qube were running.
    if (const auto plan = planVerification(s, requestFor({qube}, {}, true))) {
        QList<CheckKind> applicable;
        for (const PlannedCheck &p : *plan)
            if (p.qube == qube && p.skipReason.isEmpty())
                applicable << p.check;
        checks.removeIf([&](CheckKind c) {
            return !applicable.contains(c) && !(c == CheckKind::KillSwitch && vpn);
        });
    }

    if (!q->isRunning()) {
        const QString state = q->state.isEmpty() ? tr("in an unknown state") : q->state.toLower();
        QAction *note
            = menu->addAction(q->isHalted() ? tr("%1 is halted: checks do not start it").arg(qube)
                                            : tr("%1 is %2: checks cannot run").arg(qube, state));
        note->setObjectName(QStringLiteral("notRunningNote"));
        note->setEnabled(false);
    }
    for (CheckKind check : std::as_const(checks)) {
        QAction *action = menu->addAction(menuText(check), this, [this, qube, check] {
            static_cast<void>(verify({qube}, {check}));
        });
        action->setObjectName(actionName(check));
        action->setShortcut(m_keys.value(action->objectName()));
        action->setEnabled(canRun);
    }
    QAction *all = menu->addAction(tr("Run all checks"), this,
                                   [this, qube] { static_cast<void>(verify({qube}, {})); });
    all->setObjectName(QStringLiteral("runAllChecks"));
    all->setShortcut(m_keys.value(all->objectName()));
    all->setEnabled(canRun);

    if (q->isHalted()) {
        // Starting a qube is a change: only when asked for, by name.
        QMenu *start = menu->addMenu(tr("Start %1 and check").arg(qube));
        start->setObjectName(QStringLiteral("startAndCheckMenu"));
        start->menuAction()->setObjectName(QStringLiteral("startAndCheck"));
        // Its key starts the qube and runs all its checks, as the entry at its end does.
        start->menuAction()->setShortcut(m_keys.value(QStringLiteral("runAllChecksAutostart")));
        start->setEnabled(!running);
        for (CheckKind check : std::as_const(checks))
            start
                ->addAction(
                    menuText(check), this,
                    [this, qube, check] { static_cast<void>(verify({qube}, {check}, true)); })
                ->setObjectName(actionName(check) + QStringLiteral("Autostart"));
        start->addSeparator();
        start
            ->addAction(tr("Run all checks"), this,
                        [this, qube] { static_cast<void>(verify({qube}, {}, true)); })
            ->setObjectName(QStringLiteral("runAllChecksAutostart"));
        start->actions().constLast()->setShortcut(
            m_keys.value(QStringLiteral("runAllChecksAutostart")));
    }
    if (vpn) {
        QAction *drill
            = menu->addAction(tr("Kill-switch drill…"), this, [this, qube] { requestDrill(qube); });
        drill->setObjectName(QStringLiteral("killSwitchDrill"));
        drill->setShortcut(m_keys.value(drill->objectName()));
        drill->setEnabled(canRun);
        drill->setStatusTip(tr("Break the tunnel for a moment and see whether traffic still "
                               "leaves (asks first, shows what it runs)"));
    }
    if (running)
        menu->addAction(m_cancelAction);
}

} // namespace netmap
