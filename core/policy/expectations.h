#pragma once
// Expectations: what the owner intends (egress per qube or per tag, allowed inter-qube pairs),
// read strictly from YAML (--expect); qubes the file does not name fall back to inference.

#include "inference.h"
#include "model/result.h"

#include <QByteArray>
#include <QList>
#include <QMap>
#include <QPair>
#include <QSet>
#include <QString>

namespace netmap {

struct Snapshot;
class Topology;

constexpr qint64 kMaxExpectationsFileBytes = 1 << 20;

// Parses "clearnet", "vpn", "tor", "none" or "via QUBE"; nullopt when it is anything else.
std::optional<Expectation> parseEgress(QStringView untrusted);

Result<Expectations> expectationsFromYaml(const QByteArray &untrustedYaml, const QString &fileName);
Result<Expectations> loadExpectationsFile(const QString &path);

// The file's expectation for the qube (by name, then by its first matching tag), otherwise
// inferExpectation(). The "why" says which applied.
Expectation expectationFor(const Expectations &expectations, const Snapshot &snapshot,
                           const Topology &topology, QStringView qube);
// The same for the intent the snapshot carries (Snapshot::intent): what every view, export and
// verdict shows as the qube's expected egress.
Expectation intendedEgress(const Snapshot &snapshot, const Topology &topology, QStringView qube);
// True when the file allows `from` to reach `to`.
bool reachAllowed(const Expectations &expectations, QStringView from, QStringView to);

} // namespace netmap
