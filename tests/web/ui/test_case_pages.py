"""Caseworker pages for EHC cases: the caseload, the transfer cohort, opening a case, the case
page (clocks, timeline, advice), giving a case to someone, and a form for every event.

Every form is also tested with bad input (a GOV.UK error summary, a 400, nothing saved) and
with an impossible event (the workflow's reason in the error summary, a 409, nothing saved).
"Today" is fixed per test by patching ``core.clock.today``, which the pages read.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from core import clock
from core.cases.models import Case, CaseEvent, Document
from core.timescales import EVENT_TYPES, RULES, compute_deadlines
from core.users.models import Role
from tests.conftest import JOURNEY_TO_PLAN, csrf_token, in_tenant, system_actor
from web.ui import event_forms as words

pytestmark = pytest.mark.smoke

TODAY = dt.date(2026, 11, 27)


# ---------------------------------------------------------------------------------------
# Helpers


def _summary(body: str) -> list[tuple[str, str]]:
    """(href, text) of each error summary link."""
    block = re.search(r'govuk-error-summary__list">(.*?)</ul>', body, re.S)
    assert block, "no error summary on the page"
    return [(h, html.unescape(t)) for h, t in re.findall(r'<a href="([^"]+)">([^<]+)</a>', block.group(1))]


def _text(fragment: str) -> str:
    """Visible text of an HTML fragment, whitespace collapsed."""
    spaced = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()
    return re.sub(r" ([.,;:])", r"\1", spaced)


def _deadline_rows(body: str, table_id: str | None = None) -> dict[str, str]:
    """{deadline key: row text} of a deadline table (the first with that key wins)."""
    if table_id is not None:
        m = re.search(rf'<table class="govuk-table" id="{table_id}">(.*?)</table>', body, re.S)
        assert m, f"no table {table_id}"
        body = m.group(1)
    rows: dict[str, str] = {}
    for key, row in re.findall(r'<tr class="govuk-table__row" data-key="([a-z0-9_]+)">(.*?)</tr>', body, re.S):
        rows.setdefault(key, _text(row))
    return rows


def _events(tenant: Any, case_id: Any) -> list[CaseEvent]:
    with in_tenant(tenant) as s:
        return list(s.execute(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)).scalars())


def _count(tenant: Any, model: Any) -> int:
    with in_tenant(tenant) as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def _post(client: Any, path: str, data: dict[str, Any], **kw: Any) -> Any:
    return client.post(path, data={"csrf_token": csrf_token(client, path), **data}, **kw)


def _date(prefix: str, day: dt.date | str) -> dict[str, str]:
    d = dt.date.fromisoformat(day) if isinstance(day, str) else day
    return {f"{prefix}-day": str(d.day), f"{prefix}-month": str(d.month), f"{prefix}-year": str(d.year)}


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``today(date)`` fixes the pages' today; TODAY unless a test says otherwise."""

    def set_today(day: dt.date) -> dt.date:
        monkeypatch.setattr(clock, "today", lambda: day)
        return day

    set_today(TODAY)
    return set_today


@pytest.fixture
def caseworker(tenant_a: Any, make_user: Any) -> Any:
    return make_user(tenant_a, Role.CASEWORKER, name="Casey Worker")


@pytest.fixture
def cw(client_for: Any, tenant_a: Any, caseworker: Any, today: Any) -> Any:
    return client_for(tenant_a, caseworker)


@pytest.fixture
def officer(client_for: Any, tenant_a: Any, make_user: Any, today: Any) -> Any:
    return client_for(tenant_a, make_user(tenant_a, Role.SEND_OFFICER, name="Reade Only"))


@pytest.fixture
def manager(client_for: Any, tenant_a: Any, make_user: Any, today: Any) -> Any:
    return client_for(tenant_a, make_user(tenant_a, Role.TEAM_MANAGER, name="Mandy Manager"))


def _days_ago(n: int) -> str:
    return (TODAY - dt.timedelta(days=n)).isoformat()


def _request(days_ago: int) -> dict[str, Any]:
    return {"type": "request_received", "date": _days_ago(days_ago), "requester": "parent"}


# ---------------------------------------------------------------------------------------
# The plain-English vocabulary covers the engine's


def test_every_event_type_and_attribute_has_plain_english_words() -> None:
    assert set(words.EVENT_TEXT) == set(EVENT_TYPES)
    for event_type, spec in EVENT_TYPES.items():
        texts = words.EVENT_TEXT[event_type]
        assert texts.group in words.GROUPS and texts.title and texts.choice and texts.date_question
        for name, attr in spec.items():
            found = words.attr_text(event_type, name)
            assert found.label and found.short, (event_type, name)
            if attr.kind == "enum":
                assert set(attr.choices) <= set(found.choices), (event_type, name)
            if attr.required and attr.kind in ("enum", "keys"):
                assert found.missing, (event_type, name)


def test_every_deadline_key_has_a_caseworkers_label_and_every_stage_a_name() -> None:
    from core.cases.workflow import STAGES

    assert set(RULES) <= set(words.DEADLINE_TEXT)
    assert set(STAGES) <= set(words.STAGE_TEXT)


def test_every_group_on_the_what_happened_page_offers_something() -> None:
    groups = words.choosable_types()
    assert [g for g, _ in groups] == list(words.GROUPS)
    offered = [t for _, types in groups for t in types]
    assert "request_received" not in offered  # a request opens a new case instead
    # Events only a service records (a plan leaving for another council, issue 6) are not offered.
    assert sorted(offered) == sorted(set(EVENT_TYPES) - {"request_received"} - words.SERVICE_ONLY_EVENTS)


def _deadline(key: str, due: dt.date, status: str, **kw: Any) -> Any:
    from core.timescales import Deadline, Trigger

    rule = RULES[key]
    return Deadline(key=key, due=due, comparison=rule.comparison, statutory=rule.statutory, status=status,  # type: ignore[arg-type]
                    citation=rule.citation, label=rule.label, trigger=Trigger("x", dt.date(2026, 1, 1)), **kw)


@pytest.mark.parametrize(("status", "due", "kw", "tag", "cls", "detail"), [
    ("open", dt.date(2026, 12, 31), {}, "Open", "", None),
    ("open", dt.date(2026, 11, 30), {}, "Due in 3 days", "govuk-tag--orange", None),
    ("open", dt.date(2026, 11, 27), {}, "Due today", "govuk-tag--orange", None),
    ("open", dt.date(2026, 11, 28), {}, "Due tomorrow", "govuk-tag--orange", None),
    ("missed", dt.date(2026, 11, 20), {}, "Overdue", "govuk-tag--red", "7 days overdue."),
    ("missed", dt.date(2026, 11, 20), {"met_on": dt.date(2026, 11, 21)}, "Late", "govuk-tag--red",
     "Done on Saturday 21 November 2026, 1 day late."),
    ("met", dt.date(2026, 11, 20), {"met_on": dt.date(2026, 11, 2)}, "Met", "govuk-tag--green",
     "Done on Monday 2 November 2026."),
    ("suspended", dt.date(2026, 11, 20),
     {"exception": {"code": "absent_from_area", "from": dt.date(2026, 10, 1), "to": None}},
     "Suspended", "govuk-tag--yellow",
     "Exception: the child, young person or family was away from the area for at least 4 weeks (from 1 October 2026, "
     "still going on). The duty is now to act as soon as practicable."),
])
def test_deadline_status_words_and_colours(status: str, due: dt.date, kw: dict[str, Any], tag: str, cls: str,
                                           detail: str | None) -> None:
    view = words.describe_deadline(_deadline("decision_to_assess", due, status, **kw), TODAY)
    assert (view.tag_text, view.tag_class, view.status_detail) == (tag, cls, detail)
    assert view.kind_text == "Statutory deadline"


