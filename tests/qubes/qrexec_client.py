#!/usr/bin/env python3
"""A qrexec-client stand-in: what the real qvm-run starts in dom0 (qubesadmin.config.QREXEC_CLIENT).

The real qvm-run (qubesadmin/tools/qvm_run.py, QubesLocal.run_service in qubesadmin/app.py)
runs, for a shell command,

    qrexec-client -d QUBE [-t] [-T] [-p 'CMD; exit\\n'] USER:QUBESRPC qubes.VMShell+ dom0

(4.3 passes the command with -p; 4.2 writes it to qrexec-client's stdin; USER is DEFAULT
unless -u; -u root may ask for qubes.VMRootShell where the template supports it). This stand-in
follows QubesOS/qubes-core-qrexec (commit b2822df6fc22e52dbaa721a25ba92040f342b8b6):
daemon/qrexec-client.c (options, exit codes: usage 1 or 2, a qube it cannot reach
QREXEC_EXIT_PROBLEM 125, an unknown service 127; otherwise the remote exit status, 128+N for a
remote killed by signal N; no handler for SIGINT/SIGTERM, so those end it at once),
agent/qrexec-agent.c and libqrexec/process_io.c (the service runs in its own session as the
user; when the connection goes away the agent only closes the service's stdin/stdout/stderr, so
the command ends when it next reads or writes, not by a signal). The relay below does the same:
the command runs in a new session behind pipes this process holds; when this process dies
(SIGINT, SIGTERM, SIGKILL) the pipes close and nothing else is done to the command.

Where the command runs:
  --lab STATE_DIR    in the qube's network namespace of a running network lab (tests/lab), as
                     uid 1000 (`user`, HOME=/tmp) or root, with the qube's own /run and /tmp,
                     `sh` reading the command from stdin as qubes.VMShell does. The program's
                     kernel-log stream (dropped-traffic watch) is answered from /dev/kmsg,
                     keeping only the lines of that qube's interfaces.
  --fixture PROG     `PROG QUBE USER CMD` plays the qube (tests/data/scripted-qubes/qube-shell).
"""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.dont_write_bytecode = True

QREXEC_EXIT_PROBLEM = 125
QREXEC_EXIT_SERVICE_NOT_FOUND = 127
SANE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
USER_UID = 1000
SHELL_SUFFIX = b"; exit\n"
MAX_COMMAND = 1 << 20


def usage(status):
    print("usage: qrexec-client [options] -d domain_name [-l local_prog] remote_cmdline",
          file=sys.stderr)
    sys.exit(status)


def parse(argv):
    opts = {"domain": None, "t": False, "T": False, "prefix": None, "local": None, "e": False}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-d", "-l", "-p", "-w", "-c"):
            if i + 1 >= len(argv):
                usage(1)
            val = argv[i + 1]
            if a == "-d":
                opts["domain"] = val
            elif a == "-l":
                opts["local"] = val
            elif a == "-p":
                opts["prefix"] = val.encode("utf-8", "surrogateescape")
            i += 2
            continue
        if a in ("-t", "-T", "-e", "-E", "-W", "-k"):
            opts[a[1:]] = True
            i += 1
            continue
        if a == "--":
            i += 1
            break
        if a.startswith("-"):
            usage(1)
        break
    if i >= len(argv) or not opts["domain"]:
        usage(1)
    return opts, argv[i]


def split_remote(cmdline):
    """USER:QUBESRPC SERVICE SOURCE or USER:COMMAND (qrexec's remote command line)."""
    user, sep, rest = cmdline.partition(":")
    if not sep:
        usage(1)
    if rest.startswith("QUBESRPC "):
        parts = rest.split(" ")
        return user, parts[1] if len(parts) > 1 else "", None
    return user, None, rest


