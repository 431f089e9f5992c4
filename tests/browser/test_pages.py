"""Every page of the service in headless Chromium: what it shows, axe-core finds no WCAG 2.2 AA
or best-practice violation, and a full-page screenshot lands in artifacts/screens/.

``PAGES`` is this module's page list; other areas keep theirs in their own
``tests/browser/test_*.py`` module (``PAGES`` and ``NOT_PAGES``), and
``test_every_html_page_has_a_browser_test`` walks the served app's URL map against all of
them, so a new page without a browser test fails CI.
"""

from __future__ import annotations

import datetime as dt
import importlib
import random
import re
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Response, expect
from werkzeug.exceptions import NotFound
from werkzeug.routing import Map, Rule

from tests.browser.conftest import (
    USERS, DemoChild, PageCase, assert_error_summary, check_page, heading, list_children, sign_in, submit,
    visit_page_case,
)
from tests.live_server import LiveServer
from tenants import demo

NORTHSHIRE = "Northshire County Council"


# ---------------------------------------------------------------------------------------
# Helpers


@dataclass
class Visit:
    """What a page case acts and checks on."""

    page: Page
    server: LiveServer
    child: DemoChild


# --- acts ------------------------------------------------------------------------------


def search_for(q: str | Callable[[Visit], str]) -> Callable[[Visit], Response]:
    def act(v: Visit) -> Response:
        v.page.get_by_label("Find a child or young person").fill(q(v) if callable(q) else q)
        return submit(v.page, "Search")

    return act


def sign_in_with_nobody_selected(v: Visit) -> Response:
    return submit(v.page, "Sign in")


def add_child_with_errors(v: Visit) -> Response:
    p = v.page
    next_year = dt.date.today().year + 1
    p.get_by_role("group", name="Date of birth").get_by_label("Day").fill("1")
    p.get_by_role("group", name="Date of birth").get_by_label("Month").fill("1")
    p.get_by_role("group", name="Date of birth").get_by_label("Year").fill(str(next_year))
    p.get_by_label("NHS number (optional)").fill("123 456 7890")  # check digit would be 10: never valid
    return submit(p, "Save")


def add_contact_with_errors(v: Visit) -> Response:
    v.page.get_by_label("Email address (optional)").fill("not-an-email")
    return submit(v.page, "Add contact")


def add_placement_with_errors(v: Visit) -> Response:
    v.page.get_by_label("Unique reference number (URN)").fill("12AB")
    return submit(v.page, "Add")


def post_with_tampered_csrf_token(v: Visit) -> Response:
    v.page.get_by_label("First name").fill("Tamper")
    v.page.locator("main form input[name=csrf_token]").evaluate("el => { el.value = 'tampered-' + el.value; }")
    return submit(v.page, "Save")


# --- checks ----------------------------------------------------------------------------


def check_platform_home(v: Visit) -> None:
    heading(v.page, "Sendbridge")
    expect(v.page.get_by_role("link", name=NORTHSHIRE)).to_have_attribute("href", "/t/northshire/")
    expect(v.page.get_by_role("link", name="Southvale Borough Council")).to_have_attribute("href", "/t/southvale/")


def check_tenant_start(v: Visit) -> None:
    heading(v.page, f"{NORTHSHIRE} SEND casework")
    expect(v.page.get_by_role("button", name="Sign in")).to_have_attribute("href", "/t/northshire/sign-in")


def check_sign_in(v: Visit) -> None:
    heading(v.page, f"Sign in to {NORTHSHIRE}")
    # The demo's Northshire staff: a caseworker, a team manager and the council's administrator.
    expect(v.page.get_by_role("radio")).to_have_count(len(demo.COUNCILS[0].staff))
    expect(v.page.get_by_role("radio", name="Amara Okafor")).not_to_be_checked()


def check_sign_in_error(v: Visit) -> None:
    first = v.page.get_by_role("radio").first.get_attribute("id")
    assert_error_summary(v.page, {f"#{first}": "Select who you want to sign in as"})


