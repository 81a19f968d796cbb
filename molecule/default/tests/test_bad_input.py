"""site.yml with a bad variable fails before anything changes, with a message that names the variable."""

import hashlib
import json
import os
import shutil

import pytest

from playbook_run import INVENTORY, flat, run_playbook

testinfra_hosts = ['ansible://admin']
WATCHED = {'admin': ['/etc/devpi/devpi-server.yml', '/etc/systemd/system/devpi.service',
                     '/etc/nginx/conf.d/devpi-front.conf'],
           'node1': ['/etc/pip.conf', '/etc/uv/uv.toml']}


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
    ({'pypi_mirror_upstream_url': 'https://mirror-user:S3cret-t0ken@10.231.9.1:8099/simple/'},
     'pypi_mirror_upstream_url carries a user name or password: devpi shows root/pypi\'s mirror_url to anybody'),
    ({'pypi_mirror_index_acl_upload': ['root', ':anonymous:']}, 'pypi_mirror_index_acl_upload names :ANONYMOUS:'),
    ({'pypi_mirror_packages': 'netaddr'}, 'pypi_mirror_packages must be a list, such as [netaddr]'),
    ({'devpi_server_user': 'root'}, 'devpi_server_user root is root: devpi must run as a system user of its own'),
    ({'devpi_server_serverdir': '/var'}, "devpi_server_serverdir /var must be a directory of devpi's own"),
    # Past the site's checks, the server role refuses it too, before any change on the admin host.
    ({'devpi_server_mirror_url': 'https://mirror-user:S3cret-t0ken@10.231.9.1:8099/simple/'},
     'devpi_server_mirror_url carries a user name or password: devpi shows root/pypi\'s mirror_url to anybody'),
])
def test_a_bad_variable_fails_first(unchanged, extra_vars, message):
    run = site(extra_vars)
    assert run.returncode != 0
    assert message in flat(run.stdout + run.stderr)
    assert 'S3cret-t0ken' not in run.stdout + run.stderr
    if not any(name.startswith('devpi_server_') for name in extra_vars):
        assert 'Install and start devpi-server' not in run.stdout


BUNDLE = os.path.join(os.environ.get('MOLECULE_PROJECT_DIRECTORY', ''), '.tmp', 'bundle-default')


@pytest.fixture
def bundle_copy(tmp_path):
    """The scenario's bundle, copied to be tampered with."""
    copy = tmp_path / 'bundle'
    shutil.copytree(BUNDLE, str(copy))
    return copy


def test_a_swapped_wheel_in_the_bundle_fails_first_naming_it(unchanged, bundle_copy):
    wheel = sorted((bundle_copy / 'packages').glob('netaddr-*.whl'))[0]
    with open(str(wheel), 'ab') as f:
        f.write(b'tampered on the transfer medium')
    run = site({'pypi_mirror_bundle_dir': str(bundle_copy)})
    assert run.returncode != 0
    assert ('the bundle %s does not match its manifest, so nothing of it is used: changed since the manifest was '
            'written: packages/%s' % (bundle_copy, wheel.name)) in flat(run.stdout + run.stderr)
    assert 'Install and start devpi-server' not in run.stdout


def test_a_manifest_that_is_not_the_pinned_one_fails_first(unchanged, bundle_copy):
    manifest = bundle_copy / 'manifest.json'
    pinned = hashlib.sha256(manifest.read_bytes()).hexdigest()
    # A manifest rewritten to match swapped files: consistent with the files, but not the one carried in.
    manifest.write_text(manifest.read_text() + ' ')
    run = site({'pypi_mirror_bundle_dir': str(bundle_copy), 'pypi_mirror_bundle_sha256': pinned})
    assert run.returncode != 0
    assert ('%s is refused: its sha256 is %s, not the %s it was pinned to'
            % (manifest, hashlib.sha256(manifest.read_bytes()).hexdigest(), pinned)) in flat(run.stdout + run.stderr)
    assert 'Install and start devpi-server' not in run.stdout


def test_a_login_user_is_not_taken_for_devpi(host, unchanged):
    host.run_test('useradd --create-home --shell /bin/bash alice')
    try:
        run = site({'devpi_server_user': 'alice'})
    finally:
        host.run_test('userdel --remove alice')
    assert run.returncode != 0
    assert ('devpi_server_user alice is a login user on admin (shell /bin/bash): devpi must run as a system user of '
            'its own, which the role creates; name another') in flat(run.stdout + run.stderr)


def test_clients_without_a_server_fail_first(unchanged, tmp_path):
    inventory = tmp_path / 'clients-only.yml'
    inventory.write_text(json.dumps({'pypi_mirror_clients': {'hosts': {'node1': {
        'ansible_host': '10.231.9.11', 'ansible_user': 'root'}}}}))
    run = site({'pypi_mirror_root_password': 'x', 'pypi_mirror_bundle_dir': '/tmp'}, inventory=str(inventory))
    assert run.returncode != 0
    assert 'the group pypi_mirror_servers is empty' in flat(run.stdout + run.stderr)
