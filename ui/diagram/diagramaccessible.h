#pragma once
// DiagramAccessible: the map as screen readers see it: the view is a list whose items are the
// qubes drawn (and folds of clients), each with its name, kind, address and verdict in words,
// selectable, focusable, with Inspect and its context menu as actions.

#include <QAccessibleWidget>
#include <QHash>

namespace netmap {

class DiagramView;

class DiagramAccessible : public QAccessibleWidget
{
public:
    explicit DiagramAccessible(DiagramView *view);
    ~DiagramAccessible() override;

    // Registers the factory that gives every DiagramView this interface (once per process).
    static void install();

    int childCount() const override;
    QAccessibleInterface *child(int index) const override;
    int indexOfChild(const QAccessibleInterface *child) const override;
    QAccessibleInterface *focusChild() const override;
    QAccessibleInterface *childAt(int x, int y) const override;
    // The i-th entry: a qube's name, or the netvm of a fold (with fold set).
    QString entryAt(int index, bool *fold = nullptr) const;
    int indexOfEntry(const QString &name, bool fold) const;

private:
    DiagramView *view() const;
    QStringList entries() const; // qubes by name, then folds ("fold:" + netvm)

    mutable QHash<QString, QAccessible::Id> m_children;
};

} // namespace netmap
