#!/usr/bin/env python3
"""Synthetic Qubes systems of N qubes for the benchmarks, written four ways from one model.

    gensystem.py N OUTDIR [--seed S] [--no-checks] [--shape SHAPE]

writes into OUTDIR:
  qvm-ls.txt     what `qvm-ls --raw-data --fields=name,class,state,label,template,netvm,
                 default_dispvm,provides_network,ip,visible_ip,gateway,visible_gateway,tags`
                 prints for the system (no header, '|' cells, '-' for no value, sorted by name,
                 dom0 included); netmap-bench-phases parses it
  snapshot.yaml  the same qubes as a snapshot (format of resources/demo.yaml) with the evidence of
                 recorded checks (about 1.3 per qube), so findings and colouring work at scale
  forest.dot     the same forest for Graphviz: the boxes our diagram draws (templates hidden), the
                 same edges and the same box text, left to right like ours
  state.json     the same qubes as the state of the qubesd stand-in (tests/qubes/README.md), so
                 the real qvm-ls and qubes-prefs of the Qubes admin client serve the system to
                 the whole program

The shape follows real installs, scaled: two uplinks (sys-net, sys-net-wwan) each with a
firewall, VPN qubes (one per ~250 qubes), sys-whonix with a VPN behind Tor (sys-vpn-tor) and Tor
behind a VPN (sys-whonix-vpn), about half the qubes as a wide fan-out under sys-firewall,
disposables on 10.138.x.y, templates, standalones, qubes with no netvm, dom0. The same N and seed
always give the same bytes.

--shape picks another forest for the same infrastructure (dom0, both uplinks and firewalls,
sys-whonix, the first VPN, templates):
  mixed          the shape above (the default)
  uplinks        about a hundred gateways (VPN and Tor-behind-VPN, one per ~100 qubes) under
                 sys-firewall, each with its clients, and thousands of app qubes fanned out under
                 sys-firewall itself
  chains         gateways chained eight deep (one chain per ~100 qubes), clients on every level
  fanout         one huge fan-out: every other qube directly under sys-firewall
  small-netvms   a netvm per ~10 qubes under sys-firewall, each with about nine clients
"""

import argparse
import json
import os
import random

LABELS = ["red", "orange", "yellow", "green", "gray", "blue", "purple", "black"]
AREAS = ["work", "personal", "dev", "bank", "mail", "media", "shop", "travel", "proj", "social",
         "research", "admin"]
CLEARNET = {"sys-net": "203.0.113.7", "sys-net-wwan": "203.0.113.99"}
TOR_EXIT = {"sys-whonix": "192.0.2.45", "sys-whonix-vpn": "192.0.2.77"}
DOT_FILL = {"red": "#f4c7c3", "orange": "#fde0b0", "yellow": "#fff4b3", "green": "#cdeccd",
            "gray": "#e0e0e0", "blue": "#c9dcf5", "purple": "#e3d0f0", "black": "#bdbdbd"}


SHAPES = ["mixed", "uplinks", "chains", "fanout", "small-netvms"]


