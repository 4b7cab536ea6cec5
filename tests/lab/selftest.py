#!/usr/bin/env python3
"""Self-test of the lab: real packets through the namespaces, the real Qubes tools against the
lab's qubesd and qrexec-client stand-ins, the faults, teardown and stale-run cleanup. Exit 0 all good, 1 a check failed, 77 the lab cannot run here.

    selftest.py [--part base|faults|stale|all] [--topology default]
"""

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.dont_write_bytecode = True
sys.path.insert(0, str(HERE))

import lab as labmod  # noqa: E402

RESULTS = {"passed": 0, "failed": 0}


def check(cond, what, detail=""):
    if cond:
        RESULTS["passed"] += 1
        print(f"ok    {what}", flush=True)
    else:
        RESULTS["failed"] += 1
        print(f"FAIL  {what}" + (f": {detail}" if detail else ""), flush=True)
    return cond


def tool(lab, name, *args, timeout=30):
    """Run a real Qubes tool as the program does: clean environment, PATH and LC_ALL=C only."""
    env = {"PATH": lab.s["tool_dir"] + ":" + labmod.SANE_PATH, "LC_ALL": "C"}
    return subprocess.run([name] + list(args), capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=timeout)


def run_in(lab, qube, command, user=None, timeout=30):
    args = ["--pass-io", "--no-gui", "--no-colour-output", "--no-colour-stderr", "--no-autostart"]
    if user:
        args += ["-u", user]
    return tool(lab, "qvm-run", *args, qube, command, timeout=timeout)


def exit_ip(lab, qube, endpoint=0):
    e = lab.s["services"]["echo"][endpoint]["address"]
    r = run_in(lab, qube, f"curl -s -m 4 http://{e}/")
    return r.stdout.strip() if r.returncode == 0 else None


def https_ip(lab, qube, endpoint=0, trust=True):
    """The exit over HTTPS; trust: with the lab's CA (copied into the qube's own /tmp)."""
    e = lab.s["services"]["echo"][endpoint]["address"]
    ca = ""
    if trust:
        shutil.copy(lab.s["tls"]["ca"], lab.state_dir / "qubes" / qube / "tmp" / "lab-ca.pem")
        ca = "--cacert /tmp/lab-ca.pem "
    r = run_in(lab, qube, f"curl -s -m 4 {ca}https://{e}/")
    return r.stdout.strip() if r.returncode == 0 else None


def whoami(lab, qube):
    r = run_in(lab, qube, f"dig +short +time=2 +tries=1 {lab.s['services']['whoami']}")
    return r.stdout.strip() if r.returncode == 0 else None


def zone_asked(lab, qube):
    """The unique-name method by hand: resolve a fresh name under the probe zone in QUBE, then
    ask the zone's service over HTTPS (the lab's CA) who asked. (answer, [resolvers])."""
    sv = lab.s["services"]
    label = secrets.token_hex(10)
    r = run_in(lab, qube, f"dig +short +time=2 +tries=1 {label}.{sv['probe_zone']}")
    answer = r.stdout.strip() if r.returncode == 0 else None
    shutil.copy(lab.s["tls"]["ca"], lab.state_dir / "qubes" / qube / "tmp" / "lab-ca.pem")
    r = run_in(lab, qube, f"curl -s -m 4 --cacert /tmp/lab-ca.pem "
                          f"https://{sv['probe_service']}/resolvers?names={label}")
    lines = r.stdout.splitlines()
    if r.returncode != 0 or lines[:1] != ["netmap-resolvers 1"] or lines[-1:] != ["end"]:
        return answer, None
    return answer, [line.split(" ")[1] for line in lines[1:-1] if line.startswith(label + " ")]


def tor_check(lab, qube):
    tc = lab.s["services"]["tor_check"]
    r = run_in(lab, qube, f"curl -s -m 4 http://{tc['address']}{tc['path']}")
    try:
        return json.loads(r.stdout)
    except ValueError:
        return None


