"""Calendar arithmetic for the statutory timescales (statutory-rules.md §1).

Every counting convention the law uses lives here, one function per convention, so
the rules module can say in one line which convention a regulation uses:

* ``add_days`` / ``add_weeks``: "within N days/weeks **of** X" (day X excluded).
* ``add_months``: the corresponding-date rule with a month-end clamp.
* ``end_of_months_starting_with``: "the period of N months **starting with** X".
* ``nth_working_day_beginning_with`` / ``nth_working_day_after``: working days
  counted "beginning with" X (X is day 1) or "of" X (X excluded).
* ``tribunal_due_date`` / ``nth_tribunal_working_day_after``: the First-tier
  Tribunal's own procedure rules (§8.5), the only place a date ever rolls forward.

Working days are Monday to Friday minus the England and Wales bank holidays taken from
the maintained ``holidays`` table (substitute days included). No holiday is hard-coded.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays

__all__ = [
    "add_days",
    "add_months",
    "add_weeks",
    "bank_holidays",
    "count_working_days",
    "end_of_months_starting_with",
    "is_bank_holiday",
    "is_tribunal_working_day",
    "is_working_day",
    "last_day_of_month",
    "next_working_day",
    "nth_tribunal_working_day_after",
    "nth_working_day_after",
    "nth_working_day_beginning_with",
    "previous_working_day",
    "tribunal_due_date",
]

_ONE_DAY = timedelta(days=1)


# --------------------------------------------------------------------------- calendar days


def add_days(start: date, days: int) -> date:
    """Return ``start + days`` calendar days ("within N days of X": X itself is excluded)."""
    return start + timedelta(days=days)


def add_weeks(start: date, weeks: int) -> date:
    """Return ``start + 7 * weeks`` days: a week is 7 consecutive calendar days (§1.1)."""
    return start + timedelta(days=7 * weeks)


def last_day_of_month(year: int, month: int) -> date:
    """Return the last day of ``month`` in ``year``."""
    if month == 12:
        return date(year, 12, 31)
    return date(year, month + 1, 1) - _ONE_DAY


def _shift_month(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def add_months(start: date, months: int) -> date:
    """Apply the corresponding-date rule: the same day-of-month ``months`` later (or earlier).

    When that day does not exist the result is clamped to the last day of the target
    month: 31 Dec + 2 months is 28 Feb (29 Feb in a leap year); 31 Jul - 5 months is
    28/29 Feb. ``months`` may be negative (reg 18(2): "at least five months before").
    """
    year, month = _shift_month(start.year, start.month, months)
    return date(year, month, min(start.day, last_day_of_month(year, month).day))


def end_of_months_starting_with(start: date, months: int) -> date:
    """Return the last day of "the period of ``months`` months starting with ``start``".

    ``start`` is day one, so the period ends the day before the corresponding date. When
    the corresponding day does not exist (``start`` is 29 Feb, or the 29th-31st of a
    month whose target month is shorter) the period ends on the last day of the target
    month instead, exactly as §1.2 prescribes: 12 months starting with 29 Feb 2028 end on
    28 Feb 2029, 12 months starting with 10 Mar 2026 end on 9 Mar 2027.
    """
    if months < 1:
        raise ValueError("a period of months must be at least one month long")
    year, month = _shift_month(start.year, start.month, months)
    month_end = last_day_of_month(year, month)
    if start.day > month_end.day:
        return month_end
    return date(year, month, start.day) - _ONE_DAY


# --------------------------------------------------------------------------- working days


@lru_cache(maxsize=256)
def _bank_holidays_for_year(year: int) -> frozenset[date]:
    # One table object per year, built on first use and cached, so importing this module
    # does no work and a long-running worker does not rebuild the table per call.
    table = holidays.country_holidays("GB", subdiv="ENG", years=year)
    if not table.start_year <= year <= table.end_year:
        # The library silently returns no holidays outside its range; counting working
        # days over such a year would quietly shorten every deadline, so refuse instead.
        raise ValueError(f"no England and Wales bank-holiday table for {year}")
    return frozenset(day for day in table if day.year == year)


def bank_holidays(year: int) -> frozenset[date]:
    """Return the England and Wales bank holidays of ``year``, substitute days included."""
    return _bank_holidays_for_year(year)


def is_bank_holiday(day: date) -> bool:
    """Return True when ``day`` is an England and Wales bank holiday (incl. substitute days)."""
    return day in _bank_holidays_for_year(day.year)


def is_working_day(day: date) -> bool:
    """Return True for Monday to Friday when the day is not a bank holiday (§1.1)."""
    return day.weekday() < 5 and not is_bank_holiday(day)


def next_working_day(day: date) -> date:
    """Return the first working day strictly after ``day``."""
    candidate = day + _ONE_DAY
    while not is_working_day(candidate):
        candidate += _ONE_DAY
    return candidate


def previous_working_day(day: date) -> date:
    """Return the last working day strictly before ``day``."""
    candidate = day - _ONE_DAY
    while not is_working_day(candidate):
        candidate -= _ONE_DAY
    return candidate


def nth_working_day_beginning_with(start: date, n: int) -> date:
    """Return the n-th working day of a period "beginning with" ``start`` (regs 15(2), 16).

    ``start`` is working day 1 when it is a working day; otherwise day 1 is the next
    working day. For example 15 working days beginning with Mon 14 Dec 2026 end on
    Wed 6 Jan 2027 (25 and 28 Dec 2026 and 1 Jan 2027 are bank holidays).
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    day = start if is_working_day(start) else next_working_day(start)
    for _ in range(n - 1):
        day = next_working_day(day)
    return day


