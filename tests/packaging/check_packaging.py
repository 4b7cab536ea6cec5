#!/usr/bin/env python3
"""Checks of the dom0 packaging, one CTest test per subcommand.

  install   DESTDIR install of the build with prefix /usr; every packaged file is there
  desktop   the .desktop file: desktop-file-validate and the Qubes Tools rules
  appstream the metainfo: appstreamcli validate --no-net (and appstream-util if present)
  icon      the SVG icon: well-formed, square, self-contained, renders at 16/32/64 px
  rpmspec   the spec parses with rpmspec -P; its version and %files match the install
  manpage   the man page renders with no groff (or mandoc) warning; its sections are there
  manhelp   the man page and `qubes-netmap --help` list the same options, exit codes, examples

Exit status: 0 pass, 1 fail, 77 skipped (a tool is missing; the reason is printed).
"""

import argparse
import fnmatch
import os
import re
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

SKIP = 77

DESKTOP = "usr/share/applications/qubes-netmap.desktop"
ICON = "usr/share/icons/hicolor/scalable/apps/qubes-netmap.svg"
METAINFO_ID = "org.qubes_os.netmap"
METAINFO = f"usr/share/metainfo/{METAINFO_ID}.metainfo.xml"
MANPAGE = "usr/share/man/man1/qubes-netmap.1"
BINARY = "usr/bin/qubes-netmap"
SHIPPED = {  # installed file -> where it comes from in the source tree
    "usr/share/qubes-netmap/config.yaml": "resources/config.yaml",
    "usr/share/qubes-netmap/expectations.example.yaml": "resources/expectations.example.yaml",
}
MAN_SECTIONS = ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "FILES",
                "EXAMPLES", "SECURITY"]


class Failed(Exception):
    pass


class Skipped(Exception):
    pass


def run(argv, **kwargs):
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, **kwargs)


def need(tool):
    path = shutil.which(tool)
    if not path:
        raise Skipped(f"{tool} is not installed (packaging/dev.sh test installs it)")
    return path


def expected_files(source):
    files = [BINARY, DESKTOP, ICON, METAINFO, MANPAGE]
    pending = []
    for installed, origin in SHIPPED.items():
        (files if os.path.exists(os.path.join(source, origin)) else pending).append(installed)
    return files, pending


def installed_files(destdir):
    found = set()
    for root, _dirs, names in os.walk(destdir):
        for name in names:
            found.add(os.path.relpath(os.path.join(root, name), destdir))
    return found


def in_destdir(args, relative):
    path = os.path.join(args.destdir, relative)
    if not os.path.isfile(path):
        raise Failed(f"{relative} is not installed; did the 'install' test run?")
    return path


# --- install -----------------------------------------------------------------------------

def check_install(args):
    if os.path.isdir(args.destdir):
        shutil.rmtree(args.destdir)
    env = dict(os.environ, DESTDIR=args.destdir)
    result = run([args.cmake, "--install", args.build, "--prefix", "/usr"], env=env)
    if result.returncode != 0:
        raise Failed("cmake --install failed:\n" + result.stdout + result.stderr)
    files, pending = expected_files(args.source)
    have = installed_files(args.destdir)
    missing = [f for f in files if f not in have]
    if missing:
        raise Failed("not installed: " + ", ".join(missing))
    for f in pending:
        print(f"note: {SHIPPED[f]} is not in the source yet, so {f} is not installed")
    binary = os.path.join(args.destdir, BINARY)
    if not os.access(binary, os.X_OK):
        raise Failed(f"{BINARY} is not executable")
    for f in files:
        if f != BINARY and os.access(os.path.join(args.destdir, f), os.X_OK):
            raise Failed(f"{f} is executable; data files should not be")
    print("installed:\n  " + "\n  ".join(sorted(have)))


# --- desktop -----------------------------------------------------------------------------

