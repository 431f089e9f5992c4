"""Transfers between councils (regs 15-16): starting, completing all or nothing, failing
half-way, cancelling, the clocks against hand-worked dates, and who sees what when."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

import core.clock
from core.audit.models import AuditEvent
from core.cases import reviews
from core.cases import services as cases
from core.cases.access import access_case
from core.cases.models import Case, CaseEvent, Document
from core.children.models import Child
from core.errors import Conflict, NotFound, ValidationFailed
from core.plans import services as plans
from core.timescales import TimescalePolicy
from core.transfers import services as transfers
from core.transfers import snapshot as snap
from core.transfers.models import Transfer
from tests.conftest import in_tenant, system_actor

D = dt.date
POLICY = TimescalePolicy()

#: A plan made on Tue 10 Mar 2026 (statutory-rules §12 worked example 4).
MADE_10_MARCH = [
    {"type": "request_received", "date": "2026-01-05", "requester": "parent"},
    {"type": "decision_to_assess_made", "date": "2026-01-26", "outcome": "assess"},
    {"type": "decision_to_issue_made", "date": "2026-02-16", "outcome": "issue"},
    {"type": "draft_plan_served", "date": "2026-02-20"},
    {"type": "final_plan_issued", "date": "2026-03-10"},
]


@pytest.fixture(autouse=True)
def _inline_jobs() -> Iterator[None]:
    from core.jobs import configure_jobs

    configure_jobs(None)
    yield


@pytest.fixture
def pin_today(monkeypatch: pytest.MonkeyPatch) -> Any:
    def pin(day: D) -> None:
        monkeypatch.setattr(core.clock, "today", lambda: day)
    return pin


@pytest.fixture
def plan_case(tenant_a: Any, make_case: Any) -> Any:
    return make_case(tenant_a, list(MADE_10_MARCH), today=D(2026, 11, 27))


def _start(tenant: Any, case: Any, *, to: str, move_on: D, aware: D, today: D, **kw: Any) -> Transfer:
    with in_tenant(tenant):
        actor = system_actor(tenant)
        return transfers.start_transfer(actor, access_case(actor, case.id, for_write=True), to_la_code=to,
                                        move_on=move_on, became_aware_on=aware, today=today, **kw)


def _complete(tenant: Any, ref: Any, on: D, today: D) -> Transfer:
    with in_tenant(tenant):
        actor = system_actor(tenant)
        return transfers.complete_transfer(actor, transfers.access_transfer(actor, ref, for_write=True),
                                           transferred_on=on, today=today)


def _row(tenant: Any, ref: Any) -> Transfer | None:
    with in_tenant(tenant) as s:
        return s.execute(select(Transfer).where(Transfer.ref == ref)).scalar_one_or_none()


def _deadlines(tenant: Any, case_id: Any, today: D) -> dict[str, Any]:
    with in_tenant(tenant):
        actor = system_actor(tenant)
        return {d.key: d for d in cases.deadlines_of(access_case(actor, case_id), policy=POLICY, today=today)}


# ---------------------------------------------------------------------------------------
# Starting: the clocks, against hand-worked dates


def test_worked_example_4_short_notice_over_christmas(tenant_a: Any, tenant_b: Any, plan_case: Any,
                                                       pin_today: Any) -> None:
    # Learnt Mon 14 Dec 2026 of a move on Fri 18 Dec: 4 working days' notice, so the 15th
    # working day beginning with 14 Dec, skipping 25 and 28 Dec and 1 Jan: Wed 6 Jan 2027.
    pin_today(D(2026, 12, 14))
    t = _start(tenant_a, plan_case, to="902", move_on=D(2026, 12, 18), aware=D(2026, 12, 14), today=D(2026, 12, 14))
    assert (t.status, t.direction, t.from_la_code, t.to_la_code) == ("planned", "outgoing", "901", "902")
    assert t.receiver_on_platform and t.to_la_name == "Council B"
    assert t.due_on == D(2027, 1, 6)
    found = _deadlines(tenant_a, plan_case.id, D(2026, 12, 14))
    assert found["transfer_of_plan_between_las"].due == D(2027, 1, 6)
    assert found["health_body_notification_on_transfer"].due == D(2027, 1, 6)
    # Projected from the latest lawful transfer date until the transfer happens.
    assert found["new_la_notification"].due == D(2027, 2, 17)
    assert found["new_la_review"].due == D(2027, 4, 5)

    # Completed on 6 Jan 2027: the new council's clocks, computed in the new council.
    pin_today(D(2027, 1, 6))
    done = _complete(tenant_a, t.ref, D(2027, 1, 6), D(2027, 1, 6))
    assert done.status == "completed"
    received = _deadlines(tenant_b, done.received_case_ref, D(2027, 1, 6))
    assert received["new_la_notification"].due == D(2027, 2, 17)
    # Later of 9 Mar 2027 (12 months starting 10 Mar 2026) and 5 Apr 2027 (3 months from 6 Jan).
    assert received["new_la_review"].due == D(2027, 4, 5)
    sent = _deadlines(tenant_a, plan_case.id, D(2027, 1, 6))
    assert sent["transfer_of_plan_between_las"].met_on == D(2027, 1, 6)
    assert sent["transfer_of_plan_between_las"].status == "met"


def test_fifteen_working_days_notice_means_the_day_of_the_move(tenant_a: Any, tenant_b: Any, plan_case: Any) -> None:
    # Learnt Mon 2 Nov 2026 of a move on Mon 23 Nov: 2-20 Nov is 15 working days, so reg 15(2)
    # asks for the plan to move on the day of the move itself.
    t = _start(tenant_a, plan_case, to="902", move_on=D(2026, 11, 23), aware=D(2026, 11, 2), today=D(2026, 11, 27))
    assert t.due_on == D(2026, 11, 23)


def test_fourteen_working_days_notice_is_short_notice(tenant_a: Any, tenant_b: Any, plan_case: Any) -> None:
    # Learnt Tue 3 Nov of a move on Fri 20 Nov: 3-19 Nov is 13 working days, short notice, so
    # the 15th working day beginning with 3 Nov: Mon 23 Nov, after the move.
    t = _start(tenant_a, plan_case, to="902", move_on=D(2026, 11, 20), aware=D(2026, 11, 3), today=D(2026, 11, 27))
    assert t.due_on == D(2026, 11, 23)


def test_easter_bank_holidays_are_not_working_days(tenant_a: Any, tenant_b: Any, plan_case: Any) -> None:
    # Learnt Mon 22 Mar 2027 of a move the next day. Day 1 = 22 Mar; 22-25 Mar (4), Good
    # Friday 26 Mar and Easter Monday 29 Mar skipped, 30-31 Mar (6), 1-2 Apr (8), 5-9 Apr (13),
    # 12-13 Apr (15): Tue 13 Apr 2027.
    t = _start(tenant_a, plan_case, to="902", move_on=D(2027, 3, 23), aware=D(2027, 3, 22), today=D(2027, 3, 22))
    assert t.due_on == D(2027, 4, 13)


def test_no_health_body_change_starts_no_reg_16_clock(tenant_a: Any, tenant_b: Any, plan_case: Any) -> None:
    _start(tenant_a, plan_case, to="902", move_on=D(2026, 12, 18), aware=D(2026, 11, 20), today=D(2026, 11, 27),
           health_body_changes=False)
    found = _deadlines(tenant_a, plan_case.id, D(2026, 11, 27))
    assert "transfer_of_plan_between_las" in found
    assert "health_body_notification_on_transfer" not in found


# ---------------------------------------------------------------------------------------
# Starting: refusals change nothing


@pytest.mark.parametrize(("to", "move_on", "aware", "field"), [
    ("9O2", D(2026, 12, 18), D(2026, 11, 20), "to_la_code"),
    ("901", D(2026, 12, 18), D(2026, 11, 20), "to_la_code"),
    ("902", D(2026, 12, 18), D(2026, 11, 28), "became_aware_on"),
    ("902", D(2025, 12, 18), D(2026, 11, 20), "move_on"),
    ("902", D(2028, 12, 18), D(2026, 11, 20), "move_on"),
])
def test_bad_input_is_refused_and_nothing_is_stored(tenant_a: Any, tenant_b: Any, plan_case: Any, to: str,
                                                     move_on: D, aware: D, field: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        _start(tenant_a, plan_case, to=to, move_on=move_on, aware=aware, today=D(2026, 11, 27))
    assert field in err.value.errors
    with in_tenant(tenant_a) as s:
        assert s.execute(select(func.count()).select_from(Transfer)).scalar_one() == 0
        assert not s.execute(select(CaseEvent).where(CaseEvent.case_id == plan_case.id,
                                                     CaseEvent.type == "move_notified")).first()


def test_only_an_issued_plan_transfers(tenant_a: Any, tenant_b: Any, make_case: Any) -> None:
    case = make_case(tenant_a, [{"type": "decision_to_assess_made", "date": "2026-02-10", "outcome": "assess"}])
    with pytest.raises(Conflict, match="issued plan"):
        _start(tenant_a, case, to="902", move_on=D(2026, 12, 18), aware=D(2026, 11, 20), today=D(2026, 11, 27))
    with in_tenant(tenant_b) as s:
        assert s.execute(select(func.count()).select_from(Transfer)).scalar_one() == 0


def test_one_active_transfer_per_case(tenant_a: Any, tenant_b: Any, plan_case: Any) -> None:
    _start(tenant_a, plan_case, to="902", move_on=D(2026, 12, 18), aware=D(2026, 11, 20), today=D(2026, 11, 27))
    with pytest.raises(Conflict, match="already being transferred"):
        _start(tenant_a, plan_case, to="902", move_on=D(2026, 12, 19), aware=D(2026, 11, 21), today=D(2026, 11, 27))
    with in_tenant(tenant_a) as s:
        assert s.execute(select(func.count()).select_from(Transfer)).scalar_one() == 1


# ---------------------------------------------------------------------------------------
# Who sees what, when


def test_receiver_sees_the_child_expected_but_not_the_plan_before_completion(
        tenant_a: Any, tenant_b: Any, plan_case: Any) -> None:
    t = _start(tenant_a, plan_case, to="902", move_on=D(2026, 12, 18), aware=D(2026, 11, 20), today=D(2026, 11, 27))
    incoming = _row(tenant_b, t.ref)
    assert incoming is not None
    assert (incoming.direction, incoming.status, incoming.case_id, incoming.received_case_id) == \
        ("incoming", "planned", None, None)
    assert incoming.child_name == t.child_name
    with in_tenant(tenant_b) as s:
        actor = system_actor(tenant_b)
        seen = transfers.access_transfer(actor, t.ref)
        assert transfers.transfer_deadlines(seen) == []
        # The sender's case, child and plan are nowhere in the receiving council.
        with pytest.raises(NotFound):
            access_case(actor, plan_case.id)
        assert s.execute(select(func.count()).select_from(Case)).scalar_one() == 0
        assert s.execute(select(Child).where(Child.given_name == t.child_given_name)).first() is None
        assert s.get(Case, plan_case.id) is None
        # The receiver's audit log records the announcement of the child's name.
        assert s.execute(select(AuditEvent).where(AuditEvent.action == "transfer.announced")).first()


def test_a_third_council_sees_nothing(tenant_a: Any, tenant_b: Any, create_tenant: Any, plan_case: Any) -> None:
    other = create_tenant()
    t = _start(tenant_a, plan_case, to="902", move_on=D(2026, 12, 18), aware=D(2026, 11, 20), today=D(2026, 11, 27))
    with in_tenant(other):
        actor = system_actor(other)
        with pytest.raises(NotFound):
            transfers.access_transfer(actor, t.ref)
        assert transfers.list_transfers(actor)[0] == []


def test_lists_by_direction(tenant_a: Any, tenant_b: Any, plan_case: Any) -> None:
    t = _start(tenant_a, plan_case, to="902", move_on=D(2026, 12, 18), aware=D(2026, 11, 20), today=D(2026, 11, 27))
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        assert [r.ref for r in transfers.list_transfers(actor, direction="outgoing")[0]] == [t.ref]
        assert transfers.list_transfers(actor, direction="incoming")[0] == []
        with pytest.raises(ValidationFailed):
            transfers.list_transfers(actor, direction="sideways")
    with in_tenant(tenant_b):
        actor = system_actor(tenant_b)
        assert [r.ref for r in transfers.list_transfers(actor, direction="incoming")[0]] == [t.ref]


# ---------------------------------------------------------------------------------------
# Completing


def test_completion_moves_the_plan_and_freezes_the_senders_case(tenant_a: Any, tenant_b: Any, plan_case: Any,
                                                                 pin_today: Any) -> None:
    pin_today(D(2026, 12, 18))
    t = _start(tenant_a, plan_case, to="902", move_on=D(2026, 12, 18), aware=D(2026, 11, 20), today=D(2026, 12, 18))
    done = _complete(tenant_a, t.ref, D(2026, 12, 18), D(2026, 12, 18))
    assert done.status == "completed" and done.transferred_on == D(2026, 12, 18)
    incoming = _row(tenant_b, t.ref)
    assert incoming is not None and incoming.status == "completed"
    assert incoming.received_case_id == done.received_case_ref
    with in_tenant(tenant_b) as s:
        received = s.get(Case, incoming.received_case_id)
        assert received is not None and received.stage == "plan"
        first = s.execute(select(CaseEvent).where(CaseEvent.case_id == received.id).order_by(CaseEvent.seq)).scalar()
        assert (first.type, first.attributes["from_la_code"]) == ("plan_transferred", "901")
        assert s.execute(select(AuditEvent).where(AuditEvent.action == "transfer.received")).first()
    with in_tenant(tenant_a) as s:
        case = s.get(Case, plan_case.id)
        assert case.stage == "transferred"
        assert s.execute(select(AuditEvent).where(AuditEvent.action == "transfer.completed")).first()
        actor = system_actor(tenant_a)
        # The old council cannot change anything any more: events, plan, reviews.
        with pytest.raises(Conflict, match="moved to another council"):
            cases.record_event(actor, case, {"type": "review_meeting_held", "date": "2026-12-18"}, policy=POLICY,
                               today=D(2026, 12, 18))
        with pytest.raises(Conflict):
            plans.start_draft(actor, case)
        with pytest.raises(Conflict):
            reviews.schedule_meeting(actor, case, meeting_on=D(2027, 1, 20), policy=POLICY, today=D(2026, 12, 18),
                                     council_name="Council A")
        from core.documents.services import store_document
        from core.errors import ValidationFailed
        with pytest.raises(ValidationFailed, match="transferred"):
            store_document(actor, child_id=case.child_id, case_id=case.id, kind="other", title="Late papers",
                           filename="late.pdf", data=b"%PDF-1.4\n%late\n")
        # ... and the transfer cannot be completed or cancelled twice.
        again = transfers.access_transfer(actor, t.ref, for_write=True)
        with pytest.raises(Conflict, match="completed"):
            transfers.complete_transfer(actor, again, transferred_on=D(2026, 12, 18), today=D(2026, 12, 18))
        with pytest.raises(Conflict, match="completed"):
            transfers.cancel_transfer(actor, again, today=D(2026, 12, 18))


def test_only_the_sender_completes(tenant_a: Any, tenant_b: Any, plan_case: Any, pin_today: Any) -> None:
    pin_today(D(2026, 12, 18))
    t = _start(tenant_a, plan_case, to="902", move_on=D(2026, 12, 18), aware=D(2026, 11, 20), today=D(2026, 12, 18))
    with pytest.raises(Conflict, match="moving from"):
        _complete(tenant_b, t.ref, D(2026, 12, 18), D(2026, 12, 18))


def test_the_plan_transfers_on_or_after_the_move(tenant_a: Any, tenant_b: Any, plan_case: Any, pin_today: Any) -> None:
    pin_today(D(2026, 12, 18))
    t = _start(tenant_a, plan_case, to="902", move_on=D(2026, 12, 18), aware=D(2026, 11, 20), today=D(2026, 12, 18))
    with pytest.raises(ValidationFailed) as err:
        _complete(tenant_a, t.ref, D(2026, 12, 17), D(2026, 12, 18))
    assert "transferred_on" in err.value.errors
    with pytest.raises(ValidationFailed):
        _complete(tenant_a, t.ref, D(2026, 12, 19), D(2026, 12, 18))
    assert _row(tenant_a, t.ref).status == "planned"  # type: ignore[union-attr]


def test_a_failure_half_way_moves_nothing_and_tells_both_councils(
        tenant_a: Any, tenant_b: Any, plan_case: Any, pin_today: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    pin_today(D(2026, 12, 18))
    t = _start(tenant_a, plan_case, to="902", move_on=D(2026, 12, 18), aware=D(2026, 11, 20), today=D(2026, 12, 18))
    with in_tenant(tenant_a) as s:
        events_before = s.execute(select(func.count()).select_from(CaseEvent)
                                  .where(CaseEvent.case_id == plan_case.id)).scalar_one()
    written: list[Any] = []
    real_copy = snap._copy_versions

    def broken(actor: Any, case: Any, *args: Any, **kwargs: Any) -> Any:
        # By now the receiving council has a child, contacts, a case and documents.
        written.append(case.id)
        raise RuntimeError("disk on fire: Alex Example 2015-03-01")

    monkeypatch.setattr(snap, "_copy_versions", broken)
    with pytest.raises(transfers.TransferFailed) as err:
        _complete(tenant_a, t.ref, D(2026, 12, 18), D(2026, 12, 18))
    assert written, "the failure was injected after rows were written in the receiving council"
    assert "nothing has moved" in err.value.message
    # Nothing in the receiving council but its (failed, alerted) transfer row.
    with in_tenant(tenant_b) as s:
        assert s.get(Case, written[0]) is None
        assert s.execute(select(func.count()).select_from(Case)).scalar_one() == 0
        assert s.execute(select(func.count()).select_from(Document)).scalar_one() == 0
    incoming, outgoing = _row(tenant_b, t.ref), _row(tenant_a, t.ref)
    for row in (incoming, outgoing):
        assert row is not None
        assert (row.status, row.attempts, row.alert) == ("failed", 1, "failed")
        assert row.last_error and "RuntimeError" in row.last_error
        assert "Alex" not in row.last_error and "fire" not in row.last_error  # no personal data, no raw message
    # The sender's case is unchanged and still writable.
    with in_tenant(tenant_a) as s:
        case = s.get(Case, plan_case.id)
        assert case.stage == "plan"
        assert s.execute(select(func.count()).select_from(CaseEvent)
                         .where(CaseEvent.case_id == plan_case.id)).scalar_one() == events_before
        cases.record_event(system_actor(tenant_a), case, {"type": "review_meeting_scheduled", "date": "2026-12-18",
                                                          "meeting_on": "2027-02-01"}, policy=POLICY,
                           today=D(2026, 12, 18))
    # Retry: completing again works, and both rows say so.
    monkeypatch.setattr(snap, "_copy_versions", real_copy)
    done = _complete(tenant_a, t.ref, D(2026, 12, 18), D(2026, 12, 18))
    assert (done.status, done.attempts, done.alert, done.last_error) == ("completed", 2, None, None)
    incoming = _row(tenant_b, t.ref)
    assert incoming is not None and incoming.status == "completed" and incoming.alert is None


# ---------------------------------------------------------------------------------------
# Cancelling


def test_cancel_stops_the_clocks_and_tells_the_receiver(tenant_a: Any, tenant_b: Any, plan_case: Any) -> None:
    t = _start(tenant_a, plan_case, to="902", move_on=D(2026, 12, 18), aware=D(2026, 11, 20), today=D(2026, 11, 27))
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        transfers.cancel_transfer(actor, transfers.access_transfer(actor, t.ref, for_write=True),
                                  today=D(2026, 11, 27))
    assert _row(tenant_a, t.ref).status == "cancelled"  # type: ignore[union-attr]
    assert _row(tenant_b, t.ref).status == "cancelled"  # type: ignore[union-attr]
    found = _deadlines(tenant_a, plan_case.id, D(2026, 11, 27))
    assert "transfer_of_plan_between_las" not in found
    assert "health_body_notification_on_transfer" not in found
    # The case is still this council's, and a new transfer may start.
    again = _start(tenant_a, plan_case, to="902", move_on=D(2027, 1, 8), aware=D(2026, 11, 27), today=D(2026, 11, 27))
    assert again.ref != t.ref and again.status == "planned"
    assert _deadlines(tenant_a, plan_case.id, D(2026, 11, 27))["transfer_of_plan_between_las"].status == "open"


# ---------------------------------------------------------------------------------------
# A receiving council not on the platform


def test_off_platform_receiver_gets_a_package_and_the_case_goes_read_only(
        tenant_a: Any, plan_case: Any, pin_today: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    pin_today(D(2026, 12, 18))
    t = _start(tenant_a, plan_case, to="886", move_on=D(2026, 12, 18), aware=D(2026, 11, 20), today=D(2026, 12, 18),
               to_la_name="Kent County Council")
    assert not t.receiver_on_platform and t.to_la_name == "Kent County Council"
    package = pytest.importorskip("core.transfers.package")
    done = _complete(tenant_a, t.ref, D(2026, 12, 18), D(2026, 12, 18))
    assert done.status == "completed" and done.received_case_ref is None
    with in_tenant(tenant_a) as s:
        doc = s.get(Document, done.package_document_id)
        assert doc is not None and doc.case_id == plan_case.id and doc.content_type == "application/zip"
        assert s.get(Case, plan_case.id).stage == "transferred"
    assert package is not None


# ---------------------------------------------------------------------------------------
# Reg 16: the health body's notice leaves through the plugin hook


def test_a_change_of_health_body_schedules_the_notification_hook(
        tenant_a: Any, tenant_b: Any, plan_case: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    scheduled: list[tuple[str, str, dict[str, Any]]] = []
    monkeypatch.setattr(transfers.outbox, "schedule_call",
                        lambda hook, key, arguments, **kw: scheduled.append((hook, key, dict(arguments))) or [])
    t = _start(tenant_a, plan_case, to="902", move_on=D(2026, 12, 18), aware=D(2026, 11, 20), today=D(2026, 11, 27))
    hooks = [s for s in scheduled if s[0] == "on_health_body_notification"]
    assert len(hooks) == 1
    hook, key, arguments = hooks[0]
    assert arguments == {"case_id": str(plan_case.id), "reason": "health_body_notification_on_transfer"}
    assert str(t.ref) in key


def test_no_change_of_health_body_schedules_no_notification(
        tenant_a: Any, tenant_b: Any, plan_case: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    scheduled: list[str] = []
    monkeypatch.setattr(transfers.outbox, "schedule_call",
                        lambda hook, key, arguments, **kw: scheduled.append(hook) or [])
    _start(tenant_a, plan_case, to="902", move_on=D(2026, 12, 18), aware=D(2026, 11, 20), today=D(2026, 11, 27),
           health_body_changes=False)
    assert "on_health_body_notification" not in scheduled


def test_both_councils_audit_logs_hold_the_transfer(tenant_a: Any, tenant_b: Any, plan_case: Any,
                                                   pin_today: Any) -> None:
    pin_today(D(2026, 12, 18))
    t = _start(tenant_a, plan_case, to="902", move_on=D(2026, 12, 18), aware=D(2026, 11, 20), today=D(2026, 12, 18))
    _complete(tenant_a, t.ref, D(2026, 12, 18), D(2026, 12, 18))
    with in_tenant(tenant_a) as s:
        sent = set(s.execute(select(AuditEvent.action).where(AuditEvent.object_id == t.ref)).scalars())
    with in_tenant(tenant_b) as s:
        received = set(s.execute(select(AuditEvent.action).where(AuditEvent.object_id == t.ref)).scalars())
    assert {"transfer.started", "transfer.completed"} <= sent
    assert {"transfer.announced", "transfer.received"} <= received
