#!/usr/bin/env bash
# Long fuzz runs, one target after another on one core, at the lowest priority.
#   tests/fuzz/run-long.sh BUILD_DIR [SECONDS_PER_TARGET] [TARGET...]
# BUILD_DIR is a clang build with -DNETMAP_BUILD_FUZZ=ON (see README.md). Each target starts
# from its seed corpus (tests/fuzz/corpus/<target>, never written) and keeps what it finds in
# $NETMAP_FUZZ_OUT/<target>/corpus (default build-dir/fuzz-long). Prints one line per target;
# exits 1 if any target left a crash, leak, timeout or out-of-memory artifact.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${1:?usage: run-long.sh BUILD_DIR [SECONDS] [TARGET...]}
seconds=${2:-600}
shift $(( $# >= 2 ? 2 : 1 ))
out=${NETMAP_FUZZ_OUT:-$build/fuzz-long}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for f in "$here"/fuzz_*.cpp; do targets+=("$(basename "$f" .cpp)"); done
fi

status=0
for t in "${targets[@]}"; do
    exe="$build/tests/fuzz/$t"
    [ -x "$exe" ] || { echo "$t: not built in $build"; status=1; continue; }
    mkdir -p "$out/$t/corpus" "$out/$t/artifacts"
    args=(-max_total_time="$seconds" -rss_limit_mb=1024 -timeout=10 -print_final_stats=1
          -artifact_prefix="$out/$t/artifacts/")
    [ -f "$here/dict/$t.dict" ] && args+=(-dict="$here/dict/$t.dict")
    nice -n 19 "$exe" "${args[@]}" "$out/$t/corpus" "$here/corpus/$t" >"$out/$t/log" 2>&1 || true
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t/log" | tail -1)
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$out/$t/log" | tail -1)
    found=$(find "$out/$t/artifacts" -type f | wc -l)
    took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$out/$t/log" | tail -1)
    echo "$t: ${took:-stopped early, not all of ${seconds}}s, ${runs:-?} runs, corpus $(find "$out/$t/corpus" -type f | wc -l), peak RSS ${rss:-?} MB, artifacts $found"
    [ "$found" -eq 0 ] || status=1
done
exit $status
