"""The SENCO portal's services (core.portal.school): a SENCO sees and acts on exactly the pupils
on roll at their institution, in each council separately; every statutory step they take is
recorded under their own identity; every refusal leaves nothing behind; reads are audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from core import clock
from core.audit.models import AuditEvent
from core.cases import reviews
from core.cases import services as cases
from core.cases.access import access_case
from core.cases.models import Case, CaseEvent, Document, ReviewMeeting
from core.children.access import access_child
from core.children.services import add_placement
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.identity.services import actor_for_identity
from core.portal import school
from core.submissions.models import Submission, SubmissionKind
from core.timescales import TimescalePolicy
from tests.conftest import JOURNEY_TO_PLAN, in_tenant, system_actor

POLICY = TimescalePolicy()
PDF = b"%PDF-1.7\n%%EOF\n"
TODAY = clock.today()


@pytest.fixture(autouse=True)
def _pinned_today(monkeypatch: pytest.MonkeyPatch) -> None:
    """TODAY was read when the module was imported; the code under test must agree with it
    even when the run crosses midnight."""
    import core.clock

    monkeypatch.setattr(core.clock, "today", lambda: TODAY)



def days(n: int) -> str:
    return (TODAY + dt.timedelta(days=n)).isoformat()


REQUEST_VALUES: dict[str, Any] = {
    "areas": ["communication_interaction", "semh"],
    "needs": "Significant difficulty with spoken language",
    "support": "Daily small-group language work since September",
    "cycles": "Three cycles of assess, plan, do, review, each reviewed with the family",
    "outcomes": "Some progress with vocabulary; little with social communication",
    "specialists": "Speech and language therapist, advice in March",
    "views": "Sam says groups are too noisy. Their mother wants more help at playtime",
    "parent_informed": True,
}
ADVICE_VALUES = {"needs": "Language needs", "provision": "Daily speech and language work",
                 "outcomes": "Join in class discussion"}
REPORT_VALUES = {"views": "Sam enjoys school", "progress": "Good progress in reading", "recommendation": "amend",
                 "reasons": "Section F should add a speech and language therapy programme", "differences": ""}


# ---------------------------------------------------------------------------------------
# Helpers


def place(tenant: Any, child: Any, urn: int, started: dt.date = dt.date(2020, 9, 1),
          ended: dt.date | None = None) -> None:
    with in_tenant(tenant):
        actor = system_actor(tenant)
        add_placement(actor, access_child(actor, child.id, for_write=True), urn=urn, started_on=started, ended_on=ended)


def actor_of(identity: Any) -> Any:
    """The signed-in person's actor in the current council (as the web layer builds it)."""
    actor = actor_for_identity(identity)
    assert actor is not None
    return actor


def count(tenant: Any, model: Any, *where: Any) -> int:
    with in_tenant(tenant) as s:
        return s.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def audit_actions(tenant: Any, identity: Any) -> list[str]:
    with in_tenant(tenant) as s:
        return list(s.execute(select(AuditEvent.action).where(AuditEvent.actor_id == str(identity.id),
                                                              AuditEvent.actor_type == "identity")
                              .order_by(AuditEvent.occurred_at, AuditEvent.id)).scalars())


def snapshot(tenant: Any) -> tuple[int, ...]:
    """How many rows of everything a SENCO's action could write."""
    return tuple(count(tenant, m) for m in (Case, CaseEvent, Submission, Document, ReviewMeeting))


@pytest.fixture
def senco(tenant_a: Any, institution: int, make_member: Any) -> Any:
    return make_member(tenant_a, "senco", urn=institution)


@pytest.fixture
def pupil(tenant_a: Any, institution: int, make_child: Any) -> Any:
    child = make_child(tenant_a, given_name="Sam")
    place(tenant_a, child, institution)
    return child


# ---------------------------------------------------------------------------------------
# Who is a pupil


