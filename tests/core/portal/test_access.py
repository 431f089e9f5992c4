"""The council's side of the portals (core/portal/access.py): who may be invited, when
access ends, resending and withdrawing, consent, and what arrives through the portals."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditEvent
from core.cases.access import access_case
from core.children.access import access_child
from core.db import db, utcnow
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.identity import services as identities
from core.identity.models import Consent, Identity, Membership, MembershipRole
from core.portal import access
from core.submissions.models import Submission, SubmissionKind
from core.timescales import TimescalePolicy
from tests.conftest import actor_for, in_tenant, system_actor

POLICY = TimescalePolicy()

ASSESSING = [
    {"type": "decision_to_assess_made", "date": "2026-02-10", "outcome": "assess"},
    {"type": "advice_requested", "date": "2026-02-11", "advice": "medical", "advice_id": "med1"},
    {"type": "advice_requested", "date": "2026-02-18", "advice": "psychological", "advice_id": "ep1"},
]
#: While the two requests above are awaited.
DURING = dt.date(2026, 2, 20)


def _address() -> str:
    return f"person-{uuid.uuid4().hex[:10]}@example.org"


def _counts(tenant: Any) -> tuple[int, int, int]:
    with in_tenant(tenant) as s:
        return (s.execute(select(func.count()).select_from(Membership)).scalar_one(),
                s.execute(select(func.count()).select_from(AuditEvent)).scalar_one(),
                s.execute(select(func.count()).select_from(Consent)).scalar_one())


@pytest.fixture
def caseworker(tenant_a: Any, make_user: Any) -> Any:
    return actor_for(make_user(tenant_a))


@pytest.fixture
def family(tenant_a: Any, make_child: Any, make_contact: Any) -> dict[str, Any]:
    child = make_child(tenant_a, date_of_birth=dt.date(2015, 5, 1))
    mother = make_contact(tenant_a, child, given_name="Ruth", family_name="Hale", email=_address(),
                          parental_responsibility=True)
    worker = make_contact(tenant_a, child, given_name="Jo", family_name="Carter", relationship="social_worker",
                          email=_address(), parental_responsibility=False)
    no_email = make_contact(tenant_a, child, given_name="Ann", family_name="Hale", relationship="grandparent",
                            parental_responsibility=True)
    return {"child": child, "mother": mother, "worker": worker, "no_email": no_email}


def _audit_actions(tenant: Any, object_id: Any) -> list[str]:
    with in_tenant(tenant) as s:
        return list(s.execute(select(AuditEvent.action).where(AuditEvent.object_id == object_id)
                              .order_by(AuditEvent.occurred_at)).scalars())


# ---------------------------------------------------------------------------------------
# Parents and carers: contacts with parental responsibility only


def test_a_contact_with_parental_responsibility_is_invited_at_their_recorded_address(
        tenant_a: Any, family: dict[str, Any], caseworker: Any) -> None:
    with in_tenant(tenant_a):
        child = access_child(caseworker, family["child"].id)
        membership, token = access.invite_parent(caseworker, child, str(family["mother"].id))
        mid = membership.id
        assert membership.role == MembershipRole.PARENT and membership.child_id == child.id
        assert membership.invited_email == family["mother"].email and membership.accepted_at is None
        assert identities.pending_invitation(token).id == mid
    assert _audit_actions(tenant_a, mid) == ["membership.invited"]


@pytest.mark.parametrize(("who", "message"), [
    ("worker", "do not have parental responsibility"),
    ("no_email", "no email address recorded"),
])
def test_a_contact_who_cannot_be_a_parent_member_is_refused_and_nothing_changes(
        tenant_a: Any, family: dict[str, Any], caseworker: Any, who: str, message: str) -> None:
    before = _counts(tenant_a)
    with in_tenant(tenant_a):
        child = access_child(caseworker, family["child"].id)
        with pytest.raises(ValidationFailed) as refused:
            access.invite_parent(caseworker, child, str(family[who].id))
    assert message in refused.value.errors["contact"][0]
    # One more audit row: reading the child (access_child); no membership, no invitation.
    members, audits, consents = _counts(tenant_a)
    assert (members, consents) == before[::2] and audits == before[1] + 1


def test_another_childs_contact_cannot_be_invited_for_this_child(
        tenant_a: Any, family: dict[str, Any], caseworker: Any, make_child: Any, make_contact: Any) -> None:
    other = make_child(tenant_a)
    stranger = make_contact(tenant_a, other, email=_address())
    with in_tenant(tenant_a):
        child = access_child(caseworker, family["child"].id)
        with pytest.raises(ValidationFailed):
            access.invite_parent(caseworker, child, str(stranger.id))
        with pytest.raises(ValidationFailed):
            access.invite_parent(caseworker, child, "not-an-id")


def test_inviting_the_same_parent_twice_is_refused(tenant_a: Any, family: dict[str, Any], caseworker: Any) -> None:
    with in_tenant(tenant_a):
        child = access_child(caseworker, family["child"].id)
        access.invite_parent(caseworker, child, family["mother"].id)
    with in_tenant(tenant_a):
        child = access_child(caseworker, family["child"].id)
        with pytest.raises(Conflict, match="already has access"):
            access.invite_parent(caseworker, child, family["mother"].id)


def test_only_staff_who_work_on_cases_may_invite(tenant_a: Any, family: dict[str, Any], make_user: Any) -> None:
    from core.users.models import Role

    officer = actor_for(make_user(tenant_a, Role.SEND_OFFICER))
    with in_tenant(tenant_a):
        child = access_child(officer, family["child"].id)
        with pytest.raises(Forbidden):
            access.invite_parent(officer, child, family["mother"].id)


# ---------------------------------------------------------------------------------------
# Young people: once over compulsory school age


def test_a_young_person_can_be_invited_only_after_compulsory_school_age(
        tenant_a: Any, make_child: Any, caseworker: Any) -> None:
    # Turns 16 in March 2026 (Year 11 in 2025/26): compulsory school age ends on the last
    # Friday of June 2026, 26 June (Education Act 1996 s8).
    child = make_child(tenant_a, date_of_birth=dt.date(2010, 3, 4))
    address = _address()
    before = _counts(tenant_a)
    with in_tenant(tenant_a):
        found = access_child(caseworker, child.id)
        assert access.young_person_from(found) == dt.date(2026, 6, 27)
        with pytest.raises(Conflict, match="not over compulsory school age yet") as refused:
            access.invite_young_person(caseworker, found, address, today=dt.date(2026, 6, 26))
        assert "27 June 2026" in refused.value.message
    assert _counts(tenant_a)[0] == before[0]
    with in_tenant(tenant_a):
        found = access_child(caseworker, child.id)
        membership, _token = access.invite_young_person(caseworker, found, address, today=dt.date(2026, 6, 27))
        assert membership.role == MembershipRole.YOUNG_PERSON and membership.invited_email == address


def test_a_young_persons_address_must_look_like_one(tenant_a: Any, make_child: Any, caseworker: Any) -> None:
    child = make_child(tenant_a, date_of_birth=dt.date(2008, 3, 4))
    with in_tenant(tenant_a):
        found = access_child(caseworker, child.id)
        for bad in ("", "nobody", "a@b", "two words@example.org"):
            with pytest.raises(ValidationFailed):
                access.invite_young_person(caseworker, found, bad, today=dt.date(2026, 11, 27))


# ---------------------------------------------------------------------------------------
# Professionals: per case or per advice request, for a limited time


def test_a_professionals_access_ends_14_days_after_the_advice_is_due_by_default(
        tenant_a: Any, make_case: Any, caseworker: Any) -> None:
    case = make_case(tenant_a, ASSESSING, today=DURING)
    with in_tenant(tenant_a):
        found = access_case(caseworker, case.id)
        # Reg 8(1): medical advice asked for on 11 February is due on 25 March; plus 14 days.
        assert access.default_professional_end(found, "med1", policy=POLICY, today=DURING) == dt.date(2026, 4, 8)
        membership, _ = access.invite_professional(caseworker, found, _address(), advice_id="med1", policy=POLICY,
                                                   today=DURING)
        assert membership.case_id == case.id and membership.advice_id == "med1"
        assert access.last_day(membership.expires_at) == dt.date(2026, 4, 8)
        assert membership.expires_at == dt.datetime(2026, 4, 8, 23, 0, tzinfo=dt.timezone.utc)  # midnight, BST
        # The whole case: after the last advice awaited is due (ep1, due 1 April).
        whole, _ = access.invite_professional(caseworker, found, _address(), advice_id=None, policy=POLICY,
                                              today=DURING)
        assert whole.advice_id is None and access.last_day(whole.expires_at) == dt.date(2026, 4, 15)
        chosen, _ = access.invite_professional(caseworker, found, _address(), advice_id="ep1", policy=POLICY,
                                               ends_on=dt.date(2026, 3, 1), today=DURING)
        assert access.last_day(chosen.expires_at) == dt.date(2026, 3, 1)


def test_a_professional_is_invited_only_for_advice_still_awaited_and_a_future_end(
        tenant_a: Any, make_case: Any, caseworker: Any) -> None:
    case = make_case(tenant_a, [*ASSESSING, {"type": "advice_received", "date": "2026-02-19", "advice": "medical",
                                             "advice_id": "med1"}], today=DURING)
    before = _counts(tenant_a)
    with in_tenant(tenant_a):
        found = access_case(caseworker, case.id)
        for advice_id, ends_on, field in (("med1", None, "advice_id"), ("nope", None, "advice_id"),
                                          ("ep1", DURING, "ends_on"), ("ep1", dt.date(2028, 1, 1), "ends_on")):
            with pytest.raises(ValidationFailed) as refused:
                access.invite_professional(caseworker, found, _address(), advice_id=advice_id, policy=POLICY,
                                           ends_on=ends_on, today=DURING)
            assert field in refused.value.errors
    assert _counts(tenant_a)[0] == before[0]


def test_a_professionals_access_ends_when_it_expires(tenant_a: Any, object_graph: Any, make_member: Any) -> None:
    graph = object_graph(tenant_a)
    lapsed = make_member(tenant_a, "professional", case_id=graph["case_id"],
                         expires_at=utcnow() - dt.timedelta(minutes=1))
    current = make_member(tenant_a, "professional", case_id=graph["case_id"],
                          expires_at=utcnow() + dt.timedelta(days=1))
    with in_tenant(tenant_a):
        assert identities.actor_for_identity(db.session.get(Identity, lapsed.id)) is None
        assert identities.actor_for_identity(db.session.get(Identity, current.id)) is not None
        staff = system_actor(tenant_a)
        entries = {e.email: e.status for e in access.people_with_access(staff, access_child(staff, graph["child_id"]))}
    assert entries[lapsed.email] == "expired" and entries[current.email] == "active"


# ---------------------------------------------------------------------------------------
# SENCOs: for a school the child is on roll at now


def test_a_senco_is_invited_only_for_the_childs_current_school(
        tenant_a: Any, make_child: Any, caseworker: Any, institution: int) -> None:
    from core.children.services import add_placement

    child = make_child(tenant_a)
    with in_tenant(tenant_a):
        found = access_child(caseworker, child.id)
        with pytest.raises(ValidationFailed) as refused:
            access.invite_senco(caseworker, found, institution, _address())
        assert "urn" in refused.value.errors
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        add_placement(actor, access_child(actor, child.id, for_write=True), urn=institution,
                      started_on=dt.date(2024, 9, 1))
    with in_tenant(tenant_a):
        found = access_child(caseworker, child.id)
        membership, _ = access.invite_senco(caseworker, found, str(institution), _address())
        assert membership.role == MembershipRole.SENCO and membership.urn == institution
        # Listed with the child's people: the SENCO sees the school's pupils, this one included.
        listed = access.people_with_access(caseworker, found)
        assert [e.membership.id for e in listed] == [membership.id]
        assert "Test Primary School" in listed[0].covers


# ---------------------------------------------------------------------------------------
# Resending and withdrawing


def test_resending_replaces_the_invitations_secret_and_gives_it_more_time(
        tenant_a: Any, family: dict[str, Any], caseworker: Any) -> None:
    with in_tenant(tenant_a):
        child = access_child(caseworker, family["child"].id)
        membership, first = access.invite_parent(caseworker, child, family["mother"].id)
        membership.expires_at = utcnow() - dt.timedelta(hours=1)  # the invitation lapsed unused
        mid = membership.id
    with in_tenant(tenant_a):
        child = access_child(caseworker, family["child"].id)
        again = access.access_membership(caseworker, child, mid)
        second = access.resend_invitation(caseworker, again)
        assert identities.pending_invitation(first) is None
        assert identities.pending_invitation(second).id == mid
        assert access.last_day(again.expires_at) >= (utcnow() + dt.timedelta(days=13)).date()
    assert _audit_actions(tenant_a, mid) == ["membership.invited", "membership.invitation_resent"]


def test_a_professionals_lapsed_invitation_is_not_resent(tenant_a: Any, make_case: Any, caseworker: Any) -> None:
    case = make_case(tenant_a, ASSESSING, today=DURING)
    with in_tenant(tenant_a):
        membership, _ = access.invite_professional(caseworker, access_case(caseworker, case.id), _address(),
                                                   advice_id="med1", policy=POLICY, today=DURING)
        membership.expires_at = ends = utcnow() - dt.timedelta(hours=1)  # the end date has passed
        mid = membership.id
    with in_tenant(tenant_a):
        found = access.access_membership(caseworker, access_child(caseworker, case.child_id), mid)
        # Their access would already be over: they are invited afresh, with a new end date.
        with pytest.raises(Conflict, match="already ended"):
            access.resend_invitation(caseworker, found)
        assert found.expires_at == ends


def test_a_withdrawn_membership_stops_working_at_once(tenant_a: Any, object_graph: Any, make_member: Any,
                                                     caseworker: Any) -> None:
    graph = object_graph(tenant_a)
    parent = make_member(tenant_a, "parent", child_id=graph["child_id"])
    with in_tenant(tenant_a):
        assert identities.actor_for_identity(db.session.get(Identity, parent.id)) is not None
        child = access_child(caseworker, graph["child_id"])
        (entry,) = [e for e in access.people_with_access(caseworker, child) if e.email == parent.email]
        assert entry.status == "active" and entry.live
        access.revoke_access(caseworker, access.access_membership(caseworker, child, entry.membership.id))
    with in_tenant(tenant_a):
        assert identities.actor_for_identity(db.session.get(Identity, parent.id)) is None
        child = access_child(caseworker, graph["child_id"])
        membership = access.access_membership(caseworker, child, entry.membership.id)
        with pytest.raises(Conflict):
            access.revoke_access(caseworker, membership)
        (entry,) = [e for e in access.people_with_access(caseworker, child) if e.email == parent.email]
        assert entry.status == "revoked" and not entry.live and not entry.can_resend
    assert "membership.revoked" in _audit_actions(tenant_a, entry.membership.id)


def test_a_membership_is_found_only_through_its_own_child(tenant_a: Any, object_graph: Any, make_member: Any,
                                                         caseworker: Any) -> None:
    mine, theirs = object_graph(tenant_a), object_graph(tenant_a)
    make_member(tenant_a, "parent", child_id=theirs["child_id"])
    with in_tenant(tenant_a):
        other_child = access_child(caseworker, theirs["child_id"])
        (entry,) = access.people_with_access(caseworker, other_child)
        child = access_child(caseworker, mine["child_id"])
        for raw in (entry.membership.id, "junk", None, uuid.uuid4()):
            with pytest.raises(NotFound):
                access.access_membership(caseworker, child, raw)


# ---------------------------------------------------------------------------------------
# Invitations say which council, never which child


def test_the_invitation_email_names_the_council_and_never_the_child(
        tenant_a: Any, family: dict[str, Any], caseworker: Any) -> None:
    from core import mail

    with in_tenant(tenant_a):
        child = access_child(caseworker, family["child"].id)
        membership, token = access.invite_parent(caseworker, child, family["mother"].id)
        access.send_invitation(membership, council="Council A", url=f"https://example.test/invitations/{token}")
    (message,) = mail.read_outbox(family["mother"].email)
    body = message.get_content()
    assert "Council A" in message["Subject"] and f"/invitations/{token}" in body
    for secret in (family["child"].given_name, family["child"].family_name, str(family["child"].id)):
        assert secret not in body and secret not in message["Subject"]


# ---------------------------------------------------------------------------------------
# Consent given another way


def test_consent_is_recorded_and_withdrawn_by_staff_and_both_are_audited(
        tenant_a: Any, family: dict[str, Any], caseworker: Any) -> None:
    with in_tenant(tenant_a):
        child = access_child(caseworker, family["child"].id)
        consent = access.record_consent(caseworker, child, recipient="Young Carers Trust",
                                        purpose="To plan respite: agreed on the phone with the mother")
        cid = consent.id
        assert consent.given_by == f"staff:{caseworker.id}" and consent.revoked_at is None
        assert access.consent_given_by(consent).startswith("Recorded by ")
    with in_tenant(tenant_a):
        child = access_child(caseworker, family["child"].id)
        consent = access.access_consent(caseworker, child, cid)
        access.withdraw_consent(caseworker, consent)
        assert consent.revoked_at is not None and consent.revoked_by == f"staff:{caseworker.id}"
    with in_tenant(tenant_a):
        child = access_child(caseworker, family["child"].id)
        with pytest.raises(Conflict):
            access.withdraw_consent(caseworker, access.access_consent(caseworker, child, cid))
        assert [c.id for c in access.consents_of(caseworker, child)] == [cid]
    assert _audit_actions(tenant_a, cid) == ["consent.recorded", "consent.withdrawn"]


def test_consent_needs_a_recipient_and_a_purpose_and_a_refusal_records_nothing(
        tenant_a: Any, family: dict[str, Any], caseworker: Any) -> None:
    before = _counts(tenant_a)
    with in_tenant(tenant_a):
        child = access_child(caseworker, family["child"].id)
        with pytest.raises(ValidationFailed) as refused:
            access.record_consent(caseworker, child, recipient=" ", purpose="x" * 501)
    assert set(refused.value.errors) == {"recipient", "purpose"}
    assert _counts(tenant_a)[2] == before[2]


def test_another_childs_consent_is_not_found(tenant_a: Any, family: dict[str, Any], make_child: Any,
                                            caseworker: Any) -> None:
    other = make_child(tenant_a)
    with in_tenant(tenant_a):
        consent = access.record_consent(caseworker, access_child(caseworker, other.id), recipient="A", purpose="B")
        with pytest.raises(NotFound):
            access.access_consent(caseworker, access_child(caseworker, family["child"].id), consent.id)


# ---------------------------------------------------------------------------------------
# What arrived through the portals


def _submission(tenant: Any, graph: dict[str, Any], **kw: Any) -> Any:
    with in_tenant(tenant) as s:
        row = Submission(child_id=graph["child_id"], case_id=graph["case_id"], kind=kw.pop("kind", SubmissionKind.VIEWS),
                         body=kw.pop("body", {"views": "He likes trains"}), text="He likes trains",
                         submitted_by="identity:x", submitted_as="parent", submitted_by_name="Sam Parent", **kw)
        s.add(row)
        s.flush()
        return row.id


def test_marking_a_submission_as_dealt_with_is_recorded_once_and_audited(
        tenant_a: Any, object_graph: Any, caseworker: Any) -> None:
    graph = object_graph(tenant_a)
    first = _submission(tenant_a, graph)
    _submission(tenant_a, graph, kind=SubmissionKind.PREFERRED_SCHOOL, body={"school": "Hill School"})
    with in_tenant(tenant_a):
        case = access_case(caseworker, graph["case_id"])
        # Two here, and the family's views the object graph itself sends in.
        assert access.waiting_count(caseworker, case) == 3
        found = access.access_submission(caseworker, case, first)
        assert access.acknowledge(caseworker, found) is True
        stamped = found.acknowledged_at
        assert found.acknowledged_by == f"staff:{caseworker.id}"
    with in_tenant(tenant_a):
        case = access_case(caseworker, graph["case_id"])
        found = access.access_submission(caseworker, case, first)
        assert access.acknowledge(caseworker, found) is False and found.acknowledged_at == stamped
        assert access.waiting_count(caseworker, case) == 2
        assert access.describe_body(found) == [("Views", "He likes trains")]
    assert _audit_actions(tenant_a, first).count("submission.acknowledged") == 1


def test_a_submission_is_found_only_on_its_own_case(tenant_a: Any, object_graph: Any, caseworker: Any) -> None:
    mine, theirs = object_graph(tenant_a), object_graph(tenant_a)
    other = _submission(tenant_a, theirs)
    with in_tenant(tenant_a):
        case = access_case(caseworker, mine["case_id"])
        for raw in (other, "junk", uuid.uuid4()):
            with pytest.raises(NotFound):
                access.access_submission(caseworker, case, raw)
