#include "treelayout.h"

#include "model/snapshot.h"
#include "model/topology.h"

#include <algorithm>
#include <cmath>

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

namespace netmap {

namespace {

enum class Role { SuperRoot, Internet, Placeholder, Qube, Block, Pack };

struct Node
{
    Role role = Role::Qube;
    int ref = -1; // qube index (Qube, Internet) or block index (Block)
    int parent = -1;
    std::vector<int> children;
    int number = 0; // 1-based position among its siblings
    int depth = -1;
    double breadth = 0; // extent along the sibling axis (vertical)
    double width = 0; // extent along the depth axis (horizontal)
    // Buchheim et al.
    double prelim = 0;
    double mod = 0;
    double shift = 0;
    double change = 0;
    double midpoint = 0;
    int thread = -1;
    int ancestor = -1;
    double centre = 0;
};

struct Block
{
    int head = -1; // the block node of the first column
    int parentQube = -1;
    std::vector<int> leaves; // qube indices, column by column
    int columns = 1;
    int rows = 1;
    double cellWidth = 0;
    double cellHeight = 0;
};

// Subtrees laid out on their own and packed into columns (see above).
struct Pack
{
    struct Member
    {
        NetworkLayout layout; // in its own coordinates, top left (0, 0)
        std::vector<int> qubeOf; // sub-layout qube index -> qube index
        QPointF offset; // of its top left from the pack's content top left
        int column = 0;
    };
    int head = -1;
    std::vector<Member> members;
    std::vector<double> columnLeft; // from the pack's left
};

// How many packs may nest: deeper subtrees are laid out normally, so no qube is laid out more
// than three times whatever the forest looks like.
constexpr int kMaxPackDepth = 2;
// A parent needs at least this many provider children before they are packed.
constexpr int kMinPackMembers = 3;

class Builder
{
public:
    Builder(const TreeLayoutOptions &options, const std::vector<LayoutQube> &qubes,
            int packDepth = 0)
        : m_options(options)
        , m_qubes(qubes)
        , m_packDepth(packDepth)
    {
    }

    NetworkLayout run();

private:
    void sanitiseParents();
    int addNode(Role role, int ref, int parent, double breadth, double width);
    void expandQube(int node, std::vector<int> &pending);
    bool packChildren(int node, const std::vector<int> &inner);
    void emitPack(int node, NetworkLayout &out, std::vector<int> &boxOfNode,
                  const std::vector<double> &levelWidth);
    void firstWalk();
    void place(int w);
    int apportion(int v, int defaultAncestor);
    void moveSubtree(int wm, int wp, double shift);
    void executeShifts(int v);
    int nextLeft(int v) const;
    int nextRight(int v) const;
    double distance(int a, int b, bool betweenTrees) const;
    void secondWalk();
    void emitTrees(NetworkLayout &out);
    void emitGroups(NetworkLayout &out);

