"""Test helper: a qubesd stand-in (tests/qubes) with the real Qubes admin client's tools.

    with RealQubes(client_dir, state) as q:
        q.tool("qvm-prefs", "work", "netvm", "sys-vpn")
        subprocess.run([program, ...], env=q.env())

The client copies are found as tests/qubes/harness.py finds them (NETMAP_QUBES_CLIENT_DIR,
default ../shared next to the source tree). Where one is missing that release is skipped with
a note on where to get it (QubesOS/qubes-core-admin-client, branch release4.3 / release4.2);
under CI (CI=true) a missing client is a failure.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
QUBES = os.path.join(REPO, "tests", "qubes")


sys.path.insert(0, QUBES)
import harness  # noqa: E402  (where the clients are: NETMAP_QUBES_CLIENT_DIR)


def client_dirs():
    """[(release, folder)] of the supported releases (missing ones included)."""
    return [(release, str(harness.client_dir(release))) for release in ("4.3", "4.2")]


def missing_note(folder):
    release = "4.2" if folder.rstrip("/").endswith("-4.2") else "4.3"
    return harness.client_problem(release) or f"{folder} is not usable"


def usable(folder):
    return os.path.isfile(os.path.join(folder, "qubesadmin", "tools", "qvm_ls.py"))


class RealQubes:
    """A running qubesd stand-in on a temporary socket and a bin folder of the real tools."""

    def __init__(self, client, state, fixture=None):
        self.client = client
        self.state = state
        self.fixture = fixture
        self.proc = None

    def __enter__(self):
        self.tmp = tempfile.TemporaryDirectory()
        d = self.tmp.name
        self.socket = os.path.join(d, "qubesd.sock")
        self.state_path = os.path.join(d, "state.json")
        self.log_path = os.path.join(d, "qubesd.log")
        self.bin = os.path.join(d, "bin")
        with open(self.state_path, "w", encoding="utf-8") as f:
            json.dump(self.state, f)
        ready = os.path.join(d, "ready")
        self.qrexec_client = os.path.join(d, "qrexec-client")
        fixture = f" --fixture '{self.fixture}'" if self.fixture else ""
        with open(self.qrexec_client, "w", encoding="utf-8") as f:
            f.write(f"#!/bin/sh\nexec '{sys.executable}' -B '{QUBES}/qrexec_client.py'{fixture} "
                    "\"$@\"\n")
        os.chmod(self.qrexec_client, 0o755)
        subprocess.run([sys.executable, os.path.join(QUBES, "realtool.py"), "--make-bin",
                        self.bin, "--client", self.client, "--socket", self.socket,
                        "--qrexec-client", self.qrexec_client], check=True)
        self.proc = subprocess.Popen(
            [sys.executable, "-B", os.path.join(QUBES, "qubesd_standin.py"), "--state",
             self.state_path, "--socket", self.socket, "--log", self.log_path, "--ready", ready])
        for _ in range(200):
            if os.path.exists(ready):
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("the qubesd stand-in did not start")
        return self

    def __exit__(self, *exc):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(10)
        self.tmp.cleanup()

    def env(self, **extra):
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        env["PATH"] = self.bin + ":/usr/bin:/bin"
        env["NETMAP_QUBESD_SOCKET"] = self.socket
        env.update(extra)
        return env

    def tool(self, *args, check=True):
        r = subprocess.run([os.path.join(self.bin, args[0]), *args[1:]], capture_output=True,
                           text=True, timeout=60, env=self.env())
        if check and r.returncode != 0:
            raise AssertionError(f"{' '.join(args)} exited {r.returncode}: {r.stderr}")
        return r

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()


def clients(test):
    """[(release, folder)] of the usable clients for a unittest case: a missing one is skipped
    with a note, or fails the test under CI (CI=true); none at all skips the test."""
    found = []
    for release, folder in client_dirs():
        if usable(folder):
            found.append((release, folder))
        elif os.environ.get("CI") == "true":
            test.fail(missing_note(folder))
        else:
            print(f"skipped {release}: {missing_note(folder)}", file=sys.stderr)
    if not found:
        test.skipTest("no real Qubes admin client")
    return found

def base_state():
    """sys-net, sys-firewall, sys-vpn, work (behind sys-vpn), vault (none), a template."""
    return {
        "globals": {"default_netvm": "sys-firewall", "updatevm": "sys-firewall",
                    "clockvm": "sys-net", "default_dispvm": None},
        "qubes": {
            "fedora-41": {"klass": "TemplateVM", "state": "Halted"},
            "sys-net": {"provides_network": True, "netvm": None, "netvm_default": False,
                        "template": "fedora-41", "label": "red"},
            "sys-firewall": {"provides_network": True, "netvm": "sys-net",
                             "template": "fedora-41", "label": "green"},
            "sys-vpn": {"provides_network": True, "netvm": "sys-firewall",
                        "template": "fedora-41", "label": "blue"},
            "work": {"netvm": "sys-vpn", "template": "fedora-41", "label": "blue"},
            "vault": {"netvm": None, "template": "fedora-41", "label": "black",
                      "state": "Halted"},
            "personal": {"template": "fedora-41", "label": "yellow", "state": "Halted"},
        },
    }
