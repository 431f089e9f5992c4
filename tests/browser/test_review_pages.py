"""Review pages and "Your reminders" in headless Chromium: what each shows, its error states,
zero axe-core violations, a screenshot each; and a first annual review walked in the browser
on a case taken to an issued plan through the API.

The cases are made for these tests through the public API (a child, a case, the statutory
journey to a final plan, dated back from today), so the demo's own cases, which other
modules' pages show, are left as seeded. The reminders come from the real maintenance
command run against the live server's database.
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

PDF = b"%PDF-1.7\n%%EOF\n"
PFA = {"Paid employment and higher education": "Work experience at the library",
       "Independent living": "Travel training to college",
       "Friends, relationships and community participation": "Youth club on Fridays",
       "Good health": "Moving to adult services"}


def _days(n: int) -> str:
    return (dt.date.today() + dt.timedelta(days=n)).isoformat()


def _long(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _journey_to_plan() -> list[dict[str, Any]]:
    """The statutory journey (request 200 days ago to final plan 60 days ago), all in time."""
    return [
        {"type": "decision_to_assess_made", "date": _days(-170), "outcome": "assess"},
        {"type": "advice_requested", "date": _days(-169), "advice": "psychological", "advice_id": "ep1"},
        {"type": "advice_received", "date": _days(-140), "advice": "psychological", "advice_id": "ep1"},
        {"type": "decision_to_issue_made", "date": _days(-120), "outcome": "issue"},
        {"type": "draft_plan_served", "date": _days(-100)},
        {"type": "final_plan_issued", "date": _days(-60)},
    ]


def make_plan_case(server: LiveServer, token: str, *, years_old: int) -> tuple[str, str]:
    """A new Northshire child and an EHC case taken to an issued plan through the API:
    returns (case id, the child's full name)."""
    family = "".join(random.choices(string.ascii_lowercase, k=9)).capitalize()
    today = dt.date.today()
    status, _, child = server.http("POST", "/api/v1/children", token=token, json_body={
        "given_name": "Review", "family_name": family, "date_of_birth": dt.date(today.year - years_old, 1, 15).isoformat()})
    assert status == 201, child
    status, _, case = server.http("POST", "/api/v1/cases", token=token, json_body={
        "child_id": child["id"], "events": [{"type": "request_received", "date": _days(-200), "requester": "parent"}]})
    assert status == 201, case
    for event in _journey_to_plan():
        status, _, body = server.http("POST", f"/api/v1/cases/{case['id']}/events", token=token, json_body=event)
        assert status == 201, body
    assert body["stage"] == "plan"
    return case["id"], f"Review {family}"


def fill_date(page: Page, legend: str, day: dt.date) -> None:
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def arrange_meeting(page: Page, server: LiveServer, case_id: str, meeting_on: dt.date) -> str:
    """Arrange a meeting through the form; returns the meeting id."""
    page.goto(server.tenant_url("northshire", f"/cases/{case_id}/reviews/new"))
    fill_date(page, "Date of the meeting", meeting_on)
    response = submit(page, "Arrange the meeting")
    assert response.status == 200
    match = re.search(r"/reviews/([0-9a-f-]{36})$", page.url)
    assert match, page.url
    return match.group(1)


def record_held_with_checklist(page: Page, server: LiveServer, meeting_id: str, held_on: dt.date) -> None:
    page.goto(server.tenant_url("northshire", f"/reviews/{meeting_id}/steps/held"))
    fill_date(page, "When was the meeting held?", held_on)
    for label, notes in PFA.items():
        page.get_by_label(label, exact=True).fill(notes)
    assert submit(page, "Save and continue").status == 200
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Hold the meeting: recorded as done")


@dataclass(frozen=True)
class ReviewData:
    #: A case (Year 9+ child) with a meeting arranged five weeks ahead.
    case: str
    meeting: str
    child_name: str
    meeting_on: dt.date
    #: A case with an issued plan and no meeting: the form to arrange one.
    fresh_case: str
    #: A meeting recorded as held (with the adulthood checklist): the decision form.
    held: str

    def ids(self) -> dict[str, str]:
        return {"case": self.case, "meeting": self.meeting, "fresh_case": self.fresh_case, "held": self.held}


@pytest.fixture(scope="session")
def review_token(live_server: LiveServer) -> str:
    return live_server.api_token("northshire", scopes="children:read children:write cases:read cases:write")


@pytest.fixture(scope="session")
def caseworker_page(browser: Browser, browser_context_args: dict[str, Any],
                    storage_states: Callable[[str], Any]) -> Iterator[Page]:
    ctx = browser.new_context(**browser_context_args, storage_state=storage_states("caseworker"))
    stray = _block_non_loopback(ctx)
    yield ctx.new_page()
    ctx.close()
    assert not stray, f"requests beyond 127.0.0.1: {stray}"


@pytest.fixture(scope="session")
def review_data(live_server: LiveServer, review_token: str, caseworker_page: Page) -> ReviewData:
    today = dt.date.today()
    case, name = make_plan_case(live_server, review_token, years_old=15)
    fresh, _ = make_plan_case(live_server, review_token, years_old=9)
    held_case, _ = make_plan_case(live_server, review_token, years_old=15)
    meeting_on = today + dt.timedelta(days=35)
    meeting = arrange_meeting(caseworker_page, live_server, case, meeting_on)
    held = arrange_meeting(caseworker_page, live_server, held_case, today - dt.timedelta(days=2))
    record_held_with_checklist(caseworker_page, live_server, held, today - dt.timedelta(days=2))
    # The reminders page needs reminders: the operators' command, as cron would run it.
    out = live_server.flask("maintenance", "run", "send-reminders")
    assert '"job": "send-reminders"' in out
    return ReviewData(case=case, meeting=meeting, child_name=name, meeting_on=meeting_on, fresh_case=fresh, held=held)


@dataclass
class ReviewVisit:
    page: Page
    server: LiveServer
    data: ReviewData


# --- acts ------------------------------------------------------------------------------



# --- checks ----------------------------------------------------------------------------


def check_case_reviews(v: ReviewVisit) -> None:
    heading(v.page, "Reviews of the EHC plan")
    expect(v.page.locator(".govuk-caption-l")).to_have_text(v.data.child_name)
    expect(v.page.locator("main")).to_contain_text("CFA 2014 s44(1)")
    expect(v.page.get_by_role("link", name=_long(v.data.meeting_on))).to_have_attribute(
        "href", f"/t/northshire/reviews/{v.data.meeting}")


def check_schedule(v: ReviewVisit) -> None:
    heading(v.page, "Arrange a review meeting")
    expect(v.page.get_by_role("group", name="Date of the meeting")).to_be_visible()


def check_schedule_errors(v: ReviewVisit) -> None:
    assert_error_summary(v.page, {"#meeting_on-day": "Enter the date of the meeting"})


def check_meeting(v: ReviewVisit) -> None:
    heading(v.page, f"Review meeting on {_long(v.data.meeting_on)}")
    steps = v.page.get_by_role("table").first
    expect(steps.locator("tbody tr")).to_have_count(5)
    notice = v.data.meeting_on - dt.timedelta(days=14)
    first = steps.locator("tbody tr").first
    expect(first).to_contain_text("Send the invitations")
    expect(first).to_contain_text(_long(notice))
    expect(first).to_contain_text("SEND Regs 2014 reg 20(3), reg 21(3)")
    expect(v.page.locator("#adulthood ~ p").first).to_contain_text("Required: this review is in Year 9 or later")
    expect(v.page.get_by_role("link", name="Go to the case")).to_have_attribute("href", f"/t/northshire/cases/{v.data.case}")


def check_invitees(v: ReviewVisit) -> None:
    heading(v.page, "Who is invited to the review meeting")
    expect(v.page.get_by_role("table").locator("tbody tr").filter(has_text="Council SEN officer")).to_have_count(1)
    expect(v.page.get_by_role("button", name="Add invitee")).to_be_visible()


def check_invitees_errors(v: ReviewVisit) -> None:
    assert_error_summary(v.page, {
        "#name": "Enter their name, or the organisation they come from",
        "#role": "Select their role at the meeting",
        "#email": "Enter an email address in the correct format, like name@example.com",
    })
    expect(v.page.get_by_label("Email address (optional)")).to_have_value("nope")


def check_invitations(v: ReviewVisit) -> None:
    heading(v.page, "Record that the invitations were sent")
    expect(v.page.get_by_role("group", name="When were the invitations sent?")).to_be_visible()


def check_invitations_errors(v: ReviewVisit) -> None:
    assert_error_summary(v.page, {"#invitations_on-day": "Date must include a month and a year"})


def check_held(v: ReviewVisit) -> None:
    heading(v.page, "Record that the meeting was held")
    for label in PFA:
        expect(v.page.get_by_label(label, exact=True)).to_be_visible()


def check_held_errors(v: ReviewVisit) -> None:
    assert_error_summary(v.page, {
        "#held_on-day": "Enter the date",
        "#employment": "Record what was discussed about paid employment and higher education",
        "#independent_living": "Record what was discussed about independent living",
        "#community_participation": "Record what was discussed about friends, relationships and community participation",
        "#health": "Record what was discussed about good health",
    })


def check_upload(v: ReviewVisit) -> None:
    heading(v.page, "Upload a paper for the review meeting")
    expect(v.page.get_by_label("Upload a file")).to_be_visible()


def check_upload_errors(v: ReviewVisit) -> None:
    assert_error_summary(v.page, {"#title": "Enter a title for the document", "#file": "Select a file"})


def check_adulthood(v: ReviewVisit) -> None:
    heading(v.page, "Preparing for adulthood")
    expect(v.page.locator("main")).to_contain_text("regulation 20(6)")


def check_adulthood_errors(v: ReviewVisit) -> None:
    assert_error_summary(v.page, {"#health": "The notes on good health must be 2000 characters or fewer"})


def check_decision_not_yet(v: ReviewVisit) -> None:
    heading(v.page, "Record the council's decision")
    expect(v.page.locator("main")).to_contain_text("Record the meeting as held first")
    expect(v.page.locator("main form")).to_have_count(0)


def check_decision(v: ReviewVisit) -> None:
    heading(v.page, "Record the council's decision")
    expect(v.page.get_by_role("group", name="What did the council decide?").get_by_role("radio")).to_have_count(3)


def check_decision_errors(v: ReviewVisit) -> None:
    assert_error_summary(v.page, {"#outcome": "Select what the council decided",
                                  "#notice": "Select yes if the letter or notice went to the family with the decision",
                                  "#decision_on-day": "Enter the date"})


def check_reminders(v: ReviewVisit) -> None:
    heading(v.page, "Your reminders")
    expect(v.page.get_by_role("status")).to_contain_text(re.compile(r"^\d+ unread reminders?$"))
    links = v.page.get_by_role("table").locator("tbody a")
    expect(links.first).to_have_attribute("href", re.compile(r"^/t/northshire/cases/[0-9a-f-]{36}$"))


M = "/t/northshire/reviews/{meeting}"
PAGES: list[PageCase] = [
    PageCase("review-case", "/t/northshire/cases/{case}/reviews", who="caseworker", check=check_case_reviews),
    PageCase("review-schedule", "/t/northshire/cases/{fresh_case}/reviews/new", who="caseworker",
             check=check_schedule),
    PageCase("review-schedule-errors", "/t/northshire/cases/{fresh_case}/reviews/new", who="caseworker", status=400,
             act=press("Arrange the meeting"), check=check_schedule_errors),
    PageCase("review-meeting", M, who="caseworker", check=check_meeting),
    PageCase("review-invitees", M + "/invitees", who="caseworker", check=check_invitees),
    PageCase("review-invitees-errors", M + "/invitees", who="caseworker", status=400,
             act=press("Add invitee", lambda p: p.get_by_label("Email address (optional)").fill("nope")),
             check=check_invitees_errors),
    PageCase("review-invitations", M + "/steps/invitations", who="caseworker", check=check_invitations),
    PageCase("review-invitations-errors", M + "/steps/invitations", who="caseworker", status=400,
             act=press("Save and continue", lambda p: p.get_by_label("Day").fill("1")), check=check_invitations_errors),
    PageCase("review-held", M + "/steps/held", who="caseworker", check=check_held),
    PageCase("review-held-errors", M + "/steps/held", who="caseworker", status=400, act=press("Save and continue"),
             check=check_held_errors),
    PageCase("review-upload", M + "/documents?kind=review_paper", who="caseworker", check=check_upload),
    PageCase("review-upload-errors", M + "/documents?kind=review_paper", who="caseworker", status=400,
             act=press("Upload"), check=check_upload_errors),
    PageCase("review-adulthood", M + "/adulthood", who="caseworker", check=check_adulthood),
    PageCase("review-adulthood-errors", M + "/adulthood", who="caseworker", status=400,
             act=press("Save checklist", lambda p: p.get_by_label("Good health", exact=True).fill("x" * 2001)),
             check=check_adulthood_errors),
    PageCase("review-decision-not-yet", M + "/decision", who="caseworker", check=check_decision_not_yet),
    PageCase("review-decision", "/t/northshire/reviews/{held}/decision", who="caseworker", check=check_decision),
    PageCase("review-decision-errors", "/t/northshire/reviews/{held}/decision", who="caseworker", status=400,
             act=press("Record the decision"), check=check_decision_errors),
    PageCase("reminders", "/t/northshire/reminders", who="caseworker", check=check_reminders),
]


@pytest.mark.browser
@pytest.mark.parametrize("case", PAGES, ids=[c.name for c in PAGES])
def test_review_page_content_and_accessibility(case: PageCase, new_page: Callable[..., Page], live_server: LiveServer,
                                               review_data: ReviewData) -> None:
    visit_page_case(case, new_page=new_page, live_server=live_server, ids=review_data.ids(),
                    visit=lambda page: ReviewVisit(page, live_server, review_data))


@pytest.mark.browser
@pytest.mark.parametrize("name", ["review-meeting", "review-invitees", "reminders"])
def test_review_pages_at_320_pixels_wide(name: str, new_page: Callable[..., Page], live_server: LiveServer,
                                         review_data: ReviewData) -> None:
    case = next(c for c in PAGES if c.name == name)
    page = new_page(case.who, viewport={"width": 320, "height": 640})
    response = page.goto(live_server.url(case.path.format(**review_data.ids())))
    assert response is not None and response.status == 200
    # Nothing but a table region may be wider than the screen (WCAG 2.2 1.4.10 reflow).
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 320
    check_page(page, f"{name}-narrow")


# ---------------------------------------------------------------------------------------
# A first annual review, walked in the browser


@pytest.mark.browser
def test_caseworker_walks_a_first_annual_review_to_an_amendment(new_page: Callable[..., Page], live_server: LiveServer,
                                                                review_token: str) -> None:
    today = dt.date.today()
    case_id, name = make_plan_case(live_server, review_token, years_old=15)
    page = new_page("caseworker")
    page.goto(live_server.tenant_url("northshire", f"/cases/{case_id}/reviews"))
    heading(page, "Reviews of the EHC plan")
    with page.expect_event("load"):
        page.get_by_role("button", name="Arrange a review meeting").click()
    meeting_on = today - dt.timedelta(days=1)
    fill_date(page, "Date of the meeting", meeting_on)
    submit(page, "Arrange the meeting")
    heading(page, f"Review meeting on {_long(meeting_on)}")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Check who is invited")
    meeting_url = page.url

    # Name the parent the platform suggested (the new child has no contacts yet).
    with page.expect_event("load"):
        page.get_by_role("link", name="Add, change or remove invitees").click()
    with page.expect_event("load"):
        page.get_by_role("link", name="Change Parent").click()
    page.get_by_label("Name").fill("Pat Parent")
    page.get_by_label("Email address (optional)").fill("pat@example.com")
    submit(page, "Save changes")
    expect(page.get_by_role("table")).to_contain_text("Pat Parent")

    def step(link: str, legend: str, day: dt.date) -> None:
        page.goto(meeting_url)
        with page.expect_event("load"):
            page.get_by_role("link", name=link).click()
        fill_date(page, legend, day)
        assert submit(page, "Save and continue").status == 200
        expect(page.locator(".govuk-notification-banner")).to_contain_text("recorded as done")

    def upload(link: str, title: str) -> None:
        page.goto(meeting_url)
        with page.expect_event("load"):
            page.get_by_role("link", name=link).click()
        page.get_by_label("Title").fill(title)
        page.get_by_label("Upload a file").set_input_files({"name": "doc.pdf", "mimeType": "application/pdf",
                                                            "buffer": PDF})
        assert submit(page, "Upload").status == 200
        expect(page.locator(".govuk-notification-banner")).to_contain_text(f"‘{title}’ has been uploaded")

    step("Record this step: send the invitations", "When were the invitations sent?", today - dt.timedelta(days=20))
    upload("Upload a paper", "Educational psychology advice")
    step("Record this step: send the advice and information",
         "When was the advice and information sent to everyone invited?", today - dt.timedelta(days=16))
    # Year 9 or later: the meeting is held only with the preparing-for-adulthood checklist.
    record_held_with_checklist(page, live_server, meeting_url.rsplit("/", 1)[-1], meeting_on)
    upload("Upload the report", "Annual review report")
    step("Record this step: send the report", "When was the report sent to the council and everyone invited?", today)

    page.goto(meeting_url)
    with page.expect_event("load"):
        page.get_by_role("link", name="Record the decision").click()
    page.get_by_role("radio", name="Change (amend) the plan").check()
    page.get_by_role("group", name="Did the letter or notice go to the family with the decision?").get_by_label(
        "Yes").check()
    fill_date(page, "When was the decision sent to the family?", today)
    submit(page, "Record the decision")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Decision recorded: change (amend) the plan")

    # Every clock of the meeting was met; what follows is on the page with its citation.
    steps = page.get_by_role("table").first.locator("tbody tr")
    for row in (0, 1, 3, 4):
        expect(steps.nth(row)).to_contain_text("Done in time")
    expect(page.locator("main")).to_contain_text("The amendment notice went with the decision")
    follow = page.get_by_role("table", name="Deadlines that follow")
    expect(follow).to_contain_text("The council must issue the amended EHC plan")
    expect(follow).to_contain_text(_long(today + dt.timedelta(weeks=8)))
    expect(follow).to_contain_text("SEND Regs 2014 reg 22(3)")
    check_page(page, "journey-first-annual-review")
    expect(page.locator(".govuk-caption-l")).to_contain_text(name)
