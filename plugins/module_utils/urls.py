# -*- coding: utf-8 -*-
# Copyright: (c) 2026, airgap.pypi_mirror contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Which URLs the collection accepts, written once for the modules and (through test plugins) the roles."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from urllib.parse import urlsplit

_HTTP_URL = re.compile(r'^https?://[^/\s]+')
_SIMPLE_INDEX_URL = re.compile(r'^https?://[^/\s]+/\S*\+simple/$')


def is_http_url(url):
    """An http:// or https:// URL with a host."""
    return isinstance(url, str) and bool(_HTTP_URL.match(url))


def is_simple_index_url(url):
    """A simple index as pip takes it: an http(s) URL whose path ends with /+simple/ (devpi's index pages)."""
    return isinstance(url, str) and bool(_SIMPLE_INDEX_URL.match(url))


def has_credentials(url):
    """A URL that carries a user name or password (https://user:token@host/): devpi shows a mirror_url to anyone."""
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.username is not None or parts.password is not None


def local_url(listen, port):
    """Where a process on the same host reaches a server that listens on LISTEN: loopback for every address."""
    listen = (listen or '').strip()
    if listen in ('', '0.0.0.0', 'localhost'):
        host = '127.0.0.1'
    elif listen == '::':
        host = '[::1]'
    elif ':' in listen and not listen.startswith('['):
        host = '[%s]' % listen
    else:
        host = listen
    return 'http://%s:%s' % (host, port)
