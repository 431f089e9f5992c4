"""Caseworker pages: sign-in, finding, viewing, adding and changing children.

Every form is also tested with bad input: a GOV.UK error summary, a 400, and no change.
"""

from __future__ import annotations

import dataclasses
import re
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from core.children.models import Child, Contact, Placement
from core.users.models import Role
from tests.conftest import csrf_token, in_tenant

pytestmark = pytest.mark.smoke


def _count(tenant: Any, model: Any) -> int:
    with in_tenant(tenant) as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def _summary(body: str) -> list[tuple[str, str]]:
    """(href, text) of each error summary link."""
    block = re.search(r'govuk-error-summary__list">(.*?)</ul>', body, re.S)
    assert block, "no error summary on the page"
    return re.findall(r'<a href="([^"]+)">([^<]+)</a>', block.group(1))


@pytest.fixture
def caseworker(tenant_a: Any, make_user: Any) -> Any:
    return make_user(tenant_a, Role.CASEWORKER, name="Casey Worker")


@pytest.fixture
def cw(client_for: Any, tenant_a: Any, caseworker: Any) -> Any:
    return client_for(tenant_a, caseworker)


def _post(client: Any, path: str, data: dict[str, str]) -> Any:
    return client.post(path, data={"csrf_token": csrf_token(client, path), **data})


# ---------------------------------------------------------------------------------------
# Signing in and out


def test_signed_out_people_are_sent_to_sign_in_and_back(client_for: Any, tenant_a: Any) -> None:
    resp = client_for(tenant_a).get("/children/?q=x")
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/sign-in?next=")


def test_sign_in_without_demo_mode_offers_no_way_in(client_for: Any, tenant_a: Any, caseworker: Any, app: Any,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    client = client_for(tenant_a)
    body = client.get("/sign-in").get_data(as_text=True)
    assert "being set up" in body and caseworker.display_name not in body
    assert 'name="csrf_token"' not in body  # no form at all
    # Even a forged post (CSRF switched off here to reach the view) cannot sign anyone in.
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)
    assert client.post("/sign-in", data={"user_id": str(caseworker.id)}).status_code == 404
    assert client.get("/children/").status_code == 302


@pytest.fixture
def demo_mode(app: Any) -> Any:
    original = app.config["SENDBRIDGE_SETTINGS"]
    app.config["SENDBRIDGE_SETTINGS"] = dataclasses.replace(original, demo_mode=True)
    yield
    app.config["SENDBRIDGE_SETTINGS"] = original


def test_demo_sign_in_lists_only_this_councils_staff(demo_mode: Any, client_for: Any, tenant_a: Any, tenant_b: Any,
                                                    make_user: Any) -> None:
    mine = make_user(tenant_a, Role.CASEWORKER, name="Alice Alpha")
    theirs = make_user(tenant_b, Role.CASEWORKER, name="Bob Bravo")
    body = client_for(tenant_a).get("/sign-in").get_data(as_text=True)
    assert mine.display_name in body and theirs.display_name not in body


