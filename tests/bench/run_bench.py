#!/usr/bin/env python3
"""The qubes-netmap benchmark: one command, one table.

    tests/bench/run_bench.py [--build BUILD] [--sizes 10,100,1000,10000] [--runs 3]

For every forest shape (gensystem.py --shape: mixed, uplinks, chains, fanout, small-netvms)
and every N it generates a synthetic system, then
  - runs netmap-bench-phases on the mixed shape for the median time of each phase;
  - serves the system with the qubesd stand-in (tests/qubes) to the real Qubes admin client
    (--release, default 4.3) and runs, interleaved so all see the same machine load, the whole
    program `qubes-netmap --export x.svg` reading the system through the real qvm-ls and
    qubes-prefs, the real `qvm-ls` alone with the program's arguments, and Graphviz `dot -Tsvg`
    on the same forest, taking the median wall time and the peak RSS of each child (wait4), the
    size of both SVG files and the aspect of ours;
and prints the tables: the whole process, the real qvm-ls alone (the Python client and the
stand-in: what any program reading this system waits for), the program's own time (the whole
process minus qvm-ls alone) and the ratio dot / own. Then it checks the goals, at 10,000 qubes
and for every shape: the program's own time at least 10x faster than dot, our SVG no larger
than dot's, peak RSS at most 150 MiB, aspect at most 3:1 either way; and growth of the own time
from 1,000 to 10,000 qubes at most 12x. Exit status 1 when a goal is missed (--no-goals: only
report), 77 when the real client is missing (a failure under CI=true).
Finally it runs the verify-all and UI-responsiveness benchmarks when they are built.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "qubes"))
import harness  # noqa: E402

# What qubes-netmap asks qvm-ls (core/qubes/qvmparsers.cpp, qvmLsFields).
QVM_LS_FIELDS = ("name,class,state,label,template,netvm,default_dispvm,provides_network,ip,"
                 "visible_ip,gateway,visible_gateway,tags,is_preload,ip6,visible_ip6,gateway6")
SHAPES = ["mixed", "uplinks", "chains", "fanout", "small-netvms"]
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
    parser.add_argument("--shapes", default=",".join(SHAPES),
                        help="forest shapes for the whole-process runs (default: all)")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", help="keep the generated systems and outputs in this folder")
    parser.add_argument("--no-goals", action="store_true", help="report only, never fail")
    parser.add_argument("--no-extra", action="store_true",
                        help="skip the verify-all and responsiveness benchmarks")
    parser.add_argument("--release", default="4.3", choices=sorted(harness.RELEASES),
                        help="the real Qubes admin client to run (default 4.3)")
    args = parser.parse_args()
    client = harness.client_or_exit(args.release)
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

    shapes = [x for x in args.shapes.split(",") if x]
    for shape in shapes:
        if shape not in SHAPES:
            sys.exit("run_bench.py: unknown shape %s (one of %s)" % (shape, ", ".join(SHAPES)))

    def system_dir(shape, n):
        return os.path.join(work, str(n) if shape == "mixed" else "%s-%d" % (shape, n))

    print("machine: %s" % machine())
    print("load before: %s" % load())
    for shape in sorted(set(shapes) | {"mixed"}):
        for n in sizes:
            subprocess.run([sys.executable, os.path.join(HERE, "gensystem.py"), str(n),
                            system_dir(shape, n), "--seed", str(args.seed), "--shape", shape],
                           check=True)

    # Phase timings, in process, on the mixed shape.
    phase = {}
    out = subprocess.run([phases_bin, "--data", work, "--sizes", ",".join(map(str, sizes)),
                          "--runs", str(max(args.runs, 3))],
                         check=True, capture_output=True, text=True,
                         env=dict(os.environ, QT_QPA_PLATFORM="offscreen")).stdout
    for line in out.splitlines():
        cells = line.split("\t")
        if len(cells) == 4 and cells[0] == "phase":
            phase[(int(cells[1]), cells[2])] = float(cells[3])

    # Whole processes with the real client, the real qvm-ls alone, and dot, interleaved.
    ours, dots, tools = {}, {}, {}
    for shape in shapes:
        for n in sizes:
            system = system_dir(shape, n)
            ours_svg = os.path.join(system, "ours.svg")
            dot_svg = os.path.join(system, "dot.svg")
            o, d, q = [], [], []
            with harness.StandIn(client, os.path.join(system, "state.json")) as standin:
                env = dict(os.environ, QT_QPA_PLATFORM="offscreen",
                           PATH=str(standin.bindir) + os.pathsep + os.environ["PATH"],
                           NETMAP_QUBESD_SOCKET=str(standin.sock))
                for _ in range(args.runs):
                    wall, rss, code, err = run_child(
                        [program, "--quiet", "--export", ours_svg], env=env)
                    if code not in (0, 1):  # 1: the system holds findings, as real ones do
                        sys.exit("run_bench.py: qubes-netmap failed (%d) at %s N=%d: %s"
                                 % (code, shape, n, err))
                    o.append((wall, rss))
                    wall, rss, code, err = run_child(
                        ["qvm-ls", "--raw-data", "--fields=" + QVM_LS_FIELDS], env=env)
                    if code != 0:
                        sys.exit("run_bench.py: the real qvm-ls failed (%d) at %s N=%d: %s"
                                 % (code, shape, n, err))
                    q.append(wall)
                    if dot:
                        wall, rss, code, err = run_child([dot, "-Tsvg", os.path.join(
                            system, "forest.dot"), "-o", dot_svg])
                        if code != 0:
                            sys.exit("run_bench.py: dot failed (%d) at %s N=%d: %s"
                                     % (code, shape, n, err))
                        d.append((wall, rss))
            with open(ours_svg, "rb") as f:
                head = f.read(400).decode(errors="replace")
            m = re.search(r'width="([0-9.]+)" height="([0-9.]+)"', head)
            aspect = max(float(m.group(1)) / float(m.group(2)),
                         float(m.group(2)) / float(m.group(1))) if m else float("nan")
            ours[(shape, n)] = (statistics.median(w for w, _ in o), max(r for _, r in o),
                                os.path.getsize(ours_svg), aspect)
            tools[(shape, n)] = statistics.median(q)
            dots[(shape, n)] = ((statistics.median(w for w, _ in d), max(r for _, r in d),
                                 os.path.getsize(dot_svg)) if d else None)

    print("load after: %s" % load())
    print()

    def own_time(shape, n):
        """The program's own time: the whole process minus the real qvm-ls alone (at least a
        millisecond: on a loaded machine the two medians may cross at small N)."""
        return max(0.001, ours[(shape, n)][0] - tools[(shape, n)])

    def table(head, rows):
        widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
        for r in [head] + rows:
            print("| " + " | ".join(c.rjust(w) for c, w in zip(r, widths)) + " |")

    print("Phases in ms (median of %d, in process, mixed shape)" % max(args.runs, 3))
    table(["N"] + PHASES,
          [["{:,}".format(n)] + [fmt_ms(phase.get((n, p))) for p in PHASES] for n in sizes])
    print()
    print("Whole process `--export x.svg` with the real Qubes %s client, against `dot -Tsvg`: "
          "seconds (median of %d, interleaved); qvm-ls: the real qvm-ls alone; own: whole minus "
          "qvm-ls; peak RSS in MiB, SVG in MB, aspect of ours (long side / short side)"
          % (args.release, args.runs))
    rows = []
    for shape in shapes:
        for n in sizes:
            t, rss, size, aspect = ours[(shape, n)]
            own = own_time(shape, n)
            row = [shape, "{:,}".format(n), fmt_s(t), fmt_s(tools[(shape, n)]), fmt_s(own),
                   "%.0f" % (rss / 1024), "%.2f" % (size / 1e6), "%.2f" % aspect]
            if dots[(shape, n)]:
                dt, drss, dsize = dots[(shape, n)]
                row += [fmt_s(dt), "%.0f" % (drss / 1024), "%.2f" % (dsize / 1e6),
                        "%.1fx" % (dt / own)]
            else:
                row += ["n/a"] * 4
            rows.append(row)
    table(["shape", "N", "whole s", "qvm-ls s", "own s", "ours MiB", "ours MB", "aspect",
           "dot s", "dot MiB", "dot MB", "dot/own"], rows)

    failed = []

    def goal(text, ok, name):
        print("goal: %s %s" % (text, "ok" if ok else "MISSED"))
        if not ok:
            failed.append(name)

    for shape in shapes:
        big = (shape, 10000)
        if big in ours:
            t, rss, size, aspect = ours[big]
            if dots.get(big):
                dt, _, dsize = dots[big]
                own = own_time(*big)
                goal("%s: our own time >= 10x faster than dot: %.1fx" % (shape, dt / own),
                     dt / own >= 10, shape + " speed")
                goal("%s: our SVG no larger than dot's: %.2f MB vs %.2f MB"
                     % (shape, size / 1e6, dsize / 1e6), size <= dsize, shape + " size")
            goal("%s: peak RSS <= 150 MiB: %.0f MiB" % (shape, rss / 1024), rss <= 150 * 1024,
                 shape + " memory")
            goal("%s: aspect <= 3:1: %.2f" % (shape, aspect), aspect <= 3, shape + " aspect")
        if (shape, 1000) in ours and big in ours:
            growth = own_time(*big) / own_time(shape, 1000)
            goal("%s: own time, 1,000 -> 10,000 qubes grows at most 12x: %.1fx" % (shape, growth),
                 growth <= 12, shape + " growth")
    if not dot:
        print("dot (Graphviz) is not installed: no comparison (apt-get install graphviz)")

    if not args.no_extra:
        for name in ("netmap-bench-verify", "netmap-bench-responsive"):
            path = os.path.join(build, "tests", "bench", name)
            if os.access(path, os.X_OK):
                print()
                result = subprocess.run([path], env=dict(os.environ, QT_QPA_PLATFORM="offscreen",
                                                         NETMAP_QUBES_RELEASE=args.release))
                if result.returncode != 0:
                    failed.append(name)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    if failed and not args.no_goals:
        sys.exit(1)


if __name__ == "__main__":
    main()
