"""The family portal's pages (web/ui/portal/family.py): the child's page, every form with its
GOV.UK error summary (and nothing stored on bad input), CSRF, the re-authentication before
consent, downloads, and who may not use the pages at all."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from core import clock
from core.cases.models import Case, CaseEvent, Document
from core.db import utcnow
from core.identity.models import Consent
from core.submissions.models import Submission, SubmissionKind
from core.users.models import Role
from tests.conftest import JOURNEY_TO_PLAN, csrf_token, in_tenant, system_actor

TODAY = dt.date(2026, 11, 27)
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n"
BASE = "/portal/family/children/{child}"


def _text(body: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def _days(n: int) -> str:
    return (TODAY - dt.timedelta(days=n)).isoformat()


@pytest.fixture(autouse=True)
def today(monkeypatch: pytest.MonkeyPatch) -> dt.date:
    monkeypatch.setattr(clock, "today", lambda: TODAY)
    return TODAY


def _count(tenant: Any, model: Any, *where: Any) -> int:
    with in_tenant(tenant) as s:
        return s.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


@pytest.fixture
def family(tenant_a: Any, make_child: Any, make_case: Any, make_user: Any, make_member: Any,
           identity_client: Any) -> Any:
    """``family(events=None, young=False)``: a child (or young person) with a case from
    ``events`` (None: no case), and a signed-in client of their parent (or of the young person)."""

    def make(events: list[dict[str, Any]] | None = None, *, young: bool = False, **client_args: Any) -> dict[str, Any]:
        worker = make_user(tenant_a, Role.CASEWORKER, name="Amara Okafor")
        child = make_child(tenant_a, given_name="Ella", family_name="Evans",
                           date_of_birth=dt.date(2008, 3, 1) if young else dt.date(2019, 6, 1))
        case = make_case(tenant_a, events, child=child, today=TODAY, caseworker_id=worker.id) \
            if events is not None else None
        identity = make_member(tenant_a, "young_person" if young else "parent", child_id=child.id)
        client = identity_client(tenant_a, identity, **client_args)
        return {"child": child, "case": case, "identity": identity, "client": client,
                "base": BASE.format(child=child.id)}

    return make


def _draft(served_days_ago: int) -> list[dict[str, Any]]:
    return [*JOURNEY_TO_PLAN[:4], {"type": "draft_plan_served", "date": _days(served_days_ago)}]


def _post(client: Any, path: str, data: dict[str, Any], **kwargs: Any) -> Any:
    return client.post(path, data={"csrf_token": csrf_token(client, path), **data}, **kwargs)


def _summary(body: str) -> list[str]:
    """The GOV.UK error summary's messages, in order."""
    box = re.search(r'<div class="govuk-error-summary".*?</ul>', body, re.S)
    assert box, "no error summary"
    return [_text(m) for m in re.findall(r"<a [^>]*>(.*?)</a>", box.group(0), re.S)]


# ---------------------------------------------------------------------------------------
# The child's page


def test_the_list_and_the_childs_page_show_the_case_in_plain_words(tenant_a: Any, family: Any) -> None:
    f = family(_draft(3))
    listing = f["client"].get("/portal/family/")
    assert listing.status_code == 200 and "Ella Evans" in listing.get_data(as_text=True)
    assert "The draft EHC plan is with you" in listing.get_data(as_text=True)
    resp = f["client"].get(f["base"])
    assert resp.status_code == 200
    page = _text(resp.get_data(as_text=True))
    assert "You can comment on the draft plan until Tuesday 8 December 2026." in page
    assert "Amara Okafor" in page
    assert "We sent you the draft EHC plan" in page and "We received the request for an EHC needs assessment" in page
    assert "We must issue the final EHC plan" in page and "SEND Regs 2014 reg 13(2)" in page
    # Nothing internal: no advice ids, no event type names.
    assert "ep1" not in page and "draft_plan_served" not in page
    assert "Ask for a personal budget" in page and "Ask for an EHC needs assessment" not in page


def test_the_childs_page_says_when_a_council_deadline_was_missed(tenant_a: Any, family: Any) -> None:
    f = family([])
    page = _text(f["client"].get(f["base"]).get_data(as_text=True))
    assert "By Monday 16 February 2026 Late" in page
    assert "This date has passed and we have not done this yet." in page


