#!/usr/bin/env python3
"""A crude stand-in for `qubes-netmap --verify`, used only to test run_case.py and the case
files against the lab while the real checks (issue 4) are not there. It is not the program:
it runs the same kind of probes through the real qvm-* tools and writes the JSON of docs/ARCHITECTURE.md §5
(the fields the runner reads), so that a case that passes with it is consistent with what the
lab really does. Options: --verify --config F --export F [--checks a,b] [--drill] [--help].
"""

import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

ALL_CHECKS = ["external-ip", "vpn", "kill-switch", "tor", "dns-leak", "isolation"]
IP_RE = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")


def sh(args, timeout=60):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def qrun(qube, cmd, root=False, timeout=60):
    args = ["qvm-run", "--pass-io", "--no-gui", "--no-colour-output", "--no-colour-stderr",
            "--no-autostart"]
    if root:
        args += ["-u", "root"]
    return sh(args + [qube, cmd], timeout)


def load_config(path):
    cfg = {}
    with open(path, encoding="utf-8") as f:
        text = f.read()
    cfg["echo"] = re.search(r"ip_echo: \[(.*)\]", text).group(1).replace(" ", "").split(",")
    cfg["tor"] = re.search(r"tor_check: (\S+)", text).group(1)
    cfg["whoami"] = re.search(r"whoami: (\S+)", text).group(1)
    cfg["ports"] = [int(p) for p in re.search(r"isolation_ports: \[(.*)\]", text).group(1).split(",")]
    return cfg


