#include "treelayout.h"

#include "model/snapshot.h"
#include "model/topology.h"
#include "treelayout_p.h"

// The layout is a layered tidy tree (Walker's aesthetics, Buchheim, Juenger and Leipert's linear
// time algorithm) over "layout nodes": a virtual super root whose children are the Internet ends
// (or empty placeholders), the qubes, and chains of block nodes. A parent with many leaf children
// packs them into a block of columns; the block takes one node per column, chained so that the
// contour of the block is right at every depth it covers. Everything runs without recursion, so a
// hostile snapshot with a 10,000-deep netvm chain cannot overflow the stack.
//
// A parent with many provider children (a firewall with a hundred VPN gateways, each with its own
// clients) would stack their subtrees in one tall column. Instead each of those subtrees is laid
// out on its own (a nested run, at most two packs deep, so the work stays linear) and the
// resulting rectangles are packed into columns beside each other, fed by a bus like a block of
// leaves: a "pack". Its node chain covers every deeper level, so nothing else is placed in its
// rows.
//
// This file holds the tidy-tree placement and the run; treepacking.cpp the packing.

namespace netmap {

namespace tidytree {

void Builder::sanitiseParents()
{
    const int n = static_cast<int>(m_qubes.size());
    m_parent.assign(n, -1);
    for (int i = 0; i < n; ++i) {
        const int p = m_qubes[i].parent;
        if (p >= 0 && p < n && p != i)
            m_parent[i] = p;
    }
    // Cut loops: walk up from each qube once; a walk that meets itself cuts the link it came by.
    std::vector<char> state(n, 0); // 0 new, 1 on the current walk, 2 settled
    std::vector<int> walk;
    for (int i = 0; i < n; ++i) {
        walk.clear();
        int v = i;
        while (v >= 0 && state[v] == 0) {
            state[v] = 1;
            walk.push_back(v);
            const int p = m_parent[v];
            if (p >= 0 && state[p] == 1) {
                m_parent[v] = -1;
                break;
            }
            v = p;
        }
        for (int w : walk)
            state[w] = 2;
    }

    std::vector<int> childCount(n, 0);
    for (int i = 0; i < n; ++i)
        if (m_parent[i] >= 0)
            ++childCount[m_parent[i]];
    m_hidden.assign(n, false);
    for (int i = 0; i < n; ++i)
        m_hidden[i] = m_qubes[i].isTemplate && !m_options.showTemplates && childCount[i] == 0
            && !m_qubes[i].providesNetwork;
    m_children.assign(n, {});
    for (int i = 0; i < n; ++i)
        if (!m_hidden[i] && m_parent[i] >= 0)
            m_children[m_parent[i]].push_back(i);
}

int Builder::addNode(Role role, int ref, int parent, double breadth, double width)
{
    Node node;
    node.role = role;
    node.ref = ref;
    node.parent = parent;
    node.breadth = breadth;
    node.width = width;
    const int index = static_cast<int>(m_nodes.size());
    node.ancestor = index;
    if (parent >= 0) {
        node.depth = m_nodes[parent].depth + 1;
        m_nodes[parent].children.push_back(index);
        node.number = static_cast<int>(m_nodes[parent].children.size());
    }
    m_nodes.push_back(std::move(node));
    return index;
}

int Builder::nextLeft(int v) const
{
    const Node &n = m_nodes[v];
    return n.children.empty() ? n.thread : n.children.front();
}

int Builder::nextRight(int v) const
{
    const Node &n = m_nodes[v];
    return n.children.empty() ? n.thread : n.children.back();
}

double Builder::distance(int a, int b, bool betweenTrees) const
{
    double gap = m_options.subtreeGap;
    if (betweenTrees)
        gap = m_options.treeGap;
    else if (m_nodes[a].parent == m_nodes[b].parent)
        gap = m_options.siblingGap;
    return (m_nodes[a].breadth + m_nodes[b].breadth) / 2 + gap;
}

void Builder::place(int w)
{
    Node &node = m_nodes[w];
    const Node &parent = m_nodes[node.parent];
    const int left = node.number > 1 ? parent.children[node.number - 2] : -1;
    const bool betweenTrees = parent.role == Role::SuperRoot;
    if (node.children.empty()) {
        node.prelim = left >= 0 ? m_nodes[left].prelim + distance(left, w, betweenTrees) : 0;
    } else if (left >= 0) {
        node.prelim = m_nodes[left].prelim + distance(left, w, betweenTrees);
        node.mod = node.prelim - node.midpoint;
    } else {
        node.prelim = node.midpoint;
    }
}

void Builder::moveSubtree(int wm, int wp, double shift)
{
    const int subtrees = m_nodes[wp].number - m_nodes[wm].number;
    if (subtrees <= 0)
        return;
    m_nodes[wp].change -= shift / subtrees;
    m_nodes[wp].shift += shift;
    m_nodes[wm].change += shift / subtrees;
    m_nodes[wp].prelim += shift;
    m_nodes[wp].mod += shift;
}

int Builder::apportion(int v, int defaultAncestor)
{
    const Node &node = m_nodes[v];
    if (node.number <= 1)
        return defaultAncestor;
    const Node &parent = m_nodes[node.parent];
    const bool betweenTrees = parent.role == Role::SuperRoot;
    int vip = v;
    int vop = v;
    int vim = parent.children[node.number - 2];
    int vom = parent.children.front();
    double sip = m_nodes[vip].mod;
    double sop = m_nodes[vop].mod;
    double sim = m_nodes[vim].mod;
    double som = m_nodes[vom].mod;
    while (nextRight(vim) >= 0 && nextLeft(vip) >= 0) {
        vim = nextRight(vim);
        vip = nextLeft(vip);
        vom = nextLeft(vom);
        vop = nextRight(vop);
        m_nodes[vop].ancestor = v;
        const double shift = (m_nodes[vim].prelim + sim) - (m_nodes[vip].prelim + sip)
            + distance(vim, vip, betweenTrees);
        if (shift > 0) {
            // The greatest distinct ancestors of vim and vip: vim's ancestor when it is a
            // sibling of v, else the default one.
            const int a = m_nodes[vim].ancestor;
            const int wm = (a >= 0 && m_nodes[a].parent == node.parent) ? a : defaultAncestor;
            moveSubtree(wm, v, shift);
            sip += shift;
            sop += shift;
        }
        sim += m_nodes[vim].mod;
        sip += m_nodes[vip].mod;
        som += m_nodes[vom].mod;
        sop += m_nodes[vop].mod;
    }
    if (nextRight(vim) >= 0 && nextRight(vop) < 0) {
        m_nodes[vop].thread = nextRight(vim);
        m_nodes[vop].mod += sim - sop;
    }
    if (nextLeft(vip) >= 0 && nextLeft(vom) < 0) {
        m_nodes[vom].thread = nextLeft(vip);
        m_nodes[vom].mod += sip - som;
        defaultAncestor = v;
    }
    return defaultAncestor;
}

void Builder::executeShifts(int v)
{
    double shift = 0;
    double change = 0;
    const std::vector<int> &children = m_nodes[v].children;
    for (auto it = children.rbegin(); it != children.rend(); ++it) {
        Node &w = m_nodes[*it];
        w.prelim += shift;
        w.mod += shift;
        change += w.change;
        shift += w.shift + change;
    }
}

void Builder::firstWalk()
{
    // Nodes were created parents first, so walking backwards finishes every subtree before
    // its parent: a post-order without recursion.
    for (int v = static_cast<int>(m_nodes.size()) - 1; v >= 0; --v) {
        Node &node = m_nodes[v];
        if (node.children.empty())
            continue;
        int defaultAncestor = node.children.front();
        for (int w : m_nodes[v].children) {
            place(w);
            defaultAncestor = apportion(w, defaultAncestor);
        }
        executeShifts(v);
        const Node &n = m_nodes[v];
        m_nodes[v].midpoint
            = (m_nodes[n.children.front()].prelim + m_nodes[n.children.back()].prelim) / 2;
    }
    if (!m_nodes.empty())
        m_nodes[0].prelim = m_nodes[0].midpoint;
}

void Builder::secondWalk()
{
    std::vector<double> modSum(m_nodes.size(), 0);
    for (size_t v = 0; v < m_nodes.size(); ++v) {
        const int p = m_nodes[v].parent;
        const double above = p >= 0 ? modSum[p] : 0;
        m_nodes[v].centre = m_nodes[v].prelim + above;
        modSum[v] = above + m_nodes[v].mod;
    }
}

void Builder::emitTrees(NetworkLayout &out)
{
    int maxDepth = 0;
    for (const Node &n : m_nodes)
        maxDepth = std::max(maxDepth, n.depth);
    std::vector<double> levelWidth(maxDepth + 1, 0);
    for (const Node &n : m_nodes)
        if (n.depth >= 0)
            levelWidth[n.depth] = std::max(levelWidth[n.depth], n.width);
    m_levelX.assign(maxDepth + 1, 0);
    for (int d = 1; d <= maxDepth; ++d)
        m_levelX[d] = m_levelX[d - 1] + levelWidth[d - 1]
            + (levelWidth[d - 1] > 0 ? m_options.levelGap : 0);

    std::vector<int> boxOfNode(m_nodes.size(), -1);
    // A narrow box leaves its column with a straight stub so that the curve cannot cut through
    // a wider neighbour in the same column.
    const auto startRoute = [&](LayoutLink &link, const QRectF &upperRect, int upperDepth) {
        const QPointF port = exitPort(upperRect);
        link.route.push_back(port);
        const double columnRight = m_levelX[upperDepth] + levelWidth[upperDepth];
        if (columnRight > port.x() + 0.5) {
            link.route.push_back(QPointF(columnRight, port.y()));
            link.curveSegment = 1;
        }
    };
    for (size_t v = 0; v < m_nodes.size(); ++v) {
        const Node &n = m_nodes[v];
        if (n.role == Role::Internet || n.role == Role::Qube) {
            QSizeF s = n.role == Role::Internet ? m_options.internetSize : boxSize(m_qubes[n.ref]);
            if (n.role == Role::Qube && m_options.stretchToColumn)
                s.setWidth(levelWidth[n.depth]);
            LayoutBox box;
            box.kind = n.role == Role::Internet ? LayoutBox::Kind::Internet : LayoutBox::Kind::Qube;
            box.qube = n.ref;
            box.rect = QRectF(m_levelX[n.depth], n.centre - s.height() / 2, s.width(), s.height());
            boxOfNode[v] = static_cast<int>(out.boxes.size());
            if (n.role == Role::Qube)
                out.boxOfQube[n.ref] = boxOfNode[v];
            out.boxes.push_back(box);
            const int p = n.parent;
            if (p >= 0 && boxOfNode[p] >= 0) {
                LayoutLink link;
                link.lower = boxOfNode[v];
                link.upper = boxOfNode[p];
                startRoute(link, out.boxes[link.upper].rect, m_nodes[p].depth);
                link.route.push_back(entryPort(box.rect));
                out.links.push_back(std::move(link));
            }
        } else if (n.role == Role::Pack && m_nodes[n.parent].role != Role::Pack) {
            emitPack(static_cast<int>(v), out, boxOfNode, levelWidth);
        } else if (n.role == Role::Block && m_nodes[n.parent].role != Role::Block) {
            const Block &block = m_blocks[n.ref];
            const int upper = boxOfNode[n.parent];
            const double top = n.centre - n.breadth / 2;
            const double busY = top + m_options.busBand / 2;
            const double firstTrunk = m_levelX[n.depth] - m_options.busInset;
            for (size_t i = 0; i < block.leaves.size(); ++i) {
                const int col = static_cast<int>(i) / block.rows;
                const int row = static_cast<int>(i) % block.rows;
                const int qube = block.leaves[i];
                QSizeF s = boxSize(m_qubes[qube]);
                if (m_options.stretchToColumn)
                    s.setWidth(levelWidth[n.depth + col]);
                const double cellTop
                    = top + m_options.busBand + row * (block.cellHeight + m_options.blockRowGap);
                LayoutBox box;
                box.qube = qube;
                box.rect
                    = QRectF(m_levelX[n.depth + col], cellTop + (block.cellHeight - s.height()) / 2,
                             s.width(), s.height());
                const int boxIndex = static_cast<int>(out.boxes.size());
                out.boxOfQube[qube] = boxIndex;
                out.boxes.push_back(box);

                LayoutLink link;
                link.lower = boxIndex;
                link.upper = upper;
                const double trunk = m_levelX[n.depth + col] - m_options.busInset;
                const QPointF entry = entryPort(box.rect);
                startRoute(link, out.boxes[upper].rect, m_nodes[n.parent].depth);
                link.route.push_back(QPointF(firstTrunk, busY));
                if (col > 0)
                    link.route.push_back(QPointF(trunk, busY));
                link.route.push_back(QPointF(trunk, entry.y()));
                link.route.push_back(entry);
                link.sharedSegments = static_cast<int>(link.route.size()) - 2;
                out.links.push_back(std::move(link));
            }
        }
    }
}

NetworkLayout Builder::run()
{
    NetworkLayout out;
    const int n = static_cast<int>(m_qubes.size());
    out.boxOfQube.assign(n, -1);
    sanitiseParents();

    std::vector<int> internetRoots;
    std::vector<int> otherRoots;
    for (int i = 0; i < n; ++i) {
        if (m_hidden[i] || m_parent[i] >= 0)
            continue;
        const LayoutQube &q = m_qubes[i];
        if (!m_children[i].empty() || q.providesNetwork)
            (q.providesNetwork && !q.hasNetvm ? internetRoots : otherRoots).push_back(i);
        else if (q.isTemplate)
            m_templates.push_back(i);
        else
            m_noNetwork.push_back(i);
    }
    // Templates that fell into "no network" only when shown; otherwise they were hidden above.

    m_nodes.reserve(2 * n + 2);
    addNode(Role::SuperRoot, -1, -1, 0, 0);
    std::vector<int> pending;
    for (int r : internetRoots) {
        const int end = addNode(Role::Internet, r, 0, m_options.internetSize.height(),
                                m_options.internetSize.width());
        const QSizeF s = boxSize(m_qubes[r]);
        pending.push_back(addNode(Role::Qube, r, end, s.height(), s.width()));
    }
    for (int r : otherRoots) {
        const int placeholder = addNode(Role::Placeholder, -1, 0, 0, 0);
        const QSizeF s = boxSize(m_qubes[r]);
        pending.push_back(addNode(Role::Qube, r, placeholder, s.height(), s.width()));
    }
    // Breadth first keeps "parents before children" in m_nodes, which firstWalk relies on.
    for (size_t i = 0; i < pending.size(); ++i)
        expandQube(pending[i], pending);
    // Each pack reserves its rows at every deeper level (its contents reach across them).
    int maxDepth = 0;
    for (const Node &node : m_nodes)
        maxDepth = std::max(maxDepth, node.depth);
    for (const Pack &pack : m_packs) {
        int previous = pack.head;
        const int ref = m_nodes[pack.head].ref;
        const double breadth = m_nodes[pack.head].breadth;
        for (int d = m_nodes[pack.head].depth + 1; d <= maxDepth; ++d)
            previous = addNode(Role::Pack, ref, previous, breadth, 0);
    }

    firstWalk();
    secondWalk();
    emitTrees(out);
    emitGroups(out);

    QRectF bounds;
    for (const LayoutBox &box : out.boxes)
        bounds = bounds.isNull() ? box.rect : bounds.united(box.rect);
    for (const LayoutGroup &group : out.groups)
        bounds = bounds.united(group.rect);
    // A block's bus runs above its first row: the routes belong to the drawing too.
    double top = bounds.top();
    for (const LayoutLink &link : out.links)
        for (const QPointF &p : link.route)
            top = std::min(top, p.y());
    bounds.setTop(top);
    const QPointF offset = -bounds.topLeft();
    for (LayoutBox &box : out.boxes)
        box.rect.translate(offset);
    for (LayoutLink &link : out.links)
        for (QPointF &p : link.route)
            p += offset;
    for (LayoutGroup &group : out.groups) {
        group.rect.translate(offset);
        group.caption.translate(offset);
    }
    out.bounds = bounds.translated(offset);
    return out;
}

} // namespace tidytree

NetworkLayout TreeLayout::layout(const std::vector<LayoutQube> &qubes) const
{
    tidytree::Builder builder(m_options, qubes);
    return builder.run();
}

std::vector<LayoutQube> TreeLayout::inputFrom(const Snapshot &snapshot, const Topology &topology,
                                              const std::vector<QSizeF> &sizes)
{
    std::vector<LayoutQube> input(snapshot.qubes.size());
    for (size_t i = 0; i < snapshot.qubes.size(); ++i) {
        const Qube &q = snapshot.qubes[i];
        LayoutQube &l = input[i];
        l.parent
            = static_cast<int>(i) < topology.size() ? topology.parentOf(static_cast<int>(i)) : -1;
        l.size = i < sizes.size() ? sizes[i] : QSizeF();
        l.providesNetwork = q.providesNetwork;
        l.hasNetvm = q.netvm.has_value();
        l.isTemplate = q.isTemplate();
    }
    return input;
}

NetworkLayout TreeLayout::layout(const Snapshot &snapshot, const Topology &topology,
                                 const std::vector<QSizeF> &sizes) const
{
    return layout(inputFrom(snapshot, topology, sizes));
}

} // namespace netmap
