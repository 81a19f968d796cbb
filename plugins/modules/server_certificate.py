#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, airgap.pypi_mirror contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: server_certificate
short_description: Check a mirror server's TLS certificate, or make a site CA and the certificate with openssl
version_added: 1.1.0
description:
  - Runs where the certificate files are, on the controller (delegated to localhost), with the C(openssl)
    command (the OS's own package) and the Python standard library.
  - With O(cert), O(key) and O(ca) (the files a site with its own CA gives), checks them and changes nothing. It
    fails, naming the option (or its O(labels) name), when the certificate and the key do not match, the
    certificate has expired, its names do not include every one of O(names), the CA did not issue it, or the key
    has a passphrase (nginx could not start unattended). A key readable by group or others gives a warning.
  - Without them, keeps a site CA and a certificate for the server in O(dir). The CA is made once and never remade
    (the clients trust it); the server's certificate is made when it is missing, does not hold every one of
    O(names), was not issued by that CA, or expires within O(renew_days), and is kept otherwise.
  - No key's content is ever read into the result, a log or a command line.
author:
  - airgap.pypi_mirror maintainers (@airgap-ansible)
options:
  names:
    description:
      - The DNS names and IP addresses the clients use to reach the server; the certificate must hold each as a
        subject alternative name. The first is also the made certificate's common name.
    type: list
    elements: str
    required: true
  cert:
    description: A PEM certificate for the server (with its chain after it, if any); empty makes one in O(dir).
    type: path
    default: ''
  key:
    description: The certificate's private key, PEM, without a passphrase.
    type: path
    default: ''
  ca:
    description: The PEM certificate of the CA that issued O(cert), which the clients will trust.
    type: path
    default: ''
  dir:
    description:
      - Where the made site CA (C(ca.crt), C(ca.key)) and server certificates (C(SERVER.crt), C(SERVER.key)) are
        kept, made 0700. Back it up; a lost CA means a new one on every client.
      - Required when O(cert), O(key) and O(ca) are empty.
    type: path
    default: ''
  server:
    description: The name of the server's files in O(dir), such as its inventory name.
    type: str
    default: server
  days:
    description: How many days a made server certificate is valid.
    type: int
    default: 825
  ca_days:
    description: How many days a made site CA is valid.
    type: int
    default: 3650
  renew_days:
    description: A made server certificate that expires within this many days is made again.
    type: int
    default: 30
  labels:
    description:
      - The names the user knows the options by (such as C(cert=pypi_mirror_tls_cert)), used in every message.
    type: dict
    default: {}
attributes:
  check_mode:
    description: Tells what it would make and makes nothing.
    support: full
  diff_mode:
    description: The server certificate's names and end date, before and after.
    support: full
notes:
  - The made keys are ECDSA P-256, which pip, uv and nginx all take.
'''

EXAMPLES = r'''
- name: Make sure the site CA and the admin host's certificate are in the inventory's directory
  airgap.pypi_mirror.server_certificate:
    dir: "{{ inventory_dir }}/.pypi_mirror_tls"
    server: admin1
    names: [admin1, admin1.example.internal, 10.0.0.10]
  delegate_to: localhost
  register: tls

- name: Check the certificate the site's CA issued
  airgap.pypi_mirror.server_certificate:
    cert: files/mirror.crt
    key: files/mirror.key
    ca: files/site-ca.crt
    names: [mirror.example.internal]
    labels: {cert: pypi_mirror_tls_cert, key: pypi_mirror_tls_key, ca: pypi_mirror_tls_ca}
  delegate_to: localhost
'''

RETURN = r'''
cert:
  description: The server certificate's file on the controller.
  returned: always
  type: str
  sample: /srv/site/.pypi_mirror_tls/admin1.crt
key:
  description: The server key's file on the controller (its path only).
  returned: always
  type: str
  sample: /srv/site/.pypi_mirror_tls/admin1.key
ca:
  description: The CA certificate's file on the controller, for the clients' trust stores.
  returned: always
  type: str
  sample: /srv/site/.pypi_mirror_tls/ca.crt
made:
  description: What was made (or would be, in check mode), of C(ca) and C(cert).
  returned: always
  type: list
  elements: str
  sample: [cert]
names:
  description: The certificate's subject alternative names (after a make, the new certificate's).
  returned: always
  type: list
  elements: str
  sample: [admin1, 10.0.0.10]