def check_children_list(v: Visit) -> None:
    heading(v.page, "Children and young people")
    expect(v.page.get_by_role("status")).to_contain_text("children and young people")
    expect(v.page.get_by_role("link", name=v.child.list_name)).to_have_attribute(
        "href", f"/t/northshire/children/{v.child.id}")


def check_search_results(v: Visit) -> None:
    expect(v.page.get_by_role("status")).to_contain_text(re.compile(rf"^\d+ results? for ‘{v.child.family_name}’$"))
    expect(v.page.get_by_role("link", name=v.child.list_name)).to_be_visible()
    expect(v.page.get_by_label("Find a child or young person")).to_have_value(v.child.family_name)


def check_search_no_results(v: Visit) -> None:
    expect(v.page.get_by_role("status")).to_have_text("0 results for ‘Zyxwvq’")
    expect(v.page.get_by_role("table")).to_have_count(0)


def check_search_error(v: Visit) -> None:
    assert_error_summary(v.page, {"#q": "Search for 100 characters or fewer"})
    expect(v.page.get_by_role("table")).to_have_count(0)


def check_child(v: Visit) -> None:
    heading(v.page, f"{v.child.given_name} {v.child.family_name}")
    expect(v.page.get_by_role("heading", name="Contacts")).to_be_visible()
    expect(v.page.get_by_role("heading", name="Schools, colleges and settings")).to_be_visible()
    expect(v.page.get_by_role("button", name="Add a contact")).to_be_visible()


def check_child_form(v: Visit) -> None:
    heading(v.page, "Add a child or young person")
    expect(v.page.get_by_label("First name")).to_have_value("")


def check_child_form_errors(v: Visit) -> None:
    assert_error_summary(v.page, {
        "#given_name": "Enter the first name",
        "#family_name": "Enter the last name",
        "#date_of_birth-day": "Date of birth must be today or in the past",
        "#nhs_number": "Enter a valid NHS number: the check digit does not match",
    })
    # What was typed is kept, and the fields in error are marked.
    expect(v.page.get_by_label("NHS number (optional)")).to_have_value("123 456 7890")
    expect(v.page.get_by_label("NHS number (optional)")).to_have_class(re.compile(r"\bgovuk-input--error\b"))
    expect(v.page.locator("#date_of_birth-year")).to_have_value(str(dt.date.today().year + 1))
    expect(v.page.locator("#date_of_birth-year")).to_have_class(re.compile(r"\bgovuk-input--error\b"))


def check_child_edit(v: Visit) -> None:
    heading(v.page, f"Change {v.child.given_name} {v.child.family_name}'s details")
    expect(v.page.get_by_label("First name")).to_have_value(v.child.given_name)
    expect(v.page.get_by_label("Last name")).to_have_value(v.child.family_name)


def check_contact_form(v: Visit) -> None:
    heading(v.page, f"Add a contact for {v.child.given_name} {v.child.family_name}")


def check_contact_form_errors(v: Visit) -> None:
    assert_error_summary(v.page, {
        "#given_name": "Enter the first name",
        "#family_name": "Enter the last name",
        "#relationship": "Select the relationship to the child",
        "#parental_responsibility": "Select yes if they have parental responsibility",
        "#email": "Enter an email address in the correct format, like name@example.com",
    })
    expect(v.page.get_by_label("Email address (optional)")).to_have_value("not-an-email")


def check_placement_form(v: Visit) -> None:
    heading(v.page, f"Add a school, college or setting for {v.child.given_name} {v.child.family_name}")


def check_placement_form_errors(v: Visit) -> None:
    assert_error_summary(v.page, {
        "#urn": "Enter a URN of 6 digits, like 118945",
        "#started_on-day": "Enter the start date",
    })
    expect(v.page.get_by_label("Unique reference number (URN)")).to_have_value("12AB")


def check_activity(v: Visit) -> None:
    heading(v.page, f"Activity on {v.child.given_name} {v.child.family_name}'s record")
    rows = v.page.locator("table tbody tr")
    expect(rows.filter(has_text="Added the child")).to_have_count(1)