def test_a_senco_sees_only_children_on_roll_at_their_institution_today(
        tenant_a: Any, institution: int, make_child: Any, senco: Any, pupil: Any) -> None:
    left = make_child(tenant_a, given_name="Left")
    place(tenant_a, left, institution, ended=TODAY - dt.timedelta(days=1))
    never = make_child(tenant_a, given_name="Never")
    starting = make_child(tenant_a, given_name="Starting")
    place(tenant_a, starting, institution, started=TODAY + dt.timedelta(days=7))
    with in_tenant(tenant_a):
        rows, total = school.pupils(actor_of(senco))
        assert [p.child.id for p in rows] == [pupil.id] and total == 1
        assert rows[0].setting == "Test Primary School" and rows[0].case is None
        for outsider in (left, never, starting):
            with pytest.raises(NotFound):
                school.pupil(actor_of(senco), outsider.id, policy=POLICY)
            with pytest.raises(NotFound):
                school.request_form(actor_of(senco), outsider.id)


def test_a_pupil_whose_placement_ends_drops_out_of_every_view(
        tenant_a: Any, institution: int, make_child: Any, make_case: Any, senco: Any) -> None:
    child = make_child(tenant_a)
    case = make_case(tenant_a, [{"type": "request_received", "date": days(-50), "requester": "parent"}], child=child,
                     today=TODAY)
    place(tenant_a, child, institution, ended=TODAY - dt.timedelta(days=1))
    with in_tenant(tenant_a):
        actor = actor_of(senco)
        assert school.pupils(actor)[1] == 0
        assert school.pupil_deadlines(actor) == []
        with pytest.raises(NotFound):
            school.advice_page(actor, case.id, policy=POLICY)


def test_a_senco_who_is_also_a_parent_sees_only_pupils_on_the_school_pages(
        tenant_a: Any, institution: int, make_child: Any, make_member: Any, senco: Any, pupil: Any) -> None:
    own_child = make_child(tenant_a)
    make_member(tenant_a, "parent", identity=senco, child_id=own_child.id)
    with in_tenant(tenant_a):
        actor = actor_of(senco)
        assert own_child.id in actor.scope.child_ids  # the person may see their child (the family portal)
        assert [p.child.id for p in school.pupils(actor)[0]] == [pupil.id]
        with pytest.raises(NotFound):
            school.pupil(actor, own_child.id, policy=POLICY)


def test_someone_who_is_not_a_senco_here_is_refused(tenant_a: Any, make_member: Any, pupil: Any) -> None:
    parent = make_member(tenant_a, "parent", child_id=pupil.id)
    with in_tenant(tenant_a):
        with pytest.raises(Forbidden):
            school.pupils(actor_of(parent))
        with pytest.raises(Forbidden):
            school.pupil(actor_of(parent), pupil.id, policy=POLICY)
        with pytest.raises(Forbidden):
            school.pupils(system_actor(tenant_a))  # council staff use the caseworker pages


def test_each_council_shows_the_same_senco_only_its_own_pupils(
        tenant_a: Any, tenant_b: Any, institution: int, make_child: Any, make_identity: Any, make_member: Any) -> None:
    """A school serving two councils: one SENCO identity, a membership in each, and each
    council's pages show only the children that council placed there."""
    identity = make_identity(name="Ruth Adeyemi")
    make_member(tenant_a, "senco", identity=identity, urn=institution)
    make_member(tenant_b, "senco", identity=identity, urn=institution)
    a_child = make_child(tenant_a, given_name="Alpha")
    b_child = make_child(tenant_b, given_name="Bravo")
    place(tenant_a, a_child, institution)
    place(tenant_b, b_child, institution)
    with in_tenant(tenant_a):
        assert [p.child.id for p in school.pupils(actor_of(identity))[0]] == [a_child.id]
        with pytest.raises(NotFound):
            school.pupil(actor_of(identity), b_child.id, policy=POLICY)
    with in_tenant(tenant_b):
        assert [p.child.id for p in school.pupils(actor_of(identity))[0]] == [b_child.id]
        with pytest.raises(NotFound):
            school.pupil(actor_of(identity), a_child.id, policy=POLICY)
        assert school.pupil(actor_of(identity), b_child.id, policy=POLICY).child.id == b_child.id


# ---------------------------------------------------------------------------------------
# Pupils, their cases and deadlines


