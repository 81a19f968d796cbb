"""A real devpi-server on 127.0.0.1 and a way to run the collection's modules through ansible-playbook."""

import json
import os
import re
import shutil
import sys

import pytest
import yaml

from devpitest import BIN, ROOT_PASSWORD, Server
from playbook_run import run_playbook


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
    # With run(..., judged=True): what Ansible's own tests say of it ({'skipped': ..., 'changed': ..., 'failed': ...}).
    judged = None


class Ansible:
    def __init__(self, collections, workdir, server):
        self.collections = collections
        self.workdir = workdir
        self.server = server
        self.runs = 0

    def env(self):
        env = dict(os.environ)
        env.update(ANSIBLE_COLLECTIONS_PATH=self.collections, ANSIBLE_PYTHON_INTERPRETER=sys.executable,
                   ANSIBLE_LOCAL_TEMP=os.path.join(self.workdir, 'tmp'), ANSIBLE_HOME=os.path.join(self.workdir, 'home'),
                   PATH=BIN + os.pathsep + env.get('PATH', ''))
        return env

    def run(self, module, args, check=False, diff=False, verbosity=1, connection=None, judged=False):
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
        if judged:
            play[0]['tasks'].append({'name': 'Save what the tests say of it', 'ansible.builtin.copy': {
                'content': '{{ {"skipped": result is skipped, "changed": result is changed, "failed": result is failed} | to_json }}',
                'dest': out + '.judged'}, 'check_mode': False, 'diff': False})
        playbook = os.path.join(self.workdir, 'play-%d.yml' % self.runs)
        with open(playbook, 'w') as f:
            yaml.safe_dump(play, f)
        args = ['-c', 'local'] + (['-' + 'v' * verbosity] if verbosity else [])
        done = run_playbook(playbook, *args, inventory='localhost,', env=self.env(), cwd=self.workdir)
        if done.returncode != 0 or not os.path.exists(out):
            raise AssertionError(repr(done))
        with open(out) as f:
            result = Result(json.load(f))
        result.output = done.stdout + done.stderr
        if judged:
            with open(out + '.judged') as f:
                result.judged = json.load(f)
        return result


@pytest.fixture
def ansible(collections_path, devpi, tmp_path):
    return Ansible(collections_path, str(tmp_path), devpi)


@pytest.fixture(scope='module')
def module_ansible(collections_path, devpi, tmp_path_factory):
    """The same, shared by a test module's tests."""
    return Ansible(collections_path, str(tmp_path_factory.mktemp('ansible')), devpi)


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
