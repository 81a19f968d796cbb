"""A wheel dropped from the bundle is not uploaded again: root/prod names it until pypi_mirror_prune removes it,
and a bundle that has it again puts it back."""

import json
import os
import shutil

from playbook_run import flat, run_playbook

testinfra_hosts = ['ansible://admin']
BUNDLE = os.path.join(os.environ.get('MOLECULE_PROJECT_DIRECTORY', ''), '.tmp', 'bundle-default')
# The JSON API of one project on root/prod alone (not its bases): {file name: sha256}.
FILES = ("python3 -c \"import json, urllib.request as u\n"
         "r = u.urlopen(u.Request('http://127.0.0.1:3141/root/prod/%s?ignore_bases', headers={'Accept': 'application/json'}))\n"
         "links = [l for v in json.load(r)['result'].values() for l in v.get('+links', [])]\n"
         "print(json.dumps(dict((l['href'].rsplit('/', 1)[-1], l['hashes']['sha256']) for l in links)))\"")


def prod_files(host, project):
    run = host.run(FILES % project)
    return json.loads(run.stdout) if run.rc == 0 else {}


def site(*args, **extra_vars):
    return run_playbook('site.yml', '-e', json.dumps(extra_vars), *args)


def test_a_wheel_dropped_from_the_bundle_stays_out_until_it_is_back(host, tmp_path):
    manifest = json.loads(open(os.path.join(BUNDLE, 'manifest.json')).read())
    # The bundle has two projects; the nodes probe the first, so the runs without it stay on admin.
    dropped = sorted((e for e in manifest['files'] if e['section'] == 'packages' and e['project'] != 'netaddr'),
                     key=lambda e: e['file'])[0]
    assert prod_files(host, dropped['project']) == {dropped['file']: dropped['sha256']}

    # The next bundle, built without it: its manifest no longer lists it.
    bundle = tmp_path / 'bundle'
    shutil.copytree(BUNDLE, str(bundle))
    os.remove(str(bundle / 'packages' / dropped['file']))
    manifest['files'] = [e for e in manifest['files'] if e is not dropped and e['file'] != dropped['file']]
    (bundle / 'manifest.json').write_text(json.dumps(manifest, indent=2, sort_keys=True) + '\n')

    kept = site('--limit', 'admin', pypi_mirror_bundle_dir=str(bundle))
    assert kept.returncode == 0, kept.stdout[-3000:]
    assert ('index root/prod holds 1 file(s) that are not among src: %s; they stay (prune: true removes them)'
            % dropped['file']) in flat(kept.stdout + kept.stderr)
    assert prod_files(host, dropped['project']) == {dropped['file']: dropped['sha256']}
    assert not host.file('/var/cache/devpi-uploads/root_prod/%s' % dropped['file']).exists

    pruned = site('--limit', 'admin', pypi_mirror_bundle_dir=str(bundle), pypi_mirror_prune=True)
    assert pruned.returncode == 0, pruned.stdout[-3000:]
    assert prod_files(host, dropped['project']) == {}

    # The scenario's own bundle has it: it goes up again, the same bytes (the site index is admin's alone).
    back = site('--limit', 'admin')
    assert back.returncode == 0, back.stdout[-3000:]
    assert prod_files(host, dropped['project']) == {dropped['file']: dropped['sha256']}
