"""``/api/v1/children`` (api-v1.md): create, read, change and list children; problems for bad
input that change nothing; the audit trail of every read and write; ``Idempotency-Key``."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from tenants.demo import make_nhs_number, make_uln, make_upn
from tests.web.api.conftest import MISSING_ID, assert_problem, audit_events, child_count, new_key, snapshot

UPN = make_upn("901", 2001, 2015, 7)
NHS = make_nhs_number(101)
ULN = make_uln(101)
CHILD = {"given_name": "Ada", "family_name": "Lovelace", "date_of_birth": "2015-12-10"}
FULL_CHILD = {**CHILD, "upn": UPN, "uln": ULN, "nhs_number": NHS, "sex": "female", "postcode": "SW1A 1AA"}
CONTRACT_FIELDS = {"id", "given_name", "family_name", "date_of_birth", "upn", "uln", "nhs_number", "sex", "postcode"}
TODAY = dt.date.today()


@pytest.fixture(autouse=True)
def _pinned_today(monkeypatch: pytest.MonkeyPatch) -> None:
    """TODAY was read when the module was imported; the code under test must agree with it
    even when the run crosses midnight."""
    import core.clock

    monkeypatch.setattr(core.clock, "today", lambda: TODAY)



def spaced(nhs: str) -> str:
    return f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}"


def create(api: Any, who: Any, body: dict[str, Any], **headers: str) -> Any:
    resp = api.post("/api/v1/children", json=body, headers={**who.headers, **headers})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return resp.get_json()


def _no_request_id(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "request_id"}


# ---------------------------------------------------------------------------------------
# Create and read


@pytest.mark.smoke
def test_creating_a_child_answers_201_with_location_and_normalised_identifiers(api: Any, tenant_a: Any, writer_a: Any) -> None:
    body = {**CHILD, "upn": UPN.lower(), "uln": f" {ULN} ", "nhs_number": spaced(NHS), "sex": "female",
            "postcode": "sw1a1aa"}
    resp = api.post("/api/v1/children", json=body, headers=writer_a.headers)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert resp.mimetype == "application/json"
    child = resp.get_json()
    assert CONTRACT_FIELDS <= set(child)
    assert resp.headers["Location"] == f"/api/v1/children/{child['id']}"
    assert child["upn"] == UPN
    assert child["uln"] == ULN
    assert child["nhs_number"] == NHS  # stored without the spaces
    assert child["postcode"] == "SW1A 1AA"  # upper case, one space before the inward code
    assert (child["given_name"], child["family_name"], child["date_of_birth"], child["sex"]) == ("Ada", "Lovelace", "2015-12-10", "female")
    for stamp in (child["created_at"], child["updated_at"]):
        assert stamp.endswith("Z")  # RFC 3339, UTC
        dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    assert child_count(tenant_a) == 1


def test_the_created_child_reads_back_the_same_at_its_location(api: Any, tenant_a: Any, writer_a: Any) -> None:
    resp = api.post("/api/v1/children", json=FULL_CHILD, headers=writer_a.headers)
    read = api.get(resp.headers["Location"], headers=writer_a.headers)
    assert read.status_code == 200
    assert read.get_json() == resp.get_json()


def test_a_child_needs_only_names_and_date_of_birth(api: Any, tenant_a: Any, writer_a: Any) -> None:
    child = create(api, writer_a, CHILD)
    assert all(child[k] is None for k in ("upn", "uln", "nhs_number", "sex", "postcode"))


def test_names_are_tidied_of_extra_spaces(api: Any, tenant_a: Any, writer_a: Any) -> None:
    child = create(api, writer_a, {**CHILD, "given_name": "  Ada   May ", "family_name": " Lovelace"})
    assert (child["given_name"], child["family_name"]) == ("Ada May", "Lovelace")


def test_empty_optional_identifiers_are_stored_as_null(api: Any, tenant_a: Any, writer_a: Any) -> None:
    child = create(api, writer_a, {**CHILD, "upn": "", "uln": None, "nhs_number": " ", "postcode": None, "sex": None})
    assert all(child[k] is None for k in ("upn", "uln", "nhs_number", "sex", "postcode"))


# ---------------------------------------------------------------------------------------
# Audit: every read and write, with the client, the channel and the request id


def _assert_audited(tenant: Any, resp: Any, who: Any, action: str, subject_ids: list[str]) -> list[Any]:
    events = audit_events(tenant, request_id=resp.headers["X-Request-ID"])
    assert [(e.action, str(e.subject_id)) for e in events] == [(action, s) for s in subject_ids]
    for e in events:
        assert (e.actor_type, e.actor_id, e.channel, e.subject_type) == ("api_client", who.client_id, "api", "child")
    return events


def test_creating_a_child_is_audited_with_the_fields_given(api: Any, tenant_a: Any, writer_a: Any) -> None:
    resp = api.post("/api/v1/children", json={**CHILD, "upn": UPN}, headers=writer_a.headers)
    [event] = _assert_audited(tenant_a, resp, writer_a, "child.created", [resp.get_json()["id"]])
    assert set(event.fields.split(",")) >= {"given_name", "family_name", "date_of_birth", "upn"}


def test_reading_a_child_is_audited_as_viewed(api: Any, tenant_a: Any, writer_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    resp = api.get(f"/api/v1/children/{child.id}", headers=writer_a.headers)
    assert resp.status_code == 200
    _assert_audited(tenant_a, resp, writer_a, "child.viewed", [str(child.id)])


def test_changing_a_child_is_audited_with_the_changed_fields_only(api: Any, tenant_a: Any, writer_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a, postcode="SW1A 1AA")
    resp = api.patch(f"/api/v1/children/{child.id}",
                     json={"given_name": "Changed", "postcode": "sw1a 1aa", "family_name": child.family_name},
                     headers=writer_a.headers)
    assert resp.status_code == 200
    [event] = _assert_audited(tenant_a, resp, writer_a, "child.updated", [str(child.id)])
    assert event.fields == "given_name"  # names, never values; unchanged fields are not listed
    assert "Changed" not in json.dumps([event.fields, event.action, event.object_type])


def test_listing_audits_every_child_on_the_page_and_no_other(api: Any, tenant_a: Any, writer_a: Any, make_child: Any) -> None:
    shown = [make_child(tenant_a, family_name="Zzaudit") for _ in range(3)]
    make_child(tenant_a, family_name="Yyother")
    resp = api.get("/api/v1/children?q=Zzaudit&limit=2", headers=writer_a.headers)
    assert resp.status_code == 200
    _assert_audited(tenant_a, resp, writer_a, "child.listed", [str(c.id) for c in shown[:2]])


def test_a_patch_that_changes_nothing_is_not_audited_as_an_update(api: Any, tenant_a: Any, writer_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    before = snapshot(tenant_a)
    for body in ({}, {"given_name": child.given_name}):
        resp = api.patch(f"/api/v1/children/{child.id}", json=body, headers=writer_a.headers)
        assert resp.status_code == 200
        assert resp.get_json()["given_name"] == child.given_name
    assert snapshot(tenant_a) == before


def test_a_client_supplied_request_id_is_echoed_and_audited(api: Any, tenant_a: Any, writer_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    resp = api.get(f"/api/v1/children/{child.id}", headers={**writer_a.headers, "X-Request-ID": "mis-request-0001"})
    assert resp.headers["X-Request-ID"] == "mis-request-0001"
    assert [e.action for e in audit_events(tenant_a, request_id="mis-request-0001")] == ["child.viewed"]


def test_a_failed_request_leaves_no_audit_event(api: Any, tenant_a: Any, writer_a: Any, make_child: Any) -> None:
    make_child(tenant_a)
    resp = api.get("/api/v1/children?cursor=not-a-cursor", headers=writer_a.headers)
    assert_problem(resp, 422, "validation-error", fields={"cursor"})
    assert audit_events(tenant_a, request_id=resp.headers["X-Request-ID"]) == []


# ---------------------------------------------------------------------------------------
# Change (PATCH)


def test_a_patch_changes_only_the_fields_sent(api: Any, tenant_a: Any, writer_a: Any) -> None:
    child = create(api, writer_a, FULL_CHILD)
    resp = api.patch(f"/api/v1/children/{child['id']}", json={"given_name": "Augusta", "postcode": "m1 1ae"},
                     headers=writer_a.headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    changed = resp.get_json()
    assert changed == {**child, "given_name": "Augusta", "postcode": "M1 1AE", "updated_at": changed["updated_at"]}
    assert api.get(f"/api/v1/children/{child['id']}", headers=writer_a.headers).get_json() == changed


def test_a_patch_with_null_clears_optional_fields(api: Any, tenant_a: Any, writer_a: Any) -> None:
    child = create(api, writer_a, FULL_CHILD)
    cleared = {k: None for k in ("upn", "uln", "nhs_number", "sex", "postcode")}
    resp = api.patch(f"/api/v1/children/{child['id']}", json=cleared, headers=writer_a.headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert api.get(f"/api/v1/children/{child['id']}", headers=writer_a.headers).get_json() == {
        **child, **cleared, "updated_at": resp.get_json()["updated_at"]}


def test_a_patch_normalises_identifiers_like_a_create(api: Any, tenant_a: Any, writer_a: Any) -> None:
    child = create(api, writer_a, CHILD)
    resp = api.patch(f"/api/v1/children/{child['id']}",
                     json={"upn": UPN.lower(), "nhs_number": spaced(NHS), "postcode": "ec1a1bb", "uln": ULN},
                     headers=writer_a.headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    got = resp.get_json()
    assert (got["upn"], got["nhs_number"], got["postcode"], got["uln"]) == (UPN, NHS, "EC1A 1BB", ULN)


def test_a_child_may_keep_its_own_identifiers_in_a_patch(api: Any, tenant_a: Any, writer_a: Any) -> None:
    child = create(api, writer_a, FULL_CHILD)
    resp = api.patch(f"/api/v1/children/{child['id']}", json={"upn": UPN, "nhs_number": NHS, "given_name": "Augusta"},
                     headers=writer_a.headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)


# ---------------------------------------------------------------------------------------
# Listing: cursor pagination and filters


@pytest.mark.smoke
def test_paging_through_seven_children_three_at_a_time(api: Any, tenant_a: Any, writer_a: Any) -> None:
    created = [create(api, writer_a, {**CHILD, "family_name": "Zzpage", "given_name": f"Number{i}"})["id"] for i in range(7)]
    pages: list[list[str]] = []
    cursor: str | None = None
    for _ in range(5):
        query = "?q=Zzpage&limit=3" + (f"&cursor={cursor}" if cursor else "")
        resp = api.get(f"/api/v1/children{query}", headers=writer_a.headers)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        body = resp.get_json()
        assert set(body) == {"items", "next_cursor"}
        pages.append([item["id"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert [len(p) for p in pages] == [3, 3, 1]
    seen = [i for p in pages for i in p]
    assert seen == created  # no duplicates, no gaps, oldest record first and the newest last


def test_a_page_that_ends_exactly_at_the_last_child_has_no_next_cursor(api: Any, tenant_a: Any, writer_a: Any,
                                                                       make_child: Any) -> None:
    for _ in range(3):
        make_child(tenant_a, family_name="Zzexact")
    body = api.get("/api/v1/children?q=Zzexact&limit=3", headers=writer_a.headers).get_json()
    assert len(body["items"]) == 3 and body["next_cursor"] is None
    empty = api.get("/api/v1/children?q=Zznobody", headers=writer_a.headers).get_json()
    assert empty == {"items": [], "next_cursor": None}


def test_a_child_created_between_pages_appears_on_a_later_page(api: Any, tenant_a: Any, writer_a: Any) -> None:
    first = [create(api, writer_a, {**CHILD, "family_name": "Zzlive"})["id"] for _ in range(3)]
    page1 = api.get("/api/v1/children?q=Zzlive&limit=2", headers=writer_a.headers).get_json()
    late = create(api, writer_a, {**CHILD, "family_name": "Zzlive"})["id"]
    page2 = api.get(f"/api/v1/children?q=Zzlive&limit=2&cursor={page1['next_cursor']}", headers=writer_a.headers).get_json()
    assert [i["id"] for i in page1["items"] + page2["items"]] == first + [late]
    assert page2["next_cursor"] is None


def test_the_default_page_is_fifty_and_the_maximum_two_hundred(api: Any, tenant_a: Any, writer_a: Any, make_child: Any) -> None:
    from core.children.services import create_child
    from tests.conftest import in_tenant, system_actor

    with in_tenant(tenant_a):
        for i in range(201):
            create_child(system_actor(tenant_a), {"given_name": f"N{i}", "family_name": "Zzbulk", "date_of_birth": dt.date(2015, 1, 1)})
    default = api.get("/api/v1/children?q=Zzbulk", headers=writer_a.headers).get_json()
    assert len(default["items"]) == 50 and default["next_cursor"]
    most = api.get("/api/v1/children?q=Zzbulk&limit=200", headers=writer_a.headers).get_json()
    assert len(most["items"]) == 200 and most["next_cursor"]
    rest = api.get(f"/api/v1/children?q=Zzbulk&limit=200&cursor={most['next_cursor']}", headers=writer_a.headers).get_json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None


@pytest.fixture
def filter_children(tenant_a: Any, make_child: Any) -> dict[str, Any]:
    return {
        "ada": make_child(tenant_a, given_name="Ada", family_name="Zzfilter", upn=make_upn("901", 3001, 2014, 1),
                          nhs_number=make_nhs_number(201), uln=make_uln(201), date_of_birth=dt.date(2014, 3, 4)),
        "bo": make_child(tenant_a, given_name="Bo", family_name="Zzfilter", upn=make_upn("901", 3001, 2014, 2),
                         nhs_number=make_nhs_number(301), date_of_birth=dt.date(2013, 5, 6)),
        "cy": make_child(tenant_a, given_name="Cy", family_name="Zzfilterton", date_of_birth=dt.date(2014, 3, 4)),
    }


@pytest.mark.parametrize("query, expected", [
    (lambda c: {"upn": c["ada"].upn.lower()}, ["ada"]),
    (lambda c: {"nhs_number": spaced(c["bo"].nhs_number)}, ["bo"]),
    (lambda c: {"uln": c["ada"].uln}, ["ada"]),
    (lambda c: {"date_of_birth": "2014-03-04", "q": "Zzfilter"}, ["ada", "cy"]),
    (lambda c: {"q": "zzfilter"}, ["ada", "bo", "cy"]),
    (lambda c: {"q": "Zzfilter Bo"}, ["bo"]),
    (lambda c: {"q": "zzfiltert"}, ["cy"]),
    (lambda c: {"q": c["bo"].upn}, ["bo"]),
    (lambda c: {"q": spaced(c["ada"].nhs_number)}, ["ada"]),
    (lambda c: {"q": c["ada"].uln}, ["ada"]),
    (lambda c: {"q": "Zzfilter", "date_of_birth": "2013-05-06", "upn": c["bo"].upn}, ["bo"]),
    (lambda c: {"q": "Zzfilter", "date_of_birth": "2013-05-06", "upn": c["ada"].upn}, []),
    (lambda c: {"q": "zz%"}, []),  # LIKE wildcards are literal
], ids=["upn", "nhs-spaced", "uln", "dob", "q-name", "q-two-words", "q-prefix", "q-upn", "q-nhs", "q-uln",
        "all-together", "contradictory", "wildcard"])
def test_list_filters(api: Any, tenant_a: Any, writer_a: Any, filter_children: dict[str, Any], query: Any,
                      expected: list[str]) -> None:
    resp = api.get("/api/v1/children", query_string=query(filter_children), headers=writer_a.headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert [i["id"] for i in resp.get_json()["items"]] == [str(filter_children[k].id) for k in expected]


@pytest.mark.parametrize("limit", ["0", "201", "-1", "abc", "1.5", ""])
def test_a_limit_out_of_bounds_is_a_422_naming_limit(api: Any, tenant_a: Any, writer_a: Any, limit: str) -> None:
    before = snapshot(tenant_a)
    body = assert_problem(api.get(f"/api/v1/children?limit={limit}", headers=writer_a.headers), 422, "validation-error",
                          fields={"limit"})
    assert body["title"] == "Validation error"
    assert snapshot(tenant_a) == before


@pytest.mark.parametrize("cursor", ["not-a-cursor", "!!!", "djI6YWJj",  # "v2:abc"
                                    "djE6bm90LWEtdXVpZA",  # "v1:not-a-uuid"
                                    "x" * 201, "%FF"])
def test_a_bad_cursor_is_a_422_naming_cursor(api: Any, tenant_a: Any, writer_a: Any, make_child: Any, cursor: str) -> None:
    make_child(tenant_a)
    before = snapshot(tenant_a)
    assert_problem(api.get(f"/api/v1/children?cursor={cursor}", headers=writer_a.headers), 422, "validation-error",
                   fields={"cursor"})
    assert snapshot(tenant_a) == before


@pytest.mark.parametrize("query, field", [
    ("date_of_birth=2015-02-30", "date_of_birth"),
    ("date_of_birth=04/03/2014", "date_of_birth"),
    ("q=" + "a" * 101, "q"),
    ("upn=" + "A" * 21, "upn"),
    ("nhs=9434765919", "nhs"),  # a misspelt filter must not silently list every child
    ("page=2", "page"),
])
def test_bad_list_queries_are_422_naming_the_parameter(api: Any, tenant_a: Any, writer_a: Any, make_child: Any,
                                                       query: str, field: str) -> None:
    make_child(tenant_a)
    before = snapshot(tenant_a)
    assert_problem(api.get(f"/api/v1/children?{query}", headers=writer_a.headers), 422, "validation-error", fields={field})
    assert snapshot(tenant_a) == before


# ---------------------------------------------------------------------------------------
# Bad input: a problem naming each field, and nothing changed


def _future() -> str:
    return (TODAY + dt.timedelta(days=1)).isoformat()


def _too_old() -> str:
    return (TODAY - dt.timedelta(days=31 * 366)).isoformat()


INVALID_CREATES: list[tuple[str, dict[str, Any], set[str]]] = [
    ("missing-given-name", {"family_name": "L", "date_of_birth": "2015-01-01"}, {"given_name"}),
    ("missing-family-name", {"given_name": "A", "date_of_birth": "2015-01-01"}, {"family_name"}),
    ("missing-date-of-birth", {"given_name": "A", "family_name": "L"}, {"date_of_birth"}),
    ("missing-everything", {}, {"given_name", "family_name", "date_of_birth"}),
    ("given-name-number", {**CHILD, "given_name": 5}, {"given_name"}),
    ("given-name-list", {**CHILD, "given_name": ["Ada"]}, {"given_name"}),
    ("given-name-empty", {**CHILD, "given_name": ""}, {"given_name"}),
    ("given-name-blank", {**CHILD, "given_name": "   "}, {"given_name"}),
    ("given-name-null", {**CHILD, "given_name": None}, {"given_name"}),
    ("given-name-too-long", {**CHILD, "given_name": "a" * 101}, {"given_name"}),
    ("family-name-number", {**CHILD, "family_name": 5}, {"family_name"}),
    ("family-name-blank", {**CHILD, "family_name": " "}, {"family_name"}),
    ("family-name-too-long", {**CHILD, "family_name": "a" * 101}, {"family_name"}),
    ("dob-month-13", {**CHILD, "date_of_birth": "2015-13-01"}, {"date_of_birth"}),
    ("dob-30-february", {**CHILD, "date_of_birth": "2015-02-30"}, {"date_of_birth"}),
    ("dob-british-order", {**CHILD, "date_of_birth": "10/12/2015"}, {"date_of_birth"}),
    ("dob-number", {**CHILD, "date_of_birth": 20151210}, {"date_of_birth"}),
    ("dob-timestamp", {**CHILD, "date_of_birth": "2015-12-10T00:00:00Z"}, {"date_of_birth"}),
    ("dob-null", {**CHILD, "date_of_birth": None}, {"date_of_birth"}),
    ("dob-future", {**CHILD, "date_of_birth": _future()}, {"date_of_birth"}),
    ("dob-over-30-years-ago", {**CHILD, "date_of_birth": _too_old()}, {"date_of_birth"}),
    ("upn-check-letter", {**CHILD, "upn": ("B" if UPN[0] != "B" else "C") + UPN[1:]}, {"upn"}),
    ("upn-too-short", {**CHILD, "upn": UPN[:-1]}, {"upn"}),
    ("upn-letter-i", {**CHILD, "upn": "I" + UPN[1:]}, {"upn"}),
    ("upn-number", {**CHILD, "upn": 5}, {"upn"}),
    ("upn-too-long", {**CHILD, "upn": "A" * 21}, {"upn"}),
    ("uln-check-digit", {**CHILD, "uln": "9276308687"}, {"uln"}),
    ("uln-leading-zero", {**CHILD, "uln": "0276308686"}, {"uln"}),
    ("uln-short", {**CHILD, "uln": "12345"}, {"uln"}),
    ("nhs-check-digit", {**CHILD, "nhs_number": "943 476 5918"}, {"nhs_number"}),
    ("nhs-short", {**CHILD, "nhs_number": "12345"}, {"nhs_number"}),
    ("nhs-letters", {**CHILD, "nhs_number": "94347659AB"}, {"nhs_number"}),
    ("nhs-number-type", {**CHILD, "nhs_number": 9434765919}, {"nhs_number"}),
    ("postcode-nonsense", {**CHILD, "postcode": "zz"}, {"postcode"}),
    ("postcode-outward-only", {**CHILD, "postcode": "SW1A"}, {"postcode"}),
    ("postcode-too-long", {**CHILD, "postcode": "SW1A 1AA 1AA"}, {"postcode"}),
    ("postcode-number", {**CHILD, "postcode": 12345}, {"postcode"}),
    ("sex-letter", {**CHILD, "sex": "F"}, {"sex"}),
    ("sex-capitalised", {**CHILD, "sex": "Female"}, {"sex"}),
    ("sex-number", {**CHILD, "sex": 1}, {"sex"}),
    ("unknown-field", {**CHILD, "middle_name": "May"}, {"middle_name"}),
    ("read-only-id", {**CHILD, "id": MISSING_ID}, {"id"}),
    ("read-only-created-at", {**CHILD, "created_at": "2020-01-01T00:00:00Z"}, {"created_at"}),
    ("body-list", [CHILD], {"_schema"}),  # type: ignore[list-item]
    ("body-string", "Ada", {"_schema"}),  # type: ignore[list-item]
    ("body-null", None, {"_schema"}),  # type: ignore[list-item]
]


@pytest.mark.parametrize("body, fields", [(b, f) for _, b, f in INVALID_CREATES], ids=[i for i, _, _ in INVALID_CREATES])
def test_an_invalid_child_gets_a_422_naming_each_bad_field_and_nothing_is_created(api: Any, tenant_a: Any, writer_a: Any,
                                                                                  make_child: Any, body: Any,
                                                                                  fields: set[str]) -> None:
    make_child(tenant_a)
    before = snapshot(tenant_a)
    resp = api.post("/api/v1/children", data=json.dumps(body), content_type="application/json", headers=writer_a.headers)
    problem = assert_problem(resp, 422, "validation-error", fields=fields)
    assert problem["title"] == "Validation error"
    assert snapshot(tenant_a) == before


@pytest.mark.smoke
def test_every_bad_identifier_is_reported_at_once(api: Any, tenant_a: Any, writer_a: Any) -> None:
    body = {**CHILD, "date_of_birth": _future(), "upn": "A" + UPN[1:-1] + "0", "uln": "1234567890",
            "nhs_number": "9434765918", "postcode": "nowhere"}
    resp = api.post("/api/v1/children", json=body, headers=writer_a.headers)
    problem = assert_problem(resp, 422, "validation-error", fields={"date_of_birth", "upn", "uln", "nhs_number", "postcode"})
    assert any("check" in m for m in problem["errors"]["nhs_number"])
    assert "9434765918" not in json.dumps(problem)  # identifiers are personal data: never echoed
    assert child_count(tenant_a) == 0


INVALID_PATCHES: list[tuple[str, dict[str, Any], set[str]]] = [
    ("given-name-null", {"given_name": None}, {"given_name"}),
    ("given-name-blank", {"given_name": "  "}, {"given_name"}),
    ("given-name-number", {"given_name": 7}, {"given_name"}),
    ("family-name-null", {"family_name": None}, {"family_name"}),
    ("family-name-empty", {"family_name": ""}, {"family_name"}),
    ("dob-null", {"date_of_birth": None}, {"date_of_birth"}),
    ("dob-bad", {"date_of_birth": "2015-02-30"}, {"date_of_birth"}),
    ("dob-future", {"date_of_birth": _future()}, {"date_of_birth"}),
    ("upn-check-letter", {"upn": ("B" if UPN[0] != "B" else "C") + UPN[1:]}, {"upn"}),
    ("uln-check-digit", {"uln": "9276308687"}, {"uln"}),
    ("nhs-check-digit", {"nhs_number": "9434765918"}, {"nhs_number"}),
    ("postcode-bad", {"postcode": "zz"}, {"postcode"}),
    ("sex-bad", {"sex": "f"}, {"sex"}),
    ("unknown-field", {"nickname": "Addy"}, {"nickname"}),
    ("read-only-id", {"id": MISSING_ID}, {"id"}),
    ("one-good-one-bad", {"given_name": "Changed", "postcode": "zz"}, {"postcode"}),
    ("body-list", [{"given_name": "Changed"}], {"_schema"}),  # type: ignore[dict-item]
]


@pytest.mark.parametrize("body, fields", [(b, f) for _, b, f in INVALID_PATCHES], ids=[i for i, _, _ in INVALID_PATCHES])
def test_an_invalid_patch_gets_a_422_naming_each_bad_field_and_nothing_changes(api: Any, tenant_a: Any, writer_a: Any,
                                                                               body: Any, fields: set[str]) -> None:
    child = create(api, writer_a, FULL_CHILD)
    before = snapshot(tenant_a)
    resp = api.patch(f"/api/v1/children/{child['id']}", data=json.dumps(body), content_type="application/json",
                     headers=writer_a.headers)
    assert_problem(resp, 422, "validation-error", fields=fields)
    assert snapshot(tenant_a) == before
    assert api.get(f"/api/v1/children/{child['id']}", headers=writer_a.headers).get_json() == child


@pytest.mark.parametrize("content_type, data", [
    ("text/plain", json.dumps(CHILD)),
    ("application/x-www-form-urlencoded", "given_name=Ada&family_name=Lovelace&date_of_birth=2015-12-10"),
    ("application/xml", "<child><given_name>Ada</given_name></child>"),
    (None, json.dumps(CHILD)),
], ids=["text", "form", "xml", "no-content-type"])
def test_a_body_that_is_not_json_gets_415_and_changes_nothing(api: Any, tenant_a: Any, writer_a: Any, make_child: Any,
                                                              content_type: str | None, data: str) -> None:
    child = make_child(tenant_a)
    before = snapshot(tenant_a)
    for method, path in (("post", "/api/v1/children"), ("patch", f"/api/v1/children/{child.id}")):
        resp = getattr(api, method)(path, data=data, content_type=content_type, headers=writer_a.headers)
        body = assert_problem(resp, 415, "unsupported-media-type")
        assert "application/json" in body["detail"]
    assert snapshot(tenant_a) == before


@pytest.mark.parametrize("data", ['{"given_name": "Ada",', "{given_name: 'Ada'}", "not json", '{"a": 1} trailing',
                                  b'{"given_name": "\xff"}'], ids=["truncated", "js-object", "text", "trailing", "not-utf8"])
def test_malformed_json_gets_400_and_changes_nothing(api: Any, tenant_a: Any, writer_a: Any, make_child: Any, data: Any) -> None:
    child = make_child(tenant_a)
    before = snapshot(tenant_a)
    for method, path in (("post", "/api/v1/children"), ("patch", f"/api/v1/children/{child.id}")):
        resp = getattr(api, method)(path, data=data, content_type="application/json", headers=writer_a.headers)
        body = assert_problem(resp, 400, "bad-request")
        assert "not valid JSON" in body["detail"]
    assert snapshot(tenant_a) == before


def test_an_empty_body_is_a_422_for_create_and_no_change_for_patch(api: Any, tenant_a: Any, writer_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    before = snapshot(tenant_a)
    assert_problem(api.post("/api/v1/children", headers=writer_a.headers), 422, "validation-error",
                   fields={"given_name", "family_name", "date_of_birth"})
    resp = api.patch(f"/api/v1/children/{child.id}", headers=writer_a.headers)
    assert resp.status_code == 200 and resp.get_json()["id"] == str(child.id)
    assert snapshot(tenant_a) == before


def test_a_body_over_the_size_limit_gets_413_and_changes_nothing(api: Any, tenant_a: Any, writer_a: Any) -> None:
    before = snapshot(tenant_a)
    big = json.dumps({**CHILD, "given_name": "a" * (1024 * 1024)})
    assert_problem(api.post("/api/v1/children", data=big, content_type="application/json", headers=writer_a.headers),
                   413, "payload-too-large")
    assert snapshot(tenant_a) == before


@pytest.mark.parametrize("field, value", [("upn", UPN), ("nhs_number", NHS), ("uln", ULN)])
def test_a_duplicate_identifier_gets_409_naming_the_field_and_nothing_is_created(api: Any, tenant_a: Any, writer_a: Any,
                                                                                 field: str, value: str) -> None:
    first = create(api, writer_a, {**CHILD, field: value})
    before = snapshot(tenant_a)
    sent = spaced(value) if field == "nhs_number" else value.lower() if field == "upn" else value
    resp = api.post("/api/v1/children", json={**CHILD, "given_name": "Other", field: sent}, headers=writer_a.headers)
    problem = assert_problem(resp, 409, "conflict", fields={field})
    assert first["id"] not in json.dumps(problem) and value not in json.dumps(problem)
    assert snapshot(tenant_a) == before


@pytest.mark.parametrize("field, value", [("upn", UPN), ("nhs_number", NHS), ("uln", ULN)])
def test_changing_to_another_childs_identifier_gets_409_and_nothing_changes(api: Any, tenant_a: Any, writer_a: Any,
                                                                            field: str, value: str) -> None:
    create(api, writer_a, {**CHILD, field: value})
    other = create(api, writer_a, {**CHILD, "given_name": "Other"})
    before = snapshot(tenant_a)
    resp = api.patch(f"/api/v1/children/{other['id']}", json={field: value, "given_name": "Changed"}, headers=writer_a.headers)
    assert_problem(resp, 409, "conflict", fields={field})
    assert snapshot(tenant_a) == before


def test_another_councils_identifiers_never_conflict(api: Any, tenant_a: Any, tenant_b: Any, writer_a: Any,
                                                     credentials: Any, make_child: Any) -> None:
    make_child(tenant_a, upn=UPN, nhs_number=NHS, uln=ULN)
    writer_b = credentials(tenant_b)
    # Council B learns nothing about council A's children from a duplicate check.
    resp = api.post("/api/v1/children", json=FULL_CHILD, headers=writer_b.headers)
    assert resp.status_code == 201, resp.get_data(as_text=True)


# ---------------------------------------------------------------------------------------
# 404 and 405


BAD_IDS = ["nope", "1", "0" * 100, MISSING_ID, MISSING_ID.upper(), "01a21ea2000070008000000000000000", "%20", "null"]


@pytest.mark.parametrize("child_id", BAD_IDS)
def test_malformed_and_missing_ids_get_identical_404s(api: Any, tenant_a: Any, writer_a: Any, child_id: str) -> None:
    reference = api.get(f"/api/v1/children/{MISSING_ID}", headers=writer_a.headers)
    assert_problem(reference, 404, "not-found")
    before = snapshot(tenant_a)
    for resp in (api.get(f"/api/v1/children/{child_id}", headers=writer_a.headers),
                 api.patch(f"/api/v1/children/{child_id}", json={"given_name": "X"}, headers=writer_a.headers)):
        assert_problem(resp, 404, "not-found")
        assert _no_request_id(resp.get_json()) == _no_request_id(reference.get_json())
    assert snapshot(tenant_a) == before


def test_another_councils_child_gets_the_same_404_as_a_missing_one(api: Any, tenant_a: Any, tenant_b: Any,
                                                                   credentials: Any, make_child: Any) -> None:
    child_a = make_child(tenant_a, family_name="Zzsecret")
    writer_b = credentials(tenant_b)
    before = snapshot(tenant_a)
    missing = api.get(f"/api/v1/children/{MISSING_ID}", headers=writer_b.headers)
    for resp in (api.get(f"/api/v1/children/{child_a.id}", headers=writer_b.headers),
                 api.patch(f"/api/v1/children/{child_a.id}", json={"given_name": "Leaked"}, headers=writer_b.headers)):
        assert_problem(resp, 404, "not-found")
        assert _no_request_id(resp.get_json()) == _no_request_id(missing.get_json())
    listed = api.get("/api/v1/children?q=Zzsecret", headers=writer_b.headers).get_json()
    assert listed == {"items": [], "next_cursor": None}
    assert snapshot(tenant_a) == before


@pytest.mark.smoke
def test_unsupported_methods_get_a_405_problem_with_allow(api: Any, tenant_a: Any, writer_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    before = snapshot(tenant_a)
    for method, path, allowed in (("delete", f"/api/v1/children/{child.id}", {"GET", "PATCH"}),
                                  ("put", f"/api/v1/children/{child.id}", {"GET", "PATCH"}),
                                  ("post", f"/api/v1/children/{child.id}", {"GET", "PATCH"}),
                                  ("put", "/api/v1/children", {"GET", "POST"}),
                                  ("delete", "/api/v1/children", {"GET", "POST"}),
                                  ("patch", "/api/v1/children", {"GET", "POST"})):
        resp = getattr(api, method)(path, json=CHILD, headers=writer_a.headers)
        assert_problem(resp, 405, "method-not-allowed")
        assert allowed <= {m.strip() for m in resp.headers["Allow"].split(",")}
    assert snapshot(tenant_a) == before


# ---------------------------------------------------------------------------------------
# Idempotency-Key (single-threaded; concurrency is tests/web/api/test_idempotency_live.py)


@pytest.mark.smoke
def test_a_repeat_with_the_same_key_replays_the_first_result_and_creates_one_child(api: Any, tenant_a: Any,
                                                                                  writer_a: Any) -> None:
    key = new_key()
    first = api.post("/api/v1/children", json=FULL_CHILD, headers={**writer_a.headers, "Idempotency-Key": key})
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    again = api.post("/api/v1/children", json=FULL_CHILD, headers={**writer_a.headers, "Idempotency-Key": key})
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert child_count(tenant_a) == 1
    assert [e.action for e in audit_events(tenant_a, action="child.created")] == ["child.created"]


def test_the_same_key_with_a_different_body_is_refused_and_creates_nothing(api: Any, tenant_a: Any, writer_a: Any) -> None:
    key = new_key()
    create(api, writer_a, CHILD, **{"Idempotency-Key": key})
    before = snapshot(tenant_a)
    for body in ({**CHILD, "given_name": "Different"}, FULL_CHILD):
        resp = api.post("/api/v1/children", json=body, headers={**writer_a.headers, "Idempotency-Key": key})
        assert_problem(resp, 422, "idempotency-key-reused")
    assert snapshot(tenant_a) == before


def test_the_same_key_on_another_operation_is_refused(api: Any, tenant_a: Any, writer_a: Any) -> None:
    key = new_key()
    child = create(api, writer_a, CHILD, **{"Idempotency-Key": key})
    before = snapshot(tenant_a)
    resp = api.patch(f"/api/v1/children/{child['id']}", json=CHILD, headers={**writer_a.headers, "Idempotency-Key": key})
    assert_problem(resp, 422, "idempotency-key-reused")
    assert snapshot(tenant_a) == before


@pytest.mark.parametrize("failing, status", [({**CHILD, "upn": "bad"}, 422), ({"given_name": 5}, 422), ({**CHILD, "upn": UPN}, 409)],
                         ids=["service-422", "schema-422", "conflict-409"])
def test_a_failed_request_is_not_remembered_so_a_fixed_retry_with_the_key_succeeds(api: Any, tenant_a: Any, writer_a: Any,
                                                                                  make_child: Any, failing: dict[str, Any],
                                                                                  status: int) -> None:
    holder = make_child(tenant_a, upn=UPN)
    key = new_key()
    headers = {**writer_a.headers, "Idempotency-Key": key}
    failed = api.post("/api/v1/children", json=failing, headers=headers)
    assert failed.status_code == status
    fixed = api.post("/api/v1/children", json={**CHILD, "given_name": "Fixed"}, headers=headers)
    assert fixed.status_code == 201, fixed.get_data(as_text=True)
    assert "Idempotent-Replayed" not in fixed.headers
    assert fixed.get_json()["id"] != str(holder.id)
    assert child_count(tenant_a) == 2


def test_keys_belong_to_one_client(api: Any, tenant_a: Any, writer_a: Any, credentials: Any) -> None:
    other = credentials(tenant_a)
    key = new_key()
    mine = create(api, writer_a, CHILD, **{"Idempotency-Key": key})
    theirs = api.post("/api/v1/children", json=CHILD, headers={**other.headers, "Idempotency-Key": key})
    assert theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs.headers
    assert theirs.get_json()["id"] != mine["id"]
    # ...and a different body under the same key is no clash across clients either.
    third = api.post("/api/v1/children", json={**CHILD, "given_name": "Third"},
                     headers={**credentials(tenant_a).headers, "Idempotency-Key": key})
    assert third.status_code == 201
    assert child_count(tenant_a) == 3


@pytest.mark.parametrize("key", ["has space", "x" * 256, "", "tab\there", "caf\u00e9"], ids=["space", "256-chars", "empty", "tab", "non-ascii"])
def test_a_malformed_idempotency_key_is_a_422_and_changes_nothing(api: Any, tenant_a: Any, writer_a: Any, make_child: Any,
                                                                 key: str) -> None:
    child = make_child(tenant_a)
    before = snapshot(tenant_a)
    for method, path in (("post", "/api/v1/children"), ("patch", f"/api/v1/children/{child.id}")):
        resp = getattr(api, method)(path, json={**CHILD, "given_name": "Changed"},
                                    headers={**writer_a.headers, "Idempotency-Key": key})
        assert_problem(resp, 422, "validation-error", fields={"Idempotency-Key"})
    assert snapshot(tenant_a) == before


def test_a_key_of_255_printable_characters_is_accepted(api: Any, tenant_a: Any, writer_a: Any) -> None:
    key = ("abc-DEF_123.~!" * 20)[:255]
    create(api, writer_a, CHILD, **{"Idempotency-Key": key})
    again = api.post("/api/v1/children", json=CHILD, headers={**writer_a.headers, "Idempotency-Key": key})
    assert again.headers["Idempotent-Replayed"] == "true"
    assert child_count(tenant_a) == 1


def test_a_repeated_patch_with_the_same_key_replays_without_acting_twice(api: Any, tenant_a: Any, writer_a: Any) -> None:
    child = create(api, writer_a, CHILD)
    path = f"/api/v1/children/{child['id']}"
    key = new_key()
    first = api.patch(path, json={"given_name": "One"}, headers={**writer_a.headers, "Idempotency-Key": key})
    assert first.status_code == 200
    # Someone changes the child in between; the replay must not put "One" back.
    assert api.patch(path, json={"given_name": "Two"}, headers=writer_a.headers).status_code == 200
    again = api.patch(path, json={"given_name": "One"}, headers={**writer_a.headers, "Idempotency-Key": key})
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert api.get(path, headers=writer_a.headers).get_json()["given_name"] == "Two"
    assert len(audit_events(tenant_a, action="child.updated")) == 2
    before = snapshot(tenant_a)
    assert_problem(api.patch(path, json={"given_name": "Three"}, headers={**writer_a.headers, "Idempotency-Key": key}),
                   422, "idempotency-key-reused")
    assert snapshot(tenant_a) == before
