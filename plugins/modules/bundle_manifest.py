#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, airgap.pypi_mirror contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: bundle_manifest
short_description: Write the manifest of a bundle of Python distributions
version_added: 1.0.0
description:
  - Lists every distribution (C(.whl), C(.tar.gz), C(.zip)) in the given sections (subdirectories) of a bundle
    directory with its project, version, sha256 and size, and writes that list to C(manifest.json) in the bundle.
  - Writes only when the list differs from the manifest that is there, so an unchanged bundle reports C(changed=false).
  - The pypi_bundle role calls it after downloading; the manifest is what travels across the air gap with the files.
  - With O(platforms), it also records which platform each file serves.
  - Lists the lock files of the bundle's C(locks/) directory (one per client platform, written by
    M(airgap.pypi_mirror.bundle_resolve)) with their sha256 and size too, so they cross the air gap verified.
author:
  - airgap.pypi_mirror maintainers (@airgap-ansible)
options:
  path:
    description:
      - The bundle directory.
    type: path
    required: true
  sections:
    description:
      - Subdirectories of O(path) to list. A missing section lists nothing.
    type: list
    elements: str
    default: [packages, server]
  platforms:
    description:
      - For each section, the platforms its files are for (entries as M(airgap.pypi_mirror.bundle_download) takes them).
      - The manifest then lists these platforms, and for each file the names of the platforms of its section it
        installs on (an sdist fits them all; a file that fits none is left from an earlier platform set).
      - Empty keeps the platforms the manifest already lists, so adding a file and writing the manifest again
        keeps the record.
    type: dict
    default: {}
attributes:
  check_mode:
    description: Can run in check mode and return the changed status it predicts without writing.
    support: full
  diff_mode:
    description: Returns the file names before and after in diff mode.
    support: full
seealso:
  - module: airgap.pypi_mirror.devpi_upload
'''

EXAMPLES = r'''
- name: Make sure the manifest lists every file of the bundle
  airgap.pypi_mirror.bundle_manifest:
    path: /srv/bundle
'''

RETURN = r'''
files:
  description: One entry per distribution, sorted by section and file name.
  returned: always
  type: list
  elements: dict
  sample:
    - file: netaddr-1.3.0-py3-none-any.whl
      section: packages
      project: netaddr
      version: 1.3.0
      sha256: 5c3c3d9895b551b763779ba7db7a03487dc1f8e3b385af819af341ae9ef6e48a
      size: 2294
      platforms: [cp311-manylinux_2_36_x86_64, cp313-manylinux_2_41_x86_64]
platforms:
  description: The platforms of O(platforms), each with its section, as the manifest lists them.
  returned: always
  type: list
  elements: dict
  sample:
    - name: cp311-manylinux_2_36_x86_64
      section: packages
      python: "3.11"
      implementation: cp
      arch: x86_64
      libc: glibc
      libc_version: "2.36"
      hosts: [node1]
locks:
  description: The lock files of the bundle's C(locks/) directory, sorted by name.
  returned: always
  type: list
  elements: dict
  sample:
    - file: cp311-manylinux_2_36_x86_64.txt
      platform: cp311-manylinux_2_36_x86_64
      sha256: 0c1d0f3b8e0f4a0b9d7c6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b
      size: 1290
manifest:
  description: Path of the manifest file.
  returned: always
  type: str
  sample: /srv/bundle/manifest.json
'''

import json
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.airgap.pypi_mirror.plugins.module_utils.distribution import (
    DistributionError,
    is_distribution_name,
    read_metadata,
    sha256sum,
)
from ansible_collections.airgap.pypi_mirror.plugins.module_utils.devpi import normalize_project
from ansible_collections.airgap.pypi_mirror.plugins.module_utils.bundle import MANIFEST, SECTIONS, layout
from ansible_collections.airgap.pypi_mirror.plugins.module_utils.platforms import (
    FIELDS,
    PlatformError,
    merge,
    shape,
    wheel_fits,
)


def section_platforms(module):
    """{section: [platform]} from the platforms option, normalized, merged by name."""
    result = {}
    for section, entries_ in sorted(module.params['platforms'].items()):
        try:
            result[section] = [dict(t, section=section) for t in merge(entries_ or [])]
        except PlatformError as e:
            module.fail_json(msg='platforms.%s: %s' % (section, e))
    return result


def recorded_platforms(text):
    """The platforms an existing manifest lists, by section, so a refresh without platforms keeps them."""
    try:
        listed = json.loads(text).get('platforms', []) if text else []
    except (ValueError, AttributeError):
        return {}
    result = {}
    for p in listed:
        result.setdefault(p.get('section'), []).append(shape(p, p.get('hosts')))
    return result


def entries(path, sections, platforms):
    files = []
    for section in sections:
        directory = os.path.join(path, section)
        if not os.path.isdir(directory):
            continue
        for name in sorted(os.listdir(directory)):
            full = os.path.join(directory, name)
            if not (is_distribution_name(name) and os.path.isfile(full)):
                continue
            metadata = read_metadata(full)
            entry = dict(file=name, section=section, project=normalize_project(metadata['name']),
                         version=metadata['version'], sha256=sha256sum(full), size=os.path.getsize(full))
            if section in platforms:
                entry['platforms'] = [t['name'] for t in platforms[section] if wheel_fits(name, t)]
            files.append(entry)
    return files


def lock_entries(path):
    directory = layout(path)['locks']
    if not os.path.isdir(directory):
        return []
    return [dict(file=name, platform=name[:-len('.txt')], sha256=sha256sum(os.path.join(directory, name)),
                 size=os.path.getsize(os.path.join(directory, name)))
            for name in sorted(os.listdir(directory)) if name.endswith('.txt') and os.path.isfile(os.path.join(directory, name))]


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            sections=dict(type='list', elements='str', default=list(SECTIONS)),
            platforms=dict(type='dict', default={}),
        ),
        supports_check_mode=True,
    )
    path = module.params['path']
    if not os.path.isdir(path):
        module.fail_json(msg='path %s is not a directory' % path)
    manifest = os.path.join(path, MANIFEST)
    before = ''
    if os.path.exists(manifest):
        with open(manifest) as f:
            before = f.read()
    if not module.params['platforms']:
        module.params['platforms'] = recorded_platforms(before)
    platforms = section_platforms(module)
    try:
        files = entries(path, module.params['sections'], platforms)
    except DistributionError as e:
        module.fail_json(msg=str(e))
    listed = [dict((k, t[k]) for k in FIELDS + ('name', 'section', 'hosts')) for s in sorted(platforms) for t in platforms[s]]
    locks = lock_entries(path)
    content = dict(files=files, platforms=listed) if platforms else dict(files=files)
    if locks:
        content['locks'] = locks
    text = json.dumps(content, indent=2, sort_keys=True) + '\n'
    changed = before != text
    if changed and not module.check_mode:
        tmp = manifest + '.tmp'
        with open(tmp, 'w') as f:
            f.write(text)
        os.rename(tmp, manifest)
    result = dict(changed=changed, files=files, platforms=listed, locks=locks, manifest=manifest)
    if module._diff:
        try:
            old = [f['file'] for f in json.loads(before)['files']] if before else []
        except (ValueError, KeyError, TypeError):
            old = []
        result['diff'] = dict(before=dict(files=old), after=dict(files=[f['file'] for f in files]))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