def test_demo_sign_in_then_sign_out(demo_mode: Any, client_for: Any, tenant_a: Any, caseworker: Any) -> None:
    client = client_for(tenant_a)
    resp = _post(client, "/sign-in", {"user_id": str(caseworker.id), "next": "/children/?q=a"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/children/?q=a"
    assert "Casey Worker" in client.get("/children/").get_data(as_text=True)
    resp = _post(client, "/sign-out", {})
    assert resp.status_code == 302
    assert client.get("/children/").status_code == 302


def test_demo_sign_in_with_nobody_chosen_shows_an_error_summary(demo_mode: Any, client_for: Any, tenant_a: Any,
                                                               caseworker: Any) -> None:
    resp = _post(client_for(tenant_a), "/sign-in", {})
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert _summary(body) == [(f"#user_id-{caseworker.id}", "Select who you want to sign in as")]
    assert "<title>Error: " in body


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_sign_in_never_redirects_off_site(demo_mode: Any, client_for: Any, tenant_a: Any, caseworker: Any, target: str) -> None:
    resp = _post(client_for(tenant_a), "/sign-in", {"user_id": str(caseworker.id), "next": target})
    assert resp.headers["Location"] == "/children/"


def test_a_user_of_another_council_cannot_sign_in_here(demo_mode: Any, client_for: Any, tenant_a: Any, tenant_b: Any,
                                                       make_user: Any) -> None:
    theirs = make_user(tenant_b, Role.TENANT_ADMIN)
    resp = _post(client_for(tenant_a), "/sign-in", {"user_id": str(theirs.id)})
    assert resp.status_code == 400


def test_sessions_end_after_30_idle_minutes(client_for: Any, tenant_a: Any, caseworker: Any) -> None:
    client = client_for(tenant_a, caseworker, last_seen=time.time() - 31 * 60)
    resp = client.get("/children/")
    assert resp.status_code == 302 and "ended=idle" in resp.headers["Location"]
    assert "had not done anything for 30 minutes" in client.get(resp.headers["Location"]).get_data(as_text=True)
    assert client.get("/children/").status_code == 302  # and it stays ended


def test_sessions_end_12_hours_after_sign_in_even_when_active(client_for: Any, tenant_a: Any, caseworker: Any) -> None:
    client = client_for(tenant_a, caseworker, signed_in_at=time.time() - 12 * 3600 - 60, last_seen=time.time())
    resp = client.get("/children/")
    assert resp.status_code == 302 and "ended=absolute" in resp.headers["Location"]
    assert "more than 12 hours ago" in client.get(resp.headers["Location"]).get_data(as_text=True)


def test_an_active_session_is_kept_alive(client_for: Any, tenant_a: Any, caseworker: Any) -> None:
    client = client_for(tenant_a, caseworker, last_seen=time.time() - 29 * 60)
    assert client.get("/children/").status_code == 200
    assert client.get("/children/").status_code == 200  # "seen" was refreshed by the first


def test_a_deactivated_user_is_signed_out_at_once(client_for: Any, tenant_a: Any, caseworker: Any) -> None:
    from core.users.models import User

    client = client_for(tenant_a, caseworker)
    with in_tenant(tenant_a) as s:
        s.get(User, caseworker.id).active = False
    assert client.get("/children/").status_code == 302


# ---------------------------------------------------------------------------------------
# Finding and viewing


def test_the_list_shows_this_councils_children_in_name_order_with_paging(cw: Any, tenant_a: Any, make_child: Any) -> None:
    for n in range(27):
        make_child(tenant_a, family_name=f"Pager{n:02d}")
    first = cw.get("/children/?q=Pager").get_data(as_text=True)
    assert "27 results for" in first
    names = re.findall(r">(Pager\d\d), ", first)
    assert names == sorted(names) and len(names) == 25
    second = cw.get("/children/?q=Pager&page=2").get_data(as_text=True)
    assert re.findall(r">(Pager\d\d), ", second) == ["Pager25", "Pager26"]


def test_find_by_name_prefixes_upn_and_nhs_number(cw: Any, tenant_a: Any, make_child: Any) -> None:
    from tenants.demo import make_upn

    upn = make_upn("901", 2001, 2015, 42)
    child = make_child(tenant_a, given_name="Findable", family_name="Person", upn=upn, nhs_number="9434765919")
    for q in ("Findable", "find pers", upn, upn.lower(), "943 476 5919"):
        assert str(child.id) in cw.get("/children/", query_string={"q": q}).get_data(as_text=True), q
    assert str(child.id) not in cw.get("/children/", query_string={"q": "Findable Nobody"}).get_data(as_text=True)


def test_search_wildcards_are_taken_literally(cw: Any, tenant_a: Any, make_child: Any) -> None:
    make_child(tenant_a, family_name="Literal")
    assert "0 results for" in cw.get("/children/", query_string={"q": "%"}).get_data(as_text=True)
    assert "0 results for" in cw.get("/children/", query_string={"q": "_iteral"}).get_data(as_text=True)


def test_an_overlong_search_gets_an_error_summary(cw: Any) -> None:
    resp = cw.get("/children/", query_string={"q": "x" * 101})
    assert resp.status_code == 400
    assert _summary(resp.get_data(as_text=True)) == [("#q", "Search for 100 characters or fewer")]


def test_a_childs_page_shows_details_contacts_and_settings(cw: Any, tenant_a: Any, make_child: Any, make_contact: Any,
                                                          institution: int) -> None:
    import datetime as dt

    from core.children.access import access_child
    from core.children.services import add_placement
    from tests.conftest import system_actor

    child = make_child(tenant_a, given_name="Viewed", nhs_number="9434765919", postcode="M1 1AE")
    make_contact(tenant_a, child, given_name="Parent", family_name="Person", email="pp@example.com")
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        add_placement(actor, access_child(actor, child.id, for_write=True), urn=institution, started_on=dt.date(2024, 9, 2))
    body = cw.get(f"/children/{child.id}").get_data(as_text=True)
    for text in ("Viewed", "943 476 5919", "M1 1AE", "Parent Person", "pp@example.com", "Test Primary School", "2 September 2024"):
        assert text in body
    assert "See who has looked at" not in body  # caseworkers cannot read the audit log


def test_a_missing_child_is_a_404_page(cw: Any) -> None:
    for cid in ("01a21ea2-0000-7000-8000-000000000000", "not-an-id"):
        resp = cw.get(f"/children/{cid}")
        assert resp.status_code == 404 and "Page not found" in resp.get_data(as_text=True)


def test_the_activity_page_shows_who_looked_for_managers_only(client_for: Any, tenant_a: Any, make_user: Any,
                                                             make_child: Any, cw: Any) -> None:
    child = make_child(tenant_a)
    cw.get(f"/children/{child.id}")
    manager = client_for(tenant_a, make_user(tenant_a, Role.TEAM_MANAGER))
    body = manager.get(f"/children/{child.id}/activity").get_data(as_text=True)
    assert "Casey Worker" in body and "Looked at the record" in body and "Added the child" in body
    assert cw.get(f"/children/{child.id}/activity").status_code == 403


# ---------------------------------------------------------------------------------------
# Adding and changing


VALID = {"given_name": "New", "family_name": "Arrival", "date_of_birth-day": "4", "date_of_birth-month": "3",
         "date_of_birth-year": "2016", "sex": "female", "upn": "", "uln": "", "nhs_number": "943 476 5919", "postcode": "m1 1ae"}


def test_adding_a_child(cw: Any, tenant_a: Any) -> None:
    resp = _post(cw, "/children/new", VALID)
    assert resp.status_code == 302
    body = cw.get(resp.headers["Location"]).get_data(as_text=True)
    assert "New Arrival has been added" in body and "4 March 2016" in body and "M1 1AE" in body


@pytest.mark.parametrize("changes, expected", [
    ({"given_name": "", "family_name": ""}, [("#given_name", "Enter the first name"), ("#family_name", "Enter the last name")]),
    ({"date_of_birth-day": "", "date_of_birth-month": "", "date_of_birth-year": ""},
     [("#date_of_birth-day", "Enter the date of birth")]),
    ({"date_of_birth-month": ""}, [("#date_of_birth-day", "Date of birth must include a month")]),
    ({"date_of_birth-day": "31", "date_of_birth-month": "2"}, [("#date_of_birth-day", "Date of birth must be a real date")]),
    ({"date_of_birth-year": "16"}, [("#date_of_birth-day", "Date of birth must be a real date")]),
    ({"date_of_birth-year": "2999"}, [("#date_of_birth-day", "Date of birth must be today or in the past")]),
    ({"nhs_number": "943 476 5918"}, [("#nhs_number", "Enter a valid NHS number: the check digit does not match")]),
    ({"upn": "A12"}, [("#upn", "Enter a UPN of 13 characters, like A123456789012")]),
    ({"uln": "12"}, [("#uln", "Enter a ULN of 10 digits")]),
    ({"postcode": "nowhere"}, [("#postcode", "Enter a real postcode, like SW1A 1AA")]),
    ({"sex": "dragon"}, [("#sex", "Select female, male, other or unknown")]),
    ({"given_name": "", "date_of_birth-month": "13", "postcode": "x"},
     [("#given_name", "Enter the first name"), ("#date_of_birth-day", "Date of birth must be a real date"),
      ("#postcode", "Enter a real postcode, like SW1A 1AA")]),
])
def test_adding_a_child_with_bad_input_shows_every_error_and_saves_nothing(cw: Any, tenant_a: Any, changes: dict[str, str],
                                                                          expected: list[tuple[str, str]]) -> None:
    before = _count(tenant_a, Child)
    resp = _post(cw, "/children/new", {**VALID, **changes})
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert _summary(body) == expected
    assert "<title>Error: " in body
    assert _count(tenant_a, Child) == before
    # What was typed is kept, so nobody has to type it again.
    if changes.get("postcode") == "x":
        assert 'value="x"' in body


def test_a_duplicate_upn_is_shown_against_the_field(cw: Any, tenant_a: Any, make_child: Any) -> None:
    from tenants.demo import make_upn

    upn = make_upn("901", 2002, 2016, 9)
    make_child(tenant_a, upn=upn)
    before = _count(tenant_a, Child)
    resp = _post(cw, "/children/new", {**VALID, "upn": upn, "nhs_number": ""})
    assert resp.status_code == 400
    assert _summary(resp.get_data(as_text=True)) == [("#upn", "A child with this UPN is already recorded")]
    assert _count(tenant_a, Child) == before


def test_changing_a_childs_details(cw: Any, tenant_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a, given_name="Before", family_name="Change")
    form = cw.get(f"/children/{child.id}/edit").get_data(as_text=True)
    assert 'value="Before"' in form
    data = {**VALID, "given_name": "After", "family_name": "Change", "nhs_number": "",
            "date_of_birth-day": str(child.date_of_birth.day), "date_of_birth-month": str(child.date_of_birth.month),
            "date_of_birth-year": str(child.date_of_birth.year)}
    resp = _post(cw, f"/children/{child.id}/edit", data)
    assert resp.status_code == 302
    assert "After Change" in cw.get(f"/children/{child.id}").get_data(as_text=True)
    resp = _post(cw, f"/children/{child.id}/edit", {**data, "given_name": ""})
    assert resp.status_code == 400
    with in_tenant(tenant_a) as s:
        assert s.get(Child, child.id).given_name == "After"


def test_adding_a_contact(cw: Any, tenant_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    path = f"/children/{child.id}/contacts/new"
    bad = _post(cw, path, {"given_name": "", "family_name": "Carer", "relationship": "", "email": "no-at-sign", "phone": "x"})
    assert bad.status_code == 400
    assert [h for h, _ in _summary(bad.get_data(as_text=True))] == [
        "#given_name", "#relationship", "#parental_responsibility", "#email", "#phone"]
    assert _count(tenant_a, Contact) == 0
    good = _post(cw, path, {"given_name": "Kim", "family_name": "Carer", "relationship": "foster_carer",
                            "parental_responsibility": "no", "email": "kim@example.com", "phone": "01632 960 001"})
    assert good.status_code == 302
    body = cw.get(f"/children/{child.id}").get_data(as_text=True)
    assert "Kim Carer" in body and "Foster carer" in body


def test_adding_a_school_or_setting(cw: Any, tenant_a: Any, make_child: Any, institution: int) -> None:
    child = make_child(tenant_a)
    path = f"/children/{child.id}/placements/new"
    for data, expected in (
        ({"urn": "", "started_on-day": "", "started_on-month": "", "started_on-year": ""},
         [("#urn", "Enter the URN of the school, college or setting"), ("#started_on-day", "Enter the start date")]),
        ({"urn": "12ab", "started_on-day": "1", "started_on-month": "9", "started_on-year": "2024"},
         [("#urn", "Enter a URN of 6 digits, like 118945")]),
        ({"urn": "123456", "started_on-day": "1", "started_on-month": "9", "started_on-year": "2024"},
         [("#urn", "Enter the URN of a school, college or setting we know")]),
    ):
        resp = _post(cw, path, data)
        assert resp.status_code == 400 and _summary(resp.get_data(as_text=True)) == expected
    assert _count(tenant_a, Placement) == 0
    resp = _post(cw, path, {"urn": str(institution), "started_on-day": "1", "started_on-month": "9", "started_on-year": "2024"})
    assert resp.status_code == 302
    assert "Test Primary School" in cw.get(f"/children/{child.id}").get_data(as_text=True)


def test_a_read_only_officer_sees_no_way_to_change_anything(client_for: Any, tenant_a: Any, make_user: Any,
                                                           make_child: Any) -> None:
    child = make_child(tenant_a)
    officer = client_for(tenant_a, make_user(tenant_a, Role.SEND_OFFICER))
    assert "Add a child" not in officer.get("/children/").get_data(as_text=True)
    page = officer.get(f"/children/{child.id}").get_data(as_text=True)
    assert "Change" not in page and "Add a contact" not in page
    assert officer.get("/children/new").status_code == 403
    assert officer.get(f"/children/{child.id}/edit").status_code == 404
    assert officer.get(f"/children/{child.id}/contacts/new").status_code == 404


# ---------------------------------------------------------------------------------------
# Server-side sessions


def test_signing_out_kills_every_copy_of_the_session_cookie(client_for: Any, tenant_a: Any, caseworker: Any, app: Any) -> None:
    from tests.conftest import TenantClient

    client = client_for(tenant_a, caseworker)
    copy = TenantClient(app, app.response_class, use_cookies=True)
    copy.base_url = client.base_url
    with client.session_transaction() as original, copy.session_transaction() as stolen:
        stolen.update(original)
    assert copy.get("/children/").status_code == 200
    assert _post(client, "/sign-out", {}).status_code == 302
    assert copy.get("/children/").status_code == 302


def test_signing_out_everywhere_ends_every_session_of_the_user(client_for: Any, tenant_a: Any, caseworker: Any) -> None:
    from core.users.sessions import end_all_sessions

    laptop, desktop = client_for(tenant_a, caseworker), client_for(tenant_a, caseworker)
    assert laptop.get("/children/").status_code == desktop.get("/children/").status_code == 200
    with in_tenant(tenant_a):
        assert end_all_sessions(caseworker.id) == 2
    assert laptop.get("/children/").status_code == desktop.get("/children/").status_code == 302


def test_signing_in_again_replaces_the_earlier_session(demo_mode: Any, client_for: Any, tenant_a: Any, caseworker: Any) -> None:
    from core.users.models import UserSession

    client = client_for(tenant_a, caseworker)
    first = client.user_session_id
    _post(client, "/sign-in", {"user_id": str(caseworker.id)})
    with in_tenant(tenant_a) as s:
        assert s.get(UserSession, first).ended_reason == "replaced"
