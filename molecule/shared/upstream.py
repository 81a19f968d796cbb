#!/usr/bin/env python
"""A stand-in for the public package index, served from the controller to the lab: the lab has no internet.

    upstream.py build WHEELS TREE            make a PEP 503 tree (TREE/simple/...) of the files in WHEELS
    upstream.py start TREE ADDRESS PORT PIDFILE   serve TREE on ADDRESS:PORT in the background
    upstream.py stop PIDFILE                 stop the server started with that PID file
    upstream.py silent ADDRESS PORT PIDFILE  in the background, accept connections on ADDRESS:PORT and never answer
    upstream.py wheel DIR NAME VERSION [MIB] write a pure-Python wheel NAME==VERSION into DIR (MIB: random data)

Standard library only.
"""

import hashlib
import html
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time


def normalize(name):
    return re.sub(r'[-_.]+', '-', name).lower()


def build(wheels, tree):
    files = os.path.join(tree, 'files')
    os.makedirs(files, exist_ok=True)
    projects = {}
    # A scenario whose upstream holds nothing has no wheel directory.
    for name in sorted(os.listdir(wheels) if os.path.isdir(wheels) else []):
        if not name.endswith(('.whl', '.tar.gz', '.zip')):
            continue
        shutil.copyfile(os.path.join(wheels, name), os.path.join(files, name))
        with open(os.path.join(files, name), 'rb') as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        projects.setdefault(normalize(name.split('-')[0]), []).append((name, digest))
    simple = os.path.join(tree, 'simple')
    os.makedirs(simple, exist_ok=True)
    for project, entries in projects.items():
        os.makedirs(os.path.join(simple, project), exist_ok=True)
        links = ''.join('<a href="../../files/%s#sha256=%s">%s</a><br>\n' % (html.escape(n), d, html.escape(n))
                        for n, d in entries)
        with open(os.path.join(simple, project, 'index.html'), 'w') as f:
            f.write('<!DOCTYPE html>\n<html><body>\n%s</body></html>\n' % links)
    with open(os.path.join(simple, 'index.html'), 'w') as f:
        f.write('<!DOCTYPE html>\n<html><body>\n%s</body></html>\n'
                % ''.join('<a href="%s/">%s</a><br>\n' % (p, p) for p in sorted(projects)))


def is_ours(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            cmdline = f.read()
        return b'http.server' in cmdline or b'upstream.py\0listen-silently' in cmdline
    except OSError:
        return False


def start(tree, address, port, pidfile):
    background([sys.executable, '-m', 'http.server', '--bind', address, '--directory', tree, port], pidfile)


def silent(address, port, pidfile):
    background([sys.executable, os.path.abspath(__file__), 'listen-silently', address, port], pidfile)


def listen_silently(address, port):
    """An upstream that takes the connection and never answers: a firewall that drops, a hung proxy."""
    listener = socket.create_server((address, int(port)))
    held = []
    while True:
        held.append(listener.accept()[0])


def background(argv, pidfile):
    log = open(pidfile + '.log', 'ab')
    proc = subprocess.Popen(argv,
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    time.sleep(0.5)
    if proc.poll() is not None:
        raise SystemExit('upstream: the server exited at once; see %s.log' % pidfile)
    with open(pidfile, 'w') as f:
        f.write('%d\n' % proc.pid)


def stop(pidfile):
    if not os.path.exists(pidfile):
        return
    with open(pidfile) as f:
        pid = int(f.read())
    if is_ours(pid):
        os.kill(pid, signal.SIGTERM)
    os.remove(pidfile)


def wheel(directory, name, version, mebibytes=None):
    # tests/lib is on PYTHONPATH (the prepare playbooks set it); only this command needs it.
    from devpitest import make_wheel  # pylint: disable=import-outside-toplevel,import-error
    os.makedirs(directory, exist_ok=True)
    blob = os.urandom(int(mebibytes) * 1048576) if mebibytes else None
    print(make_wheel(directory, name, version, payload=('%s %s' % (name, version)).encode(), blob=blob))


def main(argv):
    # Each command with the numbers of arguments it takes.
    commands = {'build': (build, (2,)), 'start': (start, (4,)), 'stop': (stop, (1,)), 'wheel': (wheel, (3, 4)),
                'silent': (silent, (3,)), 'listen-silently': (listen_silently, (2,))}
    if len(argv) < 2 or argv[1] not in commands or len(argv) - 2 not in commands[argv[1]][1]:
        raise SystemExit(__doc__)
    commands[argv[1]][0](*argv[2:])


if __name__ == '__main__':
    main(sys.argv)
