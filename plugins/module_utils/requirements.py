# -*- coding: utf-8 -*-
# Copyright: (c) 2026, airgap.pypi_mirror contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Requirements as the bundle modules take them: strings and pip requirement files, read into one list, and the
hash-locked requirement file (pip's --require-hashes format) written from what pip chose."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.airgap.pypi_mirror.plugins.module_utils.devpi import normalize_project

# The start of a requirement line: the project's name.
_NAME = re.compile(r'^\s*([A-Za-z0-9][A-Za-z0-9._-]*)')
# Options a requirement file may carry that only say where pip looks: the bundle decides that.
_SOURCE_OPTIONS = ('-i', '--index-url', '--extra-index-url', '-f', '--find-links', '--trusted-host', '--no-index',
                   '--prefer-binary', '--only-binary', '--no-binary', '--pre')


class RequirementError(ValueError):
    """A requirement file that is missing or has a line the bundle cannot take; the message names it."""


def project_name(requirement):
    """The normalized project name a requirement line starts with, or None."""
    match = _NAME.match(requirement)
    return normalize_project(match.group(1)) if match else None


def check_files(files, variable='requirement_files'):
    """Raise RequirementError naming VARIABLE and every requirement file that does not exist."""
    missing = [f for f in files if not os.path.isfile(f)]
    if missing:
        raise RequirementError('%s: %s does not exist' % (variable, ', '.join(missing)))


def _logical_lines(path):
    """(line number, text) of each requirement line of PATH, continuations joined, comments removed."""
    with open(path) as f:
        physical = f.read().splitlines()
    start, pending = 0, ''
    for number, line in enumerate(physical, 1):
        start = start if pending else number
        if line.rstrip().endswith('\\'):
            pending += line.rstrip()[:-1] + ' '
            continue
        whole = re.sub(r'(^|\s)#.*$', '', pending + line).strip()
        pending = ''
        if whole:
            yield start, whole


def read_files(files, _seen=None):
    """The requirement lines of FILES in order, following -r includes, without comments, hashes or source options.

    Raises RequirementError naming the file and line of an option the bundle cannot take (constraints, editables).
    """
    seen = _seen if _seen is not None else set()
    lines = []
    for path in files:
        real = os.path.realpath(path)
        if real in seen:
            continue
        seen.add(real)
        check_files([path])
        for number, line in _logical_lines(path):
            option = re.match(r'^(-r|--requirement)(?:\s+|=)(\S+)$', line)
            if option:
                lines += read_files([os.path.join(os.path.dirname(path), option.group(2))], seen)
                continue
            if line.startswith('-'):
                if line.split('=')[0].split()[0] in _SOURCE_OPTIONS:
                    continue
                raise RequirementError('%s line %d: %s is not taken here; give requirements and -r includes only'
                                       % (path, number, line.split()[0]))
            # A hash pins a file of the online index; the bundle's own lock pins the bundle's files.
            lines.append(re.sub(r'\s+--hash[=\s]\S+', '', line).strip())
    return lines


def lock_text(platform_name, pins):
    """A requirement file in pip's --require-hashes format.

    PINS: [(project, version, [sha256, ...], [requested project, ...])], one per project the platform installs.
    """
    out = ['# Hash-locked requirements for platform %s, resolved from the bundle by airgap.pypi_mirror.' % platform_name,
           '# Install with: pip install --require-hashes -r THIS_FILE']
    for project, version, hashes, via in sorted(pins):
        out.append('%s==%s \\' % (project, version))
        out += ['    --hash=sha256:%s%s' % (h, ' \\' if i < len(hashes) - 1 else '') for i, h in enumerate(sorted(hashes))]
        if via:
            out.append('    # via %s' % ', '.join(sorted(via)))
    return '\n'.join(out) + '\n'


def lock_via(text):
    """{project: [requested projects]} from a lock file's '# via' comments."""
    result, project = {}, None
    for line in text.splitlines():
        match = re.match(r'^([A-Za-z0-9][A-Za-z0-9._-]*)==', line)
        if match:
            project = project_name(match.group(1))
        via = re.match(r'^\s+# via (.+)$', line)
        if via and project:
            result[project] = [v.strip() for v in via.group(1).split(',')]
    return result
