#include "dropwatcher.h"

#include <QRandomGenerator>
#include <QStringList>

namespace netmap {

namespace {

// The scripts run in the network qube as root. They are fixed; %SECONDS%, %TOKEN% and %LIMIT%
// are replaced by validated values only. One line each, so that the confirmation shows them
// exactly as they run. Table and chain names as the Qubes network qube has them
// (qubes-core-agent-linux: network/qubes-ipv4.nft, qubesagent/firewall.py).
//
// arm: find the drop of new traffic to qubes ("oifgroup 2 … drop" in table ip qubes, chain
// forward); start a detached timer that deletes every rule carrying this watch's comment, in
// that chain and in every chain of table ip qubes-firewall; then, in each per-client chain of
// qubes-firewall (qbs-10-137-0-12, ...), put a logging rule with the same match in front of
// every `reject` (what a qube's qvm-firewall rules refuse; at most 500, in one atomic nft
// batch; where nft refuses the batch nothing of it is added and the watch goes on without);
// finally insert the logging rule right before the drop. The timer runs before any rule exists,
// so no rule can outlive it even if dom0 goes away. It prints "netmap-armed HANDLE N", N the
// qubes-firewall logging rules added (or "refused").
const char kArmScript[]
    = R"SH(set -eu; )SH"
      R"SH(h=$(nft -a list chain ip qubes forward | awk '/oifgroup 2 / && / drop/ && /# handle )SH"
      R"SH([0-9]+$/ {print $NF; )SH"
      R"SH(exit}'); )SH"
      R"SH([ -n "$h" ] || { echo 'no oifgroup 2 drop rule in table ip qubes chain forward' >&2; )SH"
      R"SH(exit 3; }; setsid sh -c 'sleep %SECONDS%; )SH"
      R"SH(for r in $(nft -a list chain ip qubes forward | awk "/netmap-watch-%TOKEN%/ {print )SH"
      R"SH(\$NF}"); )SH"
      R"SH(do nft delete rule ip qubes forward handle $r; done; )SH"
      R"SH(nft -a list table ip qubes-firewall 2>/dev/null | awk "\$1 == \"chain\" {c = \$2} )SH"
      R"SH(/netmap-watch-%TOKEN%/ {print c, \$NF}" | while read -r c r; )SH"
      R"SH(do nft delete rule ip qubes-firewall $c handle $r; )SH"
      R"SH(done' </dev/null >/dev/null 2>&1 & f=$(nft -a list table ip qubes-firewall 2>/dev/null )SH"
      R"SH(| awk '$1 == "chain" {c = $2 ~ /^qbs-[0-9a-f-]+$/ ? $2 : ""} $1 == "}" {c = ""} c != "" )SH"
      R"SH(&& /[ \t]reject( |$)/ && /# handle [0-9]+$/ && n < 500 {m = $0; )SH"
      R"SH(sub(/^[ \t]+/, "", m); sub(/ *reject( .*)?$/, "", m); n++; )SH"
      R"SH(printf "insert rule ip qubes-firewall %s position %s %s limit rate %LIMIT%/second log )SH"
      R"SH(prefix \"netmap-drop-%TOKEN%-fw: \" level info comment \"netmap-watch-%TOKEN%\"\n", c, )SH"
      R"SH($NF, m}' || true); )SH"
      R"SH(n=0; if [ -n "$f" ]; then if printf '%s\n' "$f" | nft -f - >&2; )SH"
      R"SH(then n=$(printf '%s\n' "$f" | wc -l); else n=refused; fi; fi; )SH"
      R"SH(nft insert rule ip qubes forward position "$h" oifgroup 2 limit rate %LIMIT%/second log )SH"
      R"SH(prefix '"netmap-drop-%TOKEN%: "' level info comment '"netmap-watch-%TOKEN%"'; )SH"
      R"SH(echo "netmap-armed $h $n")SH";

// stream: the kernel log from now on, bounded in time as well.
const char kStreamScript[]
    = "if journalctl --version 2>/dev/null | grep -q +PCRE2; "
      "then exec timeout %SECONDS% journalctl -k -f -n 0 -o cat --grep netmap-drop; "
      "else exec timeout %SECONDS% dmesg -W; fi";

