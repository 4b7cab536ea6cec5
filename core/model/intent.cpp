#include "intent.h"

namespace netmap {

QString Expectation::kindId() const
{
    switch (egress) {
    case Egress::Clearnet:
        return QStringLiteral("clearnet");
    case Egress::Vpn:
        return QStringLiteral("vpn");
    case Egress::Tor:
        return QStringLiteral("tor");
    case Egress::None:
        return QStringLiteral("none");
    case Egress::Via:
        return QStringLiteral("via");
    }
    return {};
}

QString Expectation::toString() const
{
    return egress == Egress::Via ? QStringLiteral("via ") + via : kindId();
}

} // namespace netmap
