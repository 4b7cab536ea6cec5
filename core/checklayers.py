#!/usr/bin/env python3
"""The layer rule of netmap_core (docs/ARCHITECTURE.md, "Layers").

Core's folders form a one-way stack. A file may include headers of its own folder and of
folders on a lower floor, never of a folder on its own floor or above, and never Qt Gui,
Widgets or Svg. The build runs this on every change to a core file; a violation stops it with
one line per include, as file:line: message.

Usage: checklayers.py CORE_DIR [STAMP]   (writes STAMP when the stack holds)
"""

import os
import re
import sys

# Floor of each folder, lowest first: readers of untrusted input near the bottom, the
# documents (JSON, Markdown, snapshot YAML) that need policy and check results above them, and
# the NetworkDocument the window observes (snapshot, intent, results, live state) on top.
FLOORS = {
    "model": 0,
    "io": 1,
    "yaml": 1,
    "layout": 1,
    "qubes": 2,
    "policy": 3,
    "checks": 4,
    "live": 4,
    "formats": 5,
    "document": 6,
}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
GUI = re.compile(r"^(Qt(Gui|Widgets|Svg|SvgWidgets|OpenGL|OpenGLWidgets|PrintSupport|Quick|Qml))/")
SOURCE_SUFFIXES = (".h", ".cpp")


def violations(core_dir):
    found = []
    for folder in sorted(os.listdir(core_dir)):
        path = os.path.join(core_dir, folder)
        if not os.path.isdir(path):
            continue
        sources = [f for f in sorted(os.listdir(path)) if f.endswith(SOURCE_SUFFIXES)]
        if not sources:
            continue
        if folder not in FLOORS:
            found.append(f"{path}: core/{folder} has no floor in the layer stack (core/checklayers.py)")
            continue
        floor = FLOORS[folder]
        for name in sources:
            file = os.path.join(path, name)
            with open(file, encoding="utf-8") as text:
                for number, line in enumerate(text, 1):
                    match = INCLUDE.match(line)
                    if not match:
                        continue
                    target = match.group(2)
                    if GUI.match(target):
                        found.append(f"{file}:{number}: core must not include {target} (no Qt Gui, Widgets or Svg in core)")
                        continue
                    if match.group(1) != '"' or "/" not in target:
                        continue
                    other = target.split("/", 1)[0]
                    if other == folder or other not in FLOORS:
                        continue
                    if FLOORS[other] >= floor:
                        where = "on the same floor as" if FLOORS[other] == floor else "above"
                        found.append(f"{file}:{number}: {folder}/ must not include {target}: {other}/ is {where} {folder}/")
    return found


def main(argv):
    if len(argv) not in (2, 3):
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    found = violations(argv[1])
    for line in found:
        print(line, file=sys.stderr)
    if found:
        return 1
    if len(argv) == 3:
        with open(argv[2], "w", encoding="utf-8") as stamp:
            stamp.write("ok\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
