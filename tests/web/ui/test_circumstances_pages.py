"""A child's circumstances pages (CoP ch.10): the card on the child's page, the list, adding,
changing and ending a record, youth custody and the EHC case, and every form with bad input
(a GOV.UK error summary, a 400, and nothing saved)."""

from __future__ import annotations

import datetime as dt
import html
import re
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from core import clock
from core.cases.models import CaseEvent
from core.circumstances.models import Circumstance
from core.integrations.social_care import store_social_care_status
from core.plugin_api import SocialCareStatus
from core.users.models import Role
from tests.conftest import JOURNEY_TO_PLAN, csrf_token, in_tenant, system_actor

TODAY = dt.date(2026, 11, 27)


@pytest.fixture(autouse=True)
def today(monkeypatch: pytest.MonkeyPatch) -> dt.date:
    monkeypatch.setattr(clock, "today", lambda: TODAY)
    return TODAY


@pytest.fixture
def cw(client_for: Any, tenant_a: Any, make_user: Any) -> Any:
    return client_for(tenant_a, make_user(tenant_a, Role.CASEWORKER))


@pytest.fixture
def officer(client_for: Any, tenant_a: Any, make_user: Any) -> Any:
    return client_for(tenant_a, make_user(tenant_a, Role.SEND_OFFICER))


def _date(prefix: str, day: dt.date) -> dict[str, str]:
    return {f"{prefix}-day": str(day.day), f"{prefix}-month": str(day.month), f"{prefix}-year": str(day.year)}


def _post(client: Any, path: str, data: dict[str, str]) -> Any:
    return client.post(path, data={"csrf_token": csrf_token(client, path), **data})


def _summary(body: str) -> list[tuple[str, str]]:
    block = re.search(r'govuk-error-summary__list">(.*?)</ul>', body, re.S)
    assert block, "no error summary on the page"
    return re.findall(r'<a href="([^"]+)">([^<]+)</a>', block.group(1))


def _rows(tenant: Any, child: Any) -> list[Circumstance]:
    with in_tenant(tenant) as s:
        return list(s.execute(select(Circumstance).where(Circumstance.child_id == child.id)).scalars())


def _event_types(tenant: Any, case: Any) -> list[str]:
    with in_tenant(tenant) as s:
        return list(s.execute(select(CaseEvent.type).where(CaseEvent.case_id == case.id)
                              .order_by(CaseEvent.seq)).scalars())


def _text(resp: Any) -> str:
    return html.unescape(resp.get_data(as_text=True))


