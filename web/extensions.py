"""Flask extension objects, created unbound; ``create_app`` binds them in one ordered block."""

from __future__ import annotations

from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf import CSRFProtect

csrf = CSRFProtect()
# The flask-smorest Api and the OAuth authorization server hold per-app state (the OpenAPI
# spec, registered grants), so create_app builds one of each per app (web.api.base.make_api,
# web.api.oauth.init_oauth) and keeps them in app.extensions.


def _rate_limit_key() -> str:
    # Per client address; behind proxies ProxyFix (PROXY_COUNT) makes this the real client.
    return get_remote_address() or request.remote_addr or "unknown"


limiter = Limiter(key_func=_rate_limit_key, default_limits=[], headers_enabled=True)
