"""playbooks/bundle.yml on this machine, the online side: a bundle with a manifest, an unchanged re-run,
and pip's own reason when a requirement cannot be met. Reaches the package index pip is configured with."""

import hashlib
import json
import os
import re
import subprocess
import sys

import pytest

from playbook_run import BIN, QUIET, flat, run_playbook


def bundle(collections_path, extra_vars, inventory='localhost,'):
    run = run_playbook('bundle.yml', '-e', json.dumps(extra_vars), inventory=inventory,
                       env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path))
    assert 'localhost' in run.recap, run
    return run, run.changed['localhost'], run.failed['localhost']


def test_a_bundle_with_its_manifest_then_nothing_new(collections_path, tmp_path):
    extra = {'pypi_mirror_bundle_dir': str(tmp_path / 'bundle'), 'pypi_mirror_packages': ['jmespath', 'netaddr'],
             'pypi_bundle_server_enabled': False}
    run, changed, failed = bundle(collections_path, extra)
    assert failed == 0, run.stdout
    assert changed > 0
    manifest = json.loads((tmp_path / 'bundle' / 'manifest.json').read_text())
    files = sorted(os.listdir(str(tmp_path / 'bundle' / 'packages')))
    assert [f['file'] for f in manifest['files']] == files
    assert {f['project'] for f in manifest['files']} == {'jmespath', 'netaddr'}
    for entry in manifest['files']:
        assert entry['section'] == 'packages' and len(entry['sha256']) == 64
        assert entry['size'] == os.path.getsize(str(tmp_path / 'bundle' / 'packages' / entry['file']))
    # The bundle was proven complete for this machine's platform before the manifest was written, and locked.
    assert re.search(r"TASK \[airgap.pypi_mirror.pypi_bundle : Make sure the clients' requirements resolve from the "
                     r"bundle alone, and each platform has its lock file\] \**\nchanged: \[localhost\]", run.stdout), run.stdout
    locks = os.listdir(str(tmp_path / 'bundle' / 'locks'))
    assert [lock['file'] for lock in manifest['locks']] == locks and len(locks) == 1
    text = (tmp_path / 'bundle' / 'locks' / locks[0]).read_text()
    for entry in manifest['files']:
        assert '%s==%s \\\n    --hash=sha256:%s\n' % (entry['project'], entry['version'], entry['sha256']) in text
    again, changed, failed = bundle(collections_path, extra)
    assert (changed, failed) == (0, 0), again.stdout
    # The manifest's sha256, to carry across the gap on another channel and pin there.
    with open(str(tmp_path / 'bundle' / 'manifest.json'), 'rb') as f:
        own = hashlib.sha256(f.read()).hexdigest()
    assert "The bundle's manifest.json has sha256 %s." % own in again.text


def test_a_requirement_that_cannot_be_met_fails_with_pips_reason(collections_path, tmp_path):
    extra = {'pypi_mirror_bundle_dir': str(tmp_path / 'bundle'), 'pypi_bundle_server_enabled': False,
             'pypi_mirror_packages': ['netaddr>=1.0,<1.0']}
    run, _changed, failed = bundle(collections_path, extra)
    assert failed == 1
    text = flat(run.stdout)
    assert re.search(r'no wheel of netaddr\S* for platform cp%d%d-manylinux_2_\d+_x86_64 \(this machine\): ERROR: ' % sys.version_info[:2], text)
    assert 'ERROR: No matching distribution found for netaddr' in text


def test_a_missing_bundle_dir_variable_is_named(collections_path):
    run, _changed, failed = bundle(collections_path, {'pypi_mirror_packages': ['netaddr']})
    assert failed == 1
    assert 'pypi_mirror_bundle_dir is unset; it names the directory on the controller that receives the bundle' in run.text


BOOKWORM = {'python': '3.11', 'arch': 'x86_64', 'libc': 'glibc', 'libc_version': '2.36'}
TRIXIE = {'python': '3.13', 'arch': 'x86_64', 'libc': 'glibc', 'libc_version': '2.41'}


