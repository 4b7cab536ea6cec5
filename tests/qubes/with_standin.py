#!/usr/bin/env python3
"""Run a command with the real Qubes tools on PATH, served by a qubesd stand-in.

    with_standin.py --release 4.3|4.2 (--state FILE | --snapshot FILE.yaml) [--fixture PROG]
                    [--log FILE] -- COMMAND [ARGS...]

--state is a stand-in state file (README.md); --snapshot takes the qubes of a qubes-netmap
snapshot (schema qubes-netmap-snapshot/1) instead. --fixture is what qrexec-client runs as the
qube (`PROG QUBE USER CMD`, default fixture_shell.sh). COMMAND gets PATH with the tools first,
NETMAP_QUBESD_SOCKET, and NETMAP_QUBESD_LOG (the stand-in's log). Exit: COMMAND's status; 77
(skipped) when the client of that release is missing (1 under CI=true).
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402


def state_from_snapshot(path):
    """The stand-in state of a snapshot's qubes: explicit netvms, except where a qube's netvm is
    the default_netvm (then it uses the default, as most qubes do)."""
    import yaml

    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    g = {k: v for k, v in (doc.get("globals") or {}).items()
         if k in ("default_netvm", "updatevm", "clockvm", "default_dispvm") and v}
    qubes = {}
    for q in doc.get("qubes") or []:
        name = q["name"]
        if name == "dom0":
            continue
        klass = q.get("class", "AppVM")
        entry = {"klass": klass, "label": q.get("label") or "red",
                 "state": q.get("state") or "Running",
                 "provides_network": bool(q.get("provides_network")),
                 "tags": list(q.get("tags") or [])}
        if q.get("template"):
            entry["template"] = q["template"]
        if q.get("ip"):
            entry["ip"] = q["ip"]
            last = q["ip"].split(".")
            entry["qid"] = int(last[2]) * 256 + int(last[3])
        nv = q.get("netvm") or None
        if klass != "TemplateVM" and nv is not None and nv == g.get("default_netvm"):
            pass  # the default
        else:
            entry["netvm"] = nv
        if q.get("default_dispvm") is not None:
            entry["default_dispvm"] = q["default_dispvm"]
        qubes[name] = entry
    used = {e["qid"] for e in qubes.values() if "qid" in e}
    nxt = 1
    for e in qubes.values():
        if "qid" not in e:
            while nxt in used:
                nxt += 1
            e["qid"] = nxt
            used.add(nxt)
    return {"globals": g, "qubes": qubes}


def main(argv):
    if "--" not in argv:
        print(__doc__, file=sys.stderr)
        return 2
    i = argv.index("--")
    ap = argparse.ArgumentParser()
    ap.add_argument("--release", default="4.3", choices=sorted(harness.RELEASES))
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--state")
    src.add_argument("--snapshot")
    ap.add_argument("--fixture")
    ap.add_argument("--log")
    a = ap.parse_args(argv[:i])
    command = argv[i + 1:]
    if not command:
        print("with_standin.py: no command", file=sys.stderr)
        return 2
    client = harness.client_or_exit(a.release)
    state = state_from_snapshot(a.snapshot) if a.snapshot else Path(a.state)
    with harness.StandIn(client, state, fixture=a.fixture) as s:
        env = dict(os.environ)
        env["PATH"] = f"{s.bindir}:{env.get('PATH', harness.SANE_PATH)}"
        env["NETMAP_QUBESD_SOCKET"] = str(s.sock)
        env["NETMAP_QUBESD_LOG"] = str(s.log)
        rc = subprocess.run(command, env=env).returncode
        if a.log:
            Path(a.log).write_text(s.log_text())
        return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
