#pragma once
// The tree layout's engine: layout nodes, blocks of leaves, packs of subtrees, and the Builder
// that runs one layout. treelayout.cpp holds the tidy-tree placement (Buchheim et al.) and the
// run; treepacking.cpp the 2-D packing (leaves into blocks, subtrees into packs, groups).

#include "treelayout.h"

#include <algorithm>
#include <cmath>

namespace netmap::tidytree {

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

// One layout run over one input (a pack member gets a run of its own).
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

inline double sizeOr(double value, double fallback)
{
    return (std::isfinite(value) && value > 0) ? value : fallback;
}

inline QSizeF boxSize(const LayoutQube &qube)
{
    // Garbage sizes must not poison the coordinates of everything else.
    return QSizeF(std::min(sizeOr(qube.size.width(), 120), 4000.0),
                  std::min(sizeOr(qube.size.height(), 40), 4000.0));
}

inline QPointF exitPort(const QRectF &r)
{
    return QPointF(r.right(), r.center().y());
}

inline QPointF entryPort(const QRectF &r)
{
    return QPointF(r.left(), r.center().y());
}

} // namespace netmap::tidytree
