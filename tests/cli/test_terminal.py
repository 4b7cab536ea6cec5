#!/usr/bin/env python3
"""Hostile text never drives the terminal: the CLI runs in a real terminal (tmux) on the live
system (the real Qubes client against the qubesd stand-in, the fake qube shell playing each qube)
and the screen must show exactly the lines the program meant, the window title unchanged. The
text carries escape sequences (a new window title, lines erased, a forged PASS line, the
alternate screen, bidi overrides, C1 controls) and comes in two ways:
  - from a qube: it is the name of the nft chain holding sys-vpn's kill-switch rule (in the
    `nft -j list ruleset` answer), so it is quoted in the kill-switch verdict;
  - from a file name: it is in the name of an export, which the CLI quotes as it was given in
    its "wrote" line. The verdict quotes a qube's names reduced to printable ASCII already, so
    this is the line that shows the CLI's own protection.

Protection: untrustedtext::terminalLine() in printInfo()/printError() (app/cli.cpp), and the
verdict's own reduction of a qube's names (core/checks/rulesetproof.cpp).
Exit 77 (skipped) without tmux, or without python3-yaml or the Qubes client (with_standin.py)."""
import json, os, shutil, subprocess, sys, tempfile, time

BIN = os.path.abspath(sys.argv[1]) if __name__ == '__main__' else None
HERE = os.path.dirname(os.path.abspath(__file__))
FAKE = os.path.join(HERE, '..', 'data', 'scripted-qubes')
SOCKET = 'netmap-terminal-%d' % os.getpid()
WITH_STANDIN = os.path.join(HERE, '..', 'qubes', 'with_standin.py')

HOSTILE = ('\x1b]0;owned by sys-vpn\x07\x1b]2;owned\x1b\\\x1b[1A\x1b[2K\x1b[1A\x1b[2K'
           'PASS sys-vpn kill-switch: forged\x1b[31m red \x1b[0m\u202e reversed \u202c\u009b2J '
           '\x1b[?1049h\x1b[?25l end')


def hostile_scenario(folder, text):
    """A scenario folder (NETMAP_FAKE_QVM) whose sys-vpn answers `nft -j list ruleset` with the
    seed's ruleset, the chain holding the kill-switch drop rule (custom-forward) renamed to text."""
    with open(os.path.join(FAKE, 'seed', 'sys-vpn', 'nft.json'), 'rb') as f:
        doc = json.loads(f.read().decode('utf-8'))
    renamed = 0
    for item in doc['nftables']:
        for kind in ('chain', 'rule'):
            o = item.get(kind)
            if o is None:
                continue
            if kind == 'chain' and o['name'] == 'custom-forward':
                o['name'] = text
                renamed += 1
            if kind == 'rule' and o['chain'] == 'custom-forward':
                o['chain'] = text
                renamed += 1
            for e in o.get('expr', []):
                if e.get('jump', {}).get('target') == 'custom-forward':
                    e['jump']['target'] = text
                    renamed += 1
    assert renamed == 3, 'the seed ruleset no longer has one custom-forward chain, rule and jump'
    os.makedirs(os.path.join(folder, 'sys-vpn'), exist_ok=True)
    with open(os.path.join(folder, 'sys-vpn', 'nft.json'), 'wb') as f:
        # Raw UTF-8 where JSON allows it (bidi, C1, separators); control characters as \u escapes.
        f.write(json.dumps(doc, ensure_ascii=False).encode('utf-8', 'surrogateescape'))
    return folder


def live_args(work, args):
    """args run on the live system served from the seed (as tests/data/scripted-qubes/acceptance.sh
    does)."""
    return [sys.executable, WITH_STANDIN, '--release', '4.3', '--snapshot',
            os.path.join(FAKE, 'seed.yaml'), '--fixture', os.path.join(FAKE, 'qube-shell'), '--log',
            os.path.join(work, 'qubesd.log'), '--', BIN_OF(), *args]


def BIN_OF():
    return BIN if BIN else os.path.abspath(sys.argv[1])


def tmux(*args, check=True):
    return subprocess.run(['tmux', '-L', SOCKET, '-f', '/dev/null', *args], capture_output=True,
                          text=True, check=check)