def read_shell_command(prefix):
    """qubes.VMShell reads the command from its stdin: the prefix (4.3) or the first bytes of
    our stdin (4.2), up to the `; exit` line qvm-run appends. Returns (command, bytes already
    read that the shell still has to get)."""
    data = prefix or b""
    fd = sys.stdin.fileno()
    deadline = time.monotonic() + 10
    while SHELL_SUFFIX not in data and len(data) < MAX_COMMAND and time.monotonic() < deadline:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    text = data.split(SHELL_SUFFIX, 1)[0]
    return text.decode("utf-8", "replace"), data


def is_drop_log_stream(cmd):
    """The program's dropped-traffic watch follows the kernel log (journalctl, else dmesg)."""
    return "netmap-drop" in cmd and "journalctl -k -f" in cmd and "dmesg -W" in cmd


def replace_chars(data):
    """qrexec's -t/-T: control characters other than tab and newline become '_'."""
    return bytes(b if (b >= 0x20 and b != 0x7F) or b in (0x09, 0x0A) else 0x5F for b in data)


def relay(args, first_input, filter_out, filter_err, env=None):
    """Run the command behind pipes, as the agent does, and return its exit status."""
    child = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, start_new_session=True, env=env,
                             cwd="/")

    def feed():
        try:
            if first_input:
                child.stdin.write(first_input)
                child.stdin.flush()
            fd = sys.stdin.fileno()
            while True:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                child.stdin.write(chunk)
                child.stdin.flush()
        except OSError:
            pass
        finally:
            try:
                child.stdin.close()
            except OSError:
                pass

    def pump(src, dest_fd, filt):
        try:
            while True:
                chunk = os.read(src.fileno(), 65536)
                if not chunk:
                    break
                os.write(dest_fd, replace_chars(chunk) if filt else chunk)
        except OSError:
            pass  # our reader went away: stop copying, as a closed vchan does

    threading.Thread(target=feed, daemon=True).start()
    outs = [threading.Thread(target=pump, args=(child.stdout, 1, filter_out), daemon=True),
            threading.Thread(target=pump, args=(child.stderr, 2, filter_err), daemon=True)]
    for t in outs:
        t.start()
    status = child.wait()
    for t in outs:
        t.join(5)
    return 128 - status if status < 0 else status


# --------------------------------------------------------------------------- the lab


def lab_qube(state_dir, qube):
    import json

    state = json.loads((Path(state_dir) / "state.json").read_text(encoding="utf-8"))
    q = state["qubes"].get(qube)
    if q is None or q.get("klass") == "AdminVM" or q.get("state") != "Running" or not q.get("ns"):
        return state, None
    return state, q


def lab_args(state, q, user, body):
    tools = state["tools"]
    if user == "root":
        prefix, home, name = [], "/root", "root"
    else:
        prefix = [tools["setpriv"], f"--reuid={USER_UID}", f"--regid={USER_UID}",
                  "--clear-groups", "--"]
        home, name = "/tmp", "user"  # the qube's own /tmp; the lab's state is not visible inside
    env = ["/usr/bin/env", "-i", f"PATH={SANE_PATH}", f"HOME={home}", f"USER={name}",
           f"LOGNAME={name}", "LANG=C.UTF-8", "SHELL=/bin/sh"]
    root = Path(state["state_dir"]) / "qubes" / q["name"]
    # The qube's own /run and /tmp over the host's, inside the private mount namespace that
    # `ip netns exec` creates (mounts there do not propagate back to the host). /tmp first: the
    # sources live under the host's /run, which the second mount hides.
    private = ['mount --bind "$2" /tmp && mount --bind "$1" /run && shift 2 && exec "$@"',
               "qube-root", str(root / "run"), str(root / "tmp")]
    return [tools["ip"], "netns", "exec", q["ns"], "/bin/sh", "-c"] + private + prefix + env + body


