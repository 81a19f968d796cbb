"""The site's later life, last in the verifier: site.yml again with a changed devpi-server version installs it and
restarts the service with the data kept (6.20.2 back to the pinned 6.20.3); check mode then predicts no change on
every host; teardown leaves the node and the server as they were, and check mode after it changes nothing."""

import json

from playbook_run import INVENTORY, run_playbook

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


# After the version change: the site settled, and check mode says so. Every test here takes the host, or pytest would
# run those that do not after all those that do (its order groups the host's parameter), teardown included.
def test_check_mode_predicts_no_change_on_a_converged_site(host):
    assert site('--check', '--diff') == {'admin': 0, 'node1': 0}
    assert version(host) == 'devpi-server==6.20.3'


def test_teardown_leaves_the_node_and_the_server_as_they_were(host):
    node1 = host.get_host('ansible://node1', ansible_inventory=INVENTORY)
    run = run_playbook('teardown.yml')
    assert run.returncode == 0, run.stdout[-3000:]
    assert not node1.file('/etc/pip.conf').exists and not node1.file('/etc/uv/uv.toml').exists
    assert not node1.file('/usr/local/share/ca-certificates/airgap-pypi-mirror-ca.crt').exists
    # The node's CA bundle is the OS's own again: the same as on admin, which was never a client.
    bundle = 'sha256sum < /etc/ssl/certs/ca-certificates.crt'
    assert node1.run_test(bundle).stdout == host.run_test(bundle).stdout
    assert not host.file('/etc/nginx/conf.d/devpi-front.conf').exists
    assert not host.file('/etc/nginx/devpi-front').exists
    # nginx was there before the mirror (the lab's hosts have it), so it stays, without the front.
    assert host.service('nginx').is_running
    assert not host.socket('tcp://0.0.0.0:443').is_listening
    assert not host.service('devpi').is_enabled
    for scope in ('', '--permanent '):
        assert host.run_test('firewall-cmd %s--zone=public --list-ports' % scope).stdout.split() == []
    assert not host.file('/etc/ansible/facts.d/devpi_front.fact').exists


def test_check_mode_after_teardown_runs_to_the_end_and_changes_nothing(host):
    node1 = host.get_host('ansible://node1', ansible_inventory=INVENTORY)
    run = run_playbook('site.yml', '--check')
    assert run.returncode == 0, run.stdout[-3000:]
    assert run.changed['admin'] > 0 and run.changed['node1'] > 0
    assert not host.file('/etc/nginx/conf.d/devpi-front.conf').exists
    assert not node1.file('/etc/pip.conf').exists
    assert not node1.file('/usr/local/share/ca-certificates/airgap-pypi-mirror-ca.crt').exists
