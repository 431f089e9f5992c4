"""Transfer pages in headless Chromium, axe-clean, and a transfer walked between the two demo
councils: a Northshire caseworker starts and completes it, a Southvale caseworker finds it in
the inbox and opens the new case.

The cases are made for these tests through the public API (a child and a case taken to an
issued plan, dated back from today), so the demo's own cases are left as seeded.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import string
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, Response, expect

from tests.browser.conftest import PageCase, assert_error_summary, check_page, heading, submit, visit_page_case
from tests.live_server import LiveServer

SCOPES = "children:read children:write cases:read cases:write transfers:read transfers:write"


def _days(n: int) -> str:
    return (dt.date.today() + dt.timedelta(days=n)).isoformat()


def make_plan_case(server: LiveServer, token: str, given: str = "Moving") -> tuple[str, str]:
    """A new Northshire child with a case taken to an issued plan: (case id, full name)."""
    family = "".join(random.choices(string.ascii_lowercase, k=9)).capitalize()
    status, _, child = server.http("POST", "/api/v1/children", token=token, json_body={
        "given_name": given, "family_name": family, "date_of_birth": "2016-03-15"})
    assert status == 201, child
    status, _, case = server.http("POST", "/api/v1/cases", token=token, json_body={
        "child_id": child["id"], "events": [{"type": "request_received", "date": _days(-200), "requester": "parent"}]})
    assert status == 201, case
    for event in ({"type": "decision_to_assess_made", "date": _days(-170), "outcome": "assess"},
                  {"type": "decision_to_issue_made", "date": _days(-120), "outcome": "issue"},
                  {"type": "draft_plan_served", "date": _days(-100)},
                  {"type": "final_plan_issued", "date": _days(-60)}):
        status, _, body = server.http("POST", f"/api/v1/cases/{case['id']}/events", token=token, json_body=event)
        assert status == 201, body
    return case["id"], f"{given} {family}"


@dataclass(frozen=True)
class TransferData:
    fresh_case: str
    transfer: str
    child_name: str

    def ids(self) -> dict[str, str]:
        return {"fresh_case": self.fresh_case, "transfer": self.transfer}


@pytest.fixture(scope="module")
def token(live_server: LiveServer) -> str:
    return live_server.api_token("northshire", scopes=SCOPES)


@pytest.fixture(scope="module")
def transfer_data(live_server: LiveServer, token: str) -> TransferData:
    fresh, _ = make_plan_case(live_server, token, "Staying")
    moving, name = make_plan_case(live_server, token)
    status, _, body = live_server.http("POST", "/api/v1/transfers", token=token, json_body={
        "case_id": moving, "to_la_code": "992", "move_on": _days(30), "became_aware_on": _days(0)})
    assert status == 201, body
    return TransferData(fresh, body["id"], name)


def press(button: str, fill: Callable[[Page], None] | None = None) -> Callable[[Page], Response]:
    def act(page: Page) -> Response:
        if fill is not None:
            fill(page)
        return submit(page, button)
    return act


def fill_date(page: Page, legend: str, day: dt.date) -> None:
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


# --- checks ----------------------------------------------------------------------------


def check_inbox(page: Page) -> None:
    heading(page, "Transfers between councils")
    expect(page.get_by_role("tab", name=re.compile(r"^Incoming"))).to_be_visible()
    expect(page.get_by_role("tab", name=re.compile(r"^Outgoing"))).to_be_visible()


def check_start(page: Page) -> None:
    heading(page, "Transfer the plan to another council")
    expect(page.get_by_label("Local authority code of the new council")).to_be_visible()


def check_start_errors(page: Page) -> None:
    assert_error_summary(page, {"#to_la_code": "Enter the local authority code of the council the child is moving to",
                                "#move_on-day": "Enter the date of the move",
                                "#became_aware_on-day": "Enter the date the council found out"})


def check_view(page: Page) -> None:
    expect(page.locator("h1")).to_contain_text("Transfer of Moving ")
    expect(page.locator("main")).to_contain_text("Southvale Borough Council (992)")
    expect(page.locator("#transfer-clocks")).to_be_visible()


def check_complete(page: Page) -> None:
    heading(page, "Transfer the plan now")
    expect(page.get_by_role("group", name="Date the plan transfers")).to_be_visible()


def check_complete_errors(page: Page) -> None:
    assert_error_summary(page, {"#transferred_on-day": "Enter the date the plan transfers"})


def check_cancel(page: Page) -> None:
    heading(page, "Cancel this transfer")
    expect(page.get_by_role("button", name="Cancel the transfer")).to_be_visible()


T = "/t/northshire/plan-transfers/{transfer}"
PAGES: list[PageCase] = [
    PageCase("transfer-inbox", "/t/northshire/plan-transfers", who="caseworker", check=check_inbox),
    PageCase("transfer-start", "/t/northshire/cases/{fresh_case}/transfer", who="caseworker", check=check_start),
    PageCase("transfer-start-errors", "/t/northshire/cases/{fresh_case}/transfer", who="caseworker", status=400,
             act=press("Start the transfer"), check=check_start_errors),
    PageCase("transfer-view", T, who="caseworker", check=check_view),
    PageCase("transfer-complete", T + "/complete", who="caseworker", check=check_complete),
    PageCase("transfer-complete-errors", T + "/complete", who="caseworker", status=400,
             act=press("Transfer the plan"), check=check_complete_errors),
    PageCase("transfer-cancel", T + "/cancel", who="caseworker", check=check_cancel),
]

NOT_PAGES = {
    "transfers_api.Transfers": "JSON API (tests/web/api/test_transfers_api.py)",
    "transfers_api.Transfer": "JSON API (tests/web/api/test_transfers_api.py)",
}


@pytest.mark.browser
@pytest.mark.parametrize("case", PAGES, ids=[c.name for c in PAGES])
def test_transfer_page_content_and_accessibility(case: PageCase, new_page: Callable[..., Page],
                                                 live_server: LiveServer, transfer_data: TransferData) -> None:
    visit_page_case(case, new_page=new_page, live_server=live_server, ids=transfer_data.ids(), visit=lambda p: p)


@pytest.mark.browser
def test_a_transfer_from_northshire_to_southvale(new_page: Callable[..., Page], live_server: LiveServer,
                                                 token: str) -> None:
    case_id, name = make_plan_case(live_server, token)
    today = dt.date.today()
    # Northshire: start the transfer from the case page.
    page = new_page("caseworker")
    page.goto(live_server.tenant_url("northshire", f"/cases/{case_id}"))
    with page.expect_event("load"):
        page.get_by_role("link", name="Transfer the plan to another council (the family is moving)").click()
    check_page(page, "transfer-walk-start")
    page.get_by_label("Local authority code of the new council").fill("992")
    fill_date(page, "Date of the move", today)
    fill_date(page, "When did the council find out about the move?", today - dt.timedelta(days=30))
    assert submit(page, "Start the transfer").status == 200
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Transfer to Southvale Borough Council started")
    heading(page, f"Transfer of {name}'s plan")
    check_page(page, "transfer-walk-planned")
    # The outgoing tab of the inbox lists it.
    page.goto(live_server.tenant_url("northshire", "/plan-transfers"))
    page.get_by_role("tab", name=re.compile(r"^Outgoing")).click()
    expect(page.locator("#outgoing-transfers")).to_contain_text(name)
    check_page(page, "transfer-walk-inbox-outgoing")
    with page.expect_event("load"):
        page.locator("#outgoing-transfers").get_by_role("link", name=name).click()
    # Complete it.
    with page.expect_event("load"):
        page.get_by_role("button", name="Transfer the plan now").click()
    check_page(page, "transfer-walk-confirm")
    fill_date(page, "Date the plan transfers", today)
    assert submit(page, "Transfer the plan").status == 200
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Southvale Borough Council now holds the plan")
    check_page(page, "transfer-walk-completed")
    # The old case is a read-only record.
    page.goto(live_server.tenant_url("northshire", f"/cases/{case_id}"))
    expect(page.locator("main")).to_contain_text("This plan was transferred to Southvale Borough Council")
    expect(page.get_by_role("button", name="Record what happened")).to_have_count(0)
    check_page(page, "transfer-walk-old-case")
    # Southvale: the inbox shows it, and the new case opens.
    south = new_page("southvale-caseworker")
    south.goto(live_server.tenant_url("southvale", "/plan-transfers"))
    expect(south.locator("#incoming-transfers")).to_contain_text(name)
    check_page(south, "transfer-walk-southvale-inbox")
    with south.expect_event("load"):
        south.locator("#incoming-transfers").get_by_role("link", name=name).click()
    expect(south.locator("main")).to_contain_text("Transferred")
    check_page(south, "transfer-walk-southvale-transfer")
    with south.expect_event("load"):
        south.get_by_role("link", name="Go to the case in this council").click()
    heading(south, name)
    expect(south.locator("main")).to_contain_text("This plan came from Northshire County Council")
    check_page(south, "transfer-walk-southvale-case")
