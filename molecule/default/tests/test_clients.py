"""node1: /etc/pip.conf and uv's uv.toml hold exactly what pip_client writes for the front (HTTPS, the system's
trust store), and that store holds the site CA."""

import os

from playbook_run import INVENTORY

testinfra_hosts = ['ansible://pypi_mirror_clients']
CA = os.path.join(INVENTORY or '', '.pypi_mirror_tls', 'ca.crt')

PIP_CONF = """# Managed by Ansible (airgap.pypi_mirror.pip_client); the earlier file, if any, is /etc/pip.conf.pypi_mirror-orig
[global]
index-url = https://10.231.9.10/root/prod/+simple/
cert = /etc/ssl/certs/ca-certificates.crt
timeout = 60
"""

UV_TOML = """# Managed by Ansible (airgap.pypi_mirror.pip_client)
# The OS trust store, which holds the mirror's CA.
native-tls = true

[[index]]
name = "pypi-mirror"
url = "https://10.231.9.10/root/prod/+simple/"
default = true
"""


def test_pip_conf_holds_exactly_the_expected_lines(host):
    conf = host.file('/etc/pip.conf')
    assert conf.content_string == PIP_CONF
    assert (conf.user, conf.mode) == ('root', 0o644)


def test_uv_toml_holds_exactly_the_expected_lines(host):
    assert host.file('/etc/uv/uv.toml').content_string == UV_TOML


def test_the_site_ca_is_in_the_system_trust_store(host):
    ca = open(CA).read().strip()
    assert host.file('/usr/local/share/ca-certificates/airgap-pypi-mirror-ca.crt').content_string.strip() == ca
    assert ca.splitlines()[1] in host.file('/etc/ssl/certs/ca-certificates.crt').content_string
