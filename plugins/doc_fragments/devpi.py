# -*- coding: utf-8 -*-
# Copyright: (c) 2026, airgap.pypi_mirror contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # The connection options of every devpi module; set them once with
    # module_defaults for group/airgap.pypi_mirror.devpi.
    DOCUMENTATION = r'''
options:
  url:
    description:
      - Base URL of the devpi-server, for example C(http://127.0.0.1:3141).
      - The modules run on the managed host, so the URL must be reachable from there.
    type: str
    required: true
  auth_username:
    description:
      - User to log in as (C(POST /+login)); later requests carry the token in the C(X-Devpi-Auth) header.
      - Without it every request is anonymous.
    type: str
  auth_password:
    description:
      - Password of O(auth_username). Never logged or shown.
    type: str
  validate_certs:
    description:
      - Verify the server's TLS certificate when O(url) is C(https).
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the CA that signed the server's certificate, for a site CA.
    type: path
  timeout:
    description:
      - Seconds to wait for one HTTP reply.
    type: int
    default: 30
  wait_timeout:
    description:
      - Seconds to keep retrying while the server refuses connections, for a server that is still starting.
      - Then the module fails and says the server is not reachable.
    type: int
    default: 10
'''

    ATTRIBUTES = r'''
attributes:
  action_group:
    description: Use C(group/airgap.pypi_mirror.devpi) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - airgap.pypi_mirror.devpi
'''