def test_signed_out_people_are_sent_to_sign_in(client_for: Any, tenant_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    resp = client_for(tenant_a).get(f"/children/{child.id}/circumstances/")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/sign-in?next=")


def test_choosing_what_to_record_needs_a_choice(cw: Any, tenant_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    path = f"/children/{child.id}/circumstances/new"
    resp = _post(cw, path, {})
    assert resp.status_code == 400
    assert _summary(resp.get_data(as_text=True)) == [("#kind", "Select the circumstance to record")]
    resp = _post(cw, path, {"kind": "service_child"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/circumstances/new/service_child")
    assert cw.get(f"/children/{child.id}/circumstances/new/nonsense").status_code == 404


def test_a_looked_after_record_is_added_and_shown_joined_up_with_the_plan(cw: Any, tenant_a: Any, make_child: Any,
                                                                           make_case: Any) -> None:
    child = make_child(tenant_a)
    make_case(tenant_a, JOURNEY_TO_PLAN, child=child)  # plan made 20 May 2026
    path = f"/children/{child.id}/circumstances/new/looked_after"
    form = cw.get(path).get_data(as_text=True)
    assert 'name="virtual_school_head_name"' in form and 'name="yot_name"' not in form
    resp = _post(cw, path, {**_date("started_on", dt.date(2025, 9, 1)), "social_worker_name": "Sam Okoro",
                            "virtual_school_head_name": "Val Head", "designated_teacher_name": "Dee Teacher",
                            "responsible_la_code": "886", "pep_url": "https://pep.example.gov.uk/1",
                            **_date("pep_reviewed_on", dt.date(2026, 10, 1))})
    assert resp.status_code == 302, _text(resp)
    (row,) = _rows(tenant_a, child)
    assert resp.headers["Location"].endswith(f"/circumstances/{row.id}")
    page = _text(cw.get(resp.headers["Location"]))
    assert "The EHC plan and the personal education plan" in page
    assert "by 19 May 2027" in page  # the plan's annual review, beside the PEP's
    assert "1 October 2026" in page and "Val Head" in page and "Looked after by another council (code 886)" in page
    child_page = _text(cw.get(f"/children/{child.id}"))
    assert "Circumstances" in child_page and "Looked-after child" in child_page and "Since 1 September 2025" in child_page
    assert f'href="/children/{child.id}/circumstances/"' in child_page


def test_a_form_with_mistakes_shows_every_problem_and_saves_nothing(cw: Any, tenant_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    path = f"/children/{child.id}/circumstances/new/looked_after"
    resp = _post(cw, path, {**_date("started_on", dt.date(2026, 5, 1)), **_date("ended_on", dt.date(2026, 4, 1)),
                            "social_worker_email": "not-an-email", "responsible_la_code": "12",
                            "pep_reviewed_on-day": "31", "pep_reviewed_on-month": "2", "pep_reviewed_on-year": "2026"})
    assert resp.status_code == 400
    hrefs = [href for href, _ in _summary(resp.get_data(as_text=True))]
    assert hrefs == ["#ended_on-day", "#social_worker_email", "#responsible_la_code", "#pep_reviewed_on-day"]
    assert _rows(tenant_a, child) == []
    resp = _post(cw, f"/children/{child.id}/circumstances/new/alternative_provision",
                 {**_date("started_on", dt.date(2026, 5, 1))})
    assert resp.status_code == 400
    assert [h for h, _ in _summary(resp.get_data(as_text=True))] == ["#provision_type"]


def test_records_of_one_kind_cannot_overlap(cw: Any, tenant_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    path = f"/children/{child.id}/circumstances/new/child_in_need"
    assert _post(cw, path, _date("started_on", dt.date(2026, 1, 5))).status_code == 302
    resp = _post(cw, path, _date("started_on", dt.date(2026, 3, 1)))
    assert resp.status_code == 400
    assert "covers some of these dates" in _text(resp)
    assert len(_rows(tenant_a, child)) == 1


def test_changing_and_ending_a_record(cw: Any, tenant_a: Any, make_child: Any, make_case: Any) -> None:
    child = make_child(tenant_a)
    case = make_case(tenant_a, JOURNEY_TO_PLAN, child=child)
    resp = _post(cw, f"/children/{child.id}/circumstances/new/out_of_area",
                 {**_date("started_on", dt.date(2025, 9, 1)), "placement_la_code": "886"})
    assert resp.status_code == 302
    assert "placed in council 886's area; this council stays responsible" in _text(cw.get(f"/cases/{case.id}"))
    assert "Placed out of area" in _text(cw.get(f"/children/{child.id}"))
    (row,) = _rows(tenant_a, child)
    edit = f"/children/{child.id}/circumstances/{row.id}/edit"
    assert 'value="886"' in cw.get(edit).get_data(as_text=True)
    own = _post(cw, edit, {**_date("started_on", dt.date(2025, 9, 1)), "placement_la_code": tenant_a.la_code})
    assert own.status_code == 400 and "own code" in _text(own)
    assert _post(cw, edit, {**_date("started_on", dt.date(2025, 9, 1)), "placement_la_code": "887"}).status_code == 302
    end = f"/children/{child.id}/circumstances/{row.id}/end"
    bad = _post(cw, end, _date("ended_on", dt.date(2025, 8, 1)))
    assert bad.status_code == 400 and _summary(bad.get_data(as_text=True))[0][0] == "#ended_on-day"
    assert _post(cw, end, _date("ended_on", dt.date(2026, 7, 20))).status_code == 302
    (row,) = _rows(tenant_a, child)
    assert (row.placement_la_code, row.ended_on) == ("887", dt.date(2026, 7, 20))
    listing = _text(cw.get(f"/children/{child.id}/circumstances/"))
    assert "1 September 2025 to 20 July 2026" in listing and "Ended" in listing


def test_a_send_officer_can_read_but_not_record(officer: Any, cw: Any, tenant_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    _post(cw, f"/children/{child.id}/circumstances/new/child_protection", _date("started_on", dt.date(2026, 2, 1)))
    (row,) = _rows(tenant_a, child)
    listing = officer.get(f"/children/{child.id}/circumstances/")
    assert listing.status_code == 200 and "Record a circumstance" not in _text(listing)
    assert officer.get(f"/children/{child.id}/circumstances/{row.id}").status_code == 200
    assert officer.get(f"/children/{child.id}/circumstances/new").status_code == 404
    assert officer.get(f"/children/{child.id}/circumstances/{row.id}/edit").status_code == 404


def test_the_social_care_systems_view_is_shown_beside_the_councils_records(cw: Any, tenant_a: Any,
                                                                           make_child: Any) -> None:
    child = make_child(tenant_a)
    with in_tenant(tenant_a):
        store_social_care_status(system_actor(tenant_a), child.id, SocialCareStatus(
            child_id=child.id, looked_after=True, child_in_need=False, child_protection_plan=False, social_worker="Pat Feed",
            as_of=dt.date(2026, 11, 1)), "social_care_test")
    page = _text(cw.get(f"/children/{child.id}/circumstances/"))
    assert "What the social care system says" in page and "Pat Feed" in page
    assert "No circumstances recorded." in page  # the feed never writes the council's own records
    assert _rows(tenant_a, child) == []


def test_youth_custody_through_the_pages_keeps_the_plan_and_sets_the_release_review(
        cw: Any, tenant_a: Any, make_child: Any, make_case: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    child = make_child(tenant_a)
    case = make_case(tenant_a, JOURNEY_TO_PLAN, child=child)
    resp = _post(cw, f"/children/{child.id}/circumstances/new/youth_custody",
                 {**_date("started_on", dt.date(2026, 6, 10)), "establishment": "HMYOI Wetherby",
                  "yot_name": "Westford YOT", **_date("expected_release_on", dt.date(2026, 11, 30))})
    assert resp.status_code == 302, _text(resp)
    assert _event_types(tenant_a, case)[-1] == "detention_started"
    page = _text(cw.get(resp.headers["Location"]))
    assert "keeps" in page and "HMYOI Wetherby" in page and "Westford YOT" in page
    assert "regulation 13(2)" in page and "annual review clock keeps running" in page
    assert "The detention is recorded on the" in page
    case_page = _text(cw.get(f"/cases/{case.id}"))
    assert "detained at HMYOI Wetherby; the council keeps the plan" in case_page
    # Released on Mon 30 Nov 2026, recorded a week later.
    monkeypatch.setattr(clock, "today", lambda: dt.date(2026, 12, 7))
    (row,) = _rows(tenant_a, child)
    end = f"/children/{child.id}/circumstances/{row.id}/end"
    assert "Record the release" in _text(cw.get(end))
    assert _post(cw, end, _date("ended_on", dt.date(2026, 11, 30))).status_code == 302
    assert _event_types(tenant_a, case)[-1] == "released_from_detention"
    page = _text(cw.get(f"/children/{child.id}/circumstances/{row.id}"))
    assert "Released on 30 November 2026" in page and "4 weeks from release" in page
    assert "(not statutory)" in page and "28 December 2026" in page
    case_page = _text(cw.get(f"/cases/{case.id}"))
    assert "Released from youth custody" in case_page and "detained at" not in case_page
    assert "review the EHC plan after release from youth custody" in case_page
    assert "Council target, not a legal deadline" in case_page


def test_a_detention_recorded_before_the_case_can_be_put_on_it_later(cw: Any, tenant_a: Any, make_child: Any,
                                                                      make_case: Any) -> None:
    child = make_child(tenant_a)
    resp = _post(cw, f"/children/{child.id}/circumstances/new/youth_custody",
                 {**_date("started_on", dt.date(2026, 9, 1)), "establishment": "Oakhill Secure Training Centre"})
    (row,) = _rows(tenant_a, child)
    page = _text(cw.get(resp.headers["Location"]))
    assert "There is no open EHC case" in page and f"/cases/children/{child.id}/new" in page
    # A request made in custody: the detained persons clocks (DP Regs 2015).
    opened = _post(cw, f"/cases/children/{child.id}/new", {**_date("received", dt.date(2026, 10, 5)),
                                                            "requester": "youth_custody", "route": "no",
                                                            "caseworker": "none"})
    assert opened.status_code == 302, _text(opened)
    case_id = uuid.UUID(opened.headers["Location"].rsplit("/", 1)[-1])
    page = _text(cw.get(f"/children/{child.id}/circumstances/{row.id}"))
    assert "does not show this detention yet" in page
    assert "16 November 2026" in page  # DP reg 5: 6 weeks from 5 Oct 2026
    path = f"/children/{child.id}/circumstances/{row.id}/case"
    assert _post(cw, path, {}).status_code == 302
    with in_tenant(tenant_a) as s:
        types = list(s.execute(select(CaseEvent.type).where(CaseEvent.case_id == case_id)
                               .order_by(CaseEvent.seq)).scalars())
        assert types == ["request_received", "detention_started"]
        assert s.execute(select(func.count()).select_from(Circumstance)
                         .where(Circumstance.child_id == child.id)).scalar_one() == 1
    assert "The detention is recorded on the" in _text(cw.get(f"/children/{child.id}/circumstances/{row.id}"))
