"""Every node: /etc/pip.conf holds exactly what pip_client writes."""

testinfra_hosts = ['ansible://pypi_mirror_clients']

PIP_CONF = """# Managed by Ansible (airgap.pypi_mirror.pip_client); the earlier file, if any, is /etc/pip.conf.pypi_mirror-orig
[global]
index-url = http://10.231.9.10:3141/root/prod/+simple/
trusted-host = 10.231.9.10:3141
timeout = 60
"""


def test_pip_conf_holds_exactly_the_expected_lines(host):
    conf = host.file('/etc/pip.conf')
    assert conf.content_string == PIP_CONF
    assert (conf.user, conf.mode) == ('root', 0o644)


def test_uv_toml_holds_exactly_the_expected_lines(host):
    # pip_client_uv_enabled on node1 (the front scenario has uv over https, with native-tls).
    uv = host.file('/etc/uv/uv.toml')
    assert uv.content_string == ('# Managed by Ansible (airgap.pypi_mirror.pip_client)\n[[index]]\nname = "pypi-mirror"\n'
                                 'url = "http://10.231.9.10:3141/root/prod/+simple/"\ndefault = true\n')
