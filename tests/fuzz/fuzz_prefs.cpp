// Fuzz target: one qvm-prefs / qubes-prefs value of a qube-valued property (netvm, ...).

#include "fuzzcheck.h"
#include "model/qubename.h"
#include "qubes/qvmparsers.h"

#include <QByteArray>

#include <cstddef>
#include <cstdint>

using namespace netmap;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray untrusted(reinterpret_cast<const char *>(data), qsizetype(size));
    QString why;
    const auto value = parsePrefsQubeValue(untrusted, &why);
    if (!value) {
        FUZZ_CHECK(!why.isEmpty() && why.size() < 512 && fuzz::isOneLinePlainText(why));
        return 0;
    }
    if (value->isNone) {
        FUZZ_CHECK(value->value.isEmpty());
    } else {
        // Whatever is accepted is a qube name that qvm-run could be given.
        FUZZ_CHECK(QubeName::fromUntrusted(value->value).has_value());
    }
    return 0;
}
