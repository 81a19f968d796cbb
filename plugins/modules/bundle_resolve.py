#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, airgap.pypi_mirror contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: bundle_resolve
short_description: Prove that requirements resolve, with every dependency and build backend, from a bundle alone, and lock them
version_added: 1.0.0
description:
  - Resolves the requirements with pip's own resolver against the files of O(path) alone (no index, no network, no
    pip configuration of this machine), once for each platform, with the wheel tags a host of that platform accepts.
  - An sdist in O(path) counts as what a host of any platform can build, with the dependencies its C(PKG-INFO)
    declares; when one is chosen, its build requirements (C(build-system.requires) of its C(pyproject.toml), or pip's
    C(setuptools) fallback) must resolve from O(path) as wheels for the platform too.
  - Fails when anything does not resolve, naming for each platform the dependency or build backend that is missing,
    which project needs it and which of the requirements do not resolve, so a bundle that is not complete never
    leaves the online side.
  - With O(lock_dir), writes for each platform a lock file in pip's C(--require-hashes) format, C(PLATFORM.txt), with
    every project the platform installs, pinned, with the sha256 of each of its files in O(path) that a host of the
    platform may install, and which requested project pulls it in. Lock files of other platforms there are removed.
  - With O(index_url) instead of O(path), checks an index (the site index inside the air gap), so that the requirements
    resolve from it, and each platform's lock file in O(lock_dir) installs from it with C(--require-hashes).
author:
  - airgap.pypi_mirror maintainers (@airgap-ansible)
