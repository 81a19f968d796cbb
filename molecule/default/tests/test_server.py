"""The admin host: devpi-server installed by site.yml, running as devpi on loopback behind the front, hardened, back
after a reboot."""

import json
import os
import shlex
import subprocess
import sys

from playbook_run import INVENTORY

testinfra_hosts = ['ansible://admin']


def test_unit_is_active_enabled_and_runs_as_devpi(host):
    unit = host.service('devpi.service')
    assert unit.is_running
    assert unit.is_enabled
    assert [p.user for p in host.process.filter(comm='devpi-server')] == ['devpi']


def test_the_port_answers_on_loopback(host):
    assert host.socket('tcp://127.0.0.1:3141').is_listening
    reply = host.run('python3 -c "import urllib.request as u; print(u.urlopen(\'http://127.0.0.1:3141/+api\').status)"')
    assert reply.stdout.strip() == '200'


def test_root_prod_chains_to_the_mirror_and_holds_the_bundle(host):
    out = host.run("python3 -c \"import urllib.request as u, json; r = u.Request('http://127.0.0.1:3141/root/prod', "
                   "headers={'Accept': 'application/json'}); print(json.dumps(json.load(u.urlopen(r))['result']))\"")
    config = json.loads(out.stdout)
    assert config['bases'] == ['root/pypi']
    assert config['volatile'] is False
    assert {'jmespath', 'netaddr'} <= set(config['projects'])
    # Set explicitly: devpi's own default takes test results from anybody.
    assert config['acl_upload'] == config['acl_toxresult_upload'] == ['root']


ANONYMOUS_POST = """
import json, urllib.request as u, urllib.error as e
get = lambda p: json.load(u.urlopen(u.Request('https://10.231.9.10' + p, headers={'Accept': 'application/json'})))['result']
href = [l['href'] for v in get('/root/prod/netaddr?ignore_bases=').values() for l in v['+links']][0]
before = json.dumps([get('/root/prod?no_projects='), get('/root/prod/netaddr?ignore_bases=')], sort_keys=True)
try:
    u.urlopen(u.Request(href, data=b'{"testenvs": {}}', method='POST', headers={'Content-Type': 'application/json'}))
    status = 200
except e.HTTPError as err:
    status = err.code
after = json.dumps([get('/root/prod?no_projects='), get('/root/prod/netaddr?ignore_bases=')], sort_keys=True)
print(status, before == after)
"""


def test_nobody_anonymous_attaches_data_to_the_site_index(host):
    node1 = host.get_host('ansible://node1', ansible_inventory=INVENTORY)
    out = node1.run('python3 -c %s' % shlex.quote(ANONYMOUS_POST))
    assert out.stdout.split() == ['403', 'True'], out.stderr


def test_serverdir_and_secret_are_private(host):
    # nginx's group may pass through the serverdir to the files, and nothing more.
    serverdir = host.file('/var/lib/devpi')
    assert (serverdir.user, serverdir.group, serverdir.mode) == ('devpi', 'www-data', 0o710)
    files = host.file('/var/lib/devpi/+files')
    assert (files.user, files.group, files.mode) == ('devpi', 'www-data', 0o2750)
    secret = host.file('/etc/devpi/secret')
    assert (secret.user, secret.mode) == ('devpi', 0o600)


def test_the_unit_is_rated_safe_by_systemd(host):
    out = host.run('systemd-analyze security devpi.service --no-pager').stdout
    exposure = float(out.strip().splitlines()[-1].split('level for devpi.service:')[1].split()[0])
    assert exposure <= 2.5


def test_the_service_is_back_after_the_host_restarts(host):
    lab = os.path.join(os.environ['MOLECULE_PROJECT_DIRECTORY'], 'lab', 'lab.py')
    env = dict(os.environ, LAB_DIR=os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'lab'))
    before = host.run('cat /proc/sys/kernel/random/boot_id; systemctl show -p ActiveEnterTimestampMonotonic devpi').stdout
    subprocess.run([sys.executable, lab, 'restart', 'admin'], env=env, check=True)
    # Nobody starts it: systemd brings it up at boot; give devpi-server its start-up time to listen.
    answered = host.run('for i in $(seq 300); do python3 -c "import urllib.request as u; '
                        'u.urlopen(\'http://127.0.0.1:3141/+api\')" 2>/dev/null && echo up && break; sleep 1; done')
    assert answered.stdout.strip() == 'up'
    assert host.run('systemctl is-active devpi.service nginx.service').stdout.split() == ['active', 'active']
    assert host.run('cat /proc/sys/kernel/random/boot_id; systemctl show -p ActiveEnterTimestampMonotonic devpi').stdout != before
