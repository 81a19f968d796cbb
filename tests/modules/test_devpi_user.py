"""devpi_user against a real devpi-server: the server's state after each run."""

import pytest

from devpitest import ROOT_PASSWORD, free_port


def test_creates_user_with_every_setting_then_changes_nothing(ansible, devpi, unique):
    args = dict(name=unique, password='first-Secret-1', email='ops@example.com', title='Ops', description='CI user')
    first = ansible.run('devpi_user', args)
    assert first['changed'] is True and first['password_changed'] is True
    user = devpi.user(unique)
    assert (user['email'], user['title'], user['description']) == ('ops@example.com', 'Ops', 'CI user')
    assert devpi.can_login(unique, 'first-Secret-1')
    assert first['user']['email'] == 'ops@example.com'

    second = ansible.run('devpi_user', args)
    assert second['changed'] is False
    assert second['password_changed'] is False
    assert 'first-Secret-1' not in first.output + second.output


def test_check_mode_creates_nothing(ansible, devpi, unique):
    result = ansible.run('devpi_user', dict(name=unique, password='pw-check-1'), check=True)
    assert result['changed'] is True
    assert devpi.user(unique) is None


@pytest.mark.one_core
def test_changes_only_the_settings_given_and_empty_string_removes(ansible, devpi, unique):
    ansible.run('devpi_user', dict(name=unique, password='pw-1', email='a@example.com', title='T'))
    result = ansible.run('devpi_user', dict(name=unique, email='b@example.com'), diff=True)
    assert result['changed'] is True
    assert devpi.user(unique)['email'] == 'b@example.com'
    assert devpi.user(unique)['title'] == 'T'
    assert result['diff']['before']['email'] == 'a@example.com'
    assert result['diff']['after']['email'] == 'b@example.com'

    removed = ansible.run('devpi_user', dict(name=unique, title=''))
    assert removed['changed'] is True
    assert 'title' not in devpi.user(unique)
    assert ansible.run('devpi_user', dict(name=unique, title=''))['changed'] is False


@pytest.mark.one_core
def test_update_password_on_create_leaves_an_existing_password(ansible, devpi, unique):
    ansible.run('devpi_user', dict(name=unique, password='old-pw-1'))
    result = ansible.run('devpi_user', dict(name=unique, password='new-pw-2'))
    assert result['changed'] is False
    assert devpi.can_login(unique, 'old-pw-1')
    assert not devpi.can_login(unique, 'new-pw-2')


def test_update_password_always_changes_it_once(ansible, devpi, unique):
    ansible.run('devpi_user', dict(name=unique, password='old-pw-1'))
    args = dict(name=unique, password='new-pw-2', update_password='always')
    check = ansible.run('devpi_user', args, check=True)
    assert check['changed'] is True and check['password_changed'] is True
    assert devpi.can_login(unique, 'old-pw-1')

    first = ansible.run('devpi_user', args, diff=True)
    assert first['changed'] is True and first['password_changed'] is True
    assert first['diff']['after'] == dict(first['diff']['before'], password_changed=True)
    assert devpi.can_login(unique, 'new-pw-2')
    assert not devpi.can_login(unique, 'old-pw-1')

    second = ansible.run('devpi_user', args, diff=True)
    assert second['changed'] is False
    for secret in ('old-pw-1', 'new-pw-2', ROOT_PASSWORD):
        assert secret not in first.output + second.output


def test_creating_without_password_fails_and_creates_nothing(ansible, devpi, unique):
    result = ansible.run('devpi_user', dict(name=unique, email='x@example.com'))
    assert result['failed'] is True
    assert result['msg'] == 'password is required to create user %s' % unique
    assert devpi.user(unique) is None


def test_absent_deletes_then_changes_nothing(ansible, devpi, unique):
    ansible.run('devpi_user', dict(name=unique, password='pw-1'))
    check = ansible.run('devpi_user', dict(name=unique, state='absent'), check=True)
    assert check['changed'] is True and devpi.user(unique) is not None
    first = ansible.run('devpi_user', dict(name=unique, state='absent'))
    assert first['changed'] is True
    assert devpi.user(unique) is None
    assert ansible.run('devpi_user', dict(name=unique, state='absent'))['changed'] is False


@pytest.mark.one_core
def test_deleting_a_user_with_a_non_volatile_index_fails_with_the_servers_message(ansible, devpi, unique):
    ansible.run('devpi_user', dict(name=unique, password='pw-1'))
    ansible.run('devpi_index', dict(name='%s/keep' % unique, volatile=False))
    result = ansible.run('devpi_user', dict(name=unique, state='absent'))
    assert result['failed'] is True
    assert result['msg'].startswith('DELETE /%s failed (HTTP 403): ' % unique)
    assert 'non-volatile' in result['msg']
    assert devpi.user(unique) is not None


def test_wrong_credentials_fail_without_showing_the_password(ansible, devpi, unique):
    connection = dict(url=devpi.url, auth_username='root', auth_password='Wrong-Secret-99')
    result = ansible.run('devpi_user', dict(name=unique, password='pw-Secret-5'), connection=connection)
    assert result['failed'] is True
    assert result['msg'] == "login as root failed (HTTP 401): user 'root' could not be authenticated"
    assert 'Wrong-Secret-99' not in result.output
    assert 'pw-Secret-5' not in result.output
    assert devpi.user(unique) is None


def test_anonymous_cannot_create_users_on_a_restricted_server(ansible, devpi, unique):
    result = ansible.run('devpi_user', dict(name=unique, password='pw-1'), connection=dict(url=devpi.url))
    assert result['failed'] is True
    assert result['msg'].startswith('PUT /%s failed (HTTP 403): ' % unique)
    assert devpi.user(unique) is None


def test_unreachable_server_fails_after_the_wait(ansible, unique):
    port = free_port()
    connection = dict(url='http://127.0.0.1:%d' % port, wait_timeout=2)
    result = ansible.run('devpi_user', dict(name=unique, password='pw-1'), connection=connection)
    assert result['failed'] is True
    assert result['msg'].startswith('devpi-server at http://127.0.0.1:%d is not reachable after waiting 2s: ' % port)


def test_bad_user_name_is_refused(ansible):
    result = ansible.run('devpi_user', dict(name='a/b', password='pw-1'))
    assert result['failed'] is True
    assert result['msg'] == "name 'a/b' is not a valid devpi user name"
