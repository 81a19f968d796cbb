"""A long-lived ansible-playbook that runs one step (a list of tasks) at a time, for the module tests.

Starting ansible-playbook costs about two seconds, running a module a fraction of that: the module tests
run every ansible-core of the matrix through one process each, not one process per task. The play loops
over an include whose file name it reads from a FIFO, so each step is read only when the test writes it.
"""

import base64
import errno
import json
import os
import re
import subprocess
import threading
import time

import yaml

from playbook_run import QUIET

# Steps one process runs before the play's loop ends and a new process takes over; the loop's
# includes are made when the play starts, so a larger number costs start-up time.
CAPACITY = 300
STEP_TIMEOUT = 900

_DRIVER = [{
    'name': 'steps written by the tests',
    'hosts': 'localhost',
    'gather_facts': False,
    'tasks': [{'name': 'Run the next step', 'ansible.builtin.include_tasks': 'next.yml',
               'loop': '{{ range(%d) | list }}' % CAPACITY, 'loop_control': {'label': 'step'}}],
}]
_NEXT = [{'name': 'Read the next step', 'ansible.builtin.include_tasks': "{{ lookup('ansible.builtin.file', playbook_dir ~ '/next') }}"}]


class SessionError(AssertionError):
    """ansible-playbook ended or stalled before a step was done."""


class PlaybookSession:
    """ansible-playbook of the virtualenv VENV_BIN on localhost, fed step by step."""

    def __init__(self, venv_bin, workdir, env):
        self.venv_bin = venv_bin
        self.workdir = workdir
        self.env = dict(env, PYTHONUNBUFFERED='1', **QUIET)
        self.steps = 0
        self.proc = None
        self.output = []
        self.lock = threading.Condition()
        os.makedirs(workdir, exist_ok=True)
        with open(os.path.join(workdir, 'driver.yml'), 'w') as f:
            yaml.safe_dump(_DRIVER, f)
        with open(os.path.join(workdir, 'next.yml'), 'w') as f:
            yaml.safe_dump(_NEXT, f)
        self.fifo = os.path.join(workdir, 'next')
        if not os.path.exists(self.fifo):
            os.mkfifo(self.fifo, 0o600)

    def _start(self):
        self.output = []
        self.in_process = 0
        self.read_all = False
        self.proc = subprocess.Popen(
            [os.path.join(self.venv_bin, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local', '-vvv', 'driver.yml'],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=self.env, cwd=self.workdir)
        threading.Thread(target=self._read, args=(self.proc, self.output), daemon=True).start()

    def _read(self, proc, output):
        for line in proc.stdout:
            with self.lock:
                output.append(line)
                self.lock.notify_all()
        with self.lock:
            self.read_all = True
            self.lock.notify_all()

    def _hand_over(self, path):
        """Write the step's path into the FIFO once the play reads it; fail if the process has ended."""
        while True:
            if self.proc.poll() is not None:
                raise SessionError('ansible-playbook exited %s before step %s\n%s'
                                   % (self.proc.returncode, path, ''.join(self.output[-200:])))
            try:
                fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as e:
                if e.errno != errno.ENXIO:  # ENXIO: nobody reads yet
                    raise
                time.sleep(0.01)
                continue
            try:
                os.write(fd, path.encode())
            finally:
                os.close(fd)
            return

    def run(self, tasks, report):
        """Run TASKS, then the debug task REPORT (a Jinja expression) as the step's marker.

        Returns (the value of REPORT, the output of this step alone).
        """
        if self.proc is not None and self.in_process == CAPACITY:
            self.proc.wait(timeout=60)  # the loop is done: the play ends on its own
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        self.steps += 1
        self.in_process += 1
        marker = 'AIRGAP-STEP-%d' % self.steps
        path = os.path.join(self.workdir, 'step-%d.yml' % self.steps)
        done = {'name': 'Report step %d' % self.steps,
                'ansible.builtin.debug': {'msg': '%s {{ (%s) | to_json | b64encode }} END' % (marker, report)}}
        with open(path, 'w') as f:
            yaml.safe_dump(list(tasks) + [done], f)
        start = len(self.output)
        self._hand_over(path)
        pattern = re.compile(r'%s ([A-Za-z0-9+/=]*) END' % marker)
        deadline = time.time() + STEP_TIMEOUT
        scanned = start
        with self.lock:
            while True:
                for end in range(scanned, len(self.output)):
                    found = pattern.search(self.output[end])
                    if found:
                        output = ''.join(self.output[start:end + 1])
                        return json.loads(base64.b64decode(found.group(1))), output
                scanned = len(self.output)
                if self.read_all:
                    raise SessionError('ansible-playbook exited %s in step %d\n%s'
                                       % (self.proc.wait(), self.steps, ''.join(self.output[start:])))
                if time.time() > deadline:
                    raise SessionError('step %d did not end within %ss\n%s'
                                       % (self.steps, STEP_TIMEOUT, ''.join(self.output[start:])))
                self.lock.wait(1)

    def close(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        end = os.path.join(self.workdir, 'end.yml')
        with open(end, 'w') as f:
            yaml.safe_dump([{'name': 'End the steps', 'ansible.builtin.meta': 'end_play'}], f)
        try:
            self._hand_over(end)
            self.proc.wait(timeout=60)
        except (SessionError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


def venv_version(venv_bin):
    """The ansible-core version of the virtualenv whose bin/ is VENV_BIN."""
    return subprocess.run([os.path.join(venv_bin, 'python'), '-c', 'import ansible.release; print(ansible.release.__version__)'],
                          capture_output=True, text=True, check=True).stdout.strip()
