// Where templates' updates go: dom0's qubes.UpdatesProxy policy read as qrexec reads it, and
// "cannot tell" for whatever the reader does not understand.

#include "formats/jsonexport.h"
#include "formats/snapshotyaml.h"
#include "io/redaction.h"
#include "qubes/updatespolicy.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

using namespace netmap;

namespace {

using Files = QMap<QString, QByteArray>; // path under the folder -> content

Qube qube(const char *name, const char *klass, QStringList tags = {}, const char *netvm = nullptr)
{
    Qube q;
    q.name = *QubeName::fromUntrusted(QString::fromLatin1(name));
    q.klass = QString::fromLatin1(klass);
    q.state = QStringLiteral("Halted");
    q.tags = tags;
    if (netvm)
        q.netvm = QubeName::fromUntrusted(QString::fromLatin1(netvm));
    return q;
}

Snapshot network()
{
    Snapshot s;
    s.source = QStringLiteral("qvm-ls");
    s.qubes = {qube("cacher", "AppVM", {}, "sys-net"),
               qube("debian-12", "TemplateVM"),
               qube("sys-firewall", "AppVM", {}, "sys-net"),
               qube("sys-net", "AppVM"),
               qube("sys-whonix", "AppVM", {}, "sys-firewall"),
               qube("whonix-gw-17", "TemplateVM", {QStringLiteral("whonix-updatevm")}),
               qube("work", "AppVM", {}, "sys-firewall")};
    return s;
}

bool writeFiles(const QString &root, const Files &files)
{
    for (auto it = files.cbegin(); it != files.cend(); ++it) {
        const QString path = root + u'/' + it.key();
        QDir().mkpath(QFileInfo(path).absolutePath());
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly) || f.write(*it) != it->size())
            return false;
    }
    return true;
}

const QByteArray kDefault
    = "## Do not modify this file\n"
      "qubes.UpdatesProxy  *  @type:TemplateVM  @default  allow target=sys-net\n"
      "qubes.UpdatesProxy  *  @anyvm  @anyvm  deny\n";
const QByteArray kWhonix
    = "qubes.UpdatesProxy * @tag:whonix-updatevm @default allow target=sys-whonix\n"
      "qubes.UpdatesProxy * @tag:whonix-updatevm @anyvm deny\n";

} // namespace

class tst_UpdatesPolicy : public QObject
{
    Q_OBJECT
private slots:
    void resolve_data();
    void resolve();
    void runtimeFolderHidesEtc();
    void noFolderCannotTell();
    void savedAndLoaded();
    void savedRoutesRefused_data();
    void savedRoutesRefused();
    void jsonAndRedaction();
};

