"""The one way the tests run a playbook and read its result: pytest suites, Molecule verifiers and bench/."""

import os
import re
import subprocess
import sys

BIN = os.path.dirname(sys.executable)
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Molecule's verifier runs inside a scenario: its inventory is the default there.
INVENTORY = os.path.dirname(os.environ.get('MOLECULE_INVENTORY_FILE', '')) or None
# The recap is parsed, so colour is off whatever Molecule forces.
QUIET = dict(ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0', ANSIBLE_LOCALHOST_WARNING='0',
             ANSIBLE_INVENTORY_UNPARSED_WARNING='0', ANSIBLE_RETRY_FILES_ENABLED='0')
_RECAP = re.compile(r'^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', re.M)


class PlaybookRun:
    """A finished ansible-playbook: its exit code, output, and each host's recap."""

    def __init__(self, proc):
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.recap = dict((m.group(1), dict(ok=int(m.group(2)), changed=int(m.group(3)), unreachable=int(m.group(4)),
                                            failed=int(m.group(5)))) for m in _RECAP.finditer(proc.stdout))

    @property
    def changed(self):
        """{host: number of changed tasks}."""
        return dict((host, counts['changed']) for host, counts in self.recap.items())

    @property
    def failed(self):
        """{host: number of failed tasks}."""
        return dict((host, counts['failed']) for host, counts in self.recap.items())

    def changed_tasks(self, host):
        """The names of the tasks that reported changed on HOST, in order, for a message."""
        tasks, task = [], None
        for line in self.stdout.splitlines():
            if line.startswith(('TASK [', 'RUNNING HANDLER [')):
                task = line[line.index('[') + 1:line.rindex(']')]
            elif line.startswith('changed: [%s]' % host) or line.startswith('changed: [%s ->' % host):
                tasks.append(task)
        return tasks

    @property
    def text(self):
        """stdout and stderr with the callback's line folding undone, for messages."""
        return flat(self.stdout + self.stderr)

    def __repr__(self):
        return 'ansible-playbook exited %s\n%s\n%s' % (self.returncode, self.stdout, self.stderr)


def flat(text):
    """Output with its line folding undone: the callback folds long messages, after a hyphen too."""
    return ' '.join(re.sub(r'(?<=\w-)\n\s*', '', text).split())


def run_playbook(playbook, *args, inventory=INVENTORY, env=None, cwd=None):
    """ansible-playbook PLAYBOOK (a path, a name in playbooks/, or airgap.pypi_mirror.NAME) with ARGS."""
    return start_playbook(playbook, *args, inventory=inventory, env=env, cwd=cwd).finish()


class StartedPlaybook:
    """An ansible-playbook running in the background; finish() waits for it and gives its PlaybookRun."""

    def __init__(self, command, environment, cwd):
        self.command = command
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=environment, cwd=cwd)

    def running(self):
        return self.proc.poll() is None

    def finish(self):
        stdout, stderr = self.proc.communicate()
        return PlaybookRun(subprocess.CompletedProcess(self.command, self.proc.returncode, stdout, stderr))


def start_playbook(playbook, *args, inventory=INVENTORY, env=None, cwd=None):
    """run_playbook's playbook, started in the background (to strike while it runs)."""
    if not os.path.isabs(playbook) and '/' not in playbook and not playbook.startswith('airgap.'):
        playbook = os.path.join(REPO, 'playbooks', playbook)
    command = [_ansible_playbook(), playbook] + list(args)
    if inventory:
        command[1:1] = ['-i', inventory]
    return StartedPlaybook(command, dict(os.environ if env is None else env, **QUIET), cwd)


def _ansible_playbook():
    """The ansible-playbook beside this Python (the test venv), else the one on PATH (Molecule's)."""
    beside = os.path.join(BIN, 'ansible-playbook')
    return beside if os.path.exists(beside) else 'ansible-playbook'