def test_family_deadlines_that_pass_are_grey_never_overdue() -> None:
    view = words.describe_deadline(_deadline("appeal_deadline", dt.date(2026, 11, 1), "missed"), TODAY)
    assert (view.tag_text, view.tag_class) == ("Passed", "govuk-tag--grey")
    window = words.describe_deadline(_deadline("draft_plan_representations", dt.date(2026, 11, 1), "met"), TODAY)
    assert (window.tag_text, window.tag_class) == ("Ended", "govuk-tag--grey")


def test_guidance_is_never_called_statutory() -> None:
    view = words.describe_deadline(_deadline("institution_consultation_response", dt.date(2026, 12, 1), "open"),
                                   TODAY)
    assert view.kind_text == "Guidance, not a legal deadline" and not view.statutory


def test_iso_dates_in_messages_read_as_words() -> None:
    assert words.pretty_dates("The family has until 2026-05-15 to comment") == \
        "The family has until 15 May 2026 to comment"
    assert words.pretty_dates("not a date 2026-02-30") == "not a date 2026-02-30"


# ---------------------------------------------------------------------------------------
# The caseload


@pytest.fixture
def caseload(tenant_a: Any, make_case: Any, make_child: Any, caseworker: Any, make_user: Any) -> dict[str, Any]:
    """Five cases: overdue, due within a week, due in three weeks (all Casey's), another
    caseworker's, and an unassigned one with a plan."""
    other = make_user(tenant_a, Role.CASEWORKER, name="Olly Other")
    return {
        # Decision to assess due 6 weeks after the request: 43 days ago -> 1 day overdue.
        "overdue": make_case(tenant_a, [_request(43)], child=make_child(tenant_a, family_name="Alpha"),
                             caseworker_id=caseworker.id),
        "this_week": make_case(tenant_a, [_request(38)], child=make_child(tenant_a, family_name="Bravo"),
                               caseworker_id=caseworker.id),
        "later": make_case(tenant_a, [_request(20)], child=make_child(tenant_a, family_name="Charlie"),
                           caseworker_id=caseworker.id),
        "others": make_case(tenant_a, [_request(10)], child=make_child(tenant_a, family_name="Delta"),
                            caseworker_id=other.id),
        "unassigned": make_case(tenant_a, JOURNEY_TO_PLAN, child=make_child(tenant_a, family_name="Echo")),
        "other_user": other,
    }


def _listed(body: str) -> list[str]:
    """The family names in the caseload table, in order."""
    table = re.search(r"<tbody.*?</tbody>", body, re.S)
    return re.findall(r'/cases/[0-9a-f-]{36}">([A-Za-z0-9]+),', table.group(0)) if table else []


def test_a_caseworker_sees_their_own_cases_first_most_urgent_first(cw: Any, caseload: dict[str, Any]) -> None:
    resp = cw.get("/cases/")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert _listed(body) == ["Alpha", "Bravo", "Charlie"]
    assert "Your cases" in body and 'value="mine" selected' in body
    rows = re.findall(r"<tr class=\"govuk-table__row\">(.*?)</tr>", body, re.S)[1:]
    first, second, third = (_text(r) for r in rows)
    assert "Alpha, " in first and "Request received" in first and "Casey Worker" in first
    assert "Thursday 26 November 2026" in first and "Overdue" in first
    assert "Decide whether to carry out an EHC needs assessment" in first
    assert 'govuk-tag govuk-tag--red">Overdue' in rows[0]
    assert "Due in 4 days" in second and "govuk-tag--orange" in rows[1]
    assert "Open" in third and "govuk-tag--orange" not in rows[2] and "govuk-tag--red" not in rows[2]
    # The counts for this scope, prominently, each linking to its list.
    assert re.search(r'id="count-overdue">1<', body) and re.search(r'id="count-this_week">1<', body)
    assert re.search(r'id="count-all">3<', body)
    assert 'href="/cases/?caseworker=mine&amp;due=overdue"' in body


def test_the_counts_and_due_filters_match_the_injected_cases(manager: Any, caseload: dict[str, Any]) -> None:
    body = manager.get("/cases/").get_data(as_text=True)  # a manager starts with everyone's
    assert _listed(body) == ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]
    assert re.search(r'id="count-overdue">1<', body) and re.search(r'id="count-this_week">1<', body)
    assert re.search(r'id="count-all">5<', body)
    assert _listed(manager.get("/cases/?due=overdue").get_data(as_text=True)) == ["Alpha"]
    assert _listed(manager.get("/cases/?due=this_week").get_data(as_text=True)) == ["Bravo"]
    assert _listed(manager.get("/cases/?due=four_weeks").get_data(as_text=True)) == ["Bravo", "Charlie"]


def test_the_caseload_filters_by_stage_caseworker_and_unassigned(manager: Any, caseload: dict[str, Any]) -> None:
    assert _listed(manager.get("/cases/?stage=plan").get_data(as_text=True)) == ["Echo"]
    assert _listed(manager.get("/cases/?stage=request&due=overdue").get_data(as_text=True)) == ["Alpha"]
    assert _listed(manager.get("/cases/?caseworker=unassigned").get_data(as_text=True)) == ["Echo"]
    other = caseload["other_user"]
    body = html.unescape(manager.get(f"/cases/?caseworker={other.id}").get_data(as_text=True))
    assert _listed(body) == ["Delta"] and "Olly Other's cases" in body
    assert re.search(r'id="count-all">1<', body)


def test_a_caseworker_can_see_everyones_cases(cw: Any, caseload: dict[str, Any]) -> None:
    body = cw.get("/cases/?caseworker=all").get_data(as_text=True)
    assert _listed(body) == ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]


def test_a_caseworker_with_no_cases_yet_sees_everyones_and_is_told(client_for: Any, tenant_a: Any, make_user: Any,
                                                                   caseload: dict[str, Any], today: Any) -> None:
    newcomer = client_for(tenant_a, make_user(tenant_a, Role.CASEWORKER, name="New Starter"))
    body = newcomer.get("/cases/").get_data(as_text=True)
    assert "No cases are assigned to you yet" in body
    assert len(_listed(body)) == 5


@pytest.mark.parametrize(("query", "expected"), [
    ("?stage=sleeping", [("#stage", "Select a stage from the list")]),
    ("?due=yesterday", [("#due", "Select when the next deadline is due from the list")]),
    ("?caseworker=01a21ea2-0000-7000-8000-000000000000", [("#caseworker", "Select a caseworker from the list")]),
    ("?due=soon&stage=x&caseworker=nobody", [("#stage", "Select a stage from the list"),
                                             ("#caseworker", "Select a caseworker from the list"),
                                             ("#due", "Select when the next deadline is due from the list")]),
])
def test_bad_filter_values_show_an_error_summary(cw: Any, caseload: dict[str, Any], query: str,
                                                 expected: list[tuple[str, str]]) -> None:
    resp = cw.get(f"/cases/{query}")
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert _summary(body) == expected
    assert "<title>Error: " in body and _listed(body) == []