def follow_drop_log(state_dir, qube):
    """What `dmesg -W` would print in the qube: every namespace shares the host's kernel log,
    so keep the program's lines whose OUT= interface lives in this qube's namespace. Reads
    /dev/kmsg from its end (new messages only) until its reader goes away, in dmesg's format."""
    state, q = lab_qube(state_dir, qube)
    if q is None:
        return 1
    ip = state["tools"]["ip"]

    def interfaces():
        r = subprocess.run([ip, "-n", q["ns"], "-o", "link", "show"], capture_output=True,
                           text=True, check=False)
        return {line.split(":")[1].strip().split("@")[0] for line in r.stdout.splitlines()
                if line.count(":") >= 2}

    own, checked = interfaces(), time.monotonic()
    fd = os.open("/dev/kmsg", os.O_RDONLY)
    os.lseek(fd, 0, os.SEEK_END)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    while True:
        try:
            record = os.read(fd, 8192)
        except OSError as e:
            if e.errno == 32:  # EPIPE: a record overwritten before it was read
                continue
            raise
        head, _, text = record.decode("utf-8", "replace").partition(";")
        text = text.split("\n", 1)[0]
        if "netmap-drop-" not in text:
            continue
        fields = head.split(",")
        out_if = next((t[4:] for t in text.split() if t.startswith("OUT=")), "")
        if out_if not in own and time.monotonic() - checked > 1:
            own, checked = interfaces(), time.monotonic()
        if out_if not in own:
            continue
        usec = int(fields[2]) if len(fields) > 2 and fields[2].isdigit() else 0
        os.write(1, f"[{usec // 1000000:5d}.{usec % 1000000:06d}] {text}\n".encode())


def main(argv):
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # qrexec-client has no handler for these
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # ... and ignores SIGPIPE
    mode, where = None, None
    if len(argv) >= 2 and argv[0] in ("--lab", "--fixture"):
        mode, where, argv = argv[0][2:], argv[1], argv[2:]
    if len(argv) >= 3 and argv[0] == "--drop-log":
        return follow_drop_log(argv[1], argv[2])
    if mode is None:
        print("qrexec-client stand-in: --lab STATE_DIR or --fixture PROG first", file=sys.stderr)
        return QREXEC_EXIT_PROBLEM
    opts, remote = parse(argv)
    if opts["local"] is not None:
        print("qrexec-client stand-in: -l is not implemented", file=sys.stderr)
        return QREXEC_EXIT_PROBLEM
    qube = opts["domain"]
    user, service, plain = split_remote(remote)
    if user == "DEFAULT":
        user = "user"
    if service is not None:
        base = service.split("+", 1)[0]
        if base == "qubes.VMRootShell":
            user = "root"
        elif base != "qubes.VMShell":
            print(f"qrexec-client stand-in: service {service} is not implemented",
                  file=sys.stderr)
            return QREXEC_EXIT_SERVICE_NOT_FOUND
        cmd, first = read_shell_command(opts["prefix"])
    else:
        cmd, first = plain, b""
    if user not in ("user", "root"):
        return QREXEC_EXIT_PROBLEM
    if mode == "fixture":
        return relay([where, qube, user, cmd], None, opts["t"], opts["T"])
    state, q = lab_qube(where, qube)
    if q is None:
        print(f"ERROR: qrexec-daemon of {qube} not running (no such running qube in the lab)",
              file=sys.stderr)
        return QREXEC_EXIT_PROBLEM
    if user == "root" and is_drop_log_stream(cmd):
        # Inside the qube's namespace, so that the lab's teardown ends it like any command there.
        args = [state["tools"]["ip"], "netns", "exec", q["ns"], sys.executable, "-B", "-E", "-S",
                os.path.abspath(__file__), "--drop-log", where, qube]
        return relay(args, None, opts["t"], opts["T"])
    body = ["/bin/sh"] if service is not None else ["/bin/sh", "-c", cmd]
    return relay(lab_args(state, q, user, body), first if service is not None else None,
                 opts["t"], opts["T"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