def reaches(lab, src, dst_ip, port=None):
    if port is None:
        cmd = f"ping -c1 -W1 {dst_ip} >/dev/null 2>&1"
    else:
        cmd = f"nc -z -w 2 {dst_ip} {port} >/dev/null 2>&1"
    return run_in(lab, src, cmd).returncode == 0


def echo_entries(lab, client=None):
    lines = []
    for path in lab.s["logs"]["echo"].values():
        with open(path, encoding="ascii") as f:
            lines += [l.split() for l in f if l.strip()]
    return [l for l in lines if client is None or l[1] == client]


def root_links():
    r = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True)
    return sorted(l.split(":")[1].strip() for l in r.stdout.splitlines())


def lab_namespaces():
    r = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    return [l.split()[0] for l in r.stdout.splitlines() if labmod.NS_RE.match(l)]


# --------------------------------------------------------------------------- parts


def part_base(topology):
    with labmod.Lab(topology) as lab:
        ex = lab.s["exits"]
        clear, vpn, tor = ex["clearnet"], ex["vpn"], ex["tor"]

        # --- the real tools: qvm-ls
        fields = ("name,class,state,label,template,netvm,default_dispvm,provides_network,ip,"
                  "visible_ip,gateway,visible_gateway,tags")
        r = tool(lab, "qvm-ls", "--raw-data", f"--fields={fields}")
        lines = r.stdout.splitlines()
        print("      qvm-ls --raw-data --fields=" + fields)
        for line in lines:
            print("      | " + line)
        names = [l.split("|")[0] for l in lines]
        check(r.returncode == 0 and names == sorted(names) and "dom0" in names,
              "qvm-ls: one line per qube, sorted by name, dom0 included")
        check(all(len(l.split("|")) == 13 for l in lines), "qvm-ls: 13 cells per line, no header")
        by = {l.split("|")[0]: l for l in lines}
        check(by.get("dom0") == "dom0|AdminVM|Running|black|-|-|default-dvm|-|-|-|-|-|-",
              "qvm-ls: dom0 line", by.get("dom0"))
        check(by.get("work") == "work|AppVM|Running|blue|debian-12-xfce|sys-firewall|default-dvm|"
              "False|10.137.0.15|10.137.0.15|10.137.0.6|10.137.0.6|-", "qvm-ls: work line",
              by.get("work"))
        check(by.get("sys-net", "").split("|")[5:12] ==
              ["-", "default-dvm", "True", "10.137.0.5", "10.137.0.5", "-", "-"],
              "qvm-ls: sys-net has no netvm and no gateway", by.get("sys-net"))
        check(by.get("anon-whonix", "").endswith("|anon-vm"), "qvm-ls: tags of anon-whonix")
        r = tool(lab, "qvm-ls", "--raw-data", "--fields=name,visible-ip")
        check(all(l.endswith("|-") for l in r.stdout.splitlines()),
              "qvm-ls: a hyphenated property name yields '-' everywhere")
        r = tool(lab, "qvm-ls", "--raw-data", "--fields", "NAME,STATE,FLAGS", "work", "sys-net")
        check(r.stdout.splitlines() == ["sys-net|Running|Ar-N----", "work|Running|ar------"],
              "qvm-ls: selected qubes, upper-case fields, flags", r.stdout)

        # --- the real tools: prefs
        r = tool(lab, "qubes-prefs", "default_netvm")
        check(r.returncode == 0 and r.stdout == "sys-firewall\n", "qubes-prefs default_netvm")
        for p, v in (("updatevm", "sys-firewall\n"), ("clockvm", "sys-net\n"),
                     ("default_dispvm", "default-dvm\n")):
            r = tool(lab, "qubes-prefs", p)
            check(r.stdout == v, f"qubes-prefs {p}", repr(r.stdout))
        r = tool(lab, "qubes-prefs", "no_such_property")
        check(r.returncode == 2 and "no such property" in r.stderr, "qubes-prefs: unknown -> exit 2")
        r = tool(lab, "qvm-prefs", "work", "netvm")
        check(r.returncode == 0 and r.stdout == "sys-firewall\n", "qvm-prefs work netvm")
        r = tool(lab, "qvm-prefs", "vault", "netvm")
        check(r.returncode == 0 and r.stdout == "", "qvm-prefs: netvm none prints nothing")
        r = tool(lab, "qvm-prefs", "vault", "ip")
        check(r.returncode == 0 and r.stdout == "\n", "qvm-prefs: ip none prints an empty line")
        r = tool(lab, "qvm-prefs", "no-such-qube", "netvm")
        check(r.returncode == 2 and "no such domain" in r.stderr, "qvm-prefs: unknown qube -> exit 2")
        r = tool(lab, "qvm-prefs", "work", "no_such_property")
        check(r.returncode == 2, "qvm-prefs: unknown property -> exit 2")

        # --- the real tools: firewall and check
        r = tool(lab, "qvm-firewall", "work", "--raw", "list")
        check(r.stdout == "action=accept\n", "qvm-firewall: default rule is accept all", r.stdout)
        r = tool(lab, "qvm-firewall", "--raw", "untrusted", "list")
        check(r.stdout.splitlines()[0] == "action=accept proto=tcp dstports=80-80 comment=web only"
              and r.stdout.splitlines()[-1] == "action=drop", "qvm-firewall: untrusted rules",
              r.stdout)
        check(tool(lab, "qvm-check", "--running", "work", "sys-net").returncode == 0,
              "qvm-check --running: all running -> 0")
        check(tool(lab, "qvm-check", "--running", "default-dvm").returncode == 1,
              "qvm-check --running: none running -> 1")
        check(tool(lab, "qvm-check", "--running", "work", "default-dvm").returncode == 3,
              "qvm-check --running: some running -> 3")
        check(tool(lab, "qvm-check", "--running", "no-such-qube").returncode == 1,
              "qvm-check --running: unknown -> 1")

        # --- the real qvm-run through the lab's qrexec-client
        check(run_in(lab, "no-such-qube", "true").returncode == 2, "qvm-run: unknown qube -> 2")
        r = run_in(lab, "default-dvm", "true")
        check(r.returncode == 1 and r.stdout == "" and r.stderr == "",
              "qvm-run --pass-io --no-autostart: halted qube -> 1, silent", r.stderr)
        check(run_in(lab, "work", "exit 7").returncode == 7, "qvm-run: remote exit status")
        check(run_in(lab, "work", "id -u").stdout == "1000\n", "qvm-run: runs as the user")
        check(run_in(lab, "work", "id -u", user="root").stdout == "0\n", "qvm-run -u root")
        r = run_in(lab, "work", "echo secret > /tmp/nm-private; mkdir /run/nm-private", user="root")
        check(r.returncode == 0 and run_in(lab, "untrusted", "test -e /tmp/nm-private").returncode == 1
              and not Path("/tmp/nm-private").exists() and not Path("/run/nm-private").exists()
              and run_in(lab, "work", "cat /tmp/nm-private").stdout == "secret\n",
              "qvm-run: each qube has its own /tmp and /run")
        r = run_in(lab, "work", "echo out; echo err >&2")
        check(r.stdout == "out\n" and r.stderr == "err\n", "qvm-run: stdout and stderr pass")
        log = (lab.state_dir / "logs" / "qubesd.log").read_text()
        check("UNIMPLEMENTED" not in log and "framing error" not in log,
              "the real tools asked the qubesd stand-in nothing it does not implement",
              [l for l in log.splitlines() if "UNIMPLEMENTED" in l or "framing" in l][:3])

        # --- exits
        exits = {q: (exit_ip(lab, q, 0), exit_ip(lab, q, 1))
                 for q in ("work", "untrusted", "work-vpn", "anon-whonix")}
        print(f"      exits: {exits}")
        check(exits["work"] == (clear, clear), "work leaves by the clearnet exit")
        check(exits["untrusted"] == (clear, clear), "untrusted leaves by the clearnet exit")
        check(exits["work-vpn"] == (vpn, vpn), "work-vpn leaves by the VPN exit")
        check(exits["anon-whonix"] == (tor, tor), "anon-whonix leaves by the Tor exit")
        check(len({clear, vpn, tor}) == 3, "three distinct exits")
        check(https_ip(lab, "work", 1) == clear and https_ip(lab, "work-vpn", 0) == vpn,
              "HTTPS with the lab's CA: the same exits")
        check(https_ip(lab, "untrusted", 0, trust=False) is None,
              "HTTPS without the lab's CA: the certificate is refused")
        tc = {q: tor_check(lab, q) for q in ("work", "work-vpn", "anon-whonix")}
        check(tc["anon-whonix"] == {"IsTor": True, "IP": tor}, "Tor check: anon-whonix is Tor",
              tc["anon-whonix"])
        check(tc["work"] == {"IsTor": False, "IP": clear} and
              tc["work-vpn"] == {"IsTor": False, "IP": vpn}, "Tor check: the others are not")
        w = {q: whoami(lab, q) for q in ("work", "work-vpn", "anon-whonix")}
        print(f"      whoami: {w}")
        check(w["work"] == lab.s["whoami"]["clearnet"], "whoami: work asks the ISP resolver")
        check(w["work-vpn"] == lab.s["whoami"]["vpn"], "whoami: work-vpn asks the VPN resolver")
        check(w["anon-whonix"] == lab.s["whoami"]["tor"], "whoami: anon-whonix asks the Tor resolver")
        check(len(set(w.values())) == 3, "whoami differs per path")
        z = {q: zone_asked(lab, q) for q in ("work", "work-vpn", "anon-whonix")}
        print(f"      zone: {z}")
        answer = lab.s["services"]["probe_answer"]
        check(z["work"] == (answer, [lab.s["whoami"]["clearnet"]]) and
              z["work-vpn"] == (answer, [lab.s["whoami"]["vpn"]]) and
              z["anon-whonix"] == (answer, [lab.s["whoami"]["tor"]]),
              "zone's service: reports over HTTPS the resolver that asked on each path")
        check(len(echo_entries(lab, clear)) >= 4 and len(echo_entries(lab, vpn)) >= 2,
              "echo logs record every request with the client address")

        # --- isolation and the per-qube firewall
        check(not reaches(lab, "work", "10.137.0.16"), "isolation: work cannot ping untrusted")
        check(not reaches(lab, "work", "10.137.0.16", 22), "isolation: work cannot reach untrusted:22")
        check(not reaches(lab, "untrusted", "10.137.0.15", 80), "isolation: untrusted cannot reach work:80")
        check(not reaches(lab, "work-vpn", "10.137.0.15", 22), "isolation: work-vpn cannot reach work:22")
        check(reaches(lab, "work", "10.137.0.6"), "work can ping its gateway")
        check(reaches(lab, "untrusted", "203.0.113.80", 80), "untrusted firewall: tcp/80 allowed")
        check(not reaches(lab, "untrusted", "203.0.113.80", 8080) and
              run_in(lab, "untrusted", "nc -z -w 2 203.0.113.80 8080 2>&1").returncode != 0,
              "untrusted firewall: other ports rejected")
        check(whoami(lab, "untrusted") == lab.s["whoami"]["clearnet"],
              "untrusted firewall: DNS allowed (specialtarget=dns)")
        r = run_in(lab, "untrusted", "dig +short +time=2 +tries=1 @203.0.113.55 whoami.netmap.test")
        check(r.returncode != 0 or not r.stdout.strip(), "untrusted firewall: other DNS servers blocked")
        r = run_in(lab, "sys-firewall", "nft list ruleset", user="root")
        check("chain qbs-10-137-0-16" in r.stdout and "oifgroup 2 counter" in r.stdout and
              "jump custom-forward" in r.stdout, "sys-firewall has the Qubes tables and qbs chains")
        r = run_in(lab, "sys-vpn", "ip -o link show", user="root")
        check("tun0" in r.stdout and "vif" in r.stdout, "sys-vpn has tun0 and a vif")

        # --- live netvm change through the real qvm-prefs (the qubesd stand-in rewires the lab)
        r = tool(lab, "qvm-prefs", "work", "netvm", "sys-vpn")
        check(r.returncode == 0, "qvm-prefs work netvm sys-vpn", r.stderr)
        check(exit_ip(lab, "work") == vpn, "work rewired behind sys-vpn leaves by the VPN exit")
        r = tool(lab, "qvm-ls", "--raw-data", "--fields=name,netvm,gateway", "work")
        check(r.stdout == "work|sys-vpn|10.137.0.26\n", "qvm-ls shows the new netvm", r.stdout)
        tool(lab, "qvm-prefs", "work", "netvm", "sys-firewall")
        check(exit_ip(lab, "work") == clear, "work back behind sys-firewall leaves by the clearnet")
        r = tool(lab, "qvm-prefs", "work", "netvm", "")
        check(r.returncode == 0 and exit_ip(lab, "work") is None and
              tool(lab, "qvm-prefs", "work", "netvm").stdout == "", "qvm-prefs netvm '' disconnects")
        r = tool(lab, "qvm-prefs", "--default", "work", "netvm")
        check(r.returncode == 0 and exit_ip(lab, "work") == clear, "qvm-prefs --default restores")
        r = tool(lab, "qvm-prefs", "work", "netvm", "default-dvm")
        check(r.returncode != 0 and "does not provide network" in r.stderr,
              "qvm-prefs: a netvm that provides no network is refused", r.stderr)
        r = tool(lab, "qvm-prefs", "sys-firewall", "netvm", "sys-vpn")
        check(r.returncode != 0 and "Loops in network are unsupported" in r.stderr,
              "qvm-prefs: a netvm loop is refused", r.stderr)

        # --- autostart: the real qvm-run starts a halted qube (admin.vm.Start), the lab boots it
        r = tool(lab, "qvm-run", "--pass-io", "--no-gui", "default-dvm",
                 f"curl -s -m 4 http://{lab.s['services']['echo'][0]['address']}/", timeout=60)
        check(r.returncode == 0 and r.stdout.strip() == clear,
              "qvm-run without --no-autostart starts a halted qube, which then has egress",
              f"{r.returncode} {r.stdout!r} {r.stderr[-300:]!r}")
        check(tool(lab, "qvm-check", "--running", "default-dvm").returncode == 0,
              "qvm-check: the started qube runs")

        # --- the lab stays inside its namespaces
        for ns in lab.s["namespaces"]:
            r = subprocess.run(["ip", "-n", ns, "-o", "link", "show"], capture_output=True, text=True)
            bad = [l for l in r.stdout.splitlines() if "link-netns" not in l and "lo:" not in l
                   and "tun0" not in l and "tor0" not in l]
            if bad:
                check(False, f"{ns}: every interface is a veth to another lab namespace", bad[0])
                break
        else:
            check(True, "every lab interface is a veth to another lab namespace (or lo/tun)")
        runid = lab.s["runid"]
    check(not [n for n in lab_namespaces() if n.startswith(f"nml{runid}-")],
          "teardown removed every namespace")
    check(not any(d.name.startswith(f"nml{runid}-") for d in labmod.NETNS_ETC.iterdir())
          if labmod.NETNS_ETC.exists() else True, "teardown removed /etc/netns entries")
    check(not (labmod.RUN_ROOT / runid).exists(), "teardown removed the state directory")


