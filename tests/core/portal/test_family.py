"""The family portal's services (core/portal/family.py): what a parent or young person sees of
the case, and every step they can take, each with its refusals (nothing written), its audit
rows, and the wall around other families' children."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from core.audit import services as audit
from core.audit.models import AuditEvent
from core.cases.models import Case, CaseEvent, Document, PlanVersion
from core.cases.services import record_event
from core.db import utcnow
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.identity.models import Consent, Membership, MembershipRole
from core.identity.services import actor_for_identity, give_portal_consent, scope_for
from core.portal import family as portal
from core.submissions.models import Submission, SubmissionKind
from core.timescales import EVENT_TYPES, TimescalePolicy
from core.users.models import Role
from tests.conftest import JOURNEY_TO_PLAN, actor_for, in_tenant, system_actor

POLICY = TimescalePolicy()
TODAY = dt.date(2026, 11, 27)
PDF = b"%PDF-1.7\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def _days(n: int) -> str:
    return (TODAY - dt.timedelta(days=n)).isoformat()


def _to_draft(served_days_ago: int) -> list[dict[str, Any]]:
    """A case (request 5 Jan 2026) whose draft plan was served ``served_days_ago`` days before TODAY."""
    return [*JOURNEY_TO_PLAN[:4], {"type": "draft_plan_served", "date": _days(served_days_ago)}]


def _actor(tenant: Any, identity: Any) -> Any:
    with in_tenant(tenant):
        actor = actor_for_identity(identity)
    assert actor is not None
    return actor


@pytest.fixture
def parent_of(tenant_a: Any, make_member: Any) -> Any:
    """``parent_of(child)``: a parent with an accepted membership for ``child``, and their actor."""

    def make(child: Any, tenant: Any = None) -> tuple[Any, Any]:
        tenant = tenant or tenant_a
        identity = make_member(tenant, "parent", child_id=child.id)
        return identity, _actor(tenant, identity)

    return make


@pytest.fixture
def young_person(tenant_a: Any, make_child: Any, make_member: Any) -> tuple[Any, Any, Any]:
    """A young person over compulsory school age with their own membership: (child, identity, actor)."""
    child = make_child(tenant_a, date_of_birth=dt.date(2008, 3, 1))
    identity = make_member(tenant_a, "young_person", child_id=child.id)
    return child, identity, _actor(tenant_a, identity)


def _count(tenant: Any, model: Any, *where: Any) -> int:
    with in_tenant(tenant) as s:
        return s.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def _actions(tenant: Any, child_id: Any, actor_id: str) -> list[str]:
    with in_tenant(tenant) as s:
        return list(s.execute(select(AuditEvent.action).where(
            AuditEvent.subject_id == child_id, AuditEvent.actor_id == actor_id, AuditEvent.actor_type == "identity")
            .order_by(AuditEvent.occurred_at)).scalars())


# ---------------------------------------------------------------------------------------
# Whose child


def test_a_parent_reaches_their_child_as_a_parent_and_the_read_is_audited(
        tenant_a: Any, make_child: Any, parent_of: Any) -> None:
    child = make_child(tenant_a)
    identity, actor = parent_of(child)
    with in_tenant(tenant_a):
        family = portal.access_family_child(actor, child.id, today=TODAY)
        assert family.role == "parent" and not family.is_young_person_themselves and not family.young_person
    assert _actions(tenant_a, child.id, str(identity.id)) == ["child.viewed"]


def test_the_young_person_reaches_their_own_case_as_the_young_person(tenant_a: Any, young_person: Any) -> None:
    child, _identity, actor = young_person
    with in_tenant(tenant_a):
        family = portal.access_family_child(actor, child.id, today=TODAY)
    assert family.role == "young_person" and family.young_person and family.is_young_person_themselves


@pytest.mark.parametrize("bad", ["not-a-uuid", str(uuid.uuid4())])
def test_a_made_up_id_is_not_found(tenant_a: Any, make_child: Any, parent_of: Any, bad: str) -> None:
    _identity, actor = parent_of(make_child(tenant_a))
    with in_tenant(tenant_a), pytest.raises(NotFound):
        portal.access_family_child(actor, bad)


def test_a_senco_who_is_also_a_parent_is_not_family_for_a_pupil(
        tenant_a: Any, make_child: Any, make_member: Any, institution: int) -> None:
    from core.children.access import access_child
    from core.children.services import add_placement

    own, pupil = make_child(tenant_a), make_child(tenant_a)
    with in_tenant(tenant_a):
        sys = system_actor(tenant_a)
        add_placement(sys, access_child(sys, pupil.id, for_write=True), urn=institution, started_on=dt.date(2020, 9, 1))
    identity = make_member(tenant_a, "parent", child_id=own.id)
    make_member(tenant_a, "senco", identity=identity, urn=institution)
    actor = _actor(tenant_a, identity)
    with in_tenant(tenant_a):
        assert portal.access_family_child(actor, own.id).role == "parent"
        with pytest.raises(NotFound):
            portal.access_family_child(actor, pupil.id)


def _attempts(child_id: Any) -> list[Any]:
    """Every family service, aimed at ``child_id``."""
    files: list[portal.Upload] = []
    return [
        lambda a: portal.overview(a, child_id, policy=POLICY, today=TODAY),
        lambda a: portal.submit_views(a, child_id, {"about": "x"}, files, today=TODAY),
        lambda a: portal.request_assessment(a, child_id, {"reasons": "x"}, files, policy=POLICY, today=TODAY),
        lambda a: portal.draft_for_comment(a, child_id, policy=POLICY, today=TODAY),
        lambda a: portal.comment_on_draft(a, child_id, "B", {"comment": "x"}, policy=POLICY, today=TODAY),
        lambda a: portal.preferred_school(a, child_id, {"name": "x"}, policy=POLICY, today=TODAY),
        lambda a: portal.request_personal_budget(a, child_id, {"areas": ["health"], "way": "council", "details": "x"},
                                                 today=TODAY),
        lambda a: portal.sent_submissions(a, child_id, today=TODAY),
        lambda a: portal.who_has_access(a, child_id, today=TODAY),
        lambda a: portal.who_has_looked(a, child_id, today=TODAY),
        lambda a: portal.consents_of(a, child_id, today=TODAY),
        lambda a: portal.give_consent(a, child_id, {"recipient": "x", "purpose": "y"}, today=TODAY),
    ]


def test_a_parent_of_another_child_gets_not_found_from_every_service_and_nothing_is_written(
        tenant_a: Any, make_child: Any, make_case: Any, parent_of: Any) -> None:
    theirs = make_child(tenant_a)
    make_case(tenant_a, _to_draft(3), child=theirs, today=TODAY)
    _identity, stranger = parent_of(make_child(tenant_a))
    before = (_count(tenant_a, Submission), _count(tenant_a, Consent), _count(tenant_a, CaseEvent),
              _count(tenant_a, AuditEvent, AuditEvent.subject_id == theirs.id))
    for attempt in _attempts(theirs.id):
        with in_tenant(tenant_a), pytest.raises(NotFound):
            attempt(stranger)
    assert (_count(tenant_a, Submission), _count(tenant_a, Consent), _count(tenant_a, CaseEvent),
            _count(tenant_a, AuditEvent, AuditEvent.subject_id == theirs.id)) == before


def test_another_councils_parent_gets_not_found(tenant_a: Any, tenant_b: Any, make_child: Any, parent_of: Any) -> None:
    theirs = make_child(tenant_a)
    _identity, outsider = parent_of(make_child(tenant_b), tenant=tenant_b)
    for attempt in _attempts(theirs.id)[:3]:
        with in_tenant(tenant_b), pytest.raises(NotFound):
            attempt(outsider)


def test_a_revoked_parent_has_no_access_left(tenant_a: Any, make_child: Any, parent_of: Any) -> None:
    child = make_child(tenant_a)
    identity, actor = parent_of(child)
    with in_tenant(tenant_a) as s:
        s.execute(select(Membership).where(Membership.identity_id == identity.id)).scalar_one().revoked_at = utcnow()
    with in_tenant(tenant_a):
        assert actor_for_identity(identity) is None
        # A stale actor (from a session that started before) still meets the membership check.
        with pytest.raises(NotFound):
            portal.access_family_child(actor, child.id)


# ---------------------------------------------------------------------------------------
# The case in plain words


def test_every_event_type_has_words_for_families() -> None:
    assert set(EVENT_TYPES) - set(portal.EVENT_WORDS) == set()
    for kind, words in portal.EVENT_WORDS.items():
        text = words({"type": kind, "date": "2026-01-05", "advice_id": "ep1", "urn": "900001", "to_la_code": "886"}, {})
        assert text and "ep1" not in text and "886" not in text and "_" not in text, (kind, text)


def test_overview_tells_the_story_in_plain_words_with_dates_and_a_named_contact(
        tenant_a: Any, make_child: Any, make_case: Any, make_user: Any, parent_of: Any) -> None:
    worker = make_user(tenant_a, Role.CASEWORKER, name="Amara Okafor")
    child = make_child(tenant_a)
    wrong = {"type": "decision_to_assess_made", "date": "2026-02-09", "outcome": "refuse"}
    case = make_case(tenant_a, [wrong], child=child, caseworker_id=worker.id, today=TODAY)
    with in_tenant(tenant_a) as s:
        case = s.get(Case, case.id)
        first = s.execute(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                  CaseEvent.type == "decision_to_assess_made")).scalar_one()
        record_event(system_actor(tenant_a), case, {**JOURNEY_TO_PLAN[0], "corrects": str(first.id)}, policy=POLICY,
                     today=TODAY)
        for event in JOURNEY_TO_PLAN[1:4]:
            record_event(system_actor(tenant_a), case, event, policy=POLICY, today=TODAY)
    identity, actor = parent_of(child)
    with in_tenant(tenant_a):
        o = portal.overview(actor, child.id, policy=POLICY, team_email="send@a.example", team_phone="01632 960000",
                            today=dt.date(2026, 4, 21))
        texts = [i.text for i in o.timeline]
        assert texts[-1] == "We received the request for an EHC needs assessment"
        # The correction stands; the refusal it replaced is gone.
        assert "We decided to carry out an EHC needs assessment" in texts
        assert "We decided not to carry out an EHC needs assessment" not in texts
        assert "We asked for advice from an educational psychologist" in texts
        assert texts[0] == "We decided to write an EHC plan"  # newest first
        assert o.stage == "We are writing the draft EHC plan"
        assert o.contact == portal.NamedContact("Amara Okafor", "send@a.example", "01632 960000")
        # The 20-week duty is still to come; the 6-week one was met (so not shown).
        keys = {s.key: s for s in o.next_steps}
        assert "decision_to_assess" not in keys
        final = keys["final_plan_issued"]
        assert final.last_day == dt.date(2026, 5, 25) and not final.yours and "reg 13(2)" in final.citation
        assert final.text == "We must issue the final EHC plan"
        assert o.window is None and o.request_kind is None and o.budget_open
    assert _actions(tenant_a, child.id, str(identity.id)) == ["child.viewed", "case.viewed"]


def test_a_late_council_duty_is_shown_as_late(tenant_a: Any, make_child: Any, make_case: Any, parent_of: Any) -> None:
    child = make_child(tenant_a)
    make_case(tenant_a, [], child=child, today=TODAY)  # requested 5 Jan 2026, never decided
    _identity, actor = parent_of(child)
    with in_tenant(tenant_a):
        o = portal.overview(actor, child.id, policy=POLICY, today=TODAY)
    late = next(s for s in o.next_steps if s.key == "decision_to_assess")
    assert late.status == "missed" and late.last_day == dt.date(2026, 2, 16)
    assert o.contact.caseworker is None


def test_a_child_with_no_case_can_ask_for_an_assessment(tenant_a: Any, make_child: Any, parent_of: Any) -> None:
    child = make_child(tenant_a)
    _identity, actor = parent_of(child)
    with in_tenant(tenant_a):
        o = portal.overview(actor, child.id, policy=POLICY, today=TODAY)
    assert o.case is None and o.request_kind == "assessment" and o.timeline == [] and not o.budget_open


# ---------------------------------------------------------------------------------------
# Views for Section A


def test_views_are_kept_with_their_files_and_audited(tenant_a: Any, make_child: Any, make_case: Any,
                                                       parent_of: Any) -> None:
    child = make_child(tenant_a)
    case = make_case(tenant_a, [], child=child, today=TODAY)
    identity, actor = parent_of(child)
    with in_tenant(tenant_a) as s:
        sub = portal.submit_views(actor, child.id, {"about": "Loves trains", "parent_views": "Needs calm mornings"},
                                  [portal.Upload("drawing.png", PNG)], today=TODAY)
        sid = sub.id
        assert sub.kind == SubmissionKind.VIEWS and sub.section == "A" and sub.case_id == case.id
        assert sub.body == {"about": "Loves trains", "parent_views": "Needs calm mornings"}
        assert sub.submitted_by == f"identity:{identity.id}" and sub.submitted_as == "parent"
        doc = s.execute(select(Document).where(Document.submission_id == sid)).scalar_one()
        assert doc.kind == "views" and doc.child_id == child.id and doc.filename == "drawing.png"
    # And a second time: both are kept.
    with in_tenant(tenant_a):
        portal.submit_views(actor, child.id, {"hopes": "To ride a bike"}, [], today=TODAY)
        _family, rows = portal.sent_submissions(actor, child.id)
        assert [r.kind for r, _docs in rows] == [SubmissionKind.VIEWS, SubmissionKind.VIEWS]
        assert [len(docs) for _r, docs in rows] == [0, 1]
    actions = _actions(tenant_a, child.id, str(identity.id))
    assert actions.count("submission.sent") == 2 and "document.added" in actions


def test_a_young_person_writes_about_themselves(tenant_a: Any, young_person: Any) -> None:
    child, _identity, actor = young_person
    with in_tenant(tenant_a):
        family = portal.access_family_child(actor, child.id, today=TODAY)
        fields = dict(portal.views_fields(family))
        assert fields["about"] == "About me" and "parent_views" not in fields
        sub = portal.submit_views(actor, child.id, {"about": "I like coding"}, [], today=TODAY)
        assert sub.submitted_as == "young_person" and sub.case_id is None


@pytest.mark.parametrize(("values", "files", "field"), [
    ({}, [], "about"),
    ({"about": "x" * (portal.VIEWS_MAX + 1)}, [], "about"),
    ({"about": "fine"}, [portal.Upload("notes.txt", b"plain text")], "files"),
    ({"about": "fine"}, [portal.Upload("empty.pdf", b"")], "files"),
    ({"about": "fine"}, [portal.Upload(f"{n}.pdf", PDF) for n in range(portal.MAX_FILES + 1)], "files"),
])
def test_bad_views_are_refused_and_nothing_is_written(tenant_a: Any, make_child: Any, parent_of: Any,
                                                      values: dict[str, str], files: list[Any], field: str) -> None:
    child = make_child(tenant_a)
    _identity, actor = parent_of(child)
    with in_tenant(tenant_a) as s:
        with pytest.raises(ValidationFailed) as exc:
            portal.submit_views(actor, child.id, values, files, today=TODAY)
        assert field in exc.value.errors
        # Checked in the same transaction: a half-written submission would show here.
        assert s.execute(select(func.count()).select_from(Submission)).scalar_one() == 0
        assert s.execute(select(func.count()).select_from(Document)).scalar_one() == 0


# ---------------------------------------------------------------------------------------
# Asking for an assessment (s36) or a re-assessment


def test_a_parent_asks_for_an_assessment_and_the_six_week_clock_starts_today(
        tenant_a: Any, make_child: Any, parent_of: Any) -> None:
    child = make_child(tenant_a)
    identity, actor = parent_of(child)
    with in_tenant(tenant_a) as s:
        sub = portal.request_assessment(actor, child.id, {"reasons": "Not talking at school", "support_so_far": "SALT"},
                                        [portal.Upload("report.pdf", PDF)], policy=POLICY, today=TODAY)
        case = s.get(Case, sub.case_id)
        event = s.get(CaseEvent, sub.case_event_id)
        assert case.stage == "request" and case.opened_on == TODAY
        assert (event.type, event.date, event.attributes["requester"]) == ("request_received", TODAY, "parent")
        # The event is the parent's: recorded by them, not by a system account.
        assert (event.recorded_by_type, event.recorded_by) == ("identity", str(identity.id))
        assert sub.kind == SubmissionKind.ASSESSMENT_REQUEST and sub.body["reassessment"] is False
        assert s.execute(select(Document.kind).where(Document.submission_id == sub.id)).scalar_one() == "evidence"
        due = portal.decision_due(case, policy=POLICY, today=TODAY)
        assert due is not None and due.last_day == TODAY + dt.timedelta(weeks=6)
    actions = _actions(tenant_a, child.id, str(identity.id))
    assert {"case.opened", "case.event_recorded", "submission.sent", "document.added"} <= set(actions)


def test_a_young_person_asks_for_their_own_assessment(tenant_a: Any, young_person: Any) -> None:
    child, _identity, actor = young_person
    with in_tenant(tenant_a) as s:
        sub = portal.request_assessment(actor, child.id, {"reasons": "College is hard"}, [], policy=POLICY, today=TODAY)
        assert s.get(CaseEvent, sub.case_event_id).attributes["requester"] == "young_person"


def test_a_second_request_while_one_is_under_way_is_refused_and_nothing_changes(
        tenant_a: Any, make_child: Any, make_case: Any, parent_of: Any) -> None:
    child = make_child(tenant_a)
    case = make_case(tenant_a, JOURNEY_TO_PLAN[:1], child=child, today=TODAY)
    _identity, actor = parent_of(child)
    with in_tenant(tenant_a) as s:
        with pytest.raises(Conflict, match="already have a request"):
            portal.request_assessment(actor, child.id, {"reasons": "again"}, [], policy=POLICY, today=TODAY)
        assert s.execute(select(func.count()).select_from(Case)).scalar_one() == 1
        assert s.get(Case, case.id).event_count == 2
        assert s.execute(select(func.count()).select_from(Submission)).scalar_one() == 0


def test_with_a_plan_in_place_the_request_is_for_a_re_assessment(
        tenant_a: Any, make_child: Any, make_case: Any, parent_of: Any) -> None:
    child = make_child(tenant_a)
    case = make_case(tenant_a, JOURNEY_TO_PLAN, child=child, today=TODAY)
    _identity, actor = parent_of(child)
    with in_tenant(tenant_a) as s:
        _family, _case, kind = portal.request_options(actor, child.id)
        assert kind == "reassessment"
        sub = portal.request_assessment(actor, child.id, {"reasons": "Needs have changed"}, [], policy=POLICY,
                                        today=TODAY)
        assert sub.case_id == case.id and sub.body["reassessment"] is True
        assert s.get(CaseEvent, sub.case_event_id).type == "reassessment_request_received"
        assert s.get(Case, case.id).stage == "reassessment"
        due = portal.decision_due(s.get(Case, case.id), policy=POLICY, today=TODAY)
        assert due is not None and due.key == "reassessment_decision" and due.last_day == TODAY + dt.timedelta(days=15)
    with in_tenant(tenant_a), pytest.raises(Conflict, match="re-assess"):
        portal.request_assessment(actor, child.id, {"reasons": "Again"}, [], policy=POLICY, today=TODAY)


def test_a_request_with_no_reasons_is_refused(tenant_a: Any, make_child: Any, parent_of: Any) -> None:
    child = make_child(tenant_a)
    _identity, actor = parent_of(child)
    with in_tenant(tenant_a) as s:
        with pytest.raises(ValidationFailed) as exc:
            portal.request_assessment(actor, child.id, {"reasons": "  "}, [], policy=POLICY, today=TODAY)
        assert "reasons" in exc.value.errors
        assert s.execute(select(func.count()).select_from(Case)).scalar_one() == 0


# ---------------------------------------------------------------------------------------
# Comments on the draft plan, inside the window (reg 13(1)(a): last day = served + 14)


@pytest.mark.parametrize("served_days_ago", [0, 3, 14])
def test_comments_inside_the_window_are_kept_per_section_against_the_served_draft(
        tenant_a: Any, make_child: Any, make_case: Any, parent_of: Any, served_days_ago: int) -> None:
    child = make_child(tenant_a)
    case = make_case(tenant_a, _to_draft(served_days_ago), child=child, today=TODAY)
    identity, actor = parent_of(child)
    with in_tenant(tenant_a) as s:
        served = s.execute(select(PlanVersion).where(PlanVersion.case_id == case.id,
                                                     PlanVersion.state == "served")).scalar_one()
        draft = portal.draft_for_comment(actor, child.id, policy=POLICY, today=TODAY)
        assert draft.window is not None and draft.window.kind == "draft"
        assert draft.window.last_day == TODAY - dt.timedelta(days=served_days_ago) + dt.timedelta(days=14)
        assert draft.window.version is not None and draft.window.version.id == served.id
        for section in ("B", "F"):
            sub = portal.comment_on_draft(actor, child.id, section, {"comment": f"About {section}", "meeting": "yes"},
                                          policy=POLICY, today=TODAY)
            assert (sub.kind, sub.section, sub.plan_version_id, sub.case_id) == (
                SubmissionKind.DRAFT_COMMENT, section, served.id, case.id)
            assert sub.body["meeting_requested"] is True
        again = portal.draft_for_comment(actor, child.id, policy=POLICY, today=TODAY)
        assert {k: [c.text for c in v] for k, v in again.comments.items()} == {"B": ["About B"], "F": ["About F"]}
    assert _actions(tenant_a, child.id, str(identity.id)).count("submission.sent") == 2


@pytest.mark.parametrize(("events", "words"), [
    (_to_draft(15), "was from"),           # the day after the last day
    (_to_draft(40), "was from"),
    (JOURNEY_TO_PLAN[:4], "no draft plan"),  # no draft yet
    (JOURNEY_TO_PLAN, "was from"),          # the plan is final
])
def test_comments_outside_the_window_are_refused_with_the_dates_and_whom_to_contact(
        tenant_a: Any, make_child: Any, make_case: Any, make_user: Any, parent_of: Any,
        events: list[dict[str, Any]], words: str) -> None:
    worker = make_user(tenant_a, Role.CASEWORKER, name="Sam Worker")
    child = make_child(tenant_a)
    make_case(tenant_a, events, child=child, today=TODAY, caseworker_id=worker.id)
    _identity, actor = parent_of(child)
    with in_tenant(tenant_a) as s:
        with pytest.raises(Conflict) as exc:
            portal.comment_on_draft(actor, child.id, "B", {"comment": "Too late?"}, policy=POLICY,
                                    team_email="send@a.example", today=TODAY)
        message = exc.value.message
        assert words in message and "Sam Worker" in message and "send@a.example" in message
        assert s.execute(select(func.count()).select_from(Submission)).scalar_one() == 0


def test_the_refusal_names_the_window_dates(tenant_a: Any, make_child: Any, make_case: Any, parent_of: Any) -> None:
    child = make_child(tenant_a)
    make_case(tenant_a, [*JOURNEY_TO_PLAN[:4], {"type": "draft_plan_served", "date": "2026-05-01"}], child=child,
              today=TODAY)
    _identity, actor = parent_of(child)
    with in_tenant(tenant_a), pytest.raises(Conflict) as exc:
        portal.comment_on_draft(actor, child.id, "A", {"comment": "x"}, policy=POLICY, today=TODAY)
    assert "from 1 May 2026 to 15 May 2026" in exc.value.message and "reg 13(1)(a)" in exc.value.message


def test_comments_on_proposed_amendments_are_allowed_inside_the_reg_22_window(
        tenant_a: Any, make_child: Any, make_case: Any, parent_of: Any) -> None:
    child = make_child(tenant_a)
    review = [{"type": "review_meeting_held", "date": _days(30)},
              {"type": "review_decision_sent", "date": _days(20), "outcome": "amend"},
              {"type": "amendment_notice_sent", "date": _days(2)}]
    case = make_case(tenant_a, [*JOURNEY_TO_PLAN, *review], child=child, today=TODAY)
    _identity, actor = parent_of(child)
    with in_tenant(tenant_a) as s:
        issued = s.execute(select(PlanVersion).where(PlanVersion.case_id == case.id,
                                                     PlanVersion.state == "issued")).scalar_one()
        sub = portal.comment_on_draft(actor, child.id, "F", {"comment": "Keep the weekly sessions"}, policy=POLICY,
                                      today=TODAY)
        assert sub.plan_version_id == issued.id and sub.body["window"] == "amendment_notice_representations"


@pytest.mark.parametrize(("section", "comment", "error"), [
    ("Z", "fine", NotFound), ("B", "", ValidationFailed), ("B", "x" * (portal.COMMENT_MAX + 1), ValidationFailed),
])
def test_bad_comments_are_refused(tenant_a: Any, make_child: Any, make_case: Any, parent_of: Any, section: str,
                                  comment: str, error: type[Exception]) -> None:
    child = make_child(tenant_a)
    make_case(tenant_a, _to_draft(2), child=child, today=TODAY)
    _identity, actor = parent_of(child)
    with in_tenant(tenant_a) as s:
        with pytest.raises(error):
            portal.comment_on_draft(actor, child.id, section, {"comment": comment}, policy=POLICY, today=TODAY)
        assert s.execute(select(func.count()).select_from(Submission)).scalar_one() == 0


# ---------------------------------------------------------------------------------------
# A preferred school; a personal budget


def test_a_preferred_school_by_urn_is_named_from_the_register_and_flagged_inside_the_window(
        tenant_a: Any, make_child: Any, make_case: Any, parent_of: Any, institution: int) -> None:
    child = make_child(tenant_a)
    make_case(tenant_a, _to_draft(2), child=child, today=TODAY)
    _identity, actor = parent_of(child)
    with in_tenant(tenant_a):
        sub = portal.preferred_school(actor, child.id, {"urn": str(institution), "name": "", "reason": "Close by"},
                                      policy=POLICY, today=TODAY)
    assert sub.kind == SubmissionKind.PREFERRED_SCHOOL and sub.section == "I"
    assert sub.body["urn"] == institution and sub.body["name"] == "Test Primary School" and sub.body["in_window"]


def test_a_preferred_school_by_name_outside_a_window_is_kept_but_not_flagged(
        tenant_a: Any, make_child: Any, make_case: Any, parent_of: Any) -> None:
    child = make_child(tenant_a)
    make_case(tenant_a, JOURNEY_TO_PLAN, child=child, today=TODAY)
    _identity, actor = parent_of(child)
    with in_tenant(tenant_a):
        sub = portal.preferred_school(actor, child.id, {"name": "Hillside Independent School"}, policy=POLICY,
                                      today=TODAY)
    assert sub.body["urn"] is None and sub.body["name"] == "Hillside Independent School" and not sub.body["in_window"]


@pytest.mark.parametrize(("values", "field"), [
    ({}, "name"), ({"urn": "12345"}, "urn"), ({"urn": "12AB56"}, "urn"), ({"urn": "999998"}, "urn"),
    ({"name": "x" * 201}, "name"),
])
def test_a_bad_preferred_school_is_refused(tenant_a: Any, make_child: Any, make_case: Any, parent_of: Any,
                                           values: dict[str, str], field: str) -> None:
    child = make_child(tenant_a)
    make_case(tenant_a, _to_draft(2), child=child, today=TODAY)
    _identity, actor = parent_of(child)
    with in_tenant(tenant_a) as s:
        with pytest.raises(ValidationFailed) as exc:
            portal.preferred_school(actor, child.id, values, policy=POLICY, today=TODAY)
        assert field in exc.value.errors
        assert s.execute(select(func.count()).select_from(Submission)).scalar_one() == 0


def test_a_preferred_school_needs_a_case(tenant_a: Any, make_child: Any, parent_of: Any) -> None:
    child = make_child(tenant_a)
    _identity, actor = parent_of(child)
    with in_tenant(tenant_a), pytest.raises(Conflict, match="ask for an assessment"):
        portal.preferred_school(actor, child.id, {"name": "Somewhere"}, policy=POLICY, today=TODAY)


BUDGET = {"areas": ["education", "social_care"], "way": "direct_payment", "details": "A tutor we found"}


@pytest.mark.parametrize("events", [JOURNEY_TO_PLAN[:4], _to_draft(2), JOURNEY_TO_PLAN])
def test_a_personal_budget_may_be_asked_for_once_a_plan_is_being_written(
        tenant_a: Any, make_child: Any, make_case: Any, young_person: Any, events: list[dict[str, Any]]) -> None:
    child, identity, actor = young_person
    make_case(tenant_a, events, child=child, today=TODAY)
    with in_tenant(tenant_a):
        sub = portal.request_personal_budget(actor, child.id, BUDGET, today=TODAY)
    assert sub.kind == SubmissionKind.PERSONAL_BUDGET and sub.section == "J" and sub.submitted_as == "young_person"
    assert sub.body == BUDGET and sub.case_event_id is None  # no event: the catalogue has none for it
    assert "submission.sent" in _actions(tenant_a, child.id, str(identity.id))


@pytest.mark.parametrize("events", [None, JOURNEY_TO_PLAN[:1], JOURNEY_TO_PLAN[:3]])
def test_a_personal_budget_before_a_decision_to_write_a_plan_is_refused(
        tenant_a: Any, make_child: Any, make_case: Any, parent_of: Any, events: list[dict[str, Any]] | None) -> None:
    child = make_child(tenant_a)
    if events is not None:
        make_case(tenant_a, events, child=child, today=TODAY)
    _identity, actor = parent_of(child)
    with in_tenant(tenant_a) as s:
        with pytest.raises(Conflict, match="section 49"):
            portal.request_personal_budget(actor, child.id, BUDGET, today=TODAY)
        assert s.execute(select(func.count()).select_from(Submission)).scalar_one() == 0


@pytest.mark.parametrize(("change", "field"), [
    ({"areas": []}, "areas"), ({"areas": ["education", "holidays"]}, "areas"), ({"way": "cash"}, "way"),
    ({"details": " "}, "details"),
])
def test_a_bad_personal_budget_form_is_refused(tenant_a: Any, make_child: Any, make_case: Any, parent_of: Any,
                                               change: dict[str, Any], field: str) -> None:
    child = make_child(tenant_a)
    make_case(tenant_a, JOURNEY_TO_PLAN, child=child, today=TODAY)
    _identity, actor = parent_of(child)
    with in_tenant(tenant_a) as s:
        with pytest.raises(ValidationFailed) as exc:
            portal.request_personal_budget(actor, child.id, {**BUDGET, **change}, today=TODAY)
        assert field in exc.value.errors
        assert s.execute(select(func.count()).select_from(Submission)).scalar_one() == 0


# ---------------------------------------------------------------------------------------
# Documents


def test_the_family_opens_their_own_files_and_the_advice_but_not_staff_evidence_or_another_childs(
        tenant_a: Any, make_child: Any, make_case: Any, parent_of: Any) -> None:
    from core.documents.services import store_document

    child, other = make_child(tenant_a), make_child(tenant_a)
    case = make_case(tenant_a, JOURNEY_TO_PLAN[:3], child=child, today=TODAY)
    _identity, actor = parent_of(child)
    with in_tenant(tenant_a):
        sys = system_actor(tenant_a)
        advice = store_document(sys, child_id=child.id, case_id=case.id, kind="advice", title="EP advice",
                                filename="ep.pdf", data=PDF, advice_id="ep1").id
        internal = store_document(sys, child_id=child.id, case_id=case.id, kind="evidence", title="Notes",
                                  filename="notes.pdf", data=PDF).id
        elsewhere = store_document(sys, child_id=other.id, kind="advice", title="Other", filename="o.pdf", data=PDF).id
        mine = portal.submit_views(actor, child.id, {"about": "x"}, [portal.Upload("me.pdf", PDF)], today=TODAY)
        own = portal.sent_submissions(actor, child.id)[1][0][1][0].id
        assert mine is not None
    with in_tenant(tenant_a):
        assert portal.access_family_document(actor, child.id, advice).id == advice
        assert portal.access_family_document(actor, child.id, own).id == own
        for refused in (internal, elsewhere, str(uuid.uuid4())):
            with pytest.raises(NotFound):
                portal.access_family_document(actor, child.id, refused)


# ---------------------------------------------------------------------------------------
# Who can see the case, and who has looked


def test_who_can_see_lists_people_by_name_and_role_never_their_addresses(
        tenant_a: Any, make_child: Any, make_case: Any, make_user: Any, make_member: Any, make_identity: Any,
        parent_of: Any, institution: int) -> None:
    from core.children.access import access_child
    from core.children.services import add_placement
    from core.identity.services import invite

    worker = make_user(tenant_a, Role.CASEWORKER, name="Amara Okafor")
    child = make_child(tenant_a)
    case = make_case(tenant_a, JOURNEY_TO_PLAN[:3], child=child, today=TODAY, caseworker_id=worker.id)
    with in_tenant(tenant_a):
        sys = system_actor(tenant_a)
        add_placement(sys, access_child(sys, child.id, for_write=True), urn=institution, started_on=dt.date(2020, 9, 1))
    me, actor = parent_of(child)
    make_member(tenant_a, "parent", child_id=child.id, identity=make_identity(name="Other Parent"))
    make_member(tenant_a, "professional", case_id=case.id, identity=make_identity(name="Dr Menon"))
    make_member(tenant_a, "senco", urn=institution, identity=make_identity(name="Ruth SENCO"))
    gone = make_member(tenant_a, "parent", child_id=child.id, identity=make_identity(name="Revoked Person"))
    with in_tenant(tenant_a) as s:
        s.execute(select(Membership).where(Membership.identity_id == gone.id)).scalar_one().revoked_at = utcnow()
        invite(actor_for(worker), role=MembershipRole.PARENT, email="secret.address@example.org", child_id=child.id)
    with in_tenant(tenant_a):
        listing = portal.who_has_access(actor, child.id, today=TODAY)
    people = {(p.name, p.role, p.status) for p in listing.people}
    assert people == {
        (me.display_name, "Parent or carer", "access"), ("Other Parent", "Parent or carer", "access"),
        ("Dr Menon", "Professional giving advice", "access"), ("Ruth SENCO", "SENCO at Test Primary School", "access"),
        ("Not yet accepted", "Parent or carer", "invited"),
    }
    assert [p.is_you for p in listing.people][0] is True
    assert "secret.address@example.org" not in repr(listing)
    assert listing.staff == [("Amara Okafor", "Caseworker")]


def test_a_parent_of_a_young_person_needs_the_young_persons_agreement_and_the_young_person_can_give_it(
        tenant_a: Any, young_person: Any, make_member: Any, make_identity: Any) -> None:
    child, _yp, actor = young_person
    mum = make_member(tenant_a, "parent", child_id=child.id, identity=make_identity(name="Mum"))
    with in_tenant(tenant_a):
        assert child.id not in scope_for(mum.id).child_ids
        waiting = [p for p in portal.who_has_access(actor, child.id, today=TODAY).people if p.name == "Mum"]
        assert [p.status for p in waiting] == ["needs_agreement"]
        consent = portal.agree_parent_access(actor, child.id, mum.id, today=TODAY)
        cid = consent.id
    with in_tenant(tenant_a):
        assert child.id in scope_for(mum.id).child_ids
        _family, consents, may = portal.consents_of(actor, child.id, today=TODAY)
        assert may and [(c.recipient, c.portal_access) for c in consents] == [("Mum", True)]
        # Withdrawing it ends the parent's access at once.
        portal.revoke_consent(actor, child.id, cid, today=TODAY)
    with in_tenant(tenant_a):
        assert child.id not in scope_for(mum.id).child_ids


def test_only_the_young_person_can_agree_to_a_parent_seeing_their_case(
        tenant_a: Any, young_person: Any, make_member: Any, make_identity: Any) -> None:
    child, _yp, yp_actor = young_person
    mum = make_member(tenant_a, "parent", child_id=child.id, identity=make_identity(name="Mum"))
    dad = make_member(tenant_a, "parent", child_id=child.id, identity=make_identity(name="Dad"))
    with in_tenant(tenant_a):
        give_portal_consent(yp_actor, child.id, dad.id)
    dad_actor = _actor(tenant_a, dad)
    with in_tenant(tenant_a):
        with pytest.raises(Forbidden):
            portal.agree_parent_access(dad_actor, child.id, mum.id, today=TODAY)
        with pytest.raises(NotFound):  # not a parent of this young person
            portal.agree_parent_access(yp_actor, child.id, uuid.uuid4(), today=TODAY)


def test_who_has_looked_names_staff_systems_and_people_newest_first_without_my_own_visits(
        tenant_a: Any, make_child: Any, make_user: Any, make_member: Any, make_identity: Any, parent_of: Any) -> None:
    from core.actors import Actor
    from core.api_clients.services import create_client
    from core.children.access import access_child

    child, other = make_child(tenant_a), make_child(tenant_a)
    me, actor = parent_of(child)
    manager = make_user(tenant_a, Role.TEAM_MANAGER, name="Daniel Hughes")
    other_parent = _actor(tenant_a, make_member(tenant_a, "parent", child_id=child.id,
                                                identity=make_identity(name="Other Parent")))
    with in_tenant(tenant_a):
        client, _secret = create_client(tenant_a.slug, "Acme MIS", "children:read")
        # As web.api.oauth makes it: the client acts under its public client_id.
        client_actor = Actor(tenant_id=tenant_a.id, kind="api_client", id=client.client_id, permissions=frozenset())
        access_child(actor_for(manager), child.id)
        audit.record(client_actor, "child.viewed", subject_type="child", subject_ids=[child.id])
        access_child(actor_for(manager), other.id)  # another child: never shown
        portal.access_family_child(actor, child.id)  # my own visit
        audit.record(other_parent, "child.viewed", subject_type="child", subject_ids=[child.id])
    with in_tenant(tenant_a):
        _family, looks, total = portal.who_has_looked(actor, child.id, today=TODAY)
        mine_too = portal.who_has_looked(actor, child.id, include_own=True, today=TODAY)
    who = [(look.who, look.role, look.what) for look in looks]
    assert who[0] == ("Other Parent", "Parent or carer", "Looked at the record")
    assert ("Daniel Hughes", "Council staff (team manager)", "Looked at the record") in who
    assert ("A connected system (Acme MIS)", "Council computer system", "Looked at the record") in who
    assert any(w[0] == "This service" for w in who)  # the system created the record
    assert not any(look.is_you for look in looks) and total == len(looks)
    assert any(look.is_you and look.who == "You" for look in mine_too[1]) and mine_too[2] > total
    with in_tenant(tenant_a):
        first = portal.who_has_looked(actor, child.id, per_page=2, today=TODAY)
        second = portal.who_has_looked(actor, child.id, page=2, per_page=2, today=TODAY)
    assert first[2] == second[2] == total and len(first[1]) == 2
    assert [x.at for x in first[1]] + [x.at for x in second[1]] == sorted(
        [x.at for x in first[1]] + [x.at for x in second[1]], reverse=True)


# ---------------------------------------------------------------------------------------
# Consent (per recipient, revocable)


def test_a_parent_gives_and_withdraws_consent_per_recipient_and_it_is_audited(
        tenant_a: Any, make_child: Any, parent_of: Any) -> None:
    child = make_child(tenant_a)
    identity, actor = parent_of(child)
    with in_tenant(tenant_a):
        first = portal.give_consent(actor, child.id, {"recipient": "Sunny Days Charity", "purpose": "Holiday club"})
        second = portal.give_consent(actor, child.id, {"recipient": "Dr Private OT", "purpose": "OT sessions"})
        first_id, second_id = first.id, second.id
        assert first.given_by == f"identity:{identity.id}"
    with in_tenant(tenant_a):
        portal.revoke_consent(actor, child.id, first_id)
        _family, live, may = portal.consents_of(actor, child.id)
        assert may and [c.consent.id for c in live] == [second_id]
        _family, everything, _may = portal.consents_of(actor, child.id, include_ended=True)
        assert {c.consent.id for c in everything} == {first_id, second_id}
        # Withdrawing again changes nothing (and records nothing more).
        portal.revoke_consent(actor, child.id, first_id)
    actions = _actions(tenant_a, child.id, str(identity.id))
    assert actions.count("consent.given") == 2 and actions.count("consent.withdrawn") == 1


@pytest.mark.parametrize(("values", "field"), [
    ({"recipient": "", "purpose": "x"}, "recipient"), ({"recipient": "x", "purpose": ""}, "purpose"),
    ({"recipient": f"identity:{uuid.uuid4()}", "purpose": "see it"}, "recipient"),
    ({"recipient": "Mum", "purpose": "portal_access"}, "purpose"),
    ({"recipient": "x" * 201, "purpose": "x"}, "recipient"),
    ({"recipient": "Sunny Days charity", "purpose": "holiday club"}, "recipient"),  # the same as one already given
])
def test_bad_consent_is_refused(tenant_a: Any, make_child: Any, parent_of: Any, values: dict[str, str],
                                field: str) -> None:
    child = make_child(tenant_a)
    _identity, actor = parent_of(child)
    with in_tenant(tenant_a):
        portal.give_consent(actor, child.id, {"recipient": "Sunny Days Charity", "purpose": "Holiday club"})
    with in_tenant(tenant_a) as s:
        with pytest.raises(ValidationFailed) as exc:
            portal.give_consent(actor, child.id, values)
        assert field in exc.value.errors
        assert s.execute(select(func.count()).select_from(Consent)).scalar_one() == 1


def test_a_parent_of_a_young_person_cannot_decide_about_sharing(
        tenant_a: Any, young_person: Any, make_member: Any, make_identity: Any) -> None:
    child, _yp, yp_actor = young_person
    mum = make_member(tenant_a, "parent", child_id=child.id, identity=make_identity(name="Mum"))
    with in_tenant(tenant_a):
        consent_id = portal.give_consent(yp_actor, child.id, {"recipient": "A charity", "purpose": "Support"}).id
        give_portal_consent(yp_actor, child.id, mum.id)
    mum_actor = _actor(tenant_a, mum)
    with in_tenant(tenant_a) as s:
        _family, consents, may = portal.consents_of(mum_actor, child.id)
        assert not may and len(consents) == 2
        with pytest.raises(Forbidden):
            portal.give_consent(mum_actor, child.id, {"recipient": "Another", "purpose": "x"})
        with pytest.raises(Forbidden):
            portal.revoke_consent(mum_actor, child.id, consent_id)
        assert s.get(Consent, consent_id).revoked_at is None


def test_another_childs_consent_cannot_be_withdrawn(tenant_a: Any, make_child: Any, parent_of: Any) -> None:
    mine, theirs = make_child(tenant_a), make_child(tenant_a)
    _me, actor = parent_of(mine)
    _them, other = parent_of(theirs)
    with in_tenant(tenant_a):
        their_consent = portal.give_consent(other, theirs.id, {"recipient": "A charity", "purpose": "Support"}).id
    with in_tenant(tenant_a) as s:
        for bad in (their_consent, "nonsense", uuid.uuid4()):
            with pytest.raises(NotFound):
                portal.revoke_consent(actor, mine.id, bad)
        assert s.get(Consent, their_consent).revoked_at is None
