#pragma once
// Finding: something about the setup that breaks a Qubes owner's likely expectations.

#include <QString>

namespace netmap {

struct Finding
{
    enum class Severity { Info, Warning, Error };
    Severity severity = Severity::Warning;
    QString qube; // validated qube name, or empty for a global finding
    QString code; // stable id: "dangling-netvm", "netvm-halted", ...
    QString message; // one sentence in plain words

    friend bool operator==(const Finding &, const Finding &) = default;
};

QString severityId(Finding::Severity severity); // "info", "warning", "error"

} // namespace netmap
