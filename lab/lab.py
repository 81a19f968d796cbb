#!/usr/bin/env python
"""A lab of real systemd hosts for the collection's tests: systemd-nspawn containers or QEMU VMs on a private bridge.

    lab.py up [--spec FILE]   build (or reuse) the root filesystem, boot the hosts, write .lab/inventory.yml
    lab.py down               stop everything the lab started, by PID; works when nothing is up and after a crash
    lab.py status             what is up
    lab.py restart NAME       power a host off and boot it again, its disk kept (a reboot)
    lab.py restart --hard NAME  the same, with the plug pulled: every process of the host killed at once, no shutdown
    lab.py unplug NAME        pull the host's network cable (its link on the lab's bridge goes down); plug NAME: back
    lab.py address NAME       print a host's address
    lab.py build [--suite S]  only build the cached root filesystem (with LAB_BACKEND=vm, the VM image)
    lab.py check              say what this machine lacks to run the lab, if anything

The backend is systemd-nspawn containers (`container`, the default: they share this machine's kernel) or
QEMU virtual machines with Debian's own kernel (`vm`, lab/vm.py): LAB_BACKEND=vm, or "backend" in the spec;
LAB_BACKEND wins when set.

The hosts and their groups come from lab/hosts.json, or from --spec (Molecule's create playbook
hands its platforms over that way). Each host boots systemd as PID 1 in cgroups of its own, on a
bridge of the lab's own with static addresses, no NAT and no route anywhere else: the air gap.
Nothing here changes a sysctl of the machine. Standard library only; run as root.
"""

import argparse
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import vm

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
STATE_DIR = os.environ.get('LAB_DIR', os.path.join(REPO, '.lab'))
STATE_FILE = os.path.join(STATE_DIR, 'state.json')
CACHE_DIR = os.environ.get('LAB_CACHE', '/var/cache/airgap-pypi-mirror-lab')
CGROUP_ROOT = '/sys/fs/cgroup'
CGROUP_NAME = 'airgap-pypi-mirror-lab'
NSPAWN_RUN_DIR = '/run/systemd/nspawn'

# What the site's offline OS repository would give the hosts; Python packages come only through the mirror.
PACKAGES = [
    'systemd', 'systemd-sysv', 'dbus', 'openssh-server', 'python3', 'python3-venv', 'python3-pip',
    'python3-apt', 'iproute2', 'procps', 'nginx', 'openssl', 'ca-certificates', 'netbase', 'less',
    # firewalld's polkitd needs a logind, which libpam-systemd provides.
    'firewalld', 'libpam-systemd',
]
# Bump when the root filesystem is prepared differently, so the cache key changes.
ROOTFS_RECIPE = 5
# Every root process of every container draws on this machine's 128 inotify instances per user
# (fs.inotify.max_user_instances, left as it is): the units that hold some and a lab host does not need
# (consoles' getty, a user manager per login, the password agents' path units) are masked in each container.
CONTAINER_MASKED_UNITS = ('console-getty.service', 'container-getty@.service', 'user@.service',
                          'systemd-ask-password-console.path', 'systemd-ask-password-wall.path')


BACKENDS = ('container', 'vm')


class LabError(Exception):
    pass


def log(msg):
    print('lab: %s' % msg, file=sys.stderr, flush=True)


def run(cmd, check=True, **kwargs):
    return subprocess.run(cmd, check=check, **kwargs)


# -- configuration ------------------------------------------------------------------------

def load_spec(path=None):
    with open(path or os.path.join(HERE, 'hosts.json')) as f:
        spec = json.load(f)
    hosts = spec.get('hosts') or []
    if not hosts:
        raise LabError('the lab spec names no hosts')
    names = [h['name'] for h in hosts]
    if len(set(names)) != len(names):
        raise LabError('host names repeat in the lab spec: %s' % ', '.join(names))
    for host in hosts:
        if not re.match(r'^[a-z][a-z0-9-]{0,30}$', host['name']):
            raise LabError("host name '%s' must be lower case letters, digits and '-'" % host['name'])
        host.setdefault('suite', spec.get('suite', 'bookworm'))
        host.setdefault('groups', [])
    spec['backend'] = os.environ.get('LAB_BACKEND') or spec.get('backend') or 'container'
    if spec['backend'] not in BACKENDS:
        raise LabError("backend '%s' (LAB_BACKEND or the spec's \"backend\") must be one of: %s"
                       % (spec['backend'], ', '.join(BACKENDS)))
    spec.setdefault('bridge', 'airgaplab0')
    spec.setdefault('subnet', '10.231.7')
    if not re.match(r'^\d{1,3}\.\d{1,3}\.\d{1,3}$', spec['subnet']):
        raise LabError("subnet '%s' must be the first three numbers of a /24, like 10.231.7" % spec['subnet'])
    for number, host in enumerate(hosts):
        host.setdefault('address', '%s.%d' % (spec['subnet'], 10 + number))
    spec['controller'] = '%s.1' % spec['subnet']
    return spec