void tst_UpdatesPolicy::resolve_data()
{
    QTest::addColumn<Files>("files");
    QTest::addColumn<QString>("templ");
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("via");
    QTest::addColumn<QString>("text"); // in the rule or reason

    const Files standard {{"90-default.policy", kDefault}, {"50-config-updates.policy", kWhonix}};
    QTest::newRow("default-debian") << standard << "debian-12"
                                    << "proxy"
                                    << "sys-net"
                                    << "90-default.policy:2";
    // 50-… comes before 90-… (lexical order), and the tag rule is first there.
    QTest::newRow("whonix-tag") << standard << "whonix-gw-17"
                                << "proxy"
                                << "sys-whonix"
                                << "50-config-updates.policy:1";
    QTest::newRow("user-file-first")
        << Files {{"90-default.policy", kDefault},
                  {"30-user.policy",
                   "qubes.UpdatesProxy * @type:TemplateVM @default allow target=cacher\n"}}
        << "debian-12"
        << "proxy"
        << "cacher"
        << "30-user.policy:1";
    QTest::newRow("first-match-in-file")
        << Files {{"50-a.policy",
                   "qubes.UpdatesProxy * debian-12 @default allow target=sys-firewall\n"
                   "qubes.UpdatesProxy * @type:TemplateVM @default allow target=sys-net\n"}}
        << "debian-12"
        << "proxy"
        << "sys-firewall"
        << "50-a.policy:1";
    QTest::newRow("other-service-skipped")
        << Files {{"50-a.policy",
                   "qubes.Filecopy * @anyvm @anyvm ask\n"
                   "qubes.UpdatesProxy +other @type:TemplateVM @default allow target=work\n"
                   "qubes.UpdatesProxy + @type:TemplateVM @default allow target=sys-firewall\n"}}
        << "debian-12"
        << "proxy"
        << "sys-firewall"
        << "50-a.policy:3";
    QTest::newRow("wildcard-service")
        << Files {{"10-a.policy", "* * @anyvm @anyvm allow target=sys-firewall\n"}} << "debian-12"
        << "proxy"
        << "sys-firewall"
        << "10-a.policy:1";
    QTest::newRow("other-class-skipped")
        << Files {{"10-a.policy",
                   "qubes.UpdatesProxy * @type:AppVM @default allow target=work\n"
                   "qubes.UpdatesProxy * @tag:nope @default allow target=work\n"
                   "qubes.UpdatesProxy * @adminvm @default allow target=work\n"
                   "qubes.UpdatesProxy * @type:TemplateVM @type:TemplateVM allow\n"
                   "qubes.UpdatesProxy * * @default allow target=sys-net\n"}}
        << "debian-12"
        << "proxy"
        << "sys-net"
        << "10-a.policy:5";
    QTest::newRow("deny") << Files {{"10-a.policy", "qubes.UpdatesProxy * debian-12 @anyvm deny\n"}}
                          << "debian-12"
                          << "denied"
                          << ""
                          << "10-a.policy:1";
    QTest::newRow("no-rule") << Files {{"10-a.policy", "qubes.Filecopy * @anyvm @anyvm deny\n"}}
                             << "debian-12"
                             << "denied"
                             << ""
                             << "no qubes.UpdatesProxy rule";
    QTest::newRow("allow-without-target")
        << Files {{"10-a.policy", "qubes.UpdatesProxy * @anyvm @anyvm allow\n"}} << "debian-12"
        << "denied"
        << ""
        << "without a target";
    QTest::newRow("ask")
        << Files {{"10-a.policy",
                   "qubes.UpdatesProxy * @anyvm @anyvm ask default_target=sys-net\n"}}
        << "debian-12"
        << "ask"
        << "sys-net"
        << "10-a.policy:1";
    QTest::newRow("target-not-on-map")
        << Files {{"10-a.policy", "qubes.UpdatesProxy * @anyvm @default allow target=ghost\n"}}
        << "debian-12"
        << "unknown"
        << ""
        << "not a qube on this map";
    QTest::newRow("target-disposable")
        << Files {{"10-a.policy", "qubes.UpdatesProxy * @anyvm @default allow target=@dispvm\n"}}
        << "debian-12"
        << "unknown"
        << ""
        << "not a qube on this map";
    QTest::newRow("adminvm-target")
        << Files {{"10-a.policy", "qubes.UpdatesProxy * @anyvm @default allow target=@adminvm\n"}}
        << "debian-12"
        << "proxy"
        << "dom0"
        << "10-a.policy:1";
    QTest::newRow("uuid-source")
        << Files {{"10-a.policy",
                   "qubes.UpdatesProxy * uuid:9d5e1f2a-0000-4000-8000-000000000000 @default "
                   "allow target=work\n"},
                  {"90-default.policy", kDefault}}
        << "debian-12"
        << "unknown"
        << ""
        << "UUID";
    QTest::newRow("include")
        << Files {{"20-a.policy", "!include include/updates\n"},
                  {"include/updates",
                   "# included\nqubes.UpdatesProxy * @anyvm @default allow target=cacher\n"},
                  {"90-default.policy", kDefault}}
        << "debian-12"
        << "proxy"
        << "cacher"
        << "include/updates:2";
    QTest::newRow("include-dir")
        << Files {{"20-a.policy", "!include-dir include\n"},
                  {"include/README", "not policy at all\n"},
                  {"include/b.policy", "qubes.UpdatesProxy * @anyvm @default allow target=work\n"},
                  {"include/a.policy",
                   "qubes.UpdatesProxy * @anyvm @default allow target=cacher\n"}}
        << "debian-12"
        << "proxy"
        << "cacher"
        << "include/a.policy:1";
    QTest::newRow("include-service-old-format")
        << Files {{"20-a.policy", "!include-service qubes.UpdatesProxy * include/old\n"},
                  {"include/old",
                   "$tag:whonix-updatevm $default allow,target=sys-whonix\n"
                   "$anyvm $anyvm deny\n"}}
        << "whonix-gw-17"
        << "proxy"
        << "sys-whonix"
        << "include/old:1";
    QTest::newRow("include-outside-undecided") << Files {{"20-a.policy", "!include ../outside\n"},
                                                         {"../outside", "# x\n"},
                                                         {"90-default.policy", kDefault}}
                                               << "debian-12"
                                               << "unknown"
                                               << ""
                                               << "outside the policy folder";
    QTest::newRow("include-outside-after-decision")
        << Files {{"10-a.policy",
                   "qubes.UpdatesProxy * debian-12 @default allow target=cacher\n"
                   "!include ../outside\n"},
                  {"../outside", "# x\n"}}
        << "debian-12"
        << "proxy"
        << "cacher"
        << "10-a.policy:1";
    QTest::newRow("include-missing")
        << Files {{"90-default.policy", kDefault}, {"95-z.policy", "!include include/nothing\n"}}
        << "debian-12"
        << "unknown"
        << ""
        << "not a file";
    QTest::newRow("include-loop") << Files {{"20-a.policy", "!include include/loop\n"},
                                            {"include/loop", "!include include/loop\n"}}
                                  << "debian-12"
                                  << "unknown"
                                  << ""
                                  << "nested";
    QTest::newRow("compat-40") << Files {{"35-compat.policy", "!compat-4.0\n"},
                                         {"90-default.policy", kDefault}}
                               << "debian-12"
                               << "unknown"
                               << ""
                               << "4.0";
    // qrexec refuses the whole policy on a syntax error anywhere, even after the deciding rule.
    QTest::newRow("garbage-later")
        << Files {{"90-default.policy", kDefault}, {"99-z.policy", "this is not a rule\n"}}
        << "debian-12"
        << "unknown"
        << ""
        << "99-z.policy:1";
    QTest::newRow("bad-directive")
        << Files {{"90-default.policy", kDefault}, {"10-a.policy", "!includ include/x\n"}}
        << "debian-12"
        << "unknown"
        << ""
        << "invalid directive";
    QTest::newRow("bad-action") << Files {{"90-default.policy", kDefault},
                                          {"10-a.policy",
                                           "qubes.Filecopy * @anyvm @anyvm permit\n"}}
                                << "debian-12"
                                << "unknown"
                                << ""
                                << "invalid action";
    QTest::newRow("bad-source-token")
        << Files {{"90-default.policy", kDefault},
                  {"10-a.policy", "qubes.Filecopy * @default @anyvm deny\n"}}
        << "debian-12"
        << "unknown"
        << ""
        << "invalid source";
    QTest::newRow("bad-param")
        << Files {{"90-default.policy", kDefault},
                  {"10-a.policy", "qubes.UpdatesProxy * @anyvm @anyvm deny target=sys-net\n"}}
        << "debian-12"
        << "unknown"
        << ""
        << "invalid parameter";
    QTest::newRow("allow-default-without-target")
        << Files {{"90-default.policy", kDefault},
                  {"10-a.policy", "qubes.Filecopy * @anyvm @default allow\n"}}
        << "debian-12"
        << "unknown"
        << ""
        << "without target=";
    QTest::newRow("bad-file-name")
        << Files {{"90-default.policy", kDefault}, {"10-User.policy", "# x\n"}} << "debian-12"
        << "unknown"
        << ""
        << "file name";
    QTest::newRow("ignored-files") << Files {{"90-default.policy", kDefault},
                                             {"10-a.policy.rpmnew", "garbage\n"},
                                             {".10-b.policy", "garbage\n"},
                                             {"README", "garbage\n"}}
                                   << "debian-12"
                                   << "proxy"
                                   << "sys-net"
                                   << "90-default.policy:2";
    QTest::newRow("non-ascii-rule")
        << Files {{"90-default.policy", kDefault},
                  {"10-a.policy", "qubes.UpdatesProxy\xc2\xa0* @anyvm @anyvm deny\n"}}
        << "debian-12"
        << "unknown"
        << ""
        << "U+00a0";
    QTest::newRow("non-ascii-comment")
        << Files {{"90-default.policy", "# caf\xc3\xa9\n" + kDefault}} << "debian-12"
        << "proxy"
        << "sys-net"
        << "90-default.policy:3";
    QTest::newRow("not-utf8") << Files {{"90-default.policy", "# \xff\n" + kDefault}} << "debian-12"
                              << "unknown"
                              << ""
                              << "UTF-8";
    QTest::newRow("crlf")
        << Files {{"90-default.policy",
                   "# a\r\nqubes.UpdatesProxy * @anyvm @default allow target=work\r\n"}}
        << "debian-12"
        << "proxy"
        << "work"
        << "90-default.policy:2";
}

