"""The public page "Work out the statutory deadlines": the worked examples of
statutory-rules.md section 12 through the page, bad input, no sign-in, no database, the rate limit.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from core import clock
from core.db import db
from tests.conftest import BASE_DOMAIN, TenantClient, csrf_token

pytestmark = pytest.mark.smoke


def _text(fragment: str) -> str:
    spaced = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()
    return re.sub(r" ([.,;:])", r"\1", spaced)


def _summary(body: str) -> list[tuple[str, str]]:
    block = re.search(r'govuk-error-summary__list">(.*?)</ul>', body, re.S)
    assert block, "no error summary on the page"
    return [(h, html.unescape(t)) for h, t in re.findall(r'<a href="([^"]+)">([^<]+)</a>', block.group(1))]


def _rows(body: str) -> dict[str, str]:
    """{deadline key: row text} of the results table."""
    m = re.search(r'<table class="govuk-table" id="deadlines">(.*?)</table>', body, re.S)
    assert m, "no results table"
    rows: dict[str, str] = {}
    for key, row in re.findall(r'data-key="([a-z0-9_]+)">(.*?)</tr>', m.group(1), re.S):
        rows.setdefault(key, _text(row))
    return rows


def _date(prefix: str, day: str) -> dict[str, str]:
    d = dt.date.fromisoformat(day)
    return {f"{prefix}-day": str(d.day), f"{prefix}-month": str(d.month), f"{prefix}-year": str(d.year)}


@pytest.fixture
def public(app: Any, monkeypatch: pytest.MonkeyPatch) -> TenantClient:
    """A visitor on the platform's own host: no council, not signed in. Today: 27 Nov 2026."""
    monkeypatch.setattr(clock, "today", lambda: dt.date(2026, 11, 27))
    client = TenantClient(app, app.response_class, use_cookies=True)
    client.base_url = f"https://{BASE_DOMAIN}"
    return client


def _calculate(client: Any, **dates: str | dict[str, str]) -> Any:
    data: dict[str, str] = {}
    for name, value in dates.items():
        if isinstance(value, dict):
            data.update(value)
        elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            data.update(_date(name, value))
        else:
            data[name] = value
    return client.post("/deadlines", data={"csrf_token": csrf_token(client, "/deadlines"), **data})


def test_the_form_needs_no_council_and_no_sign_in(public: Any, client_for: Any, tenant_a: Any) -> None:
    for client in (public, client_for(tenant_a)):
        resp = client.get("/deadlines")
        assert resp.status_code == 200
        body = resp.get_data(as_text=True)
        assert "<h1 class=\"govuk-heading-l\">Work out the statutory deadlines</h1>" in body
        assert 'name="csrf_token"' in body and 'name="received-day"' in body
        assert "Nothing you entered is stored" not in body and "Nothing you enter is stored" in body
    assert "Council A" in client_for(tenant_a).get("/deadlines").get_data(as_text=True)


def test_worked_example_1_a_new_request(public: Any) -> None:
    resp = _calculate(public, received="2026-01-05")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    rows = _rows(body)
    assert list(rows) == ["decision_to_assess", "decision_not_to_issue", "draft_plan_latest", "final_plan_issued"]
    assert "Monday 16 February 2026" in rows["decision_to_assess"]
    assert "The council must tell you whether it will carry out an EHC needs assessment" in rows["decision_to_assess"]
    assert "Statutory deadline. SEND Regs 2014 reg 5(1); CoP 9.14" in rows["decision_to_assess"]
    assert "Monday 27 April 2026" in rows["decision_not_to_issue"] and "SEND Regs 2014 reg 10(1)" in rows["decision_not_to_issue"]
    assert "Monday 25 May 2026 Falls on a bank holiday: act by Friday 22 May 2026" in rows["final_plan_issued"]
    assert "SEND Regs 2014 reg 13(2); CoP 9.40" in rows["final_plan_issued"]
    assert "Sunday 10 May 2026 Falls on a weekend: act by Friday 8 May 2026" in rows["draft_plan_latest"]
    assert "Guidance, not a legal deadline" in rows["draft_plan_latest"]
    assert "Statutory deadline" not in rows["draft_plan_latest"]
    # Statuses are relative to today (27 November 2026): all four are long past.
    assert "Overdue" in rows["decision_to_assess"] and "284 days overdue" in rows["decision_to_assess"]
    assert "<h1 class=\"govuk-heading-l\">Your statutory deadlines</h1>" in body
    # The form comes back filled in, to change the dates.
    assert 'id="received-day" name="received-day" type="text" value="5"' in body