def debian_mirror():
    """The Debian mirror apt on this machine already uses: read at run time, never written in the repo."""
    candidates = []
    sources_d = '/etc/apt/sources.list.d'
    for name in sorted(os.listdir(sources_d)) if os.path.isdir(sources_d) else []:
        if name.endswith('.sources'):
            with open(os.path.join(sources_d, name)) as f:
                for stanza in f.read().split('\n\n'):
                    uris = re.search(r'^URIs:\s*(\S+)', stanza, re.M)
                    suites = re.search(r'^Suites:\s*(.+)$', stanza, re.M)
                    if uris and suites and not any('security' in s for s in suites.group(1).split()):
                        candidates.append(uris.group(1))
    if os.path.exists('/etc/apt/sources.list'):
        with open('/etc/apt/sources.list') as f:
            for line in f:
                found = re.match(r'^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+(\S+)', line)
                if found and 'security' not in found.group(2):
                    candidates.append(found.group(1))
    if not candidates:
        raise LabError('no Debian mirror found in /etc/apt/sources.list or /etc/apt/sources.list.d/*.sources')
    return candidates[0]


# -- root filesystem ----------------------------------------------------------------------

def rootfs_key(suite, packages=None, recipe=None):
    text = json.dumps([suite, sorted(packages or PACKAGES), ROOTFS_RECIPE] + ([recipe] if recipe else []))
    return '%s-%s' % (suite, hashlib.sha256(text.encode()).hexdigest()[:12])


def rootfs_path(suite):
    return os.path.join(CACHE_DIR, 'rootfs-' + rootfs_key(suite))


def vm_image_path(suite):
    return os.path.join(CACHE_DIR, 'vmimage-' + rootfs_key(suite, PACKAGES + vm.KERNEL_PACKAGES, vm.IMAGE_RECIPE))


def build_rootfs(suite):
    """debootstrap once per package list; later calls reuse the cached tree."""
    return cached(suite, rootfs_path(suite), _build_container_rootfs)


def build_vm_image(suite):
    """The containers' root filesystem plus Debian's kernel, as a disk image with the kernel and initramfs beside it."""
    if vm.missing():
        raise LabError('VMs need %s' % '; '.join(vm.missing()))
    return vm.image_files(cached(suite, vm_image_path(suite), _build_vm_image))


def cached(suite, final, build):
    """FINAL when it is complete; else BUILD(suite, work, final) makes it in a new directory, then moved there."""
    if os.path.exists(os.path.join(final, '.lab-complete')):
        return final
    for tool in ('debootstrap', 'systemd-nspawn'):
        if not shutil.which(tool):
            raise LabError('%s is missing: apt-get install debootstrap systemd-container' % tool)
    os.makedirs(CACHE_DIR, exist_ok=True)
    # Labs that start side by side (Molecule's lanes) build a missing tree once: the others wait, then reuse it.
    with open(os.path.join(CACHE_DIR, '.build-%s.lock' % os.path.basename(final).rsplit('-', 1)[0]), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(os.path.join(final, '.lab-complete')):
            return final
        work = tempfile.mkdtemp(prefix='build-%s-' % suite, dir=CACHE_DIR)
        start = time.time()
        try:
            build(suite, work, final)
            with open(os.path.join(work, '.lab-complete'), 'w') as f:
                f.write('%s built in %.0f s\n' % (os.path.basename(final), time.time() - start))
            shutil.rmtree(final, ignore_errors=True)
            os.rename(work, final)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        log('%s built in %.0f s' % (final, time.time() - start))
        prune(final)
        return final


def debootstrap(suite, target, packages):
    mirror = debian_mirror()
    run(['debootstrap', '--variant=minbase', '--include=' + ','.join(packages), suite, target, mirror],
        stdout=subprocess.DEVNULL)
    prepare_rootfs(target)


def _build_container_rootfs(suite, work, final):
    log('building the %s root filesystem with debootstrap (cached afterwards in %s)' % (suite, final))
    debootstrap(suite, work, PACKAGES)


def _build_vm_image(suite, work, final):
    log('building the %s VM image: debootstrap with Debian\'s kernel, then an ext4 image (cached afterwards in %s)'
        % (suite, final))
    tree = os.path.join(work, 'tree')
    os.mkdir(tree)
    debootstrap(suite, tree, PACKAGES + vm.KERNEL_PACKAGES)
    vm.prepare_tree(tree)
    vm.make_image(tree, work)
    shutil.rmtree(tree)


def prune(current):
    """Remove the cached trees and images of other package lists of the same kind and suite, unless a lab uses one."""
    kind_and_suite = os.path.basename(current).rsplit('-', 1)[0] + '-'
    with open('/proc/self/mounts') as f:
        in_use = f.read()
    in_use += ''.join(vm_command_lines())
    for name in os.listdir(CACHE_DIR):
        path = os.path.join(CACHE_DIR, name)
        if name.startswith(kind_and_suite) and path != current and path + '/' not in in_use and \
                'lowerdir=%s' % path not in in_use:
            log('removing the outdated %s' % path)
            shutil.rmtree(path, ignore_errors=True)


def vm_command_lines():
    """The command lines of the QEMU processes on this machine (a running VM reads its image)."""
    found = []
    for pid in os.listdir('/proc'):
        if pid.isdigit():
            try:
                with open('/proc/%s/cmdline' % pid, 'rb') as f:
                    args = f.read().split(b'\0')
            except OSError:
                continue
            if vm.is_qemu(args):
                found.append(b' '.join(args).decode(errors='replace'))
    return found


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)
    os.chmod(path, mode)


