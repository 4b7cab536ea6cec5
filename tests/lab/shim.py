#!/usr/bin/env python3
"""qvm-* shims of the lab: they answer from the lab's state as the real Qubes tools print.

Called as `shim.py STATE_DIR TOOL ARGS...` by the small scripts the lab writes into its bin
directory (the state path is baked into them, so they need no environment beyond PATH).
Output formats follow QUBES-FACTS.md and qubes-core-admin-client.
"""

import os
import sys
import uuid
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))

import lab as labmod  # noqa: E402

QUBE_PROPS = {"netvm", "template", "default_dispvm"}
STRING_DEFAULTS = {
    "virt_mode": "pvh",
    "memory": 400,
    "maxmem": 4000,
    "vcpus": 2,
    "kernel": "6.6.63-1.fc37",
    "kernelopts": "",
    "autostart": False,
    "debug": False,
    "include_in_backups": True,
    "qrexec_timeout": 60,
    "shutdown_timeout": 60,
}
SIMPLE_FORMATS = {
    "simple": ["name", "state", "class", "label", "template", "netvm"],
    "network": ["name", "state", "netvm", "ip", "ipback", "gateway"],
    "full": ["name", "state", "class", "label", "qid", "xid", "uuid"],
}
BUILTIN_COLUMNS = {
    "STATE",
    "CLASS",
    "GATEWAY",
    "FLAGS",
    "MEMORY",
    "DISK",
    "PRIV-CURR",
    "PRIV-MAX",
    "PRIV-USED",
    "ROOT-CURR",
    "ROOT-MAX",
    "ROOT-USED",
    "IPBACK",
}
SANE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class Usage(Exception):
    def __init__(self, tool, message, code=2, usage=True):
        super().__init__(message)
        self.tool, self.message, self.code, self.usage = tool, message, code, usage


def load_state(state_dir):
    return labmod.Lab.attach(state_dir)


# --------------------------------------------------------------------------- properties

MISSING = object()


def prop(lab, q, name):
    """A qube property as qubesadmin returns it (None for none, MISSING if it does not exist)."""
    qs = lab.qubes
    admin = q["klass"] == "AdminVM"
    networked = q["netvm"] is not None or bool(q["provides_network"])
    if name == "name":
        return q["name"]
    if name == "klass":
        return q["klass"]
    if name == "label":
        return q["label"]
    if name == "qid":
        return q["qid"]
    if name == "uuid":
        return str(uuid.uuid5(uuid.NAMESPACE_DNS, q["name"] + ".netmap.test"))
    if name == "default_dispvm":
        return q["default_dispvm"]
    if name == "icon":
        return ("dom0" if admin else "appvm") + "-" + q["label"]
    if admin:
        return MISSING if name not in ("xid",) else 0
    if name == "xid":
        return q.get("xid", -1)
    if name == "template":
        return MISSING if q["klass"] in ("TemplateVM", "StandaloneVM") else q["template"]
    if name == "netvm":
        return q["netvm"]
    if name == "provides_network":
        return bool(q["provides_network"])
    if name in ("ip", "visible_ip"):
        return q["ip"] if networked else None
    if name == "visible_netmask":
        return "255.255.255.255" if networked else None
    if name in ("visible_gateway",):
        return qs[q["netvm"]]["ip"] if q["netvm"] else None
    if name == "gateway":
        return q["ip"] if q["provides_network"] else None
    if name == "mac":
        return "00:16:3e:5e:6c:%02x" % (q["qid"] & 0xFF)
    if name == "dns":
        return "10.139.1.1 10.139.1.2" if networked else None
    if name == "template_for_dispvms":
        if q["klass"] not in ("AppVM", "StandaloneVM"):
            return MISSING
        return bool(q["prefs"].get("template_for_dispvms", False))
    if name in q["prefs"]:
        return q["prefs"][name]
    if name in STRING_DEFAULTS:
        return STRING_DEFAULTS[name]
    return MISSING


