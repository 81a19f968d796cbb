"""Faults in the middle of seeding the site index with 200 MB, and nothing lost: devpi-server killed with SIGKILL,
the admin host's plug pulled, the replica cut off from the primary while uploads go on, the serverdir's filesystem
full. Each strikes while site.yml uploads the large set again (the test removed it from root/prod first); then
site.yml runs again on the host that took the fault, every file the site index serves on the primary and on the
replica has its manifest entry's sha256, every manifest file is there, and devpi-fsck finds nothing wrong there.
The tests run in file order; each leaves the state the next starts from."""

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import time
import urllib.request

import pytest

from playbook_run import run_playbook, start_playbook

testinfra_hosts = ['ansible://admin']
ADMIN_ADDRESS, ADMIN2_ADDRESS = '10.231.21.10', '10.231.21.11'
ADMIN, ADMIN2 = 'http://%s:3141' % ADMIN_ADDRESS, 'http://%s:3141' % ADMIN2_ADDRESS
PASSWORD = 'Molecule-Root-Pw-1'
SERVERDIR = '/var/lib/devpi'
FSCK = 'runuser --user=devpi -- /opt/devpi/bin/devpi-fsck --serverdir %s' % SERVERDIR
REPO = os.environ.get('MOLECULE_PROJECT_DIRECTORY', '')
LAB_DIR = os.path.join(os.environ.get('MOLECULE_EPHEMERAL_DIRECTORY', ''), 'lab')
BUNDLE = os.path.join(REPO, '.tmp', 'bundle-' + os.environ.get('MOLECULE_SCENARIO_NAME', 'faults'))


def manifest_packages():
    """{file name: sha256} of the manifest's packages: what the site index must hold, byte for byte."""
    with open(os.path.join(BUNDLE, 'manifest.json')) as f:
        return dict((entry['file'], entry['sha256']) for entry in json.load(f)['files'] if entry['section'] == 'packages')


EXPECTED = manifest_packages() if os.path.isdir(BUNDLE) else {}


@pytest.fixture(scope='module')
def admin2(host):
    return host.get_host('ansible://admin2', ansible_inventory=os.path.dirname(os.environ['MOLECULE_INVENTORY_FILE']))


def get(base, path):
    request = urllib.request.Request(base + path, headers={'Accept': 'application/json'})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)['result']


def serial(base):
    return get(base, '/+status')['serial']


def own_files(base):
    """{file name: URL} of root/prod's own files (not its bases')."""
    files = {}
    for project in get(base, '/root/prod')['projects']:
        for version in get(base, '/root/prod/%s?ignore_bases' % project).values():
            for link in version.get('+links', []):
                files[os.path.basename(link['href'])] = link['href']
    return files