not_after:
  description: When the certificate expires, as openssl prints it.
  returned: always
  type: str
  sample: Mar  1 12:00:00 2029 GMT
'''

import ipaddress
import os
import re
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule


class CertificateError(Exception):
    """A file that cannot serve: the message names the option."""


class OpenSSL(object):
    def __init__(self, module):
        self.module = module
        self.bin = module.get_bin_path('openssl', required=True)

    def run(self, *args, **kwargs):
        # data='' keeps openssl from waiting on a passphrase prompt.
        rc, out, err = self.module.run_command([self.bin] + list(args), data=kwargs.get('data', ''), binary_data=True)
        return rc, out, err.strip()

    def read(self, path):
        """A certificate's end date, subject alternative names and public key, or None when it is not one."""
        rc, out, err = self.run('x509', '-in', path, '-noout', '-enddate', '-ext', 'subjectAltName')
        if rc != 0:
            return None
        end = re.search(r'^notAfter=(.*)$', out, re.M)
        names = []
        for entry in re.findall(r'(?:DNS|IP Address):[^,\s]+', out):
            kind, value = entry.split(':', 1)
            names.append(str(ipaddress.ip_address(value)) if kind == 'IP Address' else value.lower())
        return dict(not_after=end.group(1).strip() if end else '', names=names, pubkey=self.pubkey('x509', path))

    def pubkey(self, kind, path):
        args = ['x509', '-in', path, '-noout', '-pubkey'] if kind == 'x509' else ['pkey', '-in', path, '-pubout']
        # An empty passphrase source makes an encrypted key fail instead of prompting.
        rc, out, err = self.run(*(args + (['-passin', 'pass:'] if kind == 'pkey' else [])))
        return out.strip() if rc == 0 else None

    def expires_within(self, path, seconds):
        return self.run('x509', '-in', path, '-noout', '-checkend', str(seconds))[0] != 0

    def issued_by(self, cert, ca):
        # -partial_chain: the site's CA may itself be an intermediate; -no-CApath: trust nothing else.
        rc, out, err = self.run('verify', '-no-CApath', '-partial_chain', '-CAfile', ca, cert)
        return rc == 0, (err or out).strip()


def covers(cert_names, wanted):
    """Whether a certificate's names hold the wanted name (an IP exactly; a DNS name exactly or by one wildcard)."""
    try:
        return str(ipaddress.ip_address(wanted)) in cert_names
    except ValueError:
        pass
    wanted = wanted.lower().rstrip('.')
    for name in cert_names:
        if name == wanted:
            return True
        if name.startswith('*.') and '.' in wanted and wanted.split('.', 1)[1] == name[2:]:
            return True
    return False


def check_given(module, ssl, label):
    p = module.params
    for option in ('cert', 'key', 'ca'):
        if not os.path.isfile(p[option]):
            raise CertificateError('%s %r is not a file on the controller' % (label(option), p[option]))
    cert = ssl.read(p['cert'])
    if cert is None:
        raise CertificateError('%s %r is not a PEM certificate' % (label('cert'), p['cert']))
    if ssl.read(p['ca']) is None:
        raise CertificateError('%s %r is not a PEM certificate' % (label('ca'), p['ca']))
    key = ssl.pubkey('pkey', p['key'])
    if key is None:
        raise CertificateError('%s %r is not a PEM private key without a passphrase (nginx must start unattended)'
                               % (label('key'), p['key']))
    if key != cert['pubkey']:
        raise CertificateError('%s %r does not match the key %s %r: they are not one pair'
                               % (label('cert'), p['cert'], label('key'), p['key']))
    if ssl.expires_within(p['cert'], 0):
        raise CertificateError('%s %r expired on %s' % (label('cert'), p['cert'], cert['not_after']))
    missing = [n for n in p['names'] if not covers(cert['names'], n)]
    if missing:
        raise CertificateError('%s %r does not hold %s, which the clients use (its names: %s)'
                               % (label('cert'), p['cert'], ', '.join(missing), ', '.join(cert['names']) or 'none'))
    issued, why = ssl.issued_by(p['cert'], p['ca'])
    if not issued:
        raise CertificateError('%s %r did not issue %s %r (openssl verify: %s)'
                               % (label('ca'), p['ca'], label('cert'), p['cert'], why.splitlines()[-1] if why else ''))
    if os.stat(p['key']).st_mode & 0o077:
        module.warn('%s %r can be read by others on the controller: keep it 0600 (it is written 0600 on the host)'
                    % (label('key'), p['key']))
    return dict(cert=p['cert'], key=p['key'], ca=p['ca'], made=[], names=cert['names'], not_after=cert['not_after'])


def write_cnf(path, text):
    with open(path, 'w') as f:
        f.write(text)


def make_ca(ssl, work, crt, key, days):
    cnf = os.path.join(work, 'ca.cnf')
    write_cnf(cnf, '[req]\ndistinguished_name = dn\nx509_extensions = ext\nprompt = no\n[dn]\n'
              'CN = airgap.pypi_mirror site CA\n[ext]\nbasicConstraints = critical, CA:TRUE, pathlen:0\n'
              'keyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = hash\n')
    rc, out, err = ssl.run('req', '-x509', '-new', '-config', cnf, '-newkey', 'ec', '-pkeyopt',
                           'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', crt, '-days', str(days))
    if rc != 0:
        raise CertificateError('openssl could not make the site CA: %s' % err)


def make_server(ssl, work, crt, key, ca_crt, ca_key, names, days):
    alt = []
    for n in names:
        try:
            alt.append('IP:%s' % ipaddress.ip_address(n))
        except ValueError:
            alt.append('DNS:%s' % n)
    cnf = os.path.join(work, 'server.cnf')
    write_cnf(cnf, '[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = %s\n[ext]\nbasicConstraints = CA:FALSE\n'
              'keyUsage = critical, digitalSignature, keyEncipherment\nextendedKeyUsage = serverAuth\n'
              'subjectAltName = %s\nauthorityKeyIdentifier = keyid\n' % (names[0], ', '.join(alt)))
    csr = os.path.join(work, 'server.csr')
    rc, out, err = ssl.run('req', '-new', '-config', cnf, '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
                           '-nodes', '-keyout', key, '-out', csr)
    if rc == 0:
        serial = '0x' + os.urandom(16).hex()
        rc, out, err = ssl.run('x509', '-req', '-in', csr, '-CA', ca_crt, '-CAkey', ca_key, '-set_serial', serial,
                               '-days', str(days), '-extfile', cnf, '-extensions', 'ext', '-out', crt)
    if rc != 0:
        raise CertificateError('openssl could not make the server certificate: %s' % err)


def keep_made(module, ssl, label):
    p = module.params
    if not p['dir']:
        raise CertificateError('%s is empty: give it a directory for the site CA, or give %s, %s and %s'
                               % (label('dir'), label('cert'), label('key'), label('ca')))
    ca_crt, ca_key = os.path.join(p['dir'], 'ca.crt'), os.path.join(p['dir'], 'ca.key')
    crt, key = os.path.join(p['dir'], p['server'] + '.crt'), os.path.join(p['dir'], p['server'] + '.key')
    made = []
    if os.path.exists(ca_crt) != os.path.exists(ca_key):
        raise CertificateError('%s %r holds only one of ca.crt and ca.key: restore the other from the backup; a new '
                               'site CA would need a new trust on every client' % (label('dir'), p['dir']))
    if not os.path.exists(ca_crt):
        made.append('ca')
    elif ssl.expires_within(ca_crt, p['renew_days'] * 86400):
        raise CertificateError('the site CA %r expires within %d days: make a new one (move %s aside) and run the '
                               'site again, so every client trusts it' % (ca_crt, p['renew_days'], p['dir']))
    before = ssl.read(crt) if os.path.exists(crt) else None
    if 'ca' in made or before is None or not os.path.exists(key) or ssl.pubkey('pkey', key) != before['pubkey'] \
            or ssl.expires_within(crt, p['renew_days'] * 86400) \
            or not all(covers(before['names'], n) for n in p['names']) or not ssl.issued_by(crt, ca_crt)[0]:
        made.append('cert')
    result = dict(cert=crt, key=key, ca=ca_crt, made=made)
    if before:
        result['diff'] = dict(before=dict(names=before['names'], not_after=before['not_after']))
    if not made:
        result.update(names=before['names'], not_after=before['not_after'])
        result['diff']['after'] = result['diff']['before']
        return result
    if module.check_mode:
        result.update(names=list(p['names']), not_after='')
        result.setdefault('diff', dict(before={}))['after'] = dict(names=result['names'])
        return result
    if not os.path.isdir(p['dir']):
        os.makedirs(p['dir'], 0o700)
    work = tempfile.mkdtemp(prefix='.make-', dir=p['dir'])
    old_umask = os.umask(0o077)
    try:
        # Made beside the final files and moved in whole, so a failure leaves the old ones as they were.
        if 'ca' in made:
            make_ca(ssl, work, os.path.join(work, 'ca.crt'), os.path.join(work, 'ca.key'), p['ca_days'])
        make_server(ssl, work, os.path.join(work, 'server.crt'), os.path.join(work, 'server.key'),
                    os.path.join(work, 'ca.crt') if 'ca' in made else ca_crt,
                    os.path.join(work, 'ca.key') if 'ca' in made else ca_key, p['names'], p['days'])
        if 'ca' in made:
            os.rename(os.path.join(work, 'ca.key'), ca_key)
            os.rename(os.path.join(work, 'ca.crt'), ca_crt)
        os.rename(os.path.join(work, 'server.key'), key)
        os.rename(os.path.join(work, 'server.crt'), crt)
    finally:
        os.umask(old_umask)
        shutil.rmtree(work, ignore_errors=True)
    for path in (ca_crt, crt):
        os.chmod(path, 0o644)
    after = ssl.read(crt)
    result.update(names=after['names'], not_after=after['not_after'])
    result.setdefault('diff', dict(before={}))['after'] = dict(names=after['names'], not_after=after['not_after'])
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            names=dict(type='list', elements='str', required=True),
            cert=dict(type='path', default=''),
            key=dict(type='path', default='', no_log=False),
            ca=dict(type='path', default=''),
            dir=dict(type='path', default=''),
            server=dict(type='str', default='server'),
            days=dict(type='int', default=825),
            ca_days=dict(type='int', default=3650),
            renew_days=dict(type='int', default=30),
            labels=dict(type='dict', default={}),
        ),
        supports_check_mode=True,
    )
    p = module.params

    def label(option):
        return p['labels'].get(option) or option

    given = [o for o in ('cert', 'key', 'ca') if p[o]]
    try:
        if not p['names'] or not all(n.strip() for n in p['names']):
            raise CertificateError('%s is empty or holds an empty name: the certificate must name what the clients '
                                   'use' % label('names'))
        if not re.match(r'^[A-Za-z0-9][A-Za-z0-9._-]*$', p['server']):
            raise CertificateError('%s %r is not a plain file name' % (label('server'), p['server']))
        if given and len(given) < 3:
            raise CertificateError('%s must come together (a certificate, its key and the CA that issued it); '
                                   'only %s is set' % (', '.join(label(o) for o in ('cert', 'key', 'ca')),
                                                       ' and '.join(label(o) for o in given)))
        ssl = OpenSSL(module)
        result = check_given(module, ssl, label) if given else keep_made(module, ssl, label)
    except (CertificateError, OSError) as e:
        module.fail_json(msg=str(e))
    module.exit_json(changed=bool(result['made']), **result)


if __name__ == '__main__':
    main()
