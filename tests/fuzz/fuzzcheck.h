#pragma once
// Invariant checks shared by the fuzz targets: a broken invariant aborts, so libFuzzer records the
// input as a crash just like a sanitizer report.

#include <QString>

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            std::fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #cond, __FILE__,           \
                         __LINE__);                                                                \
            std::abort();                                                                          \
        }                                                                                          \
    } while (0)

namespace netmap::fuzz {

// Text that stays on one line and carries no terminal or control sequence: no C0/C1 control
// characters (newline, ESC, NUL, DEL, ...). Bidi and other format characters are the UI's
// business (tests/ui/tst_hostile*), not a parser's.
inline bool isOneLinePlainText(const QString &text)
{
    for (const QChar c : text) {
        if (c.category() == QChar::Other_Control)
            return false;
    }
    return true;
}

} // namespace netmap::fuzz
