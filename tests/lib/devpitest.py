"""A real devpi-server process and small distributions built on the spot: shared by the tests and bench/."""

import base64
import io
import json
import os
import socket
import ssl
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
import zipfile

BIN = os.path.dirname(sys.executable)
ROOT_PASSWORD = 'R00t-pw-for-tests-7f3a'


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Server:
    """A devpi-server process with its own serverdir; `api` reads its state independently of the modules."""

    def __init__(self, serverdir, port=None, secretfile=None, primary=None):
        """SECRETFILE makes it a primary that replicas may follow; PRIMARY (a Server) makes it a replica of that one."""
        self.serverdir = serverdir
        self.port = port or free_port()
        self.url = 'http://127.0.0.1:%d' % self.port
        self.proc = None
        self.primary = primary
        self.secretfile = primary.secretfile if primary else secretfile

    def init(self, root_password=ROOT_PASSWORD):
        # A replica's users come from its primary: it gets no root password of its own.
        own = ['--primary-url', self.primary.url] if self.primary else ['--root-passwd', root_password]
        subprocess.run([os.path.join(BIN, 'devpi-init'), '--serverdir', self.serverdir] + own, check=True,
                       capture_output=True)

    def start(self, wait=True):
        self.log = open(os.path.join(self.serverdir, 'server.log'), 'ab')
        if self.primary:
            # Not offline: a replica in offline mode refuses to fetch from its primary too (503).
            role = ['--primary-url', self.primary.url, '--secretfile', self.secretfile]
        else:
            # --offline-mode: the mirror root/pypi never reaches out; the tests stay on loopback.
            role = ['--offline-mode'] + (['--role', 'primary', '--secretfile', self.secretfile] if self.secretfile else [])
        self.proc = subprocess.Popen([os.path.join(BIN, 'devpi-server'), '--serverdir', self.serverdir,
                                      '--host', '127.0.0.1', '--port', str(self.port), '--restrict-modify', 'root'] + role,
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

    def anonymous_post(self, path, body, content_type):
        """A POST with no login, as anybody who reaches the port could send it: its HTTP status."""
        req = urllib.request.Request(self.url + path, method='POST', data=body, headers={'Content-Type': content_type})
        try:
            with urllib.request.urlopen(req) as resp:
                return resp.status
        except urllib.error.HTTPError as e:
            return e.code

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


# -- distributions built here, so the tests need no network ----------------------------

def _metadata(name, version, requires_python=None, summary='A test distribution', requires=(), metadata_version='2.1'):
    lines = ['Metadata-Version: %s' % metadata_version, 'Name: %s' % name, 'Version: %s' % version, 'Summary: %s' % summary]
    if requires_python:
        lines.append('Requires-Python: %s' % requires_python)
    lines += ['Requires-Dist: %s' % r for r in requires]
    return '\n'.join(lines) + '\n\n'


def make_wheel(directory, name, version='1.0', payload=b'', requires_python=None, blob=None, requires=()):
    """A pure-Python wheel that pip can install; `blob` adds a stored (uncompressed) data file, `requires` dependencies."""
    dist = name.replace('-', '_')
    path = os.path.join(str(directory), '%s-%s-py3-none-any.whl' % (dist, version))
    info = '%s-%s.dist-info' % (dist, version)
    files = {
        '%s/__init__.py' % dist: b'VERSION = %r\nPAYLOAD = %r\n' % (version.encode(), payload),
        '%s/METADATA' % info: _metadata(name, version, requires_python, requires=requires).encode(),
        '%s/WHEEL' % info: b'Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
    }
    if blob is not None:
        files['%s/blob.bin' % dist] = blob
    record = ''.join('%s,,\n' % n for n in files) + '%s/RECORD,,\n' % info
    files['%s/RECORD' % info] = record.encode()
    with zipfile.ZipFile(path, 'w') as archive:
        for member, data in files.items():
            # Random data does not compress: store it so a 4 MB blob makes a 4 MB wheel quickly.
            compression = zipfile.ZIP_STORED if member.endswith('.bin') else zipfile.ZIP_DEFLATED
            archive.writestr(member, data, compress_type=compression)
    return path


def make_sdist(directory, name, version='1.0', suffix='.tar.gz', requires=(), build_requires=None):
    """A source distribution in any archive format devpi accepts (.tar.gz, .tgz, .tar.bz2, .tar, .zip).

    With `build_requires` it has a pyproject.toml naming them (and core metadata 2.2 declaring `requires`).
    """
    dist = name.replace('-', '_')
    path = os.path.join(str(directory), '%s-%s%s' % (dist, version, suffix))
    metadata = _metadata(name, version, requires=requires, metadata_version='2.1' if build_requires is None else '2.2')
    members = [('%s-%s/PKG-INFO' % (dist, version), metadata.encode()),
               ('%s-%s/setup.py' % (dist, version), b'from setuptools import setup\nsetup()\n')]
    if build_requires is not None:
        toml = '[build-system]\nrequires = [%s]\nbuild-backend = "flit_core.buildapi"\n' % ', '.join('"%s"' % r for r in build_requires)
        members.append(('%s-%s/pyproject.toml' % (dist, version), toml.encode()))
    if suffix == '.zip':
        with zipfile.ZipFile(path, 'w') as archive:
            for member, data in members:
                archive.writestr(member, data)
        return path
    mode = {'.tar.gz': 'w:gz', '.tgz': 'w:gz', '.tar.bz2': 'w:bz2', '.tar': 'w'}[suffix]
    with tarfile.open(path, mode) as archive:
        for member, data in members:
            info = tarfile.TarInfo(member)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def make_egg(directory, name, version='1.0'):
    dist = name.replace('-', '_')
    path = os.path.join(str(directory), '%s-%s-py3.11.egg' % (dist, version))
    with zipfile.ZipFile(path, 'w') as archive:
        archive.writestr('EGG-INFO/PKG-INFO', _metadata(name, version))
        archive.writestr('%s/__init__.py' % dist, 'VERSION = %r\n' % version)
    return path


def pip_download(server, index, project, dest):
    """pip, isolated from this machine's pip configuration, fetching one project from the index."""
    return subprocess.run([sys.executable, '-m', 'pip', 'download', '--isolated', '--no-deps', '--no-cache-dir',
                           '--disable-pip-version-check', '--index-url', '%s/%s/+simple/' % (server.url, index),
                           '-d', str(dest), project], capture_output=True, text=True, check=False)


def multipart_upload(path):
    """The body and content type of devpi's file_upload action for the distribution at PATH (name-version from its file name)."""
    name, version = os.path.basename(path).split('-')[:2]
    boundary = 'pypi-mirror-test-boundary'
    fields = [('%s' % key, value) for key, value in ((':action', 'file_upload'), ('name', name), ('version', version))]
    parts = [b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (boundary.encode(), k.encode(), v.encode())
             for k, v in fields]
    with open(path, 'rb') as f:
        content = f.read()
    parts.append(b'--%s\r\nContent-Disposition: form-data; name="content"; filename="%s"\r\n'
                 b'Content-Type: application/octet-stream\r\n\r\n%s\r\n' % (boundary.encode(), os.path.basename(path).encode(), content))
    parts.append(b'--%s--\r\n' % boundary.encode())
    return b''.join(parts), 'multipart/form-data; boundary=' + boundary


def upload_over_https(url, ca, password, index, path):
    """Log in as root at URL (a front with the site CA at CA) and upload PATH to INDEX: the HTTP status."""
    context = ssl.create_default_context(cafile=ca)
    login = urllib.request.Request(url + '/+login', method='POST',
                                   data=json.dumps({'user': 'root', 'password': password}).encode())
    with urllib.request.urlopen(login, context=context) as resp:
        token = json.load(resp)['result']['password']
    body, content_type = multipart_upload(path)
    req = urllib.request.Request('%s/%s/' % (url, index), method='POST', data=body, headers={
        'Content-Type': content_type, 'X-Devpi-Auth': base64.b64encode(('root:%s' % token).encode()).decode()})
    with urllib.request.urlopen(req, context=context) as resp:
        return resp.status
