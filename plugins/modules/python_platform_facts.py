#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, airgap.pypi_mirror contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: python_platform_facts
short_description: Read which wheels a host can install (Python, CPU, C library) as facts
version_added: 1.0.0
description:
  - Reads the Python version and implementation of the interpreter that runs the module, the CPU architecture,
    and the C library (glibc and its version, or musl and its version) of the host, with the standard library only.
  - Sets the fact C(python_platform), which the pypi_bundle role reads to download wheels that fit every host.
  - Also returns the platform's name (its interpreter tag and most specific platform tag, such as
    C(cp311-manylinux_2_36_x86_64)) and every platform tag the host accepts.
author:
  - airgap.pypi_mirror maintainers (@airgap-ansible)
options: {}
attributes:
  check_mode:
    description: Reads only; runs the same in check mode.
    support: full
  diff_mode:
    description: Changes nothing, so there is no diff.
    support: none
  facts:
    description: Sets C(python_platform).
    support: full
notes:
  - The Python read is the one Ansible runs modules with on the host (C(ansible_python_interpreter)), the one pip
    runs with when the nodes install.
seealso:
  - module: airgap.pypi_mirror.bundle_download
'''

EXAMPLES = r'''
- name: Read the platform of every node
  airgap.pypi_mirror.python_platform_facts:

- name: Show it
  ansible.builtin.debug:
    msg: "{{ ansible_facts.python_platform.name }}"
'''

RETURN = r'''
ansible_facts:
  description: The fact C(python_platform).
  returned: always
  type: dict
  contains:
    python_platform:
      description: The host's platform.
      type: dict
      contains:
        python:
          description: Python major.minor.
          type: str
          sample: "3.11"
        implementation:
          description: The interpreter's wheel tag prefix, C(cp) for CPython, C(pp) for PyPy.
          type: str
          sample: cp
        arch:
          description: The CPU architecture as wheel tags spell it.
          type: str
          sample: x86_64
        libc:
          description: C(glibc) or C(musl); empty when neither is found.
          type: str
          sample: glibc
        libc_version:
          description: The C library's major.minor version.
          type: str
          sample: "2.36"
        name:
          description: Interpreter tag and the most specific platform tag.
          type: str
          sample: cp311-manylinux_2_36_x86_64
        platform_tags:
          description: Every platform tag the host accepts, most specific first.
          type: list
          elements: str
          sample: [manylinux_2_36_x86_64, manylinux_2_35_x86_64]
        python_executable:
          description: The interpreter that was read.
          type: str
          sample: /usr/bin/python3
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.airgap.pypi_mirror.plugins.module_utils.platforms import (
    PlatformError,
    detect,
    name as platform_name,
    normalize,
    platform_tags,
)


def main():
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    found = detect(module.run_command)
    try:
        checked = normalize(found)
    except PlatformError as e:
        module.fail_json(msg='cannot tell which wheels this host installs: %s' % e, python_platform=found)
    found.update(checked, name=platform_name(checked), platform_tags=platform_tags(checked))
    module.exit_json(changed=False, ansible_facts=dict(python_platform=found))


if __name__ == '__main__':
    main()
