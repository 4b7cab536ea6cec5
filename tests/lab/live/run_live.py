#!/usr/bin/env python3
"""Runs one function of tst_livelab (the live view of qubes-netmap) inside a fresh lab.

    run_live.py BINARY FUNCTION

Exit 77 (CTest: SKIPPED) with the reason when the lab cannot run here; otherwise the test's
exit status. The window runs on the offscreen platform, polls qvm-ls every 500 ms (there is no
qubesd socket in the lab), and keeps its settings in a temporary folder.
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import lab as labmod  # noqa: E402


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    binary, function = argv
    problems = labmod.requirement_problems()
    if problems:
        for p in problems:
            print(f"SKIP: {p}")
        return 77
    with tempfile.TemporaryDirectory(prefix="netmap-live-") as home, labmod.Lab("default") as lab:
        env = lab.env()
        env.update({
            "QT_QPA_PLATFORM": env.get("NETMAP_LIVE_QPA", "offscreen"),
            "NETMAP_POLL_MS": "500",
            "NETMAP_QUBESD_SOCKET": str(Path(home) / "no-qubesd.sock"),
            "XDG_CONFIG_HOME": home,
            "HOME": home,
        })
        return subprocess.run([binary, function], env=env, stdin=subprocess.DEVNULL,
                              timeout=240).returncode


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except labmod.LabError as e:
        print(f"lab: error: {e}", file=sys.stderr)
        sys.exit(1)