class System:
    def __init__(self, n, seed, shape="mixed"):
        self.n = n
        self.shape = shape
        self.rng = random.Random(seed * 1000003 + n)
        self.qubes = {}
        self.order = []  # creation order, for deterministic weighted picks
        self.next_ip = 2
        self.next_disp_ip = 2

    def ip(self, disposable):
        if disposable:
            k, self.next_disp_ip = self.next_disp_ip, self.next_disp_ip + 1
            return "10.138.%d.%d" % (k // 250, k % 250 + 2)
        k, self.next_ip = self.next_ip, self.next_ip + 1
        return "10.137.%d.%d" % (k // 250, k % 250 + 2)

    def full(self):
        return len(self.qubes) >= self.n

    def add(self, name, klass="AppVM", netvm=None, provides=False, label=None, state=None,
            template="debian-12-xfce", tags=(), dispvm="default-dvm"):
        assert name not in self.qubes and len(name) <= 31, name
        if self.full():
            return None
        networked = netvm is not None or provides
        if klass in ("AdminVM", "TemplateVM"):
            template, dispvm = None, None
        if klass == "StandaloneVM":
            template = None
        q = {
            "name": name, "class": klass,
            "state": state or self.rng.choice(["Running", "Running", "Running", "Halted"]),
            "label": label or self.rng.choice(LABELS),
            "template": template, "netvm": netvm, "default_dispvm": dispvm,
            "provides_network": provides if klass != "AdminVM" else None,
            "ip": self.ip(klass == "DispVM") if networked else None,
            "tags": list(tags),
        }
        self.qubes[name] = q
        self.order.append(name)
        return q

    def build(self):
        n, rng = self.n, self.rng
        n_templates = max(2, min(120, n // 60))
        n_vpn = max(1, min(40, n // 250))
        base_templates = ["debian-12-xfce", "whonix-gateway-17", "whonix-workstation-17",
                          "fedora-41-xfce", "debian-12-minimal", "fedora-41-minimal"]
        templates = base_templates[:n_templates]
        for i in range(len(templates), n_templates):
            templates.append("custom-tpl-%03d" % i)

        # Infrastructure first, most important first, so small N still has every kind of shape.
        self.add("dom0", "AdminVM", label="black", state="Running")
        self.add("sys-net", provides=True, label="red", state="Running")
        self.add("sys-firewall", netvm="sys-net", provides=True, label="green", state="Running")
        self.add("debian-12-xfce", "TemplateVM", label="black", state="Halted")
        self.add("sys-vpn-00", netvm="sys-firewall", provides=True, label="orange",
                 state="Running", tags=["vpn"])
        self.add("whonix-gateway-17", "TemplateVM", label="black", state="Halted")
        self.add("sys-whonix", netvm="sys-firewall", provides=True, label="black",
                 state="Running", template="whonix-gateway-17", dispvm="whonix-dvm")
        self.add("work", netvm="sys-firewall", label="blue", state="Running")
        self.add("vault", label="black", state="Halted", dispvm=None)
        self.add("disp%d" % rng.randint(1000, 9999), "DispVM", netvm="sys-firewall", label="red",
                 state="Running", template="default-dvm")
        self.add("sys-vpn-tor", netvm="sys-whonix", provides=True, label="purple",
                 state="Running", tags=["vpn"], dispvm="whonix-dvm")
        self.add("whonix-workstation-17", "TemplateVM", label="black", state="Halted")
        self.add("default-dvm", netvm="sys-firewall", label="red", state="Halted",
                 tags=["dvm-template"])
        self.add("whonix-dvm", netvm="sys-whonix", label="red", state="Halted",
                 template="whonix-workstation-17", tags=["anon-vm", "dvm-template"],
                 dispvm="whonix-dvm")
        self.add("sys-usb", label="red", state="Running", dispvm=None)
        self.add("sys-whonix-vpn", netvm="sys-vpn-00", provides=True, label="black",
                 state="Running", template="whonix-gateway-17", dispvm="whonix-dvm")
        self.add("sys-net-wwan", provides=True, label="red", state="Running")
        self.add("sys-firewall-wwan", netvm="sys-net-wwan", provides=True, label="green",
                 state="Running")
        for t in templates[3:]:
            self.add(t, "TemplateVM", label="black", state="Halted")
        if self.shape != "mixed":
            return self.build_shape(templates)
        vpns = ["sys-vpn-00"]
        for i in range(1, n_vpn):
            name = "sys-vpn-%02d" % i
            # One VPN qube is halted: its running clients get a netvm-halted finding.
            self.add(name, netvm="sys-firewall", provides=True, label="orange",
                     state="Halted" if i == n_vpn - 1 and n_vpn > 2 else "Running", tags=["vpn"])
            vpns.append(name)
        vpns = [v for v in vpns if v in self.qubes]
        app_templates = [t for t in templates if not t.startswith("whonix")]

        # Everything else is a leaf; the weights give the shape.
        kinds = [("fanout", 46), ("vpn", 13), ("tor", 7), ("vpn-tor", 3), ("tor-vpn", 3),
                 ("disp", 10), ("wwan", 6), ("offline", 5), ("standalone", 3), ("tpl-netvm", 1),
                 ("dangling", 0.2)]
        names, weights = zip(*kinds)
        counter = 0
        disp_numbers = set()
        while not self.full():
            kind = rng.choices(names, weights)[0]
            counter += 1
            area = AREAS[counter % len(AREAS)]
            tpl = rng.choice(app_templates)
            if kind == "fanout":
                self.add("%s-%05d" % (area, counter), netvm="sys-firewall", template=tpl)
            elif kind == "vpn":
                self.add("%s-vpn-%05d" % (area, counter), netvm=rng.choice(vpns), template=tpl)
            elif kind == "tor" and "sys-whonix" in self.qubes:
                self.add("anon-%05d" % counter, netvm="sys-whonix", label="red",
                         template="whonix-workstation-17", tags=["anon-vm"], dispvm="whonix-dvm")
            elif kind == "vpn-tor" and "sys-vpn-tor" in self.qubes:
                self.add("torvpn-%05d" % counter, netvm="sys-vpn-tor", template=tpl)
            elif kind == "tor-vpn" and "sys-whonix-vpn" in self.qubes:
                self.add("anonvpn-%05d" % counter, netvm="sys-whonix-vpn", label="red",
                         template="whonix-workstation-17", tags=["anon-vm"], dispvm="whonix-dvm")
            elif kind == "disp":
                k = rng.randint(1000, 99999)
                while k in disp_numbers:
                    k = rng.randint(1000, 99999)
                disp_numbers.add(k)
                if "disp%d" % k in self.qubes:
                    continue
                self.add("disp%d" % k, "DispVM", netvm=rng.choice(["sys-firewall"] + vpns),
                         label="red", state="Running", template="default-dvm")
            elif kind == "wwan" and "sys-firewall-wwan" in self.qubes:
                self.add("field-%05d" % counter, netvm="sys-firewall-wwan", template=tpl)
            elif kind == "offline":
                self.add("offline-%05d" % counter, label=rng.choice(["black", "gray"]),
                         state="Halted", template=tpl, dispvm=None)
            elif kind == "standalone":
                self.add("standalone-%05d" % counter, "StandaloneVM", netvm="sys-firewall")
            elif kind == "tpl-netvm":
                # A template someone gave a netvm: a finding.
                self.add("tpl-net-%05d" % counter, "TemplateVM", netvm="sys-firewall",
                         label="black", state="Halted")
            elif kind == "dangling":
                # A netvm that names a qube that is gone: a finding, drawn as a root.
                q = self.add("orphan-%05d" % counter, netvm="sys-gone", template=tpl)
                if q:
                    q["gateway_override"] = ""
        return self

    def build_shape(self, templates):
        n, rng = self.n, self.rng
        app_templates = [t for t in templates if not t.startswith("whonix")]
        gateways = []
        if self.shape == "uplinks":
            for i in range(1, max(2, n // 100)):
                name = "sys-vpn-%02d" % i if i % 4 else "sys-whonix-vpn-%02d" % i
                self.add(name, netvm="sys-firewall", provides=True, label="orange",
                         state="Running", tags=["vpn"])
                gateways.append(name)
        elif self.shape == "chains":
            for c in range(max(1, n // 100)):
                parent = "sys-firewall"
                for d in range(8):
                    name = "sys-gw-%03d-%d" % (c, d)
                    self.add(name, netvm=parent, provides=True, label="orange", state="Running")
                    gateways.append(name)
                    parent = name
        elif self.shape == "small-netvms":
            for i in range(max(1, n // 10)):
                name = "sys-net-%04d" % i
                self.add(name, netvm="sys-firewall", provides=True, label="green",
                         state="Running")
                gateways.append(name)
        gateways = [g for g in gateways if g in self.qubes]
        counter = 0
        while not self.full():
            counter += 1
            area = AREAS[counter % len(AREAS)]
            tpl = rng.choice(app_templates)
            if self.shape == "fanout" or not gateways or (self.shape == "uplinks"
                                                          and counter % 2):
                netvm = "sys-firewall"
            elif self.shape == "chains":
                netvm = gateways[counter % len(gateways)]
            else:
                netvm = rng.choice(gateways)
            if counter % 10 == 0:
                self.add("disp%05d" % counter, "DispVM", netvm=netvm, label="red",
                         state="Running", template="default-dvm")
            else:
                self.add("%s-%05d" % (area, counter), netvm=netvm, template=tpl)
        return self

    # ---- derived values ----------------------------------------------------------------------

    def chain(self, name):
        out = []
        while name in self.qubes:
            out.append(name)
            name = self.qubes[name]["netvm"]
        return out

    def gateway(self, q):
        if q.get("gateway_override") is not None:
            return None
        parent = self.qubes.get(q["netvm"]) if q["netvm"] else None
        return parent["ip"] if parent else None

    def exit_of(self, name):
        """The exit IP a check from this qube sees, and its kind (first special hop wins)."""
        for hop in self.chain(name):
            if hop.startswith("sys-vpn-tor"):
                return "198.51.100.200", "vpn"
            if hop.startswith("sys-vpn-"):
                return "198.51.100.%d" % (10 + int(hop[8:])), "vpn"
            if hop in TOR_EXIT:
                return TOR_EXIT[hop], "tor"
            if hop in CLEARNET:
                return CLEARNET[hop], "clearnet"
        return None, None

    # ---- writers -----------------------------------------------------------------------------

    def write_qvm_ls(self, path):
        def cell(v):
            if v is None or v == "" or v == []:
                return "-"
            if isinstance(v, bool):
                return "True" if v else "False"
            if isinstance(v, list):
                return ",".join(v)
            return v
        with open(path, "w") as f:
            for name in sorted(self.qubes):
                q = self.qubes[name]
                gw = self.gateway(q)
                row = [name, q["class"], q["state"], q["label"], q["template"], q["netvm"],
                       q["default_dispvm"], q["provides_network"], q["ip"], q["ip"], gw, gw,
                       q["tags"]]
                f.write("|".join(cell(v) for v in row) + "\n")

    def write_state(self, path):
        """The qubesd stand-in's state: every property explicit (netvm too), qids in name order."""
        qubes = {}
        for qid, name in enumerate(sorted(n for n in self.qubes if n != "dom0"), start=1):
            q = self.qubes[name]
            entry = {"klass": q["class"], "label": q["label"], "state": q["state"],
                     "provides_network": bool(q["provides_network"]), "netvm": q["netvm"],
                     "default_dispvm": q["default_dispvm"], "tags": q["tags"], "qid": qid}
            if q["template"]:
                entry["template"] = q["template"]
            if q["ip"]:
                entry["ip"] = q["ip"]
            qubes[name] = entry
        state = {"globals": {"default_netvm": "sys-firewall", "updatevm": "sys-firewall",
                             "clockvm": "sys-net", "default_dispvm": "default-dvm"},
                 "qubes": qubes}
        with open(path, "w") as f:
            json.dump(state, f, indent=0, sort_keys=True)
            f.write("\n")

    def write_snapshot(self, path, with_checks):
        def s(v):
            return "'%s'" % v if v else "''"

        def ref(v):
            return v if v else "null"
        out = ["# Synthetic %d-qube system for the benchmarks (tests/bench/gensystem.py)." % self.n,
               "schema: qubes-netmap-snapshot/1", "source: snapshot",
               "source_detail: 'gensystem.py %d'" % self.n,
               "generated: '2026-11-28T14:00:00Z'", "globals:", "  default_netvm: sys-firewall",
               "  updatevm: sys-firewall", "  clockvm: sys-net", "  default_dispvm: default-dvm",
               "qubes:"]
        for name in sorted(self.qubes):
            q = self.qubes[name]
            gw = self.gateway(q)
            out += ["- name: %s" % name, "  class: %s" % q["class"], "  state: %s" % q["state"],
                    "  label: %s" % q["label"], "  template: %s" % ref(q["template"]),
                    "  netvm: %s" % ref(q["netvm"]),
                    "  default_dispvm: %s" % ref(q["default_dispvm"]),
                    "  provides_network: %s" % ("true" if q["provides_network"] else "false"),
                    "  ip: %s" % s(q["ip"]), "  visible_ip: %s" % s(q["ip"]),
                    "  gateway: %s" % s(gw), "  visible_gateway: %s" % s(gw),
                    "  tags: [%s]" % ", ".join(q["tags"])]
        vpn_qubes = sorted(n for n, q in self.qubes.items()
                           if q["provides_network"] and "vpn" in q["tags"])
        out.append("firewall: {}")
        out.append("tunnels:")
        for v in vpn_qubes:
            out.append("  %s: [tun0]" % v)
        out.append("checks:")
        if with_checks:
            out += self.check_lines(vpn_qubes)
        out.append("rejected: []")
        with open(path, "w") as f:
            f.write("\n".join(out) + "\n")

    def check_lines(self, vpn_qubes):
        rng = random.Random(self.n * 7 + 1)
        out = []
        t = [0]

        def check(qube, kind, status, observed, expected, reason, external_ip, path):
            t[0] += 1
            sec = t[0]
            stamp = "2026-11-28T%02d:%02d:%02d" % (14 + sec // 3600 % 10, sec // 60 % 60, sec % 60)
            out.extend(["- qube: %s" % qube, "  check: %s" % kind, "  status: %s" % status,
                        "  observed: '%s'" % observed, "  expected: '%s'" % expected,
                        "  reason: '%s'" % reason, "  external_ip: '%s'" % (external_ip or ""),
                        "  command: qvm-run --pass-io --no-gui %s (%s check script)" % (qube, kind),
                        "  exit_code: 0", "  output: ''",
                        "  started: '%s.100Z'" % stamp, "  finished: '%s.900Z'" % stamp,
                        "  path: [%s]" % ", ".join(path)])

        for v in vpn_qubes:
            if self.qubes[v]["state"] != "Running":
                continue
            ok = rng.random() < 0.8
            check(v, "kill-switch", "pass" if ok else "fail",
                  "drop rule in custom-forward" if ok else "no drop rule",
                  "forwarding to eth0 dropped", "static ruleset check", None, self.chain(v))
        for name in sorted(self.qubes):
            q = self.qubes[name]
            if q["state"] != "Running" or not q["netvm"] and not q["provides_network"]:
                continue
            if self.chain(name)[-1] not in CLEARNET:
                continue
            path = self.chain(name)
            if rng.random() < 0.05:
                # Evidence from before the qube moved: stale.
                path = [name, "sys-firewall-old", "sys-net"]
            ip, kind = self.exit_of(name)
            check(name, "external-ip", "pass", ip, kind, "both endpoints agree on %s" % ip, ip,
                  path)
            if kind == "vpn" and not q["provides_network"]:
                check(name, "vpn", "pass", ip, "vpn (not 203.0.113.7)",
                      "exit differs from the clearnet exit", ip, path)
            elif kind == "tor" and not q["provides_network"]:
                check(name, "tor", "pass", "IsTor=true", "IsTor=true",
                      "the Tor check service sees a Tor exit", ip, path)
            if rng.random() < 0.2:
                check(name, "dns-leak", "pass" if rng.random() < 0.95 else "fail",
                      "resolver 198.51.100.53", "not 203.0.113.53", "resolvers differ", None, path)
        return out

    def write_dot(self, path):
        """The boxes our export draws (templates hidden) as a left-to-right Graphviz forest."""
        shown = [n for n in sorted(self.qubes) if self.qubes[n]["class"] != "TemplateVM"]
        lines = ["digraph netmap {", "  rankdir=LR;", "  nodesep=0.15; ranksep=0.8;",
                 '  node [shape=box, style="rounded,filled", fontname="Sans", fontsize=10];',
                 "  edge [arrowhead=none];"]
        roots = []
        offline = []
        for name in shown:
            q = self.qubes[name]
            text = name + ("\\n" + q["ip"] if q["ip"] else "")
            lines.append('  "%s" [label="%s", fillcolor="%s"];'
                         % (name, text, DOT_FILL.get(q["label"], "#ffffff")))
            parent = q["netvm"] if q["netvm"] in self.qubes else None
            if parent:
                lines.append('  "%s" -> "%s";' % (parent, name))
            elif q["provides_network"]:
                roots.append(name)
            elif not q["netvm"]:
                offline.append(name)
            else:
                roots.append(name)  # dangling netvm: drawn as its own root, like ours
        for r in roots:
            lines.append('  "internet:%s" [label="Internet", shape=ellipse, fillcolor="#ffffff"];'
                         % r)
            lines.append('  "internet:%s" -> "%s";' % (r, r))
        if offline:
            lines.append('  subgraph cluster_nonet { label="No network";')
            lines.append("    " + " ".join('"%s";' % o for o in offline))
            lines.append("  }")
        lines.append("}")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", type=int, help="number of qubes, dom0 and templates included")
    parser.add_argument("outdir")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--shape", choices=SHAPES, default="mixed")
    parser.add_argument("--no-checks", action="store_true",
                        help="no recorded check results in snapshot.yaml")
    args = parser.parse_args()
    if args.n < 1 or args.n > 100000:
        parser.error("N must be 1..100000")
    os.makedirs(args.outdir, exist_ok=True)
    system = System(args.n, args.seed, args.shape).build()
    system.write_qvm_ls(os.path.join(args.outdir, "qvm-ls.txt"))
    system.write_snapshot(os.path.join(args.outdir, "snapshot.yaml"), not args.no_checks)
    system.write_dot(os.path.join(args.outdir, "forest.dot"))
    system.write_state(os.path.join(args.outdir, "state.json"))


if __name__ == "__main__":
    main()
