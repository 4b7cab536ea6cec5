#pragma once
// Skips that CTest reports as skipped. QTest counts a QSKIP as a pass in its exit code, so CTest
// said "Passed" for a binary whose cases did not run. NETMAP_SKIP records the skip; the
// NETMAP_*_MAIN macros return 77 (SKIP_RETURN_CODE of every unit and UI test) when something
// was skipped and nothing failed. A failure keeps QTest's nonzero exit: a skip never hides it.

#include <QTest>

namespace netmap::testing {

inline bool &skippedSomething()
{
    static bool skipped = false;
    return skipped;
}

inline int exitCodeFor(int failures)
{
    return failures == 0 && skippedSomething() ? 77 : failures;
}

} // namespace netmap::testing

#define NETMAP_SKIP(why)                                                                           \
    do {                                                                                           \
        ::netmap::testing::skippedSomething() = true;                                              \
        QSKIP(why);                                                                                \
    } while (false)

#define NETMAP_MAIN_WRAPPER(TestObject, ...)                                                       \
    int main(int argc, char *argv[])                                                               \
    {                                                                                              \
        QT_PREPEND_NAMESPACE(QTest::Internal::callInitMain)<TestObject>();                         \
        __VA_ARGS__                                                                                \
        TestObject tc;                                                                             \
        QTEST_SET_MAIN_SOURCE_PATH                                                                 \
        return ::netmap::testing::exitCodeFor(QTest::qExec(&tc, argc, argv));                      \
    }

// QTEST_MAIN and QTEST_GUILESS_MAIN, with skips reported.
#define NETMAP_TEST_MAIN(TestObject) NETMAP_MAIN_WRAPPER(TestObject, QTEST_MAIN_SETUP())
#define NETMAP_GUILESS_TEST_MAIN(TestObject)                                                       \
    NETMAP_MAIN_WRAPPER(TestObject, QTEST_QAPP_SETUP(QCoreApplication))
