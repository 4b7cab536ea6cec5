#!/usr/bin/env python3
"""A real-kernel Qubes network lab: one Linux network namespace per qube (README.md).

    lab.py check                              can the lab run here? (exit 77 and why if not)
    lab.py run [-t TOPO] [-f FAULT]... -- CMD  bring the lab up, run CMD with the real Qubes
                                              tools first on PATH, tear everything down
                                              whatever happens
    lab.py shell [-t TOPO] [-f FAULT]...      the same with an interactive shell
    lab.py up [-t TOPO] [-f FAULT]...         bring a lab up and leave it (prints its state dir)
    lab.py down STATE_DIR | --all             tear a lab (or every lab) down
    lab.py cleanup                            remove leftovers of labs whose owner died

FAULT is `type:qube[:argument]` (tunnel-down:sys-vpn, move:anon-whonix:sys-firewall,
dns-redirect:sys-vpn:203.0.113.53) or a JSON/YAML mapping.
"""

import argparse
import contextlib
import fcntl
import ipaddress
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUBES_DIR = HERE.parent / "qubes"  # the qubesd / qrexec-client stand-ins and the tool launcher
RUN_ROOT = Path(os.environ.get("NETMAP_LAB_RUN_ROOT", "/run/netmap-lab"))
NETNS_ETC = Path("/etc/netns")
NS_PREFIX = "nml"
NF_LOG_ALL_NETNS = Path("/proc/sys/net/netfilter/nf_log_all_netns")
NS_RE = re.compile(r"^nml([0-9a-f]{6})-")
SANE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
USER_UID = 1000
DNS_VIRTUAL = ["10.139.1.1", "10.139.1.2"]
QUBE_NAME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9_.-]{0,30}$")
RESERVED_NAMES = {"none", "default", "Domain-0"}
ALLOWED_NETS = [
    ipaddress.ip_network(n)
    for n in (
        "192.0.2.0/24",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "10.137.0.0/16",
        "10.138.0.0/16",
        "10.139.0.0/16",
        "172.20.10.0/28",
        "2001:db8::/32",  # the fake internet's IPv6 (documentation prefix)
        "fd09:24ef:4179::/48",  # Qubes' IPv6 prefix inside (qubes/config.py qubes_ipv6_prefix)
    )
]
QUBES_IPV6_PREFIX = "fd09:24ef:4179::"
REQUIRED_TOOLS = ["ip", "nft", "openvpn", "dnsmasq", "setpriv", "sysctl", "curl", "dig", "ping",
                  "openssl"]
DEFAULT_SERVICES = {
    "zone": "netmap.test",
    "whoami": "whoami.netmap.test",
    "echo": [
        {"name": "a", "address": "203.0.113.80"},
        {"name": "b", "address": "198.51.100.80"},
    ],
    # IPv6 echo services: served only where the lab has IPv6 on; always in the configuration
    # (the program always asks them; with IPv6 off nothing answers).
    "echo6": [
        {"name": "a6", "address": "2001:db8:80::a"},
        {"name": "b6", "address": "2001:db8:80::b"},
    ],
    "tor_check": {"address": "192.0.2.80", "path": "/api/ip"},
    "dns_auth": "203.0.113.55",
    "isp_resolver": "203.0.113.53",
    # The unique-name method: names under probe_zone (inside the lab zone, so every lab resolver
    # forwards them to dns_auth, which answers probe_answer and keeps who asked); the zone's
    # service reports the askers over HTTPS at https://probe_service/resolvers.
    "probe_zone": "probe.netmap.test",
    "probe_service": "203.0.113.56",
    "probe_answer": "203.0.113.57",
}
FAULT_TYPES = {
    "tunnel-down",
    "kill-switch",
    "dns-redirect",
    "no-isolation",
    "move",
    "halt",
    "nft",
    "exec",
    "forge-echo",
    "forge-dns",
}
# A lying network qube's forgers: the port each listens on inside the qube.
FORGE_PORTS = {"forge-echo": 8099, "forge-dns": 5399}
FORGE_TLS_PORT = 8443
KNOWN_GLOBALS = [
    "clockvm",
    "default_dispvm",
    "default_kernel",
    "default_netvm",
    "default_pool",
    "default_qrexec_timeout",
    "default_template",
    "management_dispvm",
    "stats_interval",
    "updatevm",
]


class LabError(Exception):
    pass


# --------------------------------------------------------------------------- helpers


def log(msg):
    if os.environ.get("NETMAP_LAB_QUIET") != "1":
        print(f"[lab] {msg}", file=sys.stderr, flush=True)


def find_tool(name):
    return shutil.which(name, path=SANE_PATH + ":" + os.environ.get("PATH", ""))


def check_address(value, what):
    try:
        addr = ipaddress.ip_interface(value).ip
    except ValueError as e:
        raise LabError(f"{what}: not an IP address: {value!r}") from e
    if not any(addr.version == n.version and addr in n for n in ALLOWED_NETS):
        raise LabError(
            f"{what}: {value} is outside the lab's address ranges "
            "(documentation ranges, 10.137-139/16, 172.20.10.0/28, fd09:24ef:4179::/48)"
        )
    return str(addr)


def check_address6(value, what):
    """An IPv6 address (or address/prefix) in the lab's ranges, as str."""
    if ipaddress.ip_interface(value).version != 6:
        raise LabError(f"{what}: not an IPv6 address: {value!r}")
    check_address(value, what)
    return str(ipaddress.ip_interface(value).ip)


def xor1(address):
    """The other end of a point-to-point link: the address with its last bit flipped."""
    a = ipaddress.ip_address(address)
    return str(ipaddress.ip_address(int(a) ^ 1))


def qubes_release():
    """The release of the real Qubes admin client the lab's tools come from."""
    return os.environ.get("NETMAP_LAB_QUBES_RELEASE", "4.3")


def qubes_harness():
    sys.path.insert(0, str(QUBES_DIR))
    import harness  # noqa: E402 pylint: disable=import-outside-toplevel

    return harness


def requirement_problems():
    """Reasons the lab cannot run on this machine (empty list: it can). A missing Qubes admin
    client is one, except under CI=true, where it is a failure (exit 1)."""
    problems = []
    harness = qubes_harness()
    if qubes_release() not in harness.RELEASES:
        problems.append(f"NETMAP_LAB_QUBES_RELEASE={qubes_release()}: not a known release")
        return problems
    missing_client = harness.client_problem(qubes_release())
    if missing_client:
        if os.environ.get("CI", "").lower() == "true":
            print(f"FAIL: {missing_client} (CI=true: a missing client is a failure)",
                  file=sys.stderr)
            sys.exit(1)
        problems.append(missing_client)
    if os.geteuid() != 0:
        problems.append("not running as root (network namespaces need CAP_SYS_ADMIN)")
        return problems
    missing = [t for t in REQUIRED_TOOLS if not find_tool(t)]
    if missing:
        problems.append(
            "missing tools: " + ", ".join(missing) + " (run tests/lab/install-deps.sh)"
        )
    try:
        import yaml  # noqa: F401
    except ImportError:
        problems.append(f"python module yaml missing for {sys.executable} (python3-yaml)")
    if not os.path.exists("/dev/net/tun"):
        problems.append("/dev/net/tun missing (no tun devices, OpenVPN cannot run)")
    ip = find_tool("ip")
    if ip and not problems:
        probe = f"{NS_PREFIX}probe{os.getpid()}"
        r = subprocess.run([ip, "netns", "add", probe], capture_output=True, text=True)
        if r.returncode != 0:
            problems.append("cannot create a network namespace: " + r.stderr.strip())
        else:
            subprocess.run([ip, "netns", "del", probe], capture_output=True)
    return problems


def proc_start_time(pid):
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def alive(pid):
    """A process that exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def write_json_atomic(path, data):
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


RULE_KEYS = ["action", "dst4", "dst6", "dsthost", "proto", "dstports", "icmptype",
             "specialtarget", "expire", "comment"]


def parse_rule(text_or_dict, where):
    """A qvm-firewall rule as a dict with validated values, in qvm-firewall's key order."""
    if isinstance(text_or_dict, dict):
        raw = {str(k): str(v) for k, v in text_or_dict.items()}
    else:
        text = str(text_or_dict).strip()
        comment = None
        if " comment=" in " " + text:
            idx = (" " + text).index(" comment=")
            comment = text[idx + 8 :] if idx > 0 else text[8:]
            text = text[: max(idx - 1, 0)] if idx > 0 else ""
        raw = {}
        for tok in text.split():
            if "=" not in tok:
                raise LabError(f"{where}: bad firewall token {tok!r}")
            k, v = tok.split("=", 1)
            raw[k] = v
        if comment is not None:
            raw["comment"] = comment
    allowed = RULE_KEYS
    for k in raw:
        if k not in allowed:
            raise LabError(f"{where}: unknown firewall key {k!r}")
    if raw.get("action") not in ("accept", "drop"):
        raise LabError(f"{where}: firewall rule needs action=accept|drop")
    if "dstports" in raw:
        p = raw["dstports"]
        if re.fullmatch(r"\d+", p):
            p = f"{p}-{p}"
        if not re.fullmatch(r"\d+-\d+", p):
            raise LabError(f"{where}: bad dstports {raw['dstports']!r}")
        raw["dstports"] = p
    if "proto" in raw and raw["proto"] not in ("tcp", "udp", "icmp"):
        raise LabError(f"{where}: bad proto {raw['proto']!r}")
    if "dst4" in raw:
        ipaddress.ip_network(raw["dst4"], strict=False)
        if "/" not in raw["dst4"]:
            raw["dst4"] += "/32"
    return {k: raw[k] for k in allowed if k in raw}


def rule_text(rule):
    """A rule as `qvm-firewall --raw list` prints it (comment last, may hold spaces)."""
    return " ".join(f"{k}={rule[k]}" for k in RULE_KEYS if k in rule)


# --------------------------------------------------------------------------- topology


def deep_merge(base, over):
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def resolve_topology_path(name):
    p = Path(name)
    if p.exists():
        return p.resolve()
    for cand in (HERE / "topologies" / name, HERE / "topologies" / f"{name}.yaml"):
        if cand.exists():
            return cand.resolve()
    raise LabError(f"topology not found: {name}")


def load_topology_file(path, depth=0):
    import yaml

    if depth > 5:
        raise LabError(f"{path}: 'extends' nested too deeply")
    path = resolve_topology_path(path)
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f) or {}
    if not isinstance(data, dict):
        raise LabError(f"{path}: top level must be a mapping")
    if "extends" in data:
        base_path = data.pop("extends")
        base_path = (path.parent / base_path) if not Path(base_path).is_absolute() else base_path
        base = load_topology_file(str(base_path), depth + 1)
        over_qubes = data.pop("qubes", [])
        remove = set(data.pop("remove_qubes", []))
        faults = base.get("faults", []) + data.pop("faults", [])
        merged = deep_merge(base, data)
        qubes = [dict(q) for q in base.get("qubes", []) if q.get("name") not in remove]
        index = {q["name"]: q for q in qubes}
        for q in over_qubes:
            if q.get("name") in index:
                index[q["name"]].update(q)
            else:
                qubes.append(dict(q))
        merged["qubes"] = qubes
        merged["faults"] = faults
        data = merged
    data.setdefault("name", path.stem)
    return data


