# -*- coding: utf-8 -*-
# Copyright: (c) 2026, airgap.pypi_mirror contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The bundle's layout, written once: what pypi_bundle fills on the online side and what the site reads."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

# The clients' distributions: what the site index gets.
PACKAGES = 'packages'
# devpi-server and devpi-web with their dependencies, for the admin hosts.
SERVER = 'server'
SECTIONS = (PACKAGES, SERVER)
MANIFEST = 'manifest.json'


def layout(bundle_dir):
    """The paths of a bundle directory's parts: {dir, packages, server, manifest}."""
    bundle_dir = str(bundle_dir).rstrip('/') or '/'
    return dict(dir=bundle_dir, packages=os.path.join(bundle_dir, PACKAGES), server=os.path.join(bundle_dir, SERVER),
                manifest=os.path.join(bundle_dir, MANIFEST))
