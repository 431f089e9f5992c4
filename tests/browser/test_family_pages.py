"""The parent, carer and young person portal in headless Chromium, as the demo's parent Laura
Evans and young person Layla Begum (Northshire): every page, the error states of its forms,
zero axe-core violations, a screenshot each; and the two journeys of issue #4:

* the parent signs in, reads the timeline of their child's case, comments on two sections of
  the draft plan inside the 15-day window, sends their views with a file, and names a
  preferred school;
* the young person asks for a personal budget and sees who has looked at their record (the
  caseworker who has just opened it among them).

The pages show the demo's own children (tenants/demo.py: the parent's child, index 2; the
young person, index 11) without changing them: only the forms' error states are sent. The
parent's journey needs a draft plan inside its window, so it is made here, as a council
would: a child and a case taken to a served draft through the public API (a supplier's
system), the parent recorded as a contact and invited on the caseworker's pages; the demo's
parent takes the invitation up by signing in.
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
from playwright.sync_api import Page, Response, expect

from tenants import demo as _demo
from tests.browser.conftest import (
    USERS, PageCase, assert_error_summary, check_page, heading, list_children, sign_in, submit, visit_page_case,
)
from tests.live_server import LiveServer

N = "/t/northshire"
F = N + "/portal/family/children"
NORTHSHIRE = _demo.COUNCILS[0]
PARENT_NAME = USERS["parent"][1]
PARENT_EMAIL = _demo.portal_people(NORTHSHIRE)["parent"][1]
YOUNG_NAME = USERS["young_person"][1]
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n"


def _today() -> dt.date:
    """Today as the app counts it (core.clock: England)."""
    return dt.datetime.now(ZoneInfo("Europe/London")).date()


def _days(n: int) -> str:
    return (_today() + dt.timedelta(days=n)).isoformat()


def _weekday(day: dt.date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


# ---------------------------------------------------------------------------------------
# The demo's family children


@dataclass(frozen=True)
class FamilyIds:
    #: Demo child 2, whose parent (Laura Evans) has access.
    parent_child: str
    parent_child_name: str
    #: Demo child 11, the young person Layla Begum.
    young_person: str

    def ids(self) -> dict[str, str]:
        return {"parent_child": self.parent_child, "young_person": self.young_person}


@pytest.fixture(scope="session")
def family_ids(live_server: LiveServer) -> FamilyIds:
    kids = list_children(live_server, live_server.api_token("northshire", scopes="children:read"))  # demo order
    parent_child = kids[_demo.PARENT_CHILD]
    return FamilyIds(parent_child=parent_child.id,
                     parent_child_name=f"{parent_child.given_name} {parent_child.family_name}",
                     young_person=kids[_demo.YOUNG_PERSON_CHILD].id)


@dataclass
class FamilyVisit:
    page: Page
    server: LiveServer
    ids: FamilyIds


def visit(server: LiveServer, ids: FamilyIds) -> Callable[[Page], FamilyVisit]:
    return lambda page: FamilyVisit(page, server, ids)


def press(button: str) -> Callable[[FamilyVisit], Response]:
    return lambda v: submit(v.page, button)


def fill(fields: dict[str, str], button: str) -> Callable[[FamilyVisit], Response]:
    def act(v: FamilyVisit) -> Response:
        for label, value in fields.items():
            v.page.get_by_label(label, exact=True).fill(value)
        return submit(v.page, button)

    return act


# --- checks ----------------------------------------------------------------------------


def check_index(v: FamilyVisit) -> None:
    heading(v.page, "Your EHC needs assessments and plans")
    expect(v.page.get_by_role("link", name=v.ids.parent_child_name)).to_have_attribute(
        "href", f"{F}/{v.ids.parent_child}")


def check_child(v: FamilyVisit) -> None:
    heading(v.page, v.ids.parent_child_name)
    main = v.page.locator("main")
    expect(main.get_by_role("heading", name="What happens next")).to_be_visible()
    expect(main.get_by_role("heading", name="What has happened so far")).to_be_visible()
    expect(main.locator(".app-timeline")).to_contain_text("We sent you the draft EHC plan")
    expect(main).to_contain_text("Amara Okafor")
    expect(main.get_by_role("link", name=NORTHSHIRE.email)).to_have_attribute("href", f"mailto:{NORTHSHIRE.email}")


def check_young_person(v: FamilyVisit) -> None:
    heading(v.page, "Your EHC needs assessment and plan")
    main = v.page.locator("main")
    expect(main.locator(".app-timeline")).to_contain_text("We issued the final EHC plan")
    expect(main.get_by_role("link", name="Ask for a personal budget")).to_be_visible()
    expect(main.get_by_role("link", name="Ask for a re-assessment")).to_be_visible()


def check_views(v: FamilyVisit) -> None:
    expect(v.page.locator("h1")).to_contain_text("views")
    expect(v.page.get_by_label("Your own views as", exact=False)).to_be_visible()
    expect(v.page.get_by_label("Add files")).to_have_attribute("type", "file")


def check_views_errors(v: FamilyVisit) -> None:
    assert_error_summary(v.page, {"#about": "Write something in at least one box, or add a file"})


def check_request_under_way(v: FamilyVisit) -> None:
    heading(v.page, "Ask for an EHC needs assessment")
    expect(v.page.locator("main")).to_contain_text("You do not need to ask again")
    expect(v.page.locator("main form")).to_have_count(0)


def check_reassessment(v: FamilyVisit) -> None:
    heading(v.page, "Ask for a re-assessment")
    expect(v.page.get_by_label("Why are you asking?")).to_be_visible()


def check_reassessment_errors(v: FamilyVisit) -> None:
    assert_error_summary(v.page, {"#reasons": "Say why you are asking for an assessment"})


def check_draft(v: FamilyVisit) -> None:
    heading(v.page, "Comment on the draft plan")
    for section in ("A", "B", "F", "K"):
        expect(v.page.locator(f"#section-{section} h2")).to_contain_text(f"Section {section}:")


def check_comment(v: FamilyVisit) -> None:
    heading(v.page, "Comment on section B: special educational needs")
    expect(v.page.locator("#section-B")).to_be_visible()


def check_school(v: FamilyVisit) -> None:
    heading(v.page, "Ask for a school or college")


def check_school_errors(v: FamilyVisit) -> None:
    assert_error_summary(v.page, {"#urn": "The URN must be 6 digits, like 123456"})


def check_budget(v: FamilyVisit) -> None:
    heading(v.page, "Ask for a personal budget")
    expect(v.page.locator("main")).to_contain_text("section 49")


def check_budget_errors(v: FamilyVisit) -> None:
    assert_error_summary(v.page, {"#areas": "Select what the personal budget would pay for",
                                  "#way": "Select how you would like the money to be managed",
                                  "#details": "Say what you would use the personal budget for"})


def check_sent(v: FamilyVisit) -> None:
    heading(v.page, "What you have sent")


def check_who_can_see(v: FamilyVisit) -> None:
    heading(v.page, "Who can see the case")
    row = v.page.locator("main table tbody tr").filter(has_text=PARENT_NAME)
    expect(row).to_contain_text("Parent or carer")
    expect(row).to_contain_text("(you)")
    expect(v.page.locator("main")).not_to_contain_text(PARENT_EMAIL)


def check_who_has_looked(v: FamilyVisit) -> None:
    heading(v.page, "Who has looked at the record")
    expect(v.page.get_by_role("status")).to_contain_text("not counting your own visits")


def check_sharing(v: FamilyVisit) -> None:
    heading(v.page, "Sharing information")
    expect(v.page.get_by_role("button", name="Agree to share with someone")).to_be_visible()


def check_give_consent(v: FamilyVisit) -> None:
    heading(v.page, "Agree to share information")
    expect(v.page.get_by_label("Who can we share with?")).to_be_visible()


def check_stop_sharing(v: FamilyVisit) -> None:
    expect(v.page.locator("h1")).to_contain_text("Stop sharing information")


def check_parent_access(v: FamilyVisit) -> None:
    heading(v.page, "Let a parent or carer see your case")


PAGES = [
    PageCase("family-index", N + "/portal/family/", who="parent", check=check_index),
    PageCase("family-child", F + "/{parent_child}", who="parent", check=check_child),
    PageCase("family-young-person", F + "/{young_person}", who="young_person", check=check_young_person),
    PageCase("family-views", F + "/{parent_child}/views", who="parent", check=check_views),
    PageCase("family-views-errors", F + "/{parent_child}/views", who="parent", status=400,
             act=press("Send your views"), check=check_views_errors),
    PageCase("family-request-under-way", F + "/{parent_child}/request-assessment", who="parent",
             check=check_request_under_way),
    PageCase("family-reassessment", F + "/{young_person}/request-assessment", who="young_person",
             check=check_reassessment),
    PageCase("family-reassessment-errors", F + "/{young_person}/request-assessment", who="young_person", status=400,
             act=press("Send the request"), check=check_reassessment_errors),
    PageCase("family-draft-plan", F + "/{parent_child}/draft-plan", who="parent", check=check_draft),
    PageCase("family-comment", F + "/{parent_child}/draft-plan/B", who="parent", check=check_comment),
    PageCase("family-school", F + "/{parent_child}/preferred-school", who="parent", check=check_school),
    PageCase("family-school-errors", F + "/{parent_child}/preferred-school", who="parent", status=400,
             act=fill({"Its unique reference number (URN), if you know it": "12AB"}, "Send"),
             check=check_school_errors),
    PageCase("family-budget", F + "/{young_person}/personal-budget", who="young_person", check=check_budget),
    PageCase("family-budget-errors", F + "/{young_person}/personal-budget", who="young_person", status=400,
             act=press("Send the request"), check=check_budget_errors),
    PageCase("family-sent", F + "/{parent_child}/sent", who="parent", check=check_sent),
    PageCase("family-who-can-see", F + "/{parent_child}/who-can-see", who="parent", check=check_who_can_see),
    PageCase("family-who-has-looked", F + "/{young_person}/who-has-looked", who="young_person",
             check=check_who_has_looked),
    PageCase("family-sharing", F + "/{parent_child}/sharing", who="parent", check=check_sharing),
    PageCase("family-give-consent", F + "/{parent_child}/sharing/new", who="parent", check=check_give_consent),
    PageCase("family-stop-sharing", F + "/{parent_child}/sharing/stop", who="parent", check=check_stop_sharing),
    PageCase("family-parent-access", F + "/{young_person}/sharing/parents", who="young_person",
             check=check_parent_access),
]

NOT_PAGES = {
    "portal_family.document": "downloads a file (as an attachment), not an HTML page",
}


@pytest.mark.browser
@pytest.mark.parametrize("case", PAGES, ids=[c.name for c in PAGES])
def test_family_page(case: PageCase, new_page: Callable[..., Page], live_server: LiveServer,
                     family_ids: FamilyIds) -> None:
    visit_page_case(case, new_page=new_page, live_server=live_server, ids=family_ids.ids(),
                    visit=visit(live_server, family_ids))


@pytest.mark.browser
def test_another_familys_child_is_page_not_found(new_page: Callable[..., Page], live_server: LiveServer,
                                                 family_ids: FamilyIds) -> None:
    page = new_page("parent")
    response = page.goto(live_server.url(f"{F}/{family_ids.young_person}"))
    assert response is not None and response.status == 404
    heading(page, "Page not found")
    expect(page.locator("main")).not_to_contain_text(YOUNG_NAME)


# ---------------------------------------------------------------------------------------
# Journeys


def _api(server: LiveServer, token: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    status, _, data = server.http(method, path, token=token, json_body=body)
    assert status in (200, 201), data
    return data


DRAFT = {
    "A": {"views": "Mia says she likes school when it is quiet.", "interests": "Drawing, swimming.",
          "aspirations": "To be a vet."},
    "B": {"needs": [{"id": "b-1", "area": "communication_interaction", "primary_need": "SLCN",
                     "description": "Mia finds it hard to follow spoken instructions."}]},
    "E": {"outcomes": [{"id": "e-1", "description": "Mia will follow two-step instructions.",
                        "timeframe": "By the next annual review", "need_ids": ["b-1"], "pfa_area": None}]},
    "F": {"provision": [{"id": "f-1", "description": "Speech and language therapy", "provider": "A therapist",
                         "frequency": "Weekly, 30 minutes", "duration": "For the school year",
                         "outcome_ids": ["e-1"]}]},
}


def make_draft_out_for_comment(server: LiveServer) -> tuple[str, str]:
    """A new Northshire child whose draft plan was served 3 days ago (the window is open for
    11 more days): (child id, full name)."""
    token = server.api_token("northshire", scopes="children:read children:write cases:read cases:write "
                                                  "plans:read plans:write")
    family = "".join(random.choices(string.ascii_lowercase, k=9)).capitalize()
    child = _api(server, token, "POST", "/api/v1/children", {
        "given_name": "Mia", "family_name": family, "date_of_birth": dt.date(_today().year - 8, 4, 12).isoformat()})
    case = _api(server, token, "POST", "/api/v1/cases", {"child_id": child["id"], "events": [
        {"type": "request_received", "date": _days(-110), "requester": "parent"}]})
    for event in ({"type": "decision_to_assess_made", "date": _days(-80), "outcome": "assess"},
                  {"type": "advice_requested", "date": _days(-79), "advice": "psychological", "advice_id": "ep-1"},
                  {"type": "advice_received", "date": _days(-40), "advice": "psychological", "advice_id": "ep-1"},
                  {"type": "decision_to_issue_made", "date": _days(-20), "outcome": "issue"}):
        _api(server, token, "POST", f"/api/v1/cases/{case['id']}/events", event)
    _api(server, token, "PUT", f"/api/v1/cases/{case['id']}/plan/draft", {"sections": DRAFT})
    _api(server, token, "POST", f"/api/v1/cases/{case['id']}/events", {"type": "draft_plan_served", "date": _days(-3)})
    return child["id"], f"Mia {family}"


def invite_the_demo_parent(page: Page, server: LiveServer, child_id: str, family_name: str) -> None:
    """The caseworker records the demo parent as the child's mother and invites her."""
    page.goto(server.url(f"{N}/children/{child_id}"))
    with page.expect_event("load"):
        page.get_by_role("button", name="Add a contact").click()
    page.get_by_label("First name").fill(PARENT_NAME.split()[0])
    page.get_by_label("Last name").fill(family_name)
    page.get_by_label("Relationship to the child").select_option("mother")
    page.get_by_role("group", name="Do they have parental responsibility?").get_by_label("Yes").check()
    page.get_by_label("Email address (optional)").fill(PARENT_EMAIL)
    assert submit(page, "Add contact").status == 200
    page.goto(server.url(f"{N}/children/{child_id}/access/parent"))
    page.get_by_role("radio", name=re.compile(re.escape(f"{PARENT_NAME.split()[0]} {family_name}"))).check()
    assert submit(page, "Send invitation").status == 200
    expect(page.locator(".govuk-notification-banner")).to_contain_text(f"Invitation sent to {PARENT_EMAIL}")


