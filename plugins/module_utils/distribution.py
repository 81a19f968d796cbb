# -*- coding: utf-8 -*-
# Copyright: (c) 2026, airgap.pypi_mirror contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Python distribution files on disk: which ones a src list means, their metadata and their hashes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import email.parser
import hashlib
import os
import tarfile
import zipfile

SUFFIXES = ('.whl', '.tar.gz', '.zip')

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


def expand_sources(sources):
    """Files to upload from a list of files and directories, in order, without repeats.

    A directory means the distributions directly inside it.
    """
    files = []
    seen = set()
    for src in sources:
        path = os.path.abspath(os.path.expanduser(src))
        if os.path.isdir(path):
            found = sorted(os.path.join(path, name) for name in os.listdir(path)
                           if is_distribution_name(name) and os.path.isfile(os.path.join(path, name)))
        elif os.path.isfile(path):
            if not is_distribution_name(path):
                raise DistributionError('src %s is not a Python distribution (expected a .whl, .tar.gz or .zip file)' % src)
            found = [path]
        else:
            raise DistributionError('src %s does not exist' % src)
        for name in found:
            if name not in seen:
                seen.add(name)
                files.append(name)
    return files


def sha256sum(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1024 * 1024), b''):
            digest.update(block)
    return digest.hexdigest()


def _read_wheel(path):
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if n.count('/') == 1 and n.endswith('.dist-info/METADATA')]
        if len(names) != 1:
            raise DistributionError('%s is not a wheel: it has no single .dist-info/METADATA' % path)
        return archive.read(names[0])


def _read_sdist(path):
    if path.endswith('.zip'):
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if name.count('/') == 1 and name.endswith('/PKG-INFO'):
                    return archive.read(name)
    else:
        with tarfile.open(path, 'r:gz') as archive:
            for member in archive:
                if member.isfile() and member.name.count('/') == 1 and member.name.endswith('/PKG-INFO'):
                    return archive.extractfile(member).read()
    raise DistributionError('%s is not a source distribution: it has no top-level PKG-INFO' % path)


def read_metadata(path):
    """Core metadata of a wheel or sdist as devpi's upload form fields ('name', 'version', ...)."""
    try:
        raw = _read_wheel(path) if path.endswith('.whl') else _read_sdist(path)
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
    filename = os.path.basename(path)
    fields['filetype'] = 'bdist_wheel' if filename.endswith('.whl') else 'sdist'
    fields['pyversion'] = filename.split('-')[-3] if filename.endswith('.whl') and filename.count('-') >= 4 else 'source'
    return fields
