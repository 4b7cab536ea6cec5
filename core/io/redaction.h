#pragma once
// Redaction: a snapshot made fit to share. IP addresses become documentation addresses and,
// when asked, qube names become pseudonyms, the same one for the same original everywhere, so
// every output written from the redacted snapshot (SVG, PNG, JSON, YAML, Markdown, evidence)
// tells the same story without the owner's addresses or names.

#include "model/snapshot.h"

#include <QHash>
#include <QString>
#include <QStringList>

#include <optional>

namespace netmap {

struct RedactOptions
{
    bool ips = false; // every IPv4/IPv6 address but Qubes' own 10.137-10.139 and special ones
    bool names = false; // qube names (dom0 stays dom0)

    bool any() const { return ips || names; }
    // "ips", "names", "ips,names" (or "all"); empty: IP addresses only.
    static std::optional<RedactOptions> fromId(QStringView id, QString *why = nullptr);
    QString id() const; // "ips", "names", "ips,names"
};

class Redaction
{
public:
    // The mapping is decided from this snapshot (in a fixed order): the same snapshot always
    // gives the same mapping.
    Redaction(const Snapshot &snapshot, RedactOptions options);

    RedactOptions options() const { return m_options; }
    // The snapshot with every address and (when asked) name replaced, in every field.
    Snapshot apply(const Snapshot &snapshot) const;
    CheckResult apply(const CheckResult &result) const;
    // Free text: each address and each qube name (as a whole word) replaced.
    QString text(const QString &text) const;
    // A qube name's pseudonym (itself when names are not redacted or it is not known).
    QString name(const QString &name) const;

    // Not redacted: Qubes' internal 10.137.0.0/16, 10.138.0.0/16 (disposables), 10.139.0.0/16
    // (virtual DNS), 0.0.0.0/8, 127.0.0.0/8, 224.0.0.0/3 (multicast, reserved, broadcast and
    // masks such as 255.255.255.0), and for IPv6 :: and ::1.
    static bool keepsAddress(const QString &address);

private:
    QString address(const QString &original) const;
    void collect(const QString &text);

    RedactOptions m_options;
    QHash<QString, QString> m_names; // original -> pseudonym
    QStringList m_seenAddresses; // in the order first seen
    QHash<QString, int> m_originals; // every address the snapshot holds
    mutable QHash<QString, QString> m_addresses; // original -> documentation address
    mutable int m_next4 = 0;
    mutable int m_next6 = 0;
};

// The whole snapshot redacted as options say (unchanged when options.any() is false).
Snapshot redactedSnapshot(const Snapshot &snapshot, RedactOptions options);

} // namespace netmap
