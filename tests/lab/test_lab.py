"""lab/lab.py on this machine: hosts boot with systemd, and down leaves nothing behind, also after a
crash, when nothing is up, and when up fails half way; another lab's bridge is never touched; no sysctl of
the machine changes. Both backends: systemd-nspawn containers and QEMU virtual machines.

Needs root, systemd-nspawn, debootstrap and QEMU (make lab-deps); run by `make test-lab` (`-m 'not vm'` leaves out
the VM test, which takes minutes under software emulation).
"""

import hashlib
import json
import os
import re
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


def host_pids(machine):
    """The systemd-nspawn or QEMU processes of a lab machine."""
    found = []
    for pid in os.listdir('/proc'):
        try:
            with open('/proc/%s/cmdline' % pid, 'rb') as f:
                args = f.read().split(b'\0')
        except OSError:
            continue
        if args and os.path.basename(args[0]) in (b'systemd-nspawn', b'qemu-system-x86_64') and machine.encode() in args:
            found.append(int(pid))
    return found


# Counters and one-shot triggers, which change or cannot be read whatever the lab does.
VOLATILE = re.compile(r'/(random|ns_last_pid|pty/nr|inode-nr|inode-state|file-nr|aio-nr|dentry-state|nf_conntrack_count|'
                      r'quota/|stat_refresh|drop_caches|compact_memory|perf_event_max_sample_rate|sched_domain|'
                      r'(conf|neigh)/(?!all/|default/))')


def sysctls():
    """Every readable setting under /proc/sys but counters and per-interface ones (labs running beside add interfaces)."""
    found = {}
    for dirpath, _dirs, files in os.walk('/proc/sys'):
        for name in files:
            path = os.path.join(dirpath, name)
            if VOLATILE.search(path):
                continue
            try:
                with open(path) as f:
                    found[path] = f.read()
            except OSError:
                pass
    return found


def root_inotify_instances(machine):
    """The inotify instances a lab host's root processes hold: all draw on the machine's 128 per user."""
    count = 0
    for pid in os.listdir('/proc'):
        try:
            with open('/proc/%s/cgroup' % pid) as f:
                if re.search(r'/%s(/|$)' % re.escape(machine), f.read(), re.M) is None:
                    continue
            with open('/proc/%s/status' % pid) as f:
                if re.search(r'^Uid:\s+0\s', f.read(), re.M) is None:
                    continue
            fds = os.listdir('/proc/%s/fd' % pid)
        except OSError:
            continue
        for fd in fds:
            try:
                count += os.readlink('/proc/%s/fd/%s' % (pid, fd)) == 'anon_inode:inotify'
            except OSError:
                pass
    return count


def cpu_shares(state_dir, name):
    """The CPU share of a lab host's cgroups, as 'FILE VALUE' for each cgroup that has one."""
    state = json.loads((state_dir / 'state.json').read_text())
    found = []
    for path in state['cgroups'][name]:
        for file in ('cpu.shares', 'cpu.weight'):
            if os.path.exists(os.path.join(path, file)):
                with open(os.path.join(path, file)) as f:
                    found.append('%s %s' % (file, f.read().strip()))
    return found


def ssh_argv(state_dir, address, command):
    return ['ssh', '-i', str(state_dir / 'id_ed25519'), '-o', 'StrictHostKeyChecking=no', '-o', 'ConnectTimeout=3',
            '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', 'root@' + address, command]


def ssh(state_dir, address, command):
    return subprocess.run(ssh_argv(state_dir, address, command), capture_output=True, text=True, check=False)


def leftovers(state_dir, names):
    """Whatever of a lab is still on the machine."""
    found = []
    if link_exists(BRIDGE):
        found.append('bridge ' + BRIDGE)
    with open('/proc/self/mounts') as f:
        found += ['mount ' + line.split()[1] for line in f if str(state_dir) in line.split()[1]]
    links = subprocess.run(['ip', '-o', 'link', 'show'], capture_output=True, text=True, check=True).stdout
    for name in names:
        machine = '%s-%s' % (BRIDGE, name)
        found += ['process %d' % pid for pid in host_pids(machine)]
        tap = tap_name(machine)
        if ' %s:' % tap in links:
            found.append('tap ' + tap)
        for dirpath, dirs, _files in os.walk('/sys/fs/cgroup'):
            if machine in dirs:
                found.append('cgroup ' + os.path.join(dirpath, machine))
            dirs[:] = [d for d in dirs if d in ('airgap-pypi-mirror-lab',) or not d.startswith(('system.slice', 'user.slice'))]
    for name in ('state.json', 'inventory.yml', 'hosts'):
        if os.path.exists(os.path.join(str(state_dir), name)):
            found.append('file ' + name)
    return found


def tap_name(machine):
    """lab/vm.py's name for a VM's tap device."""
    return 'labtap' + hashlib.sha256(machine.encode()).hexdigest()[:8]


@pytest.fixture
def spec(tmp_path):
    def make(hosts, backend='container'):
        path = tmp_path / 'spec.json'
        path.write_text(json.dumps({'bridge': BRIDGE, 'subnet': '10.231.12', 'backend': backend, 'hosts': hosts}))
        return str(path)
    return make


@pytest.fixture
def state_dir(tmp_path):
    path = tmp_path / 'lab'
    yield path
    lab(path, 'down')


