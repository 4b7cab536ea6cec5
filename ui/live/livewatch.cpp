// Watching a network qube's dropped traffic: the confirmation with every command, the watches,
// the "Dropped traffic" dock and the red arrows on the map.
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

// ---- dropped traffic

bool LiveController::isWatching(const QString &qube) const
{
    const DropWatcher *w = m_watchers.value(qube);
    return w && w->isActive();
}

void LiveController::requestWatch(const QString &qube)
{
    const Qube *q = m_document->snapshot().find(qube);
    if (!m_live || !q || !q->providesNetwork || isWatching(qube))
        return;
    const int seconds = watchSeconds();
    const auto planned = planDropWatch(q->name, seconds, newDropWatchToken());
    if (!planned) {
        message(tr("Cannot watch %1: %2").arg(qube, planned.error().message), 8000);
        return;
    }
    const DropWatchPlan &plan = planned.value();
    const QString details
        = tr("This adds logging rules to the firewall of %1 (as root, with qvm-run) and reads "
             "its kernel log.\n\n"
             "It sees:\n"
             "- new traffic %1 would forward into a qube, which it drops to keep qubes apart "
             "(one qube reaching another, or anything from outside reaching a qube): a rule in "
             "front of \"oifgroup 2 drop\" in table ip qubes, chain forward;\n"
             "- what a qube connected to %1 sends and its own firewall rules (qvm-firewall) "
             "reject, to the internet or to another qube: a rule in front of each reject in the "
             "qube's chain (qbs-10-137-0-12, ...) of table ip qubes-firewall, as the rules are "
             "when the watch starts.\n\n"
             "It does not see: drops by rules added in %1 itself (chain custom-forward, e.g. a "
             "VPN kill switch, or a qubes-firewall-user-script), traffic with an invalid "
             "connection state or a spoofed source address, traffic to %1 itself (chain "
             "input), IPv6, and the firewall rules of a qube that connects or changes them "
             "after the watch started (until it is started again). Each rule logs at most "
             "20 packets a second.\n\n"
             "The rules remove themselves in %1 after %2, even if this program stops; stopping "
             "the watch, quitting or closing the window removes them at once.\n\n"
             "Runs in dom0, one after the other, the commands below.")
              .arg(qube, duration(seconds));
    const QString commands
        = tr("1. Start the rules' removal timer in %1, then add the rules:\n"
             "%2\n\n"
             "2. Follow the kernel log:\n%3\n\n"
             "3. When the watch stops:\n%4")
              .arg(qube, plan.arm.display(), plan.stream.display(), plan.disarm.display());
    QMessageBox box(m_window);
    box.setObjectName(QStringLiteral("watchConfirmation"));
    prepareBox(box, tr("Watch the traffic %1 drops for %2?").arg(qube, duration(seconds)), details,
               tr("Watch"), false);
    // The commands whole, shown from the start, in the box's scrolling details: inline they
    // made the question taller than a laptop screen, its buttons out of reach.
    box.setDetailedText(untrustedtext::block(commands, 12000));
    for (QAbstractButton *button : box.buttons())
        if (box.buttonRole(button) == QMessageBox::ActionRole)
            button->click(); // "Show Details..."
    if (!confirm(box)) {
        message(tr("Nothing was changed."), 4000);
        return;
    }
    auto *watcher = m_watchers.value(qube);
    if (!watcher) {
        watcher = new DropWatcher(this);
        m_watchers.insert(qube, watcher);
        connect(watcher, &DropWatcher::started, this, [this, watcher](const QString &qube) {
            updateWatchStatus();
            m_dock->show();
            m_dock->raise();
            const int rejects = watcher->firewallLogRules();
            message(rejects > 0
                        ? tr("Watching the traffic %1 drops, and what %2 qubes-firewall rule(s) "
                             "reject")
                              .arg(qube)
                              .arg(rejects)
                        : rejects == 0 ? tr("Watching the traffic %1 drops (no qubes-firewall "
                                            "reject rules in it to log)")
                                             .arg(qube)
                                       : tr("Watching the traffic %1 drops; nft refused the "
                                            "logging rules for its qubes-firewall rejects, so "
                                            "those are not shown")
                                             .arg(qube),
                    10000);
            emit watchStarted(qube);
        });
        connect(watcher, &DropWatcher::packetDropped, this, &LiveController::onPacket);
        connect(watcher, &DropWatcher::lineRefused, this, [this](const QString &, const QString &) {
            int refused = 0;
            for (const DropWatcher *w : std::as_const(m_watchers))
                refused += w->refusedLines();
            m_dock->setRefusedCount(refused);
        });
        connect(watcher, &DropWatcher::failed, this,
                [this](const QString &qube, const QString &why) {
                    updateWatchStatus();
                    auto *box = new QMessageBox(QMessageBox::Warning, tr("Qubes Network Map"),
                                                tr("Cannot watch the traffic %1 drops").arg(qube),
                                                QMessageBox::Ok, m_window);
                    box->setAttribute(Qt::WA_DeleteOnClose);
                    box->setTextFormat(Qt::PlainText);
                    box->setInformativeText(untrustedtext::block(why, 4096));
                    makePlain(*box);
                    box->open();
                });
        connect(watcher, &DropWatcher::stopped, this,
                [this](const QString &qube, const QString &why) {
                    updateWatchStatus();
                    message(why.isEmpty()
                                ? tr("Stopped watching %1; its logging rules are removed").arg(qube)
                                : tr("Stopped watching %1: %2").arg(qube, why),
                            10000);
                    emit watchStopped(qube);
                });
    }
    ActionLog::record(plan.qube.toString(),
                      QStringLiteral("drop watch: add logging rules (as root)"),
                      plan.arm.display());
    watcher->start(plan);
    updateWatchStatus();
}

