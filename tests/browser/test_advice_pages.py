"""The professionals' portal in headless Chromium, as the demo's Dr Ravi Menon (Northshire),
and what their advice looks like when it reaches the council: every page, its error state,
zero axe-core violations, a screenshot each; and the professional's journey (sign in, see the
request and when it is due, send advice with a report, see the request leave the inbox).

The demo asks Dr Menon for the medical advice still awaited on demo child 1's case (``med-1``);
these tests leave that request as seeded, so other areas' pages still show it. The requests
they answer are made here, as the council would: a child and a case with two advice requests
through the public API, and Dr Menon invited for the whole case on the caseworker's own page.
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
from playwright.sync_api import Browser, Page, Response, expect

from tenants import demo as _demo
from tests.browser.conftest import (
    USERS, PageCase, _block_non_loopback, assert_error_summary, check_page, heading, sign_in, submit, visit_page_case,
)
from tests.live_server import LiveServer

N = "/t/northshire"
A = N + "/portal/advice"
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n"
DOCTOR = USERS["professional"][1]
DOCTOR_EMAIL = next(email for role, (_n, email) in _demo.portal_people(_demo.COUNCILS[0]).items()
                    if role == "professional")


def _today() -> dt.date:
    """Today as the app counts it (core.clock: England)."""
    return dt.datetime.now(ZoneInfo("Europe/London")).date()


def _days(n: int) -> str:
    return (_today() + dt.timedelta(days=n)).isoformat()


def _weekday(day: dt.date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


# ---------------------------------------------------------------------------------------
# Data


@dataclass(frozen=True)
class AdviceData:
    #: The demo's case of child 1, whose medical advice ``med-1`` Dr Menon is asked for.
    demo_case: str
    demo_child_name: str
    demo_due: dt.date
    #: A case made here, with Dr Menon invited for the whole case: medical advice ``med-2``
    #: (answered through the portal below, ``submission``) and social care advice ``sc-2``.
    case: str
    child_name: str
    submission: str

    def ids(self) -> dict[str, str]:
        return {"demo_case": self.demo_case, "case": self.case, "submission": self.submission}


def _api(server: LiveServer, token: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    status, _, data = server.http(method, path, token=token, json_body=body)
    assert status in (200, 201), data
    return data


def _demo_advice_case(server: LiveServer, token: str) -> tuple[str, str, dt.date]:
    """The demo case awaiting ``med-1`` (tenants/demo.py ADVICE_ID), its child's name and the
    advice's last day (reg 8(1))."""
    cursor = ""
    while True:
        page = _api(server, token, "GET", f"/api/v1/cases?limit=200{cursor}")
        for case in page["items"]:
            ids = {(e["type"], e.get("advice_id")) for e in case["events"]}
            if ("advice_requested", "med-1") in ids and ("advice_received", "med-1") not in ids:
                clock = next(d for d in case["deadlines"] if d["key"] == "advice_returned" and d.get("ref") == "med-1")
                child = _api(server, token, "GET", f"/api/v1/children/{case['child_id']}")
                due = dt.date.fromisoformat(clock.get("last_compliant_day") or clock["due"])
                return case["id"], f"{child['given_name']} {child['family_name']}", due
        if not page.get("next_cursor"):
            raise AssertionError("the demo's case awaiting med-1 was not found")
        cursor = f"&cursor={page['next_cursor']}"


