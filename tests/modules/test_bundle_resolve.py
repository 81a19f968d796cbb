"""bundle_resolve: pip's resolver, for each platform, against a directory of distributions alone, the lock files it
writes, and the same check against a real devpi index."""

import glob
import hashlib
import os
import shutil
import subprocess
import sys

import pytest

from devpitest import make_sdist, make_wheel

# This machine's own kind of platform and an older one: pure wheels serve both.
PLATFORMS = [{'python': '%d.%d' % sys.version_info[:2], 'arch': 'x86_64', 'libc': 'glibc', 'libc_version': '2.36'},
             {'python': '3.9', 'arch': 'aarch64', 'libc': 'glibc', 'libc_version': '2.34', 'hosts': ['rhel9']}]


def bundle(tmp_path):
    packages = tmp_path / 'packages'
    packages.mkdir()
    make_wheel(packages, 'site-app', '2.0', requires=['site-lib>=1.1', 'site-extra; sys_platform == "win32"'])
    make_wheel(packages, 'site-lib', '1.2', requires=['site-core'])
    make_wheel(packages, 'site-core', '0.9')
    make_wheel(packages, 'site-extra', '1.0')
    return packages


def test_a_complete_bundle_resolves_for_every_platform_and_changes_nothing(ansible, tmp_path):
    packages = bundle(tmp_path)
    result = ansible.run('bundle_resolve', dict(path=str(packages), requirements=['site-app'], platforms=PLATFORMS),
                         check=True)
    assert result['changed'] is False and not result.get('failed'), result.get('msg')
    files = dict((p['name'].split('-')[0] + '-' + p['arch'], p['files']) for p in result['platforms'])
    this = [f for n, f in files.items() if n.endswith('x86_64')][0]
    older = files['cp39-aarch64']
    assert this == ['site_app-2.0-py3-none-any.whl', 'site_core-0.9-py3-none-any.whl', 'site_lib-1.2-py3-none-any.whl']
    # Pure wheels serve both; the Windows-only dependency is not wanted on either.
    assert older == this


def test_a_missing_dependency_is_named_with_who_needs_it_and_the_platform(ansible, tmp_path):
    packages = bundle(tmp_path)
    (packages / 'site_core-0.9-py3-none-any.whl').unlink()
    (packages / 'site_extra-1.0-py3-none-any.whl').unlink()  # Wanted on Windows only: not missed.
    result = ansible.run('bundle_resolve', dict(path=str(packages), requirements=['site-app'], platforms=PLATFORMS))
    assert result['failed'] is True
    this = 'cp%d%d' % sys.version_info[:2]
    assert result['msg'].startswith('the requirements do not resolve from %s alone, so the bundle is not complete: '
                                    'platform %s-manylinux_2_36_x86_64: site-core (needed by site-lib) is not in the '
                                    'bundle as a file for it; platform cp39-manylinux_2_34_aarch64 (rhel9): '
                                    % (packages, this)), result['msg']
    assert result['problems'][1] == ('platform cp39-manylinux_2_34_aarch64 (rhel9): site-core (needed by site-lib) is '
                                     'not in the bundle as a file for it')


def test_a_requirement_file_that_is_not_there_is_named(ansible, tmp_path):
    result = ansible.run('bundle_resolve', dict(path=str(bundle(tmp_path)), requirement_files=[str(tmp_path / 'nope.txt')],
                                                platforms=PLATFORMS))
    assert result['failed'] is True
    assert result['msg'] == 'requirement_files: %s does not exist' % (tmp_path / 'nope.txt')