def fmt(value):
    if value is None or value is MISSING:
        return None
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def column(lab, q, field):
    head = field.upper().replace("_", "-")
    if head == "STATE":
        return q["state"]
    if head == "CLASS":
        return q["klass"]
    if head == "GATEWAY":
        nv = q["netvm"]
        return lab.qubes[nv]["ip"] if nv and lab.qubes[nv]["provides_network"] else None
    if head == "IPBACK":
        return None
    if head == "FLAGS":
        codes = {"AdminVM": "0", "TemplateVM": "t", "AppVM": "a", "StandaloneVM": "s", "DispVM": "d"}
        t = codes.get(q["klass"], "-")
        if t != "0" and q["prefs"].get("virt_mode") == "hvm":
            t = t.upper()
        power = "r" if q["state"] == "Running" else "-"
        net = "N" if q["provides_network"] else "-"
        return t + power + "-" + net + "----"
    if head == "MEMORY":
        return "0" if q["klass"] == "AdminVM" else (
            str(prop(lab, q, "memory")) if q["state"] == "Running" else None
        )
    if head in BUILTIN_COLUMNS:
        return "0"
    name = field.lower()
    if "-" in name:  # a property name must be spelled with underscores
        return None
    if name == "class":
        return q["klass"]
    if name == "tags":
        return ",".join(q["tags"]) or None
    return fmt(prop(lab, q, name))


# --------------------------------------------------------------------------- qvm-ls


def qvm_ls(lab, argv):
    fields, raw, names = None, False, []
    fmt_name = "simple"
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--raw-data":
            raw = True
        elif a in ("--no-spinner", "--spinner", "--all", "--running", "--halted", "--paused"):
            if a in ("--running", "--halted", "--paused"):
                state = a[2:].capitalize()
                names = names or [n for n, q in lab.qubes.items() if q["state"] == state] or ["\0"]
        elif a.startswith("--fields=") or a.startswith("-O") and len(a) > 2:
            fields = a.split("=", 1)[1] if a.startswith("--fields=") else a[2:]
        elif a in ("--fields", "-O", "--format", "-o"):
            if i + 1 >= len(argv):
                raise Usage("qvm-ls", f"argument {a}: expected one argument")
            i += 1
            if a in ("--fields", "-O"):
                fields = argv[i]
            else:
                fmt_name = argv[i]
        elif a.startswith("--format="):
            fmt_name = a.split("=", 1)[1]
        elif a.startswith("-"):
            raise Usage("qvm-ls", f"unrecognized arguments: {a}")
        else:
            names.append(a)
        i += 1
    if fields is not None:
        cols = [f.strip() for f in fields.split(",") if f.strip()]
    elif fmt_name in SIMPLE_FORMATS:
        cols = SIMPLE_FORMATS[fmt_name]
    else:
        raise Usage("qvm-ls", f"argument --format/-o: invalid choice: '{fmt_name}'")
    for c in cols:
        head = c.upper().replace("_", "-")
        if not head.replace("-", "").isalnum():
            raise Usage("qvm-ls", f"no such column: {c!r}")
    unknown = [n for n in names if n != "\0" and n not in lab.qubes]
    if unknown:
        raise Usage("qvm-ls", f"no such domain: {unknown[0]!r}")
    selected = sorted(n for n in lab.qubes if not names or n in names)
    rows = [[column(lab, lab.qubes[n], c) or "-" for c in cols] for n in selected]
    out = sys.stdout
    if raw:
        for r in rows:
            out.write("|".join(r) + "\n")
    else:
        table = [[c.upper().replace("_", "-") for c in cols]] + rows
        widths = [max(len(r[k]) for r in table) for k in range(len(cols))]
        for r in table:
            out.write("  ".join(v.ljust(widths[k]) for k, v in enumerate(r)).rstrip() + "\n")
    return 0


# --------------------------------------------------------------------------- prefs


def print_value(name, value):
    if name in QUBE_PROPS or name in ("default_netvm", "updatevm", "clockvm", "default_dispvm",
                                      "default_template", "management_dispvm"):
        if value is None:
            return
    print("" if value is None else fmt(value))


