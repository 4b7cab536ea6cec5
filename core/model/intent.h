#pragma once
// The owner's intent: what each qube's egress should be (per qube or per tag) and which
// inter-qube pairs may reach each other. Read from an expectations file (--expect) by
// policy/expectations; carried by the Snapshot so that every view, export and verdict judges by
// the same intent (docs/ARCHITECTURE.md).

#include <QList>
#include <QMap>
#include <QPair>
#include <QSet>
#include <QString>

namespace netmap {

struct Expectation
{
    enum class Egress { Clearnet, Vpn, Tor, None, Via };
    Egress egress = Egress::Clearnet;
    QString via; // the qube that must be on the path, for Egress::Via
    QString why; // "behind sys-whonix (Whonix gateway)", "expectations file: qube work", ...

    QString kindId() const; // "clearnet", "vpn", "tor", "none", "via"
    QString toString() const; // "vpn", "via sys-vpn"
    friend bool operator==(const Expectation &, const Expectation &) = default;
};

struct Expectations
{
    QMap<QString, Expectation> byQube; // qube name -> intended egress
    QList<QPair<QString, Expectation>> byTag; // in file order; the first tag a qube carries wins
    QSet<QPair<QString, QString>> allowedReach; // (from, to): from may reach to
    QString sourceFile; // empty when no file was given

    bool isEmpty() const { return byQube.isEmpty() && byTag.isEmpty() && allowedReach.isEmpty(); }
    friend bool operator==(const Expectations &, const Expectations &) = default;
};

} // namespace netmap