def prepare_rootfs(root):
    """What every lab host has, whatever its address or key."""
    write(os.path.join(root, 'etc/fstab'), '')
    write(os.path.join(root, 'etc/ssh/sshd_config.d/lab.conf'),
          '# No reverse lookups: the lab has no DNS.\nUseDNS no\nPermitRootLogin prohibit-password\n')
    # The lab has no resolver; an empty resolv.conf makes lookups fail at once instead of waiting.
    os.makedirs(os.path.join(root, 'etc'), exist_ok=True)
    if os.path.lexists(os.path.join(root, 'etc/resolv.conf')):
        os.remove(os.path.join(root, 'etc/resolv.conf'))
    write(os.path.join(root, 'etc/resolv.conf'), '')
    run(['systemctl', '--root', root, 'enable', 'systemd-networkd.service', 'ssh.service'],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Installed but stopped: a scenario that wants the firewall starts it (the others test "not running").
    run(['systemctl', '--root', root, 'disable', 'firewalld.service'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run(['systemctl', '--root', root, 'mask', 'systemd-networkd-wait-online.service', 'apt-daily.timer',
         'apt-daily-upgrade.timer', 'systemd-resolved.service', 'getty@tty1.service',
         'e2scrub_all.timer', 'fstrim.timer', 'man-db.timer'],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Host keys are made per host at first boot; none may travel in the cache.
    for name in os.listdir(os.path.join(root, 'etc/ssh')):
        if name.startswith('ssh_host_'):
            os.remove(os.path.join(root, 'etc/ssh', name))
    write(os.path.join(root, 'etc/systemd/system/ssh.service.d/hostkeys.conf'),
          '[Service]\nExecStartPre=\nExecStartPre=/usr/bin/ssh-keygen -A\nExecStartPre=/usr/sbin/sshd -t\n')


# -- state -------------------------------------------------------------------------------

def load_state():
    if not os.path.exists(STATE_FILE):
        return None
    with open(STATE_FILE) as f:
        return json.load(f)


def save_state(state):
    os.makedirs(STATE_DIR, exist_ok=True)
    tmp = STATE_FILE + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(state, f, indent=2)
    os.replace(tmp, STATE_FILE)


# -- network ------------------------------------------------------------------------------

def link_exists(name):
    return run(['ip', 'link', 'show', name], check=False, stdout=subprocess.DEVNULL,
               stderr=subprocess.DEVNULL).returncode == 0


def create_bridge(spec):
    bridge = spec['bridge']
    if link_exists(bridge):
        raise LabError('bridge %s exists already: is a lab up? (make lab-down)' % bridge)
    run(['ip', 'link', 'add', bridge, 'type', 'bridge'])
    run(['ip', 'addr', 'add', '%s/24' % spec['controller'], 'dev', bridge])
    run(['ip', 'link', 'set', bridge, 'up'])


# -- cgroups ------------------------------------------------------------------------------

def cgroup_hierarchies():
    """{mount point: this process's cgroup in it} for every hierarchy under /sys/fs/cgroup.

    The lab's cgroups go below the caller's own, so whatever limits the caller has, the hosts have too.
    """
    own = {}
    with open('/proc/self/cgroup') as f:
        for line in f:
            _number, controllers, path = line.rstrip('\n').split(':', 2)
            own[controllers] = path
    found = {}
    with open('/proc/self/mounts') as f:
        for line in f:
            fields = line.split()
            if not fields[1].startswith(CGROUP_ROOT + '/'):
                continue
            if fields[2] == 'cgroup2':
                key = ''
            elif fields[2] == 'cgroup':
                options = fields[3].split(',')
                key = next((k for k in own if k and set(k.split(',')) <= set(options)), None)
            else:
                continue
            if key is not None and key in own:
                found[fields[1]] = own[key].lstrip('/')
    return found


def lab_cgroups(name):
    """This host's cgroup directory in every hierarchy."""
    return [os.path.join(mount, own, CGROUP_NAME, name) for mount, own in cgroup_hierarchies().items()]


def make_cgroup(path):
    """mkdir -p, giving each new cpuset cgroup its parent's CPUs and memory nodes (v1 cpusets start empty)."""
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        make_cgroup(parent)
    if not os.path.isdir(path):
        os.mkdir(path)
    for name in ('cpuset.cpus', 'cpuset.mems'):
        mine = os.path.join(path, name)
        if os.path.exists(mine):
            with open(mine) as f:
                if f.read().strip():
                    continue
            with open(os.path.join(parent, name)) as f:
                value = f.read().strip()
            with open(mine, 'w') as f:
                f.write(value)


def set_cpu_weight(path, multiple):
    """The cgroup's CPU share in multiples of the default, where the cpu controller is (v2 cpu.weight, v1 cpu.shares)."""
    for name, default in (('cpu.weight', 100), ('cpu.shares', 1024)):
        if os.path.exists(os.path.join(path, name)):
            with open(os.path.join(path, name), 'w') as f:
                f.write(str(default * multiple))


def enter_cgroups(paths):
    """Runs in the child before exec: move this process into cgroups of its own in every hierarchy."""
    def move():
        for path in paths:
            with open(os.path.join(path, 'cgroup.procs'), 'w') as f:
                f.write('0')
    return move


def cgroup_pids(paths):
    """Every process in these cgroup trees."""
    pids = set()
    for path in paths:
        for dirpath, _dirs, files in os.walk(path):
            if 'cgroup.procs' in files:
                with open(os.path.join(dirpath, 'cgroup.procs')) as f:
                    pids.update(int(line) for line in f if line.strip())
    return pids


def kill_cgroups(paths):
    """SIGKILL what is left in a host's own cgroups: a host whose systemd-nspawn died (a crash) keeps running there."""
    deadline = time.time() + 10
    while time.time() < deadline:
        pids = cgroup_pids(paths)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.2)
    log('processes left in %s: %s' % (', '.join(paths), sorted(cgroup_pids(paths))))


def remove_cgroups(paths):
    """rmdir each cgroup tree, deepest first: systemd in the container makes its own tree below ours."""
    for path in paths:
        if not os.path.isdir(path):
            continue
        for dirpath, _dirs, _files in sorted(os.walk(path), key=lambda w: -w[0].count('/')):
            try:
                os.rmdir(dirpath)
            except OSError as e:
                log('cannot remove cgroup %s: %s' % (dirpath, e))
        parent = os.path.dirname(path)
        if os.path.basename(parent) == CGROUP_NAME:
            try:
                os.rmdir(parent)
            except OSError:
                pass


# -- hosts --------------------------------------------------------------------------------

def host_dir(name):
    return os.path.join(STATE_DIR, 'hosts', name)


def console_tail(name, lines=25):
    """The end of a host's console, for an error: a scenario's lab directory may be gone when somebody reads it."""
    try:
        with open(console_log(name), 'rb') as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 16384))
            tail = f.read().decode(errors='replace').splitlines()[-lines:]
    except OSError:
        return ''
    return '\n--- the end of %s ---\n%s' % (console_log(name), '\n'.join(tail))


def console_log(name):
    """The host's console, kept after down so a failed boot can be read."""
    os.makedirs(os.path.join(STATE_DIR, 'logs'), exist_ok=True)
    return os.path.join(STATE_DIR, 'logs', name + '.console.log')


def identity_files(host, spec, pubkey):
    """{path: (mode, text)}: what makes a booted root filesystem this lab host, whichever the backend."""
    hosts = ['127.0.0.1 localhost', '%s controller' % spec['controller']]
    hosts += ['%s %s' % (h['address'], h['name']) for h in spec['hosts']]
    return {
        'etc/hostname': (0o644, host['name'] + '\n'),
        'etc/hosts': (0o644, '\n'.join(hosts) + '\n'),
        # A static address and nothing else: no gateway, so nothing beyond the lab is routable.
        'etc/systemd/network/10-host0.network': (
            0o644, '[Match]\nName=host0\n\n[Network]\nAddress=%s/24\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n'
            % host['address']),
        'root/.ssh/authorized_keys': (0o600, pubkey),
    }


def prepare_overlay(host, spec, rootfs, pubkey):
    base = host_dir(host['name'])
    upper, work, merged = (os.path.join(base, d) for d in ('upper', 'work', 'merged'))
    for d in (upper, work, merged):
        os.makedirs(d, exist_ok=True)
    for path, (mode, text) in identity_files(host, spec, pubkey).items():
        write(os.path.join(upper, path), text, mode=mode)
    os.chmod(os.path.join(upper, 'root/.ssh'), 0o700)
    write(os.path.join(upper, 'etc/machine-id'), hashlib.md5(host['name'].encode()).hexdigest() + '\n', mode=0o444)
    os.makedirs(os.path.join(upper, 'etc/systemd/system'), exist_ok=True)
    for unit in CONTAINER_MASKED_UNITS:
        os.symlink('/dev/null', os.path.join(upper, 'etc/systemd/system', unit))
    run(['mount', '-t', 'overlay', 'overlay', '-o',
         'lowerdir=%s,upperdir=%s,workdir=%s' % (rootfs, upper, work), merged])


def start(cmd, name, cgroups, cpu_weight=1):
    """Start a host's process (systemd-nspawn or QEMU) in cgroups of its own, its console to the host's log.

    cpu_weight: the host's CPU share beside the lab's other hosts, in multiples of the default.
    """
    for path in cgroups:
        make_cgroup(path)
        set_cpu_weight(path, cpu_weight)
    with open(console_log(name), 'ab') as console:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT,
                                preexec_fn=enter_cgroups(cgroups), start_new_session=True)
    return proc.pid


