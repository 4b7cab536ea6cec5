#include "diagramaccessible.h"

#include "clusteritem.h"
#include "diagramscene.h"
#include "diagramview.h"
#include "qubeitem.h"

#include <QPointer>
#include <QWindow>

namespace netmap {

namespace {

const QString kFoldPrefix = QStringLiteral("fold:");

QString describeQube(const QubeItem *item)
{
    QString text = QStringLiteral("%1, %2").arg(item->name(), QubeItem::kindName(item->kind()));
    if (!item->displayedDetail().isEmpty())
        text += QStringLiteral(", ") + item->displayedDetail();
    if (item->verdict() != VerdictMark::None)
        text += QStringLiteral(", checks: %1").arg(verdictMarkWords(item->verdict()));
    return text;
}

QString describeFold(const ClusterItem *fold)
{
    QString text = QStringLiteral("%1 behind %2, folded").arg(fold->displayedName(), fold->netvm());
    if (fold->verdict() != VerdictMark::None)
        text += QStringLiteral(", checks: %1").arg(verdictMarkWords(fold->verdict()));
    return text;
}

// One qube (or fold) of the map. Not a QObject: it finds its item by name each time, so it
// stays safe across rebuilds (isValid() turns false when the item is gone).
class QubeAccessible : public QAccessibleInterface, public QAccessibleActionInterface
{
public:
    QubeAccessible(DiagramView *view, const QString &name, bool fold)
        : m_view(view)
        , m_name(name)
        , m_fold(fold)
    {
    }

    bool isValid() const override { return graphicsItem() != nullptr; }
    QObject *object() const override { return nullptr; }
    QWindow *window() const override { return m_view ? m_view->window()->windowHandle() : nullptr; }
    QAccessibleInterface *childAt(int, int) const override { return nullptr; }
    QAccessibleInterface *parent() const override
    {
        return m_view ? QAccessible::queryAccessibleInterface(m_view.data()) : nullptr;
    }
    QAccessibleInterface *child(int) const override { return nullptr; }
    int childCount() const override { return 0; }
    int indexOfChild(const QAccessibleInterface *) const override { return -1; }

    QString text(QAccessible::Text t) const override
    {
        const QGraphicsItem *item = graphicsItem();
        if (!item)
            return QString();
        switch (t) {
        case QAccessible::Name:
            if (const auto *qube = qgraphicsitem_cast<const QubeItem *>(item))
                return describeQube(qube);
            return describeFold(qgraphicsitem_cast<const ClusterItem *>(item));
        case QAccessible::Description:
            return m_fold ? QStringLiteral("Press to show them.")
                          : QStringLiteral("Press to inspect; the context menu has its checks.");
        default:
            return QString();
        }
    }
    void setText(QAccessible::Text, const QString &) override { }
    QRect rect() const override
    {
        const QGraphicsItem *item = graphicsItem();
        if (!item || !m_view)
            return QRect();
        const QRect inView = m_view->mapFromScene(item->sceneBoundingRect()).boundingRect();
        return QRect(m_view->viewport()->mapToGlobal(inView.topLeft()), inView.size());
    }
    QAccessible::Role role() const override { return QAccessible::ListItem; }
    QAccessible::State state() const override
    {
        QAccessible::State s;
        const QGraphicsItem *item = graphicsItem();
        if (!item || !m_view) {
            s.invalid = true;
            return s;
        }
        s.selectable = !m_fold;
        s.focusable = !m_fold;
        s.selected = item->isSelected();
        s.focused = item->isSelected() && m_view->hasFocus();
        const QRect visible = m_view->viewport()->rect();
        s.offscreen
            = !visible.intersects(m_view->mapFromScene(item->sceneBoundingRect()).boundingRect());
        return s;
    }
    void *interface_cast(QAccessible::InterfaceType type) override
    {
        return type == QAccessible::ActionInterface
            ? static_cast<QAccessibleActionInterface *>(this)
            : nullptr;
    }

