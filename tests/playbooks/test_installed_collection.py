"""The collection as users get it: built with ansible-galaxy, installed, its docs and playbooks working.

The input checks run from the installed playbook airgap.pypi_mirror.check: they are assertions only,
so the inventory's hosts are never contacted.
"""

import json
import os
import re
import subprocess
import tarfile

import pytest

from devpitest import make_wheel
from playbook_run import BIN, REPO, flat, run_playbook


def run(cmd, env, **kwargs):
    return subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, **kwargs)


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    work = tmp_path_factory.mktemp('collection')
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(work / 'collections'), ANSIBLE_NOCOLOR='1',
               ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_HOME=str(work / 'home'))
    built = run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'build', '--output-path', str(work), REPO], env)
    assert built.returncode == 0, built.stderr
    tarball = next(str(p) for p in work.iterdir() if p.name.endswith('.tar.gz'))
    done = run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'install', '-p', str(work / 'collections'), tarball], env)
    assert done.returncode == 0, done.stderr
    return dict(env=env, tarball=tarball, work=work)


def test_the_tarball_holds_the_collection_and_nothing_else(installed):
    with tarfile.open(installed['tarball']) as archive:
        names = archive.getnames()
    for wanted in ('MANIFEST.json', 'meta/runtime.yml', 'plugins/modules/devpi_upload.py',
                   'plugins/module_utils/devpi.py', 'roles/devpi_server/meta/argument_specs.yml',
                   'playbooks/site.yml', 'playbooks/check.yml', 'README.md', 'LICENSE'):
        assert wanted in names
    for unwanted in ('.venv', 'tests/modules', 'molecule', 'lab', 'bench', '.tmp', 'requirements', 'Makefile'):
        assert not any(n == unwanted or n.startswith(unwanted + '/') for n in names), unwanted


@pytest.mark.parametrize('module', ['devpi_user', 'devpi_index', 'devpi_upload', 'devpi_info', 'bundle_manifest', 'bundle_verify',
                                    'bundle_resolve'])
def test_ansible_doc_is_the_manual(installed, module):
    doc = run([os.path.join(BIN, 'ansible-doc'), '--json', 'airgap.pypi_mirror.' + module], installed['env'])
    assert doc.returncode == 0, doc.stderr
    entry = json.loads(doc.stdout)['airgap.pypi_mirror.' + module]
    assert entry['doc']['options'] and entry['examples'].strip() and entry['return']


def test_the_installed_playbooks_parse(installed, tmp_path):
    inventory = tmp_path / 'inventory.yml'
    inventory.write_text(json.dumps({'pypi_mirror_servers': {'hosts': {'admin': {'ansible_host': '127.0.0.1'}}},
                                     'pypi_mirror_clients': {'hosts': {'node1': {'ansible_host': '127.0.0.1'}}}}))
    for playbook in ('site', 'teardown', 'bundle', 'check', 'clients', 'verify', 'promote', 'export', 'import'):
        parsed = run_playbook('airgap.pypi_mirror.' + playbook, '--syntax-check', inventory=str(inventory), env=installed['env'])
        assert parsed.returncode == 0, parsed.stdout + parsed.stderr


GOOD = {'pypi_mirror_root_password': 'x-pw'}
LOCAL = {'ansible_host': '127.0.0.1', 'ansible_connection': 'local'}


def empty_bundle(directory):
    """A bundle with nothing in it and its manifest: enough for the checks, which read every file."""
    for section in ('packages', 'server'):
        (directory / section).mkdir(parents=True)
    (directory / 'manifest.json').write_text('{"files": []}\n')
    return str(directory)


def check(installed, tmp_path, extra, groups=('servers', 'clients'), spec=None):
    inventory = tmp_path / 'inventory.yml'
    if spec is None:
        spec = {}
        if 'servers' in groups:
            spec['pypi_mirror_servers'] = {'hosts': {'admin': dict(LOCAL)}}
        if 'clients' in groups:
            spec['pypi_mirror_clients'] = {'hosts': {'node1': dict(LOCAL)}}
    inventory.write_text(json.dumps(spec))
    given = dict(GOOD, pypi_mirror_bundle_dir=empty_bundle(tmp_path / 'bundle'))
    given.update(extra)
    done = run_playbook('airgap.pypi_mirror.check', '-e', json.dumps(given), inventory=str(inventory),
                        env=installed['env'])
    return done.returncode, done.text


