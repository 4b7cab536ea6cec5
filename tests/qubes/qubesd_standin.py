#!/usr/bin/env python3
"""A qubesd stand-in: the server side of the Qubes Admin API on a UNIX socket, for tests.

It follows QubesOS/qubes-core-admin (commit 1ad5f9b84dc1eae76d1b885d009f3e84f5503740):

- qubes/api/__init__.py, QubesDaemonProtocol: the request is read to EOF (at most 65536 bytes,
  more is "request too long" and an abort), then split once at the first NUL into
  `METHOD[+ARG] SP src SP dest_type SP dest` and the payload; dest_type must be `name` (or
  `keyword adminvm`, which means dom0). Anything else is a "framing error": the connection is
  aborted with no reply. Replies are `0\\0` + data; exceptions `2\\0` + type name + `\\0` +
  (no traceback) + `\\0` + str(exception) + `\\0`; events `1\\0` + subject (empty for the
  app) + `\\0` + event + `\\0` + (key `\\0` value `\\0`)* + `\\0` (send_response, send_event,
  send_exception). decode_vm() checks names and raises QubesVMNotFoundError; an unknown
  method is ProtocolError("no such method: ...").
- qubes/api/admin.py: admin.vm.List (`name class=… state=… uuid=…`, sorted), property List /
  Get / GetAll / Set / Reset and their admin.property.* twins (_serialize_property:
  `default=True|False type=vm|int|bool|label|str value`; GetAll escapes `\\` and newlines),
  admin.label.List, admin.vm.tag.List, admin.vm.firewall.Get (api_rule lines),
  admin.vm.CurrentState (`mem=… mem_static_max=… cputime=… power_state=…`),
  admin.vm.feature.List/Get/CheckWithTemplate/Set/Remove, admin.vm.Start, admin.Events
  (`connection-established` first, then every event of every qube and of the app).
- qubes/vm/mix/net.py (ip6, visible_ip6, gateway6, visible_gateway6 from the `ipv6` feature
  looked up along the netvm chain, qubes/features.py check_with_netvm; the prefix from
  qubes/config.py qubes_ipv6_prefix) and qubes/__init__.py (property.__set__/__delete__), qubes/app.py
  (default_netvm handlers), qubes/vm/qubesvm.py, qubes/firewall.py, qubes/vm/__init__.py
  (tags): which events a change fires, in which order, with which arguments, and the netvm
  refusals (does not provide network, loops, a running qube onto a halted netvm).
- qubes/exc.py: exception classes, their bases (so str() is what qubesd sends) and messages.

Every call it does not implement gets a ProtocolError reply and a line `UNIMPLEMENTED method`
in the log, so a test sees what the real tools ask for.

The state comes from a JSON (or YAML) file, described in tests/qubes/README.md; the stand-in
re-reads it when it changes and turns every change it sees (its own or anyone else's) into
the events qubesd would send. Changes made through the API are written back to the file.
With `--lab`, the file is a network lab's state.json (tests/lab) and netvm changes and
starts go through the lab, which rewires its namespaces.

    qubesd_standin.py --state FILE --socket PATH [--log FILE] [--lab] [--ready FILE]
"""

import argparse
import contextlib
import fcntl
import ipaddress
import json
import os
import re
import select
import signal
import socket
import sys
import threading
import time
import uuid as uuidmod
from pathlib import Path

sys.dont_write_bytecode = True
HERE = Path(__file__).resolve().parent

BUFFER_SIZE = 65536
LABELS = ["red", "orange", "yellow", "green", "gray", "blue", "purple", "black"]
CLASSES = ("AdminVM", "AppVM", "DispVM", "TemplateVM", "StandaloneVM")
VM_NAME_RE = re.compile(r"\A[a-zA-Z][a-zA-Z0-9_.-]*\Z")
TAG_RE = re.compile(r"\A[a-zA-Z0-9_.-]+\Z")

# --------------------------------------------------------------------------- qubes/exc.py


class QubesException(Exception):
    pass


class ProtocolError(AssertionError):
    pass


class InjectedReply(Exception):
    """A reply the state asks for (`misbehave`), sent as qubesd's `0\\0` + data."""

    def __init__(self, data):
        super().__init__("injected reply")
        self.data = data


class InjectedError(QubesException):
    """An exception the state asks for (`misbehave`), sent with its own type name and text."""

    def __init__(self, wire_type, message):
        super().__init__(message)
        self.wire_type = wire_type


class PermissionDenied(PermissionError):
    pass


class QubesVMNotFoundError(QubesException, KeyError):
    def __init__(self, vmname):
        super().__init__("No such domain: {!r}".format(vmname))


class QubesVMError(QubesException):
    def __init__(self, vm, msg):
        super().__init__(msg)


class QubesVMNotStartedError(QubesVMError):
    def __init__(self, vm, msg=None):
        super().__init__(vm, msg or "Domain is powered off: {!r}".format(vm))


class QubesVMNotRunningError(QubesVMNotStartedError):
    def __init__(self, vm, msg=None):
        super().__init__(
            vm, msg or "Domain not running (either powered off or paused): {!r}".format(vm))


class QubesVMNotHaltedError(QubesVMError):
    def __init__(self, vm, msg=None):
        super().__init__(vm, msg or "Domain is not powered off: {!r}".format(vm))


class QubesValueError(QubesException, ValueError):
    pass


class QubesPropertyValueError(QubesValueError):
    def __init__(self, holder, prop, value, msg=None):
        super().__init__(
            msg or "Invalid value {!r} for property {!r} of {!r}".format(value, prop, holder))


class QubesNoSuchPropertyError(QubesException, AttributeError):
    def __init__(self, holder, prop_name, msg=None):
        super().__init__(msg or "Invalid property {!r} of {!s}".format(prop_name, holder))


class QubesFeatureNotFoundError(QubesException, KeyError):
    def __init__(self, domain, feature):
        super().__init__("Feature not set for domain {}: {}".format(domain, feature))


class QubesTagNotFoundError(QubesException, KeyError):
    def __init__(self, domain, tag):
        super().__init__("Tag not set for domain {}: {}".format(domain, tag))


class QubesLabelNotFoundError(QubesException, KeyError):
    def __init__(self, label):
        super().__init__("Label does not exist: {}".format(label))


# --------------------------------------------------------------------------- the state

GLOBAL_PROPS = {
    # name: (type, default)
    "clockvm": ("vm", None),
    "default_audiovm": ("vm", "dom0"),
    "default_dispvm": ("vm", None),
    "default_guivm": ("vm", "dom0"),
    "default_kernel": ("str", "6.12.59-1.fc41"),
    "default_netvm": ("vm", None),
    "default_pool": ("str", "vm-pool"),
    "default_qrexec_timeout": ("int", 60),
    "default_shutdown_timeout": ("int", 60),
    "default_template": ("vm", None),
    "management_dispvm": ("vm", None),
    "stats_interval": ("int", 3),
    "updatevm": ("vm", None),
}

