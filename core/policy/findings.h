#pragma once
// Findings computed from a snapshot and its topology (never hand-entered).

#include "model/finding.h"

#include <vector>

namespace netmap {

struct Snapshot;
class Topology;

std::vector<Finding> computeFindings(const Snapshot &snapshot, const Topology &topology);

} // namespace netmap
