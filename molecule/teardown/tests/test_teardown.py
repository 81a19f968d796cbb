"""After teardown.yml: the unit, the virtualenv and pip's configuration are gone, the data is kept,
a second teardown changes nothing, and pypi_mirror_purge_data removes the data too."""

import json
import os
import subprocess

from playbook_run import INVENTORY, run_playbook

testinfra_hosts = ['ansible://admin']


def node(host, name):
    return host.get_host('ansible://%s' % name, ansible_inventory=INVENTORY)


def teardown(extra_vars=None):
    run = run_playbook('teardown.yml', '-e', json.dumps(extra_vars or {}))
    changed = run.changed
    assert run.returncode == 0, run.stdout + run.stderr
    return changed


def test_node2_ran_trixie():
    facts = subprocess.run(['ansible', '-i', INVENTORY, 'node2', '-m', 'ansible.builtin.setup', '-a', 'filter=ansible_distribution_release'],
                           capture_output=True, text=True, check=False, env=dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0'))
    assert '"ansible_distribution_release": "trixie"' in facts.stdout


def test_the_server_is_gone_and_its_data_kept(host):
    assert not host.file('/etc/systemd/system/devpi.service').exists
    assert host.run('systemctl is-active devpi.service').stdout.strip() in ('inactive', 'unknown')
    assert not host.file('/opt/devpi').exists
    assert not host.file('/etc/devpi').exists
    assert host.file('/var/lib/devpi/.nodeinfo').exists
    assert not host.socket('tcp://0.0.0.0:3141').is_listening


def test_pip_conf_is_gone_or_the_earlier_one_is_back(host):
    assert not node(host, 'node1').file('/etc/pip.conf').exists
    restored = node(host, 'node2').file('/etc/pip.conf')
    assert restored.content_string == '[global]\nindex-url = http://pip.site.example/simple/\n'
    assert not node(host, 'node2').file('/etc/pip.conf.pypi_mirror-orig').exists


def test_a_second_teardown_changes_nothing():
    assert teardown() == {'admin': 0, 'node1': 0, 'node2': 0}


def test_purge_removes_the_data_too(host):
    changed = teardown({'pypi_mirror_purge_data': True})
    assert changed['admin'] > 0
    assert not host.file('/var/lib/devpi').exists
    assert not host.user('devpi').exists
    assert teardown({'pypi_mirror_purge_data': True}) == {'admin': 0, 'node1': 0, 'node2': 0}