def main(argv):
    if "--help" in argv:
        print("stand-in: --verify --config F --export F --checks LIST --drill")
        return 0
    opts = {"checks": ",".join(ALL_CHECKS)}
    i = 0
    while i < len(argv):
        if argv[i] in ("--config", "--export", "--checks"):
            opts[argv[i][2:]] = argv[i + 1]
            i += 1
        i += 1
    drill = "--drill" in argv
    selected = opts["checks"].split(",")
    cfg = load_config(opts["config"])
    fields = "name,class,state,label,template,netvm,provides_network,ip,tags"
    qubes = {}
    for line in sh(["qvm-ls", "--raw-data", f"--fields={fields}"]).stdout.splitlines():
        c = line.split("|")
        qubes[c[0]] = dict(zip(fields.split(","), [None if v == "-" else v for v in c]))
    running = [n for n, q in qubes.items() if q["state"] == "Running" and q["class"] != "AdminVM"]

    def chain(n):
        out = []
        while qubes[n]["netvm"]:
            n = qubes[n]["netvm"]
            out.append(n)
        return out

    tunnels = {}
    for n in running:
        if qubes[n]["provides_network"] == "True":
            r = qrun(n, "ip -o link show", root=True)
            tunnels[n] = re.findall(r"^\d+: (tun\d+)", r.stdout, re.M)

    def expectation(n):
        q = qubes[n]
        if "anon-vm" in (q["tags"] or "").split(",") or any(
                (qubes[h]["template"] or "").startswith("whonix-gateway") for h in chain(n)):
            return "tor"
        # A network qube with a tunnel, or named for a VPN even while its tunnel is down: a
        # dead tunnel must not turn a VPN client into an expected-clearnet one.
        for h in chain(n):
            if tunnels.get(h) or "vpn" in h:
                return "vpn"
        if not q["netvm"] and q["provides_network"] != "True":
            return "none"
        return "clearnet"

    results = {n: [] for n in qubes}

    def add(n, check, status, observed="", expected=""):
        results[n].append({"check": check, "status": status, "observed": observed,
                           "expected": expected, "reason": "", "at": None})

    def exit_ip(n):
        ips = [qrun(n, f"curl -s -k -m 4 {u}").stdout.strip() for u in cfg["echo"]]
        return ips[0] if ips[0] and IP_RE.match(ips[0]) and len(set(ips)) == 1 else None

    def whoami(n):
        out = qrun(n, f"dig +short +time=2 +tries=1 {cfg['whoami']}").stdout.strip()
        return out if IP_RE.match(out) else None

    networked = [n for n in running if qubes[n]["ip"]]
    roots = [n for n in running if qubes[n]["provides_network"] == "True" and not qubes[n]["netvm"]]
    with ThreadPoolExecutor(4) as pool:
        exits = dict(zip(networked, pool.map(exit_ip, networked)))
        resolvers = dict(zip(networked, pool.map(whoami, networked)))
    clear_exit = exits.get(roots[0]) if roots else None
    clear_dns = resolvers.get(roots[0]) if roots else None

    def isolation(n):
        # Upstream gateways answer by design, and so do a netvm's own downstream clients.
        targets = [qubes[o]["ip"] for o in networked
                   if o != n and o not in chain(n) and n not in chain(o)]
        probes = " ".join(f"(ping -c1 -W1 {t} >/dev/null 2>&1 && echo {t}) &" for t in targets)
        probes += " ".join(f"(nc -z -w 2 {t} {p} >/dev/null 2>&1 && echo {t}:{p}) &"
                           for t in targets for p in cfg["ports"])
        return sorted(set(qrun(n, probes + " wait").stdout.split()))

    with ThreadPoolExecutor(4) as pool:
        reach = dict(zip(networked, pool.map(isolation, networked))) if "isolation" in selected else {}

    for n in running:
        exp = expectation(n)
        if n in networked and "external-ip" in selected:
            add(n, "external-ip", "pass" if exits[n] else "error", exits[n] or "no egress", exp)
        elif n not in networked and "external-ip" in selected:
            add(n, "external-ip", "pass" if exp == "none" else "error", "no network", exp)
        if exp == "vpn" and "vpn" in selected:
            e = exits.get(n)
            add(n, "vpn", "error" if not e else ("fail" if e == clear_exit else "pass"), e or "")
        if exp == "tor" and "tor" in selected:
            r = qrun(n, f"curl -s -k -m 4 {cfg['tor']}")
            try:
                is_tor = json.loads(r.stdout).get("IsTor") is True
                add(n, "tor", "pass" if is_tor else "fail", r.stdout.strip())
            except ValueError:
                add(n, "tor", "error", "no answer")
        if n in networked and "dns-leak" in selected:
            w = resolvers.get(n)
            leak = exp in ("vpn", "tor") and w == clear_dns
            add(n, "dns-leak", "error" if not w else ("fail" if leak else "pass"), w or "")
        if n in reach:
            add(n, "isolation", "fail" if reach[n] else "pass", " ".join(reach[n]))
        if tunnels.get(n) and "kill-switch" in selected:
            rules = qrun(n, "nft list chain ip qubes custom-forward", root=True).stdout
            static = bool(re.search(r'oifname "eth0".*drop', rules))
            status = "pass" if static else "fail"
            if drill:
                clients = [c for c in running if qubes[c]["netvm"] == n]
                dev = tunnels[n][0]
                qrun(n, f"ip -4 route show dev {dev} > /tmp/netmap-drill; ip link set {dev} down; "
                        f"(sleep 30; ip link set {dev} up; while read r; do ip route add $r; done "
                        f"< /tmp/netmap-drill) >/dev/null 2>&1 & true", root=True)
                # (not a trailing "&": qvm-run appends "; exit", and "&; exit" is a syntax error)
                leaked = [c for c in clients if exit_ip(c)]
                qrun(n, f"ip link set {dev} up; while read r; do ip route add $r 2>/dev/null; done "
                        f"< /tmp/netmap-drill; true", root=True)
                status = "fail" if leaked or not static else "pass"
            add(n, "kill-switch", status, "drop rule" if static else "no drop rule")

    colours = {}
    palette = ["#0072b2", "#009e73", "#8e44ad", "#e69f00", "#56b4e9", "#7ccf5b"]
    links = []
    for n, q in sorted(qubes.items()):
        if q["netvm"]:
            e = exits.get(n)
            if e and e not in colours:
                colours[e] = palette[len(colours) % len(palette)]
            links.append({"from": n, "to": q["netvm"], "external_ip": e,
                          "colour": colours.get(e, "#9e9e9e"), "verified": bool(e)})
    findings = []
    for n, q in qubes.items():
        if q["netvm"] and qubes[q["netvm"]]["state"] != "Running" and q["state"] == "Running":
            findings.append({"severity": "error", "qube": n, "code": "netvm-halted",
                             "message": f"{n}: netvm {q['netvm']} is halted"})
        if "anon-vm" in (q["tags"] or "").split(",") and q["state"] == "Running" and not any(
                (qubes[h]["template"] or "").startswith("whonix-gateway") for h in chain(n)):
            findings.append({"severity": "error", "qube": n, "code": "anon-vm-not-behind-whonix",
                             "message": f"{n} is tagged anon-vm but not behind a Whonix gateway"})
    doc = {
        "schema": "qubes-netmap/1",
        "source": "live",
        "qubes": [{"name": n, "netvm": q["netvm"], "external_ip": exits.get(n),
                   "checks": results[n]} for n, q in sorted(qubes.items())],
        "links": links,
        "findings": findings,
    }
    with open(opts["export"], "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
    bad = any(c["status"] in ("fail", "error") for r in results.values() for c in r)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
