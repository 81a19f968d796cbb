#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, airgap.pypi_mirror contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: devpi_upload
short_description: Upload Python distributions to a devpi index, only those it does not hold yet
version_added: 1.0.0
description:
  - Uploads wheels and source distributions from the managed host to a devpi V(stage) index.
  - Compares each file's sha256 with what the index already holds and uploads only what is missing,
    so a second run sends no upload and reports C(changed=false).
  - Sends each file's core metadata with it (summary, C(Requires-Python), dependencies, ...) as devpi-client does,
    so pip sees C(data-requires-python) on the simple page.
  - Reports the files the index holds (its own, not its bases') that are not among O(src), with a warning, and with
    O(prune=true) removes them, so the index holds exactly what it is given.
author:
  - airgap.pypi_mirror maintainers (@airgap-ansible)
options:
  index:
    description:
      - The stage index to upload to, as C(user/index). It must exist.
      - A mirror index takes no uploads; upload to a stage index that lists the mirror in its C(bases).
    type: str
    required: true
  src:
    description:
      - Files and directories on the managed host.
      - A directory means every file inside it, at any depth.
      - Every file must be a Python distribution in a format devpi accepts (C(.whl), C(.egg), C(.tar.gz), C(.tgz),
        C(.tar.bz2), C(.zip)); its metadata is read from the archive. Any other file, also one inside a
        directory, fails the task naming it before anything is uploaded.
      - Two files of the same name fail the same way.
    type: list
    elements: path
    required: true
  on_conflict:
    description:
      - What to do when a non-volatile index already holds a file of the same name with other content
        (devpi refuses to overwrite it).
      - V(fail) fails before any upload and names the files.
      - V(skip) leaves the index's file in place and lists the file in RV(kept) and RV(conflicts).
      - On a volatile index devpi replaces the file, so it is uploaded.
    type: str
    choices: [fail, skip]
    default: fail
  prune:
    description:
      - Remove the files the index holds that are not among O(src), after the uploads.
      - Off, they are kept, listed in RV(extra) and named in a warning.
      - On a non-volatile index devpi removes files only when forced; setting this is that explicit choice.
    type: bool
    default: false
  workers:
    description:
      - Requests sent at once while reading the index, hashing and uploading.
      - devpi-server applies uploads one after another; a few in flight keep it busy while this side
        prepares the next file. V(1) sends one request at a time.
    type: int
    default: 4
  server_dir:
    description:
      - devpi-server's server directory (C(--serverdir)), when the module runs on the server's host.
      - Before the first upload, the module checks that the filesystem holding it has room for the files to upload
        and 16 MiB for devpi's database, and fails naming that filesystem, the space free and the first file that
        does not fit, with nothing uploaded.
      - When an upload fails all the same (the filesystem filled up meanwhile), the message names the file and how
        full the filesystem is; devpi keeps nothing of the failed file on its index.
      - Empty, no space is checked (devpi on another host).
    type: path
    default: ''
extends_documentation_fragment:
  - airgap.pypi_mirror.devpi
  - airgap.pypi_mirror.devpi.attributes
attributes:
  check_mode:
    description: Can run in check mode and return the changed status it predicts without changing the server.
    support: full
    details: Reports what would be uploaded, reading the index but sending nothing.
  diff_mode:
    description: Returns what changed (or would change in check mode) in diff mode.
    support: full
    details: The index's files, before and after.
seealso:
  - module: airgap.pypi_mirror.devpi_index
  - module: airgap.pypi_mirror.devpi_info
'''

EXAMPLES = r'''
- name: Make sure root/prod holds every distribution of the bundle
  airgap.pypi_mirror.devpi_upload:
    url: http://127.0.0.1:3141
    auth_username: root
    auth_password: "{{ devpi_root_password }}"
    index: root/prod
    src:
      - /srv/bundle/wheels
      - /srv/extra/internal_tool-2.1.0-py3-none-any.whl

- name: Upload what is missing, leave files that differ in place
  airgap.pypi_mirror.devpi_upload:
    url: http://127.0.0.1:3141
    auth_username: root
    auth_password: "{{ devpi_root_password }}"
    index: root/prod
    src: [/srv/bundle/wheels]
    on_conflict: skip

- name: On devpi's own host, check first that its disk has room for what goes up
  airgap.pypi_mirror.devpi_upload:
    url: http://127.0.0.1:3141
    auth_username: root
    auth_password: "{{ devpi_root_password }}"
    index: root/prod
    src: [/srv/bundle/wheels]
    server_dir: /var/lib/devpi

- name: Make sure root/prod holds exactly the bundle's distributions, none the bundle dropped
  airgap.pypi_mirror.devpi_upload:
    url: http://127.0.0.1:3141
    auth_username: root
    auth_password: "{{ devpi_root_password }}"
    index: root/prod
    src: [/srv/bundle/wheels]
    prune: true
'''

RETURN = r'''
uploaded:
  description: File names uploaded (in check mode, those that would be).
  returned: always
  type: list
  elements: str
  sample: [jmespath-1.0.1-py3-none-any.whl]
kept:
  description:
    - File names not uploaded, because the index holds them already or, with O(on_conflict=skip), holds other content
      under their name. (Not C(skipped), which Ansible reserves for a task that did not run.)
  returned: always
  type: list
  elements: str
  sample: [netaddr-1.3.0-py3-none-any.whl]
conflicts:
  description: The kept file names whose content differs from the index's file of that name.
  returned: always
  type: list
  elements: str
  sample: []
extra:
  description:
    - File names the index held that are not among O(src) (its own files, not its bases'). With O(prune=true) they are
      removed, see RV(removed); without, they stay and a warning names them.
  returned: always
  type: list
  elements: str
  sample: [urllib3-1.26.5-py2.py3-none-any.whl]
removed:
  description: The files of RV(extra) removed from the index (in check mode, those that would be); empty unless O(prune=true).
  returned: always
  type: list
  elements: str
  sample: []
uploaded_count:
  description: Number of files in RV(uploaded).
  returned: always
  type: int
  sample: 1
kept_count:
  description: Number of files in RV(kept).
  returned: always
  type: int
  sample: 1
diff:
  description: The index's own files, before and after.
  returned: when diff mode is on
  type: dict
'''

import os
import shutil
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.airgap.pypi_mirror.plugins.module_utils.devpi import (
    DEVPI_REQUIRED_TOGETHER,
    INDEX_TYPES,
    DevpiError,
    check_index_option,
    devpi_argument_spec,
    normalize_project,
    run_module,
)
from ansible_collections.airgap.pypi_mirror.plugins.module_utils.distribution import (
    DistributionError,
    expand_sources,
    read_metadata,
    sha256sum,
)


def plan(module, client, files, pool):
    """Sort the files into those to upload, those already there, those in conflict and those replaced."""
    index = module.params['index']
    config = client.get_index(index, projects=True)
    if config is None:
        module.fail_json(msg='index %s does not exist on %s; create it first (devpi_index)' % (index, client.url))
    if config.get('type') != INDEX_TYPES['stage']:
        module.fail_json(msg='index %s is a mirror index and takes no uploads; packages go to a stage index '
                             'that lists %s in its bases' % (index, index))
    metadata = [read_metadata(path) for path in files]
    # Every project the index holds, a few at a time: one of our files, or a file nobody gave any more.
    projects = sorted(set(normalize_project(p) for p in config.get('projects', [])))
    held = dict(zip(projects, pool.map(lambda project: client.get_project_files(index, project), projects)))
    existing = [held.get(normalize_project(m['name']), {}).get(os.path.basename(path)) for path, m in zip(files, metadata)]
    given = set(os.path.basename(path) for path in files)
    extra = dict((name, there['url']) for project_files in held.values() for name, there in project_files.items()
                 if name not in given)
    compare = [path for path, there in zip(files, existing) if there is not None]
    digests = dict(zip(compare, pool.map(sha256sum, compare)))
    volatile = config.get('volatile', True)
    todo, present, conflicts, replaced = [], [], [], []
    for path, meta, there in zip(files, metadata, existing):
        filename = os.path.basename(path)
        if there is None:
            todo.append((path, meta))
        elif there.get('sha256') == digests[path]:
            present.append(filename)
        elif volatile:
            todo.append((path, meta))
            replaced.append(filename)
        else:
            conflicts.append(filename)
    return todo, present, conflicts, replaced, extra, volatile


# Room devpi needs beside the files themselves: its sqlite database and changelog grow with each upload.
DATABASE_RESERVE = 16 * 1024 * 1024


def mount_point(path):
    path = os.path.realpath(path)
    while not os.path.ismount(path):
        path = os.path.dirname(path)
    return path


def describe_space(path):
    """'the filesystem mounted on M (holding PATH): N MiB free of T MiB'."""
    usage = shutil.disk_usage(path)
    return 'the filesystem mounted on %s (holding %s): %.1f MiB free of %.1f MiB' % (
        mount_point(path), path, usage.free / 1048576.0, usage.total / 1048576.0)


def check_space(module, todo):
    """Fail before any upload when the server directory's filesystem cannot take the files to upload."""
    server_dir = module.params['server_dir']
    if not os.path.isdir(server_dir):
        module.fail_json(msg='server_dir %s is not a directory on this host; nothing was uploaded' % server_dir)
    free = shutil.disk_usage(server_dir).free - DATABASE_RESERVE
    for path, dummy in todo:
        free -= os.path.getsize(path)
        if free < 0:
            needed = sum(os.path.getsize(p) for p, dummy in todo) + DATABASE_RESERVE
            module.fail_json(msg='no room for the upload to %s: %s, and the %d file(s) to upload need %.1f MiB with '
                                 "devpi's database; %s is the first that does not fit. Nothing was uploaded: free "
                                 'space there (or give devpi a larger disk) and run again'
                                 % (module.params['index'], describe_space(server_dir), len(todo),
                                    needed / 1048576.0, os.path.basename(path)))


def upload_all(module, client, todo, pool):
    """Upload every file, several at once; on the first failure stop starting new ones and report what went up."""
    failures = []

    def upload(item):
        if failures:
            return None
        path, meta = item
        try:
            client.upload(module.params['index'], path, meta)
        except DevpiError as e:
            failures.append(e)
            return None
        return os.path.basename(path)

    done = [name for name in pool.map(upload, todo) if name]
    if failures:
        msg = str(failures[0])
        if module.params['server_dir']:
            msg += '; devpi-server keeps its files in %s' % describe_space(module.params['server_dir'])
        module.fail_json(msg=msg, status=failures[0].status, uploaded=done, uploaded_count=len(done))
    return done


def prune(module, client, extra, volatile):
    """Remove the index's files that were not given, one at a time, after the uploads."""
    removed = []
    for name in sorted(extra):
        try:
            client.delete_file(extra[name], force=not volatile)
        except DevpiError as e:
            module.fail_json(msg='removing %s from %s failed: %s' % (name, module.params['index'], e), status=e.status,
                             removed=removed)
        removed.append(name)
    return removed


def run(module, client):
    with ThreadPoolExecutor(max_workers=module.params['workers']) as pool:
        try:
            files = expand_sources(module.params['src'])
            todo, present, conflicts, replaced, extra, volatile = plan(module, client, files, pool)
        except DistributionError as e:
            module.fail_json(msg='src: %s; nothing was uploaded' % e)
        if conflicts and module.params['on_conflict'] == 'fail':
            module.fail_json(msg='index %s is not volatile and already holds other content under the name of %s; '
                                 'nothing was uploaded (set on_conflict: skip to leave those files in place)'
                                 % (module.params['index'], ', '.join(conflicts)), conflicts=conflicts)
        if module.params['server_dir'] and todo:
            check_space(module, todo)
        if module.check_mode:
            uploaded = [os.path.basename(path) for path, dummy in todo]
        else:
            uploaded = upload_all(module, client, todo, pool)
    removed = []
    if module.params['prune']:
        removed = sorted(extra) if module.check_mode else prune(module, client, extra, volatile)
    elif extra:
        module.warn('index %s holds %d file(s) that are not among src: %s; they stay (prune: true removes them)'
                    % (module.params['index'], len(extra), ', '.join(sorted(extra))))
    kept = present + conflicts
    result = dict(changed=bool(uploaded or removed), uploaded=uploaded, kept=kept, conflicts=conflicts,
                  extra=sorted(extra), removed=removed, uploaded_count=len(uploaded), kept_count=len(kept))
    if module._diff:
        others = sorted(set(extra) - set(removed))
        result['diff'] = dict(before=dict(files=sorted(present + conflicts + replaced + list(extra))),
                              after=dict(files=sorted(present + conflicts + uploaded + others)))
    return result


def main():
    argument_spec = dict(
        index=dict(type='str', required=True),
        src=dict(type='list', elements='path', required=True),
        on_conflict=dict(type='str', default='fail', choices=['fail', 'skip']),
        prune=dict(type='bool', default=False),
        workers=dict(type='int', default=4),
        server_dir=dict(type='path', default=''),
    )
    argument_spec.update(devpi_argument_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           required_together=DEVPI_REQUIRED_TOGETHER)
    if module.params['workers'] < 1:
        module.fail_json(msg='workers must be 1 or more, not %d' % module.params['workers'])
    check_index_option(module, 'index')
    run_module(module, run)


if __name__ == '__main__':
    main()
