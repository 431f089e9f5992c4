"""Deadline reminders (issue #3 item 9): the job, its fan-out, the daily scheduler.

The logic is tested by calling it inside the tenant with an injected today; the job is run
once through a real Redis burst worker with the JSON serializer, as production does.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
import zlib
from typing import Any

import pytest
from sqlalchemy import select

from core import clock
from core.cases import jobs as reminder_jobs
from core.cases import services as cases
from core.cases.access import access_case
from core.cases.models import CaseDeadline, Notification
from core.db import db
from core.jobs import RQBackend, configure_jobs
from core.scheduler import DailyTask, Scheduler, parse_time_of_day, run_forever, seconds_to_next_tick
from core.users.models import Role, User
from tests.conftest import REDIS_TEST_URL, in_tenant, system_actor

D = dt.date
TODAY = D(2026, 11, 27)
UTC = dt.timezone.utc


def _request(day: D) -> dict[str, Any]:
    return {"type": "request_received", "date": day.isoformat(), "requester": "parent"}


def _decision_due_in(days: int, today: D = TODAY) -> dict[str, Any]:
    """A request whose reg 5 decision (6 weeks) falls ``days`` after ``today`` (negative: missed)."""
    return _request(today + dt.timedelta(days=days - 42))


def _notifications(tenant: Any) -> list[Notification]:
    with in_tenant(tenant) as s:
        return list(s.execute(select(Notification).order_by(Notification.due, Notification.id)).scalars())


def _run(tenant: Any, days_before: int = 10, today: D = TODAY) -> reminder_jobs.ReminderRun:
    with in_tenant(tenant):
        return reminder_jobs.remind_deadlines(days_before, today=today)


@pytest.fixture(autouse=True)
def _inline_jobs() -> Any:
    configure_jobs(None)
    yield
    configure_jobs(None)


@pytest.fixture
def caseworker(tenant_a: Any, make_user: Any) -> User:
    return make_user(tenant_a, Role.CASEWORKER, name="Casey Worker")


# ---------------------------------------------------------------------------------------
# Which deadlines, whom, and only once


@pytest.mark.smoke
def test_due_soon_and_missed_deadlines_each_make_one_notification(tenant_a: Any, make_case: Any,
                                                                   caseworker: User) -> None:
    soon = make_case(tenant_a, [_decision_due_in(4)], caseworker_id=caseworker.id)
    missed = make_case(tenant_a, [_decision_due_in(-15)], caseworker_id=caseworker.id)
    run = _run(tenant_a)
    assert (run.recorded, run.delivered) == (2, 2)
    got = {(n.case_id, n.kind, n.deadline_key, n.due, n.user_id) for n in _notifications(tenant_a)}
    assert got == {
        (soon.id, "deadline_due", "decision_to_assess", TODAY + dt.timedelta(days=4), caseworker.id),
        (missed.id, "deadline_missed", "decision_to_assess", TODAY - dt.timedelta(days=15), caseworker.id),
    }
    assert all(n.delivered_at is not None and n.read_at is None and n.channel == "log"
               for n in _notifications(tenant_a))


@pytest.mark.smoke
def test_running_twice_tells_nobody_twice(tenant_a: Any, make_case: Any, caseworker: User) -> None:
    make_case(tenant_a, [_decision_due_in(4)], caseworker_id=caseworker.id)
    first = _run(tenant_a)
    second = _run(tenant_a)
    # The next day the same deadline is still open, and still already reminded; once it is
    # missed it is not reminded again either.
    third = _run(tenant_a, today=TODAY + dt.timedelta(days=6))
    assert [r.recorded for r in (first, second, third)] == [1, 0, 0]
    assert [r.delivered for r in (first, second, third)] == [1, 0, 0]
    assert len(_notifications(tenant_a)) == 1


@pytest.mark.smoke
def test_the_horizon_includes_its_last_day(tenant_a: Any, make_case: Any, caseworker: User) -> None:
    inside = make_case(tenant_a, [_decision_due_in(10)], caseworker_id=caseworker.id)
    make_case(tenant_a, [_decision_due_in(11)], caseworker_id=caseworker.id)
    make_case(tenant_a, [_decision_due_in(0)], caseworker_id=caseworker.id)
    _run(tenant_a, days_before=10)
    assert sorted((n.case_id == inside.id, n.due) for n in _notifications(tenant_a)) == [
        (False, TODAY), (True, TODAY + dt.timedelta(days=10))]


@pytest.mark.smoke
def test_no_caseworker_or_an_inactive_one_means_no_notification(tenant_a: Any, make_case: Any,
                                                                 make_user: Any) -> None:
    make_case(tenant_a, [_decision_due_in(3)])
    gone = make_user(tenant_a, Role.CASEWORKER)
    make_case(tenant_a, [_decision_due_in(3)], caseworker_id=gone.id)
    with in_tenant(tenant_a) as s:
        s.get(User, gone.id).active = False
    assert _run(tenant_a).recorded == 0
    assert _notifications(tenant_a) == []


@pytest.mark.smoke
def test_met_excepted_and_guidance_deadlines_are_not_reminded(tenant_a: Any, make_case: Any, make_child: Any,
                                                              caseworker: User) -> None:
    make_case(tenant_a, [_decision_due_in(3), {"type": "decision_to_assess_made", "date": "2026-11-20",
                                                "outcome": "assess"}], caseworker_id=caseworker.id)
    # An exception (reg 5(4)(c)) suspends the clock: recorded as an event, as caseworkers do.
    excepted = make_case(tenant_a, [_decision_due_in(3), {
        "type": "exception_recorded", "date": "2026-11-20", "code": "personal_circumstances", "from": "2026-11-01",
        "to": None, "affects": ["decision_to_assess"]}], caseworker_id=caseworker.id)
    with in_tenant(tenant_a) as s:
        row = s.execute(select(CaseDeadline).where(CaseDeadline.case_id == excepted.id,
                                                   CaseDeadline.key == "decision_to_assess")).scalar_one()
        assert row.exception == {"code": "personal_circumstances", "from": "2026-11-01", "to": None}
    # An under-5 plan issued 10 Feb 2026: the CoP 9.178 review window (guidance) is long past
    # on 27 Nov 2026, but guidance is never a reminder.
    make_case(tenant_a, [_request(D(2025, 10, 1)),
                         {"type": "decision_to_assess_made", "date": "2025-11-01", "outcome": "assess"},
                         {"type": "decision_to_issue_made", "date": "2026-01-10", "outcome": "issue"},
                         {"type": "draft_plan_served", "date": "2026-01-20"},
                         {"type": "final_plan_issued", "date": "2026-02-10"}],
              child=make_child(tenant_a, date_of_birth=D(2023, 1, 1)), caseworker_id=caseworker.id)
    _run(tenant_a)
    assert [n.deadline_key for n in _notifications(tenant_a)] == []


@pytest.mark.smoke
def test_a_new_caseworker_is_reminded_too(tenant_a: Any, make_case: Any, make_user: Any, caseworker: User) -> None:
    case = make_case(tenant_a, [_decision_due_in(4)], caseworker_id=caseworker.id)
    _run(tenant_a)
    other = make_user(tenant_a, Role.CASEWORKER)
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        cases.assign_caseworker(actor, access_case(actor, case.id, for_write=True), other.id)
    assert _run(tenant_a).recorded == 1
    assert {n.user_id for n in _notifications(tenant_a)} == {caseworker.id, other.id}


@pytest.mark.smoke
def test_the_log_line_carries_ids_and_no_personal_data(tenant_a: Any, make_case: Any, make_child: Any,
                                                       caseworker: User, caplog: Any) -> None:
    child = make_child(tenant_a, given_name="Zebedee", family_name="Quillfeather", date_of_birth=D(2014, 2, 28))
    case = make_case(tenant_a, [_decision_due_in(2)], child=child, caseworker_id=caseworker.id)
    caplog.set_level(logging.INFO, logger="core.cases.jobs")
    _run(tenant_a)
    [notification] = _notifications(tenant_a)
    lines = [r.getMessage() for r in caplog.records if r.name == "core.cases.jobs"]
    assert lines == [f"reminder delivered notification={notification.id} user={caseworker.id} case={case.id} "
                     f"kind=deadline_due deadline=decision_to_assess"]
    for personal in ("Zebedee", "Quillfeather", "2014-02-28", "28 February 2014", "28/02/2014",
                     caseworker.display_name, caseworker.email):
        assert personal not in caplog.text


@pytest.mark.smoke
def test_a_notification_recorded_but_not_delivered_is_delivered_next_time(tenant_a: Any, make_case: Any,
                                                                          caseworker: User) -> None:
    case = make_case(tenant_a, [_decision_due_in(4)], caseworker_id=caseworker.id)
    with in_tenant(tenant_a) as s:
        s.add(Notification(user_id=caseworker.id, case_id=case.id, kind="deadline_due", deadline_key="x",
                           due=TODAY, dedupe_key="crashed-before-delivery"))
    run = _run(tenant_a)
    assert (run.recorded, run.delivered) == (1, 2)
    assert all(n.delivered_at is not None for n in _notifications(tenant_a))


@pytest.mark.smoke
def test_the_dedupe_key_fits_its_column_and_separates_every_part() -> None:
    user, case = uuid.uuid4(), uuid.uuid4()
    base = reminder_jobs.dedupe_key(user, case, "advice_returned", "a" * 64, TODAY)
    assert len(base) <= 200
    others = {reminder_jobs.dedupe_key(uuid.uuid4(), case, "advice_returned", "a" * 64, TODAY),
              reminder_jobs.dedupe_key(user, uuid.uuid4(), "advice_returned", "a" * 64, TODAY),
              reminder_jobs.dedupe_key(user, case, "decision_to_assess", "a" * 64, TODAY),
              reminder_jobs.dedupe_key(user, case, "advice_returned", "b", TODAY),
              reminder_jobs.dedupe_key(user, case, "advice_returned", "a" * 64, TODAY + dt.timedelta(days=1))}
    assert base not in others and len(others) == 5
    with pytest.raises(ValueError):
        reminder_jobs.remind_deadlines(-1)


@pytest.mark.parametrize("orm_criterion", ["on", "off"], indirect=True)
def test_another_councils_deadlines_are_never_reminded(orm_criterion: str, tenant_a: Any, tenant_b: Any,
                                                       make_case: Any, make_user: Any, caseworker: User) -> None:
    ours = make_case(tenant_a, [_decision_due_in(3)], caseworker_id=caseworker.id)
    theirs_worker = make_user(tenant_b, Role.CASEWORKER)
    theirs = make_case(tenant_b, [_decision_due_in(3)], caseworker_id=theirs_worker.id)
    assert _run(tenant_a).recorded == 1
    assert [n.case_id for n in _notifications(tenant_a)] == [ours.id]
    assert _notifications(tenant_b) == []
    assert _run(tenant_b).recorded == 1
    assert [n.case_id for n in _notifications(tenant_b)] == [theirs.id]
    assert [n.case_id for n in _notifications(tenant_a)] == [ours.id]


# ---------------------------------------------------------------------------------------
# The job, its fan-out and the command line


@pytest.mark.smoke
def test_the_job_runs_in_its_own_council_with_todays_date(tenant_a: Any, make_case: Any, caseworker: User) -> None:
    today = clock.today()
    make_case(tenant_a, [_decision_due_in(5, today)], caseworker_id=caseworker.id, today=today)
    assert reminder_jobs.send_deadline_reminders(str(tenant_a.id), 10) == {"recorded": 1, "delivered": 1}
    assert reminder_jobs.send_deadline_reminders(str(tenant_a.id), 10) == {"recorded": 0, "delivered": 0}


def _set_reminder_days(tenant: Any, days: int) -> None:
    from tenants.services import update_settings

    with db.as_owner() as session:
        update_settings(tenant.slug, {"reminder_days_before": days})
        session.commit()


def test_the_fan_out_uses_each_councils_own_notice_period(create_tenant: Any, tenant_a: Any, make_case: Any,
                                                         make_user: Any, caseworker: User) -> None:
    from tenants.maintenance import MAINTENANCE_FAN_OUTS, fan_out_reminders

    today = clock.today()
    short = create_tenant()
    _set_reminder_days(short, 3)
    worker = make_user(short, Role.CASEWORKER)
    near = make_case(short, [_decision_due_in(2, today)], caseworker_id=worker.id, today=today)
    make_case(short, [_decision_due_in(5, today)], caseworker_id=worker.id, today=today)
    default = make_case(tenant_a, [_decision_due_in(5, today)], caseworker_id=caseworker.id, today=today)
    assert MAINTENANCE_FAN_OUTS["send-reminders"] is fan_out_reminders
    assert fan_out_reminders() >= 2  # one job per active council (run inline here: no Redis)
    assert [n.case_id for n in _notifications(short)] == [near.id]  # 3 days: the 5-day one waits
    assert [n.case_id for n in _notifications(tenant_a)] == [default.id]  # the default 10 days


def test_the_maintenance_command_runs_the_reminders(app: Any, tenant_a: Any, make_case: Any, caseworker: User) -> None:
    today = clock.today()
    case = make_case(tenant_a, [_decision_due_in(1, today)], caseworker_id=caseworker.id, today=today)
    result = app.test_cli_runner().invoke(args=["maintenance", "run", "send-reminders"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output.strip().splitlines()[-1])
    assert out["job"] == "send-reminders" and out["councils"] >= 2
    assert [n.case_id for n in _notifications(tenant_a)] == [case.id]


def test_the_scheduler_command_checks_once_and_refuses_a_bad_time(app: Any, tenant_a: Any, make_case: Any,
                                                                 caseworker: User) -> None:
    today = clock.today()
    case = make_case(tenant_a, [_decision_due_in(1, today)], caseworker_id=caseworker.id, today=today)
    runner = app.test_cli_runner()
    # `flask` pushes an app context for every command; the test runner only for AppGroups.
    with app.app_context():
        result = runner.invoke(args=["scheduler", "--once", "--at", "00:00"])
        bad = runner.invoke(args=["scheduler", "--once", "--at", "25:00"])
    assert result.exit_code == 0, result.output
    ran = json.loads(result.output.strip().splitlines()[-1])["ran"]
    # The minute's work always runs; the daily social care refresh only after 05:30 in London.
    assert ran[:2] == ["sweep-plugin-calls", "poll-partner-advice"] and "send-reminders" in ran
    assert set(ran[2:]) <= {"send-reminders", "refresh-social-care-status", "flag-transfers"}
    assert [n.case_id for n in _notifications(tenant_a)] == [case.id]
    assert bad.exit_code == 2 and "not a time of day" in bad.output


@pytest.mark.redis
def test_the_job_goes_through_redis_as_json_one_per_council(tenant_a: Any, tenant_b: Any, make_case: Any,
                                                            make_child: Any, caseworker: User) -> None:
    from redis import Redis
    from rq import SimpleWorker
    from rq.serializers import JSONSerializer

    from tenants.maintenance import fan_out_reminders

    redis = Redis.from_url(REDIS_TEST_URL)
    redis.flushdb()
    try:
        backend = configure_jobs(REDIS_TEST_URL)
        assert isinstance(backend, RQBackend)
        today = clock.today()
        child = make_child(tenant_a, given_name="Rosalind", family_name="Quenby")
        case = make_case(tenant_a, [_decision_due_in(3, today)], child=child, caseworker_id=caseworker.id, today=today)
        councils = fan_out_reminders()
        queue = backend.queue("default")
        queued = queue.get_jobs()
        assert len(queued) == councils >= 2
        assert {(j.func_name, tuple(j.args)) for j in queued} >= {
            ("core.cases.jobs.send_deadline_reminders", (str(tenant_a.id), 10)),
            ("core.cases.jobs.send_deadline_reminders", (str(tenant_b.id), 10))}
        for j in queued:  # what sits in Redis is JSON with ids and a number, never a name
            payload = zlib.decompress(redis.hget(j.key, "data")).decode()
            assert json.loads(payload)[2] == [j.args[0], 10]  # (function, instance, args, kwargs)
            assert "Rosalind" not in payload and "Quenby" not in payload
        assert _notifications(tenant_a) == []  # nothing happens until a worker runs the jobs
        SimpleWorker([queue], connection=redis, serializer=JSONSerializer).work(burst=True, max_jobs=councils)
        assert [n.case_id for n in _notifications(tenant_a)] == [case.id]
        assert all(j.get_status(refresh=True) == "finished" for j in queued)
        assert queued[0].return_value() is not None
    finally:
        configure_jobs(None)
        redis.flushdb()


# ---------------------------------------------------------------------------------------
# The scheduler


class FakeLocks:
    """The SET NX EX / DEL part of Redis, in memory, for logic tests."""

    def __init__(self) -> None:
        self.keys: dict[str, Any] = {}
        self.expiries: dict[str, int] = {}

    def set(self, name: str, value: Any, *, nx: bool = False, ex: int = 0) -> bool:
        if nx and name in self.keys:
            return False
        self.keys[name] = value
        self.expiries[name] = ex
        return True

    def delete(self, *names: str) -> int:
        return sum(1 for n in names if self.keys.pop(n, None) is not None)


def _london(y: int, m: int, d: int, hh: int, mm: int) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=clock.LONDON)


@pytest.mark.smoke
def test_every_tick_work_runs_each_minute_and_its_failure_never_stops_the_daily_tasks() -> None:
    ticks: list[str] = []

    def sweep_down() -> None:
        ticks.append("tried")
        raise ConnectionError("Redis is down")

    scheduler = Scheduler([DailyTask("send-reminders", dt.time(6, 30), lambda: ticks.append("reminders"))],
                          every_tick=[("sweep-plugin-calls", sweep_down)])
    assert scheduler.run_pending(_london(2026, 11, 27, 6, 29)) == []
    assert scheduler.run_pending(_london(2026, 11, 27, 6, 30)) == ["send-reminders"]
    assert ticks == ["tried", "tried", "reminders"]
    healthy = Scheduler([], every_tick=[("sweep-plugin-calls", lambda: ticks.append("swept"))])
    assert healthy.run_pending(_london(2026, 11, 27, 6, 31)) == ["sweep-plugin-calls"]
    assert healthy.run_pending(_london(2026, 11, 27, 6, 32)) == ["sweep-plugin-calls"]
    assert ticks[-2:] == ["swept", "swept"]


@pytest.mark.smoke
def test_run_pending_runs_once_a_day_at_or_after_the_hour_in_london() -> None:
    calls: list[int] = []
    scheduler = Scheduler([DailyTask("send-reminders", dt.time(6, 30), lambda: calls.append(1))])
    assert scheduler.run_pending(_london(2026, 11, 27, 6, 29)) == []
    assert scheduler.run_pending(_london(2026, 11, 27, 6, 30)) == ["send-reminders"]
    assert scheduler.run_pending(_london(2026, 11, 27, 6, 31)) == []
    assert scheduler.run_pending(_london(2026, 11, 27, 23, 59)) == []
    assert scheduler.run_pending(_london(2026, 11, 28, 0, 0)) == []
    assert scheduler.run_pending(_london(2026, 11, 28, 9, 15)) == ["send-reminders"]  # late rather than never
    assert len(calls) == 2
    # British Summer Time: 06:30 in London is 05:30 UTC.
    summer = Scheduler([DailyTask("t", dt.time(6, 30), lambda: calls.append(2))])
    assert summer.run_pending(dt.datetime(2026, 7, 1, 5, 29, tzinfo=UTC)) == []
    assert summer.run_pending(dt.datetime(2026, 7, 1, 5, 30, tzinfo=UTC)) == ["t"]
    with pytest.raises(ValueError, match="timezone-aware"):
        summer.run_pending(dt.datetime(2026, 7, 2, 7, 0))


@pytest.mark.smoke
def test_the_daily_lock_lets_only_one_scheduler_run() -> None:
    locks = FakeLocks()
    calls: list[str] = []
    first = Scheduler([DailyTask("send-reminders", dt.time(6, 30), lambda: calls.append("first"))], locks=locks)
    second = Scheduler([DailyTask("send-reminders", dt.time(6, 30), lambda: calls.append("second"))], locks=locks)
    now = _london(2026, 11, 27, 6, 30)
    assert first.run_pending(now) == ["send-reminders"]
    assert second.run_pending(now) == []
    assert second.run_pending(now + dt.timedelta(minutes=1)) == []
    assert calls == ["first"]
    assert list(locks.keys) == ["sendbridge:scheduler:send-reminders:2026-11-27"]
    assert locks.expiries["sendbridge:scheduler:send-reminders:2026-11-27"] > 24 * 3600
    # The next day has its own lock.
    assert second.run_pending(_london(2026, 11, 28, 6, 30)) == ["send-reminders"]
    assert calls == ["first", "second"]


@pytest.mark.smoke
def test_a_failed_run_releases_the_lock_and_is_retried(caplog: Any) -> None:
    locks = FakeLocks()
    attempts: list[int] = []

    def flaky() -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("database restarting")

    scheduler = Scheduler([DailyTask("send-reminders", dt.time(6, 30), flaky)], locks=locks)
    now = _london(2026, 11, 27, 6, 30)
    assert scheduler.run_pending(now) == []
    assert locks.keys == {}
    assert "send-reminders failed" in caplog.text
    assert scheduler.run_pending(now + dt.timedelta(minutes=1)) == ["send-reminders"]
    assert len(attempts) == 2


@pytest.mark.smoke
def test_run_forever_ticks_each_minute_and_survives_errors() -> None:
    ticks = iter([_london(2026, 11, 27, 6, 29, ), _london(2026, 11, 27, 6, 29), _london(2026, 11, 27, 6, 30, ),
                  _london(2026, 11, 27, 6, 30), _london(2026, 11, 27, 6, 31), _london(2026, 11, 27, 6, 31)])
    slept: list[float] = []
    calls: list[int] = []

    class Boom(Scheduler):
        def run_pending(self, now: dt.datetime) -> list[str]:
            if now.minute == 29:
                raise ConnectionError("redis blip")
            return super().run_pending(now)

    scheduler = Boom([DailyTask("t", dt.time(6, 30), lambda: calls.append(1))])
    run_forever(scheduler, now=lambda: next(ticks), sleep=slept.append, should_stop=lambda: len(slept) >= 3)
    assert calls == [1]
    assert slept == [60.0, 60.0, 60.0]
    assert seconds_to_next_tick(dt.datetime(2026, 11, 27, 6, 30, 45, tzinfo=UTC)) == 15.0


@pytest.mark.smoke
def test_times_of_day_and_task_names_are_checked() -> None:
    assert parse_time_of_day("06:30") == dt.time(6, 30)
    for bad in ("6", "25:00", "06:3", "half six"):
        with pytest.raises(ValueError):
            parse_time_of_day(bad)
    with pytest.raises(ValueError, match="unique"):
        Scheduler([DailyTask("a", dt.time(1), print), DailyTask("a", dt.time(2), print)])


@pytest.mark.redis
def test_two_schedulers_on_one_redis_run_the_day_once() -> None:
    from redis import Redis

    redis = Redis.from_url(REDIS_TEST_URL)
    redis.flushdb()
    try:
        calls: list[str] = []
        schedulers = [Scheduler([DailyTask("send-reminders", dt.time(6, 30), lambda n=n: calls.append(n))],
                                locks=redis) for n in ("a", "b")]
        now = _london(2026, 11, 27, 7, 0)
        assert [s.run_pending(now) for s in schedulers] == [["send-reminders"], []]
        assert calls == ["a"]
        key = "sendbridge:scheduler:send-reminders:2026-11-27"
        assert redis.exists(key) and 0 < redis.ttl(key) <= 36 * 3600
    finally:
        redis.flushdb()