def qvm_prefs(lab, argv):
    default, opts, pos = False, [], []
    for a in argv:
        if a in ("--default", "-D"):
            default = True
        elif a in ("--hide-default", "--get", "-g", "--set", "-s"):
            opts.append(a)
        elif a == "--":
            continue
        elif a.startswith("-") and a != "-":
            raise Usage("qvm-prefs", f"unrecognized arguments: {a}")
        else:
            pos.append(a)
    if not pos:
        raise Usage("qvm-prefs", "the following arguments are required: VMNAME")
    name = pos[0]
    if name not in lab.qubes:
        raise Usage("qvm-prefs", f"no such domain: {name!r}")
    q = lab.qubes[name]
    if len(pos) == 1:
        props = ["autostart", "debug", "default_dispvm", "include_in_backups", "ip", "kernel",
                 "klass", "label", "mac", "maxmem", "memory", "name", "netvm",
                 "provides_network", "qid", "template", "template_for_dispvms", "uuid",
                 "vcpus", "virt_mode", "visible_gateway", "visible_ip", "xid"]
        props = [p for p in props if prop(lab, q, p) is not MISSING]
        width = max(len(p) for p in props)
        for p in props:
            mark = "D" if (p == "netvm" and q["netvm_default"]) or p not in (
                "netvm", "label", "template", "provides_network", "default_dispvm") else "-"
            if p == "default_dispvm" and q["default_dispvm_default"]:
                mark = "D"
            v = fmt(prop(lab, q, p))
            print(f"{p:{width}s}  {mark}  {v if v is not None else ''}".rstrip())
        return 0
    pname = pos[1]
    if len(pos) == 2 and not default:
        value = prop(lab, q, pname)
        if value is MISSING:
            raise Usage("qvm-prefs", f"no such property: {pname!r}")
        print_value(pname, value)
        return 0
    # Setting a property.
    if os.geteuid() != 0:
        raise Usage("qvm-prefs", "the lab changes qubes as root only", code=1, usage=False)
    with lab.locked():
        live = load_state(lab.s["state_dir"])
        q = live.qubes[name]
        if pname == "netvm":
            if default:
                new = live.s["globals"].get("default_netvm")
                new = None if new == name else new
            else:
                new = pos[2] if len(pos) > 2 else ""
                new = None if new in ("", "none", "None") else new
                if new is not None and new not in live.qubes:
                    raise Usage("qvm-prefs", f"no such domain: {new!r}", code=1, usage=False)
            try:
                live.set_netvm(name, new)
            except labmod.LabError as e:
                raise Usage("qvm-prefs", str(e), code=1, usage=False) from e
            q["netvm_default"] = default
            live.save()
        elif pname in ("label", "default_dispvm") or pname in STRING_DEFAULTS:
            value = None if default else (pos[2] if len(pos) > 2 else "")
            if pname == "default_dispvm":
                if value and value not in live.qubes:
                    raise Usage("qvm-prefs", f"no such domain: {value!r}", code=1, usage=False)
                q["default_dispvm"] = value or None
                q["default_dispvm_default"] = default
            elif pname == "label":
                q["label"] = value or q["label"]
            else:
                if default:
                    q["prefs"].pop(pname, None)
                else:
                    q["prefs"][pname] = value
            live.save()
        elif prop(live, q, pname) is MISSING:
            raise Usage("qvm-prefs", f"no such property: {pname!r}")
        else:
            raise Usage("qvm-prefs", f"the lab cannot change {pname!r}", code=1, usage=False)
    return 0


def qubes_prefs(lab, argv):
    pos = [a for a in argv if not a.startswith("-")]
    bad = [a for a in argv if a.startswith("-")]
    if bad:
        raise Usage("qubes-prefs", f"unrecognized arguments: {bad[0]}")
    g = lab.s["globals"]
    if not pos:
        width = max(len(k) for k in labmod.KNOWN_GLOBALS)
        for k in labmod.KNOWN_GLOBALS:
            v = g.get(k)
            print(f"{k:{width}s}  {'-' if k in g else 'D'}  {'' if v is None else v}".rstrip())
        return 0
    if len(pos) > 1:
        raise Usage("qubes-prefs", "the lab does not change global properties", code=1, usage=False)
    name = pos[0]
    if name not in labmod.KNOWN_GLOBALS:
        raise Usage("qubes-prefs", f"no such property: {name!r}")
    print_value(name, g.get(name))
    return 0


# --------------------------------------------------------------------------- qvm-firewall


