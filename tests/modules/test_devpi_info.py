"""devpi_info against a real devpi-server."""

import hashlib
import os
import shutil
import socket
import subprocess
import threading
import time

import pytest

from devpitest import BIN, ROOT_PASSWORD, Server, make_wheel


def test_lists_users_and_indexes(ansible, devpi, unique):
    ansible.run('devpi_user', dict(name=unique, password='pw-1', email='i@example.com'))
    ansible.run('devpi_index', dict(name=unique + '/prod', bases=['root/pypi'], volatile=False))
    result = ansible.run('devpi_info', {}, connection=dict(url=devpi.url))
    assert result['changed'] is False
    assert result['users'][unique]['email'] == 'i@example.com'
    assert result['users'][unique]['indexes'] == ['prod']
    assert result['indexes'][unique + '/prod'] == devpi.index(unique + '/prod')
    assert result['indexes']['root/pypi']['type'] == 'mirror'
    assert 'projects' not in result


@pytest.mark.one_core
def test_lists_an_indexs_projects_and_files_with_hashes(ansible, devpi, unique, tmp_path):
    ansible.run('devpi_user', dict(name=unique, password='pw-1'))
    ansible.run('devpi_index', dict(name=unique + '/base', acl_upload=['root']))
    ansible.run('devpi_index', dict(name=unique + '/prod', bases=[unique + '/base'], acl_upload=['root']))
    one = make_wheel(tmp_path, 'Nu_Pkg', '1.0')
    two = make_wheel(tmp_path, 'xi', '2.0')
    inherited = make_wheel(tmp_path, 'omicron', '0.1')
    ansible.run('devpi_upload', dict(index=unique + '/prod', src=[one, two]))
    ansible.run('devpi_upload', dict(index=unique + '/base', src=[inherited]))

    result = ansible.run('devpi_info', dict(index=unique + '/prod'))
    digest = hashlib.sha256(open(one, 'rb').read()).hexdigest()
    files = result['projects']['nu-pkg']['1.0']
    assert [(f['filename'], f['sha256']) for f in files] == [(os.path.basename(one), digest)]
    assert files[0]['url'].startswith('%s/%s/prod/+f/' % (devpi.url, unique))
    assert sorted(result['projects']) == ['nu-pkg', 'xi']

    only = ansible.run('devpi_info', dict(index=unique + '/prod', projects=['omicron'], include_bases=True))
    assert list(only['projects']) == ['omicron']
    assert only['projects']['omicron']['0.1'][0]['filename'] == os.path.basename(inherited)


def test_reports_the_servers_own_status(ansible, devpi):
    status = ansible.run('devpi_info', {})['status']
    served = devpi.get('/+status')
    # devpi reports a server started with no role as a primary (one that refuses replicas until --role primary).
    assert status == dict(role='primary', serial=served['serial'], devpi_server_version=served['versioninfo']['devpi-server'],
                          primary_url=None, primary_serial=None, in_sync=True, replication_errors={})
    assert status['serial'] >= 0


@pytest.fixture
def primary_and_replica(tmp_path):
    """A primary with a secret file, and a replica of it that shares the secret (both on loopback)."""
    secret = str(tmp_path / 'secret')
    subprocess.run([os.path.join(BIN, 'devpi-gen-secret'), '--secretfile', secret], check=True, capture_output=True)
    primary = Server(str(tmp_path / 'primary'), secretfile=secret)
    replica = Server(str(tmp_path / 'replica'), primary=primary)
    try:
        primary.init()
        primary.start()
        # The replica runs online (it must, to replicate): its root/pypi, replicated from the primary, stays on loopback.
        assert primary.call('PATCH', '/root/pypi', {'mirror_url': 'http://127.0.0.1:9/simple/'})[0] == 200
        replica.init()
        replica.start()
        yield primary, replica
    finally:
        replica.stop()
        primary.stop()
        shutil.rmtree(str(tmp_path), ignore_errors=True)


@pytest.mark.one_core
def test_a_replica_tells_when_it_holds_what_its_primary_has(ansible, primary_and_replica):
    primary, replica = primary_and_replica
    as_root = dict(auth_username='root', auth_password=ROOT_PASSWORD)
    made = ansible.run('devpi_index', dict(name='root/zone', bases=['root/pypi']), connection=dict(as_root, url=primary.url))
    assert made['changed'] is True, made
    on_primary = ansible.run('devpi_info', {}, connection=dict(url=primary.url))['status']
    assert (on_primary['role'], on_primary['in_sync'], on_primary['primary_url']) == ('primary', True, None)

    # devpi's replica polls its primary; the first catch-up takes some seconds. In sync with what it last heard is
    # not enough: a play waits until it holds the primary's serial.
    deadline = time.time() + 90
    while True:
        seen = ansible.run('devpi_info', {}, connection=dict(url=replica.url))
        status = seen['status']
        if status['in_sync'] and status['serial'] >= on_primary['serial'] or time.time() > deadline:
            break
        time.sleep(1)
    assert status['role'] == 'replica' and status['primary_url'] == primary.url
    assert status['in_sync'] is True, status
    assert status['serial'] == status['primary_serial'] == on_primary['serial']
    assert status['replication_errors'] == {}
    assert seen['indexes']['root/zone']['bases'] == ['root/pypi']
    assert seen['indexes']['root/pypi']['mirror_url'] == 'http://127.0.0.1:9/simple/'

    # Its primary gone, the replica no longer knows whether it is behind: it says what it last knew.
    primary.stop()
    after = ansible.run('devpi_info', {}, connection=dict(url=replica.url))
    assert after.get('failed') is not True, after
    assert after['status']['serial'] == on_primary['serial']
    assert 'root/zone' in after['indexes']


def test_a_missing_index_is_reported(ansible, devpi):
    result = ansible.run('devpi_info', dict(index='root/nothere'))
    assert result['failed'] is True
    assert result['msg'] == 'index root/nothere does not exist on %s' % devpi.url


@pytest.mark.one_core
def test_waits_for_a_server_that_is_still_starting(ansible, late_server):
    late_server.init()
    # Start the server only after the module has begun knocking: it must wait, not fail.
    timer = threading.Timer(3.0, late_server.start, kwargs=dict(wait=False))
    timer.start()
    try:
        result = ansible.run('devpi_info', {}, connection=dict(url=late_server.url, wait_timeout=60))
    finally:
        timer.join()
    assert result.get('failed') is not True, result
    assert 'root/pypi' in result['indexes']


def test_a_reply_cut_short_is_the_modules_error(ansible):
    """A peer that promises more than it sends: the one error type, naming the server and the request."""
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(1)
    port = listener.getsockname()[1]

    def answer_short():
        conn, dummy = listener.accept()
        conn.recv(65536)
        conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"result": {')
        conn.close()

    thread = threading.Thread(target=answer_short)
    thread.start()
    try:
        result = ansible.run('devpi_info', {}, connection=dict(url='http://127.0.0.1:%d' % port))
    finally:
        thread.join(10)
        listener.close()
    assert result['failed'] is True
    assert result['msg'].startswith('devpi-server at http://127.0.0.1:%d broke off its answer to GET /: IncompleteRead(' % port)
    assert 'Traceback' not in result.output
