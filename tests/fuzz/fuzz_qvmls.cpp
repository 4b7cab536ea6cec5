// Fuzz target: `qvm-ls --raw-data --fields=...` output, the main thing dom0 reads from qubesd.

#include "fuzzcheck.h"
#include "qubes/qvmparsers.h"

#include <QByteArray>
#include <QSet>

#include <cstddef>
#include <cstdint>

using namespace netmap;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray untrusted(reinterpret_cast<const char *>(data), qsizetype(size));
    const QvmLsParse parsed = parseQvmLs(untrusted);

    // Every accepted qube has a valid, unique name, and the list is sorted by name.
    QSet<QString> names;
    for (size_t i = 0; i < parsed.qubes.size(); ++i) {
        const Qube &q = parsed.qubes[i];
        FUZZ_CHECK(QubeName::fromUntrusted(q.name.toString()).has_value());
        FUZZ_CHECK(!names.contains(q.name.toString()));
        names.insert(q.name.toString());
        if (i > 0)
            FUZZ_CHECK(parsed.qubes[i - 1].name < q.name);
        for (const auto &ref : {q.templ, q.netvm, q.defaultDispvm})
            FUZZ_CHECK(!ref || QubeName::fromUntrusted(ref->toString()).has_value());
        for (const QString *text :
             {&q.klass, &q.state, &q.label, &q.ip, &q.visibleIp, &q.gateway, &q.visibleGateway})
            FUZZ_CHECK(fuzz::isOneLinePlainText(*text));
        for (const QString &tag : q.tags)
            FUZZ_CHECK(!tag.isEmpty() && fuzz::isOneLinePlainText(tag));
    }
    // Reasons are plain words: no raw control bytes from the row, bounded length.
    const qsizetype lines = untrusted.count('\n') + 1;
    FUZZ_CHECK(qsizetype(parsed.qubes.size() + parsed.rejected.size()) <= lines);
    for (const RejectedRow &row : parsed.rejected) {
        FUZZ_CHECK(row.line >= 1 && row.line <= lines);
        FUZZ_CHECK(!row.reason.isEmpty() && row.reason.size() < 512);
        FUZZ_CHECK(fuzz::isOneLinePlainText(row.reason));
    }
    return 0;
}
