"""docs/kubespray-offline.md holds only blocks a test can run (the Molecule scenario kubespray runs them all), and its
playbooks parse against its own inventory: a broken snippet fails here, before any lab boots."""

import os

import pytest

from doc_snippets import files, snippets, write_files
from playbook_run import run_playbook

PAGE = 'kubespray-offline.md'


def test_every_block_is_a_file_or_a_command():
    kinds = [s.kind for s in snippets(PAGE)]
    assert kinds.count('command') >= 3 and kinds.count('file') >= 2


@pytest.mark.parametrize('path', sorted(p for p in files(PAGE) if p.startswith('playbook/')))
def test_the_pages_playbooks_parse_with_its_inventory(collections_path, tmp_path, path):
    write_files(PAGE, tmp_path)
    # kubespray-offline's own role, which the page's offline-repo.yml runs first.
    (tmp_path / 'playbook' / 'roles' / 'offline-repo' / 'tasks').mkdir(parents=True)
    (tmp_path / 'playbook' / 'roles' / 'offline-repo' / 'tasks' / 'main.yml').write_text('[]\n')
    run = run_playbook(path, '--syntax-check', '-i', 'inventory/mycluster', inventory=None, cwd=str(tmp_path),
                       env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path))
    assert run.returncode == 0, run
