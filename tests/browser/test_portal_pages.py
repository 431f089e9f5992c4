"""Signing in to the portals (e-mail link, demo), the portal home, the council switcher,
"confirm it is you", and the operator's break-glass pages, in headless Chromium with axe-core.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Response, expect

from tests.browser.conftest import (
    PageCase, assert_error_summary, check_page, heading, list_children, submit, visit_page_case,
)
from tests.browser.test_advice_pages import confirm_if_asked
from tests.live_server import LiveServer
from tenants import demo

N = "/t/northshire"
PARENT_NAME, PARENT_EMAIL = demo.portal_people(demo.COUNCILS[0])["parent"]


@dataclass
class Visit:
    page: Page
    server: LiveServer


def ask_for_link(email: str) -> Callable[[Visit], Response]:
    def act(v: Visit) -> Response:
        v.page.get_by_label("Email address").fill(email)
        return submit(v.page, "Email me a sign-in link")

    return act


def check_sign_in(v: Visit) -> None:
    heading(v.page, "Sign in to Northshire County Council SEND services")
    expect(v.page.get_by_role("radio", name=PARENT_NAME)).to_have_count(1)  # the demo's people
    expect(v.page.get_by_role("link", name="Sign in with your school or college account")).to_have_count(1)


def check_sign_in_error(v: Visit) -> None:
    assert_error_summary(v.page, {"#email": "Enter an email address in the correct format, like name@example.com"})


def check_check_email(v: Visit) -> None:
    heading(v.page, "Check your email")
    expect(v.page.locator("main")).to_contain_text("within 15 minutes")


def check_home(v: Visit) -> None:
    heading(v.page, "Your SEND services at Northshire County Council")
    expect(v.page.get_by_role("link", name="See where things are up to, and have your say")).to_have_count(1)
    expect(v.page.get_by_role("button", name="Sign out everywhere")).to_have_count(1)


def check_councils(v: Visit) -> None:
    heading(v.page, "Choose a council")
    expect(v.page.locator("main")).to_contain_text("No other councils")


def check_confirm(v: Visit) -> None:
    heading(v.page, "Confirm it is you")


def check_operator_home(v: Visit) -> None:
    heading(v.page, "Operator access to Northshire County Council")
    expect(v.page.get_by_role("button", name="Open break-glass access")).to_have_count(1)


def open_glass_without_reason(v: Visit) -> Response:
    return submit(v.page, "Open break-glass access")


def check_operator_errors(v: Visit) -> None:
    assert_error_summary(v.page, {
        "#reason": "Say why you need to see this council's records, in 10 to 1000 characters",
        "#minutes": "Select how long you need access for",
    })


def check_history(v: Visit) -> None:
    heading(v.page, "Operator break-glass access")


def press(button: str) -> Callable[[Visit], Response]:
    return lambda v: submit(v.page, button)


def check_invitation(v: Visit) -> None:
    heading(v.page, "You have been invited")
    expect(v.page.locator("main")).to_contain_text("Northshire County Council has invited you")


def check_link_refused(v: Visit) -> None:
    heading(v.page, "You could not be signed in")
    expect(v.page.locator("main")).to_contain_text("This link is not valid")


PAGES: list[PageCase] = [
    PageCase("portal-sign-in", f"{N}/portal/sign-in", check=check_sign_in),
    PageCase("portal-sign-in-error", f"{N}/portal/sign-in", status=400, act=ask_for_link("not an address"),
             check=check_sign_in_error),
    PageCase("portal-check-email", f"{N}/portal/sign-in", act=ask_for_link("nobody@example.org"),
             check=check_check_email),
    # Straight to "check your email" with nothing asked: back to the form; then ask.
    PageCase("portal-check-email-page", f"{N}/portal/sign-in/check-email", act=ask_for_link("someone@example.org"),
             check=check_check_email),
    PageCase("portal-link-refused", f"{N}/portal/sign-in/link/not-a-real-link", status=400, act=press("Continue"),
             check=check_link_refused),
    PageCase("portal-invitation", f"{N}/invitations/{{invitation}}", check=check_invitation),
    PageCase("portal-home", f"{N}/portal/", who="parent", check=check_home),
    PageCase("portal-councils", f"{N}/portal/councils", who="parent", check=check_councils),
    PageCase("confirm-it-is-you", f"{N}/confirm-it-is-you?next={N}/portal/", who="parent", check=check_confirm),
    PageCase("operator-home", f"{N}/operator/", who="operator", check=check_operator_home),
    PageCase("operator-home-errors", f"{N}/operator/", who="operator", status=400, act=open_glass_without_reason,
             check=check_operator_errors),
    PageCase("break-glass-history", f"{N}/break-glass", who="manager", check=check_history),
]


@pytest.fixture(scope="module")
def invitation(browser: Browser, browser_context_args: dict[str, Any], storage_states: Callable[[str], Any],
               live_server: LiveServer) -> str:
    """An invitation's secret: Northshire's caseworker invites the demo's first child's parent
    on the staff pages, and the e-mail lands in the live server's mail folder."""
    ctx = browser.new_context(**browser_context_args, storage_state=storage_states("caseworker"))
    try:
        page = ctx.new_page()
        token = live_server.api_token("northshire", scopes="children:read")
        child = next(c for c in list_children(live_server, token) if c.family_name == _first_family())
        page.goto(live_server.tenant_url("northshire", f"/children/{child.id}/access/parent"))
        confirm_if_asked(page)
        page.get_by_role("radio").first.check()
        submit(page, "Send invitation")
        address = re.search(r"Invitation sent to (\S+)", page.locator(".govuk-notification-banner").inner_text())
        assert address, page.content()
        body = live_server.mail_to(address.group(1).rstrip("."))[-1].get_content()
        match = re.search(r"/invitations/([A-Za-z0-9_-]+)", body)
        assert match, body
        return match.group(1)
    finally:
        ctx.close()


