"""A real devpi-server on 127.0.0.1 and a way to run the collection's modules through ansible-playbook."""

import base64
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
import zipfile

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
ROOT_PASSWORD = 'R00t-pw-for-tests-7f3a'


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Server:
    """A devpi-server process with its own serverdir; `api` reads its state independently of the modules."""

    def __init__(self, serverdir, port=None):
        self.serverdir = serverdir
        self.port = port or free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.proc = None

    def init(self, root_password=ROOT_PASSWORD):
        subprocess.run([os.path.join(BIN, 'devpi-init'), '--serverdir', self.serverdir,
                        '--root-passwd', root_password], check=True, capture_output=True)

    def start(self, wait=True):
        self.log = open(os.path.join(self.serverdir, 'server.log'), 'ab')
        # --offline-mode: the mirror root/pypi never reaches out; the tests stay on loopback.
        self.proc = subprocess.Popen([os.path.join(BIN, 'devpi-server'), '--serverdir', self.serverdir,
                                      '--host', '127.0.0.1', '--port', str(self.port), '--offline-mode',
                                      '--restrict-modify', 'root'],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        if wait:
            self.wait()

    def wait(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('devpi-server exited with %s' % self.proc.returncode)
            try:
                self.get('/')
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        raise RuntimeError('devpi-server did not answer within %ss' % timeout)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()

    # -- independent reads of the server's state --------------------------------

    def token_header(self, user='root', password=ROOT_PASSWORD):
        req = urllib.request.Request(self.url + '/+login', method='POST',
                                     data=json.dumps({'user': user, 'password': password}).encode())
        with urllib.request.urlopen(req) as resp:
            token = json.load(resp)['result']['password']
        return {'X-Devpi-Auth': base64.b64encode(('%s:%s' % (user, token)).encode()).decode()}

    def call(self, method, path, data=None, auth=True):
        headers = {'Accept': 'application/json', 'Content-Type': 'application/json'}
        if auth:
            headers.update(self.token_header())
        req = urllib.request.Request(self.url + path, method=method, headers=headers,
                                     data=None if data is None else json.dumps(data).encode())
        try:
            with urllib.request.urlopen(req) as resp:
                return resp.status, json.load(resp).get('result')
        except urllib.error.HTTPError as e:
            return e.code, None

    def get(self, path):
        req = urllib.request.Request(self.url + path, headers={'Accept': 'application/json'})
        with urllib.request.urlopen(req) as resp:
            return json.load(resp)['result']

    def user(self, name):
        return self.call('GET', '/' + name, auth=False)[1]

    def index(self, name):
        return self.call('GET', '/%s?no_projects=' % name, auth=False)[1]

    def files(self, index, project):
        """{filename: sha256} the index itself holds for a project."""
        status, versions = self.call('GET', '/%s/%s?ignore_bases=' % (index, project), auth=False)
        if status == 404:
            return {}
        return dict((link['href'].rsplit('/', 1)[-1], link['hashes']['sha256'])
                    for version in versions.values() for link in version.get('+links', []))

    def can_login(self, user, password):
        try:
            self.token_header(user, password)
            return True
        except urllib.error.HTTPError:
            return False


@pytest.fixture(scope='session')
def collections_path(tmp_path_factory):
    """An ANSIBLE_COLLECTIONS_PATH whose airgap.pypi_mirror is this checkout."""
    root = tmp_path_factory.mktemp('collections')
    (root / 'ansible_collections' / 'airgap').mkdir(parents=True)
    os.symlink(REPO, str(root / 'ansible_collections' / 'airgap' / 'pypi_mirror'))
    return str(root)


@pytest.fixture(scope='session')
def devpi(tmp_path_factory):
    server = Server(str(tmp_path_factory.mktemp('devpi') / 'server'))
    server.init()
    server.start()
    yield server
    server.stop()


class Result(dict):
    """A task's registered result, with the whole ansible-playbook output beside it."""
    output = ''
    rc = 0


class Ansible:
    def __init__(self, collections, workdir, server):
        self.collections = collections
        self.workdir = workdir
        self.server = server
        self.runs = 0

    def env(self):
        env = dict(os.environ)
        env.update(ANSIBLE_COLLECTIONS_PATH=self.collections, ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0',
                   ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0',
                   ANSIBLE_RETRY_FILES_ENABLED='0', ANSIBLE_PYTHON_INTERPRETER=sys.executable,
                   ANSIBLE_LOCAL_TEMP=os.path.join(self.workdir, 'tmp'), ANSIBLE_HOME=os.path.join(self.workdir, 'home'),
                   PATH=BIN + os.pathsep + env.get('PATH', ''))
        return env

    def run(self, module, args, check=False, diff=False, verbosity=1, connection=None):
        """Run one module as a task through ansible-playbook; return its registered result.

        The connection comes once from module_defaults on group/airgap.pypi_mirror.devpi, as users set it.
        """
        self.runs += 1
        out = os.path.join(self.workdir, 'result-%d.json' % self.runs)
        if connection is None:
            connection = dict(url=self.server.url, auth_username='root', auth_password=ROOT_PASSWORD)
        play = [{
            'name': 'module under test',
            'hosts': 'localhost',
            'gather_facts': False,
            'module_defaults': {'group/airgap.pypi_mirror.devpi': connection},
            'tasks': [
                {'name': 'Run %s' % module, 'airgap.pypi_mirror.%s' % module: args, 'register': 'result',
                 'ignore_errors': True, 'check_mode': check, 'diff': diff},
                {'name': 'Save the result', 'ansible.builtin.copy': {'content': '{{ result | to_json }}', 'dest': out},
                 'check_mode': False, 'diff': False},
            ],
        }]
        playbook = os.path.join(self.workdir, 'play-%d.yml' % self.runs)
        with open(playbook, 'w') as f:
            yaml.safe_dump(play, f)
        cmd = [os.path.join(BIN, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local', playbook]
        if verbosity:
            cmd.append('-' + 'v' * verbosity)
        proc = subprocess.run(cmd, env=self.env(), capture_output=True, text=True, cwd=self.workdir)
        if proc.returncode != 0 or not os.path.exists(out):
            raise AssertionError('ansible-playbook failed (%s):\n%s\n%s' % (proc.returncode, proc.stdout, proc.stderr))
        with open(out) as f:
            result = Result(json.load(f))
        result.output = proc.stdout + proc.stderr
        return result


@pytest.fixture
def ansible(collections_path, devpi, tmp_path):
    return Ansible(collections_path, str(tmp_path), devpi)


_names = []


@pytest.fixture
def unique(request):
    """A name no other test uses on the shared server."""
    _names.append(request.node.name)
    return 'u%d%s' % (len(_names), re.sub(r'[^a-z0-9]', '', request.node.name.lower().replace('test_', ''))[:30])


# -- distributions built here, so the tests need no network ----------------------------

def _metadata(name, version, requires_python=None, summary='A test distribution'):
    lines = ['Metadata-Version: 2.1', 'Name: %s' % name, 'Version: %s' % version, 'Summary: %s' % summary]
    if requires_python:
        lines.append('Requires-Python: %s' % requires_python)
    return '\n'.join(lines) + '\n\n'


def make_wheel(directory, name, version='1.0', payload=b'', requires_python=None):
    """A pure-Python wheel that pip can install."""
    dist = name.replace('-', '_')
    path = os.path.join(str(directory), '%s-%s-py3-none-any.whl' % (dist, version))
    info = '%s-%s.dist-info' % (dist, version)
    files = {
        '%s/__init__.py' % dist: b'VERSION = %r\nPAYLOAD = %r\n' % (version.encode(), payload),
        '%s/METADATA' % info: _metadata(name, version, requires_python).encode(),
        '%s/WHEEL' % info: b'Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
    }
    record = ''.join('%s,,\n' % n for n in files) + '%s/RECORD,,\n' % info
    files['%s/RECORD' % info] = record.encode()
    with zipfile.ZipFile(path, 'w') as archive:
        for member, data in files.items():
            archive.writestr(member, data)
    return path


def make_sdist(directory, name, version='1.0'):
    dist = name.replace('-', '_')
    path = os.path.join(str(directory), '%s-%s.tar.gz' % (dist, version))
    with tarfile.open(path, 'w:gz') as archive:
        for member, data in (('%s-%s/PKG-INFO' % (dist, version), _metadata(name, version).encode()),
                             ('%s-%s/setup.py' % (dist, version), b'from setuptools import setup\nsetup()\n')):
            info = tarfile.TarInfo(member)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def pip_download(server, index, project, dest):
    """pip, isolated from this machine's pip configuration, fetching one project from the index."""
    return subprocess.run([sys.executable, '-m', 'pip', 'download', '--isolated', '--no-deps', '--no-cache-dir',
                           '--disable-pip-version-check', '--index-url', '%s/%s/+simple/' % (server.url, index),
                           '-d', str(dest), project], capture_output=True, text=True)


@pytest.fixture
def late_server(tmp_path):
    """A second, stopped server: the test decides when it starts."""
    server = Server(str(tmp_path / 'late'))
    yield server
    server.stop()
    shutil.rmtree(server.serverdir, ignore_errors=True)
