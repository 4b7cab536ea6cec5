#pragma once
// Strict parsers for the output of qvm-ls, qvm-prefs/qubes-prefs (qvmparsers.cpp) and
// qvm-firewall (qvmfirewall.cpp).

#include "model/firewallrule.h"
#include "model/qube.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>
#include <vector>

namespace netmap {

// The fields the program asks qvm-ls for, in this order.
QStringList qvmLsFields();
// "--raw-data" "--fields=name,class,..."
QStringList qvmLsArguments();

struct RejectedRow
{
    int line = 0; // 1-based line in the output
    QString reason; // plain words, no raw bytes from the row
};

struct QvmLsParse
{
    std::vector<Qube> qubes; // sorted by name
    std::vector<RejectedRow> rejected;
    std::vector<RejectedRow> notes; // rows loaded with something left out (tags beyond the caps)
    int preloaded = 0; // 4.3 preloaded disposables (is_preload True): left off the map
};

// Parses `qvm-ls --raw-data --fields=<fields>` output: no header, '|'-separated, '-' = no value.
// A bad row is rejected with a reason while the rest loads. Caps: 100,000 rows, 4 KiB a row
// without its tags; tags (no length limit in Qubes) up to 1024 or 64 KiB a qube, the rest left
// out with a note, never the qube.
QvmLsParse parseQvmLs(const QByteArray &untrustedOutput, const QStringList &fields = qvmLsFields());

// A single qvm-prefs / qubes-prefs value: trimmed, empty = none. A qube-valued property must
// be a valid name; returns nullopt and sets *why when the output is not a valid value.
struct PrefsValue
{
    bool isNone = true;
    QString value;
};
std::optional<PrefsValue> parsePrefsQubeValue(const QByteArray &untrustedOutput,
                                              QString *why = nullptr);

struct FirewallParse
{
    QList<FirewallRule> rules; // the rules that could be read
    std::vector<RejectedRow> rejected;
    // Every rule in order, a line that could not be read marked as such (FirewallRule::unreadable)
    // in its place: one bad line never hides the others.
    QList<FirewallRule> listed;
};
// `qvm-firewall QUBE --raw list`: key=value tokens in any order, comment= last with spaces.
// Ports start at 0; dsthost is any [a-z0-9._-] name. "# cannot be read: <reason>" (what a
// snapshot saves for an unreadable rule) is read back as that unreadable rule.
FirewallParse parseFirewall(const QByteArray &untrustedOutput);

} // namespace netmap
