"""node1: pip installs from root/prod, and through the chain from root/pypi what was never uploaded."""

import re

import pytest

testinfra_hosts = ['ansible://node1']


@pytest.fixture(scope='module')
def venv(host):
    host.run_test('rm -rf /tmp/mirror-venv && python3 -m venv /tmp/mirror-venv')
    return '/tmp/mirror-venv/bin/pip install --no-cache-dir -v '


def test_netaddr_comes_from_root_prod(host, venv):
    out = host.run_test(venv + 'netaddr')
    # pip prints the file's URL with '+' quoted.
    assert re.search(r'Downloading http://10\.231\.9\.10:3141/root/prod/(\+|%2B)f/.*/netaddr-', out.stdout)
    assert 'Successfully installed netaddr' in out.stdout


def test_cryptography_arrives_through_the_chain_from_root_pypi(host, venv):
    out = host.run_test(venv + 'cryptography')
    assert re.search(r'Downloading http://10\.231\.9\.10:3141/root/pypi/(\+|%2B)f/.*/cryptography-', out.stdout)
    assert 'Successfully installed' in out.stdout and 'cryptography' in out.stdout
    check = host.run('/tmp/mirror-venv/bin/python -c "import cryptography.fernet as f; print(len(f.Fernet.generate_key()))"')
    assert check.stdout.strip() == '44'
