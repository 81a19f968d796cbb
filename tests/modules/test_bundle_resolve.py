"""bundle_resolve: pip's resolver, for each platform, against a directory of wheels alone."""

import sys

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
                                    'bundle as a wheel for it; platform cp39-manylinux_2_34_aarch64 (rhel9): '
                                    % (packages, this)), result['msg']
    assert result['problems'][1] == ('platform cp39-manylinux_2_34_aarch64 (rhel9): site-core (needed by site-lib) is '
                                     'not in the bundle as a wheel for it')


def test_a_project_there_only_as_an_sdist_does_not_resolve(ansible, tmp_path):
    packages = bundle(tmp_path)
    (packages / 'site_core-0.9-py3-none-any.whl').unlink()
    make_sdist(packages, 'site-core', '0.9')
    result = ansible.run('bundle_resolve', dict(path=str(packages), requirements=['site-app'], platforms=PLATFORMS[:1]))
    assert result['failed'] is True
    assert 'site-core (needed by site-lib) is not in the bundle as a wheel for it' in result['msg']


def test_a_requirement_file_that_is_not_there_is_named(ansible, tmp_path):
    result = ansible.run('bundle_resolve', dict(path=str(bundle(tmp_path)), requirement_files=[str(tmp_path / 'nope.txt')],
                                                platforms=PLATFORMS))
    assert result['failed'] is True
    assert result['msg'] == 'requirement_files: %s does not exist' % (tmp_path / 'nope.txt')