def test_the_caseload_is_paginated(manager: Any, tenant_a: Any, make_case: Any) -> None:
    for n in range(26):
        make_case(tenant_a, [_request(30 + n % 5)])
    first = manager.get("/cases/").get_data(as_text=True)
    second = manager.get("/cases/?page=2").get_data(as_text=True)
    assert len(_listed(first)) == 25 and len(_listed(second)) == 1
    assert "26 cases" in first and 'class="govuk-pagination' in first
    assert 'href="/cases/?page=2&amp;caseworker=all"' in first


def test_signed_out_people_are_sent_to_sign_in(client_for: Any, tenant_a: Any) -> None:
    resp = client_for(tenant_a).get("/cases/?stage=plan")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/sign-in?next=")


def test_the_service_navigation_has_cases(cw: Any) -> None:
    body = cw.get("/children/").get_data(as_text=True)
    assert re.search(r'<a class="govuk-service-navigation__link" href="/cases/"[^>]*>\s*Cases', body)


# ---------------------------------------------------------------------------------------
# Moving on next September


def _with_transfer(make_case: Any, tenant: Any, transfer_on: str, kind: str = "school", **kw: Any) -> Any:
    return make_case(tenant, [*JOURNEY_TO_PLAN, {"type": "phase_transfer_planned", "date": "2026-11-01",
                                                 "transfer_on": transfer_on, "kind": kind}], **kw)


def test_the_cohort_lists_next_septembers_moves_with_their_before_deadline(
        manager: Any, tenant_a: Any, make_case: Any, make_child: Any) -> None:
    school = _with_transfer(make_case, tenant_a, "2027-09-01", child=make_child(tenant_a, family_name="Sixyear"))
    college = _with_transfer(make_case, tenant_a, "2027-09-06", "post16", child=make_child(tenant_a, family_name="Elevens"))
    later = _with_transfer(make_case, tenant_a, "2028-09-01", child=make_child(tenant_a, family_name="Fiveyear"))
    make_case(tenant_a, JOURNEY_TO_PLAN, child=make_child(tenant_a, family_name="Staying"))
    body = manager.get("/cases/transfers").get_data(as_text=True)
    assert "<h1 class=\"govuk-heading-l\">Moving on in September 2027</h1>" in body
    assert set(_listed(body)) == {"Sixyear", "Elevens"}
    assert "2 children and young people moving on in September 2027" in body
    row = _text(re.search(rf'{school.id}.*?</tr>', body, re.S).group(0))
    assert "To the next school phase" in row and "on Wednesday 1 September 2027" in row
    assert "by Sunday 14 February 2027 (before 15 February 2027)" in row
    assert "Falls on a weekend: act by Friday 12 February 2027" in row
    assert "SEND Regs 2014 reg 18(1)(b)" in row and "Open" in row
    row = _text(re.search(rf'{college.id}.*?</tr>', body, re.S).group(0))
    assert "by Tuesday 30 March 2027 (before 31 March 2027)" in row and "SEND Regs 2014 reg 18(1)(a)" in row
    following = manager.get("/cases/transfers?year=2028").get_data(as_text=True)
    assert _listed(following) == ["Fiveyear"] and str(later.id) in following


def test_the_cohort_refuses_other_years(manager: Any) -> None:
    resp = manager.get("/cases/transfers?year=1999")
    assert resp.status_code == 400
    assert _summary(resp.get_data(as_text=True)) == [("#year", "Select September 2027 or September 2028")]


def test_the_cohort_turns_to_the_following_september_on_1_september(manager: Any, today: Any) -> None:
    today(dt.date(2027, 8, 31))
    assert "Moving on in September 2027" in manager.get("/cases/transfers").get_data(as_text=True)
    today(dt.date(2027, 9, 1))
    assert "Moving on in September 2028" in manager.get("/cases/transfers").get_data(as_text=True)


@pytest.mark.parametrize("orm_criterion", ["on", "off"], indirect=True)
def test_the_transfer_cohort_never_shows_another_councils_cases(orm_criterion: str, tenant_a: Any, tenant_b: Any,
                                                                make_case: Any, make_child: Any, make_user: Any,
                                                                client_for: Any, today: Any) -> None:
    theirs = _with_transfer(make_case, tenant_a, "2027-09-01", child=make_child(tenant_a, family_name="Zzalpha"))
    mine = _with_transfer(make_case, tenant_b, "2027-09-01", child=make_child(tenant_b, family_name="Zzbravo"))
    for role in (Role.CASEWORKER, Role.SEND_OFFICER):
        body = client_for(tenant_b, make_user(tenant_b, role)).get("/cases/transfers").get_data(as_text=True)
        assert str(mine.id) in body and "Zzbravo, " in body
        assert str(theirs.id) not in body and "Zzalpha" not in body and str(theirs.child_id) not in body


# ---------------------------------------------------------------------------------------
# Opening a case


def _open_form(day: str = "2026-11-20", **extra: str) -> dict[str, str]:
    return {**_date("received", day), "route": "no", "requester": "parent", **extra}


def test_a_caseworker_starts_a_request_from_the_childs_page(cw: Any, tenant_a: Any, caseworker: Any,
                                                          make_child: Any) -> None:
    child = make_child(tenant_a)
    page = cw.get(f"/children/{child.id}").get_data(as_text=True)
    assert "EHC cases" in page and "No EHC needs assessment has been requested." in page
    assert f'href="/cases/children/{child.id}/new"' in page and "Start a request for an EHC needs assessment" in page
    form = cw.get(f"/cases/children/{child.id}/new").get_data(as_text=True)
    assert re.search(rf'value="{caseworker.id}" checked', form)  # the caseworker themself, by default
    resp = _post(cw, f"/cases/children/{child.id}/new", _open_form(route="yes", requester="setting",
                                                                    caseworker=str(caseworker.id)))
    assert resp.status_code == 302
    with in_tenant(tenant_a) as s:
        case = s.execute(select(Case).where(Case.child_id == child.id)).scalar_one()
        assert (case.caseworker_id, case.stage, case.opened_on) == (caseworker.id, "request", dt.date(2026, 11, 20))
    assert resp.headers["Location"] == f"/cases/{case.id}"
    (event,) = _events(tenant_a, case.id)
    assert (event.type, event.date, event.attributes) == (
        "request_received", dt.date(2026, 11, 20), {"requester": "setting", "brought_to_attention": True})
    body = html.unescape(cw.get(resp.headers["Location"]).get_data(as_text=True))
    assert "Case opened" in body
    row = _deadline_rows(body, "clocks-running")["decision_to_assess"]
    assert "Decide whether to carry out an EHC needs assessment" in row and "Friday 1 January 2027" in row
    assert "brought to the council's attention (section 24)" in body
    # The child's page now links the open case and no longer offers a second request.
    page = cw.get(f"/children/{child.id}").get_data(as_text=True)
    assert f'href="/cases/{case.id}"' in page and "Start a request for an EHC needs assessment" not in page