def test_the_task_list_says_what_has_been_sent_and_what_cannot_be_asked_for_yet(tenant_a: Any, family: Any) -> None:
    f = family(JOURNEY_TO_PLAN[:1])  # assessing: no plan decided yet
    page = _text(f["client"].get(f["base"]).get_data(as_text=True))
    assert "Send your views and Ella’s What is important" in page and "section A of the plan. Not sent yet" in page
    assert "Ask for a personal budget You can ask once we have decided to write the plan. Cannot ask yet" in page
    body = f["client"].get(f["base"]).get_data(as_text=True)
    assert f'href="{f["base"]}/personal-budget"' not in body
    _post(f["client"], f"{f['base']}/views", {"about": "Ella loves trains"}, content_type="multipart/form-data")
    _post(f["client"], f"{f['base']}/views", {"hopes": "To swim"}, content_type="multipart/form-data")
    assert "section A of the plan. Sent 2 times" in _text(f["client"].get(f["base"]).get_data(as_text=True))


# ---------------------------------------------------------------------------------------
# Views


def test_views_are_sent_with_a_file_and_confirmed(tenant_a: Any, family: Any) -> None:
    f = family([])
    path = f"{f['base']}/views"
    assert "Your own views as Ella’s parent or carer" in f["client"].get(path).get_data(as_text=True)
    resp = _post(f["client"], path, {"about": "Ella loves trains", "files": (io.BytesIO(PDF), "profile.pdf")},
                 content_type="multipart/form-data")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"{f['base']}/sent")
    page = _text(f["client"].get(resp.headers["Location"]).get_data(as_text=True))
    assert "Your views have been sent" in page and "Ella loves trains" in page and "profile.pdf" in page
    # The confirmation shows once; the list stays.
    again = _text(f["client"].get(resp.headers["Location"]).get_data(as_text=True))
    assert "Your views have been sent" not in again and "Ella loves trains" in again
    with in_tenant(tenant_a) as s:
        sub = s.execute(select(Submission)).scalar_one()
        assert sub.kind == SubmissionKind.VIEWS and sub.body == {"about": "Ella loves trains"}
        assert s.execute(select(Document.kind).where(Document.submission_id == sub.id)).scalar_one() == "views"


def test_empty_views_or_a_bad_file_show_the_error_summary_and_store_nothing(tenant_a: Any, family: Any) -> None:
    f = family([])
    path = f"{f['base']}/views"
    resp = _post(f["client"], path, {}, content_type="multipart/form-data")
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert _summary(body) == ["Write something in at least one box, or add a file"]
    assert "<title>Error: " in body and 'href="#about"' in body
    resp = _post(f["client"], path, {"about": "fine", "files": (io.BytesIO(b"just text"), "notes.txt")},
                 content_type="multipart/form-data")
    assert resp.status_code == 400
    assert _summary(resp.get_data(as_text=True)) == [
        "The selected file notes.txt must be a PDF, Word (.docx), OpenDocument text (.odt), PNG or JPEG"]
    assert "fine" in resp.get_data(as_text=True)  # what they typed is kept
    assert _count(tenant_a, Submission) == 0 and _count(tenant_a, Document) == 0


def test_a_form_without_its_csrf_token_is_refused_and_nothing_is_stored(tenant_a: Any, family: Any) -> None:
    f = family([])
    resp = f["client"].post(f"{f['base']}/views", data={"about": "Forged"})
    assert resp.status_code == 400 and "Your form has expired" in resp.get_data(as_text=True)
    assert _count(tenant_a, Submission) == 0


# ---------------------------------------------------------------------------------------
# Asking for an assessment


