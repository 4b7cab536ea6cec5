#!/usr/bin/env python3
"""The qubesd and qrexec-client stand-ins, checked with the real Qubes admin client.

    test_standin.py --release 4.3|4.2 [unittest options]

Exit 77 (skipped) when that release of the client is missing (1 under CI=true).
"""

import os
import select
import signal
import socket
import subprocess
import sys
import time
import unittest
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

RELEASE = "4.3"
if "--release" in sys.argv:
    i = sys.argv.index("--release")
    RELEASE = sys.argv[i + 1]
    del sys.argv[i:i + 2]
CLIENT = harness.client_or_exit(RELEASE)

# The fields the program asks qvm-ls for (core/qubes/qvmparsers.cpp, qvmLsFields()).
PROGRAM_FIELDS = ("name,class,state,label,template,netvm,default_dispvm,provides_network,ip,"
                  "visible_ip,gateway,visible_gateway,tags")

STATE = {
    "globals": {"default_netvm": "sys-firewall", "updatevm": "sys-firewall",
                "clockvm": "sys-net", "default_dispvm": "default-dvm",
                "default_template": "debian-12-xfce"},
    "qubes": {
        "debian-12-xfce": {"klass": "TemplateVM", "state": "Halted", "qid": 1},
        "default-dvm": {"template": "debian-12-xfce", "qid": 3, "state": "Halted",
                        "prefs": {"template_for_dispvms": True}},
        "sys-net": {"provides_network": True, "netvm": None, "template": "debian-12-xfce",
                    "qid": 5},
        "sys-firewall": {"provides_network": True, "netvm": "sys-net", "label": "green",
                         "template": "debian-12-xfce", "qid": 6},
        "sys-vpn": {"provides_network": True, "template": "debian-12-xfce", "qid": 26,
                    "state": "Halted"},
        "work": {"template": "debian-12-xfce", "qid": 15, "label": "blue",
                 "firewall": [{"action": "accept", "proto": "tcp", "dstports": "443"},
                              {"action": "accept", "specialtarget": "dns"},
                              {"action": "drop"}]},
        "vault": {"template": "debian-12-xfce", "qid": 8, "netvm": None, "label": "black"},
        "anon-whonix": {"template": "debian-12-xfce", "qid": 40, "netvm": "sys-net",
                        "tags": ["anon-vm"], "ip": "10.138.38.126"},
    },
}


