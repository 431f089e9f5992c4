"""The SENCO portal in headless Chromium, as the demo's SENCO Ruth Adeyemi of Oakfield Primary
School (URN 991002) in Northshire: every page, its error states, zero axe-core violations, a
screenshot each; and a SENCO's day walked in the browser (pupils and deadlines, a request for
an assessment with evidence, educational advice the council asked for, review papers).

The demo has no Oakfield pupil without a case, no open request for educational advice and no
review meeting at Oakfield, so the pupils these tests need are made here, as the council would
make them: children and cases through the public API, the placement at Oakfield and the review
meetings through the caseworker's own pages. The demo's records are left as seeded.
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

OAKFIELD = 991002
PDF = b"%PDF-1.7\n%%EOF\n"
N = "/t/northshire"
S = N + "/portal/school"


def _days(n: int) -> str:
    return (dt.date.today() + dt.timedelta(days=n)).isoformat()


def _long(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def fill_date(page: Page, legend: str, day: dt.date) -> None:
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


# ---------------------------------------------------------------------------------------
# Making the pupils (as the council would)


class Council:
    """Northshire's side: its API (a supplier's system) and a caseworker's browser page."""

    def __init__(self, server: LiveServer, token: str, page: Page) -> None:
        self.server, self.token, self.page = server, token, page

    def api(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        status, _, data = self.server.http(method, path, token=self.token, json_body=body)
        assert status == 201, data
        return data

    def pupil(self, given: str) -> tuple[str, str]:
        """A new child on roll at Oakfield since last September: (child id, full name)."""
        family = "".join(random.choices(string.ascii_lowercase, k=8)).capitalize()
        today = dt.date.today()
        child = self.api("POST", "/api/v1/children", {
            "given_name": given, "family_name": family, "date_of_birth": dt.date(today.year - 8, 3, 3).isoformat()})
        page = self.page
        page.goto(self.server.url(f"{N}/children/{child['id']}/placements/new"))
        page.get_by_label("Unique reference number (URN)").fill(str(OAKFIELD))
        fill_date(page, "When did they start there?", dt.date(today.year - 2, 9, 1))
        assert submit(page, "Add").status == 200
        expect(page.locator(".govuk-notification-banner")).to_contain_text("Oakfield Primary School has been added")
        return child["id"], f"{given} {family}"

    def case(self, child_id: str, events: list[dict[str, Any]]) -> str:
        case = self.api("POST", "/api/v1/cases", {"child_id": child_id, "events": events[:1]})
        for event in events[1:]:
            self.api("POST", f"/api/v1/cases/{case['id']}/events", event)
        return str(case["id"])

    def plan(self, child_id: str) -> str:
        """A case taken through the statutory journey to an issued plan, all in time."""
        return self.case(child_id, [
            {"type": "request_received", "date": _days(-200), "requester": "parent"},
            {"type": "decision_to_assess_made", "date": _days(-170), "outcome": "assess"},
            {"type": "advice_requested", "date": _days(-169), "advice": "educational", "advice_id": "edu-1"},
            {"type": "advice_received", "date": _days(-140), "advice": "educational", "advice_id": "edu-1"},
            {"type": "decision_to_issue_made", "date": _days(-120), "outcome": "issue"},
            {"type": "draft_plan_served", "date": _days(-100)},
            {"type": "final_plan_issued", "date": _days(-60)},
        ])

    def meeting(self, case_id: str, meeting_on: dt.date, *, held: bool = False) -> str:
        page = self.page
        page.goto(self.server.url(f"{N}/cases/{case_id}/reviews/new"))
        fill_date(page, "Date of the meeting", meeting_on)
        assert submit(page, "Arrange the meeting").status == 200
        match = re.search(r"/reviews/([0-9a-f-]{36})$", page.url)
        assert match, page.url
        if held:
            page.goto(self.server.url(f"{N}/reviews/{match.group(1)}/steps/held"))
            fill_date(page, "When was the meeting held?", meeting_on)
            assert submit(page, "Save and continue").status == 200
            expect(page.locator(".govuk-notification-banner")).to_contain_text("recorded as done")
        return match.group(1)


def assessing_events() -> list[dict[str, Any]]:
    """A school's request, the decision to assess, and the council asking the school for advice."""
    return [
        {"type": "request_received", "date": _days(-30), "requester": "setting"},
        {"type": "decision_to_assess_made", "date": _days(-10), "outcome": "assess"},
        {"type": "advice_requested", "date": _days(-9), "advice": "educational", "advice_id": "edu-1"},
    ]


@dataclass(frozen=True)
class SchoolData:
    #: A pupil with no case (the request form), and their name.
    fresh: str
    fresh_name: str
    #: A pupil whose case waits for the school's educational advice.
    assessing: str
    advice_case: str
    #: A meeting arranged five weeks ahead, with no papers yet.
    meeting: str
    #: A meeting with a paper added, not yet recorded as sent.
    papers_meeting: str
    #: A meeting held two days ago: the report form.
    held: str

    def ids(self) -> dict[str, str]:
        return {k: getattr(self, k) for k in ("fresh", "assessing", "advice_case", "meeting", "papers_meeting", "held")}


@pytest.fixture(scope="session")
def school_token(live_server: LiveServer) -> str:
    return live_server.api_token("northshire", scopes="children:read children:write cases:read cases:write")


@pytest.fixture(scope="session")
def council(browser: Browser, browser_context_args: dict[str, Any], storage_states: Callable[[str], Any],
            live_server: LiveServer, school_token: str) -> Iterator[Council]:
    ctx = browser.new_context(**browser_context_args, storage_state=storage_states("caseworker"))
    stray = _block_non_loopback(ctx)
    yield Council(live_server, school_token, ctx.new_page())
    ctx.close()
    assert not stray, f"requests beyond 127.0.0.1: {stray}"


def add_paper(page: Page, server: LiveServer, meeting: str, title: str) -> None:
    page.goto(server.url(f"{S}/reviews/{meeting}/papers"))
    page.get_by_label("Title").fill(title)
    page.get_by_label("Upload a file").set_input_files({"name": "paper.pdf", "mimeType": "application/pdf",
                                                        "buffer": PDF})
    assert submit(page, "Add paper").status == 200
    expect(page.locator(".govuk-notification-banner")).to_contain_text(f"‘{title}’ has been added")


@pytest.fixture(scope="session")
def school_data(council: Council, live_server: LiveServer, browser: Browser, browser_context_args: dict[str, Any],
                storage_states: Callable[[str], Any]) -> SchoolData:
    today = dt.date.today()
    fresh, fresh_name = council.pupil("Fresh")
    assessing, _ = council.pupil("Assessing")
    advice_case = council.case(assessing, assessing_events())
    meeting = council.meeting(council.plan(council.pupil("Review")[0]), today + dt.timedelta(days=35))
    papers_meeting = council.meeting(council.plan(council.pupil("Papers")[0]), today + dt.timedelta(days=35))
    held = council.meeting(council.plan(council.pupil("Held")[0]), today - dt.timedelta(days=2), held=True)
    ctx = browser.new_context(**browser_context_args, storage_state=storage_states("senco"))
    try:
        add_paper(ctx.new_page(), live_server, papers_meeting, "Class teacher's report")
    finally:
        ctx.close()
    return SchoolData(fresh=fresh, fresh_name=fresh_name, assessing=assessing, advice_case=advice_case,
                      meeting=meeting, papers_meeting=papers_meeting, held=held)


@dataclass
class SchoolVisit:
    page: Page
    server: LiveServer
    data: SchoolData



# --- checks ----------------------------------------------------------------------------


def check_pupils(v: SchoolVisit) -> None:
    heading(v.page, "Your pupils")
    table = v.page.get_by_role("table")
    expect(table.get_by_role("link", name=v.data.fresh_name)).to_have_attribute("href", f"{S}/pupils/{v.data.fresh}")
    # The demo's own Oakfield pupils are there too, with their cases' stages.
    expect(table.locator("tbody tr").filter(has_text="Request received").first).to_be_visible()
    expect(v.page.get_by_role("link", name="See all your pupils' deadlines")).to_have_attribute("href", f"{S}/deadlines")


def check_deadlines(v: SchoolVisit) -> None:
    heading(v.page, "Your pupils' deadlines")
    expect(v.page.get_by_role("radio", name="All open deadlines")).to_be_checked()
    rows = v.page.get_by_role("table").locator("tbody tr")
    expect(rows.first).to_be_visible()
    dates = [dt.datetime.strptime(t.strip(), "%d %B %Y").date() for t in rows.locator("td:first-child").all_inner_texts()]
    assert dates == sorted(dates)


def check_overdue(v: SchoolVisit) -> None:
    heading(v.page, "Your pupils' deadlines")
    expect(v.page.get_by_role("radio", name="Overdue")).to_be_checked()
    tags = v.page.get_by_role("table").locator("tbody tr td:last-child")
    # The demo has overdue Oakfield cases (a request with no decision after seven weeks, reg 5(1)).
    expect(tags.first).to_have_text("Overdue")
    for text in tags.all_inner_texts():
        assert text.strip() == "Overdue"


def check_deadlines_error(v: SchoolVisit) -> None:
    expect(v.page.locator(".govuk-error-summary")).to_contain_text("Select which deadlines to show")
    expect(v.page).to_have_title(re.compile(r"^Error: "))
    expect(v.page.locator(".govuk-error-summary a")).to_have_attribute("href", "#due")
    expect(v.page.locator("#due")).to_have_count(1)


def check_pupil(v: SchoolVisit) -> None:
    heading(v.page, v.data.fresh_name)
    expect(v.page.locator(".govuk-caption-l")).to_have_text("Pupil at Oakfield Primary School")
    expect(v.page.get_by_role("button", name="Request an EHC needs assessment")).to_have_attribute(
        "href", f"{S}/pupils/{v.data.fresh}/request-assessment")


def check_assessing_pupil(v: SchoolVisit) -> None:
    expect(v.page.locator("main")).to_contain_text("Assessing needs")
    table = v.page.locator("#deadlines")
    expect(table).to_contain_text("Advice the council asked for must reach the council")
    expect(table).to_contain_text("SEND Regs 2014 reg 8(1)")
    expect(v.page.get_by_role("button", name="Send educational advice")).to_have_attribute(
        "href", f"{S}/cases/{v.data.advice_case}/advice")


def check_request(v: SchoolVisit) -> None:
    heading(v.page, "Request an EHC needs assessment")
    expect(v.page.get_by_role("group", name="Areas of need").get_by_role("checkbox")).to_have_count(4)
    expect(v.page.get_by_label("Upload evidence")).to_have_attribute("multiple", "")
    expect(v.page.locator("main")).to_contain_text("section 36(1)")


def check_request_errors(v: SchoolVisit) -> None:
    assert_error_summary(v.page, {
        "#areas": "Select at least one area of need",
        "#needs": "Enter the pupil's special educational needs",
        "#support": "Enter the SEN support the school has put in place",
        "#cycles": "Enter how the support has been assessed, planned, done and reviewed",
        "#outcomes": "Enter the progress the pupil has made and the outcomes of the support",
        "#specialists": "Enter the specialists involved, or say that none have been",
        "#views": "Enter the views of the child and their parents, or of the young person",
        "#evidence": "Upload at least one piece of evidence, such as the pupil's SEN support plan",
        "#parent_informed": "Confirm that the child's parent, or the young person, knows the school is asking for "
                            "this assessment",
    })


def check_request_open_case(v: SchoolVisit) -> None:
    heading(v.page, "Request an EHC needs assessment")
    expect(v.page.locator(".govuk-inset-text")).to_contain_text("already has an open EHC needs assessment or plan")
    expect(v.page.locator("main form")).to_have_count(0)


def check_advice(v: SchoolVisit) -> None:
    heading(v.page, "Send educational advice")
    expect(v.page.get_by_role("table")).to_contain_text("edu-1")
    expect(v.page.get_by_role("table")).to_contain_text(_long(dt.date.today() + dt.timedelta(days=-9 + 42)))
    expect(v.page.get_by_label("Attach a document (optional)")).to_be_visible()


def check_advice_errors(v: SchoolVisit) -> None:
    assert_error_summary(v.page, {
        "#needs": "Enter the pupil's special educational needs",
        "#provision": "Enter the special educational provision they need",
        "#outcomes": "Enter the outcomes the provision should help them achieve",
    })


def check_review(v: SchoolVisit) -> None:
    meeting_on = dt.date.today() + dt.timedelta(days=35)
    heading(v.page, f"Annual review meeting on {_long(meeting_on)}")
    steps = v.page.get_by_role("table").locator("tbody tr")
    expect(steps).to_have_count(5)
    papers = steps.filter(has_text="Send the advice and information")
    expect(papers).to_contain_text(_long(meeting_on - dt.timedelta(days=14)))
    expect(papers).to_contain_text("SEND Regs 2014 reg 20(4), reg 21(4)")
    expect(papers.get_by_role("link", name="Add papers")).to_have_attribute("href", f"{S}/reviews/{v.data.meeting}/papers")


def check_papers(v: SchoolVisit) -> None:
    heading(v.page, "Papers for the review meeting")
    expect(v.page.locator("main")).to_contain_text("regulation 20(4)")
    expect(v.page.get_by_label("Upload a file")).to_be_visible()


def check_papers_errors(v: SchoolVisit) -> None:
    assert_error_summary(v.page, {"#title": "Enter a title for the paper", "#file": "Select a file"})


def check_papers_sent_first(v: SchoolVisit) -> None:
    heading(v.page, "Record that you sent the papers")
    expect(v.page.locator("main")).to_contain_text("Add the papers you sent first")
    expect(v.page.locator("main form")).to_have_count(0)


def check_papers_sent(v: SchoolVisit) -> None:
    heading(v.page, "Record that you sent the papers")
    expect(v.page.get_by_role("group", name="When did you send the papers to everyone invited?")).to_be_visible()


def check_papers_sent_errors(v: SchoolVisit) -> None:
    assert_error_summary(v.page, {"#sent_on-day": "Date must include a month and a year"})


def check_report_waiting(v: SchoolVisit) -> None:
    heading(v.page, "Send the annual review report")
    expect(v.page.locator("main")).to_contain_text("the meeting is not yet recorded as held")
    expect(v.page.locator("main form")).to_have_count(0)


def check_report(v: SchoolVisit) -> None:
    heading(v.page, "Send the annual review report")
    expect(v.page.get_by_role("group", name="What does the meeting recommend?").get_by_role("radio")).to_have_count(3)
    expect(v.page.locator("main")).to_contain_text("regulation 20(7) and (8)")


def check_report_errors(v: SchoolVisit) -> None:
    assert_error_summary(v.page, {
        "#views": "Enter the views of the child and their parents, or of the young person",
        "#progress": "Enter the progress made towards the outcomes in the plan",
        "#recommendation": "Select what the meeting recommends",
        "#reasons": "Enter the reasons for the recommendation",
        "#file": "Select the report file",
        "#sent_on-day": "Enter the date",
    })


R = S + "/reviews"
PAGES: list[PageCase] = [
    PageCase("school-pupils", S + "/", who="senco", check=check_pupils),
    PageCase("school-deadlines", S + "/deadlines", who="senco", check=check_deadlines),
    PageCase("school-deadlines-overdue", S + "/deadlines?due=overdue", who="senco", check=check_overdue),
    PageCase("school-deadlines-error", S + "/deadlines?due=someday", who="senco", status=400,
             check=check_deadlines_error),
    PageCase("school-pupil", S + "/pupils/{fresh}", who="senco", check=check_pupil),
    PageCase("school-pupil-assessing", S + "/pupils/{assessing}", who="senco", check=check_assessing_pupil),
    PageCase("school-request", S + "/pupils/{fresh}/request-assessment", who="senco", check=check_request),
    PageCase("school-request-errors", S + "/pupils/{fresh}/request-assessment", who="senco", status=400,
             act=press("Send the request"), check=check_request_errors),
    PageCase("school-request-open-case", S + "/pupils/{assessing}/request-assessment", who="senco",
             check=check_request_open_case),
    PageCase("school-advice", S + "/cases/{advice_case}/advice", who="senco", check=check_advice),
    PageCase("school-advice-errors", S + "/cases/{advice_case}/advice", who="senco", status=400,
             act=press("Send the advice"), check=check_advice_errors),
    PageCase("school-review", R + "/{meeting}", who="senco", check=check_review),
    PageCase("school-papers", R + "/{meeting}/papers", who="senco", check=check_papers),
    PageCase("school-papers-errors", R + "/{meeting}/papers", who="senco", status=400, act=press("Add paper"),
             check=check_papers_errors),
    PageCase("school-papers-sent-first", R + "/{meeting}/papers/sent", who="senco", check=check_papers_sent_first),
    PageCase("school-papers-sent", R + "/{papers_meeting}/papers/sent", who="senco", check=check_papers_sent),
    PageCase("school-papers-sent-errors", R + "/{papers_meeting}/papers/sent", who="senco", status=400,
             act=press("Save", lambda p: p.get_by_label("Day").fill("3")), check=check_papers_sent_errors),
    PageCase("school-report-waiting", R + "/{meeting}/report", who="senco", check=check_report_waiting),
    PageCase("school-report", R + "/{held}/report", who="senco", check=check_report),
    PageCase("school-report-errors", R + "/{held}/report", who="senco", status=400, act=press("Send the report"),
             check=check_report_errors),
]


@pytest.mark.browser
@pytest.mark.parametrize("case", PAGES, ids=[c.name for c in PAGES])
def test_school_page_content_and_accessibility(case: PageCase, new_page: Callable[..., Page], live_server: LiveServer,
                                               school_data: SchoolData) -> None:
    visit_page_case(case, new_page=new_page, live_server=live_server, ids=school_data.ids(),
                    visit=lambda page: SchoolVisit(page, live_server, school_data))


@pytest.mark.browser
@pytest.mark.parametrize("name", ["school-pupils", "school-deadlines", "school-pupil-assessing", "school-review"])
def test_school_pages_at_320_pixels_wide(name: str, new_page: Callable[..., Page], live_server: LiveServer,
                                         school_data: SchoolData) -> None:
    case = next(c for c in PAGES if c.name == name)
    page = new_page(case.who, viewport={"width": 320, "height": 640})
    response = page.goto(live_server.url(case.path.format(**school_data.ids())))
    assert response is not None and response.status == 200
    # Nothing but a table region may be wider than the screen (WCAG 2.2 1.4.10 reflow).
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 320
    check_page(page, f"{name}-narrow")


# ---------------------------------------------------------------------------------------
# A SENCO's day, walked in the browser


def open_link(page: Page, name: str, role: str = "link") -> None:
    with page.expect_event("load"):
        page.get_by_role(role, name=name).first.click()  # type: ignore[arg-type]


@pytest.mark.browser
def test_a_senco_requests_an_assessment_sends_advice_and_papers(
        new_page: Callable[..., Page], live_server: LiveServer, council: Council, school_data: SchoolData) -> None:
    today = dt.date.today()
    child_id, name = council.pupil("Journey")
    plan_child, plan_name = council.pupil("Annual")
    meeting_on = today + dt.timedelta(days=30)
    council.meeting(council.plan(plan_child), meeting_on)
    page = new_page("senco")

    # Home, the pupils and their deadlines.
    page.goto(live_server.url(N + "/portal/"))
    open_link(page, "Pupils with EHC needs assessments and plans, and their deadlines")
    heading(page, "Your pupils")
    open_link(page, "See all your pupils' deadlines")
    heading(page, "Your pupils' deadlines")
    page.get_by_role("radio", name="Overdue").check()
    with page.expect_event("load"):
        page.get_by_role("button", name="Show deadlines").click()
    expect(page).to_have_url(re.compile(r"due=overdue"))
    expect(page.get_by_role("table").locator("tbody tr td:last-child").first).to_have_text("Overdue")

    # A request for an assessment, with the SEN support evidence.
    page.goto(live_server.url(S + "/"))
    open_link(page, name)
    heading(page, name)
    open_link(page, "Request an EHC needs assessment", role="button")  # a GOV.UK button link
    page.get_by_label("Cognition and learning").check()
    for label, words in (("The pupil's special educational needs", "Reading age four years behind"),
                         ("The SEN support the school has put in place", "Daily phonics, 20 minutes"),
                         ("Assess, plan, do, review", "Three termly cycles with the family"),
                         ("Progress and outcomes", "Little progress despite the support"),
                         ("Specialists involved", "Educational psychologist visited in March"),
                         ("The views of the child and their parents", "They want more help in class")):
        page.get_by_label(label, exact=True).fill(words)
    page.get_by_label("Upload evidence").set_input_files([
        {"name": "support-plan.pdf", "mimeType": "application/pdf", "buffer": PDF},
        {"name": "provision-map.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.get_by_label("The child's parent, or the young person, knows the school is asking for this assessment").check()
    assert submit(page, "Send the request").status == 200
    heading(page, name)
    decide_by = today + dt.timedelta(weeks=6)
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"Your request for an EHC needs assessment for {name} has been sent to Northshire County Council. The council "
        f"must decide whether to assess by {_long(decide_by)} (SEND Regulations 2014, regulation 5(1)).")
    expect(page.locator("main")).to_contain_text("Request received")
    expect(page.locator("#sent + ul")).to_contain_text("Request for an EHC needs assessment")

    # The council decides to assess and asks the school for educational advice (its API).
    status, _, found = live_server.http("GET", f"/api/v1/cases?child_id={child_id}", token=council.token)
    assert status == 200 and len(found["items"]) == 1, found
    case_id = found["items"][0]["id"]
    assert found["items"][0]["events"][0]["requester"] == "setting"
    council.api("POST", f"/api/v1/cases/{case_id}/events",
                {"type": "decision_to_assess_made", "date": _days(0), "outcome": "assess"})
    council.api("POST", f"/api/v1/cases/{case_id}/events",
                {"type": "advice_requested", "date": _days(0), "advice": "educational", "advice_id": "edu-7"})
    page.reload()
    open_link(page, "Send educational advice", role="button")
    heading(page, "Send educational advice")
    page.get_by_label("The pupil's special educational needs").fill("Specific difficulty with reading")
    page.get_by_label("The special educational provision they need").fill("Daily one-to-one reading")
    page.get_by_label("The outcomes it should help them achieve").fill("Read independently by Year 6")
    page.get_by_label("Attach a document (optional)").set_input_files(
        {"name": "advice.pdf", "mimeType": "application/pdf", "buffer": PDF})
    assert submit(page, "Send the advice").status == 200
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"Your advice about {name} has been sent to Northshire County Council. It was received today, {_long(today)}.")
    expect(page.locator("#advice + ul")).to_contain_text(f"received {_long(today)}")
    status, _, case = live_server.http("GET", f"/api/v1/cases/{case_id}", token=council.token)
    assert [e["type"] for e in case["events"]][-1] == "advice_received"

    # Review papers for the annual review, sent two weeks ahead (reg 20(4)).
    page.goto(live_server.url(S + "/"))
    open_link(page, plan_name)
    open_link(page, f"Review meeting on {_long(meeting_on)}")
    heading(page, f"Annual review meeting on {_long(meeting_on)}")
    open_link(page, "Add papers")
    page.get_by_label("Title").fill("Class teacher's report")
    page.get_by_label("Upload a file").set_input_files({"name": "report.pdf", "mimeType": "application/pdf",
                                                        "buffer": PDF})
    assert submit(page, "Add paper").status == 200
    expect(page.locator(".govuk-notification-banner")).to_contain_text("‘Class teacher's report’ has been added")
    open_link(page, "Record that you sent the papers")
    fill_date(page, "When did you send the papers to everyone invited?", today)
    assert submit(page, "Save").status == 200
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"Recorded: the papers were sent to everyone invited on {_long(today)}")
    papers = page.get_by_role("table").locator("tbody tr").filter(has_text="Send the advice and information")
    expect(papers).to_contain_text("Done in time")
