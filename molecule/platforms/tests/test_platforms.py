"""One bundle, two Pythons: each node installs the compiled markupsafe wheel built for its own Python,
and the bundle's manifest says which platform each file serves."""

import json
import os
import re

import pytest

testinfra_hosts = ['ansible://pypi_mirror_clients']
MANIFEST = os.path.join(os.environ.get('MOLECULE_PROJECT_DIRECTORY', ''), '.tmp', 'bundle-platforms', 'manifest.json')


@pytest.fixture(scope='module')
def manifest():
    with open(MANIFEST) as f:
        return json.load(f)


def own_platform(host):
    """The node's platform name, read on the node with nothing but Python: interpreter tag and glibc."""
    out = host.run_test("python3 -c \"import os, sys; print('cp%d%d' % sys.version_info[:2], os.confstr('CS_GNU_LIBC_VERSION'))\"")
    tag, _glibc, version = out.stdout.split()
    return '%s-manylinux_%s_x86_64' % (tag, version.replace('.', '_')), tag


def test_the_manifest_lists_each_nodes_platform_with_the_node(host, manifest):
    name, _tag = own_platform(host)
    listed = dict((p['name'], p) for p in manifest['platforms'] if p['section'] == 'packages')
    assert host.backend.get_hostname() in listed[name]['hosts']
    assert len(listed) == 2


def test_the_node_installs_the_wheel_of_its_platform_from_the_bundle(host, manifest):
    name, tag = own_platform(host)
    host.run_test('rm -rf /tmp/platform-venv && python3 -m venv /tmp/platform-venv')
    result = host.run('/tmp/platform-venv/bin/pip install --no-cache-dir -v markupsafe')
    assert result.rc == 0, result.stdout + result.stderr
    wheel = re.search(r'Downloading http://10\.231\.16\.10:3141/root/prod/(?:\+|%2B)f/\S+/(markupsafe-\S+\.whl)', result.stdout).group(1)
    assert '-%s-%s-' % (tag, tag) in wheel
    assert dict((f['file'], f['platforms']) for f in manifest['files'])[wheel] == [name]
    # The compiled speed-ups load: the wheel really is built for this Python.
    check = host.run_test("/tmp/platform-venv/bin/python -c 'import markupsafe._speedups as s; print(s.__file__)'")
    assert tag.replace('cp', 'cpython-') in check.stdout
