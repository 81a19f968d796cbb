"""The front on admin: node1 installs over HTTPS through nginx, which serves the files itself; teardown comes last."""

import base64
import json
import os
import re
import ssl
import time
import urllib.request

import pytest

from devpitest import make_wheel, multipart_upload
from playbook_run import INVENTORY, run_playbook

testinfra_hosts = ['ansible://node1']
ADMIN = '10.231.18.10'
FRONT = 'https://%s' % ADMIN
CA = os.path.join(INVENTORY or '', 'pypi_mirror_tls', 'ca.crt')
# What an installer asks the front for, run on node1 with the OS's trust store.
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
    out = host.run_test("python3 -c %s %s %s" % (_q(ASK), _q(url), _q(json.dumps(headers))))
    return json.loads(out.stdout)


def _q(text):
    return "'" + text.replace("'", "'\\''") + "'"


@pytest.fixture(scope='module')
def venv(host):
    host.run_test('rm -rf /tmp/front-venv && python3 -m venv /tmp/front-venv')
    return '/tmp/front-venv/bin/pip install --no-cache-dir -v '


@pytest.fixture(scope='module')
def admin(host):
    return host.get_host('ansible://admin', ansible_inventory=INVENTORY)


def devpi_log_cursor(admin):
    return admin.run_test('journalctl -u devpi.service -n 0 --show-cursor --no-pager').stdout.split('cursor: ')[-1].strip()


def devpi_requests_since(admin, cursor):
    return admin.run_test("journalctl -u devpi.service --after-cursor %s --no-pager -o cat" % _q(cursor)).stdout


def test_pip_and_uv_use_https_and_the_system_trust_store(host):
    conf = host.file('/etc/pip.conf').content_string
    assert 'index-url = %s/root/prod/+simple/' % FRONT in conf
    assert 'cert = /etc/ssl/certs/ca-certificates.crt' in conf
    assert 'trusted-host' not in conf
    uv = host.file('/etc/uv/uv.toml').content_string
    assert 'native-tls = true' in uv and 'url = "%s/root/prod/+simple/"' % FRONT in uv
    ca = open(CA).read().strip()
    assert host.file('/usr/local/share/ca-certificates/airgap-pypi-mirror-ca.crt').content_string.strip() == ca
    assert ca.splitlines()[1] in host.file('/etc/ssl/certs/ca-certificates.crt').content_string


def test_netaddr_comes_over_https_from_nginx_not_devpi(host, admin, venv):
    cursor = devpi_log_cursor(admin)
    out = host.run_test(venv + 'netaddr')
    assert re.search(r'Downloading https://10\.231\.18\.10/root/prod/(\+|%2B)f/.*/netaddr-', out.stdout)
    assert 'Successfully installed netaddr' in out.stdout
    log = devpi_requests_since(admin, cursor)
    # devpi answered the index page (its log works) but not the file: nginx served it from the serverdir.
    assert re.search(r'GET /root/prod/\+simple/netaddr', log), log
    assert '/+f/' not in log, log


def test_cryptography_comes_through_the_chain_from_root_pypi(host, venv):
    out = host.run_test(venv + 'cryptography')
    assert re.search(r'Downloading https://10\.231\.18\.10/root/pypi/(\+|%2B)f/.*/cryptography-', out.stdout)
    assert 'Successfully installed' in out.stdout and 'cryptography' in out.stdout


def test_pip_without_the_ca_fails_on_the_certificate(host):
    host.run_test('cat /usr/share/ca-certificates/mozilla/*.crt > /tmp/without-site-ca.pem')
    out = host.run('/tmp/front-venv/bin/pip download --no-deps --no-cache-dir --retries 0 -d /tmp/front-dl '
                   '--cert /tmp/without-site-ca.pem netaddr')
    assert out.rc != 0
    assert 'CERTIFICATE_VERIFY_FAILED' in out.stdout + out.stderr


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
    assert not host.run("python3 -c \"import socket; socket.create_connection(('%s', 3141), timeout=5)\"" % ADMIN).rc == 0
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
    assert admin.run("runuser -u www-data -- head -c 1 %s" % wheel).rc == 0
    assert admin.run('runuser -u www-data -- head -c 1 /var/lib/devpi/.sqlite').rc != 0
    assert admin.run('runuser -u www-data -- ls /var/lib/devpi').rc != 0


def upload(path):
    context = ssl.create_default_context(cafile=CA)
    login = urllib.request.Request(FRONT + '/+login', method='POST',
                                   data=json.dumps({'user': 'root', 'password': 'Molecule-Root-Pw-1'}).encode())
    with urllib.request.urlopen(login, context=context) as resp:
        token = json.load(resp)['result']['password']
    body, content_type = multipart_upload(path)
    req = urllib.request.Request(FRONT + '/root/prod/', method='POST', data=body, headers={
        'Content-Type': content_type, 'X-Devpi-Auth': base64.b64encode(('root:%s' % token).encode()).decode()})
    with urllib.request.urlopen(req, context=context) as resp:
        assert resp.status == 200


def test_an_upload_is_installed_by_the_node_within_5_seconds(host, tmp_path):
    upload(make_wheel(tmp_path, 'front-probe', '1.0'))
    host.run_test('/tmp/front-venv/bin/pip install --no-cache-dir front-probe')
    # The page of front-probe 1.0 is in the cache now; 2.0 must reach the node through it.
    upload(make_wheel(tmp_path, 'front-probe', '2.0'))
    start = time.monotonic()
    while host.run('/tmp/front-venv/bin/pip install --no-cache-dir front-probe==2.0').rc != 0:
        assert time.monotonic() - start < 5, 'front-probe 2.0 was not installable within 5 s of its upload'
        time.sleep(0.2)
    assert time.monotonic() - start < 5


def test_teardown_leaves_the_node_and_the_server_as_they_were(host, admin):
    run = run_playbook('teardown.yml')
    assert run.returncode == 0, run.stdout[-3000:]
    assert not host.file('/etc/pip.conf').exists and not host.file('/etc/uv/uv.toml').exists
    assert not host.file('/usr/local/share/ca-certificates/airgap-pypi-mirror-ca.crt').exists
    # The node's CA bundle is the OS's own again: the same as on admin, which was never a client.
    bundle = 'sha256sum < /etc/ssl/certs/ca-certificates.crt'
    assert host.run_test(bundle).stdout == admin.run_test(bundle).stdout
    assert not admin.file('/etc/nginx/conf.d/devpi-front.conf').exists
    assert not admin.file('/etc/nginx/devpi-front').exists
    # nginx was there before the mirror (the lab's hosts have it), so it stays, without the front.
    assert admin.service('nginx').is_running
    assert not admin.socket('tcp://0.0.0.0:443').is_listening
    assert not admin.service('devpi').is_enabled
    for scope in ('', '--permanent '):
        assert admin.run_test('firewall-cmd %s--zone=public --list-ports' % scope).stdout.split() == []
    assert not admin.file('/etc/ansible/facts.d/devpi_front.fact').exists


def test_check_mode_after_teardown_runs_to_the_end_and_changes_nothing(host, admin):
    run = run_playbook('site.yml', '--check')
    assert run.returncode == 0, run.stdout[-3000:]
    assert run.changed['admin'] > 0 and run.changed['node1'] > 0
    assert not admin.file('/etc/nginx/conf.d/devpi-front.conf').exists
    assert not host.file('/etc/pip.conf').exists
    assert not host.file('/usr/local/share/ca-certificates/airgap-pypi-mirror-ca.crt').exists
