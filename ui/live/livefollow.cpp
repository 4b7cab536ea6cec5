// Following changes: View ▸ Follow changes, the status-bar note (what the document says), and a
// followed change put into the document and said in the status bar.
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

// ---- following changes

void LiveController::setFollowing(bool on)
{
    if (m_followAction->isChecked() != on) {
        const QSignalBlocker blocker(m_followAction);
        m_followAction->setChecked(on);
    }
    if (on && m_live) {
        FollowOptions options;
        options.pollIntervalMs = pollIntervalMs();
        const QString socket = qEnvironmentVariable("NETMAP_QUBESD_SOCKET");
        if (!socket.isEmpty())
            options.socketPath = socket;
        m_follower->start(options);
    } else {
        m_follower->stop();
    }
    updateFollowStatus();
}

bool LiveController::isFollowing() const
{
    return m_follower->isActive();
}

QString LiveController::followStatus() const
{
    return m_followLabel->text();
}

void LiveController::updateFollowStatus()
{
    // The document says whether changes are followed; the status-bar note shows what it says.
    m_document->setFollowing(m_live && m_follower->isActive(), m_follower->description());
    showFollowState();
}

void LiveController::showFollowState()
{
    if (!m_document->isLive())
        m_followLabel->clear();
    else if (m_document->isFollowing())
        m_followLabel->setText(m_document->followDescription());
    else
        m_followLabel->setText(tr("not following changes"));
}

void LiveController::onChanged(const Snapshot &snapshot, const SnapshotDiff &diff)
{
    m_document->updateSnapshot(snapshot);
    QStringList parts;
    for (const QString &qube : diff.netvmChanged) {
        const Qube *q = snapshot.find(qube);
        parts << tr("%1 now uses %2").arg(qube, q ? netvmText(q->netvm) : QString());
    }
    if (!diff.added.isEmpty())
        parts << tr("new: %1").arg(diff.added.join(QStringLiteral(", ")));
    if (!diff.removed.isEmpty())
        parts << tr("gone: %1").arg(diff.removed.join(QStringLiteral(", ")));
    if (!diff.otherChanged.isEmpty())
        parts << tr("changed: %1").arg(diff.otherChanged.join(QStringLiteral(", ")));
    if (!parts.isEmpty())
        message(tr("Qubes changed: %1").arg(parts.join(QStringLiteral("; "))), 10000);
}

} // namespace netmap