def check_text_page(title: str, council: str) -> Callable[[Visit], None]:
    def check(v: Visit) -> None:
        heading(v.page, title)
        expect(v.page.locator("main")).to_contain_text(council)

    return check


def check_api_docs(v: Visit) -> None:
    heading(v.page, "API for software suppliers")
    expect(v.page.get_by_role("heading", name="POST /api/v1/children", exact=True)).to_be_visible()
    expect(v.page.get_by_role("link", name="idempotency-key-reused")).to_have_attribute(
        "href", "/api/v1/problems/idempotency-key-reused")


def check_problem_type(v: Visit) -> None:
    heading(v.page, "Not found")
    expect(v.page.locator("main")).to_contain_text("HTTP status 404")


def check_not_found(v: Visit) -> None:
    heading(v.page, "Page not found")
    expect(v.page).to_have_title(re.compile(r"^Page not found – "))


def check_form_expired(v: Visit) -> None:
    heading(v.page, "Your form has expired")
    expect(v.page.locator("main")).to_contain_text("Nothing has been saved")


LONG_QUERY = "a" * 101

PAGES: list[PageCase] = [
    PageCase("platform-home", "/", check=check_platform_home),
    PageCase("tenant-start", "/t/northshire/", check=check_tenant_start),
    PageCase("sign-in", "/t/northshire/sign-in", check=check_sign_in),
    PageCase("sign-in-error", "/t/northshire/sign-in", status=400, act=sign_in_with_nobody_selected,
             check=check_sign_in_error),
    PageCase("children-list", "/t/northshire/children/", who="caseworker", check=check_children_list),
    PageCase("children-search-results", "/t/northshire/children/", who="caseworker",
             act=search_for(lambda v: v.child.family_name), check=check_search_results),
    PageCase("children-search-no-results", "/t/northshire/children/", who="caseworker", act=search_for("Zyxwvq"),
             check=check_search_no_results),
    PageCase("children-search-error", "/t/northshire/children/", who="caseworker", status=400,
             act=search_for(LONG_QUERY), check=check_search_error),
    PageCase("child", "/t/northshire/children/{child}", who="caseworker", check=check_child),
    PageCase("child-new", "/t/northshire/children/new", who="caseworker", check=check_child_form),
    PageCase("child-new-errors", "/t/northshire/children/new", who="caseworker", status=400,
             act=add_child_with_errors, check=check_child_form_errors),
    PageCase("child-edit", "/t/northshire/children/{child}/edit", who="caseworker", check=check_child_edit),
    PageCase("contact-new", "/t/northshire/children/{child}/contacts/new", who="caseworker", check=check_contact_form),
    PageCase("contact-new-errors", "/t/northshire/children/{child}/contacts/new", who="caseworker", status=400,
             act=add_contact_with_errors, check=check_contact_form_errors),
    PageCase("placement-new", "/t/northshire/children/{child}/placements/new", who="caseworker",
             check=check_placement_form),
    PageCase("placement-new-errors", "/t/northshire/children/{child}/placements/new", who="caseworker", status=400,
             act=add_placement_with_errors, check=check_placement_form_errors),
    PageCase("child-activity", "/t/northshire/children/{child}/activity", who="manager", check=check_activity),
    PageCase("accessibility", "/t/northshire/accessibility",
             check=check_text_page("Accessibility statement", NORTHSHIRE)),
    PageCase("privacy", "/t/northshire/privacy", check=check_text_page("Privacy notice", NORTHSHIRE)),
    PageCase("platform-accessibility", "/accessibility",
             check=check_text_page("Accessibility statement", "your council's SEND team")),
    PageCase("platform-privacy", "/privacy", check=check_text_page("Privacy notice", "Each council")),
    PageCase("api-docs", "/api/v1/docs", check=check_api_docs),
    PageCase("api-problem-type", "/api/v1/problems/not-found", check=check_problem_type),
    PageCase("not-found", "/t/northshire/no-such-page", status=404, check=check_not_found),
    PageCase("unknown-council", "/t/no-such-council/", status=404, check=check_not_found),
    PageCase("form-expired", "/t/northshire/children/new", who="caseworker", status=400,
             act=post_with_tampered_csrf_token, check=check_form_expired),
]