@pytest.mark.parametrize(("data", "expected"), [
    ({}, [("#received-day", "Enter the date the council received the request"),
          ("#route", "Select how the council found out"), ("#requester", "Select who asked"),
          ("#caseworker", "Select who will work on the case")]),
    ({**_date("received", "2026-11-28"), "route": "no", "requester": "parent", "caseworker": "none"},
     [("#received-day", "Date the council received the request must be today or in the past")]),
    ({"received-day": "31", "received-month": "2", "received-year": "2026", "route": "maybe", "requester": "parent",
      "caseworker": "none"},
     [("#received-day", "Date the council received the request must be a real date"),
      ("#route", "Select how the council found out")]),
    ({**_date("received", "2013-05-01"), "route": "no", "requester": "alien", "caseworker": "none"},
     [("#received-day", "Date the council received the request must be on or after 1 September 2014"),
      ("#requester", "Select who asked")]),
])
def test_opening_a_case_with_bad_input_shows_errors_and_saves_nothing(cw: Any, tenant_a: Any, make_child: Any,
                                                                     data: dict[str, str],
                                                                     expected: list[tuple[str, str]]) -> None:
    child = make_child(tenant_a)
    before = _count(tenant_a, Case)
    resp = _post(cw, f"/cases/children/{child.id}/new", data)
    assert resp.status_code == 400
    assert _summary(resp.get_data(as_text=True)) == expected
    assert _count(tenant_a, Case) == before


def test_a_child_with_an_open_case_cannot_have_a_second(cw: Any, tenant_a: Any, make_case: Any) -> None:
    case = make_case(tenant_a, [_request(10)])
    page = cw.get(f"/cases/children/{case.child_id}/new")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "already has an open EHC case" in body and f'id="open-case" href="/cases/{case.id}"' in body
    assert 'name="received-day"' not in body  # no form to fill in
    before = _count(tenant_a, Case)
    resp = _post(cw, f"/cases/children/{case.child_id}/new", _open_form(caseworker="none"))
    assert resp.status_code == 409
    ((href, message),) = _summary(resp.get_data(as_text=True))
    assert href == "#open-case" and "already has an open EHC case" in message
    assert _count(tenant_a, Case) == before


def test_a_child_whose_plan_ended_can_have_a_new_case(cw: Any, tenant_a: Any, make_case: Any) -> None:
    ended = make_case(tenant_a, [
        *JOURNEY_TO_PLAN,
        {"type": "review_meeting_held", "date": "2026-06-01"},
        {"type": "review_decision_sent", "date": "2026-06-10", "outcome": "cease"},
        {"type": "decision_letter_sent", "date": "2026-06-10", "decision": "cease"},
        {"type": "plan_ceased", "date": "2026-11-01"},
    ])
    assert ended.stage == "ceased"
    page = cw.get(f"/children/{ended.child_id}").get_data(as_text=True)
    assert "Plan ended" in page and "Start a request for an EHC needs assessment" in page
    resp = _post(cw, f"/cases/children/{ended.child_id}/new", _open_form(caseworker="none"))
    assert resp.status_code == 302
    with in_tenant(tenant_a) as s:
        assert s.execute(select(func.count()).select_from(Case).where(Case.child_id == ended.child_id)).scalar_one() == 2


# ---------------------------------------------------------------------------------------
# The case page: the clocks


def test_the_case_page_shows_every_clock_with_its_date_status_and_citation(
        cw: Any, tenant_a: Any, make_case: Any, caseworker: Any, today: Any) -> None:
    case = make_case(tenant_a, [{"type": "request_received", "date": "2026-01-05", "requester": "parent"}],
                     caseworker_id=caseworker.id)
    today(dt.date(2026, 2, 11))
    body = cw.get(f"/cases/{case.id}").get_data(as_text=True)
    with in_tenant(tenant_a):
        expected = {d.key for d in compute_deadlines([{"type": "request_received", "date": "2026-01-05"}],
                                                     today=dt.date(2026, 2, 11))}
    rows = _deadline_rows(body, "clocks-running")
    assert set(rows) == expected == {"decision_to_assess", "decision_not_to_issue", "final_plan_issued",
                                     "draft_plan_latest"}
    # Worked example 1 (statutory-rules.md section 12).
    assert rows["decision_to_assess"].startswith("Decide whether to carry out an EHC needs assessment")
    assert "Statutory deadline. SEND Regs 2014 reg 5(1); CoP 9.14" in rows["decision_to_assess"]
    assert "Monday 16 February 2026" in rows["decision_to_assess"] and "Due in 5 days" in rows["decision_to_assess"]
    assert "Monday 27 April 2026" in rows["decision_not_to_issue"] and "Open" in rows["decision_not_to_issue"]
    assert "Monday 25 May 2026 Falls on a bank holiday: act by Friday 22 May 2026" in rows["final_plan_issued"]
    assert "Sunday 10 May 2026 Falls on a weekend: act by Friday 8 May 2026" in rows["draft_plan_latest"]
    # A planning hint is never called statutory.
    assert "Guidance, not a legal deadline" in rows["draft_plan_latest"]
    assert "Statutory deadline" not in rows["draft_plan_latest"]
    assert re.search(r'data-key="decision_to_assess">.*?govuk-tag govuk-tag--orange', body, re.S)


def test_the_clocks_are_coloured_by_status(cw: Any, tenant_a: Any, make_case: Any, today: Any) -> None:
    # The absence is recorded while it is under the 4 weeks regulation 10(4)(d) asks for, so
    # it suspends nothing yet; by 1 May it has run 9 weeks, and it does.
    case = make_case(tenant_a, [
        {"type": "request_received", "date": "2026-01-05", "requester": "parent"},
        {"type": "decision_to_assess_made", "date": "2026-02-10", "outcome": "assess"},
        {"type": "advice_requested", "date": "2026-02-11", "advice": "medical", "advice_id": "med-1"},
        {"type": "exception_recorded", "date": "2026-03-01", "code": "absent_from_area", "from": "2026-03-01",
         "affects": ["decision_not_to_issue"]},
    ], today=dt.date(2026, 3, 3))
    today(dt.date(2026, 5, 1))
    body = cw.get(f"/cases/{case.id}").get_data(as_text=True)
    done = _deadline_rows(body, "clocks-finished")
    running = _deadline_rows(body, "clocks-running")
    assert "Met" in done["decision_to_assess"] and "Done on Tuesday 10 February 2026" in done["decision_to_assess"]
    assert "Overdue" in running["advice_returned"] and "37 days overdue" in running["advice_returned"]
    assert "Open" in running["final_plan_issued"]
    assert "Suspended" in running["decision_not_to_issue"]
    assert "Exception: the child, young person or family was away from the area for at least 4 weeks (from 1 March " \
           "2026, still going on). The duty is now to act as soon as practicable." in running["decision_not_to_issue"]
    for key, colour in (("decision_to_assess", "green"), ("advice_returned", "red"), ("decision_not_to_issue", "yellow")):
        assert re.search(rf'data-key="{key}">.*?govuk-tag govuk-tag--{colour}', body, re.S), key
    assert re.search(r'data-key="final_plan_issued">.*?<strong class="govuk-tag ">Open', body, re.S)


def test_a_before_deadline_shows_its_last_compliant_day(cw: Any, tenant_a: Any, make_case: Any) -> None:
    case = _with_transfer(make_case, tenant_a, "2027-09-01")
    row = _deadline_rows(cw.get(f"/cases/{case.id}").get_data(as_text=True), "clocks-running")["phase_transfer_school"]
    assert "by Sunday 14 February 2027 (before 15 February 2027)" in row
    assert "Falls on a weekend: act by Friday 12 February 2027" in row
    assert "Review and amend the plan to name the next school" in row


