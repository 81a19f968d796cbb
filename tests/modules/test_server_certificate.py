"""server_certificate with the real openssl: a site CA made once and kept, a server certificate remade only when it must
be, and every given file that cannot serve refused by the name the user knows it by, with nothing written."""

import os
import subprocess

import pytest

LABELS = {'cert': 'pypi_mirror_tls_cert', 'key': 'pypi_mirror_tls_key', 'ca': 'pypi_mirror_tls_ca'}


def openssl(*args):
    subprocess.run(('openssl',) + args, check=True, capture_output=True)


def snapshot(directory):
    return dict((name, open(os.path.join(directory, name), 'rb').read()) for name in sorted(os.listdir(directory)))


@pytest.fixture(scope='module')
def site_ca(tmp_path_factory):
    """A site's own CA and another CA, and server certificates of the first: good, expired, for another name."""
    d = tmp_path_factory.mktemp('site')
    for ca in ('ca', 'other-ca'):
        openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', str(d / (ca + '.key')),
                '-out', str(d / (ca + '.crt')), '-days', '30', '-subj', '/CN=%s' % ca)
    for name, dns, days in (('good', 'mirror.site.internal', '30'), ('expired', 'mirror.site.internal', '-1'),
                            ('elsewhere', 'other.site.internal', '30')):
        openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', str(d / (name + '.key')),
                '-out', str(d / (name + '.csr')), '-subj', '/CN=%s' % dns, '-addext', 'subjectAltName=DNS:%s,IP:10.0.0.10' % dns)
        (d / 'ext.cnf').write_text('subjectAltName=DNS:%s,IP:10.0.0.10\n' % dns)
        # openssl x509 -days -1 makes a certificate whose end has passed already.
        openssl('x509', '-req', '-in', str(d / (name + '.csr')), '-CA', str(d / 'ca.crt'), '-CAkey', str(d / 'ca.key'),
                '-set_serial', '0x%x' % abs(hash(name)), '-days', days, '-extfile', str(d / 'ext.cnf'), '-out', str(d / (name + '.crt')))
    for key in d.glob('*.key'):
        key.chmod(0o600)
    return d


def given(d, cert='good', key='good', ca='ca', names=('mirror.site.internal', '10.0.0.10')):
    return {'cert': str(d / (cert + '.crt')), 'key': str(d / (key + '.key')), 'ca': str(d / (ca + '.crt')),
            'names': list(names), 'labels': LABELS}


@pytest.mark.one_core
def test_a_site_ca_is_made_once_and_the_server_certificate_only_when_the_names_change(ansible, tmp_path):
    args = {'dir': str(tmp_path / 'tls'), 'server': 'admin1', 'names': ['admin1', '10.0.0.10']}
    checked = ansible.run('server_certificate', args, check=True)
    assert checked['changed'] and checked['made'] == ['ca', 'cert'] and not (tmp_path / 'tls').exists()
    first = ansible.run('server_certificate', args)
    assert first['changed'] and first['made'] == ['ca', 'cert'] and first['names'] == ['admin1', '10.0.0.10']
    assert oct((tmp_path / 'tls').stat().st_mode & 0o777) == '0o700'
    assert oct((tmp_path / 'tls' / 'ca.key').stat().st_mode & 0o777) == '0o600'
    subprocess.run(['openssl', 'verify', '-CAfile', first['ca'], first['cert']], check=True, capture_output=True)
    kept = snapshot(str(tmp_path / 'tls'))
    again = ansible.run('server_certificate', args)
    assert not again['changed'] and again['made'] == [] and snapshot(str(tmp_path / 'tls')) == kept
    # A new address for the clients: a new server certificate from the same CA, which the clients trust already.
    moved = ansible.run('server_certificate', dict(args, names=['admin1', '10.0.0.20']), diff=True)
    assert moved['changed'] and moved['made'] == ['cert'] and moved['names'] == ['admin1', '10.0.0.20']
    assert moved['diff']['before']['names'] == ['admin1', '10.0.0.10']
    now = snapshot(str(tmp_path / 'tls'))
    assert now['ca.crt'] == kept['ca.crt'] and now['ca.key'] == kept['ca.key'] and now['admin1.crt'] != kept['admin1.crt']
    # No key's content in the result.
    assert 'PRIVATE KEY' not in moved.output


@pytest.mark.one_core
def test_the_sites_own_files_pass_and_nothing_is_written(ansible, site_ca):
    before = snapshot(str(site_ca))
    result = ansible.run('server_certificate', given(site_ca))
    assert not result.get('failed') and not result['changed'] and result['made'] == []
    assert result['cert'] == str(site_ca / 'good.crt') and 'mirror.site.internal' in result['names']
    assert snapshot(str(site_ca)) == before


@pytest.mark.one_core
@pytest.mark.parametrize('case, args, message', [
    ('mismatch', dict(key='elsewhere'), "pypi_mirror_tls_cert '{d}/good.crt' does not match the key pypi_mirror_tls_key '{d}/elsewhere.key'"),
    ('expired', dict(cert='expired', key='expired'), "pypi_mirror_tls_cert '{d}/expired.crt' expired on"),
    ('names', dict(names=('mirror.site.internal', '10.0.0.11')), "pypi_mirror_tls_cert '{d}/good.crt' does not hold 10.0.0.11"),
    ('issuer', dict(ca='other-ca'), "pypi_mirror_tls_ca '{d}/other-ca.crt' did not issue pypi_mirror_tls_cert '{d}/good.crt'"),
    ('missing', dict(ca='absent'), "pypi_mirror_tls_ca '{d}/absent.crt' is not a file on the controller"),
])
def test_a_given_file_that_cannot_serve_is_refused_by_its_variable(ansible, site_ca, case, args, message):
    before = snapshot(str(site_ca))
    result = ansible.run('server_certificate', given(site_ca, **args))
    assert result['failed'] and message.format(d=site_ca) in result['msg'], result['msg']
    assert snapshot(str(site_ca)) == before


@pytest.mark.one_core
def test_some_but_not_all_files_are_refused(ansible, site_ca):
    args = given(site_ca)
    args['ca'] = ''
    result = ansible.run('server_certificate', args)
    assert result['failed']
    assert 'pypi_mirror_tls_cert, pypi_mirror_tls_key, pypi_mirror_tls_ca must come together' in result['msg']
    assert 'only pypi_mirror_tls_cert and pypi_mirror_tls_key is set' in result['msg']


@pytest.mark.one_core
def test_a_key_readable_by_others_is_warned_about(ansible, site_ca, tmp_path):
    loose = tmp_path / 'loose.key'
    loose.write_bytes((site_ca / 'good.key').read_bytes())
    loose.chmod(0o644)
    args = given(site_ca)
    args['key'] = str(loose)
    result = ansible.run('server_certificate', args)
    assert not result.get('failed')
    assert any('pypi_mirror_tls_key %r can be read by others on the controller' % str(loose) in w for w in result['warnings'])
