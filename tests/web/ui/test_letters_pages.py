"""Decision-letter pages: the council's template (letters.manage) and sending a letter on a case
(choose, preview, send): what they show, who may use them, and bad input (a GOV.UK error summary,
a 400, and nothing saved)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from core import clock
from core.cases.models import CaseEvent, Document
from core.disagreements.letters import LetterTemplate
from core.users.models import Role
from tests.conftest import csrf_token, in_tenant

D = dt.date
REFUSAL = [
    {"type": "request_received", "date": "2026-08-20", "requester": "parent"},
    {"type": "decision_to_assess_made", "date": "2026-10-01", "outcome": "refuse"},
]
CONTACTS = {
    "mediation_org": "Northshire Mediation Ltd", "mediation_phone": "0300 123 4567", "mediation_email": "",
    "mediation_web": "", "ias_name": "Northshire SENDIASS", "ias_phone": "", "ias_email": "", "ias_web": "",
    "dr_name": "", "dr_phone": "", "dr_email": "", "dr_web": "", "signatory_name": "Pat Lead",
    "signatory_role": "Head of SEND",
}


def _summary(body: str) -> list[tuple[str, str]]:
    block = re.search(r'govuk-error-summary__list">(.*?)</ul>', body, re.S)
    assert block, "no error summary on the page"
    return re.findall(r'<a href="([^"]+)">([^<]+)</a>', block.group(1))


def _count(tenant: Any, model: Any, *where: Any) -> int:
    with in_tenant(tenant) as s:
        return s.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "today", lambda: D(2026, 10, 2))


@pytest.fixture
def cw(client_for: Any, tenant_a: Any, make_user: Any) -> Any:
    return client_for(tenant_a, make_user(tenant_a, Role.CASEWORKER))


@pytest.fixture
def manager(client_for: Any, tenant_a: Any, make_user: Any) -> Any:
    return client_for(tenant_a, make_user(tenant_a, Role.TEAM_MANAGER))


@pytest.fixture
def refused(tenant_a: Any, make_case: Any, make_child: Any, make_contact: Any) -> Any:
    child = make_child(tenant_a, given_name="Ruby", family_name="Shore")
    make_contact(tenant_a, child, given_name="Ann", family_name="Shore")
    return make_case(tenant_a, REFUSAL, child=child, today=D(2026, 10, 2))


def _form(sent_on: D = D(2026, 10, 2), **over: str) -> dict[str, str]:
    return {"decision": "refuse_assess", "sent_on-day": str(sent_on.day), "sent_on-month": str(sent_on.month),
            "sent_on-year": str(sent_on.year), "recipient": "Ann Shore",
            "reasons": "Ruby is making good progress with SEN support.", **over}


def test_the_send_page_offers_only_decisions_recorded_on_the_case(cw: Any, refused: Any) -> None:
    body = cw.get(f"/cases/{refused.id}/decision-letter").get_data(as_text=True)
    assert 'value="refuse_assess"' in body and 'value="plan_content"' not in body
    assert 'value="Ann Shore"' in body  # the contact with parental responsibility


def test_preview_shows_the_letter_with_its_dates_and_stores_nothing(cw: Any, tenant_a: Any, refused: Any) -> None:
    path = f"/cases/{refused.id}/decision-letter"
    resp = cw.post(path, data={"csrf_token": csrf_token(cw, path), "action": "preview", **_form()})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Check the letter before sending it" in body
    # Worked example 5: sent Fri 2 Oct 2026 -> adviser and appeal by Wed 2 Dec 2026.
    assert "You must send your appeal to the Tribunal by Wednesday 2 December 2026." in body
    assert "Mediation is your choice." in body and "Ruby is making good progress with SEN support." in body
    assert _count(tenant_a, CaseEvent, CaseEvent.case_id == refused.id, CaseEvent.type == "decision_letter_sent") == 0
    assert _count(tenant_a, Document, Document.case_id == refused.id) == 0
    # "Change the letter" goes back to the form with what was typed.
    resp = cw.post(path, data={"csrf_token": csrf_token(cw, path), "action": "edit", **_form()})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Preview the letter" in body and "Check the letter" not in body
    assert "Ruby is making good progress with SEN support.</textarea>" in body and 'value="refuse_assess" checked' in body


def test_sending_records_the_event_and_saves_the_pdf(cw: Any, tenant_a: Any, refused: Any) -> None:
    path = f"/cases/{refused.id}/decision-letter"
    resp = cw.post(path, data={"csrf_token": csrf_token(cw, path), "action": "send", **_form()})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/cases/{refused.id}/disagreements")
    with in_tenant(tenant_a) as s:
        event = s.execute(select(CaseEvent).where(CaseEvent.case_id == refused.id,
                                                  CaseEvent.type == "decision_letter_sent")).scalar_one()
        assert event.attributes == {"decision": "refuse_assess"} and event.date == D(2026, 10, 2)
        doc = s.execute(select(Document).where(Document.case_id == refused.id)).scalar_one()
        assert doc.content_type == "application/pdf" and doc.title.startswith("Decision letter:")
    page = cw.get(resp.headers["Location"]).get_data(as_text=True)
    assert "The family can appeal until Wednesday 2 December 2026" in page
    assert "Refusal to assess: sent 2 October 2026" in page


@pytest.mark.parametrize(("over", "fields"), [
    ({"reasons": "", "recipient": ""}, ["#recipient", "#reasons"]),
    ({"decision": "", "sent_on-day": ""}, ["#decision", "#sent_on-day"]),
    ({"decision": "plan_content"}, ["#decision"]),
    ({"sent_on-day": "3"}, ["#sent_on-day"]),  # tomorrow
])
def test_bad_input_shows_the_error_summary_and_saves_nothing(cw: Any, tenant_a: Any, refused: Any,
                                                              over: dict[str, str], fields: list[str]) -> None:
    path = f"/cases/{refused.id}/decision-letter"
    for action in ("preview", "send"):
        resp = cw.post(path, data={"csrf_token": csrf_token(cw, path), "action": action, **_form(**over)})
        assert resp.status_code == 400
        assert [href for href, _ in _summary(resp.get_data(as_text=True))] == fields
    assert _count(tenant_a, CaseEvent, CaseEvent.case_id == refused.id, CaseEvent.type == "decision_letter_sent") == 0
    assert _count(tenant_a, Document, Document.case_id == refused.id) == 0


def test_read_only_staff_cannot_send(client_for: Any, tenant_a: Any, make_user: Any, refused: Any) -> None:
    officer = client_for(tenant_a, make_user(tenant_a, Role.SEND_OFFICER))
    assert officer.get(f"/cases/{refused.id}/decision-letter").status_code == 404


def test_only_managers_edit_the_template_and_bad_input_is_refused(cw: Any, manager: Any, tenant_a: Any) -> None:
    assert cw.get("/letter-templates").status_code == 404
    assert cw.get("/letter-templates/example").status_code == 404
    body = manager.get("/letter-templates").get_data(as_text=True)
    assert "We have decided not to carry out an education, health and care (EHC) needs assessment" in body
    form = {f"text_{k}": "" for k in ("refuse_assess", "not_issue", "plan_content", "refuse_reassess",
                                      "refuse_amend", "cease")}
    resp = manager.post("/letter-templates", data={"csrf_token": csrf_token(manager, "/letter-templates"), **form,
                                                   **CONTACTS, "mediation_org": "", "ias_email": "nope"})
    assert resp.status_code == 400
    assert [h for h, _ in _summary(resp.get_data(as_text=True))] == ["#mediation_org", "#ias_email"]
    assert _count(tenant_a, LetterTemplate) == 0
    resp = manager.post("/letter-templates", data={"csrf_token": csrf_token(manager, "/letter-templates"), **form,
                                                   **CONTACTS, "text_cease": "Our words for {child_name}."})
    assert resp.status_code == 302 and _count(tenant_a, LetterTemplate) == 1
    example = manager.get("/letter-templates/example?decision=cease").get_data(as_text=True)
    assert "Our words for Sam Example." in example and "Northshire Mediation Ltd" in example
    assert "send your appeal to the Tribunal by" in example
    assert manager.get("/letter-templates/example?decision=nonsense").status_code == 404


def test_the_letter_uses_the_councils_template(cw: Any, manager: Any, refused: Any) -> None:
    form = {f"text_{k}": "" for k in ("refuse_assess", "not_issue", "plan_content", "refuse_reassess",
                                      "refuse_amend", "cease")}
    manager.post("/letter-templates", data={"csrf_token": csrf_token(manager, "/letter-templates"), **form,
                                            **CONTACTS, "text_refuse_assess": "Hello from {council_name}."})
    path = f"/cases/{refused.id}/decision-letter"
    body = cw.post(path, data={"csrf_token": csrf_token(cw, path), "action": "preview", **_form()}).get_data(
        as_text=True)
    assert "Hello from Council A." in body
    assert "Northshire Mediation Ltd" in body and "Phone: 0300 123 4567" in body and "Pat Lead" in body