def test_the_pupil_list_shows_the_open_case_and_its_next_statutory_deadline(
        tenant_a: Any, make_case: Any, senco: Any, pupil: Any) -> None:
    make_case(tenant_a, [{"type": "request_received", "date": days(-10), "requester": "parent"}], child=pupil,
              today=TODAY)
    with in_tenant(tenant_a):
        [row], _ = school.pupils(actor_of(senco))
    assert row.open_case is not None and row.open_case.stage == "request"
    # Reg 5(1): the decision whether to assess, 6 weeks from the request.
    assert row.open_case.next_due == TODAY + dt.timedelta(days=32)
    assert row.open_case.next_due_key == "decision_to_assess"
    assert "child.listed" in audit_actions(tenant_a, senco)


def test_deadlines_list_every_pupils_open_deadlines_soonest_first_with_filters(
        tenant_a: Any, institution: int, make_child: Any, make_case: Any, senco: Any) -> None:
    late, soon, later, elsewhere = (make_child(tenant_a) for _ in range(4))
    for child in (late, soon, later):
        place(tenant_a, child, institution)
    for child, ago in ((late, 50), (soon, 20), (later, 1), (elsewhere, 60)):
        make_case(tenant_a, [{"type": "request_received", "date": days(-ago), "requester": "parent"}], child=child,
                  today=TODAY)
    with in_tenant(tenant_a):
        actor = actor_of(senco)
        every = school.pupil_deadlines(actor, today=TODAY)
        overdue = school.pupil_deadlines(actor, due="overdue", today=TODAY)
        four_weeks = school.pupil_deadlines(actor, due="four_weeks", today=TODAY)
        with pytest.raises(ValidationFailed):
            school.pupil_deadlines(actor, due="someday", today=TODAY)
    assert [r.last_day for r in every] == sorted(r.last_day for r in every)
    assert (every[0].child.id, every[0].key) == (late.id, "decision_to_assess") and every[0].overdue(TODAY)
    assert elsewhere.id not in {r.child.id for r in every}
    assert [(r.child.id, r.key) for r in overdue] == [(late.id, "decision_to_assess")]
    assert [(r.child.id, r.key) for r in four_weeks] == [(soon.id, "decision_to_assess")]
    assert {r.child.id for r in every} == {late.id, soon.id, later.id}


def test_the_pupil_page_reads_are_audited_against_the_child(tenant_a: Any, make_case: Any, senco: Any,
                                                             pupil: Any) -> None:
    case = make_case(tenant_a, [{"type": "request_received", "date": days(-10), "requester": "parent"}], child=pupil,
                     today=TODAY)
    with in_tenant(tenant_a):
        o = school.pupil(actor_of(senco), pupil.id, policy=POLICY, today=TODAY)
    assert o.case is not None and o.case.id == case.id and not o.can_request
    assert [d.key for d in o.deadlines][0] == "decision_to_assess"
    with in_tenant(tenant_a) as s:
        rows = s.execute(select(AuditEvent.action, AuditEvent.subject_id).where(
            AuditEvent.actor_id == str(senco.id), AuditEvent.action.in_(("child.viewed", "case.viewed")))).all()
    assert sorted(rows) == [("case.viewed", pupil.id), ("child.viewed", pupil.id)]


# ---------------------------------------------------------------------------------------
# Requesting an EHC needs assessment


def test_a_request_opens_the_case_today_under_the_sencos_identity(tenant_a: Any, senco: Any, pupil: Any) -> None:
    evidence = [school.Upload("SEN support plan.pdf", PDF), school.Upload("provision-map.pdf", PDF)]
    with in_tenant(tenant_a):
        case, submission = school.request_assessment(actor_of(senco), pupil.id, REQUEST_VALUES, evidence,
                                                     policy=POLICY, today=TODAY)
        case_id, submission_id = case.id, submission.id
    with in_tenant(tenant_a) as s:
        case = s.get(Case, case_id)
        [event] = s.execute(select(CaseEvent).where(CaseEvent.case_id == case_id)).scalars().all()
        submission = s.get(Submission, submission_id)
        docs = s.execute(select(Document).where(Document.submission_id == submission_id)
                         .order_by(Document.title)).scalars().all()
    assert case.stage == "request" and case.opened_on == TODAY and case.caseworker_id is None
    # Reg 5(1): the council's 6 weeks start the day the request arrives.
    assert case.next_due == TODAY + dt.timedelta(weeks=6) and case.next_due_key == "decision_to_assess"
    assert (event.type, event.date, event.attributes) == ("request_received", TODAY, {"requester": "setting"})
    assert (event.recorded_by_type, event.recorded_by) == ("identity", str(senco.id))
    assert submission.kind == SubmissionKind.ASSESSMENT_REQUEST and submission.case_event_id == event.id
    assert submission.submitted_by == f"identity:{senco.id}" and submission.submitted_as == "senco"
    assert submission.body["parent_informed"] is True and submission.body["areas"] == ["communication_interaction", "semh"]
    assert submission.body["urn"] == 900001 and submission.text == REQUEST_VALUES["needs"]
    assert [(d.kind, d.title, d.case_id) for d in docs] == [
        ("evidence", "SEN support evidence: SEN support plan", case_id),
        ("evidence", "SEN support evidence: provision-map", case_id)]
    actions = audit_actions(tenant_a, senco)
    for action in ("case.opened", "case.event_recorded", "submission.created", "document.added"):
        assert action in actions, action