def nth_working_day_after(start: date, n: int) -> date:
    """Return the n-th working day after ``start`` ("within N working days of X": X excluded)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    day = start
    for _ in range(n):
        day = next_working_day(day)
    return day


def count_working_days(first: date, last: date) -> int:
    """Count the working days from ``first`` to ``last``, both inclusive (0 if last < first)."""
    count = 0
    day = first
    while day <= last:
        if is_working_day(day):
            count += 1
        day += _ONE_DAY
    return count


# --------------------------------------------------------------------------- the Tribunal


def _in_christmas_band(day: date) -> bool:
    return (day.month == 12 and day.day >= 25) or (day.month == 1 and day.day == 1)


def is_tribunal_working_day(day: date) -> bool:
    """Return True for a day the Tribunal counts in an SEN case (§8.5).

    A working day that is not in 25 December to 1 January and not in August
    (HESC Rules r.12 as applied by IPSEA and the Tribunal).
    """
    return is_working_day(day) and not _in_christmas_band(day) and day.month != 8


def nth_tribunal_working_day_after(start: date, n: int) -> date:
    """Return the n-th Tribunal working day after ``start`` (``start`` excluded)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    day = start
    remaining = n
    while remaining:
        day += _ONE_DAY
        if is_tribunal_working_day(day):
            remaining -= 1
    return day


def tribunal_due_date(raw: date) -> date:
    """Apply the Tribunal's end-date rules to a raw appeal deadline (§8.5, HESC r.12).

    Reading of HESC r.12 (chosen, as statutory-rules.md §8.5 directs): r.12(3) says the
    days from 25 December to 1 January and the days in August "must not be counted" in
    an SEN case. Following IPSEA's published guidance and the Tribunal's practice we
    apply that as an *end-date extension*, not as a re-count of the whole period: a
    deadline that ends inside either band moves to the first working day after the band;
    otherwise a deadline ending on a non-working day moves to the next working day
    (r.12(2)). The branches are applied once, in the order §8.5 gives, so a raw date on
    a non-working day whose next working day happens to fall inside a band (e.g. Sat
    31 Jul -> Mon 2 Aug) stays on that next working day. That is the earlier of the two
    possible readings, which is the safe one for a family: filing by it is in time
    under either reading.
    """
    if _in_christmas_band(raw):
        year = raw.year + 1 if raw.month == 12 else raw.year
        return next_working_day(date(year, 1, 1))
    if raw.month == 8:
        return next_working_day(date(raw.year, 8, 31))
    if not is_working_day(raw):
        return next_working_day(raw)
    return raw
