"""admin2 follows admin: node2 installs from it, an upload to admin reaches it within 10 s, it serves on with admin
down, promote.yml makes it the primary and the other replica, admin3, follows it, site.yml on the changed inventory
changes none of their data, and teardown removes the replicas too. The tests run in file order; each leaves the
state the next starts from."""

import json
import os
import shutil
import time
import ssl
import urllib.error
import urllib.request

import pytest
import yaml

from devpitest import make_wheel, upload_over_https
from playbook_run import INVENTORY, run_playbook

testinfra_hosts = ['ansible://node2']
ADMIN, ADMIN2, ADMIN3 = 'https://10.231.18.10', 'https://10.231.18.11', 'https://10.231.18.14'
CA = os.path.join(INVENTORY or '', '.pypi_mirror_tls', 'ca.crt')
PASSWORD = 'Molecule-Root-Pw-1'
STATUS = ("python3 -c \"import urllib.request as u; print(u.urlopen(u.Request('http://127.0.0.1:3141/+status', "
          "headers={'Accept': 'application/json'})).read().decode())\"")
PIP_CONF = '/etc/pip.conf'


@pytest.fixture(scope='module')
def admin(host):
    return host.get_host('ansible://admin', ansible_inventory=INVENTORY)


@pytest.fixture(scope='module')
def admin2(host):
    return host.get_host('ansible://admin2', ansible_inventory=INVENTORY)


@pytest.fixture(scope='module')
def admin3(host):
    return host.get_host('ansible://admin3', ansible_inventory=INVENTORY)


@pytest.fixture(scope='module')
def node1(host):
    return host.get_host('ansible://node1', ansible_inventory=INVENTORY)


def status(server):
    return json.loads(server.run_test(STATUS).stdout)['result']


def simple_page(base, project):
    """The site index's page of PROJECT on the front at BASE, from the controller with the site CA; None on 404."""
    req = urllib.request.Request('%s/root/prod/+simple/%s/' % (base, project), headers={'User-Agent': 'test'})
    try:
        with urllib.request.urlopen(req, context=ssl.create_default_context(cafile=CA), timeout=10) as resp:
            return resp.read().decode()
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return None
        raise


def pip_install(node, *projects):
    node.run_test('rm -rf /tmp/replica-venv && python3 -m venv /tmp/replica-venv')
    return node.run('/tmp/replica-venv/bin/pip install --no-cache-dir -v %s' % ' '.join(projects))


def regrouped(directory, servers, replicas):
    """A copy of the scenario's inventory in DIRECTORY with other hosts in pypi_mirror_servers and pypi_mirror_replicas."""
    shutil.copytree(INVENTORY, directory, symlinks=True)
    hosts_file = os.path.join(directory, 'ansible_inventory.yml')
    with open(hosts_file) as f:
        inventory = yaml.safe_load(f)
    # Molecule writes each group at the top level, beside all.
    every = inventory['all']['hosts']
    inventory['pypi_mirror_servers']['hosts'] = dict((name, every[name]) for name in servers)
    inventory['pypi_mirror_replicas']['hosts'] = dict((name, every[name]) for name in replicas)
    with open(hosts_file, 'w') as f:
        yaml.safe_dump(inventory, f)
    return directory


# The site CA stays where the scenario's inventory keeps it.
TLS_DIR = json.dumps({'pypi_mirror_tls_dir': os.path.join(INVENTORY or '', '.pypi_mirror_tls')})


def site_refused(server, name, inventory, message):
    """site.yml limited to the server NAME on INVENTORY fails with MESSAGE, devpi's configuration there unchanged."""
    config = server.file('/etc/devpi/devpi-server.yml').sha256sum
    run = run_playbook('site.yml', '-e', TLS_DIR, '--limit', name, inventory=inventory)
    assert run.returncode != 0
    assert message in run.text, run.text[-3000:]
    assert server.file('/etc/devpi/devpi-server.yml').sha256sum == config


