"""A real devpi-server on 127.0.0.1, and the collection's modules run through ansible-playbook by each ansible-core of the matrix."""

import os
import re
import shutil
import sys

import pytest

from devpitest import BIN, ROOT_PASSWORD, Server
from playbook_session import PlaybookSession, venv_version


@pytest.fixture(scope='session')
def devpi(tmp_path_factory):
    server = Server(str(tmp_path_factory.mktemp('devpi') / 'server'))
    server.init()
    server.start()
    yield server
    server.stop()


class Result(dict):
    """A task's registered result, with the output of its step beside it."""
    output = ''
    # With run(..., judged=True): what Ansible's own tests say of it ({'skipped': ..., 'changed': ..., 'failed': ...}).
    judged = None


def _cores():
    """The virtualenvs whose ansible-core runs the module tests: TEST_ANSIBLE_VENVS (the Makefile's matrix), else this one."""
    venvs = os.environ.get('TEST_ANSIBLE_VENVS', '').split() or [os.path.dirname(BIN)]
    return [(venv_version(os.path.join(os.path.abspath(venv), 'bin')), os.path.join(os.path.abspath(venv), 'bin'))
            for venv in venvs]


CORES = _cores()


def pytest_generate_tests(metafunc):
    if 'core' in metafunc.fixturenames:
        one = metafunc.definition.get_closest_marker('one_core')
        cores = CORES[:1] if one else CORES
        metafunc.parametrize('core', [core[1] for core in cores], ids=['core%s' % core[0] for core in cores],
                             scope='session')


@pytest.fixture(scope='session')
def sessions(collections_path, tmp_path_factory):
    """One long-lived ansible-playbook per ansible-core, started when a test first needs it."""
    started = {}
    root = tmp_path_factory.mktemp('sessions')

    def get(venv_bin):
        if venv_bin not in started:
            env = dict(os.environ)
            env.update(ANSIBLE_COLLECTIONS_PATH=collections_path, ANSIBLE_PYTHON_INTERPRETER=sys.executable,
                       ANSIBLE_HOME=str(root / ('home-%d' % len(started))), PATH=BIN + os.pathsep + env.get('PATH', ''))
            started[venv_bin] = PlaybookSession(venv_bin, str(root / ('core-%d' % len(started))), env)
        return started[venv_bin]
    yield get
    for session in started.values():
        session.close()


class Ansible:
    """The collection's modules run as tasks by one ansible-core, as users run them."""

    def __init__(self, session, server):
        self.session = session
        self.server = server

    def run(self, module, args, check=False, diff=False, connection=None, judged=False):
        """Run one module as a task; return its registered result.

        The connection comes once from module_defaults on group/airgap.pypi_mirror.devpi, as users set it.
        """
        if connection is None:
            connection = dict(url=self.server.url, auth_username='root', auth_password=ROOT_PASSWORD)
        block = {'block': [{'name': 'Run %s' % module, 'airgap.pypi_mirror.%s' % module: args, 'register': 'result',
                            'ignore_errors': True, 'check_mode': check, 'diff': diff}],
                 'module_defaults': {'group/airgap.pypi_mirror.devpi': connection}}
        report = 'result'
        if judged:
            report = '{"result": result, "judged": {"skipped": result is skipped, "changed": result is changed, ' \
                     '"failed": result is failed}}'
        value, output = self.session.run([block], report)
        result = Result(value['result'] if judged else value)
        result.output = output
        if judged:
            result.judged = value['judged']
        return result


@pytest.fixture
def ansible(core, sessions, devpi):
    return Ansible(sessions(core), devpi)


@pytest.fixture(scope='module')
def module_ansible(core, sessions, devpi):
    """The same, for fixtures shared by a test module's tests."""
    return Ansible(sessions(core), devpi)


_names = []


@pytest.fixture
def unique(request):
    """A name no other test uses on the shared server."""
    _names.append(request.node.name)
    return 'u%d%s' % (len(_names), re.sub(r'[^a-z0-9]', '', request.node.name.lower().replace('test_', ''))[:30])


@pytest.fixture
def late_server(tmp_path):
    """A second, stopped server: the test decides when it starts."""
    server = Server(str(tmp_path / 'late'))
    yield server
    server.stop()
    shutil.rmtree(server.serverdir, ignore_errors=True)