def make_assessing_case(server: LiveServer, token: str, given: str) -> tuple[str, str]:
    """A new child whose case is being assessed, with medical (``med-2``) and social care
    (``sc-2``) advice asked for 10 days ago: (case id, child's full name)."""
    family = "".join(random.choices(string.ascii_lowercase, k=8)).capitalize()
    child = _api(server, token, "POST", "/api/v1/children", {
        "given_name": given, "family_name": family, "date_of_birth": dt.date(_today().year - 7, 5, 17).isoformat()})
    case = _api(server, token, "POST", "/api/v1/cases", {"child_id": child["id"], "events": [
        {"type": "request_received", "date": _days(-40), "requester": "setting"}]})
    for event in ({"type": "decision_to_assess_made", "date": _days(-20), "outcome": "assess"},
                  {"type": "advice_requested", "date": _days(-10), "advice": "medical", "advice_id": "med-2"},
                  {"type": "advice_requested", "date": _days(-10), "advice": "social_care", "advice_id": "sc-2"}):
        _api(server, token, "POST", f"/api/v1/cases/{case['id']}/events", event)
    return case["id"], f"{given} {family}"


def confirm_if_asked(page: Page) -> None:
    """Giving or taking away access needs a sign-in from the last 15 minutes: a caseworker
    whose demo session is older is asked to confirm it is them (a button, in the demo)."""
    if page.locator("h1").first.inner_text().strip() == "Confirm it is you":
        with page.expect_event("load"):
            page.get_by_role("button", name="Confirm").click()


def invite_doctor_for_the_case(page: Page, server: LiveServer, case_id: str) -> None:
    """The caseworker invites Dr Menon for the whole case, on the case's own page."""
    page.goto(server.url(f"{N}/cases/{case_id}/access/professional"))
    confirm_if_asked(page)
    heading(page, "Invite a professional")
    page.get_by_role("radio", name="The whole case").check()
    page.get_by_label("Their email address").fill(DOCTOR_EMAIL)
    assert submit(page, "Send invitation").status == 200
    expect(page.locator(".govuk-notification-banner")).to_contain_text(f"Invitation sent to {DOCTOR_EMAIL}")


def send_advice(page: Page, *, report: bool = True) -> Response:
    """On the advice form: fill it in, attach a report, send."""
    page.get_by_label("Summary of needs").fill("Asthma, well controlled with an inhaler.")
    page.get_by_label("Provision recommended").fill("Staff trained to help with the inhaler.\nA care plan.")
    page.get_by_label("Outcomes").fill("Takes part in PE and trips safely.")
    if report:
        page.get_by_label("Upload your report (optional)").set_input_files(
            {"name": "clinic letter.pdf", "mimeType": "application/pdf", "buffer": PDF})
    return submit(page, "Send advice")


@pytest.fixture(scope="session")
def advice_data(live_server: LiveServer, browser: Browser, browser_context_args: dict[str, Any],
                storage_states: Callable[[str], Any]) -> AdviceData:
    token = live_server.api_token("northshire", scopes="children:read children:write cases:read cases:write")
    demo_case, demo_child_name, demo_due = _demo_advice_case(live_server, token)
    case, child_name = make_assessing_case(live_server, token, "Advised")
    staff = browser.new_context(**browser_context_args, storage_state=storage_states("caseworker"))
    doctor = browser.new_context(**browser_context_args)
    strays = [_block_non_loopback(staff), _block_non_loopback(doctor)]
    try:
        staff_page = staff.new_page()
        invite_doctor_for_the_case(staff_page, live_server, case)
        page = doctor.new_page()
        sign_in(page, live_server, "northshire", DOCTOR)  # takes up the invitation sent to their address
        page.goto(live_server.url(f"{A}/cases/{case}/requests/med-2"))
        assert send_advice(page).status == 200
        heading(page, "Advice sent")
        staff_page.goto(live_server.url(f"{N}/cases/{case}/submissions"))
        href = staff_page.locator("#submissions tbody a").first.get_attribute("href") or ""
        match = re.search(r"/submissions/([0-9a-f-]{36})$", href)
        assert match, href
    finally:
        staff.close()
        doctor.close()
    assert not [u for s in strays for u in s], f"requests beyond 127.0.0.1: {strays}"
    return AdviceData(demo_case=demo_case, demo_child_name=demo_child_name, demo_due=demo_due, case=case,
                      child_name=child_name, submission=match.group(1))


@dataclass
class AdviceVisit:
    page: Page
    server: LiveServer
    data: AdviceData