def test_good_input_passes_the_check(installed, tmp_path):
    assert check(installed, tmp_path, {})[0] == 0


@pytest.mark.parametrize('extra, message', [
    ({'pypi_mirror_root_password': ''}, 'pypi_mirror_root_password is empty or unset'),
    ({'pypi_mirror_bundle_dir': '/nonexistent'}, "pypi_mirror_bundle_dir '/nonexistent' is not a directory on the controller"),
    ({'pypi_mirror_upstream_url': 'ftp://10.0.0.1/simple/'},
     "pypi_mirror_upstream_url 'ftp://10.0.0.1/simple/' must be an http:// or https:// URL"),
    ({'pypi_mirror_url': 'http://10.0.0.1:3141/root/prod/'},
     "pypi_mirror_url 'http://10.0.0.1:3141/root/prod/' must be an http:// or https:// URL ending with /+simple/"),
    ({'pypi_mirror_index': 'prod'}, "pypi_mirror_index 'prod' must be of the form user/index"),
    ({'pypi_mirror_upstream_url': 'https://user:t0ken@10.0.0.1/simple/'},
     "pypi_mirror_upstream_url carries a user name or password: devpi shows root/pypi's mirror_url to anybody"),
    ({'pypi_mirror_index_acl_upload': [':ANONYMOUS:']}, 'pypi_mirror_index_acl_upload names :ANONYMOUS:'),
    ({'pypi_mirror_packages': 'netaddr'}, 'pypi_mirror_packages must be a list, such as [netaddr]'),
    ({'pypi_mirror_local_packages': '/srv/site/acme_tools-1.0-py3-none-any.whl'},
     'pypi_mirror_local_packages must be a list, such as [/srv/site/acme_tools-1.0-py3-none-any.whl]'),
])
def test_bad_input_names_the_variable(installed, tmp_path, extra, message):
    rc, output = check(installed, tmp_path, extra)
    assert rc != 0
    assert message in output


def test_local_packages_that_are_not_distributions_are_named(installed, tmp_path):
    site = tmp_path / 'site'
    (site / 'docs').mkdir(parents=True)
    make_wheel(site, 'acme-tools', '1.0')
    (site / 'docs' / 'notes.txt').write_text('not a distribution')
    rc, output = check(installed, tmp_path, {'pypi_mirror_local_packages': [str(site), str(tmp_path / 'gone.whl')]})
    assert rc != 0
    assert ('pypi_mirror_local_packages: %s (in %s) is not a Python distribution (expected a file ending with '
            '.whl, .egg, .tar.gz, .tgz, .tar.bz2, .zip); %s does not exist'
            % (site / 'docs' / 'notes.txt', site, tmp_path / 'gone.whl')) in flat(output)


def test_clients_without_a_server_are_refused(installed, tmp_path):
    rc, output = check(installed, tmp_path, {}, groups=('clients',))
    assert rc != 0
    assert 'the group pypi_mirror_servers is empty' in output


def replicated(servers=('admin',), replicas=('admin2',), node1=None):
    """An inventory of a primary with replicas, and node1 with host variables NODE1."""
    return {'pypi_mirror_servers': {'hosts': dict((name, dict(LOCAL)) for name in servers)},
            'pypi_mirror_replicas': {'hosts': dict((name, dict(LOCAL)) for name in replicas)},
            'pypi_mirror_clients': {'hosts': {'node1': dict(LOCAL, **(node1 or {}))}}}


def test_a_client_may_name_a_replica_as_its_server(installed, tmp_path):
    rc, output = check(installed, tmp_path, {}, spec=replicated(node1={'pypi_mirror_server': 'admin2'}))
    assert rc == 0, output


