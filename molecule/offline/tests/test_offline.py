"""Cache, then offline, in the order an administrator lives it: the node installs through the chain
while the upstream is there; the upstream goes away; offline mode keeps what was cached; back online
is one variable. The tests run in file order and each leaves the state the next one starts from."""

import json
import os
import subprocess
import sys
import time

import pytest

from playbook_run import INVENTORY, REPO, flat, run_playbook

testinfra_hosts = ['ansible://node1']
EPHEMERAL = os.environ.get('MOLECULE_EPHEMERAL_DIRECTORY', '')
UPSTREAM = [sys.executable, os.path.join(REPO, 'molecule', 'shared', 'upstream.py')]
PIDFILE = os.path.join(EPHEMERAL, 'upstream.pid')
CONFIG = '/etc/devpi/devpi-server.yml'
# pip's timeout on the nodes (pip_client's default): a hang would last at least this long.
PIP_TIMEOUT = 60


def upstream_stop():
    subprocess.run(UPSTREAM + ['stop', PIDFILE], check=True)


def upstream_start():
    subprocess.run(UPSTREAM + ['start', os.path.join(EPHEMERAL, 'upstream'), '10.231.13.1', '8099', PIDFILE], check=True)


def upstream_silent():
    """The upstream's address takes connections and never answers: the case that could hang."""
    subprocess.run(UPSTREAM + ['silent', '10.231.13.1', '8099', PIDFILE], check=True)


def site(*args):
    run = run_playbook('site.yml', *args)
    return run, run.changed


@pytest.fixture
def admin(host):
    return host.get_host('ansible://admin', ansible_inventory=INVENTORY)


def pip_install(host, project):
    """pip install PROJECT into a fresh virtualenv on the node: (result, seconds)."""
    host.run_test('rm -rf /tmp/offline-venv && python3 -m venv /tmp/offline-venv')
    start = time.monotonic()
    result = host.run('/tmp/offline-venv/bin/pip install --no-cache-dir -v %s' % project)
    return result, time.monotonic() - start


def cached_files(admin, project):
    return admin.run("find /var/lib/devpi/+files/root/pypi -name '%s-*.whl' -printf '%%f\\n'" % project).stdout.split()


def test_online_the_node_installs_through_the_chain_and_the_mirror_keeps_the_file(host, admin):
    assert cached_files(admin, 'six') == []
    result = pip_install(host, 'six')[0]
    assert 'Successfully installed six' in result.stdout, result.stdout + result.stderr
    assert '/root/pypi/' in result.stdout
    assert len(cached_files(admin, 'six')) == 1


@pytest.mark.parametrize('gone', ['refused', 'silent'])
def test_upstream_gone_while_online_a_new_project_fails_at_once_and_the_cached_one_installs(host, admin, gone):
    upstream_stop()
    if gone == 'silent':
        upstream_silent()
    since = admin.run('date +%s').stdout.strip()
    result, seconds = pip_install(host, 'idna')
    assert result.rc != 0
    assert 'ERROR: No matching distribution found for idna' in result.stderr
    assert seconds < PIP_TIMEOUT / 2
    # root/prod leaves the unreachable base out; the mirror itself answers 502 at once, and says why in its journal.
    reply = host.run("python3 -c \"import urllib.request as u, urllib.error as e\ntry: u.urlopen('http://10.231.13.10:3141/root/pypi/+simple/idna/')"
                     "\nexcept e.HTTPError as x: print(x.code, x.read().decode())\"")
    assert reply.stdout.startswith('502 ')
    journal = admin.run('journalctl -u devpi --no-pager --since @%s' % since).stdout
    # devpi names the upstream URL, or for a silent one may name its request timeout instead.
    assert ("status on GET URL('http://10.231.13.1:8099/simple/idna/')" in journal
            or "timeout after 5 seconds while getting data for 'idna'" in journal)
    result = pip_install(host, 'six')[0]
    assert 'Successfully installed six' in result.stdout


def test_site_while_online_names_the_missing_upstream_and_changes_nothing(admin):
    before = admin.run('sha256sum %s' % CONFIG).stdout
    run = site()[0]
    assert run.returncode != 0
    text = flat(run.stdout + run.stderr)
    assert ("root/pypi's upstream http://10.231.13.1:8099/simple/ (devpi_server_mirror_url) does not answer from admin"
            in text), text[-3000:]
    assert 'set devpi_server_offline_mode: true' in text
    assert 'Make sure the OS packages devpi needs are present' not in run.stdout
    assert admin.run('sha256sum %s' % CONFIG).stdout == before


def test_offline_the_cached_project_installs_and_an_uncached_one_fails_at_once(host, admin):
    # Offline mode is the server's alone: the runs that switch it stay on admin.
    run, changed = site('--limit', 'admin', '-e', json.dumps({'pypi_mirror_offline': True}))
    assert run.returncode == 0, run.stdout[-3000:]
    assert changed['admin'] > 0
    assert 'offline-mode: true' in admin.file(CONFIG).content_string
    result = pip_install(host, 'six')[0]
    assert 'Successfully installed six' in result.stdout, result.stdout + result.stderr
    result, seconds = pip_install(host, 'idna')
    assert result.rc != 0
    assert 'ERROR: No matching distribution found for idna' in result.stderr
    assert seconds < PIP_TIMEOUT / 2
    assert site('--limit', 'admin', '-e', json.dumps({'pypi_mirror_offline': True}))[1] == {'admin': 0}


def test_back_online_is_one_variable(host, admin):
    upstream_stop()
    upstream_start()
    run, changed = site('--limit', 'admin')
    assert run.returncode == 0, run.stdout[-3000:]
    assert changed['admin'] > 0
    assert 'offline-mode' not in admin.file(CONFIG).content_string
    result = pip_install(host, 'idna')[0]
    assert 'Successfully installed idna' in result.stdout, result.stdout + result.stderr
    assert len(cached_files(admin, 'idna')) == 1
