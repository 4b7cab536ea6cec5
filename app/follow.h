#pragma once
// --follow: the live view without a window. Reads the system, then prints one JSON object per
// line on stdout for every change until SIGINT or SIGTERM.

#include "cli.h"

namespace netmap {

// Needs a QCoreApplication. Returns the exit code (0 after SIGINT/SIGTERM, 3 when the first read
// fails, 2 on a bad --verify configuration).
int runFollow(const CliOptions &options);

} // namespace netmap
