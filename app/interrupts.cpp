#include "interrupts.h"

#include <atomic>
#include <csignal>
#include <fcntl.h>
#include <unistd.h>

namespace netmap {

namespace {

int g_signalPipe[2] = {-1, -1};
std::atomic<int> g_lastSignal {0};

void onSignal(int number)
{
    g_lastSignal.store(number);
    const char byte = 1;
    [[maybe_unused]] const auto n = ::write(g_signalPipe[1], &byte, 1);
}

} // namespace

std::unique_ptr<QSocketNotifier> watchInterrupts()
{
    if (g_signalPipe[0] < 0 && ::pipe2(g_signalPipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return nullptr;
    auto notifier = std::make_unique<QSocketNotifier>(g_signalPipe[0], QSocketNotifier::Read);
    QObject::connect(notifier.get(), &QSocketNotifier::activated, notifier.get(), [] {
        char buffer[64];
        while (::read(g_signalPipe[0], buffer, sizeof buffer) > 0) { }
    });
    struct sigaction action
    {
    };
    action.sa_handler = onSignal;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, nullptr);
    ::sigaction(SIGTERM, &action, nullptr);
    ::signal(SIGPIPE, SIG_IGN); // a closed reader ends us through the write error instead
    return notifier;
}

int lastInterrupt()
{
    return g_lastSignal.load();
}

} // namespace netmap