def test_a_request_for_a_pupil_with_an_open_case_is_refused_and_changes_nothing(
        tenant_a: Any, make_case: Any, senco: Any, pupil: Any) -> None:
    make_case(tenant_a, [{"type": "request_received", "date": days(-10), "requester": "parent"}], child=pupil,
              today=TODAY)
    before = snapshot(tenant_a)
    with in_tenant(tenant_a):
        assert school.request_form(actor_of(senco), pupil.id).open_case is not None
        with pytest.raises(Conflict, match="already has an open EHC needs assessment or plan"):
            school.request_assessment(actor_of(senco), pupil.id, REQUEST_VALUES, [school.Upload("a.pdf", PDF)],
                                      policy=POLICY, today=TODAY)
    assert snapshot(tenant_a) == before


def test_a_new_request_may_follow_a_refusal_to_assess(tenant_a: Any, make_case: Any, senco: Any, pupil: Any) -> None:
    make_case(tenant_a, [{"type": "request_received", "date": days(-90), "requester": "parent"},
                         {"type": "decision_to_assess_made", "date": days(-60), "outcome": "refuse"}],
              child=pupil, today=TODAY)
    with in_tenant(tenant_a):
        case, _ = school.request_assessment(actor_of(senco), pupil.id, REQUEST_VALUES, [school.Upload("a.pdf", PDF)],
                                            policy=POLICY, today=TODAY)
        assert case.stage == "request"
        o = school.pupil(actor_of(senco), pupil.id, policy=POLICY, today=TODAY)
        [row] = school.pupils(actor_of(senco))[0]
    assert o.case is not None and o.case.id == case.id and [c.stage for c in o.past_cases] == ["not_assessing"]
    assert row.open_case is not None and row.open_case.id == case.id


@pytest.mark.parametrize(("change", "field"), [
    ({"areas": []}, "areas"),
    ({"areas": ["made_up"]}, "areas"),
    ({"needs": "  "}, "needs"),
    ({"specialists": ""}, "specialists"),
    ({"views": "x" * (school.MAX_TEXT + 1)}, "views"),
    ({"parent_informed": False}, "parent_informed"),
])
def test_a_request_with_a_problem_is_refused_and_changes_nothing(
        tenant_a: Any, senco: Any, pupil: Any, change: dict[str, Any], field: str) -> None:
    before = snapshot(tenant_a)
    with in_tenant(tenant_a):
        with pytest.raises(ValidationFailed) as exc:
            school.request_assessment(actor_of(senco), pupil.id, {**REQUEST_VALUES, **change},
                                      [school.Upload("a.pdf", PDF)], policy=POLICY, today=TODAY)
    assert list(exc.value.errors) == [field]
    assert snapshot(tenant_a) == before


@pytest.mark.parametrize(("files", "message"), [
    ([], "Upload at least one piece of evidence"),
    ([school.Upload("virus.exe", b"MZ\x90\x00")], "virus.exe must be a PDF"),
    ([school.Upload("empty.pdf", b"")], "empty.pdf is empty"),
    ([school.Upload(f"{n}.pdf", PDF) for n in range(school.MAX_EVIDENCE_FILES + 1)], "10 files or fewer"),
])
def test_a_request_needs_acceptable_evidence_files(tenant_a: Any, senco: Any, pupil: Any, files: list[Any],
                                                   message: str) -> None:
    before = snapshot(tenant_a)
    with in_tenant(tenant_a):
        with pytest.raises(ValidationFailed) as exc:
            school.request_assessment(actor_of(senco), pupil.id, REQUEST_VALUES, files, policy=POLICY, today=TODAY)
    assert message in exc.value.errors["evidence"][0]
    assert snapshot(tenant_a) == before