def boot(host, state):
    """Boot one host of the lab in STATE with its backend; its disk or overlay is ready."""
    machine = machine_name(state['bridge'], host['name'])
    if state.get('backend') == 'vm':
        cmd = vm.command(machine, host['name'], host_dir(host['name']), state['images'][host['suite']], state['accel'])
    else:
        cmd = ['systemd-nspawn', '--boot', '--directory', os.path.join(host_dir(host['name']), 'merged'),
               '--machine', machine, '--hostname', host['name'], '--register=no', '--keep-unit',
               '--network-bridge', state['bridge'], '--console=passive', '--resolv-conf=off', '--timezone=off',
               '--link-journal=no']
    return start(cmd, host['name'], state['cgroups'][host['name']],
                 cpu_weight=vm.CPU_WEIGHT if state.get('backend') == 'vm' else 1)


def ssh_base(state):
    return ['ssh', '-i', state['key'], '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
            '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=2', '-o', 'BatchMode=yes']


def wait_running(state):
    """Until systemctl is-system-running answers 'running' on every host."""
    timeout = vm.BOOT_TIMEOUT if state.get('backend') == 'vm' else 60
    deadline = time.time() + timeout
    pending = {h['name']: h for h in state['hosts']}
    last = {}
    while pending and time.time() < deadline:
        for name, host in list(pending.items()):
            pid = state['pids'].get(name)
            if not pid_is_ours(pid, machine_name(state['bridge'], name)):
                raise LabError('host %s stopped while booting%s' % (name, console_tail(name)))
            out = run(ssh_base(state) + ['root@' + host['address'], 'systemctl', 'is-system-running'],
                      check=False, capture_output=True, text=True)
            last[name] = out.stdout.strip() or out.stderr.strip()
            if last[name] == 'running':
                del pending[name]
            elif last[name] == 'degraded':
                failed = run(ssh_base(state) + ['root@' + host['address'], 'systemctl', '--failed', '--no-legend'],
                             check=False, capture_output=True, text=True).stdout
                raise LabError('host %s booted degraded: %s%s' % (name, failed.strip(), console_tail(name)))
        if pending:
            time.sleep(0.3)
    if pending:
        raise LabError('hosts not running after %ss: %s%s' % (timeout, ', '.join('%s (%s)' % (n, last.get(n)) for n in pending),
                                                              ''.join(console_tail(n) for n in pending)))


