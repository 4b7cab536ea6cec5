#pragma once
// TreeLayout: a tidy, layered, left-to-right layout of the NetVM forest (Buchheim et al., O(n));
// many leaves of one parent become a block, many provider subtrees of one parent a pack of
// columns, so that wide networks keep a readable aspect.

#include <QPointF>
#include <QRectF>
#include <QSizeF>

#include <vector>

namespace netmap {

struct Snapshot;
class Topology;

// Depth runs left to right (Internet, root provider, ..., app qubes); siblings stack top to bottom.
struct TreeLayoutOptions
{
    bool showTemplates = false;
    // Widen every box to its column (or its group's cell): columns read like a table, and only
    // the column of a long name gets wider.
    bool stretchToColumn = false;
    double levelGap = 64; // between columns; links run in this gap
    double siblingGap = 12; // between boxes of one parent
    double subtreeGap = 26; // between neighbouring subtrees
    double treeGap = 44; // between separate trees (one per root provider)
    int wrapAfter = 8; // a parent with more leaf children than this packs them into a block
    // wanted height / width of such a block, and of a pack of provider subtrees (a parent with
    // three or more of them lays each out on its own and packs them into columns)
    double blockAspect = 0.6;
    double blockRowGap = 10;
    double busBand = 20; // room above a block for the bus that feeds its columns
    double busInset = 16; // distance of a block column's feeder line from its boxes
    double groupGap = 56; // between the forest and the groups below it
    double groupPadding = 14;
    double groupCaption = 28; // room for a group's title
    QSizeF internetSize {116, 46};
};

// One qube as the layout sees it. Index i in the input list is qube i.
struct LayoutQube
{
    int parent = -1; // index of its netvm in the same list; -1 when none or not known
    QSizeF size;
    bool providesNetwork = false;
    bool hasNetvm = false; // a netvm is set (even when it dangles or forms a loop)
    bool isTemplate = false;
};

struct LayoutBox
{
    enum class Kind { Qube, Internet };
    Kind kind = Kind::Qube;
    int qube = -1; // the qube (Qube), or the root provider this Internet end belongs to
    QRectF rect;
};

// A drawn link between a qube and its netvm (or a root provider and its Internet end).
struct LayoutLink
{
    int lower = -1; // box index of the qube
    int upper = -1; // box index of its netvm or Internet end
    // From the upper box's exit port to the lower box's entry port, horizontal at both ends.
    // Segment curveSegment is meant to be drawn as a smooth S curve (horizontal tangents at both
    // of its ends), the others straight.
    std::vector<QPointF> route;
    int curveSegment = 0;
    // Leading segments of route that siblings share (the bus feeding a packed block), 0 for a
    // direct link. Only the remaining segments belong to this link alone.
    int sharedSegments = 0;
};

struct LayoutGroup
{
    enum class Kind { NoNetwork, Templates };
    Kind kind = Kind::NoNetwork;
    QRectF rect; // the frame, caption included
    QRectF caption; // where the title goes
    std::vector<int> boxes;
};

struct NetworkLayout
{
    std::vector<LayoutBox> boxes; // tree boxes in depth-first order, then group members
    std::vector<LayoutLink> links;
    std::vector<LayoutGroup> groups;
    std::vector<int> boxOfQube; // qube index -> box index, -1 when hidden
    QRectF bounds; // top left is (0, 0)
};

class TreeLayout
{
public:
    explicit TreeLayout(TreeLayoutOptions options = {})
        : m_options(options)
    {
    }
    const TreeLayoutOptions &options() const { return m_options; }

    // Linear in the number of qubes; the same input always gives the same coordinates.
    // Parent indices that are out of range or form loops are treated as "no parent".
    NetworkLayout layout(const std::vector<LayoutQube> &qubes) const;
    // sizes[i] is the box size of snapshot.qubes[i].
    NetworkLayout layout(const Snapshot &snapshot, const Topology &topology,
                         const std::vector<QSizeF> &sizes) const;
    static std::vector<LayoutQube> inputFrom(const Snapshot &snapshot, const Topology &topology,
                                             const std::vector<QSizeF> &sizes);

private:
    TreeLayoutOptions m_options;
};

} // namespace netmap
