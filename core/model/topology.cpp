#include "topology.h"

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/depth_first_search.hpp>
#include <boost/graph/strong_components.hpp>

#ifdef BOOST_RECURSIVE_DFS
#error "Topology relies on Boost's iterative depth-first search: hostile chains are deep"
#endif

namespace netmap {

// Vertices are snapshot indices; an edge runs from a netvm to each qube behind it, so
// out-edges are children and a vertex with no in-edge is a root.
using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS>;

struct Topology::Data
{
    Graph graph;
    QStringList names;
    QHash<QString, int> index;
    std::vector<int> parent;
    std::vector<std::vector<int>> children;
    std::vector<int> roots;
    std::vector<char> dangling;
    std::vector<char> inLoop;
};

Topology::Topology(const Snapshot &snapshot)
    : d(std::make_unique<Data>())
{
    const int n = int(snapshot.qubes.size());
    d->graph = Graph(size_t(n));
    d->names.reserve(n);
    d->index.reserve(n);
    for (int i = 0; i < n; ++i) {
        d->names << snapshot.qubes[size_t(i)].name.toString();
        d->index.insert(d->names.back(), i);
    }
    d->parent.assign(size_t(n), -1);
    d->dangling.assign(size_t(n), 0);
    d->inLoop.assign(size_t(n), 0);
    for (int i = 0; i < n; ++i) {
        const auto &netvm = snapshot.qubes[size_t(i)].netvm;
        if (!netvm)
            continue;
        const int p = d->index.value(netvm->toString(), -1);
        if (p < 0)
            d->dangling[size_t(i)] = 1;
        else
            d->parent[size_t(i)] = p;
    }

    // Qubes refuses NetVM loops, but bad input may hold one. Every qube has at most one netvm,
    // so each loop is a strongly connected component of more than one qube, or one qube that
    // is its own netvm. Mark its members and cut it at its first member (by snapshot order),
    // so that every later walk up a chain terminates. Boost's depth-first search (under
    // strong_components) keeps its own stack: a 10,000-qube chain or loop does not recurse.
    for (int i = 0; i < n; ++i)
        if (d->parent[size_t(i)] >= 0)
            boost::add_edge(size_t(d->parent[size_t(i)]), size_t(i), d->graph);
    std::vector<int> component(size_t(n), 0);
    const int components = n > 0 ? int(boost::strong_components(d->graph, component.data())) : 0;
    std::vector<int> members(size_t(components), 0);
    std::vector<int> first(size_t(components), -1); // the lowest index in each component
    for (int i = 0; i < n; ++i) {
        const size_t c = size_t(component[size_t(i)]);
        ++members[c];
        if (first[c] < 0)
            first[c] = i;
    }
    for (int i = 0; i < n; ++i) {
        const size_t c = size_t(component[size_t(i)]);
        if (members[c] > 1 || d->parent[size_t(i)] == i)
            d->inLoop[size_t(i)] = 1;
    }
    for (int c = 0; c < components; ++c) {
        const int cut = first[size_t(c)];
        if (!d->inLoop[size_t(cut)])
            continue;
        boost::remove_edge(size_t(d->parent[size_t(cut)]), size_t(cut), d->graph);
        d->parent[size_t(cut)] = -1;
    }

    d->children.resize(size_t(n));
    for (int i = 0; i < n; ++i) {
        auto [it, end] = boost::out_edges(size_t(i), d->graph);
        for (; it != end; ++it)
            d->children[size_t(i)].push_back(int(boost::target(*it, d->graph)));
        std::sort(d->children[size_t(i)].begin(), d->children[size_t(i)].end(),
                  [this](int a, int b) { return d->names[a] < d->names[b]; });
        if (boost::in_degree(size_t(i), d->graph) == 0)
            d->roots.push_back(i);
    }
    std::sort(d->roots.begin(), d->roots.end(),
              [this](int a, int b) { return d->names[a] < d->names[b]; });
    // The same forest with each qube's out-edges in name order, so that a depth-first visit
    // meets siblings by name.
    Graph ordered {size_t(n)};
    for (int i = 0; i < n; ++i)
        for (int child : d->children[size_t(i)])
            boost::add_edge(size_t(i), size_t(child), ordered);
    d->graph = std::move(ordered);
}

Topology::~Topology() = default;
Topology::Topology(Topology &&) noexcept = default;
Topology &Topology::operator=(Topology &&) noexcept = default;

int Topology::size() const
{
    return int(d->names.size());
}

int Topology::indexOf(QStringView name) const
{
    return d->index.value(name.toString(), -1);
}

const QString &Topology::nameAt(int index) const
{
    return d->names.at(index);
}

int Topology::parentOf(int index) const
{
    return d->parent.at(size_t(index));
}

const std::vector<int> &Topology::childrenOf(int index) const
{
    return d->children.at(size_t(index));
}

const std::vector<int> &Topology::roots() const
{
    return d->roots;
}

std::vector<int> Topology::treeOrder() const
{
    // Records each qube when the search first meets it (preorder).
    struct Preorder : boost::default_dfs_visitor
    {
        std::vector<int> *order;
        void discover_vertex(Graph::vertex_descriptor v, const Graph &) const
        {
            order->push_back(int(v));
        }
    };
    std::vector<int> order;
    order.reserve(d->names.size());
    std::vector<boost::default_color_type> colour(d->names.size(), boost::white_color);
    const auto colourMap = boost::make_iterator_property_map(
        colour.begin(), boost::get(boost::vertex_index, d->graph));
    Preorder visitor;
    visitor.order = &order;
    for (int root : d->roots)
        boost::depth_first_visit(d->graph, size_t(root), visitor, colourMap);
    return order;
}

std::vector<int> Topology::egressChainIndices(int index) const
{
    std::vector<int> chain;
    for (int v = index; v >= 0 && chain.size() <= d->parent.size(); v = d->parent[size_t(v)])
        chain.push_back(v);
    return chain;
}

QStringList Topology::egressChain(QStringView name) const
{
    QStringList chain;
    const int i = indexOf(name);
    if (i < 0)
        return chain;
    for (int v : egressChainIndices(i))
        chain << d->names[v];
    return chain;
}

QString Topology::rootOf(QStringView name) const
{
    const int i = indexOf(name);
    if (i < 0)
        return {};
    const auto chain = egressChainIndices(i);
    if (chain.size() < 2)
        return {};
    return d->names[chain.back()];
}

bool Topology::isDangling(int index) const
{
    return d->dangling.at(size_t(index));
}

bool Topology::isInLoop(int index) const
{
    return d->inLoop.at(size_t(index));
}

} // namespace netmap
