// Fuzz target: the qubesd admin.Events stream framing.

#include "fuzzcheck.h"
#include "qubes/qubesdevents.h"

#include <QByteArray>

#include <cstddef>
#include <cstdint>
#include <vector>

using namespace netmap;

namespace {
bool sameEvents(const std::vector<QubesdEvent> &a, const std::vector<QubesdEvent> &b)
{
    if (a.size() != b.size())
        return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (a[i].subject != b[i].subject || a[i].name != b[i].name
            || a[i].arguments != b[i].arguments)
            return false;
    }
    return true;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    // The first byte chooses where the stream is cut in two, as a socket read might cut it.
    const size_t cut = size > 1 ? 1 + data[0] % (size - 1) : 1;
    const QByteArray untrusted(reinterpret_cast<const char *>(data + 1), qsizetype(size - 1));

    QubesdEventParser whole;
    std::vector<QubesdEvent> wholeEvents;
    const bool wholeOk = whole.feed(untrusted, &wholeEvents);

    QubesdEventParser split;
    std::vector<QubesdEvent> splitEvents;
    const qsizetype at = qMin(qsizetype(cut - 1), untrusted.size());
    bool splitOk = split.feed(untrusted.left(at), &splitEvents);
    splitOk = split.feed(untrusted.mid(at), &splitEvents) && splitOk;

    // How the bytes arrive does not change what is understood.
    FUZZ_CHECK(wholeOk == splitOk);
    FUZZ_CHECK(sameEvents(wholeEvents, splitEvents));
    for (const QubesdEvent &e : wholeEvents) {
        FUZZ_CHECK(!e.name.isEmpty());
        FUZZ_CHECK(fuzz::isOneLinePlainText(e.subject) && fuzz::isOneLinePlainText(e.name));
        for (const auto &kv : e.arguments)
            FUZZ_CHECK(fuzz::isOneLinePlainText(kv.first) && fuzz::isOneLinePlainText(kv.second));
        (void)e.affectsMap();
    }
    if (!wholeOk)
        FUZZ_CHECK(!whole.error().isEmpty());
    return 0;
}
