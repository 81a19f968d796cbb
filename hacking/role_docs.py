"""The roles' variable tables, generated from their argument specs, so the READMEs cannot drift.

Each role's meta/argument_specs.yml is the one description of its variables; defaults/main.yml is the
one place their values are set. This script checks that the two agree (every default declared, every
declared default set to the same value) and writes the tables between the GENERATED markers of each
role's README.md and of the collection's README.md (the site variables of the pypi_mirror role).

    python hacking/role_docs.py           rewrite the tables (make docs)
    python hacking/role_docs.py --check   exit 1, naming each file and variable, if anything drifted
"""

import argparse
import difflib
import json
import os
import re
import sys

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN = '<!-- BEGIN generated from meta/argument_specs.yml by hacking/role_docs.py: edit the spec, not this table -->'
END = '<!-- END generated -->'
SITE_ROLE = 'pypi_mirror'
_MARKUP = re.compile(r'\b([OCVMIPBU]|RV)\(([^)]*)\)')


def markdown(text):
    """Ansible's documentation markup (O(), C(), V(), M(), I(), P()...) as Markdown."""
    def one(match):
        kind, body = match.groups()
        if kind == 'I':
            return '*%s*' % body
        if kind == 'P':
            body = body.split('#')[0]
        return '`%s`' % body.replace('|', '\\|')
    return _MARKUP.sub(one, text).replace('\n', ' ')


def description(option):
    text = option.get('description', '')
    return markdown(' '.join(text) if isinstance(text, list) else text)


def shown_default(option):
    if option.get('required'):
        return '(required)'
    if 'default' not in option:
        return '(unset)'
    value = option['default']
    if isinstance(value, str):
        return '`%s`' % value.replace('|', '\\|') if value else '`""`'
    text = json.dumps(value) if isinstance(value, (bool, int, float)) else yaml.safe_dump(
        value, default_flow_style=True, width=10000).strip()
    return '`%s`' % text.replace('|', '\\|')


def option_row(name, option):
    kind = option.get('type', 'str')
    if option.get('elements'):
        kind += ' of ' + option['elements']
    return '| `%s` | %s | %s | %s |' % (name, kind, shown_default(option), description(option))


def table(options):
    rows = ['| variable | type | default | what it does |', '|---|---|---|---|']
    return rows + [option_row(name, option) for name, option in options.items()]


def role_section(specs):
    """Markdown for every entry point: main in full, the others by name where main declares the variable."""
    main = specs.get('main', {}).get('options', {})
    lines = []
    for entry, spec in specs.items():
        options = spec.get('options') or {}
        if entry == 'main':
            lines += ['Entry point `main`: %s.' % markdown(spec.get('short_description', '')), ''] + table(options)
            continue
        lines += ['', 'Entry point `%s` (`tasks_from: %s`): %s.' % (entry, entry, markdown(spec.get('short_description', '')))]
        shared = [n for n in options if n in main and options[n] == main[n]]
        own = dict((n, o) for n, o in options.items() if n not in shared)
        if shared:
            lines += ['It reads ' + ', '.join('`%s`' % n for n in shared) + ', as above.']
        if own:
            lines += [''] + table(own)
        if not options:
            lines += ['It reads no variable.']
    return lines


def site_table(specs):
    """The collection README's table: the site variables with their defaults."""
    rows = ['| variable | default | what it is |', '|---|---|---|']
    for name, option in specs['main']['options'].items():
        rows.append('| `%s` | %s | %s |' % (name, shown_default(option), description(option)))
    return rows


def drift(role, specs, defaults):
    """Each way the spec and defaults/main.yml disagree, as a sentence naming the variable."""
    problems = []
    declared = {}
    for entry, spec in specs.items():
        for name, option in (spec.get('options') or {}).items():
            declared.setdefault(name, option)
            if name in defaults and option.get('default', None) != defaults[name]:
                problems.append('%s: %s defaults to %r in defaults/main.yml but its spec (entry point %s) says %r'
                                % (role, name, defaults[name], entry, option.get('default')))
            if name not in defaults and 'default' in option:
                problems.append('%s: %s has a default in its spec (entry point %s) but none in defaults/main.yml'
                                % (role, name, entry))
    for name in defaults:
        if name not in declared:
            problems.append('%s: %s is set in defaults/main.yml but declared by no argument spec' % (role, name))
    return problems


def splice(text, lines, path):
    if BEGIN not in text or END not in text:
        raise SystemExit('%s has no %s ... %s markers' % (path, BEGIN, END))
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    return head + BEGIN + '\n' + '\n'.join(lines) + '\n' + END + tail


def load(path):
    with open(path) as f:
        return yaml.safe_load(f) or {}


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--check', action='store_true', help='change nothing; exit 1 on drift')
    parser.add_argument('--root', default=REPO, help='the collection (default: this checkout)')
    args = parser.parse_args(argv)
    problems, wanted = [], {}
    roles_dir = os.path.join(args.root, 'roles')
    for role in sorted(os.listdir(roles_dir)):
        base = os.path.join(roles_dir, role)
        specs = load(os.path.join(base, 'meta', 'argument_specs.yml'))['argument_specs']
        defaults_path = os.path.join(base, 'defaults', 'main.yml')
        problems += drift(role, specs, load(defaults_path) if os.path.exists(defaults_path) else {})
        wanted[os.path.join(base, 'README.md')] = role_section(specs)
        if role == SITE_ROLE:
            wanted[os.path.join(args.root, 'README.md')] = site_table(specs)
    for path, lines in sorted(wanted.items()):
        with open(path) as f:
            before = f.read()
        after = splice(before, lines, path)
        if after == before:
            continue
        if args.check:
            problems.append('%s is not what the specs say; run hacking/role_docs.py:\n%s' % (
                os.path.relpath(path, args.root), ''.join(difflib.unified_diff(
                    before.splitlines(True), after.splitlines(True), 'README', 'from the specs', n=0))))
        else:
            with open(path, 'w') as f:
                f.write(after)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
