#pragma once
// Topology: the NetVM forest (a Boost.Graph inside) with egress chains, roots and children.

#include "snapshot.h"

#include <QString>
#include <QStringList>

#include <memory>
#include <vector>

namespace netmap {

class Topology
{
public:
    explicit Topology(const Snapshot &snapshot);
    ~Topology();
    Topology(const Topology &) = delete;
    Topology &operator=(const Topology &) = delete;
    Topology(Topology &&) noexcept;
    Topology &operator=(Topology &&) noexcept;

    int size() const; // number of qubes; index i is snapshot.qubes[i]
    int indexOf(QStringView name) const; // -1 when unknown
    const QString &nameAt(int index) const;

    // Index of the qube's netvm, or -1 (no netvm, dangling netvm, or loop broken here).
    int parentOf(int index) const;
    const std::vector<int> &childrenOf(int index) const; // sorted by name
    // Qubes that are not behind another known qube, sorted by name.
    const std::vector<int> &roots() const;
    // Every qube once, in NetVM-tree order: each root, then the qubes behind it, depth first,
    // roots and siblings by name.
    std::vector<int> treeOrder() const;

    // The qube, its netvm, the netvm's netvm, ..., the root provider.
    QStringList egressChain(QStringView name) const;
    std::vector<int> egressChainIndices(int index) const;
    // The root provider of the qube's chain ("sys-net"), or empty when the qube has no netvm.
    QString rootOf(QStringView name) const;

    bool isDangling(int index) const; // netvm names a qube that does not exist
    bool isInLoop(int index) const; // the netvm chain returns to itself (bad input)

private:
    struct Data;
    std::unique_ptr<Data> d;
};

} // namespace netmap
