#!/usr/bin/env python3
"""A qubesd stand-in with the real Qubes tools, for a test program that starts it itself
(tests/support/realqubes.h).

    serve.py --release 4.3|4.2 --state FILE --dir DIR [--fixture PROG]

Serves FILE as it is (the test may rewrite it: the stand-in re-reads it when it changes),
writes the launchers of the real tools and the qrexec-client stand-in into DIR/bin, listens on
DIR/qubesd.sock (log DIR/qubesd.log), prints `ready` on stdout once the socket listens, and
stops the stand-in when its stdin closes (the test ends or dies). Exit 77 (skipped) with the
how-to on stderr when the client of that release is missing (1 under CI=true).
"""

import argparse
import signal
import sys
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--release", default="4.3", choices=sorted(harness.RELEASES))
    ap.add_argument("--state", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--fixture", default=str(harness.HERE / "fixture_shell.sh"))
    a = ap.parse_args()
    client = harness.client_or_exit(a.release)
    d = Path(a.dir)
    sock = d / "qubesd.sock"
    bindir = harness.write_launchers(d / "bin", client, sock, "fixture", a.fixture)
    proc = harness.start_daemon(a.state, sock, d / "qubesd.log")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        print(f"ready {bindir}", flush=True)
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        harness.stop_daemon(proc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
