"""Shared by the tests that run the real Qubes admin client: where the client is, and a running
qubesd stand-in with the real tools on PATH (tests/qubes/README.md).

    client = harness.client_or_exit("4.3")        # exits 77 (skip) or 1 (CI=true) if missing
    with harness.StandIn(client, state_dict_or_path, fixture=PROG) as s:
        subprocess.run(["qvm-ls"], env=s.env())
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RELEASES = {"4.3": ("qubes-core-admin-client", "release4.3"),
            "4.2": ("qubes-core-admin-client-4.2", "release4.2")}
SANE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SKIP = 77


def default_client_root():
    """NETMAP_QUBES_CLIENT_DIR (CMake cache variable of the same name passes it), else the
    folder `shared` next to the source tree."""
    env = os.environ.get("NETMAP_QUBES_CLIENT_DIR")
    if env:
        return Path(env)
    return HERE.parent.parent.parent / "shared"


def client_dir(release, root=None):
    root = Path(root) if root else default_client_root()
    return root / RELEASES[release][0]


def client_problem(release, root=None):
    d = client_dir(release, root)
    if not (d / "qubesadmin" / "tools" / "qvm_ls.py").is_file():
        folder, branch = RELEASES[release]
        return (f"the real Qubes {release} admin client is not at {d}: clone "
                f"https://github.com/QubesOS/qubes-core-admin-client (branch {branch}) to "
                f"{folder}/ under the folder named by NETMAP_QUBES_CLIENT_DIR (CMake cache "
                f"variable or environment; default ../shared next to the source tree)")
    return None


def client_or_exit(release, root=None):
    """The client folder; without it exit 77 (CTest: skipped) or, under CI=true, 1."""
    problem = client_problem(release, root)
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            print(f"FAIL: {problem} (CI=true: a missing client is a failure)", file=sys.stderr)
            sys.exit(1)
        print(f"SKIP: {problem}", file=sys.stderr)
        sys.exit(SKIP)
    return client_dir(release, root)


def write_launchers(bindir, client, sock, qrexec_mode, qrexec_where, python=None):
    """bindir/qvm-ls … (the real tools) and bindir/qrexec-client (the stand-in), every path
    baked in so they work with an environment of only PATH."""
    python = python or sys.executable
    bindir = Path(bindir)
    bindir.mkdir(parents=True, exist_ok=True)
    qrexec = bindir / "qrexec-client"
    qrexec.write_text(
        "#!/bin/sh\n# qrexec-client stand-in (tests/qubes/qrexec_client.py)\n"
        f"exec '{python}' -B -E -S '{HERE / 'qrexec_client.py'}' --{qrexec_mode} "
        f"'{qrexec_where}' \"$@\"\n")
    qrexec.chmod(0o755)
    subprocess.run([python, "-B", "-E", "-S", str(HERE / "realtool.py"), "--client", str(client),
                    "--socket", str(sock), "--qrexec-client", str(qrexec),
                    "--make-bin", str(bindir)], check=True)
    return bindir


def start_daemon(state, sock, log, lab=False, python=None, timeout=10):
    """Start qubesd_standin.py; returns the Popen once the socket listens."""
    python = python or sys.executable
    ready = Path(str(sock) + ".ready")
    if ready.exists():
        ready.unlink()
    args = [python, "-B", "-E", str(HERE / "qubesd_standin.py"), "--state", str(state), "--socket", str(sock),
            "--log", str(log), "--ready", str(ready)]
    if lab:
        args.append("--lab")
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + timeout
    while not ready.exists():
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            raise RuntimeError(f"the qubesd stand-in did not start (see {log})")
        time.sleep(0.02)
    return proc


def stop_daemon(proc):
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class StandIn:
    """A qubesd stand-in on a fixture state with the real tools in `bindir`."""

    def __init__(self, client, state, fixture=None):
        self.client = Path(client)
        self.initial = state
        self.fixture = fixture or str(HERE / "fixture_shell.sh")
        self.proc = None

    def __enter__(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="netmap-qubesd-"))
        self.state = self.tmp / "state.json"
        if isinstance(self.initial, (str, Path)):
            src = Path(self.initial)
            if src.suffix in (".yaml", ".yml"):
                import yaml

                data = yaml.safe_load(src.read_text(encoding="utf-8"))
            else:
                data = json.loads(src.read_text(encoding="utf-8"))
        else:
            data = self.initial
        self.state.write_text(json.dumps(data, indent=1))
        self.sock = self.tmp / "qubesd.sock"
        self.log = self.tmp / "qubesd.log"
        self.bindir = write_launchers(self.tmp / "bin", self.client, self.sock, "fixture",
                                      self.fixture)
        self.proc = start_daemon(self.state, self.sock, self.log)
        return self

    def __exit__(self, *exc):
        stop_daemon(self.proc)
        shutil.rmtree(self.tmp, ignore_errors=True)
        return False

    def env(self, extra=None):
        env = {"PATH": f"{self.bindir}:{SANE_PATH}", "LC_ALL": "C",
               "NETMAP_QUBESD_SOCKET": str(self.sock)}
        env.update(extra or {})
        return env

    def run(self, *args, **kw):
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        kw.setdefault("timeout", 60)
        env = kw.pop("env", None) or self.env()
        return subprocess.run(list(args), env=env, **kw)

    def data(self):
        return json.loads(self.state.read_text())

    def log_text(self):
        return self.log.read_text() if self.log.exists() else ""