def test_a_provisional_date_is_explained(cw: Any, tenant_a: Any, make_case: Any) -> None:
    case = make_case(tenant_a, [*JOURNEY_TO_PLAN,
                                {"type": "decision_letter_sent", "date": "2026-10-02", "decision": "plan_content"},
                                {"type": "mediation_requested", "date": "2026-10-20"}])
    body = cw.get(f"/cases/{case.id}").get_data(as_text=True)
    row = _deadline_rows(body)["appeal_deadline"]
    assert words.PROVISIONAL_TEXT in row
    assert "Family's last day to register an appeal" in row and "HESC Rules 2008 r.20(1)(c), r.12" in row


# ---------------------------------------------------------------------------------------
# The case page: timeline, advice, links


def test_the_timeline_lists_every_event_in_date_order_with_who_and_what(cw: Any, tenant_a: Any, make_case: Any,
                                                                        caseworker: Any) -> None:
    case = make_case(tenant_a, JOURNEY_TO_PLAN, caseworker_id=caseworker.id)
    resp = _post(cw, f"/cases/{case.id}/events/new/review_meeting_held", _date("date", "2026-11-02"))
    assert resp.status_code == 302
    body = cw.get(f"/cases/{case.id}").get_data(as_text=True)
    timeline = re.search(r'<ol class="govuk-list" aria-label="Timeline of events">(.*?)</ol>', body, re.S).group(1)
    titles = [_text(t) for t in re.findall(r"<h3[^>]*>(.*?)</h3>", timeline, re.S)]
    assert titles == ["Request for an EHC needs assessment received", "Decision whether to assess", "Advice requested",
                      "Advice received", "Decision whether to issue a plan", "Draft plan sent to the family",
                      "Final EHC plan issued", "Review meeting held"]
    text = _text(timeline)
    assert "Tuesday 10 February 2026 Decision: To carry out an EHC needs assessment" in text
    assert "Kind of advice: Psychological (educational psychologist) Reference: ep1" in text
    assert "Recorded by Sendbridge on" in text
    assert re.search(r"Monday 2 November 2026 Recorded by Casey Worker on \d+ \w+ 2026 at", text)
    assert text.count("Correct this") == 8
    assert "Plan in place" not in text and "Annual review under way" in body  # the stage follows the events


def test_advice_shows_its_clock_and_documents(cw: Any, tenant_a: Any, make_case: Any, app: Any) -> None:
    case = make_case(tenant_a, JOURNEY_TO_PLAN)
    with in_tenant(tenant_a):
        from core.documents.services import store_document

        doc = store_document(system_actor(tenant_a), child_id=case.child_id, case_id=case.id, kind="advice",
                             title="EP advice", filename="ep.pdf", data=b"%PDF-1.7\n%%EOF\n", advice_id="ep1")
    body = cw.get(f"/cases/{case.id}").get_data(as_text=True)
    advice = _text(re.search(r'id="advice">.*?</table>', body, re.S).group(0))
    assert "Psychological (educational psychologist) Reference ep1" in advice
    assert "Wednesday 11 February 2026 Wednesday 25 March 2026 Met SEND Regs 2014 reg 8(1); CoP 9.52 " \
           "Friday 20 March 2026 EP advice" in advice
    if "plans.download_document" in app.view_functions:
        assert f'href="/documents/{doc.id}"' in body or f"{doc.id}" in body
    else:  # the documents page is another area's; until it exists the name is shown unlinked
        assert "EP advice (ep.pdf)" in advice
    if "plans.plan" in app.view_functions:
        assert "See the EHC plan and its versions" in body


# ---------------------------------------------------------------------------------------
# Recording events


def test_the_what_happened_page_offers_only_steps_that_can_follow(cw: Any, tenant_a: Any, make_case: Any) -> None:
    case = make_case(tenant_a, [_request(10)])
    body = cw.get(f"/cases/{case.id}/events/new").get_data(as_text=True)
    offered = set(re.findall(r'name="type" type="radio" value="([a-z_0-9]+)"', body))
    assert "decision_to_assess_made" in offered and "exception_recorded" in offered
    assert not offered & {"final_plan_issued", "decision_to_issue_made", "advice_requested", "review_meeting_held",
                          "request_received", "amended_plan_issued", "plan_transferred", "new_la_notification_sent",
                          "health_body_notified", "mediation_agreement_actioned", "mediation_agreement_la_notified"}
    assert "Decision whether to carry out an EHC needs assessment" in body and "Stops the 6-week clock" in body
    resp = _post(cw, f"/cases/{case.id}/events/new", {"type": "decision_to_assess_made"})
    assert resp.status_code == 302
    assert resp.headers["Location"] == f"/cases/{case.id}/events/new/decision_to_assess_made"


def test_choosing_nothing_on_the_what_happened_page_is_an_error(cw: Any, tenant_a: Any, make_case: Any) -> None:
    case = make_case(tenant_a, [_request(10)])
    for data in ({}, {"type": "final_plan_issued"}, {"type": "no_such_thing"}):
        resp = _post(cw, f"/cases/{case.id}/events/new", data)
        assert resp.status_code == 400
        (anchor, message), = _summary(resp.get_data(as_text=True))
        assert message == "Select what happened" and anchor.startswith("#type-")
        assert f'id="{anchor[1:]}"' in resp.get_data(as_text=True)


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_every_event_type_has_a_form(cw: Any, tenant_a: Any, make_case: Any, event_type: str) -> None:
    case = make_case(tenant_a, JOURNEY_TO_PLAN)
    resp = cw.get(f"/cases/{case.id}/events/new/{event_type}")
    assert resp.status_code == 200
    body = html.unescape(resp.get_data(as_text=True))
    texts = words.EVENT_TEXT[event_type]
    assert texts.title in body and texts.date_question in body
    assert 'name="csrf_token"' in body and 'name="date-day"' in body
    for name in EVENT_TYPES[event_type]:
        if name in words.NOT_ASKED or (event_type, name) in {("advice_requested", "advice_id"),
                                                             ("advice_received", "advice")}:
            assert f'name="{name}"' not in body and f'name="{name}-day"' not in body, name
        else:
            assert words.attr_text(event_type, name).label in body, name
            assert f'name="{name}"' in body or f'name="{name}-day"' in body, name


def test_recording_a_decision_changes_the_clocks(cw: Any, tenant_a: Any, make_case: Any, caseworker: Any,
                                                today: Any) -> None:
    case = make_case(tenant_a, [{"type": "request_received", "date": "2026-01-05", "requester": "parent"}])
    today(dt.date(2026, 2, 11))
    before = _deadline_rows(cw.get(f"/cases/{case.id}").get_data(as_text=True), "clocks-running")
    assert "Due in 5 days" in before["decision_to_assess"]
    resp = _post(cw, f"/cases/{case.id}/events/new/decision_to_assess_made",
                 {**_date("date", "2026-02-10"), "outcome": "assess"})
    assert resp.status_code == 302 and resp.headers["Location"].startswith(f"/cases/{case.id}#event-")
    events = _events(tenant_a, case.id)
    assert (events[-1].type, events[-1].date, events[-1].attributes, events[-1].recorded_by) == (
        "decision_to_assess_made", dt.date(2026, 2, 10), {"outcome": "assess"}, str(caseworker.id))
    body = cw.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Decision whether to assess recorded" in body
    done = _deadline_rows(body, "clocks-finished")["decision_to_assess"]
    assert "Met" in done and "Done on Tuesday 10 February 2026" in done
    assert "Assessing needs" in body