void tst_UpdatesPolicy::resolve()
{
    QFETCH(Files, files);
    QFETCH(QString, templ);
    QFETCH(QString, kind);
    QFETCH(QString, via);
    QFETCH(QString, text);

    QTemporaryDir tmp;
    const QString dir = tmp.path() + QStringLiteral("/policy.d");
    QVERIFY(QDir().mkpath(dir));
    QVERIFY(writeFiles(dir, files));

    const QList<UpdatesRoute> routes = resolveUpdatesRoutes(network(), {{dir}});
    QCOMPARE(routes.size(), 2); // the templates only
    const UpdatesRoute *route = nullptr;
    for (const UpdatesRoute &r : routes)
        if (r.templ.toString() == templ)
            route = &r;
    QVERIFY(route);
    QCOMPARE(updatesKindId(route->kind), kind);
    QCOMPARE(route->via ? route->via->toString() : QString(), via);
    QVERIFY2(route->rule.contains(text) || route->reason.contains(text),
             qPrintable(route->rule + QStringLiteral(" / ") + route->reason));
}

void tst_UpdatesPolicy::runtimeFolderHidesEtc()
{
    QTemporaryDir tmp;
    const QString run = tmp.path() + QStringLiteral("/run"),
                  etc = tmp.path() + QStringLiteral("/etc");
    QVERIFY(writeFiles(etc, {{"90-default.policy", kDefault}, {"50-x.policy", "garbage\n"}}));
    QVERIFY(writeFiles(
        run, {{"50-x.policy", "qubes.UpdatesProxy * @anyvm @default allow target=work\n"}}));
    const auto routes = resolveUpdatesRoutes(network(), {{run, etc}});
    QCOMPARE(routes.size(), 2);
    for (const UpdatesRoute &r : routes) {
        QCOMPARE(r.kind, UpdatesRoute::Kind::Proxy);
        QCOMPARE(r.via->toString(), QStringLiteral("work"));
    }
}

