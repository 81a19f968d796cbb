"""A role's input checks that need no host of the lab: they fail with a sentence before anything changes."""

import json
import os

from playbook_run import run_playbook

PLAY = [{
    'name': 'devpi_server on an OS family it has no variables for',
    'hosts': 'localhost',
    'gather_facts': False,
    'tasks': [
        # A cached fact stands in for a host of that family.
        {'name': 'Pretend to be a Gentoo host', 'ansible.builtin.set_fact': {'os_family': 'Gentoo', 'cacheable': True}},
        {'name': 'Run the role', 'ansible.builtin.import_role': {'name': 'airgap.pypi_mirror.devpi_server'},
         'vars': {'devpi_server_root_password': 'x-pw'}},
    ],
}]


def test_an_unknown_os_family_is_named_in_a_sentence(collections_path, tmp_path):
    playbook = tmp_path / 'play.yml'
    playbook.write_text(json.dumps(PLAY))
    # --check: even a broken check could change nothing on this machine.
    run = run_playbook(str(playbook), '--check', '-c', 'local', inventory='localhost,',
                       env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path))
    assert run.returncode != 0
    assert ("devpi_server has no variables for localhost's OS family Gentoo: it knows Debian and RedHat "
            "(roles/devpi_server/vars/<family>.yml)") in run.text
    assert run.recap['localhost']['changed'] == 0
