# -*- coding: utf-8 -*-
# Copyright: (c) 2026, airgap.pypi_mirror contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One client for devpi-server's HTTP API, shared by every module of the collection.

Standard library and ansible.module_utils only: it runs on the managed host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import errno
import http.client
import json
import os
import re
import socket
import time
import uuid

from urllib.error import HTTPError, URLError
from urllib.parse import quote, unquote, urlparse

from ansible.module_utils.urls import Request, make_context

from ansible_collections.airgap.pypi_mirror.plugins.module_utils.urls import is_http_url

# devpi 7 renames stage->local and mirror->remote: the module-facing names
# map to the server's names here and nowhere else.
INDEX_TYPES = {
    'stage': 'stage',
    'mirror': 'mirror',
}
SERVER_INDEX_TYPES = dict((server, name) for name, server in INDEX_TYPES.items())


def devpi_argument_spec():
    """The connection options every module takes (doc fragment airgap.pypi_mirror.devpi)."""
    return dict(
        url=dict(type='str', required=True),
        auth_username=dict(type='str'),
        auth_password=dict(type='str', no_log=True),
        validate_certs=dict(type='bool', default=True),
        ca_path=dict(type='path'),
        timeout=dict(type='int', default=30),
        wait_timeout=dict(type='int', default=10),
    )


DEVPI_REQUIRED_TOGETHER = [('auth_username', 'auth_password')]


def connect(module):
    """A logged-in client from a module's connection options."""
    return DevpiClient(**dict((k, module.params[k]) for k in devpi_argument_spec()))


def check_index_option(module, option):
    """Fail, naming the option, when it is set and not of the form user/index."""
    if module.params[option] is not None:
        try:
            split_index(module.params[option])
        except ValueError as e:
            module.fail_json(msg='%s: %s' % (option, e))


def run_module(module, run):
    """Connect, run, exit: a DevpiError fails the module with the server's message and the HTTP status."""
    try:
        module.exit_json(**run(module, connect(module)))
    except DevpiError as e:
        module.fail_json(msg=str(e), status=e.status)


class DevpiError(Exception):
    """Every failure talking to devpi-server: the HTTP status (None when unreachable) and the server's message."""

    def __init__(self, message, status=None, url=None):
        super(DevpiError, self).__init__(message)
        self.message = message
        self.status = status
        self.url = url

    def __str__(self):
        return self.message


def normalize_project(name):
    """PEP 503 normalized project name."""
    return re.sub(r'[-_.]+', '-', name).lower()


def split_index(name):
    """'user/index' -> ('user', 'index'); ValueError for anything else."""
    parts = name.split('/') if isinstance(name, str) else []
    if len(parts) != 2 or not all(parts) or any(p.strip() != p or p.startswith('+') for p in parts):
        raise ValueError("'%s' is not an index name of the form user/index" % (name,))
    return parts[0], parts[1]


def _server_message(body, reason):
    """The server's own words from an error reply: JSON 'message', else its 'title', else the HTTP reason."""
    try:
        data = json.loads(body)
    except (ValueError, TypeError):
        data = None
    if isinstance(data, dict):
        message = (data.get('message') or '').strip()
        title = (data.get('title') or '').strip()
        # devpi's upload errors carry an empty message and the text in 'title'.
        if message and not (title and data.get('code')):
            return message
        if title:
            return title
        if message:
            return message
    text = body.decode('utf-8', 'replace').strip() if isinstance(body, bytes) else (body or '').strip()
    return text[:500] if text else reason


