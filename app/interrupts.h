#pragma once
// SIGINT and SIGTERM as an event: the handlers write to a self-pipe that a QSocketNotifier reads
// in the event loop, so the program stops what it runs (its commands live in their own process
// groups, out of reach of a terminal's Ctrl-C) instead of dying with them still running.

#include <QSocketNotifier>

#include <memory>

namespace netmap {

// Installs the handlers (SIGPIPE is ignored too) and returns the notifier that fires when one of
// the signals arrives; nullptr when the pipe cannot be made. Call once per process.
std::unique_ptr<QSocketNotifier> watchInterrupts();

// The signal that arrived last (SIGINT or SIGTERM), 0 when none did.
int lastInterrupt();

} // namespace netmap
