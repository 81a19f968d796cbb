"""Every lab host: systemd is PID 1 and the boot finished cleanly."""

testinfra_hosts = ['ansible://all']


def test_systemd_is_pid_1_and_running(host):
    assert host.process.get(pid=1).comm == 'systemd'
    assert host.run('systemctl is-system-running').stdout.strip() == 'running'
