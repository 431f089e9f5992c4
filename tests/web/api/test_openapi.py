"""The generated OpenAPI 3.1 document (``/api/v1/openapi.json``), the docs page and the
problem type pages.

``openapi-spec-validator`` is not a dependency, so the structure is checked here: every
``$ref`` resolves, every templated path parameter is declared, every operation has a success
response and problem responses, and every data route of ``/api/v1`` is documented.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.web.api.conftest import PROBLEM_JSON, assert_problem

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
WRITE_METHODS = {"post", "put", "patch", "delete"}
# Routes under /api/v1 that describe the API rather than serve data.
NOT_DATA = {"api-docs.openapi_json", "api_docs.docs", "api_docs.problem_type"}
# Operations api-v1.md says need no token ("POST /api/v1/timescales ... Stores nothing, needs no
# token"): exempt from the security, scope and Idempotency-Key checks once they exist.
TOKENLESS = {("/api/v1/timescales", "post")}
CHILD_FIELDS = {"given_name", "family_name", "date_of_birth", "upn", "uln", "nhs_number", "sex", "postcode"}
# api-v1.md "Tenants and API clients": <resource>:read / <resource>:write for these resources.
CONTRACT_SCOPES = {f"{r}:{m}" for r in ("children", "cases", "plans", "transfers", "disagreements", "settings",
                                         "local-offer", "reports") for m in ("read", "write")}


@pytest.fixture
def spec(app: Any) -> dict[str, Any]:
    resp = app.test_client().get("/api/v1/openapi.json")
    assert resp.status_code == 200
    assert resp.mimetype == "application/json"
    return resp.get_json()  # type: ignore[no-any-return]


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def guarded_operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Operations that need a token (all but ``TOKENLESS``)."""
    return ((p, m, op) for p, m, op in operations(spec) if (p, m) not in TOKENLESS)


def resolve(spec: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), f"external $ref {ref}"
        target: Any = spec
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            assert isinstance(target, dict) and part in target, f"unresolvable $ref {ref}"
            target = target[part]
        node = target
    return node


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


# ---------------------------------------------------------------------------------------
# The document's structure


@pytest.mark.smoke
def test_the_document_is_openapi_3_1_0(spec: dict[str, Any]) -> None:
    assert spec["openapi"] == "3.1.0"
    assert spec["info"]["title"] and spec["info"]["version"] == "v1"
    assert set(spec) <= {"openapi", "info", "jsonSchemaDialect", "servers", "paths", "webhooks", "components",
                         "security", "tags", "externalDocs"}
    assert spec["paths"]


def test_every_ref_resolves(spec: dict[str, Any]) -> None:
    refs = set(_refs(spec))
    assert refs
    for ref in refs:
        resolve(spec, {"$ref": ref})


def test_every_operation_is_well_formed(spec: dict[str, Any]) -> None:
    for path, method, op in operations(spec):
        where = f"{method.upper()} {path}"
        assert op.get("summary"), f"{where}: no summary"
        responses = op.get("responses") or {}
        assert any(str(code).startswith("2") for code in responses), f"{where}: no success response"
        for code, response in responses.items():
            assert code == "default" or re.fullmatch(r"[1-5][0-9X]{2}", code), f"{where}: response code {code}"
            assert resolve(spec, response).get("description") is not None, f"{where} {code}: no description"
        declared = [resolve(spec, p) for p in spec["paths"][path].get("parameters", []) + op.get("parameters", [])]
        for p in declared:
            assert p["in"] in ("path", "query", "header", "cookie") and p["name"], f"{where}: bad parameter {p}"
            assert "schema" in p or "content" in p, f"{where}: parameter {p['name']} has no schema"
        names = [(p["in"], p["name"]) for p in declared]
        assert len(names) == len(set(names)), f"{where}: duplicate parameters {names}"
        templated = set(re.findall(r"{([^}]+)}", path))
        path_params = {p["name"] for p in declared if p["in"] == "path"}
        assert templated == path_params, f"{where}: path parameters {path_params} vs template {templated}"
        assert all(p.get("required") is True for p in declared if p["in"] == "path"), f"{where}: optional path parameter"
        if "requestBody" in op:
            assert set(resolve(spec, op["requestBody"])["content"]) == {"application/json"}, where


def test_operation_ids_are_unique_when_given(spec: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, _, op in operations(spec) if "operationId" in op]
    assert len(ids) == len(set(ids))


