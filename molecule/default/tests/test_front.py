"""The front on admin: index pages cached for installers, HTTP sent to HTTPS, devpi closed to the nodes, firewalld
open for exactly the front, nginx reading the files and nothing else, an upload visible to pip within 5 seconds."""

import json
import os
import shlex
import time

import pytest

from devpitest import make_wheel, upload_over_https
from playbook_run import INVENTORY

testinfra_hosts = ['ansible://node1']
ADMIN = '10.231.9.10'
FRONT = 'https://%s' % ADMIN
CA = os.path.join(INVENTORY or '', '.pypi_mirror_tls', 'ca.crt')
# What an installer asks the front for, run on node1 with the OS's trust store; redirects are not followed.
ASK = r'''
import json, sys, urllib.request, urllib.error
class Keep(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None
req = urllib.request.Request(sys.argv[1], headers=json.loads(sys.argv[2]))
try:
    resp = urllib.request.build_opener(Keep).open(req, timeout=10)
except urllib.error.HTTPError as e:
    resp = e
print(json.dumps({"status": resp.status, "headers": dict(resp.headers.items())}))
'''


def ask(host, url, **headers):
    out = host.run_test('python3 -c %s %s %s' % (shlex.quote(ASK), shlex.quote(url), shlex.quote(json.dumps(headers))))
    return json.loads(out.stdout)


@pytest.fixture(scope='module')
def admin(host):
    return host.get_host('ansible://admin', ansible_inventory=INVENTORY)


def test_index_pages_are_cached_for_installers_and_compressed(host):
    url = FRONT + '/root/prod/+simple/jmespath/'
    pip = {'User-Agent': 'pip/24.0', 'Accept': 'application/vnd.pypi.simple.v1+json', 'Accept-Encoding': 'gzip'}
    first, second = ask(host, url, **pip), ask(host, url, **pip)
    assert first['status'] == 200 and second['headers'].get('X-Cache-Status') == 'HIT', (first, second)
    assert second['headers'].get('Content-Encoding') == 'gzip'
    assert second['headers']['Content-Type'].startswith('application/vnd.pypi.simple.v1+json')
    browser = ask(host, url, **{'User-Agent': 'Mozilla/5.0'})
    assert browser['status'] == 200 and browser['headers'].get('X-Cache-Status') == 'BYPASS'


def test_plain_http_redirects_to_https(host):
    answer = ask(host, 'http://%s/root/prod/+simple/netaddr/' % ADMIN)
    assert answer['status'] == 301
    assert answer['headers']['Location'] == FRONT + '/root/prod/+simple/netaddr/'


def test_devpi_itself_is_closed_to_the_nodes(host, admin):
    assert host.run("python3 -c \"import socket; socket.create_connection(('%s', 3141), timeout=5)\"" % ADMIN).rc != 0
    assert admin.socket('tcp://127.0.0.1:3141').is_listening
    assert not admin.socket('tcp://0.0.0.0:3141').is_listening


def test_firewalld_lets_exactly_the_fronts_ports_through(admin):
    assert admin.run_test('firewall-cmd --state').stdout.strip() == 'running'
    for scope in ('', '--permanent '):
        assert sorted(admin.run_test('firewall-cmd %s--zone=public --list-ports' % scope).stdout.split()) == ['443/tcp', '80/tcp']
    record = json.loads(admin.file('/etc/ansible/facts.d/devpi_front.fact').content_string)
    assert record['created'] == {'firewalld': {'zone': 'public', 'ports': ['443/tcp', '80/tcp']}}


def test_nginx_reads_the_files_and_nothing_else_in_the_serverdir(admin):
    # nginx's user opens a served file, but neither devpi's database nor a listing of the serverdir.
    wheel = admin.run_test("find /var/lib/devpi/+files/root/prod -name 'netaddr-*.whl' -print -quit").stdout.strip()
    assert wheel
    assert admin.run('runuser -u www-data -- head -c 1 %s' % wheel).rc == 0
    assert admin.run('runuser -u www-data -- head -c 1 /var/lib/devpi/.sqlite').rc != 0
    assert admin.run('runuser -u www-data -- ls /var/lib/devpi').rc != 0


def test_an_upload_is_installed_by_the_node_within_5_seconds(host, tmp_path):
    def upload(version):
        assert upload_over_https(FRONT, CA, 'Molecule-Root-Pw-1', 'root/prod', make_wheel(tmp_path, 'front-probe', version)) == 200
    host.run_test('rm -rf /tmp/front-venv && python3 -m venv /tmp/front-venv')
    upload('1.0')
    host.run_test('/tmp/front-venv/bin/pip install --no-cache-dir front-probe')
    # The page of front-probe 1.0 is in the cache now; 2.0 must reach the node through it.
    upload('2.0')
    uploaded = time.monotonic()
    # What counts is when pip starts, not how long it runs (on an emulated VM a pip install alone takes seconds).
    while True:
        started = time.monotonic() - uploaded
        installed = host.run('/tmp/front-venv/bin/pip install --no-cache-dir front-probe==2.0').rc == 0
        assert started < 5, 'front-probe 2.0 was not installable by a pip started within 5 s of its upload'
        if installed:
            break
        time.sleep(0.2)