def parse_desktop(path):
    entries, group = {}, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            if line.startswith("["):
                group = line
                continue
            if group == "[Desktop Entry]" and "=" in line:
                key, value = line.split("=", 1)
                entries[key.strip()] = value.strip()
    return entries


def check_desktop(args):
    path = in_destdir(args, DESKTOP)
    validator = need("desktop-file-validate")
    result = run([validator, path])
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0 or output:
        raise Failed("desktop-file-validate:\n" + output)
    entry = parse_desktop(path)
    problems = []
    if "qubes" not in os.path.basename(path):
        problems.append("the file name must contain 'qubes' for the Qubes app menu")
    categories = [c for c in entry.get("Categories", "").split(";") if c]
    for needed in ("Settings", "X-XFCE-SettingsDialog"):
        if needed not in categories:
            problems.append(f"Categories lacks {needed} (needed for Qubes Tools)")
    if any(key.startswith("X-Qubes-VM") for key in entry):
        problems.append("X-Qubes-VM marks an entry as a qube's; a dom0 tool must not carry it")
    wanted = {"Type": "Application", "Exec": "qubes-netmap", "Icon": "qubes-netmap",
              "Terminal": "false"}
    for key, value in wanted.items():
        if entry.get(key) != value:
            problems.append(f"{key}={entry.get(key)!r}, expected {value!r}")
    for key in ("Name", "GenericName", "Comment", "Keywords"):
        if not entry.get(key):
            problems.append(f"{key} is missing")
    if problems:
        raise Failed("\n".join(problems))
    print("desktop entry valid:", ", ".join(f"{k}={v}" for k, v in sorted(entry.items())))


# --- appstream ---------------------------------------------------------------------------

def check_appstream(args):
    path = in_destdir(args, METAINFO)
    appstreamcli = need("appstreamcli")
    result = run([appstreamcli, "validate", "--no-net", "--pedantic", path])
    print(result.stdout.strip())
    if result.returncode != 0:
        raise Failed("appstreamcli validate --no-net failed:\n" + result.stdout + result.stderr)
    # Fedora's %check uses appstream-util; run it too where it exists.
    if shutil.which("appstream-util"):
        result = run(["appstream-util", "validate-relax", "--nonet", path])
        print(result.stdout.strip())
        if result.returncode != 0:
            raise Failed("appstream-util validate-relax failed:\n" + result.stdout + result.stderr)
    root = ET.parse(path).getroot()
    problems = []
    if root.findtext("id") != METAINFO_ID:
        problems.append(f"<id> is {root.findtext('id')!r}, the file name says {METAINFO_ID}")
    launchable = root.find("launchable[@type='desktop-id']")
    if launchable is None or launchable.text != os.path.basename(DESKTOP):
        problems.append("<launchable type='desktop-id'> must name " + os.path.basename(DESKTOP))
    releases = [r.get("version") for r in root.findall("releases/release")]
    if not releases or releases[0] != args.version:
        problems.append(f"the newest <release> is {releases[:1]}, the project is {args.version}")
    binaries = [b.text for b in root.findall("provides/binary")]
    if "qubes-netmap" not in binaries:
        problems.append("<provides><binary>qubes-netmap</binary> is missing")
    if problems:
        raise Failed("\n".join(problems))


# --- icon --------------------------------------------------------------------------------

