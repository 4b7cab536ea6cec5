#!/usr/bin/env python3
"""qubes-netmap reading a system through the real Qubes admin client's tools (both releases)
and the qubesd stand-in: what the real qvm-ls, qubes-prefs and qvm-firewall print is what the
program must take."""
import json, os, subprocess, sys, tempfile, unittest

BIN = sys.argv.pop(1)
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import realqubes  # noqa: E402


clients = realqubes.clients


def export_json(q, directory, exit_code):
    """The live system exported as JSON; the program's exit code (0 none, 1 findings) is the one
    the test's system calls for."""
    out = os.path.join(directory, "live.json")
    r = subprocess.run([BIN, "--export", out], capture_output=True, text=True, timeout=120,
                       env=q.env())
    if r.returncode != exit_code:
        raise AssertionError(f"exit {r.returncode} (expected {exit_code}): {r.stderr}\n{q.log()}")
    with open(out, encoding="utf-8") as f:
        return json.load(f), r.stderr


class RealClient(unittest.TestCase):
    def test_long_tag_and_preloaded_disposable(self):
        for release, client in clients(self):
            state = realqubes.base_state()
            state["qubes"]["work"]["tags"] = ["anon-vm", "t" * 5000]
            state["qubes"]["default-dvm"] = {"template": "fedora-41", "state": "Halted",
                                             "prefs": {"template_for_dispvms": True}}
            # 4.2's qubesd has no is_preload property (and no preloaded disposables).
            state["qubes"]["disp1234"] = {"klass": "DispVM", "template": "default-dvm",
                                          "netvm": "sys-firewall", "features": {"internal": "1"},
                                          "prefs": {"is_preload": True} if release == "4.3"
                                          else {}}
            state["qubes"]["disp77"] = {"klass": "DispVM", "template": "default-dvm",
                                        "netvm": "sys-firewall"}
            with self.subTest(release=release), realqubes.RealQubes(client, state) as q, \
                    tempfile.TemporaryDirectory() as d:
                # What the real tool prints for the program's field list.
                ls = q.tool("qvm-ls", "--raw-data", "--fields=name,tags,is_preload").stdout
                preload_cell = [l for l in ls.splitlines() if l.startswith("disp1234|")][0]
                self.assertTrue(preload_cell.endswith("|True" if release == "4.3" else "|-"),
                                preload_cell)
                doc, err = export_json(q, d, 1)  # finding: work carries anon-vm but is not behind Tor
                names = {x["name"] for x in doc["qubes"]}
                self.assertIn("work", names, err)  # a 5000-byte tag keeps the qube
                work = next(x for x in doc["qubes"] if x["name"] == "work")
                self.assertIn("anon-vm", work.get("tags", []))
                self.assertIn("disp77", names)
                if release == "4.3":
                    self.assertNotIn("disp1234", names)  # preloaded: off the map
                else:
                    self.assertIn("disp1234", names)
                self.assertNotIn("line", err)  # nothing rejected

    def test_firewall_fixture_is_what_the_real_tool_prints(self):
        # tests/data/qvm-firewall/good-ports-zero.txt (port 0, a dsthost of [a-z0-9._-] that is
        # no DNS name) is byte for byte what the real qvm-firewall prints for these rules; the
        # parser tests read it (tst_qvmparsers, tst_livesource).
        fixture = os.path.join(HERE, "..", "data", "qvm-firewall", "good-ports-zero.txt")
        with open(fixture, encoding="utf-8") as f:
            expected = f.read()
        for release, client in clients(self):
            state = realqubes.base_state()
            state["qubes"]["work"]["firewall"] = [
                {"action": "accept", "specialtarget": "dns"},
                {"action": "accept", "proto": "tcp", "dstports": "0-80"},
                {"action": "accept", "dsthost": "-example_.org"},
                {"action": "drop"}]
            with self.subTest(release=release), realqubes.RealQubes(client, state) as q:
                out = q.tool("qvm-firewall", "work", "--raw", "list").stdout
                self.assertEqual(out, expected)

    def test_prefs_listing_prints_none(self):
        # A netvm set to none is listed as the literal "None" (tst_livereroute reads that line
        # as no netvm: Undo and "already has no netvm" depend on it).
        for release, client in clients(self):
            with self.subTest(release=release), realqubes.RealQubes(
                    client, realqubes.base_state()) as q:
                lines = q.tool("qvm-prefs", "vault").stdout.splitlines()
                netvm = [l for l in lines if l.split(" ")[0] == "netvm"]
                self.assertEqual(len(netvm), 1, lines)
                self.assertEqual(netvm[0].split(), ["netvm", "-", "None"])

    def test_running_qube_onto_halted_netvm_is_refused(self):
        # Why a running qube is offered running netvms only (tst_livereroute): the real
        # qvm-prefs fails there.
        for release, client in clients(self):
            state = realqubes.base_state()
            state["qubes"]["sys-vpn2"] = {"provides_network": True, "netvm": "sys-firewall",
                                          "template": "fedora-41", "state": "Halted"}
            with self.subTest(release=release), realqubes.RealQubes(client, state) as q:
                r = q.tool("qvm-prefs", "work", "netvm", "sys-vpn2", check=False)
                self.assertNotEqual(r.returncode, 0)
                self.assertIn("stopped", r.stderr)
                r = q.tool("qvm-prefs", "vault", "netvm", "sys-vpn2", check=False)
                self.assertEqual(r.returncode, 0, r.stderr)

    def test_exit_one_is_told_apart_by_a_fresh_state(self):
        # The qube is paused (or halted) after the map was read: the real qvm-run --no-autostart
        # exits 1 and says nothing (--pass-io); the program asks the real qvm-ls for the state of
        # that one qube and says which. A wrapper around the real qvm-ls changes the state just
        # after the program's first read.
        shell = os.path.join(HERE, "..", "data", "scripted-qubes", "qube-shell")
        seed = os.path.join(HERE, "..", "data", "scripted-qubes", "seed")
        for release, client in clients(self):
            for state, says in (("Paused", "the qube is paused (exit 1; a fresh state query "
                                 "says Paused)"),
                                ("Halted", "not running and was not started (autostart is off; "
                                 "exit 1; a fresh state query says Halted)")):
                with self.subTest(release=release, state=state), \
                        realqubes.RealQubes(client, realqubes.base_state(), fixture=shell) as q, \
                        tempfile.TemporaryDirectory() as d:
                    real = os.path.join(q.bin, "qvm-ls.real")
                    os.rename(os.path.join(q.bin, "qvm-ls"), real)
                    with open(os.path.join(q.bin, "qvm-ls"), "w", encoding="utf-8") as f:
                        f.write(f"""#!/bin/sh
'{real}' "$@"; rc=$?
case "$*" in *--fields=name,class,state*) '{sys.executable}' - '{q.state_path}' <<'PY'
import json, os, sys
p = sys.argv[1]
s = json.load(open(p))
s["qubes"]["work"]["state"] = "{state}"
json.dump(s, open(p + ".new", "w"))
os.replace(p + ".new", p)
PY
;; esac
exit $rc
""")
                    os.chmod(os.path.join(q.bin, "qvm-ls"), 0o755)
                    out = os.path.join(d, "o.json")
                    r = subprocess.run([BIN, "--verify=work", "--checks", "external-ip",
                                        "--export", out], capture_output=True, text=True,
                                       timeout=120, env=q.env(NETMAP_FAKE_QVM=seed,
                                                              QT_QPA_PLATFORM="offscreen"))
                    self.assertEqual(r.returncode, 1, r.stderr)
                    self.assertIn("ERROR work external-ip", r.stderr)
                    self.assertIn(says, r.stderr)
                    self.assertNotIn("UNIMPLEMENTED", q.log())


    def test_renamed_whonix_gateway_by_template_feature(self):
        # A gateway named tor-exit on a template named gw-tmpl: only the template's whonix-gw
        # feature says it is Whonix. The program asks the real qvm-features once per distinct
        # template of a network provider, never per qube.
        for release, client in clients(self):
            state = realqubes.base_state()
            state["qubes"]["gw-tmpl"] = {"klass": "TemplateVM", "state": "Halted",
                                         "features": {"whonix-gw": "1"}}
            state["qubes"]["tor-exit"] = {"provides_network": True, "netvm": "sys-firewall",
                                          "template": "gw-tmpl", "label": "purple"}
            state["qubes"]["anon"] = {"netvm": "tor-exit", "template": "fedora-41",
                                      "label": "red"}
            with self.subTest(release=release), realqubes.RealQubes(client, state) as q, \
                    tempfile.TemporaryDirectory() as d:
                doc, err = export_json(q, d, 0)
                expected = {x["name"]: x["expected_egress"] for x in doc["qubes"]}
                self.assertEqual(expected["tor-exit"], "tor", err)
                self.assertEqual(expected["anon"], "tor", err)
                self.assertEqual(expected["work"], "vpn", err)
                asked = sorted(line.split("-> b'")[1].split("'")[0]
                               for line in q.log().splitlines()
                               if "admin.vm.feature.Get'+b'whonix-gw'" in line)
                self.assertEqual(asked, ["fedora-41", "gw-tmpl"], q.log())
                self.assertNotIn("UNIMPLEMENTED", q.log())

    def test_ipv6_properties_and_feature(self):
        # The `ipv6` feature on sys-net turns IPv6 on along the chain (qubes/features.py
        # check_with_netvm); an empty value on sys-vpn turns it off for its clients. The real
        # qvm-ls prints ip6, visible_ip6 and gateway6 as qubesd computes them and the program
        # reads them; whether IPv6 is on comes from them (a provider's gateway6 is set exactly
        # when the feature is on for it), with no qvm-features call.
        for release, client in clients(self):
            state = realqubes.base_state()
            state["qubes"]["sys-net"]["features"] = {"ipv6": "1"}
            state["qubes"]["sys-vpn"]["features"] = {"ipv6": ""}
            state["qubes"]["personal"]["netvm"] = "sys-firewall"
            state["qubes"]["personal"]["state"] = "Running"
            with self.subTest(release=release), realqubes.RealQubes(client, state) as q, \
                    tempfile.TemporaryDirectory() as d:
                ls = q.tool("qvm-ls", "--raw-data",
                            "--fields=name,ip,ip6,visible_ip6,gateway6").stdout
                rows = {l.split("|")[0]: l.split("|") for l in ls.splitlines()}
                for name in ("sys-net", "sys-firewall", "personal"):
                    qid = int(rows[name][1].split(".")[-1])
                    self.assertEqual(rows[name][2], "fd09:24ef:4179::a89:%x" % qid, ls)
                    self.assertEqual(rows[name][3], rows[name][2], ls)
                self.assertEqual(rows["sys-net"][4], rows["sys-net"][2], ls)
                self.assertEqual(rows["personal"][4], "-", ls)  # not a provider
                for name in ("sys-vpn", "work", "vault", "dom0"):
                    self.assertEqual(rows[name][2:], ["-", "-", "-"], ls)

                doc, err = export_json(q, d, 0)
                by = {x["name"]: x for x in doc["qubes"]}
                for name in ("sys-net", "sys-firewall", "personal"):
                    self.assertEqual(by[name]["ip6"], rows[name][2], err)
                    self.assertEqual(by[name]["visible_ip6"], rows[name][2], err)
                    self.assertTrue(by[name]["ipv6"], name)
                self.assertEqual(by["sys-firewall"]["gateway6"], rows["sys-firewall"][2])
                self.assertIsNone(by["personal"]["gateway6"])
                for name in ("sys-vpn", "work", "vault"):
                    self.assertIsNone(by[name]["ip6"])
                    self.assertFalse(by[name]["ipv6"], name)
                    self.assertIsNone(by[name]["ipv6_feature"])  # not read live
                # IPv6 comes from qvm-ls alone: no process per qube or per provider for it.
                self.assertNotIn("admin.vm.feature.Get'+b'ipv6'", q.log())
                self.assertNotIn("line", err)  # nothing rejected
                self.assertNotIn("UNIMPLEMENTED", q.log())


if __name__ == "__main__":
    unittest.main(verbosity=2)
