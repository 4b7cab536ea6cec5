#pragma once
// ClusterItem: a netvm's plain clients folded into one box ("42 qubes") so that a large network
// stays readable; clicking it (or Right on the netvm) shows them again.

#include "model/qubeverdict.h"

#include <QGraphicsItem>
#include <QStringList>

namespace netmap {

class ClusterItem : public QGraphicsItem
{
public:
    enum { Type = UserType + 7 };

    // members: the folded qubes, sorted; mark: the worst of their verdicts (a failure inside
    // the fold shows on the fold).
    ClusterItem(const QString &netvm, const QStringList &members, VerdictMark mark, double width,
                QGraphicsItem *parent = nullptr);
    int type() const override { return Type; }

    const QString &netvm() const { return m_netvm; }
    const QStringList &members() const { return m_members; }
    VerdictMark verdict() const { return m_verdict; }
    const QString &displayedName() const { return m_shownName; } // "42 qubes"
    const QString &displayedDetail() const { return m_shownDetail; }
    void setMatched(bool matched);
    // One of the folded qubes changed since a compared snapshot.
    void setChanged(bool changed);
    bool isChanged() const { return m_changed; }
    bool isMatched() const { return m_matched; }

    // The width the text of a fold of count qubes wants.
    static double preferredWidth(int count);

    QRectF boundingRect() const override;
    QPainterPath shape() const override;
    void paint(QPainter *painter, const QStyleOptionGraphicsItem *option, QWidget *widget) override;

private:
    QString m_netvm;
    QStringList m_members;
    VerdictMark m_verdict = VerdictMark::None;
    QString m_shownName;
    QString m_shownDetail;
    bool m_matched = false;
    bool m_changed = false;
    QRectF m_rect;
};

} // namespace netmap