def normalize_fault(f):
    if isinstance(f, str):
        s = f.strip()
        if s.startswith("{"):
            import yaml

            f = yaml.safe_load(s)
        else:
            parts = s.split(":")
            f = {"type": parts[0]}
            if len(parts) > 1:
                f["qube"] = parts[1]
            if len(parts) > 2:
                key = {"move": "netvm", "dns-redirect": "to", "exec": "command",
                       "forge-echo": "says", "forge-dns": "says"}.get(
                    parts[0], "argument"
                )
                f[key] = ":".join(parts[2:])
    if not isinstance(f, dict) or f.get("type") not in FAULT_TYPES:
        raise LabError(f"bad fault {f!r}; types: {', '.join(sorted(FAULT_TYPES))}")
    return dict(f)


def build_model(topo):
    """Validate a topology and turn it into the lab's qube table (dom0 included)."""
    g = dict(topo.get("globals") or {})
    for k in g:
        if k not in KNOWN_GLOBALS:
            raise LabError(f"globals: unknown property {k!r}")
    net = topo.get("internet") or {}
    services = deep_merge(DEFAULT_SERVICES, net.get("services") or {})
    for e in services["echo"]:
        check_address(e["address"], f"echo {e['name']}")
    for e in services["echo6"]:
        check_address6(e["address"], f"echo6 {e['name']}")
    check_address(services["tor_check"]["address"], "tor_check")
    check_address(services["dns_auth"], "dns_auth")
    check_address(services["isp_resolver"], "isp_resolver")
    check_address(services["probe_service"], "probe_service")
    check_address(services["probe_answer"], "probe_answer")
    if not services["probe_zone"].endswith("." + services["zone"]):
        raise LabError("probe_zone must lie inside the lab zone (its resolvers forward only that)")

    routers = {}
    for name, r in (net.get("routers") or {}).items():
        lan = ipaddress.ip_interface(r["lan"])
        check_address(r["lan"], f"router {name} lan")
        routers[name] = {
            "name": name,
            "exit": r.get("exit", name),
            "lan": str(lan),
            "lan_ip": str(lan.ip),
            "public": check_address(r["public"], f"router {name} public"),
        }
        # IPv6 (optional): the router routes its LAN's /64 (no NAT66, like a home router).
        if r.get("lan6") or r.get("public6"):
            lan6 = ipaddress.ip_interface(r["lan6"])
            check_address6(r["lan6"], f"router {name} lan6")
            routers[name]["lan6"] = str(lan6)
            routers[name]["lan6_ip"] = str(lan6.ip)
            routers[name]["public6"] = check_address6(r["public6"], f"router {name} public6")
    providers = {}
    for name, p in (net.get("providers") or {}).items():
        tunnel = p.get("tunnel") or []
        if len(tunnel) != 2:
            raise LabError(f"provider {name}: tunnel must list [provider end, client end]")
        providers[name] = {
            "name": name,
            "exit": p.get("exit", name),
            "tor": bool(p.get("tor", False)),
            "public": check_address(p["public"], f"provider {name} public"),
            "resolver": check_address(p["resolver"], f"provider {name} resolver"),
            "tunnel": [check_address(t, f"provider {name} tunnel") for t in tunnel],
            "port": int(p.get("port", 1194)),
        }
        # IPv6 (optional): the provider's own IPv6 exit, and whether its tunnel carries IPv6
        # (tunnel6: [provider end, client end]); a provider without tunnel6 tunnels IPv4 only.
        if p.get("public6"):
            providers[name]["public6"] = check_address6(p["public6"], f"provider {name} public6")
        tunnel6 = p.get("tunnel6") or []
        if tunnel6:
            if len(tunnel6) != 2 or not p.get("public6"):
                raise LabError(f"provider {name}: tunnel6 lists [provider end, client end] and "
                               "needs public6")
            providers[name]["tunnel6"] = [check_address6(t, f"provider {name} tunnel6")
                                          for t in tunnel6]
    publics = [r["public"] for r in routers.values()] + [p["public"] for p in providers.values()]
    if len(set(publics)) != len(publics):
        raise LabError("routers and providers need distinct public addresses")

    qubes = {}
    order = []
    raw_qubes = topo.get("qubes") or []
    names = [q.get("name") for q in raw_qubes]
    if len(set(names)) != len(names):
        raise LabError("qube names must be unique")
    used_qids = set()
    for q in raw_qubes:
        name = q.get("name")
        if not isinstance(name, str) or not QUBE_NAME_RE.match(name) or name in RESERVED_NAMES:
            raise LabError(f"bad qube name {name!r}")
        if name == "dom0":
            raise LabError("dom0 is added by the lab itself")
        klass = q.get("class", "AppVM")
        if klass not in ("AppVM", "TemplateVM", "StandaloneVM", "DispVM"):
            raise LabError(f"{name}: bad class {klass!r}")
        is_template = klass == "TemplateVM"
        entry = {
            "name": name,
            "klass": klass,
            "label": q.get("label", "black" if is_template else "red"),
            "template": None
            if klass in ("TemplateVM", "StandaloneVM")
            else q.get("template", g.get("default_template")),
            "provides_network": bool(q.get("provides_network", False)),
            "state": q.get("state", "Halted" if is_template else "Running"),
            "tags": [str(t) for t in q.get("tags", [])],
            "listen": [int(p) for p in q.get("listen", [])],
            "uplink": q.get("uplink"),
            "tunnel": q.get("tunnel"),
            "dns": list(q.get("dns") or []),
            "qubes_firewall": bool(q.get("qubes_firewall", True)),
            "startup": list(q.get("startup") or []),
            "prefs": dict(q.get("prefs") or {}),
            # qvm-features (the qubesd stand-in serves them); `ipv6` gives the qube and its
            # clients IPv6, looked up along the netvm chain as Qubes does.
            "features": {str(k): str(v) for k, v in (q.get("features") or {}).items()},
            "netvm_default": "netvm" not in q,
            "default_dispvm_default": "default_dispvm" not in q,
        }
        if entry["state"] not in ("Running", "Halted"):
            raise LabError(f"{name}: state must be Running or Halted")
        if "netvm" in q:
            entry["netvm"] = q["netvm"] or None
        elif is_template:
            entry["netvm"] = None
            entry["netvm_default"] = False
        else:
            dn = g.get("default_netvm")
            entry["netvm"] = dn if dn != name else None
        if "default_dispvm" in q:
            entry["default_dispvm"] = q["default_dispvm"] or None
        else:
            entry["default_dispvm"] = None if is_template else g.get("default_dispvm")
        rules = q.get("firewall")
        if rules is None:
            rules = ["action=accept"]
        entry["firewall"] = [parse_rule(r, f"{name} firewall") for r in rules]
        if q.get("ip"):
            entry["ip"] = check_address(q["ip"], f"{name} ip")
            a = ipaddress.ip_address(entry["ip"])
            entry["qid"] = int(q.get("qid", int(a) & 0x7FF))
        else:
            entry["ip"] = None
            entry["qid"] = q.get("qid")
        if entry["qid"] is not None:
            used_qids.add(entry["qid"])
        qubes[name] = entry
        order.append(name)
    next_qid = 1
    for name in order:
        q = qubes[name]
        if q["qid"] is None:
            while next_qid in used_qids:
                next_qid += 1
            q["qid"] = next_qid
            used_qids.add(next_qid)
    # Networking: who is networked, addresses, netvm checks.
    for name in order:
        q = qubes[name]
        nv = q["netvm"]
        if nv is not None:
            if nv not in qubes:
                raise LabError(f"{name}: netvm {nv!r} is not a qube of the topology")
            if not qubes[nv]["provides_network"]:
                raise LabError(f"{name}: netvm {nv!r} does not provide network")
        networked = nv is not None or q["provides_network"]
        if networked and not q["ip"]:
            qid = q["qid"]
            q["ip"] = f"10.137.{(qid >> 8) & 0xFF}.{qid & 0xFF}"
        if not networked:
            q["ip"] = None
        if q["uplink"]:
            if any(o is not q and o["uplink"] and o["uplink"].get("router") == q["uplink"].get("router")
                   for o in qubes.values()):
                raise LabError(f"{name}: router {q['uplink'].get('router')!r} serves one qube only")
            if nv is not None:
                raise LabError(f"{name}: a qube with an uplink cannot have a netvm")
            up = q["uplink"]
            if up.get("router") not in routers:
                raise LabError(f"{name}: uplink router {up.get('router')!r} unknown")
            check_address(up["address"], f"{name} uplink")
            r = routers[up["router"]]
            iface = ipaddress.ip_interface(up["address"])
            if iface.network != ipaddress.ip_interface(r["lan"]).network:
                raise LabError(f"{name}: uplink {up['address']} not in router lan {r['lan']}")
            q["uplink"] = {"router": up["router"], "address": str(iface), "gateway": r["lan_ip"]}
            if up.get("address6"):
                if "lan6" not in r:
                    raise LabError(f"{name}: uplink address6 but router {up['router']} has no lan6")
                check_address6(up["address6"], f"{name} uplink address6")
                iface6 = ipaddress.ip_interface(up["address6"])
                if iface6.network != ipaddress.ip_interface(r["lan6"]).network:
                    raise LabError(f"{name}: uplink {up['address6']} not in router lan6 {r['lan6']}")
                q["uplink"]["address6"] = str(iface6)
                q["uplink"]["gateway6"] = r["lan6_ip"]
            if not q["dns"]:
                q["dns"] = [r["lan_ip"]]
        if q["tunnel"]:
            t = q["tunnel"]
            if t.get("provider") not in providers:
                raise LabError(f"{name}: tunnel provider {t.get('provider')!r} unknown")
            dev = t.get("device", "tun0")
            if not re.fullmatch(r"[a-z][a-z0-9]{0,9}", dev):
                raise LabError(f"{name}: bad tunnel device {dev!r}")
            q["tunnel"] = {"provider": t["provider"], "device": dev}
        for d in q["dns"]:
            check_address(d, f"{name} dns")
        if q["provides_network"] and not q["dns"]:
            q["dns"] = list(DNS_VIRTUAL)
        for p in q["listen"]:
            if not 0 < p < 65536:
                raise LabError(f"{name}: bad listen port {p}")
    ips = [q["ip"] for q in qubes.values() if q["ip"]]
    if len(set(ips)) != len(ips):
        raise LabError("qube addresses must be unique")
    # Loops.
    for name in order:
        seen, cur = set(), name
        while cur is not None:
            if cur in seen:
                raise LabError(f"netvm loop through {name}")
            seen.add(cur)
            cur = qubes[cur]["netvm"]
    for k in ("default_netvm", "updatevm", "clockvm", "default_dispvm", "default_template"):
        v = g.get(k)
        if v is not None and v not in qubes:
            raise LabError(f"globals.{k}: {v!r} is not a qube")
    qubes["dom0"] = {
        "name": "dom0",
        "klass": "AdminVM",
        "label": "black",
        "template": None,
        "provides_network": None,
        "state": "Running",
        "tags": [],
        "listen": [],
        "uplink": None,
        "tunnel": None,
        "dns": [],
        "qubes_firewall": False,
        "startup": [],
        "prefs": {},
        "netvm": None,
        "netvm_default": False,
        "default_dispvm": g.get("default_dispvm"),
        "default_dispvm_default": True,
        "firewall": [],
        "ip": None,
        "ip6": None,
        "features": {},
        "qid": 0,
    }
    # IPv6 inside (qubes-core-admin net.py): a qube has ip6 when the `ipv6` feature is on along
    # its netvm chain (its own value first); Qubes' prefix and the qid in hex, as the qubesd
    # stand-in computes it (tests/qubes/qubesd_standin.py ip6_of).
    for name in order:
        q = qubes[name]
        q["ip6"] = None
        cur, seen, value = name, set(), None
        while cur is not None and cur not in seen:
            seen.add(cur)
            if "ipv6" in qubes[cur]["features"]:
                value = qubes[cur]["features"]["ipv6"]
                break
            cur = qubes[cur]["netvm"]
        if q["ip"] and value:
            kind = "a8a" if q["klass"] == "DispVM" else "a89"
            q["ip6"] = str(ipaddress.IPv6Address(f"{QUBES_IPV6_PREFIX}{kind}:{q['qid']:x}"))
    faults = [normalize_fault(f) for f in (topo.get("faults") or [])]
    return {
        "name": topo.get("name", "lab"),
        "description": topo.get("description", ""),
        "globals": g,
        "services": services,
        "routers": routers,
        "providers": providers,
        "qubes": qubes,
        "order": order,
        "faults": faults,
    }


