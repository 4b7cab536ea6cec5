// Where templates' updates go and where disposables leave, on request: the View toggle draws them
// as dashed edges with a legend entry, the inspector lists them, and exports carry them only
// while they are shown.

#include "diagram/diagramscene.h"
#include "diagram/legenditem.h"
#include "diagram/sidepathitem.h"
#include "export/diagramexport.h"
#include "export/diagrampicture.h"
#include "inspector/inspectordock.h"
#include "mainwindow.h"

#include <QAction>
#include <QFile>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace netmap;

namespace {

QAction *viewAction(MainWindow &window, const QString &name)
{
    for (QAction *a : window.viewMenu()->actions())
        if (a->objectName() == name)
            return a;
    return nullptr;
}

QStringList sideKeys(const DiagramScene &scene)
{
    QStringList keys;
    for (const SidePathItem *item : scene.sidePathItems())
        keys << QStringLiteral("%1:%2->%3")
                    .arg(item->sidePath().kind == SidePath::Kind::Updates ? "updates" : "dispvm",
                         item->sidePath().from, item->sidePath().to);
    keys.sort();
    return keys;
}

QString exportSvg(MainWindow &window, const QTemporaryDir &dir, const QString &name)
{
    const QString path = dir.filePath(name);
    if (!window.exportPictureTo(path).ok())
        return {};
    QFile f(path);
    f.open(QIODevice::ReadOnly);
    return QString::fromUtf8(f.readAll());
}

} // namespace

class tst_SidePathItem : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void init() { QSettings().clear(); }
    void toggleDrawsDashedEdges();
    void inspectorListsThem();
    void exportsOnlyWhenShown();
    void pictureDrawsThem();
};

void tst_SidePathItem::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName("qubes-netmap-tests");
    QCoreApplication::setApplicationName("tst_sidepathitem");
}

void tst_SidePathItem::toggleDrawsDashedEdges()
{
    MainWindow window(SourceSpec {SourceSpec::Kind::Demo, QString()});
    window.resize(1280, 800);
    QAction *toggle = viewAction(window, "sidePathsAction");
    QVERIFY(toggle);
    QVERIFY(toggle->isCheckable());
    QCOMPARE(toggle->shortcut(), QKeySequence(Qt::CTRL | Qt::Key_U));
    QVERIFY(window.scene()->sidePathItems().isEmpty()); // off by default

    toggle->trigger();
    QVERIFY(window.scene()->showSidePaths());
    QVERIFY(window.scene()->showTemplates()); // update paths start at templates
    // The demo: debian templates update through sys-net, Whonix ones through sys-whonix;
    // work-vpn's disposables (default-dvm) leave by sys-firewall, not its sys-vpn.
    QCOMPARE(sideKeys(*window.scene()),
             QStringList({"dispvm:work-vpn->sys-firewall", "updates:debian-12-xfce->sys-net",
                          "updates:whonix-gateway-17->sys-whonix",
                          "updates:whonix-workstation-17->sys-whonix"}));
    for (const SidePathItem *item : window.scene()->sidePathItems()) {
        QVERIFY(item->pen().style() == Qt::CustomDashLine); // dashed, never solid like a link
        QVERIFY(!item->toolTip().isEmpty());
        QVERIFY(window.scene()->sceneRect().contains(item->sceneBoundingRect()));
    }
    // Two distinct kinds: different colours and dash patterns.
    QVERIFY(SidePathItem::penFor(SidePath::Kind::Updates).color()
            != SidePathItem::penFor(SidePath::Kind::Disposables).color());
    QVERIFY(SidePathItem::penFor(SidePath::Kind::Updates).dashPattern()
            != SidePathItem::penFor(SidePath::Kind::Disposables).dashPattern());
    // The legend says what they are.
    const QStringList legend = window.scene()->legend()->texts();
    QVERIFY(legend.join('\n').contains("templates' updates"));
    QVERIFY(legend.join('\n').contains("disposables leaving by another netvm, 1 shown"));

    toggle->trigger();
    QVERIFY(window.scene()->sidePathItems().isEmpty());
    QVERIFY(!window.scene()->legend()->texts().join('\n').contains("templates' updates"));
}

void tst_SidePathItem::inspectorListsThem()
{
    MainWindow window(SourceSpec {SourceSpec::Kind::Demo, QString()});
    auto *label = window.inspector()->findChild<QLabel *>("sidePaths");
    QVERIFY(label);
    window.inspect("work-vpn");
    QVERIFY(label->isHidden()); // on request only
    viewAction(window, "sidePathsAction")->trigger();
    window.inspect("work-vpn");
    QVERIFY(!label->isHidden());
    QVERIFY2(label->text().contains("Disposables: from default-dvm, leave by sys-firewall (not its "
                                    "own netvm)"),
             qPrintable(label->text()));
    window.inspect("whonix-gateway-17");
    QVERIFY2(label->text().contains("Updates: through sys-whonix (50-config-updates.policy:1)"),
             qPrintable(label->text()));
    window.inspect("sys-net");
    QVERIFY2(label->text().contains("Carries the updates of: debian-12-xfce"),
             qPrintable(label->text()));
}

void tst_SidePathItem::exportsOnlyWhenShown()
{
    QTemporaryDir dir;
    MainWindow window(SourceSpec {SourceSpec::Kind::Demo, QString()});
    const QString off = exportSvg(window, dir, "off.svg");
    QVERIFY(!off.isEmpty());
    QVERIFY(!off.contains("side-paths"));
    viewAction(window, "sidePathsAction")->trigger();
    const QString on = exportSvg(window, dir, "on.svg");
    QVERIFY(on.contains("id=\"side-paths\""));
    QVERIFY(on.contains("class=\"side updates\" data-from=\"debian-12-xfce\" data-to=\"sys-net\""));
    QVERIFY(
        on.contains("class=\"side disposables\" data-from=\"work-vpn\" data-to=\"sys-firewall\""));
    QVERIFY(on.contains("stroke-dasharray"));
    QVERIFY(on.contains("templates&apos; updates") || on.contains("templates' updates"));
}

void tst_SidePathItem::pictureDrawsThem()
{
    const MainWindow window(SourceSpec {SourceSpec::Kind::Demo, QString()});
    const Snapshot &demo = window.snapshot();
    const DiagramPicture without(demo, true, {}, 0, false);
    QVERIFY(without.sides().empty());
    const DiagramPicture with(demo, true, {}, 0, true);
    QCOMPARE(int(with.sides().size()), 4);
    for (const auto &side : with.sides())
        QVERIFY(with.rect().contains(side.route.boundingRect()));
    QVERIFY(with.legendDetails().join('\n').contains("templates' updates"));
    // Templates hidden: no box to start from, so no update path.
    const DiagramPicture hidden(demo, false, {}, 0, true);
    QCOMPARE(int(hidden.sides().size()), 1);
}

QTEST_MAIN(tst_SidePathItem)
#include "tst_sidepathitem.moc"