# ---------------------------------------------------------------------------------------
# Every page: content, axe, screenshot


@pytest.mark.browser
@pytest.mark.parametrize("case", PAGES, ids=[c.name for c in PAGES])
def test_page_content_and_accessibility(case: PageCase, new_page: Callable[..., Page], live_server: LiveServer,
                                        northshire_child: DemoChild) -> None:
    visit_page_case(case, new_page=new_page, live_server=live_server, ids={"child": northshire_child.id},
                    visit=lambda page: Visit(page, live_server, northshire_child))


# ---------------------------------------------------------------------------------------
# The page list covers every HTML page the app serves

#: GET routes that serve no HTML page, and why.
NOT_PAGES = {
    "static": "our CSS and JavaScript files",
    "govuk_assets": "GOV.UK Frontend fonts and images",
    "govuk_dist": "GOV.UK Frontend CSS and JavaScript",
    "public.healthz": "JSON health check for load balancers",
    "api-docs.openapi_json": "the OpenAPI document (JSON); its HTML rendering is api_docs.docs",
    "children_api.Children": "JSON API (tests/web/api)",
    "children_api.Child": "JSON API (tests/web/api)",
    "cases_api.Cases": "JSON API (tests/web/api)",
    "cases_api.Case": "JSON API (tests/web/api)",
    "cases_api.CaseEvents": "JSON API (tests/web/api)",
}


def _all_page_lists() -> tuple[list[PageCase], dict[str, str]]:
    """PAGES and NOT_PAGES of every tests/browser/test_*.py module: each area keeps its own
    page list in its own module, and this walk sees them all."""
    pages: list[PageCase] = []
    not_pages: dict[str, str] = {}
    for path in sorted(Path(__file__).parent.glob("test_*.py")):
        module = importlib.import_module(f"tests.browser.{path.stem}")
        pages.extend(getattr(module, "PAGES", []))
        not_pages.update(getattr(module, "NOT_PAGES", {}))
    return pages, not_pages


@pytest.mark.browser
def test_every_html_page_has_a_browser_test(live_server: LiveServer) -> None:
    all_pages, not_pages = _all_page_lists()
    rules = live_server.url_rules()
    endpoints = {r["endpoint"] for r in rules}
    get_endpoints = {r["endpoint"] for r in rules if "GET" in r["methods"]}
    assert "children.index" in get_endpoints, "the URL map looks wrong"
    adapter = Map([Rule(r["rule"], endpoint=r["endpoint"], methods=r["methods"]) for r in rules]).bind("127.0.0.1")
    covered: dict[str, list[str]] = {}
    for case in all_pages:
        if case.status == 404:
            continue  # a deliberate "not found" page covers no route
        # Any {placeholder} (a child's, a case's id ...) stands for an id.
        path = urlsplit(re.sub(r"\{[a-z_]+\}", str(uuid.uuid4()), case.path)).path
        path = re.sub(r"^/t/[a-z][a-z0-9-]*[a-z0-9](?=/)", "", path)  # the tenant prefix (web.middleware)
        try:
            endpoint, _ = adapter.match(path, method="GET")
        except NotFound:
            pytest.fail(f"{case.name}: {case.path} matches no route of the app")
        covered.setdefault(str(endpoint), []).append(case.name)
    stale = set(not_pages) - endpoints
    assert not stale, f"NOT_PAGES names endpoints the app no longer has: {sorted(stale)}"
    missing = get_endpoints - set(not_pages) - set(covered)
    assert not missing, (
        f"GET routes with no browser test: {sorted(missing)}. Add a PageCase to a PAGES list in tests/browser/ "
        "(or, if the route serves no HTML, add it to a NOT_PAGES table with the reason)."
    )


# ---------------------------------------------------------------------------------------
# Journeys