    const TreeLayoutOptions &m_options;
    const std::vector<LayoutQube> &m_qubes;
    std::vector<int> m_parent; // sanitised qube parents
    std::vector<std::vector<int>> m_children; // visible qube children, by index
    std::vector<bool> m_hidden;
    std::vector<int> m_noNetwork;
    std::vector<int> m_templates;
    std::vector<Node> m_nodes;
    std::vector<Block> m_blocks;
    std::vector<Pack> m_packs;
    std::vector<double> m_levelX;
    int m_packDepth = 0;
    std::vector<int> m_local; // scratch: qube index -> index in a pack member's input
};

double sizeOr(double value, double fallback)
{
    return (std::isfinite(value) && value > 0) ? value : fallback;
}

QSizeF boxSize(const LayoutQube &qube)
{
    // Garbage sizes must not poison the coordinates of everything else.
    return QSizeF(std::min(sizeOr(qube.size.width(), 120), 4000.0),
                  std::min(sizeOr(qube.size.height(), 40), 4000.0));
}

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

void Builder::expandQube(int node, std::vector<int> &pending)
{
    const int qube = m_nodes[node].ref;
    std::vector<int> inner;
    std::vector<int> leaves;
    for (int c : m_children[qube])
        (m_children[c].empty() ? leaves : inner).push_back(c);
    // Providers (with their own subtrees) first, then the leaves: they read as "the rest".
    if (packChildren(node, inner))
        inner.clear();
    for (int c : inner) {
        const QSizeF s = boxSize(m_qubes[c]);
        pending.push_back(addNode(Role::Qube, c, node, s.height(), s.width()));
    }
    if (static_cast<int>(leaves.size()) <= std::max(1, m_options.wrapAfter)) {
        for (int c : leaves) {
            const QSizeF s = boxSize(m_qubes[c]);
            addNode(Role::Qube, c, node, s.height(), s.width());
        }
        return;
    }
    Block block;
    block.parentQube = qube;
    block.leaves = leaves;
    for (int c : leaves) {
        const QSizeF s = boxSize(m_qubes[c]);
        block.cellWidth = std::max(block.cellWidth, s.width());
        block.cellHeight = std::max(block.cellHeight, s.height());
    }
    const int n = static_cast<int>(leaves.size());
    const double colPitch = block.cellWidth + m_options.levelGap;
    const double rowPitch = block.cellHeight + m_options.blockRowGap;
    const double aspect = m_options.blockAspect > 0.05 ? m_options.blockAspect : 0.6;
    // height / width = (n / k) * rowPitch / (k * colPitch) = aspect
    int columns = static_cast<int>(std::lround(std::sqrt(n * rowPitch / (aspect * colPitch))));
    // Columns shorter than wrapAfter would only make a wide, flat block: cap the column count.
    const int wrap = std::max(1, m_options.wrapAfter);
    columns = std::clamp(columns, 1, (n + wrap - 1) / wrap);
    block.rows = (n + columns - 1) / columns;
    block.columns = (n + block.rows - 1) / block.rows;
    const double breadth = m_options.busBand + block.rows * rowPitch - m_options.blockRowGap;
    const int blockIndex = static_cast<int>(m_blocks.size());
    int previous = node;
    for (int col = 0; col < block.columns; ++col) {
        previous = addNode(Role::Block, blockIndex, previous, breadth, block.cellWidth);
        if (col == 0)
            block.head = previous;
    }
    m_blocks.push_back(std::move(block));
}

bool Builder::packChildren(int node, const std::vector<int> &inner)
{
    if (static_cast<int>(inner.size()) < kMinPackMembers || m_packDepth >= kMaxPackDepth)
        return false;
    Pack pack;
    const double gapX = m_options.levelGap; // room for each column's feeder line
    const double gapY = m_options.subtreeGap;
    double area = 0;
    std::vector<int> order;
    std::vector<int> &local = m_local;
    local.resize(m_qubes.size(), -1);
    for (int c : inner) {
        // The subtree of c, parents first, as an input of its own with c as its only root.
        Pack::Member member;
        std::vector<LayoutQube> input;
        order.assign(1, c);
        for (size_t i = 0; i < order.size(); ++i)
            for (int k : m_children[order[i]])
                order.push_back(k);
        for (size_t i = 0; i < order.size(); ++i)
            local[order[i]] = static_cast<int>(i);
        input.reserve(order.size());
        for (int q : order) {
            LayoutQube l = m_qubes[q];
            l.parent = q == c ? -1 : local[m_parent[q]];
            if (q == c) { // a root that is neither an Internet end nor a lone box
                l.providesNetwork = false;
                l.hasNetvm = true;
                l.isTemplate = false;
            }
            input.push_back(l);
        }
        member.layout = Builder(m_options, input, m_packDepth + 1).run();
        member.qubeOf = order;
        const QSizeF s = member.layout.bounds.size();
        area += (s.width() + gapX) * (s.height() + gapY);
        pack.members.push_back(std::move(member));
    }
    // Columns of subtrees, filled in order, each about as tall as a block of the wanted aspect.
    const double aspect = m_options.blockAspect > 0.05 ? m_options.blockAspect : 0.6;
    const double wantedHeight = std::sqrt(area * aspect);
    double x = 0;
    double y = 0;
    double columnWidth = 0;
    double height = 0;
    int column = 0;
    pack.columnLeft.push_back(0);
    for (Pack::Member &member : pack.members) {
        const QSizeF s = member.layout.bounds.size();
        if (y > 0 && y + s.height() > wantedHeight) {
            x += columnWidth + gapX;
            y = 0;
            columnWidth = 0;
            ++column;
            pack.columnLeft.push_back(x);
        }
        member.offset = QPointF(x, y);
        member.column = column;
        y += s.height() + gapY;
        columnWidth = std::max(columnWidth, s.width());
        height = std::max(height, y - gapY);
    }
    if (column == 0)
        return false; // one column: the tidy tree stacks them more tightly
    const int index = static_cast<int>(m_packs.size());
    pack.head = addNode(Role::Pack, index, node, m_options.busBand + height, 0);
    m_packs.push_back(std::move(pack));
    return true;
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

QPointF exitPort(const QRectF &r)
{
    return QPointF(r.right(), r.center().y());
}

QPointF entryPort(const QRectF &r)
{
    return QPointF(r.left(), r.center().y());
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

void Builder::emitPack(int v, NetworkLayout &out, std::vector<int> &boxOfNode,
                       const std::vector<double> &levelWidth)
{
    const Node &n = m_nodes[v];
    const Pack &pack = m_packs[n.ref];
    const int upper = boxOfNode[n.parent];
    const QRectF upperRect = out.boxes[upper].rect;
    const int upperDepth = m_nodes[n.parent].depth;
    const double left = m_levelX[n.depth];
    const double top = n.centre - n.breadth / 2;
    const double busY = top + m_options.busBand / 2;
    const double contentTop = top + m_options.busBand;
    for (const Pack::Member &member : pack.members) {
        const QPointF offset(left + member.offset.x(), contentTop + member.offset.y());
        const int base = static_cast<int>(out.boxes.size());
        for (const LayoutBox &sub : member.layout.boxes) {
            LayoutBox box = sub;
            box.qube = member.qubeOf[sub.qube];
            box.rect.translate(offset);
            out.boxOfQube[box.qube] = static_cast<int>(out.boxes.size());
            out.boxes.push_back(box);
        }
        for (const LayoutLink &sub : member.layout.links) {
            LayoutLink link = sub;
            link.lower += base;
            link.upper += base;
            for (QPointF &p : link.route)
                p += offset;
            out.links.push_back(std::move(link));
        }
        // The feeder: from the parent along the bus above the pack, down the column's trunk,
        // into the subtree's root.
        const QRectF root = out.boxes[out.boxOfQube[member.qubeOf.front()]].rect;
        LayoutLink link;
        link.lower = out.boxOfQube[member.qubeOf.front()];
        link.upper = upper;
        link.route.push_back(exitPort(upperRect));
        const double columnRight = m_levelX[upperDepth] + levelWidth[upperDepth];
        if (columnRight > upperRect.right() + 0.5) {
            link.route.push_back(QPointF(columnRight, upperRect.center().y()));
            link.curveSegment = 1;
        }
        link.route.push_back(QPointF(left - m_options.busInset, busY));
        const double trunk = left + pack.columnLeft[member.column] - m_options.busInset;
        if (member.column > 0)
            link.route.push_back(QPointF(trunk, busY));
        link.route.push_back(QPointF(trunk, root.center().y()));
        link.route.push_back(entryPort(root));
        link.sharedSegments = static_cast<int>(link.route.size()) - 2;
        out.links.push_back(std::move(link));
    }
}

void Builder::emitGroups(NetworkLayout &out)
{
    QRectF forest;
    for (const LayoutBox &box : out.boxes)
        forest = forest.isNull() ? box.rect : forest.united(box.rect);
    double y = forest.isNull() ? 0 : forest.bottom() + m_options.groupGap;
    const double left = forest.isNull() ? 0 : forest.left();
    const double gapX = 2 * m_options.siblingGap;
    const double gapY = m_options.siblingGap;
    const double pad = m_options.groupPadding;

    const auto addGroup = [&](LayoutGroup::Kind kind, const std::vector<int> &members) {
        if (members.empty())
            return;
        double cellW = 0;
        double cellH = 0;
        for (int q : members) {
            const QSizeF s = boxSize(m_qubes[q]);
            cellW = std::max(cellW, s.width());
            cellH = std::max(cellH, s.height());
        }
        const int n = static_cast<int>(members.size());
        // As wide as the forest (at least four cells) so the picture stays roughly square.
        const double available
            = std::max(forest.isNull() ? 0.0 : forest.width(), 4 * cellW + 3 * gapX + 2 * pad);
        int columns = static_cast<int>((available - 2 * pad + gapX) / (cellW + gapX));
        columns = std::clamp(columns, 1, n);
        const int rows = (n + columns - 1) / columns;
        LayoutGroup group;
        group.kind = kind;
        group.rect = QRectF(left, y, 2 * pad + columns * cellW + (columns - 1) * gapX,
                            m_options.groupCaption + rows * cellH + (rows - 1) * gapY + pad);
        group.caption = QRectF(left + pad, y, group.rect.width() - 2 * pad, m_options.groupCaption);
        for (int i = 0; i < n; ++i) {
            const int col = i % columns;
            const int row = i / columns;
            QSizeF s = boxSize(m_qubes[members[i]]);
            if (m_options.stretchToColumn)
                s.setWidth(cellW);
            LayoutBox box;
            box.qube = members[i];
            box.rect = QRectF(left + pad + col * (cellW + gapX),
                              y + m_options.groupCaption + row * (cellH + gapY)
                                  + (cellH - s.height()) / 2,
                              s.width(), s.height());
            const int boxIndex = static_cast<int>(out.boxes.size());
            out.boxOfQube[members[i]] = boxIndex;
            group.boxes.push_back(boxIndex);
            out.boxes.push_back(box);
        }
        y = group.rect.bottom() + m_options.groupGap / 2;
        out.groups.push_back(std::move(group));
    };
    addGroup(LayoutGroup::Kind::NoNetwork, m_noNetwork);
    addGroup(LayoutGroup::Kind::Templates, m_templates);
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

} // namespace

NetworkLayout TreeLayout::layout(const std::vector<LayoutQube> &qubes) const
{
    Builder builder(m_options, qubes);
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
