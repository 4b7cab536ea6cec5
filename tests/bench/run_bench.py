#!/usr/bin/env python3
"""The qubes-netmap benchmark: one command, one table.

    tests/bench/run_bench.py [--build BUILD] [--sizes 10,100,1000,10000] [--runs 3]

For every N it generates a synthetic system (gensystem.py), then
  - runs netmap-bench-phases for the median time of each phase (parse .. JSON export);
  - runs, interleaved so both see the same machine load, the whole program
    `qubes-netmap --export x.svg` reading the system through the fake qvm-ls of fake-bin/,
    and Graphviz `dot -Tsvg` on the same forest, taking the median wall time and the peak RSS
    of each child (wait4);
and prints one table with the ratio dot / ours. Then it checks the goals of issue 7: at the
largest N (10,000) our whole process is at least 10x faster than dot, and it grows at most 14x
from 1,000 to 10,000 qubes. Exit status 1 when a goal is missed (--no-goals: only report).
Finally it runs the verify-all and UI-responsiveness benchmarks when they are built.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PHASES = ["parse", "topology", "findings", "colouring", "layout", "scene", "svg", "png", "json"]


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%d cores (nproc), %s" % (os.cpu_count() or 0, model)


def load():
    try:
        return "%.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        return "?"


def run_child(argv, env=None, timeout=900):
    """Wall seconds and peak RSS (KiB) of one child; raises on failure to start or a timeout."""
    with open(os.devnull, "wb") as devnull:
        start = time.monotonic()
        proc = subprocess.Popen(argv, env=env, stdout=devnull, stderr=subprocess.PIPE)
        deadline = start + timeout
        while True:
            pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                raise RuntimeError("%s timed out after %d s" % (argv[0], timeout))
            time.sleep(0.002)
        wall = time.monotonic() - start
        err = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
        proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, rusage.ru_maxrss, proc.returncode, err


def fmt_ms(v):
    if v is None or v < 0:
        return "-"
    return "%.1f" % v if v < 100 else "%.0f" % v


def fmt_s(v):
    return "-" if v is None else ("%.2f" % v if v < 10 else "%.1f" % v)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default=os.path.join(HERE, "..", "..", "build"),
                        help="the CMake build directory (default: ./build)")
    parser.add_argument("--sizes", default="10,100,1000,10000")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", help="keep the generated systems and outputs in this folder")
    parser.add_argument("--no-goals", action="store_true", help="report only, never fail")
    parser.add_argument("--no-extra", action="store_true",
                        help="skip the verify-all and responsiveness benchmarks")
    args = parser.parse_args()
    build = os.path.abspath(args.build)
    program = os.path.join(build, "app", "qubes-netmap")
    phases_bin = os.path.join(build, "tests", "bench", "netmap-bench-phases")
    for path in (program, phases_bin):
        if not os.access(path, os.X_OK):
            sys.exit("run_bench.py: %s is missing; build the project first (see README.md)" % path)
    dot = shutil.which("dot")
    sizes = [int(n) for n in args.sizes.split(",") if n]
    work = args.keep or tempfile.mkdtemp(prefix="netmap-bench-")
    os.makedirs(work, exist_ok=True)

    print("machine: %s" % machine())
    print("load before: %s" % load())
    for n in sizes:
        subprocess.run([sys.executable, os.path.join(HERE, "gensystem.py"), str(n),
                        os.path.join(work, str(n)), "--seed", str(args.seed)], check=True)

    # Phase timings, in process.
    phase = {}
    out = subprocess.run([phases_bin, "--data", work, "--sizes", ",".join(map(str, sizes)),
                          "--runs", str(max(args.runs, 3))],
                         check=True, capture_output=True, text=True,
                         env=dict(os.environ, QT_QPA_PLATFORM="offscreen")).stdout
    for line in out.splitlines():
        cells = line.split("\t")
        if len(cells) == 4 and cells[0] == "phase":
            phase[(int(cells[1]), cells[2])] = float(cells[3])

    # Whole processes, ours and dot interleaved.
    env = dict(os.environ, PATH=os.path.join(HERE, "fake-bin") + os.pathsep + os.environ["PATH"],
               QT_QPA_PLATFORM="offscreen")
    ours, dots = {}, {}
    for n in sizes:
        system = os.path.join(work, str(n))
        env["NETMAP_BENCH_QVM_LS"] = os.path.join(system, "qvm-ls.txt")
        o, d = [], []
        for _ in range(args.runs):
            wall, rss, code, err = run_child(
                [program, "--quiet", "--export", os.path.join(system, "ours.svg")], env=env)
            if code not in (0, 1):  # 1: the system holds findings, as real ones do
                sys.exit("run_bench.py: qubes-netmap failed (%d) at N=%d: %s" % (code, n, err))
            o.append((wall, rss))
            if dot:
                wall, rss, code, err = run_child(
                    [dot, "-Tsvg", os.path.join(system, "forest.dot"), "-o",
                     os.path.join(system, "dot.svg")])
                if code != 0:
                    sys.exit("run_bench.py: dot failed (%d) at N=%d: %s" % (code, n, err))
                d.append((wall, rss))
        ours[n] = (statistics.median(w for w, _ in o), max(r for _, r in o))
        dots[n] = (statistics.median(w for w, _ in d), max(r for _, r in d)) if d else None

    print("load after: %s" % load())
    print()
    print("Phases in ms (median of %d, in process); whole processes in s (median of %d, "
          "interleaved), peak RSS in MiB" % (max(args.runs, 3), args.runs))
    head = ["N"] + PHASES + ["ours s", "ours MiB", "dot s", "dot MiB", "dot/ours"]
    rows = []
    for n in sizes:
        row = ["{:,}".format(n)] + [fmt_ms(phase.get((n, p))) for p in PHASES]
        row += [fmt_s(ours[n][0]), "%.0f" % (ours[n][1] / 1024)]
        if dots[n]:
            row += [fmt_s(dots[n][0]), "%.0f" % (dots[n][1] / 1024),
                    "%.1fx" % (dots[n][0] / ours[n][0])]
        else:
            row += ["n/a", "n/a", "n/a"]
        rows.append(row)
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    for r in [head] + rows:
        print("| " + " | ".join(c.rjust(w) for c, w in zip(r, widths)) + " |")

    failed = []
    big = max(sizes)
    if big >= 10000 and dots.get(big):
        ratio = dots[big][0] / ours[big][0]
        ok = ratio >= 10
        print("goal: at %s qubes ours is >= 10x faster than dot: %.1fx %s"
              % ("{:,}".format(big), ratio, "ok" if ok else "MISSED"))
        if not ok:
            failed.append("dot ratio")
    if 1000 in ours and 10000 in ours:
        growth = ours[10000][0] / ours[1000][0]
        ok = growth <= 14
        print("goal: 1,000 -> 10,000 qubes grows at most 14x: %.1fx %s"
              % (growth, "ok" if ok else "MISSED"))
        if not ok:
            failed.append("growth")
    if not dot:
        print("dot (Graphviz) is not installed: no comparison (apt-get install graphviz)")

    if not args.no_extra:
        for name in ("netmap-bench-verify", "netmap-bench-responsive"):
            path = os.path.join(build, "tests", "bench", name)
            if os.access(path, os.X_OK):
                print()
                result = subprocess.run([path], env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
                if result.returncode != 0:
                    failed.append(name)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    if failed and not args.no_goals:
        sys.exit(1)


if __name__ == "__main__":
    main()
