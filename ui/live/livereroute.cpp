// Re-routing a qube: "Connect to" asks with exactly what runs in dom0, applies, and offers Undo
// (Edit menu and status bar), which asks again.
#include "livecontroller.h"
#include "liveprompts_p.h"

#include "actionlog.h"

#include "diagram/diagramscene.h"
#include "diagram/diagramview.h"
#include "diagram/qubeitem.h"
#include "document/networkdocument.h"
#include "droppedflowitem.h"
#include "live/droppedflowsdock.h"
#include "model/untrustedtext.h"

#include <QAbstractButton>
#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QCursor>
#include <QLabel>
#include <QMainWindow>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QStatusBar>
#include <QToolButton>

#include <memory>

namespace netmap {

using namespace liveprompts;

// ---- re-route

void LiveController::requestReroute(const QString &qube, const std::optional<QString> &to)
{
    if (!m_live || m_changer->isBusy())
        return;
    message(tr("Reading the netvm setting of %1…").arg(qube), 4000);
    // Reads `qvm-prefs QUBE` (read-only) to know what Undo must restore; then asks.
    m_changer->prepare(m_document->snapshot(), qube, to);
}

void LiveController::onPrepared(const NetvmChangePlan &plan)
{
    const QString qube = plan.qube.toString();
    const QString question = plan.to ? tr("Connect %1 to %2?").arg(qube, plan.to->toString())
                                     : tr("Disconnect %1 from the network?").arg(qube);
    QString details;
    if (!plan.warning.isEmpty())
        details += tr("Warning: %1\n\n").arg(plan.warning);
    if (plan.start && plan.to)
        details += tr("%1 is not running, and qubesd cannot connect a running qube to a halted "
                      "netvm: it is started first.\n\n")
                       .arg(plan.to->toString());
    details += plan.start ? tr("This runs in dom0:\n\n    %1\n    %2\n\n")
                                .arg(plan.start->display(), plan.apply.display())
                          : tr("This runs in dom0:\n\n    %1\n\n").arg(plan.apply.display());
    details += plan.to
        ? tr("%1 then leaves through %2 (it now uses %3). Results verified on its "
             "old path will show as stale.\n\n")
              .arg(qube, plan.to->toString(), netvmText(plan.from))
        : tr("%1 then has no network (it now uses %2).\n\n").arg(qube, netvmText(plan.from));
    details += tr("Undo (Edit menu or the status bar) runs:\n\n    %1").arg(plan.undo.display());
    if (plan.fromDefault)
        details += tr("\n(back to following the global default netvm)");
    else if (!plan.fromKnown)
        details += tr("\n(qvm-prefs could not say whether %1 was the default)")
                       .arg(netvmText(plan.from));
    QMessageBox box(m_window);
    box.setObjectName(QStringLiteral("rerouteConfirmation"));
    const QString connectLabel = plan.start ? tr("Start and connect") : tr("Connect");
    prepareBox(box, question, details,
               plan.warning.isEmpty() ? (plan.to ? connectLabel : tr("Disconnect"))
                                      : tr("Connect anyway"),
               !plan.warning.isEmpty());
    if (!confirm(box)) {
        message(tr("Nothing was changed."), 4000);
        return;
    }
    message(tr("Running %1…").arg((plan.start ? *plan.start : plan.apply).display()), 4000);
    if (plan.start)
        ActionLog::record(plan.to->toString(), QStringLiteral("start for a re-route (in dom0)"),
                          plan.start->display());
    ActionLog::record(plan.qube.toString(), QStringLiteral("re-route (qvm-prefs in dom0)"),
                      plan.apply.display());
    m_changer->apply(plan);
}

void LiveController::onApplied(const NetvmChangePlan &plan)
{
    setUndo(plan);
    message(tr("%1 now uses %2").arg(plan.qube.toString(), netvmText(plan.to)), 8000);
    m_follower->refreshNow();
    emit rerouted(plan.qube.toString());
}

void LiveController::requestUndo()
{
    if (!m_undo || !m_live || m_changer->isBusy())
        return;
    const NetvmChangePlan plan = *m_undo;
    const QString qube = plan.qube.toString();
    QMessageBox box(m_window);
    box.setObjectName(QStringLiteral("undoConfirmation"));
    prepareBox(box, tr("Undo: connect %1 to %2 again?").arg(qube, netvmText(plan.from)),
               tr("This runs in dom0:\n\n    %1").arg(plan.undo.display()), tr("Undo"), false);
    if (!confirm(box))
        return;
    m_pendingUndoQube = qube;
    ActionLog::record(qube, QStringLiteral("undo re-route (qvm-prefs in dom0)"),
                      plan.undo.display());
    m_changer->undo(plan);
}

void LiveController::onUndone(const NetvmChangePlan &plan)
{
    m_pendingUndoQube.clear();
    setUndo(std::nullopt);
    message(tr("%1 uses %2 again").arg(plan.qube.toString(), netvmText(plan.from)), 8000);
    m_follower->refreshNow();
    emit rerouted(plan.qube.toString());
}

void LiveController::setUndo(const std::optional<NetvmChangePlan> &plan)
{
    m_undo = plan;
    m_undoAction->setEnabled(plan.has_value());
    if (plan) {
        const QString text
            = tr("Undo: %1 back to %2").arg(plan->qube.toString(), netvmText(plan->from));
        m_undoAction->setText(text);
        m_undoButton->setText(text);
        m_undoButton->setToolTip(plan->undo.display().toHtmlEscaped());
        m_undoButton->show();
    } else {
        m_undoAction->setText(tr("&Undo netvm change"));
        m_undoButton->hide();
    }
}

} // namespace netmap
