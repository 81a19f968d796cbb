"""node1: pip installs over HTTPS through the front, from root/prod and through the chain from root/pypi what was
never uploaded; nginx serves the files, and pip without the site CA refuses the mirror."""

import re

import pytest

from playbook_run import INVENTORY

testinfra_hosts = ['ansible://node1']


@pytest.fixture(scope='module')
def venv(host):
    host.run_test('rm -rf /tmp/mirror-venv && python3 -m venv /tmp/mirror-venv')
    return '/tmp/mirror-venv/bin/pip install --no-cache-dir -v '


@pytest.fixture(scope='module')
def admin(host):
    return host.get_host('ansible://admin', ansible_inventory=INVENTORY)


def test_netaddr_comes_from_root_prod_served_by_nginx_not_devpi(host, admin, venv):
    cursor = admin.run_test('journalctl -u devpi.service -n 0 --show-cursor --no-pager').stdout.split('cursor: ')[-1].strip()
    out = host.run_test(venv + 'netaddr')
    # pip prints the file's URL with '+' quoted.
    assert re.search(r'Downloading https://10\.231\.9\.10/root/prod/(\+|%2B)f/.*/netaddr-', out.stdout)
    assert 'Successfully installed netaddr' in out.stdout
    log = admin.run_test("journalctl -u devpi.service --after-cursor '%s' --no-pager -o cat" % cursor).stdout
    # devpi answered the index page (its log works) but not the file: nginx served it from the serverdir.
    assert re.search(r'GET /root/prod/\+simple/netaddr', log), log
    assert '/+f/' not in log, log


def test_cryptography_arrives_through_the_chain_from_root_pypi(host, venv):
    out = host.run_test(venv + 'cryptography')
    assert re.search(r'Downloading https://10\.231\.9\.10/root/pypi/(\+|%2B)f/.*/cryptography-', out.stdout)
    assert 'Successfully installed' in out.stdout and 'cryptography' in out.stdout
    check = host.run('/tmp/mirror-venv/bin/python -c "import cryptography.fernet as f; print(len(f.Fernet.generate_key()))"')
    assert check.stdout.strip() == '44'


def test_pip_without_the_site_ca_fails_on_the_certificate(host, venv):
    host.run_test('cat /usr/share/ca-certificates/mozilla/*.crt > /tmp/without-site-ca.pem')
    out = host.run('/tmp/mirror-venv/bin/pip download --no-deps --no-cache-dir --retries 0 -d /tmp/mirror-dl '
                   '--cert /tmp/without-site-ca.pem netaddr')
    assert out.rc != 0
    assert 'CERTIFICATE_VERIFY_FAILED' in out.stdout + out.stderr
