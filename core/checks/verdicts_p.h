#pragma once
// What the verdict files (verdicts.cpp and the files of each check family) share, and no one
// else needs.

#include "verdicts.h"

#include <QString>

namespace netmap {

// An error verdict ("cannot check"): the reason in plain words, the expectation it could not test.
Verdict errorVerdict(QString reason, QString expected = {});
// The reason when the qube has no HTTP tool at all.
QString httpToolMissing();

} // namespace netmap
