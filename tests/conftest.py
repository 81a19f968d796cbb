"""What every pytest suite of the collection shares."""

import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope='session')
def collections_path(tmp_path_factory):
    """An ANSIBLE_COLLECTIONS_PATH whose airgap.pypi_mirror is this checkout."""
    root = tmp_path_factory.mktemp('collections')
    (root / 'ansible_collections' / 'airgap').mkdir(parents=True)
    os.symlink(REPO, str(root / 'ansible_collections' / 'airgap' / 'pypi_mirror'))
    return str(root)


@pytest.fixture(scope='session')
def collection_imports(collections_path):
    """The collection's Python importable as ansible_collections.airgap.pypi_mirror, through Ansible's own loader."""
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder  # pylint: disable=import-outside-toplevel
    finder = _AnsibleCollectionFinder(paths=[collections_path])
    finder._install()  # pylint: disable=protected-access
    yield
    finder._remove()  # pylint: disable=protected-access
