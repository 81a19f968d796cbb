# -*- coding: utf-8 -*-
# Copyright: (c) 2026, airgap.pypi_mirror contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The bundle's layout, the distributions a src list means, a platform's shape and the server's local URL for the roles,
from the module_utils that own them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.airgap.pypi_mirror.plugins.module_utils.bundle import layout
from ansible_collections.airgap.pypi_mirror.plugins.module_utils.distribution import find_distributions
from ansible_collections.airgap.pypi_mirror.plugins.module_utils.platforms import shape
from ansible_collections.airgap.pypi_mirror.plugins.module_utils.urls import local_url


def bundle_layout(bundle_dir):
    if not isinstance(bundle_dir, str) or not bundle_dir:
        raise AnsibleFilterError('bundle_layout needs the bundle directory, not %r' % (bundle_dir,))
    return layout(bundle_dir)


def distribution_files(sources):
    if isinstance(sources, str) or not isinstance(sources, (list, tuple)):
        raise AnsibleFilterError('distribution_files needs a list of files and directories, not %r' % (sources,))
    files, problems = find_distributions([str(s) for s in sources], read=True)
    return dict(files=files, problems=problems)


def platform(fact, hosts=None):
    if not isinstance(fact, Mapping):
        raise AnsibleFilterError('platform needs a dict such as the python_platform fact, not %r' % (fact,))
    # A platform as a manifest lists it keeps its own hosts unless others are given.
    return shape(fact, hosts if hosts is not None else fact.get('hosts'))


class FilterModule(object):

    def filters(self):
        return {'bundle_layout': bundle_layout, 'distribution_files': distribution_files, 'platform': platform,
                'local_url': local_url}