options:
  path:
    description:
      - The directory of distributions, such as the bundle's C(packages/).
      - Exactly one of O(path) and O(index_url) is required.
    type: path
  index_url:
    description:
      - A simple index to check instead of a directory, such as C(http://10.0.0.10:3141/root/prod/+simple/).
      - Only wheels count for O(requirements) here. The lock files of O(lock_dir) were resolved already, so each of
        their files is checked against its hashes without resolving again; an sdist among them is prepared with its
        build backend fetched from the index.
    type: str
  ca_file:
    description:
      - With an https O(index_url), the PEM file of the CA that pip verifies the index against (pip's C(--cert)), such
        as the site CA of the mirror's front. Empty uses pip's own trust.
    type: path
  requirements:
    description:
      - Requirements, as pip takes them (C(netaddr), C(jmespath>=1.0)).
    type: list
    elements: str
    default: []
  requirement_files:
    description:
      - Requirement files, as pip's C(--requirement) takes them; C(-r) includes are followed.
      - Hashes and the options that say where pip looks (C(--index-url), C(--find-links)) are left out, as the bundle
        decides that; a constraint or an editable line is refused, naming the file and line.
    type: list
    elements: path
    default: []
  lock_dir:
    description:
      - With O(path), the directory where the lock file of each platform is written (it must exist).
      - With O(index_url), the directory the lock files are read from; each platform must have one.
    type: path
  python:
    description:
      - The Python whose pip resolves. Defaults to the Python that runs the module.
    type: path
  pythons:
    description:
      - More Pythons to resolve with. For each platform, the one of the platform's Python version (each is asked for
        its version) runs pip, so the environment markers of the requirements (C(python_version < "3.12")) are
        evaluated as on the platform's hosts; a platform without one uses O(python).
      - Each must have pip 22.2 or later.
    type: list
    elements: path
    default: []
extends_documentation_fragment:
  - airgap.pypi_mirror.platform
attributes:
  check_mode:
    description: Resolves the same in check mode and reports the lock files it would write without writing them.
    support: full
  diff_mode:
    description: Returns the lock files' text before and after.
    support: full
notes:
  - pip evaluates environment markers (C(python_version < "3.10")) with the Python that runs it, whatever the
    platform's Python version. Give O(pythons) a Python of each platform's version to check such dependencies too;
    C(resolver) in each entry of RV(platforms) says which Python resolved it.
  - An sdist whose C(PKG-INFO) does not declare its dependencies (core metadata before 2.2, or C(Requires-Dist)
    dynamic) is resolved without them, and a warning names it.
seealso:
  - module: airgap.pypi_mirror.bundle_download
  - module: airgap.pypi_mirror.bundle_verify
'''

EXAMPLES = r'''
- name: Prove that kubespray's requirements resolve from the bundle for bookworm and trixie nodes, and lock them
  airgap.pypi_mirror.bundle_resolve:
    path: /srv/bundle/packages
    requirement_files: [/srv/kubespray/requirements.txt]
    lock_dir: /srv/bundle/locks
    platforms:
      - {python: "3.11", arch: x86_64, libc: glibc, libc_version: "2.36"}
      - {python: "3.13", arch: x86_64, libc: glibc, libc_version: "2.41"}

- name: Prove inside the air gap that the site index serves every locked file
  airgap.pypi_mirror.bundle_resolve:
    index_url: http://10.0.0.10:3141/root/prod/+simple/
    lock_dir: /srv/bundle/locks
    platforms:
      - {python: "3.11", arch: x86_64, libc: glibc, libc_version: "2.36"}
'''

RETURN = r'''
platforms:
  description:
    - Each distinct platform with its name, hosts, the files pip chose for it, the Python whose pip resolved it
      (C(resolver)) and, with O(lock_dir), its lock file.
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
      lock: /srv/bundle/locks/cp311-manylinux_2_36_x86_64.txt
      resolver: /usr/bin/python3.11
problems:
  description: One sentence per platform that does not resolve.
  returned: failure
  type: list
  elements: str
  sample: ["platform cp311-manylinux_2_36_x86_64 (node1): netaddr (needed by ansible) is not in the bundle as a file for it"]
'''

import json
import os
import re
import shutil
import sys
import tempfile
import zipfile
from urllib.parse import urlsplit

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.airgap.pypi_mirror.plugins.module_utils.devpi import normalize_project
from ansible_collections.airgap.pypi_mirror.plugins.module_utils.distribution import (
    SDIST_SUFFIXES,
    WHEEL,
    DistributionError,
    build_requires,
    raw_metadata,
    read_metadata,
    sha256sum,
)
from ansible_collections.airgap.pypi_mirror.plugins.module_utils.platforms import (
    OPTIONS as PLATFORM_OPTIONS,
    PlatformError,
    describe,
    merge,
    pip_args,
    pip_errors,
    wheel_fits,
)
from ansible_collections.airgap.pypi_mirror.plugins.module_utils.requirements import (
    RequirementError,
    lock_text,
    lock_via,
    project_name,
    read_files,
)

# pip's words for a requirement it cannot meet, with the project that asked for it when it is a dependency.
UNMET = re.compile(r'satisfies the requirement (.+?)(?: \(from (?!versions:)([^)]+)\))?(?: \(from versions: [^)]*\))?$', re.M)
# pip's words for a file whose hash is not the lock's: the pinned requirement and where the file came from.
MISMATCH = re.compile(r'^\s+(\S+)==(\S+) from (\S+?)(?: \(from .*\))?:$', re.M)
# The tag of a metadata-only stand-in for an sdist: the last one every Python 3 accepts, so a real wheel wins.
STANDIN_TAG = 'py30-none-any'
ONLY_BINARY = '--only-binary=:all:'


class Bundle(object):
    """The distributions of a directory as pip sees them, with a metadata-only wheel standing in for each sdist."""

    def __init__(self, module, path, work):
        self.module, self.path = module, path
        self.links = os.path.join(work, 'links')
        os.makedirs(self.links)
        self.files = {}  # (project, version) -> [file name]
        self.standins = {}  # stand-in wheel name -> sdist name
        for name in sorted(os.listdir(path)):
            full = os.path.join(path, name)
            if not os.path.isfile(full):
                continue
            if name.endswith(WHEEL):
                parts = name[:-len(WHEEL)].split('-')
                self.files.setdefault((normalize_project(parts[0]), parts[1]), []).append(name)
                os.symlink(full, os.path.join(self.links, name))
            elif name.endswith(SDIST_SUFFIXES):
                self.add_sdist(name, full)

    def add_sdist(self, name, full):
        meta = read_metadata(full)
        project, version = normalize_project(meta['name']), meta['version']
        self.files.setdefault((project, version), []).append(name)
        declared = (tuple(int(x) for x in re.findall(r'\d+', meta.get('metadata_version', '1.0'))[:2]) >= (2, 2)
                    and 'requires-dist' not in [d.lower() for d in meta.get('dynamic', [])])
        if not declared:
            self.module.warn('the dependencies of %s are not declared in its PKG-INFO (core metadata %s), so they are '
                             'not checked' % (name, meta.get('metadata_version')))
        stem = '%s-%s' % (re.sub(r'[-_.]+', '_', meta['name']), version)
        standin = '%s-%s.whl' % (stem, STANDIN_TAG)
        with zipfile.ZipFile(os.path.join(self.links, standin), 'w') as wheel:
            wheel.writestr(stem + '.dist-info/METADATA', raw_metadata(full))
            wheel.writestr(stem + '.dist-info/WHEEL', 'Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: %s\n' % STANDIN_TAG)
            wheel.writestr(stem + '.dist-info/RECORD', '')
        self.standins[standin] = name

    def chosen(self, url):
        name = os.path.basename(url)
        return self.standins.get(name, name)

    def hashes(self, project, version, target):
        return [sha256sum(os.path.join(self.path, name)) for name in self.files.get((project, version), [])
                if wheel_fits(name, target)]


def run_pip(module, work, target, source_args, args):
    """pip's dry-run install from SOURCE_ARGS with ARGS: (rc, stderr, the report's items)."""
    report = os.path.join(work, 'report.json')
    if os.path.exists(report):
        os.remove(report)
    argv = ([target['resolver'], '-m', 'pip', 'install', '--dry-run', '--ignore-installed',
             '--target', os.path.join(work, 'target'), '--report', report, '--quiet', '--disable-pip-version-check',
             '--no-cache-dir'] + source_args + args)
    # No pip configuration of this machine (an index, find-links) may stand in for the source checked.
    env = {'PIP_CONFIG_FILE': os.devnull, 'PIP_NO_INPUT': '1'}
    if module.params.get('ca_file'):
        # requests lets these variables of the environment win over pip's --cert.
        env.update(REQUESTS_CA_BUNDLE=module.params['ca_file'], CURL_CA_BUNDLE=module.params['ca_file'])
    rc, _out, err = module.run_command(argv, environ_update=env)
    if rc != 0:
        return rc, err, []
    with open(report) as f:
        return rc, err, json.load(f).get('install', [])


def needed_by(spec, via):
    requested = (via or {}).get(project_name(spec) or '')
    return ' (needed by %s)' % ', '.join(requested) if requested else ''


def unmet(err, where, via=None):
    """What pip could not find or refused, in a sentence, or pip's own error lines."""
    mismatch = MISMATCH.search(err) if 'DO NOT MATCH THE HASHES' in err else None
    if mismatch:
        project, version, url = mismatch.groups()
        return 'the file of %s==%s %s (%s) has none of the sha256 of the lock%s' % (
            project, version, where, os.path.basename(url.split('#')[0]), needed_by(project, via))
    found = UNMET.search(err)
    if not found:
        return pip_errors(err)
    spec, parent = found.groups()
    # The marker that made pip want it was true for this platform; the message names the requirement only.
    spec = spec.split(';')[0].strip()
    # pip's parenthesis names the project that needs it, or a requirement file's line.
    by = ' (needed by %s)' % parent if parent and not parent.startswith('-r ') else needed_by(spec, via)
    # When the index could not be read at all, pip said why only in a warning.
    reached = [line for line in err.splitlines() if line.startswith('WARNING: ') and ('Retrying' in line or 'repository' in line)]
    return '%s%s is not %s as a file for it%s' % (spec, by, where, ' (pip: %s)' % reached[-1][9:] if reached else '')


def graph_via(items):
    """{project: [requested projects that pull it in]} over the items of pip's report."""
    needs = dict((normalize_project(i['metadata']['name']), [project_name(r) for r in i['metadata'].get('requires_dist') or []])
                 for i in items)
    via = {}
    for root in [normalize_project(i['metadata']['name']) for i in items if i.get('requested')]:
        seen, todo = set([root]), list(needs.get(root, []))
        while todo:
            project = todo.pop()
            if project in seen or project not in needs:
                continue
            seen.add(project)
            via.setdefault(project, set()).add(root)
            todo += needs[project]
    return dict((k, sorted(v)) for k, v in via.items())


def failing(module, work, target, source, requirements):
    """Which of several requirements fail on their own, as a clause for a message (only run once pip failed)."""
    if len(requirements) < 2:
        return ''
    failed = [r for r in requirements if run_pip(module, work, target, source, pip_args(target) + [r])[0] != 0]
    return '; the requirements that do not resolve: %s' % ', '.join(failed) if failed else ''


def resolve_bundle(module, bundle, work, requirements, target):
    """(files, pins, None) pip chooses for TARGET from the bundle alone, or (None, None, problem)."""
    source = ['--no-index', '--find-links', bundle.links]
    rc, err, items = run_pip(module, work, target, source, pip_args(target) + requirements)
    if rc != 0:
        return None, None, '%s: %s%s' % (describe(target), unmet(err, 'in the bundle'),
                                         failing(module, work, target, source, requirements))
    via = graph_via(items)
    files, pins = [], []
    for item in items:
        name = bundle.chosen(item['download_info']['url'])
        files.append(name)
        project, version = normalize_project(item['metadata']['name']), item['metadata']['version']
        pins.append((project, version, bundle.hashes(project, version, target), via.get(project, [])))
        if name not in bundle.standins.values():
            continue
        for backend in build_requires(os.path.join(bundle.path, name)):
            rc, err, _items = run_pip(module, work, target, source, pip_args(target) + [backend])
            if rc != 0:
                found = UNMET.search(err)
                own = found and project_name(found.group(1)) == project_name(backend)
                return None, None, '%s: the build backend %s of %s%s%s' % (
                    describe(target), backend, name, needed_by(project, via),
                    ' is not in the bundle as a file for it' if own else ': ' + unmet(err, 'in the bundle'))
    return sorted(files), pins, None


def check_index(module, work, requirements, target, lock):
    """(files, None) when the requirements and the platform's lock install from the index, or (None, problem)."""
    url = module.params['index_url']
    # pip fetches from a plain http index only when told to trust its host, as pip.conf does on the nodes.
    source = ['--index-url', url] + (['--trusted-host', urlsplit(url).netloc] if url.startswith('http://') else [])
    if module.params['ca_file'] and url.startswith('https://'):
        source += ['--cert', module.params['ca_file']]
    where = 'served by %s' % url
    files = []
    if requirements:
        rc, err, items = run_pip(module, work, target, source, pip_args(target) + requirements)
        if rc != 0:
            return None, '%s: %s%s' % (describe(target), unmet(err, where), failing(module, work, target, source, requirements))
        files = [os.path.basename(i['download_info']['url']) for i in items]
    if lock:
        with open(lock) as f:
            via = lock_via(f.read())
        # Without --only-binary pip insists on --no-deps for another platform; the lock is closed already.
        args = ['--no-deps', '--require-hashes'] + [a for a in pip_args(target) if a != ONLY_BINARY] + ['--requirement', lock]
        rc, err, items = run_pip(module, work, target, source, args)
        if rc != 0:
            return None, '%s: %s' % (describe(target), unmet(err, where, via))
        files += [os.path.basename(i['download_info']['url']) for i in items]
    return sorted(set(files)), None


def write_locks(module, texts):
    """Make LOCK_DIR hold exactly TEXTS ({file name: text}): (changed, diff)."""
    lock_dir = module.params['lock_dir']
    before = {}
    for name in sorted(os.listdir(lock_dir)):
        if name.endswith('.txt') and os.path.isfile(os.path.join(lock_dir, name)):
            with open(os.path.join(lock_dir, name)) as f:
                before[name] = f.read()
    changed = before != texts
    if changed and not module.check_mode:
        for name in set(before) - set(texts):
            os.remove(os.path.join(lock_dir, name))
        for name, text in texts.items():
            if before.get(name) != text:
                tmp = os.path.join(lock_dir, '.%s.tmp' % name)
                with open(tmp, 'w') as f:
                    f.write(text)
                os.chmod(tmp, 0o644)
                os.rename(tmp, os.path.join(lock_dir, name))
    joined = [''.join('# %s\n%s' % kv for kv in sorted(d.items())) for d in (before, texts)]
    return changed, dict(before=joined[0], after=joined[1])


def pythons_by_version(module):
    """{major.minor: path} of the Pythons of the pythons option, each asked for its version."""
    found = {}
    for python in module.params['pythons']:
        rc, out, err = module.run_command([python, '-c', 'import sys; print("%d.%d" % sys.version_info[:2])'])
        if rc != 0:
            module.fail_json(msg='pythons: %s does not run: %s' % (python, (err or out).strip() or 'rc %d' % rc))
        found.setdefault(out.strip(), python)
    return found


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path'),
            index_url=dict(type='str'),
            ca_file=dict(type='path'),
            requirements=dict(type='list', elements='str', default=[]),
            requirement_files=dict(type='list', elements='path', default=[]),
            lock_dir=dict(type='path'),
            platforms=dict(type='list', elements='dict', required=True, options=PLATFORM_OPTIONS),
            python=dict(type='path'),
            pythons=dict(type='list', elements='path', default=[]),
        ),
        mutually_exclusive=[('path', 'index_url')],
        required_one_of=[('path', 'index_url')],
        supports_check_mode=True,
    )
    p = module.params
    try:
        targets = merge(p['platforms'])
    except PlatformError as e:
        module.fail_json(msg='platforms: %s' % e)
    if p['path'] and not os.path.isdir(p['path']):
        module.fail_json(msg='path %s is not a directory' % p['path'])
    if p['index_url'] and not re.match(r'^https?://', p['index_url']):
        module.fail_json(msg="index_url '%s' must be an http:// or https:// URL" % p['index_url'])
    if p['lock_dir'] and not os.path.isdir(p['lock_dir']):
        module.fail_json(msg='lock_dir %s is not a directory' % p['lock_dir'])
    try:
        requirements = p['requirements'] + read_files(p['requirement_files'])
    except RequirementError as e:
        module.fail_json(msg=str(e))
    resolvers = pythons_by_version(module)
    problems, texts = [], {}
    work = tempfile.mkdtemp(prefix='bundle-resolve-')
    try:
        bundle = Bundle(module, p['path'], work) if p['path'] else None
        for target in targets:
            target['resolver'] = resolvers.get(target['python'], p['python'] or sys.executable)
            files, problem = [], None
            lock = os.path.join(p['lock_dir'], target['name'] + '.txt') if p['lock_dir'] else None
            if bundle and requirements:
                files, pins, problem = resolve_bundle(module, bundle, work, requirements, target)
                if pins is not None:
                    texts[os.path.basename(lock or '')] = lock_text(target['name'], pins)
            elif not bundle and lock and not os.path.isfile(lock):
                problem = '%s: %s has no lock file for it' % (describe(target), p['lock_dir'])
            elif not bundle:
                files, problem = check_index(module, work, requirements, target, lock)
            target['files'] = files or []
            if lock and (not bundle or requirements):
                target['lock'] = lock
            if problem:
                problems.append(problem)
    except DistributionError as e:
        module.fail_json(msg='path: %s' % e)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if problems:
        module.fail_json(msg='the requirements do not resolve from %s, so the bundle is not complete: %s'
                             % (p['path'] + ' alone' if p['path'] else p['index_url'], '; '.join(problems)),
                         problems=problems)
    result = dict(changed=False, platforms=targets)
    if bundle and p['lock_dir']:
        result['changed'], diff = write_locks(module, texts)
        if module._diff:
            result['diff'] = diff
    module.exit_json(**result)


if __name__ == '__main__':
    main()
