"""Today, as a council in England counts it.

Statutory days are days in England: between midnight and 1 a.m. in summer the UTC date is
still yesterday's. Every "today" in the domain comes from here (or is injected, in tests).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def today() -> dt.date:
    return dt.datetime.now(LONDON).date()


def academic_year_group(date_of_birth: dt.date, on: dt.date) -> int:
    """The National Curriculum year group on ``on`` (Reception = 0, Year 9 = 9, ...).

    A child starts Reception in the academic year (1 September to 31 August) in which they
    turn 5, so their year group is their age on the coming 31 August, minus 5. Children born
    on 1 September are the oldest of their year.
    """
    year_end = dt.date(on.year + (1 if on.month >= 9 else 0), 8, 31)
    age = year_end.year - date_of_birth.year - ((year_end.month, year_end.day) < (date_of_birth.month, date_of_birth.day))
    return age - 5
