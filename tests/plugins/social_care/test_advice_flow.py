"""Social care advice end to end (SEND Regulations 2014 reg 6(1)(e)), and the status refresh."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select, update

import plugins.social_care
from core.audit.models import AuditEvent
from core.cases.models import CaseEvent, Document
from core.children.access import access_child
from core.db import db, utcnow
from core.integrations.jobs import poll_partner_advice, refresh_social_care_status
from core.integrations.models import SocialCareStatusRecord
from core.integrations.social_care import social_care_status_of
from core.plugins.calls import run_call
from core.plugins.models import CallStatus, PluginCall
from core.plugins.services import configure, set_enabled
from tests.conftest import in_tenant, system_actor
from tests.plugins.social_care.conftest import SETTINGS, UPN, SocialCareStub, start, status_record, stop

ASSESS = {"type": "decision_to_assess_made", "date": "2026-02-10", "outcome": "assess"}
SOCIAL = {"type": "advice_requested", "date": "2026-02-11", "advice": "social_care", "advice_id": "sc1"}


@pytest.fixture
def enable_social_care(use_plugins: Any, social_care_stub: SocialCareStub) -> Callable[[Any], None]:
    use_plugins(social_care=plugins.social_care)

    def enable(tenant: Any) -> None:
        with in_tenant(tenant):
            set_enabled("social_care", True)
            configure("social_care", {**SETTINGS, "base_url": social_care_stub.url})

    return enable


def calls_in(tenant: Any) -> list[PluginCall]:
    with in_tenant(tenant):
        calls = list(db.session.execute(select(PluginCall)).scalars())
        db.session.expunge_all()
    return calls


def test_social_care_advice_request_sent_once_retried_when_down(enable_social_care: Any, make_case: Any,
                                                                 social_care_stub: SocialCareStub,
                                                                 tenant_a: Any) -> None:
    enable_social_care(tenant_a)
    port = social_care_stub.server.server_address[1]  # type: ignore[union-attr]
    stop(social_care_stub)
    before = utcnow()

    case = make_case(tenant_a, [ASSESS, SOCIAL])

    [call] = calls_in(tenant_a)
    assert (call.hook, call.status) == ("on_social_care_advice_requested", CallStatus.RETRYING)
    assert call.next_attempt_at is not None and call.next_attempt_at > before
    start(social_care_stub, port)
    assert run_call(str(tenant_a.id), str(call.id)) == "succeeded"
    with in_tenant(tenant_a):  # run again in full, as after a worker died before recording success
        db.session.execute(update(PluginCall).where(PluginCall.id == call.id).values(status=CallStatus.PENDING))
    assert run_call(str(tenant_a.id), str(call.id)) == "succeeded"
    assert list(social_care_stub.advice_requests) == [f"{case.id}-sc1"]


def test_refused_request_fails_the_call(enable_social_care: Any, make_case: Any, social_care_stub: SocialCareStub,
                                        tenant_a: Any) -> None:
    enable_social_care(tenant_a)
    social_care_stub.refuse_posts_with = 400
    make_case(tenant_a, [ASSESS, SOCIAL])
    [call] = calls_in(tenant_a)
    assert call.status == CallStatus.FAILED
    assert call.last_error == "PermanentFailure: the social care system refused POST with 400"


def test_social_care_advice_recorded_once(enable_social_care: Any, make_case: Any, social_care_stub: SocialCareStub,
                                          tenant_a: Any, tenant_b: Any) -> None:
    enable_social_care(tenant_a)
    case = make_case(tenant_a, [ASSESS, SOCIAL])
    make_case(tenant_b, [ASSESS, SOCIAL])  # not enabled there: nothing reaches the stub
    assert len(social_care_stub.requests) == 1
    social_care_stub.return_advice(f"{case.id}-sc1")

    assert poll_partner_advice(str(tenant_a.id))["recorded"] == 1
    assert poll_partner_advice(str(tenant_a.id))["recorded"] == 0
    assert poll_partner_advice(str(tenant_b.id))["asked"] == 0

    with in_tenant(tenant_a):
        events = db.session.execute(select(CaseEvent.date).where(CaseEvent.case_id == case.id,
                                                                 CaseEvent.type == "advice_received")).all()
        docs = db.session.execute(select(Document.title).where(Document.case_id == case.id)).all()
    assert events == [(dt.date(2026, 3, 4),)]
    assert docs == [("Social care advice",)]
    assert calls_in(tenant_b) == []


def test_refresh_social_care_status(enable_social_care: Any, make_case: Any, make_child: Any,
                                    social_care_stub: SocialCareStub, tenant_a: Any, tenant_b: Any) -> None:
    enable_social_care(tenant_a)
    social_care_stub.statuses[UPN] = status_record(cin=True)
    known = make_child(tenant_a, upn=UPN)
    make_case(tenant_a, child=known)
    make_case(tenant_a)  # a child social care does not know (no UPN: not even asked)

    assert refresh_social_care_status(str(tenant_a.id)) == {"refreshed": 1, "unknown": 1, "problems": 0}
    assert refresh_social_care_status(str(tenant_b.id)) == {"refreshed": 0, "unknown": 0, "problems": 0}
    assert len(social_care_stub.requests) == 1

    staff = system_actor(tenant_a)
    with in_tenant(tenant_a):
        row = social_care_status_of(staff, access_child(staff, known.id))
        assert row is not None
        assert (row.looked_after, row.child_in_need, row.child_protection_plan) == (True, True, False)
        assert (row.social_worker, row.as_of, row.source) == ("Jo Bloggs", dt.date(2026, 11, 20), "social_care")
        reads = db.session.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "child.social_care_status_read")).scalar_one()
        assert reads == 1

    # The child leaves care; later the system no longer knows them: the copy follows.
    social_care_stub.statuses[UPN] = status_record(lac=False)
    refresh_social_care_status(str(tenant_a.id))
    with in_tenant(tenant_a):
        assert db.session.execute(select(SocialCareStatusRecord.looked_after)).scalar_one() is False
    del social_care_stub.statuses[UPN]
    refresh_social_care_status(str(tenant_a.id))
    with in_tenant(tenant_a):
        assert db.session.execute(select(SocialCareStatusRecord)).first() is None
    with in_tenant(tenant_b):
        assert db.session.execute(select(SocialCareStatusRecord)).first() is None


def test_refresh_stops_when_social_care_is_down_and_keeps_the_last_copy(
        enable_social_care: Any, make_case: Any, make_child: Any, social_care_stub: SocialCareStub,
        tenant_a: Any) -> None:
    enable_social_care(tenant_a)
    social_care_stub.statuses[UPN] = status_record()
    make_case(tenant_a, child=make_child(tenant_a, upn=UPN))
    refresh_social_care_status(str(tenant_a.id))
    social_care_stub.fail_with = 503

    assert refresh_social_care_status(str(tenant_a.id)) == {"refreshed": 0, "unknown": 0, "problems": 1}
    with in_tenant(tenant_a):
        assert db.session.execute(select(SocialCareStatusRecord.looked_after)).scalar_one() is True


def test_families_and_professionals_never_see_social_care_status(make_child: Any, tenant_a: Any) -> None:
    import dataclasses

    from core.errors import Forbidden
    from core.identity.scope import AccessScope

    child = make_child(tenant_a)
    portal_person = dataclasses.replace(system_actor(tenant_a), kind="identity", scope=AccessScope())
    with in_tenant(tenant_a), pytest.raises(Forbidden):
        social_care_status_of(portal_person, child)
