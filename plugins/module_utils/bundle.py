# -*- coding: utf-8 -*-
# Copyright: (c) 2026, airgap.pypi_mirror contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The bundle's layout, written once: what pypi_bundle fills on the online side and what the site reads."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.airgap.pypi_mirror.plugins.module_utils.distribution import sha256sum

# The clients' distributions: what the site index gets.
PACKAGES = 'packages'
# devpi-server and devpi-web with their dependencies, for the admin hosts.
SERVER = 'server'
SECTIONS = (PACKAGES, SERVER)
# One hash-locked requirement file per client platform, PLATFORM.txt.
LOCKS = 'locks'
MANIFEST = 'manifest.json'


def layout(bundle_dir):
    """The paths of a bundle directory's parts: {dir, packages, server, locks, manifest}."""
    bundle_dir = str(bundle_dir).rstrip('/') or '/'
    return dict(dir=bundle_dir, packages=os.path.join(bundle_dir, PACKAGES), server=os.path.join(bundle_dir, SERVER),
                locks=os.path.join(bundle_dir, LOCKS), manifest=os.path.join(bundle_dir, MANIFEST))


class BundleError(ValueError):
    """A bundle that does not match its manifest; the message names the files."""


def verify(bundle_dir, manifest_sha256=None):
    """The manifest's entries (each with its file's path), its own sha256 and its lock entries (each with its path),
    after checking every file and lock against them.

    Raises BundleError naming every file that is missing, changed (sha256 or size) or not in the manifest,
    or the manifest itself when its sha256 is not MANIFEST_SHA256.
    """
    paths = layout(bundle_dir)
    if not os.path.isfile(paths['manifest']):
        raise BundleError('%s has no %s: build the bundle with playbooks/bundle.yml' % (paths['dir'], MANIFEST))
    own = sha256sum(paths['manifest'])
    if manifest_sha256 and own != manifest_sha256.strip().lower():
        raise BundleError('%s is refused: its sha256 is %s, not the %s it was pinned to'
                          % (paths['manifest'], own, manifest_sha256.strip().lower()))
    with open(paths['manifest'], 'rb') as f:
        try:
            manifest = json.loads(f.read().decode('utf-8'))
            entries = [dict(entry) for entry in manifest['files']]
            locks = [dict(entry) for entry in manifest.get('locks', [])]
        except (ValueError, KeyError, TypeError) as e:
            raise BundleError('%s is not a manifest of this collection: %s' % (paths['manifest'], e))
    listed, missing, changed = set(), [], []
    for section, entry in [(e.get('section'), e) for e in entries] + [(LOCKS, e) for e in locks]:
        relative = '%s/%s' % (section, entry.get('file'))
        listed.add(relative)
        path = os.path.join(paths['dir'], relative)
        entry['path'] = path
        if section not in SECTIONS + (LOCKS,) or '/' in str(entry.get('file')) or not os.path.isfile(path):
            missing.append(relative)
        elif os.path.getsize(path) != entry.get('size') or sha256sum(path) != entry.get('sha256'):
            changed.append(relative)
    unlisted = []
    for section in SECTIONS + (LOCKS,):
        for root, dirs, files in os.walk(paths[section]):
            dirs.sort()
            for name in sorted(files):
                relative = os.path.relpath(os.path.join(root, name), paths['dir'])
                if relative not in listed:
                    unlisted.append(relative)
    found = (('missing', missing), ('changed since the manifest was written', changed), ('not in the manifest', unlisted))
    problems = [(what, names) for what, names in found if names]
    if problems:
        raise BundleError('the bundle %s does not match its manifest, so nothing of it is used: %s'
                          % (paths['dir'], '; '.join('%s: %s' % (what, ', '.join(names)) for what, names in problems)))
    return entries, own, locks