def test_statuses_follow_today(public: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "today", lambda: dt.date(2026, 2, 12))
    rows = _rows(_calculate(public, received="2026-01-05").get_data(as_text=True))
    assert "Due in 4 days" in rows["decision_to_assess"]
    assert "Open" in rows["final_plan_issued"] and "Overdue" not in rows["final_plan_issued"]


def test_worked_example_2_the_draft_plan_window(public: Any) -> None:
    rows = _rows(_calculate(public, received="2026-01-05", draft_served="2026-04-01").get_data(as_text=True))
    row = rows["draft_plan_representations"]
    assert "Wednesday 15 April 2026" in row and "SEND Regs 2014 reg 13(1)(a); CoP 9.77" in row
    assert "The council must not finalise the plan before 16 April 2026." in row
    assert "Falls on" not in row  # the family's window is theirs in full: no "act by" hint


def test_worked_example_3_review_and_amendment(public: Any) -> None:
    rows = _rows(_calculate(public, received="2026-01-05", final_issued="2026-05-20", review_meeting="2026-11-05",
                            review_decision="2026-12-03", review_outcome="amend",
                            amendment_notice="2026-12-03").get_data(as_text=True))
    assert "Thursday 22 October 2026" in rows["review_meeting_notice"]
    assert "Thursday 22 October 2026" in rows["review_papers_circulated"]
    assert "Thursday 19 November 2026" in rows["review_report_circulation"]
    assert "Thursday 3 December 2026" in rows["post_review_decision"]
    assert "Thursday 17 December 2026" in rows["amendment_notice_representations"]
    assert "Thursday 28 January 2027" in rows["amended_plan_issued"] and "SEND Regs 2014 reg 22(3)" in rows["amended_plan_issued"]


def test_worked_example_4_a_move_at_short_notice(public: Any) -> None:
    rows = _rows(_calculate(public, received="2026-01-05", move_notified="2026-12-14", move_on="2026-12-18",
                            plan_transferred="2027-01-06", plan_made_on="2026-03-10").get_data(as_text=True))
    assert "Wednesday 6 January 2027" in rows["transfer_of_plan_between_las"]
    assert "SEND Regs 2014 reg 15(2)" in rows["transfer_of_plan_between_las"]
    assert "Wednesday 17 February 2027" in rows["new_la_notification"]
    assert "Monday 5 April 2027" in rows["new_la_review"]


def test_worked_example_5_mediation_and_the_christmas_appeal_rule(public: Any) -> None:
    rows = _rows(_calculate(public, received="2026-01-05", letter_sent="2026-10-02", letter_decision="refuse_assess",
                            mediation_declined="2026-11-26", certificate_issued="2026-12-01").get_data(as_text=True))
    assert "Wednesday 2 December 2026" in rows["mediation_adviser_contact"]
    assert "Tuesday 1 December 2026" in rows["mediation_certificate"]
    assert "Monday 4 January 2027" in rows["appeal_deadline"]
    assert "HESC Rules 2008 r.20(1)(c), r.12" in rows["appeal_deadline"]
    assert "The time limit ends on 1 January 2027; the Tribunal's rules move it to 4 January 2027." \
        in rows["appeal_deadline"]


@pytest.mark.parametrize(("order", "key", "due"), [("amend", "tribunal_order_amend", "Tuesday 18 August 2026"),
                                                   ("name_school", "tribunal_order_name_school", "Tuesday 28 July 2026")])
def test_worked_example_6_tribunal_orders(public: Any, order: str, key: str, due: str) -> None:
    rows = _rows(_calculate(public, received="2026-01-05", tribunal_order="2026-07-14",
                            order_kind=order).get_data(as_text=True))
    assert due in rows[key] and "SEND Regs 2014 reg 44(2)" in rows[key]


def test_worked_example_7_phase_transfer_before_15_february(public: Any) -> None:
    rows = _rows(_calculate(public, received="2026-01-05", transfer_planned="2027-09-01",
                            transfer_kind="school").get_data(as_text=True))
    row = rows["phase_transfer_school"]
    assert "by Sunday 14 February 2027 (before 15 February 2027)" in row
    assert "Falls on a weekend: act by Friday 12 February 2027" in row
    assert "SEND Regs 2014 reg 18(1)(b); CoP 9.179" in row


def test_worked_example_8_reassessment(public: Any) -> None:
    rows = _rows(_calculate(public, received="2026-01-05", reassessment_request="2027-06-04",
                            reassessment_decision="2027-06-14").get_data(as_text=True))
    assert "Saturday 19 June 2027" in rows["reassessment_decision"]
    assert "Monday 20 September 2027" in rows["reassessment_final_plan"]