def test_every_url_map_data_route_under_api_v1_is_documented(app: Any, spec: dict[str, Any]) -> None:
    documented = {(path, method.upper()) for path, method, _ in operations(spec)}
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint in NOT_DATA:
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((path, method))
    assert routes, "no /api/v1 data routes found: is the walk broken?"
    missing = routes - documented
    assert missing == set(), f"routes missing from /api/v1/openapi.json: {sorted(missing)}"
    stale = documented - routes
    assert stale == set(), f"documented operations with no route: {sorted(stale)}"


# ---------------------------------------------------------------------------------------
# Security, scopes, Idempotency-Key


def test_the_oauth2_scheme_is_client_credentials_at_the_token_endpoint_with_every_contract_scope(spec: dict[str, Any]) -> None:
    scheme = spec["components"]["securitySchemes"]["oauth2"]
    assert scheme["type"] == "oauth2"
    flow = scheme["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "/oauth/token"
    assert set(flow["scopes"]) == CONTRACT_SCOPES
    assert all(flow["scopes"].values())


def test_every_operation_requires_oauth2_with_a_known_scope(spec: dict[str, Any]) -> None:
    scopes = set(spec["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]["scopes"])
    for path, method, op in guarded_operations(spec):
        [requirement] = op["security"]
        [required] = requirement["oauth2"]
        assert required in scopes, f"{method.upper()} {path}: unknown scope {required}"
        assert required.endswith(":write" if method in WRITE_METHODS else ":read"), f"{method.upper()} {path}: {required}"


def test_the_children_operations_and_their_scopes(spec: dict[str, Any]) -> None:
    found = {(path, method): op["security"] for path, method, op in operations(spec) if path.startswith("/api/v1/children")}
    assert found == {
        ("/api/v1/children", "get"): [{"oauth2": ["children:read"]}],
        ("/api/v1/children", "post"): [{"oauth2": ["children:write"]}],
        ("/api/v1/children/{child_id}", "get"): [{"oauth2": ["children:read"]}],
        ("/api/v1/children/{child_id}", "patch"): [{"oauth2": ["children:write"]}],
        # A child's circumstances (issue 6, web/api/circumstances).
        ("/api/v1/children/{child_id}/circumstances", "get"): [{"oauth2": ["children:read"]}],
        ("/api/v1/children/{child_id}/circumstances", "post"): [{"oauth2": ["children:write"]}],
        ("/api/v1/children/{child_id}/circumstances/{circumstance_id}", "get"): [{"oauth2": ["children:read"]}],
        ("/api/v1/children/{child_id}/circumstances/{circumstance_id}", "patch"): [{"oauth2": ["children:write"]}],
    }


def test_every_write_documents_the_idempotency_key_header(spec: dict[str, Any]) -> None:
    writes = [(path, method, op) for path, method, op in guarded_operations(spec) if method in WRITE_METHODS]
    assert writes
    for path, method, op in writes:
        headers = {p["name"]: p for p in map(lambda p: resolve(spec, p), op.get("parameters", [])) if p["in"] == "header"}
        assert "Idempotency-Key" in headers, f"{method.upper()} {path}"
        assert headers["Idempotency-Key"]["required"] is False
        assert headers["Idempotency-Key"]["schema"]["maxLength"] == 255


# ---------------------------------------------------------------------------------------
# Problems


def test_the_problem_schema_is_rfc_9457_with_field_errors(spec: dict[str, Any]) -> None:
    problem = spec["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "errors"} <= set(problem["properties"])
    assert {"type", "title", "status"} <= set(problem["required"])
    assert problem["properties"]["status"]["type"] == "integer"
    errors = problem["properties"]["errors"]
    assert errors["type"] == "object"
    assert errors["additionalProperties"] == {"type": "array", "items": {"type": "string"}}


def test_every_error_response_is_a_problem(spec: dict[str, Any]) -> None:
    for path, method, op in operations(spec):
        codes = set(op["responses"])
        if (path, method) not in TOKENLESS:
            assert {"401", "403"} <= codes, f"{method.upper()} {path}: {codes}"
        if method in WRITE_METHODS:
            assert {"400", "415", "422"} <= codes, f"{method.upper()} {path}: {codes}"
        for code, response in op["responses"].items():
            if code == "default" or code.startswith(("4", "5")):
                content = resolve(spec, response)["content"]
                assert set(content) == {PROBLEM_JSON}, f"{method.upper()} {path} {code}: {set(content)}"
                assert resolve(spec, content[PROBLEM_JSON]["schema"]) == spec["components"]["schemas"]["Problem"]


def test_the_object_operations_document_404(spec: dict[str, Any]) -> None:
    for path, method, op in operations(spec):
        if "{" in path:
            assert "404" in op["responses"], f"{method.upper()} {path}"


# ---------------------------------------------------------------------------------------
# The children schemas match the contract's field names


def test_the_list_schema_is_items_and_next_cursor(spec: dict[str, Any]) -> None:
    op = spec["paths"]["/api/v1/children"]["get"]
    page = resolve(spec, op["responses"]["200"]["content"]["application/json"]["schema"])
    assert set(page["properties"]) == {"items", "next_cursor"}
    assert page["properties"]["items"]["type"] == "array"
    assert resolve(spec, page["properties"]["items"]["items"]) == spec["components"]["schemas"]["Child"]
    assert set(page["properties"]["next_cursor"]["type"]) == {"string", "null"}
    params = {p["name"]: p for p in map(lambda p: resolve(spec, p), op["parameters"])}
    assert {"limit", "cursor", "q", "upn", "uln", "nhs_number", "date_of_birth"} <= set(params)
    assert params["limit"]["schema"]["maximum"] == 200 and params["limit"]["schema"]["minimum"] == 1
    assert all(p["in"] == "query" and p["required"] is False for p in params.values())


def test_the_child_schemas_use_the_contract_field_names(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    child = schemas["Child"]
    assert CHILD_FIELDS | {"id"} <= set(child["properties"])
    assert child["properties"]["id"]["readOnly"] is True
    assert child["properties"]["date_of_birth"]["format"] == "date"
    post = spec["paths"]["/api/v1/children"]["post"]
    create = resolve(spec, post["requestBody"]["content"]["application/json"]["schema"])
    assert set(create["properties"]) == CHILD_FIELDS
    assert set(create["required"]) == {"given_name", "family_name", "date_of_birth"}
    assert create.get("additionalProperties") is False
    patch = spec["paths"]["/api/v1/children/{child_id}"]["patch"]
    update = resolve(spec, patch["requestBody"]["content"]["application/json"]["schema"])
    assert set(update["properties"]) == CHILD_FIELDS
    assert not update.get("required")
    assert set(create["properties"]["sex"]["enum"]) - {None} == {"female", "male", "other", "unknown"}
    created = post["responses"]["201"]
    assert "Location" in created["headers"]
    assert resolve(spec, created["content"]["application/json"]["schema"]) == child


# ---------------------------------------------------------------------------------------
# Human-readable pages


@pytest.mark.smoke
def test_the_docs_page_renders_every_operation_without_a_token(app: Any, spec: dict[str, Any]) -> None:
    resp = app.test_client().get("/api/v1/docs")
    assert resp.status_code == 200
    assert resp.mimetype == "text/html"
    html = resp.get_data(as_text=True)
    for path, method, op in operations(spec):
        assert f"<code>{method.upper()} {path}</code>" in html
        for requirement in op.get("security", []):
            for scope in requirement["oauth2"]:
                assert f"<code>{scope}</code>" in html
    assert 'href="/api/v1/openapi.json"' in html
    assert "Idempotency-Key" in html
    for name in ("validation-error", "not-found", "idempotency-key-reused"):
        assert f'href="/api/v1/problems/{name}"' in html


@pytest.mark.smoke
def test_every_problem_type_has_a_page(app: Any) -> None:
    from web.api.problems import PROBLEM_TYPES

    client = app.test_client()
    for name, ptype in PROBLEM_TYPES.items():
        resp = client.get(f"/api/v1/problems/{name}")
        assert resp.status_code == 200, name
        assert resp.mimetype == "text/html"
        html = resp.get_data(as_text=True)
        assert ptype.title in html and f"/api/v1/problems/{name}" in html and str(ptype.status) in html


def test_an_unknown_problem_type_is_404(app: Any) -> None:
    resp = app.test_client().get("/api/v1/problems/no-such-problem")
    assert_problem(resp, 404, "not-found")


def test_the_type_uri_of_a_real_problem_resolves_to_its_page(app: Any, tenant_a: Any) -> None:
    client = app.test_client()
    problem = client.get("/api/v1/children").get_json()
    assert problem["type"] == "/api/v1/problems/unauthorized"
    page = client.get(problem["type"])
    assert page.status_code == 200 and problem["title"] in page.get_data(as_text=True)
