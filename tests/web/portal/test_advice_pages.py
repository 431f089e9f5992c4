"""The professionals' portal pages (web/ui/portal/advice.py): the inbox, the advice form, its
errors, and access ending once the advice is sent."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from core import clock
from core.cases.models import CaseEvent, Document
from core.children.access import access_child
from core.children.services import add_placement
from core.submissions.models import Submission
from tests.conftest import csrf_token, in_tenant, system_actor

ASSESSING = [
    {"type": "decision_to_assess_made", "date": "2026-02-10", "outcome": "assess"},
    {"type": "advice_requested", "date": "2026-02-11", "advice": "medical", "advice_id": "med1"},
    {"type": "advice_requested", "date": "2026-02-18", "advice": "psychological", "advice_id": "ep1"},
]
DURING = dt.date(2026, 2, 20)
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n"
REQUEST = "/portal/advice/cases/{case}/requests/{advice}"


def _text(body: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch) -> Any:
    def set_today(day: dt.date) -> dt.date:
        monkeypatch.setattr(clock, "today", lambda: day)
        return day

    set_today(DURING)
    return set_today


@pytest.fixture
def assessing(tenant_a: Any, make_child: Any, make_contact: Any, make_case: Any, institution: int) -> dict[str, Any]:
    child = make_child(tenant_a, given_name="Noor", family_name="Shah", date_of_birth=dt.date(2016, 7, 9))
    make_contact(tenant_a, child, given_name="Ruth", family_name="Privatecontact", email="ruth@family.example")
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        add_placement(actor, access_child(actor, child.id, for_write=True), urn=institution,
                      started_on=dt.date(2022, 9, 1))
    case = make_case(tenant_a, ASSESSING, child=child, today=DURING)
    return {"child": child, "case": case}


@pytest.fixture
def doctor(tenant_a: Any, assessing: dict[str, Any], make_member: Any, identity_client: Any, today: Any) -> Any:
    """A paediatrician invited for the medical advice only, signed in."""
    identity = make_member(tenant_a, "professional", case_id=assessing["case"].id, advice_id="med1")
    return identity_client(tenant_a, identity)


def _stored(tenant: Any, case_id: Any) -> tuple[int, int, int]:
    with in_tenant(tenant) as s:
        return (s.execute(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case_id)).scalar_one(),
                s.execute(select(func.count()).select_from(Submission)).scalar_one(),
                s.execute(select(func.count()).select_from(Document).where(Document.case_id == case_id)).scalar_one())


def _send(client: Any, path: str, **fields: Any) -> Any:
    data = {"csrf_token": csrf_token(client, path), "summary": "Asthma", "provision": "An inhaler to hand",
            "outcomes": "Takes part in PE", **fields}
    return client.post(path, data=data, content_type="multipart/form-data")


def test_the_inbox_shows_the_request_with_the_childs_details_and_due_date_and_nothing_else(
        doctor: Any, assessing: dict[str, Any]) -> None:
    resp = doctor.get("/portal/advice/")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    page = _text(body)
    assert "Noor Shah" in page and "Born 9 July 2016" in page and "Test Primary School" in page
    assert "Medical advice" in page and "Wednesday 25 March 2026" in page  # reg 8(1): 6 weeks from 11 February
    assert 'data-advice-id="med1"' in body and 'data-advice-id="ep1"' not in body
    # Not the family's contacts, not the other advice request.
    assert "Privatecontact" not in page and "ruth@family.example" not in page and "Psychological" not in page


def test_an_overdue_request_is_tagged_overdue(doctor: Any, today: Any) -> None:
    today(dt.date(2026, 3, 30))
    page = _text(doctor.get("/portal/advice/").get_data(as_text=True))
    assert "Overdue" in page


def test_the_advice_form_shows_what_is_asked_and_not_the_family(doctor: Any, assessing: dict[str, Any]) -> None:
    resp = doctor.get(REQUEST.format(case=assessing["case"].id, advice="med1"))
    assert resp.status_code == 200
    page = _text(resp.get_data(as_text=True))
    assert "Send medical advice" in page and "Noor Shah" in page and "SEND Regs 2014 reg 8(1)" in page
    assert "Privatecontact" not in page
    assert "When you have sent it, you will no longer be able to see the request" in page
    # Another request on the same case is not theirs to see.
    assert doctor.get(REQUEST.format(case=assessing["case"].id, advice="ep1")).status_code == 404


def test_bad_advice_shows_the_error_summary_and_stores_nothing(tenant_a: Any, doctor: Any,
                                                              assessing: dict[str, Any]) -> None:
    path = REQUEST.format(case=assessing["case"].id, advice="med1")
    before = _stored(tenant_a, assessing["case"].id)
    resp = _send(doctor, path, summary="", outcomes="", advice_file=(io.BytesIO(b"not a document"), "notes.txt"))
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    summary = re.search(r'govuk-error-summary__list">(.*?)</ul>', body, re.S)
    assert summary is not None
    assert re.findall(r'href="#([a-z_]+)"', summary.group(1)) == ["summary", "outcomes", "advice_file"]
    assert "Enter the child&#39;s or young person&#39;s needs" in body or "Enter the child's or young person's needs" in body
    assert "An inhaler to hand" in body  # what they typed is kept
    assert _stored(tenant_a, assessing["case"].id) == before


def test_sending_advice_confirms_it_and_then_access_to_the_request_ends(tenant_a: Any, doctor: Any,
                                                                       assessing: dict[str, Any]) -> None:
    path = REQUEST.format(case=assessing["case"].id, advice="med1")
    resp = _send(doctor, path, advice_file=(io.BytesIO(PDF), "clinic letter.pdf"))
    assert resp.status_code == 200
    page = _text(resp.get_data(as_text=True))
    assert "Advice sent" in page and "Your access to this request has now ended" in page
    assert "you will be signed out" in page and "clinic letter.pdf" in page
    with in_tenant(tenant_a) as s:
        (submission,) = s.execute(select(Submission).where(Submission.case_id == assessing["case"].id)).scalars()
        event = s.get(CaseEvent, submission.case_event_id)
        assert event.type == "advice_received" and event.attributes["advice_id"] == "med1"
        assert s.execute(select(Document).where(Document.submission_id == submission.id)).scalar_one().kind == "advice"
    # Their only membership was for this advice: the next request finds them signed out.
    resp = doctor.get("/portal/advice/")
    assert resp.status_code == 302 and "/portal/sign-in" in resp.headers["Location"]
    assert "ended=no_access" in resp.headers["Location"]


def test_a_professional_invited_for_the_case_sees_the_request_leave_their_inbox(
        tenant_a: Any, assessing: dict[str, Any], make_member: Any, identity_client: Any, today: Any) -> None:
    identity = make_member(tenant_a, "professional", case_id=assessing["case"].id)
    client = identity_client(tenant_a, identity)
    body = client.get("/portal/advice/").get_data(as_text=True)
    assert 'data-advice-id="med1"' in body and 'data-advice-id="ep1"' in body
    form = _text(client.get(REQUEST.format(case=assessing["case"].id, advice="ep1")).get_data(as_text=True))
    assert "It is recorded as received today" in form and "no longer be able to see" not in form
    resp = _send(client, REQUEST.format(case=assessing["case"].id, advice="ep1"))
    assert resp.status_code == 200
    assert "because you were invited for the whole case" in _text(resp.get_data(as_text=True))
    body = client.get("/portal/advice/").get_data(as_text=True)
    assert 'data-advice-id="med1"' in body and 'data-advice-id="ep1"' not in body
    assert "Advice you have sent" in body
    # What they sent stays readable while their access lasts; sending again is refused.
    answered = client.get(REQUEST.format(case=assessing["case"].id, advice="ep1"))
    assert answered.status_code == 200 and "An inhaler to hand" in answered.get_data(as_text=True)
    before = _stored(tenant_a, assessing["case"].id)
    again = _send(client, REQUEST.format(case=assessing["case"].id, advice="ep1"))
    assert again.status_code == 409 and "This advice has been received" in again.get_data(as_text=True)
    assert _stored(tenant_a, assessing["case"].id) == before


def test_other_portal_users_cannot_use_the_professionals_portal(
        tenant_a: Any, assessing: dict[str, Any], make_member: Any, identity_client: Any, today: Any) -> None:
    parent = identity_client(tenant_a, make_member(tenant_a, "parent", child_id=assessing["child"].id))
    assert parent.get("/portal/advice/").status_code == 403
    assert parent.get(REQUEST.format(case=assessing["case"].id, advice="med1")).status_code == 403
