"""The site index's ACLs as the pypi_mirror role sets them, against a real devpi-server: nobody anonymous writes."""

import json

import pytest

from devpitest import make_wheel, multipart_upload

SITE_ACLS = dict(acl_upload=['root'], acl_toxresult_upload=['root'])


def snapshot(devpi, index, project):
    """What anybody could change: the index's settings, its files, and the test results attached to them."""
    version = devpi.get('/%s/%s' % (index, project))
    links = [link for release in version.values() for link in release.get('+links', [])]
    return json.dumps([devpi.index(index), devpi.files(index, project), links], sort_keys=True)


def file_path(devpi, index, project, version):
    href = devpi.get('/%s/%s/%s' % (index, project, version))['+links'][0]['href']
    return href[len(devpi.url):]


@pytest.mark.one_core
def test_the_site_index_refuses_anonymous_uploads_and_test_results(ansible, devpi, unique, tmp_path):
    index = 'root/%s' % unique
    created = ansible.run('devpi_index', dict(name=index, volatile=False, **SITE_ACLS))
    assert created['index']['acl_toxresult_upload'] == ['root']
    wheel = make_wheel(tmp_path, 'site-tool', '1.0')
    ansible.run('devpi_upload', dict(index=index, src=[str(wheel)]))
    before = snapshot(devpi, index, 'site-tool')

    (tmp_path / 'other').mkdir()
    other = make_wheel(tmp_path / 'other', 'site-tool', '2.0')
    body, content_type = multipart_upload(other)
    # devpi asks an anonymous uploader to log in: 401, and the file is not there.
    assert devpi.anonymous_post('/%s/' % index, body, content_type) == 401
    toxresult = json.dumps({'testenvs': {'py': {}}}).encode()
    assert devpi.anonymous_post(file_path(devpi, index, 'site-tool', '1.0'), toxresult, 'application/json') == 403
    assert snapshot(devpi, index, 'site-tool') == before


@pytest.mark.one_core
def test_devpis_own_default_takes_anonymous_test_results(ansible, devpi, unique, tmp_path):
    """What the explicit ACL prevents: without it, an anonymous POST attaches data to a file on the index."""
    index = 'root/%s' % unique
    ansible.run('devpi_index', dict(name=index, volatile=False))
    wheel = make_wheel(tmp_path, 'open-tool', '1.0')
    ansible.run('devpi_upload', dict(index=index, src=[str(wheel)]))
    before = snapshot(devpi, index, 'open-tool')
    toxresult = json.dumps({'testenvs': {'py': {}}}).encode()
    assert devpi.anonymous_post(file_path(devpi, index, 'open-tool', '1.0'), toxresult, 'application/json') == 200
    assert snapshot(devpi, index, 'open-tool') != before