def sha256(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_each_platform_gets_a_hash_locked_requirement_file_written_once(ansible, tmp_path):
    packages, locks = bundle(tmp_path), tmp_path / 'locks'
    locks.mkdir()
    (locks / 'cp27-gone.txt').write_text('# a platform no longer served\n')
    args = dict(path=str(packages), requirements=['site-app'], platforms=PLATFORMS, lock_dir=str(locks))
    predicted = ansible.run('bundle_resolve', args, check=True, diff=True)
    assert predicted['changed'] is True and os.listdir(locks) == ['cp27-gone.txt']
    assert 'site-core==0.9' in predicted['diff']['after']
    first = ansible.run('bundle_resolve', args)
    names = sorted(p['name'] + '.txt' for p in first['platforms'])
    assert first['changed'] is True and sorted(os.listdir(locks)) == names
    text = (locks / names[0]).read_text()
    core = sha256(packages / 'site_core-0.9-py3-none-any.whl')
    assert ('site-core==0.9 \\\n    --hash=sha256:%s\n    # via site-app\n' % core) in text
    assert 'site-app==2.0 \\\n    --hash=sha256:' in text and 'site-extra' not in text
    assert [p['lock'] for p in first['platforms']] == [str(locks / n) for n in [p['name'] + '.txt' for p in first['platforms']]]
    second = ansible.run('bundle_resolve', args, judged=True)
    assert second['changed'] is False


@pytest.mark.one_core
def test_a_node_installs_the_lock_with_require_hashes_and_refuses_a_changed_hash(ansible, tmp_path):
    packages, locks = bundle(tmp_path), tmp_path / 'locks'
    locks.mkdir()
    this = PLATFORMS[:1]
    result = ansible.run('bundle_resolve', dict(path=str(packages), requirements=['site-app'], platforms=this,
                                                lock_dir=str(locks)))
    lock = result['platforms'][0]['lock']
    pip = [sys.executable, '-m', 'pip', 'install', '--isolated', '--no-index', '--find-links', str(packages),
           '--target', str(tmp_path / 'venv'), '--require-hashes', '--requirement']
    done = subprocess.run(pip + [lock], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / 'venv' / 'site_core').is_dir() or any(n.startswith('site_core') for n in os.listdir(tmp_path / 'venv'))
    text = open(lock).read()
    core = sha256(packages / 'site_core-0.9-py3-none-any.whl')
    changed = tmp_path / 'changed.txt'
    changed.write_text(text.replace(core, '0' * 64))
    refused = subprocess.run(pip + [str(changed)], capture_output=True, text=True, check=False)
    assert refused.returncode != 0 and 'THESE PACKAGES DO NOT MATCH THE HASHES' in refused.stderr
    assert 'site-core==0.9' in refused.stderr


@pytest.mark.one_core
def test_an_sdist_counts_with_its_declared_dependencies_and_its_build_backend(ansible, tmp_path):
    packages = bundle(tmp_path)
    (packages / 'site_core-0.9-py3-none-any.whl').unlink()
    make_sdist(packages, 'site-core', '0.9', requires=['site-base'], build_requires=['flit_core>=3.2,<4'])
    make_wheel(packages, 'site-base', '1.0')
    make_wheel(packages, 'flit-core', '3.9.0')
    locks = tmp_path / 'locks'
    locks.mkdir()
    result = ansible.run('bundle_resolve', dict(path=str(packages), requirements=['site-app'], platforms=PLATFORMS[:1],
                                                lock_dir=str(locks)))
    assert not result.get('failed'), result.get('msg')
    assert 'site_core-0.9.tar.gz' in result['platforms'][0]['files']
    assert 'site_base-1.0-py3-none-any.whl' in result['platforms'][0]['files']
    text = open(result['platforms'][0]['lock']).read()
    assert 'site-core==0.9 \\\n    --hash=sha256:%s\n' % sha256(packages / 'site_core-0.9.tar.gz') in text


@pytest.mark.one_core
def test_an_sdist_whose_build_backend_is_missing_names_the_backend(ansible, tmp_path):
    packages = bundle(tmp_path)
    (packages / 'site_core-0.9-py3-none-any.whl').unlink()
    make_sdist(packages, 'site-core', '0.9', build_requires=['flit_core>=3.2,<4'])
    result = ansible.run('bundle_resolve', dict(path=str(packages), requirements=['site-app'], platforms=PLATFORMS[1:]))
    assert result['failed'] is True
    assert result['problems'] == ['platform cp39-manylinux_2_34_aarch64 (rhel9): the build backend flit_core>=3.2,<4 of '
                                  'site_core-0.9.tar.gz (needed by site-app) is not in the bundle as a file for it']


@pytest.mark.one_core
def test_a_legacy_sdist_needs_setuptools_and_is_named_for_its_unread_dependencies(ansible, tmp_path):
    packages = bundle(tmp_path)
    (packages / 'site_core-0.9-py3-none-any.whl').unlink()
    make_sdist(packages, 'site-core', '0.9')
    result = ansible.run('bundle_resolve', dict(path=str(packages), requirements=['site-app'], platforms=PLATFORMS[:1]))
    assert result['failed'] is True
    assert 'the build backend setuptools>=40.8.0 of site_core-0.9.tar.gz (needed by site-app)' in result['msg']
    assert any('the dependencies of site_core-0.9.tar.gz are not declared in its PKG-INFO (core metadata 2.1)' in w
               for w in result.get('warnings', []))


@pytest.mark.one_core
def test_requirement_files_are_followed_and_a_constraint_is_refused_by_file_and_line(ansible, tmp_path):
    packages = bundle(tmp_path)
    (tmp_path / 'more.txt').write_text('site-lib>=1.0 \\\n    --hash=sha256:%s\n' % ('a' * 64))
    (tmp_path / 'req.txt').write_text('# the site\n--index-url http://example.invalid/simple/\nsite-app  # the app\n-r more.txt\n')
    ok = ansible.run('bundle_resolve', dict(path=str(packages), requirement_files=[str(tmp_path / 'req.txt')],
                                            platforms=PLATFORMS[:1]))
    assert not ok.get('failed'), ok.get('msg')
    assert 'site_app-2.0-py3-none-any.whl' in ok['platforms'][0]['files']
    (tmp_path / 'more.txt').write_text('site-lib\n\n-c constraints.txt\n')
    refused = ansible.run('bundle_resolve', dict(path=str(packages), requirement_files=[str(tmp_path / 'req.txt')],
                                                 platforms=PLATFORMS[:1]))
    assert refused['msg'] == ('%s line 3: -c is not taken here; give requirements and -r includes only'
                              % (tmp_path / 'more.txt'))


@pytest.mark.one_core
def test_the_site_index_is_checked_against_the_locks(ansible, devpi, unique, tmp_path):
    packages, locks = bundle(tmp_path), tmp_path / 'locks'
    locks.mkdir()
    this = PLATFORMS[:1]
    ansible.run('bundle_resolve', dict(path=str(packages), requirements=['site-app'], platforms=this, lock_dir=str(locks)))
    ansible.run('devpi_user', dict(name=unique, password='pw-owner-1'))
    ansible.run('devpi_index', dict(name=unique + '/prod', volatile=False, acl_upload=[unique, 'root']))
    upload = [str(packages / n) for n in os.listdir(packages) if not n.startswith('site_core')]
    ansible.run('devpi_upload', dict(index=unique + '/prod', src=upload))
    url = '%s/%s/prod/+simple/' % (devpi.url, unique)
    args = dict(index_url=url, lock_dir=str(locks), platforms=this)
    missing = ansible.run('bundle_resolve', args)
    assert missing['failed'] is True
    assert missing['problems'][0].endswith(': site-core==0.9 (needed by site-app) is not served by %s as a file for it' % url)
    ansible.run('devpi_upload', dict(index=unique + '/prod', src=[str(packages / 'site_core-0.9-py3-none-any.whl')]))
    served = ansible.run('bundle_resolve', dict(args, requirements=['site-app']), judged=True)
    assert served['changed'] is False and not served.get('failed'), served.get('msg')
    assert 'site_core-0.9-py3-none-any.whl' in served['platforms'][0]['files']
    # A lock whose hash for site-core is not the served file's: pip refuses the file, and the check names it.
    lock = locks / os.listdir(locks)[0]
    lock.write_text(lock.read_text().replace(sha256(packages / 'site_core-0.9-py3-none-any.whl'), 'b' * 64))
    refused = ansible.run('bundle_resolve', args)
    assert refused['failed'] is True
    assert refused['problems'][0].endswith(': the file of site-core==0.9 served by %s (site_core-0.9-py3-none-any.whl) '
                                           'has none of the sha256 of the lock (needed by site-app)' % url)


def python_of(version):
    """A CPython VERSION of this machine, searched for at run time: on PATH, then among pyenv's versions."""
    candidates = [shutil.which('python' + version)] + sorted(
        glob.glob(os.path.expanduser('~/.pyenv/versions/%s*/bin/python%s' % (version, version))))
    for candidate in filter(None, candidates):
        run = subprocess.run([candidate, '-c', 'import sys, pip; print("%d.%d" % sys.version_info[:2])'],
                             capture_output=True, text=True, check=False)
        if run.returncode == 0 and run.stdout.strip() == version:
            return candidate
    pytest.fail('this test needs a CPython %s with pip on this machine (on PATH or under ~/.pyenv/versions)' % version)


@pytest.mark.one_core
def test_markers_are_those_of_each_platforms_own_python_when_one_is_given(ansible, tmp_path):
    packages = tmp_path / 'packages'
    packages.mkdir()
    make_wheel(packages, 'site-app', '2.0', requires=['site-new; python_version >= "3.13"', 'site-old; python_version < "3.12"'])
    make_wheel(packages, 'site-old', '1.0')
    platforms = [dict(PLATFORMS[0], python='3.11'), dict(PLATFORMS[0], python='3.13', libc_version='2.41', hosts=['trixie'])]
    python311, python313 = python_of('3.11'), python_of('3.13')
    args = dict(path=str(packages), requirements=['site-app'], platforms=platforms, python=python311)
    # One Python for both: 3.13's markers are read as 3.11's, so the dependency it lacks is not missed.
    blind = ansible.run('bundle_resolve', args)
    assert not blind.get('failed'), blind.get('msg')
    assert [p['resolver'] for p in blind['platforms']] == [python311, python311]
    seeing = ansible.run('bundle_resolve', dict(args, pythons=[python313]))
    assert seeing['failed'] is True
    assert seeing['problems'] == ['platform cp313-manylinux_2_41_x86_64 (trixie): site-new (needed by site-app) is not '
                                  'in the bundle as a file for it']
    make_wheel(packages, 'site-new', '1.0')
    both = ansible.run('bundle_resolve', dict(args, pythons=[python313]))
    files = dict((p['python'], p['files']) for p in both['platforms'])
    assert files == {'3.11': ['site_app-2.0-py3-none-any.whl', 'site_old-1.0-py3-none-any.whl'],
                     '3.13': ['site_app-2.0-py3-none-any.whl', 'site_new-1.0-py3-none-any.whl']}


@pytest.mark.one_core
def test_of_several_requirements_those_that_do_not_resolve_are_named(ansible, tmp_path):
    packages = bundle(tmp_path)
    (packages / 'site_core-0.9-py3-none-any.whl').unlink()
    result = ansible.run('bundle_resolve', dict(path=str(packages), requirements=['site-extra', 'site-app>=2'],
                                                platforms=PLATFORMS[1:]))
    assert result['problems'] == ['platform cp39-manylinux_2_34_aarch64 (rhel9): site-core (needed by site-lib) is not in '
                                  'the bundle as a file for it; the requirements that do not resolve: site-app>=2']
