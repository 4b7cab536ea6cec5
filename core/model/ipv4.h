#pragma once
// Strict validation of addresses and names that come from qubes or files.

#include <QString>

#include <optional>

namespace netmap {

// Dotted-quad IPv4 only ("10.137.0.5"): four decimal parts 0-255, no leading zeros, no spaces.
std::optional<QString> validIpv4(QStringView untrusted);
// IPv6 only, hexadecimal groups and colons as Qubes prints them ("fd09:24ef:4179::a89:5"): no
// zone id, no brackets, no prefix, no dotted IPv4 tail. Returned in Qt's canonical form.
std::optional<QString> validIpv6(QStringView untrusted);
// IPv4 or IPv6 literal in canonical form; nullopt when it is anything else.
std::optional<QString> validIpAddress(QStringView untrusted);
// A DNS host name (letters, digits, '-', '.', labels of 1-63, total <= 253).
std::optional<QString> validDnsName(QStringView untrusted);
// An http(s) URL with a valid host and no characters a shell or a template could misread.
std::optional<QString> validHttpUrl(QStringView untrusted);

} // namespace netmap
