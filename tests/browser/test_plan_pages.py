"""Plan pages in headless Chromium: the plan, the editor and its error states, versions, one
version and what changed, each with zero axe-core violations and a screenshot; then a
caseworker adds and removes a need, and starts an amendment draft, in the browser.

The pages show the demo's own cases (tenants/demo_plans.py writes their plans), found through
the public API as a supplier's system would: the case list, then each case's plan. Only the
journeys change anything, and they leave the pages' cases as they found them (the amendment
journey uses a Southvale case, which no page here shows).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Page, Response, expect

from tests.browser.conftest import (
    DemoChild, PageCase, assert_error_summary, check_page, heading, submit, visit_page_case,
)
from tests.browser.test_pages import Visit
from tests.live_server import LiveServer


# ---------------------------------------------------------------------------------------
# The demo's cases, by what their plans hold


@dataclass(frozen=True)
class DemoPlans:
    #: A plan in force with an amendment draft in progress (versions 1 served, 2 issued, 3 draft).
    amending: str
    #: A plan in force and no draft.
    issued: str
    #: No plan yet (a new request).
    none: str
    #: A draft out with the family (1 served, 2 working draft).
    served: str
    #: The amending case's issued version.
    issued_version: str

    def ids(self) -> dict[str, str]:
        return {"amending": self.amending, "issued": self.issued, "none": self.none, "served": self.served,
                "issued_version": self.issued_version}


def find_plans(server: LiveServer, token: str) -> list[tuple[str, dict[str, Any]]]:
    """Every case of the token's council with its plan (``GET .../plan``), oldest first."""
    status, _, page = server.http("GET", "/api/v1/cases?limit=200", token=token)
    assert status == 200, page
    out = []
    for case in page["items"]:
        status, _, plan = server.http("GET", f"/api/v1/cases/{case['id']}/plan", token=token)
        assert status == 200, plan
        out.append((case["id"], plan))
    return out


def _written(version: dict[str, Any] | None) -> bool:
    """A version with content written here (not one made only by events from another system)."""
    return bool(version and version["sections"]["B"]["needs"])


@pytest.fixture(scope="session")
def demo_plans(live_server: LiveServer) -> DemoPlans:
    plans = find_plans(live_server, live_server.api_token("northshire", scopes="cases:read plans:read"))
    amending = next((cid, p) for cid, p in plans if _written(p["issued"]) and _written(p["draft"]))
    return DemoPlans(
        amending=amending[0], issued_version=amending[1]["issued"]["id"],
        issued=next(cid for cid, p in plans if _written(p["issued"]) and not p["draft"]),
        none=next(cid for cid, p in plans if not p["issued"] and not p["draft"]),
        served=next(cid for cid, p in plans if _written(p["draft"]) and not p["issued"]),
    )


# ---------------------------------------------------------------------------------------
# Acts and checks


def fill_and_submit(fields: dict[str, str], button: str, *,
                    radios: tuple[tuple[str, str], ...] = ()) -> Callable[[Visit], Response]:
    """Choose ``radios`` ((question, answer) pairs), fill ``fields`` (label: text), press ``button``."""

    def act(v: Visit) -> Response:
        for group, name in radios:
            v.page.get_by_role("group", name=group).get_by_role("radio", name=name, exact=True).check()
        for label, value in fields.items():
            v.page.get_by_label(label, exact=True).fill(value)
        return submit(v.page, button)

    return act


def check_plan_draft(v: Visit) -> None:
    heading(v.page, "Education, health and care plan")
    main = v.page.locator("main")
    expect(main.get_by_role("heading", name="Working draft (version 3)")).to_be_visible()
    expect(main.get_by_role("link", name="Version 2")).to_be_visible()
    for section in ("A", "B", "E", "F", "I", "J", "K"):
        expect(main.locator(f"#section-{section} h2")).to_contain_text(f"Section {section}:")
    expect(main.locator("#section-F").get_by_role("link", name="Change section F")).to_be_visible()
    expect(main.locator("#section-F table th").first).to_have_text("Ref")
    expect(main.locator("#section-F")).to_contain_text("Touch-typing programme")
    expect(main).to_contain_text("This draft is complete enough to be issued as the plan.")


def check_plan_issued(v: Visit) -> None:
    heading(v.page, "Education, health and care plan")
    expect(v.page.get_by_role("button", name="Start an amendment draft")).to_be_visible()
    expect(v.page.locator("main")).not_to_contain_text("Change section")
    expect(v.page.locator("main h2").first).to_contain_text("Version 2")