def test_a_request_for_a_child_not_on_roll_is_not_found(tenant_a: Any, make_child: Any, senco: Any) -> None:
    stranger = make_child(tenant_a)
    with in_tenant(tenant_a):
        with pytest.raises(NotFound):
            school.request_assessment(actor_of(senco), stranger.id, REQUEST_VALUES, [school.Upload("a.pdf", PDF)],
                                      policy=POLICY, today=TODAY)
    assert count(tenant_a, Case, Case.child_id == stranger.id) == 0


# ---------------------------------------------------------------------------------------
# Educational advice


@pytest.fixture
def assessing(tenant_a: Any, make_case: Any, pupil: Any) -> Any:
    return make_case(tenant_a, [
        {"type": "request_received", "date": days(-40), "requester": "parent"},
        {"type": "decision_to_assess_made", "date": days(-20), "outcome": "assess"},
        {"type": "advice_requested", "date": days(-19), "advice": "educational", "advice_id": "edu-1"},
        {"type": "advice_requested", "date": days(-19), "advice": "psychological", "advice_id": "ep-1"},
    ], child=pupil, today=TODAY)


def test_educational_advice_stops_the_clock_the_day_the_senco_sends_it(tenant_a: Any, senco: Any,
                                                                        assessing: Any) -> None:
    with in_tenant(tenant_a):
        page = school.advice_page(actor_of(senco), assessing.id, policy=POLICY, today=TODAY)
        [request] = page.requests  # only the educational advice is the school's to give
        assert request.advice_id == "edu-1" and request.open
        # Reg 8(1): 6 weeks from the council's request.
        assert request.deadline is not None and request.deadline.due == TODAY + dt.timedelta(days=-19 + 42)
        submission = school.submit_advice(actor_of(senco), assessing.id, "edu-1", ADVICE_VALUES,
                                          school.Upload("advice.docx", PDF), policy=POLICY, today=TODAY)
        submission_id = submission.id
    with in_tenant(tenant_a) as s:
        event = s.execute(select(CaseEvent).where(CaseEvent.case_id == assessing.id)
                          .order_by(CaseEvent.seq.desc()).limit(1)).scalar_one()
        submission = s.get(Submission, submission_id)
        [doc] = s.execute(select(Document).where(Document.submission_id == submission_id)).scalars().all()
        deadlines = {(d.key, d.ref): d for d in cases.deadlines_of(
            access_case(system_actor(tenant_a), assessing.id), policy=POLICY, today=TODAY)}
    assert (event.type, event.date, event.attributes) == (
        "advice_received", TODAY, {"advice": "educational", "advice_id": "edu-1"})
    assert (event.recorded_by_type, event.recorded_by) == ("identity", str(senco.id))
    assert submission.kind == SubmissionKind.ADVICE and submission.section == "edu-1"
    assert submission.case_event_id == event.id and submission.body["provision"] == ADVICE_VALUES["provision"]
    assert (doc.kind, doc.advice_id, doc.case_id) == ("advice", "edu-1", assessing.id)
    assert deadlines[("advice_returned", "edu-1")].met_on == TODAY
    assert deadlines[("advice_returned", "ep-1")].met_on is None
    assert "submission.created" in audit_actions(tenant_a, senco)


