#pragma once
// NetworkDocument: the one model of what the program shows. It owns the snapshot (qubes, links,
// update and disposable routes, firewall rules), the owner's intent (--expect), the check
// results and the live state (where the data comes from, whether changes are followed), and
// says what changed. The scene, the inspector, the results dock, the exports and the
// controllers read it and follow its signals; none of them keeps a copy
// (docs/ARCHITECTURE.md §2).

#include "model/snapshot.h"

#include <QList>
#include <QMap>
#include <QObject>
#include <QString>

#include <optional>

namespace netmap {

// Where the document's snapshot comes from.
struct SourceSpec
{
    enum class Kind { Demo, File, Live } kind = Kind::Demo;
    QString path; // the snapshot file for Kind::File
};

class NetworkDocument : public QObject
{
    Q_OBJECT
public:
    explicit NetworkDocument(QObject *parent = nullptr);
    explicit NetworkDocument(const SourceSpec &source, QObject *parent = nullptr);

    const Snapshot &snapshot() const { return m_snapshot; }
    // Whether a snapshot was ever set (a live source may still be reading, or have failed).
    bool isLoaded() const { return m_loaded; }

    // Another network, or the same one read afresh and laid out again: snapshotReplaced().
    void replaceSnapshot(const Snapshot &snapshot);
    // The same system read again or amended (a followed change, a re-route, new evidence, new
    // intent): snapshotUpdated(previous), then resultsChanged() and intentChanged() for what
    // of those differs. Views update in place where they can.
    void updateSnapshot(const Snapshot &snapshot);
    // Check results arrived: appended to the evidence, with the tunnels the run saw (for qubes
    // still in the snapshot) and the clearnet baselines it compared with (when given).
    void addResults(const QList<CheckResult> &results,
                    const QMap<QString, QStringList> &tunnels = {},
                    const std::optional<QList<BaselineRecord>> &baselines = std::nullopt);
    // The owner's intent (--expect; empty: inferred). The colours, the inspector, the exports
    // and the verdicts all judge by it. Once given it is the document's: every snapshot that
    // comes in afterwards (a refresh, a followed change) is judged by it, not by an intent a
    // file or a reader brought.
    const Expectations &intent() const { return m_snapshot.intent; }
    void setIntent(const Expectations &intent);
    bool isIntentGiven() const { return m_givenIntent.has_value(); }

    // Where the data comes from, and whether changes are followed (live only).
    const SourceSpec &source() const { return m_source; }
    bool isLive() const { return m_source.kind == SourceSpec::Kind::Live; }
    bool isFollowing() const { return m_following; }
    // How changes are followed, in words ("following changes (qubesd events)"); empty when not.
    const QString &followDescription() const { return m_followDescription; }
    void setFollowing(bool following, const QString &description = QString());

    // Checks, Verify all and the drill run only on the live system once it was read: on the
    // demo or a snapshot they would run in local qubes that merely share a name. *why says it.
    bool checksAllowed(QString *why = nullptr) const;

signals:
    void snapshotReplaced();
    void snapshotUpdated(const netmap::Snapshot &previous);
    void resultsChanged();
    void intentChanged();
    void liveStateChanged();

private:
    Snapshot withIntent(const Snapshot &snapshot) const;

    Snapshot m_snapshot;
    std::optional<Expectations> m_givenIntent;
    SourceSpec m_source;
    bool m_loaded = false;
    bool m_following = false;
    QString m_followDescription;
};

} // namespace netmap