def check_plan_none(v: Visit) -> None:
    expect(v.page.locator("main")).to_contain_text("Nothing has been written for this plan yet.")
    expect(v.page.get_by_role("button", name="Start a draft plan")).to_be_visible()


def check_plan_served(v: Visit) -> None:
    expect(v.page.locator("main")).to_contain_text("Working draft (version 2)")
    expect(v.page.locator("main")).to_contain_text("No plan has been issued yet")


def check_start(v: Visit) -> None:
    heading(v.page, "Start an amendment draft")
    expect(v.page.locator("main")).to_contain_text("regulation 22")
    expect(v.page.get_by_role("button", name="Start the draft")).to_be_visible()


def check_edit_a(v: Visit) -> None:
    heading(v.page, "Views, interests and aspirations")
    expect(v.page.get_by_label("Views", exact=True)).not_to_be_empty()


def check_edit_a_errors(v: Visit) -> None:
    assert_error_summary(v.page, {"#views": "Use 10,000 characters or fewer"})


def check_section(v: Visit) -> None:
    heading(v.page, "Section F: Special educational provision")
    expect(v.page.get_by_role("link", name="Change F1")).to_be_visible()
    expect(v.page.get_by_role("link", name="Remove F1")).to_be_visible()
    expect(v.page.get_by_role("button", name="Add another item of provision")).to_be_visible()


def check_item_new_outcome(v: Visit) -> None:
    heading(v.page, "Add an outcome")
    group = v.page.get_by_role("group", name="Which needs does this outcome answer?")
    expect(group.get_by_role("checkbox").first).not_to_be_checked()
    expect(v.page.get_by_role("group", name="Is it a preparing for adulthood outcome?").get_by_role("radio")).to_have_count(5)


def check_item_errors(v: Visit) -> None:
    assert_error_summary(v.page, {"#description": "Enter the provision: what will be provided"})


def check_item_change(v: Visit) -> None:
    heading(v.page, "Change the item of provision")
    expect(v.page.get_by_label("How often", exact=True)).not_to_have_value("")
    group = v.page.get_by_role("group", name="Which outcomes does it help achieve?")
    expect(group.locator("input:checked")).not_to_have_count(0)


def check_remove(v: Visit) -> None:
    expect(v.page.locator("h1")).to_have_text("Which item of provision do you want to remove?")
    expect(v.page.get_by_role("radio").first).to_be_checked()
    expect(v.page.get_by_role("button", name="Remove")).to_be_visible()


def check_remove_errors(v: Visit) -> None:
    first = v.page.get_by_role("radio").first.get_attribute("id")
    assert_error_summary(v.page, {f"#{first}": "Select the item of provision to remove"})


def check_edit_i(v: Visit) -> None:
    expect(v.page.locator("h1")).to_contain_text("be educated?")
    expect(v.page.get_by_role("radio", name="A named school, college or other institution")).to_be_checked()
    expect(v.page.get_by_label("Unique reference number (URN)")).to_have_value(re.compile(r"^\d{6}$"))


def check_edit_i_errors(v: Visit) -> None:
    assert_error_summary(v.page, {"#urn": "Enter a URN of 6 digits, like 118945"})


def check_edit_j(v: Visit) -> None:
    heading(v.page, "Personal budget")
    expect(v.page.get_by_role("group", name="Has a personal budget been requested?")).to_be_visible()


def check_edit_j_errors(v: Visit) -> None:
    assert_error_summary(v.page, {"#amount": "Enter the amount in pounds, like 1200 or 1200.50"})