@pytest.mark.browser
def test_a_parent_reads_the_timeline_comments_on_the_draft_sends_views_and_names_a_school(
        new_page: Callable[..., Page], live_server: LiveServer) -> None:
    child_id, child_name = make_draft_out_for_comment(live_server)
    invite_the_demo_parent(new_page("caseworker"), live_server, child_id, child_name.split()[1])
    last_day = _today() + dt.timedelta(days=11)

    # The parent signs in (the demo's sign-in; the invitation to her address is taken up).
    page = new_page()
    sign_in(page, live_server, "northshire", PARENT_NAME)
    with page.expect_event("load"):
        page.get_by_role("link", name="See where things are up to, and have your say").click()
    heading(page, "Your EHC needs assessments and plans")
    with page.expect_event("load"):
        page.get_by_role("link", name=child_name).click()
    heading(page, child_name)

    # The timeline, newest first, in plain words; and what happens next.
    timeline = page.locator(".app-timeline li")
    expect(timeline.first).to_contain_text("We sent you the draft EHC plan")
    expect(timeline.last).to_contain_text("We received the request for an EHC needs assessment")
    expect(page.locator(".app-next-steps")).to_contain_text(f"Until {_weekday(last_day)}")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"You can comment on the draft plan until {_weekday(last_day)}")
    check_page(page, "family-journey-child")

    # The draft, and comments on two sections.
    with page.expect_event("load"):
        page.get_by_role("link", name="Read it and comment on each section").click()
    heading(page, "Comment on the draft plan")
    expect(page.locator("#section-B")).to_contain_text("Mia finds it hard to follow spoken instructions.")
    for section, title, words in (("B", "special educational needs", "Mia also struggles to ask for help."),
                                  ("F", "special educational provision", "Weekly therapy is not enough.")):
        with page.expect_event("load"):
            page.locator(f"#section-{section}").get_by_role("link", name=f"Comment on section {section}").click()
        heading(page, f"Comment on section {section}: {title}")
        page.get_by_label(f"Your comment on section {section}").fill(words)
        if section == "F":
            page.get_by_label("I would like to meet someone from the council to talk about the plan").check()
        submit(page, "Send your comment")
        expect(page.locator(".govuk-notification-banner")).to_contain_text(
            f"Your comment on section {section}, {title}, has been sent")
        expect(page.locator(f"#section-{section}")).to_contain_text(words)
    expect(page.locator("#section-F")).to_contain_text("Meeting asked for")
    check_page(page, "family-journey-commented")

    # Views, with a file.
    page.goto(live_server.url(f"{F}/{child_id}"))
    with page.expect_event("load"):
        page.get_by_role("link", name="Send your views and Mia’s").click()
    page.get_by_label("What is important to Mia").fill("Her dog, and knowing what happens next.")
    page.get_by_label("Add files").set_input_files(
        [{"name": "one-page-profile.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    submit(page, "Send your views")
    expect(page.locator(".govuk-panel")).to_contain_text("Your views have been sent")
    card = page.locator(".govuk-summary-card").first
    expect(card).to_contain_text("Her dog, and knowing what happens next.")
    expect(card.get_by_role("link", name="one-page-profile.pdf")).to_be_visible()
    check_page(page, "family-journey-views-sent")

    # A preferred school, by its URN: named from the register, and inside the window.
    page.goto(live_server.url(f"{F}/{child_id}"))
    with page.expect_event("load"):
        page.get_by_role("link", name="Ask for a school or college").click()
    school = next(i for i in _demo.INSTITUTIONS if i[5] == NORTHSHIRE.la_code and i[4].value == "primary")
    page.get_by_label("Its unique reference number (URN), if you know it").fill(str(school[0]))
    page.get_by_label("Why you would like this school or college (optional)").fill("Her brother goes there.")
    submit(page, "Send")
    expect(page.locator(".govuk-panel")).to_contain_text("Your choice of school or college has been sent")
    expect(page.locator("main")).to_contain_text(f"we must ask {school[1]} whether it can meet the needs")
    check_page(page, "family-journey-school-sent")


@pytest.mark.browser
def test_a_young_person_asks_for_a_personal_budget_and_sees_who_has_looked(
        new_page: Callable[..., Page], live_server: LiveServer, family_ids: FamilyIds) -> None:
    # The caseworker opens Layla's record.
    staff = new_page("caseworker")
    staff.goto(live_server.url(f"{N}/children/{family_ids.young_person}"))
    heading(staff, re.compile(re.escape(YOUNG_NAME)))

    page = new_page()
    sign_in(page, live_server, "northshire", YOUNG_NAME)
    page.goto(live_server.url(f"{F}/{family_ids.young_person}"))
    heading(page, "Your EHC needs assessment and plan")
    with page.expect_event("load"):
        page.get_by_role("link", name="Ask for a personal budget").click()
    page.get_by_label("Special educational provision (section F)").check()
    page.get_by_label("Social care provision (sections H1 and H2)").check()
    page.get_by_label("A direct payment to me, to arrange the support myself").check()
    page.get_by_label("What would you use it for?").fill("Travel training and a music group near college.")
    submit(page, "Send the request")
    expect(page.locator(".govuk-panel")).to_contain_text("Your request for a personal budget has been sent")
    expect(page.locator(".govuk-summary-card").first).to_contain_text(
        "Special educational provision (section F); Social care provision (sections H1 and H2)")
    check_page(page, "family-journey-budget-sent")

    page.goto(live_server.url(f"{F}/{family_ids.young_person}"))
    with page.expect_event("load"):
        page.get_by_role("link", name="See who has looked at your record").click()
    heading(page, "Who has looked at the record")
    rows = page.locator("main table tbody tr")
    first = rows.filter(has_text="Amara Okafor").first
    expect(first).to_contain_text("Council staff (caseworker)")
    expect(first).to_contain_text("Looked at the record")
    # Her own visits are left out.
    expect(rows.locator("td:nth-child(2)").filter(has_text=re.compile(r"^\s*You\s*$"))).to_have_count(0)
    check_page(page, "family-journey-who-has-looked")