@pytest.mark.browser
def test_newcomer_signs_in_to_northshire_and_cannot_see_southvale(
        new_page: Callable[..., Page], live_server: LiveServer, api_tokens: dict[str, str]) -> None:
    northshire = list_children(live_server, api_tokens["northshire"])
    southvale = list_children(live_server, api_tokens["southvale"])
    assert northshire and southvale
    assert not {c.id for c in northshire} & {c.id for c in southvale}

    # The start page, then the demo sign-in as Northshire's caseworker.
    page = new_page()
    page.goto(live_server.tenant_url("northshire"))
    heading(page, f"{NORTHSHIRE} SEND casework")
    with page.expect_event("load"):
        page.get_by_role("button", name="Sign in").click()
    heading(page, f"Sign in to {NORTHSHIRE}")
    page.get_by_role("radio", name="Amara Okafor").check()
    with page.expect_event("load"):
        page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(live_server.tenant_url("northshire", "/children/"))
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Signed in as Amara Okafor")
    expect(page.locator(".govuk-service-navigation")).to_contain_text("Amara Okafor")

    # Northshire's children (the first page of 25), and one of them.
    table = page.get_by_role("table")
    expect(table.locator("tbody tr")).to_have_count(min(len(northshire), 25))
    hrefs = set(table.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))"))
    assert hrefs <= {f"/t/northshire/children/{c.id}" for c in northshire}, hrefs
    first = northshire[0]
    expect(table.get_by_role("link", name=first.list_name, exact=True)).to_have_count(1)
    with page.expect_event("load"):
        table.get_by_role("link", name=first.list_name, exact=True).click()
    expect(page).to_have_url(live_server.tenant_url("northshire", f"/children/{first.id}"))
    heading(page, f"{first.given_name} {first.family_name}")

    # A Southvale child's address while signed in to Northshire: the same 404 as no such child.
    other = southvale[0]
    response = page.goto(live_server.tenant_url("northshire", f"/children/{other.id}"))
    assert response is not None and response.status == 404
    heading(page, "Page not found")
    expect(page.locator("body")).not_to_contain_text(other.family_name)
    for suffix in ("/edit", "/activity", "/contacts/new", "/placements/new"):
        response = page.goto(live_server.tenant_url("northshire", f"/children/{other.id}{suffix}"))
        assert response is not None and response.status == 404, suffix
    check_page(page, "journey-other-council-child-404")

    # Southvale's own list, as Southvale's caseworker, shows nothing of Northshire's.
    sign_in(page, live_server, *USERS["southvale-caseworker"])
    expect(page).to_have_url(live_server.tenant_url("southvale", "/children/"))
    links = page.locator("main table a").evaluate_all("links => links.map(a => [a.getAttribute('href'), a.textContent])")
    assert len(links) == min(len(southvale), 25), links
    hrefs = {href for href, _ in links}
    names = {text for _, text in links}
    assert hrefs <= {f"/t/southvale/children/{c.id}" for c in southvale}, hrefs
    assert not names & {c.list_name for c in northshire}, names
    expect(page.locator("main")).not_to_contain_text(NORTHSHIRE)
    # And Northshire's child is as missing from Southvale as Southvale's was from Northshire.
    response = page.goto(live_server.tenant_url("southvale", f"/children/{first.id}"))
    assert response is not None and response.status == 404


