#include "document/networkdocument.h"

#include <utility>

namespace netmap {

NetworkDocument::NetworkDocument(QObject *parent)
    : QObject(parent)
{
    setObjectName(QStringLiteral("networkDocument"));
}

NetworkDocument::NetworkDocument(const SourceSpec &source, QObject *parent)
    : NetworkDocument(parent)
{
    m_source = source;
}

Snapshot NetworkDocument::withIntent(const Snapshot &snapshot) const
{
    Snapshot judged = snapshot;
    if (m_givenIntent)
        judged.intent = *m_givenIntent;
    return judged;
}

void NetworkDocument::replaceSnapshot(const Snapshot &snapshot)
{
    const bool wasLoaded = std::exchange(m_loaded, true);
    m_snapshot = withIntent(snapshot);
    emit snapshotReplaced();
    if (!wasLoaded)
        emit liveStateChanged(); // checks may now run
}

void NetworkDocument::updateSnapshot(const Snapshot &snapshot)
{
    const bool wasLoaded = std::exchange(m_loaded, true);
    const Snapshot previous = std::exchange(m_snapshot, withIntent(snapshot));
    emit snapshotUpdated(previous);
    if (previous.checks != m_snapshot.checks || previous.tunnels != m_snapshot.tunnels
        || previous.baselines != m_snapshot.baselines)
        emit resultsChanged();
    if (previous.intent != m_snapshot.intent)
        emit intentChanged();
    if (!wasLoaded)
        emit liveStateChanged();
}

void NetworkDocument::addResults(const QList<CheckResult> &results,
                                 const QMap<QString, QStringList> &tunnels,
                                 const std::optional<QList<BaselineRecord>> &baselines)
{
    Snapshot next = m_snapshot;
    for (const CheckResult &r : results)
        next.checks.push_back(r);
    for (auto it = tunnels.cbegin(); it != tunnels.cend(); ++it)
        if (next.find(it.key()))
            next.tunnels.insert(it.key(), it.value());
    if (baselines)
        next.baselines = *baselines;
    updateSnapshot(next);
}

void NetworkDocument::setIntent(const Expectations &intent)
{
    m_givenIntent = intent;
    if (m_snapshot.intent == intent)
        return;
    updateSnapshot(m_snapshot);
}

void NetworkDocument::setFollowing(bool following, const QString &description)
{
    const QString text = following ? description : QString();
    if (m_following == following && m_followDescription == text)
        return;
    m_following = following;
    m_followDescription = text;
    emit liveStateChanged();
}

bool NetworkDocument::checksAllowed(QString *why) const
{
    QString reason;
    switch (m_source.kind) {
    case SourceSpec::Kind::Demo:
        reason = tr("Checks run only on the live system; this is the demo network");
        break;
    case SourceSpec::Kind::File:
        reason = tr("Checks run only on the live system; this is a saved snapshot");
        break;
    case SourceSpec::Kind::Live:
        if (!m_loaded)
            reason = tr("Checks need the qubes read first");
        break;
    }
    if (why)
        *why = reason;
    return reason.isEmpty();
}

} // namespace netmap
