"""The SENCO portal's pages: what they show, who may use them, and every form with bad input (a
GOV.UK error summary, a 400, and nothing saved) or a refusal (the same)."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from core import clock
from core.cases import reviews
from core.cases.access import access_case
from core.cases.models import Case, CaseEvent, Document
from core.children.access import access_child
from core.children.services import add_placement
from core.submissions.models import Submission
from core.timescales import TimescalePolicy
from core.users.models import Role
from tests.conftest import JOURNEY_TO_PLAN, csrf_token, in_tenant, system_actor

PDF = b"%PDF-1.7\n%%EOF\n"
TODAY = clock.today()


@pytest.fixture(autouse=True)
def _pinned_today(monkeypatch: pytest.MonkeyPatch) -> None:
    """TODAY was read when the module was imported; the code under test must agree with it
    even when the run crosses midnight."""
    import core.clock

    monkeypatch.setattr(core.clock, "today", lambda: TODAY)

POLICY = TimescalePolicy()


def days(n: int) -> str:
    return (TODAY + dt.timedelta(days=n)).isoformat()


def long(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def summary(body: str) -> list[tuple[str, str]]:
    """(href, text) of each error summary link."""
    block = re.search(r'govuk-error-summary__list">(.*?)</ul>', body, re.S)
    assert block, "no error summary on the page"
    return [(href, re.sub(r"\s+", " ", text).strip().replace("&#39;", "'"))
            for href, text in re.findall(r'<a href="([^"]+)">([^<]+)</a>', block.group(1))]


def date(prefix: str, day: dt.date) -> dict[str, str]:
    return {f"{prefix}-day": str(day.day), f"{prefix}-month": str(day.month), f"{prefix}-year": str(day.year)}


def post(client: Any, path: str, data: dict[str, Any], **kw: Any) -> Any:
    return client.post(path, data={"csrf_token": csrf_token(client, path), **data}, **kw)


def rows(tenant: Any) -> tuple[int, ...]:
    with in_tenant(tenant) as s:
        return tuple(s.execute(select(func.count()).select_from(m)).scalar_one()
                     for m in (Case, CaseEvent, Submission, Document))


@pytest.fixture
def senco(tenant_a: Any, institution: int, make_member: Any, make_identity: Any) -> Any:
    return make_member(tenant_a, "senco", identity=make_identity(name="Ruth Adeyemi"), urn=institution)


@pytest.fixture
def client(identity_client: Any, tenant_a: Any, senco: Any) -> Any:
    return identity_client(tenant_a, senco)


@pytest.fixture
def pupil(tenant_a: Any, institution: int, make_child: Any) -> Any:
    child = make_child(tenant_a, given_name="Sam", family_name="Okoro")
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        add_placement(actor, access_child(actor, child.id, for_write=True), urn=institution,
                      started_on=dt.date(2021, 9, 1))
    return child


# ---------------------------------------------------------------------------------------
# Who may use the pages


def test_only_a_signed_in_senco_gets_the_portal(tenant_a: Any, client_for: Any, identity_client: Any,
                                               make_member: Any, make_user: Any, pupil: Any) -> None:
    signed_out = client_for(tenant_a).get("/portal/school/")
    assert signed_out.status_code == 302 and "/portal/sign-in" in signed_out.headers["Location"]
    staff = client_for(tenant_a, make_user(tenant_a, Role.TENANT_ADMIN)).get("/portal/school/deadlines")
    assert staff.status_code == 302 and "/portal/sign-in" in staff.headers["Location"]
    parent = identity_client(tenant_a, make_member(tenant_a, "parent", child_id=pupil.id))
    for path in ("/portal/school/", "/portal/school/deadlines", f"/portal/school/pupils/{pupil.id}"):
        assert parent.get(path).status_code == 403, path


# ---------------------------------------------------------------------------------------
# Pupils and deadlines


def test_the_pupils_page_lists_pupils_with_their_case_and_next_deadline(
        tenant_a: Any, make_case: Any, client: Any, pupil: Any) -> None:
    make_case(tenant_a, [{"type": "request_received", "date": days(-50), "requester": "parent"}], child=pupil,
              today=TODAY)
    body = client.get("/portal/school/").get_data(as_text=True)
    assert f'href="/portal/school/pupils/{pupil.id}">Sam Okoro</a>' in body
    assert "Request received" in body and "Test Primary School" in body
    # Reg 5(1): 6 weeks from a request 50 days ago.
    assert long(TODAY + dt.timedelta(days=-50 + 42)) in body and "Overdue" in body
    assert "The council must decide whether to carry out an EHC needs assessment" in body


def test_the_deadlines_page_filters_and_refuses_an_unknown_filter(
        tenant_a: Any, institution: int, make_child: Any, make_case: Any, client: Any, pupil: Any) -> None:
    make_case(tenant_a, [{"type": "request_received", "date": days(-50), "requester": "parent"}], child=pupil,
              today=TODAY)
    every = client.get("/portal/school/deadlines").get_data(as_text=True)
    assert every.count('data-key="decision_to_assess"') == 1 and "1 overdue" in every
    assert "The council acts." in every and "SEND Regs 2014 reg 5(1)" in every
    overdue = client.get("/portal/school/deadlines?due=overdue").get_data(as_text=True)
    assert re.findall(r'data-key="([a-z_0-9]+)"', overdue) == ["decision_to_assess"]
    soon = client.get("/portal/school/deadlines?due=four_weeks").get_data(as_text=True)
    assert "Nothing is due in the next 4 weeks." in soon
    bad = client.get("/portal/school/deadlines?due=tomorrow")
    assert bad.status_code == 400
    assert summary(bad.get_data(as_text=True)) == [("#due", "Select which deadlines to show")]


def test_a_pupil_without_a_case_is_offered_the_request(client: Any, pupil: Any) -> None:
    body = client.get(f"/portal/school/pupils/{pupil.id}").get_data(as_text=True)
    assert "<h1 class=\"govuk-heading-l\">Sam Okoro</h1>" in body
    assert f'href="/portal/school/pupils/{pupil.id}/request-assessment"' in body


# ---------------------------------------------------------------------------------------
# Requesting an assessment


REQUEST = {"areas": ["cognition_learning"], "needs": "Reading well below age", "support": "Daily reading",
           "cycles": "Three cycles", "outcomes": "Little progress", "specialists": "Educational psychologist",
           "views": "Family want more help", "parent_informed": "yes"}


def test_a_request_with_nothing_filled_in_shows_every_problem_and_saves_nothing(tenant_a: Any, client: Any,
                                                                                pupil: Any) -> None:
    path = f"/portal/school/pupils/{pupil.id}/request-assessment"
    before = rows(tenant_a)
    resp = post(client, path, {}, content_type="multipart/form-data")
    assert resp.status_code == 400
    assert [href for href, _ in summary(resp.get_data(as_text=True))] == [
        "#areas", "#needs", "#support", "#cycles", "#outcomes", "#specialists", "#views", "#evidence",
        "#parent_informed"]
    assert rows(tenant_a) == before


def test_a_request_with_a_wrong_file_keeps_what_was_typed(tenant_a: Any, client: Any, pupil: Any) -> None:
    path = f"/portal/school/pupils/{pupil.id}/request-assessment"
    before = rows(tenant_a)
    resp = post(client, path, {**REQUEST, "evidence": [(io.BytesIO(b"MZ not a pdf"), "plan.exe")]},
                content_type="multipart/form-data")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert summary(body) == [("#evidence", "plan.exe must be a PDF, Word (.docx), OpenDocument text (.odt), "
                                           "PNG or JPEG")]
    assert "Reading well below age</textarea>" in body and 'value="cognition_learning" checked' in body
    assert rows(tenant_a) == before


def test_a_senco_requests_an_assessment_with_evidence(tenant_a: Any, client: Any, pupil: Any) -> None:
    path = f"/portal/school/pupils/{pupil.id}/request-assessment"
    resp = post(client, path, {**REQUEST, "evidence": [(io.BytesIO(PDF), "support plan.pdf"),
                                                       (io.BytesIO(PDF), "provision map.pdf")]},
                content_type="multipart/form-data")
    assert resp.status_code == 302 and resp.headers["Location"] == f"/portal/school/pupils/{pupil.id}"
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Your request for an EHC needs assessment for Sam Okoro has been sent to Council A" in page
    assert f"by {long(TODAY + dt.timedelta(weeks=6))} (SEND Regulations 2014, regulation 5(1))" in page
    assert "Request received" in page and "Request for an EHC needs assessment, sent" in page
    with in_tenant(tenant_a) as s:
        case = s.execute(select(Case).where(Case.child_id == pupil.id)).scalar_one()
        docs = s.execute(select(Document).where(Document.case_id == case.id)).scalars().all()
    assert case.stage == "request" and sorted(d.kind for d in docs) == ["evidence", "evidence"]
    # The form now says a request cannot be made, and a second post changes nothing.
    again = client.get(path).get_data(as_text=True)
    assert "already has an open EHC needs assessment or plan" in again and "Send the request" not in again
    before = rows(tenant_a)
    refused = post(client, path, {**REQUEST, "evidence": [(io.BytesIO(PDF), "a.pdf")]},
                   content_type="multipart/form-data")
    assert refused.status_code == 400 and "already has an open EHC needs assessment" in refused.get_data(as_text=True)
    assert rows(tenant_a) == before


# ---------------------------------------------------------------------------------------
# Educational advice


@pytest.fixture
def assessing(tenant_a: Any, make_case: Any, pupil: Any) -> Any:
    return make_case(tenant_a, [
        {"type": "request_received", "date": days(-40), "requester": "setting"},
        {"type": "decision_to_assess_made", "date": days(-20), "outcome": "assess"},
        {"type": "advice_requested", "date": days(-19), "advice": "educational", "advice_id": "edu-1"},
    ], child=pupil, today=TODAY)


def test_the_senco_sends_educational_advice(tenant_a: Any, client: Any, assessing: Any, pupil: Any) -> None:
    path = f"/portal/school/cases/{assessing.id}/advice"
    pupil_page = client.get(f"/portal/school/pupils/{pupil.id}").get_data(as_text=True)
    assert f'href="{path}"' in pupil_page
    body = client.get(path).get_data(as_text=True)
    assert "edu-1" in body and long(TODAY + dt.timedelta(days=23)) in body
    before = rows(tenant_a)
    bad = post(client, path, {"needs": "Needs"}, content_type="multipart/form-data")
    assert bad.status_code == 400
    assert [h for h, _ in summary(bad.get_data(as_text=True))] == ["#provision", "#outcomes"]
    assert rows(tenant_a) == before
    good = post(client, path, {"needs": "Needs", "provision": "Provision", "outcomes": "Outcomes",
                               "file": (io.BytesIO(PDF), "advice.pdf")}, content_type="multipart/form-data")
    assert good.status_code == 302
    with in_tenant(tenant_a) as s:
        last = s.execute(select(CaseEvent).where(CaseEvent.case_id == assessing.id)
                         .order_by(CaseEvent.seq.desc()).limit(1)).scalar_one()
    assert (last.type, last.date, last.attributes["advice_id"]) == ("advice_received", TODAY, "edu-1")
    after = client.get(path).get_data(as_text=True)
    assert f"Received {long(TODAY)}" in after and "Send the advice" not in after


# ---------------------------------------------------------------------------------------
# Annual reviews


@pytest.fixture
def plan_case(tenant_a: Any, make_case: Any, pupil: Any) -> Any:
    return make_case(tenant_a, JOURNEY_TO_PLAN, child=pupil, today=TODAY)


def arrange(tenant: Any, case: Any, meeting_on: dt.date, *, held: bool = False) -> Any:
    with in_tenant(tenant):
        actor = system_actor(tenant)
        meeting = reviews.schedule_meeting(actor, access_case(actor, case.id, for_write=True), meeting_on=meeting_on,
                                           policy=POLICY, today=TODAY)
        if held:
            reviews.record_step(actor, meeting, "held", meeting_on, policy=POLICY, today=TODAY)
        return meeting


def test_the_senco_adds_papers_and_records_them_sent(tenant_a: Any, client: Any, plan_case: Any, pupil: Any) -> None:
    meeting = arrange(tenant_a, plan_case, TODAY + dt.timedelta(days=30))
    base = f"/portal/school/reviews/{meeting.id}"
    assert f'href="{base}"' in client.get(f"/portal/school/pupils/{pupil.id}").get_data(as_text=True)
    review = client.get(base).get_data(as_text=True)
    assert "Send the advice and information" in review and "SEND Regs 2014 reg 20(4), reg 21(4)" in review
    not_yet = client.get(base + "/papers/sent").get_data(as_text=True)
    assert "Add the papers you sent first" in not_yet and "sent_on-day" not in not_yet
    before = rows(tenant_a)
    bad = post(client, base + "/papers", {}, content_type="multipart/form-data")
    assert bad.status_code == 400
    assert summary(bad.get_data(as_text=True)) == [("#title", "Enter a title for the paper"), ("#file", "Select a file")]
    assert rows(tenant_a) == before
    added = post(client, base + "/papers", {"title": "Class teacher's report", "file": (io.BytesIO(PDF), "r.pdf")},
                 content_type="multipart/form-data")
    assert added.status_code == 302
    assert "‘Class teacher&#39;s report’ has been added" in client.get(added.headers["Location"]).get_data(as_text=True)
    future = post(client, base + "/papers/sent", date("sent_on", TODAY + dt.timedelta(days=2)))
    assert future.status_code == 400
    assert summary(future.get_data(as_text=True)) == [("#sent_on-day", "The date must be today or in the past")]
    half = post(client, base + "/papers/sent", {"sent_on-day": "3"})
    assert summary(half.get_data(as_text=True)) == [("#sent_on-day", "Date must include a month and a year")]
    sent = post(client, base + "/papers/sent", date("sent_on", TODAY))
    assert sent.status_code == 302 and sent.headers["Location"] == base
    page = client.get(base).get_data(as_text=True)
    assert f"Recorded: the papers were sent to everyone invited on {long(TODAY)}" in page
    with in_tenant(tenant_a) as s:
        event = s.execute(select(CaseEvent).where(CaseEvent.case_id == plan_case.id)
                          .order_by(CaseEvent.seq.desc()).limit(1)).scalar_one()
    assert event.type == "review_papers_sent" and event.recorded_by_type == "identity"


def test_the_report_page_waits_for_the_meeting(tenant_a: Any, client: Any, plan_case: Any) -> None:
    meeting = arrange(tenant_a, plan_case, TODAY + dt.timedelta(days=30))
    path = f"/portal/school/reviews/{meeting.id}/report"
    body = client.get(path).get_data(as_text=True)
    assert "the meeting is not yet recorded as held" in body and "Send the report" not in body
    before = rows(tenant_a)
    refused = post(client, path, {"views": "v", "progress": "p", "recommendation": "maintain", "reasons": "r",
                                  "file": (io.BytesIO(PDF), "r.pdf"), **date("sent_on", TODAY)},
                   content_type="multipart/form-data")
    assert refused.status_code == 400
    assert summary(refused.get_data(as_text=True))[0][0] == "#sent_on-day"
    assert rows(tenant_a) == before


def test_the_senco_sends_the_report_after_the_meeting(tenant_a: Any, client: Any, plan_case: Any) -> None:
    meeting = arrange(tenant_a, plan_case, TODAY - dt.timedelta(days=2), held=True)
    path = f"/portal/school/reviews/{meeting.id}/report"
    assert "What does the meeting recommend?" in client.get(path).get_data(as_text=True)
    before = rows(tenant_a)
    bad = post(client, path, {"differences": "x" * 10_001}, content_type="multipart/form-data")
    assert bad.status_code == 400
    assert [h for h, _ in summary(bad.get_data(as_text=True))] == [
        "#views", "#progress", "#recommendation", "#reasons", "#differences", "#file", "#sent_on-day"]
    assert rows(tenant_a) == before
    good = post(client, path, {"views": "Happy", "progress": "Good", "recommendation": "maintain",
                               "reasons": "Outcomes still right", "file": (io.BytesIO(PDF), "report.pdf"),
                               **date("sent_on", TODAY)}, content_type="multipart/form-data")
    assert good.status_code == 302
    page = client.get(good.headers["Location"]).get_data(as_text=True)
    assert "The review report has been sent to Council A" in page and "Annual review report, meeting of" in page