SIMPLE_VM_PROPS = {
    # name: (type, default) for properties the state only overrides through `prefs`
    "autostart": ("bool", False),
    "debug": ("bool", False),
    "default_user": ("str", "user"),
    "include_in_backups": ("bool", True),
    "installed_by_rpm": ("bool", False),
    "kernel": ("str", "6.12.59-1.fc41"),
    "kernelopts": ("str", ""),
    "maxmem": ("int", 4000),
    "memory": ("int", 400),
    "qrexec_timeout": ("int", 60),
    "shutdown_timeout": ("int", 60),
    "vcpus": ("int", 2),
    "virt_mode": ("str", "pvh"),
}
VM_TYPED = {
    "audiovm": "vm", "default_dispvm": "vm", "guivm": "vm", "management_dispvm": "vm",
    "netvm": "vm", "template": "vm", "label": "label", "provides_network": "bool",
    "template_for_dispvms": "bool", "qid": "int", "xid": "int", "stubdom_xid": "int",
    "backup_timestamp": "int",
}


class State:
    """The qubes of the state file with qubesd's view of their properties."""

    def __init__(self, data):
        self.data = data
        self.globals = data.setdefault("globals", {})
        qubes = data.get("qubes") or {}
        if isinstance(qubes, list):
            qubes = {q["name"]: q for q in qubes}
            data["qubes"] = qubes
        self.qubes = qubes
        if "dom0" not in qubes:
            qubes["dom0"] = {"klass": "AdminVM", "label": "black", "state": "Running", "qid": 0}
        for name, q in qubes.items():
            self.normalise(name, q)

    @staticmethod
    def normalise(name, q):
        q["name"] = name
        q.setdefault("klass", q.pop("class", "AppVM"))
        q.setdefault("label", "black" if q["klass"] in ("TemplateVM", "AdminVM") else "red")
        q.setdefault("state", "Halted" if q["klass"] == "TemplateVM" else "Running")
        q.setdefault("tags", [])
        q.setdefault("features", {})
        q.setdefault("firewall", [{"action": "accept"}])
        q.setdefault("prefs", {})
        q.setdefault("provides_network", False)
        if q["klass"] == "AdminVM":
            q["provides_network"] = None
        q.setdefault("netvm_default", "netvm" not in q)
        q.setdefault("netvm", None)
        q.setdefault("template", None)
        q.setdefault("default_dispvm_default", "default_dispvm" not in q)
        q.setdefault("default_dispvm", None)
        q.setdefault("ip", None)
        q.setdefault("xid", 0 if q["klass"] == "AdminVM" else (-1))

    # ---- lookups

    def vm(self, name):
        if name not in self.qubes:
            raise QubesVMNotFoundError(name)
        return self.qubes[name]

    def is_running(self, name):
        return self.qubes[name]["state"] in ("Running", "Paused")

    def netvm_of(self, q):
        """The netvm qubesd reports: the explicit value, or the default (default_netvm)."""
        if q["klass"] == "AdminVM":
            return None
        if q["netvm_default"]:
            if q["klass"] == "TemplateVM":
                return None
            dn = self.globals.get("default_netvm")
            # A qube that provides network and has no explicit netvm gets default_netvm too,
            # unless it is the default itself.
            return dn if dn != q["name"] else None
        return q["netvm"]

    def default_dispvm_of(self, q):
        if q["default_dispvm_default"]:
            return self.globals.get("default_dispvm")
        return q["default_dispvm"]

    def networked(self, q):
        return self.netvm_of(q) is not None or bool(q["provides_network"])

    def qid(self, q):
        if q.get("qid") is not None:
            return int(q["qid"])
        names = sorted(n for n in self.qubes if n != "dom0")
        return names.index(q["name"]) + 1

    def ip_of(self, q):
        if not self.networked(q):
            return None
        if q.get("ip"):
            return q["ip"]
        qid = self.qid(q)
        prefix = "10.138" if q["klass"] == "DispVM" else "10.137"
        if qid < 255:
            return f"{prefix}.{(qid >> 8) & 0xFF}.{qid & 0xFF}"
        qid -= 1
        return f"{prefix}.{qid // 254}.{qid % 254 + 1}"

    def feature_with_netvm(self, q, feature, default=None):
        """qubes/features.py check_with_netvm: the qube's own value, else its netvm's, up the
        chain."""
        cur = q
        seen = set()
        while cur is not None and cur["name"] not in seen:
            seen.add(cur["name"])
            if feature in cur["features"]:
                return cur["features"][feature]
            nv = self.netvm_of(cur)
            cur = self.qubes.get(nv) if nv else None
        return default

    def ip6_of(self, q):
        """qubes/vm/mix/net.py _default_ip6 and get_ip6_for_vm: Qubes' prefix
        (qubes/config.py qubes_ipv6_prefix) and the qid in hex, only when the `ipv6` feature is
        on along the netvm chain (any non-empty value is on)."""
        if not self.networked(q) or not self.feature_with_netvm(q, "ipv6"):
            return None
        if q.get("ip6"):
            return q["ip6"]
        kind = "a8a" if q["klass"] == "DispVM" else "a89"
        return str(ipaddress.IPv6Address(f"fd09:24ef:4179:0000::{kind}:{self.qid(q):x}"))

    def gateway6_of(self, q):
        """net.py gateway6: the provider's visible_ip6 when the feature is on for it."""
        if not q["provides_network"] or not self.feature_with_netvm(q, "ipv6"):
            return None
        return self.ip6_of(q)

    def feature_with_template(self, q, feature):
        cur = q
        seen = set()
        while cur is not None and cur["name"] not in seen:
            seen.add(cur["name"])
            if feature in cur["features"]:
                return cur["features"][feature]
            t = cur.get("template") if cur["klass"] in ("AppVM", "DispVM") else None
            cur = self.qubes.get(t) if t else None
        raise KeyError(feature)

    # ---- properties (name → (type, is_default, value); value None means empty)

    def vm_property_names(self, q):
        k = q["klass"]
        if k == "AdminVM":
            return ["default_dispvm", "icon", "keyboard_layout", "klass", "label", "name", "qid",
                    "uuid", "xid"]
        names = ["audiovm", "autostart", "backup_timestamp", "debug", "default_dispvm",
                 "default_user", "dns", "gateway", "gateway6", "guivm", "icon",
                 "include_in_backups", "installed_by_rpm", "ip", "ip6", "kernel", "kernelopts",
                 "keyboard_layout", "klass", "label", "mac", "management_dispvm", "maxmem",
                 "memory", "name", "netvm", "provides_network", "qid", "qrexec_timeout",
                 "shutdown_timeout", "stubdom_mem", "stubdom_xid", "updateable", "uuid",
                 "vcpus", "virt_mode", "visible_gateway", "visible_gateway6", "visible_ip",
                 "visible_ip6", "visible_netmask", "xid"]
        if k in ("AppVM", "DispVM"):
            names.append("template")
        if k in ("AppVM", "StandaloneVM"):
            names.append("template_for_dispvms")
        if k == "DispVM":
            names.append("dispid")
            if q["prefs"].get("is_preload") is not None:
                names.append("is_preload")
        names.extend(p for p in q["prefs"] if p not in names)
        return sorted(names)

    def vm_property(self, q, name):
        """(type, is_default, value) or raise AttributeError for "no value"."""
        k = q["klass"]
        prefs = q["prefs"]
        typ = VM_TYPED.get(name) or SIMPLE_VM_PROPS.get(name, ("str",))[0]
        if name in prefs and name not in ("netvm", "label", "template", "default_dispvm"):
            v = prefs[name]
            if isinstance(v, bool):
                typ = "bool"
            elif isinstance(v, int):
                typ = "int"
            return typ, False, v
        if name == "name":
            return "str", False, q["name"]
        if name == "klass":
            return "str", True, k
        if name == "label":
            return "label", False, q["label"]
        if name == "qid":
            return "int", False, self.qid(q)
        if name == "uuid":
            return "str", False, q.get("uuid") or str(
                uuidmod.uuid5(uuidmod.NAMESPACE_DNS, q["name"] + ".netmap.test"))
        if name == "xid":
            if not self.is_running(q["name"]):
                return "int", True, -1
            return "int", True, q["xid"] if int(q["xid"]) >= 0 else self.qid(q)
        if name == "icon":
            kind = {"AdminVM": "dom0", "TemplateVM": "templatevm", "StandaloneVM": "standalonevm",
                    "DispVM": "dispvm"}.get(k, "appvm")
            return "str", True, f"{kind}-{q['label']}"
        if name == "keyboard_layout":
            return "str", True, "us++"
        if name == "default_dispvm":
            return "vm", q["default_dispvm_default"], self.default_dispvm_of(q)
        if name == "netvm":
            return "vm", q["netvm_default"], self.netvm_of(q)
        if name == "template":
            return "vm", False, q["template"]
        if name == "provides_network":
            return "bool", not q["provides_network"], bool(q["provides_network"])
        if name == "template_for_dispvms":
            return "bool", True, False
        if name in ("ip", "visible_ip"):
            return "str", True, self.ip_of(q)
        if name in ("ip6", "visible_ip6"):
            return "str", True, self.ip6_of(q)
        if name == "gateway6":
            return "str", True, self.gateway6_of(q)
        if name == "visible_gateway6":
            # net.py visible_gateway6: the netvm's gateway6 when the feature is on for this qube.
            nv = self.netvm_of(q)
            nq = self.qubes.get(nv) if nv else None
            return "str", True, (self.gateway6_of(nq)
                                 if nq and self.feature_with_netvm(q, "ipv6") else None)
        if name == "gateway":
            return "str", True, self.ip_of(q) if q["provides_network"] else None
        if name == "visible_gateway":
            nv = self.netvm_of(q)
            nq = self.qubes.get(nv) if nv else None
            return "str", True, (self.ip_of(nq) if nq and nq["provides_network"] else None)
        if name == "visible_netmask":
            return "str", True, "255.255.255.255" if self.netvm_of(q) else None
        if name == "dns":
            return "str", True, "10.139.1.1 10.139.1.2" if self.networked(q) else None
        if name == "mac":
            return "str", True, "00:16:3e:5e:6c:00"
        if name in ("audiovm", "guivm"):
            return "vm", True, "dom0"
        if name == "management_dispvm":
            return "vm", True, self.globals.get("management_dispvm")
        if name == "updateable":
            return "bool", True, k in ("TemplateVM", "StandaloneVM")
        if name == "stubdom_mem":
            return "int", True, None
        if name == "stubdom_xid":
            return "int", True, -1
        if name == "backup_timestamp":
            raise AttributeError(name)
        if name == "dispid":
            return "int", False, self.qid(q)
        if name in SIMPLE_VM_PROPS:
            return SIMPLE_VM_PROPS[name][0], True, SIMPLE_VM_PROPS[name][1]
        raise AttributeError(name)

    def global_property(self, name):
        typ, default = GLOBAL_PROPS[name]
        if name in self.globals:
            return typ, False, self.globals[name]
        return typ, True, default