def machine_name(bridge, name):
    """systemd-nspawn's machine name: unique per lab, so two labs (make lab, a Molecule scenario) can share host names."""
    return '%s-%s' % (bridge, name)


def pid_is_ours(pid, machine):
    """Only a systemd-nspawn or QEMU of this lab's machine counts: never signal a PID that was reused."""
    if not pid:
        return False
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            cmdline = f.read().split(b'\0')
    except OSError:
        return False
    ours = bool(cmdline) and (os.path.basename(cmdline[0]) == b'systemd-nspawn' or vm.is_qemu(cmdline))
    return ours and machine.encode() in cmdline


# -- inventory ----------------------------------------------------------------------------

def write_inventory(state):
    groups = {}
    for host in state['hosts']:
        for group in host['groups']:
            groups.setdefault(group, []).append(host['name'])
    lines = ['# Written by lab/lab.py up; removed by lab/lab.py down.', 'all:', '  vars:',
             '    ansible_user: root',
             '    ansible_ssh_private_key_file: %s' % state['key'],
             "    ansible_ssh_common_args: '-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR'",
             '    ansible_ssh_pipelining: true',
             '    ansible_python_interpreter: /usr/bin/python3',
             '    lab_controller_address: %s' % state['controller'],
             '    lab_backend: %s' % state.get('backend', 'container')]
    if state.get('backend') == 'vm':
        lines.append('    lab_accel: %s' % state['accel'])
    lines.append('  hosts:')
    for host in state['hosts']:
        lines += ['    %s:' % host['name'], '      ansible_host: %s' % host['address'],
                  '      lab_suite: %s' % host['suite']]
        if state.get('backend') == 'vm':
            lines.append('      lab_kernel_release: %s' % state['images'][host['suite']]['release'])
    if groups:
        lines.append('  children:')
        for group, members in sorted(groups.items()):
            lines += ['    %s:' % group, '      hosts:'] + ['        %s:' % m for m in members]
    path = os.path.join(STATE_DIR, 'inventory.yml')
    write(path, '\n'.join(lines) + '\n')
    return path


