#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, airgap.pypi_mirror contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: bundle_resolve
short_description: Prove that requirements resolve, with every dependency, from a directory of wheels alone
version_added: 1.0.0
description:
  - Resolves the requirements with pip's own resolver against the files of O(path) alone (no index, no network, no
    pip configuration of this machine), once for each platform, with the wheel tags a host of that platform accepts.
  - Fails when anything does not resolve, naming for each platform the requirement or the dependency that is missing
    (and which project needs it), so a bundle that is not complete never leaves the online side.
  - Reads only; a second run changes nothing.
author:
  - airgap.pypi_mirror maintainers (@airgap-ansible)
options:
  path:
    description:
      - The directory of distributions, such as the bundle's C(packages/).
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
  python:
    description:
      - The Python whose pip resolves. Defaults to the Python that runs the module.
    type: path
extends_documentation_fragment:
  - airgap.pypi_mirror.platform
attributes:
  check_mode:
    description: Reads only; runs the same in check mode.
    support: full
  diff_mode:
    description: Changes nothing, so there is no diff.
    support: none
notes:
  - Only wheels count, as on the admin host and the nodes nothing is built. A project present only as an sdist
    does not resolve.
  - pip evaluates environment markers (C(python_version < "3.10")) with the Python that runs it, whatever the
    platform's Python version. Give O(python) a Python of the platform's version to check such dependencies too.
seealso:
  - module: airgap.pypi_mirror.bundle_download
  - module: airgap.pypi_mirror.bundle_verify
'''

EXAMPLES = r'''
- name: Prove that kubespray's requirements resolve from the bundle for bookworm and trixie nodes
  airgap.pypi_mirror.bundle_resolve:
    path: /srv/bundle/packages
    requirement_files: [/srv/kubespray/requirements.txt]
    platforms:
      - {python: "3.11", arch: x86_64, libc: glibc, libc_version: "2.36"}
      - {python: "3.13", arch: x86_64, libc: glibc, libc_version: "2.41"}
'''

RETURN = r'''
platforms:
  description: Each distinct platform with its name, hosts and the files pip chose for it.
  returned: success
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
      files: [jmespath-1.0.1-py3-none-any.whl, netaddr-1.3.0-py3-none-any.whl]
'''

import json
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

# pip's words for a requirement it cannot meet, with the project that asked for it when it is a dependency.
UNMET = re.compile(r'satisfies the requirement (\S+)(?: \(from ([^)]+)\))?')


def unmet(err):
    """What pip could not find, in a sentence, or pip's own error lines."""
    found = UNMET.search(err)
    if not found:
        return pip_errors(err)
    spec, parent = found.groups()
    return '%s%s is not in the bundle as a wheel for it' % (spec, ' (needed by %s)' % parent if parent else '')


def resolve(module, requirements, target):
    """The files pip chooses for TARGET from the directory alone; (files, None) or (None, problem)."""
    work = tempfile.mkdtemp(prefix='bundle-resolve-')
    try:
        report = os.path.join(work, 'report.json')
        argv = ([module.params['python'] or sys.executable, '-m', 'pip', 'install', '--dry-run', '--ignore-installed',
                 '--no-index', '--find-links', module.params['path'], '--target', os.path.join(work, 'target'),
                 '--report', report, '--quiet', '--disable-pip-version-check', '--no-cache-dir']
                + pip_args(target) + requirements)
        # No pip configuration of this machine (an index, find-links) may stand in for the bundle.
        rc, _out, err = module.run_command(argv, environ_update={'PIP_CONFIG_FILE': os.devnull, 'PIP_NO_INPUT': '1'})
        if rc != 0:
            return None, '%s: %s' % (describe(target), unmet(err))
        with open(report) as f:
            chosen = json.load(f).get('install', [])
        return sorted(os.path.basename(item['download_info']['url']) for item in chosen), None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            requirements=dict(type='list', elements='str', default=[]),
            requirement_files=dict(type='list', elements='path', default=[]),
            platforms=dict(type='list', elements='dict', required=True, options=PLATFORM_OPTIONS),
            python=dict(type='path'),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        targets = merge(p['platforms'])
    except PlatformError as e:
        module.fail_json(msg='platforms: %s' % e)
    if not os.path.isdir(p['path']):
        module.fail_json(msg='path %s is not a directory' % p['path'])
    missing = [f for f in p['requirement_files'] if not os.path.isfile(f)]
    if missing:
        module.fail_json(msg='requirement_files: %s does not exist' % ', '.join(missing))
    requirements = p['requirements'] + ['--requirement=%s' % f for f in p['requirement_files']]
    problems = []
    for target in targets:
        files, problem = resolve(module, requirements, target) if requirements else ([], None)
        target['files'] = files or []
        if problem:
            problems.append(problem)
    if problems:
        module.fail_json(msg='the requirements do not resolve from %s alone, so the bundle is not complete: %s'
                             % (p['path'], '; '.join(problems)), problems=problems)
    module.exit_json(changed=False, platforms=targets)


if __name__ == '__main__':
    main()
