"""The permission matrix (issue #4 item 5): every route x every kind of person x their own
council and another.

For each route in the isolation matrix (tests/isolation/*.py) and each of: the four council
staff roles, the four portal roles (parent, young person, SENCO, professional, each with a
membership that covers the object), a platform operator without and with an audited
break-glass, and nobody signed in, the route answers exactly as core/permissions.py says:

* in the person's own council: 200 when their role grants the route's permission (staff) or
  the route's portal role (portals); 403 or 404 when it does not; a redirect to the right
  sign-in page when the route is not for their kind of person at all;
* from another council, entitled to that council's own object: 404 for this council's
  object (or its absence from lists), whatever their role.

API operations are checked the same way per OAuth scope. A route added to the isolation
matrix joins this test with no further work; the expected answer comes from the spec's
``permission`` or ``roles`` and core/permissions.py, never from a table copied here.
"""

from __future__ import annotations

from typing import Any

import pytest

from core import permissions
from core.permissions import BREAK_GLASS_PERMISSIONS, SCOPES, permissions_for_role
from core.users.models import Role
from tests.conftest import YOUNG_PERSON_DOB, bearer, in_tenant
from tests.test_isolation import ISOLATION_MATRIX, _path, member_for

STAFF = [Role.CASEWORKER, Role.TEAM_MANAGER, Role.SEND_OFFICER, Role.TENANT_ADMIN]
PORTAL = ["parent", "young_person", "senco", "professional"]
EVERYONE = [r.value for r in STAFF] + PORTAL + ["operator", "operator_break_glass", "anonymous"]
DENIED = (403, 404)

PAGE_ROUTES = sorted(k for k, v in ISOLATION_MATRIX.items() if not v["kind"].startswith("api_"))
API_ROUTES = sorted(k for k, v in ISOLATION_MATRIX.items() if v["kind"].startswith("api_"))


def _required(spec: dict[str, Any]) -> str:
    return spec.get("permission") or {"list": permissions.CHILDREN_READ, "create": permissions.CHILDREN_WRITE}[spec["kind"]]


def _expected(spec: dict[str, Any], who: str) -> tuple[int, ...] | str:
    """What ``who``, entitled in their own council, gets from this route: statuses, or a
    sign-in page path the redirect must go to."""
    portal_route = spec["kind"].startswith("portal_")
    if who == "anonymous":
        return "/portal/sign-in" if portal_route else "/sign-in"
    if portal_route:
        if who in spec["roles"]:
            return (200,)
        return DENIED if who in PORTAL else "/portal/sign-in"
    required = _required(spec)
    # A per-person list (a staff member's own reminders): any member of staff.
    everyone_on_staff = required not in permissions.ALL
    if who in PORTAL or who == "operator":
        return "/sign-in"
    if who == "operator_break_glass":
        return (200,) if everyone_on_staff or required in BREAK_GLASS_PERMISSIONS else DENIED
    if everyone_on_staff or required in permissions_for_role(Role(who)):
        return (200,)
    return DENIED


@pytest.fixture
def person(tenant_a: Any, make_user: Any, make_member: Any, make_operator: Any, client_for: Any,
           identity_client: Any, institution: int) -> Any:
    """``person(who, tenant, graph)``: a client for ``who`` in ``tenant``, entitled to ``graph``."""
    from core.db import db
    from core.identity import services as identities
    from core.identity.models import Identity

    def make(who: str, tenant: Any, graph: dict[str, Any]) -> Any:
        if who == "anonymous":
            return client_for(tenant)
        if who in PORTAL:
            return identity_client(tenant, member_for(tenant, who, graph, make_member, institution))
        if who.startswith("operator"):
            op = make_operator()
            if who == "operator_break_glass":
                with in_tenant(tenant):
                    identities.break_glass(db.session.get(Identity, op.id), reason="Permission matrix test INC-1")
            return identity_client(tenant, op, method="operator")
        return client_for(tenant, make_user(tenant, Role(who)))

    return make


def _check(client: Any, path: str, expected: tuple[int, ...] | str) -> str | None:
    resp = client.get(path)
    if isinstance(expected, str):
        location = resp.headers.get("Location", "")
        if resp.status_code != 302 or expected not in location or "/portal/sign-in" in location and expected == "/sign-in":
            return f"{resp.status_code} {location!r} (wanted a redirect to {expected})"
        return None
    if resp.status_code in expected:
        return None
    location = resp.headers.get("Location", "")
    if expected == (200,) and resp.status_code in (302, 303) and "/portal/" in location and "sign-in" not in location:
        # Served, by a redirect within their portal (a young person's parent, who may read but not
        # decide what is shared, is sent from the form to the list).
        return None
    return f"{resp.status_code} {location!r} (wanted {expected})"