def test_advice_cannot_be_sent_twice_or_for_another_advisers_request(tenant_a: Any, senco: Any,
                                                                     assessing: Any) -> None:
    with in_tenant(tenant_a):
        school.submit_advice(actor_of(senco), assessing.id, "edu-1", ADVICE_VALUES, None, policy=POLICY, today=TODAY)
    before = snapshot(tenant_a)
    with in_tenant(tenant_a):
        with pytest.raises(Conflict, match="reached the council on"):
            school.submit_advice(actor_of(senco), assessing.id, "edu-1", ADVICE_VALUES, None, policy=POLICY,
                                 today=TODAY)
        with pytest.raises(ValidationFailed) as exc:
            school.submit_advice(actor_of(senco), assessing.id, "ep-1", ADVICE_VALUES, None, policy=POLICY,
                                 today=TODAY)
        assert list(exc.value.errors) == ["advice_id"]
        with pytest.raises(ValidationFailed) as exc:
            school.submit_advice(actor_of(senco), assessing.id, "edu-1", {**ADVICE_VALUES, "provision": ""},
                                 school.Upload("x.exe", b"MZ"), policy=POLICY, today=TODAY)
        assert set(exc.value.errors) == {"provision", "file"}
    assert snapshot(tenant_a) == before


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


def meeting_steps(tenant: Any, meeting: Any) -> list[tuple[str, dt.date, str]]:
    with in_tenant(tenant) as s:
        rows = s.execute(select(CaseEvent).where(CaseEvent.case_id == meeting.case_id).order_by(CaseEvent.seq)).scalars()
        return [(e.type, e.date, e.recorded_by) for e in rows if e.attributes.get("review_meeting_id") == str(meeting.id)]


def test_the_senco_adds_papers_and_records_them_sent_before_the_meeting(tenant_a: Any, senco: Any,
                                                                         plan_case: Any) -> None:
    meeting = arrange(tenant_a, plan_case, TODAY + dt.timedelta(days=30))
    before = snapshot(tenant_a)
    with in_tenant(tenant_a):
        # Reg 20(4) through reviews.step_blocker: there must be a paper to have sent.
        with pytest.raises(Conflict, match="at least one paper"):
            school.record_papers_sent(actor_of(senco), meeting.id, TODAY, policy=POLICY, today=TODAY)
    assert snapshot(tenant_a) == before
    with in_tenant(tenant_a):
        doc = school.add_review_paper(actor_of(senco), meeting.id, title="Class teacher's report",
                                      upload=school.Upload("report.pdf", PDF), today=TODAY)
        doc_id = doc.id
        with pytest.raises(ValidationFailed) as exc:
            school.record_papers_sent(actor_of(senco), meeting.id, TODAY + dt.timedelta(days=1), policy=POLICY,
                                      today=TODAY)
        assert list(exc.value.errors) == ["sent_on"]
        school.record_papers_sent(actor_of(senco), meeting.id, TODAY, policy=POLICY, today=TODAY)
        with pytest.raises(Conflict, match="This was recorded on"):
            school.record_papers_sent(actor_of(senco), meeting.id, TODAY, policy=POLICY, today=TODAY)
        o = school.review(actor_of(senco), meeting.id, policy=POLICY, today=TODAY)
    with in_tenant(tenant_a) as s:
        doc = s.get(Document, doc_id)
        submission = s.get(Submission, doc.submission_id)
    assert (doc.kind, doc.review_meeting_id) == ("review_paper", meeting.id)
    assert submission.kind == SubmissionKind.REVIEW_PAPER and submission.review_meeting_id == meeting.id
    assert meeting_steps(tenant_a, meeting)[-1] == ("review_papers_sent", TODAY, str(senco.id))
    papers = next(s for s in o.steps if s.step.key == "papers")
    assert papers.done_on == TODAY and papers.deadline is not None and papers.deadline.status == "met"


def test_papers_are_refused_once_the_meeting_is_held(tenant_a: Any, senco: Any, plan_case: Any) -> None:
    meeting = arrange(tenant_a, plan_case, TODAY - dt.timedelta(days=3), held=True)
    before = snapshot(tenant_a)
    with in_tenant(tenant_a):
        with pytest.raises(Conflict, match="has been held"):
            school.add_review_paper(actor_of(senco), meeting.id, title="Late", upload=school.Upload("a.pdf", PDF),
                                    today=TODAY)
        with pytest.raises(ValidationFailed) as exc:
            school.add_review_paper(actor_of(senco), meeting.id, title="", upload=None, today=TODAY)
        assert set(exc.value.errors) == {"title", "file"}
    assert snapshot(tenant_a) == before


