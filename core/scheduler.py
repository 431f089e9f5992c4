"""A small daily scheduler for cross-council maintenance (issue #3 item 9).

``flask --app wsgi scheduler`` runs :func:`run_forever`: once a minute it calls
:meth:`Scheduler.run_pending`, which starts each :class:`DailyTask` once per day, at or after
its time of day in the council's time zone (Europe/London: statutory days are English days,
core/clock.py). A task runs late rather than not at all: a scheduler started (or restarted)
after 06:30 runs that day's reminders straight away.

Several schedulers may run (two hosts, a rolling deploy). With Redis, each run first takes a
lock key for the task and the day with ``SET NX EX``; only the scheduler that sets it runs the
task, so the daily fan-out happens once per day however many are running. If the task raises,
the lock is released so a scheduler retries it a minute later. Without Redis (the embedded
default, one process) the scheduler remembers in memory what it ran; the jobs it starts are
idempotent anyway, so a restart that runs them again tells nobody twice.

Why not rq's own ``CronScheduler`` (``rq cron``, rq >= 2.5)? It enqueues through a ``Queue``
built with rq's default serializer, which is **pickle** (``rq.cron.CronJob.enqueue``): our
workers run with the JSON serializer (core/jobs.py, STYLE.md section 5) and could not read
those jobs, and a pickled payload in Redis is code execution for whoever can write to Redis.
It would also call the fan-out itself as an rq job (one job iterating councils, which STYLE.md
section 5 forbids), bypass our ``@job`` wrapper (tenant context, session, commit, log tags),
evaluate cron expressions in the host's local time rather than Europe/London, and has no
once-per-day lock across several scheduler processes. So the scheduler only *decides when*;
the work is enqueued as our JSON-serialized, per-council jobs by the task it calls.

This module imports nothing of ``tenants`` or ``web`` (core knows neither): the task's action
is handed in by the caller (web/cli.py passes ``tenants.maintenance.fan_out_reminders``).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from core.clock import LONDON

log = logging.getLogger(__name__)

#: The reminders run at 06:30 in England unless configured otherwise: before the working day,
#: after the night's imports.
DEFAULT_AT = dt.time(6, 30)
#: A day's lock outlives the day (plus time-zone slack), then expires by itself.
LOCK_SECONDS = 36 * 3600
TICK_SECONDS = 60


class LockStore(Protocol):
    """The part of a Redis client the scheduler uses."""

    def set(self, name: str, value: Any, *, nx: bool = ..., ex: int = ...) -> Any: ...

    def delete(self, *names: str) -> Any: ...


@dataclass(frozen=True)
class DailyTask:
    """Run ``action()`` once a day, at or after ``at`` (local time of the scheduler's zone)."""

    name: str
    at: dt.time
    action: Callable[[], Any]


def parse_time_of_day(value: str) -> dt.time:
    """``"06:30"`` to a time; ValueError with a message a person can act on."""
    try:
        hours, minutes = value.strip().split(":")
        if len(minutes) != 2:
            raise ValueError
        return dt.time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(f"{value!r} is not a time of day like 06:30") from None


class Scheduler:
    """Decides, each time it is asked, which daily tasks are due, and runs each once a day."""

    def __init__(self, tasks: Sequence[DailyTask], *, locks: LockStore | None = None, tz: ZoneInfo = LONDON,
                 key_prefix: str = "sendbridge:scheduler",
                 every_tick: Sequence[tuple[str, Callable[[], Any]]] = ()) -> None:
        names = [t.name for t in tasks]
        if len(set(names)) != len(names):
            raise ValueError("task names must be unique")
        self.tasks = list(tasks)
        #: Run at every tick (once a minute), by every scheduler: work that is idempotent
        #: and cheap when there is nothing to do (re-queueing plugin calls that are due).
        self.every_tick = list(every_tick)
        self.locks = locks
        self.tz = tz
        self.key_prefix = key_prefix
        #: Task name -> the local day this process last ran (or saw another process run) it.
        self.done: dict[str, dt.date] = {}

    def lock_key(self, task: DailyTask, day: dt.date) -> str:
        return f"{self.key_prefix}:{task.name}:{day.isoformat()}"

    def run_pending(self, now: dt.datetime) -> list[str]:
        """Run every task due at ``now`` (timezone-aware) and not yet run that day; returns
        the names of the tasks this call ran."""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        local = now.astimezone(self.tz)
        day = local.date()
        ran: list[str] = []
        for name, action in self.every_tick:
            try:
                action()
                ran.append(name)
            except Exception:  # e.g. Redis down: the outbox keeps the work; the next tick retries
                log.exception("scheduler: %s failed; the next tick tries again", name)
        for task in self.tasks:
            if local.time() < task.at or self.done.get(task.name) == day:
                continue
            key = self.lock_key(task, day)
            if self.locks is not None and not self.locks.set(key, local.isoformat(), nx=True, ex=LOCK_SECONDS):
                log.info("scheduler: %s for %s already taken by another scheduler", task.name, day.isoformat())
                self.done[task.name] = day
                continue
            try:
                task.action()
            except Exception:
                log.exception("scheduler: %s failed; it will be retried", task.name)
                if self.locks is not None:
                    self.locks.delete(key)  # let the next tick (here or elsewhere) try again
                continue
            self.done[task.name] = day
            ran.append(task.name)
            log.info("scheduler: ran %s for %s", task.name, day.isoformat())
        return ran


def seconds_to_next_tick(now: dt.datetime, tick: int = TICK_SECONDS) -> float:
    """Seconds until the start of the next whole ``tick`` (the next minute), at least 1."""
    elapsed = now.timestamp() % tick
    return max(tick - elapsed, 1.0)


def run_forever(scheduler: Scheduler, *, now: Callable[[], dt.datetime] | None = None,
                sleep: Callable[[float], None] = time.sleep, should_stop: Callable[[], bool] = lambda: False) -> None:
    """Check once a minute until ``should_stop()``; errors in one tick never end the loop."""
    clock_now = now or (lambda: dt.datetime.now(dt.timezone.utc))
    while not should_stop():
        try:
            scheduler.run_pending(clock_now())
        except Exception:  # a Redis blip must not end the scheduler
            log.exception("scheduler: tick failed")
        sleep(seconds_to_next_tick(clock_now()))