def test_a_parent_asks_for_an_assessment_and_is_told_when_the_decision_is_due(tenant_a: Any, family: Any) -> None:
    f = family(None)
    path = f"{f['base']}/request-assessment"
    assert "The 6 weeks start on the day you send this" in _text(f["client"].get(path).get_data(as_text=True))
    resp = _post(f["client"], path, {"reasons": "She is not speaking at school"}, content_type="multipart/form-data")
    assert resp.status_code == 302
    page = _text(f["client"].get(resp.headers["Location"]).get_data(as_text=True))
    assert "Your request has been sent" in page
    assert "We must tell you by Friday 8 January 2027 whether we will carry out an assessment" in page
    with in_tenant(tenant_a) as s:
        event = s.execute(select(CaseEvent)).scalar_one()
        assert (event.type, event.date, event.attributes["requester"]) == ("request_received", TODAY, "parent")
    # Now a request is under way: the page says so, and a second one is refused.
    assert "You do not need to ask again" in _text(f["client"].get(path).get_data(as_text=True))
    assert _post(f["client"], path, {"reasons": "Again"}, content_type="multipart/form-data").status_code == 409
    assert _count(tenant_a, Case) == 1 and _count(tenant_a, Submission) == 1


def test_a_request_without_reasons_shows_the_error(tenant_a: Any, family: Any) -> None:
    f = family(None)
    resp = _post(f["client"], f"{f['base']}/request-assessment", {"reasons": ""}, content_type="multipart/form-data")
    assert resp.status_code == 400
    assert _summary(resp.get_data(as_text=True)) == ["Say why you are asking for an assessment"]
    assert _count(tenant_a, Case) == 0


def test_with_a_plan_the_page_offers_a_re_assessment(tenant_a: Any, family: Any) -> None:
    f = family(JOURNEY_TO_PLAN)
    page = _text(f["client"].get(f"{f['base']}/request-assessment").get_data(as_text=True))
    assert "Ask for a re-assessment" in page and "within 15 days" in page


# ---------------------------------------------------------------------------------------
# The draft plan and comments


def test_a_parent_reads_the_draft_and_comments_on_two_sections_inside_the_window(tenant_a: Any, family: Any) -> None:
    f = family(_draft(3))
    page = f["client"].get(f"{f['base']}/draft-plan").get_data(as_text=True)
    assert "You have until Tuesday 8 December 2026 to comment." in _text(page)
    for section in ("A", "B", "F", "K"):
        assert f'id="section-{section}"' in page
        assert f'href="{f["base"]}/draft-plan/{section}"' in page
    for section, words in (("B", "Her speech needs are missing"), ("F", "Weekly therapy is not enough")):
        resp = _post(f["client"], f"{f['base']}/draft-plan/{section}", {"comment": words, "meeting": "yes"})
        assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/draft-plan#section-{section}")
    after = _text(f["client"].get(f"{f['base']}/draft-plan").get_data(as_text=True))
    assert "Your comment on section F, special educational provision, has been sent" in after
    assert "Her speech needs are missing" in after and "Weekly therapy is not enough" in after
    with in_tenant(tenant_a) as s:
        rows = s.execute(select(Submission.section, Submission.kind).order_by(Submission.section)).all()
    assert rows == [("B", SubmissionKind.DRAFT_COMMENT), ("F", SubmissionKind.DRAFT_COMMENT)]


def test_an_empty_comment_shows_the_error_and_keeps_nothing(tenant_a: Any, family: Any) -> None:
    f = family(_draft(3))
    resp = _post(f["client"], f"{f['base']}/draft-plan/B", {"comment": " "})
    assert resp.status_code == 400 and _summary(resp.get_data(as_text=True)) == ["Enter your comment on section B"]
    assert _count(tenant_a, Submission) == 0


def test_after_the_window_the_pages_say_when_it_was_and_comments_are_refused(tenant_a: Any, family: Any) -> None:
    f = family(_draft(20))
    page = _text(f["client"].get(f"{f['base']}/draft-plan").get_data(as_text=True))
    assert "The time to comment on the draft plan was from 7 November 2026 to 21 November 2026" in page
    assert "Amara Okafor" in page
    form = f["client"].get(f"{f['base']}/draft-plan/B").get_data(as_text=True)
    assert 'name="comment"' not in form
    resp = f["client"].post(f"{f['base']}/draft-plan/B", data={"csrf_token": csrf_token(f["client"], f["base"]),
                                                               "comment": "Late"})
    assert resp.status_code == 409 and _count(tenant_a, Submission) == 0


def test_an_unknown_section_is_not_found(family: Any) -> None:
    f = family(_draft(3))
    assert f["client"].get(f"{f['base']}/draft-plan/Z").status_code == 404


