"""Council staff pages for the portals in headless Chromium, as the demo caseworker Amara
Okafor (Northshire): people with access, every invitation form, withdrawing access, sending an
invitation again, consent; each page's error state; zero axe-core violations; a screenshot
each. And the family's way in: the caseworker adds a parent to a child's record and invites
them; the invitation arrives in the live server's mail folder; in a browser that has never
signed in, the parent opens it, asks for a sign-in link, opens that link from the mail folder
in the same browser, and sees their child's page.

The pages are shown for the demo's own children (the parent's child, index 2, whose parent
has access; the young person, index 11; the youngest, index 0) without changing them: only the
journey sends an invitation, for a child made here.

Inviting, withdrawing access, sending again and consent need a sign-in from the last 15 minutes; the
caseworker's demo session may be older by the time these pages run, so a visit that lands on
"Confirm it is you" confirms (the demo's button) and carries on, as a caseworker would.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, Response, expect

from tenants import demo as _demo
from tests.browser.conftest import (
    PageCase, assert_error_summary, check_page, heading, list_children, submit, visit_page_case,
)
from tests.browser.test_advice_pages import _demo_advice_case, confirm_if_asked
from tests.live_server import LiveServer

N = "/t/northshire"
NORTHSHIRE = _demo.COUNCILS[0]
PARENT_NAME = _demo.portal_people(NORTHSHIRE)["parent"][0]


def _today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Europe/London")).date()


@dataclass(frozen=True)
class AccessIds:
    #: Demo child 2, whose parent has access (tenants/demo.py PARENT_CHILD).
    parent_child: str
    #: Demo child 11, a young person (YOUNG_PERSON_CHILD).
    young_person: str
    #: Demo child 0, the youngest-recorded: years from compulsory school age.
    young_child: str
    #: The demo case awaiting medical advice (child 1).
    advice_case: str

    def ids(self) -> dict[str, str]:
        return {k: getattr(self, k) for k in ("parent_child", "young_person", "young_child", "advice_case")}


@pytest.fixture(scope="session")
def access_ids(live_server: LiveServer) -> AccessIds:
    token = live_server.api_token("northshire", scopes="children:read cases:read")
    kids = list_children(live_server, token)  # in the order the demo made them
    advice_case, _name, _due = _demo_advice_case(live_server, token)
    return AccessIds(parent_child=kids[_demo.PARENT_CHILD].id, young_person=kids[_demo.YOUNG_PERSON_CHILD].id,
                     young_child=kids[0].id, advice_case=advice_case)


@dataclass
class AccessVisit:
    page: Page
    server: LiveServer
    ids: AccessIds


def visit(server: LiveServer, ids: AccessIds) -> Callable[[Page], AccessVisit]:
    def make(page: Page) -> AccessVisit:
        confirm_if_asked(page)
        return AccessVisit(page, server, ids)

    return make


def press(button: str) -> Callable[[AccessVisit], Response]:
    return lambda v: submit(v.page, button)


def legend_heading(page: Page, title: str) -> None:
    """A one-question page: the question is the page's heading, after the child's name."""
    expect(page.locator("h1")).to_have_text(re.compile(rf"{re.escape(title)}\s*$"))


# --- checks ----------------------------------------------------------------------------


def check_people(v: AccessVisit) -> None:
    heading(v.page, "People with access")
    row = v.page.locator("#people tbody tr").filter(has_text=PARENT_NAME)
    expect(row.first).to_contain_text("Parent or carer")
    expect(row.first.locator(".govuk-tag")).to_have_text("Has access")
    expect(v.page.get_by_role("link", name="Invite a parent or carer")).to_be_visible()
    expect(v.page.get_by_role("heading", name="Consent to share information")).to_be_visible()
    expect(v.page.locator("main")).to_contain_text("regulation 17")


def check_invite_parent(v: AccessVisit) -> None:
    legend_heading(v.page, "Which parent or carer do you want to invite?")
    expect(v.page.get_by_role("radio", name=re.compile(re.escape(PARENT_NAME)))).to_have_count(1)


def check_invite_parent_errors(v: AccessVisit) -> None:
    first = v.page.locator("input[name=contact]").first.get_attribute("id")
    assert_error_summary(v.page, {f"#{first}": "Select the parent or carer to invite"})


def check_invite_young_person(v: AccessVisit) -> None:
    heading(v.page, re.compile(r"^Invite "))
    expect(v.page.get_by_label("Their email address")).to_have_attribute("type", "email")
    expect(v.page.locator("main")).to_contain_text("section 83(2)")


def check_invite_young_person_errors(v: AccessVisit) -> None:
    assert_error_summary(v.page, {"#email": "Enter an email address"})


def check_not_yet_a_young_person(v: AccessVisit) -> None:
    expect(v.page.locator("main")).to_contain_text("is not over compulsory school age yet")
    expect(v.page.get_by_label("Their email address")).to_have_count(0)
    expect(v.page.get_by_role("link", name="invite a parent or carer")).to_be_visible()


def check_invite_senco(v: AccessVisit) -> None:
    heading(v.page, "Invite a SENCO")
    expect(v.page.locator(".govuk-warning-text")).to_contain_text("every pupil on roll")
    expect(v.page.locator("input[name=urn]").first).to_be_checked()


def check_invite_senco_errors(v: AccessVisit) -> None:
    assert_error_summary(v.page, {"#email": "Enter an email address"})


def check_invite_professional(v: AccessVisit) -> None:
    heading(v.page, "Invite a professional")
    expect(v.page.get_by_role("radio", name="Medical advice (reference med-1)")).to_have_count(1)
    expect(v.page.get_by_role("radio", name="The whole case")).to_have_count(1)
    expect(v.page.locator("main")).to_contain_text("regulation 8(1)")


def check_invite_professional_errors(v: AccessVisit) -> None:
    assert_error_summary(v.page, {"#advice_id-med-1": "Select what they are asked to advise on",
                                  "#email": "Enter an email address"})


def check_resend(v: AccessVisit) -> None:
    legend_heading(v.page, "Which invitation do you want to send again?")


def check_revoke(v: AccessVisit) -> None:
    legend_heading(v.page, "Whose access do you want to withdraw?")
    expect(v.page.get_by_role("radio", name=re.compile(re.escape(PARENT_NAME)))).to_have_count(1)
    expect(v.page.get_by_role("button", name="Withdraw access")).to_have_class(re.compile("govuk-button--warning"))


def check_revoke_errors(v: AccessVisit) -> None:
    first = v.page.locator("input[name=membership]").first.get_attribute("id")
    assert_error_summary(v.page, {f"#{first}": "Select whose access to withdraw"})


def check_consent(v: AccessVisit) -> None:
    heading(v.page, "Record consent to share information")
    expect(v.page.get_by_label("Who may the information be shared with?")).to_be_visible()


def check_consent_errors(v: AccessVisit) -> None:
    assert_error_summary(v.page, {"#recipient": "Enter who the information may be shared with",
                                  "#purpose": "Enter what it may be shared for"})


def check_withdraw_consent(v: AccessVisit) -> None:
    legend_heading(v.page, "Which consent has been withdrawn?")


C = N + "/children/{parent_child}"
PAGES: list[PageCase] = [
    PageCase("access-people", C + "/access", who="caseworker", check=check_people),
    PageCase("access-invite-parent", C + "/access/parent", who="caseworker", check=check_invite_parent),
    PageCase("access-invite-parent-errors", C + "/access/parent", who="caseworker", status=400,
             act=press("Send invitation"), check=check_invite_parent_errors),
    PageCase("access-invite-young-person", N + "/children/{young_person}/access/young-person", who="caseworker",
             check=check_invite_young_person),
    PageCase("access-invite-young-person-errors", N + "/children/{young_person}/access/young-person",
             who="caseworker", status=400, act=press("Send invitation"), check=check_invite_young_person_errors),
    PageCase("access-young-person-not-yet", N + "/children/{young_child}/access/young-person", who="caseworker",
             check=check_not_yet_a_young_person),
    PageCase("access-invite-senco", C + "/access/senco", who="caseworker", check=check_invite_senco),
    PageCase("access-invite-senco-errors", C + "/access/senco", who="caseworker", status=400,
             act=press("Send invitation"), check=check_invite_senco_errors),
    PageCase("access-invite-professional", N + "/cases/{advice_case}/access/professional", who="caseworker",
             check=check_invite_professional),
    PageCase("access-invite-professional-errors", N + "/cases/{advice_case}/access/professional", who="caseworker",
             status=400, act=press("Send invitation"), check=check_invite_professional_errors),
    PageCase("access-resend", C + "/access/resend", who="caseworker", check=check_resend),
    PageCase("access-revoke", C + "/access/revoke", who="caseworker", check=check_revoke),
    PageCase("access-revoke-errors", C + "/access/revoke", who="caseworker", status=400, act=press("Withdraw access"),
             check=check_revoke_errors),
    PageCase("access-consent", C + "/consents/new", who="caseworker", check=check_consent),
    PageCase("access-consent-errors", C + "/consents/new", who="caseworker", status=400, act=press("Record consent"),
             check=check_consent_errors),
    PageCase("access-consent-withdraw", C + "/consents/withdraw", who="caseworker", check=check_withdraw_consent),
]


@pytest.mark.browser
@pytest.mark.parametrize("case", PAGES, ids=[c.name for c in PAGES])
def test_access_page_content_and_accessibility(case: PageCase, new_page: Callable[..., Page], live_server: LiveServer,
                                               access_ids: AccessIds) -> None:
    visit_page_case(case, new_page=new_page, live_server=live_server, ids=access_ids.ids(),
                    visit=visit(live_server, access_ids))


@pytest.mark.browser
def test_people_with_access_at_320_pixels_wide(new_page: Callable[..., Page], live_server: LiveServer,
                                               access_ids: AccessIds) -> None:
    page = new_page("caseworker", viewport={"width": 320, "height": 640})
    page.goto(live_server.url(C.format(**access_ids.ids()) + "/access"))
    heading(page, "People with access")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 320
    check_page(page, "access-people-narrow")


# ---------------------------------------------------------------------------------------
# The family's way in


def _address() -> str:
    return "".join(random.choices(string.ascii_lowercase, k=10)) + "@family.example.org"


def _link(server: LiveServer, address: str, pattern: str) -> str:
    """The newest link matching ``pattern`` in the mail the server sent to ``address``."""
    messages = server.mail_to(address)
    assert messages, f"no e-mail to {address}"
    match = re.search(rf"http://127\.0\.0\.1:\d+/t/northshire{pattern}[A-Za-z0-9_-]+", messages[-1].get_content())
    assert match, messages[-1].get_content()
    return match.group(0)


@pytest.mark.browser
def test_a_caseworker_invites_a_parent_who_signs_in_from_the_email_and_sees_their_childs_page(
        new_page: Callable[..., Page], live_server: LiveServer) -> None:
    token = live_server.api_token("northshire", scopes="children:read children:write cases:write")
    family = "".join(random.choices(string.ascii_lowercase, k=8)).capitalize()
    status, _, child = live_server.http("POST", "/api/v1/children", token=token, json_body={
        "given_name": "Invited", "family_name": family, "date_of_birth": dt.date(_today().year - 6, 2, 2).isoformat()})
    assert status == 201, child
    status, _, case = live_server.http("POST", "/api/v1/cases", token=token, json_body={
        "child_id": child["id"], "events": [{"type": "request_received", "date": (_today() - dt.timedelta(days=5))
                                             .isoformat(), "requester": "parent"}]})
    assert status == 201, case
    address = _address()

    # The caseworker records the mother, with parental responsibility and an e-mail address.
    staff = new_page("caseworker")
    staff.goto(live_server.url(f"{N}/children/{child['id']}"))
    with staff.expect_event("load"):
        staff.get_by_role("button", name="Add a contact").click()
    staff.get_by_label("First name").fill("Maya")
    staff.get_by_label("Last name").fill(family)
    staff.get_by_label("Relationship to the child").select_option("mother")
    staff.get_by_role("group", name="Do they have parental responsibility?").get_by_label("Yes").check()
    staff.get_by_label("Email address (optional)").fill(address)
    assert submit(staff, "Add contact").status == 200

    # From the child's page to the people with access, and the invitation.
    with staff.expect_event("load"):
        staff.get_by_role("link", name="People with access to these records, invitations and consent to share").click()
    heading(staff, "People with access")
    with staff.expect_event("load"):
        staff.get_by_role("link", name="Invite a parent or carer").click()
    confirm_if_asked(staff)
    staff.get_by_role("radio", name=f"Maya {family} (mother)").check()
    assert submit(staff, "Send invitation").status == 200
    expect(staff.locator(".govuk-notification-banner")).to_contain_text(f"Invitation sent to {address}")
    row = staff.locator("#people tbody tr").filter(has_text=address)
    expect(row.locator(".govuk-tag")).to_have_text("Invited")
    check_page(staff, "access-journey-invited")

    # The invitation e-mail names the council, not the child.
    (invitation,) = live_server.mail_to(address)
    assert invitation["Subject"] == f"Invitation from {NORTHSHIRE.name} SEND services"
    assert "Invited" not in invitation.get_content() and family not in invitation.get_content()
    invitation_url = _link(live_server, address, "/invitations/")

    # A browser that has never signed in: the invitation, then an e-mail sign-in link.
    parent = new_page()
    parent.goto(invitation_url)
    heading(parent, "You have been invited")
    expect(parent.locator("main")).to_contain_text(NORTHSHIRE.name)
    expect(parent.locator("main")).not_to_contain_text(family)
    with parent.expect_event("load"):
        parent.get_by_role("button", name="Continue").click()
    parent.get_by_label("Email address").fill(address)
    with parent.expect_event("load"):
        parent.get_by_role("button", name="Email me a sign-in link").click()
    heading(parent, "Check your email")
    parent.goto(_link(live_server, address, "/portal/sign-in/link/"))
    assert submit(parent, "Continue").status == 200
    expect(parent.locator(".govuk-notification-banner")).to_contain_text("You are signed in")

    # Their child's page.
    response = parent.goto(live_server.url(f"{N}/portal/family/children/{child['id']}"))
    assert response is not None and response.status == 200
    expect(parent.locator("h1")).to_contain_text(f"Invited {family}")
    check_page(parent, "access-journey-parent-child-page")

    # And the caseworker sees that the invitation was taken up.
    staff.reload()
    expect(staff.locator("#people tbody tr").filter(has_text=address).locator(".govuk-tag")).to_have_text("Has access")