def check_icon(args):
    path = in_destdir(args, ICON)
    root = ET.parse(path).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    problems = []
    if root.tag != ns + "svg":
        problems.append(f"the root element is {root.tag}, not svg")
    view_box = [float(v) for v in root.get("viewBox", "").replace(",", " ").split()]
    if len(view_box) != 4 or view_box[2] != view_box[3]:
        problems.append(f"viewBox {root.get('viewBox')!r} is not square")
    for element in root.iter():
        tag = element.tag.replace(ns, "")
        if tag in ("script", "image", "foreignObject", "text"):
            problems.append(f"<{tag}> does not belong in an icon (self-contained shapes only)")
        for key, value in element.attrib.items():
            if key.endswith("href") and not value.startswith("#"):
                problems.append(f"external reference {value!r}")
    if problems:
        raise Failed("\n".join(problems))
    renderer = need("rsvg-convert")
    for size in (16, 32, 64):
        result = subprocess.run([renderer, "-w", str(size), "-h", str(size), path],
                                capture_output=True, timeout=60)
        if result.returncode != 0 or not result.stdout.startswith(b"\x89PNG"):
            raise Failed(f"rsvg-convert cannot render the icon at {size} px: "
                         + result.stderr.decode(errors="replace"))
    print("icon renders at 16, 32 and 64 px")


# --- rpmspec -----------------------------------------------------------------------------

def spec_files(parsed):
    """The %files entries of `rpmspec -P` output, as (directive, path) pairs."""
    entries, inside = [], False
    for line in parsed.splitlines():
        stripped = line.strip()
        if re.match(r"^%(files|changelog|package|description|pre|post|preun|postun|"
                     r"posttrans|pretrans|check|install|build|prep|trigger\w*)\b", stripped):
            inside = stripped.startswith("%files")
            continue
        if not inside or not stripped or stripped.startswith("#"):
            continue
        directive = ""
        while True:
            m = re.match(r"^(%[a-z]+(?:\([^)]*\))?)\s+(.*)$", stripped)
            if not m:
                break
            directive += m.group(1) + " "
            stripped = m.group(2)
        entries.append((directive.strip(), stripped))
    return entries


def check_rpmspec(args):
    rpmspec = need("rpmspec")
    spec = os.path.join(args.source, "packaging/rpm/qubes-netmap.spec")
    result = run([rpmspec, "-P", spec])
    if result.returncode != 0:
        raise Failed("rpmspec -P failed:\n" + result.stderr)
    parsed = result.stdout
    version = run([rpmspec, "-q", "--srpm", "--qf", "%{version}", spec]).stdout.strip()
    if version != args.version:
        raise Failed(f"the spec says version {version!r}, CMakeLists.txt says {args.version!r}")
    for needed in ("%check", "%post", "%postun", "update-desktop-database", "%changelog",
                   "-DNETMAP_BUILD_BENCH=OFF", "%ctest -L 'unit|ui'"):
        if needed not in parsed:
            raise Failed(f"the spec lacks {needed}")

    have = installed_files(args.destdir)
    if not have:
        raise Failed("nothing is installed in DESTDIR; did the 'install' test run?")
    _files, pending = expected_files(args.source)
    listed, problems = set(), []
    for directive, path in spec_files(parsed):
        if not path.startswith("/"):
            if "%doc" in directive or "%license" in directive:
                continue  # copied from the source tree by rpmbuild, not installed by CMake
            problems.append(f"%files entry {path!r} is not an absolute path")
            continue
        relative = path.lstrip("/")
        if "%dir" in directive:
            pending_dirs = {os.path.dirname(f) for f in pending}
            if not os.path.isdir(os.path.join(args.destdir, relative)) \
                    and relative not in pending_dirs:
                problems.append(f"%dir {path} is not installed")
            continue
        matches = {f for f in have if fnmatch.fnmatch(f, relative)}
        if not matches and relative not in pending:
            problems.append(f"%files lists {path}, which is not installed")
        listed |= matches
    for f in sorted(have - listed):
        problems.append(f"/{f} is installed but not in %files")
    for f in pending:
        print(f"note: %files lists /{f}; {SHIPPED[f]} is not in the source yet")
    if problems:
        raise Failed("\n".join(problems))
    print(f"rpmspec -P parses; version {version}; %files covers all {len(have)} installed files")


# --- man page ----------------------------------------------------------------------------

