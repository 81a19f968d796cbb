"""The fenced blocks of a page in docs/, as tests run them: a file (a yaml block whose first line is `# PATH`)
or commands (an sh block, one per line). Any other block is an error: every snippet a page shows is run."""

import collections
import os
import re
import shlex

from playbook_run import REPO

Snippet = collections.namedtuple('Snippet', 'kind path text')  # kind: 'file' (path, text) or 'command' (text)
_FENCE = re.compile(r'^```(\w*)\n(.*?)^```\s*$', re.M | re.S)


def snippets(page):
    """Every fenced block of docs/PAGE, in the page's order."""
    with open(os.path.join(REPO, 'docs', page), encoding='utf-8') as handle:
        text = handle.read()
    found = []
    for match in _FENCE.finditer(text):
        language, body = match.group(1), match.group(2)
        first = body.split('\n', 1)[0]
        if language == 'yaml' and re.match(r'# [\w./-]+\.ya?ml$', first):
            found.append(Snippet('file', first[2:], body))
        elif language == 'sh':
            found.extend(Snippet('command', None, line) for line in body.splitlines() if line.strip())
        else:
            raise ValueError('docs/%s: a ```%s block that no test can run: %s' % (page, language, first))
    return found


def files(page):
    """{path: text} of the page's file snippets."""
    return dict((s.path, s.text) for s in snippets(page) if s.kind == 'file')


def write_files(page, root):
    """The page's file snippets written under ROOT (a pathlib.Path), as a user's checkout holds them."""
    for path, text in files(page).items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)


def command(page, start):
    """The argv of the page's one command that begins with START."""
    hits = [s.text for s in snippets(page) if s.kind == 'command' and s.text.startswith(start)]
    assert len(hits) == 1, 'docs/%s has %d commands that begin with %r' % (page, len(hits), start)
    return shlex.split(hits[0])