class DevpiClient:
    """devpi-server's API: login, JSON reads, PUT/PATCH/DELETE, multipart upload."""

    def __init__(self, url, auth_username=None, auth_password=None, validate_certs=True,
                 ca_path=None, timeout=30, wait_timeout=10):
        if not is_http_url(url):
            raise DevpiError("url '%s' must be an http:// or https:// address of a devpi-server" % (url,))
        self.url = url.rstrip('/')
        self.timeout = timeout
        self.wait_timeout = wait_timeout
        # One TLS context for every request: building it loads the CA store, which costs more than a request.
        context = make_context(cafile=ca_path, validate_certs=validate_certs)
        self._request = Request(validate_certs=validate_certs, ca_path=ca_path, timeout=timeout,
                                follow_redirects='none', use_netrc=False, context=context)
        self._auth_header = None
        if auth_username:
            self.login(auth_username, auth_password)

    # -- transport -----------------------------------------------------------

    def _open(self, method, path, body=None, headers=None):
        """One request; retries only while the server refuses connections (still starting)."""
        url = self.url + path
        all_headers = {'Accept': 'application/json'}
        if self._auth_header:
            all_headers['X-Devpi-Auth'] = self._auth_header
        all_headers.update(headers or {})
        deadline = time.time() + max(self.wait_timeout, 0)
        while True:
            try:
                resp = self._request.open(method, url, data=body, headers=all_headers)
                return resp.getcode(), resp.read()
            except HTTPError as e:
                try:
                    data = e.read()
                except Exception:
                    data = b''
                return e.code, data
            except (URLError, socket.error) as e:
                reason = getattr(e, 'reason', e)
                refused = isinstance(reason, (ConnectionRefusedError, ConnectionResetError)) or \
                    getattr(reason, 'errno', None) in (errno.ECONNREFUSED, errno.ECONNRESET)
                if refused and time.time() < deadline:
                    time.sleep(0.5)
                    continue
                waited = ' after waiting %ss' % self.wait_timeout if refused else ''
                raise DevpiError('devpi-server at %s is not reachable%s: %s' % (self.url, waited, reason), url=url)
            except http.client.HTTPException as e:
                # A reply cut short (IncompleteRead) or not HTTP at all: the connection, not the server, failed.
                what = str(e) if str(e).startswith(type(e).__name__) else '%s: %s' % (type(e).__name__, e)
                raise DevpiError('devpi-server at %s broke off its answer to %s %s: %s' % (self.url, method, path, what), url=url)

    def request(self, method, path, data=None, ok=(200, 201), missing_ok=False):
        """JSON request; returns the reply's 'result' (None for a 404 when missing_ok)."""
        body = None
        headers = {}
        if data is not None:
            body = json.dumps(data).encode('utf-8')
            headers['Content-Type'] = 'application/json'
        status, raw = self._open(method, path, body, headers)
        if missing_ok and status == 404:
            return None
        if status not in ok:
            raise DevpiError('%s %s failed (HTTP %s): %s' % (method, path, status, _server_message(raw, 'no message')),
                             status=status, url=self.url + path)
        if not raw:
            return {}
        try:
            return json.loads(raw).get('result')
        except (ValueError, AttributeError):
            raise DevpiError('%s %s: the reply is not devpi JSON; is %s a devpi-server?' % (method, path, self.url),
                             status=status, url=self.url + path)

    # -- authentication ------------------------------------------------------

    def _post_login(self, username, password, refusal_ok=False):
        """POST /+login: the token; None for a refusal (HTTP 401) when refusal_ok, else the server's message."""
        status, raw = self._open('POST', '/+login', json.dumps({'user': username, 'password': password}).encode('utf-8'),
                                 {'Content-Type': 'application/json'})
        if status == 401 and refusal_ok:
            return None
        if status != 200:
            raise DevpiError('login as %s failed (HTTP %s): %s' % (username, status, _server_message(raw, 'no message')),
                             status=status, url=self.url + '/+login')
        try:
            return json.loads(raw)['result']['password']
        except (ValueError, KeyError, TypeError):
            raise DevpiError('login as %s: the reply carries no token; is %s a devpi-server?' % (username, self.url))

    def check_login(self, username, password):
        """True when username/password log in, False for a refusal."""
        return self._post_login(username, password, refusal_ok=True) is not None

    def login(self, username, password):
        """Log in; later requests carry the token in X-Devpi-Auth."""
        token = self._post_login(username, password)
        self._auth_header = base64.b64encode(('%s:%s' % (username, token)).encode('utf-8')).decode('ascii')

    # -- the server ----------------------------------------------------------

    def get_status(self):
        """The server's /+status: its role, serial and, on a replica, how far it has caught up with its primary."""
        return self.request('GET', '/+status') or {}

    # -- users ---------------------------------------------------------------

    def get_users(self):
        """{username: userconfig with 'indexes'} for the whole server."""
        return self.request('GET', '/') or {}

    def get_user(self, name):
        return self.request('GET', '/' + quote(name), missing_ok=True)

    def create_user(self, name, config):
        return self.request('PUT', '/' + quote(name), config)

    def modify_user(self, name, changes):
        return self.request('PATCH', '/' + quote(name), changes)

    def delete_user(self, name):
        return self.request('DELETE', '/' + quote(name))

    # -- indexes -------------------------------------------------------------

    @staticmethod
    def _index_path(index):
        user, name = split_index(index)
        return '/%s/%s' % (quote(user), quote(name))

    def get_index(self, index, projects=False):
        path = self._index_path(index) + ('' if projects else '?no_projects=')
        return self.request('GET', path, missing_ok=True)

    def create_index(self, index, config):
        return self.request('PUT', self._index_path(index), config)

    def modify_index(self, index, changes):
        return self.request('PATCH', self._index_path(index), changes)

    def delete_index(self, index):
        return self.request('DELETE', self._index_path(index))

    def get_project_files(self, index, project, include_bases=False):
        """{filename: {version, sha256, url}} of a project's files on the index (with its bases' if asked)."""
        path = '%s/%s%s' % (self._index_path(index), quote(normalize_project(project)), '' if include_bases else '?ignore_bases=')
        versions = self.request('GET', path, missing_ok=True) or {}
        files = {}
        for version in versions.values():
            for link in (version or {}).get('+links', []):
                if link.get('rel', 'releasefile') != 'releasefile':
                    continue
                # devpi quotes the file name in its URLs: a non-ASCII name comes as %XX escapes.
                filename = unquote(link['href'].rsplit('/', 1)[-1].split('#', 1)[0])
                files[filename] = dict(version=version.get('version'), sha256=(link.get('hashes') or {}).get('sha256'),
                                       url=link['href'])
        return files

    def delete_file(self, url, force=False):
        """DELETE one file by the URL the index gave for it; force is what a non-volatile index needs."""
        path = url[len(self.url):] if url.startswith(self.url + '/') else urlparse(url).path
        return self.request('DELETE', path.split('#', 1)[0] + ('?force=' if force else ''))

    # -- uploads -------------------------------------------------------------

    def upload(self, index, path, metadata):
        """multipart 'file_upload' of one distribution with its core metadata fields."""
        boundary = uuid.uuid4().hex
        parts = []
        fields = [(':action', 'file_upload')]
        for key, value in metadata.items():
            for item in (value if isinstance(value, list) else [value]):
                fields.append((key, item))
        for key, value in fields:
            parts.append(('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n' % (boundary, key)).encode('utf-8'))
            parts.append(value.encode('utf-8') + b'\r\n')
        filename = os.path.basename(path)
        parts.append(('--%s\r\nContent-Disposition: form-data; name="content"; filename="%s"\r\n'
                      'Content-Type: application/octet-stream\r\n\r\n' % (boundary, filename)).encode('utf-8'))
        with open(path, 'rb') as f:
            parts.append(f.read())
        parts.append(('\r\n--%s--\r\n' % boundary).encode('utf-8'))
        headers = {'Content-Type': 'multipart/form-data; boundary=%s' % boundary}
        status, raw = self._open('POST', self._index_path(index) + '/', b''.join(parts), headers)
        if status not in (200, 201):
            raise DevpiError('upload of %s to %s failed (HTTP %s): %s' % (filename, index, status, _server_message(raw, 'no message')),
                             status=status, url=self.url + self._index_path(index) + '/')
        return status