def screen_of(args, env, work):
    """Runs args in a fresh tmux terminal; returns (screen lines, title before, title after,
    alternate screen on). The window title starts as a known value."""
    done = os.path.join(work, 'done')
    if os.path.exists(done):
        os.unlink(done)
    script = os.path.join(work, 'run.sh')
    with open(script, 'w') as f:
        f.write('#!/bin/sh\n')
        for k, v in env.items():
            f.write("export %s='%s'\n" % (k, v))
        f.write(' '.join("'%s'" % a for a in args) + ' 2>&1\n')  # no argument holds a quote
        f.write('echo "rc=$?" > %s\nexec sleep 600\n' % done)
    os.chmod(script, 0o755)
    try:
        tmux('new-session', '-d', '-s', 'netmap', '-x', '250', '-y', '60', script)
        tmux('set-option', '-t', 'netmap', 'history-limit', '5000')
        tmux('select-pane', '-t', 'netmap', '-T', 'netmap-title')
        title_before = tmux('display-message', '-p', '-t', 'netmap', '#{pane_title}').stdout.strip()
        deadline = time.time() + 120
        while not os.path.exists(done) and time.time() < deadline:
            time.sleep(0.2)
        if not os.path.exists(done):
            raise RuntimeError('the program did not finish in the terminal')
        time.sleep(0.3)
        pane = tmux('capture-pane', '-p', '-J', '-S', '-', '-t', 'netmap').stdout
        title = tmux('display-message', '-p', '-t', 'netmap', '#{pane_title}').stdout.strip()
        alternate = tmux('display-message', '-p', '-t', 'netmap', '#{alternate_on}').stdout.strip()
    finally:
        tmux('kill-server', check=False)
    shown = [l.rstrip() for l in pane.splitlines()]
    while shown and not shown[-1]:
        shown.pop()
    return shown, title_before, title, alternate not in ('', '0')


class Skip(Exception):
    """The live system cannot be served here (no Qubes client or no PyYAML)."""


def terminal_problems(args, env, work):
    """The run's screen against the lines the program meant (its stderr when that is not a
    terminal); a list of problems, empty when the terminal showed exactly what was meant."""
    plain = subprocess.run(args, capture_output=True, env=env, timeout=120)
    if plain.returncode == 77:
        raise Skip(plain.stdout.decode('utf-8', 'replace') + plain.stderr.decode('utf-8', 'replace'))
    meant = [l.rstrip() for l in plain.stderr.decode('utf-8', 'replace').splitlines()]
    problems = []
    for line in meant:
        if any(ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f for c in line):
            problems.append('a printed line carries control characters: %r' % line[:300])
    shown, title_before, title, alternate = screen_of(args, env, work)
    if shown != meant:
        problems.append('the screen differs from the lines the program meant\n--- meant\n%s\n--- screen\n%s'
                        % ('\n'.join(l[:300] for l in meant), '\n'.join(l[:300] for l in shown)))
    if title != title_before:
        problems.append('the window title changed: %r -> %r' % (title_before, title))
    if alternate:
        problems.append('the terminal was switched to the alternate screen')
    return meant, shown, problems


def main():
    if not shutil.which('tmux'):
        print('SKIP: tmux is not installed')
        return 77
    work = tempfile.mkdtemp(prefix='netmap-terminal.')
    try:
        env = {
            'PATH': '/usr/bin:/bin',
            'NETMAP_FAKE_QVM': hostile_scenario(os.path.join(work, 'scenario'), HOSTILE) + ':'
            + os.path.join(FAKE, 'seed'),
            'NETMAP_FAKE_STATE': os.path.join(work, 'state'),
            'QT_QPA_PLATFORM': 'offscreen',
            'HOME': work,
            'LANG': 'C.UTF-8',
            'TERM': 'xterm-256color',
        }
        # The file name holds the hostile text too (a file name cannot hold '/' or NUL).
        export = os.path.join(work, 'map' + HOSTILE + '.json')
        args = live_args(work, ['--verify=sys-vpn,work-vpn', '--checks', 'kill-switch,external-ip',
                                '--export', export])
        try:
            meant, shown, problems = terminal_problems(args, env, work)
        except Skip as e:
            print('SKIP: %s' % str(e).strip()[:300])
            return 77
        verdict = [l for l in meant if l.startswith('PASS sys-vpn kill-switch: ')]
        if not verdict:
            problems.append('the kill-switch verdict of sys-vpn is missing:\n' + '\n'.join(meant))
        elif 'owned by sys-vpn' not in verdict[0]:
            problems.append('the verdict no longer quotes the chain name, so the qube\'s text does '
                            'not reach the terminal: %r' % verdict[0][:300])
        if not any(l.startswith('wrote ') and 'kill-switch: forged' in l for l in meant):
            problems.append('the "wrote" line with the hostile file name is missing')
        forged = [l for l in shown if l.startswith('PASS sys-vpn kill-switch: forged')]
        if forged:
            problems.append('a forged line stands on its own: %r' % forged)
        if problems:
            print('FAIL: ' + '\n'.join(problems))
            return 1
        print('ok: %d lines on the screen, exactly as meant' % len(shown))
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