# --------------------------------------------------------------------------- nftables


def qubes_table(q):
    """`table ip qubes` as every Qubes qube loads it (qubes-core-agent-linux, 4.2)."""
    custom_input = ""
    if q["listen"]:
        ports = ", ".join(str(p) for p in q["listen"])
        custom_input = f"      icmp type echo-request accept\n      tcp dport {{ {ports} }} accept\n"
    text = (
        "table ip qubes {\n"
        "   chain postrouting {\n"
        "      type nat hook postrouting priority srcnat; policy accept;\n"
        "      oifgroup 2 accept\n"
        "      oif lo accept\n"
        "      masquerade\n"
        "   }\n"
        "   chain input {\n"
        "      type filter hook input priority filter; policy drop;\n"
        "      jump custom-input\n"
        "      ct state invalid counter drop\n"
        "      iifgroup 2 meta l4proto udp udp dport 68 counter drop\n"
        "      ct state related,established accept\n"
        "      iifgroup 2 meta l4proto icmp accept\n"
        "      iif lo accept\n"
        "      iifgroup 2 counter reject with icmp type host-prohibited\n"
        "      counter\n"
        "   }\n"
        "   chain forward {\n"
        "      type filter hook forward priority filter; policy accept;\n"
        "      jump custom-forward\n"
        "      ct state invalid counter drop\n"
        "      ct state related,established accept\n"
        "      oifgroup 2 counter drop\n"
        "   }\n"
        "   chain custom-input {\n" + custom_input + "   }\n"
        "   chain custom-forward {\n"
        "   }\n"
    )
    if q["provides_network"]:
        text += dnat_dns_chain(q["dns"])
    text += "}\n"
    if q["provides_network"] and q["qubes_firewall"]:
        text += qubes_firewall_table("ip")
    return text


def qubes_firewall_table(family):
    """`table FAMILY qubes-firewall` as qubes-core-agent-linux's qubesagent/firewall.py
    (NftablesWorker.init) makes it: each client's chain is jumped to from qubes-forward."""
    return (
        f"table {family} qubes-firewall {{\n"
        "   chain qubes-forward {\n"
        "   }\n"
        "   chain forward {\n"
        "      type filter hook forward priority filter; policy drop;\n"
        "      ct state established,related accept\n"
        '      meta iifname != "vif*" accept\n'
        "      jump qubes-forward\n"
        "   }\n"
        "   chain prerouting {\n"
        "      type filter hook prerouting priority raw; policy accept;\n"
        "   }\n"
        "   chain postrouting {\n"
        "      type filter hook postrouting priority raw; policy accept;\n"
        "   }\n"
        "}\n"
    )


def qubes_table6(q):
    """`table ip6 qubes` as qubes-core-agent-linux loads it when IPv6 is on (network/qubes-ipv6.nft),
    and for a network qube the `ip6 qubes-firewall` table the qubes-firewall service starts with
    (qubesagent/firewall.py NftablesWorker.init)."""
    custom_input = ""
    if q["listen"]:
        ports = ", ".join(str(p) for p in q["listen"])
        custom_input = f"      icmpv6 type echo-request accept\n      tcp dport {{ {ports} }} accept\n"
    text = (
        "table ip6 qubes {\n"
        "   chain postrouting {\n"
        "      type nat hook postrouting priority srcnat; policy accept;\n"
        "      oifgroup 2 accept\n"
        "      oif lo accept\n"
        "      masquerade\n"
        "   }\n"
        "   chain _icmpv6 {\n"
        "      meta l4proto != ipv6-icmp counter reject with icmpv6 type admin-prohibited\n"
        "      icmpv6 type { nd-router-advert, nd-redirect } counter drop\n"
        "      accept\n"
        "   }\n"
        "   chain input {\n"
        "      type filter hook input priority filter; policy drop;\n"
        "      jump custom-input\n"
        "      ct state invalid counter drop\n"
        "      ct state related,established accept\n"
        "      iifgroup 2 goto _icmpv6\n"
        "      iif lo accept\n"
        "      meta l4proto udp ip6 saddr fe80::/64 ip6 daddr fe80::/64 udp dport 546 accept\n"
        "      meta l4proto ipv6-icmp accept\n"
        "      counter\n"
        "   }\n"
        "   chain forward {\n"
        "      type filter hook forward priority filter; policy accept;\n"
        "      jump custom-forward\n"
        "      ct state invalid counter drop\n"
        "      ct state related,established accept\n"
        "      oifgroup 2 counter drop\n"
        "   }\n"
        "   chain custom-input {\n" + custom_input + "   }\n"
        "   chain custom-forward {\n"
        "   }\n"
        "}\n"
    )
    if q["provides_network"] and q["qubes_firewall"]:
        text += qubes_firewall_table("ip6")
    return text


def qbs_rules6(rules):
    """The IPv6 chain of one client, as qubes-firewall's prepare_rules builds it for family 6:
    a dst4 rule (or a host name, which the lab resolves to IPv4 only) makes the rule set
    unusable, and then everything is rejected, as the service does."""
    out = []
    try:
        for rule in list(rules) + [{"action": "drop"}]:
            if rule.get("expire") and int(rule["expire"]) < time.time():
                continue
            if "dst4" in rule or "dsthost" in rule:
                raise LabError("IPv4 rule found for IPv6 address")
            nft = ""
            action = ("accept" if rule["action"] == "accept"
                      else "reject with icmpv6 type admin-prohibited")
            if "proto" in rule:
                nft += " ip6 nexthdr " + ("icmpv6" if rule["proto"] == "icmp" else rule["proto"])
            if "dst6" in rule:
                nft += f" ip6 daddr {rule['dst6']}"
            dstports = None
            if "dstports" in rule:
                a, b = rule["dstports"].split("-")
                dstports = a if a == b else rule["dstports"]
            if rule.get("specialtarget") == "dns":
                continue  # the lab has no IPv6 resolvers: the dns-addr set is empty
            if "icmptype" in rule:
                nft += f" icmpv6 type {rule['icmptype']}"
            if dstports is not None:
                if "proto" not in rule:
                    out.append(f"{nft} tcp dport {dstports} {action}")
                    out.append(f"{nft} udp dport {dstports} {action}")
                else:
                    out.append(f"{nft} {rule['proto']} dport {dstports} {action}")
            else:
                out.append(f"{nft} {action}")
    except LabError:
        out = [" reject with icmpv6 type admin-prohibited"]
    return [r.strip() for r in out]


def dnat_dns_chain(dns):
    d1 = dns[0]
    d2 = dns[1] if len(dns) > 1 else dns[0]
    rules = ""
    for virt, real in ((DNS_VIRTUAL[0], d1), (DNS_VIRTUAL[1], d2)):
        rules += f"      ip daddr {virt} udp dport 53 dnat to {real}\n"
        rules += f"      ip daddr {virt} tcp dport 53 dnat to {real}\n"
    return (
        "   chain dnat-dns {\n"
        "      type nat hook prerouting priority dstnat; policy accept;\n" + rules + "   }\n"
    )


def qbs_chain_name(ip):
    """qubesagent/firewall.py chain_for_addr."""
    return "qbs-" + ip.replace(".", "-").replace(":", "-")


def qbs_rules(rules, dns, hosts):
    """nft rules for one client, as qubes-firewall's NftablesWorker.prepare_rules builds them."""
    out = []
    try:
        for rule in list(rules) + [{"action": "drop"}]:
            if rule.get("expire") and int(rule["expire"]) < time.time():
                continue
            nft = ""
            action = "accept" if rule["action"] == "accept" else "reject with icmp type admin-prohibited"
            if "proto" in rule:
                nft += f" ip protocol {rule['proto']}"
            if "dst4" in rule:
                nft += f" ip daddr {rule['dst4']}"
            elif "dst6" in rule:
                continue
            elif "dsthost" in rule:
                addr = hosts.get(rule["dsthost"].lower())
                if addr is None:
                    raise LabError(f"Failed to resolve {rule['dsthost']}")
                nft += f" ip daddr {{ {addr}/32 }}"
            dstports = None
            if "dstports" in rule:
                a, b = rule["dstports"].split("-")
                dstports = a if a == b else rule["dstports"]
            if rule.get("specialtarget") == "dns":
                if dstports not in ("53", None):
                    continue
                dstports = "53"
                nft += " ip daddr { " + ", ".join(f"{d}/32" for d in dns) + " }"
            if "icmptype" in rule:
                nft += f" icmp type {rule['icmptype']}"
            if dstports is not None:
                if "proto" not in rule:
                    out.append(f"{nft} tcp dport {dstports} {action}")
                    out.append(f"{nft} udp dport {dstports} {action}")
                else:
                    out.append(f"{nft} {rule['proto']} dport {dstports} {action}")
            else:
                out.append(f"{nft} {action}")
    except LabError:
        # Like qubes-firewall: a rule set that cannot be applied blocks everything.
        out = [" reject with icmp type admin-prohibited"]
    return [r.strip() for r in out]


