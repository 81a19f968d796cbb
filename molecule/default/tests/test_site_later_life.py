"""The site's later life, last in the verifier: a wheel dropped from the next bundle stays on root/prod until
pypi_mirror_prune removes it; site.yml with a changed devpi-server version (6.20.2, with the scenario's own bundle,
which puts the wheel back) installs it and restarts the service with the data kept, and the pinned 6.20.3 comes back
the same way; check mode then predicts no change on every host; teardown leaves the node and the server as they were,
and check mode after it changes nothing."""

import json
import os
import re
import shutil

from playbook_run import INVENTORY, flat, run_playbook

testinfra_hosts = ['ansible://admin']
BUNDLE = os.path.join(os.environ.get('MOLECULE_PROJECT_DIRECTORY', ''), '.tmp', 'bundle-default')
# The JSON API of one project on root/prod alone (not its bases): {file name: sha256}.
FILES = ("python3 -c \"import json, urllib.request as u\n"
         "r = u.urlopen(u.Request('http://127.0.0.1:3141/root/prod/%s?ignore_bases', headers={'Accept': 'application/json'}))\n"
         "links = [l for v in json.load(r)['result'].values() for l in v.get('+links', [])]\n"
         "print(json.dumps(dict((l['href'].rsplit('/', 1)[-1], l['hashes']['sha256']) for l in links)))\"")


def site(*args, **extra_vars):
    run = run_playbook('site.yml', *(args + (('-e', json.dumps(extra_vars)) if extra_vars else ())))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    return run


def prod_files(host, project):
    run = host.run(FILES % project)
    return json.loads(run.stdout) if run.rc == 0 else {}


def projects(host):
    out = host.run("python3 -c \"import urllib.request as u, json; r = u.Request('http://127.0.0.1:3141/root/prod', "
                   "headers={'Accept': 'application/json'}); print(json.dumps(json.load(u.urlopen(r))['result']['projects']))\"")
    return sorted(json.loads(out.stdout))


def version(host):
    return host.run('/opt/devpi/bin/python -m pip list --format=freeze | grep ^devpi-server==').stdout.strip()


def dropped_entry():
    """The wheel the next bundle leaves out: not netaddr's, which the nodes probe, so the runs without it stay on admin."""
    manifest = json.loads(open(os.path.join(BUNDLE, 'manifest.json')).read())
    return sorted((e for e in manifest['files'] if e['section'] == 'packages' and e['project'] != 'netaddr'),
                  key=lambda e: e['file'])[0]


def test_a_wheel_dropped_from_the_bundle_stays_until_it_is_pruned(host, tmp_path):
    dropped = dropped_entry()
    assert prod_files(host, dropped['project']) == {dropped['file']: dropped['sha256']}

    # The next bundle, built without it: its manifest no longer lists it.
    bundle = tmp_path / 'bundle'
    shutil.copytree(BUNDLE, str(bundle))
    os.remove(str(bundle / 'packages' / dropped['file']))
    manifest = json.loads((bundle / 'manifest.json').read_text())
    manifest['files'] = [e for e in manifest['files'] if e['file'] != dropped['file']]
    (bundle / 'manifest.json').write_text(json.dumps(manifest, indent=2, sort_keys=True) + '\n')

    kept = site('--limit', 'admin', pypi_mirror_bundle_dir=str(bundle))
    # The front's tests uploaded wheels of their own to root/prod before: the warning names those too.
    warned = re.search(r'index root/prod holds \d+ file\(s\) that are not among src: ([^;]+); they stay '
                       r'\(prune: true removes them\)', flat(kept.stdout + kept.stderr))
    assert warned and dropped['file'] in warned.group(1).split(', '), kept.stdout[-3000:]
    assert prod_files(host, dropped['project']) == {dropped['file']: dropped['sha256']}
    assert not host.file('/var/cache/devpi-uploads/root_prod/%s' % dropped['file']).exists

    site('--limit', 'admin', pypi_mirror_bundle_dir=str(bundle), pypi_mirror_prune=True)
    assert prod_files(host, dropped['project']) == {}


def test_a_version_change_keeps_the_data_and_restarts(host):
    dropped = dropped_entry()
    # What root/prod holds, with the pruned wheel's project, which the scenario's own bundle puts back.
    held = sorted(set(projects(host)) | {dropped['project']})
    assert {'jmespath', 'netaddr'} <= set(held)
    pid = host.run('systemctl show -p MainPID --value devpi').stdout.strip()

    # The version is the server's alone: the version changes run on admin; the check-mode run after this test, on
    # every host, proves that the site settled. The scenario's own bundle has the pruned wheel: the same bytes go up.
    assert site('--limit', 'admin', devpi_server_version='6.20.2').changed['admin'] > 0
    assert version(host) == 'devpi-server==6.20.2'
    assert host.run('systemctl show -p MainPID --value devpi').stdout.strip() != pid
    assert projects(host) == held
    assert prod_files(host, dropped['project']) == {dropped['file']: dropped['sha256']}

    assert site('--limit', 'admin').changed['admin'] > 0
    assert version(host) == 'devpi-server==6.20.3'
    assert projects(host) == held


# After the version change: the site settled, and check mode says so. Every test here takes the host, or pytest would
# run those that do not after all those that do (its order groups the host's parameter), teardown included.
def test_check_mode_predicts_no_change_on_a_converged_site(host):
    assert site('--check', '--diff').changed == {'admin': 0, 'node1': 0}
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
