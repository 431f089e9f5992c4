"""Identities, memberships and what they let a person see (core/identity, issue #4)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from core import crypto
from core.audit.models import AuditEvent
from core.children.access import access_child
from core.children.services import ChildFilter, add_placement, find_children
from core.cases.access import access_case
from core.cases.services import CaseFilter, find_cases
from core.db import db, utcnow
from core.documents.services import access_document
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.identity import services as identities
from core.identity.models import EMAIL_ISSUER, Identity, InstitutionCouncil, Membership, MembershipRole
from tests.conftest import JOURNEY_TO_PLAN, in_tenant, postgres_only, system_actor


def _actor(tenant: Any, identity: Any) -> Any:
    with in_tenant(tenant):
        return identities.actor_for_identity(db.session.get(Identity, identity.id))


# ---------------------------------------------------------------------------------------
# Identities are keyed by (issuer, subject), never by e-mail


def test_the_same_email_at_two_issuers_is_two_identities(app: Any) -> None:
    a = identities.record_identity(issuer="https://idp-a.example", subject="123", email="Sam@Example.org",
                                   email_verified=True, display_name="Sam")
    b = identities.record_identity(issuer="https://idp-b.example", subject="123", email="sam@example.org",
                                   email_verified=True, display_name="Not Sam")
    again = identities.record_identity(issuer="https://idp-a.example", subject="123", email="sam@new.example",
                                       email_verified=False, display_name="Sam A")
    assert a.id != b.id and again.id == a.id
    assert again.email == "sam@new.example" and again.email_verified is False
    with pytest.raises(ValidationFailed):
        identities.record_identity(issuer="https://idp-a.example", subject="", email=None, email_verified=False,
                                   display_name="x")


# ---------------------------------------------------------------------------------------
# Scope: a person sees their part of the council and nothing else


def test_a_parent_sees_only_their_child(tenant_a: Any, object_graph: Any, make_member: Any) -> None:
    mine, other = object_graph(tenant_a), object_graph(tenant_a)
    parent = make_member(tenant_a, "parent", child_id=mine["child_id"])
    actor = _actor(tenant_a, parent)
    assert actor.kind == "identity" and actor.scope.child_ids == {mine["child_id"]}
    with in_tenant(tenant_a):
        assert access_child(actor, mine["child_id"]).id == mine["child_id"]
        assert access_case(actor, mine["case_id"]).id == mine["case_id"]
        assert access_document(actor, mine["document_id"]).id == mine["document_id"]
        for fetch, key in ((access_child, "child_id"), (access_case, "case_id"), (access_document, "document_id")):
            with pytest.raises(NotFound):
                fetch(actor, other[key])
        children, total = find_children(actor, ChildFilter(), page=1, per_page=50)
        assert [c.id for c in children] == [mine["child_id"]] and total == 1
        cases, total = find_cases(actor, CaseFilter(), page=1, per_page=50)
        assert [c.id for c in cases] == [mine["case_id"]] and total == 1
        # Reads are audited under the person.
        rows = db.session.execute(select(AuditEvent).where(AuditEvent.subject_id == mine["child_id"],
                                                           AuditEvent.actor_id == str(parent.id))).scalars().all()
        assert {r.action for r in rows} >= {"child.viewed", "case.viewed"}
        assert {r.actor_type for r in rows} == {"identity"}


def test_a_senco_sees_children_on_roll_at_their_urn_now_and_no_others(
        tenant_a: Any, make_child: Any, make_member: Any, institution: int) -> None:
    on_roll, left, elsewhere = make_child(tenant_a), make_child(tenant_a), make_child(tenant_a)
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        add_placement(actor, access_child(actor, on_roll.id, for_write=True), urn=institution,
                      started_on=dt.date(2024, 9, 1))
        add_placement(actor, access_child(actor, left.id, for_write=True), urn=institution,
                      started_on=dt.date(2022, 9, 1), ended_on=dt.date(2025, 7, 20))
    senco = make_member(tenant_a, "senco", urn=institution)
    actor = _actor(tenant_a, senco)
    with in_tenant(tenant_a):
        assert access_child(actor, on_roll.id).id == on_roll.id
        for child in (left, elsewhere):
            with pytest.raises(NotFound):
                access_child(actor, child.id)
        listed = {c.id for c in find_children(actor, ChildFilter(), page=1, per_page=50)[0]}
        assert listed == {on_roll.id}


def test_placements_index_the_council_for_schools_sso(tenant_a: Any, tenant_b: Any, make_child: Any,
                                                      institution: int) -> None:
    for tenant in (tenant_a, tenant_b):
        child = make_child(tenant)
        with in_tenant(tenant):
            actor = system_actor(tenant)
            add_placement(actor, access_child(actor, child.id, for_write=True), urn=institution,
                          started_on=dt.date(2024, 9, 1))
    assert set(identities.councils_placing_at([institution])) >= {tenant_a.id, tenant_b.id}
    rows = db.session.execute(select(InstitutionCouncil).where(InstitutionCouncil.urn == institution)).scalars().all()
    assert len([r for r in rows if r.tenant_id in (tenant_a.id, tenant_b.id)]) == 2  # once each, however many pupils


def test_one_senco_in_two_councils_sees_each_councils_own_pupils_there(
        tenant_a: Any, tenant_b: Any, make_child: Any, make_member: Any, make_identity: Any, institution: int) -> None:
    senco = make_identity()
    pupils = {}
    for tenant in (tenant_a, tenant_b):
        child = make_child(tenant)
        with in_tenant(tenant):
            actor = system_actor(tenant)
            add_placement(actor, access_child(actor, child.id, for_write=True), urn=institution,
                          started_on=dt.date(2024, 9, 1))
        make_member(tenant, "senco", identity=senco, urn=institution)
        pupils[tenant.id] = child.id
    assert set(identities.councils_of(senco.id)) == {tenant_a.id, tenant_b.id}
    db.session.commit()  # that read was platform-wide: end its transaction before entering a council
    for tenant in (tenant_a, tenant_b):
        actor = _actor(tenant, senco)
        with in_tenant(tenant):
            listed = {c.id for c in find_children(actor, ChildFilter(), page=1, per_page=50)[0]}
        assert listed == {pupils[tenant.id]}


def test_a_professionals_access_ends_when_their_advice_is_returned(tenant_a: Any, make_case: Any,
                                                                    make_member: Any) -> None:
    case = make_case(tenant_a, JOURNEY_TO_PLAN[:2])  # psychological advice "ep1" requested, not back
    ep = make_member(tenant_a, "professional", case_id=case.id, advice_id="ep1")
    assert _actor(tenant_a, ep) is not None
    from core.cases.services import record_event
    from core.timescales import TimescalePolicy

    with in_tenant(tenant_a):
        record_event(system_actor(tenant_a), db.session.get(type(case), case.id), JOURNEY_TO_PLAN[2],
                     policy=TimescalePolicy(), today=dt.date(2026, 11, 27))
    assert _actor(tenant_a, ep) is None


def test_expired_and_revoked_memberships_give_nothing(tenant_a: Any, object_graph: Any, make_member: Any,
                                                      make_user: Any) -> None:
    graph = object_graph(tenant_a)
    late = make_member(tenant_a, "professional", case_id=graph["case_id"],
                       expires_at=utcnow() - dt.timedelta(minutes=1))
    assert _actor(tenant_a, late) is None
    parent = make_member(tenant_a, "parent", child_id=graph["child_id"])
    from tests.conftest import actor_for

    caseworker = actor_for(make_user(tenant_a))
    with in_tenant(tenant_a):
        membership = db.session.execute(select(Membership).where(Membership.identity_id == parent.id)).scalar_one()
        identities.revoke(caseworker, membership)
    assert _actor(tenant_a, parent) is None


def test_a_young_persons_access_starts_at_the_end_of_compulsory_school_age_and_parents_then_need_consent(
        tenant_a: Any, make_child: Any, make_member: Any) -> None:
    young = make_child(tenant_a, date_of_birth=dt.date(2008, 3, 1))   # 18 on 27 Nov 2026
    child = make_child(tenant_a, date_of_birth=dt.date(2014, 3, 1))   # 12
    too_young = make_member(tenant_a, "young_person", child_id=child.id)
    assert _actor(tenant_a, too_young) is None
    yp = make_member(tenant_a, "young_person", child_id=young.id)
    assert _actor(tenant_a, yp).scope.child_ids == {young.id}
    parent = make_member(tenant_a, "parent", child_id=young.id)
    assert _actor(tenant_a, parent) is None  # the young person decides
    yp_actor = _actor(tenant_a, yp)
    with in_tenant(tenant_a):
        identities.give_portal_consent(yp_actor, young.id, parent.id)
    assert _actor(tenant_a, parent).scope.child_ids == {young.id}


# ---------------------------------------------------------------------------------------
# Invitations


def test_an_invitation_is_taken_up_only_by_the_invited_address(tenant_a: Any, object_graph: Any, make_user: Any,
                                                               make_identity: Any) -> None:
    from tests.conftest import actor_for

    graph = object_graph(tenant_a)
    caseworker = actor_for(make_user(tenant_a))
    with in_tenant(tenant_a):
        membership, token = identities.invite(caseworker, role=MembershipRole.PARENT, email="Mum@Example.org",
                                              child_id=graph["child_id"])
        mid = membership.id
    stranger = make_identity("someone.else@example.org")
    unverified = identities.record_identity(issuer="https://idp.example", subject="u1", email="mum@example.org",
                                            email_verified=False, display_name="Maybe Mum")
    mum = make_identity("mum@example.org")
    db.session.commit()  # the identities are platform-wide: end that transaction before entering a council
    with in_tenant(tenant_a):
        for who in (stranger, unverified):
            with pytest.raises(Conflict):
                identities.accept_invitation(token, who)
        assert identities.accept_invitation(token, mum).id == mid
        with pytest.raises(NotFound):  # single use
            identities.accept_invitation(token, stranger)
        assert identities.pending_invitation(token) is None
    assert _actor(tenant_a, mum).scope.child_ids == {graph["child_id"]}
    assert tenant_a.id in identities.councils_of(mum.id)


def test_only_staff_who_write_cases_invite_and_bad_addresses_are_refused(tenant_a: Any, object_graph: Any,
                                                                         make_user: Any, make_member: Any) -> None:
    from core.users.models import Role
    from tests.conftest import actor_for

    graph = object_graph(tenant_a)
    officer = actor_for(make_user(tenant_a, Role.SEND_OFFICER))
    parent = _actor(tenant_a, make_member(tenant_a, "parent", child_id=graph["child_id"]))
    caseworker = actor_for(make_user(tenant_a))
    with in_tenant(tenant_a):
        for who in (officer, parent):
            with pytest.raises(Forbidden):
                identities.invite(who, role=MembershipRole.PARENT, email="x@example.org", child_id=graph["child_id"])
        with pytest.raises(ValidationFailed):
            identities.invite(caseworker, role=MembershipRole.PARENT, email="not-an-address",
                              child_id=graph["child_id"])


# ---------------------------------------------------------------------------------------
# Operators and break-glass


@postgres_only
def test_an_operator_sees_nothing_without_break_glass_and_reads_only_with_it(
        tenant_a: Any, object_graph: Any, make_operator: Any) -> None:
    graph = object_graph(tenant_a)
    op = make_operator()
    actor = _actor(tenant_a, op)
    assert actor.kind == "operator" and actor.permissions == frozenset()
    with in_tenant(tenant_a):
        with pytest.raises(NotFound):
            access_child(actor, graph["child_id"])
        with pytest.raises(ValidationFailed):
            identities.break_glass(db.session.get(Identity, op.id), reason="x")
        glass = identities.break_glass(db.session.get(Identity, op.id), reason="Incident INC-42: wrong deadline shown",
                                       minutes=30)
        assert glass.expires_at - glass.started_at == dt.timedelta(minutes=30)
    actor = _actor(tenant_a, op)
    with in_tenant(tenant_a):
        assert access_child(actor, graph["child_id"]).id == graph["child_id"]
        with pytest.raises(NotFound):
            access_child(actor, graph["child_id"], for_write=True)
        actions = set(db.session.execute(select(AuditEvent.action).where(AuditEvent.actor_id == str(op.id))).scalars())
        assert {"break_glass.started", "child.viewed"} <= actions
        identities.end_break_glass(db.session.get(Identity, op.id))
    assert _actor(tenant_a, op).permissions == frozenset()


# ---------------------------------------------------------------------------------------
# Secrets at rest


def test_secrets_are_encrypted_bound_to_their_row_and_refuse_tampering(app: Any) -> None:
    token = crypto.encrypt("s3cret-value", context="council_idp:1:client_secret")
    assert "s3cret" not in token and token.startswith("v1:")
    assert crypto.decrypt(token, context="council_idp:1:client_secret") == "s3cret-value"
    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt(token, context="council_idp:2:client_secret")  # copied onto another row
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt(flipped, context="council_idp:1:client_secret")
    assert crypto.encrypt("same", context="c") != crypto.encrypt("same", context="c")  # fresh nonce each time


def test_an_email_identity_is_the_proven_address(app: Any) -> None:
    identity = identities.email_identity("  Parent@Example.ORG ")
    assert (identity.issuer, identity.subject, identity.email, identity.email_verified) == (
        EMAIL_ISSUER, "parent@example.org", "parent@example.org", True)