# --------------------------------------------------------------------------- the lab


class Lab:
    """One lab run. `with Lab(topology) as lab:` brings it up and always tears it down."""

    def __init__(self, topology="default", faults=(), keep_logs=None, state=None):
        self.keep_logs = keep_logs
        self.owner = False
        if state is not None:
            self.s = state
            return
        topo = load_topology_file(str(topology))
        model = build_model(topo)
        model["faults"] += [normalize_fault(f) for f in faults]
        self.s = model
        self.s["topology_path"] = str(resolve_topology_path(str(topology)))

    # ---- attaching from another process

    @classmethod
    def attach(cls, state_dir):
        with open(Path(state_dir) / "state.json", encoding="utf-8") as f:
            return cls(state=json.load(f))

    @contextlib.contextmanager
    def locked(self):
        with open(Path(self.s["state_dir"]) / "state.lock", "a+") as lk:
            fcntl.flock(lk, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lk, fcntl.LOCK_UN)

    def save(self):
        write_json_atomic(Path(self.s["state_dir"]) / "state.json", self.s)

    # ---- properties

    @property
    def state_dir(self):
        return Path(self.s["state_dir"])

    @property
    def qubes(self):
        return self.s["qubes"]

    def tool(self, name):
        return self.s["tools"][name]

    def ns(self, kind, name=""):
        return f"{self.s['prefix']}{kind}{('-' + name) if name else ''}"

    def qube_ns(self, name):
        return self.ns("q", name)

    def is_running(self, name):
        return self.qubes[name]["state"] == "Running"

    def clients_of(self, name):
        return [
            n
            for n in self.s["order"]
            if self.qubes[n]["netvm"] == name and self.is_running(n)
        ]

    def gateway_of(self, name):
        nv = self.qubes[name]["netvm"]
        return self.qubes[nv]["ip"] if nv else None

    # ---- process running

    def run(self, args, check=True, input=None, timeout=60):
        r = subprocess.run(
            args, input=input, capture_output=True, text=True, timeout=timeout
        )
        if check and r.returncode != 0:
            raise LabError(f"{' '.join(args)}: {r.stderr.strip() or r.stdout.strip()}")
        return r

    def ip_batch(self, ns, lines):
        if lines:
            self.run([self.tool("ip"), "-n", ns, "-batch", "-"], input="\n".join(lines) + "\n")

    def nsexec(self, ns, args, **kw):
        return self.run([self.tool("ip"), "netns", "exec", ns] + list(args), **kw)

    def nft(self, ns, text):
        return self.nsexec(ns, [self.tool("nft"), "-f", "-"], input=text)

    def sysctl(self, ns, settings):
        args = [self.tool("sysctl"), "-q", "-w"] + [f"{k}={v}" for k, v in settings.items()]
        self.nsexec(ns, args)

    def spawn(self, label, ns, args, log_name=None):
        logf = open(self.state_dir / "logs" / (log_name or f"{label}.log"), "ab")
        p = subprocess.Popen(
            [self.tool("ip"), "netns", "exec", ns] + list(args),
            stdin=subprocess.DEVNULL,
            stdout=logf,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        logf.close()
        self.s["processes"][label] = {"pid": p.pid, "ns": ns, "args": list(args)}
        return p

    def stop_process(self, label, sig=signal.SIGTERM):
        info = self.s["processes"].pop(label, None)
        if not info:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(info["pid"], sig)
        deadline = time.time() + 3
        while time.time() < deadline and alive(info["pid"]):
            with contextlib.suppress(ChildProcessError):
                if os.waitpid(info["pid"], os.WNOHANG)[0]:
                    break
            time.sleep(0.05)

    def wait_for(self, what, predicate, timeout=15.0, interval=0.05):
        deadline = time.time() + timeout
        while True:
            try:
                if predicate():
                    return
            except (LabError, subprocess.SubprocessError, OSError):
                pass
            if time.time() > deadline:
                raise LabError(f"timed out waiting for {what}")
            time.sleep(interval)

    # ---- bring-up

    def __enter__(self):
        self.install_signal_handlers()
        try:
            self.up()
        except BaseException:
            self.down()
            raise
        return self

    def __exit__(self, *exc):
        self.down()
        return False

    @staticmethod
    def install_signal_handlers():
        def handler(signum, _frame):
            raise KeyboardInterrupt(f"signal {signum}")

        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(sig, handler)

    def up(self):
        problems = requirement_problems()
        if problems:
            raise LabError("; ".join(problems))
        cleanup_stale()
        t0 = time.time()
        runid = secrets.token_hex(3)
        RUN_ROOT.mkdir(parents=True, exist_ok=True)
        os.chmod(RUN_ROOT, 0o755)
        state_dir = RUN_ROOT / runid
        state_dir.mkdir(mode=0o755)
        # Ownership first, so a concurrent start never takes this run for a stale one.
        (state_dir / "owner").write_text(f"{os.getpid()} {proc_start_time(os.getpid())}\n")
        self.owner = True
        self.s.update(
            {
                "version": 1,
                "runid": runid,
                "prefix": f"{NS_PREFIX}{runid}-",
                "state_dir": str(state_dir),
                "source_dir": str(HERE),
                "python": sys.executable,
                "tools": {t: find_tool(t) for t in REQUIRED_TOOLS},
                "namespaces": [],
                "processes": {},
                "xid_next": 1,
            }
        )
        for sub in ("logs", "bin", "keys", "run", "qubes", "tls"):
            (state_dir / sub).mkdir(mode=0o755)
        self.enable_netns_logging()
        self.save()
        log(f"run {runid}: state in {state_dir}")
        self.detect_openvpn()
        self.make_tls()
        self.build_internet()
        self.build_qubes()
        self.start_tunnels()
        self.run_startup_commands()
        self.write_tools()
        self.write_config()
        self.save()
        self.wait_ready()
        for fault in self.s["faults"]:
            self.apply_fault(fault)
        self.save()
        self.start_qubesd()
        log(f"lab {self.s['name']} up in {time.time() - t0:.1f}s")

    def enable_netns_logging(self):
        """nftables `log` from a namespace reaches the kernel log only with nf_log_all_netns=1
        (the program's dropped-traffic watch); the old value is kept and restored at teardown."""
        with contextlib.suppress(OSError):
            old = NF_LOG_ALL_NETNS.read_text().strip()
            NF_LOG_ALL_NETNS.write_text("1\n")
            self.s["nf_log_all_netns_before"] = old

    def new_ns(self, name, resolvers):
        self.run([self.tool("ip"), "netns", "add", name])
        self.s["namespaces"].append(name)
        d = NETNS_ETC / name
        d.mkdir(parents=True, exist_ok=True)
        (d / "resolv.conf").write_text("".join(f"nameserver {r}\n" for r in resolvers))
        self.sysctl(
            name,
            {
                "net.ipv6.conf.all.disable_ipv6": 1,
                "net.ipv6.conf.default.disable_ipv6": 1,
                "net.ipv4.conf.all.rp_filter": 0,
                "net.ipv4.conf.default.rp_filter": 0,
                "net.ipv4.ip_forward": 1,
                "net.ipv4.ping_group_range": "0 2147483647",
            },
        )
        self.ip_batch(name, ["link set lo up"])

    def enable_ipv6(self, ns):
        """IPv6 on in one namespace (the lab has it off everywhere else): no router
        advertisements, no duplicate address detection (addresses are usable at once),
        forwarding on (the namespaces that are no router drop it again, as for IPv4)."""
        self.sysctl(
            ns,
            {
                "net.ipv6.conf.all.disable_ipv6": 0,
                "net.ipv6.conf.default.disable_ipv6": 0,
                "net.ipv6.conf.lo.disable_ipv6": 0,
                "net.ipv6.conf.all.accept_ra": 0,
                "net.ipv6.conf.default.accept_ra": 0,
                "net.ipv6.conf.all.accept_dad": 0,
                "net.ipv6.conf.default.accept_dad": 0,
                "net.ipv6.conf.all.forwarding": 1,
            },
        )

    @property
    def has_ipv6(self):
        """Whether anything in the lab has IPv6 (then the internet serves it too)."""
        return any("public6" in x for x in list(self.s["routers"].values())
                   + list(self.s["providers"].values()))

    def certificate(self, name, ca, subject, sans):
        """A server certificate for `sans` (IP addresses) signed by the CA `ca` (tls/<ca>.pem)."""
        tls = self.state_dir / "tls"
        ext = tls / f"{name}.ext"
        ext.write_text("basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n"
                       "subjectAltName=" + ",".join(f"IP:{a}" for a in sans) + "\n")
        self.run([self.tool("openssl"), "req", "-new", "-newkey", "ec", "-pkeyopt",
                  "ec_paramgen_curve:prime256v1", "-nodes", "-subj", f"/CN={subject}",
                  "-keyout", str(tls / f"{name}.key"), "-out", str(tls / f"{name}.csr")])
        self.run([self.tool("openssl"), "x509", "-req", "-days", "2", "-in", str(tls / f"{name}.csr"),
                  "-CA", str(tls / f"{ca}.pem"), "-CAkey", str(tls / f"{ca}.key"),
                  "-set_serial", str(int.from_bytes(secrets.token_bytes(8), "big")),
                  "-extfile", str(ext), "-out", str(tls / f"{name}.pem")])
        return str(tls / f"{name}.pem"), str(tls / f"{name}.key")

    def make_ca(self, name, subject):
        tls = self.state_dir / "tls"
        self.run([self.tool("openssl"), "req", "-x509", "-newkey", "ec", "-pkeyopt",
                  "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", f"/CN={subject}",
                  "-addext", "basicConstraints=critical,CA:TRUE",
                  "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                  "-keyout", str(tls / f"{name}.key"), "-out", str(tls / f"{name}.pem")])
        return str(tls / f"{name}.pem")

    def make_tls(self):
        """The lab's CA (made at every start, in the run's state directory, gone with it) and the
        certificate of the internet's HTTPS services, for their addresses."""
        sv = self.s["services"]
        ca = self.make_ca("ca", f"netmap lab CA {self.s['runid']}")
        sans = [e["address"] for e in sv["echo"] + sv["echo6"]] + [sv["tor_check"]["address"],
                                                                   sv["probe_service"]]
        cert, key = self.certificate("services", "ca", "netmap lab services", sans)
        self.s["tls"] = {"ca": ca, "cert": cert, "key": key}

    def build_internet(self):
        sv = self.s["services"]
        inet = self.ns("inet")
        self.new_ns(inet, [sv["isp_resolver"]])
        ipv6 = self.has_ipv6
        if ipv6:
            self.enable_ipv6(inet)
        addrs = {sv["isp_resolver"], sv["dns_auth"], sv["tor_check"]["address"],
                 sv["probe_service"]}
        addrs |= {e["address"] for e in sv["echo"]}
        lines = [f"addr add {a}/32 dev lo" for a in sorted(addrs)]
        if ipv6:
            lines += [f"addr add {e['address']}/128 dev lo" for e in sv["echo6"]]
        index = 0
        for kind, table in (("r", self.s["routers"]), ("p", self.s["providers"])):
            for name, item in table.items():
                pub = ipaddress.ip_address(item["public"])
                peer = str(ipaddress.ip_address(int(pub) ^ 1))
                item["inet_side"] = peer
                ns = self.ns(kind, name)
                resolvers = [sv["isp_resolver"]] if kind == "r" else [item["resolver"]]
                self.new_ns(ns, resolvers)
                if "public6" in item:
                    self.enable_ipv6(ns)
                ifname = f"up{index}"
                index += 1
                lines += [
                    f"link add {ifname} type veth peer name wan netns {ns}",
                    f"addr add {peer}/31 dev {ifname}",
                    f"link set {ifname} up",
                ]
                if "public6" in item:
                    # A /127 link; a router's LAN /64 is routed to it (no NAT66).
                    item["inet_side6"] = xor1(item["public6"])
                    lines.append(f"addr add {item['inet_side6']}/127 dev {ifname}")
                    if kind == "r":
                        lines.append(f"route add {ipaddress.ip_interface(item['lan6']).network} "
                                     f"via {item['public6']} dev {ifname}")
                if kind == "p":
                    lines.append(f"route add {item['resolver']}/32 via {item['public']} dev {ifname}")
                item["ns"] = ns
        self.ip_batch(inet, lines)
        for name, r in self.s["routers"].items():
            self.ip_batch(
                r["ns"],
                [
                    f"addr add {r['public']}/31 dev wan",
                    "link set wan up",
                    f"route add default via {r['inet_side']} dev wan",
                ]
                + ([f"addr add {r['public6']}/127 dev wan",
                    f"route add default via {r['inet_side6']} dev wan"] if "public6" in r else []),
            )
            self.nft(
                r["ns"],
                "table ip nat {\n chain postrouting {\n"
                "  type nat hook postrouting priority srcnat; policy accept;\n"
                '  oifname "wan" masquerade\n }\n}\n',
            )
        for name, p in self.s["providers"].items():
            self.ip_batch(
                p["ns"],
                [
                    f"addr add {p['public']}/31 dev wan",
                    f"addr add {p['resolver']}/32 dev lo",
                    "link set wan up",
                    f"route add default via {p['inet_side']} dev wan",
                ]
                + ([f"addr add {p['public6']}/127 dev wan",
                    f"route add default via {p['inet_side6']} dev wan"] if "public6" in p else []),
            )
            self.nft(
                p["ns"],
                "table ip nat {\n chain postrouting {\n"
                "  type nat hook postrouting priority srcnat; policy accept;\n"
                '  oifname "wan" masquerade\n }\n}\n',
            )
            if "public6" in p:
                # The provider's own IPv6 exit for what comes through its tunnel.
                self.nft(
                    p["ns"],
                    "table ip6 nat {\n chain postrouting {\n"
                    "  type nat hook postrouting priority srcnat; policy accept;\n"
                    '  oifname "wan" masquerade\n }\n}\n',
                )
        # Services of the internet.
        logs = self.state_dir / "logs"
        tor_exits = [p["public"] for p in self.s["providers"].values() if p["tor"]]
        hosts = {f"echo-{e['name']}.{sv['zone']}": e["address"] for e in sv["echo"]}
        hosts[f"torcheck.{sv['zone']}"] = sv["tor_check"]["address"]
        hosts[f"resolver.{sv['zone']}"] = sv["isp_resolver"]
        self.s["hosts"] = hosts
        cfg = {
            "echo": [
                {"name": e["name"], "address": e["address"], "log": str(logs / f"echo-{e['name']}.log")}
                for e in sv["echo"] + (sv["echo6"] if ipv6 else [])
            ],
            "ipv6": ipv6,
            "tor_check": {
                "address": sv["tor_check"]["address"],
                "path": sv["tor_check"]["path"],
                "log": str(logs / "torcheck.log"),
            },
            "tor_exits": tor_exits,
            "dns": {
                "zone": sv["zone"],
                "whoami": sv["whoami"],
                "address": sv["dns_auth"],
                "hosts": hosts,
                "log": str(logs / "dns-auth.log"),
                "probe": {
                    "zone": sv["probe_zone"],
                    "answer": sv["probe_answer"],
                    "service": sv["probe_service"],
                    "log": str(logs / "probe-service.log"),
                },
            },
            "ready": str(self.state_dir / "run" / "internet.ready"),
            "tls": {"cert": self.s["tls"]["cert"], "key": self.s["tls"]["key"]},
        }
        for e in cfg["echo"]:
            Path(e["log"]).touch()
        Path(cfg["tor_check"]["log"]).touch()
        Path(cfg["dns"]["log"]).touch()
        Path(cfg["dns"]["probe"]["log"]).touch()
        write_json_atomic(self.state_dir / "internet.json", cfg)
        self.s["logs"] = {
            "echo": {e["name"]: e["log"] for e in cfg["echo"]},
            "torcheck": cfg["tor_check"]["log"],
            "dns_auth": cfg["dns"]["log"],
            "probe_service": cfg["dns"]["probe"]["log"],
        }
        self.spawn(
            "internet",
            inet,
            [sys.executable, "-B", "-E", "-S", str(HERE / "services.py"), "internet",
             str(self.state_dir / "internet.json")],
        )
        zone = sv["zone"]
        self.dnsmasq("isp-resolver", inet, sv["isp_resolver"],
                     [f"--server=/{zone}/{sv['dns_auth']}@{sv['isp_resolver']}"])
        for name, r in self.s["routers"].items():
            self.dnsmasq(f"router-{name}-dns", r["ns"], r["lan_ip"], [f"--server={sv['isp_resolver']}"],
                         delay_bind=True)
        for name, p in self.s["providers"].items():
            self.dnsmasq(f"provider-{name}-dns", p["ns"], p["resolver"],
                         [f"--server=/{zone}/{sv['dns_auth']}"])
        # Which resolver address the authoritative server sees on each path.
        self.s["exits"] = {r["exit"]: r["public"] for r in self.s["routers"].values()}
        self.s["exits"].update({p["exit"]: p["public"] for p in self.s["providers"].values()})
        # IPv6 exits (one /64 each): a router's LAN (sys-net masquerades onto its address
        # there), a provider's own address.
        self.s["exits6"] = {r["exit"]: str(ipaddress.ip_interface(r["lan6"]).network)
                            for r in self.s["routers"].values() if "lan6" in r}
        self.s["exits6"].update({p["exit"]: str(ipaddress.ip_interface(p["public6"] + "/64").network)
                                 for p in self.s["providers"].values() if "public6" in p})
        self.s["whoami"] = {r["exit"]: sv["isp_resolver"] for r in self.s["routers"].values()}
        self.s["whoami"].update({p["exit"]: p["public"] for p in self.s["providers"].values()})

    def dnsmasq(self, label, ns, address, extra, delay_bind=False):
        args = [
            self.tool("dnsmasq"),
            "--keep-in-foreground",
            "--conf-file=/dev/null",
            "--no-resolv",
            "--no-hosts",
            "--no-poll",
            "--cache-size=0",
            "--user=root",
            "--group=root",
            "--port=53",
            f"--listen-address={address}",
            "--bind-dynamic" if delay_bind else "--bind-interfaces",
            f"--pid-file={self.state_dir / 'run' / (label + '.pid')}",
            f"--log-facility={self.state_dir / 'logs' / (label + '.queries.log')}",
            "--log-queries",
        ] + extra
        self.spawn(label, ns, args)

    def detect_openvpn(self):
        out = self.run([self.tool("openvpn"), "--version"], check=False).stdout
        m = re.search(r"OpenVPN (\d+)\.(\d+)", out)
        ver = (int(m.group(1)), int(m.group(2))) if m else (2, 6)
        self.s["openvpn_version"] = list(ver)

    def openvpn_common(self, key, direction, dev, local, remote, log_label):
        args = [
            self.tool("openvpn"),
            "--dev", dev, "--dev-type", "tun",
            "--proto", "udp",
            "--ifconfig", local, remote,
            "--secret", str(key), str(direction),
            "--cipher", "AES-256-CBC", "--auth", "SHA256",
            "--ping", "2",
            "--verb", "3",
            "--writepid", str(self.state_dir / "run" / f"{log_label}.pid"),
            "--script-security", "1",
        ]
        ver = tuple(self.s["openvpn_version"])
        if ver >= (2, 6):
            args += ["--disable-dco"]
        if ver >= (2, 7):
            args += ["--allow-deprecated-insecure-static-crypto"]
        return args

    def build_qubes(self):
        for name in self.s["order"]:
            q = self.qubes[name]
            q["xid"] = -1
            q["ns"] = None
            if self.is_running(name):
                self.boot_qube(name)
        # Uplinks and links to netvms, parents first (the order of the topology may be any).
        for name in self.s["order"]:
            q = self.qubes[name]
            if not self.is_running(name):
                continue
            if q["uplink"]:
                self.connect_uplink(name)
        for name in self.topo_order():
            q = self.qubes[name]
            if self.is_running(name) and q["netvm"] and self.is_running(q["netvm"]):
                self.connect(name)
        # Provider sides of the tunnels, with a key generated now for this run.
        ver = tuple(self.s["openvpn_version"])
        for pname, p in self.s["providers"].items():
            key = self.state_dir / "keys" / f"{pname}.key"
            gen = ["--genkey", "secret", str(key)] if ver >= (2, 5) else ["--genkey", "--secret", str(key)]
            self.run([self.tool("openvpn")] + gen)
            os.chmod(key, 0o600)
            p["key"] = str(key)
            args = self.openvpn_common(key, 0, "tun0", p["tunnel"][0], p["tunnel"][1], f"provider-{pname}-vpn")
            args += ["--local", p["public"], "--lport", str(p["port"]), "--float"]
            if "tunnel6" in p:
                args += ["--ifconfig-ipv6", p["tunnel6"][0] + "/64", p["tunnel6"][1]]
            self.spawn(f"provider-{pname}-vpn", p["ns"], args)

    def topo_order(self):
        depth = {}

        def d(n):
            if n not in depth:
                nv = self.qubes[n]["netvm"]
                depth[n] = 0 if nv is None else d(nv) + 1
            return depth[n]

        return sorted(self.s["order"], key=d)

    def boot_qube(self, name):
        q = self.qubes[name]
        q["xid"] = self.s["xid_next"]
        self.s["xid_next"] += 1
        ns = self.qube_ns(name)
        q["ns"] = ns
        q["state"] = "Running"
        # A VPN client points the qube's own resolver at the tunnel's DNS; sys-net at the uplink's.
        resolvers = q["dns"] if (q["uplink"] or q["tunnel"]) else DNS_VIRTUAL
        self.new_ns(ns, resolvers)
        ipv6 = bool(q.get("ip6")) or bool((q["uplink"] or {}).get("address6"))
        if ipv6:
            self.enable_ipv6(ns)
        if not q["provides_network"]:
            self.sysctl(ns, {"net.ipv4.ip_forward": 0})
            if ipv6:
                self.sysctl(ns, {"net.ipv6.conf.all.forwarding": 0})
        # A qube has its own /run and /tmp: qvm-run mounts these over the host's.
        root = self.state_dir / "qubes" / name
        for sub, mode in (("run", 0o755), ("tmp", 0o1777)):
            (root / sub).mkdir(parents=True, exist_ok=True)
            os.chmod(root / sub, mode)
        real = os.path.realpath("/etc/resolv.conf")
        if real.startswith("/run/"):  # resolv.conf links into /run: keep the qube's resolvers
            target = root / "run" / os.path.relpath(real, "/run")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("".join(f"nameserver {r}\n" for r in resolvers))
        if q["ip"] or q["provides_network"]:
            self.nft(ns, qubes_table(q))
        if ipv6:
            self.nft(ns, qubes_table6(q))
        if q["listen"]:
            ready = self.state_dir / "run" / f"listen-{name}.ready"
            self.spawn(
                f"listen-{name}",
                ns,
                [sys.executable, "-B", "-E", "-S", str(HERE / "services.py"), "listen", str(ready)]
                + [str(p) for p in q["listen"]],
            )

    def connect_uplink(self, name):
        q = self.qubes[name]
        r = self.s["routers"][q["uplink"]["router"]]
        ns = q["ns"]
        # The router end is created in the router's namespace, the qube end moves into the qube.
        self.ip_batch(
            r["ns"],
            [
                f"link add lan type veth peer name eth0 netns {ns}",
                f"addr add {r['lan']} dev lan",
                "link set lan up",
            ],
        )
        self.ip_batch(
            ns,
            [
                "link set eth0 group 1",
                f"addr add {q['uplink']['address']} dev eth0",
                "link set eth0 up",
                f"route add default via {q['uplink']['gateway']} dev eth0",
            ],
        )
        if q["uplink"].get("address6"):
            self.ip_batch(r["ns"], [f"addr add {r['lan6']} dev lan"])
            self.ip_batch(ns, [f"addr add {q['uplink']['address6']} dev eth0",
                               f"route add default via {q['uplink']['gateway6']} dev eth0"])

    def connect(self, name):
        """Attach a running qube to its running netvm as Qubes does (vif-route-qubes, setup-ip)."""
        q = self.qubes[name]
        nv = self.qubes[q["netvm"]]
        vif = f"vif{q['xid']}.0"
        metric = 32752 - q["xid"]
        gw = nv["ip"]
        self.ip_batch(
            nv["ns"],
            [
                f"link add {vif} type veth peer name eth0 netns {q['ns']}",
                f"link set {vif} group 2",
                f"addr add {gw}/32 dev {vif}",
                f"link set {vif} up",
                f"route add {q['ip']}/32 dev {vif} metric {metric}",
            ],
        )
        lines = [
            "link set eth0 group 1",
            f"addr add {q['ip']}/32 dev eth0",
            "link set eth0 up",
            f"route add {gw}/32 dev eth0 scope link",
            f"route add default via {gw} dev eth0 onlink",
        ]
        if q["tunnel"]:
            p = self.s["providers"][q["tunnel"]["provider"]]
            lines.append(f"route add {p['public']}/32 via {gw} dev eth0 onlink")
        self.ip_batch(q["ns"], lines)
        gw6 = nv.get("ip6")
        if q.get("ip6") and gw6:
            # IPv6 as setup-ip and vif-route-qubes add it: a /128 each side, a host route to the
            # gateway and the default route through it.
            self.ip_batch(nv["ns"], [f"addr add {gw6}/128 dev {vif} nodad",
                                     f"route add {q['ip6']}/128 dev {vif} metric {metric}"])
            self.ip_batch(q["ns"], [f"addr add {q['ip6']}/128 dev eth0 nodad",
                                    f"route add {gw6}/128 dev eth0",
                                    f"route add default via {gw6} dev eth0 onlink"])
        if nv["qubes_firewall"]:
            self.install_client_firewall(q["netvm"], name)

    def disconnect(self, name):
        q = self.qubes[name]
        nv = q["netvm"]
        if not nv or not self.is_running(nv) or q["xid"] < 0:
            return
        self.run(
            [self.tool("ip"), "-n", self.qubes[nv]["ns"], "link", "del", f"vif{q['xid']}.0"],
            check=False,
        )
        if self.qubes[nv]["qubes_firewall"]:
            self.remove_client_firewall(nv, name)

    def netvm_dns(self, netvm):
        return self.qubes[netvm]["dns"] or list(DNS_VIRTUAL)

    def install_client_firewall(self, netvm, client):
        q = self.qubes[client]
        chain = qbs_chain_name(q["ip"])
        rules = qbs_rules(q["firewall"], self.netvm_dns(netvm), self.s["hosts"])
        text = (
            f"add chain ip qubes-firewall {chain}\n"
            f"flush chain ip qubes-firewall {chain}\n"
            f"add rule ip qubes-firewall qubes-forward ip saddr {q['ip']} jump {chain}\n"
        )
        text += "".join(f"add rule ip qubes-firewall {chain} {r}\n" for r in rules)
        if q.get("ip6") and self.qubes[netvm].get("ip6"):
            chain6 = qbs_chain_name(q["ip6"])
            text += (
                f"add chain ip6 qubes-firewall {chain6}\n"
                f"flush chain ip6 qubes-firewall {chain6}\n"
                f"add rule ip6 qubes-firewall qubes-forward ip6 saddr {q['ip6']} jump {chain6}\n"
            )
            text += "".join(f"add rule ip6 qubes-firewall {chain6} {r}\n"
                            for r in qbs_rules6(q["firewall"]))
        self.nft(self.qubes[netvm]["ns"], text)
        self.update_antispoof(netvm)

    def remove_client_firewall(self, netvm, client):
        ns = self.qubes[netvm]["ns"]
        ip = self.qubes[client]["ip"]
        chain = qbs_chain_name(ip)
        out = self.nsexec(ns, [self.tool("nft"), "-a", "list", "chain", "ip", "qubes-firewall",
                               "qubes-forward"], check=False).stdout
        for line in out.splitlines():
            if f"jump {chain} " in line + " " and "# handle" in line:
                handle = line.rsplit("# handle", 1)[1].strip()
                self.nft(ns, f"delete rule ip qubes-firewall qubes-forward handle {handle}\n")
        self.nft(ns, f"flush chain ip qubes-firewall {chain}\ndelete chain ip qubes-firewall {chain}\n")
        ip6 = self.qubes[client].get("ip6")
        if ip6 and self.qubes[netvm].get("ip6"):
            chain6 = qbs_chain_name(ip6)
            out = self.nsexec(ns, [self.tool("nft"), "-a", "list", "chain", "ip6", "qubes-firewall",
                                   "qubes-forward"], check=False).stdout
            for line in out.splitlines():
                if f"jump {chain6} " in line + " " and "# handle" in line:
                    handle = line.rsplit("# handle", 1)[1].strip()
                    self.nft(ns, f"delete rule ip6 qubes-firewall qubes-forward handle {handle}\n")
            self.nft(ns, f"flush chain ip6 qubes-firewall {chain6}\n"
                         f"delete chain ip6 qubes-firewall {chain6}\n")
        self.update_antispoof(netvm, exclude=client)

    def update_antispoof(self, netvm, exclude=None):
        ips = [self.qubes[c]["ip"] for c in self.clients_of(netvm) if c != exclude]
        text = "flush chain ip qubes-firewall prerouting\nflush chain ip qubes-firewall postrouting\n"
        if ips:
            s = "{ " + ", ".join(ips) + " }"
            text += f'add rule ip qubes-firewall prerouting iifname != "vif*" ip saddr {s} drop\n'
            text += f'add rule ip qubes-firewall postrouting oifname != "vif*" ip daddr {s} drop\n'
        if self.qubes[netvm].get("ip6") and self.qubes[netvm]["qubes_firewall"]:
            text += ("flush chain ip6 qubes-firewall prerouting\n"
                     "flush chain ip6 qubes-firewall postrouting\n")
            ips6 = [self.qubes[c]["ip6"] for c in self.clients_of(netvm)
                    if c != exclude and self.qubes[c].get("ip6")]
            if ips6:
                s6 = "{ " + ", ".join(ips6) + " }"
                text += f'add rule ip6 qubes-firewall prerouting iifname != "vif*" ip6 saddr {s6} drop\n'
                text += f'add rule ip6 qubes-firewall postrouting oifname != "vif*" ip6 daddr {s6} drop\n'
        self.nft(self.qubes[netvm]["ns"], text)

    def start_tunnels(self):
        for name in self.s["order"]:
            q = self.qubes[name]
            if q["tunnel"] and self.is_running(name):
                self.start_tunnel(name)

    def start_tunnel(self, name):
        q = self.qubes[name]
        p = self.s["providers"][q["tunnel"]["provider"]]
        dev = q["tunnel"]["device"]
        args = self.openvpn_common(p["key"], 1, dev, p["tunnel"][1], p["tunnel"][0], f"tunnel-{name}")
        # def1-style: two /1 routes through the tunnel, so that the default route through eth0
        # takes over as soon as the tunnel device goes away (the leak a kill switch prevents).
        args += [
            "--remote", p["public"], str(p["port"]), "--nobind",
            "--route", "0.0.0.0", "128.0.0.0",
            "--route", "128.0.0.0", "128.0.0.0",
        ]
        if "tunnel6" in p:
            # IPv6 through the tunnel too, the same def1 way; without tunnel6 the provider
            # tunnels IPv4 only and the qube's IPv6 keeps leaving by eth0.
            args += ["--ifconfig-ipv6", p["tunnel6"][1] + "/64", p["tunnel6"][0],
                     "--route-ipv6", "::/1", "--route-ipv6", "8000::/1"]
        self.spawn(f"tunnel-{name}", q["ns"], args)

    def tunnel_up(self, name):
        q = self.qubes[name]
        p = self.s["providers"][q["tunnel"]["provider"]]
        r = self.nsexec(q["ns"], [self.tool("ip"), "-4", "route", "show", "dev", q["tunnel"]["device"]],
                        check=False)
        if "0.0.0.0/1" not in r.stdout or "128.0.0.0/1" not in r.stdout:
            return False
        r = self.nsexec(q["ns"], [self.tool("ping"), "-c1", "-W1", "-q", p["tunnel"][0]], check=False)
        return r.returncode == 0

    def run_startup_commands(self):
        for name in self.s["order"]:
            q = self.qubes[name]
            if self.is_running(name):
                for cmd in q["startup"]:
                    self.nsexec(q["ns"], ["/bin/sh", "-c", cmd])

    def wait_ready(self):
        ready = self.state_dir / "run" / "internet.ready"
        self.wait_for("the internet services", ready.exists)
        for name in self.s["order"]:
            q = self.qubes[name]
            if q["listen"] and self.is_running(name):
                f = self.state_dir / "run" / f"listen-{name}.ready"
                self.wait_for(f"listeners in {name}", f.exists)
        dig = self.tool("dig")
        sv = self.s["services"]
        probe = f"ready.{sv['whoami']}"
        resolvers = [(self.ns("inet"), sv["isp_resolver"])]
        resolvers += [(r["ns"], r["lan_ip"]) for r in self.s["routers"].values()]
        resolvers += [(p["ns"], p["resolver"]) for p in self.s["providers"].values()]
        for ns, addr in resolvers:
            self.wait_for(
                f"resolver {addr}",
                lambda ns=ns, addr=addr: self.nsexec(
                    ns, [dig, "+short", "+time=1", "+tries=1", f"@{addr}", probe], check=False
                ).stdout.strip() != "",
            )
        for name in self.s["order"]:
            q = self.qubes[name]
            if q["tunnel"] and self.is_running(name) and self.path_up(name):
                self.wait_for(f"tunnel of {name}", lambda name=name: self.tunnel_up(name), timeout=20)

    def path_up(self, name):
        """Whether a qube's netvm chain reaches an uplink (a tunnel behind a halted netvm never comes up)."""
        cur = name
        while cur is not None:
            if not self.is_running(cur):
                return False
            if self.qubes[cur]["uplink"]:
                return True
            cur = self.qubes[cur]["netvm"]
        return False

    # ---- live operations (also used by the qubesd stand-in)

    def set_netvm(self, name, new):
        q = self.qubes[name]
        if new is not None:
            if new not in self.qubes or new == "dom0":
                raise LabError(f"no such domain: {new!r}")
            if not self.qubes[new]["provides_network"]:
                raise LabError(f"{new} does not provide network")
            cur = new
            while cur is not None:
                if cur == name:
                    raise LabError("Loops in network are unsupported")
                cur = self.qubes[cur]["netvm"]
            if self.is_running(name) and not self.is_running(new):
                raise LabError(f"Cannot dynamically attach to stopped NetVM: {new!r}")
        old = q["netvm"]
        if self.is_running(name) and old:
            self.disconnect(name)
        q["netvm"] = new
        if new is not None and not q["ip"]:
            qid = q["qid"]
            q["ip"] = f"10.137.{(qid >> 8) & 0xFF}.{qid & 0xFF}"
        if self.is_running(name) and new is not None:
            self.connect(name)
        self.save()

    def start_qube(self, name):
        """admin.vm.Start of a halted qube (its netvm already runs): boot, wire, tunnel."""
        if self.is_running(name):
            return
        q = self.qubes[name]
        self.boot_qube(name)
        if q["uplink"]:
            self.connect_uplink(name)
        if q["netvm"] and self.is_running(q["netvm"]):
            self.connect(name)
        for client in [n for n in self.s["order"] if self.qubes[n]["netvm"] == name
                       and self.is_running(n) and n != name]:
            self.connect(client)
        for cmd in q["startup"]:
            self.nsexec(q["ns"], ["/bin/sh", "-c", cmd])
        if q["tunnel"]:
            self.start_tunnel(name)
        self.save()

    def halt(self, name):
        """The qube is killed: its namespace goes, its clients keep a dead interface."""
        q = self.qubes[name]
        if not self.is_running(name):
            return
        nv = q["netvm"]
        if nv and self.is_running(nv) and self.qubes[nv]["qubes_firewall"]:
            self.remove_client_firewall(nv, name)
        for label in [k for k, v in self.s["processes"].items() if v["ns"] == q["ns"]]:
            self.stop_process(label)
        kill_netns(self.tool("ip"), q["ns"])
        self.s["namespaces"].remove(q["ns"])
        shutil.rmtree(NETNS_ETC / q["ns"], ignore_errors=True)
        q["state"] = "Halted"
        q["xid"] = -1
        q["ns"] = None
        self.save()

    def tunnel_down(self, name):
        label = f"tunnel-{name}"
        if label not in self.s["processes"]:
            raise LabError(f"{name} has no tunnel process")
        self.stop_process(label, signal.SIGKILL)
        dev = self.qubes[name]["tunnel"]["device"]
        self.wait_for(
            f"{dev} of {name} to disappear",
            lambda: self.run([self.tool("ip"), "-n", self.qubes[name]["ns"], "link", "show", dev],
                             check=False).returncode != 0,
        )
        self.save()

    def restart_tunnel(self, name):
        self.stop_process(f"tunnel-{name}", signal.SIGKILL)
        self.start_tunnel(name)
        self.wait_for(f"tunnel of {name}", lambda: self.tunnel_up(name), timeout=20)
        self.save()

    def set_dns(self, name, servers):
        q = self.qubes[name]
        q["dns"] = list(servers)
        self.nft(q["ns"], "flush chain ip qubes dnat-dns\n" + "".join(
            f"add rule ip qubes dnat-dns ip daddr {virt} {proto} dport 53 dnat to {real}\n"
            for virt, real in ((DNS_VIRTUAL[0], servers[0]), (DNS_VIRTUAL[1], servers[-1]))
            for proto in ("udp", "tcp")
        ))
        self.save()

    def apply_fault(self, f):
        kind = f["type"]
        name = f.get("qube")
        if name not in self.qubes or name == "dom0":
            raise LabError(f"fault {kind}: unknown qube {name!r}")
        q = self.qubes[name]
        log(f"fault {kind} on {name}")
        needs_running = kind not in ("halt", "move")
        if needs_running and not self.is_running(name):
            raise LabError(f"fault {kind}: {name} is not running")
        if kind == "tunnel-down":
            self.tunnel_down(name)
        elif kind == "kill-switch":
            dev = f.get("uplink", "eth0")
            self.nsexec(q["ns"], [self.tool("nft"), "add", "rule", "ip", "qubes", "custom-forward",
                                  "oifname", dev, "counter", "drop"])
        elif kind == "dns-redirect":
            to = f.get("to", "isp")
            if to == "isp":
                to = self.s["services"]["isp_resolver"]
            elif to in self.s["providers"]:
                to = self.s["providers"][to]["resolver"]
            check_address(to, "dns-redirect")
            self.set_dns(name, [to])
        elif kind == "no-isolation":
            out = self.nsexec(q["ns"], [self.tool("nft"), "-a", "list", "chain", "ip", "qubes", "forward"]).stdout
            handles = [l.rsplit("# handle", 1)[1].strip() for l in out.splitlines()
                       if "oifgroup 2" in l and "drop" in l and "# handle" in l]
            if not handles:
                raise LabError(f"no-isolation: no 'oifgroup 2 drop' in {name}")
            for h in handles:
                self.nft(q["ns"], f"delete rule ip qubes forward handle {h}\n")
        elif kind == "move":
            self.set_netvm(name, f.get("netvm") or None)
        elif kind == "halt":
            self.halt(name)
        elif kind == "nft":
            rules = f.get("rules") or []
            self.nft(q["ns"], "".join(r.rstrip("\n") + "\n" for r in rules))
        elif kind == "exec":
            self.nsexec(q["ns"], ["/bin/sh", "-c", f["command"]])
        elif kind in FORGE_PORTS:
            self.forge(name, kind, f)

    def forge(self, name, kind, f):
        """A lying network qube: its echo answers (forge-echo: HTTP to the echo endpoints) or DNS
        answers (forge-dns: every query to port 53) come from a forger inside the qube that
        says `says`. scope self: only the qube's own traffic (nat output: what its own probe
        sees); clients: only what it forwards for the qubes behind it (nat prerouting); all:
        both. HTTPS to the echo endpoints is forged too: for scope self with a certificate of
        the lab's CA (the qube lies about its own probe, which it fully controls), otherwise with
        a certificate of the forger's own CA, which the qubes behind it do not trust."""
        q = self.qubes[name]
        ns = q["ns"]
        says = f.get("says", "192.0.2.99")
        check_address(says, kind)
        scope = f.get("scope", "self")
        if scope not in ("self", "clients", "all"):
            raise LabError(f"{kind}: scope must be self, clients or all, not {scope!r}")
        port = FORGE_PORTS[kind]
        # To the qube's own address, where the forger listens (bound to it, so that its UDP
        # answers leave from the address conntrack expects; a redirect to 127.0.0.1 loses them).
        own = q["ip"]
        if not own:
            raise LabError(f"{kind}: {name} has no address of its own")
        label = f"{kind}-{name}"
        ready = self.state_dir / "run" / f"{label}.ready"
        tls = []
        if kind == "forge-echo":
            sans = [e["address"] for e in self.s["services"]["echo"]]
            ca = "ca"
            if scope != "self":
                ca = f"forger-{name}"
                self.make_ca(ca, f"forger in {name}")
            cert, key = self.certificate(label, ca, "forged echo", sans)
            tls = [str(FORGE_TLS_PORT), cert, key]
        self.spawn(label, ns, [sys.executable, "-B", "-E", "-S", str(HERE / "services.py"),
                               "forge", str(ready), kind.split("-")[1], own, str(port), says,
                               str(self.state_dir / "logs" / f"{label}-requests.log")] + tls)
        self.wait_for(f"the {kind} forger in {name}", ready.exists)
        if kind == "forge-echo":
            echo = ", ".join(e["address"] for e in self.s["services"]["echo"])
            match = [f"ip daddr {{ {echo} }} tcp dport 80 dnat to {own}:{port}",
                     f"ip daddr {{ {echo} }} tcp dport 443 dnat to {own}:{FORGE_TLS_PORT}"]
        else:
            match = [f"udp dport 53 dnat to {own}:{port}", f"tcp dport 53 dnat to {own}:{port}"]
        table = "netmap-lab-" + kind
        text = f"table ip {table} {{\n"
        hooks = {"self": ["output"], "clients": ["prerouting"], "all": ["output", "prerouting"]}
        for hook in hooks[scope]:
            text += (f"   chain {hook} {{\n      type nat hook {hook} priority -150; policy accept;\n"
                     + "".join(f"      {m}\n" for m in match) + "   }\n")
        text += "}\n"
        if scope != "self":  # the forger must be reachable from the clients (custom-input)
            ports = f"{port}, {FORGE_TLS_PORT}" if kind == "forge-echo" else str(port)
            text += (f"add rule ip qubes custom-input meta l4proto {{ tcp, udp }} "
                     f"th dport {{ {ports} }} accept\n")
        self.nft(ns, text)

    # ---- the Qubes tools and program config

    def write_tools(self):
        """bin/qvm-ls, qvm-prefs, qubes-prefs, qvm-firewall, qvm-check, qvm-run: the real tools of
        the Qubes admin client, talking to the lab's qubesd stand-in; bin/qrexec-client: the
        stand-in the real qvm-run starts, which runs commands in the qubes' namespaces."""
        harness = qubes_harness()
        release = qubes_release()
        sock = self.state_dir / "qubesd.sock"
        harness.write_launchers(self.state_dir / "bin", harness.client_dir(release), sock,
                                "lab", self.state_dir)
        self.s["qubes_release"] = release
        self.s["qubesd_socket"] = str(sock)
        self.s["tool_dir"] = str(self.state_dir / "bin")

    def start_qubesd(self):
        """The qubesd stand-in on the lab's state.json (tests/qubes/qubesd_standin.py --lab):
        it answers the real tools and turns every change of the lab into qubesd's events."""
        harness = qubes_harness()
        proc = harness.start_daemon(self.state_dir / "state.json", self.s["qubesd_socket"],
                                    self.state_dir / "logs" / "qubesd.log", lab=True)
        self.s["host_processes"] = {"qubesd": {"pid": proc.pid,
                                               "start": proc_start_time(proc.pid)}}
        self._qubesd = proc
        self.save()

    def write_config(self):
        sv = self.s["services"]
        echo = ", ".join(f"https://{e['address']}/" for e in sv["echo"])
        echo6 = ", ".join(f"'https://[{e['address']}]/'" for e in sv["echo6"])
        tc = sv["tor_check"]
        text = (
            f"# qubes-netmap check configuration for netmap lab run {self.s['runid']}\n"
            "endpoints:\n"
            f"  ip_echo: [{echo}]\n"
            f"  ip_echo6: [{echo6}]\n"
            f"  tor_check: https://{tc['address']}{tc['path']}\n"
            f"  ca_file: {self.s['tls']['ca']}\n"
            "dns:\n"
            f"  whoami: {sv['whoami']}\n"
            f"  zone: {sv['probe_zone']}\n"
            f"  zone_service: https://{sv['probe_service']}/resolvers\n"
            "checks:\n"
            "  timeout_seconds: 20\n"
            "  connect_timeout_seconds: 4\n"
            "  concurrency: 4\n"
            "  isolation_ports: [22, 80]\n"
        )
        path = self.state_dir / "netmap-lab.yaml"
        path.write_text(text)
        self.s["config"] = str(path)

    def env(self, base=None):
        env = dict(os.environ if base is None else base)
        env["PATH"] = self.s["tool_dir"] + ":" + env.get("PATH", SANE_PATH)
        env["NETMAP_QUBESD_SOCKET"] = self.s["qubesd_socket"]
        env["NETMAP_LAB_STATE"] = str(self.state_dir)
        env["NETMAP_LAB_CONFIG"] = self.s["config"]
        return env

    # ---- conveniences for tests

    def qvm_run(self, qube, command, user=None, timeout=30, autostart=False):
        args = [str(self.state_dir / "bin" / "qvm-run"), "--pass-io", "--no-gui",
                "--no-colour-output", "--no-colour-stderr"]
        if not autostart:
            args.append("--no-autostart")
        if user:
            args += ["-u", user]
        args += [qube, command]
        return subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, env={"PATH": SANE_PATH, "LC_ALL": "C"})

    def infra_exec(self, kind, name, args, timeout=30):
        return subprocess.run([self.tool("ip"), "netns", "exec", self.ns(kind, name)] + list(args),
                              capture_output=True, text=True, timeout=timeout)

    # ---- teardown

    def down(self):
        if not self.owner or "state_dir" not in self.s:
            return
        self.owner = False
        if self.keep_logs:
            with contextlib.suppress(OSError):
                dest = Path(self.keep_logs)
                dest.mkdir(parents=True, exist_ok=True)
                shutil.copytree(self.state_dir / "logs", dest / "logs", dirs_exist_ok=True)
                shutil.copy(self.state_dir / "state.json", dest / "state.json")
        teardown_run(self.s["runid"], self.s.get("tools", {}).get("ip") or find_tool("ip"))
        log(f"run {self.s['runid']} torn down")


# --------------------------------------------------------------------------- teardown


def descendants(pid):
    children = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(d.name))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def kill_tree(pid):
    """Stop a command and everything it started (a shell's children would outlive it)."""
    pids = [pid] + descendants(pid)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for p in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, sig)
        deadline = time.time() + 2
        while time.time() < deadline and any(alive(p) for p in pids[1:]):
            time.sleep(0.05)


