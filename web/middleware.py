"""WSGI middleware: tenants addressed by path (``/t/<slug>/...``).

The prefix moves from ``PATH_INFO`` to ``SCRIPT_NAME``, so the app's routes never see it
and ``url_for`` puts it back on every link: one set of routes serves both
``kent.<base domain>/children`` and ``127.0.0.1:5000/t/kent/children``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

_PREFIX = re.compile(r"^/t/([a-z][a-z0-9-]{1,61}[a-z0-9])(/.*)?$")

PATH_SLUG_KEY = "sendbridge.path_slug"


class TenantPathMiddleware:
    def __init__(self, app: Callable[..., Iterable[bytes]]):
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        m = _PREFIX.match(path)
        if m:
            slug, rest = m.group(1), m.group(2)
            if rest is None:
                # /t/kent -> /t/kent/ so relative URLs resolve under the tenant.
                location = environ.get("SCRIPT_NAME", "") + path + "/"
                start_response("308 Permanent Redirect", [("Location", location), ("Content-Length", "0")])
                return [b""]
            environ[PATH_SLUG_KEY] = slug
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + f"/t/{slug}"
            environ["PATH_INFO"] = rest
        elif path.startswith("/t/"):
            environ[PATH_SLUG_KEY] = ""  # a malformed slug: resolves to no tenant -> 404
        return self.app(environ, start_response)