# ---------------------------------------------------------------------------------------
# A preferred school; a personal budget


def test_a_preferred_school_by_urn_is_checked_and_confirmed(tenant_a: Any, family: Any, institution: int) -> None:
    f = family(_draft(3))
    path = f"{f['base']}/preferred-school"
    resp = _post(f["client"], path, {"urn": "12AB"})
    assert resp.status_code == 400
    assert _summary(resp.get_data(as_text=True)) == ["The URN must be 6 digits, like 123456"]
    resp = _post(f["client"], path, {"urn": str(institution), "reason": "Her friends go there"})
    assert resp.status_code == 302
    page = _text(f["client"].get(resp.headers["Location"]).get_data(as_text=True))
    assert "Your choice of school or college has been sent" in page
    assert "we must ask Test Primary School whether it can meet the needs in the plan" in page
    assert _count(tenant_a, Submission) == 1


def test_a_personal_budget_is_refused_before_a_plan_is_being_written_and_sent_after(tenant_a: Any,
                                                                                    family: Any) -> None:
    early = family([])
    path = f"{early['base']}/personal-budget"
    assert "section 49" in _text(early["client"].get(path).get_data(as_text=True))
    refused = _post(early["client"], path, {"areas": "health", "way": "council", "details": "x"})
    assert refused.status_code == 409 and _count(tenant_a, Submission) == 0

    later = family(JOURNEY_TO_PLAN, young=True)
    path = f"{later['base']}/personal-budget"
    resp = _post(later["client"], path, {"details": "A tutor"})
    assert resp.status_code == 400
    assert _summary(resp.get_data(as_text=True)) == ["Select what the personal budget would pay for",
                                                     "Select how you would like the money to be managed"]
    resp = _post(later["client"], path, {"areas": ["education", "health"], "way": "direct_payment",
                                         "details": "A tutor I found"})
    assert resp.status_code == 302
    page = _text(later["client"].get(resp.headers["Location"]).get_data(as_text=True))
    assert "Your request for a personal budget has been sent" in page
    assert "Special educational provision (section F); Health care provision (section G)" in page


# ---------------------------------------------------------------------------------------
# Who can see, who has looked


def test_who_can_see_and_who_has_looked(tenant_a: Any, family: Any, make_member: Any, make_identity: Any,
                                        make_user: Any, client_for: Any) -> None:
    from core.children.access import access_child
    from tests.conftest import actor_for

    f = family(JOURNEY_TO_PLAN)
    make_member(tenant_a, "parent", child_id=f["child"].id,
                identity=make_identity(email="other.parent@example.org", name="Other Parent"))
    manager = make_user(tenant_a, Role.TEAM_MANAGER, name="Daniel Hughes")
    with in_tenant(tenant_a):
        for _ in range(30):
            access_child(actor_for(manager), f["child"].id)
    page = _text(f["client"].get(f"{f['base']}/who-can-see").get_data(as_text=True))
    assert "Other Parent Parent or carer" in page and "Amara Okafor, caseworker at Council A" in page
    assert "other.parent@example.org" not in page
    looked = f["client"].get(f"{f['base']}/who-has-looked")
    body = looked.get_data(as_text=True)
    assert "Daniel Hughes" in _text(body) and "Council staff (team manager)" in _text(body)
    assert f'href="{f["base"]}/who-has-looked?page=2"' in body
    assert "page 1 of 2" in _text(body)
    assert f["client"].get(f"{f['base']}/who-has-looked?page=2").status_code == 200
    beyond = f["client"].get(f"{f['base']}/who-has-looked?page=9")
    assert beyond.status_code == 302 and beyond.headers["Location"].endswith("/who-has-looked?page=2")
    # Own visits are left out unless asked for.
    assert "You " not in _text(body).split("What they did", 1)[1]
    assert "You Parent or carer" in _text(f["client"].get(f"{f['base']}/who-has-looked?mine=1").get_data(as_text=True))


# ---------------------------------------------------------------------------------------
# Consent: giving and withdrawing need a recent sign-in