def kill_netns(ip, ns):
    """Kill every process inside a namespace, then delete it (processes would keep it alive)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        r = subprocess.run([ip, "netns", "pids", ns], capture_output=True, text=True)
        pids = [int(p) for p in r.stdout.split() if p.isdigit()]
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.time() + (1.5 if sig == signal.SIGTERM else 3)
        while time.time() < deadline and any(alive(p) for p in pids):
            for pid in pids:
                with contextlib.suppress(ChildProcessError, OSError):
                    os.waitpid(pid, os.WNOHANG)
            time.sleep(0.05)
    subprocess.run([ip, "netns", "del", ns], capture_output=True)


def restore_netns_logging(state_dir):
    try:
        before = json.loads((state_dir / "state.json").read_text()).get("nf_log_all_netns_before")
    except (OSError, ValueError):
        return
    if before in ("0", "1"):
        with contextlib.suppress(OSError):
            NF_LOG_ALL_NETNS.write_text(before + "\n")


def stop_host_processes(state_dir):
    """The lab's processes outside its namespaces (the qubesd stand-in), by pid and start time."""
    try:
        procs = json.loads((state_dir / "state.json").read_text()).get("host_processes") or {}
    except (OSError, ValueError):
        return
    for info in procs.values():
        pid = info.get("pid")
        if pid and proc_start_time(pid) == info.get("start") and alive(pid):
            kill_tree(pid)
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, os.WNOHANG)


