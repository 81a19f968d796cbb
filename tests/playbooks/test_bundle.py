"""playbooks/bundle.yml on this machine, the online side: a bundle with a manifest, an unchanged re-run,
and pip's own reason when a requirement cannot be met. Reaches the package index pip is configured with."""

import json
import os
import re
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


def bundle(collections_path, extra_vars):
    run = subprocess.run([os.path.join(BIN, 'ansible-playbook'), '-i', 'localhost,', os.path.join(REPO, 'playbooks', 'bundle.yml'),
                          '-e', json.dumps(extra_vars)], capture_output=True, text=True, check=False,
                         env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path, ANSIBLE_NOCOLOR='1',
                                  ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0'))
    changed = re.search(r'^localhost\s+:.*?changed=(\d+).*?failed=(\d+)', run.stdout, re.M)
    return run, int(changed.group(1)), int(changed.group(2))


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
    again, changed, failed = bundle(collections_path, extra)
    assert (changed, failed) == (0, 0), again.stdout


def test_a_requirement_that_cannot_be_met_fails_with_pips_reason(collections_path, tmp_path):
    extra = {'pypi_mirror_bundle_dir': str(tmp_path / 'bundle'), 'pypi_bundle_server_enabled': False,
             'pypi_mirror_packages': ['netaddr>=1.0,<1.0']}
    run, _changed, failed = bundle(collections_path, extra)
    assert failed == 1
    assert 'pip could not download the packages requirements (netaddr>=1.0,<1.0)' in ' '.join(run.stdout.split())
    assert 'ERROR: No matching distribution found for netaddr' in run.stdout


def test_a_missing_bundle_dir_variable_is_named(collections_path):
    run, _changed, failed = bundle(collections_path, {'pypi_mirror_packages': ['netaddr']})
    assert failed == 1
    assert 'pypi_bundle_dir must name the bundle directory' in run.stdout


def test_sdists_with_another_python_are_refused_by_name(collections_path, tmp_path):
    run, _changed, failed = bundle(collections_path, {
        'pypi_mirror_bundle_dir': str(tmp_path / 'bundle'), 'pypi_mirror_packages': ['netaddr'],
        'pypi_mirror_client_python_versions': ['3.12'], 'pypi_bundle_allow_sdist': True, 'pypi_bundle_server_enabled': False})
    assert failed == 1
    assert ("pypi_bundle_allow_sdist needs this machine's own Python and platform: pip can only choose wheels for "
            "pypi_bundle_python_versions and pypi_bundle_platforms") in ' '.join(run.stdout.split())
    assert not (tmp_path / 'bundle').exists()
