"""Review pages and "Your reminders": what they show, who may use them, and every form with bad
input (a GOV.UK error summary, a 400, and nothing saved)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from core import clock
from core.audit.models import AuditEvent
from core.cases import jobs as reminder_jobs
from core.cases import reviews
from core.cases.access import access_case
from core.cases.models import CaseEvent, Document, Notification, ReviewMeeting
from core.timescales import TimescalePolicy
from core.users.models import Role
from tests.conftest import JOURNEY_TO_PLAN, csrf_token, in_tenant, system_actor

pytestmark = pytest.mark.smoke

PDF = b"%PDF-1.7\n%%EOF\n"
PFA = {"employment": "Work experience", "independent_living": "Travel training",
       "community_participation": "Youth club", "health": "Adult services"}


def _summary(body: str) -> list[tuple[str, str]]:
    """(href, text) of each error summary link."""
    block = re.search(r'govuk-error-summary__list">(.*?)</ul>', body, re.S)
    assert block, "no error summary on the page"
    return re.findall(r'<a href="([^"]+)">([^<]+)</a>', block.group(1))


def _date(prefix: str, day: dt.date) -> dict[str, str]:
    return {f"{prefix}-day": str(day.day), f"{prefix}-month": str(day.month), f"{prefix}-year": str(day.year)}


def _count(tenant: Any, model: Any) -> int:
    with in_tenant(tenant) as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def _events(tenant: Any, case: Any) -> list[str]:
    with in_tenant(tenant) as s:
        return list(s.execute(select(CaseEvent.type).where(CaseEvent.case_id == case.id)
                              .order_by(CaseEvent.seq)).scalars())


def _meeting(tenant: Any, meeting_id: Any) -> ReviewMeeting:
    with in_tenant(tenant) as s:
        return s.get(ReviewMeeting, meeting_id)


def _post(client: Any, form_path: str, data: dict[str, str], action: str | None = None, **kw: Any) -> Any:
    return client.post(action or form_path, data={"csrf_token": csrf_token(client, form_path), **data}, **kw)


@pytest.fixture
def caseworker(tenant_a: Any, make_user: Any) -> Any:
    return make_user(tenant_a, Role.CASEWORKER, name="Casey Worker")


@pytest.fixture
def cw(client_for: Any, tenant_a: Any, caseworker: Any) -> Any:
    return client_for(tenant_a, caseworker)


@pytest.fixture
def officer(client_for: Any, tenant_a: Any, make_user: Any) -> Any:
    return client_for(tenant_a, make_user(tenant_a, Role.SEND_OFFICER))


@pytest.fixture
def plan_case(tenant_a: Any, make_case: Any, caseworker: Any) -> Any:
    return make_case(tenant_a, JOURNEY_TO_PLAN, caseworker_id=caseworker.id, today=clock.today())


def _schedule(tenant: Any, case: Any, meeting_on: dt.date) -> Any:
    with in_tenant(tenant):
        actor = system_actor(tenant)
        return reviews.schedule_meeting(actor, access_case(actor, case.id, for_write=True), meeting_on=meeting_on,
                                        policy=TimescalePolicy())


@pytest.fixture
def past_meeting(tenant_a: Any, plan_case: Any) -> Any:
    """A meeting arranged for three days ago (so every step can be recorded today)."""
    return _schedule(tenant_a, plan_case, clock.today() - dt.timedelta(days=3))


# ---------------------------------------------------------------------------------------
# The case's reviews and arranging a meeting


def test_signed_out_people_are_sent_to_sign_in(client_for: Any, tenant_a: Any, plan_case: Any) -> None:
    for path in (f"/cases/{plan_case.id}/reviews", "/reminders"):
        resp = client_for(tenant_a).get(path)
        assert resp.status_code == 302 and resp.headers["Location"].startswith("/sign-in?next=")


def test_the_reviews_page_shows_the_annual_review_and_who_may_arrange_one(cw: Any, officer: Any,
                                                                         plan_case: Any) -> None:
    body = cw.get(f"/cases/{plan_case.id}/reviews").get_data(as_text=True)
    assert "19 May 2027" in body and "CFA 2014 s44(1)" in body  # 12 months starting 20 May 2026
    assert f'href="/cases/{plan_case.id}/reviews/new"' in body
    read_only = officer.get(f"/cases/{plan_case.id}/reviews")
    assert read_only.status_code == 200
    assert "Arrange a review meeting" not in read_only.get_data(as_text=True)
    assert officer.get(f"/cases/{plan_case.id}/reviews/new").status_code == 404


def test_arranging_a_meeting_suggests_invitees_and_shows_the_notice_deadline(tenant_a: Any, cw: Any, make_child: Any,
                                                                            make_case: Any, caseworker: Any,
                                                                            make_contact: Any) -> None:
    child = make_child(tenant_a)
    make_contact(tenant_a, child, given_name="Ann", family_name="Mum")
    plan_case = make_case(tenant_a, JOURNEY_TO_PLAN, child=child, caseworker_id=caseworker.id, today=clock.today())
    meeting_on = clock.today() + dt.timedelta(days=30)
    path = f"/cases/{plan_case.id}/reviews/new"
    resp = _post(cw, path, _date("meeting_on", meeting_on))
    assert resp.status_code == 302
    meeting_id = uuid.UUID(resp.headers["Location"].rsplit("/", 1)[-1])
    stored = _meeting(tenant_a, meeting_id)
    assert stored.meeting_on == meeting_on and stored.case_id == plan_case.id
    body = cw.get(resp.headers["Location"]).get_data(as_text=True)
    notice = meeting_on - dt.timedelta(days=14)
    assert f"{notice.day} {notice:%B %Y}" in body
    assert "SEND Regs 2014 reg 20(3), reg 21(3)" in body and "SEND Regs 2014 reg 20(4), reg 21(4)" in body
    assert "Ann Mum" in body and "Casey Worker" in body
    assert _events(tenant_a, plan_case)[-1] == "review_meeting_scheduled"


@pytest.mark.parametrize("form, expected", [
    ({}, [("#meeting_on-day", "Enter the date of the meeting")]),
    ({"meeting_on-day": "31", "meeting_on-month": "2", "meeting_on-year": "2027"},
     [("#meeting_on-day", "Date of the meeting must be a real date")]),
    ({"meeting_on-day": "1", "meeting_on-month": "1", "meeting_on-year": "2099"},
     [("#meeting_on-day", "The meeting date must be within a year before and two years after today")]),
])
def test_arranging_with_a_bad_date_saves_nothing(tenant_a: Any, cw: Any, plan_case: Any, form: dict[str, str],
                                                 expected: list[tuple[str, str]]) -> None:
    resp = _post(cw, f"/cases/{plan_case.id}/reviews/new", form)
    assert resp.status_code == 400
    assert _summary(resp.get_data(as_text=True)) == expected
    assert _count(tenant_a, ReviewMeeting) == 0


def test_arranging_without_a_plan_or_a_csrf_token_saves_nothing(tenant_a: Any, cw: Any, make_case: Any,
                                                                plan_case: Any) -> None:
    no_plan = make_case(tenant_a, JOURNEY_TO_PLAN[:2])
    resp = _post(cw, f"/cases/{no_plan.id}/reviews/new", _date("meeting_on", clock.today() + dt.timedelta(days=20)))
    assert resp.status_code == 400
    assert _summary(resp.get_data(as_text=True)) == [("#meeting_on-day", "A review needs an issued EHC plan on this case")]
    forged = cw.post(f"/cases/{plan_case.id}/reviews/new", data=_date("meeting_on", clock.today()))
    assert forged.status_code == 400 and "Your form has expired" in forged.get_data(as_text=True)
    assert _count(tenant_a, ReviewMeeting) == 0


# ---------------------------------------------------------------------------------------
# Invitees


def test_invitees_are_added_changed_and_removed(tenant_a: Any, cw: Any, past_meeting: Any) -> None:
    path = f"/reviews/{past_meeting.id}/invitees"
    before = _meeting(tenant_a, past_meeting.id).invitees
    bad = _post(cw, path, {"action": "add", "name": "", "role": "", "email": "nope"})
    assert bad.status_code == 400
    assert _summary(bad.get_data(as_text=True)) == [
        ("#name", "Enter their name, or the organisation they come from"), ("#role", "Select their role at the meeting"),
        ("#email", "Enter an email address in the correct format, like name@example.com")]
    assert _meeting(tenant_a, past_meeting.id).invitees == before
    assert _post(cw, path, {"action": "add", "name": "Dr Patel", "role": "health_professional",
                            "organisation": "ICB", "email": "patel@nhs.example"}).status_code == 302
    added = next(i for i in _meeting(tenant_a, past_meeting.id).invitees if i["name"] == "Dr Patel")
    form = cw.get(f"{path}?change={added['id']}").get_data(as_text=True)
    assert 'value="Dr Patel"' in form and 'value="change"' in form
    assert _post(cw, f"{path}?change={added['id']}", {"action": "change", "invitee": added["id"], "name": "Dr Priya Patel",
                                                     "role": "health_professional"}, action=path).status_code == 302
    assert _post(cw, path, {"action": "remove", "invitee": added["id"]}).status_code == 302
    names = [i["name"] for i in _meeting(tenant_a, past_meeting.id).invitees]
    assert "Dr Priya Patel" not in names and "Dr Patel" not in names
    assert cw.get(f"{path}?change=nobody").status_code == 404
    assert _post(cw, path, {"action": "explode"}).status_code == 400


# ---------------------------------------------------------------------------------------
# Steps, papers and the report


def test_steps_are_recorded_with_their_dates_and_bad_dates_save_nothing(tenant_a: Any, cw: Any, plan_case: Any,
                                                                       past_meeting: Any) -> None:
    today = clock.today()
    path = f"/reviews/{past_meeting.id}/steps/invitations"
    count = len(_events(tenant_a, plan_case))
    for form, message in (({}, "Enter the date"),
                          (_date("invitations_on", today + dt.timedelta(days=1)), "The date must be today or in the past"),
                          (_date("invitations_on", today), "The date must be on or before the day of the meeting")):
        resp = _post(cw, path, form)
        assert resp.status_code == 400
        [(href, text)] = _summary(resp.get_data(as_text=True))
        assert href == "#invitations_on-day" and text.startswith(message)
    assert len(_events(tenant_a, plan_case)) == count
    assert _post(cw, path, _date("invitations_on", today - dt.timedelta(days=20))).status_code == 302
    assert _events(tenant_a, plan_case)[-1] == "review_invitations_sent"
    assert "This was recorded as done on" in cw.get(path).get_data(as_text=True)
    assert cw.get(f"/reviews/{past_meeting.id}/steps/decision").status_code == 404


def test_papers_need_an_upload_and_uploads_are_checked(tenant_a: Any, cw: Any, plan_case: Any,
                                                      past_meeting: Any) -> None:
    today = clock.today()
    steps = f"/reviews/{past_meeting.id}/steps/papers"
    assert "at least one paper" in cw.get(steps).get_data(as_text=True)
    blocked = _post(cw, steps, _date("papers_on", today - dt.timedelta(days=18)))
    assert blocked.status_code == 400
    assert _summary(blocked.get_data(as_text=True))[0][1].startswith("Upload the advice and information")
    upload = f"/reviews/{past_meeting.id}/documents?kind=review_paper"
    empty = _post(cw, upload, {"kind": "review_paper", "title": ""}, action=f"/reviews/{past_meeting.id}/documents")
    assert empty.status_code == 400
    assert _summary(empty.get_data(as_text=True)) == [("#title", "Enter a title for the document"),
                                                      ("#file", "Select a file")]
    import io
    wrong = _post(cw, upload, {"kind": "review_paper", "title": "Advice", "file": (io.BytesIO(b"MZ not a pdf"), "a.exe")},
                  action=f"/reviews/{past_meeting.id}/documents", content_type="multipart/form-data")
    assert wrong.status_code == 400
    assert _summary(wrong.get_data(as_text=True))[0][0] == "#file"
    assert _count(tenant_a, Document) == 0
    good = _post(cw, upload, {"kind": "review_paper", "title": "EP advice", "file": (io.BytesIO(PDF), "ep.pdf")},
                 action=f"/reviews/{past_meeting.id}/documents", content_type="multipart/form-data")
    assert good.status_code == 302
    with in_tenant(tenant_a) as s:
        doc = s.execute(select(Document)).scalar_one()
    assert (doc.kind, doc.review_meeting_id, doc.case_id, doc.title) == ("review_paper", past_meeting.id, plan_case.id,
                                                                        "EP advice")
    page = cw.get(f"/reviews/{past_meeting.id}").get_data(as_text=True)
    assert f'<a class="govuk-link" href="/documents/{doc.id}">EP advice</a>' in page  # plans.download_document
    assert _post(cw, steps, _date("papers_on", today - dt.timedelta(days=18))).status_code == 302
    assert _events(tenant_a, plan_case)[-1] == "review_papers_sent"
    assert cw.get(f"/reviews/{past_meeting.id}/documents?kind=minutes").status_code == 400


def test_a_year_9_meeting_is_held_only_with_the_adulthood_checklist(tenant_a: Any, cw: Any, make_child: Any,
                                                                   make_case: Any, caseworker: Any) -> None:
    today = clock.today()
    child = make_child(tenant_a, date_of_birth=dt.date(today.year - 15, 1, 1))  # Year 10 or 11
    case = make_case(tenant_a, JOURNEY_TO_PLAN, child=child, caseworker_id=caseworker.id, today=today)
    meeting = _schedule(tenant_a, case, today - dt.timedelta(days=1))
    path = f"/reviews/{meeting.id}/steps/held"
    form = cw.get(path).get_data(as_text=True)
    assert "regulation 20(6)" in form and 'name="independent_living"' in form
    resp = _post(cw, path, {**_date("held_on", today - dt.timedelta(days=1)), **PFA, "health": ""})
    assert resp.status_code == 400
    assert _summary(resp.get_data(as_text=True)) == [("#health", "Record what was discussed about good health")]
    assert _meeting(tenant_a, meeting.id).pfa_checklist == {}
    assert _events(tenant_a, case)[-1] == "review_meeting_scheduled"
    both = _post(cw, path, {"held_on-day": "", **PFA, "employment": ""})
    assert [href for href, _ in _summary(both.get_data(as_text=True))] == ["#held_on-day", "#employment"]
    assert _post(cw, path, {**_date("held_on", today - dt.timedelta(days=1)), **PFA}).status_code == 302
    assert _events(tenant_a, case)[-1] == "review_meeting_held"
    assert reviews.pfa_complete(_meeting(tenant_a, meeting.id).pfa_checklist)
    page = cw.get(f"/reviews/{meeting.id}").get_data(as_text=True)
    assert "Travel training" in page and "Required: this review is in Year 9 or later" in page


def test_the_adulthood_page_saves_notes_and_refuses_too_long_ones(tenant_a: Any, cw: Any, past_meeting: Any) -> None:
    path = f"/reviews/{past_meeting.id}/adulthood"
    assert "optional before Year 9" in cw.get(path).get_data(as_text=True)
    bad = _post(cw, path, {**PFA, "health": "x" * 2001})
    assert bad.status_code == 400
    assert _summary(bad.get_data(as_text=True)) == [("#health", "The notes on good health must be 2000 characters or fewer")]
    assert _meeting(tenant_a, past_meeting.id).pfa_checklist == {}
    assert _post(cw, path, {**PFA, "health": ""}).status_code == 302
    saved = _meeting(tenant_a, past_meeting.id).pfa_checklist
    assert saved["employment"] == {"discussed": True, "notes": "Work experience"}
    assert saved["health"] == {"discussed": False, "notes": ""}


def test_the_decision_form_checks_everything_and_leads_on(tenant_a: Any, cw: Any, plan_case: Any,
                                                         past_meeting: Any) -> None:
    today = clock.today()
    path = f"/reviews/{past_meeting.id}/decision"
    assert "Record the meeting as held first" in cw.get(path).get_data(as_text=True)
    cw_post_held = _post(cw, f"/reviews/{past_meeting.id}/steps/held", _date("held_on", today - dt.timedelta(days=3)))
    assert cw_post_held.status_code == 302
    count = len(_events(tenant_a, plan_case))
    empty = _post(cw, path, {})
    assert empty.status_code == 400
    assert _summary(empty.get_data(as_text=True)) == [
        ("#outcome", "Select what the council decided"),
        ("#notice", "Select yes if the letter or notice went to the family with the decision"),
        ("#decision_on-day", "Enter the date")]
    cease = _post(cw, path, {"outcome": "cease", "notice": "yes", **_date("decision_on", today)})
    assert cease.status_code == 400
    assert _summary(cease.get_data(as_text=True))[0][0] == "#consulted"
    early = _post(cw, path, {"outcome": "maintain", "notice": "no", **_date("decision_on", today - dt.timedelta(days=10))})
    assert early.status_code == 400 and "cannot be before the meeting" in early.get_data(as_text=True)
    assert len(_events(tenant_a, plan_case)) == count
    done = _post(cw, path, {"outcome": "maintain", "notice": "yes", **_date("decision_on", today)})
    assert done.status_code == 302
    assert _events(tenant_a, plan_case)[-2:] == ["review_decision_sent", "decision_letter_sent"]
    page = cw.get(f"/reviews/{past_meeting.id}").get_data(as_text=True)
    assert "Keep the plan as it is" in page and "The decision letter with the right of appeal went with the decision" in page
    assert "HESC" in page  # the appeal deadline that follows, with its citation
    assert "The decision was recorded on" in cw.get(path).get_data(as_text=True)


def test_a_read_only_officer_sees_the_meeting_but_changes_nothing(tenant_a: Any, officer: Any, plan_case: Any,
                                                                  past_meeting: Any) -> None:
    page = officer.get(f"/reviews/{past_meeting.id}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Record this step" not in body and "Add, change or remove invitees" not in body
    for suffix in ("/invitees", "/steps/invitations", "/documents", "/adulthood", "/decision"):
        assert officer.get(f"/reviews/{past_meeting.id}{suffix}").status_code == 404, suffix
        token = csrf_token(officer, "/reminders")
        resp = officer.post(f"/reviews/{past_meeting.id}{suffix}", data={"csrf_token": token,
                                                                         **_date("invitations_on", clock.today())})
        assert resp.status_code == 404, suffix
    assert _events(tenant_a, plan_case)[-1] == "review_meeting_scheduled"


def test_another_councils_meeting_and_case_are_not_found(tenant_b: Any, client_for: Any, make_user: Any,
                                                         plan_case: Any, past_meeting: Any) -> None:
    other = client_for(tenant_b, make_user(tenant_b, Role.TENANT_ADMIN))
    for path in (f"/reviews/{past_meeting.id}", f"/reviews/{past_meeting.id}/decision",
                 f"/cases/{plan_case.id}/reviews", f"/cases/{plan_case.id}/reviews/new"):
        assert other.get(path).status_code == 404, path


def test_under_fives_get_the_guidance_labelled_as_guidance(tenant_a: Any, cw: Any, make_child: Any, make_case: Any,
                                                          caseworker: Any) -> None:
    today = clock.today()
    child = make_child(tenant_a, date_of_birth=dt.date(today.year - 3, 1, 1))
    case = make_case(tenant_a, JOURNEY_TO_PLAN, child=child, caseworker_id=caseworker.id, today=today)
    body = cw.get(f"/cases/{case.id}/reviews").get_data(as_text=True)
    assert "Guidance for a child under 5" in body and "This is guidance, not a statutory deadline" in body
    # Plan issued 20 May 2026 (JOURNEY_TO_PLAN): consider from +3 months, review by +6 months.
    assert "Consider a review from 20 August 2026" in body and "Review by 20 November 2026" in body
    meeting = _schedule(tenant_a, case, today + dt.timedelta(days=30))
    assert "Guidance for a child under 5" in cw.get(f"/reviews/{meeting.id}").get_data(as_text=True)


# ---------------------------------------------------------------------------------------
# Your reminders


def _remind(tenant: Any) -> None:
    with in_tenant(tenant):
        reminder_jobs.remind_deadlines(10)


def _due_soon_case(tenant: Any, make_case: Any, user: Any) -> Any:
    today = clock.today()
    return make_case(tenant, [{"type": "request_received", "date": (today - dt.timedelta(days=38)).isoformat(),
                               "requester": "parent"}], caseworker_id=user.id, today=today)


def test_your_reminders_lists_your_own_newest_first_and_marks_them_read(tenant_a: Any, cw: Any, make_case: Any,
                                                                        caseworker: Any, make_user: Any,
                                                                        client_for: Any) -> None:
    first = _due_soon_case(tenant_a, make_case, caseworker)
    _remind(tenant_a)
    second = _due_soon_case(tenant_a, make_case, caseworker)
    _remind(tenant_a)
    someone_else = make_user(tenant_a, Role.CASEWORKER)
    theirs = _due_soon_case(tenant_a, make_case, someone_else)
    _remind(tenant_a)
    body = cw.get("/reminders").get_data(as_text=True)
    assert body.index(f"/cases/{second.id}") < body.index(f"/cases/{first.id}")  # newest first
    assert str(theirs.id) not in body
    with in_tenant(tenant_a) as s:
        listed = set(s.execute(select(AuditEvent.subject_id).where(AuditEvent.action == "child.listed",
                                                                    AuditEvent.actor_id == str(caseworker.id))).scalars())
    assert listed == {first.child_id, second.child_id}  # every child shown is recorded as seen
    assert "2 unread reminders" in body
    assert body.count('name="notification"') == 2  # one "Mark as read" per row of mine
    assert "The council must tell you whether it will carry out an EHC needs assessment" in body
    with in_tenant(tenant_a) as s:
        mine = s.execute(select(Notification).where(Notification.case_id == first.id)).scalar_one()
        other = s.execute(select(Notification).where(Notification.case_id == theirs.id)).scalar_one()
    assert _post(cw, "/reminders", {"notification": str(other.id)}).status_code == 404  # not yours: not found
    assert _post(cw, "/reminders", {"notification": "garbage"}).status_code == 404
    assert _post(cw, "/reminders", {}).status_code == 400
    assert _post(cw, "/reminders", {"notification": str(mine.id)}).status_code == 302
    assert "1 unread reminder" in cw.get("/reminders").get_data(as_text=True)
    assert _post(cw, "/reminders", {"all": "yes"}).status_code == 302
    with in_tenant(tenant_a) as s:
        read = dict(s.execute(select(Notification.case_id, Notification.read_at)).all())
    assert read[first.id] and read[second.id] and read[theirs.id] is None
    assert "You have no reminders" in client_for(tenant_a, make_user(tenant_a, Role.SEND_OFFICER)).get(
        "/reminders").get_data(as_text=True)


@pytest.mark.parametrize("orm_criterion", ["on", "off"], indirect=True)
def test_reminders_never_show_another_councils_cases(orm_criterion: str, tenant_a: Any, tenant_b: Any,
                                                    make_case: Any, make_user: Any, client_for: Any,
                                                    caseworker: Any) -> None:
    """The positive control the generic list test cannot make (tests/isolation/reviews.py):
    B's caseworker sees B's own reminder, and never A's."""
    ours = _due_soon_case(tenant_a, make_case, caseworker)
    _remind(tenant_a)
    worker_b = make_user(tenant_b, Role.CASEWORKER)
    theirs = _due_soon_case(tenant_b, make_case, worker_b)
    _remind(tenant_b)
    body = client_for(tenant_b, worker_b).get("/reminders").get_data(as_text=True)
    assert f"/cases/{theirs.id}" in body
    assert str(ours.id) not in body and str(ours.child_id) not in body
    with in_tenant(tenant_a) as s:
        a_notification = s.execute(select(Notification.id)).scalar_one()
    client = client_for(tenant_b, worker_b)
    assert _post(client, "/reminders", {"notification": str(a_notification)}).status_code == 404
