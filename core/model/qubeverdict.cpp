#include "qubeverdict.h"

#include "checkindex.h"

namespace netmap {

bool isLeakCheck(CheckKind kind)
{
    return kind == CheckKind::ExternalIp || kind == CheckKind::Vpn || kind == CheckKind::Tor
        || kind == CheckKind::DnsLeak;
}

QubeVerdict qubeVerdict(const CheckIndex &checks, const QString &qube, const QStringList &chain)
{
    QubeVerdict v;
    bool fail = false, error = false, stale = false, pass = false;
    for (CheckKind kind : allCheckKinds()) {
        const CheckResult *r = checks.latest(qube, kind);
        if (!r || r->status == CheckStatus::Skipped)
            continue;
        const bool old = r->pathAtRun != chain;
        v.results.push_back(r);
        v.stale.push_back(old);
        const QDateTime when = r->finished.isValid() ? r->finished : r->started;
        if (when.isValid() && (!v.newest.isValid() || when > v.newest))
            v.newest = when;
        if (old) {
            stale = true;
            continue;
        }
        switch (r->status) {
        case CheckStatus::Fail:
            fail = true;
            v.leak |= isLeakCheck(kind);
            v.killSwitchFailed |= kind == CheckKind::KillSwitch;
            break;
        case CheckStatus::Error:
            error = true;
            break;
        case CheckStatus::Pass:
            pass = true;
            break;
        case CheckStatus::Skipped:
            break;
        }
    }
    v.mark = fail ? VerdictMark::Fail
        : error   ? VerdictMark::Error
        : stale   ? VerdictMark::Stale
        : pass    ? VerdictMark::Pass
                  : VerdictMark::None;
    return v;
}

QString verdictMarkId(VerdictMark mark)
{
    switch (mark) {
    case VerdictMark::None:
        return QString();
    case VerdictMark::Pass:
        return QStringLiteral("pass");
    case VerdictMark::Fail:
        return QStringLiteral("fail");
    case VerdictMark::Error:
        return QStringLiteral("error");
    case VerdictMark::Stale:
        return QStringLiteral("stale");
    }
    return QString();
}

QString verdictMarkWords(VerdictMark mark)
{
    switch (mark) {
    case VerdictMark::None:
        return QStringLiteral("not checked");
    case VerdictMark::Pass:
        return QStringLiteral("pass");
    case VerdictMark::Fail:
        return QStringLiteral("fail");
    case VerdictMark::Error:
        return QStringLiteral("cannot tell (error)");
    case VerdictMark::Stale:
        return QStringLiteral("stale (the path changed since)");
    }
    return QString();
}

QString checkKindTitle(CheckKind kind)
{
    switch (kind) {
    case CheckKind::ExternalIp:
        return QStringLiteral("External IP");
    case CheckKind::Vpn:
        return QStringLiteral("VPN leak");
    case CheckKind::KillSwitch:
        return QStringLiteral("Kill switch");
    case CheckKind::Tor:
        return QStringLiteral("Tor");
    case CheckKind::DnsLeak:
        return QStringLiteral("DNS leak");
    case CheckKind::Isolation:
        return QStringLiteral("Isolation");
    }
    return QString();
}

QStringList verdictLines(const QubeVerdict &verdict)
{
    QStringList lines;
    for (std::size_t i = 0; i < verdict.results.size(); ++i) {
        const CheckResult &r = *verdict.results[i];
        QString status;
        switch (r.status) {
        case CheckStatus::Pass:
            status = QStringLiteral("pass");
            break;
        case CheckStatus::Fail:
            status = QStringLiteral("fail");
            break;
        case CheckStatus::Error:
            status = QStringLiteral("cannot tell");
            break;
        case CheckStatus::Skipped:
            status = QStringLiteral("skipped");
            break;
        }
        if (verdict.stale[i])
            status += QStringLiteral(" (stale: the path changed since)");
        const QDateTime when = r.finished.isValid() ? r.finished : r.started;
        QString line = checkKindTitle(r.check) + QStringLiteral(": ") + status;
        if (when.isValid())
            line += QStringLiteral(" at ")
                + when.toUTC().toString(QStringLiteral("yyyy-MM-dd HH:mm 'UTC'"));
        // Validated summaries, but still kept to one short line each.
        const QString why = r.reason.left(160).simplified();
        if (!why.isEmpty())
            line += QStringLiteral(": ") + why;
        lines << line;
    }
    return lines;
}

} // namespace netmap
