"""Request bodies of API writes: JSON only (api-v1 conventions).

Without this check a body sent as ``text/plain`` or a form was silently read as empty: a
PATCH answered 200 having changed nothing, and a POST answered "missing field" for fields
that were there. Now such a body is a 415, and a body that is not valid JSON a 400 saying so.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from flask import request
from flask_smorest.utils import deepupdate
from webargs.core import is_json

from web.api.problems import problem

#: API writes are small structured records; files go through the documents endpoints.
MAX_JSON_BYTES = 1024 * 1024


def body_problem() -> Any | None:
    """The problem response for an unusable request body, or ``None``. An empty body is left
    to the operation's own validation (a missing required field is a 422 naming it)."""
    if (request.content_length or 0) > MAX_JSON_BYTES:
        return problem("payload-too-large", detail=f"Send at most {MAX_JSON_BYTES // 1024} KB of JSON")
    data = request.get_data(cache=True)
    if not data:
        return None
    if not is_json(request.mimetype):
        sent = f"not {request.mimetype}" if request.mimetype else "and say so with Content-Type: application/json"
        return problem("unsupported-media-type", detail=f"Send the request body as application/json, {sent}")
    try:
        json.loads(data)
    except json.JSONDecodeError as exc:
        return problem("bad-request", detail=f"The request body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")
    except ValueError:
        return problem("bad-request", detail="The request body is not valid JSON: send it as UTF-8")
    return None


def json_body(view: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate an API write (below ``require_scope``): refuse bodies that are not JSON."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        refused = body_problem()
        if refused is not None:
            return refused
        return view(*args, **kwargs)

    problem_ref = {"$ref": "#/components/responses/PROBLEM"}
    wrapper._apidoc = deepupdate(getattr(wrapper, "_apidoc", {}), {  # type: ignore[attr-defined]
        "manual_doc": {"responses": {"400": problem_ref, "415": problem_ref}},
    })
    return wrapper
