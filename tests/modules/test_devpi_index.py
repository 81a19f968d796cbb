"""devpi_index against a real devpi-server: the server's state after each run."""

import pytest


@pytest.fixture
def user(ansible, unique):
    ansible.run('devpi_user', dict(name=unique, password='pw-owner-1'))
    return unique


def test_creates_a_stage_index_with_every_option_then_changes_nothing(ansible, devpi, user):
    ansible.run('devpi_index', dict(name=user + '/base1'))
    ansible.run('devpi_index', dict(name=user + '/base2'))
    args = dict(name=user + '/prod', type='stage', bases=[user + '/base2', user + '/base1'], volatile=False,
                acl_upload=[user, 'root'], acl_toxresult_upload=[user], mirror_whitelist=['requests', 'urllib3'],
                mirror_whitelist_inheritance='union', title='Production', description='What the cluster installs')
    first = ansible.run('devpi_index', args, diff=True)
    assert first['changed'] is True
    config = devpi.index(user + '/prod')
    assert config['type'] == 'stage'
    assert config['bases'] == [user + '/base2', user + '/base1']
    assert config['volatile'] is False
    assert config['acl_upload'] == [user, 'root']
    assert config['acl_toxresult_upload'] == [user]
    assert config['mirror_whitelist'] == ['requests', 'urllib3']
    assert config['mirror_whitelist_inheritance'] == 'union'
    assert (config['title'], config['description']) == ('Production', 'What the cluster installs')
    assert first['index'] == config
    assert first['diff'] == dict(before={}, after=config)

    second = ansible.run('devpi_index', args, diff=True)
    assert second['changed'] is False
    assert second['diff']['before'] == second['diff']['after'] == config


@pytest.mark.one_core
def test_bases_order_is_lookup_order_and_is_kept(ansible, devpi, user):
    for name in ('a', 'b'):
        ansible.run('devpi_index', dict(name='%s/%s' % (user, name)))
    ansible.run('devpi_index', dict(name=user + '/i', bases=[user + '/a', user + '/b']))
    swapped = ansible.run('devpi_index', dict(name=user + '/i', bases=[user + '/b', user + '/a']))
    assert swapped['changed'] is True
    assert devpi.index(user + '/i')['bases'] == [user + '/b', user + '/a']
    cleared = ansible.run('devpi_index', dict(name=user + '/i', bases=[]))
    assert cleared['changed'] is True
    assert devpi.index(user + '/i')['bases'] == []


@pytest.mark.one_core
def test_unset_options_are_left_alone(ansible, devpi, user):
    ansible.run('devpi_index', dict(name=user + '/i', title='Keep me', acl_upload=[user], volatile=False))
    result = ansible.run('devpi_index', dict(name=user + '/i', description='Added'), diff=True)
    assert result['changed'] is True
    config = devpi.index(user + '/i')
    assert (config['title'], config['acl_upload'], config['volatile'], config['description']) == \
        ('Keep me', [user], False, 'Added')
    assert result['diff']['after'] == dict(result['diff']['before'], description='Added')
    assert ansible.run('devpi_index', dict(name=user + '/i'))['changed'] is False


def test_check_mode_creates_and_changes_nothing(ansible, devpi, user):
    created = ansible.run('devpi_index', dict(name=user + '/i', volatile=False), check=True, diff=True)
    assert created['changed'] is True
    assert created['diff']['after'] == dict(type='stage', volatile=False)
    assert devpi.index(user + '/i') is None

    ansible.run('devpi_index', dict(name=user + '/i', title='Before'))
    changed = ansible.run('devpi_index', dict(name=user + '/i', title='After'), check=True)
    assert changed['changed'] is True and changed['index']['title'] == 'After'
    assert devpi.index(user + '/i')['title'] == 'Before'


@pytest.mark.one_core
def test_mirror_index_with_its_options(ansible, devpi, user):
    args = dict(name=user + '/mirror', type='mirror', mirror_url='http://127.0.0.1:9/simple/',
                mirror_cache_expiry=600, volatile=False, title='Upstream')
    first = ansible.run('devpi_index', args)
    assert first['changed'] is True
    config = devpi.index(user + '/mirror')
    assert (config['type'], config['mirror_url'], config['mirror_cache_expiry'], config['volatile']) == \
        ('mirror', 'http://127.0.0.1:9/simple/', 600, False)
    assert ansible.run('devpi_index', args)['changed'] is False
    moved = ansible.run('devpi_index', dict(name=user + '/mirror', mirror_url='https://127.0.0.1:9/simple/'))
    assert moved['changed'] is True
    assert devpi.index(user + '/mirror')['mirror_url'] == 'https://127.0.0.1:9/simple/'


@pytest.mark.one_core
def test_stage_options_on_a_mirror_are_refused(ansible, devpi, user):
    result = ansible.run('devpi_index', dict(name=user + '/m', type='mirror', bases=['root/pypi']))
    assert result['failed'] is True
    assert result['msg'] == 'bases cannot be set on mirror index %s/m: bases only applies to stage indexes' % user
    assert devpi.index(user + '/m') is None


