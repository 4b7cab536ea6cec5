// Fuzz target: a snapshot YAML file (--snapshot FILE), which may come from another machine.

#include "formats/snapshotyaml.h"
#include "fuzzcheck.h"

#include <QByteArray>

#include <cstddef>
#include <cstdint>

using namespace netmap;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray untrusted(reinterpret_cast<const char *>(data), qsizetype(size));
    const auto loaded = snapshotFromYaml(untrusted, QStringLiteral("fuzz.yaml"));
    if (!loaded) {
        // Refusals name the file and a position, in one line of plain words.
        const Error &e = loaded.error();
        if (!fuzz::isOneLinePlainText(e.message))
            std::fprintf(stderr, "message: %s\n",
                         e.message.toUtf8().toPercentEncoding(" :\"").constData());
        FUZZ_CHECK(e.file == QLatin1String("fuzz.yaml"));
        FUZZ_CHECK(!e.message.isEmpty() && e.message.size() < 512);
        FUZZ_CHECK(fuzz::isOneLinePlainText(e.message));
        FUZZ_CHECK(e.line >= 0 && e.column >= 0);
        return 0;
    }
    // docs/ARCHITECTURE.md §2: a snapshot saved to YAML and loaded back is identical.
    const QByteArray saved = snapshotToYaml(*loaded);
    const auto reloaded = snapshotFromYaml(saved, QStringLiteral("saved.yaml"));
    if (!reloaded)
        std::fprintf(stderr, "reload failed: %s\n", qPrintable(reloaded.error().toString()));
    FUZZ_CHECK(reloaded.ok());
    FUZZ_CHECK(*reloaded == *loaded);
    FUZZ_CHECK(snapshotToYaml(*reloaded) == saved);
    return 0;
}
