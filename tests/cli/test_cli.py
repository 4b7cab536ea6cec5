#!/usr/bin/env python3
"""Command-line contract of qubes-netmap (docs/ARCHITECTURE.md §5), run as a user would.

    test_cli.py QUBES_NETMAP [--release 4.3|4.2] [unittest options]

The tests that read the system run the real qvm-ls and qubes-prefs of that release of the
Qubes admin client against the qubesd stand-in (tests/qubes/README.md) serving qubes43.json;
without the client the whole file is skipped (exit 77; a failure under CI=true).
"""
import json, os, re, shutil, subprocess, sys, tempfile, unittest

BIN = sys.argv.pop(1)
RELEASE = '4.3'
if '--release' in sys.argv:
    _i = sys.argv.index('--release')
    RELEASE = sys.argv[_i + 1]
    del sys.argv[_i:_i + 2]
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, '..', 'data')
sys.path.insert(0, os.path.join(HERE, '..', 'qubes'))
sys.dont_write_bytecode = True
import harness  # noqa: E402

CLIENT = harness.client_or_exit(RELEASE)
QUBES = None  # the stand-in with the real tools, started once for the module


def setUpModule():
    global QUBES
    QUBES = harness.StandIn(CLIENT, os.path.join(HERE, 'qubes43.json')).__enter__()


def tearDownModule():
    QUBES.__exit__(None, None, None)


