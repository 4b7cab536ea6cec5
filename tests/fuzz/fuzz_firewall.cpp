// Fuzz target: `qvm-firewall QUBE --raw list` output.

#include "fuzzcheck.h"
#include "qubes/qvmparsers.h"

#include <QByteArray>

#include <cstddef>
#include <cstdint>

using namespace netmap;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray untrusted(reinterpret_cast<const char *>(data), qsizetype(size));
    const FirewallParse parsed = parseFirewall(untrusted);

    const qsizetype lines = untrusted.count('\n') + 1;
    FUZZ_CHECK(parsed.rules.size() + qsizetype(parsed.rejected.size()) <= lines);
    for (const FirewallRule &rule : parsed.rules) {
        if (rule.isReadable()) {
            FUZZ_CHECK(rule.action == QLatin1String("accept")
                       || rule.action == QLatin1String("drop"));
            // Ports start at 0; a rule without dstports has -1 for both.
            FUZZ_CHECK(rule.hasPorts() ? rule.portFrom <= rule.portTo && rule.portTo <= 65535
                                       : rule.portTo == -1);
        } else {
            // An unreadable line keeps its place, with a reason in plain words.
            FUZZ_CHECK(fuzz::isOneLinePlainText(rule.unreadable));
        }
        FUZZ_CHECK(fuzz::isOneLinePlainText(rule.comment));
        FUZZ_CHECK(fuzz::isOneLinePlainText(rule.describe()));
        // The canonical form reads back as the same rule (what the inspector shows is what was
        // read).
        const FirewallParse again = parseFirewall(rule.toRaw().toUtf8());
        FUZZ_CHECK(again.rejected.empty());
        FUZZ_CHECK(again.rules.size() == 1 && again.rules.front() == rule);
    }
    for (const RejectedRow &row : parsed.rejected) {
        FUZZ_CHECK(row.line >= 1 && row.line <= lines);
        FUZZ_CHECK(!row.reason.isEmpty() && row.reason.size() < 512);
        FUZZ_CHECK(fuzz::isOneLinePlainText(row.reason));
    }
    return 0;
}
