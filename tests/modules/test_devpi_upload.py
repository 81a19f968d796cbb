"""devpi_upload against a real devpi-server: files on the index, their hashes, and pip fetching them."""

import hashlib
import os
import re
import subprocess
import urllib.parse
import urllib.request

import pytest

from devpitest import make_egg, make_sdist, make_wheel, pip_download
from playbook_run import flat


def sha256(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


@pytest.fixture
def stage(ansible, unique):
    """A non-volatile stage index of its own."""
    ansible.run('devpi_user', dict(name=unique, password='pw-owner-1'))
    ansible.run('devpi_index', dict(name=unique + '/prod', volatile=False, acl_upload=[unique, 'root']))
    return unique + '/prod'


def test_uploads_a_directory_then_changes_nothing(ansible, devpi, stage, tmp_path):
    dist = tmp_path / 'dist'
    (dist / 'sources').mkdir(parents=True)
    wheel = make_wheel(dist, 'alpha-tool', '1.0')
    wheel2 = make_wheel(dist, 'alpha-tool', '1.1')
    # A subdirectory's files are the directory's too.
    sdist = make_sdist(dist / 'sources', 'beta-lib', '2.0')
    first = ansible.run('devpi_upload', dict(index=stage, src=[str(dist)], server_dir=devpi.serverdir))
    assert first['changed'] is True
    assert sorted(first['uploaded']) == sorted(os.path.basename(p) for p in (wheel, wheel2, sdist))
    assert (first['uploaded_count'], first['kept_count']) == (3, 0)
    expected = {os.path.basename(wheel): sha256(wheel), os.path.basename(wheel2): sha256(wheel2)}
    assert devpi.files(stage, 'alpha-tool') == expected
    assert devpi.files(stage, 'beta-lib') == {os.path.basename(sdist): sha256(sdist)}

    second = ansible.run('devpi_upload', dict(index=stage, src=[str(dist)]), judged=True)
    assert second['changed'] is False
    assert second['uploaded'] == [] and second['uploaded_count'] == 0
    assert sorted(second['kept']) == sorted(first['uploaded']) and second['kept_count'] == 3
    # Files kept are not a skipped task: no result key of the module is one Ansible reserves.
    assert second.judged == {'skipped': False, 'changed': False, 'failed': False}


@pytest.mark.one_core
def test_pip_installs_what_was_uploaded(ansible, devpi, stage, tmp_path):
    wheel = make_wheel(tmp_path, 'gamma-pkg', '3.1', payload=b'gamma', requires_python='>=3.8')
    ansible.run('devpi_upload', dict(index=stage, src=[wheel]))
    dest = tmp_path / 'downloaded'
    proc = pip_download(devpi, stage, 'gamma-pkg==3.1', dest)
    assert proc.returncode == 0, proc.stderr
    got = dest / os.path.basename(wheel)
    assert sha256(str(got)) == sha256(wheel)
    # The metadata went up with the file: pip sees Requires-Python on the simple page.
    with urllib.request.urlopen('%s/%s/+simple/gamma-pkg/' % (devpi.url, stage)) as resp:
        page = resp.read().decode()
    assert 'data-requires-python="&gt;=3.8"' in page


def test_check_mode_reports_and_uploads_nothing(ansible, devpi, stage, tmp_path):
    wheel = make_wheel(tmp_path, 'delta', '1.0')
    result = ansible.run('devpi_upload', dict(index=stage, src=[wheel]), check=True, diff=True)
    assert result['changed'] is True
    assert result['uploaded'] == [os.path.basename(wheel)]
    assert result['diff'] == dict(before=dict(files=[]), after=dict(files=[os.path.basename(wheel)]))
    assert devpi.files(stage, 'delta') == {}


@pytest.mark.one_core
def test_only_missing_files_are_uploaded(ansible, devpi, stage, tmp_path):
    old = make_wheel(tmp_path, 'eps', '1.0')
    ansible.run('devpi_upload', dict(index=stage, src=[old]))
    new = make_wheel(tmp_path, 'eps', '2.0')
    result = ansible.run('devpi_upload', dict(index=stage, src=[old, new]), diff=True)
    assert result['uploaded'] == [os.path.basename(new)]
    assert result['kept'] == [os.path.basename(old)]
    assert result['diff']['before'] == dict(files=[os.path.basename(old)])
    assert result['diff']['after'] == dict(files=sorted([os.path.basename(old), os.path.basename(new)]))
    assert set(devpi.files(stage, 'eps')) == {os.path.basename(old), os.path.basename(new)}


@pytest.mark.one_core
def test_other_content_under_the_same_name_fails_by_default_and_uploads_nothing(ansible, devpi, stage, tmp_path):
    (tmp_path / 'a').mkdir()
    (tmp_path / 'b').mkdir()
    original = make_wheel(tmp_path / 'a', 'zeta', '1.0', payload=b'original')
    ansible.run('devpi_upload', dict(index=stage, src=[original]))
    changed = make_wheel(tmp_path / 'b', 'zeta', '1.0', payload=b'rebuilt')
    extra = make_wheel(tmp_path / 'b', 'zeta', '1.1')
    result = ansible.run('devpi_upload', dict(index=stage, src=[str(tmp_path / 'b')]))
    assert result['failed'] is True
    assert result['msg'] == ('index %s is not volatile and already holds other content under the name of '
                             'zeta-1.0-py3-none-any.whl; nothing was uploaded '
                             '(set on_conflict: skip to leave those files in place)' % stage)
    assert devpi.files(stage, 'zeta') == {os.path.basename(original): sha256(original)}

    skipped = ansible.run('devpi_upload', dict(index=stage, src=[str(tmp_path / 'b')], on_conflict='skip'))
    assert skipped['changed'] is True
    assert skipped['uploaded'] == [os.path.basename(extra)]
    assert skipped['kept'] == skipped['conflicts'] == [os.path.basename(changed)]
    assert devpi.files(stage, 'zeta')[os.path.basename(original)] == sha256(original)


@pytest.mark.one_core
def test_a_volatile_index_gets_the_new_content(ansible, devpi, unique, tmp_path):
    ansible.run('devpi_user', dict(name=unique, password='pw-owner-1'))
    ansible.run('devpi_index', dict(name=unique + '/dev', volatile=True, acl_upload=['root']))
    (tmp_path / 'a').mkdir()
    (tmp_path / 'b').mkdir()
    ansible.run('devpi_upload', dict(index=unique + '/dev', src=[make_wheel(tmp_path / 'a', 'eta', '1.0', b'one')]))
    rebuilt = make_wheel(tmp_path / 'b', 'eta', '1.0', b'two')
    result = ansible.run('devpi_upload', dict(index=unique + '/dev', src=[rebuilt]))
    assert result['uploaded'] == [os.path.basename(rebuilt)]
    assert devpi.files(unique + '/dev', 'eta') == {os.path.basename(rebuilt): sha256(rebuilt)}


def test_a_mirror_index_is_refused_with_where_packages_go(ansible, tmp_path):
    result = ansible.run('devpi_upload', dict(index='root/pypi', src=[make_wheel(tmp_path, 'theta', '1.0')]))
    assert result['failed'] is True
    assert result['msg'] == ('index root/pypi is a mirror index and takes no uploads; packages go to a stage index '
                             'that lists root/pypi in its bases')


def test_a_missing_index_is_reported(ansible, devpi, tmp_path):
    result = ansible.run('devpi_upload', dict(index='root/nosuchindex', src=[make_wheel(tmp_path, 'iota', '1.0')]))
    assert result['failed'] is True
    assert result['msg'] == 'index root/nosuchindex does not exist on %s; create it first (devpi_index)' % devpi.url


def test_a_missing_path_fails_and_uploads_nothing(ansible, devpi, stage, tmp_path):
    good = make_wheel(tmp_path, 'kappa', '1.0')
    missing = str(tmp_path / 'nope.whl')
    result = ansible.run('devpi_upload', dict(index=stage, src=[good, missing]))
    assert result['failed'] is True
    assert result['msg'] == 'src: %s does not exist; nothing was uploaded' % missing
    assert devpi.files(stage, 'kappa') == {}


@pytest.mark.one_core
def test_a_file_that_is_not_a_distribution_fails_and_uploads_nothing(ansible, devpi, stage, tmp_path):
    good = make_wheel(tmp_path, 'lambda-x', '1.0')
    text = tmp_path / 'notes.txt'
    text.write_text('hello')
    result = ansible.run('devpi_upload', dict(index=stage, src=[good, str(text)]))
    assert result['failed'] is True
    assert result['msg'] == ('src: %s is not a Python distribution (expected a file ending with '
                             '.whl, .egg, .tar.gz, .tgz, .tar.bz2, .zip); nothing was uploaded' % text)
    fake = tmp_path / 'fake-1.0-py3-none-any.whl'
    fake.write_bytes(b'not a zip')
    broken = ansible.run('devpi_upload', dict(index=stage, src=[good, str(fake)]))
    assert broken['failed'] is True
    assert broken['msg'] == 'src: %s is not a Python distribution: File is not a zip file; nothing was uploaded' % fake
    assert devpi.files(stage, 'lambda-x') == {}


@pytest.mark.one_core
def test_a_directory_holding_a_file_that_is_not_a_distribution_fails_naming_it(ansible, devpi, stage, tmp_path):
    dist = tmp_path / 'dist'
    (dist / 'docs').mkdir(parents=True)
    make_wheel(dist, 'lambda-y', '1.0')
    (dist / 'docs' / 'README.txt').write_text('not a distribution')
    result = ansible.run('devpi_upload', dict(index=stage, src=[str(dist)]))
    assert result['failed'] is True
    assert result['msg'] == ('src: %s (in %s) is not a Python distribution (expected a file ending with '
                             '.whl, .egg, .tar.gz, .tgz, .tar.bz2, .zip); nothing was uploaded'
                             % (dist / 'docs' / 'README.txt', dist))
    assert devpi.files(stage, 'lambda-y') == {}


@pytest.mark.one_core
def test_two_files_of_the_same_name_fail_naming_both(ansible, devpi, stage, tmp_path):
    (tmp_path / 'a').mkdir()
    (tmp_path / 'b').mkdir()
    one = make_wheel(tmp_path / 'a', 'lambda-z', '1.0', payload=b'one')
    two = make_wheel(tmp_path / 'b', 'lambda-z', '1.0', payload=b'two')
    result = ansible.run('devpi_upload', dict(index=stage, src=[str(tmp_path / 'a'), str(tmp_path / 'b')]))
    assert result['failed'] is True
    assert result['msg'] == 'src: %s and %s have the same file name; nothing was uploaded' % (one, two)
    assert devpi.files(stage, 'lambda-z') == {}


@pytest.mark.one_core
@pytest.mark.parametrize('suffix', ['.tar.bz2', '.tgz', '.zip'])
def test_every_source_archive_format_is_uploaded_and_served(ansible, devpi, stage, tmp_path, suffix):
    name = 'fmt-' + suffix.strip('.').replace('.', '-')
    (tmp_path / 'dist').mkdir()
    sdist = make_sdist(tmp_path / 'dist', name, '1.0', suffix=suffix)
    result = ansible.run('devpi_upload', dict(index=stage, src=[str(tmp_path / 'dist')]))
    assert result['uploaded'] == [os.path.basename(sdist)], result.get('msg')
    assert devpi.files(stage, name) == {os.path.basename(sdist): sha256(sdist)}
    # What pip would fetch: the simple page's link for the file, and the bytes behind it.
    with urllib.request.urlopen('%s/%s/+simple/%s/' % (devpi.url, stage, name)) as resp:
        page = resp.read().decode()
    href = re.search(r'href="([^"]*/%s)#sha256=%s"' % (re.escape(os.path.basename(sdist)), sha256(sdist)), page)
    assert href, page
    with urllib.request.urlopen(urllib.parse.urljoin('%s/%s/+simple/%s/' % (devpi.url, stage, name), href.group(1))) as resp:
        assert hashlib.sha256(resp.read()).hexdigest() == sha256(sdist)


@pytest.mark.one_core
def test_an_egg_is_uploaded(ansible, devpi, stage, tmp_path):
    egg = make_egg(tmp_path, 'omicron-egg', '1.0')
    result = ansible.run('devpi_upload', dict(index=stage, src=[egg]))
    assert result['uploaded'] == [os.path.basename(egg)]
    assert devpi.files(stage, 'omicron-egg') == {os.path.basename(egg): sha256(egg)}


@pytest.mark.one_core
def test_files_nobody_gave_are_listed_and_kept_then_pruned(ansible, devpi, stage, tmp_path):
    (tmp_path / 'v1').mkdir()
    (tmp_path / 'v2').mkdir()
    old = make_wheel(tmp_path / 'v1', 'rho-lib', '1.0')
    gone = make_wheel(tmp_path / 'v1', 'sigma-lib', '1.0')
    ansible.run('devpi_upload', dict(index=stage, src=[str(tmp_path / 'v1')]))
    new = make_wheel(tmp_path / 'v2', 'rho-lib', '2.0')
    names = [os.path.basename(p) for p in (old, gone, new)]

    listed = ansible.run('devpi_upload', dict(index=stage, src=[new]))
    assert listed['uploaded'] == [names[2]]
    assert listed['extra'] == sorted(names[:2]) and listed['removed'] == []
    assert ('index %s holds 2 file(s) that are not among src: %s; they stay (prune: true removes them)'
            % (stage, ', '.join(sorted(names[:2])))) in flat(listed.output)
    assert set(devpi.files(stage, 'rho-lib')) == {names[0], names[2]}
    assert set(devpi.files(stage, 'sigma-lib')) == {names[1]}

    would = ansible.run('devpi_upload', dict(index=stage, src=[new], prune=True), check=True, diff=True)
    assert would['changed'] is True and would['removed'] == sorted(names[:2])
    assert would['diff'] == dict(before=dict(files=sorted(names)), after=dict(files=[names[2]]))
    assert set(devpi.files(stage, 'rho-lib')) == {names[0], names[2]}

    pruned = ansible.run('devpi_upload', dict(index=stage, src=[new], prune=True))
    assert pruned['changed'] is True and pruned['removed'] == sorted(names[:2]) and pruned['uploaded'] == []
    assert devpi.files(stage, 'rho-lib') == {names[2]: sha256(new)}
    assert devpi.files(stage, 'sigma-lib') == {}
    # The removed project is gone from the simple page too: pip cannot get it.
    assert pip_download(devpi, stage, 'sigma-lib', tmp_path / 'dl').returncode != 0

    again = ansible.run('devpi_upload', dict(index=stage, src=[new], prune=True))
    assert again['changed'] is False and again['extra'] == [] and again['removed'] == []


def test_a_user_without_upload_rights_gets_the_servers_message(ansible, devpi, stage, tmp_path, unique):
    ansible.run('devpi_user', dict(name=unique + 'x', password='pw-other-1'))
    connection = dict(url=devpi.url, auth_username=unique + 'x', auth_password='pw-other-1')
    result = ansible.run('devpi_upload', dict(index=stage, src=[make_wheel(tmp_path, 'mu', '1.0')]),
                         connection=connection)
    assert result['failed'] is True
    assert result['msg'].startswith('upload of mu-1.0-py3-none-any.whl to %s failed (HTTP 403): ' % stage)
    assert devpi.files(stage, 'mu') == {}


@pytest.fixture
def small_filesystem(tmp_path):
    """A 20 MiB tmpfs mounted for the test: room for 4 MiB beside devpi's database reserve of 16."""
    mount = tmp_path / 'small'
    mount.mkdir()
    subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=20m,mode=0755', 'tmpfs', str(mount)], check=True)
    yield str(mount)
    subprocess.run(['umount', str(mount)], check=True)


def test_no_room_in_the_server_dir_fails_naming_the_disk_and_the_file_before_any_upload(
        ansible, devpi, stage, tmp_path, small_filesystem):
    (tmp_path / 'dist').mkdir()
    small = make_wheel(tmp_path / 'dist', 'aa-small', '1.0')
    big = make_wheel(tmp_path / 'dist', 'zz-big', '1.0', blob=os.urandom(6 * 1024 * 1024))
    for check_mode in (True, False):
        result = ansible.run('devpi_upload', dict(index=stage, src=[str(tmp_path / 'dist')], server_dir=small_filesystem),
                             check=check_mode)
        assert result['failed'] is True
        assert re.fullmatch(
            r'no room for the upload to %s: the filesystem mounted on %s \(holding %s\): 20\.0 MiB free of 20\.0 MiB, '
            r"and the 2 file\(s\) to upload need 22\.\d MiB with devpi's database; %s is the first that does not fit\. "
            r'Nothing was uploaded: free space there \(or give devpi a larger disk\) and run again'
            % (stage, re.escape(small_filesystem), re.escape(small_filesystem), re.escape(os.path.basename(big))),
            result['msg']), result['msg']
    assert devpi.files(stage, 'aa-small') == {} and devpi.files(stage, 'zz-big') == {}
    # The small file alone fits.
    result = ansible.run('devpi_upload', dict(index=stage, src=[small], server_dir=small_filesystem))
    assert result['uploaded'] == [os.path.basename(small)]


def test_a_server_dir_that_is_not_a_directory_is_refused(ansible, devpi, stage, tmp_path):
    result = ansible.run('devpi_upload', dict(index=stage, src=[make_wheel(tmp_path, 'xi', '1.0')],
                                              server_dir=str(tmp_path / 'nowhere')))
    assert result['failed'] is True
    assert result['msg'] == 'server_dir %s is not a directory on this host; nothing was uploaded' % (tmp_path / 'nowhere')
    assert devpi.files(stage, 'xi') == {}


def test_workers_below_one_is_refused(ansible, devpi, stage, tmp_path):
    result = ansible.run('devpi_upload', dict(index=stage, src=[make_wheel(tmp_path, 'nu', '1.0')], workers=0))
    assert result['failed'] is True
    assert result['msg'] == 'workers must be 1 or more, not 0'
    assert devpi.files(stage, 'nu') == {}


@pytest.mark.one_core
def test_one_worker_uploads_the_same(ansible, devpi, stage, tmp_path):
    (tmp_path / 'dist').mkdir()
    wheels = [make_wheel(tmp_path / 'dist', 'pi-%d' % i, '1.0') for i in range(3)]
    result = ansible.run('devpi_upload', dict(index=stage, src=[str(tmp_path / 'dist')], workers=1))
    assert sorted(result['uploaded']) == sorted(os.path.basename(w) for w in wheels)
    for i, wheel in enumerate(wheels):
        assert devpi.files(stage, 'pi-%d' % i) == {os.path.basename(wheel): sha256(wheel)}


@pytest.mark.one_core
def test_a_non_ascii_file_name_is_found_on_the_index_and_not_sent_again(ansible, devpi, stage, tmp_path):
    sdist = make_sdist(tmp_path, 'kaffee-tool', '1.0')
    named = tmp_path / 'kaffee-tool-1.0+café.tar.gz'
    os.rename(str(sdist), str(named))
    first = ansible.run('devpi_upload', dict(index=stage, src=[str(named)]))
    assert first['changed'] is True and first['uploaded'] == [named.name]
    second = ansible.run('devpi_upload', dict(index=stage, src=[str(named)]))
    assert second['changed'] is False and second['kept'] == [named.name]
