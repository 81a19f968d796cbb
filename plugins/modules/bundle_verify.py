#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, airgap.pypi_mirror contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: bundle_verify
short_description: Check every file of a bundle against its manifest, and the manifest against a pinned sha256
version_added: 1.0.0
description:
  - Reads the bundle's C(manifest.json) (written by M(airgap.pypi_mirror.bundle_manifest)) and checks every file of
    its sections (C(packages/), C(server/)) and every lock file (C(locks/)) against it, by size and sha256.
  - Fails, naming the files, when a file is missing, has changed, or is not in the manifest; nothing of such a bundle
    should be used.
  - With O(manifest_sha256), the manifest itself must have that sha256. Carried across the air gap on a separate
    channel, it is what makes the whole bundle trusted.
  - Runs where the bundle is, usually the controller (with C(delegate_to) localhost).
author:
  - airgap.pypi_mirror maintainers (@airgap-ansible)
options:
  path:
    description:
      - The bundle directory.
    type: path
    required: true
  manifest_sha256:
    description:
      - The sha256 the manifest must have, as C(bundle.yml) printed it. Empty checks the files against the manifest only.
    type: str
    default: ""
attributes:
  check_mode:
    description: Reads only; runs the same in check mode.
    support: full
  diff_mode:
    description: Changes nothing, so there is no diff.
    support: none
seealso:
  - module: airgap.pypi_mirror.bundle_manifest
'''

EXAMPLES = r'''
- name: Check the bundle before anything of it is used
  airgap.pypi_mirror.bundle_verify:
    path: /srv/offline/pypi-bundle
    manifest_sha256: "{{ pypi_mirror_bundle_sha256 }}"
  delegate_to: localhost
  run_once: true
'''

RETURN = r'''
manifest_sha256:
  description: The manifest's own sha256.
  returned: success
  type: str
  sample: 3f2c9a0e2b1d4c5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6
files:
  description: The manifest's entries, every one checked, each with its file's C(path) in the bundle directory.
  returned: success
  type: list
  elements: dict
  sample:
    - file: netaddr-1.3.0-py3-none-any.whl
      section: packages
      project: netaddr
      version: 1.3.0
      sha256: 5c3c3d9895b551b763779ba7c7a03487b7a1a45c1ab9f31c1ee5ea2d3b2df4a3
      size: 2290233
      path: /srv/offline/pypi-bundle/packages/netaddr-1.3.0-py3-none-any.whl
locks:
  description:
    - The manifest's lock files (one per client platform, as RV(airgap.pypi_mirror.bundle_manifest#module:locks) lists
      them), every one checked, each with its C(path).
  returned: success
  type: list
  elements: dict
  sample:
    - {file: cp311-manylinux_2_36_x86_64.txt, platform: cp311-manylinux_2_36_x86_64, size: 1290,
       sha256: 0c1d0f3b8e0f4a0b9d7c6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b,
       path: /srv/offline/pypi-bundle/locks/cp311-manylinux_2_36_x86_64.txt}
platforms:
  description:
    - The platforms the manifest lists, as RV(airgap.pypi_mirror.bundle_manifest#module:platforms) writes them (empty
      for a manifest without them).
  returned: success
  type: list
  elements: dict
  sample: [{name: cp311-manylinux_2_36_x86_64, section: packages, hosts: [node1]}]
'''

import json

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.airgap.pypi_mirror.plugins.module_utils.bundle import BundleError, layout, verify


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            manifest_sha256=dict(type='str', default=''),
        ),
        supports_check_mode=True,
    )
    try:
        files, own, locks = verify(module.params['path'], module.params['manifest_sha256'])
    except BundleError as e:
        module.fail_json(msg=str(e))
    with open(layout(module.params['path'])['manifest']) as f:
        platforms = json.load(f).get('platforms', [])
    module.exit_json(changed=False, manifest_sha256=own, files=files, locks=locks, platforms=platforms)


if __name__ == '__main__':
    main()