def serialize(typ, is_default, value):
    if isinstance(value, bool):
        value = "True" if value else "False"
    return "default={} type={} {}".format(
        "True" if is_default else "False", typ, "" if value is None else str(value))


class StateFile:
    """The state file, its lock, and re-reading it when it changed."""

    def __init__(self, path):
        self.path = Path(path)
        self.lock_path = self.path.with_name(
            "state.lock" if self.path.name == "state.json" else self.path.name + ".lock")
        self.stamp = None
        self.state = None

    def _stamp(self):
        st = os.stat(self.path)
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _read(self):
        text = self.path.read_text(encoding="utf-8")
        if self.path.suffix in (".yaml", ".yml"):
            import yaml  # only fixtures written as YAML need it

            data = yaml.safe_load(text) or {}
        else:
            data = json.loads(text)
        return State(data)

    def current(self):
        stamp = self._stamp()
        if stamp != self.stamp or self.state is None:
            for _ in range(20):  # a writer that replaces the file atomically never tears it
                try:
                    self.state = self._read()
                    break
                except ValueError:
                    time.sleep(0.01)
            self.stamp = stamp
        return self.state

    @contextlib.contextmanager
    def locked(self):
        with open(self.lock_path, "a+") as lk:
            fcntl.flock(lk, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lk, fcntl.LOCK_UN)

    def write(self, state):
        data = state.data
        tmp = self.path.with_name(self.path.name + ".tmp")
        if self.path.suffix in (".yaml", ".yml"):
            import yaml

            text = yaml.safe_dump(data, sort_keys=False)
        else:
            text = json.dumps(data, indent=1, sort_keys=True)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, self.path)


# --------------------------------------------------------------------------- events


class EventBus:
    def __init__(self):
        self.lock = threading.Lock()
        self.subscribers = []

    def subscribe(self):
        cond = {"queue": [], "cv": threading.Condition()}
        with self.lock:
            self.subscribers.append(cond)
        return cond

    def unsubscribe(self, sub):
        with self.lock:
            with contextlib.suppress(ValueError):
                self.subscribers.remove(sub)

    def publish(self, events):
        if not events:
            return
        with self.lock:
            subs = list(self.subscribers)
        for s in subs:
            with s["cv"]:
                s["queue"].extend(events)
                s["cv"].notify()


def ev(*subject_event, **kwargs):
    subject, event = subject_event
    return (subject or "", event, [(k, "None" if v is None else str(v)) for k, v in kwargs.items()])


