"""site.yml with a bad variable fails before anything changes, with a message that names the variable."""

import json

import pytest

from playbook_run import INVENTORY, flat, run_playbook

testinfra_hosts = ['ansible://admin']
WATCHED = {'admin': ['/etc/devpi/devpi-server.yml', '/etc/systemd/system/devpi.service'], 'node1': ['/etc/pip.conf']}


def site(extra_vars, inventory=INVENTORY):
    return run_playbook('site.yml', '-e', json.dumps(extra_vars), inventory=inventory)


@pytest.fixture
def unchanged(host):
    """Checksums of what site.yml writes, before and after the run."""
    def sums():
        return dict((name, host.get_host('ansible://%s' % name, ansible_inventory=INVENTORY).run(
            'sha256sum %s' % ' '.join(paths)).stdout) for name, paths in WATCHED.items())
    before = sums()
    yield
    assert sums() == before


@pytest.mark.parametrize('extra_vars, message', [
    ({'pypi_mirror_root_password': ''}, 'pypi_mirror_root_password is empty or unset'),
    ({'pypi_mirror_url': 'ftp://10.231.9.10/root/prod/+simple/'},
     "pypi_mirror_url 'ftp://10.231.9.10/root/prod/+simple/' must be an http:// or https:// URL"),
    ({'pypi_mirror_upstream_url': 'file:///srv/simple/'},
     "pypi_mirror_upstream_url 'file:///srv/simple/' must be an http:// or https:// URL"),
    ({'pypi_mirror_bundle_dir': '/nonexistent/bundle'}, "pypi_mirror_bundle_dir '/nonexistent/bundle' is not a directory"),
])
def test_a_bad_variable_fails_first(unchanged, extra_vars, message):
    run = site(extra_vars)
    assert run.returncode != 0
    assert message in flat(run.stdout + run.stderr)
    assert 'Install and start devpi-server' not in run.stdout


def test_clients_without_a_server_fail_first(unchanged, tmp_path):
    inventory = tmp_path / 'clients-only.yml'
    inventory.write_text(json.dumps({'pypi_mirror_clients': {'hosts': {'node1': {
        'ansible_host': '10.231.9.11', 'ansible_user': 'root'}}}}))
    run = site({'pypi_mirror_root_password': 'x', 'pypi_mirror_bundle_dir': '/tmp'}, inventory=str(inventory))
    assert run.returncode != 0
    assert 'the group pypi_mirror_servers is empty' in flat(run.stdout + run.stderr)
