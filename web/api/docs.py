"""Human-readable API documentation, rendered from the generated OpenAPI document.

Served as a GOV.UK page (no third-party script, so it passes the same CSP and axe checks as
every other page); every problem type has its own page at its ``type`` URI.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template

from web.api.problems import PROBLEM_TYPES
from web.api.base import current_api

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")

_METHODS = ("get", "post", "put", "patch", "delete")


def _resolve(spec: dict[str, Any], node: Any) -> Any:
    if isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return target
    return node


def _schema_rows(spec: dict[str, Any], schema: Any) -> list[dict[str, Any]]:
    schema = _resolve(spec, schema)
    required = set(schema.get("required", []))
    rows = []
    for name, prop in (schema.get("properties") or {}).items():
        prop = _resolve(spec, prop)
        kind = prop.get("type", "object")
        if isinstance(kind, list):
            kind = " or ".join(kind)
        if prop.get("format"):
            kind = f"{kind} ({prop['format']})"
        if prop.get("enum"):
            kind = f"{kind}: {', '.join(str(e) for e in prop['enum'] if e is not None)}"
        rows.append({"name": name, "type": kind, "required": name in required,
                     "read_only": prop.get("readOnly", False), "description": prop.get("description", "")})
    return rows


@bp.get("/docs")
def docs():  # type: ignore[no-untyped-def]
    spec = current_api().spec.to_dict()
    operations = []
    for path, item in sorted(spec.get("paths", {}).items()):
        for method in _METHODS:
            op = item.get(method)
            if op is None:
                continue
            body = None
            content = (op.get("requestBody") or {}).get("content", {})
            if "application/json" in content:
                body = _schema_rows(spec, content["application/json"]["schema"])
            params = [_resolve(spec, p) for p in op.get("parameters", []) + item.get("parameters", [])]
            responses = []
            for code, resp in sorted(op.get("responses", {}).items()):
                resp = _resolve(spec, resp)
                responses.append({"code": code, "description": resp.get("description", "")})
            scopes = [s for req in op.get("security", []) for s in req.get("oauth2", [])]
            operations.append({
                "method": method.upper(), "path": path, "summary": op.get("summary", ""),
                "description": op.get("description", ""), "params": params, "body": body,
                "responses": responses, "scopes": scopes,
                "anchor": f"{method}-{path.strip('/').replace('/', '-').replace('{', '').replace('}', '')}",
            })
    return render_template("api/docs.html", title="API for software suppliers", operations=operations,
                           problems=PROBLEM_TYPES.values(), version=spec["info"]["version"])


@bp.get("/problems/<name>")
def problem_type(name: str):  # type: ignore[no-untyped-def]
    ptype = PROBLEM_TYPES.get(name)
    if ptype is None:
        abort(404)
    return render_template("api/problem.html", title=ptype.title, ptype=ptype)