def netvm_set_events(name, new, old, running):
    """property.__set__ for netvm: pre-set (dispatcher before class handlers), then the class
    handler's net-domain-connect on the new netvm (if the qube runs), then property-set."""
    out = [ev(name, "property-pre-set:netvm", name="netvm", newvalue=new, oldvalue=old)]
    if running and new is not None:
        out.append(ev(new, "net-domain-connect", vm=name))
    out.append(ev(name, "property-set:netvm", name="netvm", newvalue=new, oldvalue=old))
    return out


def netvm_reset_events(name, new, old, running):
    """property.__delete__ for netvm with net.py's reset handlers."""
    out = [ev(name, "property-pre-reset:netvm", name="netvm", oldvalue=old)]
    if new != old:
        out.append(ev(name, "property-pre-set:netvm", name="netvm", newvalue=new, oldvalue=old))
    out.append(ev(name, "property-pre-del:netvm", name="netvm", oldvalue=old))
    if new != old:
        if running and new is not None:
            out.append(ev(new, "net-domain-connect", vm=name))
        out.append(ev(name, "property-set:netvm", name="netvm", newvalue=new, oldvalue=old))
    out.append(ev(name, "property-reset:netvm", name="netvm", oldvalue=old))
    out.append(ev(name, "property-del:netvm", name="netvm", oldvalue=old))
    return out


def diff_events(old, new):
    """The events qubesd sends for the change from state `old` to state `new`."""
    out = []
    if old is None:
        return out
    # Qubes added.
    for n in new.qubes:
        if n not in old.qubes:
            out.append(ev(None, "domain-add", vm=n))
    # Global properties (default_netvm with its effect on the qubes that use the default).
    dn_old, dn_new = old.globals.get("default_netvm"), new.globals.get("default_netvm")
    follow_default = set()
    if dn_old != dn_new:
        users = [n for n, q in new.qubes.items()
                 if n in old.qubes and q["klass"] not in ("AdminVM", "TemplateVM")
                 and q["netvm_default"] and old.qubes[n]["netvm_default"]]
        follow_default = set(users)
        out.append(ev(None, "property-pre-set:default_netvm", name="default_netvm",
                      newvalue=dn_new, oldvalue=dn_old))
        for n in users:
            out.append(ev(n, "property-pre-set:netvm", name="netvm", newvalue=dn_new,
                          oldvalue=dn_old))
        for n in users:
            nv_old, nv_new = old.netvm_of(old.qubes[n]), new.netvm_of(new.qubes[n])
            if nv_new != nv_old:
                if new.is_running(n) and nv_new is not None:
                    out.append(ev(nv_new, "net-domain-connect", vm=n))
                out.append(ev(n, "property-set:netvm", name="netvm", newvalue=nv_new,
                              oldvalue=nv_old))
            out.append(ev(n, "property-reset:netvm", name="netvm", oldvalue=dn_old))
        out.append(ev(None, "property-set:default_netvm", name="default_netvm",
                      newvalue=dn_new, oldvalue=dn_old))
    for key in sorted(set(old.globals) | set(new.globals)):
        if key == "default_netvm" or key not in GLOBAL_PROPS:
            continue
        a, b = old.global_property(key), new.global_property(key)
        if a == b:
            continue
        if b[1] and not a[1]:
            out.append(ev(None, f"property-pre-reset:{key}", name=key, oldvalue=a[2]))
            out.append(ev(None, f"property-reset:{key}", name=key, oldvalue=a[2]))
        else:
            out.append(ev(None, f"property-pre-set:{key}", name=key, newvalue=b[2],
                          oldvalue=a[2]))
            out.append(ev(None, f"property-set:{key}", name=key, newvalue=b[2], oldvalue=a[2]))
    for n, q in new.qubes.items():
        if n not in old.qubes:
            continue
        o = old.qubes[n]
        # Power state.
        so, sn = o["state"], q["state"]
        if so != sn:
            start_guid = str(uuidmod.uuid4())
            if so == "Halted" and sn in ("Running", "Paused"):
                out.append(ev(n, "domain-pre-start", start_guid=start_guid,
                              mem_required=new.vm_property(q, "memory")[2]))
                out.append(ev(n, "domain-spawn", start_guid=start_guid))
                out.append(ev(n, "domain-start", start_guid=start_guid))
                if sn == "Paused":
                    out.append(ev(n, "domain-paused"))
            elif sn == "Halted":
                out.append(ev(n, "domain-stopped"))
                out.append(ev(n, "domain-shutdown"))
            elif so == "Running" and sn == "Paused":
                out.append(ev(n, "domain-paused"))
            elif so == "Paused" and sn == "Running":
                out.append(ev(n, "domain-unpaused"))
        # Netvm.
        if q["klass"] != "AdminVM" and n not in follow_default:
            nv_old, nv_new = old.netvm_of(o), new.netvm_of(q)
            running = new.is_running(n)
            if q["netvm_default"] and not o["netvm_default"]:
                out.extend(netvm_reset_events(n, nv_new, nv_old, running))
            elif nv_old != nv_new or q["netvm_default"] != o["netvm_default"]:
                out.extend(netvm_set_events(n, nv_new, nv_old, running))
        # Label.
        if q["label"] != o["label"]:
            out.append(ev(n, "property-pre-set:label", name="label", newvalue=q["label"],
                          oldvalue=o["label"]))
            out.append(ev(n, "property-set:label", name="label", newvalue=q["label"],
                          oldvalue=o["label"]))
        # Other properties held in prefs.
        for key in sorted(set(o["prefs"]) | set(q["prefs"])):
            a, b = o["prefs"].get(key), q["prefs"].get(key)
            if a == b:
                continue
            if key not in q["prefs"]:
                out.append(ev(n, f"property-pre-reset:{key}", name=key, oldvalue=a))
                out.append(ev(n, f"property-reset:{key}", name=key, oldvalue=a))
            else:
                out.append(ev(n, f"property-pre-set:{key}", name=key, newvalue=b, oldvalue=a))
                out.append(ev(n, f"property-set:{key}", name=key, newvalue=b, oldvalue=a))
        # Tags (qubes/vm/__init__.py Tags.add / remove).
        for t in sorted(set(q["tags"]) - set(o["tags"])):
            out.append(ev(n, f"domain-tag-add:{t}", tag=t))
        for t in sorted(set(o["tags"]) - set(q["tags"])):
            out.append(ev(n, f"domain-tag-delete:{t}", tag=t))
        # Features (qubes/features.py).
        for f in sorted(set(o["features"]) | set(q["features"])):
            a, b = o["features"].get(f), q["features"].get(f)
            if a == b:
                continue
            if f not in q["features"]:
                out.append(ev(n, f"domain-feature-pre-delete:{f}", feature=f))
                out.append(ev(n, f"domain-feature-delete:{f}", feature=f))
            else:
                kw = {"feature": f, "value": b}
                if f in o["features"]:
                    kw["oldvalue"] = a
                out.append(ev(n, f"domain-feature-pre-set:{f}", **kw))
                out.append(ev(n, f"domain-feature-set:{f}", **kw))
        # Firewall (qubes/firewall.py Firewall.save).
        if q["firewall"] != o["firewall"]:
            out.append(ev(n, "firewall-changed"))
    for n in old.qubes:
        if n not in new.qubes:
            out.append(ev(None, "domain-pre-delete", vm=n))
            out.append(ev(None, "domain-delete", vm=n))
    return out


