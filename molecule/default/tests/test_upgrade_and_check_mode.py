"""site.yml again: a changed devpi-server version is installed and restarts the service with the data kept
(6.20.2 back to the pinned 6.20.3); then, in check mode, it predicts no change on every host."""

import json

from playbook_run import run_playbook

testinfra_hosts = ['ansible://admin']


def site(*args):
    run = run_playbook('site.yml', *args)
    changed = run.changed
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    return changed


def projects(host):
    out = host.run("python3 -c \"import urllib.request as u, json; r = u.Request('http://127.0.0.1:3141/root/prod', "
                   "headers={'Accept': 'application/json'}); print(json.dumps(json.load(u.urlopen(r))['result']['projects']))\"")
    return sorted(json.loads(out.stdout))


def version(host):
    return host.run('/opt/devpi/bin/python -m pip list --format=freeze | grep ^devpi-server==').stdout.strip()


def test_a_version_change_keeps_the_data_and_restarts(host):
    held = projects(host)
    assert {'jmespath', 'netaddr'} <= set(held)
    pid = host.run('systemctl show -p MainPID --value devpi').stdout.strip()

    # The version is the server's alone: the version changes run on admin; the check-mode run after this test, on
    # every host, proves that the site settled.
    assert site('--limit', 'admin', '-e', json.dumps({'devpi_server_version': '6.20.2'}))['admin'] > 0
    assert version(host) == 'devpi-server==6.20.2'
    assert host.run('systemctl show -p MainPID --value devpi').stdout.strip() != pid
    assert projects(host) == held

    assert site('--limit', 'admin')['admin'] > 0
    assert version(host) == 'devpi-server==6.20.3'
    assert projects(host) == held


# After the version change (pytest keeps the file's order): the site settled, and check mode says so.
def test_check_mode_predicts_no_change_on_a_converged_site():
    assert site('--check', '--diff') == {'admin': 0, 'node1': 0}
