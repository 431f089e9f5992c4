"""RFC 9457 problem details: the one error format of the public API.

Each problem type has a stable ``type`` URI (``/api/v1/problems/<name>``, documented at that
address) that vendors can match on; ``title`` is fixed per type; ``detail`` explains this
occurrence. Nothing in a problem ever carries another tenant's data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Response, g, has_request_context, json

PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class ProblemType:
    name: str
    status: int
    title: str
    description: str


PROBLEM_TYPES: dict[str, ProblemType] = {p.name: p for p in (
    ProblemType("bad-request", 400, "Bad request",
                "The request could not be read: malformed JSON, a bad cursor, or a header in the wrong form."),
    ProblemType("unauthorized", 401, "Authentication required",
                "Send a valid, unexpired access token from POST /oauth/token as `Authorization: Bearer <token>`."),
    ProblemType("insufficient-scope", 403, "Insufficient scope",
                "The access token does not carry the scope this operation needs; ask for it when requesting the token, "
                "or ask the council to grant it to your client."),
    ProblemType("not-found", 404, "Not found",
                "There is no such resource, or it is not yours to see. The two are deliberately indistinguishable."),
    ProblemType("method-not-allowed", 405, "Method not allowed", "The resource does not support this HTTP method."),
    ProblemType("conflict", 409, "Conflict",
                "The request is valid but clashes with the current state, such as a second child with the same UPN."),
    ProblemType("unsupported-media-type", 415, "Unsupported media type", "Send the request body as application/json."),
    ProblemType("validation-error", 422, "Validation error",
                "One or more fields are invalid; `errors` maps each field to its messages. Nothing was changed."),
    ProblemType("idempotency-key-reused", 422, "Idempotency key reused",
                "The Idempotency-Key was already used for a different request. Use a new key for a new request."),
    ProblemType("rate-limited", 429, "Too many requests", "Slow down; the Retry-After header says when to try again."),
    ProblemType("server-error", 500, "Internal server error",
                "Something went wrong on our side. Nothing was changed. Quote the request id when you contact support."),
    # Issue #5: document storage (S3) down or refusing; nothing was changed (STYLE.md section 8).
    ProblemType("service-unavailable", 503, "Service unavailable",
                "A system the request needs, such as document storage, cannot be reached. Nothing was changed. "
                "Try again later."),
    ProblemType("payload-too-large", 413, "Payload too large", "The request body is larger than the API accepts."),
)}

_BY_STATUS = {
    400: "bad-request", 401: "unauthorized", 403: "insufficient-scope", 404: "not-found", 405: "method-not-allowed",
    409: "conflict", 413: "payload-too-large", 415: "unsupported-media-type", 422: "validation-error",
    429: "rate-limited", 500: "server-error", 503: "service-unavailable",
}


def type_uri(name: str) -> str:
    return f"/api/v1/problems/{name}"


def problem(name: str | None = None, *, status: int | None = None, detail: str | None = None,
            errors: dict[str, list[str]] | None = None, headers: dict[str, str] | None = None,
            request_id: str | None = None) -> Response:
    """Build a problem response by type name (or by status, for generic HTTP errors)."""
    if name is None:
        name = _BY_STATUS.get(status or 500, "server-error" if (status or 500) >= 500 else "bad-request")
    ptype = PROBLEM_TYPES[name]
    body: dict[str, Any] = {
        "type": type_uri(ptype.name),
        "title": ptype.title,
        "status": status or ptype.status,
        "detail": detail or ptype.description,
    }
    if errors:
        body["errors"] = errors
    request_id = request_id or (g.get("request_id") if has_request_context() else None)
    if request_id:
        body["request_id"] = request_id
    resp = Response(json.dumps(body), status=body["status"], mimetype=PROBLEM_JSON)
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def flatten_webargs_errors(messages: Any) -> dict[str, list[str]]:
    """webargs nests errors by location ({"json": {"field": [...]}}); the contract wants
    ``{field: [messages]}``. Nested fields become dotted names."""
    out: dict[str, list[str]] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), sub)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            out.setdefault(prefix or "_schema", []).extend(value)
        else:
            out.setdefault(prefix or "_schema", []).append(str(value))

    if isinstance(messages, dict):
        for location, fields in messages.items():
            if location in ("json", "query", "form", "headers", "view_args", "querystring") and isinstance(fields, dict):
                walk("", fields)
            else:
                walk(str(location), fields)
    return out