def part_faults(topology):
    with labmod.Lab(topology, ["dns-redirect:sys-vpn", "no-isolation:sys-firewall",
                               "move:anon-whonix:sys-firewall"]) as lab:
        ex = lab.s["exits"]
        check(exit_ip(lab, "work-vpn") == ex["vpn"], "dns-redirect: work-vpn still leaves by the VPN")
        check(whoami(lab, "work-vpn") == lab.s["whoami"]["clearnet"],
              "dns-redirect: work-vpn now asks the clearnet resolver (DNS leak)")
        check(reaches(lab, "work", "10.137.0.16"), "no-isolation: work can ping untrusted")
        check(reaches(lab, "work", "10.137.0.16", 22), "no-isolation: work reaches untrusted:22")
        check(not reaches(lab, "work-vpn", "10.137.0.15", 22),
              "no-isolation: sys-vpn still isolates its own clients' path")
        check(exit_ip(lab, "anon-whonix") == ex["clearnet"], "move: anon-whonix leaves by the clearnet")
        check(tor_check(lab, "anon-whonix") == {"IsTor": False, "IP": ex["clearnet"]},
              "move: the Tor check says not Tor")
        r = tool(lab, "qvm-ls", "--raw-data", "--fields=name,netvm", "anon-whonix")
        check(r.stdout == "anon-whonix|sys-firewall\n", "move: qvm-ls shows the new netvm")

    with labmod.Lab(topology, ["forge-echo:sys-net:192.0.2.99", "forge-dns:sys-net:192.0.2.77"]) as lab:
        ex = lab.s["exits"]
        check(exit_ip(lab, "sys-net") == "192.0.2.99", "forge-echo self: sys-net's own echo is forged")
        check(https_ip(lab, "sys-net") == "192.0.2.99",
              "forge-echo self: also over HTTPS (a certificate of the lab's CA)")
        check(whoami(lab, "sys-net") == "192.0.2.77", "forge-dns self: sys-net's own DNS is forged")
        check(zone_asked(lab, "sys-net") == ("192.0.2.77", []),
              "forge-dns self: its probe names resolve, yet no resolver asked the zone")
        check(exit_ip(lab, "work") == ex["clearnet"] and https_ip(lab, "work") == ex["clearnet"],
              "forge self: work behind it sees the real exit")
        check(whoami(lab, "work") == lab.s["whoami"]["clearnet"],
              "forge self: work behind it sees the real resolver")

    with labmod.Lab(topology, ["{type: forge-echo, qube: sys-net, scope: clients}",
                               "{type: forge-dns, qube: sys-net, says: 192.0.2.77, scope: clients}"]) as lab:
        ex = lab.s["exits"]
        check(exit_ip(lab, "sys-net") == ex["clearnet"], "forge clients: sys-net's own echo is real")
        check(exit_ip(lab, "work") == "192.0.2.99", "forge clients: work's plain HTTP is forged")
        check(https_ip(lab, "work") is None,
              "forge clients: work's HTTPS fails (the forger's CA is not the lab's)")
        check(whoami(lab, "work") == "192.0.2.77", "forge clients: work's DNS is forged")
        check(whoami(lab, "sys-net") == lab.s["whoami"]["clearnet"],
              "forge clients: sys-net's own DNS is real")
        check(https_ip(lab, "work-vpn") == ex["vpn"], "forge clients: the tunnel is untouched")

    with labmod.Lab(topology, ["tunnel-down:sys-vpn"]) as lab:
        ex = lab.s["exits"]
        r = run_in(lab, "sys-vpn", "ip link show tun0", user="root")
        check(r.returncode != 0, "tunnel-down: tun0 is gone")
        check(exit_ip(lab, "work-vpn") == ex["clearnet"],
              "tunnel-down: work-vpn falls back to the clearnet (leak)")

    with labmod.Lab(topology, ["kill-switch:sys-vpn", "tunnel-down:sys-vpn"]) as lab:
        ex = lab.s["exits"]
        before = len(echo_entries(lab))
        check(exit_ip(lab, "work-vpn") is None, "kill-switch: no egress while the tunnel is down")
        time.sleep(0.3)
        check(len(echo_entries(lab)) == before, "kill-switch: nothing reached the echo servers")
        lab.restart_tunnel("sys-vpn")
        check(exit_ip(lab, "work-vpn") == ex["vpn"], "kill-switch: back through the VPN on restart")

    with labmod.Lab(topology, ["halt:sys-vpn"]) as lab:
        r = tool(lab, "qvm-ls", "--raw-data", "--fields=name,state,netvm", "sys-vpn", "work-vpn")
        check(r.stdout == "sys-vpn|Halted|sys-firewall\nwork-vpn|Running|sys-vpn\n",
              "halt: qvm-ls shows sys-vpn halted", r.stdout)
        check(exit_ip(lab, "work-vpn") is None, "halt: work-vpn has no egress")
        check(run_in(lab, "sys-vpn", "true").returncode == 1, "halt: qvm-run --no-autostart -> 1")
        check(tool(lab, "qvm-check", "--running", "sys-vpn").returncode == 1,
              "halt: qvm-check --running -> 1")
        check(not [n for n in lab.s["namespaces"] if n.endswith("-q-sys-vpn")],
              "halt: sys-vpn has no namespace")


