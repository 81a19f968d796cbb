# -*- coding: utf-8 -*-
# Copyright: (c) 2026, airgap.pypi_mirror contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The URL checks of the modules (module_utils/urls.py), for the roles' input checks."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.airgap.pypi_mirror.plugins.module_utils.urls import has_credentials, is_http_url, is_simple_index_url


class TestModule(object):

    def tests(self):
        return {'http_url': is_http_url, 'simple_index_url': is_simple_index_url, 'url_with_credentials': has_credentials}
