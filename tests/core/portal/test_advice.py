"""The professionals' portal services (core/portal/advice.py): what a professional is asked
for, and returning advice in one transaction that ends their access to the request."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditEvent
from core.cases.models import CaseEvent, Document
from core.children.access import access_child
from core.children.services import add_placement
from core.db import db
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.identity import services as identities
from core.identity.models import Identity
from core.portal import advice
from core.submissions.models import Submission, SubmissionKind
from core.timescales import TimescalePolicy
from tests.conftest import in_tenant, system_actor

POLICY = TimescalePolicy()
ASSESSING = [
    {"type": "decision_to_assess_made", "date": "2026-02-10", "outcome": "assess"},
    {"type": "advice_requested", "date": "2026-02-11", "advice": "medical", "advice_id": "med1"},
    {"type": "advice_requested", "date": "2026-02-18", "advice": "psychological", "advice_id": "ep1"},
]
DURING = dt.date(2026, 2, 20)
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n"
GOOD = {"summary": "Asthma; needs an inhaler to hand", "provision": "Staff trained in inhaler use\nA care plan",
        "outcomes": "Takes part in PE safely"}


@pytest.fixture
def assessing(tenant_a: Any, make_child: Any, make_contact: Any, make_case: Any, institution: int) -> dict[str, Any]:
    child = make_child(tenant_a, given_name="Noor", family_name="Shah", date_of_birth=dt.date(2016, 7, 9))
    make_contact(tenant_a, child, given_name="Ruth", family_name="Privatecontact", email="ruth@family.example")
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        add_placement(actor, access_child(actor, child.id, for_write=True), urn=institution,
                      started_on=dt.date(2022, 9, 1))
    case = make_case(tenant_a, ASSESSING, child=child, today=DURING)
    return {"child": child, "case": case}


def _actor(tenant: Any, identity: Any) -> Any:
    return identities.actor_for_identity(db.session.get(Identity, identity.id))


def _stored(tenant: Any, case_id: Any) -> tuple[int, int, int]:
    with in_tenant(tenant) as s:
        return (s.execute(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case_id)).scalar_one(),
                s.execute(select(func.count()).select_from(Submission)).scalar_one(),
                s.execute(select(func.count()).select_from(Document).where(Document.case_id == case_id)).scalar_one())


# ---------------------------------------------------------------------------------------
# The inbox


def test_a_professional_invited_for_one_request_sees_that_request_and_its_due_date(
        tenant_a: Any, assessing: dict[str, Any], make_member: Any) -> None:
    doctor = make_member(tenant_a, "professional", case_id=assessing["case"].id, advice_id="med1")
    with in_tenant(tenant_a):
        (entry,) = advice.inbox(_actor(tenant_a, doctor), policy=POLICY, today=DURING)
    assert (entry.child_name, entry.date_of_birth, entry.school) == ("Noor Shah", dt.date(2016, 7, 9),
                                                                     "Test Primary School")
    assert entry.case_wide is False
    (request,) = entry.waiting
    assert (request.advice_id, request.kind, request.requested_on) == ("med1", "medical", dt.date(2026, 2, 11))
    # SEND Regulations 2014 reg 8(1): 6 weeks from the request.
    assert request.deadline is not None and request.deadline.last_compliant_day == dt.date(2026, 3, 25)
    assert request.deadline.status == "open"


def test_a_professional_invited_for_the_case_sees_every_open_request_and_then_the_case(
        tenant_a: Any, assessing: dict[str, Any], make_member: Any) -> None:
    psychologist = make_member(tenant_a, "professional", case_id=assessing["case"].id)
    with in_tenant(tenant_a):
        (entry,) = advice.inbox(_actor(tenant_a, psychologist), policy=POLICY, today=dt.date(2026, 3, 30))
        assert entry.case_wide is True
        assert [(r.advice_id, r.deadline.status) for r in entry.waiting] == [("med1", "missed"), ("ep1", "open")]
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        from core.cases.services import record_event

        case = db.session.get(type(assessing["case"]), assessing["case"].id)
        for advice_id in ("med1", "ep1"):
            record_event(actor, case, {"type": "advice_received", "date": "2026-03-30", "advice_id": advice_id},
                         policy=POLICY, today=dt.date(2026, 3, 30))
    with in_tenant(tenant_a):
        (entry,) = advice.inbox(_actor(tenant_a, psychologist), policy=POLICY, today=dt.date(2026, 3, 30))
    assert entry.waiting == [] and entry.child_name == "Noor Shah"


def test_a_request_outside_the_invitation_is_not_found(tenant_a: Any, assessing: dict[str, Any], make_member: Any,
                                                      object_graph: Any) -> None:
    doctor = make_member(tenant_a, "professional", case_id=assessing["case"].id, advice_id="med1")
    other = object_graph(tenant_a)
    with in_tenant(tenant_a):
        actor = _actor(tenant_a, doctor)
        case, found = advice.access_advice_request(actor, assessing["case"].id, "med1", policy=POLICY, today=DURING)
        assert found.open and case.id == assessing["case"].id
        for case_id, advice_id in ((assessing["case"].id, "ep1"), (assessing["case"].id, "nope"),
                                   (other["case_id"], "ep1"), ("junk", "med1")):
            with pytest.raises(NotFound):
                advice.access_advice_request(actor, case_id, advice_id, policy=POLICY, today=DURING)


def test_people_who_are_not_professionals_have_no_inbox(tenant_a: Any, assessing: dict[str, Any],
                                                       make_member: Any) -> None:
    parent = make_member(tenant_a, "parent", child_id=assessing["child"].id)
    with in_tenant(tenant_a):
        actor = _actor(tenant_a, parent)
        with pytest.raises(Forbidden):
            advice.inbox(actor, policy=POLICY, today=DURING)
        with pytest.raises(NotFound):
            advice.access_advice_request(actor, assessing["case"].id, "med1", policy=POLICY, today=DURING)


# ---------------------------------------------------------------------------------------
# Returning advice


def test_returning_advice_records_the_event_the_submission_and_the_file_and_ends_access(
        tenant_a: Any, assessing: dict[str, Any], make_member: Any, make_identity: Any) -> None:
    doctor = make_member(tenant_a, "professional", case_id=assessing["case"].id, advice_id="med1",
                         identity=make_identity(name="Dr Ravi Menon"))
    with in_tenant(tenant_a):
        actor = _actor(tenant_a, doctor)
        case, request = advice.access_advice_request(actor, assessing["case"].id, "med1", policy=POLICY, today=DURING)
        submission = advice.submit_advice(actor, case, request, dict(GOOD), advice.AdviceFile("report.pdf", PDF),
                                          policy=POLICY, today=DURING)
        sid = submission.id
    with in_tenant(tenant_a) as s:
        submission = s.get(Submission, sid)
        assert submission.kind == SubmissionKind.ADVICE and submission.section == "med1"
        assert submission.submitted_by == f"identity:{doctor.id}" and submission.submitted_as == "professional"
        assert submission.submitted_by_name == "Dr Ravi Menon"
        assert submission.body["provision"] == GOOD["provision"] and submission.acknowledged_at is None
        event = s.get(CaseEvent, submission.case_event_id)
        assert (event.type, event.date, event.attributes) == (
            "advice_received", DURING, {"advice_id": "med1", "advice": "medical"})
        # Recorded in their name, not the system's.
        assert (event.recorded_by_type, event.recorded_by) == ("identity", str(doctor.id))
        (doc,) = s.execute(select(Document).where(Document.submission_id == sid)).scalars()
        assert (doc.kind, doc.advice_id, doc.case_id, doc.filename) == ("advice", "med1", case.id, "report.pdf")
        audits = {(a.action, a.actor_type, a.actor_id) for a in s.execute(
            select(AuditEvent).where(AuditEvent.subject_id == assessing["child"].id)).scalars()}
        assert {("case.event_recorded", "identity", str(doctor.id)), ("advice.submitted", "identity", str(doctor.id)),
                ("document.added", "identity", str(doctor.id))} <= audits
        # Their only membership was for this advice: they have nothing left here.
        assert identities.actor_for_identity(s.get(Identity, doctor.id)) is None


def test_a_professional_invited_for_the_case_keeps_it_after_returning_one_request(
        tenant_a: Any, assessing: dict[str, Any], make_member: Any) -> None:
    psychologist = make_member(tenant_a, "professional", case_id=assessing["case"].id)
    with in_tenant(tenant_a):
        actor = _actor(tenant_a, psychologist)
        case, request = advice.access_advice_request(actor, assessing["case"].id, "ep1", policy=POLICY, today=DURING)
        advice.submit_advice(actor, case, request, dict(GOOD), None, policy=POLICY, today=DURING)
        cases_left, anything_left = advice.access_left(actor)
        assert cases_left == {case.id} and anything_left
    with in_tenant(tenant_a):
        actor = _actor(tenant_a, psychologist)
        (entry,) = advice.inbox(actor, policy=POLICY, today=DURING)
        assert [r.advice_id for r in entry.waiting] == ["med1"]
        assert [s.section for s in entry.sent] == ["ep1"]
        _case, answered = advice.access_advice_request(actor, assessing["case"].id, "ep1", policy=POLICY, today=DURING)
        assert answered.received_on == DURING and not answered.open


def test_bad_advice_is_refused_whole_and_nothing_is_stored(tenant_a: Any, assessing: dict[str, Any],
                                                          make_member: Any) -> None:
    doctor = make_member(tenant_a, "professional", case_id=assessing["case"].id, advice_id="med1")
    before = _stored(tenant_a, assessing["case"].id)
    with in_tenant(tenant_a):
        actor = _actor(tenant_a, doctor)
        case, request = advice.access_advice_request(actor, assessing["case"].id, "med1", policy=POLICY, today=DURING)
        with pytest.raises(ValidationFailed) as refused:
            advice.submit_advice(actor, case, request, {"summary": " ", "provision": "x" * 20_001, "outcomes": ""},
                                 advice.AdviceFile("report.exe", b"MZ\x90\x00"), policy=POLICY, today=DURING)
    assert set(refused.value.errors) == {"summary", "provision", "outcomes", "advice_file"}
    assert _stored(tenant_a, assessing["case"].id) == before
    with in_tenant(tenant_a):
        assert identities.actor_for_identity(db.session.get(Identity, doctor.id)) is not None


def test_advice_already_received_is_refused_and_nothing_is_stored(tenant_a: Any, assessing: dict[str, Any],
                                                                 make_member: Any) -> None:
    doctor = make_member(tenant_a, "professional", case_id=assessing["case"].id)
    with in_tenant(tenant_a):
        actor = _actor(tenant_a, doctor)
        case, request = advice.access_advice_request(actor, assessing["case"].id, "med1", policy=POLICY, today=DURING)
        # Meanwhile the caseworker records the same advice, received by post.
        from core.cases.services import record_event

        record_event(system_actor(tenant_a), case, {"type": "advice_received", "date": DURING.isoformat(),
                                                    "advice_id": "med1"}, policy=POLICY, today=DURING)
    before = _stored(tenant_a, assessing["case"].id)
    with in_tenant(tenant_a):
        case = db.session.get(type(case), case.id)
        with pytest.raises(Conflict, match="received already"):
            advice.submit_advice(actor, case, request, dict(GOOD), advice.AdviceFile("r.pdf", PDF), policy=POLICY,
                                 today=DURING)
    assert _stored(tenant_a, assessing["case"].id) == before