def missing(backend='container'):
    """What this machine lacks to run the lab, as sentences; empty when it has everything."""
    problems = vm.missing() if backend == 'vm' else []
    if os.geteuid() != 0:
        problems.append('root (systemd-nspawn, mounts and a bridge need it)')
    for tool, package in (('systemd-nspawn', 'systemd-container'), ('debootstrap', 'debootstrap'),
                          ('ip', 'iproute2'), ('ssh', 'openssh-client'), ('ssh-keygen', 'openssh-client')):
        if not shutil.which(tool):
            problems.append('%s (apt-get install %s)' % (tool, package))
    with open('/proc/filesystems') as f:
        if 'overlay' not in f.read():
            problems.append('the overlay file system (modprobe overlay)')
    if not cgroup_hierarchies():
        problems.append('cgroup file systems under %s' % CGROUP_ROOT)
    if not os.path.exists('/sys/class/net') or not os.access('/sys/class/net', os.R_OK):
        problems.append('/sys/class/net')
    return problems


# -- commands -----------------------------------------------------------------------------

def up(spec_path=None, keep=False):
    spec = load_spec(spec_path)
    if load_state() is not None:
        raise LabError('a lab is up already (%s); take it down first: make lab-down' % STATE_FILE)
    start_time = time.time()
    suites = sorted(set(h['suite'] for h in spec['hosts']))
    if spec['backend'] == 'vm':
        images = dict((suite, build_vm_image(suite)) for suite in suites)
    else:
        rootfs = dict((suite, build_rootfs(suite)) for suite in suites)
    os.makedirs(STATE_DIR, exist_ok=True)
    key = os.path.join(STATE_DIR, 'id_ed25519')
    if not os.path.exists(key):
        run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'airgap-pypi-mirror-lab', '-f', key])
    with open(key + '.pub') as f:
        pubkey = f.read()
    state = dict(backend=spec['backend'], bridge=spec['bridge'], controller=spec['controller'], hosts=spec['hosts'],
                 key=key, pids={}, cgroups={}, started=time.time(),
                 nspawn_run_dir_existed=os.path.isdir(NSPAWN_RUN_DIR))
    if spec['backend'] == 'vm':
        state['images'] = images
        state['accel'], why = vm.choose_accel(images[suites[0]], console_log('kvm-probe'), CACHE_DIR)
        log('VMs with %s: %s' % ('KVM' if state['accel'] == 'kvm' else 'software emulation (TCG)', why))
    save_state(state)
    boot_start = time.time()
    try:
        create_bridge(spec)
        state['bridge_created'] = True
        save_state(state)
        for host in spec['hosts']:
            name = host['name']
            machine = machine_name(spec['bridge'], name)
            state['cgroups'][name] = lab_cgroups(machine)
            save_state(state)
            if spec['backend'] == 'vm':
                vm.prepare(host_dir(name), images[host['suite']], identity_files(host, spec, pubkey))
                vm.create_tap(machine, spec['bridge'])
            else:
                prepare_overlay(host, spec, rootfs[host['suite']], pubkey)
            save_state(state)
            open(console_log(name), 'wb').close()
            state['pids'][name] = boot(host, state)
            save_state(state)
        wait_running(state)
    except BaseException as e:
        if keep:
            log('bringing the lab up failed (%s); left as it is for a look (--keep): make lab-down' % e)
        else:
            log('bringing the lab up failed (%s); cleaning up' % e)
            down()
        raise
    inventory = write_inventory(state)
    log('%d hosts running in %.1f s (boot %.1f s, %s); inventory: %s'
        % (len(spec['hosts']), time.time() - start_time, time.time() - boot_start, describe(state),
           os.path.relpath(inventory)))
    return state


def describe(state):
    if state.get('backend') == 'vm':
        return 'VMs, %s' % ('KVM' if state['accel'] == 'kvm' else 'software emulation')
    return 'containers'


