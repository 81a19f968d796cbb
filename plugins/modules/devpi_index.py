#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, airgap.pypi_mirror contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: devpi_index
short_description: Manage indexes of a devpi-server
version_added: 1.0.0
description:
  - Creates, changes and deletes a devpi index (a private V(stage) index or a V(mirror) of an upstream index)
    through devpi-server's HTTP API.
  - Reads the index first and sends only the settings that differ (C(PATCH)), so a second run sends no write request.
  - Options left unset are left alone on the server.
author:
  - airgap.pypi_mirror maintainers (@airgap-ansible)
options:
  name:
    description:
      - The index as C(user/index), for example C(root/prod). The user must exist.
    type: str
    required: true
  type:
    description:
      - V(stage) is a private index that takes uploads; V(mirror) caches an upstream index.
      - Used when the index is created (then V(stage) when unset). devpi cannot change the type of an
        existing index; a different value fails and changes nothing.
    type: str
    choices: [stage, mirror]
  bases:
    description:
      - Indexes this one inherits from, as C(user/index), in lookup order (order is kept).
      - Every base must exist. V(stage) indexes only.
      - An empty list removes all bases.
    type: list
    elements: str
  volatile:
    description:
      - Whether files may be overwritten and the index deleted. devpi makes new indexes volatile unless told otherwise.
    type: bool
  acl_upload:
    description:
      - Users allowed to upload; C(:ANONYMOUS:) for everybody, C(:AUTHENTICATED:) for every user (in any case). V(stage) indexes only.
    type: list
    elements: str
  acl_toxresult_upload:
    description:
      - Users allowed to upload tox results. V(stage) indexes only.
    type: list
    elements: str
  mirror_whitelist:
    description:
      - Projects that may come from a mirror base even when this index holds a project of the same name.
      - Everything else this index holds shadows the mirror, the defence against dependency confusion.
        C(*) allows every project. V(stage) indexes only.
      - Names compare as devpi stores them (normalized, so C(Acme_Tools) and C(acme-tools) are the same project).
    type: list
    elements: str
  mirror_whitelist_inheritance:
    description:
      - How this index combines its O(mirror_whitelist) with those of its stage bases. V(intersection) (devpi's
        default) lets a mirror serve a project only when every index on the way allows it; V(union) when any does.
        V(stage) indexes only.
    type: str
    choices: [intersection, union]
  mirror_url:
    description:
      - The upstream simple index a V(mirror) index caches, an C(http://) or C(https://) URL.
      - Left unset, devpi uses its own built-in default upstream.
    type: str
  mirror_cache_expiry:
    description:
      - Seconds a mirrored project list stays fresh. V(mirror) indexes only.
    type: int
  title:
    description:
      - A short title.
    type: str
  description:
    description:
      - A longer description.
    type: str
  state:
    description:
      - V(present) makes sure the index exists with the given settings; V(absent) deletes it and its files.
    type: str
    choices: [present, absent]
    default: present
  force:
    description:
      - With O(state=absent), delete a non-volatile index by making it volatile first.
      - Without it, deleting a non-volatile index fails and changes nothing.
    type: bool
    default: false
extends_documentation_fragment:
  - airgap.pypi_mirror.devpi
  - airgap.pypi_mirror.devpi.attributes
attributes:
  check_mode:
    description: Can run in check mode and return the changed status it predicts without changing the server.
    support: full
  diff_mode:
    description: Returns what changed (or would change in check mode) in diff mode.
    support: full
notes:
  - The type names are those of devpi-server 6 (C(stage), C(mirror)).
seealso:
  - module: airgap.pypi_mirror.devpi_user
  - module: airgap.pypi_mirror.devpi_upload
'''

EXAMPLES = r'''
- name: Make sure root/prod exists and falls back to the mirror root/pypi
  airgap.pypi_mirror.devpi_index:
    url: http://127.0.0.1:3141
    auth_username: root
    auth_password: "{{ devpi_root_password }}"
    name: root/prod
    bases: [root/pypi]
    volatile: false
    mirror_whitelist: [requests, urllib3]

- name: Point the mirror root/pypi at the site's upstream index
  airgap.pypi_mirror.devpi_index:
    url: http://127.0.0.1:3141
    auth_username: root
    auth_password: "{{ devpi_root_password }}"
    name: root/pypi
    type: mirror
    mirror_url: http://upstream.example.internal/simple/

- name: Delete a non-volatile index
  airgap.pypi_mirror.devpi_index:
    url: http://127.0.0.1:3141
    auth_username: root
    auth_password: "{{ devpi_root_password }}"
    name: root/old
    state: absent
    force: true
'''

RETURN = r'''
index:
  description: The index configuration after the run (what the server holds, or would hold in check mode); empty when absent.
  returned: always
  type: dict
  sample:
    type: stage
    bases: [root/pypi]
    volatile: false
    acl_upload: [root]
    acl_toxresult_upload: [":ANONYMOUS:"]
    mirror_whitelist: []
    mirror_whitelist_inheritance: intersection
diff:
  description: The index configuration before and after.
  returned: when diff mode is on
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.airgap.pypi_mirror.plugins.module_utils.devpi import (
    DEVPI_REQUIRED_TOGETHER,
    INDEX_TYPES,
    SERVER_INDEX_TYPES,
    check_index_option,
    devpi_argument_spec,
    normalize_project,
    run_module,
    split_index,
)
from ansible_collections.airgap.pypi_mirror.plugins.module_utils.urls import is_http_url

COMMON_KEYS = ('volatile', 'title', 'description')
TYPE_KEYS = {
    'stage': ('bases', 'acl_upload', 'acl_toxresult_upload', 'mirror_whitelist', 'mirror_whitelist_inheritance'),
    'mirror': ('mirror_url', 'mirror_cache_expiry'),
}
# What devpi stores for a key that was never set, so an unset key compares equal to its empty value.
EMPTY = {'title': '', 'description': '', 'bases': [], 'mirror_whitelist': [], 'mirror_whitelist_inheritance': 'intersection'}


def as_devpi_stores(key, value):
    """VALUE the way devpi stores it, so every spelling a user may write compares equal to it."""
    if key == 'mirror_whitelist':
        return [name if name == '*' else normalize_project(name) for name in value]
    if key in ('acl_upload', 'acl_toxresult_upload'):
        # Specials such as :anonymous: are upper-cased by devpi; user names keep their case.
        return [name.upper() if len(name) > 2 and name.startswith(':') and name.endswith(':') else name for name in value]
    return value


def desired_settings(module, index_type):
    """The settings the user gave, checked against the index type, as devpi will store them."""
    params = module.params
    other = 'mirror' if index_type == 'stage' else 'stage'
    wrong = [k for k in TYPE_KEYS[other] if params[k] is not None]
    if wrong:
        module.fail_json(msg='%s cannot be set on %s index %s: %s only applies to %s indexes'
                         % (', '.join(wrong), index_type, params['name'], ', '.join(wrong), other))
    return dict((k, as_devpi_stores(k, params[k])) for k in COMMON_KEYS + TYPE_KEYS[index_type] if params[k] is not None)


def check_bases(module, client, bases):
    """Fail before any change when a base is malformed or does not exist."""
    for base in bases:
        try:
            split_index(base)
        except ValueError as e:
            module.fail_json(msg='bases: %s' % e)
    users = client.get_users()
    missing = [b for b in bases if b.split('/')[1] not in (users.get(b.split('/')[0]) or {}).get('indexes', {})]
    if missing:
        module.fail_json(msg='bases: index %s does not exist on %s' % (', '.join(missing), client.url))


def run(module, client):
    params = module.params
    name = params['name']
    current = client.get_index(name)
    before = current or {}
    result = dict(changed=False, index=before)

    if params['state'] == 'absent':
        if current is None:
            return finish(module, result, before, {})
        if not current.get('volatile', True) and not params['force']:
            module.fail_json(msg='index %s is not volatile and devpi refuses to delete it; '
                                 'set force: true to make it volatile and delete it' % name)
        result.update(changed=True, index={})
        if not module.check_mode:
            if not current.get('volatile', True):
                client.modify_index(name, {'volatile': True})
            client.delete_index(name)
        return finish(module, result, before, {})

    if current is None:
        index_type = params['type'] or 'stage'
    else:
        index_type = SERVER_INDEX_TYPES.get(current.get('type'), current.get('type'))
        if params['type'] and params['type'] != index_type:
            module.fail_json(msg='index %s is a %s index and devpi cannot change the type of an index to %s; '
                                 'delete it first (state: absent) to re-create it' % (name, index_type, params['type']))
    desired = desired_settings(module, index_type)
    if desired.get('mirror_url') is not None and not is_http_url(desired['mirror_url']):
        module.fail_json(msg="mirror_url '%s' must be an http:// or https:// URL" % desired['mirror_url'])
    if desired.get('bases'):
        check_bases(module, client, desired['bases'])

    if current is None:
        config = dict(desired, type=INDEX_TYPES[index_type])
        result.update(changed=True, index=config)
        if not module.check_mode:
            result['index'] = client.create_index(name, config)
        return finish(module, result, before, result['index'])

    changes = dict((k, v) for k, v in desired.items() if current.get(k, EMPTY.get(k)) != v)
    after = dict(current, **changes)
    result['index'] = after
    if changes:
        result['changed'] = True
        if not module.check_mode:
            result['index'] = client.modify_index(name, changes)
    return finish(module, result, before, result['index'])


def finish(module, result, before, after):
    if module._diff:
        result['diff'] = dict(before=before, after=after)
    return result


def main():
    argument_spec = devpi_argument_spec()
    argument_spec.update(
        name=dict(type='str', required=True),
        type=dict(type='str', choices=list(INDEX_TYPES)),
        bases=dict(type='list', elements='str'),
        volatile=dict(type='bool'),
        acl_upload=dict(type='list', elements='str'),
        acl_toxresult_upload=dict(type='list', elements='str'),
        mirror_whitelist=dict(type='list', elements='str'),
        mirror_whitelist_inheritance=dict(type='str', choices=['intersection', 'union']),
        mirror_url=dict(type='str'),
        mirror_cache_expiry=dict(type='int'),
        title=dict(type='str'),
        description=dict(type='str'),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        force=dict(type='bool', default=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           required_together=DEVPI_REQUIRED_TOGETHER)
    check_index_option(module, 'name')
    run_module(module, run)


if __name__ == '__main__':
    main()