@pytest.mark.parametrize('spec, message', [
    (replicated(node1={'pypi_mirror_server': 'admin3'}),
     "pypi_mirror_server 'admin3' of node1 is neither the primary (pypi_mirror_servers: admin) nor one of its replicas "
     "(pypi_mirror_replicas: admin2): name one of them"),
    (replicated(replicas=('admin',)),
     'admin is in both pypi_mirror_servers and pypi_mirror_replicas: a host is the primary or one of its replicas, never both'),
    ({'pypi_mirror_replicas': {'hosts': {'admin2': dict(LOCAL)}}},
     'the group pypi_mirror_servers is empty, so the replica admin2 has no primary to follow'),
])
def test_a_replica_inventory_that_cannot_work_is_refused_by_name(installed, tmp_path, spec, message):
    rc, output = check(installed, tmp_path, {}, spec=spec)
    assert rc != 0
    assert message in flat(output), output


KUBESPRAY = {'all': {'hosts': dict((name, {'ansible_host': '127.0.0.1', 'ansible_connection': 'local'})
                                   for name in ('admin', 'node1', 'node2', 'bastion')),
                     'children': {'pypi_mirror_servers': {'hosts': {'admin': {}}},
                                  'kube_control_plane': {'hosts': {'node1': {}}},
                                  'etcd': {'hosts': {'node1': {}}},
                                  'kube_node': {'hosts': {'node1': {}, 'node2': {}}}}}}
# The collection's clients play, then a play on the group it fills: what the playbooks' client plays reach.
WHO = [{'name': 'Find the clients', 'ansible.builtin.import_playbook': 'airgap.pypi_mirror.clients'},
       {'name': 'Name the clients', 'hosts': 'pypi_mirror_clients', 'gather_facts': False,
        'tasks': [{'name': 'Name this client', 'ansible.builtin.debug': {'msg': 'client={{ inventory_hostname }}'}}]}]


def clients_of(installed, tmp_path, *args, inventory=None):
    (tmp_path / 'inventory.yml').write_text(json.dumps(inventory or KUBESPRAY))
    (tmp_path / 'who.yml').write_text(json.dumps(WHO))
    done = run_playbook(str(tmp_path / 'who.yml'), *args, inventory=str(tmp_path / 'inventory.yml'), env=installed['env'])
    return done, sorted(set(re.findall(r'"msg": "client=(\w+)"', done.stdout)))


def test_kubespray_groups_are_the_clients_and_the_admin_host_is_not(installed, tmp_path):
    done, clients = clients_of(installed, tmp_path)
    assert done.returncode == 0, done
    assert clients == ['node1', 'node2']
    assert done.changed == {'admin': 0, 'bastion': 0, 'node1': 0, 'node2': 0}


def test_pypi_mirror_client_groups_names_other_groups(installed, tmp_path):
    done, clients = clients_of(installed, tmp_path, '-e', json.dumps({'pypi_mirror_client_groups': ['kube_control_plane']}))
    assert done.returncode == 0, done
    assert clients == ['node1']


def test_the_hosts_of_pypi_mirror_clients_itself_stay_clients(installed, tmp_path):
    inventory = json.loads(json.dumps(KUBESPRAY))
    inventory['all']['children']['pypi_mirror_clients'] = {'hosts': {'bastion': {}}}
    done, clients = clients_of(installed, tmp_path, '-e', json.dumps({'pypi_mirror_client_groups': ['kube_control_plane']}),
                               inventory=inventory)
    assert done.returncode == 0, done
    assert clients == ['bastion', 'node1']


def test_pypi_mirror_client_groups_that_is_no_list_is_named(installed, tmp_path):
    done, clients = clients_of(installed, tmp_path, '-e', json.dumps({'pypi_mirror_client_groups': 'kube_node'}))
    assert done.returncode != 0
    assert clients == []
    assert 'pypi_mirror_client_groups must be a list of inventory group names, such as [pypi_mirror_clients, kube_node], ' \
           'not "kube_node"' in done.text


# kubespray-offline's shape: one play on all hosts, the entry point site. --check: even a broken check could change
# nothing on this machine, which the local connection makes every host.
SITE_ON_ALL = [{'name': 'Offline repositories', 'hosts': 'all', 'become': False, 'gather_facts': False,
                'tasks': [{'name': 'The mirror', 'ansible.builtin.import_role': {'name': 'airgap.pypi_mirror.pypi_mirror',
                                                                                 'tasks_from': 'site'}}]}]