def power_off(state, names, kill=True):
    """Power these hosts off cleanly (a VM by ACPI), then kill what is still up after the timeout; by PID only.

    Returns the names of the hosts still up (only when kill is false)."""
    bridge = state.get('bridge')
    running = dict((n, p) for n, p in state.get('pids', {}).items()
                   if n in names and pid_is_ours(p, machine_name(bridge, n)))
    for name, pid in running.items():
        if state.get('backend') != 'vm' or not vm.qmp(host_dir(name), 'system_powerdown'):
            os.kill(pid, signal.SIGTERM)
    deadline = time.time() + (vm.POWEROFF_TIMEOUT if state.get('backend') == 'vm' else 20)
    while time.time() < deadline and any(pid_is_ours(p, machine_name(bridge, n)) for n, p in running.items()):
        time.sleep(0.1)
    left = [n for n, p in running.items() if pid_is_ours(p, machine_name(bridge, n))]
    if not kill:
        return left
    for name in left:
        log('host %s did not power off in time; killing PID %d' % (name, running[name]))
        os.kill(running[name], signal.SIGKILL)
    return []


def down():
    """Stop what the lab started, by PID; then unmount, remove cgroups, bridge and state. Idempotent."""
    state = load_state() or {}
    names = [h['name'] for h in state.get('hosts', [])]
    if os.path.isdir(os.path.join(STATE_DIR, 'hosts')):
        names += [n for n in os.listdir(os.path.join(STATE_DIR, 'hosts')) if n not in names]
    # Only the bridge this lab's state names: another lab (make lab, a scenario, a benchmark) may own others.
    bridge = state.get('bridge')
    running = [n for n, p in state.get('pids', {}).items() if pid_is_ours(p, machine_name(bridge, n))]
    power_off(state, running)
    for name in names:
        cgroups = state.get('cgroups', {}).get(name) or lab_cgroups(machine_name(bridge, name))
        kill_cgroups(cgroups)
        merged = os.path.join(host_dir(name), 'merged')
        if os.path.ismount(merged):
            run(['umount', merged], check=False)
            if os.path.ismount(merged):
                run(['umount', '--lazy', merged], check=False)
        remove_cgroups(cgroups)
        shutil.rmtree(os.path.join(NSPAWN_RUN_DIR, 'propagate', machine_name(bridge, name)), ignore_errors=True)
        if state.get('backend') == 'vm':
            vm.remove_tap(machine_name(bridge, name))
        shutil.rmtree(host_dir(name), ignore_errors=True)
    try:
        os.rmdir(os.path.join(STATE_DIR, 'hosts'))
    except OSError:
        pass
    if bridge and state.get('bridge_created') and link_exists(bridge):
        run(['ip', 'link', 'del', bridge])
    # systemd-nspawn leaves empty directories in /run (not a tmpfs here): remove them if the lab made them.
    if state and not state.get('nspawn_run_dir_existed', True):
        for sub in ('propagate', 'locks', ''):
            try:
                os.rmdir(os.path.join(NSPAWN_RUN_DIR, sub))
            except OSError:
                pass
    for name in ('inventory.yml', 'state.json'):
        if os.path.exists(os.path.join(STATE_DIR, name)):
            os.remove(os.path.join(STATE_DIR, name))
    if names or running:
        log('lab down: %s' % (', '.join(names) or 'nothing was up'))


def lab_host(name):
    """The lab's state and the host NAME of it; LabError when there is no such host up."""
    state = load_state()
    if state is None:
        raise LabError('no lab is up')
    hosts = dict((h['name'], h) for h in state['hosts'])
    if name not in hosts:
        raise LabError('no host %s in the lab (%s)' % (name, ', '.join(hosts)))
    return state, hosts[name]


def pull_the_plug(state, name):
    """A hard power-off: SIGKILL the host's systemd-nspawn or QEMU and every process in its cgroups, no shutdown.

    A VM loses what its kernel had not written to its disk; a container's processes die at once, but what they had
    written stays in this machine's page cache (the kernel is shared)."""
    pid = state['pids'].get(name)
    machine = machine_name(state['bridge'], name)
    if pid_is_ours(pid, machine):
        os.kill(pid, signal.SIGKILL)
    kill_cgroups(state['cgroups'][name])
    deadline = time.time() + 10
    while pid_is_ours(pid, machine) and time.time() < deadline:
        time.sleep(0.1)
    if pid_is_ours(pid, machine):
        raise LabError('host %s (PID %d) did not die of SIGKILL within 10 s' % (name, pid))
    remove_cgroups(state['cgroups'][name])
    # What systemd-nspawn removes on a clean exit, or the next boot refuses the machine name.
    shutil.rmtree(os.path.join(NSPAWN_RUN_DIR, 'propagate', machine), ignore_errors=True)


def restart(name, hard=False):
    """A reboot: power the host off (cleanly, or with the plug pulled), then boot the same disk or overlay again."""
    state, host = lab_host(name)
    if hard:
        pull_the_plug(state, name)
    elif power_off(state, [name], kill=False):
        raise LabError('host %s did not power off in time' % name)
    state['pids'][name] = boot(host, state)
    save_state(state)
    wait_running(dict(state, hosts=[host]))
    log('host %s restarted%s' % (name, ' after a hard power-off' if hard else ''))