def press(button: str) -> Callable[[AdviceVisit], Response]:
    return lambda v: submit(v.page, button)


# --- checks ----------------------------------------------------------------------------


def check_inbox(v: AdviceVisit) -> None:
    heading(v.page, "Advice requests")
    row = v.page.locator("tr[data-advice-id=med-1]")
    expect(row).to_contain_text(v.data.demo_child_name)
    expect(row).to_contain_text("Medical advice")
    expect(row).to_contain_text(_weekday(v.data.demo_due))
    expect(row.get_by_role("link", name=re.compile(r"^Send advice for "))).to_have_attribute(
        "href", f"{A}/cases/{v.data.demo_case}/requests/med-1")
    expect(v.page.locator("main")).to_contain_text("regulation 8(1)")


def check_form(v: AdviceVisit) -> None:
    heading(v.page, "Send medical advice")
    expect(v.page.locator(".govuk-caption-l")).to_have_text(v.data.demo_child_name)
    summary = v.page.locator(".govuk-summary-list")
    expect(summary).to_contain_text("Medical advice (reference med-1)")
    expect(summary).to_contain_text(_weekday(v.data.demo_due))
    expect(summary).to_contain_text("SEND Regs 2014 reg 8(1)")
    expect(v.page.get_by_label("Upload your report (optional)")).to_have_attribute("type", "file")


def check_form_errors(v: AdviceVisit) -> None:
    assert_error_summary(v.page, {
        "#summary": "Enter the child's or young person's needs",
        "#provision": "Enter the provision you recommend",
        "#outcomes": "Enter the outcomes the provision should help them achieve",
    })


def check_answered(v: AdviceVisit) -> None:
    heading(v.page, "This advice has been received")
    expect(v.page.locator("main")).to_contain_text("There is nothing more to send for this request")
    expect(v.page.get_by_role("heading", name="What you sent")).to_be_visible()
    expect(v.page.locator("main")).to_contain_text("clinic letter.pdf")


def check_submissions(v: AdviceVisit) -> None:
    heading(v.page, "Sent in through the portal")
    row = v.page.locator("#submissions tbody tr").first
    expect(row).to_contain_text("Medical advice (reference med-2)")
    expect(row).to_contain_text(DOCTOR)


def check_submission(v: AdviceVisit) -> None:
    heading(v.page, "Medical advice (reference med-2)")
    main = v.page.locator("main")
    expect(main).to_contain_text("Asthma, well controlled with an inhaler.")
    expect(v.page.get_by_role("link", name="Advice received")).to_have_attribute(
        "href", re.compile(rf"/cases/{v.data.case}#event-[0-9a-f-]{{36}}$"))
    expect(v.page.get_by_role("link", name=re.compile(r"^Medical advice"))).to_have_attribute(
        "href", re.compile(r"/documents/[0-9a-f-]{36}$"))


PAGES: list[PageCase] = [
    PageCase("advice-inbox", A + "/", who="professional", check=check_inbox),
    PageCase("advice-form", A + "/cases/{demo_case}/requests/med-1", who="professional", check=check_form),
    PageCase("advice-form-errors", A + "/cases/{demo_case}/requests/med-1", who="professional", status=400,
             act=press("Send advice"), check=check_form_errors),
    PageCase("advice-answered", A + "/cases/{case}/requests/med-2", who="professional", check=check_answered),
    PageCase("advice-submissions", N + "/cases/{case}/submissions", who="caseworker", check=check_submissions),
    PageCase("advice-submission", N + "/cases/{case}/submissions/{submission}", who="caseworker",
             check=check_submission),
]


@pytest.mark.browser
@pytest.mark.parametrize("case", PAGES, ids=[c.name for c in PAGES])
def test_advice_page_content_and_accessibility(case: PageCase, new_page: Callable[..., Page], live_server: LiveServer,
                                               advice_data: AdviceData) -> None:
    visit_page_case(case, new_page=new_page, live_server=live_server, ids=advice_data.ids(),
                    visit=lambda page: AdviceVisit(page, live_server, advice_data))