void tst_UpdatesPolicy::noFolderCannotTell()
{
    const auto routes
        = resolveUpdatesRoutes(network(), {{QStringLiteral("/nonexistent/policy.d")}});
    QCOMPARE(routes.size(), 2);
    for (const UpdatesRoute &r : routes) {
        QCOMPARE(r.kind, UpdatesRoute::Kind::Unknown);
        QVERIFY(!r.via);
        QVERIFY(r.reason.contains(QStringLiteral("no qrexec policy folder")));
    }
}

void tst_UpdatesPolicy::savedAndLoaded()
{
    QTemporaryDir tmp;
    QVERIFY(writeFiles(tmp.path(),
                       {{"90-default.policy", kDefault},
                        {"50-config-updates.policy", kWhonix},
                        {"10-a.policy", "qubes.UpdatesProxy * uuid:x @default deny\n"}}));
    Snapshot s = network();
    s.stamp();
    s.updates = resolveUpdatesRoutes(s, {{tmp.path()}});
    QCOMPARE(s.updates.size(), 2);
    const auto loaded = snapshotFromYaml(snapshotToYaml(s), QStringLiteral("saved.yaml"));
    QVERIFY2(loaded.ok(), loaded.ok() ? "" : qPrintable(loaded.error().message));
    QCOMPARE(loaded.value().updates, s.updates);
    QVERIFY(loaded.value() == s);
    // Proxy routes survive as well.
    Snapshot t = network();
    t.stamp();
    QTemporaryDir tmp2;
    QVERIFY(writeFiles(tmp2.path(),
                       {{"90-default.policy", kDefault}, {"50-config-updates.policy", kWhonix}}));
    t.updates = resolveUpdatesRoutes(t, {{tmp2.path()}});
    const auto again = snapshotFromYaml(snapshotToYaml(t), QStringLiteral("saved.yaml"));
    QVERIFY(again.ok());
    QCOMPARE(again.value().updates, t.updates);
    QCOMPARE(again.value().updatesRoute(u"whonix-gw-17")->via->toString(),
             QStringLiteral("sys-whonix"));
}

