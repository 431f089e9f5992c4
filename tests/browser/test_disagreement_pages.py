"""Decision letters and disagreement pages in headless Chromium: what each page shows, its error
states, zero axe-core violations, a screenshot each; and an appeal with a Tribunal order walked
end to end in Northshire (a caseworker sends a refusal-to-assess letter, records mediation
declined and the certificate, registers the appeal, sends the response, records the decision and
a Tribunal order, and sees the order's compliance clock; the team manager sees it on the
disputes workbench).

The cases are made for these tests through the public API (dated back from today), so the
demo's own cases are left as seeded.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Response, expect

from tests.browser.conftest import (
    press,
    PageCase, _block_non_loopback, assert_error_summary, check_page, heading, submit, visit_page_case,
)
from tests.live_server import LiveServer


def _day(n: int) -> dt.date:
    return dt.date.today() + dt.timedelta(days=n)


def _long(day: dt.date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def fill_date(page: Page, legend: str, day: dt.date) -> None:
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def make_refusal_case(server: LiveServer, token: str, *, letter_on: dt.date | None = None) -> tuple[str, str]:
    """A new Northshire child whose request was refused 20 days ago (through the API); with
    ``letter_on``, the decision letter is recorded too. Returns (case id, child's name)."""
    family = "".join(random.choices(string.ascii_lowercase, k=9)).capitalize()
    status, _, child = server.http("POST", "/api/v1/children", token=token, json_body={
        "given_name": "Appeal", "family_name": family, "date_of_birth": "2017-03-14"})
    assert status == 201, child
    status, _, case = server.http("POST", "/api/v1/cases", token=token, json_body={
        "child_id": child["id"], "events": [{"type": "request_received", "date": _day(-60).isoformat(),
                                             "requester": "parent"}]})
    assert status == 201, case
    events = [{"type": "decision_to_assess_made", "date": _day(-20).isoformat(), "outcome": "refuse"}]
    if letter_on is not None:
        events.append({"type": "decision_letter_sent", "date": letter_on.isoformat(), "decision": "refuse_assess"})
    for event in events:
        status, _, body = server.http("POST", f"/api/v1/cases/{case['id']}/events", token=token, json_body=event)
        assert status == 201, body
    return case["id"], f"Appeal {family}"


def open_dispute(page: Page, server: LiveServer, case_id: str, kind: str, fill: Callable[[Page], None] | None = None,
                 ) -> str:
    page.goto(server.tenant_url("northshire", f"/cases/{case_id}/disagreements/new/{kind}"))
    if fill is not None:
        fill(page)
    response = submit(page, "Save")
    assert response.status == 200, page.url
    match = re.search(r"/disagreements/([0-9a-f-]{36})$", page.url)
    assert match, page.url
    return match.group(1)


def record(page: Page, server: LiveServer, dispute: str, step: str, day: dt.date, legend: str,
           fill: Callable[[Page], None] | None = None, check: bool = False) -> None:
    """Record a step through its page (and its check-answers page for the weighty ones)."""
    page.goto(server.tenant_url("northshire", f"/disagreements/{dispute}/steps/{step}"))
    fill_date(page, legend, day)
    if fill is not None:
        fill(page)
    if check:
        assert submit(page, "Continue").status == 200
        heading(page, re.compile(r"^Check before recording"))
        check_page(page, f"disagreement-check-{step}")
        response = submit(page, "Confirm and record")
    else:
        response = submit(page, "Save")
    assert response.status == 200
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Recorded:")


# ---------------------------------------------------------------------------------------
# The appeal with a Tribunal order, end to end


@pytest.fixture(scope="session")
def dispute_token(live_server: LiveServer) -> str:
    return live_server.api_token("northshire", scopes="children:read children:write cases:read cases:write")


@pytest.mark.browser
def test_an_appeal_with_a_tribunal_order_end_to_end(new_page: Callable[..., Page], live_server: LiveServer,
                                                   dispute_token: str) -> None:
    case_id, name = make_refusal_case(live_server, dispute_token)
    page = new_page("caseworker")
    # The case page links to the disagreements; from there, send the decision letter.
    page.goto(live_server.tenant_url("northshire", f"/cases/{case_id}"))
    page.get_by_role("link", name=re.compile("^Disagreements")).click()
    heading(page, "Disagreements")
    page.get_by_role("button", name="Send a decision letter").click()
    heading(page, "Send a decision letter")
    sent_on = _day(-15)
    page.get_by_role("radio", name="Not to carry out an EHC needs assessment").check()
    fill_date(page, "Date the letter is sent", sent_on)
    page.get_by_label("The reasons for the decision").fill("The school's evidence shows good progress with SEN "
                                                           "support.")
    assert submit(page, "Preview the letter").status == 200
    heading(page, "Check the letter before sending it")
    letter = page.get_by_role("region", name="The letter")
    expect(letter).to_contain_text("right to appeal against this decision to the First-tier Tribunal")
    expect(letter).to_contain_text("Mediation is your choice.")
    # The demo council's template names its (made-up) mediation adviser and SENDIASS.
    expect(letter).to_contain_text("Northshire Family Mediation Service")
    expect(letter).to_contain_text("Northshire SENDIASS")
    expect(page.locator(".govuk-warning-text")).to_have_count(0)
    check_page(page, "letter-preview")
    assert submit(page, "Send the letter").status == 200
    heading(page, "Disagreements")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("The decision letter has been sent")
    expect(page.locator("#decision-letters")).to_contain_text(f"Refusal to assess: sent {sent_on.day} "
                                                              f"{sent_on:%B %Y}")

    # Mediation: the family decline; the certificate follows.
    mediation = open_dispute(page, live_server, case_id, "mediation")
    heading(page, re.compile("^Mediation"))
    expect(page.locator("[data-key=mediation_adviser_contact]")).to_contain_text("SEND Regs 2014 reg 33")
    record(page, live_server, mediation, "mediation_declined", _day(-12), "Date the mediation adviser was told")
    expect(page.locator("[data-key=mediation_certificate]")).to_contain_text("Statutory")
    record(page, live_server, mediation, "mediation_certificate_issued", _day(-11), "Date on the certificate")
    expect(page.locator("#clocks-running [data-key=appeal_deadline], #clocks-done [data-key=appeal_deadline]")
           ).to_contain_text("HESC Rules 2008 r.20(1)(c), r.12")

    # The appeal: registered, the council's response, the decision and the order.
    page.goto(live_server.tenant_url("northshire", f"/cases/{case_id}/disagreements/new"))
    page.get_by_role("radio", name="Appeal to the Tribunal").check()
    assert submit(page, "Continue").status == 200
    page.get_by_role("checkbox", name=re.compile("^Refusal to assess")).check()
    page.get_by_label("Tribunal reference (optional)").fill("EH826/26/00042")
    assert submit(page, "Save").status == 200
    appeal = re.search(r"/disagreements/([0-9a-f-]{36})$", page.url).group(1)  # type: ignore[union-attr]
    record(page, live_server, appeal, "appeal_registered", _day(-8), "Date the Tribunal registered the appeal")
    expect(page.locator("[data-key=appeal_la_response]")).to_be_visible()
    record(page, live_server, appeal, "appeal_response_submitted", _day(-5), "Date it was sent")
    record(page, live_server, appeal, "appeal_decided", _day(-2), "Date of the decision",
           lambda p: p.get_by_role("radio", name="Allowed", exact=True).check(), check=True)
    order_on = _day(-1)
    record(page, live_server, appeal, "tribunal_order_made", order_on, "Date the order was made",
           lambda p: (p.get_by_role("radio", name="Carry out an EHC needs assessment or re-assessment").check(),
                      p.get_by_label("Details of the order (optional)").fill("Assess within the time limits")),
           check=True)
    # The order's compliance clock (reg 44(2)): notify within 2 weeks of the order.
    clock = page.locator("[data-key=tribunal_order_assess_notify]")
    expect(clock).to_contain_text("SEND Regs 2014 reg 44(2)")
    expect(clock).to_contain_text(_long(order_on + dt.timedelta(weeks=2)))
    expect(page.locator("#orders")).to_contain_text("Not yet complied with")
    check_page(page, "disagreement-appeal-with-order")

    # The team manager sees it on the workbench, with the order's clock.
    manager = new_page("manager")
    manager.goto(live_server.tenant_url("northshire", "/"))
    manager.get_by_role("link", name="Disputes").click()
    heading(manager, "Disputes workbench")
    manager.get_by_label("Kind").select_option("appeal")
    assert submit(manager, "Filter").status == 200
    row = manager.locator("#workbench tbody tr").filter(has_text=name)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("SEND Regs 2014 reg 44(2)")
    expect(row.get_by_role("link", name=name)).to_have_attribute("href", f"/t/northshire/disagreements/{appeal}")
    check_page(manager, "disagreement-workbench-appeal")


# ---------------------------------------------------------------------------------------
# Every page, with its error states


@dataclass(frozen=True)
class DisputeData:
    #: A refusal recorded, no letter yet: the send page.
    fresh_case: str
    #: A letter sent 10 days ago and a mediation about it.
    case: str
    mediation: str
    child_name: str

    def ids(self) -> dict[str, str]:
        return {"fresh_case": self.fresh_case, "case": self.case, "mediation": self.mediation}


@pytest.fixture(scope="session")
def dispute_page(browser: Browser, browser_context_args: dict[str, Any],
                 storage_states: Callable[[str], Any]) -> Iterator[Page]:
    ctx = browser.new_context(**browser_context_args, storage_state=storage_states("caseworker"))
    stray = _block_non_loopback(ctx)
    yield ctx.new_page()
    ctx.close()
    assert not stray, f"requests beyond 127.0.0.1: {stray}"


@pytest.fixture(scope="session")
def dispute_data(live_server: LiveServer, dispute_token: str, dispute_page: Page) -> DisputeData:
    fresh, _ = make_refusal_case(live_server, dispute_token)
    case, name = make_refusal_case(live_server, dispute_token, letter_on=_day(-10))
    mediation = open_dispute(dispute_page, live_server, case, "mediation")
    return DisputeData(fresh_case=fresh, case=case, mediation=mediation, child_name=name)


@dataclass
class DisputeVisit:
    page: Page
    server: LiveServer
    data: DisputeData



def check_send(v: DisputeVisit) -> None:
    heading(v.page, "Send a decision letter")
    expect(v.page.get_by_role("group", name="Which decision is the letter about?").get_by_role("radio")).to_have_count(1)


def check_send_errors(v: DisputeVisit) -> None:
    assert_error_summary(v.page, {"#decision": "Choose the decision this letter tells the family about",
                                  "#reasons": "Enter the reasons for the decision"})


def check_case(v: DisputeVisit) -> None:
    heading(v.page, "Disagreements")
    expect(v.page.locator(".govuk-caption-l")).to_have_text(v.data.child_name)
    expect(v.page.locator(".govuk-summary-card")).to_have_count(1)
    expect(v.page.locator(".govuk-summary-card")).to_contain_text("Mediation")


def check_choose(v: DisputeVisit) -> None:
    expect(v.page.get_by_role("group", name=re.compile("What kind of disagreement is it")).get_by_role("radio")
           ).to_have_count(4)


def check_choose_errors(v: DisputeVisit) -> None:
    assert_error_summary(v.page, {"#kind": "Choose what kind of disagreement to record"})


def check_open_complaint(v: DisputeVisit) -> None:
    heading(v.page, "Complaint")
    expect(v.page.get_by_role("group", name="Where was the complaint made?").get_by_role("radio")).to_have_count(7)


def check_open_dr_errors(v: DisputeVisit) -> None:
    assert_error_summary(v.page, {"#parties": "Say who the disagreement is between",
                                  "#summary": "Say what the disagreement is about"})


def check_view(v: DisputeVisit) -> None:
    heading(v.page, "Mediation: refusal to assess")
    expect(v.page.locator("[data-key=mediation_adviser_contact]")).to_contain_text("Statutory")
    expect(v.page.locator("#next-steps a")).to_have_count(3)


def check_step(v: DisputeVisit) -> None:
    heading(v.page, "The family want mediation")
    expect(v.page.get_by_role("group", name="Does the mediation include health care?")).to_be_visible()


def check_step_errors(v: DisputeVisit) -> None:
    assert_error_summary(v.page, {"#date-day": "Enter the date the council was told",
                                  "#includes_health": "Select yes if the mediation includes health care"})


def check_workbench(v: DisputeVisit) -> None:
    heading(v.page, "Disputes workbench")
    expect(v.page.locator("#workbench tbody tr").filter(has_text=v.data.child_name)).to_have_count(1)


def check_workbench_errors(v: DisputeVisit) -> None:
    assert_error_summary(v.page, {"#within": "Enter a number of days from 0 to 366, like 14"})


def check_template(v: DisputeVisit) -> None:
    heading(v.page, "Decision letter template")
    expect(v.page.get_by_label("Not to carry out an EHC needs assessment")).to_be_visible()


def check_template_errors(v: DisputeVisit) -> None:
    assert_error_summary(v.page, {"#mediation_org": "Enter the organisation that gives mediation advice: every letter "
                                                    "must say who the family contacts (SEND Regulations 2014 reg 32)"})


def check_example(v: DisputeVisit) -> None:
    heading(v.page, "Example decision letter")
    expect(v.page.get_by_role("region", name="The example letter")).to_contain_text("Sam Example")


def _clear(label: str) -> Callable[[Page], None]:
    return lambda p: p.get_by_label(label, exact=True).fill("")


C = "/t/northshire/cases/{case}"
PAGES: list[PageCase] = [
    PageCase("letter-send", "/t/northshire/cases/{fresh_case}/decision-letter", who="caseworker", check=check_send),
    PageCase("letter-send-errors", "/t/northshire/cases/{fresh_case}/decision-letter", who="caseworker", status=400,
             act=press("Preview the letter"), check=check_send_errors),
    PageCase("disagreements-case", C + "/disagreements", who="caseworker", check=check_case),
    PageCase("disagreements-choose", C + "/disagreements/new", who="caseworker", check=check_choose),
    PageCase("disagreements-choose-errors", C + "/disagreements/new", who="caseworker", status=400,
             act=press("Continue"), check=check_choose_errors),
    PageCase("disagreements-open-complaint", C + "/disagreements/new/complaint", who="caseworker",
             check=check_open_complaint),
    PageCase("disagreements-open-dr-errors", C + "/disagreements/new/dr_referral", who="caseworker", status=400,
             act=press("Save"), check=check_open_dr_errors),
    PageCase("disagreement-view", "/t/northshire/disagreements/{mediation}", who="caseworker", check=check_view),
    PageCase("disagreement-step", "/t/northshire/disagreements/{mediation}/steps/mediation_requested",
             who="caseworker", check=check_step),
    PageCase("disagreement-step-errors", "/t/northshire/disagreements/{mediation}/steps/mediation_requested",
             who="caseworker", status=400, act=press("Save"), check=check_step_errors),
    PageCase("disagreements-workbench", "/t/northshire/disagreements", who="manager", check=check_workbench),
    PageCase("disagreements-workbench-errors", "/t/northshire/disagreements?within=soon", who="manager", status=400,
             check=check_workbench_errors),
    PageCase("letter-template", "/t/northshire/letter-templates", who="manager", check=check_template),
    PageCase("letter-template-errors", "/t/northshire/letter-templates", who="manager", status=400,
             act=press("Save the template", _clear("Mediation adviser: organisation")), check=check_template_errors),
    PageCase("letter-template-example", "/t/northshire/letter-templates/example?decision=plan_content", who="manager",
             check=check_example),
]


@pytest.mark.browser
@pytest.mark.parametrize("case", PAGES, ids=[c.name for c in PAGES])
def test_disagreement_page_content_and_accessibility(case: PageCase, new_page: Callable[..., Page],
                                                     live_server: LiveServer, dispute_data: DisputeData) -> None:
    visit_page_case(case, new_page=new_page, live_server=live_server, ids=dispute_data.ids(),
                    visit=lambda page: DisputeVisit(page, live_server, dispute_data))


@pytest.mark.browser
@pytest.mark.parametrize("name", ["disagreement-view", "disagreements-workbench"])
def test_disagreement_pages_at_320_pixels_wide(name: str, new_page: Callable[..., Page], live_server: LiveServer,
                                               dispute_data: DisputeData) -> None:
    case = next(c for c in PAGES if c.name == name)
    page = new_page(case.who, viewport={"width": 320, "height": 640})
    response = page.goto(live_server.url(case.path.format(**dispute_data.ids())))
    assert response is not None and response.status == 200
    # Nothing wider than the screen but the scrollable table regions.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 320


NOT_PAGES = {
    "disagreements_api.Disagreements": "JSON API (tests/web/api/test_disagreements_api.py)",
    "disagreements_api.Disagreement": "JSON API (tests/web/api/test_disagreements_api.py)",
}
