"""site.yml again: in check mode it predicts no change; a changed devpi-server version is installed
and restarts the service with the data kept (6.20.2 back to the pinned 6.20.3)."""

import json
import os
import re
import subprocess

testinfra_hosts = ['ansible://admin']

REPO = os.environ.get('MOLECULE_PROJECT_DIRECTORY', '')
INVENTORY = os.path.dirname(os.environ.get('MOLECULE_INVENTORY_FILE', ''))


def site(*args):
    run = subprocess.run(['ansible-playbook', '-i', INVENTORY, os.path.join(REPO, 'playbooks', 'site.yml')] + list(args),
                         capture_output=True, text=True, check=False,
                         env=dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0'))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    return dict((m.group(1), int(m.group(2))) for m in re.finditer(r'^(\w+)\s+:.*?changed=(\d+)', run.stdout, re.M))


def projects(host):
    out = host.run("python3 -c \"import urllib.request as u, json; r = u.Request('http://127.0.0.1:3141/root/prod', "
                   "headers={'Accept': 'application/json'}); print(json.dumps(json.load(u.urlopen(r))['result']['projects']))\"")
    return sorted(json.loads(out.stdout))


def version(host):
    return host.run('/opt/devpi/bin/python -m pip list --format=freeze | grep ^devpi-server==').stdout.strip()


def test_check_mode_predicts_no_change_on_a_converged_site():
    assert site('--check', '--diff') == {'admin': 0, 'node1': 0, 'node2': 0}


def test_a_version_change_keeps_the_data_and_restarts(host):
    held = projects(host)
    assert {'jmespath', 'netaddr'} <= set(held)
    pid = host.run('systemctl show -p MainPID --value devpi').stdout.strip()

    assert site('-e', json.dumps({'devpi_server_version': '6.20.2'}))['admin'] > 0
    assert version(host) == 'devpi-server==6.20.2'
    assert host.run('systemctl show -p MainPID --value devpi').stdout.strip() != pid
    assert projects(host) == held

    assert site()['admin'] > 0
    assert version(host) == 'devpi-server==6.20.3'
    assert projects(host) == held
    assert site() == {'admin': 0, 'node1': 0, 'node2': 0}
