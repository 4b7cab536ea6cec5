#!/usr/bin/env python3
"""Ctrl-C of a headless --verify: the real qvm-run of each release (its qrexec-client plays the
qube with tests/data/scripted-qubes/qube-shell, here in its `hang` mode) runs in its own process
group, out of reach of the terminal's SIGINT. The program must stop those groups itself, exit
promptly with 1 and write nothing."""
import os, signal, subprocess, sys, tempfile, time, unittest

BIN = sys.argv.pop(1)
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import realqubes  # noqa: E402


clients = realqubes.clients

SHELL = os.path.join(HERE, "..", "data", "scripted-qubes", "qube-shell")


def processes():
    """{pid: (ppid, pgid, cmdline)} of every process."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        found[int(entry)] = (int(fields[1]), int(fields[2]), cmd)
    return found


def environ_has(pid, needle):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return needle.encode() in f.read()
    except OSError:
        return False


class Interrupt(unittest.TestCase):
    def test_sigint_stops_the_checks(self):
        for release, client in clients(self):
            with self.subTest(release=release), tempfile.TemporaryDirectory() as d, \
                    realqubes.RealQubes(client, realqubes.base_state(), fixture=SHELL) as q:
                scenario = os.path.join(d, "scenario")
                os.makedirs(os.path.join(scenario, "_default"))
                with open(os.path.join(scenario, "_default", "mode"), "w") as f:
                    f.write("hang\n")
                out = os.path.join(d, "report.json")
                env = q.env(NETMAP_FAKE_QVM=scenario, NETMAP_FAKE_STATE=os.path.join(d, "st"),
                            QT_QPA_PLATFORM="offscreen")
                p = subprocess.Popen([BIN, "--verify=work", "--checks", "external-ip",
                                      "--export", out], env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
                try:
                    groups = set()
                    until = time.monotonic() + 30
                    # Wait until the qube's command hangs: qvm-run and its qrexec-client run.
                    while time.monotonic() < until:
                        ps = processes()
                        kids = {pid for pid, (ppid, _, _) in ps.items() if ppid == p.pid}
                        groups = {ps[k][1] for k in kids} - {os.getpgid(p.pid)}
                        hanging = any("sleep 3600" in c and environ_has(pid, scenario)
                                      for pid, (_, _, c) in ps.items())
                        if groups and hanging:
                            break
                        self.assertIsNone(p.poll(), p.stderr.read() if p.poll() is not None
                                          else "")
                        time.sleep(0.1)
                    self.assertTrue(groups, "no qvm-run was started")
                    p.send_signal(signal.SIGINT)  # what the terminal's Ctrl-C sends the program
                    start = time.monotonic()
                    _, err = p.communicate(timeout=15)
                    took = time.monotonic() - start
                    left = [c for pid, (_, g, c) in processes().items() if g in groups]
                    self.assertEqual(left, [], "left running in the program's groups")
                    self.assertEqual(p.returncode, 1, err)
                    self.assertLess(took, 6.0, err)  # SIGINT, then TERM 1 s and KILL 2 s later
                    self.assertIn("interrupted", err)
                    self.assertFalse(os.path.exists(out), "a file was written: " + err)
                finally:
                    if p.poll() is None:
                        p.kill()
                        p.wait()
                    # The command "in the qube" ends at its next write, as under the real agent.
                    for pid, (_, _, c) in processes().items():
                        if "sleep 3600" in c and environ_has(pid, scenario):
                            os.kill(pid, signal.SIGKILL)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]])