def test_each_node_uses_its_server_and_the_replica_holds_the_primarys_serial(host, node1, admin, admin2):
    assert 'index-url = %s/root/prod/+simple/' % ADMIN2 in host.file(PIP_CONF).content_string
    assert 'index-url = %s/root/prod/+simple/' % ADMIN in node1.file(PIP_CONF).content_string
    primary, replica = status(admin), status(admin2)
    assert replica['role'] == 'REPLICA' and replica['serial'] == primary['serial'], (primary, replica)
    # The replica runs with the primary's secret, readable by devpi only.
    secret = admin2.file('/etc/devpi/secret')
    assert (secret.user, secret.mode) == ('devpi', 0o600)
    assert secret.sha256sum == admin.file('/etc/devpi/secret').sha256sum
    out = pip_install(host, 'netaddr', 'jmespath')
    assert out.rc == 0, out.stdout + out.stderr
    assert '%s/root/prod/' % ADMIN2 in out.stdout and ADMIN not in out.stdout.replace(ADMIN2, '')


def test_an_upload_to_the_primary_installs_from_the_replica_within_10_seconds(host, tmp_path_factory):
    wheel = make_wheel(tmp_path_factory.mktemp('probe'), 'replica-probe', '1.0')
    assert simple_page(ADMIN2, 'replica-probe') is None
    assert upload_over_https(ADMIN, CA, PASSWORD, 'root/prod', wheel) == 200
    start = time.monotonic()
    while simple_page(ADMIN2, 'replica-probe') is None and time.monotonic() - start < 10:
        time.sleep(0.2)
    assert 'replica_probe-1.0-py3-none-any.whl' in (simple_page(ADMIN2, 'replica-probe') or '')
    out = pip_install(host, 'replica-probe==1.0')
    assert out.rc == 0 and '%s/root/prod/' % ADMIN2 in out.stdout, out.stdout + out.stderr


def test_with_the_primary_down_node2_installs_everything_the_replica_holds(host, admin, admin2):
    serial = status(admin2)['serial']
    admin.run_test('systemctl stop devpi.service nginx.service')
    out = pip_install(host, 'netaddr', 'jmespath', 'replica-probe==1.0')
    assert out.rc == 0, out.stdout + out.stderr
    assert status(admin2)['serial'] == serial


def test_site_refuses_to_make_a_replica_the_primary_without_promote(admin2, tmp_path):
    primary_now = regrouped(str(tmp_path / 'inventory'), servers=['admin2'], replicas=[])
    site_refused(admin2, 'admin2', primary_now,
                 'admin2 is a replica of https://10.231.18.10 and devpi_server_primary_url is empty: only playbooks/promote.yml '
                 '(devpi_server_promote) turns a replica into the primary, after the primary is lost')
    assert status(admin2)['role'] == 'REPLICA'


def test_promote_makes_admin2_the_primary_that_takes_uploads_and_admin3_follows_it(host, admin2, admin3, tmp_path_factory):
    run = run_playbook('promote.yml', '-e', 'pypi_mirror_promote=admin2')
    assert run.returncode == 0, run.text[-3000:]
    assert run.changed['admin2'] > 0 and run.changed['admin3'] > 0
    assert status(admin2)['role'] == 'MASTER'
    assert 'primary-url' not in admin2.file('/etc/devpi/devpi-server.yml').content_string
    # The other replica now follows the new primary.
    assert 'primary-url: %s' % ADMIN2 in admin3.file('/etc/devpi/devpi-server.yml').content_string
    again = run_playbook('promote.yml', '-e', 'pypi_mirror_promote=admin2')
    assert again.returncode == 0 and again.changed == {'admin2': 0, 'admin3': 0}, \
        (again.changed_tasks('admin2') + again.changed_tasks('admin3')) or again.text[-3000:]
    wheel = make_wheel(tmp_path_factory.mktemp('probe2'), 'replica-probe', '2.0')
    assert upload_over_https(ADMIN2, CA, PASSWORD, 'root/prod', wheel) == 200
    out = pip_install(host, 'replica-probe==2.0')
    assert out.rc == 0 and 'Successfully installed replica-probe-2.0' in out.stdout, out.stdout + out.stderr
    # The upload to the new primary reaches admin3 as one to the old primary did.
    start = time.monotonic()
    while 'replica_probe-2.0-py3-none-any.whl' not in (simple_page(ADMIN3, 'replica-probe') or '') and time.monotonic() - start < 10:
        time.sleep(0.2)
    replica, primary = status(admin3), status(admin2)
    assert replica['role'] == 'REPLICA' and replica['serial'] == primary['serial'], (replica, primary)


