"""Changing the root password of a running mirror: refused before any change without the current one,
rotated with pypi_mirror_root_password_previous, then unchanged on the next run. (Here for the balance of the
Molecule lanes; it runs after test_offline.py, which leaves the mirror online.)"""

import json

from playbook_run import run_playbook

testinfra_hosts = ['ansible://admin']
CURRENT = 'Molecule-Root-Pw-1'
NEW = 'Rotated-Root-Pw-2'
LOGIN = ("python3 -c \"import json, urllib.request as u, urllib.error as e\ntry: print(u.urlopen(u.Request("
         "'http://127.0.0.1:3141/+login', data=json.dumps({'user': 'root', 'password': '%s'}).encode())).status)\n"
         "except e.HTTPError as err: print(err.code)\"")


def logs_in(host, password):
    return host.run(LOGIN % password).stdout.strip() == '200'


def site(*args, **extra_vars):
    return run_playbook('site.yml', '-e', json.dumps(extra_vars), *args)


def test_a_new_password_without_the_current_one_fails_before_any_change(host):
    config = host.file('/etc/devpi/devpi-server.yml').content_string
    run = site(pypi_mirror_root_password=NEW)
    assert run.returncode != 0
    assert ('pypi_mirror_root_password does not log in as root on admin: root has another password. To change it, '
            'set pypi_mirror_root_password_previous to the password root has now, for one run') in run.text
    assert run.changed['admin'] == 0
    assert logs_in(host, CURRENT) and not logs_in(host, NEW)
    assert host.file('/etc/devpi/devpi-server.yml').content_string == config
    assert NEW not in run.stdout + run.stderr


def test_a_wrong_previous_password_is_named_too(host):
    run = site(pypi_mirror_root_password=NEW, pypi_mirror_root_password_previous='Not-The-Password')
    assert run.returncode != 0
    assert ('pypi_mirror_root_password does not log in as root on admin, and neither does '
            'pypi_mirror_root_password_previous') in run.text
    assert logs_in(host, CURRENT)


def test_the_password_rotates_then_nothing_changes(host):
    # The password is the server's alone: the clients' part of site.yml has nothing to do with it.
    run = site('--limit', 'admin', pypi_mirror_root_password=NEW, pypi_mirror_root_password_previous=CURRENT)
    assert run.returncode == 0, run.stdout[-3000:]
    assert run.changed['admin'] > 0
    assert logs_in(host, NEW) and not logs_in(host, CURRENT)
    assert NEW not in run.stdout + run.stderr and CURRENT not in run.stdout + run.stderr
    again = site('--limit', 'admin', pypi_mirror_root_password=NEW, pypi_mirror_root_password_previous=CURRENT)
    assert again.changed == {'admin': 0}, again.stdout[-3000:]
    # And back, for the tests after this one; the second run above already proved that a rotation settles.
    assert site('--limit', 'admin', pypi_mirror_root_password=CURRENT, pypi_mirror_root_password_previous=NEW).returncode == 0
    assert logs_in(host, CURRENT)