@pytest.mark.browser
def test_the_inbox_at_320_pixels_wide(new_page: Callable[..., Page], live_server: LiveServer,
                                      advice_data: AdviceData) -> None:
    page = new_page("professional", viewport={"width": 320, "height": 640})
    page.goto(live_server.url(A + "/"))
    heading(page, "Advice requests")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 320
    check_page(page, "advice-inbox-narrow")


# ---------------------------------------------------------------------------------------
# The journey


@pytest.mark.browser
def test_a_professional_sends_advice_with_a_report_and_the_request_leaves_their_inbox(
        new_page: Callable[..., Page], live_server: LiveServer, advice_data: AdviceData) -> None:
    token = live_server.api_token("northshire", scopes="children:read children:write cases:write")
    case, child_name = make_assessing_case(live_server, token, "Journey")
    due = _today() + dt.timedelta(days=-10 + 42)  # SEND Regulations 2014 reg 8(1): 6 weeks from the request
    invite_doctor_for_the_case(new_page("caseworker"), live_server, case)

    # Dr Menon signs in (the demo's sign-in stands in for the e-mail link) and finds the request.
    page = new_page()
    sign_in(page, live_server, "northshire", DOCTOR)
    page.get_by_role("link", name="Advice you have been asked for, and when it is due").click()
    heading(page, "Advice requests")
    row = page.locator("tr", has=page.get_by_role("link", name=f"Send advice for {child_name} (medical advice)"))
    expect(row).to_contain_text("Born 17 May")
    expect(row).to_contain_text(_weekday(due))
    expect(row.locator(".govuk-tag")).to_have_text("Open")  # more than a week to go
    expect(page.locator("tr[data-advice-id=med-1]")).to_contain_text(advice_data.demo_child_name)

    # The form says what is asked and when; they send it with a report.
    with page.expect_event("load"):
        row.get_by_role("link", name=re.compile("^Send advice")).click()
    heading(page, "Send medical advice")
    expect(page.locator(".govuk-summary-list")).to_contain_text(child_name)
    response = send_advice(page)
    assert response.status == 200
    expect(page.locator(".govuk-panel")).to_contain_text("Advice sent")
    expect(page.locator("main")).to_contain_text("Your access to this request has now ended.")
    expect(page.locator("main")).to_contain_text("clinic letter.pdf")
    check_page(page, "advice-journey-sent")

    # Back in the inbox: the request has gone; the other on the case, and the demo's, remain.
    with page.expect_event("load"):
        page.get_by_role("link", name="Back to your advice requests").click()
    expect(page.get_by_role("link", name=f"Send advice for {child_name} (medical advice)")).to_have_count(0)
    expect(page.get_by_role("link", name=f"Send advice for {child_name} (social care advice)")).to_have_count(1)
    expect(page.locator("tr[data-advice-id=med-1]")).to_have_count(1)
    expect(page.get_by_role("link", name=f"Your medical advice for {child_name}")).to_have_count(1)
    check_page(page, "advice-journey-inbox-after")

    # The council: the advice is on the case, received today, waiting to be dealt with.
    staff = new_page("caseworker")
    staff.goto(live_server.url(f"{N}/cases/{case}"))
    expect(staff.locator("main")).to_contain_text("1 new")
    with staff.expect_event("load"):
        staff.get_by_role("link", name="Sent in through the portal").click()
    with staff.expect_event("load"):
        staff.get_by_role("link", name="Medical advice (reference med-2)").click()
    expect(staff.locator("main")).to_contain_text(DOCTOR)
    assert submit(staff, "Mark as dealt with").status == 200
    expect(staff.locator(".govuk-notification-banner")).to_contain_text("marked as dealt with")
    expect(staff.locator("#submissions tbody tr").first).to_contain_text("Dealt with")