def check_manpage(args):
    path = in_destdir(args, MANPAGE)
    groff = need("groff")
    result = run([groff, "-man", "-Tutf8", "-ww", "-z", path])
    if result.returncode != 0 or result.stderr.strip():
        raise Failed("groff -man -ww warns:\n" + result.stderr)
    if shutil.which("mandoc"):
        result = run(["mandoc", "-Tlint", "-W", "warning", path])
        if result.returncode != 0 or result.stdout.strip() or result.stderr.strip():
            raise Failed("mandoc -Tlint:\n" + result.stdout + result.stderr)
    else:
        print("note: mandoc is not installed; only groff checked the page")
    text = render_man(path)
    headings = [line for line in text.splitlines() if re.match(r"^[A-Z][A-Z ]+$", line)]
    missing = [s for s in MAN_SECTIONS if s not in headings]
    if missing:
        raise Failed("the man page lacks sections: " + ", ".join(missing))
    if f"qubes-netmap {args.version}" not in text:
        raise Failed(f"the man page footer does not carry version {args.version}")
    print("man page renders cleanly; sections: " + ", ".join(headings))


def render_man(path):
    result = run(["groff", "-man", "-Tascii", "-P-cbou", "-rLL=100n", path])
    if result.returncode != 0:
        raise Failed("groff cannot render the page:\n" + result.stderr)
    return result.stdout


# --- man page against --help -------------------------------------------------------------

ESCAPES = [(r"\-", "-"), (r"\(ti", "~"), (r"\(ha", "^"), (r"\(aq", "'"), (r"\(dq", '"'),
           (r"\(bu", "*"), (r"\|", ""), (r"\&", ""), (r"\e", "\\")]


def roff_text(line):
    """Plain text of one roff line (text or a font macro such as .B, .BI, .BR)."""
    m = re.match(r"^\.(B|I|BI|BR|IB|IR|RB|RI)\s+(.*)$", line)
    if m:
        words = shlex.split(m.group(2).replace("\\", "\\\\"), posix=True)
        words = [w.replace("\\\\", "\\") for w in words]
        line = ("" if len(m.group(1)) == 2 else " ").join(words)
    elif line.startswith("."):
        return ""
    line = re.sub(r"\\f[BIRP]|\\f\[[A-Z]*\]", "", line)
    for escape, plain in ESCAPES:
        line = line.replace(escape, plain)
    return line


def man_sections(path):
    sections, current = {}, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            m = re.match(r'^\.SH\s+"?([^"]*)"?$', line)
            if m:
                current = m.group(1).strip()
                sections[current] = []
            elif current is not None and not line.startswith('.\\"'):
                sections[current].append(line)
    return sections


def normal(text):
    return " ".join(text.split())


def tagged_paragraphs(lines):
    """(tag, body) for every .TP in a section, both as plain text."""
    items, i = [], 0
    while i < len(lines):
        if lines[i].startswith(".TP"):
            tag = roff_text(lines[i + 1])
            body, i = [], i + 2
            while i < len(lines) and not re.match(r"^\.(TP|PP|P|LP|SS|SH|IP|RS)\b", lines[i]):
                body.append(roff_text(lines[i]))
                i += 1
            items.append((normal(tag), normal(" ".join(body))))
        else:
            i += 1
    return items


def man_examples(lines):
    examples, inside = [], False
    for line in lines:
        if line.startswith(".EX"):
            inside = True
        elif line.startswith(".EE"):
            inside = False
        elif inside:
            examples.append(normal(roff_text(line)))
    return examples


def help_blocks(text):
    """Splits --help into {heading: [lines]} at lines that end with ':' and are not indented."""
    blocks, current = {}, None
    for line in text.splitlines():
        if line and not line[0].isspace() and line.rstrip().endswith(":"):
            current = line.rstrip()[:-1].split(" (")[0]
            blocks[current] = []
        elif line and not line[0].isspace():
            current = None
        elif current is not None and line.strip():
            blocks[current].append(line)
    return blocks


