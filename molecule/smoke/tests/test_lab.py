"""Every lab host: systemd is PID 1, the boot finished cleanly, and the kernel is the backend's."""

import json
import os

testinfra_hosts = ['ansible://all']


def lab_backend():
    with open(os.path.join(os.environ['MOLECULE_EPHEMERAL_DIRECTORY'], 'lab', 'state.json')) as f:
        return json.load(f)['backend']


def test_systemd_is_pid_1_and_running(host):
    assert host.process.get(pid=1).comm == 'systemd'
    assert host.run('systemctl is-system-running').stdout.strip() == 'running'


def test_the_kernel_is_the_backends(host):
    release = host.run('uname -r').stdout.strip()
    if lab_backend() == 'vm':
        # The guest's own: Debian's kernel package of the image, not this machine's kernel.
        assert release != os.uname().release
        assert host.file('/boot/vmlinuz-%s' % release).exists
        assert 'Debian' in host.file('/proc/version').content_string
    else:
        assert release == os.uname().release
