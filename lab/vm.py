"""The lab's second backend: its hosts as QEMU virtual machines with Debian's own kernel.

lab.py calls this module when a spec or LAB_BACKEND says `vm`. A host here is the same spec as a container
(name, address, groups, suite) on the same bridge: a virtio disk backed by a cached image of the lab's root
filesystem plus Debian's kernel and initramfs, a second small disk with what makes it this host (its address,
the lab's SSH key, the lab's host names), and a virtio NIC on a tap device of the lab's bridge. KVM is used
when a boot with it works; QEMU's software emulation (TCG) otherwise. Standard library only.
"""

import hashlib
import io
import json
import os
import select
import shutil
import socket
import subprocess
import tarfile
import time

QEMU = 'qemu-system-x86_64'
# Debian's kernel and the initramfs tool; everything else is the containers' package list.
KERNEL_PACKAGES = ['linux-image-amd64', 'initramfs-tools']
# Bump when the image is prepared differently, so its cache key changes.
IMAGE_RECIPE = 2
# Room for devpi's data, the bundle and the venvs on top of the root filesystem; the image is sparse.
DISK_SIZE = '6G'
MEMORY_MB = 1024
CPUS = 1
# A software-emulated VM boots in about a minute alone here, and in minutes beside busy neighbours: beside four
# streams of `make test` two VMs took over 420 s, and machines of this kind differ up to twice in speed.
BOOT_TIMEOUT = 900
# Emulation does each guest instruction's work many times over: beside busy containers a VM gets the CPU share of
# this many, or its boot outlasts BOOT_TIMEOUT (a make test run saw a VM not booted after 900 s beside fourteen).
CPU_WEIGHT = 8
POWEROFF_TIMEOUT = 60
KVM_PROBE_SECONDS = 10

# Applies the host's seed disk (/dev/vdb, a tar archive) before the network and sshd start, on every boot.
SEED_UNIT = """\
[Unit]
Description=Lab host identity from the seed disk (address, SSH key, host names)
DefaultDependencies=no
Requires=dev-vdb.device
After=dev-vdb.device
Before=network-pre.target systemd-networkd.service ssh.service sysinit.target
Wants=network-pre.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/tar --extract --file=/dev/vdb --directory=/ --no-overwrite-dir

[Install]
WantedBy=sysinit.target
"""

# The virtio NIC gets the containers' interface name, so the lab's network file and checks are the same.
LINK_FILE = '[Match]\nDriver=virtio_net\n\n[Link]\nName=host0\n'

# An emulated CPU makes RSA and ECDSA host keys in 15 s at first boot; one ed25519 key takes a moment.
SSH_HOST_KEY = """\
[Service]
ExecStartPre=
ExecStartPre=/bin/sh -c 'test -e /etc/ssh/ssh_host_ed25519_key || ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key'
ExecStartPre=/usr/sbin/sshd -t
"""


class VMError(Exception):
    pass


def missing():
    """What this machine lacks to run VMs, as sentences."""
    problems = []
    for tool, package in ((QEMU, 'qemu-system-x86'), ('qemu-img', 'qemu-utils'), ('mkfs.ext4', 'e2fsprogs')):
        if not shutil.which(tool):
            problems.append('%s (apt-get install %s)' % (tool, package))
    if not os.path.exists('/dev/net/tun'):
        problems.append('/dev/net/tun (modprobe tun), for the VMs\' tap devices')
    return problems


# -- image --------------------------------------------------------------------------------

