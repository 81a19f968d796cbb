# -*- coding: utf-8 -*-
# Copyright: (c) 2026, airgap.pypi_mirror contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Where a wheel can be installed: a host's platform (Python, CPU, C library), the wheel tags it accepts,
and whether a wheel's file name fits them. The rules follow the packaging library's tag order."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import platform
import re
import sys

IMPLEMENTATIONS = {'cpython': 'cp', 'pypy': 'pp'}
LIBCS = ('glibc', 'musl')
# A platform's shape: what decides which wheels a host installs (documented by the doc fragment platform).
FIELDS = ('python', 'implementation', 'arch', 'libc', 'libc_version')
# The argument spec of one platform entry, as modules take it (with the hosts named in messages).
OPTIONS = dict(
    python=dict(type='str', required=True),
    implementation=dict(type='str', default='cp', choices=sorted(IMPLEMENTATIONS.values())),
    arch=dict(type='str', required=True),
    libc=dict(type='str', required=True, choices=list(LIBCS)),
    libc_version=dict(type='str', required=True),
    hosts=dict(type='list', elements='str', default=[]),
)
# manylinux tags from before PEP 600, each the alias of a glibc version.
_LEGACY_MANYLINUX = {17: 'manylinux2014', 12: 'manylinux2010', 5: 'manylinux1'}
_OLDEST_GLIBC_MINOR = {'x86_64': 5, 'i686': 5}


class PlatformError(Exception):
    """A platform description that names no real platform; the message names the field."""


def _version_pair(text, field):
    match = re.match(r'^(\d+)\.(\d+)', str(text))
    if not match:
        raise PlatformError("%s '%s' must be a version like 3.11" % (field, text))
    return int(match.group(1)), int(match.group(2))


def normalize(target):
    """A platform dict with every field checked: python, implementation, arch, libc, libc_version."""
    python = '%d.%d' % _version_pair(target.get('python', ''), 'python')
    implementation = target.get('implementation') or 'cp'
    if implementation not in IMPLEMENTATIONS.values():
        raise PlatformError("implementation '%s' must be one of %s" % (implementation, ', '.join(sorted(IMPLEMENTATIONS.values()))))
    arch = target.get('arch') or ''
    if not re.match(r'^[a-z0-9_]+$', arch):
        raise PlatformError("arch '%s' must be a CPU architecture like x86_64 or aarch64" % arch)
    libc = target.get('libc') or ''
    if libc not in LIBCS:
        raise PlatformError("libc '%s' must be glibc or musl" % libc)
    libc_version = '%d.%d' % _version_pair(target.get('libc_version', ''), 'libc_version')
    return dict(zip(FIELDS, (python, implementation, arch, libc, libc_version)))


def shape(target, hosts=None):
    """Only the platform fields of TARGET (a python_platform fact, say), with HOSTS when given."""
    result = dict((k, target[k]) for k in FIELDS if k in target)
    if hosts is not None:
        result['hosts'] = list(hosts)
    return result


def merge(entries):
    """The distinct platforms of ENTRIES, normalized and named, in the order given; the hosts of equal
    platforms are joined. Raises PlatformError naming the field and the hosts of a bad entry."""
    merged = {}
    for entry in entries:
        if not isinstance(entry, dict):
            raise PlatformError("'%s' must be a dict with python, arch, libc and libc_version" % (entry,))
        hosts = list(entry.get('hosts') or [])
        try:
            target = normalize(entry)
        except PlatformError as e:
            raise PlatformError('%s (hosts: %s)' % (e, ', '.join(hosts) or 'none named'))
        target['name'] = name(target)
        known = merged.setdefault(target['name'], dict(target, hosts=[]))
        known['hosts'] = sorted(set(known['hosts']) | set(hosts))
    return list(merged.values())


def platform_tags(target):
    """The platform tags a host of this platform accepts, most specific first."""
    major, minor = _version_pair(target['libc_version'], 'libc_version')
    arch = target['arch']
    tags = []
    if target['libc'] == 'musl':
        for m in range(minor, -1, -1):
            tags.append('musllinux_%d_%d_%s' % (major, m, arch))
        return tags
    for m in range(minor, _OLDEST_GLIBC_MINOR.get(arch, 17) - 1, -1):
        tags.append('manylinux_%d_%d_%s' % (major, m, arch))
        legacy = _LEGACY_MANYLINUX.get(m) if major == 2 else None
        if legacy and (legacy == 'manylinux2014' or arch in ('x86_64', 'i686')):
            tags.append('%s_%s' % (legacy, arch))
    return tags