# --------------------------------------------------------------------------- firewall rules

# Rule.api_rule (qubes/firewall.py): properties sorted by (order, name) — action, expire (0),
# dsthost as dst4/dst6/dsthost, proto, specialtarget (1), dstports, icmptype (2) — comment last.
RULE_KEYS = ["action", "expire", "dst4", "dst6", "dsthost", "proto", "specialtarget",
             "dstports", "icmptype", "comment"]


def rule_api_text(rule):
    if isinstance(rule, str):
        return rule
    parts = []
    for k in RULE_KEYS:
        if k in rule and rule[k] is not None and k != "comment":
            v = rule[k]
            if k == "dstports" and "-" not in str(v):
                v = f"{v}-{v}"
            parts.append(f"{k}={v}")
    if rule.get("comment"):
        parts.append(f"comment={rule['comment']}")
    return " ".join(parts)


# --------------------------------------------------------------------------- the daemon


class Daemon:
    def __init__(self, state_path, socket_path, log_path=None, lab=False):
        self.file = StateFile(state_path)
        self.socket_path = socket_path
        self.log_file = open(log_path, "a", buffering=1, encoding="utf-8") if log_path else None
        self.bus = EventBus()
        self.lab = lab
        self.stop = threading.Event()
        self.last = None
        self.apply_lock = threading.Lock()

    def log(self, msg):
        line = f"{time.time():.3f} {msg}"
        if self.log_file:
            self.log_file.write(line + "\n")
        else:
            print(line, file=sys.stderr, flush=True)
        # A record that outlives the lab's teardown, for a run of many tests.
        keep = os.environ.get("NETMAP_QUBESD_PROBLEM_LOG")
        if keep and ("UNIMPLEMENTED" in msg or "framing error" in msg or "too long" in msg):
            with contextlib.suppress(OSError), open(keep, "a", encoding="utf-8") as f:
                f.write(f"{line} [{self.file.path}]\n")

    # ---- watching the state file

    def poll_state(self):
        with self.apply_lock:
            try:
                st = self.file.current()
            except (OSError, ValueError) as e:
                self.log(f"state unreadable: {e}")
                return
            if st is not self.last:
                events = diff_events(self.last, st)
                self.last = st
                self.bus.publish(events)

    def watcher(self):
        while not self.stop.wait(0.05):
            self.poll_state()

    # ---- serving

    def serve(self, ready=None):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.socket_path)
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(self.socket_path)
        os.chmod(self.socket_path, 0o666)
        srv.listen(64)
        self.poll_state()
        threading.Thread(target=self.watcher, daemon=True).start()
        if ready:
            Path(ready).write_text(f"{os.getpid()}\n")
        self.log(f"listening on {self.socket_path}")
        while not self.stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                if self.stop.is_set():
                    break
                raise
            threading.Thread(target=self.connection, args=(conn,), daemon=True).start()
        srv.close()

    def connection(self, conn):
        try:
            self.handle(conn)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as e:  # pylint: disable=broad-except
            self.log(f"internal error: {e!r}")
            abort(conn)
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    def handle(self, conn):
        buf = bytearray()
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            if len(buf) + len(chunk) > BUFFER_SIZE:
                self.log("request too long")
                abort(conn)
                return
            buf += chunk
        try:
            params, payload = bytes(buf).split(b"\0", 1)
            meth_arg, src, dest_type, dest = params.split(b" ", 3)
            if dest_type == b"keyword" and dest == b"adminvm":
                dest_type, dest = b"name", b"dom0"
            if dest_type != b"name":
                raise ValueError("only explicit name supported")
            if b"+" in meth_arg:
                meth, arg = meth_arg.split(b"+", 1)
            else:
                meth, arg = meth_arg, b""
        except ValueError:
            self.log(f"framing error: {bytes(buf[:200])!r}")
            abort(conn)
            return
        self.log(f"call {meth!r}+{arg!r} ({src!r} -> {dest!r}) payload {len(payload)} bytes")
        try:
            result = self.dispatch(conn, src, meth, dest, arg, payload)
        except (QubesException, ProtocolError, PermissionDenied) as exc:
            self.log(f"exception {type(exc).__name__}: {exc}")
            wire_type = getattr(exc, "wire_type", type(exc).__name__)
            data = wire_type.encode() + b"\0" + b"\0" + str(exc).encode("utf-8") + b"\0"
            conn.sendall(b"2\0" + data)
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_WR)
            return
        except InjectedReply as injected:
            result = injected.data
        if result is EVENTS_DONE:
            return
        conn.sendall(b"0\0" + (result or "").encode("utf-8"))
        with contextlib.suppress(OSError):
            conn.shutdown(socket.SHUT_WR)

    def decode_vm(self, st, raw):
        vm = raw.decode("ascii", "strict")
        if not VM_NAME_RE.match(vm) or len(vm) > 31:
            raise QubesValueError("VM name contains illegal characters" if len(vm) <= 31
                                  else "VM name must be shorter than 32 characters")
        if vm not in st.qubes:
            raise QubesVMNotFoundError(vm)
        return vm

    def dispatch(self, conn, src, meth, dest, arg, payload):
        st = self.file.current()
        src_name = self.decode_vm(st, src)
        dest_name = self.decode_vm(st, dest)
        method = meth.decode("ascii")
        arg = arg.decode("ascii")
        spec = METHODS.get(method)
        self.misbehave(st, method)
        if spec is None:
            self.log(f"UNIMPLEMENTED {method}+{arg} -> {dest_name}")
            raise ProtocolError("no such method: {!r}".format(method))
        func, wants_arg, wants_payload, dest_adminvm = spec
        if wants_payload is True and payload == b"":
            raise ProtocolError("expected payload")
        if wants_payload is False and payload != b"":
            raise ProtocolError("unexpected payload")
        if wants_arg is True and not arg:
            raise ProtocolError("expected an argument")
        if wants_arg is False and arg:
            raise ProtocolError("unexpected argument")
        is_admin = st.qubes[dest_name]["klass"] == "AdminVM"
        if dest_adminvm is True and not is_admin:
            raise ProtocolError("expected destination to be AdminVM")
        if dest_adminvm is False and is_admin:
            raise ProtocolError("expected destination to not be AdminVM")
        del src_name
        return func(self, conn, st, dest_name, arg, payload)

    def misbehave(self, st, method):
        """A hostile or broken qubesd, as the state asks (`misbehave`, README.md): never answer
        a method, or answer it with an exception of any type and text."""
        bad = st.data.get("misbehave") or {}
        if method in (bad.get("hang") or []):
            self.log(f"misbehave: {method} never answers")
            self.stop.wait()
            raise ConnectionResetError
        error = (bad.get("error") or {}).get(method)
        if error:
            self.log(f"misbehave: {method} fails with {error[0]}")
            raise InjectedError(error[0], error[1])
        if method in (bad.get("reply") or {}):
            self.log(f"misbehave: {method} answers what the state says")
            raise InjectedReply(bad["reply"][method])

    # ---- changes

    def change(self, mutate):
        """Apply `mutate(state)` to a fresh copy of the state under the file's lock, write it,
        and publish the events of the change before answering (qubesd answers after its
        handlers ran)."""
        with self.file.locked():
            self.file.stamp = None
            st = self.file.current()
            fresh = State(json.loads(json.dumps(st.data)))
            mutate(fresh)
            self.file.write(fresh)
        self.poll_state()