def _first_family() -> str:
    """The family name of the demo's first Northshire child (tenants/demo.py)."""
    return demo._child_name(demo.COUNCILS[0], 0)[1]


@pytest.mark.browser
@pytest.mark.parametrize("case", PAGES, ids=[c.name for c in PAGES])
def test_portal_page_content_and_accessibility(case: PageCase, new_page: Callable[..., Page],
                                               live_server: LiveServer, request: pytest.FixtureRequest) -> None:
    ids = {"invitation": request.getfixturevalue("invitation")} if "{invitation}" in case.path else {}
    visit_page_case(case, new_page=new_page, live_server=live_server, ids=ids,
                    visit=lambda page: Visit(page, live_server))


@pytest.mark.browser
def test_a_parent_signs_in_with_an_email_link_in_the_same_browser(new_page: Callable[..., Page],
                                                                   live_server: LiveServer) -> None:
    page = new_page()
    page.goto(live_server.tenant_url("northshire", "/portal/sign-in"))
    before = len(live_server.mail_to(PARENT_EMAIL))
    ask_for_link(PARENT_EMAIL)(Visit(page, live_server))
    heading(page, "Check your email")
    messages = live_server.mail_to(PARENT_EMAIL)
    assert len(messages) == before + 1
    link = re.search(r"https?://\S+/portal/sign-in/link/\S+", messages[-1].get_content())
    assert link, messages[-1].get_content()
    # The link names this server's own address; open it in the same browser.
    path = re.sub(r"^https?://[^/]+", "", link.group(0))
    page.goto(live_server.url(path))
    heading(page, "Continue to sign in")
    check_page(page, "portal-link")
    submit(page, "Continue")
    heading(page, "Your SEND services at Northshire County Council")
    expect(page.locator(".govuk-service-navigation")).to_contain_text(PARENT_NAME)
    # The same link in another browser (a forwarded e-mail) signs nobody in.
    thief = new_page()
    thief.goto(live_server.url(path))
    response = submit(thief, "Continue")
    assert response.status == 400
    heading(thief, "You could not be signed in")


@pytest.mark.browser
def test_an_operator_opens_break_glass_reads_a_record_and_the_manager_sees_it(
        new_page: Callable[..., Page], live_server: LiveServer) -> None:
    op = new_page("operator")
    op.goto(live_server.tenant_url("northshire", "/children/"))
    assert "/sign-in" in op.url  # nothing before break-glass
    op.goto(live_server.tenant_url("northshire", "/operator/"))
    op.get_by_label("Why do you need access?").fill("Ticket SB-981: the council reports a wrong review date")
    op.get_by_role("radio", name="30 minutes").check()
    submit(op, "Open break-glass access")
    heading(op, "Children and young people")
    expect(op.locator(".govuk-notification-banner")).to_contain_text("Everything you look at is recorded")
    manager = new_page("manager")
    manager.goto(live_server.tenant_url("northshire", "/break-glass"))
    expect(manager.locator("main")).to_contain_text("Ticket SB-981")
    op.goto(live_server.tenant_url("northshire", "/operator/"))
    submit(op, "End break-glass access now")
    op.goto(live_server.tenant_url("northshire", "/children/"))
    assert "/sign-in" in op.url
