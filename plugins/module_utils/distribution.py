# -*- coding: utf-8 -*-
# Copyright: (c) 2026, airgap.pypi_mirror contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Python distribution files on disk: which ones a src list means, their metadata and their hashes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import email.parser
import hashlib
import os
import re
import tarfile
import zipfile

# The archive formats of Python distributions that devpi-server accepts: wheels, eggs and source archives.
WHEEL, EGG = '.whl', '.egg'
SDIST_SUFFIXES = ('.tar.gz', '.tgz', '.tar.bz2', '.zip')
SUFFIXES = (WHEEL, EGG) + SDIST_SUFFIXES

# Core metadata headers that repeat, sent as repeated form fields like twine and devpi-client do.
_MULTI = {
    'Classifier': 'classifiers',
    'Requires-Dist': 'requires_dist',
    'Provides-Extra': 'provides_extras',
    'Project-URL': 'project_urls',
    'Platform': 'platform',
    'Supported-Platform': 'supported_platform',
    'Dynamic': 'dynamic',
    'License-File': 'license_file',
}
_SINGLE = {
    'Metadata-Version': 'metadata_version',
    'Name': 'name',
    'Version': 'version',
    'Summary': 'summary',
    'Home-page': 'home_page',
    'Author': 'author',
    'Author-email': 'author_email',
    'Maintainer': 'maintainer',
    'Maintainer-email': 'maintainer_email',
    'License': 'license',
    'License-Expression': 'license_expression',
    'Keywords': 'keywords',
    'Download-URL': 'download_url',
    'Requires-Python': 'requires_python',
    'Description-Content-Type': 'description_content_type',
}


class DistributionError(ValueError):
    """A path that is missing or is not a Python distribution."""


def is_distribution_name(filename):
    return filename.endswith(SUFFIXES)


def find_distributions(sources, read=False):
    """The distribution files a list of files and directories means, in order without repeats, and the problems.

    A directory means every file inside it, at any depth, and each must be a distribution: nothing is skipped
    silently. With read, each file's metadata must be readable too. Returns (files, problems); each problem
    is a sentence naming the path.
    """
    files, problems, by_name, seen = [], [], {}, set()
    for src in sources:
        path = os.path.abspath(os.path.expanduser(src))
        if os.path.isdir(path):
            found = []
            for root, dirs, names in os.walk(path):
                dirs.sort()
                found.extend(os.path.join(root, name) for name in sorted(names))
            for name in found:
                if not is_distribution_name(name):
                    problems.append('%s (in %s) is not a Python distribution (expected %s)' % (name, src, _expected()))
        elif os.path.isfile(path):
            found = [path]
            if not is_distribution_name(path):
                problems.append('%s is not a Python distribution (expected %s)' % (src, _expected()))
        else:
            problems.append('%s does not exist' % src)
            continue
        for name in found:
            if not is_distribution_name(name) or name in seen:
                continue
            seen.add(name)
            other = by_name.setdefault(os.path.basename(name), name)
            if other != name:
                # One index holds one file of a name: which of the two was meant cannot be guessed.
                problems.append('%s and %s have the same file name' % (other, name))
                continue
            if read:
                try:
                    read_metadata(name)
                except DistributionError as e:
                    problems.append(str(e))
                    continue
            files.append(name)
    return files, problems


def _expected():
    return 'a file ending with %s' % ', '.join(SUFFIXES)


def expand_sources(sources):
    """The distribution files of find_distributions(); DistributionError naming every problem."""
    files, problems = find_distributions(sources)
    if problems:
        raise DistributionError('; '.join(problems))
    return files


def sha256sum(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1024 * 1024), b''):
            digest.update(block)
    return digest.hexdigest()


def _read_zip_member(path, wanted, what):
    """The one top-level member DIR/NAME of a zip archive that ends with wanted ('.dist-info/METADATA', ...)."""
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if n.count('/') == 1 and n.endswith(wanted)]
        if len(names) != 1:
            raise DistributionError('%s is not %s: it has no single top-level %s' % (path, what, wanted.lstrip('/')))
        return archive.read(names[0])