@pytest.mark.browser
def test_caseworker_adds_a_child_sees_it_in_the_list_and_signs_out(
        new_page: Callable[..., Page], live_server: LiveServer) -> None:
    given = "Browser"
    family = "".join(random.choices(string.ascii_lowercase, k=10)).capitalize()
    page = new_page()
    slug, name = USERS["caseworker"]
    sign_in(page, live_server, slug, name)

    with page.expect_event("load"):
        page.get_by_role("button", name="Add a child or young person").click()
    heading(page, "Add a child or young person")
    page.get_by_label("First name").fill(given)
    page.get_by_label("Last name").fill(family)
    dob = page.get_by_role("group", name="Date of birth")
    dob.get_by_label("Day").fill("3")
    dob.get_by_label("Month").fill("4")
    dob.get_by_label("Year").fill("2016")
    page.get_by_role("radio", name="Female").check()
    response = submit(page, "Save")
    assert response.status == 200 and response.request.redirected_from is not None  # POST, redirect, GET
    heading(page, f"{given} {family}")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(f"{given} {family} has been added")
    expect(page.locator(".govuk-summary-list")).to_contain_text("3 April 2016")
    child_url = page.url

    with page.expect_event("load"):
        page.get_by_role("link", name="All children").click()
    page.get_by_label("Find a child or young person").fill(family)
    submit(page, "Search")
    expect(page.get_by_role("status")).to_have_text(f"1 result for ‘{family}’")
    link = page.get_by_role("link", name=f"{family}, {given}", exact=True)
    expect(link).to_have_attribute("href", urlsplit(child_url).path)

    # Sign out: back to the sign-in page, and the list is no longer open.
    submit(page, "Sign out")
    expect(page).to_have_url(live_server.tenant_url("northshire", "/sign-in"))
    expect(page.locator(".govuk-notification-banner")).to_contain_text("You have signed out")
    expect(page.locator(".govuk-service-navigation")).not_to_contain_text(name)
    page.goto(child_url)
    expect(page).to_have_url(re.compile(r"/t/northshire/sign-in\?next="))
    expect(page.locator("body")).not_to_contain_text(family)


@pytest.mark.browser
def test_error_summary_link_moves_focus_to_the_field(new_page: Callable[..., Page], live_server: LiveServer) -> None:
    page = new_page("caseworker")
    page.goto(live_server.tenant_url("northshire", "/children/new"))
    submit(page, "Save")
    expect(page.locator(".govuk-error-summary")).to_be_focused()
    page.locator(".govuk-error-summary").get_by_role("link", name="Enter the last name").click()
    expect(page.get_by_label("Last name")).to_be_focused()
    page.locator(".govuk-error-summary").get_by_role("link", name="Enter the date of birth").click()
    expect(page.locator("#date_of_birth-day")).to_be_focused()


@pytest.mark.browser
def test_pages_work_under_the_real_csp(new_page: Callable[..., Page], live_server: LiveServer) -> None:
    """Without bypass_csp: GOV.UK Frontend's JS runs (its nonce'd inline script and our module),
    and the browser reports no CSP violation."""
    page = new_page("caseworker", bypass_csp=False)
    problems: list[str] = []
    # Chromium logs the 400 page's own status as a console error; anything else is a problem.
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" and
            "the server responded with a status of 400" not in m.text else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    response = page.goto(live_server.tenant_url("northshire", "/children/"))
    assert response is not None
    assert "script-src 'self'" in (response.headers.get("content-security-policy") or "")
    page.get_by_label("Find a child or young person").fill(LONG_QUERY)
    submit(page, "Search")
    expect(page.locator("body")).to_have_class(re.compile(r"\bgovuk-frontend-supported\b"))
    expect(page.locator(".govuk-error-summary")).to_be_focused()
    assert not problems, problems


#: Pages with tables or long text: checked again at 320 CSS pixels wide (WCAG 2.2 1.4.10
#: reflow), where tables scroll sideways inside a focusable region.
NARROW = ["children-list", "child", "child-activity", "api-docs", "child-new-errors"]


@pytest.mark.browser
@pytest.mark.parametrize("name", NARROW)
def test_pages_at_320_pixels_wide(name: str, new_page: Callable[..., Page], live_server: LiveServer,
                                  northshire_child: DemoChild) -> None:
    case = next(c for c in PAGES if c.name == name)
    page = new_page(case.who, viewport={"width": 320, "height": 640})
    response = page.goto(live_server.url(case.path.format(child=northshire_child.id)))
    assert response is not None
    if case.act is not None:
        response = case.act(Visit(page, live_server, northshire_child))
    assert response.status == case.status
    # Nothing but a table region may be wider than the screen (no page-level sideways scroll).
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 320
    check_page(page, f"{name}-narrow")
