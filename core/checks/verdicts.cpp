// Verdicts: what every check's verdict starts from: the words for an error verdict, the egress
// kinds, whether a qvm-run's answer can be judged at all (transportProblem, with the fresh state
// query after an exit 1), and the consensus of the IP echo endpoints on an exit (IPv4 and the
// IPv6 /64). The verdicts of each check family live in exitverdicts.cpp (external-ip, vpn, their
// IPv6 side, tor), dnsverdicts.cpp, isolationverdicts.cpp and killswitchverdicts.cpp.

#include "verdicts.h"

#include "qubes/commandrunner.h"
#include "verdicts_p.h"

#include "model/ipv4.h"

#include <QHostAddress>
#include <QSet>

namespace netmap {

Verdict errorVerdict(QString reason, QString expected)
{
    Verdict v;
    v.status = CheckStatus::Error;
    v.reason = std::move(reason);
    v.expected = std::move(expected);
    return v;
}

QString httpToolMissing()
{
    return QStringLiteral(
        "cannot check: curl missing (and no wget or python3 to fall back to) in the qube");
}

QString egressKindId(EgressKind kind)
{
    switch (kind) {
    case EgressKind::Clearnet:
        return QStringLiteral("clearnet");
    case EgressKind::Vpn:
        return QStringLiteral("vpn");
    case EgressKind::Tor:
        return QStringLiteral("tor");
    case EgressKind::None:
        return QStringLiteral("none");
    }
    return QStringLiteral("clearnet");
}

namespace {
// The last non-empty stderr line (a traceback's exception line), printable ASCII, cut short.
QString lastErrorLine(const CommandOutput &output)
{
    const QList<QByteArray> lines = output.stderrData.trimmed().split('\n');
    CommandOutput last;
    last.stderrData = lines.isEmpty() ? QByteArray() : lines.back();
    const QString line = last.firstErrorLine(160);
    return line.isEmpty() ? QStringLiteral("no message") : line;
}
} // namespace

std::optional<QString> transportProblem(const CommandOutput &output, bool autostart,
                                        const ProbeEvidence &evidence, const QString &knownState)
{
    switch (output.outcome) {
    case CommandOutput::Outcome::FailedToStart:
        return QStringLiteral("could not run qvm-run: %1").arg(output.describe());
    case CommandOutput::Outcome::TimedOut:
        return QStringLiteral(
                   "no answer in time: %1 (qvm-run has no timeout of its own; stopped from dom0)")
            .arg(output.describe());
    case CommandOutput::Outcome::Crashed:
        return QStringLiteral("qvm-run crashed: %1").arg(output.describe());
    case CommandOutput::Outcome::Cancelled:
        return QStringLiteral("cancelled before it finished");
    case CommandOutput::Outcome::OutputCapped:
        return QStringLiteral(
                   "the qube printed far more than any answer needs; stopped and not judged (%1)")
            .arg(output.describe());
    case CommandOutput::Outcome::Finished:
        break;
    }
    if (output.stdoutTruncated)
        return QStringLiteral("the answer was cut off at the output cap; not judged");
    switch (output.exitCode) {
    case 0:
        break;
    case 125:
    case 126:
    case 127:
        return QStringLiteral(
                   "qrexec could not run the check in the qube (exit %1): the qube refused the "
                   "call or the agent is not answering")
            .arg(output.exitCode);
    case 255:
        return QStringLiteral("the qube could not be started (exit 255)");
    case 2:
        if (!evidence.begun)
            return QStringLiteral("qvm-run does not know this qube (exit 2)");
        break;
    case 1: {
        if (evidence.begun)
            break;
        // qvm-run with --pass-io prints nothing when the qube is halted or paused; the client
        // speaks only when it failed.
        if (output.stderrData.contains("non-default user not possible"))
            return QStringLiteral(
                "qvm-run -u root is not possible from a management qube with this Qubes client "
                "(4.2, and 4.3 before 4.3.26): run this check from dom0 (exit 1)");
        if (output.stderrData.contains("Traceback (most recent call last)"))
            return QStringLiteral("qvm-run failed with a Python error: %1 (exit 1)")
                .arg(lastErrorLine(output));
        // knownState comes from a fresh state query made after the failure (qvm-ls of this
        // one qube), not from the last map refresh.
        if (knownState.isEmpty())
            return QStringLiteral(
                "qvm-run exited with 1 before the check began and the qube's state could not be "
                "read afterwards: halted, paused or a qvm-run failure, cannot tell which");
        if (knownState == QLatin1String("Paused"))
            return QStringLiteral("the qube is paused (exit 1; a fresh state query says Paused): "
                                  "unpause it to check it");
        if (knownState == QLatin1String("Running") || knownState == QLatin1String("Transient"))
            return QStringLiteral("qvm-run exited with 1 before the check began although a fresh "
                                  "state query says %1: %2")
                .arg(knownState,
                     output.stderrData.trimmed().isEmpty() ? QStringLiteral("qvm-run said nothing")
                                                           : output.firstErrorLine());
        if (!autostart)
            return QStringLiteral("the qube is not running and was not started (autostart is off; "
                                  "exit 1; a fresh state query says %1)")
                .arg(knownState);
        return QStringLiteral("the qube could not be started (exit 1; a fresh state query says %1)")
            .arg(knownState);
    }
    default:
        break;
    }
    if (output.exitCode != 0)
        return QStringLiteral("the check exited with status %1").arg(output.exitCode);
    if (!evidence.begun)
        return QStringLiteral("the qube gave no answer (no begin marker in its output)");
    if (!evidence.ended)
        return QStringLiteral(
            "the answer is incomplete (no end marker): the check did not run to its end");
    if (!evidence.problems.isEmpty())
        return QStringLiteral("malformed answer: %1")
            .arg(evidence.problems.join(QStringLiteral("; ")));
    return std::nullopt;
}

bool exitOneNeedsState(const CommandOutput &output, const ProbeEvidence &evidence)
{
    return output.outcome == CommandOutput::Outcome::Finished && output.exitCode == 1
        && !evidence.begun && !output.stderrData.contains("non-default user not possible")
        && !output.stderrData.contains("Traceback (most recent call last)");
}

CommandSpec qubeStateQuery(const QString &qvmLs, const QString &qube)
{
    CommandSpec spec;
    spec.program = qvmLs;
    spec.arguments = {QStringLiteral("--raw-data"), QStringLiteral("--fields=name,state"), qube};
    spec.timeoutMs = 15000;
    spec.stdoutCap = 4096;
    spec.stderrCap = 4096;
    return spec;
}

QString parseQubeState(const CommandOutput &output, const QString &qube)
{
    if (!output.finishedOk() || output.stdoutTruncated)
        return {};
    static const QStringList known {
        QStringLiteral("Running"),   QStringLiteral("Halted"),    QStringLiteral("Paused"),
        QStringLiteral("Transient"), QStringLiteral("Halting"),   QStringLiteral("Dying"),
        QStringLiteral("Crashed"),   QStringLiteral("Suspended"), QStringLiteral("NA")};
    const QList<QByteArray> lines = output.stdoutData.trimmed().split('\n');
    if (lines.size() != 1)
        return {};
    const QList<QByteArray> cells = lines.first().split('|');
    if (cells.size() != 2 || cells[0] != qube.toLatin1())
        return {};
    const QString state = QString::fromLatin1(cells[1]);
    return known.contains(state) ? state : QString();
}

namespace {

// At least two endpoints answer and agree on key(answer); v6 words the texts for IPv6.
ExitConsensus consensusOf(const ProbeEvidence &e, const QMap<int, IpEchoAnswer> &answers,
                          int endpointCount, bool v6)
{
    ExitConsensus c;
    const QString kind = v6 ? QStringLiteral("IPv6 ") : QString();
    if (e.httpTool == QLatin1String("none")) {
        c.why = httpToolMissing();
        return c;
    }
    if (e.httpTool.isEmpty()) {
        c.why = QStringLiteral("cannot check: the qube did not report its HTTP tool");
        return c;
    }
    if (endpointCount < 2) {
        c.why = QStringLiteral("cannot check: fewer than two %1IP echo endpoints are configured")
                    .arg(kind);
        return c;
    }
    QSet<QString> distinct;
    QString first;
    int answered = 0;
    for (int i = 0; i < endpointCount; ++i) {
        const auto it = answers.constFind(i);
        if (it == answers.cend()) {
            c.why
                = QStringLiteral("cannot check: %1endpoint %2 gave no report").arg(kind).arg(i + 1);
            return c;
        }
        if (!it->answered)
            continue;
        // An IPv6 answer is compared by its /64 (privacy addresses rotate within it).
        const QString key = v6 ? ipv6Prefix64(it->ip).value_or(QString()) : it->ip;
        if (key.isEmpty()) {
            c.why = QStringLiteral("cannot check: %1endpoint %2 answered something that is not an "
                                   "%3 address")
                        .arg(kind)
                        .arg(i + 1)
                        .arg(v6 ? QStringLiteral("IPv6") : QStringLiteral("IP"));
            return c;
        }
        ++answered;
        if (distinct.isEmpty()) {
            first = key;
            c.address = it->ip;
        }
        distinct.insert(key);
        c.seen.append(QStringLiteral("%1 (%2endpoint %3)").arg(it->ip, kind).arg(i + 1));
    }
    if (answered == 0) {
        c.state = ExitConsensus::State::NoEgress;
        c.why = QStringLiteral("none of the %1 %2IP echo endpoints answered")
                    .arg(endpointCount)
                    .arg(kind);
        return c;
    }
    if (distinct.size() > 1) {
        c.state = ExitConsensus::State::Disagreed;
        c.why = QStringLiteral("the %1endpoints disagree%2: %3")
                    .arg(kind, v6 ? QStringLiteral(" on the /64") : QString(),
                         c.seen.join(QStringLiteral(", ")));
        return c;
    }
    if (answered < 2) {
        c.why = QStringLiteral("cannot check: only one %1endpoint answered (%2); two must agree")
                    .arg(kind, c.seen.join(QString()));
        return c;
    }
    c.state = ExitConsensus::State::Agreed;
    c.ip = first;
    return c;
}

} // namespace

ExitConsensus exitConsensus(const ProbeEvidence &e, int endpointCount)
{
    return consensusOf(e, e.ipEcho, endpointCount, false);
}

ExitConsensus exitConsensus6(const ProbeEvidence &e, int endpointCount)
{
    return consensusOf(e, e.ipEcho6, endpointCount, true);
}

std::optional<QString> ipv6Prefix64(const QString &address)
{
    const auto valid = validIpv6(address);
    if (!valid)
        return std::nullopt;
    const QHostAddress a(*valid);
    Q_IPV6ADDR bytes = a.toIPv6Address();
    for (int i = 8; i < 16; ++i)
        bytes[i] = 0;
    return QHostAddress(bytes).toString() + QStringLiteral("/64");
}

} // namespace netmap
