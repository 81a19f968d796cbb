#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, airgap.pypi_mirror contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: firewalld_ports
short_description: Open or close a service's ports in firewalld, where firewalld runs
version_added: 1.1.0
description:
  - Where firewalld runs on the host, makes sure the O(ports) are open (V(present)) or closed (V(absent)) in a zone, now
    and after a reload (runtime and permanent). Where firewalld is not installed or not running, changes nothing and
    says so in RV(running).
  - The zone is O(zone), else the zone of the interface that holds O(address) (the address the clients reach the host
    at), else firewalld's default zone.
  - Runs C(firewall-cmd), the OS's own; needs nothing else on the host.
author:
  - airgap.pypi_mirror maintainers (@airgap-ansible)
options:
  ports:
    description: The ports, as C(PORT/PROTOCOL) (C(443/tcp)).
    type: list
    elements: str
    required: true
  state:
    description: V(present) opens the ports, V(absent) closes them.
    type: str
    choices: [present, absent]
    default: present
  zone:
    description: The zone; empty finds it from O(address).
    type: str
    default: ''
  address:
    description: The host's address the clients use; its interface's zone is the one changed when O(zone) is empty.
    type: str
    default: ''
attributes:
  check_mode:
    description: Tells which ports it would open or close and changes nothing.
    support: full
  diff_mode:
    description: Whether each of O(ports) is open in the zone, now and permanently, before and after.
    support: full
'''

EXAMPLES = r'''
- name: Let the clients reach the front's ports, where firewalld runs
  airgap.pypi_mirror.firewalld_ports:
    ports: [80/tcp, 443/tcp]
    address: "{{ ansible_host }}"
  register: opened

- name: Close what was opened
  airgap.pypi_mirror.firewalld_ports:
    ports: "{{ opened.ports_changed }}"
    zone: "{{ opened.zone }}"
    state: absent
'''

RETURN = r'''
running:
  description: Whether firewalld runs on the host; when false nothing was looked at or changed.
  returned: always
  type: bool
  sample: true
zone:
  description: The zone the ports were opened or closed in; empty when firewalld does not run.
  returned: always
  type: str
  sample: public
ports_changed:
  description: The ports that were (or in check mode would be) opened or closed, in either scope.
  returned: always
  type: list
  elements: str
  sample: [443/tcp]
'''

import re

from ansible.module_utils.basic import AnsibleModule

SCOPES = ([], ['--permanent'])


class Firewall(object):
    def __init__(self, module):
        self.module = module
        self.bin = module.get_bin_path('firewall-cmd')

    def cmd(self, *args):
        return self.module.run_command([self.bin] + list(args))

    def running(self):
        return self.bin is not None and self.cmd('--state')[0] == 0

    def zone_of(self, address):
        ip = self.module.get_bin_path('ip')
        if address and ip:
            rc, out, err = self.module.run_command([ip, '-o', 'address', 'show', 'to', address])
            fields = out.split()
            if rc == 0 and len(fields) > 1:
                # 2: the interface is in no zone, so the default zone applies to it.
                rc, zone, err = self.cmd('--get-zone-of-interface=' + fields[1].split('@')[0])
                if rc == 0 and zone.strip():
                    return zone.strip()
        rc, zone, err = self.cmd('--get-default-zone')
        if rc != 0:
            self.module.fail_json(msg='firewall-cmd --get-default-zone failed: %s' % err.strip())
        return zone.strip()

    def is_open(self, scope, zone, port):
        rc, out, err = self.cmd(*(scope + ['--zone=' + zone, '--query-port=' + port]))
        if rc not in (0, 1):
            self.module.fail_json(msg='firewall-cmd cannot read zone %s: %s' % (zone, (err or out).strip()))
        return rc == 0

    def change(self, scope, zone, port, opening):
        rc, out, err = self.cmd(*(scope + ['--zone=' + zone, ('--add-port=' if opening else '--remove-port=') + port]))
        if rc != 0:
            self.module.fail_json(msg='firewall-cmd could not %s %s in zone %s: %s'
                                      % ('open' if opening else 'close', port, zone, (err or out).strip()))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            ports=dict(type='list', elements='str', required=True),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            zone=dict(type='str', default=''),
            address=dict(type='str', default=''),
        ),
        supports_check_mode=True,
    )
    p = module.params
    bad = [port for port in p['ports'] if not re.match(r'^\d{1,5}/(tcp|udp|sctp|dccp)$', port)]
    if bad:
        module.fail_json(msg='ports: %s is not PORT/PROTOCOL, such as 443/tcp' % ', '.join(bad))
    firewall = Firewall(module)
    if not firewall.running():
        module.exit_json(changed=False, running=False, zone='', ports_changed=[])
    zone = p['zone'] or firewall.zone_of(p['address'])
    opening = p['state'] == 'present'
    before, to_change = {}, []
    for port in p['ports']:
        state = dict(zip(('now', 'permanent'), (firewall.is_open(scope, zone, port) for scope in SCOPES)))
        before[port] = state
        to_change += [(scope, port) for scope, is_open in zip(SCOPES, state.values()) if is_open != opening]
    if not module.check_mode:
        for scope, port in to_change:
            firewall.change(scope, zone, port, opening)
    after = dict((port, dict(now=opening, permanent=opening)) for port in p['ports'])
    module.exit_json(changed=bool(to_change), running=True, zone=zone,
                     ports_changed=sorted(set(port for _scope, port in to_change)),
                     diff=dict(before=dict(zone=zone, open=before), after=dict(zone=zone, open=after)))


if __name__ == '__main__':
    main()