def test_the_report_waits_for_the_meeting_and_changes_nothing_when_refused(tenant_a: Any, senco: Any,
                                                                            plan_case: Any) -> None:
    meeting = arrange(tenant_a, plan_case, TODAY + dt.timedelta(days=10))
    before = snapshot(tenant_a)
    with in_tenant(tenant_a):
        with pytest.raises(Conflict, match="not yet recorded as held"):
            school.send_review_report(actor_of(senco), meeting.id, REPORT_VALUES, school.Upload("r.pdf", PDF), TODAY,
                                      policy=POLICY, today=TODAY)
    assert snapshot(tenant_a) == before


def test_the_senco_sends_the_report_after_the_meeting(tenant_a: Any, senco: Any, plan_case: Any) -> None:
    held_on = TODAY - dt.timedelta(days=3)
    meeting = arrange(tenant_a, plan_case, held_on, held=True)
    before = snapshot(tenant_a)
    with in_tenant(tenant_a):
        for values, upload, on, fields in (
            ({**REPORT_VALUES, "recommendation": "think"}, school.Upload("r.pdf", PDF), TODAY, {"recommendation"}),
            (REPORT_VALUES, None, TODAY, {"file"}),
            ({**REPORT_VALUES, "views": ""}, school.Upload("r.pdf", PDF), None, {"views", "sent_on"}),
            (REPORT_VALUES, school.Upload("r.pdf", PDF), TODAY + dt.timedelta(days=1), {"sent_on"}),
            # reviews.record_step: the report cannot be sent before the meeting.
            (REPORT_VALUES, school.Upload("r.pdf", PDF), held_on - dt.timedelta(days=1), {"sent_on"}),
        ):
            with pytest.raises(ValidationFailed) as exc:
                school.send_review_report(actor_of(senco), meeting.id, values, upload, on, policy=POLICY, today=TODAY)
            assert set(exc.value.errors) == fields
    assert snapshot(tenant_a) == before
    with in_tenant(tenant_a):
        submission = school.send_review_report(actor_of(senco), meeting.id, REPORT_VALUES,
                                               school.Upload("Annual review.pdf", PDF), TODAY, policy=POLICY,
                                               today=TODAY)
        submission_id = submission.id
        with pytest.raises(Conflict, match="recorded as sent on"):
            school.send_review_report(actor_of(senco), meeting.id, REPORT_VALUES, school.Upload("r.pdf", PDF), TODAY,
                                      policy=POLICY, today=TODAY)
        o = school.review(actor_of(senco), meeting.id, policy=POLICY, today=TODAY)
    with in_tenant(tenant_a) as s:
        submission = s.get(Submission, submission_id)
        [doc] = s.execute(select(Document).where(Document.submission_id == submission_id)).scalars().all()
        event = s.get(CaseEvent, submission.case_event_id)
    assert submission.kind == SubmissionKind.REVIEW_REPORT and submission.review_meeting_id == meeting.id
    assert submission.body["recommendation"] == "amend" and submission.body["differences"] == ""
    assert (doc.kind, doc.review_meeting_id) == ("review_report", meeting.id)
    assert (event.type, event.date, event.recorded_by) == ("review_report_sent", TODAY, str(senco.id))
    report = next(s for s in o.steps if s.step.key == "report")
    # Reg 20(7): within 2 weeks of the meeting; sent 3 days after it, so in time.
    assert report.done_on == TODAY and report.deadline is not None and report.deadline.status == "met"


def test_a_senco_cannot_reach_a_review_of_a_child_not_on_roll(tenant_a: Any, make_case: Any, make_child: Any,
                                                              senco: Any) -> None:
    other = make_case(tenant_a, JOURNEY_TO_PLAN, child=make_child(tenant_a), today=TODAY)
    meeting = arrange(tenant_a, other, TODAY + dt.timedelta(days=30))
    before = snapshot(tenant_a)
    with in_tenant(tenant_a):
        for call in (lambda a: school.review(a, meeting.id, policy=POLICY),
                     lambda a: school.add_review_paper(a, meeting.id, title="x", upload=school.Upload("a.pdf", PDF)),
                     lambda a: school.record_papers_sent(a, meeting.id, TODAY, policy=POLICY)):
            with pytest.raises(NotFound):
                call(actor_of(senco))
    assert snapshot(tenant_a) == before
