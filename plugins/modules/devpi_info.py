#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, airgap.pypi_mirror contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: devpi_info
short_description: Read the users, indexes and files of a devpi-server
version_added: 1.0.0
description:
  - Returns the server's users and indexes with their configuration.
  - With O(index), also that index's projects and their files with sha256 hashes.
  - Also the server's status (its role, its serial and, on a replica, whether it has caught up with its primary),
    which is what to watch on a mirror and what a play waits on after it starts a replica.
  - Never changes anything.
author:
  - airgap.pypi_mirror maintainers (@airgap-ansible)
options:
  index:
    description:
      - An index, as C(user/index), whose projects and files to return.
      - For a V(mirror) index only the projects named in O(projects) are read, because listing a mirror
        asks its upstream for every project it has.
    type: str
  projects:
    description:
      - Read only these projects of O(index).
    type: list
    elements: str
  include_bases:
    description:
      - Also list files the index inherits from its bases, not only its own.
    type: bool
    default: false
extends_documentation_fragment:
  - airgap.pypi_mirror.devpi
  - airgap.pypi_mirror.devpi.attributes
attributes:
  check_mode:
    description: Can run in check mode and return the changed status it predicts without changing the server.
    support: full
    details: The module only reads.
  diff_mode:
    description: Returns what changed (or would change in check mode) in diff mode.
    support: none
seealso:
  - module: airgap.pypi_mirror.devpi_index
  - module: airgap.pypi_mirror.devpi_upload
'''

EXAMPLES = r'''
- name: Read the server's users and indexes
  airgap.pypi_mirror.devpi_info:
    url: http://127.0.0.1:3141
  register: devpi

- name: Show which indexes exist
  ansible.builtin.debug:
    msg: "{{ devpi.indexes | list }}"

- name: Read what root/prod holds, with hashes
  airgap.pypi_mirror.devpi_info:
    url: http://127.0.0.1:3141
    index: root/prod
  register: prod

- name: Check that netaddr is there
  ansible.builtin.assert:
    that: "'netaddr' in prod.projects"

- name: Read the primary's serial
  airgap.pypi_mirror.devpi_info:
    url: http://10.0.1.10:3141
  register: primary

- name: Wait until a replica holds everything the primary had then
  airgap.pypi_mirror.devpi_info:
    url: http://10.0.1.11:3141
  register: replica
  until: replica.status.in_sync and replica.status.serial >= primary.status.serial
  retries: 30
  delay: 2
'''

RETURN = r'''
users:
  description: The server's users, by name, with their settings (without passwords) and the names of their indexes.
  returned: always
  type: dict
  sample:
    root:
      username: root
      indexes: [pypi, prod]
indexes:
  description: Every index, by C(user/index), with its configuration.
  returned: always
  type: dict
  sample:
    root/prod:
      type: stage
      bases: [root/pypi]
      volatile: false
status:
  description: The server's own view of itself, from its C(+status) page.
  returned: always
  type: dict
  contains:
    role:
      description:
        - C(primary), C(replica), or C(standalone) (a server started with C(--role standalone)).
        - devpi reports a server started with no role as a primary too, but only one started with C(--role primary)
          serves its replicas (the others answer their requests with HTTP 403).
      type: str
      sample: replica
    serial:
      description: The number of the last change the server holds (C(-1) for none yet, on a fresh replica).
      type: int
      sample: 42
    devpi_server_version:
      description: The version of devpi-server that answers.
      type: str
      sample: 6.20.3
    primary_url:
      description: On a replica, the primary it follows; otherwise null.
      type: str
      sample: http://10.0.1.10:3141
    primary_serial:
      description: On a replica, the primary's serial when the replica last heard from it (null before that); otherwise null.
      type: int
      sample: 42
    in_sync:
      description:
        - On a replica, true once it has reported itself in sync and holds the primary's last serial it knows of;
          to know that it holds a given change, compare RV(status.serial) with the primary's.
        - Always true on a primary or a standalone server, which are their own source.
      type: bool
      sample: true
    replication_errors:
      description: On a replica, devpi's current replication errors by what failed (empty when there are none).
      type: dict
      sample: {}
projects:
  description:
    - With O(index), its projects by normalized name; for each, its versions, and for each version its files
      (C(filename), C(sha256), C(url)).
  returned: when O(index) is set
  type: dict
  sample:
    netaddr:
      "1.3.0":
        - filename: netaddr-1.3.0-py3-none-any.whl
          sha256: 5c3c3d9895b551b763779ba7db7a03487dc1f8e3b385af819af341ae9ef6e48a
          url: http://127.0.0.1:3141/root/prod/+f/5c3/c3d9895b551b7/netaddr-1.3.0-py3-none-any.whl
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.airgap.pypi_mirror.plugins.module_utils.devpi import (
    DEVPI_REQUIRED_TOGETHER,
    INDEX_TYPES,
    check_index_option,
    devpi_argument_spec,
    normalize_project,
    run_module,
)


# devpi 6 calls a primary MASTER in +status.
ROLES = {'MASTER': 'primary', 'PRIMARY': 'primary', 'REPLICA': 'replica', 'STANDALONE': 'standalone'}


def server_status(raw):
    """The fields of /+status a play acts on, under names of this collection's own."""
    role = ROLES.get(str(raw.get('role', 'STANDALONE')).upper(), str(raw.get('role')).lower())
    serial = raw.get('serial')
    status = dict(role=role, serial=serial, devpi_server_version=(raw.get('versioninfo') or {}).get('devpi-server'),
                  primary_url=None, primary_serial=None, in_sync=True, replication_errors={})
    if role == 'replica':
        primary_serial = raw.get('primary-serial', raw.get('master-serial'))
        status.update(primary_url=raw.get('primary-url', raw.get('master-url')), primary_serial=primary_serial,
                      replication_errors=raw.get('replication-errors') or {},
                      in_sync=bool(raw.get('replica-in-sync-at')) and primary_serial is not None and serial >= primary_serial)
    return status


def run(module, client):
    users, indexes = {}, {}
    for name, user in sorted(client.get_users().items()):
        user_indexes = user.get('indexes') or {}
        users[name] = dict(user, indexes=sorted(user_indexes))
        for index_name, config in sorted(user_indexes.items()):
            indexes['%s/%s' % (name, index_name)] = config
    result = dict(changed=False, users=users, indexes=indexes, status=server_status(client.get_status()))
    index = module.params['index']
    if index is None:
        return result
    if index not in indexes:
        module.fail_json(msg='index %s does not exist on %s' % (index, client.url))
    names = module.params['projects']
    if names is None:
        if indexes[index].get('type') == INDEX_TYPES['mirror']:
            names = []
        else:
            names = client.get_index(index, projects=True).get('projects', [])
    projects = {}
    for name in sorted(set(normalize_project(n) for n in names)):
        files = client.get_project_files(index, name, include_bases=module.params['include_bases'])
        versions = {}
        for filename, info in sorted(files.items()):
            versions.setdefault(info['version'], []).append(dict(filename=filename, sha256=info['sha256'], url=info['url']))
        projects[name] = versions
    result['projects'] = projects
    return result


def main():
    argument_spec = devpi_argument_spec()
    argument_spec.update(
        index=dict(type='str'),
        projects=dict(type='list', elements='str'),
        include_bases=dict(type='bool', default=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           required_together=DEVPI_REQUIRED_TOGETHER,
                           required_by=dict(projects='index'))
    check_index_option(module, 'index')
    run_module(module, run)


if __name__ == '__main__':
    main()