def part_stale(topology):
    """A run killed with SIGKILL leaves namespaces and processes; the next start removes them."""
    env = dict(os.environ, NETMAP_LAB_QUIET="1")
    p = subprocess.Popen([sys.executable, str(HERE / "lab.py"), "run", "-t", topology, "--",
                          "sh", "-c", "echo $NETMAP_LAB_STATE $$; exec sleep 120"],
                         stdout=subprocess.PIPE, text=True, env=env, start_new_session=True)
    state_dir, child = (p.stdout.readline().split() + ["", "0"])[:2]
    runid = Path(state_dir).name
    check(bool(runid) and any(n.startswith(f"nml{runid}-") for n in lab_namespaces()),
          "a lab is up in another process", state_dir)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    p.stdout.close()
    if int(child):
        os.kill(int(child), signal.SIGKILL)  # the command of the killed run, orphaned
    time.sleep(0.2)
    left = [n for n in lab_namespaces() if n.startswith(f"nml{runid}-")]
    check(bool(left), "SIGKILL leaves its namespaces behind", str(len(left)))
    removed = labmod.cleanup_stale()
    check(runid in removed, "cleanup_stale finds the dead run")
    check(not [n for n in lab_namespaces() if n.startswith(f"nml{runid}-")],
          "the next start removed the dead run's namespaces")
    check(not (labmod.RUN_ROOT / runid).exists(), "and its state directory")
    # A SIGTERM (ctest timeout, Ctrl-C) goes through the trap and tears down.
    p = subprocess.Popen([sys.executable, str(HERE / "lab.py"), "run", "-t", topology, "--",
                          "sh", "-c", "echo $NETMAP_LAB_STATE; sleep 120"],
                         stdout=subprocess.PIPE, text=True, env=env)
    runid = Path(p.stdout.readline().strip()).name
    os.kill(p.pid, signal.SIGTERM)
    p.wait(timeout=30)
    p.stdout.close()
    check(p.returncode == 130, "the lab reports the stop", str(p.returncode))
    check(not [n for n in lab_namespaces() if n.startswith(f"nml{runid}-")],
          "SIGTERM tears the lab down")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--part", default="all", choices=["base", "faults", "stale", "all"])
    ap.add_argument("--topology", default="default")
    args = ap.parse_args()
    problems = labmod.requirement_problems()
    if problems:
        for p in problems:
            print(f"SKIP: {p}")
        return 77
    links_before = root_links()
    t0 = time.time()
    try:
        if args.part in ("base", "all"):
            part_base(args.topology)
        if args.part in ("faults", "all"):
            part_faults(args.topology)
        if args.part in ("stale", "all"):
            part_stale(args.topology)
    except labmod.LabError as e:
        check(False, "lab error", str(e))
    check(root_links() == links_before, "the host's interfaces are unchanged")
    print(f"selftest: {RESULTS['passed']} passed, {RESULTS['failed']} failed "
          f"({time.time() - t0:.1f}s)")
    return 1 if RESULTS["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
