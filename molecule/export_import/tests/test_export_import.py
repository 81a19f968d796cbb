"""export.yml on admin1, import.yml on admin2: the same users, indexes and files, byte for byte, and
node1 installs from admin2. The tests run in file order; each leaves the state the next starts from."""

import glob
import json
import os
import re
import shutil
import subprocess

import pytest

from playbook_run import INVENTORY, flat, run_playbook

testinfra_hosts = ['ansible://node1']
EXPORT_DIR = os.path.join(os.environ.get('MOLECULE_EPHEMERAL_DIRECTORY', ''), 'export')
# Every file of every index with its sha256, and every index's configuration, as devpi keeps them.
FILES = "cd /var/lib/devpi/+files && find . -type f -print0 | sort -z | xargs -0 sha256sum"
INDEXES = ("python3 -c \"import urllib.request as u, json\n"
           "get = lambda p: json.load(u.urlopen(u.Request('http://127.0.0.1:3141' + p, headers={'Accept': 'application/json'})))['result']\n"
           "print(json.dumps(dict((n + '/' + i, c) for n, user in get('/').items() for i, c in user['indexes'].items()), sort_keys=True))\"")


@pytest.fixture
def admin1(host):
    return host.get_host('ansible://admin1', ansible_inventory=INVENTORY)


@pytest.fixture
def admin2(host):
    return host.get_host('ansible://admin2', ansible_inventory=INVENTORY)


def tarballs():
    return sorted(glob.glob(os.path.join(EXPORT_DIR, '*.tar.gz')))


def pip_install(host, project):
    host.run_test('rm -rf /tmp/ei-venv && python3 -m venv /tmp/ei-venv')
    return host.run('/tmp/ei-venv/bin/pip install --no-cache-dir -v %s' % project)


def test_the_mirror_caches_what_a_node_installs_through_the_chain(host, admin1):
    result = pip_install(host, 'cryptography')
    assert re.search(r'Downloading http://10\.231\.15\.10:3141/root/pypi/(\+|%2B)f/.*/cryptography-', result.stdout)
    assert '/root/pypi/' in admin1.run(FILES).stdout


def test_export_writes_a_tarball_with_its_sha256_and_once_per_change(admin1):
    # A directory the site already has, shared with its group: the export leaves its permissions alone.
    os.makedirs(EXPORT_DIR, exist_ok=True)
    os.chmod(EXPORT_DIR, 0o750)
    run = run_playbook('export.yml', '-e', json.dumps({'pypi_mirror_export_dir': EXPORT_DIR}))
    changed = run.changed
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert changed['admin1'] > 0
    [tarball] = tarballs()
    assert re.match(r'admin1-devpi-export-serial\d+\.tar\.gz$', os.path.basename(tarball))
    assert os.stat(tarball).st_mode & 0o777 == 0o600
    assert os.stat(EXPORT_DIR).st_mode & 0o777 == 0o750
    check = subprocess.run(['sha256sum', '--check', os.path.basename(tarball) + '.sha256'], cwd=EXPORT_DIR,
                           capture_output=True, text=True, check=False)
    assert check.stdout.strip() == os.path.basename(tarball) + ': OK'
    again = run_playbook('export.yml', '-e', json.dumps({'pypi_mirror_export_dir': EXPORT_DIR}))
    changed = again.changed
    assert again.returncode == 0 and changed == {'admin1': 0}
    assert tarballs() == [tarball]
    assert admin1.run('ls -d /var/tmp/devpi-export-* 2>/dev/null').stdout == ''


def test_a_tarball_whose_sha256_does_not_match_is_refused(admin2, tmp_path):
    [tarball] = tarballs()
    tampered = tmp_path / os.path.basename(tarball)
    shutil.copyfile(tarball, str(tampered))
    with open(str(tampered), 'ab') as f:
        f.write(b'\0')
    shutil.copyfile(tarball + '.sha256', str(tampered) + '.sha256')
    run = run_playbook('import.yml', '-e', json.dumps({'pypi_mirror_import_hosts': 'new_mirror',
                                                       'pypi_mirror_import_file': str(tampered)}))
    assert run.returncode != 0
    assert 'devpi_server_import_file %s is refused: its sha256 is' % tampered in flat(run.stdout + run.stderr)
    assert not admin2.file('/opt/devpi').exists and not admin2.file('/var/lib/devpi').exists


def test_import_on_admin2_holds_every_index_and_file_of_admin1(admin1, admin2):
    [tarball] = tarballs()
    args = ('-e', json.dumps({'pypi_mirror_import_hosts': 'new_mirror', 'pypi_mirror_import_file': tarball}))
    run = run_playbook('import.yml', *args)
    changed = run.changed
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert changed['admin2'] > 0
    assert admin2.service('devpi.service').is_running
    files = admin1.run(FILES).stdout
    assert '/root/prod/' in files and '/root/pypi/' in files
    assert admin2.run(FILES).stdout == files
    assert json.loads(admin2.run(INDEXES).stdout) == json.loads(admin1.run(INDEXES).stdout)
    again = run_playbook('import.yml', *args)
    changed = again.changed
    assert again.returncode == 0 and changed == {'admin2': 0}


def test_importing_into_a_serverdir_with_data_fails_and_changes_nothing(admin1):
    [tarball] = tarballs()
    before = (admin1.run(FILES).stdout, admin1.run('systemctl show -p MainPID --value devpi').stdout)
    run = run_playbook('import.yml', '-e', json.dumps({'pypi_mirror_import_file': tarball}))
    assert run.returncode != 0
    assert ('devpi_server_serverdir /var/lib/devpi on admin1 already holds devpi data, and devpi-import only fills '
            'a fresh serverdir: nothing was changed') in flat(run.stdout + run.stderr)
    assert (admin1.run(FILES).stdout, admin1.run('systemctl show -p MainPID --value devpi').stdout) == before
    assert not admin1.file('/var/lib/devpi/.pypi_mirror-import').exists


def test_the_node_installs_from_admin2(host):
    run = run_playbook('site.yml', '--limit', 'node1',
                       '-e', json.dumps({'pypi_mirror_url': 'http://10.231.15.11:3141/root/prod/+simple/'}))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert 'index-url = http://10.231.15.11:3141/root/prod/+simple/' in host.file('/etc/pip.conf').content_string
    result = pip_install(host, 'netaddr cryptography')
    assert result.rc == 0, result.stdout + result.stderr
    assert re.search(r'Downloading http://10\.231\.15\.11:3141/root/prod/(\+|%2B)f/.*/netaddr-', result.stdout)
    assert re.search(r'Downloading http://10\.231\.15\.11:3141/root/pypi/(\+|%2B)f/.*/cryptography-', result.stdout)