def test_the_site_entry_point_stops_every_host_when_one_hosts_value_is_bad(installed, tmp_path):
    inventory = json.loads(json.dumps(KUBESPRAY))
    inventory['all']['hosts']['node2']['pypi_mirror_url'] = 'ftp://10.0.0.5/root/prod/+simple/'
    (tmp_path / 'inventory.yml').write_text(json.dumps(inventory))
    (tmp_path / 'site.yml').write_text(json.dumps(SITE_ON_ALL))
    given = dict(GOOD, pypi_mirror_bundle_dir=empty_bundle(tmp_path / 'bundle'))
    done = run_playbook(str(tmp_path / 'site.yml'), '--check', '-e', json.dumps(given),
                        inventory=str(tmp_path / 'inventory.yml'), env=installed['env'])
    assert done.returncode != 0
    assert "pypi_mirror_url 'ftp://10.0.0.5/root/prod/+simple/' must be an http:// or https:// URL" in done.text
    # The admin host's check passed, yet its server tasks never started: node2's failure stopped the play.
    assert 'Read the server' not in done.stdout and 'devpi_server :' not in done.stdout
    assert done.changed == {'admin': 0, 'bastion': 0, 'node1': 0, 'node2': 0}


def site_certificate(directory, name, alt):
    """A site CA's certificate for ALT (openssl's subjectAltName), with its key and the CA: files as a site gives them."""
    def openssl(*args):
        subprocess.run(('openssl',) + args, check=True, capture_output=True)
    directory.mkdir(exist_ok=True)
    if not (directory / 'ca.crt').exists():
        openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30',
                '-keyout', str(directory / 'ca.key'), '-out', str(directory / 'ca.crt'), '-subj', '/CN=site CA')
    openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=' + name,
            '-keyout', str(directory / (name + '.key')), '-out', str(directory / (name + '.csr')))
    (directory / (name + '.cnf')).write_text('subjectAltName=%s\n' % alt)
    openssl('x509', '-req', '-in', str(directory / (name + '.csr')), '-CA', str(directory / 'ca.crt'), '-CAkey',
            str(directory / 'ca.key'), '-set_serial', '7', '-days', '30', '-extfile', str(directory / (name + '.cnf')),
            '-out', str(directory / (name + '.crt')))
    (directory / (name + '.key')).chmod(0o600)
    return {'pypi_mirror_tls_cert': str(directory / (name + '.crt')), 'pypi_mirror_tls_key': str(directory / (name + '.key')),
            'pypi_mirror_tls_ca': str(directory / 'ca.crt')}


def test_the_sites_own_certificate_passes_the_check(installed, tmp_path):
    tls = site_certificate(tmp_path / 'tls', 'admin', 'DNS:admin,IP:127.0.0.1')
    rc, output = check(installed, tmp_path, tls)
    assert rc == 0, output


@pytest.mark.parametrize('case, message', [
    ('names', "pypi_mirror_tls_cert '{d}/elsewhere.crt' does not hold admin, 127.0.0.1, which the clients use"),
    ('key', "pypi_mirror_tls_cert '{d}/admin.crt' does not match the key pypi_mirror_tls_key '{d}/elsewhere.key'"),
    ('no front', 'pypi_mirror_tls_cert, pypi_mirror_tls_key and pypi_mirror_tls_ca are set, but pypi_mirror_front is false'),
])
def test_a_certificate_that_cannot_serve_is_refused_before_any_change(installed, tmp_path, case, message):
    d = tmp_path / 'tls'
    tls = site_certificate(d, 'admin', 'DNS:admin,IP:127.0.0.1')
    other = site_certificate(d, 'elsewhere', 'DNS:elsewhere,IP:10.9.9.9')
    extra = {'names': dict(tls, pypi_mirror_tls_cert=other['pypi_mirror_tls_cert'], pypi_mirror_tls_key=other['pypi_mirror_tls_key']),
             'key': dict(tls, pypi_mirror_tls_key=other['pypi_mirror_tls_key']),
             'no front': dict(tls, pypi_mirror_front=False)}[case]
    rc, output = check(installed, tmp_path, extra)
    assert rc != 0
    assert message.format(d=d) in flat(output), output
