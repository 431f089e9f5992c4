"""Disagreement pages: a case's disputes, opening each kind, recording steps (with a check-answers
page for the weighty ones), the dispute's clocks with their citations, and the managers'
workbench; who may use them, and bad input (a GOV.UK error summary, a 400, nothing saved)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from core import clock
from core.cases.models import CaseEvent
from core.disagreements.models import Disagreement, DisagreementStep, TribunalOrder
from core.users.models import Role
from tests.conftest import csrf_token, in_tenant

D = dt.date
TODAY = D(2026, 12, 15)
#: Worked example 5: refusal to assess; the letter went on Fri 2 Oct 2026.
LETTERED = [
    {"type": "request_received", "date": "2026-08-20", "requester": "parent"},
    {"type": "decision_to_assess_made", "date": "2026-10-01", "outcome": "refuse"},
    {"type": "decision_letter_sent", "date": "2026-10-02", "decision": "refuse_assess"},
]


def _summary(body: str) -> list[str]:
    block = re.search(r'govuk-error-summary__list">(.*?)</ul>', body, re.S)
    assert block, "no error summary on the page"
    return re.findall(r'<a href="([^"]+)">', block.group(1))


def _row(body: str, key: str) -> str:
    """The text of the clock table row with ``data-key``."""
    found = re.search(rf'<tr class="govuk-table__row" data-key="{key}">(.*?)</tr>', body, re.S)
    assert found, f"no clock {key} on the page"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def _date(prefix: str, day: D) -> dict[str, str]:
    return {f"{prefix}-day": str(day.day), f"{prefix}-month": str(day.month), f"{prefix}-year": str(day.year)}


def _post(client: Any, path: str, data: dict[str, Any]) -> Any:
    return client.post(path, data={"csrf_token": csrf_token(client, path), **data})


def _count(tenant: Any, model: Any) -> int:
    with in_tenant(tenant) as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "today", lambda: TODAY)


@pytest.fixture
def caseworker(tenant_a: Any, make_user: Any) -> Any:
    return make_user(tenant_a, Role.CASEWORKER, name="Casey Worker")


@pytest.fixture
def cw(client_for: Any, tenant_a: Any, caseworker: Any) -> Any:
    return client_for(tenant_a, caseworker)


@pytest.fixture
def manager(client_for: Any, tenant_a: Any, make_user: Any) -> Any:
    return client_for(tenant_a, make_user(tenant_a, Role.TEAM_MANAGER))


@pytest.fixture
def officer(client_for: Any, tenant_a: Any, make_user: Any) -> Any:
    return client_for(tenant_a, make_user(tenant_a, Role.SEND_OFFICER))


@pytest.fixture
def case(tenant_a: Any, make_case: Any, make_child: Any, caseworker: Any) -> Any:
    child = make_child(tenant_a, given_name="Ruby", family_name="Shore")
    return make_case(tenant_a, LETTERED, child=child, caseworker_id=caseworker.id, today=TODAY)


def _open(client: Any, case: Any, kind: str, **data: Any) -> str:
    resp = _post(client, f"/cases/{case.id}/disagreements/new/{kind}", {**_date("opened_on", TODAY), **data})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return resp.headers["Location"]


def _step(client: Any, page: str, step: str, day: D, confirm: bool = False, **data: Any) -> Any:
    path = f"{page}/steps/{step}"
    form = {**_date("date", day), **data}
    if confirm:
        check = _post(client, path, form)
        assert check.status_code == 200 and "Confirm and record" in check.get_data(as_text=True)
        form["action"] = "confirm"
    resp = _post(client, path, form)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return resp


def test_a_mediation_and_an_appeal_with_a_tribunal_order_end_to_end(cw: Any, manager: Any, tenant_a: Any,
                                                                    case: Any) -> None:
    listing = cw.get(f"/cases/{case.id}/disagreements").get_data(as_text=True)
    assert "Refusal to assess: sent 2 October 2026" in listing and "None recorded." in listing
    page = _open(cw, case, "mediation", summary="The family think Ruby needs an assessment")
    body = cw.get(page).get_data(as_text=True)
    assert "Wednesday 2 December 2026" in _row(body, "mediation_adviser_contact")
    assert "SEND Regs 2014 reg 33" in _row(body, "mediation_adviser_contact")
    # Worked example 5: the adviser told on Thu 26 Nov that the family do not want mediation ...
    _step(cw, page, "mediation_declined", D(2026, 11, 26))
    body = cw.get(page).get_data(as_text=True)
    assert "Statutory" in _row(body, "mediation_certificate") and "Tuesday 1 December 2026" in _row(
        body, "mediation_certificate")
    # ... the certificate on Tue 1 Dec: the appeal deadline is 1 Jan 2027, moved to Mon 4 Jan 2027.
    _step(cw, page, "mediation_certificate_issued", D(2026, 12, 1))
    body = cw.get(page).get_data(as_text=True)
    assert "Monday 4 January 2027" in _row(body, "appeal_deadline")
    assert "HESC Rules 2008 r.20(1)(c), r.12" in _row(body, "appeal_deadline")

    appeal = _open(cw, case, "appeal", grounds="refuse_assess", tribunal_reference="EH901/26/00001")
    _step(cw, appeal, "appeal_registered", D(2026, 12, 7), response_due="",
          **_date("response_due", D(2027, 1, 20)))
    body = cw.get(appeal).get_data(as_text=True)
    assert "Wednesday 20 January 2027" in _row(body, "appeal_la_response")
    _step(cw, appeal, "appeal_response_submitted", D(2026, 12, 10))
    _step(cw, appeal, "appeal_decided", D(2026, 12, 14), confirm=True, outcome="allowed")
    _step(cw, appeal, "tribunal_order_made", D(2026, 12, 14), confirm=True, order="assess",
          requires="Carry out an EHC needs assessment")
    body = cw.get(appeal).get_data(as_text=True)
    # Reg 44(2): notify the decision to assess within 2 weeks of the order.
    assert "Monday 28 December 2026" in _row(body, "tribunal_order_assess_notify")
    assert "SEND Regs 2014 reg 44(2)" in _row(body, "tribunal_order_assess_notify")
    assert "Not yet complied with" in body
    with in_tenant(tenant_a) as s:
        order = s.execute(select(TribunalOrder)).scalar_one()
        assert (order.order, order.made_on) == ("assess", D(2026, 12, 14))
        types = list(s.execute(select(CaseEvent.type).where(CaseEvent.case_id == case.id)
                               .order_by(CaseEvent.seq)).scalars())
    assert types[-4:] == ["appeal_registered", "appeal_response_submitted", "appeal_decided", "tribunal_order_made"]

    bench = manager.get("/disagreements").get_data(as_text=True)
    assert "Ruby Shore" in bench and "SEND Regs 2014 reg 44(2)" in bench and "Casey Worker" in bench
    assert f'href="{appeal}"' in bench and f'href="{page}"' in bench


def test_the_check_answers_page_changes_nothing_until_confirmed(cw: Any, tenant_a: Any, case: Any) -> None:
    page = _open(cw, case, "appeal", grounds="refuse_assess")
    _step(cw, page, "appeal_registered", D(2026, 12, 7))
    before = _count(tenant_a, DisagreementStep)
    check = _post(cw, f"{page}/steps/appeal_decided", {**_date("date", D(2026, 12, 14)), "outcome": "dismissed"})
    body = check.get_data(as_text=True)
    assert check.status_code == 200 and "Dismissed (the council&#39;s decision stands)" in body
    assert "Monday 14 December 2026" in body
    change = _post(cw, f"{page}/steps/appeal_decided", {**_date("date", D(2026, 12, 14)), "outcome": "dismissed",
                                                         "action": "change"})
    assert change.status_code == 200 and 'value="dismissed" checked' in change.get_data(as_text=True)
    assert _count(tenant_a, DisagreementStep) == before


def test_bad_step_input_shows_the_error_summary_and_saves_nothing(cw: Any, tenant_a: Any, case: Any) -> None:
    page = _open(cw, case, "mediation")
    before = (_count(tenant_a, DisagreementStep), _count(tenant_a, CaseEvent))
    resp = _post(cw, f"{page}/steps/mediation_requested", {"date-day": "31", "date-month": "2", "date-year": "2026"})
    assert resp.status_code == 400 and _summary(resp.get_data(as_text=True)) == ["#date-day", "#includes_health"]
    # In the future: the service refuses, shown against the date.
    resp = _post(cw, f"{page}/steps/mediation_requested", {**_date("date", TODAY + dt.timedelta(days=1)),
                                                            "includes_health": "no"})
    assert resp.status_code == 400 and _summary(resp.get_data(as_text=True)) == ["#date-day"]
    # A step out of order: the certificate before the family's choice.
    resp = _post(cw, f"{page}/steps/mediation_certificate_issued", _date("date", TODAY))
    assert resp.status_code == 400 and _summary(resp.get_data(as_text=True)) == ["#date-day"]
    assert "A certificate follows the family" in resp.get_data(as_text=True).replace("&#39;", "'")
    assert (_count(tenant_a, DisagreementStep), _count(tenant_a, CaseEvent)) == before
    # A step of another kind of dispute is not a page at all.
    assert cw.get(f"{page}/steps/appeal_registered").status_code == 404


def test_opening_checks_what_each_kind_needs(cw: Any, tenant_a: Any, case: Any, make_case: Any) -> None:
    resp = _post(cw, f"/cases/{case.id}/disagreements/new/dr_referral", _date("opened_on", TODAY))
    assert resp.status_code == 400 and _summary(resp.get_data(as_text=True)) == ["#parties", "#summary"]
    resp = _post(cw, f"/cases/{case.id}/disagreements/new/appeal", _date("opened_on", TODAY))
    assert resp.status_code == 400 and _summary(resp.get_data(as_text=True)) == ["#grounds"]
    resp = _post(cw, f"/cases/{case.id}/disagreements/new", {})
    assert resp.status_code == 400 and _summary(resp.get_data(as_text=True)) == ["#kind"]
    assert _count(tenant_a, Disagreement) == 0
    no_letter = make_case(tenant_a, LETTERED[:2], today=TODAY)
    body = cw.get(f"/cases/{no_letter.id}/disagreements/new/mediation").get_data(as_text=True)
    assert "Send a decision letter first" in body
    assert cw.get(f"/cases/{case.id}/disagreements/new/nonsense").status_code == 404


def test_complaint_targets_are_labelled_not_statutory_and_dr_has_no_clock(cw: Any, case: Any) -> None:
    page = _open(cw, case, "complaint", summary="Late provision", stage="stage_1", reference="C-1")
    body = cw.get(page).get_data(as_text=True)
    row = _row(body, "complaint_response")
    assert "Council target, not statutory" in row and "Statutory" not in row.replace("not statutory", "")
    # 10 working days after Tue 15 Dec 2026, skipping 25 and 28 Dec and 1 Jan: Thu 31 Dec 2026.
    assert "Thursday 31 December 2026" in row
    dr = _open(cw, case, "dr_referral", summary="Transport to school", parties="school")
    body = cw.get(dr).get_data(as_text=True)
    assert "Disagreement resolution has no statutory time limits." in body and "data-key=" not in body
    assert "does not change the time limits for appealing" in body


def test_read_only_and_oversight_permissions(officer: Any, cw: Any, manager: Any, case: Any) -> None:
    page = _open(cw, case, "mediation")
    assert officer.get(f"/cases/{case.id}/disagreements").status_code == 200
    assert officer.get(page).status_code == 200
    assert "Record what happened" not in officer.get(page).get_data(as_text=True)
    assert officer.get(f"{page}/steps/mediation_declined").status_code == 404
    assert officer.get(f"/cases/{case.id}/disagreements/new").status_code == 404
    assert cw.get("/disagreements").status_code == 404 and officer.get("/disagreements").status_code == 404
    assert 'href="/disagreements"' in manager.get("/children/").get_data(as_text=True)
    assert 'href="/disagreements"' not in cw.get("/children/").get_data(as_text=True)


def test_the_workbench_puts_overdue_first_and_filters(cw: Any, manager: Any, tenant_a: Any, make_case: Any,
                                                     caseworker: Any, case: Any) -> None:
    # A complaint overdue since 15 Oct (received 1 Oct, 10 working days) and a mediation whose
    # adviser-contact clock ran out on 2 Dec: both overdue, the older first.
    late = _open(cw, case, "complaint", summary="Old complaint", **_date("opened_on", D(2026, 10, 1)))
    mediation = _open(cw, case, "mediation", owner_id=str(caseworker.id))
    body = manager.get("/disagreements").get_data(as_text=True)
    assert body.index(late) < body.index(mediation) and "2 overdue" in body
    only = manager.get("/disagreements?kind=mediation").get_data(as_text=True)
    assert mediation in only and late not in only
    mine = manager.get(f"/disagreements?owner={caseworker.id}").get_data(as_text=True)
    assert mediation in mine and late not in mine and "Casey Worker" in mine
    soon = manager.get("/disagreements?within=5").get_data(as_text=True)
    assert late in soon  # overdue is within any horizon
    resp = manager.get("/disagreements?within=soon&kind=bogus")
    assert resp.status_code == 400 and _summary(resp.get_data(as_text=True)) == ["#kind", "#within"]


def test_closing_a_dispute_takes_it_off_the_workbench_and_keeps_its_story(cw: Any, manager: Any, case: Any) -> None:
    dr = _open(cw, case, "dr_referral", summary="Transport to school", parties="school",
               **_date("referred_on", D(2026, 12, 1)), **_date("opened_on", D(2026, 12, 1)))
    _step(cw, dr, "dr_meeting_held", D(2026, 12, 8))
    _step(cw, dr, "dr_concluded", D(2026, 12, 9), outcome="The school will arrange a taxi")
    assert dr in manager.get("/disagreements").get_data(as_text=True)
    _step(cw, dr, "disagreement_closed", D(2026, 12, 10), confirm=True, reason="Resolved by agreement")
    body = cw.get(dr).get_data(as_text=True)
    assert "Closed on 10 December 2026: Resolved by agreement" in body
    assert "Record what happened" not in body and cw.get(f"{dr}/steps/dr_concluded").status_code == 200
    # The timeline, newest first, with each step's details in words.
    timeline = body.split('id="timeline"')[1]
    story = [tuple(x.strip() for x in m) for m in re.findall(r"<li><strong>([^<]+)</strong>: ([^<]+)", timeline)]
    assert story == [("10 December 2026", "Close the disagreement"), ("9 December 2026",
                                                                      "Outcome of disagreement resolution"),
                     ("8 December 2026", "Disagreement resolution meeting held"),
                     ("1 December 2026", "Disagreement resolution referral recorded")]
    assert "What was the outcome: The school will arrange a taxi" in body
    assert dr not in manager.get("/disagreements").get_data(as_text=True)


def test_clock_words_say_what_kind_of_clock_it_is_and_where_it_stands() -> None:
    from web.ui.disagreements import clock_view

    base = {"key": "mediation_certificate", "label": "Certificate", "citation": "SEND Regs 2014 reg 34",
            "comparison": "on_or_before"}
    sat = clock_view({**base, "due": "2026-12-26", "statutory": True, "status": "open",
                      "non_working_day_hint": "2026-12-24"}, TODAY)
    assert (sat["kind"], sat["tag"], sat["detail"]) == ("Statutory", "Open", "11 days left")
    assert sat["hint"] == "Falls on a non-working day: act by Thursday 24 December 2026"
    late = clock_view({**base, "due": "2026-12-14", "statutory": True, "status": "open"}, TODAY)
    assert (late["tag"], late["detail"]) == ("Overdue", "1 day late")
    done = clock_view({**base, "due": "2026-12-14", "statutory": False, "status": "met", "met_on": "2026-12-01"},
                      TODAY)
    assert (done["kind"], done["tag"], done["detail"]) == ("Council target, not statutory", "Done",
                                                           "Done on 1 December 2026")
    guide = clock_view({**base, "due": "2027-12-01", "statutory": False, "status": "open", "guidance": True}, TODAY)
    assert guide["kind"] == "Guidance, not statutory" and not guide["statutory"]
    before = clock_view({**base, "due": "2027-02-15", "comparison": "before", "last_compliant_day": "2027-02-14",
                         "statutory": True, "status": "open"}, TODAY)
    assert before["due_text"] == "Sunday 14 February 2027"
