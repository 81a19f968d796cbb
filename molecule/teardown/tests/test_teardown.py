"""After teardown.yml: the unit, the virtualenv and pip's configuration are gone, the data is kept,
a second teardown changes nothing, and pypi_mirror_purge_data removes the data too. Then site.yml makes
a new mirror on admin, and its root password shows on no command line, in no log and in no output."""

import json
import os
import shlex
import subprocess

from playbook_run import INVENTORY, flat, run_playbook

testinfra_hosts = ['ansible://admin']


def node(host, name):
    return host.get_host('ansible://%s' % name, ansible_inventory=INVENTORY)


def teardown(extra_vars=None):
    run = run_playbook('teardown.yml', '-e', json.dumps(extra_vars or {}))
    assert run.returncode == 0, run.stdout + run.stderr
    return run


def test_node2_ran_trixie():
    facts = subprocess.run(['ansible', '-i', INVENTORY, 'node2', '-m', 'ansible.builtin.setup', '-a', 'filter=ansible_distribution_release'],
                           capture_output=True, text=True, check=False, env=dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0'))
    assert '"ansible_distribution_release": "trixie"' in facts.stdout


def test_the_record_names_what_the_role_created_and_not_the_sites_group(host):
    # Teardown has run: what is left of the record is the data and the user it keeps.
    record = json.loads(host.file('/etc/ansible/facts.d/devpi_server_devpi.fact').content_string)
    assert record == {'created': {'serverdir': '/var/lib/devpi', 'user': 'devpi'}}


def test_the_server_is_gone_and_its_data_kept(host):
    assert not host.file('/etc/systemd/system/devpi.service').exists
    assert host.run('systemctl is-active devpi.service').stdout.strip() in ('inactive', 'unknown')
    assert not host.file('/opt/devpi').exists
    assert not host.file('/etc/devpi').exists
    assert host.file('/var/lib/devpi/.nodeinfo').exists
    assert not host.socket('tcp://0.0.0.0:3141').is_listening


def test_pip_conf_is_gone_or_the_earlier_one_is_back(host):
    assert not node(host, 'node1').file('/etc/pip.conf').exists
    restored = node(host, 'node2').file('/etc/pip.conf')
    assert restored.content_string == '[global]\nindex-url = http://pip.site.example/simple/\n'
    assert not node(host, 'node2').file('/etc/pip.conf.pypi_mirror-orig').exists
    for name in ('node1', 'node2'):
        assert not node(host, name).file('/etc/pip-requirements.lock').exists


def test_a_second_teardown_changes_nothing(host):  # pylint: disable=unused-argument
    # host (unused) keeps this test in file order among the host-parametrised ones.
    run = teardown()
    assert run.changed == {'admin': 0, 'node1': 0, 'node2': 0}, run.stdout


def reach(host, port):
    """What node1 gets when it connects to admin's PORT: 'open', or the errno's name."""
    probe = ('import errno, socket\ns = socket.socket()\ns.settimeout(5)\ntry:\n    s.connect((%r, %d))\n    print("open")\n'
             'except OSError as e:\n    print(errno.errorcode.get(e.errno, e))' % (host.ansible.get_variables()['ansible_host'], port))
    return node(host, 'node1').run('python3 -c %s' % shlex.quote(probe)).stdout.strip()


def test_firewalld_runs_and_teardown_closed_devpis_port_in_it(host):
    # site.yml's probes from both nodes passed through this firewall: the role had opened 3141/tcp in its zone.
    assert host.run('firewall-cmd --state').stdout.strip() == 'running'
    for scope in ('', '--permanent '):
        assert host.run('firewall-cmd %s--zone=public --query-port=3141/tcp' % scope).rc == 1
    # Listening, yet unreachable: firewalld rejects it (icmp-host-prohibited), where without it node1 would connect.
    assert host.socket('tcp://0.0.0.0:8099').is_listening
    assert reach(host, 8099) == 'EHOSTUNREACH'


def test_purge_removes_the_data_too(host):
    assert teardown({'pypi_mirror_purge_data': True}).changed['admin'] > 0
    assert not host.file('/var/lib/devpi').exists
    assert not host.user('devpi').exists
    # The group was the site's before the role ran (prepare made it): purge leaves it.
    assert host.group('devpi').exists
    assert not host.file('/etc/ansible/facts.d/devpi_server_devpi.fact').exists
    again = teardown({'pypi_mirror_purge_data': True})
    assert again.changed == {'admin': 0, 'node1': 0, 'node2': 0}, again.stdout


def test_check_mode_on_a_fresh_admin_host_runs_to_the_end_and_changes_nothing(host):
    run = run_playbook('site.yml', '--check', '--diff')
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert run.changed['admin'] > 0 and run.changed['node1'] > 0
    assert 'root/prod would be made on the new devpi-server and get the manifest' in flat(run.stdout)
    for path in ('/var/lib/devpi', '/opt/devpi', '/etc/devpi', '/etc/systemd/system/devpi.service',
                 '/etc/ansible/facts.d/devpi_server_devpi.fact'):
        assert not host.file(path).exists, path
    assert not host.user('devpi').exists
    assert not node(host, 'node1').file('/etc/pip.conf').exists


def test_a_serverdir_left_by_an_interrupted_devpi_init_is_named_with_the_fix(host):
    host.run_test('mkdir -p /var/lib/devpi && echo \'{"uuid": "0"}\' > /var/lib/devpi/.nodeinfo')
    try:
        run = run_playbook('site.yml', '--limit', 'admin')
    finally:
        host.run_test('rm -rf /var/lib/devpi')
    assert run.returncode != 0
    assert ('devpi_server_serverdir /var/lib/devpi on admin was left half initialised by a devpi-init (or devpi-import) '
            'that did not finish, so devpi-server cannot serve from it. It holds no packages yet: stop devpi.service if it '
            'runs, remove the directory and run the play again: it holds .nodeinfo but not .serverversion and .sqlite'
            ) in flat(run.stdout + run.stderr)
    assert not host.file('/etc/systemd/system/devpi.service').exists


def test_a_lock_path_holding_a_file_of_somebody_else_is_refused_before_any_change(host):
    node1 = node(host, 'node1')
    node1.run_test("printf 'netaddr==1.3.0\\n' > /etc/pip-requirements.lock")
    try:
        run = run_playbook('site.yml', '--limit', 'node1')
        assert run.returncode != 0
        assert ('pip_client_lock_path: /etc/pip-requirements.lock on node1 holds a file this role did not write, which it '
                'would overwrite: choose another path or move that file away') in run.text
        assert node1.file('/etc/pip-requirements.lock').content_string == 'netaddr==1.3.0\n'
        assert not node1.file('/etc/pip.conf').exists
    finally:
        node1.run_test('rm -f /etc/pip-requirements.lock')


RECORDER = r"""
import os, sys, time
seen = set()
with open('/root/argv.log', 'w') as log:
    while not os.path.exists('/root/argv.stop'):
        for pid in os.listdir('/proc'):
            try:
                with open('/proc/%s/cmdline' % pid, 'rb') as f:
                    argv = f.read().replace(b'\0', b' ').decode('utf-8', 'replace').strip()
            except (OSError, ValueError):
                continue
            if argv and argv not in seen:
                seen.add(argv)
                log.write(argv + '\n')
                log.flush()
        time.sleep(0.002)
"""
PASSWORD = 'Molecule-Root-Pw-1'


def test_a_new_mirror_gets_its_root_password_on_no_command_line_and_in_no_log(host):
    """After the purge, site.yml initialises devpi again, with -vvv, while a recorder on admin notes every argv."""
    host.run('rm -f /root/argv.log /root/argv.stop')
    started = host.run("date '+%Y-%m-%d %H:%M:%S'").stdout.strip()
    host.run('nohup python3 -c %s >/dev/null 2>&1 &' % shlex.quote(RECORDER))
    try:
        run = run_playbook('site.yml', '--limit', 'admin', '-vvv')
    finally:
        host.run('touch /root/argv.stop; sleep 0.2')
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr
    recorded = host.file('/root/argv.log').content_string
    # The recorder saw devpi-init run (so it would have seen the password), and the server took the password.
    assert '/opt/devpi/bin/devpi-init' in recorded
    assert PASSWORD not in recorded
    assert PASSWORD not in run.stdout + run.stderr
    assert PASSWORD not in host.run("journalctl --no-pager --since '%s'" % started).stdout
    login = host.run("python3 -c \"import json, urllib.request as u; print(u.urlopen(u.Request('http://127.0.0.1:3141/+login', "
                     "data=json.dumps({'user': 'root', 'password': '%s'}).encode())).status)\"" % PASSWORD)
    assert login.stdout.strip() == '200'


def test_with_the_new_mirror_node1_reaches_devpis_port_and_no_other(host):
    for scope in ('', '--permanent '):
        assert host.run('firewall-cmd %s--zone=public --query-port=3141/tcp' % scope).rc == 0
    assert reach(host, 3141) == 'open'
    assert reach(host, 8099) == 'EHOSTUNREACH'
    record = json.loads(host.file('/etc/ansible/facts.d/devpi_server_devpi.fact').content_string)
    assert record['created']['firewalld'] == 'public/3141/tcp'
