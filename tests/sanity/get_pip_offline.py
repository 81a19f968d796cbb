# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stand-in for the get-pip.py that ansible-test downloads to bootstrap pip into its sanity virtualenvs.

The original comes from a host outside the package registries this project may reach, so `make sanity`
puts this file in ansible-test's cache instead: pip comes from the standard library's ensurepip and then
installs the exact packages ansible-test asks for from the configured package index.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ensurepip
import os
import subprocess
import sys

# get-pip.py's own switches, which pip install does not know.
GET_PIP_ONLY = ('--no-setuptools', '--no-wheel')


def main():
    # ensurepip turns pip's configuration off in this process; the install below needs it (index, CA).
    environment = dict(os.environ)
    ensurepip.bootstrap()
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
    subprocess.check_call([sys.executable, '-m', 'pip', 'install'] + args, env=environment)


if __name__ == '__main__':
    main()