def test_giving_consent_after_a_stale_sign_in_asks_to_confirm_it_is_you_first(tenant_a: Any, family: Any) -> None:
    f = family([], authenticated_at=utcnow() - dt.timedelta(hours=1))
    path = f"{f['base']}/sharing/new"
    resp = _post(f["client"], path, {"recipient": "Sunny Days", "purpose": "Holiday club"})
    assert resp.status_code == 302 and "/confirm-it-is-you" in resp.headers["Location"]
    assert _count(tenant_a, Consent) == 0


def test_a_parent_gives_and_stops_consent(tenant_a: Any, family: Any) -> None:
    f = family([])
    resp = _post(f["client"], f"{f['base']}/sharing/new", {"recipient": "", "purpose": ""})
    assert resp.status_code == 400 and _summary(resp.get_data(as_text=True)) == [
        "Enter who you agree to share information with", "Enter what they may use the information for"]
    resp = _post(f["client"], f"{f['base']}/sharing/new", {"recipient": "Sunny Days", "purpose": "Holiday club"})
    assert resp.status_code == 302
    page = _text(f["client"].get(resp.headers["Location"]).get_data(as_text=True))
    assert "You have agreed to share information with Sunny Days" in page and "Holiday club" in page
    with in_tenant(tenant_a) as s:
        consent_id = s.execute(select(Consent.id)).scalar_one()
    stop = f"{f['base']}/sharing/stop"
    assert _post(f["client"], stop, {}).status_code == 400
    resp = _post(f["client"], stop, {"consent_id": str(consent_id)})
    assert resp.status_code == 302
    assert "You have stopped sharing information with Sunny Days" in f["client"].get(
        resp.headers["Location"]).get_data(as_text=True)
    with in_tenant(tenant_a) as s:
        assert s.get(Consent, consent_id).revoked_at is not None


def test_a_young_person_lets_a_parent_see_their_case(tenant_a: Any, family: Any, make_member: Any,
                                                     make_identity: Any) -> None:
    f = family(JOURNEY_TO_PLAN, young=True)
    mum = make_member(tenant_a, "parent", child_id=f["child"].id, identity=make_identity(name="Mum"))
    page = _text(f["client"].get(f"{f['base']}/who-can-see").get_data(as_text=True))
    assert "Mum Parent or carer" in page and "Needs your agreement" in page
    resp = _post(f["client"], f"{f['base']}/sharing/parents", {"identity_id": str(mum.id)})
    assert resp.status_code == 302
    assert "Mum can now see your case" in f["client"].get(resp.headers["Location"]).get_data(as_text=True)


# ---------------------------------------------------------------------------------------
# Downloads, and who may not use these pages


def test_the_family_downloads_what_they_sent_but_not_another_childs_document(tenant_a: Any, family: Any,
                                                                              make_child: Any) -> None:
    from core.documents.services import store_document

    f = family([])
    _post(f["client"], f"{f['base']}/views", {"files": (io.BytesIO(PDF), "mine.pdf")},
          content_type="multipart/form-data")
    other = make_child(tenant_a)
    with in_tenant(tenant_a) as s:
        mine = s.execute(select(Document.id).where(Document.child_id == f["child"].id)).scalar_one()
        theirs = store_document(system_actor(tenant_a), child_id=other.id, kind="advice", title="Other",
                                filename="other.pdf", data=PDF).id
    resp = f["client"].get(f"{f['base']}/documents/{mine}")
    assert resp.status_code == 200 and resp.data == PDF
    assert resp.headers["Content-Disposition"] == 'attachment; filename="mine.pdf"'
    assert resp.headers["Cache-Control"] == "no-store"
    assert f["client"].get(f"{f['base']}/documents/{theirs}").status_code == 404


def test_staff_are_sent_to_the_portal_sign_in_and_a_senco_is_refused(
        tenant_a: Any, family: Any, make_user: Any, client_for: Any, make_member: Any, identity_client: Any,
        institution: int) -> None:
    f = family([])
    staff = client_for(tenant_a, make_user(tenant_a, Role.TENANT_ADMIN))
    resp = staff.get(f["base"])
    assert resp.status_code == 302 and "/portal/sign-in" in resp.headers["Location"]
    senco = identity_client(tenant_a, make_member(tenant_a, "senco", urn=institution))
    assert senco.get(f["base"]).status_code == 403
    assert senco.get("/portal/family/").status_code == 403