def test_mirror_options_on_a_stage_index_are_refused(ansible, devpi, user):
    result = ansible.run('devpi_index', dict(name=user + '/s', mirror_url='http://127.0.0.1:9/simple/'))
    assert result['failed'] is True
    assert result['msg'] == 'mirror_url cannot be set on stage index %s/s: mirror_url only applies to mirror indexes' % user
    assert devpi.index(user + '/s') is None


def test_changing_the_type_is_refused(ansible, devpi, user):
    ansible.run('devpi_index', dict(name=user + '/s'))
    result = ansible.run('devpi_index', dict(name=user + '/s', type='mirror'))
    assert result['failed'] is True
    assert result['msg'].startswith('index %s/s is a stage index and devpi cannot change the type' % user)
    assert devpi.index(user + '/s')['type'] == 'stage'


@pytest.mark.one_core
def test_a_base_that_does_not_exist_fails_and_creates_nothing(ansible, devpi, user):
    result = ansible.run('devpi_index', dict(name=user + '/i', bases=['root/pypi', 'root/nope']))
    assert result['failed'] is True
    assert result['msg'] == 'bases: index root/nope does not exist on %s' % devpi.url
    assert devpi.index(user + '/i') is None
    malformed = ansible.run('devpi_index', dict(name=user + '/i', bases=['nope']))
    assert malformed['msg'] == "bases: 'nope' is not an index name of the form user/index"


@pytest.mark.parametrize('name', ['prod', 'root/', '/prod', 'root/prod/x'])
def test_an_index_name_without_user_is_refused(ansible, name):
    result = ansible.run('devpi_index', dict(name=name))
    assert result['failed'] is True
    assert result['msg'] == "name: '%s' is not an index name of the form user/index" % name


def test_a_mirror_url_that_is_not_http_is_refused(ansible, devpi, user):
    result = ansible.run('devpi_index', dict(name=user + '/m', type='mirror', mirror_url='ftp://127.0.0.1/simple/'))
    assert result['failed'] is True
    assert result['msg'] == "mirror_url 'ftp://127.0.0.1/simple/' must be an http:// or https:// URL"
    assert devpi.index(user + '/m') is None


@pytest.mark.one_core
def test_deleting_a_non_volatile_index_needs_force(ansible, devpi, user):
    ansible.run('devpi_index', dict(name=user + '/keep', volatile=False))
    refused = ansible.run('devpi_index', dict(name=user + '/keep', state='absent'))
    assert refused['failed'] is True
    assert refused['msg'] == ('index %s/keep is not volatile and devpi refuses to delete it; '
                              'set force: true to make it volatile and delete it' % user)
    assert devpi.index(user + '/keep') is not None

    check = ansible.run('devpi_index', dict(name=user + '/keep', state='absent', force=True), check=True)
    assert check['changed'] is True and devpi.index(user + '/keep')['volatile'] is False
    forced = ansible.run('devpi_index', dict(name=user + '/keep', state='absent', force=True), diff=True)
    assert forced['changed'] is True and forced['diff']['after'] == {}
    assert devpi.index(user + '/keep') is None
    assert ansible.run('devpi_index', dict(name=user + '/keep', state='absent'))['changed'] is False


@pytest.mark.one_core
def test_deleting_a_volatile_index_needs_no_force(ansible, devpi, user):
    ansible.run('devpi_index', dict(name=user + '/tmp'))
    assert ansible.run('devpi_index', dict(name=user + '/tmp', state='absent'))['changed'] is True
    assert devpi.index(user + '/tmp') is None


def test_the_servers_own_refusal_is_reported(ansible, devpi, user):
    result = ansible.run('devpi_index', dict(name=user + '/i'), connection=dict(url=devpi.url))
    assert result['failed'] is True
    assert result['msg'] == 'PUT /%s/i failed (HTTP 403): no permission to create index %s/i' % (user, user)
    assert result['status'] == 403


@pytest.mark.one_core
def test_names_compare_as_devpi_stores_them(ansible, devpi, user):
    """A second run with another spelling of the same projects and specials sends nothing."""
    name = user + '/spelled'
    first = ansible.run('devpi_index', dict(name=name, mirror_whitelist=['Acme_Tools', 'zope.Interface', '*'],
                                            acl_upload=[user, ':authenticated:'], acl_toxresult_upload=[':anonymous:']))
    assert first['changed'] is True
    stored = devpi.index(name)
    assert stored['mirror_whitelist'] == ['acme-tools', 'zope-interface', '*']
    assert stored['acl_upload'] == [user, ':AUTHENTICATED:'] and stored['acl_toxresult_upload'] == [':ANONYMOUS:']
    for spelling in (dict(mirror_whitelist=['Acme_Tools', 'zope.Interface', '*'], acl_upload=[user, ':authenticated:'],
                          acl_toxresult_upload=[':anonymous:']),
                     dict(mirror_whitelist=['acme.tools', 'ZOPE-interface', '*'], acl_upload=[user, ':Authenticated:'],
                          acl_toxresult_upload=[':ANONYMOUS:'])):
        again = ansible.run('devpi_index', dict(name=name, **spelling))
        assert again['changed'] is False, spelling
    assert devpi.index(name) == stored