def teardown_run(runid, ip=None):
    ip = ip or find_tool("ip")
    prefix = f"{NS_PREFIX}{runid}-"
    state_dir = RUN_ROOT / runid
    stop_host_processes(state_dir)
    restore_netns_logging(state_dir)
    # Every process the lab started lives in one of its namespaces: killing by namespace
    # also catches what a killed run left behind.
    r = subprocess.run([ip, "netns", "list"], capture_output=True, text=True)
    for line in r.stdout.splitlines():
        ns = line.split()[0] if line.split() else ""
        if ns.startswith(prefix):
            kill_netns(ip, ns)
    if NETNS_ETC.is_dir():
        for d in NETNS_ETC.iterdir():
            if d.name.startswith(prefix):
                shutil.rmtree(d, ignore_errors=True)
    shutil.rmtree(state_dir, ignore_errors=True)


def run_alive(runid):
    try:
        pid, start = (RUN_ROOT / runid / "owner").read_text().split()
    except (OSError, ValueError):
        return False
    return proc_start_time(int(pid)) == start


def cleanup_stale():
    """Remove what labs whose owner died left behind (namespaces, /etc/netns, processes, state)."""
    ip = find_tool("ip")
    stale = set()
    if RUN_ROOT.is_dir():
        for d in RUN_ROOT.iterdir():
            if re.fullmatch(r"[0-9a-f]{6}", d.name) and not run_alive(d.name):
                stale.add(d.name)
    r = subprocess.run([ip, "netns", "list"], capture_output=True, text=True)
    for line in r.stdout.splitlines():
        m = NS_RE.match(line)
        if m and not run_alive(m.group(1)):
            stale.add(m.group(1))
    if NETNS_ETC.is_dir():
        for d in NETNS_ETC.iterdir():
            m = NS_RE.match(d.name)
            if m and not run_alive(m.group(1)):
                stale.add(m.group(1))
    for runid in sorted(stale):
        log(f"removing leftovers of dead run {runid}")
        teardown_run(runid, ip)
    return sorted(stale)


