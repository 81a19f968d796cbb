# -*- coding: utf-8 -*-
# Copyright: (c) 2026, airgap.pypi_mirror contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # A platform: what decides which wheels a host can install (module_utils/platforms.py holds its spec).
    DOCUMENTATION = r'''
options:
  platforms:
    description:
      - The platforms to download for. Entries with the same platform are downloaded once and their O(platforms[].hosts) merged.
      - The fact of M(airgap.pypi_mirror.python_platform_facts), passed through the filter
        P(airgap.pypi_mirror.platform#filter), is such an entry.
    type: list
    elements: dict
    required: true
    suboptions:
      python:
        description: Python major.minor, such as C(3.11).
        type: str
        required: true
      implementation:
        description: C(cp) for CPython, C(pp) for PyPy.
        type: str
        choices: [cp, pp]
        default: cp
      arch:
        description: CPU architecture as wheel tags spell it (C(x86_64), C(aarch64)).
        type: str
        required: true
      libc:
        description: The C library.
        type: str
        choices: [glibc, musl]
        required: true
      libc_version:
        description: The C library's major.minor version (C(2.36) for Debian bookworm's glibc, C(1.2) for musl 1.2).
        type: str
        required: true
      hosts:
        description: The hosts of this platform, named in messages.
        type: list
        elements: str
        default: []
'''