def test_promote_refuses_a_host_that_is_not_a_replica(admin2):
    before = admin2.file('/etc/devpi/devpi-server.yml').sha256sum
    run = run_playbook('promote.yml', '-e', 'pypi_mirror_promote=node1')
    assert run.returncode != 0
    assert "pypi_mirror_promote 'node1' must name the replica to promote, one of pypi_mirror_replicas: admin2, admin3" in run.text
    assert admin2.file('/etc/devpi/devpi-server.yml').sha256sum == before


def test_site_on_the_updated_inventory_changes_none_of_the_new_primarys_data(node1, admin2, tmp_path):
    # The runbook's inventory change: admin2 moves to pypi_mirror_servers and the lost admin leaves; admin3 stays a replica.
    updated = regrouped(str(tmp_path / 'inventory'), servers=['admin2'], replicas=['admin3'])
    serial = status(admin2)['serial']
    run = run_playbook('site.yml', '-e', TLS_DIR, inventory=updated)
    assert run.returncode == 0, run.text[-3000:]
    # admin2 never seeded as a replica, so its first run as the primary stages the bundle's copy on it; nothing else.
    staged = {"airgap.pypi_mirror.devpi_indexes : Make sure each upload's staging directory exists",
              "airgap.pypi_mirror.devpi_indexes : Make sure the files to upload are staged on the host"}
    assert set(run.changed_tasks('admin2')) <= staged, run.changed_tasks('admin2')
    # promote.yml left admin3 as site.yml makes a replica of admin2.
    assert run.changed['admin3'] == 0, run.changed_tasks('admin3')
    assert status(admin2)['serial'] == serial
    assert 'index-url = %s/root/prod/+simple/' % ADMIN2 in node1.file(PIP_CONF).content_string


def test_the_old_primary_comes_back_as_a_replica_only_once_its_data_is_purged(admin, admin2, tmp_path):
    rejoined = regrouped(str(tmp_path / 'inventory'), servers=['admin2'], replicas=['admin', 'admin3'])
    site_refused(admin, 'admin', rejoined,
                 'devpi_server_serverdir /var/lib/devpi on admin holds the data of a primary server, which devpi cannot make a '
                 'replica (devpi_server_primary_url)')
    assert not admin.service('nginx').is_running
    purge = run_playbook('teardown.yml', '-e', json.dumps({'pypi_mirror_purge_data': True}), '--limit', 'admin',
                         inventory=rejoined)
    assert purge.returncode == 0, purge.text[-3000:]
    assert not admin.file('/var/lib/devpi').exists
    # Added later (a run limited to it), the replica catches up with everything the new primary holds, admin2's own
    # upload included; the secret it gets from admin2 is in no output, diffs included.
    run = run_playbook('site.yml', '-e', TLS_DIR, '--diff', '--limit', 'admin', inventory=rejoined)
    assert run.returncode == 0, run.text[-3000:]
    secret = admin2.run_test('cat /etc/devpi/secret').stdout.strip()
    assert len(secret) >= 32 and secret not in run.stdout + run.stderr
    replica, primary = status(admin), status(admin2)
    assert replica['role'] == 'REPLICA' and replica['serial'] == primary['serial'], (replica, primary)
    assert 'replica_probe-2.0-py3-none-any.whl' in (simple_page(ADMIN, 'replica-probe') or '')


def test_teardown_removes_the_replicas_too(host, admin, admin2, admin3):
    run = run_playbook('teardown.yml')
    assert run.returncode == 0, run.text[-3000:]
    for server in (admin, admin2, admin3):
        assert not server.file('/etc/systemd/system/devpi.service').exists
        assert not server.file('/opt/devpi').exists
        assert not server.file('/etc/devpi').exists
    assert not host.file(PIP_CONF).exists
