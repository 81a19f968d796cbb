#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, airgap.pypi_mirror contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: bundle_download
short_description: Download with pip the wheels that fit every given platform into one directory
version_added: 1.0.0
description:
  - Runs C(pip download) once per distinct platform (Python version, CPU architecture, C library) with the
    wheel tags a host of that platform accepts, into one directory, so one bundle serves every kind of node.
  - Only wheels are chosen (pip's C(--only-binary=:all:)), because pip cannot run another platform's build.
    A requirement with no wheel for a platform fails, naming the requirement, the platform and its hosts.
  - With O(allow_sdist=true), such a requirement is built from its sdist on this machine instead (C(pip wheel));
    a pure-Python result serves every platform and the download goes on. A project whose build gives a wheel
    for this machine only still fails, naming the project and the platform.
  - Reports C(changed) when pip saved or built a new file.
author:
  - airgap.pypi_mirror maintainers (@airgap-ansible)
options:
  dest:
    description:
      - The directory the files go to; files already there are used and not downloaded again.
    type: path
    required: true
  requirements:
    description:
      - Requirements, as pip takes them (C(netaddr), C(jmespath>=1.0)).
    type: list
    elements: str
    default: []
  requirement_files:
    description:
      - Requirement files, as pip's C(--requirement) takes them.
    type: list
    elements: path
    default: []
  allow_sdist:
    description:
      - Build a requirement that has no wheel for a platform from its sdist on this machine. Only a pure-Python
        result is kept, because only it serves the other platforms.
    type: bool
    default: false
  python:
    description:
      - The Python whose pip downloads. Defaults to the Python that runs the module.
    type: path
  pip_args:
    description:
      - Further pip arguments, such as an C(--index-url) of the online side.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - airgap.pypi_mirror.platform
attributes:
  check_mode:
    description: Downloads are not predicted; the module does not run in check mode.
    support: none
  diff_mode:
    description: No diff; RV(platforms) lists the files of each platform.
    support: none
notes:
  - Runs on the online side, where pip reaches a package index.
seealso:
  - module: airgap.pypi_mirror.python_platform_facts
  - module: airgap.pypi_mirror.bundle_manifest
'''

EXAMPLES = r'''
- name: Download netaddr for Debian bookworm and trixie nodes
  airgap.pypi_mirror.bundle_download:
    dest: /srv/bundle/packages
    requirements: [netaddr, markupsafe]
    platforms:
      - {python: "3.11", arch: x86_64, libc: glibc, libc_version: "2.36"}
      - {python: "3.13", arch: x86_64, libc: glibc, libc_version: "2.41"}

- name: Download for the platforms the hosts reported
  airgap.pypi_mirror.bundle_download:
    dest: /srv/bundle/packages
    requirement_files: [/srv/kubespray/requirements.txt]
    platforms: "{{ groups['nodes'] | map('extract', hostvars, ['ansible_facts', 'python_platform']) | map('airgap.pypi_mirror.platform') }}"
    allow_sdist: true
'''

RETURN = r'''
platforms:
  description: Each distinct platform with its name, hosts, platform tags and the files that serve it.
  returned: always
  type: list
  elements: dict
  sample:
    - name: cp311-manylinux_2_36_x86_64
      python: "3.11"
      implementation: cp
      arch: x86_64
      libc: glibc
      libc_version: "2.36"
      hosts: [node1]
      files: [MarkupSafe-3.0.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl]
saved:
  description: Files pip saved, new in O(dest).
  returned: always
  type: list
  elements: str
built:
  description: Wheels built from sdists with O(allow_sdist=true).
  returned: always
  type: list
  elements: str
'''

import os
import re
import shutil
import sys
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.airgap.pypi_mirror.plugins.module_utils.platforms import (
    OPTIONS as PLATFORM_OPTIONS,
    PlatformError,
    describe,
    merge,
    pip_args,
    pip_errors,
)

NO_MATCH = re.compile(r'No matching distribution found for (\S+)')
PROJECT = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]*')


def distinct(module):
    """The platforms, normalized and merged by name, in the order given."""
    try:
        return merge(module.params['platforms'])
    except PlatformError as e:
        module.fail_json(msg='platforms: %s' % e)


class Downloader:
    def __init__(self, module):
        self.module = module
        p = module.params
        self.dest = p['dest']
        self.python = p['python'] or sys.executable
        self.requirements = p['requirements'] + ['--requirement=%s' % f for f in p['requirement_files']]
        self.saved, self.built = [], []

    def pip(self, *args):
        argv = [self.python, '-m', 'pip'] + list(args) + ['--disable-pip-version-check', '--progress-bar=off']
        return self.module.run_command(argv + self.module.params['pip_args'])

    def download(self, target):
        """Download for one platform; with allow_sdist, build what has no wheel and try again."""
        tried = set()
        while True:
            args = ['download', '--dest', self.dest, '--find-links', self.dest] + pip_args(target)
            rc, out, err = self.pip(*(args + self.requirements))
            self.saved += [os.path.basename(f) for f in re.findall(r'^Saved (.+)$', out, re.M)]
            if rc == 0:
                return re.findall(r'^(?:Saved|File was already downloaded) (.+)$', out, re.M)
            missing = NO_MATCH.search(err)
            if not missing:
                self.module.fail_json(msg='pip could not download %s for %s: %s'
                                      % (' '.join(self.requirements), describe(target), pip_errors(err)), stderr=err)
            spec = missing.group(1)
            if not self.module.params['allow_sdist'] or spec in tried:
                self.module.fail_json(msg='no wheel of %s for %s: %s%s'
                                      % (spec, describe(target), pip_errors(err),
                                         '' if self.module.params['allow_sdist'] else
                                         ' (allow_sdist builds it from its sdist if it is pure Python)'), stderr=err)
            tried.add(spec)
            self.build(spec, target)

    def build(self, spec, target):
        project = PROJECT.match(spec).group(0)
        work = tempfile.mkdtemp(prefix='bundle-sdist-')
        try:
            rc, _out, err = self.pip('wheel', '--no-deps', '--no-binary=%s' % project, '--wheel-dir', work, spec)
            if rc != 0:
                self.module.fail_json(msg='no wheel of %s for %s, and its sdist does not build here: %s'
                                      % (spec, describe(target), pip_errors(err)), stderr=err)
            for wheel in os.listdir(work):
                if not wheel.endswith('-none-any.whl'):
                    self.module.fail_json(msg='no wheel of %s for %s, and its sdist builds a wheel for this machine '
                                              'only (%s): build it on a host of that platform'
                                          % (spec, describe(target), wheel))
                shutil.move(os.path.join(work, wheel), os.path.join(self.dest, wheel))
                self.built.append(wheel)
        finally:
            shutil.rmtree(work, ignore_errors=True)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dest=dict(type='path', required=True),
            requirements=dict(type='list', elements='str', default=[]),
            requirement_files=dict(type='list', elements='path', default=[]),
            platforms=dict(type='list', elements='dict', required=True, options=PLATFORM_OPTIONS),
            allow_sdist=dict(type='bool', default=False),
            python=dict(type='path'),
            pip_args=dict(type='list', elements='str', default=[]),
        ),
        supports_check_mode=False,
    )
    targets = distinct(module)
    if not targets:
        module.fail_json(msg='platforms is empty: name at least one platform to download for')
    missing = [f for f in module.params['requirement_files'] if not os.path.isfile(f)]
    if missing:
        module.fail_json(msg='requirement_files: %s does not exist' % ', '.join(missing))
    if not os.path.isdir(module.params['dest']):
        os.makedirs(module.params['dest'])
    downloader = Downloader(module)
    for target in targets:
        files = downloader.download(target) if downloader.requirements else []
        target['files'] = sorted(set(os.path.basename(f) for f in files))
    module.exit_json(changed=bool(downloader.saved or downloader.built), platforms=targets,
                     saved=sorted(set(downloader.saved)), built=downloader.built)


if __name__ == '__main__':
    main()