void LiveController::stopWatch(const QString &qube)
{
    if (DropWatcher *w = m_watchers.value(qube))
        w->stop();
}

void LiveController::updateWatchStatus()
{
    QStringList watching;
    for (auto it = m_watchers.cbegin(); it != m_watchers.cend(); ++it) {
        const DropWatcher *w = it.value();
        if (!w->isActive())
            continue;
        switch (w->state()) {
        case DropWatcher::State::Arming:
            watching << tr("adding the logging rules in %1…").arg(it.key());
            break;
        case DropWatcher::State::Watching:
            watching << tr("watching %1 (rules %2, expire by themselves)")
                            .arg(it.key(), w->plan().ruleComment());
            break;
        case DropWatcher::State::Disarming:
            watching << tr("removing the logging rules in %1…").arg(it.key());
            break;
        case DropWatcher::State::Idle:
            break;
        }
    }
    watching.sort();
    m_dock->setWatchStatus(watching.isEmpty() ? tr("Not watching")
                                              : watching.join(QStringLiteral("; ")),
                           !watching.isEmpty());
}

void LiveController::onPacket(const QString &qube, const DroppedPacket &packet)
{
    const DroppedFlow flow
        = mapDroppedFlow(m_document->snapshot(), qube, packet, QDateTime::currentDateTime());
    m_dock->addFlow(flow);
    showFlow(flow);
    emit flowDropped(flow);
}

void LiveController::showFlow(const DroppedFlow &flow)
{
    // Between the two qubes when both are known; otherwise between the known one and the
    // network qube that dropped it.
    QString from = flow.fromQube.isEmpty() ? flow.watchedQube : flow.fromQube;
    QString to = flow.toQube.isEmpty() ? flow.watchedQube : flow.toQube;
    DiagramScene *scene = m_scene;
    QubeItem *a = scene->qubeItem(from);
    QubeItem *b = scene->qubeItem(to);
    if (!a || !b || a == b)
        return;
    const QString key = from + u'>' + to;
    const QString label = flow.packet.rejectedByQubeFirewall
        ? tr("%1 (firewall rules)").arg(flow.packet.describeService())
        : flow.packet.describeService();
    QPointer<DroppedFlowItem> item = m_flows.value(key);
    if (item && item->scene() == scene) {
        item->flash(label);
        return;
    }
    const auto box
        = [](QubeItem *q) { return q->mapRectToScene(q->boundingRect()).adjusted(6, 6, -6, -6); };
    auto *arrow = new DroppedFlowItem(from, to, box(a), box(b), label);
    scene->addItem(arrow); // the scene owns it; a rebuild removes it with everything else
    m_flows.insert(key, arrow);
}

QList<DroppedFlowItem *> LiveController::flowItems() const
{
    QList<DroppedFlowItem *> out;
    for (const auto &p : m_flows)
        if (p && p->scene() == m_scene && p->isVisible())
            out << p.data();
    return out;
}

} // namespace netmap