def check_versions(v: Visit) -> None:
    heading(v.page, "Versions of the EHC plan")
    rows = v.page.locator("main table tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(1)).to_contain_text("Issued")
    expect(rows.nth(1).get_by_role("link", name="PDF of version 2")).to_be_visible()


def check_version(v: Visit) -> None:
    heading(v.page, "EHC plan version 2")
    expect(v.page.locator("main")).to_contain_text("This version is fixed: it cannot be changed.")
    expect(v.page.get_by_role("link", name="Download this version as a PDF")).to_be_visible()
    expect(v.page.get_by_role("link", name="What changed from version 1")).to_be_visible()


def check_diff(v: Visit) -> None:
    heading(v.page, "Compare versions of the plan")
    main = v.page.locator("main")
    expect(main.get_by_role("heading", level=2)).to_contain_text("from version 2 to version 3")
    expect(main.locator("ul.govuk-list--bullet")).to_contain_text("Section F: added 'Touch-typing programme")
    expect(main.get_by_role("table")).to_contain_text("by when")


def check_diff_errors(v: Visit) -> None:
    assert_error_summary(v.page, {"#to": "Select a different version to compare with"})


PAGES = [
    PageCase("plan-draft-and-issued", "/t/northshire/cases/{amending}/plan", who="caseworker", check=check_plan_draft),
    PageCase("plan-issued", "/t/northshire/cases/{issued}/plan", who="caseworker", check=check_plan_issued),
    PageCase("plan-none", "/t/northshire/cases/{none}/plan", who="manager", check=check_plan_none),
    PageCase("plan-served", "/t/northshire/cases/{served}/plan", who="caseworker", check=check_plan_served),
    PageCase("plan-start-amendment", "/t/northshire/cases/{issued}/plan/start", who="caseworker", check=check_start),
    PageCase("plan-edit-a", "/t/northshire/cases/{amending}/plan/draft/A", who="caseworker", check=check_edit_a),
    PageCase("plan-edit-a-errors", "/t/northshire/cases/{amending}/plan/draft/A", who="caseworker", status=400,
             act=fill_and_submit({"Views": "x" * 10_001}, "Save section A"), check=check_edit_a_errors),
    PageCase("plan-section-f", "/t/northshire/cases/{amending}/plan/draft/F", who="caseworker", check=check_section),
    PageCase("plan-add-outcome", "/t/northshire/cases/{amending}/plan/draft/E/item", who="caseworker",
             check=check_item_new_outcome),
    PageCase("plan-add-provision-errors", "/t/northshire/cases/{amending}/plan/draft/F/item", who="caseworker",
             status=400, act=fill_and_submit({"How often": "weekly"}, "Save"), check=check_item_errors),
    PageCase("plan-change-provision", "/t/northshire/cases/{amending}/plan/draft/F/item?id=f-1", who="caseworker",
             check=check_item_change),
    PageCase("plan-remove-provision", "/t/northshire/cases/{amending}/plan/draft/F/remove?id=f-1", who="caseworker",
             check=check_remove),
    PageCase("plan-remove-errors", "/t/northshire/cases/{amending}/plan/draft/F/remove", who="caseworker", status=400,
             act=lambda v: submit(v.page, "Remove"), check=check_remove_errors),
    PageCase("plan-edit-i", "/t/northshire/cases/{amending}/plan/draft/I", who="caseworker", check=check_edit_i),
    PageCase("plan-edit-i-errors", "/t/northshire/cases/{amending}/plan/draft/I", who="caseworker", status=400,
             act=fill_and_submit({"Unique reference number (URN)": "12AB"}, "Save section I",
                                 radios=(("be educated?", "A named school, college or other institution"),)),
             check=check_edit_i_errors),
    PageCase("plan-edit-j", "/t/northshire/cases/{amending}/plan/draft/J", who="caseworker", check=check_edit_j),
    PageCase("plan-edit-j-errors", "/t/northshire/cases/{amending}/plan/draft/J", who="caseworker", status=400,
             act=fill_and_submit({"Amount a year (optional)": "lots"}, "Save section J", radios=(("Has a personal budget been requested?", "Yes"),)),
             check=check_edit_j_errors),
    PageCase("plan-versions", "/t/northshire/cases/{amending}/plan/versions", who="caseworker", check=check_versions),
    PageCase("plan-version", "/t/northshire/cases/{amending}/plan/versions/{issued_version}", who="caseworker",
             check=check_version),
    PageCase("plan-diff", "/t/northshire/cases/{amending}/plan/diff", who="caseworker", check=check_diff),
    PageCase("plan-diff-errors", "/t/northshire/cases/{amending}/plan/diff?from={issued_version}&to={issued_version}",
             who="caseworker", status=400, check=check_diff_errors),
]

#: GET routes of the plan area that serve no HTML page.
NOT_PAGES = {
    "plans.download_document": "a file download (Content-Disposition: attachment), tested in tests/web/ui",
    "plans_api.Plan": "JSON API (tests/web/api)",
    "plans_api.PlanVersions": "JSON API (tests/web/api)",
    "plans_api.PlanVersion": "JSON API (tests/web/api)",
    "plans_api.PlanVersionPdf": "a PDF from the JSON API (tests/web/api)",
    "plans_api.PlanVersionDiff": "JSON API (tests/web/api)",
    "plans_api.PlanDraft": "JSON API (tests/web/api)",
}


@pytest.mark.browser
@pytest.mark.parametrize("case", PAGES, ids=[c.name for c in PAGES])
def test_plan_page_content_and_accessibility(case: PageCase, new_page: Callable[..., Page], live_server: LiveServer,
                                             demo_plans: DemoPlans, northshire_child: DemoChild) -> None:
    visit_page_case(case, new_page=new_page, live_server=live_server, ids=demo_plans.ids(),
                    visit=lambda page: Visit(page, live_server, northshire_child))


#: Pages with tables: checked again at 320 CSS pixels wide (WCAG 2.2 1.4.10 reflow).
NARROW = ["plan-draft-and-issued", "plan-versions", "plan-diff", "plan-change-provision"]


@pytest.mark.browser
@pytest.mark.parametrize("name", NARROW)
def test_plan_pages_at_320_pixels_wide(name: str, new_page: Callable[..., Page], live_server: LiveServer,
                                       demo_plans: DemoPlans) -> None:
    case = next(c for c in PAGES if c.name == name)
    page = new_page(case.who, viewport={"width": 320, "height": 640})
    response = page.goto(live_server.url(case.path.format(**demo_plans.ids())))
    assert response is not None and response.status == case.status
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 320
    check_page(page, f"{name}-narrow")


# ---------------------------------------------------------------------------------------
# Journeys


@pytest.mark.browser
def test_caseworker_adds_a_social_care_need_links_an_outcome_to_it_and_removes_it(
        new_page: Callable[..., Page], live_server: LiveServer, demo_plans: DemoPlans) -> None:
    page = new_page("caseworker")
    page.goto(live_server.tenant_url("northshire", f"/cases/{demo_plans.served}/plan"))
    with page.expect_event("load"):
        page.locator("#section-D").get_by_role("link", name="Change section D").click()
    heading(page, "Section D: Social care needs")
    with page.expect_event("load"):
        page.get_by_role("button", name="Add a social care need").click()
    page.get_by_label("Describe the need", exact=True).fill("Respite care at weekends")
    response = submit(page, "Save")
    assert response.status == 200 and response.request.redirected_from is not None
    expect(page.locator(".govuk-notification-banner")).to_contain_text("The social care need has been added")
    expect(page.get_by_role("heading", name="D1: Respite care at weekends")).to_be_visible()

    # Link the first outcome to it: the new need is offered as a checkbox.
    page.goto(live_server.tenant_url("northshire", f"/cases/{demo_plans.served}/plan/draft/E"))
    with page.expect_event("load"):
        page.get_by_role("link", name="Change E1").click()
    page.get_by_role("checkbox", name="D1: Respite care at weekends").check()
    submit(page, "Save")
    expect(page.locator("main")).to_contain_text("D1")

    # Remove it again: the outcome's link goes with it, and the draft is as it was.
    page.goto(live_server.tenant_url("northshire", f"/cases/{demo_plans.served}/plan/draft/D"))
    with page.expect_event("load"):
        page.get_by_role("link", name="Remove D1").click()
    expect(page.get_by_role("radio", name="D1: Respite care at weekends")).to_be_checked()
    expect(page.locator("main")).to_contain_text("Also unlinks it from E1")
    check_page(page, "journey-plan-remove-need")
    submit(page, "Remove")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("‘Respite care at weekends’ has been removed")
    expect(page.locator("main")).to_contain_text("No social care needs yet.")


@pytest.mark.browser
def test_caseworker_starts_an_amendment_draft_and_sees_what_changed(
        new_page: Callable[..., Page], live_server: LiveServer) -> None:
    token = live_server.api_token("southvale", scopes="cases:read plans:read")
    case_id = next(cid for cid, p in find_plans(live_server, token) if _written(p["issued"]) and not p["draft"])
    page = new_page("southvale-caseworker")
    page.goto(live_server.tenant_url("southvale", f"/cases/{case_id}/plan"))
    with page.expect_event("load"):
        page.get_by_role("button", name="Start an amendment draft").click()
    submit(page, "Start the draft")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Version 3 has been started as a working draft")

    # Change how often the first item of provision happens.
    page.goto(live_server.tenant_url("southvale", f"/cases/{case_id}/plan/draft/F/item?id=f-1"))
    before = page.get_by_label("How often", exact=True).input_value()
    page.get_by_label("How often", exact=True).fill("Three times a week, 30 minutes")
    submit(page, "Save")

    # The plan page links to the comparison of the latest two versions.
    page.goto(live_server.tenant_url("southvale", f"/cases/{case_id}/plan"))
    with page.expect_event("load"):
        page.get_by_role("link", name="Compare two versions").click()
    expect(page.locator("main h2")).to_have_text("1 change from version 2 to version 3")
    expect(page.locator("main ul.govuk-list--bullet")).to_contain_text(
        f"how often: '{before}' → 'Three times a week, 30 minutes'")
    check_page(page, "journey-plan-amendment-diff")