def help_options(text):
    tags = []
    for line in text.splitlines():
        m = re.match(r"^ {1,4}(-\S.*?)(?: {2,}.*)?$", line)
        if m:
            tags.append(normal(m.group(1)))
    return tags


def help_exit_codes(blocks):
    codes = {}
    last = None
    for line in blocks.get("Exit codes", []):
        m = re.match(r"^\s+(\d+)\s+(.*)$", line)
        if m:
            last = m.group(1)
            codes[last] = m.group(2)
        elif last:
            codes[last] += " " + line.strip()
    return {code: normal(text) for code, text in codes.items()}


def check_manhelp(args):
    if not args.program or not os.path.exists(args.program):
        raise Skipped("the qubes-netmap program is not built (NETMAP_BUILD_UI=OFF?)")
    path = in_destdir(args, MANPAGE)
    result = run([args.program, "--help"], env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
    if result.returncode != 0 or not result.stdout.strip():
        raise Failed(f"qubes-netmap --help exited {result.returncode}:\n{result.stderr}")
    help_text = result.stdout
    blocks = help_blocks(help_text)
    sections = man_sections(path)
    problems = []

    help_tags = help_options(help_text)
    man_tags = [tag for tag, _ in tagged_paragraphs(sections.get("OPTIONS", []))]
    for tag in help_tags:
        if tag not in man_tags:
            problems.append(f"--help lists '{tag}', the man page OPTIONS do not")
    for tag in man_tags:
        if tag not in help_tags:
            problems.append(f"the man page OPTIONS list '{tag}', --help does not")
    if not help_tags:
        problems.append("found no options in --help")

    help_codes = help_exit_codes(blocks)
    man_codes = dict(tagged_paragraphs(sections.get("EXIT STATUS", [])))
    for code, meaning in help_codes.items():
        if code not in man_codes:
            problems.append(f"--help has exit code {code}, the man page EXIT STATUS does not")
        elif meaning not in man_codes[code]:
            problems.append(f"exit code {code}: --help says '{meaning}', the man page says "
                            f"'{man_codes[code]}'")
    for code in man_codes:
        if code not in help_codes:
            problems.append(f"the man page has exit code {code}, --help does not")
    if not help_codes:
        problems.append("found no exit codes in --help")

    man_example_lines = man_examples(sections.get("EXAMPLES", []))
    help_example_lines = [normal(line) for line in blocks.get("Examples", [])]
    for example in help_example_lines:
        if example not in man_example_lines:
            problems.append(f"the --help example '{example}' is not in the man page EXAMPLES")
    for example in man_example_lines:
        words = example.split()
        if not words or words[0] != "qubes-netmap":
            continue
        for word in words:
            option = word.split("=")[0]
            if option.startswith("-") and not any(option in tag.split("[")[0].replace(",", " ").split()
                                                  for tag in help_tags):
                problems.append(f"the man page example '{example}' uses {option}, "
                                "which --help does not list")
    if problems:
        raise Failed("\n".join(problems))
    print(f"man page and --help agree: options {', '.join(help_tags)}; exit codes "
          f"{', '.join(help_codes)}; {len(help_example_lines)} examples")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("check", choices=["install", "desktop", "appstream", "icon", "rpmspec",
                                          "manpage", "manhelp"])
    parser.add_argument("--source", required=True, help="the source tree")
    parser.add_argument("--build", required=True, help="the build tree")
    parser.add_argument("--destdir", required=True, help="where the DESTDIR install goes")
    parser.add_argument("--version", required=True, help="the project version")
    parser.add_argument("--cmake", default="cmake")
    parser.add_argument("--program", default="", help="the built qubes-netmap")
    args = parser.parse_args()
    try:
        globals()["check_" + args.check](args)
    except Skipped as skipped:
        print(f"SKIPPED: {skipped}")
        return SKIP
    except Failed as failed:
        print(f"FAIL: {failed}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
