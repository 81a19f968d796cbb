"""A public package with the name of an internal one and a higher version does not reach the node."""

import json

import pytest

from playbook_run import INVENTORY, run_playbook

testinfra_hosts = ['ansible://node1']
MIRROR = 'http://10.231.14.10:3141/root/pypi/+simple/'


def installed_version(host, *pip_args):
    """pip install acme-tools into a fresh virtualenv on the node: the version installed afterwards."""
    host.run_test('rm -rf /tmp/confusion-venv && python3 -m venv /tmp/confusion-venv')
    result = host.run('/tmp/confusion-venv/bin/pip install --no-cache-dir %s' % ' '.join(pip_args + ('acme-tools',)))
    assert result.rc == 0, result.stdout + result.stderr
    return host.run_test('/tmp/confusion-venv/bin/python -c "import importlib.metadata as m; print(m.version(\'acme-tools\'))"').stdout.strip()


def whitelist(host):
    out = host.run("python3 -c \"import urllib.request as u, json; r = u.Request('http://10.231.14.10:3141/root/prod', "
                   "headers={'Accept': 'application/json'}); print(json.dumps(json.load(u.urlopen(r))['result']))\"")
    return json.loads(out.stdout)['mirror_whitelist']


def site(*args):
    run = run_playbook('site.yml', *args)
    changed = run.changed
    assert run.returncode == 0, run.stdout[-3000:]
    return changed


def test_the_upstream_offers_a_higher_version(host):
    assert installed_version(host, '--index-url', MIRROR) == '99.0'


def test_the_node_gets_the_internal_package(host):
    assert whitelist(host) == []
    assert installed_version(host) == '1.0'


def test_a_request_for_the_public_version_finds_nothing(host):
    host.run_test('rm -rf /tmp/confusion-venv && python3 -m venv /tmp/confusion-venv')
    result = host.run("/tmp/confusion-venv/bin/pip install --no-cache-dir 'acme-tools>1.0'")
    assert result.rc != 0
    assert 'ERROR: No matching distribution found for acme-tools>1.0' in result.stderr


@pytest.mark.parametrize('listed, expected', [(['acme-tools'], '99.0'), ([], '1.0')])
def test_the_whitelist_is_exactly_what_the_inventory_says(host, listed, expected):
    # The whitelist is root/prod's, on the server alone.
    changed = site('--limit', 'admin', '-e', json.dumps({'pypi_mirror_mirror_whitelist': listed}))
    assert changed['admin'] > 0
    assert whitelist(host) == listed
    assert installed_version(host) == expected


def test_devpi_listens_on_the_one_address_it_was_given(host):
    """devpi_server_host: 10.231.14.10, and site.yml (converged, idempotent) reached it there, not on loopback."""
    admin = host.get_host('ansible://admin', ansible_inventory=INVENTORY)
    assert admin.socket('tcp://10.231.14.10:3141').is_listening
    assert not admin.socket('tcp://127.0.0.1:3141').is_listening
    assert not admin.socket('tcp://0.0.0.0:3141').is_listening