@pytest.mark.parametrize(("event_type", "data", "expected"), [
    ("decision_to_assess_made", {}, [("#date-day", "Enter the date of the decision"),
                                     ("#outcome", "Select what the council decided")]),
    ("decision_to_assess_made", {**_date("date", "2026-11-28"), "outcome": "assess"},
     [("#date-day", "Date of the decision must be today or in the past")]),
    ("decision_to_assess_made", {"date-day": "30", "date-month": "2", "date-year": "2026", "outcome": "perhaps"},
     [("#date-day", "Date of the decision must be a real date"), ("#outcome", "Select what the council decided")]),
    ("decision_to_assess_made", {"date-day": "3", "date-year": "2026", "outcome": "assess"},
     [("#date-day", "Date of the decision must include a month")]),
    ("phase_transfer_planned", {**_date("date", "2026-11-20"), **_date("transfer_on", "2127-09-01")},
     [("#transfer_on-day", "Date of the move must be before 2100"), ("#kind", "Select what kind of move it is")]),
    ("institution_consulted", {**_date("date", "2026-11-20"), "urn": "12AB"},
     [("#urn", "Enter a URN of 6 digits, like 118945")]),
    ("exception_recorded", _date("date", "2026-11-20"),
     [("#code", "Select why the exception applies"), ("#from-day", "Enter the date it started"),
      ("#affects", "Select the deadlines the exception affects")]),
    ("exception_recorded", {**_date("date", "2026-11-20"), "code": "absent_from_area", **_date("from", "2026-10-01"),
                            "affects": "not_a_deadline"},
     [("#affects", "Select deadlines from the list")]),
    ("exception_recorded", {**_date("date", "2026-11-20"), "code": "absent_from_area", **_date("from", "2026-10-01"),
                            **_date("to", "2026-09-01"), "affects": "decision_to_assess"},
     [("#to-day", "Date it ended must be the same as or after the date it started")]),
    ("draft_plan_served", {**_date("date", "2026-11-20"), **_date("served_at", "2026-11-19")},
     [("#served_at-day", "Date it was served must be the same as or after the date the draft plan was sent")]),
    ("move_notified", {**_date("date", "2026-11-20"), "to_la_code": "88"},
     [("#move_on-day", "Enter the date of the move"), ("#to_la_code", "Enter an LA code of 3 digits, like 886")]),
])
def test_malformed_events_show_an_error_summary_and_save_nothing(cw: Any, tenant_a: Any, make_case: Any,
                                                                 event_type: str, data: dict[str, str],
                                                                 expected: list[tuple[str, str]]) -> None:
    case = make_case(tenant_a, [_request(10)])
    before = len(_events(tenant_a, case.id))
    resp = _post(cw, f"/cases/{case.id}/events/new/{event_type}", data)
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert _summary(body) == expected
    assert "<title>Error: " in body
    for value in (v for k, v in data.items() if k.endswith(("-day", "-year")) or k in ("urn", "to_la_code")):
        assert f'value="{value}"' in body  # what was typed is kept
    assert len(_events(tenant_a, case.id)) == before


@pytest.mark.parametrize(("events", "event_type", "data", "message"), [
    ([_request(30)], "final_plan_issued", _date("date", "2026-11-20"),
     "A final plan needs an EHC needs assessment: record the decision to assess first"),
    (JOURNEY_TO_PLAN[:3], "final_plan_issued", _date("date", "2026-04-25"),
     "A final plan needs a decision to issue one"),
    (JOURNEY_TO_PLAN[:5], "final_plan_issued", _date("date", "2026-05-10"),
     "The family has until 15 May 2026 to comment on the draft plan (SEND Regs 2014 reg 13(1)); the final plan can "
     "be issued from 16 May 2026"),
    ([_request(30)], "decision_to_assess_made", {**_date("date", "2013-11-20"), "outcome": "assess"}, None),
    ([{"type": "request_received", "date": "2026-01-05"}], "decision_to_assess_made",
     {**_date("date", "2026-01-04"), "outcome": "assess"},
     "The date cannot be before the request that opened the case"),
])
def test_impossible_events_are_refused_with_the_reason_and_save_nothing(
        cw: Any, tenant_a: Any, make_case: Any, events: list[dict[str, Any]], event_type: str, data: dict[str, str],
        message: str | None) -> None:
    case = make_case(tenant_a, events)
    before = len(_events(tenant_a, case.id))
    resp = _post(cw, f"/cases/{case.id}/events/new/{event_type}", data)
    body = resp.get_data(as_text=True)
    if message is None:  # before the Act: malformed, not impossible
        assert resp.status_code == 400
        assert _summary(body) == [("#date-day", "Date of the decision must be on or after 1 September 2014")]
    else:
        assert resp.status_code == 409
        assert _summary(body) == [("#date-day", message)]
        assert "<title>Error: " in body
    assert len(_events(tenant_a, case.id)) == before


def test_an_unlikely_step_is_warned_about_before_it_is_filled_in(cw: Any, tenant_a: Any, make_case: Any) -> None:
    case = make_case(tenant_a, [_request(10)])
    body = cw.get(f"/cases/{case.id}/events/new/final_plan_issued").get_data(as_text=True)
    assert "govuk-warning-text" in body
    assert "A final plan needs an EHC needs assessment: record the decision to assess first" in body
    answer = html.unescape(cw.get(f"/cases/{case.id}/events/new/new_la_notification_sent").get_data(as_text=True))
    assert "The new council's letter to the family follows the plan's transfer to this council" in answer
    assert "govuk-warning-text" not in cw.get(f"/cases/{case.id}/events/new/decision_to_assess_made").get_data(
        as_text=True)


def test_unknown_event_types_and_foreign_corrections_are_not_found(cw: Any, tenant_a: Any, make_case: Any) -> None:
    case = make_case(tenant_a, [_request(10)])
    other = make_case(tenant_a, [_request(12)])
    other_event = _events(tenant_a, other.id)[0]
    assert cw.get(f"/cases/{case.id}/events/new/made_up_event").status_code == 404
    assert cw.get(f"/cases/{case.id}/events/new/request_received?corrects={other_event.id}").status_code == 404
    assert cw.get(f"/cases/{case.id}/events/new/request_received?corrects=not-an-id").status_code == 404
    assert cw.get(f"/cases/{case.id}/events/new?corrects={other_event.id}").status_code == 404


def test_an_exception_is_recorded_against_the_deadlines_chosen(cw: Any, tenant_a: Any, make_case: Any,
                                                             today: Any) -> None:
    case = make_case(tenant_a, [{"type": "request_received", "date": "2026-09-01", "requester": "parent"}])
    form = cw.get(f"/cases/{case.id}/events/new/exception_recorded").get_data(as_text=True)
    offered = re.findall(r'name="affects" type="checkbox" value="([a-z_0-9]+)"', form)
    assert offered == ["decision_to_assess", "decision_not_to_issue", "draft_plan_latest", "final_plan_issued"]
    # Still going on, and not yet the 4 weeks it needs to apply: it suspends nothing until it has.
    resp = _post(cw, f"/cases/{case.id}/events/new/exception_recorded", {
        **_date("date", "2026-11-20"), "code": "absent_from_area", **_date("from", "2026-11-10"),
        "affects": ["decision_not_to_issue", "final_plan_issued"]})
    assert resp.status_code == 302
    event = _events(tenant_a, case.id)[-1]
    assert event.attributes == {"code": "absent_from_area", "from": "2026-11-10",
                                "affects": ["decision_not_to_issue", "final_plan_issued"]}
    assert "Suspended" not in cw.get(f"/cases/{case.id}").get_data(as_text=True)
    today(dt.date(2026, 12, 10))
    rows = _deadline_rows(cw.get(f"/cases/{case.id}").get_data(as_text=True))
    for key in ("decision_not_to_issue", "final_plan_issued"):
        assert "Suspended" in rows[key] and "(from 10 November 2026, still going on)" in rows[key]
    assert "Suspended" not in rows["decision_to_assess"]
    body = cw.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Affects: If not issuing a plan, tell the family; Issue the final EHC plan" in _text(body)


