#include "updatespolicy.h"

#include "io/files.h"

#include <QDir>
#include <QFileInfo>
#include <QRegularExpression>
#include <QStringDecoder>

#include <optional>

// The grammar and the semantics follow qrexec's own parser (qubes-core-qrexec,
// qrexec/policy/parser.py): files named [0-9a-z_.-]*.policy in lexical order, the runtime folder
// hiding a file of the same name in /etc; one rule a line, "service argument source target
// action [key=value ...]"; the first rule that matches decides; `!include FILE`,
// `!include-dir DIR` (its *.policy files) and `!include-service SERVICE ARG FILE` (the old
// format, "source target action[,key=value]") relative to the folder of the top-level file. A
// syntax error anywhere makes qrexec refuse the whole policy, so here it makes every answer
// "cannot tell"; a rule that cannot be evaluated (a qube named by UUID, the Qubes 4.0
// compatibility include) makes it "cannot tell" for the templates it comes to.

namespace netmap {

namespace {

constexpr int kMaxFiles = 512;
constexpr qint64 kMaxFileBytes = 1 << 20;
constexpr int kMaxLines = 200000;
constexpr int kMaxDepth = 8;
constexpr int kMaxQuoted = 60;

const QString kService = QStringLiteral("qubes.UpdatesProxy");
const QString kSuffix = QStringLiteral(".policy");

struct Rule
{
    QString where; // "file:line"
    QString source;
    QString target;
    QString action; // allow, deny, ask; empty for a doubt
    QString redirect; // target= (allow) or default_target= (ask)
    bool autostart = true;
    QString doubt; // not empty: nothing after this point can be told
};

QString quoted(const QString &token)
{
    return u'"' + token.left(kMaxQuoted)
        + (token.size() > kMaxQuoted ? QStringLiteral("…\"") : QStringLiteral("\""));
}

bool inCharset(QStringView s, QStringView extra)
{
    for (QChar c : s) {
        const char16_t u = c.unicode();
        const bool ok = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9')
            || extra.contains(c);
        if (!ok)
            return false;
    }
    return true;
}

bool isPolicyFileName(const QString &name)
{
    for (QChar c : name) {
        const char16_t u = c.unicode();
        if (!((u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || u == '_' || u == '.' || u == '-'))
            return false;
    }
    return true;
}

// A qube token of the policy: which column may hold it is the caller's business.
enum class Token {
    Wildcard,
    AnyVm,
    AdminVm,
    Default,
    DispVm,
    Type,
    Tag,
    DispVmTemplate,
    DispVmTag,
    Plain,
    Invalid
};

Token tokenKind(const QString &t)
{
    if (t.isEmpty())
        return Token::Invalid;
    if (t == u"*")
        return Token::Wildcard;
    if (!t.startsWith(u'@'))
        return Token::Plain;
    if (t == u"@anyvm")
        return Token::AnyVm;
    if (t == u"@adminvm")
        return Token::AdminVm;
    if (t == u"@default")
        return Token::Default;
    if (t == u"@dispvm")
        return Token::DispVm;
    const auto prefixed = [&t](QStringView prefix) {
        return t.startsWith(prefix) && t.size() > prefix.size() && t.at(prefix.size()) != u'@';
    };
    if (prefixed(u"@dispvm:@tag:"))
        return Token::DispVmTag;
    if (prefixed(u"@dispvm:"))
        return Token::DispVmTemplate;
    if (prefixed(u"@type:"))
        return Token::Type;
    if (prefixed(u"@tag:"))
        return Token::Tag;
    return Token::Invalid;
}

bool validSource(Token k)
{
    return k == Token::Wildcard || k == Token::AnyVm || k == Token::AdminVm || k == Token::Type
        || k == Token::Tag || k == Token::DispVmTemplate || k == Token::DispVmTag
        || k == Token::Plain;
}

bool validTarget(Token k)
{
    return k != Token::Invalid;
}

bool validRedirect(Token k)
{
    return k == Token::AdminVm || k == Token::DispVm || k == Token::DispVmTemplate
        || k == Token::Plain;
}

class PolicyReader
{
public:
    QList<Rule> rules; // the rules for qubes.UpdatesProxy (and doubts), in qrexec's order
    QString fatal; // set: qrexec would refuse the policy, or this reader cannot read it

    void loadDirs(const QStringList &dirs)
    {
        QMap<QString, QString> byName; // basename -> path; the first folder wins
        bool anyFolder = false;
        for (const QString &dir : dirs) {
            const QFileInfo info(dir);
            if (!info.isDir())
                continue;
            anyFolder = true;
            const QStringList names
                = QDir(dir).entryList(QDir::Files | QDir::Hidden | QDir::System, QDir::Name);
            if (names.size() > kMaxFiles)
                return fail(QStringLiteral("%1 holds more than %2 files").arg(dir).arg(kMaxFiles));
            for (const QString &name : names) {
                if (!name.endsWith(kSuffix) || name.startsWith(u'.'))
                    continue;
                if (!isPolicyFileName(name))
                    return fail(QStringLiteral("%1: a policy file name qrexec refuses, so it "
                                               "refuses the whole policy")
                                    .arg(quoted(name)));
                if (!byName.contains(name))
                    byName.insert(name, QDir(dir).filePath(name));
            }
        }
        if (!anyFolder)
            return fail(QStringLiteral("no qrexec policy folder here (%1)").arg(dirs.join(u", ")));
        for (auto it = byName.cbegin(); it != byName.cend() && fatal.isEmpty(); ++it) {
            m_top = QFileInfo(*it).absolutePath();
            loadFile(*it, it.key(), 0, {});
        }
    }

private:
    QString m_top; // the folder of the top-level file being read: includes are relative to it
    int m_files = 0;
    int m_lines = 0;

    void fail(const QString &why)
    {
        if (fatal.isEmpty())
            fatal = why;
    }

    // The file an include names, resolved as qrexec does; empty with *why when it is not
    // followed (outside the policy folder) or cannot be.
    QString resolve(const QString &where, const QString &included, bool dir, bool *outside)
    {
        *outside = false;
        const QString path = QDir::cleanPath(QDir(m_top).absoluteFilePath(included));
        const QFileInfo info(path);
        if (dir ? !info.isDir() : !info.isFile()) {
            fail(QStringLiteral("%1: not a %2: %3; qrexec refuses the whole policy")
                     .arg(where, dir ? QStringLiteral("folder") : QStringLiteral("file"),
                          quoted(included)));
            return {};
        }
        const QString real = info.canonicalFilePath();
        const QString top = QFileInfo(m_top).canonicalFilePath();
        if (real.isEmpty() || top.isEmpty()
            || !QString(real + u'/').startsWith(QString(top + u'/'))) {
            *outside = true;
            return {};
        }
        return real;
    }

    void include(const QString &where, const QString &included, int depth,
                 const std::optional<QPair<QString, QString>> &service)
    {
        bool outside = false;
        const QString path = resolve(where, included, false, &outside);
        if (outside) {
            rules << Rule {where,
                           {},
                           {},
                           {},
                           {},
                           true,
                           QStringLiteral("%1 includes %2, outside the policy folder, which this "
                                          "program does not read")
                               .arg(where, quoted(included))};
            return;
        }
        if (!path.isEmpty())
            loadFile(path, QDir(m_top).relativeFilePath(path), depth + 1, service);
    }

    void includeDir(const QString &where, const QString &included, int depth)
    {
        bool outside = false;
        const QString dir = QDir::cleanPath(QDir(m_top).absoluteFilePath(included));
        if (!QFileInfo(dir).isDir())
            return fail(QStringLiteral("%1: not a folder: %2; qrexec refuses the whole policy")
                            .arg(where, quoted(included)));
        const QString real = QFileInfo(dir).canonicalFilePath();
        const QString top = QFileInfo(m_top).canonicalFilePath();
        outside = real.isEmpty() || !QString(real + u'/').startsWith(QString(top + u'/'));
        if (outside) {
            rules << Rule {where,
                           {},
                           {},
                           {},
                           {},
                           true,
                           QStringLiteral("%1 includes the folder %2, outside the policy folder, "
                                          "which this program does not read")
                               .arg(where, quoted(included))};
            return;
        }
        const QStringList names
            = QDir(real).entryList(QDir::Files | QDir::Hidden | QDir::System, QDir::Name);
        if (names.size() > kMaxFiles)
            return fail(QStringLiteral("%1 holds more than %2 files").arg(real).arg(kMaxFiles));
        QStringList kept;
        for (const QString &name : names) {
            if (!name.endsWith(kSuffix) || name.startsWith(u'.'))
                continue;
            if (!isPolicyFileName(name))
                return fail(QStringLiteral("%1: a policy file name qrexec refuses, so it refuses "
                                           "the whole policy")
                                .arg(quoted(name)));
            kept << name;
        }
        for (const QString &name : std::as_const(kept)) {
            if (!fatal.isEmpty())
                return;
            const QString path = QDir(real).filePath(name);
            loadFile(path, QDir(m_top).relativeFilePath(path), depth + 1, {});
        }
    }

    // service: set for a file of !include-service (the old, per-service format).
    void loadFile(const QString &path, const QString &display, int depth,
                  const std::optional<QPair<QString, QString>> &service)
    {
        if (depth > kMaxDepth)
            return fail(QStringLiteral("%1: includes nested more than %2 deep (a loop?)")
                            .arg(display)
                            .arg(kMaxDepth));
        if (++m_files > kMaxFiles)
            return fail(QStringLiteral("more than %1 policy files").arg(kMaxFiles));
        if (QFileInfo(path).size() > kMaxFileBytes)
            return fail(
                QStringLiteral("%1 is larger than %2 bytes").arg(display).arg(kMaxFileBytes));
        const auto data = readFileCapped(path, kMaxFileBytes);
        if (!data)
            return fail(QStringLiteral("%1 cannot be read: %2").arg(display, data.error().message));
        QStringDecoder decode(QStringDecoder::Utf8);
        QString text = decode(*data);
        if (decode.hasError())
            return fail(QStringLiteral("%1 is not UTF-8 text").arg(display));
        // Python's text files end a line at \n, \r\n and \r alike.
        text.replace(QStringLiteral("\r\n"), QStringLiteral("\n"));
        text.replace(u'\r', u'\n');
        const QStringList lines = text.split(u'\n');
        for (int i = 0; i < lines.size() && fatal.isEmpty(); ++i) {
            if (i == lines.size() - 1 && lines[i].isEmpty())
                break;
            if (++m_lines > kMaxLines)
                return fail(QStringLiteral("more than %1 policy lines").arg(kMaxLines));
            parseLine(lines[i].trimmed(), QStringLiteral("%1:%2").arg(display).arg(i + 1), depth,
                      service);
        }
    }

    void parseLine(QString line, const QString &where, int depth,
                   const std::optional<QPair<QString, QString>> &service)
    {
        if (line.isEmpty() || line.startsWith(u'#'))
            return;
        // Only printable ASCII and tabs are understood outside comments: Python splits on
        // Unicode spaces this reader would not see.
        for (QChar c : std::as_const(line))
            if (c != u'\t' && (c.unicode() < 0x20 || c.unicode() > 0x7e))
                return fail(QStringLiteral("%1: a character this program does not read "
                                           "(U+%2)")
                                .arg(where)
                                .arg(c.unicode(), 4, 16, QLatin1Char('0')));
        if (service) {
            line.replace(QStringLiteral("$include:"), QStringLiteral("!include "));
            line.replace(u'$', u'@');
            line.replace(u',', u' ');
        }
        const QStringList f
            = line.split(QRegularExpression(QStringLiteral("[ \\t]+")), Qt::SkipEmptyParts);
        if (f.isEmpty())
            return;
        if (f[0].startsWith(u'!')) {
            const QString &directive = f[0];
            const QStringList params = f.mid(1);
            if (directive == u"!include" && params.size() == 1)
                return include(where, params[0], depth, service);
            if (service)
                return fail(QStringLiteral("%1: invalid directive").arg(where));
            if (directive == u"!include-dir" && params.size() == 1)
                return includeDir(where, params[0], depth);
            if (directive == u"!include-service" && params.size() == 3) {
                QString why;
                if (!validServiceArgument(params[0], params[1], &why))
                    return fail(QStringLiteral("%1: %2").arg(where, why));
                return include(where, params[2], depth,
                               QPair<QString, QString> {params[0], params[1]});
            }
            if (directive == u"!compat-4.0" && params.isEmpty()) {
                rules << Rule {where,
                               {},
                               {},
                               {},
                               {},
                               true,
                               QStringLiteral("%1 includes the Qubes 4.0 policy files, which this "
                                              "program does not read")
                                   .arg(where)};
                return;
            }
            return fail(QStringLiteral("%1: invalid directive %2").arg(where, quoted(directive)));
        }
        QString svc, arg;
        QStringList rest;
        if (service) {
            if (f.size() < 3)
                return fail(QStringLiteral("%1: wrong number of fields").arg(where));
            svc = service->first;
            arg = service->second;
            rest = f;
        } else {
            if (f.size() < 5)
                return fail(QStringLiteral("%1: wrong number of fields").arg(where));
            svc = f[0];
            arg = f[1];
            rest = f.mid(2);
            QString why;
            if (!validServiceArgument(svc, arg, &why))
                return fail(QStringLiteral("%1: %2").arg(where, why));
        }
        Rule rule;
        rule.where = where;
        rule.source = rest[0];
        rule.target = rest[1];
        rule.action = rest[2];
        if (!validSource(tokenKind(rule.source)))
            return fail(QStringLiteral("%1: invalid source %2").arg(where, quoted(rule.source)));
        if (!validTarget(tokenKind(rule.target)))
            return fail(QStringLiteral("%1: invalid target %2").arg(where, quoted(rule.target)));
        QStringList keys;
        if (rule.action == u"allow")
            keys = {QStringLiteral("target"), QStringLiteral("user"), QStringLiteral("notify"),
                    QStringLiteral("autostart")};
        else if (rule.action == u"deny")
            keys = {QStringLiteral("notify")};
        else if (rule.action == u"ask")
            keys = {QStringLiteral("target"), QStringLiteral("default_target"),
                    QStringLiteral("user"), QStringLiteral("notify"), QStringLiteral("autostart")};
        else
            return fail(QStringLiteral("%1: invalid action %2").arg(where, quoted(rule.action)));
        QSet<QString> seen;
        QString target, defaultTarget;
        for (const QString &param : rest.mid(3)) {
            const qsizetype eq = param.indexOf(u'=');
            if (eq < 0)
                return fail(
                    QStringLiteral("%1: invalid action parameter %2").arg(where, quoted(param)));
            const QString key = param.left(eq), value = param.mid(eq + 1);
            if (!keys.contains(key))
                return fail(QStringLiteral("%1: invalid parameter %2 for %3")
                                .arg(where, quoted(key), rule.action));
            if (seen.contains(key))
                return fail(
                    QStringLiteral("%1: parameter given twice: %2").arg(where, quoted(key)));
            seen.insert(key);
            if ((key == u"notify" || key == u"autostart") && value != u"yes" && value != u"no")
                return fail(QStringLiteral("%1: %2 can be only yes or no").arg(where, key));
            if ((key == u"target" || key == u"default_target") && !validRedirect(tokenKind(value)))
                return fail(QStringLiteral("%1: invalid %2 %3").arg(where, key, quoted(value)));
            if (key == u"target")
                target = value;
            else if (key == u"default_target")
                defaultTarget = value;
            else if (key == u"autostart")
                rule.autostart = value == u"yes";
        }
        if (tokenKind(rule.target) == Token::Default && rule.action == u"allow" && target.isEmpty())
            return fail(QStringLiteral("%1: allow for @default without target=").arg(where));
        rule.redirect
            = rule.action == u"ask" ? (target.isEmpty() ? defaultTarget : target) : target;
        if ((svc == u"*" || svc == kService) && (arg == u"*" || arg == u"+"))
            rules << rule;
    }

    static bool validServiceArgument(const QString &svc, const QString &arg, QString *why)
    {
        if (svc != u"*" && (svc.isEmpty() || !inCharset(svc, u"-._"))) {
            *why = QStringLiteral("invalid service %1").arg(quoted(svc));
            return false;
        }
        if (arg != u"*") {
            if (!arg.startsWith(u'+') || !inCharset(arg, u"+-._")) {
                *why = QStringLiteral("invalid argument %1").arg(quoted(arg));
                return false;
            }
            if (svc == u"*") {
                *why = QStringLiteral("only * argument allowed for * service");
                return false;
            }
        }
        return true;
    }
};

UpdatesRoute decide(const Qube &templ, const QList<Rule> &rules, const Snapshot &snapshot)
{
    UpdatesRoute route;
    route.templ = templ.name;
    const QString name = templ.name.toString();
    for (const Rule &rule : rules) {
        if (!rule.doubt.isEmpty()) {
            route.rule = rule.where;
            route.reason = rule.doubt;
            return route;
        }
        bool sourceMatches = false;
        switch (tokenKind(rule.source)) {
        case Token::Wildcard:
        case Token::AnyVm:
            sourceMatches = true;
            break;
        case Token::Type:
            sourceMatches = rule.source.mid(6) == templ.klass;
            break;
        case Token::Tag:
            sourceMatches = templ.hasTag(QStringView(rule.source).mid(5));
            break;
        case Token::Plain:
            if (rule.source.startsWith(QStringLiteral("uuid:"))) {
                route.rule = rule.where;
                route.reason = QStringLiteral("%1 names a qube by UUID, which this program does "
                                              "not read")
                                   .arg(rule.where);
                return route;
            }
            sourceMatches = rule.source == name;
            break;
        default:
            break; // @adminvm, @dispvm:…: never a template
        }
        if (!sourceMatches)
            continue;
        const Token target = tokenKind(rule.target);
        if (target != Token::Wildcard && target != Token::AnyVm && target != Token::Default)
            continue;
        route.rule = rule.where;
        if (rule.action == u"deny") {
            route.kind = UpdatesRoute::Kind::Denied;
            route.reason = QStringLiteral("denied by %1").arg(rule.where);
            return route;
        }
        const bool ask = rule.action == u"ask";
        if (rule.redirect.isEmpty()) {
            route.kind = ask ? UpdatesRoute::Kind::Ask : UpdatesRoute::Kind::Denied;
            route.reason = ask ? QStringLiteral("dom0 asks at each update (%1)").arg(rule.where)
                               : QStringLiteral("%1 allows it without a target, so qrexec "
                                                "refuses it")
                                     .arg(rule.where);
            return route;
        }
        const Token redirect = tokenKind(rule.redirect);
        std::optional<QubeName> via;
        if (redirect == Token::AdminVm)
            via = QubeName::fromUntrusted(u"dom0");
        else if (redirect == Token::Plain && !rule.redirect.startsWith(QStringLiteral("uuid:")))
            via = QubeName::fromUntrusted(rule.redirect);
        if (!via || (!via->isDom0() && !snapshot.find(via->toString()))) {
            // A disposable, a UUID, or a name the snapshot does not hold (qrexec refuses a
            // target that does not exist): not told from here.
            route.kind = UpdatesRoute::Kind::Unknown;
            route.reason = QStringLiteral("%1 sends them to %2, which is not a qube on this map")
                               .arg(rule.where, quoted(rule.redirect));
            return route;
        }
        route.kind = ask ? UpdatesRoute::Kind::Ask : UpdatesRoute::Kind::Proxy;
        route.via = via;
        if (ask)
            route.reason = QStringLiteral("dom0 asks at each update (%1)").arg(rule.where);
        else if (!rule.autostart)
            route.reason = QStringLiteral("only while the proxy is running (autostart=no, %1)")
                               .arg(rule.where);
        return route;
    }
    route.kind = UpdatesRoute::Kind::Denied;
    route.reason = QStringLiteral("no qubes.UpdatesProxy rule matches, so qrexec refuses it");
    return route;
}

} // namespace

QStringList defaultPolicyDirs()
{
    return {QStringLiteral("/run/qubes/policy.d"), QStringLiteral("/etc/qubes/policy.d")};
}

namespace {
QStringList &policyDirsSetting()
{
    static QStringList dirs = defaultPolicyDirs();
    return dirs;
}
} // namespace

QStringList policyDirs()
{
    return policyDirsSetting();
}

void setPolicyDirs(const QStringList &dirs)
{
    policyDirsSetting() = dirs.isEmpty() ? defaultPolicyDirs() : dirs;
}

QList<UpdatesRoute> resolveUpdatesRoutes(const Snapshot &snapshot,
                                         const UpdatesPolicyOptions &options)
{
    PolicyReader reader;
    reader.loadDirs(options.dirs);
    QList<UpdatesRoute> routes;
    for (const Qube &q : snapshot.qubes) {
        if (!q.isTemplate())
            continue;
        if (!reader.fatal.isEmpty()) {
            UpdatesRoute route;
            route.templ = q.name;
            route.reason = reader.fatal;
            routes << route;
            continue;
        }
        routes << decide(q, reader.rules, snapshot);
    }
    return routes;
}

} // namespace netmap
