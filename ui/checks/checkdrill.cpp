// The kill-switch drill from the window: which qubes are VPN qubes, probing for the tunnel first,
// the confirmation that shows exactly what runs, and running only what was shown.
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

bool CheckController::isVpnQube(const QString &qube) const
{
    const Snapshot &s = m_document->snapshot();
    const Qube *q = s.find(qube);
    if (!q || !q->providesNetwork)
        return false;
    if (!s.tunnels.value(qube).isEmpty())
        return true;
    const Topology topology(s);
    return vpnProviderOf(s, topology, qube) == qube;
}

void CheckController::requestDrill(const QString &vpnQube)
{
    QString why;
    if (!m_document->checksAllowed(&why)) {
        message(why);
        return;
    }
    if (m_verifier) {
        message(tr("Wait for the running checks to finish (or cancel them) first"));
        return;
    }
    const Snapshot &s = m_document->snapshot();
    if (!s.tunnels.contains(vpnQube)) {
        // Which tunnel to break is only known once the qube has been looked at.
        if (verify({vpnQube}, {CheckKind::KillSwitch}))
            m_drillAfterProbe = vpnQube;
        m_progressLabel->setText(tr("Looking for the tunnel in %1…").arg(vpnQube));
        return;
    }
    openDrillDialog(vpnQube);
}

void CheckController::openDrillDialog(const QString &vpnQube)
{
    if (m_drillDialog) {
        m_drillDialog->raise();
        m_drillDialog->activateWindow();
        return;
    }
    VerifyRequest request = requestFor({vpnQube}, {CheckKind::KillSwitch}, false);
    request.drill = true;
    const auto plan = planDrill(m_document->snapshot(), request, vpnQube);
    if (!plan) {
        auto *box = new QMessageBox(QMessageBox::Information, tr("Kill-switch drill"),
                                    tr("The kill-switch drill cannot run on %1.").arg(vpnQube),
                                    QMessageBox::Ok, m_window);
        box->setObjectName(QStringLiteral("drillRefused"));
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->setTextFormat(Qt::PlainText);
        box->setInformativeText(untrustedtext::block(plan.error().message, 4096));
        box->open();
        message(tr("Kill-switch drill on %1: %2").arg(vpnQube, plan.error().message));
        return;
    }
    if (!m_document->checksAllowed())
        return;
    m_drillDialog = new DrillDialog(*plan, m_window);
    m_drillDialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(m_drillDialog, &QDialog::accepted, this, [this, shown = *plan] { runDrill(shown); });
    connect(m_drillDialog, &QDialog::rejected, this, [this, vpnQube] {
        message(tr("Kill-switch drill on %1 not run").arg(vpnQube));
        if (!m_drillQueue.isEmpty())
            QTimer::singleShot(0, this, [this] { requestDrill(m_drillQueue.takeFirst()); });
    });
    m_drillDialog->open();
}

void CheckController::runDrill(const DrillPlan &shown)
{
    VerifyRequest request = requestFor({shown.vpnQube}, {CheckKind::KillSwitch}, false);
    request.drill = true;
    // Runs only what was shown: if anything changed since (another tunnel, another qube behind
    // it), ask again with the new commands.
    const auto now = planDrill(m_document->snapshot(), request, shown.vpnQube);
    bool same = now && now->commands.size() == shown.commands.size();
    for (int i = 0; same && i < shown.commands.size(); ++i)
        same = now->commands[i].display() == shown.commands[i].display();
    if (!same) {
        message(tr("The drill on %1 changed since it was shown; asking again").arg(shown.vpnQube));
        QTimer::singleShot(0, this, [this, vpn = shown.vpnQube] { openDrillDialog(vpn); });
        return;
    }
    if (startRun(request)) {
        static const char *const steps[]
            = {"kill-switch drill: break the tunnel (as root)",
               "kill-switch drill: test a client's egress", "kill-switch drill: restore (as root)"};
        for (int i = 0; i < shown.commands.size(); ++i)
            ActionLog::record(i == 1 ? shown.downstreamQube : shown.vpnQube,
                              QString::fromLatin1(steps[std::min(i, 2)]),
                              shown.commands[i].display());
    }
}

} // namespace netmap
