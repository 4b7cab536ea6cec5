#pragma once
// Remedy: what to do about a failed check, in plain words, with the exact commands where Qubes
// documents them (qvm-prefs in dom0, the kill-switch lines of the Qubes VPN guides).

#include "model/checkresult.h"

#include <QString>
#include <QStringList>

namespace netmap {

struct Snapshot;
class Topology;

struct Remedy
{
    QString advice; // one or two sentences; empty: nothing to advise
    QString where; // where the commands run: "in dom0", "in sys-vpn, as root, in ..."
    QStringList commands; // exact lines, each one whole; empty when none is documented

    bool isEmpty() const { return advice.isEmpty(); }
    // advice, then "where:" and the commands indented on their own lines.
    QString toText() const;
};

// Advice for a failed result (empty for pass, skipped and cannot tell). Names come from the
// snapshot, which holds validated names only; nothing a qube printed goes into a command.
Remedy remedyFor(const CheckResult &result, const Snapshot &snapshot, const Topology &topology);

// The kill-switch lines of the Qubes VPN guides, for /rw/config/qubes-firewall-user-script.
QStringList killSwitchLines();

} // namespace netmap
