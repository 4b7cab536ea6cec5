#!/usr/bin/env python3
"""core/checklayers.py holds the layer stack: the real core passes, and each kind of violation
planted in a copy of it is refused with file:line."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

CORE = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else None
CHECKER = os.path.join(CORE or "", "checklayers.py")


def run(core):
    return subprocess.run([sys.executable, CHECKER, core], capture_output=True, text=True, timeout=30)


class CheckLayers(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.core = os.path.join(self.tmp, "core")
        shutil.copytree(CORE, self.core, ignore=shutil.ignore_patterns("*.py", "CMakeLists.txt"))

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def plant(self, relative, line):
        path = os.path.join(self.core, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "a", encoding="utf-8") as f:
            f.write("\n" + line + "\n")
        with open(path, encoding="utf-8") as f:
            return path, sum(1 for _ in f)

    def assertRefused(self, relative, line, words):
        path, number = self.plant(relative, line)
        result = run(self.core)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn(f"{path}:{number}: ", result.stderr)
        self.assertIn(words, result.stderr)

    def test_real_core_holds(self):
        result = run(CORE)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, "")

    def test_copy_holds(self):
        self.assertEqual(run(self.core).returncode, 0)

    def test_upward_include(self):
        self.assertRefused("model/qube.h", '#include "formats/jsonexport.h"', "formats/ is above model/")

    def test_same_floor(self):
        self.assertRefused("checks/verifier.cpp", '#include "live/reroute.h"', "on the same floor as")

    def test_gui_include(self):
        self.assertRefused("io/files.cpp", "#include <QtGui/QColor>", "no Qt Gui")

    def test_document_on_top(self):
        # The document observes everything below it; nothing below may reach up to it.
        self.assertRefused("formats/jsonexport.cpp", '#include "document/networkdocument.h"',
                           "document/ is above formats/")

    def test_widgets_include(self):
        self.assertRefused("formats/jsonexport.cpp", '#  include "QtWidgets/QWidget"', "no Qt Gui")

    def test_folder_without_floor(self):
        self.plant("extra/thing.h", "#pragma once")
        result = run(self.core)
        self.assertEqual(result.returncode, 1)
        self.assertIn("core/extra has no floor", result.stderr)

    def test_downward_include_allowed(self):
        self.plant("formats/jsonexport.cpp", '#include "model/qube.h"')
        self.plant("checks/verifier.cpp", '#include "policy/inference.h"')
        self.plant("document/networkdocument.cpp", '#include "formats/jsonexport.h"')
        self.assertEqual(run(self.core).returncode, 0)


if __name__ == "__main__":
    if CORE is None:
        print("usage: test_checklayers.py CORE_DIR", file=sys.stderr)
        sys.exit(2)
    unittest.main()