def prepare_tree(root):
    """What a VM needs beyond a container's root filesystem: its identity from the seed disk, a NIC named host0."""
    with open(os.path.join(root, 'etc/systemd/system/lab-seed.service'), 'w') as f:
        f.write(SEED_UNIT)
    with open(os.path.join(root, 'etc/systemd/network/10-host0.link'), 'w') as f:
        f.write(LINK_FILE)
    with open(os.path.join(root, 'etc/systemd/system/ssh.service.d/hostkeys.conf'), 'w') as f:
        f.write(SSH_HOST_KEY)
    with open(os.path.join(root, 'etc/ssh/sshd_config.d/hostkey.conf'), 'w') as f:
        f.write('HostKey /etc/ssh/ssh_host_ed25519_key\n')
    subprocess.run(['systemctl', '--root', root, 'enable', 'lab-seed.service'], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # A VM has its own ext4 root: its scrub-at-boot checks cost seconds under emulation and find nothing new.
    subprocess.run(['systemctl', '--root', root, 'mask', 'e2scrub_reap.service'], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Each boot gets its machine id from the kernel's command line; an empty file marks it as not set here.
    with open(os.path.join(root, 'etc/machine-id'), 'w'):
        pass


def make_image(tree, image_dir):
    """Debian's kernel and initramfs next to a sparse ext4 image of TREE (mkfs.ext4 -d: no mount, no loop device)."""
    boot = os.path.join(tree, 'boot')
    kernels = sorted(n for n in os.listdir(boot) if n.startswith('vmlinuz-'))
    if not kernels:
        raise VMError('the VM root filesystem has no kernel in /boot: did debootstrap install %s?'
                      % ', '.join(KERNEL_PACKAGES))
    version = kernels[-1][len('vmlinuz-'):]
    shutil.copy2(os.path.join(boot, 'vmlinuz-' + version), os.path.join(image_dir, 'vmlinuz'))
    shutil.copy2(os.path.join(boot, 'initrd.img-' + version), os.path.join(image_dir, 'initrd.img'))
    subprocess.run(['mkfs.ext4', '-q', '-F', '-L', 'labroot', '-d', tree, os.path.join(image_dir, 'root.img'), DISK_SIZE],
                   check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(image_dir, 'kernel-release'), 'w') as f:
        f.write(version + '\n')
    return version


def image_files(image_dir):
    with open(os.path.join(image_dir, 'kernel-release')) as f:
        release = f.read().strip()
    return dict(dir=image_dir, kernel=os.path.join(image_dir, 'vmlinuz'), initrd=os.path.join(image_dir, 'initrd.img'),
                root=os.path.join(image_dir, 'root.img'), release=release)


# -- acceleration -------------------------------------------------------------------------

def choose_accel(image, log_path, cache_dir):
    """('kvm' or 'tcg', why): KVM only when a kernel boots with it, not because /dev/kvm exists.

    The answer is kept until the machine boots again or QEMU changes: the probe costs seconds when KVM hangs.
    """
    if not os.access('/dev/kvm', os.R_OK | os.W_OK):
        return 'tcg', 'no usable /dev/kvm'
    with open('/proc/sys/kernel/random/boot_id') as f:
        key = [f.read().strip(), os.path.realpath(shutil.which(QEMU)), os.stat(shutil.which(QEMU)).st_mtime]
    cache = os.path.join(cache_dir, 'kvm-probe.json')
    try:
        with open(cache) as f:
            known = json.load(f)
        if known['key'] == key:
            return known['accel'], known['why'] + ' (probed %s; the machine has not booted since)' % known['when']
    except (OSError, ValueError, KeyError):
        pass
    accel, why = probe_kvm(image, log_path)
    # Labs that start side by side may probe at once: each writes its own file, the last one's answer stays.
    tmp = '%s.%d' % (cache, os.getpid())
    with open(tmp, 'w') as f:
        json.dump(dict(key=key, accel=accel, why=why, when=time.strftime('%Y-%m-%d %H:%M')), f)
    os.replace(tmp, cache)
    return accel, why


def probe_kvm(image, log_path):
    """Boot Debian's kernel with KVM and watch its console for the kernel's first line."""
    cmd = [QEMU, '-accel', 'kvm', '-cpu', 'host', '-m', '256', '-nodefaults', '-display', 'none', '-no-reboot',
           '-serial', 'stdio', '-kernel', image['kernel'], '-append', 'console=ttyS0 panic=-1']
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    seen = b''
    deadline = time.time() + KVM_PROBE_SECONDS
    try:
        while time.time() < deadline and b'Linux version' not in seen:
            ready, _w, _x = select.select([proc.stdout], [], [], 0.2)
            if ready:
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                seen += chunk
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
    with open(log_path, 'wb') as f:
        f.write(seen)
    if b'Linux version' in seen:
        return 'kvm', 'a kernel booted with KVM'
    last = seen.decode(errors='replace').strip().splitlines()[-1:] or ['no output within %d s' % KVM_PROBE_SECONDS]
    return 'tcg', 'a kernel did not boot with KVM (%s)' % last[0][:160]


# -- one VM -------------------------------------------------------------------------------

def tap_name(machine):
    """A tap device name of at most 15 characters, the same for the same machine, so down finds it after a crash."""
    return 'labtap' + hashlib.sha256(machine.encode()).hexdigest()[:8]


def mac_address(machine):
    digest = hashlib.sha256(machine.encode()).digest()
    return '52:54:00:%02x:%02x:%02x' % (digest[0], digest[1], digest[2])


def machine_id(machine):
    return hashlib.md5(machine.encode()).hexdigest()


def seed_archive(path, files):
    """FILES ({path: (mode, text)}) as a tar archive owned by root; it is the VM's second disk."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode='w', format=tarfile.USTAR_FORMAT) as tar:
        made = set()
        for name in sorted(files):
            parts = name.split('/')
            for depth in range(1, len(parts)):
                directory = '/'.join(parts[:depth])
                if directory not in made:
                    made.add(directory)
                    info = tarfile.TarInfo(directory)
                    info.type = tarfile.DIRTYPE
                    info.mode = 0o700 if directory == 'root/.ssh' else 0o755
                    tar.addfile(info)
            mode, text = files[name]
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = mode
            tar.addfile(info, io.BytesIO(data))
    with open(path, 'wb') as f:
        f.write(buffer.getvalue())


def prepare(host_dir, image, files):
    """The VM's own disk (copy-on-write over the cached image) and its seed disk."""
    os.makedirs(host_dir, exist_ok=True)
    disk = os.path.join(host_dir, 'disk.qcow2')
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', image['root'], disk], check=True)
    seed_archive(os.path.join(host_dir, 'seed.tar'), files)


def create_tap(machine, bridge):
    tap = tap_name(machine)
    subprocess.run(['ip', 'tuntap', 'add', 'dev', tap, 'mode', 'tap'], check=True)
    subprocess.run(['ip', 'link', 'set', tap, 'master', bridge], check=True)
    subprocess.run(['ip', 'link', 'set', tap, 'up'], check=True)
    return tap


def remove_tap(machine):
    tap = tap_name(machine)
    if subprocess.run(['ip', 'link', 'show', tap], capture_output=True, check=False).returncode == 0:
        subprocess.run(['ip', 'link', 'del', tap], check=False)


def command(machine, hostname, host_dir, image, accel):
    append = 'root=/dev/vda rw console=ttyS0 systemd.hostname=%s systemd.machine_id=%s' % (hostname, machine_id(machine))
    return [QEMU, '-name', machine, '-machine', 'q35', '-accel', accel, '-cpu', 'host' if accel == 'kvm' else 'Nehalem',
            '-smp', str(CPUS), '-m', str(MEMORY_MB), '-nodefaults', '-display', 'none', '-serial', 'stdio',
            '-kernel', image['kernel'], '-initrd', image['initrd'], '-append', append,
            '-drive', 'file=%s,if=virtio,format=qcow2' % os.path.join(host_dir, 'disk.qcow2'),
            '-drive', 'file=%s,if=virtio,format=raw,readonly=on' % os.path.join(host_dir, 'seed.tar'),
            '-netdev', 'tap,id=lab,ifname=%s,script=no,downscript=no' % tap_name(machine),
            '-device', 'virtio-net-pci,netdev=lab,mac=%s' % mac_address(machine),
            '-device', 'virtio-rng-pci',
            '-qmp', 'unix:%s,server=on,wait=off' % qmp_socket(host_dir)]


def qmp_socket(host_dir):
    return os.path.join(host_dir, 'qmp.sock')


def qmp(host_dir, execute):
    """One QMP command over the VM's monitor socket; False when the VM does not answer."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(qmp_socket(host_dir))
            stream = sock.makefile('rw')
            stream.readline()
            for name in ('qmp_capabilities', execute):
                stream.write(json.dumps({'execute': name}) + '\n')
                stream.flush()
                while True:
                    reply = json.loads(stream.readline() or '{}')
                    if 'event' not in reply:
                        break
                if 'return' not in reply:
                    return False
        return True
    except (OSError, ValueError):
        return False


def is_qemu(cmdline):
    return bool(cmdline) and os.path.basename(cmdline[0]) == QEMU.encode()