def test_one_bundle_holds_a_wheel_for_each_platform_and_says_which(collections_path, tmp_path):
    extra = {'pypi_mirror_bundle_dir': str(tmp_path / 'bundle'), 'pypi_mirror_packages': ['jmespath', 'markupsafe'],
             'pypi_bundle_server_enabled': False, 'pypi_mirror_client_platforms': [BOOKWORM, TRIXIE]}
    run, changed, failed = bundle(collections_path, extra)
    assert failed == 0, run.stdout
    manifest = json.loads((tmp_path / 'bundle' / 'manifest.json').read_text())
    assert [p['name'] for p in manifest['platforms']] == ['cp311-manylinux_2_36_x86_64', 'cp313-manylinux_2_41_x86_64']
    served = dict((f['file'], f['platforms']) for f in manifest['files'])
    markupsafe = sorted(f for f in served if f.startswith('markupsafe-'))
    assert [f.split('-')[2] for f in markupsafe] == ['cp311', 'cp313']
    assert served[markupsafe[0]] == ['cp311-manylinux_2_36_x86_64']
    assert served[markupsafe[1]] == ['cp313-manylinux_2_41_x86_64']
    [jmespath] = [f for f in served if f.startswith('jmespath-')]
    assert served[jmespath] == ['cp311-manylinux_2_36_x86_64', 'cp313-manylinux_2_41_x86_64']
    # The bundle was proven complete for this machine's platform before the manifest was written, and locked.
    assert re.search(r"TASK \[airgap.pypi_mirror.pypi_bundle : Make sure the clients' requirements resolve from the "
                     r"bundle alone, and each platform has its lock file\] \**\nchanged: \[localhost\]", run.stdout), run.stdout
    # Each platform's lock holds the hash of the markupsafe wheel built for it, and jmespath's.
    assert [lock['file'] for lock in manifest['locks']] == [p['name'] + '.txt' for p in manifest['platforms']]
    for platform in manifest['platforms']:
        text = (tmp_path / 'bundle' / 'locks' / (platform['name'] + '.txt')).read_text()
        for entry in manifest['files']:
            line = '%s==%s \\\n    --hash=sha256:%s\n' % (entry['project'], entry['version'], entry['sha256'])
            assert (line in text) == (platform['name'] in entry['platforms']), (line, text)
    again, changed, failed = bundle(collections_path, extra)
    assert (changed, failed) == (0, 0), again.stdout
    # Writing the manifest again without platforms, as after adding a file by hand, keeps the record.
    refresh = subprocess.run([os.path.join(BIN, 'ansible'), 'localhost', '-m', 'airgap.pypi_mirror.bundle_manifest',
                              '-a', 'path=%s' % (tmp_path / 'bundle')], capture_output=True, text=True, check=False,
                             env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path, **QUIET))
    assert 'localhost | SUCCESS' in refresh.stdout, refresh.stdout + refresh.stderr
    assert json.loads((tmp_path / 'bundle' / 'manifest.json').read_text()) == manifest


def test_a_musl_platform_gets_musllinux_wheels(collections_path, tmp_path):
    alpine = {'python': '3.12', 'arch': 'x86_64', 'libc': 'musl', 'libc_version': '1.2'}
    run, _changed, failed = bundle(collections_path, {
        'pypi_mirror_bundle_dir': str(tmp_path / 'bundle'), 'pypi_mirror_packages': ['markupsafe'],
        'pypi_bundle_server_enabled': False, 'pypi_mirror_client_platforms': [alpine]})
    assert failed == 0, run.stdout
    [entry] = json.loads((tmp_path / 'bundle' / 'manifest.json').read_text())['files']
    assert '-cp312-cp312-musllinux_1_' in entry['file'] and entry['platforms'] == ['cp312-musllinux_1_2_x86_64']


