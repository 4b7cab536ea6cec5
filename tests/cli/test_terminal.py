#!/usr/bin/env python3
"""What a qube prints never drives the terminal: the CLI runs in a real terminal (tmux) against a
fake qube whose nft rule comment carries escape sequences (a new window title, lines erased, a
forged PASS line, the alternate screen, bidi overrides, C1 controls); the screen must show
exactly the lines the program meant, and the window title must not change.

Protection: untrustedtext::terminalLine() in printInfo()/printError() (app/cli.cpp).
Exit 77 (skipped) without tmux."""
import os, shutil, subprocess, sys, tempfile, time

BIN = os.path.abspath(sys.argv[1]) if __name__ == '__main__' else None
HERE = os.path.dirname(os.path.abspath(__file__))
FAKE = os.path.join(HERE, '..', 'data', 'fake-qvm-run')
SOCKET = 'netmap-terminal-%d' % os.getpid()


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
        f.write(' '.join("'%s'" % a for a in args) + ' 2>&1\n')
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


def terminal_problems(args, env, work):
    """The run's screen against the lines the program meant (its stderr when that is not a
    terminal); a list of problems, empty when the terminal showed exactly what was meant."""
    plain = subprocess.run(args, capture_output=True, env=env, timeout=120)
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
            'PATH': FAKE + ':/usr/bin:/bin',
            'NETMAP_FAKE_QVM': os.path.join(FAKE, 'hostile-terminal') + ':' + os.path.join(FAKE, 'seed'),
            'NETMAP_FAKE_STATE': os.path.join(work, 'state'),
            'QT_QPA_PLATFORM': 'offscreen',
            'HOME': work,
            'LANG': 'C.UTF-8',
            'TERM': 'xterm-256color',
        }
        args = [BIN, '--snapshot', os.path.join(FAKE, 'seed.yaml'), '--verify=sys-vpn,work-vpn',
                '--checks', 'kill-switch,external-ip', '--export', os.path.join(work, 'map.json')]
        meant, shown, problems = terminal_problems(args, env, work)
        if not any(l.startswith('PASS sys-vpn kill-switch') for l in meant):
            problems.append('the kill-switch verdict of sys-vpn is missing:\n' + '\n'.join(meant))
        forged = [l for l in shown if 'forged' in l and not l.startswith('PASS sys-vpn kill-switch: ')]
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