def qvm_firewall(lab, argv):
    raw, pos = False, []
    for a in argv:
        if a == "--raw":
            raw = True
        elif a in ("--reload", "-r"):
            continue
        elif a.startswith("-"):
            raise Usage("qvm-firewall", f"unrecognized arguments: {a}")
        else:
            pos.append(a)
    if not pos:
        raise Usage("qvm-firewall", "the following arguments are required: VMNAME")
    name = pos[0]
    if name not in lab.qubes:
        raise Usage("qvm-firewall", f"no such domain: {name!r}")
    action = pos[1] if len(pos) > 1 else "list"
    if action != "list":
        raise Usage("qvm-firewall", f"the lab only lists firewall rules, not {action!r}",
                    code=1, usage=False)
    q = lab.qubes[name]
    if q["klass"] == "AdminVM":
        raise Usage("qvm-firewall", "Failed to retrieve firewall rules of dom0", code=1, usage=False)
    rules = q["firewall"]
    if raw:
        for r in rules:
            print(labmod.rule_text(r))
        return 0
    head = ["NO", "ACTION", "HOST", "PROTOCOL", "PORT(S)", "SPECIAL TARGET", "ICMP TYPE",
            "EXPIRE", "COMMENT"]
    table = [head]
    for n, r in enumerate(rules):
        host = r.get("dst4") or r.get("dst6") or r.get("dsthost") or "-"
        table.append([str(n), r["action"], host, r.get("proto", "-"), r.get("dstports", "-"),
                      r.get("specialtarget", "-"), r.get("icmptype", "-"), r.get("expire", "-"),
                      r.get("comment", "-")])
    widths = [max(len(row[k]) for row in table) for k in range(len(head))]
    for row in table:
        print("  ".join(v.ljust(widths[k]) for k, v in enumerate(row)).rstrip())
    return 0


# --------------------------------------------------------------------------- qvm-check


def qvm_check(lab, argv):
    filters, names, quiet = [], [], False
    for a in argv:
        if a in ("--running", "--paused", "--template", "--networked"):
            filters.append(a[2:])
        elif a in ("-q", "--quiet"):
            quiet = True
        elif a in ("-v", "--verbose"):
            quiet = False
        elif a.startswith("-"):
            raise Usage("qvm-check", f"unrecognized arguments: {a}")
        else:
            names.append(a)
    if not names:
        raise Usage("qvm-check", "the following arguments are required: VMNAME")
    invalid = sorted(n for n in names if n not in lab.qubes)
    domains = [n for n in names if n in lab.qubes]
    checks = {
        "running": lambda q: q["state"] == "Running",
        "paused": lambda q: False,
        "template": lambda q: q["klass"] == "TemplateVM",
        "networked": lambda q: q["netvm"] is not None or bool(q["provides_network"]),
    }
    code = 0
    if filters:
        passing = set(domains)
        for f in filters:
            passing &= {n for n in domains if checks[f](lab.qubes[n])}
        if passing != set(domains):
            code = 1 if not passing else 3
        if not quiet:
            if passing:
                for n in sorted(passing):
                    print(f"{n}: {', '.join(filters)}", file=sys.stderr)
            else:
                print(f"None of qubes: {', '.join(filters)}", file=sys.stderr)
    elif not domains:
        code = 1
    elif not quiet:
        for n in sorted(domains):
            print(f"{n}: exists", file=sys.stderr)
    if invalid:
        if not quiet:
            for n in invalid:
                print(f"{n}: non-existent!", file=sys.stderr)
        code = 1
    return code


# --------------------------------------------------------------------------- qvm-run


