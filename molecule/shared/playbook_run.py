"""What the scenarios' verifiers share: running one of the collection's playbooks on the scenario's hosts."""

import os
import re
import subprocess

REPO = os.environ.get('MOLECULE_PROJECT_DIRECTORY', '')
INVENTORY = os.path.dirname(os.environ.get('MOLECULE_INVENTORY_FILE', ''))


def run_playbook(name, *args, inventory=INVENTORY):
    """ansible-playbook playbooks/NAME on the scenario's inventory: the finished process and {host: changed}."""
    # Molecule forces colour on; the recap is parsed below.
    env = dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0')
    done = subprocess.run(['ansible-playbook', '-i', inventory, os.path.join(REPO, 'playbooks', name)] + list(args),
                          capture_output=True, text=True, check=False, env=env)
    changed = dict((m.group(1), int(m.group(2))) for m in re.finditer(r'^(\w+)\s+:.*?changed=(\d+)', done.stdout, re.M))
    return done, changed


def flat(text):
    """Output with its line folding undone (the callback may fold long messages)."""
    return ' '.join(text.split())
