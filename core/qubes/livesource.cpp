#include "livesource.h"

#include "qvmparsers.h"
#include "updatespolicy.h"

#include <QCoreApplication>
#include <QEventLoop>

namespace netmap {

namespace {

const QString qvmLs = QStringLiteral("qvm-ls");
const QString qubesPrefs = QStringLiteral("qubes-prefs");
const QString qvmFirewall = QStringLiteral("qvm-firewall");
const QString qvmFeatures = QStringLiteral("qvm-features");
const QString featuresRolePrefix = QStringLiteral("features:");
constexpr int maxFeatureQueries = 32; // distinct templates of network providers
constexpr qint64 featureCap = 4096;
const QString firewallRolePrefix = QStringLiteral("firewall:");

constexpr qint64 qvmLsCap = 16 << 20;
constexpr qint64 prefsCap = 4 << 10;
constexpr qint64 firewallCap = 1 << 20;
constexpr int maxStderrLine = 160;

const QStringList &globalNames()
{
    static const QStringList names = {QStringLiteral("default_netvm"), QStringLiteral("updatevm"),
                                      QStringLiteral("clockvm"), QStringLiteral("default_dispvm")};
    return names;
}

QString formatDuration(qint64 ms)
{
    if (ms >= 1000 && ms % 1000 == 0)
        return QStringLiteral("%1 s").arg(ms / 1000);
    return QStringLiteral("%1 ms").arg(ms);
}

// Why a tool run is unusable, in one line naming the tool; empty when it finished with 0.
QString failureLine(const QString &tool, const CommandOutput &output, int timeoutMs)
{
    using Outcome = CommandOutput::Outcome;
    switch (output.outcome) {
    case Outcome::Finished: {
        if (output.exitCode == 0)
            return {};
        const QString detail = output.firstErrorLine(maxStderrLine);
        QString line = QStringLiteral("%1 exited with %2").arg(tool).arg(output.exitCode);
        if (!detail.isEmpty())
            line += QStringLiteral(": ") + detail;
        return line;
    }
    case Outcome::TimedOut:
        return QStringLiteral("%1 did not answer within %2").arg(tool, formatDuration(timeoutMs));
    case Outcome::FailedToStart:
    case Outcome::Crashed:
    case Outcome::Cancelled:
    case Outcome::OutputCapped:
        return tool + u' ' + output.describe();
    }
    return tool + u' ' + output.describe();
}

Error sourceError(const QString &message)
{
    return makeError(Error::Code::Source, message);
}

Result<Snapshot> assembleSnapshot(const QHash<QString, CommandOutput> &outputs, int timeoutMs,
                                  bool prefsFound)
{
    const CommandOutput &ls = outputs.value(qvmLs);
    if (const QString failure = failureLine(qvmLs, ls, timeoutMs); !failure.isEmpty())
        return sourceError(failure);

    const QvmLsParse parsed = parseQvmLs(ls.stdoutData);
    Snapshot snapshot;
    snapshot.source = qvmLs;
    for (const RejectedRow &row : parsed.rejected)
        snapshot.rejected << QStringLiteral("qvm-ls line %1: %2").arg(row.line).arg(row.reason);
    for (const RejectedRow &row : parsed.notes)
        snapshot.rejected << QStringLiteral("qvm-ls line %1: %2").arg(row.line).arg(row.reason);
    if (parsed.qubes.empty()) {
        QString message = QStringLiteral("qvm-ls printed no usable rows");
        if (!parsed.rejected.empty())
            message += QStringLiteral(" (%1 rejected; first: %2)")
                           .arg(parsed.rejected.size())
                           .arg(snapshot.rejected.first());
        return sourceError(message);
    }
    snapshot.qubes = parsed.qubes;

    if (!prefsFound) {
        snapshot.rejected << QStringLiteral(
            "qubes-prefs not found on PATH: global settings unknown");
    } else {
        for (const QString &name : globalNames()) {
            const CommandOutput &out = outputs.value(name);
            const QString tool = qubesPrefs + u' ' + name;
            if (const QString failure = failureLine(tool, out, timeoutMs); !failure.isEmpty()) {
                snapshot.rejected << failure;
                continue;
            }
            QString why;
            const auto value = parsePrefsQubeValue(out.stdoutData, &why);
            if (!value) {
                snapshot.rejected << QStringLiteral("%1: %2").arg(tool, why);
                continue;
            }
            std::optional<QubeName> qube;
            if (!value->isNone)
                qube = QubeName::fromUntrusted(value->value);
            if (name == QLatin1String("default_netvm"))
                snapshot.globals.defaultNetvm = qube;
            else if (name == QLatin1String("updatevm"))
                snapshot.globals.updatevm = qube;
            else if (name == QLatin1String("clockvm"))
                snapshot.globals.clockvm = qube;
            else
                snapshot.globals.defaultDispvm = qube;
        }
    }
    snapshot.stamp();
    return snapshot;
}

CommandSpec firewallSpec(const QubeName &qube, int timeoutMs)
{
    CommandSpec spec;
    spec.program = qvmFirewall;
    spec.arguments = {qube.toString(), QStringLiteral("--raw"), QStringLiteral("list")};
    spec.timeoutMs = timeoutMs;
    spec.stdoutCap = firewallCap;
    return spec;
}

Result<QList<FirewallRule>> firewallFromOutput(const CommandOutput &output, int timeoutMs)
{
    if (const QString failure = failureLine(qvmFirewall, output, timeoutMs); !failure.isEmpty())
        return sourceError(failure);
    // Rules are ordered: a line that cannot be read keeps its place, marked, so the list never
    // has a silent hole, and one bad line never hides the others.
    return parseFirewall(output.stdoutData).listed;
}

} // namespace

bool liveSourceAvailable()
{
    return !CommandRunner::findProgram(qvmLs).isEmpty();
}

Result<Snapshot> readLiveSnapshot(const LiveOptions &options)
{
    Q_ASSERT(QCoreApplication::instance());
    LiveSource source;
    QEventLoop loop;
    std::optional<Result<Snapshot>> result;
    QObject::connect(&source, &LiveSource::snapshotReady, &loop, [&](const Snapshot &snapshot) {
        result.emplace(snapshot);
        loop.quit();
    });
    QObject::connect(&source, &LiveSource::failed, &loop, [&](const QString &message) {
        result.emplace(sourceError(message));
        loop.quit();
    });
    source.refresh(options);
    if (!result)
        loop.exec(QEventLoop::ExcludeUserInputEvents);
    return std::move(*result);
}

Result<QList<FirewallRule>> readFirewallRules(const QubeName &qube, int timeoutMs)
{
    if (CommandRunner::findProgram(qvmFirewall).isEmpty())
        return sourceError(QStringLiteral("qvm-firewall not found on PATH"));
    return firewallFromOutput(CommandRunner::runBlocking(firewallSpec(qube, timeoutMs)), timeoutMs);
}

LiveSource::LiveSource(QObject *parent)
    : QObject(parent)
{
    connect(&m_runner, &CommandRunner::finished, this, &LiveSource::onFinished);
}

void LiveSource::refresh(const LiveOptions &options)
{
    if (m_refreshPending > 0)
        return; // the refresh in progress reports soon enough
    if (CommandRunner::findProgram(qvmLs).isEmpty()) {
        QMetaObject::invokeMethod(
            this, [this] { emit failed(QStringLiteral("qvm-ls not found on PATH")); },
            Qt::QueuedConnection);
        return;
    }
    m_options = options;
    m_outputs.clear();

    const auto launch = [this](const QString &role, CommandSpec spec) {
        spec.timeoutMs = m_options.timeoutMs;
        m_roles.insert(m_runner.start(spec), role);
        ++m_pending;
        ++m_refreshPending;
    };
    launch(qvmLs, CommandSpec {qvmLs, qvmLsArguments(), 0, qvmLsCap});
    // The globals in parallel: each tool is a Python start in dom0.
    if (!CommandRunner::findProgram(qubesPrefs).isEmpty()) {
        for (const QString &name : globalNames())
            launch(name, CommandSpec {qubesPrefs, {name}, 0, prefsCap});
    }
}

void LiveSource::readFirewall(const QubeName &qube)
{
    const QString name = qube.toString();
    if (CommandRunner::findProgram(qvmFirewall).isEmpty()) {
        QMetaObject::invokeMethod(
            this,
            [this, name] {
                emit firewallFailed(name, QStringLiteral("qvm-firewall not found on PATH"));
            },
            Qt::QueuedConnection);
        return;
    }
    m_roles.insert(m_runner.start(firewallSpec(qube, m_options.timeoutMs)),
                   firewallRolePrefix + name);
    ++m_pending;
}

void LiveSource::onFinished(CommandRunner::Id id, const CommandOutput &output)
{
    const QString role = m_roles.take(id);
    if (role.isEmpty())
        return;
    --m_pending;
    if (role.startsWith(firewallRolePrefix)) {
        const QString qube = role.mid(firewallRolePrefix.size());
        auto rules = firewallFromOutput(output, m_options.timeoutMs);
        if (rules)
            emit firewallReady(qube, rules.value());
        else
            emit firewallFailed(qube, rules.error().message);
        return;
    }
    m_outputs.insert(role, output);
    if (--m_refreshPending == 0) {
        if (m_assembled)
            finishFeatures();
        else
            collect();
    }
}

void LiveSource::collect()
{
    const bool prefsFound = m_outputs.size() > 1;
    auto snapshot = assembleSnapshot(m_outputs, m_options.timeoutMs, prefsFound);
    m_outputs.clear();
    if (!snapshot) {
        emit failed(snapshot.error().message);
        return;
    }
    // A renamed Whonix gateway: its template's `whonix-gw` feature says what it is. Asked only
    // for the templates of network providers not already known by name, one call per template.
    // The `ipv6` feature is not asked: a provider's gateway6 (in the qvm-ls output) is set
    // exactly when the feature is on along its netvm chain (qubes/vm/mix/net.py gateway6), and
    // one more process per provider made every refresh slower.
    QStringList templates;
    for (const Qube &q : snapshot.value().qubes) {
        if (!q.providesNetwork || q.looksLikeWhonixGateway())
            continue;
        const QString base
            = q.templ ? q.templ->toString() : (q.isStandalone() ? q.name.toString() : QString());
        if (!base.isEmpty() && !templates.contains(base))
            templates << base;
    }
    if (templates.isEmpty() || templates.size() > maxFeatureQueries
        || CommandRunner::findProgram(qvmFeatures).isEmpty()) {
        emitReady(std::move(snapshot).value());
        return;
    }
    m_assembled = std::move(snapshot).value();
    for (const QString &base : std::as_const(templates)) {
        CommandSpec spec {
            qvmFeatures, {base, QStringLiteral("whonix-gw")}, m_options.timeoutMs, featureCap};
        m_roles.insert(m_runner.start(spec), featuresRolePrefix + base);
        ++m_pending;
        ++m_refreshPending;
    }
}

void LiveSource::finishFeatures()
{
    Snapshot snapshot = std::move(*m_assembled);
    m_assembled.reset();
    for (auto it = m_outputs.cbegin(); it != m_outputs.cend(); ++it) {
        if (!it.key().startsWith(featuresRolePrefix))
            continue;
        // Exit 1 and no output: the feature is not set. Only "1" (what Whonix sets) counts.
        const CommandOutput &out = it.value();
        if (!out.finishedOk() || out.stdoutData.trimmed() != "1")
            continue;
        const QString base = it.key().mid(featuresRolePrefix.size());
        for (Qube &q : snapshot.qubes)
            if (q.providesNetwork
                && (q.templ ? q.templ->toString() == base
                            : q.isStandalone() && q.name.toString() == base))
                q.whonixGwFeature = true;
    }
    m_outputs.clear();
    emitReady(std::move(snapshot));
}

void LiveSource::emitReady(Snapshot snapshot)
{
    // Where templates' updates go: dom0's qrexec policy, read from files (no process).
    snapshot.updates = resolveUpdatesRoutes(snapshot);
    emit snapshotReady(snapshot);
}

} // namespace netmap
