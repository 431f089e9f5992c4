"""Tenant isolation: one council can never see, list, change or infer another council's records.

Three walks make this hold for code not yet written:
  * the model registry: every mapped class is tenant-owned (``tenant_id`` NOT NULL, indexed,
    RLS enabled and forced with a policy) or on an explicit allow-list;
  * the URL map: every route is in the isolation matrix below or on the public allow-list;
  * the leak tests run twice, with the ORM criterion on and off: RLS alone must hold.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from core.db import Base, db
from core.tenancy import TenantScoped
from core.permissions import permissions_for_role
from core.users.models import Role
from tests.conftest import YOUNG_PERSON_DOB, bearer, csrf_token, in_tenant, postgres_only

# Classes that are deliberately not tenant-owned, and why.
GLOBAL_MODELS = {
    "Tenant": "the registry itself; read before any tenant is known; no child data",
    "Institution": "DfE reference data keyed by URN, shared by every council that places children there; no personal data",
    "Identity": "a person who signs in, platform-wide, keyed by (issuer, subject): name and e-mail only, no child data; "
                "what they may see in a council is a tenant-owned Membership",
    "IdentityTenant": "the council switcher's index (identity X has memberships in council Y); ids only",
    "InstitutionCouncil": "which councils place children at a URN (so a SENCO is offered them); no child data",
    "Operator": "platform operators (identity ids); they see child data only through a tenant-owned, audited BreakGlass",
    "OrganisationIdentityProvider": "a school's or trust's identity provider, registered once and trusted by every "
                                    "council placing children there; configuration only",
}


def _collect() -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """Merge tests/isolation/*.py (one module per area; see its README)."""
    public: dict[str, str] = {}
    matrix: dict[str, dict[str, Any]] = {}
    for path in sorted((Path(__file__).parent / "isolation").glob("*.py")):
        module = importlib.import_module(f"tests.isolation.{path.stem}")
        for name, table in (("PUBLIC_ENDPOINTS", public), ("ISOLATION_MATRIX", matrix)):
            entries = getattr(module, name, {})
            clash = set(entries) & (set(public) | set(matrix))
            assert not clash, f"{path.name} lists endpoints another area already lists: {clash}"
            table.update(entries)
    return public, matrix


PUBLIC_ENDPOINTS, ISOLATION_MATRIX = _collect()


# ---------------------------------------------------------------------------------------
# The model registry


def _mapped_classes() -> list[type]:
    return [m.class_ for m in Base.registry.mappers]


def test_every_model_is_tenant_owned_or_explicitly_global(app: Any) -> None:
    unclassified = [c.__name__ for c in _mapped_classes()
                    if not issubclass(c, TenantScoped) and c.__name__ not in GLOBAL_MODELS]
    assert unclassified == [], (
        f"models neither TenantScoped nor allow-listed: {unclassified}. Make them inherit "
        "core.tenancy.TenantScoped (and enable RLS in their migration), or justify them in GLOBAL_MODELS."
    )
    stale = set(GLOBAL_MODELS) - {c.__name__ for c in _mapped_classes()}
    assert not stale, f"allow-list names models that no longer exist: {stale}"


def test_every_table_belongs_to_a_classified_model(app: Any) -> None:
    mapped = {m.local_table.name for m in Base.registry.mappers}
    assert set(Base.metadata.tables) <= mapped, f"tables with no model: {set(Base.metadata.tables) - mapped}"


# Parametrised at collection time: import every model module first, or only the few already
# imported would be checked (web.app imports them all, later, when the app is built).
import core.models  # noqa: E402,F401  (the complete mapper registry)
import tenants.models  # noqa: E402,F401


@pytest.mark.parametrize("model", [c for c in Base.registry.mappers if issubclass(c.class_, TenantScoped)],
                         ids=lambda m: m.class_.__name__)
def test_tenant_owned_model_has_non_null_indexed_tenant_id(app: Any, model: Any) -> None:
    table = model.local_table
    column = table.c.tenant_id
    assert column.nullable is False
    assert any(list(ix.expressions)[0] is column or getattr(list(ix.expressions)[0], "name", None) == "tenant_id"
               for ix in table.indexes), f"{table.name}: no index leads with tenant_id"
    fks = [fk for fk in column.foreign_keys if fk.column.table.name == "tenant"]
    assert fks, f"{table.name}.tenant_id does not reference tenant"


@postgres_only
def test_every_tenant_owned_table_has_row_level_security_enabled_forced_and_a_policy(app: Any, owner_engine: Any) -> None:
    tenant_tables = sorted(m.local_table.name for m in Base.registry.mappers if issubclass(m.class_, TenantScoped))
    with owner_engine.connect() as conn:
        rows = {r.relname: r for r in conn.execute(text(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
            "WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'"))}
        policies = {r.tablename: r for r in conn.execute(text(
            "SELECT tablename, qual, with_check FROM pg_policies WHERE schemaname = 'public'"))}
        # And the database has no tenant table the models do not know about.
        db_tables_with_tenant = set(conn.execute(text(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'tenant_id'"
        )).scalars())
    problems = []
    for table in tenant_tables:
        r = rows.get(table)
        if r is None or not r.relrowsecurity or not r.relforcerowsecurity:
            problems.append(f"{table}: RLS not enabled and forced")
        p = policies.get(table)
        if p is None or "app.tenant_id" not in (p.qual or "") or "app.tenant_id" not in (p.with_check or ""):
            problems.append(f"{table}: no tenant policy for reads and writes")
    assert problems == []
    # Platform indexes that name a council (the council switcher, which councils place
    # children at a school) are global by design and on the allow-list above.
    global_tables = {m.local_table.name for m in Base.registry.mappers if m.class_.__name__ in GLOBAL_MODELS}
    assert db_tables_with_tenant - global_tables == set(tenant_tables)


@postgres_only
def test_the_app_runs_as_a_role_that_cannot_bypass_row_level_security(app: Any, runtime_engine: Any) -> None:
    from core.db_roles import runtime_role_problems

    assert runtime_role_problems(runtime_engine) == []
    with runtime_engine.connect() as conn:
        assert conn.execute(text("SELECT current_user")).scalar_one() == db.urls.app_role


@postgres_only
def test_the_role_check_flags_a_table_owner(app: Any, owner_engine: Any) -> None:
    from core.db_roles import runtime_role_problems

    problems = runtime_role_problems(owner_engine)
    assert any("owns" in p for p in problems), problems


# ---------------------------------------------------------------------------------------
# RLS alone, below the ORM


@postgres_only
def test_raw_sql_as_the_app_role_sees_only_the_current_tenant(app: Any, tenant_a: Any, tenant_b: Any, make_child: Any) -> None:
    a = make_child(tenant_a)
    b = make_child(tenant_b)
    session = db.session()
    for tenant, mine, theirs in ((tenant_a, a, b), (tenant_b, b, a)):
        session.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant.id)})
        ids = set(session.execute(text("SELECT id FROM child")).scalars())
        assert mine.id in ids and theirs.id not in ids
    session.execute(text("SELECT set_config('app.tenant_id', '', true)"))
    assert session.execute(text("SELECT count(*) FROM child")).scalar_one() == 0
    session.rollback()


@postgres_only
def test_rls_refuses_writing_a_row_into_another_tenant(app: Any, tenant_a: Any, tenant_b: Any) -> None:
    from sqlalchemy.exc import ProgrammingError

    session = db.session()
    session.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_b.id)})
    with pytest.raises(ProgrammingError, match="row-level security"):
        session.execute(text(
            "INSERT INTO child (id, tenant_id, given_name, family_name, date_of_birth, created_at, updated_at) "
            "VALUES (gen_random_uuid(), :a, 'X', 'Y', '2015-01-01', now(), now())"), {"a": str(tenant_a.id)})
    session.rollback()


@postgres_only
def test_rls_hides_other_tenants_rows_from_updates_and_deletes(app: Any, tenant_a: Any, tenant_b: Any, make_child: Any) -> None:
    a = make_child(tenant_a, given_name="Keep")
    session = db.session()
    session.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_b.id)})
    assert session.execute(text("UPDATE child SET given_name = 'Changed' WHERE id = :i"), {"i": a.id}).rowcount == 0
    assert session.execute(text("DELETE FROM child WHERE id = :i"), {"i": a.id}).rowcount == 0
    session.rollback()


# ---------------------------------------------------------------------------------------
# The URL map


def test_every_route_is_in_the_isolation_matrix_or_the_public_allow_list(app: Any) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    unclassified = endpoints - set(ISOLATION_MATRIX) - set(PUBLIC_ENDPOINTS)
    assert unclassified == set(), (
        f"routes missing from tests/test_isolation.py: {sorted(unclassified)}. Add each to ISOLATION_MATRIX "
        "(and so to the leak tests) or, if it shows no council data, to PUBLIC_ENDPOINTS with the reason."
    )
    stale = (set(ISOLATION_MATRIX) | set(PUBLIC_ENDPOINTS)) - endpoints
    assert stale == set(), f"allow-list or matrix names routes that no longer exist: {stale}"


ROLES = [Role.CASEWORKER, Role.TEAM_MANAGER, Role.SEND_OFFICER, Role.TENANT_ADMIN]
OBJECT_ROUTES = [k for k, v in ISOLATION_MATRIX.items() if v["kind"] == "object"]
LIST_ROUTES = [k for k, v in ISOLATION_MATRIX.items() if v["kind"] == "list"]


@pytest.fixture
def graph_a(tenant_a: Any, object_graph: Any) -> dict[str, Any]:
    return object_graph(tenant_a, family_name="Zzalpha")


@pytest.fixture
def child_of_a(graph_a: dict[str, Any]) -> Any:
    return graph_a["child"]


MISSING = "01a21ea2-0000-7000-8000-000000000000"


def _path(spec: dict[str, Any], ids: dict[str, Any]) -> str:
    return spec["path"].format(**{k: v for k, v in ids.items() if k.endswith("_id")})


def _missing_path(spec: dict[str, Any]) -> str:
    return re.sub(r"\{[a-z_]+_id\}", MISSING, spec["path"])


@pytest.mark.parametrize("orm_criterion", ["on", "off"], indirect=True)
@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value)
@pytest.mark.parametrize("endpoint", OBJECT_ROUTES)
def test_other_tenant_user_gets_404_for_tenant_a_object(orm_criterion: str, role: Role, endpoint: str, tenant_a: Any,
                                                       tenant_b: Any, graph_a: dict[str, Any], child_of_a: Any,
                                                       make_user: Any, object_graph: Any, client_for: Any) -> None:
    spec = ISOLATION_MATRIX[endpoint]
    user_b = make_user(tenant_b, role)
    client = client_for(tenant_b, user_b)
    # Positive control: where B's role may use the route, it answers for B's own objects,
    # so the 404 below is about the council and nothing else.
    if spec["permission"] in permissions_for_role(role):
        own = object_graph(tenant_b)
        assert client.get(_path(spec, own)).status_code == 200
    path = _path(spec, graph_a)
    missing = _missing_path(spec)
    resp = client.get(path)
    assert resp.status_code == 404
    # Byte for byte the page of a child that does not exist (bar per-request nonces and
    # tokens): another council's id cannot be told from a made-up one.
    assert _normalise(resp.get_data(as_text=True)) == _normalise(client.get(missing).get_data(as_text=True))
    if spec.get("post"):
        token = csrf_token(client, "/children/")
        resp = client.post(path, data={"csrf_token": token, "given_name": "Leaked"})
        assert resp.status_code == 404
    _assert_a_untouched(tenant_a, child_of_a)


def _normalise(body: str) -> str:
    """Remove what differs on every request: CSP nonces, CSRF tokens, request ids."""
    body = re.sub(r'nonce="[^"]+"', 'nonce=""', body)
    body = re.sub(r'name="csrf_token" value="[^"]+"', 'name="csrf_token" value=""', body)
    return re.sub(r"[0-9a-f]{32}", "", body)


def _assert_a_untouched(tenant_a: Any, child: Any) -> None:
    from core.children.models import Child, Contact

    with in_tenant(tenant_a) as session:
        fresh = session.get(Child, child.id)
        assert fresh.given_name == child.given_name
        contacts = session.execute(select(Contact).where(Contact.child_id == child.id)).scalars().all()
        assert len(contacts) == 1


@pytest.mark.parametrize("orm_criterion", ["on", "off"], indirect=True)
@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value)
def test_other_tenant_lists_and_searches_never_show_tenant_a_children(orm_criterion: str, role: Role, tenant_a: Any,
                                                                      tenant_b: Any, graph_a: dict[str, Any],
                                                                      child_of_a: Any, object_graph: Any,
                                                                      make_user: Any, client_for: Any) -> None:
    mine = object_graph(tenant_b, family_name="Zzbravo")
    client = client_for(tenant_b, make_user(tenant_b, role))
    for endpoint in LIST_ROUTES:
        path = ISOLATION_MATRIX[endpoint]["path"]
        for query in ("", "?q=Zzalpha", f"?q={child_of_a.given_name}", "?q=Zz"):
            resp = client.get(f"{path}{query}")
            body = resp.get_data(as_text=True)
            assert str(child_of_a.id) not in body and str(graph_a["case_id"]) not in body, endpoint
            assert "Zzalpha, " not in body  # how a result row shows the name ("Family, Given")
        spec = ISOLATION_MATRIX[endpoint]
        # "shows": None lists no child (its own test proves isolation: tests/web/portal/test_operator.py).
        if spec.get("shows", "child_id") is not None and spec.get("permission", "children.read") in permissions_for_role(role):
            # Positive control: the list shows B's own object (by the id the spec names).
            assert str(mine[spec.get("shows", "child_id")]) in client.get(path).get_data(as_text=True), endpoint
    assert "0 results for" in client.get("/children/?q=Zzalpha").get_data(as_text=True)


ALL_SCOPES = ("children:read children:write cases:read cases:write plans:read plans:write disagreements:read "
              "disagreements:write transfers:read transfers:write")
API_OBJECT_ROUTES = [k for k, v in ISOLATION_MATRIX.items() if v["kind"] == "api_object"]
API_LIST_ROUTES = [k for k, v in ISOLATION_MATRIX.items() if v["kind"] == "api_list"]
#: POST-only operations on an object (complete or cancel a transfer): nothing to GET.
API_ACTION_ROUTES = [k for k, v in ISOLATION_MATRIX.items() if v["kind"] == "api_action"]


@pytest.mark.parametrize("orm_criterion", ["on", "off"], indirect=True)
@pytest.mark.parametrize("endpoint", API_OBJECT_ROUTES)
def test_other_tenant_api_client_gets_404_for_tenant_a_object(orm_criterion: str, endpoint: str, tenant_a: Any,
                                                             tenant_b: Any, graph_a: dict[str, Any], child_of_a: Any,
                                                             api_token: Any, app: Any, object_graph: Any) -> None:
    spec = ISOLATION_MATRIX[endpoint]
    token_b = api_token(tenant_b, ALL_SCOPES)
    c = app.test_client()
    own = object_graph(tenant_b)
    assert c.get(_path(spec, own), headers=bearer(token_b)).status_code == 200
    path = _path(spec, graph_a)
    found = c.get(path, headers=bearer(token_b))
    missing = c.get(_missing_path(spec), headers=bearer(token_b))
    assert found.status_code == missing.status_code == 404
    strip = lambda body: {k: v for k, v in body.items() if k != "request_id"}  # noqa: E731
    assert strip(found.get_json()) == strip(missing.get_json())
    if spec.get("patch"):
        resp = c.patch(path, json={"given_name": "Leaked"}, headers=bearer(token_b))
        assert resp.status_code == 404
    if spec.get("post_json"):
        resp = c.post(path, json=spec.get("body", {}), headers=bearer(token_b))
        assert resp.status_code == 404
    _assert_a_untouched(tenant_a, child_of_a)


@pytest.mark.parametrize("orm_criterion", ["on", "off"], indirect=True)
@pytest.mark.parametrize("endpoint", API_ACTION_ROUTES)
def test_other_tenant_api_client_cannot_act_on_tenant_a_object(orm_criterion: str, endpoint: str, tenant_a: Any,
                                                              tenant_b: Any, graph_a: dict[str, Any], child_of_a: Any,
                                                              api_token: Any, app: Any, object_graph: Any) -> None:
    spec = ISOLATION_MATRIX[endpoint]
    token_b = api_token(tenant_b, ALL_SCOPES)
    c = app.test_client()
    body = spec.get("body", {})
    found = c.post(_path(spec, graph_a), json=body, headers=bearer(token_b))
    missing = c.post(_missing_path(spec), json=body, headers=bearer(token_b))
    assert found.status_code == missing.status_code == 404
    strip = lambda body: {k: v for k, v in body.items() if k != "request_id"}  # noqa: E731
    assert strip(found.get_json()) == strip(missing.get_json())
    # Positive control: the same operation on B's own object is not a 404.
    own = object_graph(tenant_b)
    assert c.post(_path(spec, own), json=body, headers=bearer(token_b)).status_code != 404
    _assert_a_untouched(tenant_a, child_of_a)


@pytest.mark.parametrize("orm_criterion", ["on", "off"], indirect=True)
@pytest.mark.parametrize("endpoint", API_LIST_ROUTES)
def test_other_tenant_api_client_never_lists_tenant_a_children(orm_criterion: str, endpoint: str, tenant_a: Any,
                                                              tenant_b: Any, graph_a: dict[str, Any], child_of_a: Any,
                                                              api_token: Any, app: Any, object_graph: Any) -> None:
    spec = ISOLATION_MATRIX[endpoint]
    token_b = api_token(tenant_b, ALL_SCOPES)
    own = object_graph(tenant_b, family_name="Zzbravo")
    c = app.test_client()
    for query in spec.get("queries", ["", "?limit=200"]):
        resp = c.get(f"{spec['path']}{query.format(given_name=child_of_a.given_name)}", headers=bearer(token_b))
        assert resp.status_code == 200, resp.get_data(as_text=True)
        body = resp.get_data(as_text=True)
        assert str(child_of_a.id) not in body and str(graph_a["case_id"]) not in body
    # Positive control: B's own object is listed.
    listed = c.get(f"{spec['path']}?limit=200", headers=bearer(token_b)).get_data(as_text=True)
    assert str(own[spec.get("shows", "child_id")]) in listed


def test_a_token_is_refused_on_another_councils_host(tenant_a: Any, tenant_b: Any, api_token: Any, app: Any) -> None:
    token_a = api_token(tenant_a, "children:read")
    resp = app.test_client().get("/api/v1/children", headers=bearer(token_a), base_url=f"https://council-b.sendbridge.test")
    assert resp.status_code == 401


def test_a_session_from_one_council_is_dead_in_another(tenant_a: Any, tenant_b: Any, make_user: Any, app: Any) -> None:
    from tests.conftest import BASE_DOMAIN, TenantClient, sign_in

    user_a = make_user(tenant_a, Role.TENANT_ADMIN)
    # Path-addressed councils share one host and so one cookie. Copy A's session id into B's
    # entry: B looks it up inside B, where it does not exist.
    client = TenantClient(app, app.response_class, use_cookies=True)
    client.base_url = f"https://{BASE_DOMAIN}"
    session_id = sign_in(client, user_a)
    with client.session_transaction() as sess:
        sess["auth"] = {str(tenant_a.id): str(session_id), str(tenant_b.id): str(session_id)}
    assert client.get("/t/council-a/children/").status_code == 200
    resp = client.get("/t/council-b/children/")
    assert resp.status_code == 302 and "/t/council-b/sign-in" in resp.headers["Location"]


def test_with_no_tenant_in_context_tenant_data_cannot_be_queried(app: Any) -> None:
    from sqlalchemy import select

    from core.children.models import Child
    from core.tenancy import TenantContextRequired

    with pytest.raises(TenantContextRequired):
        db.session.execute(select(Child)).all()
    db.session.rollback()



# ---------------------------------------------------------------------------------------
# The portals: people outside the council (issue #4). Two walls: another council's objects
# are 404 like everywhere else, and inside their own council a person sees only what their
# memberships grant (another family's child is a 404 too).

PORTAL_OBJECT_ROUTES = [(k, r) for k, v in ISOLATION_MATRIX.items() if v["kind"] == "portal_object" for r in v["roles"]]
PORTAL_LIST_ROUTES = [(k, r) for k, v in ISOLATION_MATRIX.items() if v["kind"] == "portal_list" for r in v["roles"]]


def graph_for(role: str, tenant: Any, object_graph: Any, **kwargs: Any) -> dict[str, Any]:
    """An object graph a person in ``role`` can be entitled to: a young person's child must be
    over compulsory school age for their membership to count."""
    if role == "young_person":
        kwargs.setdefault("date_of_birth", YOUNG_PERSON_DOB)
    return object_graph(tenant, **kwargs)


def member_for(tenant: Any, role: str, graph: dict[str, Any], make_member: Any, urn: int) -> Any:
    """An outside person whose membership in ``tenant`` covers ``graph``'s child and case."""
    if role == "young_person":
        return make_member(tenant, role, child_id=graph["child_id"])
    if role == "parent":
        parent = make_member(tenant, role, child_id=graph["child_id"])
        if graph["child"].date_of_birth <= YOUNG_PERSON_DOB:
            # A young person's parent sees the case only with the young person's consent.
            from core.identity.services import give_portal_consent
            from tests.conftest import system_actor

            with in_tenant(tenant):
                give_portal_consent(system_actor(tenant), graph["child_id"], parent.id)
        return parent
    if role == "professional":
        return make_member(tenant, role, case_id=graph["case_id"])
    if role == "senco":
        from core.children.access import access_child
        from core.children.services import add_placement
        from tests.conftest import system_actor

        with in_tenant(tenant):
            actor = system_actor(tenant)
            add_placement(actor, access_child(actor, graph["child_id"], for_write=True), urn=urn,
                          started_on=dt.date(2020, 9, 1))
        return make_member(tenant, role, urn=urn)
    raise AssertionError(role)


@pytest.mark.parametrize("orm_criterion", ["on", "off"], indirect=True)
@pytest.mark.parametrize(("endpoint", "role"), PORTAL_OBJECT_ROUTES, ids=lambda x: x if isinstance(x, str) else "")
def test_portal_user_gets_404_for_objects_outside_their_memberships(
        orm_criterion: str, endpoint: str, role: str, tenant_a: Any, tenant_b: Any, graph_a: dict[str, Any],
        child_of_a: Any, object_graph: Any, make_member: Any, identity_client: Any, institution: int) -> None:
    spec = ISOLATION_MATRIX[endpoint]
    # Another council's member, entitled to their own council's child: 200 there, 404 for A's.
    own = graph_for(role, tenant_b, object_graph)
    outsider = member_for(tenant_b, role, own, make_member, institution)
    client = identity_client(tenant_b, outsider)
    assert client.get(_path(spec, own)).status_code == 200, endpoint
    resp = client.get(_path(spec, graph_a))
    assert resp.status_code == 404
    assert _normalise(resp.get_data(as_text=True)) == _normalise(client.get(_missing_path(spec)).get_data(as_text=True))
    # A member of A itself, entitled to another child in A: 404 for this one.
    neighbour = member_for(tenant_a, role, graph_for(role, tenant_a, object_graph), make_member, institution)
    inside = identity_client(tenant_a, neighbour)
    assert inside.get(_path(spec, graph_a)).status_code == 404
    if spec.get("post"):
        for c in (client, inside):
            token = csrf_token(c, "/portal/")
            assert c.post(_path(spec, graph_a), data={"csrf_token": token}).status_code == 404
    _assert_a_untouched(tenant_a, child_of_a)


@pytest.mark.parametrize("orm_criterion", ["on", "off"], indirect=True)
@pytest.mark.parametrize(("endpoint", "role"), PORTAL_LIST_ROUTES, ids=lambda x: x if isinstance(x, str) else "")
def test_portal_lists_show_only_the_members_own_children(
        orm_criterion: str, endpoint: str, role: str, tenant_a: Any, tenant_b: Any, graph_a: dict[str, Any],
        child_of_a: Any, object_graph: Any, make_member: Any, identity_client: Any, institution: int) -> None:
    spec = ISOLATION_MATRIX[endpoint]
    own_b = graph_for(role, tenant_b, object_graph, family_name="Zzbravo")
    own_a = graph_for(role, tenant_a, object_graph, family_name="Zzcharlie")
    for tenant, own in ((tenant_b, own_b), (tenant_a, own_a)):
        client = identity_client(tenant, member_for(tenant, role, own, make_member, institution))
        body = client.get(spec["path"]).get_data(as_text=True)
        assert str(child_of_a.id) not in body and str(graph_a["case_id"]) not in body, endpoint
        assert child_of_a.given_name not in body
        # Positive control: their own child is listed (by name; portal pages show names).
        assert own["child"].given_name in body, endpoint


def test_staff_pages_refuse_portal_users(tenant_a: Any, graph_a: dict[str, Any], make_member: Any,
                                         identity_client: Any) -> None:
    """A parent signed in to the council is not staff: every staff page sends them to the
    staff sign-in, even for their own child."""
    parent = make_member(tenant_a, "parent", child_id=graph_a["child_id"])
    client = identity_client(tenant_a, parent)
    for endpoint in OBJECT_ROUTES + LIST_ROUTES:
        resp = client.get(_path(ISOLATION_MATRIX[endpoint], graph_a))
        assert resp.status_code == 302 and "/sign-in" in resp.headers["Location"], endpoint
