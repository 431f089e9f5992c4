"""``Idempotency-Key`` for API writes (api-v1 conventions).

A repeat with the same key (and the same request) returns the first result, with the header
``Idempotent-Replayed: true``; the first result is stored in the same transaction as the
write itself, so either both happen or neither does. Two concurrent requests with one key
produce one write: the second waits on the unique index, then replays the first's result.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from flask import Response, json, request
from flask_smorest.utils import deepupdate

from core.db import db
from core.idempotency import services as idem
from web.api.problems import problem
from web.context import current_actor

_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces


def _replay(stored: idem.StoredResponse) -> Response:
    resp = Response(json.dumps(stored.body), status=stored.status_code, mimetype="application/json")
    if stored.location:
        resp.headers["Location"] = stored.location
    resp.headers["Idempotent-Replayed"] = "true"
    return resp


def idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(*args, **kwargs)
        if not _KEY.match(key):
            return problem("validation-error", errors={"Idempotency-Key": [
                "Send 1 to 255 printable ASCII characters without spaces, such as a UUID"]})
        actor = current_actor()
        fp = idem.fingerprint(request.method, request.path, request.get_json(silent=True))
        stored = idem.find(actor.id, key, fp)
        if stored is not None:
            return _replay(stored)
        response = view(*args, **kwargs)
        if not isinstance(response, Response) or not 200 <= response.status_code < 300:
            return response
        try:
            idem.remember(actor.id, key, fp, response.status_code, response.get_json(), response.headers.get("Location"))
        except idem.KeyAlreadyUsed:
            # Another request with this key committed first: undo ours, answer with theirs.
            db.session.rollback()
            stored = idem.find(actor.id, key, fp)
            if stored is not None:
                return _replay(stored)
            return problem("conflict", detail="A request with this Idempotency-Key is still being processed; retry shortly")
        return response

    wrapper._apidoc = deepupdate(getattr(wrapper, "_apidoc", {}), {  # type: ignore[attr-defined]
        "manual_doc": {"parameters": [{
            "in": "header", "name": "Idempotency-Key", "required": False, "schema": {"type": "string", "maxLength": 255},
            "description": "Any unique string (a UUID is ideal). A repeat with the same key within 24 hours returns "
                           "the first result instead of acting twice.",
        }]},
    })
    return wrapper
