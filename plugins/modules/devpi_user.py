#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, airgap.pypi_mirror contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: devpi_user
short_description: Manage users of a devpi-server
version_added: 1.0.0
description:
  - Creates, changes and deletes a user of a devpi-server through its HTTP API.
  - Reads the user first and sends only what differs, so a second run sends no write request.
  - Options left unset are left alone on the server.
author:
  - airgap.pypi_mirror maintainers (@airgap-ansible)
options:
  name:
    description:
      - The user name.
    type: str
    required: true
  password:
    description:
      - The user's password. Required when the user must be created.
      - Never logged or shown; the diff shows only whether it changes.
    type: str
  update_password:
    description:
      - V(on_create) sets O(password) only when the user is created.
      - V(always) also changes the password of an existing user, but only when a login with O(password) fails,
        so an unchanged password sends no write request.
    type: str
    choices: [on_create, always]
    default: on_create
  email:
    description:
      - The user's e-mail address. An empty string removes it.
    type: str
  title:
    description:
      - A short title for the user. An empty string removes it.
    type: str
  description:
    description:
      - A longer description of the user. An empty string removes it.
    type: str
  state:
    description:
      - V(present) makes sure the user exists with the given settings; V(absent) deletes it.
      - devpi refuses to delete a user who still owns a non-volatile index; remove the index first
        (M(airgap.pypi_mirror.devpi_index) with O(airgap.pypi_mirror.devpi_index#module:force=true)).
    type: str
    choices: [present, absent]
    default: present
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
    details: The password is never part of the diff; a password change shows as C(password_changed).
notes:
  - Creating users needs a login as root unless the server runs without C(--restrict-modify);
    a user may change their own settings.
seealso:
  - module: airgap.pypi_mirror.devpi_index
  - module: airgap.pypi_mirror.devpi_info
'''

EXAMPLES = r'''
- name: Make sure the ci user exists
  airgap.pypi_mirror.devpi_user:
    url: http://127.0.0.1:3141
    auth_username: root
    auth_password: "{{ devpi_root_password }}"
    name: ci
    password: "{{ devpi_ci_password }}"
    email: ci@example.com

- name: Keep the ci password in line with the vault (changes it only when a login with it fails)
  airgap.pypi_mirror.devpi_user:
    url: http://127.0.0.1:3141
    auth_username: root
    auth_password: "{{ devpi_root_password }}"
    name: ci
    password: "{{ devpi_ci_password }}"
    update_password: always

- name: Remove a user, connection set once for the whole group
  module_defaults:
    group/airgap.pypi_mirror.devpi:
      url: http://127.0.0.1:3141
      auth_username: root
      auth_password: "{{ devpi_root_password }}"
  airgap.pypi_mirror.devpi_user:
    name: olduser
    state: absent
'''

RETURN = r'''
user:
  description: The user as the server holds it after the run (without password); empty when absent.
  returned: always
  type: dict
  sample:
    username: ci
    email: ci@example.com
    indexes: {}
password_changed:
  description: Whether the password was set or changed (or would be, in check mode).
  returned: always
  type: bool
  sample: false
diff:
  description: The user before and after, without the password.
  returned: when diff mode is on
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.airgap.pypi_mirror.plugins.module_utils.devpi import (
    DEVPI_REQUIRED_TOGETHER,
    run_module,
    devpi_argument_spec,
)

SETTINGS = ('email', 'title', 'description')


def _public(user):
    """The user's settings that are worth showing and comparing."""
    if not user:
        return {}
    return dict((k, v) for k, v in user.items() if k not in ('password', 'pwhash', 'pwsalt'))


def _shown(user):
    """What the diff shows: the settings this module manages, not server timestamps or index lists."""
    return dict((k, user[k]) for k in ('username',) + SETTINGS if k in user)


def run(module, client):
    params = module.params
    name = params['name']
    current = client.get_user(name)
    result = dict(changed=False, password_changed=False, user=_public(current))
    before = _public(current)
    after = dict(before)

    if params['state'] == 'absent':
        if current is not None:
            result['changed'] = True
            after = {}
            if not module.check_mode:
                client.delete_user(name)
            result['user'] = {}
    elif current is None:
        if not params['password']:
            module.fail_json(msg='password is required to create user %s' % name)
        config = dict((k, params[k]) for k in SETTINGS if params[k])
        after = dict(config, username=name)
        result.update(changed=True, password_changed=True)
        if not module.check_mode:
            config['password'] = params['password']
            after = _public(client.create_user(name, config))
        result['user'] = after
    else:
        changes = dict((k, params[k]) for k in SETTINGS
                       if params[k] is not None and (current.get(k) or '') != params[k])
        for key, value in changes.items():
            if value:
                after[key] = value
            else:
                after.pop(key, None)
        password_changes = (params['update_password'] == 'always' and params['password']
                            and not client.check_login(name, params['password']))
        if password_changes:
            changes['password'] = params['password']
            result['password_changed'] = True
        if changes:
            result['changed'] = True
            if not module.check_mode:
                client.modify_user(name, changes)
                after = _public(client.get_user(name))
        result['user'] = after

    if module._diff:
        diff_after = _shown(after)
        if result['password_changed']:
            diff_after['password_changed'] = True
        result['diff'] = dict(before=_shown(before), after=diff_after)
    return result


def main():
    argument_spec = devpi_argument_spec()
    argument_spec.update(
        name=dict(type='str', required=True),
        password=dict(type='str', no_log=True),
        update_password=dict(type='str', default='on_create', choices=['on_create', 'always'], no_log=False),
        email=dict(type='str'),
        title=dict(type='str'),
        description=dict(type='str'),
        state=dict(type='str', default='present', choices=['present', 'absent']),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           required_together=DEVPI_REQUIRED_TOGETHER)
    if '/' in module.params['name'] or not module.params['name'].strip():
        module.fail_json(msg="name '%s' is not a valid devpi user name" % module.params['name'])
    run_module(module, run)


if __name__ == '__main__':
    main()