def test_every_page_route_answers_each_kind_of_person_as_the_permissions_say(
        tenant_a: Any, tenant_b: Any, object_graph: Any, person: Any) -> None:
    # One object graph per council, shared by everyone (these are reads: nobody's visit changes
    # what the next person sees). Its child is a young person, so the young person's own
    # membership counts, and the parent's counts through the young person's consent.
    graph_a = object_graph(tenant_a, date_of_birth=YOUNG_PERSON_DOB)
    graph_b = object_graph(tenant_b, date_of_birth=YOUNG_PERSON_DOB)
    own = {who: person(who, tenant_a, graph_a) for who in EVERYONE}
    other = {who: person(who, tenant_b, graph_b) for who in EVERYONE if who != "anonymous"}
    wrong: list[str] = []
    for endpoint in PAGE_ROUTES:
        spec = ISOLATION_MATRIX[endpoint]
        path = _path(spec, graph_a) if "{" in spec["path"] else spec["path"]
        for who in EVERYONE:
            expected = _expected(spec, who)
            problem = _check(own[who], path, expected)
            if problem:
                wrong.append(f"{endpoint}, {who} in their own council: {problem}")
            if who == "anonymous" or "{" not in spec["path"]:
                continue  # lists: tests/test_isolation.py proves another council's rows never show
            resp = other[who].get(path)
            if isinstance(expected, str):
                if resp.status_code != 302:
                    wrong.append(f"{endpoint}, {who} from another council: {resp.status_code} (wanted a redirect)")
            elif expected == (200,) and resp.status_code != 404:
                wrong.append(f"{endpoint}, {who} from another council: {resp.status_code} (wanted 404)")
            elif expected == DENIED and resp.status_code not in DENIED:
                wrong.append(f"{endpoint}, {who} from another council: {resp.status_code} (wanted {DENIED})")
    assert not wrong, "\n  ".join(["routes that answer against the permissions:", *wrong])


def test_every_api_operation_answers_each_scope_as_the_permissions_say(
        tenant_a: Any, tenant_b: Any, object_graph: Any, api_token: Any, app: Any) -> None:
    graph = object_graph(tenant_a)
    client = app.test_client()
    tokens = {scope: api_token(tenant_a, scope) for scope in sorted(SCOPES)}
    intruder = api_token(tenant_b, " ".join(sorted(SCOPES)))
    wrong: list[str] = []
    for endpoint in API_ROUTES:
        spec = ISOLATION_MATRIX[endpoint]
        path = _path(spec, graph) if "{" in spec["path"] else spec["path"]
        action = spec["kind"] == "api_action"

        def call(headers: dict[str, str] | None = None) -> Any:
            if action:
                return client.post(path, json=spec.get("body", {}), headers=headers or {})
            return client.get(path, headers=headers or {})

        for scope, token in tokens.items():
            resp = call(bearer(token))
            if action and scope == spec["scope"]:
                # An action may be refused on its merits (409, 422); never for want of scope.
                if resp.status_code in (401, 403, 404):
                    wrong.append(f"{endpoint} with {scope}: {resp.status_code}")
                continue
            # api-v1.md: each operation needs its own scope; a write scope does not imply read.
            allowed = scope == spec["scope"]
            if allowed and resp.status_code != 200 or not allowed and resp.status_code not in DENIED:
                wrong.append(f"{endpoint} with {scope}: {resp.status_code}")
        if "{" in spec["path"] and (status := call(bearer(intruder)).status_code) != 404:
            wrong.append(f"{endpoint}: another council's token with every scope got {status}")
        if (status := call().status_code) != 401:
            wrong.append(f"{endpoint} with no token: {status}")
    assert not wrong, "\n  ".join(["operations that answer against the scopes:", *wrong])


def test_every_portal_route_names_its_roles_and_every_staff_route_a_known_permission() -> None:
    for endpoint, spec in ISOLATION_MATRIX.items():
        if spec["kind"].startswith("portal_"):
            assert spec.get("roles") and set(spec["roles"]) <= set(PORTAL), endpoint
        elif spec["kind"].startswith("api_"):
            assert spec.get("scope") in SCOPES, endpoint
        elif "permission" in spec:
            assert spec["permission"] in permissions.ALL or spec["permission"] == "reminders.own", endpoint
