#include "qube.h"

namespace netmap {

bool Qube::looksLikeWhonixGateway() const
{
    if (!providesNetwork)
        return false;
    if (whonixGwFeature)
        return true;
    const QString base = templ ? templ->toString() : name.toString();
    return base.startsWith(QLatin1String("whonix-gateway"))
        || base.startsWith(QLatin1String("whonix-gw"));
}

} // namespace netmap
