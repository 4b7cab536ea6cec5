#include "checkresult.h"

#include "finding.h"

namespace netmap {

namespace {
struct KindName
{
    CheckKind kind;
    const char *id;
};
constexpr KindName kKinds[] = {
    {CheckKind::ExternalIp, "external-ip"}, {CheckKind::Vpn, "vpn"},
    {CheckKind::KillSwitch, "kill-switch"}, {CheckKind::Tor, "tor"},
    {CheckKind::DnsLeak, "dns-leak"},       {CheckKind::Isolation, "isolation"},
};
struct StatusName
{
    CheckStatus status;
    const char *id;
};
constexpr StatusName kStatuses[] = {
    {CheckStatus::Pass, "pass"},
    {CheckStatus::Fail, "fail"},
    {CheckStatus::Error, "error"},
    {CheckStatus::Skipped, "skipped"},
};
} // namespace

QString checkKindId(CheckKind kind)
{
    for (const auto &k : kKinds)
        if (k.kind == kind)
            return QString::fromLatin1(k.id);
    return {};
}

std::optional<CheckKind> checkKindFromId(QStringView id)
{
    for (const auto &k : kKinds)
        if (id == QLatin1String(k.id))
            return k.kind;
    return std::nullopt;
}

QString checkStatusId(CheckStatus status)
{
    for (const auto &s : kStatuses)
        if (s.status == status)
            return QString::fromLatin1(s.id);
    return {};
}

std::optional<CheckStatus> checkStatusFromId(QStringView id)
{
    for (const auto &s : kStatuses)
        if (id == QLatin1String(s.id))
            return s.status;
    return std::nullopt;
}

QList<CheckKind> allCheckKinds()
{
    QList<CheckKind> kinds;
    for (const auto &k : kKinds)
        kinds << k.kind;
    return kinds;
}

QString severityId(Finding::Severity severity)
{
    switch (severity) {
    case Finding::Severity::Info:
        return QStringLiteral("info");
    case Finding::Severity::Warning:
        return QStringLiteral("warning");
    case Finding::Severity::Error:
        return QStringLiteral("error");
    }
    return {};
}

} // namespace netmap
