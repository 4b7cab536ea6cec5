#!/usr/bin/env python3
"""One hostile corpus into every sink, each output read back by its real consumer.

Every row reaches the program twice, the way an attacker can bring it:
  A. from a qube, on the live system (the real Qubes client against the qubesd stand-in, the fake
     qube shell playing each qube): the text is the name of the nft chain holding sys-vpn's
     kill-switch rule in its `nft -j list ruleset` answer, so it lands in the kill-switch reason
     (reduced to printable ASCII there) and, as the qube printed it, in the check's evidence
     (the Markdown fences, the YAML output); the CLI runs in tmux (the screen must show exactly
     the lines the program meant) and exports Markdown, JSON and YAML. The verdict's reduction
     and the evidence's protocol lines already keep this text from breaking a sink, so path A
     shows the end to end result; the sinks' own protections are shown by path B (and by
     test_terminal.py's hostile file name for the terminal);
  B. from a file: the text is the snapshot's source_detail (the SVG title and legend) and every
     free-text field of a check; the CLI exports SVG, PNG, Markdown, JSON and YAML.
Consumers: tmux, xmllint (the SVG is XML), cmark-gfm with the GitHub extensions (no link,
autolink, image or raw HTML from the text, every table row keeps its cells, the evidence stays in
its fences), PyYAML and yaml-cpp (the program itself) for the YAML (the same values back) and
Python's json for the JSON.

Usage: test_sinks.py QUBES_NETMAP. Exit 77 (skipped) when a consumer is missing."""
import html.parser, json, os, re, shutil, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import test_terminal  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
FAKE = os.path.join(HERE, '..', 'data', 'scripted-qubes')

CORPUS = [
    ('controls', b'a\x01\x02\x07\x08\x0b\x0c\x7f\x1cb'),
    ('NUL', b'before\x00after'),
    ('ESC sequences', b'\x1b[2J\x1b[H\x1b[1;31mRED\x1b[0m\x1b]0;owned\x07\x1b[1A\x1b[2K\rPASS forged'
                      b'\x1b[?1049h\x1bc'),
    ('C1 controls', '\u009b2J \u0085 \u009d0;t\u009c'.encode()),
    ('bidi overrides', '\u202eevil\u202c \u2066iso\u2069 \u200f\u061c \u200b\ufeff'.encode()),
    ('line separators', 'a\u2028b\u2029c'.encode()),
    ('noncharacters', 'a\uffffb\ufffec\ufdd0'.encode()),
    ('lone surrogate in UTF-8', b'a\xed\xa0\x80b\xed\xbf\xbfc'),
    ('bad UTF-8', b'a\xff\xfe\xc0\xafb\xe2\x82'),
    ('1 MB line', b'x' * (1 << 20)),
    ('markup', b'<script>alert(1)</script><img src=x onerror=alert(1)> &amp; <b>b</b> ]]> <!-- c'),
    ('YAML specials', b'yes'),
    ('YAML number', b'1e3'),
    ('YAML null', b'~'),
    ('YAML syntax', b"&a *a !tag - x: y {a: 1} [b] '\" # c % @ `"),
    ('Markdown links', b'[click](http://evil.example) ![i](http://evil.example/i.png) '
                       b'<http://evil.example> www.evil.example/x admin@evil.example '
                       b'https://evil.example [r]: http://evil.example'),
    ('Markdown fence', b'```\n# heading\n~~~\n    code\n| a | b |\n---\n*emph* _u_ ~~s~~'),
    ('table breaker', b'a|b\\|c||'),
]

ALLOWED_TAGS = None
PICTURE = 'b.svg'  # the picture path B exports, linked by the report written with it
JSON_FIELDS = ('observed', 'expected', 'reason')  # the check fields the JSON export carries  # the tags the report uses for a plain snapshot; filled in by baseline()


def repaired(s):
    """untrustedtext::repaired(): lone surrogates and noncharacters become U+FFFD."""
    out = []
    for c in s:
        o = ord(c)
        if 0xd800 <= o <= 0xdfff or (o & 0xfffe) == 0xfffe or 0xfdd0 <= o <= 0xfdef:
            out.append('\ufffd')
        else:
            out.append(c)
    return ''.join(out)