def qvm_run(lab, argv):
    user, autostart, passio = None, True, False
    i, pos = 0, []
    flag_opts = {
        "--pass-io", "-p", "--no-gui", "--nogui", "--no-colour-output", "--no-color-output",
        "--no-colour-stderr", "--no-color-stderr", "--no-autostart", "--autostart",
        "--no-shell", "-q", "--quiet", "-v", "--verbose", "--filter-escape-chars",
        "--no-filter-escape-chars", "--gui", "-a", "--auto",
    }
    no_shell = False
    while i < len(argv):
        a = argv[i]
        if pos:
            pos.append(a)
        elif a == "--":
            pos.extend(argv[i + 1 :])
            break
        elif a in ("-u", "--user"):
            if i + 1 >= len(argv):
                raise Usage("qvm-run", f"argument {a}: expected one argument")
            i += 1
            user = argv[i]
        elif a.startswith("--user="):
            user = a.split("=", 1)[1]
        elif a.startswith("-u") and len(a) > 2:
            user = a[2:]
        elif a in flag_opts:
            if a in ("--pass-io", "-p"):
                passio = True
            elif a == "--no-autostart":
                autostart = False
            elif a in ("--autostart", "-a", "--auto"):
                autostart = True
            elif a == "--no-shell":
                no_shell = True
        elif a.startswith("--colour-output=") or a.startswith("--color-output=") or \
                a.startswith("--colour-stderr=") or a.startswith("--color-stderr="):
            pass
        elif a.startswith("-"):
            raise Usage("qvm-run", f"unrecognized arguments: {a}")
        else:
            pos.append(a)
        i += 1
    if len(pos) < 2:
        raise Usage("qvm-run", "the following arguments are required: VMNAME, COMMAND")
    name, cmd = pos[0], pos[1:]
    if name not in lab.qubes:
        raise Usage("qvm-run", f"no such domain: {name!r}")
    q = lab.qubes[name]
    if q["klass"] == "AdminVM":
        raise Usage("qvm-run", "the lab has no dom0 shell", code=2, usage=False)
    if q["state"] != "Running":
        if not autostart:
            return 1
        print(f"qvm-run: error: {name}: failed to start: the lab does not start halted qubes",
              file=sys.stderr)
        return 255
    if user == "root" and passio and len(cmd) == 1 and is_drop_log_stream(cmd[0]):
        return follow_drop_log(lab, q)
    tools = lab.s["tools"]
    if user == "root":
        home_env = "/root"
        prefix = []
        env_user = "root"
    else:
        home_env = "/tmp"  # the qube's own /tmp; the lab's state is not visible inside
        prefix = [tools["setpriv"], f"--reuid={labmod.USER_UID}", f"--regid={labmod.USER_UID}",
                  "--clear-groups", "--"]
        env_user = "user"
    env = ["/usr/bin/env", "-i", f"PATH={SANE_PATH}", f"HOME={home_env}", f"USER={env_user}",
           f"LOGNAME={env_user}", "LANG=C.UTF-8", "SHELL=/bin/sh"]
    if len(cmd) > 1 or no_shell:
        body = cmd
    else:
        body = ["/bin/sh", "-c", cmd[0]]
    # The qube's own /run and /tmp over the host's, inside the private mount namespace that
    # `ip netns exec` creates (mounts there do not propagate back to the host).
    root = Path(lab.s["state_dir"]) / "qubes" / name
    # /tmp first: the sources live under the host's /run, which the second mount hides.
    private = ['mount --bind "$2" /tmp && mount --bind "$1" /run && shift 2 && exec "$@"',
               "qube-root", str(root / "run"), str(root / "tmp")]
    args = [tools["ip"], "netns", "exec", q["ns"], "/bin/sh", "-c"] + private + prefix + env + body
    os.chdir("/")
    if passio:
        os.execv(args[0], args)
    import subprocess

    return subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode


def is_drop_log_stream(cmd):
    """The program's dropped-traffic watch follows the kernel log (journalctl, else dmesg)."""
    return "netmap-drop" in cmd and "journalctl -k -f" in cmd and "dmesg -W" in cmd


def follow_drop_log(lab, q):
    """What `dmesg -W` would print in the qube: every namespace shares the host's kernel log,
    so keep the program's lines whose OUT= interface lives in this qube's namespace. Reads
    /dev/kmsg from its end (new messages only) until killed, in dmesg's format."""
    import subprocess
    import time

    def interfaces():
        r = subprocess.run([lab.s["tools"]["ip"], "-n", q["ns"], "-o", "link", "show"],
                           capture_output=True, text=True)
        return {line.split(":")[1].strip().split("@")[0] for line in r.stdout.splitlines()
                if line.count(":") >= 2}

    own, checked = interfaces(), time.monotonic()
    fd = os.open("/dev/kmsg", os.O_RDONLY)
    os.lseek(fd, 0, os.SEEK_END)
    out = sys.stdout
    while True:
        try:
            record = os.read(fd, 8192)
        except BrokenPipeError:
            continue  # a record overwritten before it was read
        except OSError as e:
            if e.errno == 32:  # EPIPE: the same, on older kernels
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
        out.write(f"[{usec // 1000000:5d}.{usec % 1000000:06d}] {text}\n")
        out.flush()


TOOLS = {
    "qvm-ls": qvm_ls,
    "qvm-prefs": qvm_prefs,
    "qubes-prefs": qubes_prefs,
    "qvm-firewall": qvm_firewall,
    "qvm-check": qvm_check,
    "qvm-run": qvm_run,
}


def main(argv):
    if len(argv) < 2 or argv[1] not in TOOLS:
        print("usage: shim.py STATE_DIR TOOL ARGS...", file=sys.stderr)
        return 2
    state_dir, tool = argv[0], argv[1]
    try:
        lab = load_state(state_dir)
    except (OSError, ValueError) as e:
        print(f"{tool}: error: the lab is not running ({e})", file=sys.stderr)
        return 1
    try:
        return TOOLS[tool](lab, argv[2:])
    except Usage as u:
        if u.usage:
            print(f"usage: {u.tool} [-h] [options] ...", file=sys.stderr)
        print(f"{u.tool}: error: {u.message}", file=sys.stderr)
        return u.code
    except BrokenPipeError:
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