void tst_UpdatesPolicy::savedRoutesRefused_data()
{
    QTest::addColumn<QByteArray>("updates");
    QTest::addColumn<QString>("message");
    QTest::newRow("unknown-key") << QByteArray(
        "- {template: t1, route: proxy, via: sys-net, colour: red}\n")
                                 << "unknown key";
    QTest::newRow("unknown-route")
        << QByteArray("- {template: t1, route: maybe}\n") << "unknown route";
    QTest::newRow("proxy-without-via")
        << QByteArray("- {template: t1, route: proxy}\n") << "needs \"via\"";
    QTest::newRow("bad-name") << QByteArray("- {template: t1, route: proxy, via: \"<b>x\"}\n")
                              << "via";
    QTest::newRow("twice") << QByteArray(
        "- {template: t1, route: denied}\n- {template: t1, route: denied}\n")
                           << "two update routes";
    QTest::newRow("not-a-list") << QByteArray("  template: t1\n") << "updates";
}

void tst_UpdatesPolicy::savedRoutesRefused()
{
    QFETCH(QByteArray, updates);
    QFETCH(QString, message);
    const QByteArray yaml = "schema: qubes-netmap-snapshot/1\nsource: snapshot\n"
                            "qubes:\n- {name: t1, class: TemplateVM, state: Halted}\nupdates:\n"
        + updates;
    const auto loaded = snapshotFromYaml(yaml, QStringLiteral("x.yaml"));
    QVERIFY(!loaded.ok());
    QVERIFY2(loaded.error().message.contains(message), qPrintable(loaded.error().message));
}

void tst_UpdatesPolicy::jsonAndRedaction()
{
    QTemporaryDir tmp;
    QVERIFY(writeFiles(tmp.path(),
                       {{"90-default.policy", kDefault}, {"50-config-updates.policy", kWhonix}}));
    Snapshot s = network();
    s.updates = resolveUpdatesRoutes(s, {{tmp.path()}});
    const QJsonObject root = QJsonDocument::fromJson(exportJson(s)).object();
    bool seen = false;
    for (const QJsonValue &v : root.value(QStringLiteral("qubes")).toArray()) {
        const QJsonObject q = v.toObject();
        if (q.value(QStringLiteral("name")).toString() == QLatin1String("whonix-gw-17")) {
            const QJsonObject u = q.value(QStringLiteral("updates")).toObject();
            QCOMPARE(u.value(QStringLiteral("route")).toString(), QStringLiteral("proxy"));
            QCOMPARE(u.value(QStringLiteral("via")).toString(), QStringLiteral("sys-whonix"));
            seen = true;
        } else if (q.value(QStringLiteral("class")).toString() != QLatin1String("TemplateVM")) {
            QVERIFY(q.value(QStringLiteral("updates")).isNull());
        }
    }
    QVERIFY(seen);
    // Names redacted: the template and its proxy follow the pseudonyms.
    const Snapshot r = redactedSnapshot(s, RedactOptions {false, true});
    QCOMPARE(r.updates.size(), 2);
    for (const UpdatesRoute &u : r.updates) {
        QVERIFY(r.find(u.templ.toString()));
        QVERIFY(u.via && r.find(u.via->toString()));
        QVERIFY(!u.templ.toString().contains(QStringLiteral("debian")));
        QVERIFY(!u.via->toString().contains(QStringLiteral("whonix"))
                || u.via->toString() != QStringLiteral("sys-whonix"));
    }
}

QTEST_GUILESS_MAIN(tst_UpdatesPolicy)
#include "tst_updatespolicy.moc"
