#!/usr/bin/env python3
"""Run one end-to-end case (tests/lab/cases/*.yaml) of qubes-netmap against the lab.

    run_case.py CASE.yaml --binary PATH [--out-dir DIR]

Brings the case's topology up with its faults, runs
`qubes-netmap --verify --config LABCONFIG --export OUT/result.json [run.args]` with the real
Qubes tools (against the lab's qubesd stand-in) first on PATH, compares the JSON export with the case's `expect:` (format: README.md) and tears
the lab down. Exit 0 pass, 1 fail (also when --help lacks an option the case `needs:`), 77
skipped (lab unavailable).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.dont_write_bytecode = True
sys.path.insert(0, str(HERE))

import lab as labmod  # noqa: E402

SKIP = 77
STATUSES = {"pass", "fail", "error", "skipped", "absent"}
CASE_KEYS = {"description", "topology", "faults", "needs", "run", "expect"}
EXPECT_KEYS = {"exit_code", "checks", "reasons", "unchanged", "external_ip", "distinct_colours", "findings",
               "drill", "baselines"}
BASELINE_KEYS = {"uplink", "what", "state", "values", "witnesses", "said"}
UNVERIFIED_COLOURS = {"#9e9e9e", "#d62728"}


class CaseError(Exception):
    pass


def load_case(path):
    import yaml

    with open(path, encoding="utf-8") as f:
        case = yaml.safe_load(f) or {}
    unknown = set(case) - CASE_KEYS
    if unknown:
        raise CaseError(f"{path}: unknown keys {sorted(unknown)}")
    expect = case.get("expect") or {}
    unknown = set(expect) - EXPECT_KEYS
    if unknown:
        raise CaseError(f"{path}: unknown expect keys {sorted(unknown)}")
    for qube, checks in (expect.get("checks") or {}).items():
        for check, allowed in checks.items():
            # The lab is deterministic: a case names the one right status, never a choice that
            # would let a wrong verdict pass.
            if isinstance(allowed, list):
                raise CaseError(f"{path}: {qube}.{check}: name one status, not a list {allowed}")
            allowed = [allowed]
            bad = set(allowed) - STATUSES
            if bad:
                raise CaseError(f"{path}: {qube}.{check}: unknown statuses {sorted(bad)}")
    if expect.get("unchanged", "pass") not in ("pass", "any"):
        raise CaseError(f"{path}: unchanged must be pass or any")
    return case


def program_help(binary):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", LC_ALL="C")
    try:
        r = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30,
                           env=env, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"<{e}>"
    return r.stdout + r.stderr


class TunnelWatch(threading.Thread):
    """Samples a tunnel qube every 50 ms: is its tunnel device up with the /1 routes through it?"""

    def __init__(self, lab, qube):
        super().__init__(daemon=True)
        self.lab, self.qube = lab, qube
        self.samples = []  # (time, broken)
        self.stop = threading.Event()

    def broken(self):
        q = self.lab.qubes[self.qube]
        if q["state"] != "Running" or not q.get("ns"):
            return True
        dev = q["tunnel"]["device"]
        r = subprocess.run([self.lab.tool("ip"), "-n", q["ns"], "-4", "route", "show", "dev", dev],
                           capture_output=True, text=True)
        return r.returncode != 0 or "0.0.0.0/1" not in r.stdout or "128.0.0.0/1" not in r.stdout

    def run(self):
        while not self.stop.is_set():
            self.samples.append((time.time(), self.broken()))
            self.stop.wait(0.05)

    def intervals(self):
        out, start, last = [], None, None
        for t, b in self.samples:
            if b and start is None:
                start = last if last is not None else t
            if not b and start is not None:
                out.append((start, t))
                start = None
            last = t
        if start is not None:
            out.append((start, self.samples[-1][0]))
        return out


class Comparison:
    def __init__(self):
        self.failures = []
        self.notes = []

    def expect(self, cond, what):
        (self.notes if cond else self.failures).append(what)
        return cond


def resolve_ip(lab, value):
    if value is None:
        return None
    return lab.s["exits"].get(value, value)


def compare(case, lab, result, exit_code, watch):
    cmp = Comparison()
    exp = case.get("expect") or {}
    if "exit_code" in exp:
        cmp.expect(exit_code == exp["exit_code"],
                   f"exit code {exit_code} (expected {exp['exit_code']})")
    if result is None:
        cmp.expect(False, "no JSON export was written")
        return cmp
    cmp.expect(result.get("schema") == "qubes-netmap/1", f"schema {result.get('schema')!r}")
    qubes = {q.get("name"): q for q in result.get("qubes", [])}
    named = set()
    for qube, checks in (exp.get("checks") or {}).items():
        if qube not in qubes:
            cmp.expect(False, f"{qube}: not in the export")
            continue
        got = {c.get("check"): c for c in qubes[qube].get("checks", [])}
        wildcard = checks.get("*")
        for check, allowed in checks.items():
            if check == "*":
                continue
            allowed = allowed if isinstance(allowed, list) else [allowed]
            named.add((qube, check))
            status = got[check].get("status") if check in got else "absent"
            observed = got[check].get("observed", "") if check in got else ""
            cmp.expect(status in allowed,
                       f"{qube} {check}: {status} (expected {'|'.join(allowed)}) observed={observed!r}")
        if wildcard is not None:
            allowed = [wildcard]
            for check, c in got.items():
                if (qube, check) in named:
                    continue
                named.add((qube, check))
                cmp.expect(c.get("status") in allowed,
                           f"{qube} {check}: {c.get('status')} (expected {'|'.join(allowed)})")
    for qube, checks in (exp.get("reasons") or {}).items():
        got = {c.get("check"): c for c in qubes.get(qube, {}).get("checks", [])}
        for check, words in checks.items():
            reason = got.get(check, {}).get("reason", "")
            for w in words if isinstance(words, list) else [words]:
                cmp.expect(w in reason, f"{qube} {check}: reason holds {w!r} (reason={reason!r})")
    if exp.get("unchanged", "pass") == "pass":
        for qube, q in qubes.items():
            for c in q.get("checks", []):
                if (qube, c.get("check")) in named:
                    continue
                cmp.expect(c.get("status") in ("pass", "skipped"),
                           f"{qube} {c.get('check')}: {c.get('status')} (unchanged: expected pass) "
                           f"observed={c.get('observed', '')!r} reason={c.get('reason', '')!r}")
    for qube, want in (exp.get("external_ip") or {}).items():
        want_ip = resolve_ip(lab, want)
        got = qubes.get(qube, {}).get("external_ip")
        cmp.expect(got == want_ip, f"{qube} external_ip {got} (expected {want} = {want_ip})")
    distinct = exp.get("distinct_colours") or []
    if distinct:
        links = {l.get("from"): l for l in result.get("links", [])}
        colours = {}
        for qube in distinct:
            link = links.get(qube)
            if not cmp.expect(link is not None, f"{qube}: has a link in the export"):
                continue
            colours[qube] = (link.get("colour") or "").lower()
            cmp.expect(colours[qube] not in UNVERIFIED_COLOURS and link.get("verified", True),
                       f"{qube}: link coloured as verified ({colours[qube]})")
        cmp.expect(len(set(colours.values())) == len(colours),
                   f"link colours differ: {colours}")
    for want in exp.get("findings") or []:
        found = [f for f in result.get("findings", [])
                 if all(f.get(k) == v for k, v in want.items())]
        cmp.expect(bool(found), f"a finding {want} (findings: "
                   f"{[(f.get('qube'), f.get('code')) for f in result.get('findings', [])]})")
    for want in exp.get("baselines") or []:
        unknown = set(want) - BASELINE_KEYS
        if not cmp.expect(not unknown, f"baselines: unknown keys {sorted(unknown)}"):
            continue
        got = [b for b in result.get("baselines", [])
               if b.get("uplink") == want.get("uplink") and b.get("what") == want.get("what")]
        if not cmp.expect(len(got) == 1, f"one {want.get('what')} baseline of {want.get('uplink')} "
                          f"in the export ({result.get('baselines')})"):
            continue
        b = got[0]
        if "state" in want:
            cmp.expect(b.get("state") == want["state"],
                       f"{want['uplink']} {want['what']} baseline: {b.get('state')} (expected "
                       f"{want['state']}; {b.get('summary')!r})")
        if "values" in want:
            values = sorted(resolve_ip(lab, v) for v in want["values"])
            cmp.expect(sorted(b.get("values") or []) == values,
                       f"{want['uplink']} {want['what']} baseline values {b.get('values')} "
                       f"(expected {values})")
        names = [w.get("qube") for w in b.get("witnesses") or []]
        for qube in want.get("witnesses") or []:
            cmp.expect(qube in names, f"{want['uplink']} {want['what']} baseline: {qube} is a "
                       f"witness ({names})")
        for qube, says in (want.get("said") or {}).items():
            said = [w.get("said") for w in b.get("witnesses") or [] if w.get("qube") == qube]
            want_said = [resolve_ip(lab, v) for v in (says if isinstance(says, list) else [says])]
            cmp.expect(said == [want_said], f"{want['uplink']} {want['what']} baseline: {qube} "
                       f"said {said} (expected {want_said})")
    drill = exp.get("drill")
    if drill:
        breaks = watch.intervals() if watch else []
        if drill.get("break_observed"):
            cmp.expect(bool(breaks), f"the drill broke {drill['qube']}'s tunnel ({breaks})")
        elif drill.get("break_observed") is False:
            cmp.expect(not breaks, f"the drill left {drill['qube']}'s tunnel alone ({breaks})")
        forbid = {resolve_ip(lab, e) for e in drill.get("no_exit_during_break") or []}
        leaks = []
        for path in lab.s["logs"]["echo"].values():
            with open(path, encoding="ascii") as f:
                for line in f:
                    parts = line.split()
                    if len(parts) >= 2 and parts[1] in forbid:
                        t = float(parts[0])
                        if any(a - 0.2 <= t <= b + 0.5 for a, b in breaks):
                            leaks.append(line.strip())
        if forbid:
            cmp.expect(not leaks, f"nothing left by {sorted(forbid)} while the tunnel was broken "
                       f"({leaks[:5]})")
        if drill.get("restored"):
            q = drill["qube"]
            up = False
            deadline = time.time() + 10
            while time.time() < deadline and not up:
                up = lab.tunnel_up(q)
                if not up:
                    time.sleep(0.2)
            cmp.expect(up, f"{q}'s tunnel is up again after the drill")
            exit_want = lab.s["providers"][lab.qubes[q]["tunnel"]["provider"]]["public"]
            echo = lab.s["services"]["echo"][0]["address"]
            for client in lab.clients_of(q):
                r = lab.qvm_run(client, f"curl -s -m 4 http://{echo}/")
                cmp.expect(r.stdout.strip() == exit_want,
                           f"{client} leaves by {exit_want} after the drill ({r.stdout.strip()!r})")
    return cmp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("case")
    ap.add_argument("--binary", required=True)
    ap.add_argument("--out-dir")
    ap.add_argument("--expect-failure", action="store_true",
                    help="runner self-check: succeed only if the comparison finds failures")
    args = ap.parse_args()

    problems = labmod.requirement_problems()
    if problems:
        for p in problems:
            print(f"SKIP: {p}")
        return SKIP
    try:
        case = load_case(args.case)
    except (CaseError, OSError) as e:
        print(f"FAIL: {e}")
        return 1
    name = Path(args.case).stem
    out = Path(args.out_dir or f"/tmp/netmap-lab-case-{name}")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    binary = str(Path(args.binary).resolve())
    if not os.access(binary, os.X_OK):
        print(f"FAIL: program not found: {binary}")
        return 1
    help_text = program_help(binary)
    missing = [o for o in case.get("needs") or [] if o not in help_text]
    if missing:
        # The program has had these options for a while: their absence from --help is a broken
        # program or reworded help, never a reason to skip the case silently.
        print(f"FAIL: qubes-netmap --help does not list {', '.join(missing)} (the case needs it)")
        return 1
    print(f"case {name}: {case.get('description', '')}")
    run = case.get("run") or {}
    result_path = out / "result.json"
    t0 = time.time()
    failed = True
    lab = labmod.Lab(case.get("topology", "default"), case.get("faults") or [])
    with lab:
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        env["PATH"] = lab.s["tool_dir"] + ":" + env.get("PATH", labmod.SANE_PATH)
        env["NETMAP_QUBESD_SOCKET"] = lab.s["qubesd_socket"]
        env["LC_ALL"] = "C"
        env.setdefault("HOME", str(out))
        command = [binary, "--verify", "--config", lab.s["config"], "--export", str(result_path)]
        command += [str(a) for a in run.get("args") or []]
        print("running: " + " ".join(command))
        watch = None
        drill = (case.get("expect") or {}).get("drill")
        if drill:
            watch = TunnelWatch(lab, drill["qube"])
            watch.start()
        t1 = time.time()
        try:
            proc = subprocess.run(command, env=env, capture_output=True, text=True,
                                  stdin=subprocess.DEVNULL, timeout=float(run.get("timeout", 240)))
            exit_code, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
        except subprocess.TimeoutExpired as e:
            exit_code, stdout, stderr = "timeout", e.stdout or "", e.stderr or ""
            stdout = stdout.decode(errors="replace") if isinstance(stdout, bytes) else stdout
            stderr = stderr.decode(errors="replace") if isinstance(stderr, bytes) else stderr
        t2 = time.time()
        if watch:
            watch.stop.set()
            watch.join()
        (out / "stdout.txt").write_text(stdout)
        (out / "stderr.txt").write_text(stderr)
        result = None
        if result_path.exists():
            try:
                result = json.loads(result_path.read_text())
            except ValueError as e:
                stderr += f"\n<result.json is not JSON: {e}>"
        cmp = compare(case, lab, result, exit_code, watch)
        failed = bool(cmp.failures)
        for n in cmp.notes:
            print(f"ok    {n}")
        for f in cmp.failures:
            print(f"FAIL  {f}")
        if failed:
            lab.keep_logs = str(out / "lab")
            print("--- program stderr (last 40 lines)")
            print("\n".join(stderr.splitlines()[-40:]))
        print(f"program ran {t2 - t1:.1f}s, case {time.time() - t0:.1f}s; output in {out}")
    print(f"case {name}: {len(cmp.notes)} passed, {len(cmp.failures)} failed")
    if args.expect_failure:
        print("expected failures " + ("found: the runner detects them" if failed else "NOT found"))
        return 0 if failed else 1
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except labmod.LabError as e:
        print(f"FAIL: lab: {e}")
        sys.exit(1)
    except KeyboardInterrupt as e:
        print(f"stopped ({e}), lab torn down")
        sys.exit(130)