def bridge_port(state, name):
    """The host's link on the lab's bridge, on this machine: a VM's tap device, or a container's end of its veth."""
    machine = machine_name(state['bridge'], name)
    if state.get('backend') == 'vm':
        return vm.tap_name(machine)
    # systemd-nspawn itself is in the host's cgroups too, in this machine's network namespace.
    here = os.readlink('/proc/self/ns/net')
    pids = [pid for pid in sorted(cgroup_pids(state['cgroups'][name])) if net_namespace(pid) not in (here, None)]
    if not pids:
        raise LabError('host %s is not running' % name)
    # host0 inside the container is "host0@ifN": N is the index of its peer here.
    out = run(['nsenter', '--target', str(pids[0]), '--net', 'ip', '-o', 'link', 'show', 'host0'],
              capture_output=True, text=True).stdout
    found = re.search(r'host0@if(\d+)', out)
    if not found:
        raise LabError('cannot find the link of host %s on the bridge (%s)' % (name, out.strip()))
    for link in os.listdir('/sys/class/net'):
        with open(os.path.join('/sys/class/net', link, 'ifindex')) as f:
            if f.read().strip() == found.group(1):
                return link
    raise LabError('host %s: no link of index %s on this machine' % (name, found.group(1)))


def net_namespace(pid):
    try:
        return os.readlink('/proc/%d/ns/net' % pid)
    except OSError:
        return None


def plug(name, connected):
    """Put the host's network cable back in, or pull it out: its port on the lab's bridge goes up or down."""
    state, dummy = lab_host(name)
    port = bridge_port(state, name)
    run(['ip', 'link', 'set', port, 'up' if connected else 'down'])
    log('host %s %s (%s)' % (name, 'plugged back in' if connected else 'unplugged', port))


def status():
    state = load_state()
    if state is None:
        print('no lab is up')
        return 1
    print('backend: %s' % describe(state))
    for host in state['hosts']:
        pid = state['pids'].get(host['name'])
        print('%-8s %-15s %s' % (host['name'], host['address'],
                                 'running (PID %d)' % pid if pid_is_ours(pid, machine_name(state['bridge'], host['name'])) else 'stopped'))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest='command', required=True)
    up_parser = sub.add_parser('up')
    up_parser.add_argument('--spec', help='JSON file with hosts (name, groups, suite, address), bridge, subnet')
    up_parser.add_argument('--keep', action='store_true', help='leave a lab that failed to come up as it is, to look at it')
    sub.add_parser('down')
    sub.add_parser('status')
    restart_parser = sub.add_parser('restart')
    restart_parser.add_argument('name')
    restart_parser.add_argument('--hard', action='store_true', help='pull the plug: no shutdown, every process killed at once')
    for command in ('unplug', 'plug'):
        sub.add_parser(command).add_argument('name')
    address_parser = sub.add_parser('address')
    address_parser.add_argument('name')
    build_parser = sub.add_parser('build')
    build_parser.add_argument('--suite', default='bookworm')
    sub.add_parser('check')
    accel_parser = sub.add_parser('accel', help='whether VMs run with KVM or software emulation here (probed once a boot)')
    accel_parser.add_argument('--suite', default='bookworm')
    args = parser.parse_args()
    backend = os.environ.get('LAB_BACKEND') or 'container'
    if args.command == 'check':
        problems = missing(backend)
        for problem in problems:
            print('lab: this machine cannot run the lab: it lacks %s' % problem, file=sys.stderr)
        return 1 if problems else 0
    if os.geteuid() != 0:
        print('lab: needs root (systemd-nspawn, mounts, a bridge)', file=sys.stderr)
        return 2
    try:
        if args.command == 'up':
            up(args.spec, args.keep)
        elif args.command == 'down':
            down()
        elif args.command == 'status':
            return status()
        elif args.command == 'restart':
            restart(args.name, args.hard)
        elif args.command in ('unplug', 'plug'):
            plug(args.name, args.command == 'plug')
        elif args.command == 'address':
            state = load_state()
            found = [h['address'] for h in (state or {}).get('hosts', []) if h['name'] == args.name]
            if not found:
                raise LabError('no host %s is up' % args.name)
            print(found[0])
        elif args.command == 'build':
            print(build_vm_image(args.suite)['dir'] if backend == 'vm' else build_rootfs(args.suite))
        elif args.command == 'accel':
            print('%s: %s' % vm.choose_accel(build_vm_image(args.suite), console_log('kvm-probe'), CACHE_DIR))
    except (LabError, vm.VMError, subprocess.CalledProcessError) as e:
        print('lab: %s' % e, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