def _read_tar_member(path, wanted, what):
    with tarfile.open(path, 'r:*') as archive:
        for member in archive:
            if member.isfile() and member.name.count('/') == 1 and member.name.endswith(wanted):
                return archive.extractfile(member).read()
    raise DistributionError('%s is not %s: it has no top-level %s' % (path, what, wanted.lstrip('/')))


def _read_raw(path):
    if path.endswith(WHEEL):
        return _read_zip_member(path, '.dist-info/METADATA', 'a wheel')
    if path.endswith(EGG):
        return _read_zip_member(path, 'EGG-INFO/PKG-INFO', 'an egg')
    if path.endswith('.zip'):
        return _read_zip_member(path, '/PKG-INFO', 'a source distribution')
    return _read_tar_member(path, '/PKG-INFO', 'a source distribution')


def _file_type(filename):
    """devpi's filetype and pyversion form fields for a distribution's file name."""
    if filename.endswith(WHEEL):
        return 'bdist_wheel', filename.split('-')[-3] if filename.count('-') >= 4 else 'any'
    if filename.endswith(EGG):
        match = re.search(r'-py(\d[\d.]*)\.egg$', filename)
        return 'bdist_egg', match.group(1) if match else 'any'
    return 'sdist', 'source'


def read_metadata(path):
    """Core metadata of a wheel or sdist as devpi's upload form fields ('name', 'version', ...)."""
    try:
        raw = _read_raw(path)
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError) as e:
        raise DistributionError('%s is not a Python distribution: %s' % (path, e))
    message = email.parser.Parser().parsestr(raw.decode('utf-8', 'replace'))
    fields = {}
    for header, key in _SINGLE.items():
        value = message.get(header)
        if value is not None:
            fields[key] = str(value).strip()
    for header, key in _MULTI.items():
        values = message.get_all(header)
        if values:
            fields[key] = [str(v).strip() for v in values]
    description = message.get_payload() or message.get('Description')
    if description:
        fields['description'] = description
    if not fields.get('name') or not fields.get('version'):
        raise DistributionError('%s is not a Python distribution: its metadata has no Name or Version' % path)
    fields['filetype'], fields['pyversion'] = _file_type(os.path.basename(path))
    return fields


# pip's build requirements for a source tree without a [build-system] table (PEP 518's fallback).
LEGACY_BUILD_REQUIRES = ['setuptools>=40.8.0']


def raw_metadata(path):
    """The core metadata file of a distribution (a wheel's METADATA, an sdist's PKG-INFO), as bytes."""
    try:
        return _read_raw(path)
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError) as e:
        raise DistributionError('%s is not a Python distribution: %s' % (path, e))


def build_requires(path):
    """What pip installs to build the sdist PATH: its pyproject.toml's build-system.requires, or pip's fallback."""
    try:
        if path.endswith('.zip'):
            text = _read_zip_member(path, '/pyproject.toml', 'a source distribution')
        else:
            text = _read_tar_member(path, '/pyproject.toml', 'a source distribution')
    except DistributionError:
        return list(LEGACY_BUILD_REQUIRES)
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError) as e:
        raise DistributionError('%s is not a Python distribution: %s' % (path, e))
    text = text.decode('utf-8', 'replace')
    try:
        import tomllib
        table = tomllib.loads(text).get('build-system')
        requires = table.get('requires') if isinstance(table, dict) else None
    except ImportError:
        # Python before 3.11: the one array pip reads, found by its table and key.
        section = re.search(r'^\[build-system\]\s*$(.*?)(?=^\[|\Z)', text, re.M | re.S)
        array = re.search(r'^requires\s*=\s*\[(.*?)\]', section.group(1), re.M | re.S) if section else None
        requires = re.findall(r'''["']([^"']+)["']''', array.group(1)) if array else None
    except ValueError as e:
        raise DistributionError('%s has a pyproject.toml pip cannot read: %s' % (path, e))
    return list(requires) if requires is not None else list(LEGACY_BUILD_REQUIRES)