EVENTS_DONE = object()


def abort(conn):
    """transport.abort(): drop the connection, nothing more is sent."""
    with contextlib.suppress(OSError):
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
    with contextlib.suppress(OSError):
        conn.close()


# --------------------------------------------------------------------------- the calls

METHODS = {}


def method(name, wants_arg, wants_payload, dest_adminvm):
    def deco(func):
        METHODS[name] = (func, wants_arg, wants_payload, dest_adminvm)
        return func

    return deco


@method("admin.vm.List", False, False, None)
def vm_list(d, conn, st, dest, arg, payload):
    # sorted(domains): BaseVM.__lt__ compares names (qubes/vm/__init__.py)
    names = sorted(st.qubes) if dest == "dom0" else [dest]
    return "".join(
        "{} class={} state={} uuid={}\n".format(
            n, st.qubes[n]["klass"], st.qubes[n]["state"], st.vm_property(st.qubes[n], "uuid")[2])
        for n in names)


def vm_holder(st, dest):
    return st.qubes[dest]


@method("admin.vm.property.List", False, False, None)
def vm_property_list(d, conn, st, dest, arg, payload):
    return "".join(f"{p}\n" for p in st.vm_property_names(st.qubes[dest]))


@method("admin.property.List", False, False, True)
def property_list(d, conn, st, dest, arg, payload):
    return "".join(f"{p}\n" for p in sorted(GLOBAL_PROPS))


def vm_prop_serialized(st, q, prop):
    try:
        return serialize(*st.vm_property(q, prop))
    except AttributeError:
        typ = VM_TYPED.get(prop) or SIMPLE_VM_PROPS.get(prop, ("str",))[0]
        return "default=True type={} ".format(typ)


@method("admin.vm.property.Get", True, False, None)
def vm_property_get(d, conn, st, dest, arg, payload):
    q = st.qubes[dest]
    if arg not in st.vm_property_names(q):
        raise QubesNoSuchPropertyError(dest, arg)
    return vm_prop_serialized(st, q, arg)


@method("admin.property.Get", True, False, True)
def property_get(d, conn, st, dest, arg, payload):
    if arg not in GLOBAL_PROPS:
        raise QubesNoSuchPropertyError("Qubes", arg)
    return serialize(*st.global_property(arg))


def escape(s):
    return s.replace("\\", "\\\\").replace("\n", "\\n")


@method("admin.vm.property.GetAll", False, False, None)
def vm_property_get_all(d, conn, st, dest, arg, payload):
    q = st.qubes[dest]
    return "".join("{} {}\n".format(p, escape(vm_prop_serialized(st, q, p)))
                   for p in sorted(st.vm_property_names(q)))


@method("admin.property.GetAll", False, False, True)
def property_get_all(d, conn, st, dest, arg, payload):
    return "".join("{} {}\n".format(p, escape(serialize(*st.global_property(p))))
                   for p in sorted(GLOBAL_PROPS))


def check_netvm_value(st, name, value):
    """_setter_netvm: a value that does not provide network, or a loop."""
    if value is None:
        return
    nq = st.qubes[value]
    if not nq["provides_network"]:
        raise QubesValueError("The {!s} qube does not provide network".format(value))
    cur, seen = value, set()
    while cur is not None and cur not in seen:
        if cur == name:
            raise QubesValueError("Loops in network are unsupported")
        seen.add(cur)
        cur = st.netvm_of(st.qubes[cur])


def check_running_onto_halted(d, st, name, new, old):
    """on_property_pre_set_netvm, after the dispatcher already sent property-pre-set:netvm."""
    if new is not None and st.is_running(name) and not st.is_running(new):
        d.bus.publish([ev(name, "property-pre-set:netvm", name="netvm", newvalue=new,
                          oldvalue=old)])
        raise QubesVMNotStartedError(
            new, "Cannot dynamically attach to stopped qube {!s}".format(new))


def sanitize_vm_value(st, holder, prop, raw):
    value = raw.decode("ascii", "strict") if raw else ""
    if value == "":
        return None
    if value not in st.qubes:
        raise QubesVMNotFoundError(value)
    return value


@method("admin.vm.property.Set", True, None, None)
def vm_property_set(d, conn, st, dest, arg, payload):
    q = st.qubes[dest]
    if arg not in st.vm_property_names(q):
        raise QubesNoSuchPropertyError(dest, arg)
    if arg == "netvm":
        new = sanitize_vm_value(st, dest, arg, payload)
        check_netvm_value(st, dest, new)
        old = st.netvm_of(q)
        check_running_onto_halted(d, st, dest, new, old)
        d.change(lambda s: set_netvm(d, s, dest, new, default=False))
        return None
    if arg == "label":
        value = payload.decode("ascii", "strict")
        if value not in LABELS:
            raise QubesLabelNotFoundError(value)
        d.change(lambda s: s.qubes[dest].__setitem__("label", value))
        return None
    if arg == "default_dispvm":
        new = sanitize_vm_value(st, dest, arg, payload)

        def mut(s):
            s.qubes[dest]["default_dispvm"] = new
            s.qubes[dest]["default_dispvm_default"] = False

        d.change(mut)
        return None
    if arg in SIMPLE_VM_PROPS or arg in q["prefs"]:
        typ = SIMPLE_VM_PROPS.get(arg, ("str",))[0]
        text = payload.decode("utf-8", "strict")
        if typ == "int":
            if not re.fullmatch(r"-?[0-9]+", text):
                raise QubesPropertyValueError(dest, arg, text)
            value = int(text)
        elif typ == "bool":
            low = text.lower()
            if low in ("0", "false", "no", "off", ""):
                value = False
            elif low in ("1", "true", "yes", "on"):
                value = True
            else:
                raise QubesValueError("Invalid literal for boolean property: {!r}".format(text))
        else:
            value = text
        d.change(lambda s: s.qubes[dest]["prefs"].__setitem__(arg, value))
        return None
    d.log(f"UNIMPLEMENTED admin.vm.property.Set+{arg} -> {dest}")
    raise QubesValueError("property {!r} cannot be set here".format(arg))