def test_an_exception_that_applies_at_once_can_be_recorded(cw: Any, tenant_a: Any, make_case: Any) -> None:
    case = make_case(tenant_a, [{"type": "request_received", "date": "2026-09-01", "requester": "parent"}])
    resp = _post(cw, f"/cases/{case.id}/events/new/exception_recorded", {
        **_date("date", "2026-11-20"), "code": "personal_circumstances", **_date("from", "2026-09-10"),
        **_date("to", "2026-10-20"), "affects": "decision_to_assess"})
    assert resp.status_code == 302
    row = _deadline_rows(cw.get(f"/cases/{case.id}").get_data(as_text=True))["decision_to_assess"]
    assert "Suspended" in row and "(from 10 September 2026 to 20 October 2026)" in row


def test_a_phase_transfer_is_recorded_with_its_move_date(cw: Any, tenant_a: Any, make_case: Any) -> None:
    case = make_case(tenant_a, JOURNEY_TO_PLAN)
    resp = _post(cw, f"/cases/{case.id}/events/new/phase_transfer_planned",
                 {**_date("date", "2026-11-20"), **_date("transfer_on", "2027-09-01"), "kind": "school"})
    assert resp.status_code == 302
    with in_tenant(tenant_a) as s:
        fresh = s.get(Case, case.id)
        assert (fresh.phase_transfer_on, fresh.phase_transfer_kind) == (dt.date(2027, 9, 1), "school")
    assert str(case.id) in cw.get("/cases/transfers").get_data(as_text=True)


# --- advice -----------------------------------------------------------------------------


def _assessing(make_case: Any, tenant: Any) -> Any:
    return make_case(tenant, [_request(60), {"type": "decision_to_assess_made", "date": _days_ago(30),
                                             "outcome": "assess"}])


def test_advice_is_requested_and_received_with_its_document(cw: Any, tenant_a: Any, make_case: Any) -> None:
    case = _assessing(make_case, tenant_a)
    resp = _post(cw, f"/cases/{case.id}/events/new/advice_requested",
                 {**_date("date", _days_ago(20)), "advice": "psychological"})
    assert resp.status_code == 302
    requested = _events(tenant_a, case.id)[-1]
    assert requested.attributes == {"advice": "psychological", "advice_id": "psychological-1"}
    # A second request of the same kind gets its own reference.
    _post(cw, f"/cases/{case.id}/events/new/advice_requested", {**_date("date", _days_ago(19)), "advice": "psychological"})
    assert _events(tenant_a, case.id)[-1].attributes["advice_id"] == "psychological-2"
    form = cw.get(f"/cases/{case.id}/events/new/advice_received").get_data(as_text=True)
    assert "Psychological advice requested on 7 November 2026" in form and 'enctype="multipart/form-data"' in form
    resp = _post(cw, f"/cases/{case.id}/events/new/advice_received", {
        **_date("date", _days_ago(2)), "advice_id": "psychological-1",
        "advice_file": (io.BytesIO(b"%PDF-1.7\nadvice\n%%EOF\n"), "EP report.pdf")},
        content_type="multipart/form-data")
    assert resp.status_code == 302
    received = _events(tenant_a, case.id)[-1]
    assert received.attributes == {"advice_id": "psychological-1", "advice": "psychological"}
    with in_tenant(tenant_a) as s:
        (doc,) = s.execute(select(Document).where(Document.case_id == case.id)).scalars()
        assert (doc.kind, doc.advice_id, doc.title, doc.filename) == (
            "advice", "psychological-1", "Psychological advice", "EP report.pdf")
    body = cw.get(f"/cases/{case.id}").get_data(as_text=True)
    advice = _text(re.search(r'id="advice">.*?</table>', body, re.S).group(0))
    assert "Reference psychological-1 Saturday 7 November 2026 Saturday 19 December 2026 Met" in advice
    assert "Wednesday 25 November 2026 Psychological advice" in advice
    assert "Reference psychological-2 Sunday 8 November 2026 Sunday 20 December 2026 Open" in advice
    assert "Not yet None" in advice


def test_a_bad_advice_file_saves_neither_the_file_nor_the_event(cw: Any, tenant_a: Any, make_case: Any) -> None:
    case = make_case(tenant_a, [*JOURNEY_TO_PLAN[:2], {"type": "advice_requested", "date": "2026-02-11",
                                                       "advice": "medical", "advice_id": "med-1"}])
    before = len(_events(tenant_a, case.id))
    resp = _post(cw, f"/cases/{case.id}/events/new/advice_received", {
        **_date("date", "2026-03-01"), "advice_id": "med-1",
        "advice_file": (io.BytesIO(b"MZ\x90\x00 not a document"), "advice.exe")}, content_type="multipart/form-data")
    assert resp.status_code == 400
    assert _summary(resp.get_data(as_text=True)) == [
        ("#advice_file", "The selected file must be a PDF, Word (.docx), OpenDocument text (.odt), PNG or JPEG")]
    assert len(_events(tenant_a, case.id)) == before
    assert _count(tenant_a, Document) == 0


# --- corrections ------------------------------------------------------------------------


def test_a_wrong_event_is_corrected_not_edited(cw: Any, tenant_a: Any, make_case: Any, today: Any) -> None:
    case = make_case(tenant_a, [{"type": "request_received", "date": "2026-01-05", "requester": "parent"},
                                {"type": "decision_to_assess_made", "date": "2026-02-20", "outcome": "refuse"}])
    wrong = _events(tenant_a, case.id)[-1]
    today(dt.date(2026, 3, 1))
    body = cw.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Late" in _deadline_rows(body)["decision_to_assess"] and "Decided not to assess" in body
    link = f"/cases/{case.id}/events/new/decision_to_assess_made?corrects={wrong.id}"
    assert f'href="{link}"' in body
    form = cw.get(link).get_data(as_text=True)
    assert "Correct: Decision whether to assess" in form and "This replaces the entry" in form
    assert 'name="date-day" type="text" value="20"' in form and re.search(r'value="refuse" checked', form)
    resp = _post(cw, link, {**_date("date", "2026-02-12"), "outcome": "assess"})
    assert resp.status_code == 302
    rows = _events(tenant_a, case.id)
    assert len(rows) == 3 and rows[1].attributes == {"outcome": "refuse"}  # the original is kept as it was
    assert (rows[2].corrects_event_id, rows[2].attributes) == (wrong.id, {"outcome": "assess"})
    body = cw.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Correction recorded" in body and "Assessing needs" in body
    assert "Met" in _deadline_rows(body)["decision_to_assess"]
    original = re.search(rf'<li id="event-{wrong.id}".*?</li>', body, re.S).group(0)
    assert "<del>Decision whether to assess</del>" in original and "Corrected" in original
    assert f'href="#event-{rows[2].id}"' in original and "Correct this" not in original
    fix = re.search(rf'<li id="event-{rows[2].id}".*?</li>', body, re.S).group(0)
    assert f'href="#event-{wrong.id}"' in fix and "Corrects the entry ‘Decision whether to assess’" in fix


