// Fuzz target: the single answers inside a probe's output — one IP echo body, one Tor check JSON
// document — and the evidence sanitizer that keeps a qube's raw output for the report.

#include "checks/probeparser.h"
#include "fuzzcheck.h"
#include "model/untrustedtext.h"

#include <QByteArray>
#include <QHostAddress>

#include <cstddef>
#include <cstdint>

using namespace netmap;

namespace {
bool isAddress(const QString &text)
{
    QHostAddress a;
    return a.setAddress(text) && !text.contains(u'%');
}

// Evidence: no control characters but newline and tab, no bidi overrides or isolates.
bool isCleanEvidence(const QString &text)
{
    for (const QChar c : text) {
        const char16_t u = c.unicode();
        if (u == u'\n' || u == u'\t')
            continue;
        if (c.category() == QChar::Other_Control)
            return false;
        if ((u >= 0x202a && u <= 0x202e) || (u >= 0x2066 && u <= 0x2069))
            return false;
    }
    return true;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const QByteArrayView untrusted(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));
    switch (data[0] % 3) {
    case 0:
        if (const auto ip = parseIpEchoValue(untrusted))
            FUZZ_CHECK(isAddress(*ip));
        break;
    case 1: {
        QString why;
        if (const auto tor = parseTorCheck(untrusted, &why))
            FUZZ_CHECK(tor->ip.isEmpty() || isAddress(tor->ip));
        else
            FUZZ_CHECK(!why.isEmpty() && fuzz::isOneLinePlainText(why) && why.size() < 512);
        break;
    }
    default: {
        const int cap = 1 + (size > 1 ? data[1] : 0) * 4;
        const QString kept = untrustedtext::block(untrustedtext::fromUtf8(untrusted), cap);
        FUZZ_CHECK(isCleanEvidence(kept));
        // At most the cap, plus the "[… output truncated at N characters]" line when cut.
        FUZZ_CHECK(kept.size() <= cap + 48);
        break;
    }
    }
    return 0;
}