def set_netvm(d, s, name, new, default):
    q = s.qubes[name]
    if d.lab:
        d.lab_set_netvm(s, name, new)
    # `netvm` keeps the effective value also for a qube that uses the default (the lab wires by
    # it); netvm_of() reads the default from the globals whenever `netvm_default` is set.
    q["netvm"] = new
    q["netvm_default"] = default
    if new is not None and not q.get("ip"):
        q["ip"] = s.ip_of(q)


@method("admin.vm.property.Reset", True, False, None)
def vm_property_reset(d, conn, st, dest, arg, payload):
    q = st.qubes[dest]
    if arg not in st.vm_property_names(q):
        raise QubesNoSuchPropertyError(dest, arg)
    if arg == "netvm":
        dn = st.globals.get("default_netvm")
        new = None if q["klass"] == "TemplateVM" or dn == dest else dn
        check_netvm_value(st, dest, new)
        old = st.netvm_of(q)
        if new != old:
            check_running_onto_halted(d, st, dest, new, old)
        d.change(lambda s: set_netvm(d, s, dest, new, default=True))
        return None
    if arg == "default_dispvm":
        def mut(s):
            s.qubes[dest]["default_dispvm"] = None
            s.qubes[dest]["default_dispvm_default"] = True

        d.change(mut)
        return None
    if arg in q["prefs"]:
        d.change(lambda s: s.qubes[dest]["prefs"].pop(arg, None))
        return None
    if arg in SIMPLE_VM_PROPS:
        return None
    d.log(f"UNIMPLEMENTED admin.vm.property.Reset+{arg} -> {dest}")
    raise QubesValueError("property {!r} cannot be reset here".format(arg))


@method("admin.property.Set", True, None, True)
def property_set(d, conn, st, dest, arg, payload):
    if arg not in GLOBAL_PROPS:
        raise QubesNoSuchPropertyError("Qubes", arg)
    typ = GLOBAL_PROPS[arg][0]
    if typ == "vm":
        new = sanitize_vm_value(st, "Qubes", arg, payload)
    elif typ == "int":
        text = payload.decode("ascii", "strict")
        if not re.fullmatch(r"[0-9]+", text):
            raise QubesPropertyValueError("Qubes", arg, text)
        new = int(text)
    else:
        new = payload.decode("utf-8", "strict")
    if arg == "default_netvm":
        users = [n for n, q in st.qubes.items()
                 if q["klass"] not in ("AdminVM", "TemplateVM") and q["netvm_default"]]
        if new is not None:
            if not st.qubes[new]["provides_network"]:
                raise QubesValueError("The {!s} qube does not provide network".format(new))
            for n in users:
                cur, seen = new, set()
                while cur is not None and cur not in seen:
                    if cur == n:
                        raise QubesPropertyValueError(
                            "Qubes", arg, new, "Network loop on '{!s}'".format(n))
                    seen.add(cur)
                    cur = st.netvm_of(st.qubes[cur])
        old = st.globals.get("default_netvm")
        sent = [ev(None, "property-pre-set:default_netvm", name="default_netvm",
                   newvalue=new, oldvalue=old)]
        for n in users:
            sent.append(ev(n, "property-pre-set:netvm", name="netvm", newvalue=new, oldvalue=old))
            if new is not None and st.is_running(n) and not st.is_running(new) and n != new:
                d.bus.publish(sent)
                raise QubesVMNotStartedError(
                    new, "Cannot dynamically attach to stopped qube {!s}".format(new))

        def mut(s):
            if d.lab:
                for n in users:
                    d.lab_set_netvm(s, n, new if new != n else None)
            s.globals["default_netvm"] = new

        d.change(mut)
        return None

    def mut(s):
        s.globals[arg] = new

    d.change(mut)
    return None


@method("admin.property.Reset", True, False, True)
def property_reset(d, conn, st, dest, arg, payload):
    if arg not in GLOBAL_PROPS:
        raise QubesNoSuchPropertyError("Qubes", arg)
    if arg == "default_netvm":
        d.log("UNIMPLEMENTED admin.property.Reset+default_netvm")
        raise QubesValueError("resetting default_netvm is not implemented here")
    d.change(lambda s: s.globals.pop(arg, None))
    return None


@method("admin.label.List", False, False, True)
def label_list(d, conn, st, dest, arg, payload):
    return "".join(f"{label}\n" for label in LABELS)


@method("admin.label.Index", True, False, True)
def label_index(d, conn, st, dest, arg, payload):
    if arg not in LABELS:
        raise QubesLabelNotFoundError(arg)
    return str(LABELS.index(arg) + 1)


@method("admin.label.Get", True, False, True)
def label_get(d, conn, st, dest, arg, payload):
    colours = {"red": "0xcc0000", "orange": "0xf57900", "yellow": "0xedd400",
               "green": "0x73d216", "gray": "0x555753", "blue": "0x3465a4",
               "purple": "0x75507b", "black": "0x000000"}
    if arg not in colours:
        raise QubesLabelNotFoundError(arg)
    return colours[arg]


@method("admin.vm.tag.List", False, False, None)
def vm_tag_list(d, conn, st, dest, arg, payload):
    return "".join(f"{t}\n" for t in sorted(st.qubes[dest]["tags"]))


def validate_tag(tag):
    if not TAG_RE.match(tag):
        raise QubesValueError("Invalid tag name: {!r}".format(tag))


@method("admin.vm.tag.Get", True, False, None)
def vm_tag_get(d, conn, st, dest, arg, payload):
    validate_tag(arg)
    return "1" if arg in st.qubes[dest]["tags"] else "0"


@method("admin.vm.tag.Set", True, False, None)
def vm_tag_set(d, conn, st, dest, arg, payload):
    validate_tag(arg)

    def mut(s):
        if arg not in s.qubes[dest]["tags"]:
            s.qubes[dest]["tags"].append(arg)

    d.change(mut)


@method("admin.vm.tag.Remove", True, False, None)
def vm_tag_remove(d, conn, st, dest, arg, payload):
    validate_tag(arg)
    if arg not in st.qubes[dest]["tags"]:
        raise QubesTagNotFoundError(dest, arg)
    d.change(lambda s: s.qubes[dest]["tags"].remove(arg))