    QStringList actionNames() const override
    {
        if (m_fold)
            return {pressAction()};
        return {pressAction(), setFocusAction(), showMenuAction()};
    }
    void doAction(const QString &action) override
    {
        auto *diagram = m_view ? qobject_cast<DiagramScene *>(m_view->scene()) : nullptr;
        if (!diagram || !isValid())
            return;
        if (m_fold) {
            if (action == pressAction())
                diagram->showClients(m_name);
            return;
        }
        diagram->selectQube(m_name);
        if (action == pressAction())
            emit diagram->qubeActivated(m_name);
        else if (action == showMenuAction())
            m_view->openContextMenu();
    }
    QStringList keyBindingsForAction(const QString &action) const override
    {
        if (action == pressAction())
            return {QStringLiteral("Return")};
        if (action == showMenuAction())
            return {QStringLiteral("Shift+F10")};
        return {};
    }

private:
    const QGraphicsItem *graphicsItem() const
    {
        auto *diagram = m_view ? qobject_cast<DiagramScene *>(m_view->scene()) : nullptr;
        if (!diagram)
            return nullptr;
        if (m_fold)
            return diagram->clusterItem(m_name);
        return diagram->qubeItem(m_name);
    }

    QPointer<DiagramView> m_view;
    QString m_name;
    bool m_fold = false;
};

QAccessibleInterface *factory(const QString &className, QObject *object)
{
    if (className == QLatin1String("netmap::DiagramView") && object && object->isWidgetType())
        return new DiagramAccessible(static_cast<DiagramView *>(object));
    return nullptr;
}

} // namespace

DiagramAccessible::DiagramAccessible(DiagramView *view)
    : QAccessibleWidget(view, QAccessible::List, QStringLiteral("Network map"))
{
}

DiagramAccessible::~DiagramAccessible()
{
    for (const QAccessible::Id id : std::as_const(m_children))
        QAccessible::deleteAccessibleInterface(id);
}

void DiagramAccessible::install()
{
    static const bool installed = [] {
        QAccessible::installFactory(factory);
        return true;
    }();
    Q_UNUSED(installed);
}

DiagramView *DiagramAccessible::view() const
{
    return static_cast<DiagramView *>(widget());
}

QStringList DiagramAccessible::entries() const
{
    QStringList names;
    auto *diagram = qobject_cast<DiagramScene *>(view()->scene());
    if (!diagram)
        return names;
    for (const QubeItem *item : diagram->qubeItems())
        names << item->name();
    for (const ClusterItem *fold : diagram->clusterItems())
        names << kFoldPrefix + fold->netvm();
    return names;
}

QString DiagramAccessible::entryAt(int index, bool *fold) const
{
    const QStringList names = entries();
    if (index < 0 || index >= names.size())
        return QString();
    const bool isFold = names[index].startsWith(kFoldPrefix);
    if (fold)
        *fold = isFold;
    return isFold ? names[index].mid(kFoldPrefix.size()) : names[index];
}

int DiagramAccessible::indexOfEntry(const QString &name, bool fold) const
{
    return int(entries().indexOf(fold ? kFoldPrefix + name : name));
}

int DiagramAccessible::childCount() const
{
    return int(entries().size());
}

QAccessibleInterface *DiagramAccessible::child(int index) const
{
    const QStringList names = entries();
    if (index < 0 || index >= names.size())
        return nullptr;
    const QString &key = names[index];
    if (const auto it = m_children.constFind(key); it != m_children.constEnd())
        if (QAccessibleInterface *iface = QAccessible::accessibleInterface(*it))
            return iface;
    const bool fold = key.startsWith(kFoldPrefix);
    auto *iface = new QubeAccessible(view(), fold ? key.mid(kFoldPrefix.size()) : key, fold);
    m_children.insert(key, QAccessible::registerAccessibleInterface(iface));
    return iface;
}

int DiagramAccessible::indexOfChild(const QAccessibleInterface *child) const
{
    if (!child)
        return -1;
    for (auto it = m_children.cbegin(); it != m_children.cend(); ++it)
        if (QAccessible::accessibleInterface(it.value()) == child)
            return int(entries().indexOf(it.key()));
    return -1;
}

QAccessibleInterface *DiagramAccessible::focusChild() const
{
    auto *diagram = qobject_cast<DiagramScene *>(view()->scene());
    const QString selected = diagram ? diagram->selectedQube() : QString();
    if (selected.isEmpty() || !view()->hasFocus())
        return nullptr;
    return child(indexOfEntry(selected, false));
}

QAccessibleInterface *DiagramAccessible::childAt(int x, int y) const
{
    for (int i = 0; i < childCount(); ++i)
        if (QAccessibleInterface *c = child(i); c && c->rect().contains(x, y))
            return c;
    return nullptr;
}

} // namespace netmap