# --------------------------------------------------------------------------- CLI


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("check")
    sub.add_parser("cleanup")
    for name in ("run", "shell", "up"):
        p = sub.add_parser(name)
        p.add_argument("-t", "--topology", default="default")
        p.add_argument("-f", "--fault", action="append", default=[])
        p.add_argument("--keep-logs")
        if name == "run":
            p.add_argument("command", nargs=argparse.REMAINDER)
    p = sub.add_parser("down")
    p.add_argument("state_dir", nargs="?")
    p.add_argument("--all", action="store_true")
    args = ap.parse_args(argv)

    if args.cmd == "check":
        problems = requirement_problems()
        for pr in problems:
            print(f"SKIP: {pr}")
        if not problems:
            print("ok")
        return 77 if problems else 0
    if args.cmd == "cleanup":
        cleanup_stale()
        return 0
    if args.cmd == "down":
        if args.all:
            if RUN_ROOT.is_dir():
                for d in RUN_ROOT.iterdir():
                    teardown_run(d.name)
            cleanup_stale()
        elif args.state_dir:
            teardown_run(Path(args.state_dir).name)
        else:
            ap.error("down needs STATE_DIR or --all")
        return 0
    if args.cmd == "up":
        lab = Lab(args.topology, args.fault, args.keep_logs)
        try:
            lab.up()
        except BaseException:
            lab.down()
            raise
        # The lab outlives this process: it belongs to the calling shell from now on, and is
        # taken for stale (and removed by the next start) once that shell exits.
        (lab.state_dir / "owner").write_text(f"{os.getppid()} {proc_start_time(os.getppid())}\n")
        print(lab.state_dir)
        print(f"export PATH={lab.s['tool_dir']}:$PATH NETMAP_LAB_CONFIG={lab.s['config']} "
              f"NETMAP_QUBESD_SOCKET={lab.s['qubesd_socket']}")
        return 0
    command = getattr(args, "command", None) or []
    if command and command[0] == "--":
        command = command[1:]
    if args.cmd == "shell":
        command = [os.environ.get("SHELL", "/bin/sh")]
    if not command:
        ap.error("run needs a command after --")
    with Lab(args.topology, args.fault, args.keep_logs) as lab:
        child = subprocess.Popen(command, env=lab.env())
        try:
            return child.wait()
        finally:
            if child.poll() is None:  # the trap fired: stop the command before tearing down
                kill_tree(child.pid)
                child.wait()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except LabError as e:
        print(f"lab: error: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt as e:
        print(f"lab: stopped ({e or 'interrupt'}), torn down", file=sys.stderr)
        sys.exit(130)
