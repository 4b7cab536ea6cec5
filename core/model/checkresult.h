#pragma once
// CheckResult: the evidence and verdict of one check run in one qube.

#include "qubename.h"

#include <QDateTime>
#include <QString>
#include <QStringList>

#include <optional>

namespace netmap {

enum class CheckKind { ExternalIp, Vpn, KillSwitch, Tor, DnsLeak, Isolation };
enum class CheckStatus { Pass, Fail, Error, Skipped };

QString checkKindId(CheckKind kind); // "external-ip", "vpn", ...
std::optional<CheckKind> checkKindFromId(QStringView id);
QString checkStatusId(CheckStatus status); // "pass", "fail", "error", "skipped"
std::optional<CheckStatus> checkStatusFromId(QStringView id);
QList<CheckKind> allCheckKinds();

struct CheckResult
{
    QubeName qube;
    CheckKind check = CheckKind::ExternalIp;
    CheckStatus status = CheckStatus::Error;
    QString observed; // validated summary of what was seen ("198.51.100.7", "IsTor=true")
    QString expected; // what the expectations asked for ("vpn", "clearnet", "tor", "no reach")
    QString reason; // plain words: why it passed, failed or could not be checked
    QString externalIp; // the verified exit IP, when this check established one
    // The verified IPv6 exit, when this check established one (a qube can leave by IPv4 and
    // IPv6 through different paths: a VPN that tunnels only IPv4).
    QString externalIp6;
    QString command; // what was run, for the evidence (display only, never executed)
    int exitCode = -1;
    QString output; // capped raw output, control characters removed
    QDateTime started;
    QDateTime finished;
    QStringList pathAtRun; // egress chain when it ran; a different chain now = stale

    friend bool operator==(const CheckResult &, const CheckResult &) = default;
};

} // namespace netmap