def served_sha256(url):
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=120) as response:
        for chunk in iter(lambda: response.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def wrong_files(base):
    """The files root/prod serves whose bytes are not their manifest entry's: {name: what was served}."""
    served = dict((name, served_sha256(url)) for name, url in own_files(base).items())
    return dict((name, digest) for name, digest in served.items() if EXPECTED.get(name) != digest)


def assert_nothing_lost(base):
    assert sorted(own_files(base)) == sorted(EXPECTED)
    assert wrong_files(base) == {}


def wait_answers(base, timeout=180):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return serial(base)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def wait_in_sync(timeout=300):
    """Until the replica holds the primary's serial and the files of it; the seconds it took."""
    start, target = time.monotonic(), serial(ADMIN)
    while wait_answers(ADMIN2) < target:
        assert time.monotonic() - start < timeout, 'admin2 did not reach serial %d within %d s' % (target, timeout)
        time.sleep(0.5)
    # devpi replicates a change first and fetches its files after, in threads: they are all there once the replica
    # has found its file queue empty since (the lab's hosts share this machine's clock).
    reached = time.time()
    while (get(ADMIN2, '/+status').get('replica-files-in-sync-at') or 0) <= reached:
        assert time.monotonic() - start < timeout, 'admin2 did not fetch the files of serial %d within %d s' % (target, timeout)
        time.sleep(0.5)
    return time.monotonic() - start


def fsck(server, base):
    """devpi-fsck on SERVER's serverdir, with devpi stopped so nothing changes under it; devpi answers again after."""
    server.run_test('systemctl stop devpi.service')
    out = server.run(FSCK)
    server.run_test('systemctl start devpi.service')
    wait_answers(base)
    assert out.rc == 0, out.stdout + out.stderr
    return out


def token():
    request = urllib.request.Request(ADMIN + '/+login', data=json.dumps({'user': 'root', 'password': PASSWORD}).encode(),
                                     headers={'Content-Type': 'application/json', 'Accept': 'application/json'})
    with urllib.request.urlopen(request, timeout=30) as response:
        return base64.b64encode(('root:%s' % json.load(response)['result']['password']).encode()).decode()


def remove_the_large_set():
    """root/prod loses the manifest's files (forced, as the index is not volatile), so site.yml uploads them again."""
    auth = token()
    for url in own_files(ADMIN).values():
        request = urllib.request.Request(url + '?force=', method='DELETE', headers={'X-Devpi-Auth': auth, 'Accept': 'application/json'})
        urllib.request.urlopen(request, timeout=30).close()
    assert own_files(ADMIN) == {}


def ssh(address, command):
    """A command on a lab host at once (testinfra's ansible connection takes seconds to start)."""
    return subprocess.run(['ssh', '-i', os.path.join(LAB_DIR, 'id_ed25519'), '-o', 'StrictHostKeyChecking=no',
                           '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', 'root@' + address, command],
                          capture_output=True, text=True, check=False)


def lab(*args):
    subprocess.run([sys.executable, os.path.join(REPO, 'lab', 'lab.py')] + list(args),
                   env=dict(os.environ, LAB_DIR=LAB_DIR), check=True)


def strike_while_seeding(fault):
    """site.yml on admin uploading the large set again, and FAULT called once devpi has taken some of the files, not all.

    Returns the finished run. devpi commits each upload as a change of its own, so the serial counts them."""
    remove_the_large_set()
    before = serial(ADMIN)
    run = start_playbook('site.yml', '--limit', 'admin')
    struck = None
    while run.running() and struck is None:
        try:
            taken = serial(ADMIN) - before
        except OSError:
            taken = 0
        if 1 <= taken < len(EXPECTED):
            fault()
            struck = taken
        time.sleep(0.05)
    result = run.finish()
    assert struck is not None, 'site.yml ended before the fault struck:\n%s' % result.text[-3000:]
    return result


def site_again_and_nothing_lost(admin):
    """site.yml again on admin; every manifest file, whole, on admin and on its replica; devpi-fsck clean on admin."""
    again = run_playbook('site.yml', '--limit', 'admin')
    assert again.returncode == 0, again.text[-3000:]
    assert_nothing_lost(ADMIN)
    fsck(admin, ADMIN)
    wait_in_sync()
    assert_nothing_lost(ADMIN2)


def restarts():
    return int(ssh(ADMIN_ADDRESS, 'systemctl show --property=NRestarts --value devpi.service').stdout)


def test_devpi_killed_with_sigkill_while_seeding_loses_nothing(host):
    before = restarts()
    # systemd starts devpi again; the modules send a request again while devpi refuses or drops connections, so this
    # run may even end well.
    strike_while_seeding(lambda: ssh(ADMIN_ADDRESS, 'systemctl kill --signal=SIGKILL devpi.service'))
    assert restarts() == before + 1
    site_again_and_nothing_lost(host)


def test_the_admin_host_powered_off_hard_while_seeding_loses_nothing(host):
    failed = strike_while_seeding(lambda: lab('restart', '--hard', 'admin'))
    assert failed.returncode != 0 and failed.recap['admin']['unreachable'] > 0, failed.text[-3000:]
    site_again_and_nothing_lost(host)


def test_a_replica_cut_off_while_uploads_go_on_catches_up(admin2):
    lab('unplug', 'admin2')
    try:
        remove_the_large_set()
        seeded = run_playbook('site.yml', '--limit', 'admin')
        assert seeded.returncode == 0, seeded.text[-3000:]
        assert sorted(own_files(ADMIN)) == sorted(EXPECTED)
        # Cut off, the replica still serves what it held (its serial behind the primary's).
        assert ssh(ADMIN2_ADDRESS, 'true').returncode == 255
    finally:
        lab('plug', 'admin2')
    print('admin2 caught up %.1f s after it was plugged back in' % wait_in_sync())
    assert_nothing_lost(ADMIN2)
    again = run_playbook('site.yml')
    assert again.returncode == 0, again.text[-3000:]
    fsck(admin2, ADMIN2)


def test_a_full_serverdir_filesystem_is_named_and_the_run_after_freeing_space_completes(host):
    remove_the_large_set()
    wait_in_sync()
    # The serverdir moves to a small filesystem of its own, with room for half of the large set.
    used = int(host.check_output('du -s -B1M %s | cut -f1' % SERVERDIR))
    host.run_test('systemctl stop devpi.service')
    host.run_test('mv {0} {0}.disk && mkdir {0} && mount -t tmpfs -o size={1}m tmpfs {0} && chown --reference={0}.disk {0} '
                  '&& chmod --reference={0}.disk {0} && cp -a {0}.disk/. {0}/'.format(SERVERDIR, used + 100))
    host.run_test('systemctl start devpi.service')
    wait_answers(ADMIN)

    # Not room enough: refused before any upload, naming the disk and the first file that does not fit.
    refused = run_playbook('site.yml', '--limit', 'admin')
    assert refused.returncode != 0
    assert re.search(r'no room for the upload to root/prod: the filesystem mounted on %s \(holding %s\): [\d.]+ MiB free '
                     r'of [\d.]+ MiB, .* airgap_faults_blob_\d\d-1\.0-py3-none-any\.whl is the first that does not fit'
                     % (SERVERDIR, SERVERDIR), refused.text), refused.text[-3000:]
    assert own_files(ADMIN) == {}

    # Room enough when the run starts, and the disk fills up in the middle of the uploads.
    host.run_test('mount -o remount,size=%dm %s' % (used + 400, SERVERDIR))
    # The filler takes every byte left (dd stops at the end of the disk and keeps what it wrote).
    failed = strike_while_seeding(lambda: ssh(ADMIN_ADDRESS, 'dd if=/dev/zero of=%s/filler bs=1M' % SERVERDIR))
    assert failed.returncode != 0
    assert re.search(r'upload of airgap_faults_blob_\d\d-1\.0-py3-none-any\.whl to root/prod failed \(HTTP 500\): .*; '
                     r'devpi-server keeps its files in the filesystem mounted on %s \(holding %s\): 0\.\d MiB free'
                     % (SERVERDIR, SERVERDIR), failed.text), failed.text[-3000:]
    # Nothing half-written is served: what the index lists is whole, the rest is not listed.
    assert 0 < len(own_files(ADMIN)) < len(EXPECTED)
    assert wrong_files(ADMIN) == {}

    host.run_test('rm %s/filler' % SERVERDIR)
    site_again_and_nothing_lost(host)
