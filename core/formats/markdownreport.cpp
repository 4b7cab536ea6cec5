#include "markdownreport.h"

#include "checks/probeparser.h"
#include "checks/remedy.h"
#include "model/checkindex.h"
#include "model/qubeverdict.h"
#include "model/snapshot.h"
#include "model/topology.h"
#include "model/untrustedtext.h"
#include "policy/colouring.h"
#include "policy/findings.h"

#include <QSet>
#include <QUrl>

namespace netmap {

using untrustedtext::markdownFence;
using untrustedtext::markdownInline;

namespace {

QString checkTitle(CheckKind kind)
{
    switch (kind) {
    case CheckKind::ExternalIp:
        return QStringLiteral("External IP");
    case CheckKind::Vpn:
        return QStringLiteral("VPN leak");
    case CheckKind::KillSwitch:
        return QStringLiteral("VPN kill switch");
    case CheckKind::Tor:
        return QStringLiteral("Tor");
    case CheckKind::DnsLeak:
        return QStringLiteral("DNS leak");
    case CheckKind::Isolation:
        return QStringLiteral("Inter-qube isolation");
    }
    return {};
}

// What was done, in fixed words (never text from a qube).
QString checkSteps(CheckKind kind, const QString &qube)
{
    switch (kind) {
    case CheckKind::ExternalIp:
        return QStringLiteral("In %1 (qvm-run): asked independent IP echo endpoints for the exit "
                              "IP; they must agree")
            .arg(qube);
    case CheckKind::Vpn:
        return QStringLiteral(
                   "In %1: compared its exit IP with the clearnet exit measured in the same run; "
                   "listed the VPN qube's tunnel interfaces")
            .arg(qube);
    case CheckKind::KillSwitch:
        return QStringLiteral("In %1 as root: read the nftables ruleset for a drop of forwarding "
                              "to the uplink "
                              "(and, when asked, broke the tunnel and tested a client's egress)")
            .arg(qube);
    case CheckKind::Tor:
        return QStringLiteral(
                   "In %1: asked the Tor check service whether the traffic comes from Tor")
            .arg(qube);
    case CheckKind::DnsLeak:
        return QStringLiteral("In %1: resolved fresh random names under the configured zone and "
                              "asked the zone's service over HTTPS which resolvers asked for "
                              "them (without a zone: a whoami name, whose plain answer can "
                              "show a leak but never pass), and compared with the clearnet "
                              "baseline")
            .arg(qube);
    case CheckKind::Isolation:
        return QStringLiteral(
                   "In %1: ping and TCP connect to the other running qubes (not its own gateways)")
            .arg(qube);
    }
    return {};
}

QString statusMark(CheckStatus status)
{
    switch (status) {
    case CheckStatus::Pass:
        return QStringLiteral("✅ pass");
    case CheckStatus::Fail:
        return QStringLiteral("❌ fail");
    case CheckStatus::Error:
        return QStringLiteral("⚠️ cannot tell (error)");
    case CheckStatus::Skipped:
        return QStringLiteral("➖ skipped");
    }
    return {};
}

QString dash()
{
    return QStringLiteral("—");
}

QString verdictCell(const QubeVerdict &v)
{
    switch (v.mark) {
    case VerdictMark::None:
        return QStringLiteral("— not checked");
    case VerdictMark::Pass:
        return QStringLiteral("✅ pass");
    case VerdictMark::Fail:
        return v.leak            ? QStringLiteral("❌ fail (leak)")
            : v.killSwitchFailed ? QStringLiteral("❌ fail (kill switch)")
                                 : QStringLiteral("❌ fail");
    case VerdictMark::Error:
        return QStringLiteral("⚠️ cannot tell");
    case VerdictMark::Stale:
        return QStringLiteral("🕓 stale (the path changed since)");
    }
    return {};
}

QString utcMinute(const QDateTime &when)
{
    return when.isValid() ? when.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm 'UTC'"))
                          : dash();
}

QString utcSecond(const QDateTime &when)
{
    return when.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss 'UTC'"));
}

// A relative file name as a link target: percent-encoded, nothing that could end the link.
QString markdownLinkTarget(const QString &path)
{
    return QString::fromLatin1(QUrl::toPercentEncoding(path, "/._-"));
}

} // namespace

QByteArray exportMarkdown(const Snapshot &snapshot, const MarkdownOptions &options)
{
    const Topology topology(snapshot);
    const CheckIndex checkIndex(snapshot);
    const Colouring colouring = colourPaths(snapshot, topology);
    QMap<QString, QString> kindOfIp;
    for (const ExitInfo &exit : colouring.exits)
        kindOfIp.insert(exit.ip, exit.kind);

    // When the checks ran is the time of their evidence, not when the qubes were read.
    QDateTime firstCheck, lastCheck;
    for (const CheckResult &r : snapshot.checks) {
        if (r.status == CheckStatus::Skipped)
            continue;
        const QDateTime from = r.started.isValid() ? r.started : r.finished;
        const QDateTime to = r.finished.isValid() ? r.finished : r.started;
        if (from.isValid() && (!firstCheck.isValid() || from < firstCheck))
            firstCheck = from;
        if (to.isValid() && (!lastCheck.isValid() || to > lastCheck))
            lastCheck = to;
    }

    QString md;
    md += QStringLiteral("# Qubes network map\n\n");
    md += QStringLiteral("Source: %1 · qubes read %2 · %3\n\n")
              .arg(markdownInline(snapshot.source.isEmpty() ? QStringLiteral("unknown")
                                                            : snapshot.source),
                   utcMinute(snapshot.generated),
                   !firstCheck.isValid() ? QStringLiteral("no checks ran")
                       : utcMinute(firstCheck) == utcMinute(lastCheck)
                       ? QStringLiteral("checks ran %1").arg(utcMinute(firstCheck))
                       : QStringLiteral("checks ran %1 to %2")
                             .arg(utcMinute(firstCheck), utcMinute(lastCheck)));

    // Qubes in NetVM-tree order: each root, then what sits behind it.
    QStringList order;
    for (int index : topology.treeOrder())
        order.append(topology.nameAt(index));

    // The answer first: one row per networked qube, worst verdicts first.
    struct SummaryRow
    {
        QString name;
        QubeVerdict verdict;
        int rank;
    };
    QList<SummaryRow> summary;
    for (const QString &name : std::as_const(order)) {
        const Qube *q = snapshot.find(name);
        if (!q || q->isAdmin() || (q->isTemplate() && !options.includeTemplates))
            continue;
        if (!q->netvm && !q->providesNetwork)
            continue;
        QubeVerdict v = qubeVerdict(checkIndex, name, topology.egressChain(name));
        const int rank = v.mark == VerdictMark::Fail ? 0
            : v.mark == VerdictMark::Error           ? 1
            : v.mark == VerdictMark::Stale           ? 2
            : v.mark == VerdictMark::Pass            ? 3
                                                     : 4;
        summary.append(SummaryRow {name, std::move(v), rank});
    }
    std::stable_sort(summary.begin(), summary.end(),
                     [](const SummaryRow &a, const SummaryRow &b) { return a.rank < b.rank; });
    md += QStringLiteral("## Summary\n\n");
    if (!options.picture.isEmpty())
        md += QStringLiteral("Picture: [%1](%2)\n\n")
                  .arg(markdownInline(options.picture), markdownLinkTarget(options.picture));
    md += QStringLiteral("| Qube | Path | Exit | Verdict | Checks ran |\n|---|---|---|---|---|\n");
    for (const SummaryRow &row : std::as_const(summary)) {
        QStringList path;
        for (const QString &hop : topology.egressChain(row.name))
            path << markdownInline(hop);
        const QString ip = colouring.qubeExitIp.value(row.name);
        QString exit = ip.isEmpty() ? dash() : markdownInline(ip);
        if (!ip.isEmpty() && !kindOfIp.value(ip).isEmpty())
            exit += QStringLiteral(" (%1)").arg(markdownInline(kindOfIp.value(ip)));
        QDateTime oldest;
        for (const CheckResult *r : row.verdict.results) {
            const QDateTime when = r->finished.isValid() ? r->finished : r->started;
            if (when.isValid() && (!oldest.isValid() || when < oldest))
                oldest = when;
        }
        QString ran = dash();
        if (row.verdict.newest.isValid())
            ran = utcMinute(oldest) == utcMinute(row.verdict.newest)
                ? utcMinute(oldest)
                : QStringLiteral("%1 to %2").arg(utcMinute(oldest), utcMinute(row.verdict.newest));
        md += QStringLiteral("| %1 | %2 | %3 | %4 | %5 |\n")
                  .arg(markdownInline(row.name), path.join(QStringLiteral(" → ")), exit,
                       verdictCell(row.verdict), ran);
    }
    md += u'\n';

    md += QStringLiteral("## Network flow and egress IP mapping\n\n");
    // The IPv6 columns only where some qube has IPv6: a report of an IPv4-only system is as it
    // always was.
    const bool ipv6 = snapshot.anyIpv6();
    md += ipv6
        ? QStringLiteral("| Qube | Internal IP | Internal IPv6 | NetVM | External IP | External "
                         "IPv6 |\n|---|---|---|---|---|---|\n")
        : QStringLiteral("| Qube | Internal IP | NetVM | External IP |\n|---|---|---|---|\n");
    const auto externalCell = [&](const QString &ip, const QString &kind) -> QString {
        if (ip.isEmpty())
            return dash() + QStringLiteral(" (not verified)");
        QString cell = markdownInline(ip);
        if (!kind.isEmpty() && kind != QLatin1String("unknown"))
            cell += QStringLiteral(" (%1)").arg(markdownInline(kind));
        return cell;
    };
    for (const QString &name : std::as_const(order)) {
        const Qube *q = snapshot.find(name);
        if (!q || q->isAdmin() || (q->isTemplate() && !options.includeTemplates))
            continue;
        if (!q->netvm && !q->providesNetwork)
            continue;
        const QString ip = colouring.qubeExitIp.value(name);
        const QString external = externalCell(ip, kindOfIp.value(ip));
        const QString internal = q->ip.isEmpty() ? dash() : markdownInline(q->ip);
        const QString netvm
            = q->netvm ? markdownInline(q->netvm->toString()) : QStringLiteral("(uplink)");
        if (!ipv6) {
            md += QStringLiteral("| %1 | %2 | %3 | %4 |\n")
                      .arg(markdownInline(name), internal, netvm, external);
            continue;
        }
        const QString ip6 = colouring.qubeExitIp6.value(name);
        const ExitInfo *exit6 = colouring.exitOf(ip6);
        QString external6 = q->hasIpv6() || !ip6.isEmpty()
            ? externalCell(ip6, exit6 ? exit6->kind : QString())
            : QStringLiteral("(IPv6 off)");
        if (colouring.familyLeaks.contains(name))
            external6 += QStringLiteral(" ❌ leaves outside the IPv4 path");
        md += QStringLiteral("| %1 | %2 | %3 | %4 | %5 | %6 |\n")
                  .arg(markdownInline(name), internal,
                       q->ip6.isEmpty() ? dash() : markdownInline(q->ip6), netvm, external,
                       external6);
    }
    md += u'\n';

    // The newest result of each check on each qube, in tree order then check order.
    struct Row
    {
        const CheckResult *result;
        bool stale;
    };
    QList<Row> rows;
    for (const QString &name : std::as_const(order)) {
        const QStringList chain = topology.egressChain(name);
        for (CheckKind kind : allCheckKinds()) {
            if (const CheckResult *r = checkIndex.latest(name, kind))
                rows.append(Row {r, r->pathAtRun != chain});
        }
    }

    md += QStringLiteral("## Security verification tests\n\n");
    if (rows.isEmpty()) {
        md += QStringLiteral("No checks have been run.\n\n");
    } else {
        md += QStringLiteral("| Test | Steps performed | Expected | Result | Ran |\n"
                             "|---|---|---|---|---|\n");
        for (const Row &row : std::as_const(rows)) {
            const CheckResult &r = *row.result;
            const QString qube = markdownInline(r.qube.toString());
            QString result = statusMark(r.status);
            // The exit was measured, but the qube leaks: never a plain "pass" next to a leak.
            if (r.check == CheckKind::ExternalIp && r.status == CheckStatus::Pass && !row.stale
                && qubeVerdict(checkIndex, r.qube.toString(),
                               topology.egressChain(r.qube.toString()))
                       .leak)
                result = QStringLiteral("❌ measured, and the qube leaks (see its failed checks)");
            if (!r.observed.isEmpty())
                result += QStringLiteral(": ") + markdownInline(r.observed, 200);
            if (r.status != CheckStatus::Pass && !r.reason.isEmpty())
                result += QStringLiteral(" — ") + markdownInline(r.reason, 300);
            if (row.stale)
                result += QStringLiteral(" (stale: the NetVM path changed since)");
            const QDateTime when = r.finished.isValid() ? r.finished : r.started;
            md += QStringLiteral("| %1 — %2 | %3 | %4 | %5 | %6 |\n")
                      .arg(checkTitle(r.check), qube, checkSteps(r.check, qube),
                           r.expected.isEmpty() ? dash() : markdownInline(r.expected, 120), result,
                           when.isValid() ? utcSecond(when) : dash());
        }
        md += u'\n';
    }

    // Where the clearnet baselines the checks compared with came from.
    if (!snapshot.baselines.isEmpty()) {
        md += QStringLiteral("### Clearnet baseline\n\n");
        md += QStringLiteral(
            "vpn, dns-leak and clearnet external-ip compare with these. Measured baselines need "
            "at least two qubes on the clearnet path that agree; a disputed or unconfirmed "
            "baseline makes those checks errors.\n\n");
        md += QStringLiteral("| Uplink | Baseline | State | Values | Where from | Witnesses |\n"
                             "|---|---|---|---|---|---|\n");
        for (const BaselineRecord &b : snapshot.baselines) {
            QStringList witnesses;
            for (const BaselineWitness &w : b.witnesses)
                witnesses << (w.said.isEmpty()
                                  ? QStringLiteral("%1: cannot say (%2)")
                                        .arg(markdownInline(w.qube), markdownInline(w.problem, 160))
                                  : QStringLiteral("%1 says %2")
                                        .arg(markdownInline(w.qube),
                                             markdownInline(w.said.join(QStringLiteral(", ")))));
            const QString state = baselineStateId(b.state);
            md += QStringLiteral("| %1 | %2 | %3 | %4 | %5 | %6 |\n")
                      .arg(markdownInline(b.uplink),
                           b.what == QLatin1String("exit") ? QStringLiteral("exit address")
                                                           : QStringLiteral("resolvers"),
                           b.state == BaselineRecord::State::Agreed
                                   || b.state == BaselineRecord::State::Pinned
                               ? state
                               : QStringLiteral("⚠ %1").arg(state),
                           b.values.isEmpty() ? dash()
                                              : markdownInline(b.values.join(QStringLiteral(", "))),
                           markdownInline(b.summary, 400),
                           witnesses.isEmpty() ? dash() : witnesses.join(QStringLiteral("; ")));
        }
        md += u'\n';
    }

    // What to do about each failure that still holds (a stale one is re-checked first).
    QString todo;
    for (const Row &row : std::as_const(rows)) {
        if (row.stale)
            continue;
        const Remedy remedy = remedyFor(*row.result, snapshot, topology);
        if (remedy.isEmpty())
            continue;
        todo += QStringLiteral("**%1 — %2**: %3\n\n")
                    .arg(checkTitle(row.result->check), markdownInline(row.result->qube.toString()),
                         markdownInline(remedy.advice, 1000));
        if (!remedy.commands.isEmpty()) {
            todo += QStringLiteral("Run %1:\n\n").arg(markdownInline(remedy.where, 200));
            todo += markdownFence(remedy.commands.join(u'\n'), 4096);
            todo += u'\n';
        }
    }
    if (!todo.isEmpty())
        md += QStringLiteral("## What to do\n\n") + todo;

    const std::vector<Finding> findings = computeFindings(snapshot, topology);
    md += QStringLiteral("## Findings\n\n");
    if (findings.empty())
        md += QStringLiteral("None.\n\n");
    for (const Finding &f : findings) {
        md += QStringLiteral("- **%1**%2: %3\n")
                  .arg(markdownInline(severityId(f.severity)),
                       f.qube.isEmpty() ? QString()
                                        : QStringLiteral(" %1").arg(markdownInline(f.qube)),
                       markdownInline(f.message, 500));
    }
    if (!findings.empty())
        md += u'\n';

    if (options.includeEvidence && !rows.isEmpty()) {
        md += QStringLiteral("## Evidence\n\n");
        md += QStringLiteral(
            "What each check ran and what the qube answered, verbatim (as plain text).\n\n");
        for (const Row &row : std::as_const(rows)) {
            const CheckResult &r = *row.result;
            md += QStringLiteral("### %1 — %2\n\n")
                      .arg(checkTitle(r.check), markdownInline(r.qube.toString()));
            md += QStringLiteral("Status: %1 · exit status %2 · %3 to %4 UTC\n\n")
                      .arg(statusMark(r.status))
                      .arg(r.exitCode)
                      .arg(markdownInline(
                               r.started.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"))),
                           markdownInline(r.finished.toUTC().toString(QStringLiteral("HH:mm:ss"))));
            if (!r.reason.isEmpty())
                md += markdownFence(r.reason, 4096);
            if (!r.command.isEmpty()) {
                md += QStringLiteral("Command:\n\n");
                md += markdownFence(r.command, 16 << 10);
            }
            md += QStringLiteral("Output:\n\n");
            md += markdownFence(r.output.isEmpty() ? QStringLiteral("(none)") : r.output, 16 << 10);
            md += u'\n';
        }
    }
    return md.toUtf8();
}

} // namespace netmap
