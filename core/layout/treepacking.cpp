// The tree layout's 2-D packing: a parent's many leaves become a block of columns, its many
// provider subtrees are laid out one by one and packed into columns (a pack), and the qubes
// without network and the templates fill the grids of their groups below the forest.

#include "treelayout_p.h"

namespace netmap::tidytree {

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

} // namespace netmap::tidytree
