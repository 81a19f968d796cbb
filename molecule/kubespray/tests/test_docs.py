"""docs/kubespray-offline.md, followed as written on kubespray-shaped lab hosts: its inventory, its commands and its
playbooks, in the order a user meets them, each proven by the state it leaves. The test adds only what is the user's
own: the hosts' addresses and key (host_vars beside the page's inventory), the vault's password, and the two paths on
the controller (-e). Every fenced block of the page is run; the last test says so."""

import json
import os
import re
import subprocess

import pytest
import yaml

from doc_snippets import command, snippets, write_files
from playbook_run import INVENTORY, QUIET, run_playbook

PAGE = 'kubespray-offline.md'
ADMIN = '10.231.17.10'
INDEX = 'https://%s/root/prod/+simple/' % ADMIN
HOSTS = ('admin1', 'node1', 'node2')
BUNDLE = os.path.join(os.environ.get('MOLECULE_PROJECT_DIRECTORY', ''), '.tmp', 'bundle-kubespray')
RAN = set()

testinfra_hosts = ['ansible://admin1']


def node(host, name):
    return host.get_host('ansible://%s' % name, ansible_inventory=INVENTORY)


@pytest.fixture(scope='module')
def project(tmp_path_factory):
    """The page's files in a directory of their own, as a user's kubespray-offline checkout holds them."""
    root = tmp_path_factory.mktemp('kubespray-offline')
    write_files(PAGE, root)
    # The user's own: how to reach each host (the lab's addresses and key instead of the page's 10.0.0.x) ...
    host_vars = root / 'inventory' / 'mycluster' / 'host_vars'
    host_vars.mkdir()
    for name in HOSTS:
        listed = subprocess.run(['ansible-inventory', '-i', INVENTORY, '--host', name], capture_output=True, text=True,
                                check=True, env=dict(os.environ, **QUIET))
        connection = dict((k, v) for k, v in json.loads(listed.stdout).items() if k.startswith('ansible_'))
        (host_vars / ('%s.yml' % name)).write_text(yaml.safe_dump(connection))
    # ... the vault's password and the controller's paths ...
    (root / 'requirements.txt').write_text('jmespath\nnetaddr\n')
    (root / 'overrides.yml').write_text(yaml.safe_dump({
        'vault_pypi_mirror_root_password': 'Molecule-Root-Pw-1',
        'pypi_mirror_bundle_dir': BUNDLE,
        'pypi_mirror_requirement_files': [str(root / 'requirements.txt')]}))
    # ... and kubespray-offline's own role, which its playbook runs before ours: it needs the facts, as the real one does.
    role = root / 'playbook' / 'roles' / 'offline-repo' / 'tasks'
    role.mkdir(parents=True)
    (role / 'main.yml').write_text('- name: Point the host at the offline OS repository (a stand-in)\n'
                                   '  ansible.builtin.copy:\n    dest: /etc/offline-repo.stand-in\n'
                                   '    content: "{{ ansible_facts.os_family }}\\n"\n    mode: "0644"\n')
    return root


def run_command(project, start):
    """The page's command that begins with START, run as written from the project, with the user's -e."""
    argv = command(PAGE, start)
    assert argv[0] == 'ansible-playbook'
    RAN.add(' '.join(argv))
    return run_playbook(argv[1], *(argv[2:] + ['-e', '@overrides.yml']), inventory=None, cwd=str(project))


def run_file(project, path):
    """The page's playbook PATH, run with the page's inventory."""
    RAN.add(path)
    return run_playbook(path, '-i', 'inventory/mycluster', '-e', '@overrides.yml', inventory=None, cwd=str(project))


def assert_mirror_on_the_cluster(host, install=True):
    """kubespray's nodes have pip on the mirror, the admin host does not, and node2 installs from it."""
    assert host.service('devpi').is_running
    assert not host.file('/etc/pip.conf').exists, 'the admin host is in no client group: no pip.conf'
    for name in ('node1', 'node2'):
        assert 'index-url = %s\n' % INDEX in node(host, name).file('/etc/pip.conf').content_string
    if not install:
        return
    node2 = node(host, 'node2')
    node2.run_test('rm -rf /tmp/docs-venv && python3 -m venv /tmp/docs-venv')
    out = node2.run_test('/tmp/docs-venv/bin/pip install --no-cache-dir -v netaddr')
    assert re.search(r'Downloading https://10\.231\.17\.10/root/prod/(\+|%2B)f/.*/netaddr-', out.stdout)


def test_the_bundle_command_builds_the_bundle_for_the_clusters_hosts(host, project):  # pylint: disable=unused-argument
    run = run_command(project, 'ansible-playbook airgap.pypi_mirror.bundle')
    assert run.returncode == 0, run
    with open(os.path.join(BUNDLE, 'manifest.json'), encoding='utf-8') as handle:
        packages = [e['file'] for e in json.load(handle)['files'] if e['section'] == 'packages']
    for project_name in ('netaddr-', 'jmespath-'):
        assert any(name.startswith(project_name) for name in packages), packages


def test_kubespray_offlines_playbook_makes_the_mirror_on_fresh_hosts_after_its_own_role(host, project):
    run = run_file(project, 'playbook/offline-repo.yml')
    assert run.returncode == 0, run
    for name in HOSTS:
        assert node(host, name).file('/etc/offline-repo.stand-in').content_string == 'Debian\n'
    assert_mirror_on_the_cluster(host)


def test_the_site_command_wants_the_same_mirror_on_every_kubespray_node_and_not_on_the_admin_host(host, project):
    run = run_command(project, 'ansible-playbook airgap.pypi_mirror.site')
    assert run.returncode == 0, run
    assert run.changed == {'admin1': 0, 'node1': 0, 'node2': 0}, run.stdout
    # The clients' play ran on both nodes (so changed=0 means their pip.conf is what site.yml makes), not on admin1.
    clients_play = run.stdout.split('PLAY [Point pip on the clients at the mirror]', 1)[1].split('PLAY [', 1)[0]
    assert 'ok: [node1]' in clients_play and 'ok: [node2]' in clients_play and '[admin1]' not in clients_play
    assert_mirror_on_the_cluster(host, install=False)


# offline-repo.yml is not run twice: the site command after it changed nothing, and its tasks are the same entry points.
@pytest.mark.parametrize('path', ['playbook/pypi-mirror.yml', 'playbook/pypi-mirror-roles.yml'])
def test_the_pages_playbooks_make_the_same_mirror_and_change_nothing(host, project, path):  # pylint: disable=unused-argument
    run = run_file(project, path)
    assert run.returncode == 0, run
    assert run.changed == {'admin1': 0, 'node1': 0, 'node2': 0}, run.stdout
    # The inventory is a directory here, and the site CA made in it stays out of what Ansible parses as inventory.
    assert os.path.exists(os.path.join(str(project), 'inventory', 'mycluster', '.pypi_mirror_tls', 'ca.key'))
    assert 'as an inventory source' not in run.stdout + run.stderr, run.stderr


def test_the_teardown_command_takes_it_away(host, project):
    run = run_command(project, 'ansible-playbook airgap.pypi_mirror.teardown')
    assert run.returncode == 0, run
    assert not host.file('/etc/systemd/system/devpi.service').exists
    for name in HOSTS:
        assert not node(host, name).file('/etc/pip.conf').exists


def test_every_block_of_the_page_ran():
    every = set(s.path if s.kind == 'file' else s.text for s in snippets(PAGE))
    # The inventory's files are read by every run.
    assert every - RAN == {'inventory/mycluster/hosts.yaml', 'inventory/mycluster/group_vars/all/pypi_mirror.yml'}
