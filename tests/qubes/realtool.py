#!/usr/bin/env python3
"""Run a tool of the real Qubes admin client (qubesadmin) against a qubesd stand-in.

    realtool.py --client DIR --socket PATH --qrexec-client PATH TOOL [ARGS...]
    realtool.py --make-bin BINDIR --client DIR --socket PATH --qrexec-client PATH

DIR is a copy of QubesOS/qubes-core-admin-client (its `qubesadmin/` folder); see
tests/qubes/README.md for where it comes from. The tool runs unchanged: only the socket, the
qrexec-client binary and the dom0 application class are pointed at the test's own (the recipe of
the client's README.netmap.md). `--make-bin` writes one small script per tool into BINDIR, with
every path baked in, so a program that runs `qvm-ls` from PATH with an empty environment gets
the real tool.
"""

import os
import sys

TOOLS = {
    "qvm-ls": "qvm_ls",
    "qvm-prefs": "qvm_prefs",
    "qubes-prefs": "qubes_prefs",
    "qvm-firewall": "qvm_firewall",
    "qvm-check": "qvm_check",
    "qvm-run": "qvm_run",
    "qvm-features": "qvm_features",
    "qvm-tags": "qvm_tags",
    "qvm-start": "qvm_start",
}


def client_problem(client):
    """Why DIR is not a usable client copy (None if it is)."""
    if not client:
        return "no client location given"
    if not os.path.isfile(os.path.join(client, "qubesadmin", "tools", "qvm_ls.py")):
        return f"{client} does not hold qubesadmin/tools/qvm_ls.py"
    return None


def make_bin(bindir, client, sock, qrexec_client, python=None):
    python = python or sys.executable
    os.makedirs(bindir, exist_ok=True)
    here = os.path.abspath(__file__)
    for tool in TOOLS:
        path = os.path.join(bindir, tool)
        with open(path, "w", encoding="utf-8") as f:
            f.write(
                "#!/bin/sh\n"
                f"# {tool}: the real qubesadmin tool of {client}\n"
                f"exec '{python}' -B -E -S '{here}' --client '{client}' --socket '{sock}' "
                f"--qrexec-client '{qrexec_client}' {tool} \"$@\"\n")
        os.chmod(path, 0o755)
    return bindir


def run_tool(client, sock, qrexec_client, tool, args):
    sys.path.insert(0, os.path.abspath(client))
    import importlib

    import qubesadmin
    import qubesadmin.app
    import qubesadmin.config

    qubesadmin.config.QUBESD_SOCKET = sock
    qubesadmin.config.QREXEC_CLIENT = qrexec_client
    qubesadmin.Qubes = qubesadmin.app.QubesLocal
    sys.argv = [tool] + list(args)  # before the import: some parsers take prog from it then
    module = importlib.import_module("qubesadmin.tools." + TOOLS[tool])
    return module.main()


def main(argv):
    opts = {"--client": None, "--socket": None, "--qrexec-client": None, "--make-bin": None}
    i = 0
    while i < len(argv) and argv[i] in opts:
        if i + 1 >= len(argv):
            print(f"realtool: {argv[i]} needs a value", file=sys.stderr)
            return 2
        opts[argv[i]] = argv[i + 1]
        i += 2
    problem = client_problem(opts["--client"])
    if problem:
        print(f"realtool: {problem}", file=sys.stderr)
        return 2
    if not opts["--socket"] or not opts["--qrexec-client"]:
        print("realtool: --socket and --qrexec-client are required", file=sys.stderr)
        return 2
    if opts["--make-bin"]:
        make_bin(opts["--make-bin"], opts["--client"], opts["--socket"], opts["--qrexec-client"])
        return 0
    if i >= len(argv) or argv[i] not in TOOLS:
        print(f"realtool: TOOL must be one of {', '.join(TOOLS)}", file=sys.stderr)
        return 2
    return run_tool(opts["--client"], opts["--socket"], opts["--qrexec-client"], argv[i],
                    argv[i + 1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