def read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def run(*args, env_extra=None, path=None):
    env = {k: v for k, v in os.environ.items() if k not in ('DISPLAY', 'WAYLAND_DISPLAY')}
    env['PATH'] = path if path is not None else str(QUBES.bindir) + ':/usr/bin:/bin'
    for k, v in (env_extra or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return subprocess.run([BIN, *args], capture_output=True, text=True, env=env, timeout=120)


class Cli(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def out(self, name):
        return os.path.join(self.dir, name)

    def test_help_lists_every_option(self):
        r = run('--help')
        self.assertEqual(r.returncode, 0)
        for option in ('--demo', '--snapshot', '--export', '--help', '--version'):
            self.assertIn(option, r.stdout)
        self.assertIn('Exit codes', r.stdout)

    def test_demo_json(self):
        r = run('--demo', '--export', self.out('demo.json'))
        self.assertEqual(r.returncode, 0, r.stderr)  # the demo breaks no expectation
        doc = json.loads(read(self.out('demo.json')))
        self.assertEqual(doc['schema'], 'qubes-netmap/1')
        self.assertEqual(doc['source'], 'demo')
        ips = {l['external_ip'] for l in doc['links'] if l['external_ip']}
        colours = {l['colour'] for l in doc['links'] if l['external_ip']}
        self.assertEqual(len(ips), 3, ips)
        self.assertEqual(len(colours), 3, colours)
        kinds = {e['kind'] for e in doc['exits']}
        self.assertEqual(kinds, {'clearnet', 'vpn', 'tor'})
        work = next(q for q in doc['qubes'] if q['name'] == 'work')
        self.assertEqual(work['egress'], ['work', 'sys-firewall', 'sys-net'])
        self.assertTrue(work['checks'])

    def test_live_qvm_ls_reflected_exactly(self):
        r = run('--export', self.out('live.json'))
        self.assertEqual(r.returncode, 0, r.stderr)  # no check ran; nothing in the fixture is broken
        doc = json.loads(read(self.out('live.json')))
        self.assertEqual(doc['source'], 'qvm-ls')
        names = [q['name'] for q in doc['qubes']]
        self.assertEqual(names, sorted(['anon-whonix', 'default-dvm', 'dom0', 'fedora-41-xfce', 'sys-firewall',
                                        'sys-net', 'sys-vpn-tor', 'sys-whonix', 'vault', 'whonix-gateway-18',
                                        'whonix-workstation-18', 'work.web', 'work-vpn']))
        q = {x['name']: x for x in doc['qubes']}
        self.assertEqual(q['sys-net']['class'], 'DispVM')
        self.assertEqual(q['sys-net']['ip'], '10.138.31.7')
        self.assertIsNone(q['sys-net']['netvm'])
        self.assertTrue(q['sys-firewall']['provides_network'])
        self.assertEqual(q['work-vpn']['egress'], ['work-vpn', 'sys-vpn-tor', 'sys-whonix', 'sys-firewall', 'sys-net'])
        self.assertEqual(q['work-vpn']['state'], 'Paused')
        self.assertIsNone(q['dom0']['netvm'])
        self.assertIsNone(q['dom0']['ip'])
        self.assertEqual(q['anon-whonix']['tags'], ['anon-vm'])
        self.assertEqual(q['vault']['egress'], ['vault'])
        self.assertEqual(doc['globals']['default_netvm'], 'sys-firewall')
        # The real qvm-ls prints nothing the program has to reject, and the program asked the
        # stand-in nothing it does not implement.
        self.assertEqual(doc['rejected'], [])
        self.assertNotIn('qubes-netmap: warning:', r.stderr)
        self.assertNotIn('UNIMPLEMENTED', QUBES.log_text())

    def test_qvm_ls_missing(self):
        r = run('--export', self.out('x.json'), path='/nonexistent')
        self.assertEqual(r.returncode, 3)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn('qvm-ls', r.stderr)
        self.assertFalse(os.path.exists(self.out('x.json')))

    def test_qvm_ls_fails(self):
        # The real qvm-ls with no qubesd to answer it (exit 1, an error on stderr).
        bindir = os.path.join(self.dir, 'bin')
        harness.write_launchers(bindir, CLIENT, os.path.join(self.dir, 'no-qubesd.sock'),
                                'fixture', os.path.join(HERE, '..', 'qubes', 'fixture_shell.sh'))
        r = run('--export', self.out('x.json'), path=bindir + ':/usr/bin:/bin')
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn('qvm-ls', r.stderr)
        self.assertFalse(os.path.exists(self.out('x.json')))

    def test_broken_snapshot(self):
        bad = os.path.join(DATA, 'snapshots', 'bad-ip.yaml')
        r = run('--snapshot', bad, '--export', self.out('x.json'))
        self.assertEqual(r.returncode, 2)
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn(bad + ':8:9:', lines[0])
        self.assertFalse(os.path.exists(self.out('x.json')))

    def test_snapshot_round_trip(self):
        r = run('--demo', '--export', self.out('a.yaml'), '--export', self.out('a.json'))
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run('--snapshot', self.out('a.yaml'), '--export', self.out('b.yaml'), '--export', self.out('b.json'))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(read(self.out('a.yaml')), read(self.out('b.yaml')))
        self.assertEqual(json.loads(read(self.out('a.json')))['links'], json.loads(read(self.out('b.json')))['links'])

    def test_same_picture_same_bytes(self):
        # The SVG of one network is the same bytes whatever order Qt's hashes iterate in (each
        # process draws its own hash seed): a diff of two exports means a change. Six runs: an
        # order taken from a hash differs between some two of them almost always.
        svgs = set()
        for n in range(6):
            out = self.out('run%d.svg' % n)
            r = run('--demo', '--export', out, env_extra={'QT_HASH_SEED': None})
            self.assertEqual(r.returncode, 0, r.stderr)
            # The export time is the only thing that may differ (in the legend and the desc).
            svg = re.sub(r'Exported: [0-9: -]+ UTC', 'Exported: -', read(out))
            svgs.add(re.sub(r'exported [0-9T:-]+Z', 'exported -', svg))
        self.assertEqual(len(svgs), 1)

    def test_redact_covers_every_output(self):
        # A snapshot with public addresses: the demo's exits moved to real-looking ones.
        r = run('--demo', '--export', self.out('demo.yaml'), '--export', self.out('demo.json'))
        self.assertEqual(r.returncode, 0, r.stderr)
        demo = json.loads(read(self.out('demo.json')))
        public = {}
        for n, e in enumerate(sorted({e['ip'] for e in demo['exits'] if ':' not in e['ip']})):
            public[e] = '93.184.%d.%d' % (216 + n, 34 + n)
        text = read(self.out('demo.yaml'))
        for old, new in public.items():
            text = re.sub(r'(?<![0-9.])' + re.escape(old) + r'(?![0-9])', new, text)
        with open(self.out('shared.yaml'), 'w', encoding='utf-8') as f:
            f.write(text)
        names = [q['name'] for q in demo['qubes'] if q['name'] != 'dom0']
        outputs = ['r.svg', 'r.png', 'r.json', 'r.md', 'r.yaml']
        r = run('--snapshot', self.out('shared.yaml'), '--redact=ips,names',
                *sum((['--export', self.out(o)] for o in outputs), []))
        self.assertEqual(r.returncode, 0, r.stderr)
        for o in outputs:
            self.assertTrue(os.path.getsize(self.out(o)) > 0, o)
        with open(self.out('r.png'), 'rb') as f:
            self.assertEqual(f.read(8), b'\x89PNG\r\n\x1a\n')
        # Grep every output: no original public address, no original name as a word.
        for o in outputs:
            with open(self.out(o), 'rb') as f:
                data = f.read()
            for ip in public.values():
                self.assertNotIn(ip.encode(), data, o)
            if o.endswith('.png'):
                continue  # a picture: its text is the SVG's (same picture), checked there
            body = data.decode('utf-8')
            for name in names:
                hits = re.findall(r'(?<![A-Za-z0-9_.-])' + re.escape(name) + r'(?![A-Za-z0-9_-])', body)
                self.assertEqual(hits, [], (o, name))
        self.assertNotIn(str(self.dir), read(self.out('r.json')))  # the snapshot's path
        # One mapping for every output: each qube's exit in the JSON is the one the Markdown
        # summary, the SVG and the YAML give it.
        doc = json.loads(read(self.out('r.json')))
        md = read(self.out('r.md'))
        svg = read(self.out('r.svg'))
        snap = read(self.out('r.yaml'))
        exits = {q['name']: q['external_ip'] for q in doc['qubes'] if q['external_ip']}
        self.assertEqual(len(set(exits.values())), len(public), exits)
        for qube, ip in exits.items():
            self.assertTrue(re.match(r'^(192\.0\.2|198\.51\.100|203\.0\.113)\.\d+$', ip), ip)
            self.assertRegex(md, r'\| %s \| [^\n]*\| %s' % (re.escape(qube), re.escape(ip)))
            self.assertIn('data-exit="%s"' % ip, svg)
            self.assertIn(ip, snap)
        # Loaded back, the redacted snapshot is a snapshot like any other.
        r = run('--snapshot', self.out('r.yaml'), '--export', self.out('again.json'))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(read(self.out('again.json')))['links'], doc['links'])
        # The Markdown stays Markdown: cmark-gfm reads it with its tables.
        if shutil.which('cmark-gfm'):
            html = subprocess.run(['cmark-gfm', '-e', 'autolink', '-e', 'table', self.out('r.md')],
                                  capture_output=True, text=True, timeout=60)
            self.assertEqual(html.returncode, 0)
            self.assertIn('<table>', html.stdout)
            for ip in exits.values():
                self.assertIn(ip, html.stdout)

    def test_redact_usage(self):
        for args in (['--demo', '--redact'], ['--demo', '--redact=macs', '--export', 'x.json']):
            r = run(*args)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn('--redact', r.stderr)

    def test_usage_errors(self):
        for args in (['--demo', '--snapshot', 'x.yaml'], ['--export', 'x.txt'], ['--bogus'], ['stray']):
            r = run(*args)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)

    def test_unwritable_output(self):
        r = run('--demo', '--export', '/nonexistent/dir/x.json')
        self.assertEqual(r.returncode, 2)
        self.assertIn('/nonexistent/dir/x.json', r.stderr)

    def test_every_export_attempted(self):
        # One unwritable output does not stop the others; each failure is named, exit 2.
        r = run('--demo', '--export', '/nonexistent/dir/x.json', '--export', self.out('a.json'),
                '--export', '/nonexistent/dir/y.md', '--export', self.out('b.md'))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn('/nonexistent/dir/x.json', r.stderr)
        self.assertIn('/nonexistent/dir/y.md', r.stderr)
        self.assertIn('2 of 4 export(s)', r.stderr)
        self.assertTrue(os.path.exists(self.out('a.json')))
        self.assertTrue(os.path.exists(self.out('b.md')))

    def test_verify_needs_the_live_system(self):
        # Checks on the demo or a snapshot would run in local qubes that share a name.
        snap = os.path.join(DATA, 'scripted-qubes', 'seed.yaml')
        for args in (['--demo', '--verify'], ['--snapshot', snap, '--verify=work'],
                     ['--demo', '--verify', '--export', self.out('x.json')]):
            r = run(*args)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            lines = r.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, r.stderr)
            self.assertIn('live system', lines[0])
            self.assertFalse(os.path.exists(self.out('x.json')))

    def test_snapshot_limits_in_help_and_enforced(self):
        # The qube cap is stated in --help, and a snapshot over it is refused with exit 2.
        r = run('--help')
        cap = int(r.stdout.split('(at most ')[1].split()[0])
        self.assertGreaterEqual(cap, 1000)
        with open(self.out('big.yaml'), 'w') as f:
            f.write('schema: qubes-netmap-snapshot/1\nsource: snapshot\nqubes:\n')
            for i in range(cap + 1):
                f.write('  - {name: q%d, class: AppVM, state: Halted}\n' % i)
        r = run('--snapshot', self.out('big.yaml'), '--export', self.out('x.svg'))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn('more than %d qubes' % cap, r.stderr)
        self.assertFalse(os.path.exists(self.out('x.svg')))
        # Anchors and aliases: refused with the position, exit 2.
        with open(self.out('alias.yaml'), 'w') as f:
            f.write('schema: qubes-netmap-snapshot/1\nsource: &s snapshot\nqubes: []\n')
        r = run('--snapshot', self.out('alias.yaml'), '--export', self.out('x.json'))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(self.out('alias.yaml') + ':2:', r.stderr)
        self.assertIn('anchors', r.stderr)
        # A newer snapshot format: refused naming both numbers, exit 2; an older one is read.
        with open(self.out('newer.yaml'), 'w') as f:
            f.write('schema: qubes-netmap-snapshot/99\nsource: snapshot\nqubes: []\nnew_key: 1\n')
        r = run('--snapshot', self.out('newer.yaml'), '--export', self.out('x.json'))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(self.out('newer.yaml') + ':1:9: snapshot format 99 is newer than this program'
                      ' reads (2)', r.stderr)
        self.assertFalse(os.path.exists(self.out('x.json')))
        r = run('--snapshot', os.path.join(DATA, 'snapshots', 'format-1.yaml'),
                '--export', self.out('old.json'))
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(self.out('old.json'), encoding='utf-8') as f:
            self.assertEqual(json.load(f)['schema'], 'qubes-netmap/1')


if __name__ == '__main__':
    unittest.main(verbosity=2)
