"""The READMEs' variable tables are the argument specs', and the specs' defaults are defaults/main.yml's."""

import os
import shutil
import subprocess
import sys

import pytest

from playbook_run import REPO

SCRIPT = os.path.join(REPO, 'hacking', 'role_docs.py')


def role_docs(root, *args):
    return subprocess.run([sys.executable, SCRIPT, '--root', str(root)] + list(args), capture_output=True, text=True,
                          check=False)


@pytest.fixture
def copy(tmp_path):
    """The roles and README of this checkout, to break on purpose."""
    shutil.copytree(os.path.join(REPO, 'roles'), str(tmp_path / 'roles'))
    shutil.copy(os.path.join(REPO, 'README.md'), str(tmp_path / 'README.md'))
    return tmp_path


def test_the_checkouts_tables_are_the_specs():
    done = role_docs(REPO, '--check')
    assert done.returncode == 0, done.stderr


def test_a_hand_edited_table_is_drift_and_generating_mends_it(copy):
    readme = copy / 'roles' / 'pip_client' / 'README.md'
    readme.write_text(readme.read_text().replace('| `pip_client_timeout` | int | `60` |', '| `pip_client_timeout` | int | `30` |'))
    done = role_docs(copy, '--check')
    assert done.returncode == 1
    assert 'roles/pip_client/README.md is not what the specs say' in done.stderr
    assert role_docs(copy).returncode == 0
    assert '| `pip_client_timeout` | int | `60` |' in readme.read_text()
    assert role_docs(copy, '--check').returncode == 0


def test_a_default_the_spec_does_not_say_is_named(copy):
    defaults = copy / 'roles' / 'pip_client' / 'defaults' / 'main.yml'
    defaults.write_text(defaults.read_text().replace('pip_client_timeout: 60', 'pip_client_timeout: 30'))
    done = role_docs(copy, '--check')
    assert done.returncode == 1
    assert "pip_client: pip_client_timeout defaults to 30 in defaults/main.yml but its spec (entry point main) says 60" in done.stderr


def test_a_variable_no_spec_declares_is_named(copy):
    defaults = copy / 'roles' / 'pypi_mirror' / 'defaults' / 'main.yml'
    defaults.write_text(defaults.read_text() + 'pypi_mirror_forgotten: 1\n')
    done = role_docs(copy, '--check')
    assert done.returncode == 1
    assert 'pypi_mirror: pypi_mirror_forgotten is set in defaults/main.yml but declared by no argument spec' in done.stderr