def name(target):
    """The platform's short name: its interpreter tag and its most specific platform tag."""
    return '%s%s-%s' % (target['implementation'], target['python'].replace('.', ''), platform_tags(target)[0])


def describe(target):
    """The platform's name with the hosts it stands for, for messages."""
    hosts = target.get('hosts') or []
    return 'platform %s%s' % (target['name'], ' (%s)' % ', '.join(hosts) if hosts else '')


def pip_args(target):
    """The pip arguments that make pip choose wheels for TARGET instead of for the machine it runs on."""
    return (['--only-binary=:all:', '--python-version', target['python'], '--implementation', target['implementation']]
            + ['--platform=%s' % tag for tag in platform_tags(target)])


def pip_errors(text):
    """pip's ERROR lines, or the end of its output when it printed none."""
    lines = [line for line in text.splitlines() if line.startswith('ERROR')]
    return ' '.join(lines or text.strip().splitlines()[-3:])


def _accepts(target, py, abi):
    """Whether TARGET's Python accepts a wheel built for interpreter tag PY and ABI tag ABI."""
    major, minor = _version_pair(target['python'], 'python')
    own = '%s%d%d' % (target['implementation'], major, minor)
    if py == own:
        return abi in (own, 'none') or (abi == 'abi3' and target['implementation'] == 'cp')
    older_cpython = ['cp%d%d' % (major, m) for m in range(2, minor)]
    if py in older_cpython:
        # The stable ABI: a wheel for CPython 3.W and abi3 serves every later CPython 3.
        return abi == 'abi3' and target['implementation'] == 'cp'
    generic = ['py%d' % major] + ['py%d%d' % (major, m) for m in range(minor + 1)]
    return py in generic and abi == 'none'


def wheel_fits(filename, target):
    """Whether the wheel FILENAME installs on TARGET; an sdist fits everywhere pip can build it."""
    if not filename.endswith('.whl'):
        return True
    parts = filename[:-4].split('-')
    if len(parts) < 5:
        return False
    pythons, abis, plats = (p.split('.') for p in parts[-3:])
    accepted = set(platform_tags(target))
    for plat in plats:
        for py in pythons:
            for abi in abis:
                # A wheel for any platform is pure Python: pip takes it with a generic pyX tag only.
                if (plat in accepted or plat == 'any' and py.startswith('py')) and _accepts(target, py, abi):
                    return True
    return False


def detect(run_command):
    """This host's platform, read with the standard library (glibc from confstr, musl from its loader).

    run_command is the module's AnsibleModule.run_command, which runs the musl loader.
    """
    impl = IMPLEMENTATIONS.get(sys.implementation.name, sys.implementation.name)
    arch = platform.machine().lower()
    if arch in ('x86_64', 'amd64') and sys.maxsize <= 2 ** 32:
        arch = 'i686'
    elif arch == 'amd64':
        arch = 'x86_64'
    elif arch == 'arm64':
        arch = 'aarch64'
    libc, libc_version = '', ''
    try:
        gnu = os.confstr('CS_GNU_LIBC_VERSION') or ''
    except (AttributeError, ValueError, OSError):
        gnu = ''
    if gnu.startswith('glibc '):
        libc, libc_version = 'glibc', gnu.split()[1]
    else:
        loaders = sorted(p for p in os.listdir('/lib') if p.startswith('ld-musl-')) if os.path.isdir('/lib') else []
        if loaders:
            # The loader prints its version on stderr and exits 1 when run without a program.
            err = run_command([os.path.join('/lib', loaders[0])])[2]
            match = re.search(r'Version (\d+\.\d+)', err)
            if match:
                libc, libc_version = 'musl', match.group(1)
    return dict(python='%d.%d' % sys.version_info[:2], implementation=impl, arch=arch, libc=libc,
                libc_version=libc_version, python_executable=sys.executable)
