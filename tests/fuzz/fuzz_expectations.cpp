// Fuzz target: the expectations YAML (--expect FILE).

#include "fuzzcheck.h"
#include "model/qubename.h"
#include "policy/expectations.h"

#include <QByteArray>

#include <cstddef>
#include <cstdint>

using namespace netmap;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray untrusted(reinterpret_cast<const char *>(data), qsizetype(size));
    const auto loaded = expectationsFromYaml(untrusted, QStringLiteral("fuzz.yaml"));
    if (!loaded) {
        const Error &e = loaded.error();
        FUZZ_CHECK(e.file == QLatin1String("fuzz.yaml"));
        FUZZ_CHECK(!e.message.isEmpty() && e.message.size() < 512);
        FUZZ_CHECK(fuzz::isOneLinePlainText(e.message));
        FUZZ_CHECK(e.line >= 0 && e.column >= 0);
        return 0;
    }
    // Every qube named in an accepted file is a valid qube name.
    for (auto it = loaded->byQube.cbegin(); it != loaded->byQube.cend(); ++it)
        FUZZ_CHECK(QubeName::fromUntrusted(it.key()).has_value());
    for (const auto &pair : loaded->allowedReach) {
        FUZZ_CHECK(QubeName::fromUntrusted(pair.first).has_value());
        FUZZ_CHECK(QubeName::fromUntrusted(pair.second).has_value());
    }
    for (const auto &tag : loaded->byTag)
        FUZZ_CHECK(!tag.first.isEmpty() && fuzz::isOneLinePlainText(tag.first));
    return 0;
}
