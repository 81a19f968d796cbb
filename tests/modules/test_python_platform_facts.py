"""python_platform_facts on this machine, checked against pip's own idea of which wheels it installs
(pip's vendored packaging.tags), and the platform rules of the bundle against the same oracle."""

import os
import sys

import pytest
from pip._vendor.packaging import tags  # pylint: disable=import-error


SUPPORTED = list(tags.sys_tags())


@pytest.fixture(scope='module')
def facts(module_ansible):
    return module_ansible.run('python_platform_facts', {})['ansible_facts']['python_platform']


def test_the_facts_name_this_pythons_platform(facts):
    assert facts['python'] == '%d.%d' % sys.version_info[:2]
    assert facts['implementation'] == 'cp'
    assert facts['libc'] == 'glibc' and facts['libc_version'] == os.confstr('CS_GNU_LIBC_VERSION').split()[1]
    expected = 'cp%d%d-manylinux_%s_%s' % (sys.version_info[0], sys.version_info[1], facts['libc_version'].replace('.', '_'),
                                           facts['arch'])
    assert facts['name'] == expected


def test_the_platform_tags_are_the_ones_pip_accepts_here_in_pips_order(facts):
    pips = []
    for tag in SUPPORTED:
        if tag.platform.startswith('manylinux') and tag.platform not in pips:
            pips.append(tag.platform)
    assert facts['platform_tags'] == pips


WHEELS = [
    'markupsafe-3.0.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
    'markupsafe-3.0.2-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
    'cryptography-44.0.0-cp39-abi3-manylinux_2_34_x86_64.whl',
    'cryptography-44.0.0-cp37-abi3-manylinux_2_28_aarch64.whl',
    'netaddr-1.3.0-py3-none-any.whl',
    'six-1.16.0-py2.py3-none-any.whl',
    'x-1-cp311-cp311-musllinux_1_2_x86_64.whl',
    'x-1-cp37-abi3-manylinux_2_99_x86_64.whl',
    'x-1-cp311-cp311-linux_x86_64.whl',
    'x-1-cp311-none-any.whl',
    'x-1-py311-none-any.whl',
    'x-1-py2-none-any.whl',
    'zope_interface-8.7-cp311-cp311-manylinux1_x86_64.manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_5_x86_64.whl',
]


@pytest.mark.parametrize('wheel', WHEELS)
def test_a_wheel_fits_exactly_when_pip_would_install_it_here(facts, collection_imports, wheel):
    from ansible_collections.airgap.pypi_mirror.plugins.module_utils.platforms import wheel_fits  # pylint: disable=import-outside-toplevel
    wheel_tags = set(tags.parse_tag('-'.join(wheel[:-4].split('-')[-3:])))
    # linux_x86_64 is this build machine's own tag: pip takes it here, a bundle for other hosts must not.
    expected = bool(wheel_tags & set(t for t in SUPPORTED if not t.platform.startswith('linux_')))
    assert wheel_fits(wheel, facts) is expected
