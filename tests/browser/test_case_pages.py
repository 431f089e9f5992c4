"""EHC case pages and the deadline calculator in headless Chromium: what each page shows, its
error states, zero axe-core violations at desktop width, a screenshot each; and a journey in
which the demo caseworker opens a case from a child's page, records the decision to assess and
sees the clocks change.

The cases these pages show are made for these tests through the public API (a child, a case,
its events, dated back from today), so the demo's own cases, which other modules' pages
show, are left as seeded. The demo's own phase transfer (a Year 6 child moving next
September) is what the cohort page shows.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, Response, expect

from tests.browser.conftest import (
    press,
    USERS, PageCase, assert_error_summary, check_page, heading, sign_in, submit, visit_page_case,
)
from tests.live_server import LiveServer


def _today() -> dt.date:
    """Today as the app counts it (core.clock: England)."""
    return dt.datetime.now(ZoneInfo("Europe/London")).date()


def _days(n: int) -> dt.date:
    return _today() + dt.timedelta(days=n)


def _weekday(day: dt.date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def _name() -> str:
    return "".join(random.choices(string.ascii_lowercase, k=9)).capitalize()


@dataclass(frozen=True)
class CaseData:
    #: A case with only its request (10 days ago): the forms, the 409.
    request_case: str
    #: Its child (who therefore has an open case).
    open_child: str
    #: A case taken to an issued plan, with advice and a corrected event: the case page.
    plan_case: str
    plan_child_name: str
    #: A child with no case: the form to open one.
    fresh_child: str
    fresh_child_name: str

    def ids(self) -> dict[str, str]:
        return {"case": self.request_case, "open_child": self.open_child, "plan_case": self.plan_case,
                "fresh_child": self.fresh_child}


def _child(server: LiveServer, token: str, given: str) -> dict[str, Any]:
    status, _, child = server.http("POST", "/api/v1/children", token=token, json_body={
        "given_name": given, "family_name": _name(), "date_of_birth": dt.date(_today().year - 9, 3, 14).isoformat()})
    assert status == 201, child
    return child


def _case(server: LiveServer, token: str, child_id: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    status, _, case = server.http("POST", "/api/v1/cases", token=token, json_body={
        "child_id": child_id, "events": events[:1]})
    assert status == 201, case
    for event in events[1:]:
        status, _, case = server.http("POST", f"/api/v1/cases/{case['id']}/events", token=token, json_body=event)
        assert status == 201, case
    return case


def _event(type_: str, days: int, **attrs: Any) -> dict[str, Any]:
    return {"type": type_, "date": _days(days).isoformat(), **attrs}


@pytest.fixture(scope="session")
def case_data(live_server: LiveServer) -> CaseData:
    token = live_server.api_token("northshire", scopes="children:read children:write cases:read cases:write")
    requested = _child(live_server, token, "Request")
    request_case = _case(live_server, token, requested["id"], [_event("request_received", -10, requester="parent")])
    planned = _child(live_server, token, "Planned")
    # The decision to assess is first recorded wrongly as a refusal, then corrected.
    plan_case = _case(live_server, token, planned["id"], [
        _event("request_received", -200, requester="setting"),
        _event("decision_to_assess_made", -170, outcome="refuse"),
    ])
    wrong = next(e for e in plan_case["events"] if e["type"] == "decision_to_assess_made")
    _case_events(live_server, token, plan_case["id"], [
        {**_event("decision_to_assess_made", -170, outcome="assess"), "corrects": wrong["id"]},
        _event("advice_requested", -169, advice="psychological", advice_id="ep-1"),
        _event("advice_requested", -169, advice="medical", advice_id="med-1"),
        _event("advice_received", -140, advice="psychological", advice_id="ep-1"),
        _event("decision_to_issue_made", -120, outcome="issue"),
        _event("draft_plan_served", -100),
        _event("final_plan_issued", -60),
    ])
    fresh = _child(live_server, token, "Fresh")
    return CaseData(request_case=request_case["id"], open_child=requested["id"], plan_case=plan_case["id"],
                    plan_child_name=f"Planned {planned['family_name']}", fresh_child=fresh["id"],
                    fresh_child_name=f"Fresh {fresh['family_name']}")


def _case_events(server: LiveServer, token: str, case_id: str, events: list[dict[str, Any]]) -> None:
    for event in events:
        status, _, body = server.http("POST", f"/api/v1/cases/{case_id}/events", token=token, json_body=event)
        assert status == 201, body


@dataclass
class CaseVisit:
    page: Page
    server: LiveServer
    data: CaseData


#: This area's pages are ordinary page cases, with case ids for the paths'
#: ``{case}``, ``{plan_case}``, ``{open_child}`` and ``{fresh_child}`` (CaseData.ids()).
CasePage = PageCase


# --- acts ------------------------------------------------------------------------------



def fill_date(page: Page, legend: str, day: dt.date) -> None:
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def follow(link: str) -> Callable[[CaseVisit], Response]:
    def act(v: CaseVisit) -> Response:
        with v.page.expect_navigation() as nav:
            v.page.get_by_role("link", name=link).first.click()
        response = nav.value
        assert response is not None
        return response

    return act


# --- checks ----------------------------------------------------------------------------


def check_caseload(v: CaseVisit) -> None:
    heading(v.page, "EHC cases")
    expect(v.page.get_by_role("heading", name="Your cases")).to_be_visible()
    expect(v.page.locator("#count-overdue")).to_have_text(re.compile(r"^\d+$"))
    expect(v.page.get_by_label("Caseworker")).to_have_value("mine")
    table = v.page.get_by_role("table")
    expect(table.get_by_role("columnheader")).to_have_text(
        ["Child or young person", "Stage", "Caseworker", "Next statutory deadline"])
    expect(table.locator("tbody tr").first).to_contain_text("Amara Okafor")


def check_caseload_overdue(v: CaseVisit) -> None:
    expect(v.page.get_by_label("Next deadline")).to_have_value("overdue")
    rows = v.page.get_by_role("table").locator("tbody tr")
    expect(rows.first).to_be_visible()
    for i in range(rows.count()):
        expect(rows.nth(i).locator(".govuk-tag")).to_have_text("Overdue")


def check_caseload_error(v: CaseVisit) -> None:
    assert_error_summary(v.page, {"#due": "Select when the next deadline is due from the list"})
    expect(v.page.get_by_role("table")).to_have_count(0)


def check_transfers(v: CaseVisit) -> None:
    year = _today().year if _today() < dt.date(_today().year, 9, 1) else _today().year + 1
    heading(v.page, f"Moving on in September {year}")
    row = v.page.get_by_role("table").locator("tbody tr").first
    expect(row).to_contain_text("To the next school phase")
    last = dt.date(year, 2, 14)
    expect(row).to_contain_text(f"by {_weekday(last)}")
    expect(row).to_contain_text(f"(before 15 February {year})")
    expect(row).to_contain_text("SEND Regs 2014 reg 18(1)(b)")


def check_transfers_error(v: CaseVisit) -> None:
    year = _today().year if _today() < dt.date(_today().year, 9, 1) else _today().year + 1
    assert_error_summary(v.page, {"#year": f"Select September {year} or September {year + 1}"})


def check_case(v: CaseVisit) -> None:
    heading(v.page, v.data.plan_child_name)
    expect(v.page.locator(".govuk-summary-list")).to_contain_text("Plan in place")
    running = v.page.locator("#clocks-running")
    review = running.locator("tr[data-key=annual_review]")
    expect(review).to_contain_text("Complete the annual review")
    expect(review).to_contain_text("CFA 2014 s44(1)")
    finished = v.page.locator("#clocks-finished")
    expect(finished.locator("tr[data-key=final_plan_issued]")).to_contain_text("Met")
    expect(finished.locator("tr[data-key=final_plan_issued] .govuk-tag--green")).to_have_count(1)
    # The medical advice never came back: its 6-week clock is red.
    advice = v.page.locator("#advice ~ div table").first
    expect(advice.locator("tbody tr").nth(1)).to_contain_text("Overdue")
    expect(advice.locator("tbody tr").nth(1)).to_contain_text("Not yet")
    timeline = v.page.get_by_role("list", name="Timeline of events")
    corrected = timeline.locator("li", has=v.page.locator("del"))
    expect(corrected).to_have_count(1)
    expect(corrected).to_contain_text("Decision: Not to carry out an assessment")
    expect(corrected.get_by_role("link", name=re.compile("see the correction"))).to_be_visible()
    expect(v.page.get_by_role("button", name="Record what happened")).to_be_visible()


def check_correction(v: CaseVisit) -> None:
    heading(v.page, "Correct: Request for an EHC needs assessment received")
    expect(v.page.locator(".govuk-inset-text")).to_contain_text("This replaces the entry")
    expect(v.page.get_by_role("group", name="When did the council receive the request?").get_by_label("Day")) \
        .to_have_value(str(_days(-200).day))
    expect(v.page.get_by_role("radio", name="Their school, college or early years setting")).to_be_checked()


def check_assign(v: CaseVisit) -> None:
    heading(v.page, re.compile(r"Who will work on Request \w+'s case\?"))
    # Opened through the API, the case has no caseworker yet.
    expect(v.page.get_by_role("radio", name="Nobody for now")).to_be_checked()
    expect(v.page.get_by_role("radio", name="Amara Okafor")).not_to_be_checked()


def check_choose(v: CaseVisit) -> None:
    heading(v.page, "What happened?")
    expect(v.page.get_by_role("radio", name="Decision whether to carry out an EHC needs assessment")).to_be_visible()
    expect(v.page.get_by_role("radio", name="Final EHC plan issued")).to_have_count(0)


def check_choose_error(v: CaseVisit) -> None:
    assert_error_summary(v.page, {"#type-decision_to_assess_made": "Select what happened"})


def check_event_form(v: CaseVisit) -> None:
    heading(v.page, "Decision whether to assess")
    expect(v.page.get_by_role("group", name="When was the decision sent to the family?")).to_be_visible()
    expect(v.page.get_by_role("radio", name="To carry out an EHC needs assessment")).not_to_be_checked()


def check_event_form_errors(v: CaseVisit) -> None:
    assert_error_summary(v.page, {"#date-day": "Enter the date of the decision",
                                  "#outcome": "Select what the council decided"})


def check_event_impossible(v: CaseVisit) -> None:
    assert_error_summary(v.page, {
        "#date-day": "A final plan needs an EHC needs assessment: record the decision to assess first"})


def check_advice_form(v: CaseVisit) -> None:
    heading(v.page, "Advice received")
    expect(v.page.get_by_label("Attach the advice (optional)")).to_have_attribute("type", "file")


def check_exception_form(v: CaseVisit) -> None:
    heading(v.page, "Exception recorded")
    group = v.page.get_by_role("group", name="Which deadlines does it affect?")
    expect(group.get_by_role("checkbox").first).to_be_visible()


def check_new_case(v: CaseVisit) -> None:
    heading(v.page, "Start a request for an EHC needs assessment")
    expect(v.page.locator(".govuk-caption-l")).to_have_text(v.data.fresh_child_name)
    expect(v.page.get_by_role("radio", name="Amara Okafor")).to_be_checked()


def check_new_case_errors(v: CaseVisit) -> None:
    assert_error_summary(v.page, {"#received-day": "Enter the date the council received the request",
                                  "#route": "Select how the council found out",
                                  "#requester": "Select who asked"})


def check_new_case_open(v: CaseVisit) -> None:
    expect(v.page.locator(".govuk-warning-text")).to_contain_text("already has an open EHC case")
    expect(v.page.locator("#open-case")).to_have_attribute("href", f"/t/northshire/cases/{v.data.request_case}")
    expect(v.page.get_by_role("button", name="Open the case")).to_have_count(0)


def check_child_cases(v: CaseVisit) -> None:
    section = v.page.locator("#ehc-cases + ul")
    expect(section.get_by_role("link")).to_have_attribute("href", f"/t/northshire/cases/{v.data.request_case}")
    expect(section).to_contain_text("Request received")
    expect(v.page.get_by_role("button", name="Start a request for an EHC needs assessment")).to_have_count(0)


def check_calculator(v: CaseVisit) -> None:
    heading(v.page, "Work out the statutory deadlines")
    expect(v.page.get_by_role("group", name=re.compile("When did the council receive the request"))).to_be_visible()


def calculate(v: CaseVisit) -> Response:
    fill_date(v.page, "When did the council receive the request for an EHC needs assessment?", dt.date(2026, 1, 5))
    fill_date(v.page, "When will they move to the next school or college phase? (optional)", dt.date(2027, 9, 1))
    v.page.get_by_role("radio", name="To the next school phase (for example, primary to secondary)").check()
    return submit(v.page, "Work out the deadlines")


def check_calculator_results(v: CaseVisit) -> None:
    heading(v.page, "Your statutory deadlines")
    table = v.page.locator("#deadlines")
    expect(table.locator("tr[data-key=decision_to_assess]")).to_contain_text("Monday 16 February 2026")
    final = table.locator("tr[data-key=final_plan_issued]")
    expect(final).to_contain_text("Monday 25 May 2026")
    expect(final).to_contain_text("Falls on a bank holiday: act by Friday 22 May 2026")
    expect(final).to_contain_text("SEND Regs 2014 reg 13(2); CoP 9.40")
    transfer = table.locator("tr[data-key=phase_transfer_school]")
    expect(transfer).to_contain_text("by Sunday 14 February 2027")
    expect(transfer).to_contain_text("(before 15 February 2027)")


def check_calculator_errors(v: CaseVisit) -> None:
    assert_error_summary(v.page, {"#received-day": "Enter the date the council received the request"})


PAGES: list[CasePage] = [
    CasePage("cases-caseload", "/t/northshire/cases/", who="caseworker", check=check_caseload),
    CasePage("cases-caseload-overdue", "/t/northshire/cases/?caseworker=all&due=overdue", who="manager",
             check=check_caseload_overdue),
    CasePage("cases-caseload-error", "/t/northshire/cases/?due=someday", who="caseworker", status=400,
             check=check_caseload_error),
    CasePage("cases-transfers", "/t/northshire/cases/transfers", who="manager", check=check_transfers),
    CasePage("cases-transfers-error", "/t/northshire/cases/transfers?year=1999", who="manager", status=400,
             check=check_transfers_error),
    CasePage("case", "/t/northshire/cases/{plan_case}", who="caseworker", check=check_case),
    CasePage("case-correction", "/t/northshire/cases/{plan_case}", who="caseworker",
             act=follow("Correct this entry: request for an ehc needs assessment received"), check=check_correction),
    CasePage("case-assign", "/t/northshire/cases/{case}/caseworker", who="caseworker", check=check_assign),
    CasePage("case-choose-event", "/t/northshire/cases/{case}/events/new", who="caseworker", check=check_choose),
    CasePage("case-choose-event-error", "/t/northshire/cases/{case}/events/new", who="caseworker", status=400,
             act=press("Continue"), check=check_choose_error),
    CasePage("case-event-form", "/t/northshire/cases/{case}/events/new/decision_to_assess_made", who="caseworker",
             check=check_event_form),
    CasePage("case-event-form-errors", "/t/northshire/cases/{case}/events/new/decision_to_assess_made",
             who="caseworker", status=400, act=press("Save"), check=check_event_form_errors),
    CasePage("case-event-impossible", "/t/northshire/cases/{case}/events/new/final_plan_issued", who="caseworker",
             status=409, act=press("Save", lambda p: fill_date(p, "When was the final plan issued?", _today())),
             check=check_event_impossible),
    CasePage("case-advice-form", "/t/northshire/cases/{case}/events/new/advice_received", who="caseworker",
             check=check_advice_form),
    CasePage("case-exception-form", "/t/northshire/cases/{case}/events/new/exception_recorded", who="caseworker",
             check=check_exception_form),
    CasePage("case-new", "/t/northshire/cases/children/{fresh_child}/new", who="caseworker", check=check_new_case),
    CasePage("case-new-errors", "/t/northshire/cases/children/{fresh_child}/new", who="caseworker", status=400,
             act=press("Open the case"),
             check=check_new_case_errors),
    CasePage("case-new-already-open", "/t/northshire/cases/children/{open_child}/new", who="caseworker",
             check=check_new_case_open),
    CasePage("child-with-a-case", "/t/northshire/children/{open_child}", who="caseworker", check=check_child_cases),
    CasePage("calculator", "/deadlines", check=check_calculator),
    CasePage("calculator-council", "/t/northshire/deadlines", check=check_calculator),
    CasePage("calculator-results", "/deadlines", act=calculate, check=check_calculator_results),
    CasePage("calculator-errors", "/deadlines", status=400, act=press("Work out the deadlines"),
             check=check_calculator_errors),
]


@pytest.mark.browser
@pytest.mark.parametrize("case", PAGES, ids=[c.name for c in PAGES])
def test_case_page_content_and_accessibility(case: CasePage, new_page: Callable[..., Page], live_server: LiveServer,
                                             case_data: CaseData) -> None:
    visit_page_case(case, new_page=new_page, live_server=live_server, ids=case_data.ids(),
                    visit=lambda page: CaseVisit(page, live_server, case_data))


#: Tables and long forms, again at 320 CSS pixels wide (WCAG 2.2 1.4.10 reflow).
NARROW = ["cases-caseload", "case", "calculator-results"]


@pytest.mark.browser
@pytest.mark.parametrize("name", NARROW)
def test_case_pages_at_320_pixels_wide(name: str, new_page: Callable[..., Page], live_server: LiveServer,
                                       case_data: CaseData) -> None:
    case = next(c for c in PAGES if c.name == name)
    page = new_page(case.who, viewport={"width": 320, "height": 640})
    response = page.goto(live_server.url(case.path.format(**case_data.ids())))
    assert response is not None
    if case.act is not None:
        response = case.act(CaseVisit(page, live_server, case_data))
    assert response.status == case.status
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 320
    check_page(page, f"{name}-narrow")


# ---------------------------------------------------------------------------------------
# The journey


@pytest.mark.browser
def test_caseworker_opens_a_case_records_the_decision_and_sees_the_clocks_change(
        new_page: Callable[..., Page], live_server: LiveServer, case_data: CaseData) -> None:
    page = new_page()
    sign_in(page, live_server, *USERS["caseworker"])
    token = live_server.api_token("northshire", scopes="children:read children:write")
    child = _child(live_server, token, "Journey")
    name = f"Journey {child['family_name']}"
    received = _days(-10)
    decide_by = received + dt.timedelta(weeks=6)

    # From the child's page, start a request.
    page.goto(live_server.tenant_url("northshire", f"/children/{child['id']}"))
    heading(page, name)
    expect(page.locator("#ehc-cases ~ p").first).to_have_text("No EHC needs assessment has been requested.")
    with page.expect_event("load"):
        page.get_by_role("button", name="Start a request for an EHC needs assessment").click()
    heading(page, "Start a request for an EHC needs assessment")
    fill_date(page, "When did the council receive the request?", received)
    page.get_by_role("radio", name="A request for an EHC needs assessment (section 36)").check()
    page.get_by_role("radio", name="A parent or carer").check()
    expect(page.get_by_role("radio", name="Amara Okafor")).to_be_checked()
    response = submit(page, "Open the case")
    assert response.status == 200 and response.request.redirected_from is not None
    case_url = page.url
    heading(page, name)
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Case opened")
    decide = page.locator("#clocks-running tr[data-key=decision_to_assess]")
    expect(decide).to_contain_text(_weekday(decide_by))
    expect(decide).to_contain_text("SEND Regs 2014 reg 5(1)")
    expect(decide.locator(".govuk-tag")).to_have_text("Open")
    expect(page.locator("#clocks-finished")).to_have_count(0)
    check_page(page, "journey-case-opened")

    # The case is on Amara's caseload.
    page.goto(live_server.tenant_url("northshire", "/cases/"))
    expect(page.get_by_role("link", name=f"{child['family_name']}, Journey")).to_have_attribute(
        "href", re.compile(r"/t/northshire/cases/[0-9a-f-]{36}$"))

    # Record the decision to assess.
    page.goto(case_url)
    with page.expect_event("load"):
        page.get_by_role("button", name="Record what happened").click()
    heading(page, "What happened?")
    page.get_by_role("radio", name="Decision whether to carry out an EHC needs assessment").check()
    submit(page, "Continue")
    heading(page, "Decision whether to assess")
    fill_date(page, "When was the decision sent to the family?", _today())
    page.get_by_role("radio", name="To carry out an EHC needs assessment").check()
    response = submit(page, "Save")
    assert response.status == 200 and response.request.redirected_from is not None

    # The clocks change: the 6-week decision is met, the assessment is under way.
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Decision whether to assess recorded")
    expect(page.locator(".govuk-summary-list")).to_contain_text("Assessing needs")
    expect(page.locator("#clocks-running tr[data-key=decision_to_assess]")).to_have_count(0)
    met = page.locator("#clocks-finished tr[data-key=decision_to_assess]")
    expect(met.locator(".govuk-tag")).to_have_text("Met")
    expect(met).to_contain_text(f"Done on {_weekday(_today())}")
    expect(page.locator("#clocks-running tr[data-key=final_plan_issued]")).to_contain_text(
        _weekday(received + dt.timedelta(weeks=20)))
    timeline = page.get_by_role("list", name="Timeline of events")
    entries = timeline.locator(":scope > li")
    expect(entries).to_have_count(2)
    expect(entries.last).to_contain_text("Decision: To carry out an EHC needs assessment")
    expect(entries.last).to_contain_text("Recorded by Amara Okafor")
    check_page(page, "journey-decision-recorded")
