"""What the benchmarks share: the machine they ran on, and writing a result into a docs page."""

import os
import platform


def machine():
    """CPU, cores, memory, OS and Python of this machine, in one line."""
    with open('/proc/cpuinfo') as f:
        cpu = next((line.split(':', 1)[1].strip() for line in f if line.startswith('model name')), 'unknown CPU')
    with open('/proc/meminfo') as f:
        mem_gib = int(f.readline().split()[1]) / 1024 / 1024
    os_name = platform.platform()
    if os.path.exists('/etc/os-release'):
        with open('/etc/os-release') as f:
            fields = dict(line.rstrip().split('=', 1) for line in f if '=' in line)
        os_name = fields.get('PRETTY_NAME', os_name).strip('"')
    return '%s, %d cores, %.0f GiB, %s, Python %s' % (cpu, os.cpu_count(), mem_gib, os_name, platform.python_version())


def write_section(path, name, text):
    """Replace what stands between <!-- NAME begin --> and <!-- NAME end --> in a docs page."""
    begin, end = '<!-- %s begin -->' % name, '<!-- %s end -->' % name
    with open(path) as f:
        doc = f.read()
    with open(path, 'w') as f:
        f.write(doc[:doc.index(begin) + len(begin)] + '\n' + text + doc[doc.index(end):])
