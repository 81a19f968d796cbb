"""bundle_verify: a bundle is used only when every file is the one its manifest lists, and the manifest the one pinned."""

import hashlib
import os

import pytest

from devpitest import make_wheel


@pytest.fixture
def bundle(ansible, tmp_path):
    """A bundle of two wheels and devpi's one, with its manifest written by bundle_manifest."""
    root = tmp_path / 'bundle'
    for section in ('packages', 'server'):
        (root / section).mkdir(parents=True)
    make_wheel(root / 'packages', 'alpha-tool', '1.0')
    make_wheel(root / 'packages', 'beta-lib', '2.0')
    make_wheel(root / 'server', 'gamma-server', '3.0')
    (root / 'locks').mkdir()
    (root / 'locks' / 'cp311-manylinux_2_36_x86_64.txt').write_text('alpha-tool==1.0 --hash=sha256:%s\n' % ('0' * 64))
    assert ansible.run('bundle_manifest', dict(path=str(root)))['changed'] is True
    return root


def sha256(path):
    with open(str(path), 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_an_intact_bundle_passes_with_its_manifests_sha256(ansible, bundle):
    result = ansible.run('bundle_verify', dict(path=str(bundle), manifest_sha256=sha256(bundle / 'manifest.json')))
    assert result.get('failed') is not True, result
    assert result['changed'] is False
    assert result['manifest_sha256'] == sha256(bundle / 'manifest.json')
    assert sorted(f['file'] for f in result['files']) == sorted(
        os.listdir(str(bundle / 'packages')) + os.listdir(str(bundle / 'server')))
    assert [(lock['platform'], lock['path']) for lock in result['locks']] == [
        ('cp311-manylinux_2_36_x86_64', str(bundle / 'locks' / 'cp311-manylinux_2_36_x86_64.txt'))]


def test_a_swapped_missing_or_added_file_is_named(ansible, bundle):
    swapped = bundle / 'packages' / 'alpha_tool-1.0-py3-none-any.whl'
    assert swapped.exists()
    make_wheel(bundle / 'packages', 'alpha-tool', '1.0', payload=b'evil')
    (bundle / 'server' / 'gamma_server-3.0-py3-none-any.whl').unlink()
    make_wheel(bundle / 'packages', 'delta-extra', '0.1')
    (bundle / 'packages' / 'sub').mkdir()
    (bundle / 'packages' / 'sub' / 'setup.py').write_text('import os; os.system("id")')
    # A lock with one hash changed would let pip install another file: it is named like any other file.
    lock = bundle / 'locks' / 'cp311-manylinux_2_36_x86_64.txt'
    lock.write_text(lock.read_text().replace('0' * 64, '1' * 64))
    (bundle / 'locks' / 'cp313-manylinux_2_41_x86_64.txt').write_text('')
    result = ansible.run('bundle_verify', dict(path=str(bundle)))
    assert result['failed'] is True
    assert result['msg'] == (
        'the bundle %s does not match its manifest, so nothing of it is used: '
        'missing: server/gamma_server-3.0-py3-none-any.whl; '
        'changed since the manifest was written: packages/alpha_tool-1.0-py3-none-any.whl, '
        'locks/cp311-manylinux_2_36_x86_64.txt; '
        'not in the manifest: packages/delta_extra-0.1-py3-none-any.whl, packages/sub/setup.py, '
        'locks/cp313-manylinux_2_41_x86_64.txt' % bundle)


def test_a_manifest_that_is_not_the_pinned_one_is_refused(ansible, bundle):
    pinned = sha256(bundle / 'manifest.json')
    manifest = bundle / 'manifest.json'
    manifest.write_text(manifest.read_text().replace('"beta-lib"', '"beta-lib" '))
    result = ansible.run('bundle_verify', dict(path=str(bundle), manifest_sha256=pinned.upper()))
    assert result['failed'] is True
    assert result['msg'] == '%s is refused: its sha256 is %s, not the %s it was pinned to' % (manifest, sha256(manifest), pinned)


def test_a_directory_without_a_manifest_is_named(ansible, tmp_path):
    result = ansible.run('bundle_verify', dict(path=str(tmp_path)))
    assert result['failed'] is True
    assert result['msg'] == '%s has no manifest.json: build the bundle with playbooks/bundle.yml' % tmp_path