def test_worked_example_9_an_under_5s_plan(public: Any) -> None:
    rows = _rows(_calculate(public, received="2025-09-01", final_issued="2026-02-10",
                            date_of_birth="2023-06-01").get_data(as_text=True))
    assert "Sunday 10 May 2026" in rows["under5_review_earliest"]
    assert "Monday 10 August 2026" in rows["under5_review"] and "Guidance, not a legal deadline" in rows["under5_review"]
    assert "Tuesday 9 February 2027" in rows["annual_review"]
    # Without the date of birth there is no under-5 guidance.
    rows = _rows(_calculate(public, received="2025-09-01", final_issued="2026-02-10").get_data(as_text=True))
    assert "under5_review" not in rows and "annual_review" in rows


def test_every_date_has_its_citation_beside_it(public: Any) -> None:
    from core.timescales import RULES

    body = _calculate(public, received="2026-01-05", draft_served="2026-04-01", final_issued="2026-05-20",
                      letter_sent="2026-10-02", letter_decision="plan_content").get_data(as_text=True)
    rows = _rows(body)
    assert len(rows) >= 8
    for key, row in rows.items():
        assert RULES[key].citation in row, key


@pytest.mark.parametrize(("data", "expected"), [
    ({}, [("#received-day", "Enter the date the council received the request")]),
    ({"received-day": "31", "received-month": "2", "received-year": "2026"},
     [("#received-day", "Date the council received the request must be a real date")]),
    ({**_date("received", "2013-01-05")},
     [("#received-day", "Date the council received the request must be between 1 September 2014 and 31 December 2099")]),
    ({**_date("received", "2026-01-05"), **_date("date_of_birth", "2027-01-01")},
     [("#date_of_birth-day", "Date of birth must be today or in the past")]),
    ({**_date("received", "2026-01-05"), **_date("assess_decided", "2026-02-01")},
     [("#assess_outcome", "Select an answer to ‘What did it decide?’")]),
    ({**_date("received", "2026-01-05"), "assess_outcome": "assess"},
     [("#assess_decided-day", "Enter the date of the decision to assess")]),
    ({**_date("received", "2026-01-05"), **_date("move_notified", "2026-12-14")},
     [("#move_on-day", "Enter the date of the move")]),
    ({**_date("received", "2026-01-05"), **_date("tribunal_order", "2026-07-14"), "order_kind": "banish"},
     [("#order_kind", "Select an answer to ‘What did the Tribunal order?’")]),
    ({"received-day": "5", "received-month": "1", **_date("final_issued", "2026-05-20")},
     [("#received-day", "Date the council received the request must include a year")]),
])
def test_bad_input_shows_an_error_summary(public: Any, data: dict[str, str], expected: list[tuple[str, str]]) -> None:
    resp = public.post("/deadlines", data={"csrf_token": csrf_token(public, "/deadlines"), **data})
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert _summary(body) == expected
    assert "<title>Error: " in body and 'id="deadlines"' not in body
    for anchor, _ in expected:
        assert f'id="{anchor[1:]}"' in body


def test_a_post_without_a_csrf_token_is_refused(public: Any) -> None:
    resp = public.post("/deadlines", data=_date("received", "2026-01-05"))
    assert resp.status_code == 400 and "Your form has expired" in resp.get_data(as_text=True)


@pytest.fixture
def statements(app: Any) -> Iterator[list[str]]:
    """Every SQL statement the app's engine runs while the test watches."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def test_the_calculator_touches_no_database(public: Any, statements: list[str]) -> None:
    token = csrf_token(public, "/deadlines")
    statements.clear()
    resp = public.post("/deadlines", data={"csrf_token": token, **_date("received", "2026-01-05"),
                                           **_date("draft_served", "2026-04-01")})
    assert resp.status_code == 200 and "draft_plan_representations" in resp.get_data(as_text=True)
    assert statements == []


def test_calculations_are_rate_limited(public: Any) -> None:
    from web.extensions import limiter

    token = csrf_token(public, "/deadlines")
    limiter.enabled = True
    limiter.reset()
    try:
        codes = [public.post("/deadlines", data={"csrf_token": token, **_date("received", "2026-01-05")}).status_code
                 for _ in range(31)]
        page = public.get("/deadlines").status_code  # reading the form is not limited
    finally:
        limiter.enabled = False
        limiter.reset()
    assert codes[:30] == [200] * 30 and codes[30] == 429 and page == 200