def test_a_correction_that_makes_the_history_impossible_is_refused(cw: Any, tenant_a: Any, make_case: Any) -> None:
    case = make_case(tenant_a, JOURNEY_TO_PLAN)
    decision = _events(tenant_a, case.id)[1]
    before = len(_events(tenant_a, case.id))
    resp = _post(cw, f"/cases/{case.id}/events/new/decision_to_assess_made?corrects={decision.id}",
                 {**_date("date", "2026-02-10"), "outcome": "refuse"})
    assert resp.status_code == 409
    ((anchor, message),) = _summary(resp.get_data(as_text=True))
    assert anchor == "#date-day" and "record the decision to assess first" in message
    assert len(_events(tenant_a, case.id)) == before


def test_a_correction_may_change_the_kind_of_step(cw: Any, tenant_a: Any, make_case: Any) -> None:
    case = make_case(tenant_a, [_request(20), {"type": "decision_to_assess_made", "date": _days_ago(5),
                                               "outcome": "assess"}])
    wrong = _events(tenant_a, case.id)[-1]
    body = cw.get(f"/cases/{case.id}/events/new?corrects={wrong.id}").get_data(as_text=True)
    assert "What should the entry say happened?" in body and 'value="decision_to_assess_made" checked' in body
    resp = _post(cw, f"/cases/{case.id}/events/new?corrects={wrong.id}", {"type": "exception_recorded"})
    assert resp.headers["Location"] == f"/cases/{case.id}/events/new/exception_recorded?corrects={wrong.id}"
    form = cw.get(resp.headers["Location"]).get_data(as_text=True)
    assert 'name="date-day" type="text" value="22"' in form  # the date carries over; the rest is new


def test_the_request_itself_can_be_corrected(cw: Any, tenant_a: Any, make_case: Any) -> None:
    case = make_case(tenant_a, [{"type": "request_received", "date": "2026-01-05", "requester": "parent"}])
    first = _events(tenant_a, case.id)[0]
    resp = _post(cw, f"/cases/{case.id}/events/new/request_received?corrects={first.id}",
                 {**_date("date", "2026-01-06"), "requester": "parent", "brought_to_attention": "no"})
    assert resp.status_code == 302
    body = cw.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Tuesday 17 February 2026" in _deadline_rows(body)["decision_to_assess"]


# ---------------------------------------------------------------------------------------
# Giving the case to someone


def test_a_case_is_given_to_a_caseworker_or_to_nobody(cw: Any, tenant_a: Any, make_case: Any, caseworker: Any,
                                                      make_user: Any) -> None:
    other = make_user(tenant_a, Role.CASEWORKER, name="Olly Other")
    make_user(tenant_a, Role.SEND_OFFICER, name="Cannot Hold")
    case = make_case(tenant_a, [_request(10)], caseworker_id=caseworker.id)
    view = cw.get(f"/cases/{case.id}").get_data(as_text=True)
    assert f'href="/cases/{case.id}/caseworker"' in view
    form = cw.get(f"/cases/{case.id}/caseworker").get_data(as_text=True)
    assert "Olly Other" in form and "Casey Worker" in form and "Cannot Hold" not in form
    assert re.search(rf'value="{caseworker.id}" checked', form)
    resp = _post(cw, f"/cases/{case.id}/caseworker", {"caseworker": str(other.id)})
    assert resp.status_code == 302
    assert "Olly Other is now the caseworker" in cw.get(f"/cases/{case.id}").get_data(as_text=True)
    with in_tenant(tenant_a) as s:
        assert s.get(Case, case.id).caseworker_id == other.id
    _post(cw, f"/cases/{case.id}/caseworker", {"caseworker": "none"})
    with in_tenant(tenant_a) as s:
        assert s.get(Case, case.id).caseworker_id is None


@pytest.mark.parametrize("value", ["", "someone", "01a21ea2-0000-7000-8000-000000000000"])
def test_giving_a_case_to_someone_not_on_the_list_is_an_error(cw: Any, tenant_a: Any, make_case: Any, caseworker: Any,
                                                             value: str) -> None:
    case = make_case(tenant_a, [_request(10)], caseworker_id=caseworker.id)
    resp = _post(cw, f"/cases/{case.id}/caseworker", {"caseworker": value})
    assert resp.status_code == 400
    assert _summary(resp.get_data(as_text=True)) == [(f"#caseworker-{caseworker.id}", "Select who will work on the case")]
    with in_tenant(tenant_a) as s:
        assert s.get(Case, case.id).caseworker_id == caseworker.id


# ---------------------------------------------------------------------------------------
# Permissions


def test_a_read_only_officer_sees_the_case_but_no_forms(officer: Any, tenant_a: Any, make_case: Any) -> None:
    case = make_case(tenant_a, JOURNEY_TO_PLAN)
    event = _events(tenant_a, case.id)[-1]
    body = officer.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "The clocks" in body and "Final EHC plan issued" in body
    for absent in ("Record what happened", "Correct this", f"/cases/{case.id}/caseworker", "Change"):
        assert absent not in body, absent
    child_page = officer.get(f"/children/{case.child_id}").get_data(as_text=True)
    assert "EHC cases" in child_page and "Start a request" not in child_page
    assert officer.get("/cases/").status_code == 200
    assert officer.get("/cases/transfers").status_code == 200
    for path in (f"/cases/{case.id}/caseworker", f"/cases/{case.id}/events/new",
                 f"/cases/{case.id}/events/new/review_meeting_held",
                 f"/cases/{case.id}/events/new/final_plan_issued?corrects={event.id}",
                 f"/cases/children/{case.child_id}/new"):
        assert officer.get(path).status_code in (403, 404), path
        token = csrf_token(officer, "/cases/")  # the caseload page has the sign-out form's token
        resp = officer.post(path, data={"csrf_token": token, **_date("date", "2026-11-20"), "type": "review_meeting_held",
                                        "caseworker": "none", **_open_form()})
        assert resp.status_code in (403, 404), path
    assert len(_events(tenant_a, case.id)) == len(JOURNEY_TO_PLAN) + 1
    assert _count(tenant_a, Case) == 1


def test_another_councils_case_is_not_found(client_for: Any, tenant_b: Any, make_user: Any, tenant_a: Any,
                                           make_case: Any, today: Any) -> None:
    case = make_case(tenant_a, [_request(10)])
    client = client_for(tenant_b, make_user(tenant_b, Role.TENANT_ADMIN))
    assert client.get(f"/cases/{case.id}").status_code == 404
    assert client.get(f"/cases/{case.id}/events/new/decision_to_assess_made").status_code == 404


def test_correcting_an_entry_already_corrected_replaces_the_current_version(cw: Any, tenant_a: Any,
                                                                           make_case: Any) -> None:
    case = make_case(tenant_a, [_request(20), {"type": "decision_to_assess_made", "date": _days_ago(5),
                                               "outcome": "refuse"}])
    first = _events(tenant_a, case.id)[-1]
    path = f"/cases/{case.id}/events/new/decision_to_assess_made?corrects={first.id}"
    assert _post(cw, path, {**_date("date", _days_ago(4)), "outcome": "refuse"}).status_code == 302
    # The first entry is no longer current, but a correction named by it still lands on the chain.
    assert _post(cw, path, {**_date("date", _days_ago(3)), "outcome": "assess"}).status_code == 302
    body = cw.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Assessing needs" in body and body.count("<del>Decision whether to assess</del>") == 2
