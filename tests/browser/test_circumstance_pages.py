"""A child's circumstances pages (CoP ch.10; issue 6) in headless Chromium: what each shows,
its error states, zero axe-core violations, a screenshot each; and a detention and release
walked through the forms on a case taken to an issued plan through the API.

The children and cases are made for these tests through the public API, so the demo's own
records, which other modules' pages show, are left as seeded.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, Response, expect

from tests.browser.conftest import PageCase, assert_error_summary, check_page, heading, submit, visit_page_case, press
from tests.browser.test_review_pages import fill_date, make_plan_case
from tests.live_server import LiveServer


def _days(n: int) -> str:
    return (dt.date.today() + dt.timedelta(days=n)).isoformat()


@dataclass(frozen=True)
class CircumstanceData:
    child: str
    case: str
    #: A looked-after record (view, change, end).
    looked_after: str
    #: A youth custody record made by a client without cases:write: not yet on the EHC case.
    custody: str

    def ids(self) -> dict[str, str]:
        return {"child": self.child, "case": self.case, "lac": self.looked_after, "custody": self.custody}


@pytest.fixture(scope="session")
def circumstance_data(live_server: LiveServer) -> CircumstanceData:
    token = live_server.api_token("northshire", scopes="children:read children:write cases:read cases:write")
    children_only = live_server.api_token("northshire", scopes="children:read children:write")
    case_id, _ = make_plan_case(live_server, token, years_old=15)
    status, _, case = live_server.http("GET", f"/api/v1/cases/{case_id}", token=token)
    assert status == 200, case
    child = case["child_id"]
    base = f"/api/v1/children/{child}/circumstances"
    status, _, lac = live_server.http("POST", base, token=token, json_body={
        "kind": "looked_after", "started_on": _days(-400), "social_worker_name": "Sam Okoro",
        "virtual_school_head_name": "Val Head", "designated_teacher_name": "Dee Teacher",
        "pep_url": "https://pep.example.gov.uk/1", "pep_reviewed_on": _days(-30)})
    assert status == 201, lac
    status, _, custody = live_server.http("POST", base, token=children_only, json_body={
        "kind": "youth_custody", "started_on": _days(-20), "establishment": "HMYOI Wetherby",
        "yot_name": "Northshire YOT", "expected_release_on": _days(60)})
    assert status == 201, custody
    return CircumstanceData(child=child, case=case_id, looked_after=lac["id"], custody=custody["id"])


@dataclass
class Visit:
    page: Page
    data: CircumstanceData



def check_index(v: Visit) -> None:
    heading(v.page, "Circumstances")
    rows = v.page.get_by_role("table").locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(v.page.get_by_role("link", name="Looked-after child")).to_be_visible()
    expect(v.page.get_by_role("link", name="Youth custody")).to_be_visible()


def check_choose(v: Visit) -> None:
    expect(v.page.get_by_role("group", name=re.compile("Record a circumstance"))).to_be_visible()
    expect(v.page.get_by_label("Service child")).to_be_visible()


def check_choose_errors(v: Visit) -> None:
    assert_error_summary(v.page, {"#kind": "Select the circumstance to record"})


def check_new(v: Visit) -> None:
    heading(v.page, re.compile("^Youth custody: "))
    expect(v.page.locator(".govuk-inset-text")).to_contain_text("keeps the EHC plan")
    expect(v.page.get_by_label("Youth custody establishment")).to_be_visible()


def check_new_errors(v: Visit) -> None:
    assert_error_summary(v.page, {"#started_on-day": "Enter the date the detention began",
                                  "#establishment": "Enter the youth custody establishment"})


def check_lac(v: Visit) -> None:
    heading(v.page, "Looked-after child")
    main = v.page.locator("main")
    expect(main).to_contain_text("The EHC plan and the personal education plan")
    expect(main).to_contain_text("Val Head")
    expect(v.page.get_by_role("link", name=re.compile("Open the PEP"))).to_have_attribute(
        "href", "https://pep.example.gov.uk/1")


def check_custody(v: Visit) -> None:
    heading(v.page, "Youth custody")
    main = v.page.locator("main")
    expect(main).to_contain_text("keeps")
    expect(main).to_contain_text("HMYOI Wetherby")
    expect(main).to_contain_text("does not show this detention yet")
    expect(v.page.get_by_role("button", name="Record it on the EHC case")).to_be_visible()


def check_edit(v: Visit) -> None:
    heading(v.page, "Change the looked-after child record")
    expect(v.page.get_by_label("Social worker's name (optional)")).to_have_value("Sam Okoro")


def check_edit_errors(v: Visit) -> None:
    assert_error_summary(v.page, {"#social_worker_email": "Enter an email address in the correct format, like "
                                                          "name@example.com"})


def check_end(v: Visit) -> None:
    heading(v.page, "End the looked-after child record")


def check_end_errors(v: Visit) -> None:
    assert_error_summary(v.page, {"#ended_on-day": "Enter the end date"})


def check_release(v: Visit) -> None:
    heading(v.page, "Record the release")


def check_record_on_case(v: Visit) -> None:
    heading(v.page, "Record the detention on the EHC case")
    expect(v.page.get_by_role("button", name="Record it on the EHC case")).to_be_visible()


NOT_PAGES = {
    "circumstances_api.Circumstances": "JSON API (tests/web/api/test_circumstances_api.py)",
    "circumstances_api.Circumstance": "JSON API (tests/web/api/test_circumstances_api.py)",
}

B = "/t/northshire/children/{child}/circumstances"
PAGES: list[PageCase] = [
    PageCase("circumstances-index", B + "/", who="caseworker", check=check_index),
    PageCase("circumstances-choose", B + "/new", who="caseworker", check=check_choose),
    PageCase("circumstances-choose-errors", B + "/new", who="caseworker", status=400, act=press("Continue"),
             check=check_choose_errors),
    PageCase("circumstances-new", B + "/new/youth_custody", who="caseworker", check=check_new),
    PageCase("circumstances-new-errors", B + "/new/youth_custody", who="caseworker", status=400, act=press("Save"),
             check=check_new_errors),
    PageCase("circumstances-looked-after", B + "/{lac}", who="caseworker", check=check_lac),
    PageCase("circumstances-custody", B + "/{custody}", who="caseworker", check=check_custody),
    PageCase("circumstances-edit", B + "/{lac}/edit", who="caseworker", check=check_edit),
    PageCase("circumstances-edit-errors", B + "/{lac}/edit", who="caseworker", status=400,
             act=press("Save", lambda p: p.get_by_label("Social worker's email address (optional)").fill("nope")),
             check=check_edit_errors),
    PageCase("circumstances-end", B + "/{lac}/end", who="caseworker", check=check_end),
    PageCase("circumstances-end-errors", B + "/{lac}/end", who="caseworker", status=400, act=press("End the record"),
             check=check_end_errors),
    PageCase("circumstances-release", B + "/{custody}/end", who="caseworker", check=check_release),
    PageCase("circumstances-record-on-case", B + "/{custody}/case", who="caseworker", check=check_record_on_case),
]


@pytest.mark.browser
@pytest.mark.parametrize("case", PAGES, ids=[c.name for c in PAGES])
def test_circumstance_page_content_and_accessibility(case: PageCase, new_page: Callable[..., Page],
                                                     live_server: LiveServer,
                                                     circumstance_data: CircumstanceData) -> None:
    visit_page_case(case, new_page=new_page, live_server=live_server, ids=circumstance_data.ids(),
                    visit=lambda page: Visit(page, circumstance_data))


@pytest.mark.browser
def test_a_detention_and_release_walked_through_the_forms(new_page: Callable[..., Page], live_server: LiveServer) -> None:
    token = live_server.api_token("northshire", scopes="children:read children:write cases:read cases:write")
    case_id, name = make_plan_case(live_server, token, years_old=16)
    status, _, case = live_server.http("GET", f"/api/v1/cases/{case_id}", token=token)
    assert status == 200
    child = case["child_id"]
    page = new_page("caseworker")
    page.goto(live_server.tenant_url("northshire", f"/children/{child}"))
    card = page.locator("#circumstances")
    expect(card).to_contain_text("No current circumstances recorded")
    card.get_by_role("link", name=re.compile("Manage")).click()
    heading(page, "Circumstances")
    page.get_by_role("button", name="Record a circumstance").click()
    page.get_by_label("Youth custody").check()
    assert submit(page, "Continue").status == 200
    today = dt.date.today()
    fill_date(page, "Date the detention began", today - dt.timedelta(days=10))
    page.get_by_label("Youth custody establishment").fill("HMYOI Cookham Wood")
    page.get_by_label("Youth offending team contact (optional)").fill("Jo Bloggs")
    assert submit(page, "Save").status == 200
    expect(page.locator("main")).to_contain_text("The detention is recorded on the")
    expect(page.locator("main")).to_contain_text("Jo Bloggs")
    check_page(page, "circumstances-walk-detained")
    page.get_by_role("link", name=re.compile("Record the release")).click()
    fill_date(page, "Date of release", today - dt.timedelta(days=1))
    assert submit(page, "Record the release").status == 200
    main = page.locator("main")
    expect(main).to_contain_text("The detention and release are recorded on the")
    expect(main).to_contain_text("(not statutory)")
    check_page(page, "circumstances-walk-released")
    page.goto(live_server.tenant_url("northshire", f"/children/{child}"))
    expect(page.locator("#circumstances")).to_contain_text("No current circumstances recorded")
    status, _, body = live_server.http("GET", f"/api/v1/cases/{case_id}", token=token)
    types = [e["type"] for e in body["events"]]
    assert types[-2:] == ["detention_started", "released_from_detention"], name
    assert any(d["key"] == "release_review" and d["statutory"] is False for d in body["deadlines"])