def test_no_bundle_hosts_means_this_machines_own_platform(collections_path, tmp_path):
    run, _changed, failed = bundle(collections_path, {
        'pypi_mirror_bundle_dir': str(tmp_path / 'bundle'), 'pypi_mirror_packages': ['markupsafe'], 'pypi_bundle_server_enabled': False})
    assert failed == 0, run.stdout
    own = 'cp%d%d-manylinux_2_' % sys.version_info[:2]
    [platform] = json.loads((tmp_path / 'bundle' / 'manifest.json').read_text())['platforms']
    assert platform['name'].startswith(own) and platform['hosts'] == ['this machine']


def test_a_requirement_with_no_wheel_for_a_platform_names_both(collections_path, tmp_path):
    run, _changed, failed = bundle(collections_path, {
        'pypi_mirror_bundle_dir': str(tmp_path / 'bundle'), 'pypi_mirror_packages': ['pyyaml==6.0.1'],
        'pypi_bundle_server_enabled': False, 'pypi_mirror_client_platforms': [BOOKWORM, TRIXIE]})
    assert failed == 1
    assert 'no wheel of pyyaml==6.0.1 for platform cp313-manylinux_2_41_x86_64:' in flat(run.stdout)
    assert not (tmp_path / 'bundle' / 'manifest.json').exists()


def test_allow_sdist_builds_a_pure_wheel_that_serves_every_platform(collections_path, tmp_path):
    extra = {'pypi_mirror_bundle_dir': str(tmp_path / 'bundle'), 'pypi_mirror_packages': ['pyramid-chameleon'],
             'pypi_bundle_server_enabled': False, 'pypi_mirror_client_platforms': [BOOKWORM, TRIXIE]}
    run, _changed, failed = bundle(collections_path, extra)
    assert failed == 1
    assert 'no wheel of pyramid-chameleon for platform cp311-manylinux_2_36_x86_64:' in flat(run.stdout)
    run, _changed, failed = bundle(collections_path, dict(extra, pypi_bundle_allow_sdist=True))
    assert failed == 0, run.stdout
    served = dict((f['file'], f['platforms']) for f in json.loads((tmp_path / 'bundle' / 'manifest.json').read_text())['files'])
    assert served['pyramid_chameleon-0.3-py3-none-any.whl'] == ['cp311-manylinux_2_36_x86_64', 'cp313-manylinux_2_41_x86_64']


def test_a_host_that_cannot_be_reached_is_named(collections_path, tmp_path):
    inventory = tmp_path / 'inventory.json'
    inventory.write_text(json.dumps({'pypi_mirror_clients': {'hosts': {'far-node': {
        'ansible_host': '192.0.2.7', 'ansible_user': 'root', 'ansible_ssh_common_args': '-o ConnectTimeout=3'}}}}))
    run, _changed, failed = bundle(collections_path, {
        'pypi_mirror_bundle_dir': str(tmp_path / 'bundle'), 'pypi_mirror_packages': ['netaddr'], 'pypi_bundle_server_enabled': False},
        inventory=str(inventory))
    assert failed == 1
    text = flat(run.stdout)
    assert 'pypi_bundle could not read the platform of far-node' in text
    assert 'set pypi_bundle_platforms (pypi_mirror_client_platforms with playbooks/bundle.yml)' in text
    assert not (tmp_path / 'bundle').exists()


@pytest.mark.parametrize('platform, message', [
    ({'python': '3.11', 'arch': 'x86_64', 'libc': 'uclibc', 'libc_version': '1.0'}, 'uclibc'),
    ({'python': 'three', 'arch': 'x86_64', 'libc': 'glibc', 'libc_version': '2.36'},
     "platforms: python 'three' must be a version like 3.11 (hosts: none named)"),
])
def test_a_bad_platform_is_refused_by_name(collections_path, tmp_path, platform, message):
    run, _changed, failed = bundle(collections_path, {
        'pypi_mirror_bundle_dir': str(tmp_path / 'bundle'), 'pypi_mirror_packages': ['netaddr'], 'pypi_bundle_server_enabled': False,
        'pypi_mirror_client_platforms': [platform]})
    assert failed == 1
    text = flat(run.stdout)
    assert message in text
    assert not (tmp_path / 'bundle' / 'packages').exists() or not os.listdir(str(tmp_path / 'bundle' / 'packages'))