class Tags(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.comments, self.tables, self.row, self.cell = set(), [], [], None, None
        self.hrefs = []  # the target of every <a>

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag == 'a':
            self.hrefs.append(dict(attrs).get('href'))
        if tag == 'table':
            self.tables.append([])
        elif tag == 'tr':
            self.row = []
        elif tag in ('td', 'th') and self.row is not None:
            self.cell = ''

    def handle_endtag(self, tag):
        if tag in ('td', 'th') and self.row is not None and self.cell is not None:
            self.row.append(self.cell)
            self.cell = None
        elif tag == 'tr' and self.row is not None:
            if self.tables:
                self.tables[-1].append(self.row)
            self.row = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data

    def handle_comment(self, data):
        self.comments.append(data)


def render_markdown(path):
    r = subprocess.run(['cmark-gfm', '-e', 'autolink', '-e', 'table', path], capture_output=True,
                       timeout=60)
    if r.returncode != 0:
        raise AssertionError('cmark-gfm failed: %s' % r.stderr[:300])
    p = Tags()
    p.feed(r.stdout.decode('utf-8'))
    return p, r.stdout.decode('utf-8')


def markdown_problems(path, checks_expected, pictures=()):
    """pictures: the file names of the pictures exported in the same run, which the report links
    (its only <a>); any other <a> came out of the text."""
    p, out = render_markdown(path)
    problems = []
    allowed = ALLOWED_TAGS if ALLOWED_TAGS is not None else p.tags  # None: making the baseline
    stray = [h for h in p.hrefs if h not in pictures]
    if stray:
        problems.append('Markdown: a <a> element came out of qube text: %r' % stray[:3])
    if len(p.hrefs) > len(pictures):
        problems.append('Markdown: %d links, only %d picture(s) exported' % (len(p.hrefs), len(pictures)))
    for bad in ('img', 'script', 'b', 'h4', 'h5', 'h6'):
        if bad in p.tags and bad not in allowed:
            problems.append('Markdown: a <%s> element came out of qube text' % bad)
    extra = p.tags - allowed - {'a'}  # <a>: checked above
    if extra:
        problems.append('Markdown: elements the report never makes: %s' % sorted(extra))
    if p.comments:
        problems.append('Markdown: raw HTML reached the renderer: %r' % p.comments[:3])
    # The verification table: every data row keeps its Result cell, which starts with its mark.
    checks = [t for t in p.tables if t and t[0] == ['Test', 'Steps performed', 'Expected', 'Result', 'Ran']]
    if len(checks) != 1:
        return problems + ['Markdown: the verification table is missing or broken: %d found' % len(checks)]
    results = checks[0][1:]
    if len(results) < checks_expected:
        problems.append('Markdown: %d check rows in the table, %d expected' % (len(results), checks_expected))
    for r in results:
        if not r[3].strip() or r[3].strip()[0] not in '✅❌⚠➖':
            problems.append('Markdown: a table row lost its cells: %r' % [c[:80] for c in r])
        elif len(r) != 5 or not (r[4].endswith(' UTC') or r[4] == '—'):
            problems.append('Markdown: a table row lost the time its check ran: %r' % [c[:80] for c in r])
    return problems


def xml_problems(path):
    r = subprocess.run(['xmllint', '--noout', '--huge', path], capture_output=True, timeout=120)
    problems = []
    if r.returncode != 0:
        problems.append('SVG: xmllint: %s' % r.stderr.decode('utf-8', 'replace')[:400])
    with open(path, 'rb') as f:
        text = f.read().decode('utf-8', 'replace')
    c1 = [hex(ord(c)) for c in text if 0x7f <= ord(c) <= 0x9f or ord(c) in (0x2028, 0x2029, 0x202e)]
    if c1:
        problems.append('SVG: hidden characters in the text: %s' % c1[:5])
    return problems


def load_yaml(path):
    import yaml
    with open(path, 'rb') as f:
        return yaml.safe_load(f)


def run(args, env, timeout=180):
    return subprocess.run([BIN, *args], capture_output=True, env=env, timeout=timeout)


def check_values(doc_checks, expected, where):
    """doc_checks: the check dicts of one export; expected: field -> value."""
    problems = []
    for field, value in expected.items():
        if not any(c.get(field) == value for c in doc_checks):
            got = [repr(c.get(field))[:120] for c in doc_checks]
            problems.append('%s: %s did not come back as written (%r...): %s'
                            % (where, field, value[:60], got[:3]))
    return problems


def yaml_roundtrip_problems(yaml_path, work, env, expected):
    """PyYAML and yaml-cpp (the program reading its own export) read the same values."""
    problems = []
    try:
        doc = load_yaml(yaml_path)
    except Exception as e:  # noqa: BLE001 - the message is the finding
        return ['YAML: PyYAML refuses the export: %s' % str(e)[:300]]
    for q in doc.get('qubes', []):
        if not isinstance(q['name'], str):
            problems.append('YAML: a qube name reads as %r' % (q['name'],))
        for t in q.get('tags', []):
            if not isinstance(t, str):
                problems.append('YAML: a tag reads as %r' % (t,))
    problems += check_values(doc.get('checks', []), expected, 'YAML (PyYAML)')
    again = os.path.join(work, 'again.json')
    r = run(['--snapshot', yaml_path, '--export', again], env)
    if r.returncode not in (0, 1):
        problems.append('YAML: the program cannot read its own export: %s' % r.stderr[:300])
        return problems
    with open(again, 'rb') as f:
        back = json.loads(f.read().decode('utf-8'))
    py_names = sorted((q['name'] for q in doc['qubes']), key=str)
    if py_names != sorted((q['name'] for q in back['qubes']), key=str):
        problems.append('YAML: yaml-cpp and PyYAML read different qube names')
    for q in back['qubes']:
        mine = next((x for x in doc['qubes'] if x['name'] == q['name']), None)
        if mine is None:
            continue
        if sorted(q['tags'], key=str) != sorted(mine.get('tags', []), key=str):
            problems.append('YAML: tags of %s differ: %r vs %r' % (q['name'], q['tags'], mine['tags']))
    back_checks = [c for q in back['qubes'] for c in q['checks']]
    problems += check_values(back_checks, {k: v for k, v in expected.items() if k in JSON_FIELDS},
                             'YAML (yaml-cpp)')
    return problems


def json_problems(path, expected):
    try:
        with open(path, 'rb') as f:
            doc = json.loads(f.read().decode('utf-8', 'strict'))
    except Exception as e:  # noqa: BLE001
        return ['JSON: not readable: %s' % str(e)[:300]]
    checks = [c for q in doc['qubes'] for c in q['checks']]
    return check_values(checks, {k: v for k, v in expected.items() if k in JSON_FIELDS}, 'JSON')


def baseline(work, env):
    """The elements the report makes itself: the same file path with plain words."""
    global ALLOWED_TAGS
    os.makedirs(os.path.join(work, 'base'))
    problems = path_b('baseline', b'plain words', os.path.join(work, 'base'), env)
    p, _ = render_markdown(os.path.join(work, 'base', 'b.md'))
    ALLOWED_TAGS = set(p.tags) | {'table', 'thead', 'tbody', 'tr', 'th', 'td', 'pre', 'code', 'p'}
    for bad in ('img', 'script'):
        assert bad not in ALLOWED_TAGS, 'the report itself makes <%s>' % bad
    # The report's only link is the picture exported with it (its first picture, the SVG).
    assert p.hrefs == [PICTURE], 'the report links %r, not the picture %s' % (p.hrefs, PICTURE)
    return problems


def path_a(name, text, work, env):
    """From a qube: the text is the name of the chain holding the kill-switch rule. Text the
    ruleset reader refuses (bad UTF-8, past its size cap) gives a "cannot tell" verdict, which the
    report must show in its table just the same."""
    scenario = test_terminal.hostile_scenario(os.path.join(work, 'scenario'),
                                              text.decode('utf-8', 'surrogateescape'))
    env = dict(env, PATH='/usr/bin:/bin', NETMAP_FAKE_QVM=scenario + ':' + os.path.join(FAKE, 'seed'),
               NETMAP_FAKE_STATE=os.path.join(work, 'state'))
    out = {s: os.path.join(work, 'a.' + s) for s in ('md', 'json', 'yaml')}
    args = ['--verify=sys-vpn', '--checks', 'kill-switch']
    for path in out.values():
        args += ['--export', path]
    _, _, problems = test_terminal.terminal_problems(test_terminal.live_args(work, args), env, work)
    problems = ['terminal: ' + p for p in problems]
    problems += markdown_problems(out['md'], 1)
    with open(out['json'], 'rb') as f:
        doc = json.loads(f.read().decode('utf-8'))
    check = next(c for q in doc['qubes'] if q['name'] == 'sys-vpn'
                 for c in q['checks'] if c['check'] == 'kill-switch')
    problems += yaml_roundtrip_problems(out['yaml'], work, env, {'reason': check['reason']})
    return problems


def path_b(name, text, work, env):
    """From a file: the text in the snapshot's source detail and a check's free-text fields."""
    import yaml
    value = text.decode('utf-8', 'replace')
    with open(os.path.join(FAKE, 'seed.yaml'), 'rb') as f:
        doc = yaml.safe_load(f)
    doc['source_detail'] = value[:4096]
    check = {'qube': 'work', 'check': 'external-ip', 'status': 'pass', 'observed': value,
             'expected': value, 'reason': value, 'external_ip': '203.0.113.7',
             'external_ip6': '2001:db8:7:1::5', 'command': value, 'exit_code': 0, 'output': value,
             'started': '2026-12-01T10:00:00.000Z', 'finished': '2026-12-01T10:00:01.000Z',
             'path': ['work', 'sys-firewall', 'sys-net']}
    doc['checks'] = [check]
    # Names and tags that YAML readers like to turn into booleans, null and numbers.
    for special in ('yes', 'on', 'null', 'y'):
        doc['qubes'].append({'name': special, 'class': 'AppVM', 'state': 'Halted', 'label': 'red',
                             'template': None, 'netvm': None, 'default_dispvm': None,
                             'provides_network': False, 'ip': '', 'visible_ip': '', 'gateway': '',
                             'visible_gateway': '', 'tags': ['no', 'off', 'true', 'nan']})
    # IPv6 fields (a lone colon group could read as a number or a time in YAML 1.1).
    work_qube = next(q for q in doc['qubes'] if q['name'] == 'work')
    work_qube.update({'ip6': 'fd09:24ef:4179::a89:f', 'visible_ip6': 'fd09:24ef:4179::a89:f'})
    src = os.path.join(work, 'b-in.yaml')
    text = yaml.safe_dump(doc, allow_unicode=False, sort_keys=False, width=1 << 30)
    # PyYAML writes U+0085 and U+00A0 as \N and \_, which yaml-cpp decodes to a lone byte (not
    # UTF-8): the input file spells them \x85 and \xa0 instead, as the program's own export does.
    text = re.sub(r'\\(.)', lambda m: {'N': '\\x85', '_': '\\xa0'}.get(m.group(1), m.group(0)), text)
    with open(src, 'w', encoding='utf-8') as f:
        f.write(text)
    out = {s: os.path.join(work, 'b.' + s) for s in ('svg', 'png', 'md', 'json', 'yaml')}
    args = ['--snapshot', src]
    for path in out.values():
        args += ['--export', path]
    r = run(args, env)
    if r.returncode not in (0, 1):
        return ['the program refused the snapshot: %s' % r.stderr.decode('utf-8', 'replace')[:400]]
    problems = xml_problems(out['svg'])
    with open(out['png'], 'rb') as f:
        if f.read(8) != b'\x89PNG\r\n\x1a\n':
            problems.append('PNG: not a PNG')
    problems += markdown_problems(out['md'], 1, pictures=(PICTURE,))
    expected = {k: repaired(value) for k in ('observed', 'expected', 'reason', 'command', 'output')}
    problems += json_problems(out['json'], expected)
    problems += yaml_roundtrip_problems(out['yaml'], work, env, expected)
    problems += ipv6_problems(out['json'], out['yaml'])
    return problems


def ipv6_problems(json_path, yaml_path):
    """The IPv6 fields come back as written in the JSON and, through PyYAML, in the YAML."""
    problems = []
    with open(json_path, 'rb') as f:
        work = next(q for q in json.loads(f.read().decode('utf-8'))['qubes'] if q['name'] == 'work')
    if (work.get('ip6'), work.get('external_ip6'), work.get('ipv6')) != \
            ('fd09:24ef:4179::a89:f', '2001:db8:7:1::5', True):
        problems.append('JSON: IPv6 fields of work: %r' % ({k: work.get(k) for k in (
            'ip6', 'external_ip6', 'ipv6')},))
    doc = load_yaml(yaml_path)
    mine = next(q for q in doc['qubes'] if q['name'] == 'work')
    if (mine.get('ip6'), mine.get('visible_ip6')) != ('fd09:24ef:4179::a89:f',) * 2:
        problems.append('YAML (PyYAML): ip6 of work reads as %r' % (mine.get('ip6'),))
    if not any(c.get('external_ip6') == '2001:db8:7:1::5' for c in doc.get('checks', [])):
        problems.append('YAML (PyYAML): external_ip6 did not come back')
    return problems


def main():
    missing = [t for t in ('tmux', 'xmllint', 'cmark-gfm') if not shutil.which(t)]
    try:
        import yaml  # noqa: F401
    except ImportError:
        missing.append('python3-yaml')
    if missing:
        print('SKIP: missing %s' % ', '.join(missing))
        return 77
    only = sys.argv[2:]  # row names, for a quick run of a few
    work = tempfile.mkdtemp(prefix='netmap-sinks.')
    env = {'PATH': '/usr/bin:/bin', 'QT_QPA_PLATFORM': 'offscreen', 'HOME': work,
           'LANG': 'C.UTF-8', 'TERM': 'xterm-256color'}
    try:
        return run_rows(work, env, only)
    except test_terminal.Skip as e:
        print('SKIP: %s' % str(e).strip()[:300])
        return 77
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_rows(work, env, only):
    failed = 0
    problems = baseline(work, env)
    if problems:
        failed += 1
        print('FAIL plain words (file):\n  %s' % '\n  '.join(problems))
    for name, text in CORPUS:
        if only and name not in only:
            continue
        for label, fn in (('qube', path_a), ('file', path_b)):
            row_dir = os.path.join(work, 'row')
            shutil.rmtree(row_dir, ignore_errors=True)
            os.makedirs(row_dir)
            problems = fn(name, text, row_dir, env)
            if problems:
                failed += 1
                print('FAIL %s (%s):\n  %s' % (name, label, '\n  '.join(problems)))
            else:
                print('ok   %s (%s)' % (name, label))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