def raw_call(sock, data, half_close=True, timeout=5):
    """Send bytes as a client would and return (reply bytes, how the connection ended)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(str(sock))
    s.sendall(data)
    if half_close:
        s.shutdown(socket.SHUT_WR)
    out, how = b"", "eof"
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except ConnectionResetError:
        how = "reset"
    except socket.timeout:
        how = "timeout"
    s.close()
    return out, how


class EventReader:
    """admin.Events as a client reads it (framed as qubesadmin.events does, half-closed)."""

    def __init__(self, sock):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(str(sock))
        self.s.sendall(b"admin.Events+ dom0 name dom0\0")
        self.s.shutdown(socket.SHUT_WR)
        self.buf = b""

    def events(self, settle=1.0, until=None):
        """Read frames until `until` (an event name) arrived, or nothing came for `settle` s."""
        out = []
        deadline = time.time() + 15
        while time.time() < deadline:
            r, _, _ = select.select([self.s], [], [], settle)
            if not r:
                break
            chunk = self.s.recv(65536)
            if not chunk:
                break
            self.buf += chunk
            while True:
                frame = self.take()
                if frame is None:
                    break
                out.append(frame)
            if until and any(e[1] == until for e in out):
                break
        return out

    def take(self):
        # 1\0 subject \0 event \0 (key \0 value \0)* \0
        if not self.buf.startswith(b"1\0"):
            return None
        parts = self.buf[2:].split(b"\0")
        if len(parts) < 3:
            return None
        subject, name = parts[0].decode(), parts[1].decode()
        i, kwargs = 2, []
        while i < len(parts) - 1 and parts[i] != b"":
            if i + 1 >= len(parts) - 1:
                return None
            kwargs.append((parts[i].decode(), parts[i + 1].decode()))
            i += 2
        if i >= len(parts) - 1 and not (i < len(parts) and parts[i] == b""):
            return None
        consumed = 2 + sum(len(p) + 1 for p in parts[:i + 1])
        self.buf = self.buf[consumed:]
        return (subject, name, kwargs)

    def close(self):
        self.s.close()


class Framing(unittest.TestCase):
    """qubesd reads to EOF and parses `METHOD+ARG SP src SP name SP dest \\0 payload`; anything
    else is a framing error: the connection is aborted with no reply."""

    @classmethod
    def setUpClass(cls):
        cls.s = harness.StandIn(CLIENT, STATE).__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.s.__exit__(None, None, None)

    def test_badly_framed_requests_get_no_reply(self):
        for bad in (b"dom0\0admin.Events\0dom0\0\0",    # NUL-separated, as the program once sent
                    b"admin.vm.List+ dom0 dom0\0",       # no destination type
                    b"admin.vm.List+ dom0 uuid dom0\0",  # a destination type qubesd refuses
                    b"admin.vm.List+ dom0 name dom0",    # no NUL
                    b""):
            before = self.s.log_text().count("framing error")
            reply, how = raw_call(self.s.sock, bad)
            self.assertEqual(reply, b"", f"{bad!r} got a reply")
            self.assertIn(how, ("eof", "reset"))
            self.assertEqual(self.s.log_text().count("framing error"), before + 1, bad)

    def test_request_too_long_is_aborted(self):
        reply, _ = raw_call(self.s.sock, b"admin.vm.List+ dom0 name dom0\0" + b"x" * 70000)
        self.assertEqual(reply, b"")
        self.assertIn("request too long", self.s.log_text())

    def test_nothing_is_answered_before_eof(self):
        reply, how = raw_call(self.s.sock, b"admin.vm.List+ dom0 name dom0\0", half_close=False,
                              timeout=1)
        self.assertEqual((reply, how), (b"", "timeout"))

    def test_well_framed_request_is_answered(self):
        reply, _ = raw_call(self.s.sock, b"admin.vm.List+ dom0 name dom0\0")
        self.assertTrue(reply.startswith(b"0\0anon-whonix class=AppVM state=Running uuid="), reply)
        self.assertIn(b"\ndom0 class=AdminVM state=Running uuid=", reply)
        self.assertIn(b"\nwork class=AppVM state=Running uuid=", reply)
        reply, _ = raw_call(self.s.sock, b"admin.vm.property.Get+netvm dom0 name work\0")
        self.assertEqual(reply, b"0\0default=True type=vm sys-firewall")
        reply, _ = raw_call(self.s.sock, b"admin.vm.List dom0 keyword adminvm\0")
        self.assertTrue(reply.startswith(b"0\0anon-whonix class=AppVM"), reply)
        reply, _ = raw_call(self.s.sock, b"admin.vm.List dom0 name work\0")
        self.assertTrue(reply.startswith(b"0\0work class=AppVM") and reply.count(b"\n") == 1,
                        reply)

    def test_exceptions_are_framed_as_qubesd_does(self):
        reply, _ = raw_call(self.s.sock, b"admin.vm.property.Get+nosuch dom0 name work\0")
        self.assertEqual(reply, b"2\0QubesNoSuchPropertyError\0\0Invalid property 'nosuch' of "
                                b"work\0")
        reply, _ = raw_call(self.s.sock, b"admin.vm.List+ dom0 name nosuch\0")
        self.assertTrue(reply.startswith(b"2\0QubesVMNotFoundError\0\0"), reply)

    def test_unimplemented_call_is_an_error_and_logged(self):
        reply, _ = raw_call(self.s.sock, b"admin.vm.volume.List+ dom0 name work\0")
        self.assertEqual(reply, b"2\0ProtocolError\0\0no such method: 'admin.vm.volume.List'\0")
        self.assertIn("UNIMPLEMENTED admin.vm.volume.List", self.s.log_text())

    def test_events_start_with_connection_established(self):
        r = EventReader(self.s.sock)
        try:
            first = r.events(settle=0.5)
            self.assertEqual(first[:1], [("", "connection-established", [])])
        finally:
            r.close()


class RealTools(unittest.TestCase):
    """The real tools of the client against the stand-in."""

    def setUp(self):
        self.s = harness.StandIn(CLIENT, STATE).__enter__()

    def tearDown(self):
        self.s.__exit__(None, None, None)

    def unimplemented(self):
        return [line for line in self.s.log_text().splitlines() if "UNIMPLEMENTED" in line]

    def test_qvm_ls_with_the_programs_fields(self):
        r = self.s.run("qvm-ls", "--raw-data", "--fields=" + PROGRAM_FIELDS)
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = {line.split("|")[0]: line.split("|") for line in r.stdout.splitlines()}
        self.assertEqual(sorted(rows), sorted(list(STATE["qubes"]) + ["dom0"]))
        self.assertEqual(rows["work"], ["work", "AppVM", "Running", "blue", "debian-12-xfce",
                                        "sys-firewall", "default-dvm", "False", "10.137.0.15",
                                        "10.137.0.15", "10.137.0.6", "10.137.0.6", "-"])
        self.assertEqual(rows["sys-net"][5], "-")
        # qvm-ls's GATEWAY column is the netvm's gateway (Column('GATEWAY', 'netvm.gateway')).
        self.assertEqual(rows["sys-firewall"][7:12], ["True", "10.137.0.6", "10.137.0.6",
                                                      "10.137.0.5", "10.137.0.5"])
        self.assertEqual(rows["vault"][5], "-")
        self.assertEqual(rows["vault"][8], "-")
        self.assertEqual(rows["anon-whonix"][12], "anon-vm")
        self.assertEqual(rows["debian-12-xfce"][1:3], ["TemplateVM", "Halted"])
        self.assertEqual(rows["dom0"][1], "AdminVM")
        self.assertEqual(self.unimplemented(), [])

    def test_qvm_ls_table(self):
        r = self.s.run("qvm-ls")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout.splitlines()[0], r"^NAME +STATE +CLASS +LABEL +TEMPLATE +NETVM")

    def test_prefs(self):
        r = self.s.run("qvm-prefs", "work", "netvm")
        self.assertEqual((r.returncode, r.stdout), (0, "sys-firewall\n"), r.stderr)
        r = self.s.run("qvm-prefs", "vault", "netvm")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(r.stdout, ("", "\n", "None\n"))
        r = self.s.run("qvm-prefs", "work")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"(?m)^netvm +D +sys-firewall$")
        self.assertRegex(r.stdout, r"(?m)^label +- +blue$")
        r = self.s.run("qvm-prefs", "vault")
        self.assertRegex(r.stdout, r"(?m)^netvm +- +(None)?$")
        r = self.s.run("qubes-prefs", "default_netvm")
        self.assertEqual((r.returncode, r.stdout), (0, "sys-firewall\n"), r.stderr)
        r = self.s.run("qubes-prefs")
        self.assertRegex(r.stdout, r"(?m)^clockvm +- +sys-net$")
        r = self.s.run("qvm-prefs", "nosuch", "netvm")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("nosuch", r.stderr)
        self.assertEqual(self.unimplemented(), [])

    def test_firewall(self):
        r = self.s.run("qvm-firewall", "work", "--raw", "list")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines(), ["action=accept proto=tcp dstports=443-443",
                                                 "action=accept specialtarget=dns",
                                                 "action=drop"])
        r = self.s.run("qvm-firewall", "work", "list")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("ACTION", r.stdout.splitlines()[0])

    def test_check(self):
        self.assertEqual(self.s.run("qvm-check", "--running", "work").returncode, 0)
        self.assertNotEqual(self.s.run("qvm-check", "--running", "sys-vpn").returncode, 0)
        self.assertNotEqual(self.s.run("qvm-check", "nosuch").returncode, 0)

    def test_netvm_set_reset_and_refusals(self):
        r = self.s.run("qvm-prefs", "work", "netvm", "sys-vpn")  # a running qube, halted netvm
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Cannot dynamically attach to stopped qube sys-vpn", r.stderr)
        r = self.s.run("qvm-prefs", "sys-net", "netvm", "sys-firewall")  # a loop
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Loops in network are unsupported", r.stderr)
        r = self.s.run("qvm-prefs", "work", "netvm", "vault")  # does not provide network
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("The vault qube does not provide network", r.stderr)
        self.assertEqual(self.s.data()["qubes"]["work"].get("netvm_default", True), True)
        r = self.s.run("qvm-prefs", "work", "netvm", "sys-net")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.s.data()["qubes"]["work"]["netvm"], "sys-net")
        self.assertEqual(self.s.run("qvm-prefs", "work", "netvm").stdout, "sys-net\n")
        r = self.s.run("qvm-prefs", "work", "netvm", "")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIsNone(self.s.data()["qubes"]["work"]["netvm"])
        r = self.s.run("qvm-prefs", "--default", "work", "netvm")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(self.s.data()["qubes"]["work"]["netvm_default"])
        self.assertEqual(self.s.run("qvm-prefs", "work", "netvm").stdout, "sys-firewall\n")

    def test_events_of_changes(self):
        reader = EventReader(self.s.sock)
        try:
            self.assertEqual(reader.events(settle=0.3)[0][1], "connection-established")
            self.assertEqual(self.s.run("qvm-prefs", "work", "netvm", "sys-net").returncode, 0)
            got = reader.events(until="property-set:netvm")
            self.assertEqual(got, [
                ("work", "property-pre-set:netvm",
                 [("name", "netvm"), ("newvalue", "sys-net"), ("oldvalue", "sys-firewall")]),
                ("sys-net", "net-domain-connect", [("vm", "work")]),
                ("work", "property-set:netvm",
                 [("name", "netvm"), ("newvalue", "sys-net"), ("oldvalue", "sys-firewall")])])
            self.assertEqual(self.s.run("qvm-prefs", "--default", "work", "netvm").returncode, 0)
            got = reader.events(until="property-del:netvm")
            self.assertEqual([e[1] for e in got], [
                "property-pre-reset:netvm", "property-pre-set:netvm", "property-pre-del:netvm",
                "net-domain-connect", "property-set:netvm", "property-reset:netvm",
                "property-del:netvm"])
            # default_netvm: every qube that uses the default follows, then the app's event.
            self.assertEqual(self.s.run("qubes-prefs", "default_netvm", "sys-net").returncode, 0)
            got = reader.events(until="property-set:default_netvm")
            work = [e for e in got if e[0] == "work"]
            self.assertEqual([e[1] for e in work], ["property-pre-set:netvm", "property-set:netvm",
                                                    "property-reset:netvm"])
            self.assertEqual(got[0][:2], ("", "property-pre-set:default_netvm"))
            self.assertEqual(got[-1][:2], ("", "property-set:default_netvm"))
            self.assertNotIn("vault", [e[0] for e in got])
            self.assertEqual(self.s.run("qvm-prefs", "work", "netvm").stdout, "sys-net\n")
            # Label and tags.
            self.assertEqual(self.s.run("qvm-prefs", "work", "label", "red").returncode, 0)
            self.assertEqual([e[1] for e in reader.events(until="property-set:label")],
                             ["property-pre-set:label", "property-set:label"])
            self.assertEqual(self.s.run("qvm-tags", "work", "add", "t1").returncode, 0)
            self.assertEqual(reader.events(until="domain-tag-add:t1"),
                             [("work", "domain-tag-add:t1", [("tag", "t1")])])
            # Changes of the state file made by someone else (the lab): start, pause, halt,
            # add, delete, firewall.
            for mutate, expect in (
                    (lambda d: d["qubes"]["sys-vpn"].update(state="Running"),
                     ["domain-pre-start", "domain-spawn", "domain-start"]),
                    (lambda d: d["qubes"]["sys-vpn"].update(state="Paused"), ["domain-paused"]),
                    (lambda d: d["qubes"]["sys-vpn"].update(state="Running"),
                     ["domain-unpaused"]),
                    (lambda d: d["qubes"]["sys-vpn"].update(state="Halted"),
                     ["domain-stopped", "domain-shutdown"]),
                    (lambda d: d["qubes"].update({"new": {"template": "debian-12-xfce"}}),
                     ["domain-add"]),
                    (lambda d: d["qubes"].pop("new"), ["domain-pre-delete", "domain-delete"]),
                    (lambda d: d["qubes"]["work"].update(firewall=[{"action": "drop"}]),
                     ["firewall-changed"])):
                data = self.s.data()
                mutate(data)
                tmp = self.s.state.with_suffix(".new")
                tmp.write_text(__import__("json").dumps(data))
                os.replace(tmp, self.s.state)
                got = reader.events(until=expect[-1])
                self.assertEqual([e[1] for e in got], expect)
        finally:
            reader.close()

    def test_refused_set_still_sends_the_pre_event(self):
        reader = EventReader(self.s.sock)
        try:
            reader.events(settle=0.3)
            self.s.run("qvm-prefs", "work", "netvm", "sys-vpn")
            got = reader.events(settle=1.0)
            self.assertEqual([e[1] for e in got], ["property-pre-set:netvm"])
        finally:
            reader.close()

    def test_features(self):
        data = self.s.data()
        data["qubes"]["debian-12-xfce"]["features"] = {"os": "Linux", "whonix-gw": "1"}
        self.s.state.write_text(__import__("json").dumps(data))
        r = self.s.run("qvm-features", "work")
        self.assertEqual(r.returncode, 0, r.stderr)
        reply, _ = raw_call(self.s.sock,
                            b"admin.vm.feature.CheckWithTemplate+whonix-gw dom0 name work\0")
        self.assertEqual(reply, b"0\x001")
        reply, _ = raw_call(self.s.sock, b"admin.vm.feature.CheckWithTemplate+nope dom0 name work\0")
        # str() of a KeyError subclass quotes its message, in qubesd as here.
        self.assertEqual(reply, b"2\0QubesFeatureNotFoundError\0\0'Feature not set for domain "
                                b"work: nope'\0")

    def test_qvm_run(self):
        r = self.s.run("qvm-run", "--pass-io", "--no-gui", "--no-colour-output",
                       "--no-colour-stderr", "--no-autostart", "work",
                       'echo "in $FIXTURE_QUBE as $FIXTURE_USER"; exit 3')
        self.assertEqual((r.returncode, r.stdout), (3, "in work as user\n"), r.stderr)
        r = self.s.run("qvm-run", "--pass-io", "--no-gui", "--no-autostart", "-u", "root", "work",
                       'echo "$FIXTURE_USER"')
        self.assertEqual((r.returncode, r.stdout), (0, "root\n"), r.stderr)
        # A halted qube with --no-autostart: exit 1 and, with --pass-io, nothing printed.
        r = self.s.run("qvm-run", "--pass-io", "--no-gui", "--no-autostart", "sys-vpn", "true")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (1, "", ""))
        # Without --no-autostart the real tool starts it (admin.vm.Start) and runs the command.
        r = self.s.run("qvm-run", "--pass-io", "--no-gui", "sys-vpn", "echo started")
        self.assertEqual((r.returncode, r.stdout), (0, "started\n"), r.stderr)
        self.assertEqual(self.s.data()["qubes"]["sys-vpn"]["state"], "Running")
        r = self.s.run("qvm-run", "--pass-io", "--no-gui", "nosuch", "true")
        self.assertNotEqual(r.returncode, 0)

    def test_interrupted_qvm_run_leaves_nothing_running(self):
        """SIGINT to qvm-run's process group (what the program does) ends qvm-run and
        qrexec-client; the remote command ends at its next write, as with the real agent."""
        marker = self.s.tmp / "remote.pid"
        p = subprocess.Popen(
            ["qvm-run", "--pass-io", "--no-gui", "--no-autostart", "work",
             f'echo $$ > {marker}; while :; do echo tick; sleep 0.1; done'],
            env=self.s.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True)
        self.assertEqual(p.stdout.readline(), b"tick\n")
        remote = int(marker.read_text())
        os.killpg(p.pid, signal.SIGINT)
        p.wait(10)
        deadline = time.time() + 5
        while time.time() < deadline and os.path.exists(f"/proc/{remote}"):
            time.sleep(0.05)
        alive = os.path.exists(f"/proc/{remote}") and \
            Path(f"/proc/{remote}/stat").read_text().split()[2] != "Z"
        self.assertFalse(alive, "the remote command outlived qvm-run")
        p.stdout.close()
        p.stderr.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
