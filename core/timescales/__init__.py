"""Statutory timescale engine: pure functions from a case's events to its deadlines.

Public API::

    compute_deadlines(events, *, child=None, today, policy=None) -> list[Deadline]
    validate_event(event) -> dict[str, list[str]]

See ``engine`` for how statuses are decided, ``rules`` for the table of keys,
citations and exception policy, ``calendar`` for the counting conventions and
``events`` for the event vocabulary. Nothing here touches a database, the web layer or
the clock: ``today`` is always injected.
"""

from core.timescales.engine import (
    Deadline,
    InvalidEventsError,
    SlaTarget,
    TimescalePolicy,
    Trigger,
    apply_corrections,
    compute_deadlines,
)
from core.timescales.events import EVENT_TYPES, validate_event
from core.timescales.rules import DEADLINE_KEYS, OMITTED_KEYS, RULES

__all__ = [
    "DEADLINE_KEYS",
    "EVENT_TYPES",
    "OMITTED_KEYS",
    "RULES",
    "Deadline",
    "InvalidEventsError",
    "SlaTarget",
    "TimescalePolicy",
    "Trigger",
    "apply_corrections",
    "compute_deadlines",
    "validate_event",
]
