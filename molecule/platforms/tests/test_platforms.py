"""One bundle, two Pythons: each node installs the compiled markupsafe wheel built for its own Python,
and the bundle's manifest says which platform each file serves."""

import json
import os
import re

import pytest

from playbook_run import run_playbook

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


LOCK = '/etc/pip-requirements.lock'
KUBESPRAY = ['ansible', 'bcrypt', 'cryptography', 'jmespath', 'netaddr', 'passlib']


def test_the_node_installs_kubesprays_requirements_from_its_lock_with_hashes(host, manifest):
    name, tag = own_platform(host)
    lock = host.file(LOCK)
    assert (lock.user, lock.group, lock.mode) == ('root', 'root', 0o644)
    assert lock.content_string.splitlines()[1] == '# Hash-locked requirements for platform %s, resolved from the bundle by airgap.pypi_mirror.' % name
    host.run_test('rm -rf /tmp/lock-venv && python3 -m venv /tmp/lock-venv')
    # pip.conf points at the mirror; the lock pins every project with the sha256 of the files that crossed the gap.
    result = host.run('/tmp/lock-venv/bin/pip install --no-cache-dir --no-compile --require-hashes -r %s' % LOCK)
    assert result.rc == 0, result.stdout + result.stderr
    frozen = dict((re.sub(r'[-_.]+', '-', name.lower()), version) for name, version in
                  (line.split('==') for line in host.run_test('/tmp/lock-venv/bin/pip freeze --all').stdout.split()))
    pinned = dict(line.split(' ')[0].split('==') for line in lock.content_string.splitlines() if '==' in line)
    # Exactly the lock's projects at the lock's versions, beside what the venv brought (pip; setuptools before 3.12).
    assert dict((k, v) for k, v in frozen.items() if k not in ('pip', 'setuptools')) == pinned
    assert set(KUBESPRAY) <= set(pinned)
    compiled = [f for f in manifest['files'] if f['project'] == 'cryptography' and name in f['platforms']]
    assert compiled and compiled[0]['sha256'] in lock.content_string
    check = host.run_test("/tmp/lock-venv/bin/python -c 'import ansible, cryptography.fernet, jmespath, netaddr, passlib; print(\"ok\")'")
    assert check.stdout.strip() == 'ok'
    host.run_test('rm -rf /tmp/lock-venv')


def test_a_lock_with_one_hash_changed_is_refused_by_pip_on_the_node(host, manifest):
    name, _tag = own_platform(host)
    [netaddr] = [f for f in manifest['files'] if f['project'] == 'netaddr']
    host.run_test("sed 's/%s/%s/' %s > /tmp/changed.lock" % (netaddr['sha256'], '0' * 64, LOCK))
    result = host.run('python3 -m pip install --dry-run --ignore-installed --no-cache-dir --require-hashes '
                      '--break-system-packages -r /tmp/changed.lock')
    host.run_test('rm -f /tmp/changed.lock')
    assert result.rc != 0
    assert 'THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE' in result.stderr, result.stderr
    assert re.search(r'netaddr==1\.3\.0 from http://10\.231\.16\.10:3141/root/prod/\S+netaddr-1\.3\.0-py3-none-any\.whl', result.stderr)
    assert 'Got        %s' % netaddr['sha256'] in result.stderr


def test_verify_proves_the_site_index_serves_every_locked_file_and_changes_nothing():
    run = run_playbook('verify.yml')
    assert run.returncode == 0, run.stdout
    assert all(counts['changed'] == 0 for counts in run.recap.values()), run.recap
    # Once, from the controller, for the one server both nodes use.
    proved = (r'TASK \[airgap.pypi_mirror.pypi_mirror : Prove that the site index serves every locked file of every '
              r'client platform, on every server the clients use\] \**\n'
              r'ok: \[node1 -> localhost\] => \(item=http://10\.231\.16\.10:3141/root/prod/\+simple/\)\n')
    assert re.search(proved, run.stdout), run.stdout
    assert len(re.findall(r'\(item=https?://', run.stdout)) == 1, run.stdout
