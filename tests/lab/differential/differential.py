#!/usr/bin/env python3
"""The kill-switch evaluator against real packets: generated rulesets are loaded into a lab VPN
qube (a network namespace with a client behind vif30.0, group 2, and an uplink eth0, group 1,
as Qubes wires them); real TCP, UDP and ICMP packets go from the client with no tunnel; the
uplink side counts what arrives. For every packet the evaluator's fate (ksfate) must agree with
what happened, or the evaluator must say it cannot tell.

    differential.py KSFATE [--count N] [--seed S]

Exit 0 agree, 1 a disagreement (the ruleset and packet are printed), 77 cannot run here.
"""
import json
import os
import random
import shutil
import subprocess
import sys
import time

PREFIX = f"nmdiff{os.getpid()}"
C, V, U = PREFIX + "c", PREFIX + "v", PREFIX + "u"
PACKETS = ["tcp:443", "tcp:80", "tcp:22", "udp:53", "udp:1194", "icmp"]

BASE = """table ip qubes {
   chain forward {
      type filter hook forward priority filter; policy accept;
      jump custom-forward
      ct state invalid counter drop
      ct state related,established accept
      oifgroup 2 counter drop
   }
   chain custom-forward {
   }
   chain sub {
   }
}
"""


def run(*args, check=True, **kw):
    return subprocess.run(list(args), check=check, capture_output=True, text=True, **kw)


def ns(name, *args, **kw):
    return run("ip", "netns", "exec", name, *args, **kw)


def setup():
    for n in (C, V, U):
        run("ip", "netns", "add", n)
    run("ip", "link", "add", "c0", "netns", C, "type", "veth", "peer", "name", "vif30.0", "netns", V)
    run("ip", "link", "add", "eth0", "netns", V, "type", "veth", "peer", "name", "u0", "netns", U)
    ns(C, "ip", "link", "set", "lo", "up")
    ns(C, "ip", "link", "set", "c0", "name", "eth0")
    ns(C, "ip", "addr", "add", "10.137.0.30/32", "dev", "eth0")
    ns(C, "ip", "link", "set", "eth0", "up")
    ns(C, "ip", "route", "add", "10.137.0.26", "dev", "eth0")
    ns(C, "ip", "route", "add", "default", "via", "10.137.0.26")
    ns(V, "ip", "link", "set", "vif30.0", "group", "2")
    ns(V, "ip", "link", "set", "eth0", "group", "1")
    ns(V, "ip", "addr", "add", "10.137.0.26/32", "dev", "vif30.0")
    ns(V, "ip", "link", "set", "vif30.0", "up")
    ns(V, "ip", "route", "add", "10.137.0.30", "dev", "vif30.0")
    ns(V, "ip", "addr", "add", "203.0.113.2/24", "dev", "eth0")
    ns(V, "ip", "link", "set", "eth0", "up")
    ns(V, "ip", "route", "add", "default", "via", "203.0.113.1")
    ns(V, "sysctl", "-qw", "net.ipv4.ip_forward=1")
    ns(U, "ip", "addr", "add", "203.0.113.1/24", "dev", "u0")
    ns(U, "ip", "link", "set", "u0", "up")
    ns(U, "ip", "route", "add", "10.137.0.0/16", "via", "203.0.113.2")
    counters = "table ip seen {\n"
    for p in PACKETS:
        counters += f"  counter {cname(p)} {{ }}\n"
    counters += "  chain pre {\n    type filter hook prerouting priority -400; policy accept;\n"
    counters += '    ip saddr 10.137.0.30 meta l4proto icmp counter name "n_icmp"\n'
    for p in PACKETS:
        if ":" in p:
            proto, port = p.split(":")
            counters += (f"    ip saddr 10.137.0.30 {proto} dport {port} "
                         f'counter name "{cname(p)}"\n')
    counters += "  }\n}\n"
    ns(U, "nft", "-f", "-", input=counters)


def cname(packet):
    return "n_" + packet.replace(":", "_")


def teardown():
    for n in (C, V, U):
        run("ip", "netns", "del", n, check=False)


