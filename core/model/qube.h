#pragma once
// Qube: one qube as the source reported it, every field validated.

#include "qubename.h"

#include <QString>
#include <QStringList>

#include <optional>

namespace netmap {

struct Qube
{
    QubeName name;
    QString
        klass; // AdminVM, AppVM, TemplateVM, StandaloneVM, DispVM, or an unknown class kept as is
    QString state; // Running, Halted, Paused, Transient, ... unknown states kept as is
    QString label; // red, orange, yellow, green, gray, blue, purple, black (or unknown, kept)
    std::optional<QubeName> templ;
    std::optional<QubeName> netvm;
    std::optional<QubeName> defaultDispvm;
    bool providesNetwork = false;
    QString ip; // validated address or empty
    QString visibleIp;
    QString gateway;
    QString visibleGateway;
    // IPv6 (Qubes' `ip6`, `visible_ip6`, `gateway6`): a validated IPv6 address or empty. Qubes
    // gives them only when the `ipv6` feature is on along the qube's netvm chain.
    QString ip6;
    QString visibleIp6;
    QString gateway6;
    QStringList tags; // each a validated tag
    // The `ipv6` feature as set on this qube itself, where a snapshot file records it (the live
    // source does not ask for it: gateway6 says the same for a provider); nullopt when not set or
    // not known. Qubes takes any non-empty value as on.
    std::optional<bool> ipv6Feature;
    // Its template (a standalone: itself) has the `whonix-gw` feature (read for network
    // providers only; kept in snapshot files as template_whonix_gw).
    bool whonixGwFeature = false;

    bool isRunning() const { return state == QLatin1String("Running"); }
    bool isHalted() const { return state == QLatin1String("Halted"); }
    bool isTemplate() const { return klass == QLatin1String("TemplateVM"); }
    bool isDisposable() const { return klass == QLatin1String("DispVM"); }
    bool isAdmin() const { return klass == QLatin1String("AdminVM"); }
    bool isStandalone() const { return klass == QLatin1String("StandaloneVM"); }
    // Qubes gave this qube an IPv6 address (or, for a network provider, an IPv6 gateway).
    bool hasIpv6() const { return !ip6.isEmpty() || !gateway6.isEmpty(); }
    bool hasTag(QStringView tag) const { return tags.contains(tag.toString()); }
    // A network provider whose template (or, for a standalone, its name) says it is a Whonix
    // gateway, by name or by the template's `whonix-gw` feature.
    bool looksLikeWhonixGateway() const;

    friend bool operator==(const Qube &, const Qube &) = default;
};

} // namespace netmap
