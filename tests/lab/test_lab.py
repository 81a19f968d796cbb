"""lab/lab.py on this machine: hosts boot with systemd, and down leaves nothing behind, also after a
crash, when nothing is up, and when up fails half way; another lab's bridge is never touched.

Needs root, systemd-nspawn and debootstrap (make lab-deps); run by `make test-lab`.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB = [sys.executable, os.path.join(REPO, 'lab', 'lab.py')]
BRIDGE = 'agltest0'


def lab(state_dir, *args):
    return subprocess.run(LAB + list(args), env=dict(os.environ, LAB_DIR=str(state_dir)),
                          capture_output=True, text=True, check=False)


def link_exists(name):
    return subprocess.run(['ip', 'link', 'show', name], capture_output=True, check=False).returncode == 0


def nspawn_pids(machine):
    found = []
    for pid in os.listdir('/proc'):
        try:
            with open('/proc/%s/cmdline' % pid, 'rb') as f:
                args = f.read().split(b'\0')
        except OSError:
            continue
        if args and os.path.basename(args[0]) == b'systemd-nspawn' and machine.encode() in args:
            found.append(int(pid))
    return found


def leftovers(state_dir, names):
    """Whatever of a lab is still on the machine."""
    found = []
    if link_exists(BRIDGE):
        found.append('bridge ' + BRIDGE)
    with open('/proc/self/mounts') as f:
        found += ['mount ' + line.split()[1] for line in f if str(state_dir) in line.split()[1]]
    for name in names:
        machine = '%s-%s' % (BRIDGE, name)
        found += ['process %d' % pid for pid in nspawn_pids(machine)]
        for dirpath, dirs, _files in os.walk('/sys/fs/cgroup'):
            if machine in dirs:
                found.append('cgroup ' + os.path.join(dirpath, machine))
            dirs[:] = [d for d in dirs if d in ('airgap-pypi-mirror-lab',) or not d.startswith(('system.slice', 'user.slice'))]
    for name in ('state.json', 'inventory.yml', 'hosts'):
        if os.path.exists(os.path.join(str(state_dir), name)):
            found.append('file ' + name)
    return found


@pytest.fixture
def spec(tmp_path):
    def make(hosts):
        path = tmp_path / 'spec.json'
        path.write_text(json.dumps({'bridge': BRIDGE, 'subnet': '10.231.12', 'hosts': hosts}))
        return str(path)
    return make


@pytest.fixture
def state_dir(tmp_path):
    path = tmp_path / 'lab'
    yield path
    lab(path, 'down')


def test_a_host_boots_with_systemd_and_down_leaves_nothing(spec, state_dir):
    up = lab(state_dir, 'up', '--spec', spec([{'name': 'solo', 'groups': ['pypi_mirror_servers']}]))
    assert up.returncode == 0, up.stderr
    inventory = (state_dir / 'inventory.yml').read_text()
    assert 'ansible_host: 10.231.12.10' in inventory and 'lab_controller_address: 10.231.12.1' in inventory
    ssh = subprocess.run(['ssh', '-i', str(state_dir / 'id_ed25519'), '-o', 'StrictHostKeyChecking=no',
                          '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', 'root@10.231.12.10',
                          'cat /proc/1/comm; systemctl is-system-running'], capture_output=True, text=True, check=False)
    assert ssh.stdout.split() == ['systemd', 'running']
    down = lab(state_dir, 'down')
    assert down.returncode == 0, down.stderr
    assert leftovers(state_dir, ['solo']) == []


def test_down_after_a_crash_leaves_nothing(spec, state_dir):
    assert lab(state_dir, 'up', '--spec', spec([{'name': 'crash'}])).returncode == 0
    for pid in nspawn_pids('%s-crash' % BRIDGE):
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    assert lab(state_dir, 'down').returncode == 0
    assert leftovers(state_dir, ['crash']) == []


def test_down_when_nothing_is_up_touches_no_other_lab(state_dir):
    subprocess.run(['ip', 'link', 'add', BRIDGE, 'type', 'bridge'], check=True)
    try:
        down = lab(state_dir, 'down')
        assert down.returncode == 0
        assert link_exists(BRIDGE)
    finally:
        subprocess.run(['ip', 'link', 'del', BRIDGE], check=False)


def test_up_refuses_a_bridge_it_does_not_own_and_leaves_it(spec, state_dir):
    subprocess.run(['ip', 'link', 'add', BRIDGE, 'type', 'bridge'], check=True)
    try:
        up = lab(state_dir, 'up', '--spec', spec([{'name': 'other'}]))
        assert up.returncode == 1
        assert 'bridge %s exists already' % BRIDGE in up.stderr
        assert link_exists(BRIDGE)
        assert not (state_dir / 'state.json').exists()
    finally:
        subprocess.run(['ip', 'link', 'del', BRIDGE], check=False)


def test_up_cleans_up_when_it_fails_half_way(spec, state_dir):
    # The first host boots; the second never gets its address, so it never answers.
    hosts = [{'name': 'good'}, {'name': 'bad', 'address': '10.231.12.300'}]
    up = lab(state_dir, 'up', '--spec', spec(hosts))
    assert up.returncode == 1
    assert 'cleaning up' in up.stderr
    assert leftovers(state_dir, ['good', 'bad']) == []