def random_rule(rng):
    matches = []
    pool = [
        'oifname "eth0"', 'oifname != "tun0"', "oifgroup 1", "oifgroup 2", "iifgroup 2",
        'iifname "vif*"', 'iifname "vif30.0"', 'iifname "vif9.0"', "meta l4proto tcp",
        "meta l4proto udp", "meta l4proto icmp", "meta l4proto { tcp, udp }",
        f"tcp dport {rng.choice([22, 80, 443, 8080])}", f"udp dport {rng.choice([53, 1194])}",
        "tcp dport { 80, 443 }", "th dport 1-1024", "tcp dport != 443",
        "ip daddr 203.0.113.0/24", "ip daddr 198.51.100.0/24", "ip daddr != 203.0.113.1",
        "ip saddr 10.137.0.30", "ct state new", "ct state established,related",
        "ip protocol icmp",
    ]
    for _ in range(rng.choice([0, 1, 1, 2, 2, 3])):
        matches.append(rng.choice(pool))
    verdict = rng.choice(["accept", "drop", "drop", "reject", "return", "jump sub", "counter"])
    return " ".join(matches + [verdict])


def random_ruleset(rng):
    text = BASE
    rules = [f"add rule ip qubes custom-forward {random_rule(rng)}" for _ in range(rng.randint(0, 4))]
    rules += [f"add rule ip qubes sub {random_rule(rng).replace('jump sub', 'accept')}"
              for _ in range(rng.randint(0, 2))]
    if rng.random() < 0.4:
        policy = rng.choice(["accept", "drop"])
        prio = rng.choice([-10, 0, 10])
        text += (f"table inet extra {{\n  chain f {{\n    type filter hook forward priority {prio}; "
                 f"policy {policy};\n  }}\n}}\n")
        rules += [f"add rule inet extra f {random_rule(rng).replace('jump sub', 'accept')}"
                  for _ in range(rng.randint(0, 3))]
    return text + "\n".join(rules) + "\n"


def send(packet):
    if packet == "icmp":
        ns(C, "ping", "-c", "1", "-W", "0.3", "203.0.113.1", check=False)
        return
    proto, port = packet.split(":")
    if proto == "tcp":
        ns(C, "timeout", "0.3", "bash", "-c", f"exec 3<>/dev/tcp/203.0.113.1/{port}", check=False)
    else:
        ns(C, "bash", "-c", f"echo x > /dev/udp/203.0.113.1/{port}", check=False)


def seen():
    out = json.loads(ns(U, "nft", "-j", "list", "counters").stdout)
    counts = {}
    for item in out["nftables"]:
        if "counter" in item:
            counts[item["counter"]["name"]] = item["counter"]["packets"]
    return counts


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    ksfate = argv[1]
    count = int(argv[argv.index("--count") + 1]) if "--count" in argv else 200
    seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 15
    if os.geteuid() != 0 or not shutil.which("nft") or not shutil.which("ip"):
        print("SKIP: needs root, ip and nft", file=sys.stderr)
        return 77
    rng = random.Random(seed)
    try:
        setup()
    except (subprocess.CalledProcessError, OSError) as e:
        teardown()
        print(f"SKIP: cannot build the namespaces: {e}", file=sys.stderr)
        return 77
    agree = unknown = skipped = 0
    try:
        i = 0
        while i < count:
            ruleset = random_ruleset(rng)
            ns(V, "nft", "flush", "ruleset")
            loaded = ns(V, "nft", "-f", "-", input=ruleset, check=False)
            if loaded.returncode != 0:
                skipped += 1  # nft refuses it (e.g. conflicting protocols): draw another
                if skipped > 10 * count:
                    print("too many rulesets nft refuses")
                    return 1
                continue
            i += 1
            dump = ns(V, "nft", "-j", "list", "ruleset").stdout
            fates = run(ksfate, *PACKETS, input=dump).stdout.split()
            if len(fates) != len(PACKETS):
                print(f"ksfate gave {fates!r}")
                return 1
            for packet, fate in zip(PACKETS, fates):
                before = seen().get(cname(packet), 0)
                send(packet)
                arrived = seen().get(cname(packet), 0) > before
                if fate == "unknown":
                    unknown += 1
                    continue
                if (fate == "drop") == arrived:
                    print(f"DISAGREE on ruleset {i}, packet {packet}: evaluator {fate}, "
                          f"{'arrived' if arrived else 'did not arrive'}\n{ruleset}")
                    return 1
                agree += 1
        print(f"{count} rulesets ({skipped} drawn that nft refused), {agree} packets agree, "
              f"{unknown} the evaluator could not tell")
        return 0
    finally:
        teardown()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