// disarm: delete this watch's rules (nothing when they already expired), then make sure none is
// left anywhere in the ruleset.
const char kDisarmScript[]
    = R"SH(for r in $(nft -a list chain ip qubes forward | awk '/netmap-watch-%TOKEN%/ {print )SH"
      R"SH($NF}'); )SH"
      R"SH(do nft delete rule ip qubes forward handle "$r"; done; )SH"
      R"SH(nft -a list table ip qubes-firewall 2>/dev/null | awk '$1 == "chain" {c = $2} )SH"
      R"SH(/netmap-watch-%TOKEN%/ {print c, $NF}' | while read -r c r; )SH"
      R"SH(do nft delete rule ip qubes-firewall "$c" handle "$r"; done; )SH"
      R"SH(if nft list ruleset | grep -q netmap-watch-%TOKEN%; )SH"
      R"SH(then echo 'a logging rule is still there' >&2; exit 1; fi; echo netmap-disarmed)SH";

constexpr int kLogRateLimit = 20; // log lines a second at most, whatever floods the qube
constexpr qint64 kStreamTotalCap = 8 << 20;
constexpr int kStreamSlackMs = 15000;

CommandSpec qvmRunRoot(const QubeName &qube, const QString &script, int timeoutMs)
{
    CommandSpec spec;
    spec.program = QStringLiteral("qvm-run");
    spec.arguments = {QStringLiteral("--pass-io"),
                      QStringLiteral("--no-gui"),
                      QStringLiteral("--no-colour-output"),
                      QStringLiteral("--no-colour-stderr"),
                      QStringLiteral("--no-autostart"),
                      QStringLiteral("-u"),
                      QStringLiteral("root"),
                      qube.toString(),
                      script};
    spec.timeoutMs = timeoutMs;
    spec.stdoutCap = 4096;
    spec.stderrCap = 4096;
    return spec;
}

QString fill(const char *script, const DropWatchPlan &plan)
{
    QString s = QString::fromLatin1(script);
    s.replace(QStringLiteral("%SECONDS%"), QString::number(plan.seconds));
    s.replace(QStringLiteral("%TOKEN%"), plan.token);
    s.replace(QStringLiteral("%LIMIT%"), QString::number(kLogRateLimit));
    return s;
}

bool isHexToken(const QString &token)
{
    if (token.size() != 16)
        return false;
    for (const QChar c : token)
        if (!((c >= u'0' && c <= u'9') || (c >= u'a' && c <= u'f')))
            return false;
    return true;
}

QString failure(const QString &what, const CommandOutput &output)
{
    QString message = QStringLiteral("%1: qvm-run %2").arg(what, output.describe());
    if (const QString detail = output.firstErrorLine(); !detail.isEmpty())
        message += QStringLiteral(" (%1)").arg(detail);
    return message;
}

} // namespace

QString newDropWatchToken()
{
    QString token;
    for (int i = 0; i < 16; ++i)
        token += QChar(u"0123456789abcdef"[QRandomGenerator::global()->bounded(16)]);
    return token;
}

Result<DropWatchPlan> planDropWatch(const QubeName &qube, int seconds, const QString &token)
{
    if (!qube.isRunnable())
        return makeError(Error::Code::Usage,
                         QStringLiteral("cannot watch dom0 or an unnamed qube"));
    if (seconds < kMinWatchSeconds || seconds > kMaxWatchSeconds)
        return makeError(Error::Code::Usage,
                         QStringLiteral("a watch lasts between %1 s and %2 s")
                             .arg(kMinWatchSeconds)
                             .arg(kMaxWatchSeconds));
    if (!isHexToken(token))
        return makeError(Error::Code::Usage, QStringLiteral("bad watch token"));
    DropWatchPlan plan;
    plan.qube = qube;
    plan.seconds = seconds;
    plan.token = token;
    plan.arm = qvmRunRoot(qube, fill(kArmScript, plan), 30000);
    plan.stream = qvmRunRoot(qube, fill(kStreamScript, plan), seconds * 1000 + kStreamSlackMs);
    plan.stream.streamLines = true;
    plan.stream.maxLineBytes = kMaxDropLogLine;
    plan.stream.stdoutCap = kStreamTotalCap;
    plan.disarm = qvmRunRoot(qube, fill(kDisarmScript, plan), 30000);
    return plan;
}

DropWatcher::DropWatcher(QObject *parent)
    : QObject(parent)
{
    connect(&m_runner, &CommandRunner::finished, this, &DropWatcher::onFinished);
    connect(&m_runner, &CommandRunner::lineReady, this, &DropWatcher::onLine);
    m_expiry.setSingleShot(true);
    connect(&m_expiry, &QTimer::timeout, this,
            [this] { disarm(QStringLiteral("the watch time is over")); });
}

