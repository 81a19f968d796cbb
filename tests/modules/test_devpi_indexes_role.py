"""The devpi_indexes role against a real devpi-server: an index holds exactly the files its upload lists."""

import hashlib
import os

import pytest
import yaml

from devpitest import ROOT_PASSWORD, make_wheel
from playbook_run import run_playbook

# A role, not a module: the ansible-core matrix is the modules' (tests/modules/conftest.py).
pytestmark = pytest.mark.one_core


def sha256(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def apply(ansible, tmp_path, unique, uploads, *args):
    """Run the role on this machine as the site does: a non-volatile index of its own, the given uploads."""
    play = [{'hosts': 'localhost', 'gather_facts': False, 'roles': [{
        'role': 'airgap.pypi_mirror.devpi_indexes',
        'vars': {
            'devpi_indexes_url': ansible.server.url,
            'devpi_indexes_password': ROOT_PASSWORD,
            'devpi_indexes_users': [{'name': unique, 'password': 'pw-owner-1'}],
            'devpi_indexes_indexes': [{'name': unique + '/prod', 'volatile': False, 'acl_upload': ['root']}],
            'devpi_indexes_uploads': uploads,
            'devpi_indexes_staging_dir': str(tmp_path / 'staging'),
        }}]}]
    playbook = tmp_path / 'play.yml'
    playbook.write_text(yaml.safe_dump(play))
    return run_playbook(str(playbook), '-c', 'local', '-e', 'ansible_python_interpreter=' + os.sys.executable, *args,
                        inventory='localhost,', env=ansible.session.env, cwd=str(tmp_path))


def staged(tmp_path, index):
    return sorted(os.listdir(str(tmp_path / 'staging' / index.replace('/', '_'))))


def test_a_file_dropped_from_the_upload_is_not_uploaded_again(ansible, devpi, unique, tmp_path):
    index = unique + '/prod'
    bundle = tmp_path / 'bundle'
    bundle.mkdir()
    keep = make_wheel(bundle, 'keep-me', '1.0')
    drop = make_wheel(bundle, 'drop-me', '1.0')
    first = apply(ansible, tmp_path, unique, [{'index': index, 'src': [str(bundle)]}])
    assert first.returncode == 0, first.text
    assert devpi.files(index, 'drop-me') == {os.path.basename(drop): sha256(drop)}

    # The wheel leaves the bundle (a vulnerability); the index keeps it until pruned, the staging area does not.
    os.remove(drop)
    second = apply(ansible, tmp_path, unique, [{'index': index, 'src': [str(bundle)]}])
    assert second.returncode == 0, second.text
    assert second.changed == {'localhost': 1}, second.text
    assert staged(tmp_path, index) == [os.path.basename(keep)]
    assert ('index %s holds 1 file(s) that are not among src: %s; they stay (prune: true removes them)'
            % (index, os.path.basename(drop))) in second.text

    pruned = apply(ansible, tmp_path, unique, [{'index': index, 'src': [str(bundle)], 'prune': True}])
    assert pruned.returncode == 0, pruned.text
    assert devpi.files(index, 'drop-me') == {}
    assert devpi.files(index, 'keep-me') == {os.path.basename(keep): sha256(keep)}

    again = apply(ansible, tmp_path, unique, [{'index': index, 'src': [str(bundle)], 'prune': True}])
    assert again.returncode == 0 and again.changed == {'localhost': 0}, again.text


def test_a_directory_holding_something_else_fails_before_anything_changes(ansible, devpi, unique, tmp_path):
    index = unique + '/prod'
    site = tmp_path / 'site' / 'nested'
    site.mkdir(parents=True)
    make_wheel(site, 'site-tool', '1.0')
    (site / 'site_tool-1.0.tar.xz').write_bytes(b'not an archive devpi takes')
    done = apply(ansible, tmp_path, unique, [{'index': index, 'src': [str(tmp_path / 'site')]}])
    assert done.returncode != 0
    assert ('devpi_indexes_uploads (%s): %s (in %s) is not a Python distribution (expected a file ending with '
            '.whl, .egg, .tar.gz, .tgz, .tar.bz2, .zip)' % (index, site / 'site_tool-1.0.tar.xz', tmp_path / 'site')
            ) in done.text
    assert devpi.files(index, 'site-tool') == {}
    assert not (tmp_path / 'staging').exists()


def test_an_index_named_twice_in_the_uploads_is_refused(ansible, devpi, unique, tmp_path):
    index = unique + '/prod'
    wheel = make_wheel(tmp_path, 'twice-tool', '1.0')
    done = apply(ansible, tmp_path, unique, [{'index': index, 'src': [wheel]}, {'index': index, 'src': [wheel]}])
    assert done.returncode != 0
    assert 'devpi_indexes_uploads names an index more than once' in done.text
    assert devpi.files(index, 'twice-tool') == {}
