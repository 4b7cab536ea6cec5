#pragma once
// Side paths: where templates' updates go and where disposables leave, drawn on request next to
// the NetVM links (View ▸ Show update and disposable paths).

#include "snapshot.h"

#include <QString>
#include <QStringList>

#include <vector>

namespace netmap {

struct SidePath
{
    enum class Kind {
        Updates, // a template -> the qube its updates go through (qubes.UpdatesProxy)
        Disposables, // a qube -> the netvm its disposables use, where that is not its own
    };
    Kind kind = Kind::Updates;
    QString from;
    QString to;
    QString text; // one line, in words

    friend bool operator==(const SidePath &, const SidePath &) = default;
};

// Every side path of the snapshot: templates with a proxy route, and qubes whose disposables
// leave by another netvm than theirs (or have network where the qube has none). Sorted by kind,
// then from.
std::vector<SidePath> sidePaths(const Snapshot &snapshot);

// What the inspector lists for one qube: its updates route (templates), where its disposables
// leave, and the templates whose updates it carries. Empty when there is nothing to say.
QStringList sidePathLines(const Snapshot &snapshot, const QString &qube);

// The legend's lines while side paths are shown.
QStringList sidePathLegend(const Snapshot &snapshot);

} // namespace netmap