DropWatcher::~DropWatcher()
{
    if (isActive())
        stopBlocking();
}

void DropWatcher::start(const DropWatchPlan &plan)
{
    if (isActive())
        return;
    m_plan = plan;
    m_refused = 0;
    m_firewallRules = 0;
    m_stopReason.clear();
    m_state = State::Arming;
    m_armId = m_runner.start(m_plan.arm);
}

void DropWatcher::stop()
{
    disarm(QString());
}

void DropWatcher::disarm(const QString &reason)
{
    if (m_state == State::Idle || m_state == State::Disarming)
        return;
    m_expiry.stop();
    m_stopReason = reason;
    if (m_streamId)
        m_runner.cancel(m_streamId);
    // Disarm also while arming: the insert may have happened already.
    m_state = State::Disarming;
    m_disarmId = m_runner.start(m_plan.disarm);
}

void DropWatcher::stopBlocking(int timeoutMs)
{
    if (m_state == State::Idle)
        return;
    m_expiry.stop();
    m_runner.disconnect(this);
    m_runner.cancelAll();
    CommandSpec spec = m_plan.disarm;
    spec.timeoutMs = timeoutMs;
    const QString qube = m_plan.qube.toString();
    const CommandOutput out = CommandRunner::runBlocking(spec);
    m_state = State::Idle;
    m_armId = m_streamId = m_disarmId = 0;
    connect(&m_runner, &CommandRunner::finished, this, &DropWatcher::onFinished);
    connect(&m_runner, &CommandRunner::lineReady, this, &DropWatcher::onLine);
    emit stopped(qube,
                 out.finishedOk() ? QString()
                                  : failure(QStringLiteral("removing the rule"), out)
                         + QStringLiteral("; it expires by itself"));
}

void DropWatcher::onLine(CommandRunner::Id id, const QByteArray &line)
{
    if (id != m_streamId || m_state != State::Watching)
        return;
    QString why;
    const auto packet = parseDropLogLine(line, m_plan.token.toLatin1(), &why);
    if (packet) {
        emit packetDropped(m_plan.qube.toString(), *packet);
        return;
    }
    // Other kernel messages (the dmesg fallback shows them all) are not ours to judge.
    if (!line.contains(QByteArrayView(kDropLogPrefix).chopped(1))) // "netmap-drop"
        return;
    ++m_refused;
    emit lineRefused(m_plan.qube.toString(), why);
}

void DropWatcher::onFinished(CommandRunner::Id id, const CommandOutput &output)
{
    const QString qube = m_plan.qube.toString();
    if (id == m_armId) {
        m_armId = 0;
        if (m_state != State::Arming)
            return; // stopped while arming; the disarm is on its way
        if (!output.finishedOk() || !output.stdoutData.startsWith("netmap-armed ")) {
            m_state = State::Idle;
            emit failed(qube, failure(QStringLiteral("adding the logging rule"), output));
            return;
        }
        // "netmap-armed HANDLE N": N logging rules in front of qubes-firewall rejects, or
        // "refused" (nft took none of them).
        const QList<QByteArray> words = output.stdoutData.trimmed().split(' ');
        bool counted = false;
        const int rules = words.size() == 3 ? words[2].toInt(&counted) : 0;
        m_firewallRules = counted && rules >= 0 && rules <= 500 ? rules : -1;
        m_state = State::Watching;
        m_streamId = m_runner.start(m_plan.stream);
        m_expiry.start(m_plan.seconds * 1000);
        emit started(qube);
        return;
    }
    if (id == m_streamId) {
        m_streamId = 0;
        if (m_state == State::Watching) {
            // The stream ended on its own: the qube went away, or the time is over.
            disarm(output.outcome == CommandOutput::Outcome::Finished
                       ? QStringLiteral("the log stream ended")
                       : failure(QStringLiteral("following the log"), output));
        }
        return;
    }
    if (id == m_disarmId) {
        m_disarmId = 0;
        m_state = State::Idle;
        QString reason = m_stopReason;
        if (!output.finishedOk()) {
            const QString problem = failure(QStringLiteral("removing the rule"), output)
                + QStringLiteral("; it expires by itself");
            reason = reason.isEmpty() ? problem : reason + QStringLiteral("; ") + problem;
        }
        emit stopped(qube, reason);
    }
}

} // namespace netmap