def test_a_host_boots_with_systemd_and_down_leaves_nothing(spec, state_dir):
    before = sysctls()
    up = lab(state_dir, 'up', '--spec', spec([{'name': 'solo', 'groups': ['pypi_mirror_servers']}]))
    assert up.returncode == 0, up.stderr
    inventory = (state_dir / 'inventory.yml').read_text()
    assert 'ansible_host: 10.231.12.10' in inventory and 'lab_controller_address: 10.231.12.1' in inventory
    assert 'lab_backend: container' in inventory
    answer = ssh(state_dir, '10.231.12.10', 'cat /proc/1/comm; systemctl is-system-running; uname -r')
    assert answer.stdout.split() == ['systemd', 'running', os.uname().release]
    # Twenty hosts at once fit in the 128 (make test boots up to fifteen), with an SSH session open.
    session = subprocess.Popen(ssh_argv(state_dir, '10.231.12.10', 'sleep 5'))
    time.sleep(2)
    held = root_inotify_instances('%s-solo' % BRIDGE)
    session.wait()
    assert 0 < held <= 6, held
    down = lab(state_dir, 'down')
    assert down.returncode == 0, down.stderr
    assert leftovers(state_dir, ['solo']) == []
    assert sysctls() == before


def test_a_host_comes_back_after_a_hard_power_off_and_an_unplugged_cable(spec, state_dir):
    assert lab(state_dir, 'up', '--spec', spec([{'name': 'plug'}])).returncode == 0, 'up failed'
    before = ssh(state_dir, '10.231.12.10', 'cat /proc/sys/kernel/random/boot_id /proc/1/stat; echo kept > /root/written')
    assert before.returncode == 0, before.stderr
    hard = lab(state_dir, 'restart', '--hard', 'plug')
    assert hard.returncode == 0, hard.stderr
    assert 'host plug restarted after a hard power-off' in hard.stderr + hard.stdout
    after = ssh(state_dir, '10.231.12.10', 'cat /proc/sys/kernel/random/boot_id /proc/1/stat; cat /root/written; systemctl is-system-running')
    # A container shares this machine's kernel (the same boot id): its systemd is a new process with its disk kept.
    assert after.stdout.split('\n')[1] != before.stdout.split('\n')[1]
    assert after.stdout.split('\n')[2:4] == ['kept', 'running']

    unplug = lab(state_dir, 'unplug', 'plug')
    assert unplug.returncode == 0, unplug.stderr
    cut = ssh(state_dir, '10.231.12.10', 'true')
    assert cut.returncode == 255 and 'timed out' in cut.stderr
    assert lab(state_dir, 'plug', 'plug').returncode == 0
    assert ssh(state_dir, '10.231.12.10', 'systemctl is-system-running').stdout.strip() == 'running'
    assert lab(state_dir, 'down').returncode == 0
    assert leftovers(state_dir, ['plug']) == []


@pytest.mark.vm
def test_a_vm_boots_its_own_kernel_reboots_and_down_after_a_crash_leaves_nothing(spec, state_dir):
    before = sysctls()
    up = lab(state_dir, 'up', '--spec', spec([{'name': 'vm1'}], backend='vm'))
    assert up.returncode == 0, up.stderr
    # The log and the inventory say whether KVM or software emulation runs the VMs.
    accel = re.search(r'VMs with (KVM|software emulation \(TCG\))', up.stderr)
    assert accel, up.stderr
    inventory = (state_dir / 'inventory.yml').read_text()
    assert 'lab_backend: vm' in inventory
    assert 'lab_accel: %s' % ('kvm' if accel.group(1) == 'KVM' else 'tcg') in inventory
    release = re.search(r'lab_kernel_release: (\S+)', inventory).group(1)
    # Emulation costs a VM many times a container's CPU: its cgroup has eight times the default share.
    assert cpu_shares(state_dir, 'vm1') in (['cpu.shares 8192'], ['cpu.weight 800'])
    answer = ssh(state_dir, '10.231.12.10', 'cat /proc/1/comm; systemctl is-system-running; uname -r; '
                 'echo kept > /root/marker; sync; cat /proc/sys/kernel/random/boot_id; ip route show default')
    systemd, running, guest_release, boot_id = answer.stdout.split()
    # systemd on Debian's kernel, not this machine's; no default route (nothing after the boot id).
    assert (systemd, running, guest_release) == ('systemd', 'running', release)
    assert release != os.uname().release
    # A reboot: ACPI power-off (the guest's kernel says so on its console), then the same disk boots again.
    restart = lab(state_dir, 'restart', 'vm1')
    assert restart.returncode == 0, restart.stderr
    assert 'reboot: Power down' in (state_dir / 'logs' / 'vm1.console.log').read_text(errors='replace')
    again = ssh(state_dir, '10.231.12.10', 'cat /root/marker /proc/sys/kernel/random/boot_id')
    assert again.stdout.split()[0] == 'kept' and again.stdout.split()[1] != boot_id
    # Then it dies as in a crash (its QEMU killed), and down still leaves nothing: no process, tap, disk or state.
    for pid in host_pids('%s-vm1' % BRIDGE):
        os.kill(pid, signal.SIGKILL)
    down = lab(state_dir, 'down')
    assert down.returncode == 0, down.stderr
    assert leftovers(state_dir, ['vm1']) == []
    assert sysctls() == before


def test_down_after_a_crash_leaves_nothing(spec, state_dir):
    assert lab(state_dir, 'up', '--spec', spec([{'name': 'crash'}])).returncode == 0
    for pid in host_pids('%s-crash' % BRIDGE):
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