@method("admin.vm.firewall.Get", False, False, False)
def vm_firewall_get(d, conn, st, dest, arg, payload):
    return "".join(f"{rule_api_text(r)}\n" for r in st.qubes[dest]["firewall"])


@method("admin.vm.firewall.Set", False, True, False)
def vm_firewall_set(d, conn, st, dest, arg, payload):
    text = payload.decode("ascii", "strict")
    rules = []
    for line in text.splitlines():
        rule = {}
        for tok in line.split(" "):
            if tok.startswith("comment="):
                rule["comment"] = line.split("comment=", 1)[1]
                break
            k, sep, v = tok.partition("=")
            if not sep or k not in RULE_KEYS:
                raise ValueError("Invalid rule element: {!r}".format(tok))
            rule[k] = v
        if "action" not in rule:
            raise QubesValueError("Missing action")
        rules.append(rule)
    d.change(lambda s: s.qubes[dest].__setitem__("firewall", rules))


@method("admin.vm.firewall.Reload", False, False, False)
def vm_firewall_reload(d, conn, st, dest, arg, payload):
    d.bus.publish([ev(dest, "firewall-changed")])


@method("admin.vm.CurrentState", False, False, None)
def vm_current_state(d, conn, st, dest, arg, payload):
    q = st.qubes[dest]
    running = st.is_running(dest)
    mem = (st.vm_property(q, "memory")[2] * 1024 if running and q["klass"] != "AdminVM"
           else (4096000 if q["klass"] == "AdminVM" else 0))
    maxmem = st.vm_property(q, "maxmem")[2] * 1024 if q["klass"] != "AdminVM" else 8192000
    return "mem={} mem_static_max={} cputime={} power_state={}".format(
        mem, maxmem, 1000000 if running else 0, q["state"])


@method("admin.vm.feature.List", False, False, None)
def vm_feature_list(d, conn, st, dest, arg, payload):
    return "".join(f"{f}\n" for f in st.qubes[dest]["features"])


@method("admin.vm.feature.Get", True, False, None)
def vm_feature_get(d, conn, st, dest, arg, payload):
    feats = st.qubes[dest]["features"]
    if arg not in feats:
        raise QubesFeatureNotFoundError(dest, arg)
    return str(feats[arg])


@method("admin.vm.feature.CheckWithTemplate", True, False, None)
def vm_feature_check_with_template(d, conn, st, dest, arg, payload):
    try:
        return str(st.feature_with_template(st.qubes[dest], arg))
    except KeyError:
        raise QubesFeatureNotFoundError(dest, arg) from None


@method("admin.vm.feature.Set", True, True, None)
def vm_feature_set(d, conn, st, dest, arg, payload):
    value = payload.decode("utf-8", "strict")
    d.change(lambda s: s.qubes[dest]["features"].__setitem__(arg, value))


@method("admin.vm.feature.Remove", True, False, None)
def vm_feature_remove(d, conn, st, dest, arg, payload):
    if arg not in st.qubes[dest]["features"]:
        raise QubesFeatureNotFoundError(dest, arg)
    d.change(lambda s: s.qubes[dest]["features"].pop(arg))


@method("admin.vm.Start", False, False, None)
def vm_start(d, conn, st, dest, arg, payload):
    q = st.qubes[dest]
    if q["klass"] == "AdminVM" or st.is_running(dest):
        raise QubesVMNotHaltedError(dest)
    # qubesvm.start(): the netvm chain first (start_netvm), then the qube.
    chain, cur = [], dest
    while cur is not None and not st.is_running(cur):
        chain.append(cur)
        cur = st.netvm_of(st.qubes[cur])
    chain.reverse()

    def mut(s):
        for n in chain:
            if d.lab:
                d.lab_start(s, n)
            else:
                s.qubes[n]["state"] = "Running"
                s.qubes[n]["xid"] = max([int(x.get("xid", -1)) for x in s.qubes.values()]
                                        + [0]) + 1

    d.change(mut)


@method("admin.Events", False, False, None)
def events(d, conn, st, dest, arg, payload):
    sub = d.bus.subscribe()
    try:
        conn.sendall(frame_event(ev(None, "connection-established")))
        # The client ends the stream by closing the socket (a half-close after the request is
        # normal): only a hang-up ends it, as connection_lost does in qubesd.
        poller = select.poll()
        poller.register(conn.fileno(), 0)
        while not d.stop.is_set():
            if any(ev_ & (select.POLLHUP | select.POLLERR) for _, ev_ in poller.poll(0)):
                break
            with sub["cv"]:
                if not sub["queue"]:
                    sub["cv"].wait(0.2)
                batch, sub["queue"] = sub["queue"], []
            for e in batch:
                subject, _, _ = e
                if dest != "dom0" and subject != dest:
                    continue
                conn.sendall(frame_event(e))
    except OSError:
        pass
    finally:
        d.bus.unsubscribe(sub)
    return EVENTS_DONE


def frame_event(e):
    subject, name, kwargs = e
    data = subject.encode("ascii") + b"\0" + name.encode("ascii") + b"\0"
    data += "".join(f"{k}\0{v}\0" for k, v in kwargs).encode("ascii") + b"\0"
    return b"1\0" + data


# --------------------------------------------------------------------------- the lab backend


def lab_backend(daemon):
    """With --lab, netvm changes and starts rewire the lab's namespaces (tests/lab/lab.py)."""
    sys.path.insert(0, str(HERE.parent / "lab"))
    import lab as labmod  # noqa: E402 pylint: disable=import-outside-toplevel

    state_dir = str(daemon.file.path.parent)

    def live(s):
        lab = labmod.Lab(state=s.data)
        lab.save = lambda: None  # the stand-in writes the file once, under the lock
        return lab

    def lab_set_netvm(s, name, new):
        try:
            live(s).set_netvm(name, new)
        except labmod.LabError as e:
            raise QubesValueError(str(e)) from e

    def lab_start(s, name):
        try:
            live(s).start_qube(name)
        except labmod.LabError as e:
            raise QubesException("Start failed: " + str(e)) from e

    daemon.lab_set_netvm = lab_set_netvm
    daemon.lab_start = lab_start
    del state_dir


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--state", required=True, help="state file (JSON, or YAML by suffix)")
    ap.add_argument("--socket", required=True, help="the UNIX socket to serve")
    ap.add_argument("--log", help="log file (default: stderr)")
    ap.add_argument("--lab", action="store_true", help="the state is a network lab's state.json")
    ap.add_argument("--ready", help="file written with the pid once the socket listens")
    a = ap.parse_args(argv)
    d = Daemon(a.state, a.socket, a.log, lab=a.lab)
    if a.lab:
        lab_backend(d)

    def stop(signum, _frame):
        d.stop.set()
        with contextlib.suppress(OSError):
            os.unlink(a.socket)
        os._exit(0)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, stop)
    d.serve(a.ready)
    return 0


if __name__ == "__main__":
    sys.exit(main())
