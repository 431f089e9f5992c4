"""Counting conventions of statutory-rules.md §1 and the Tribunal's roll rules (§8.5)."""

from datetime import date

import pytest

from core.timescales.calendar import (
    add_months,
    add_weeks,
    bank_holidays,
    count_working_days,
    end_of_months_starting_with,
    is_tribunal_working_day,
    is_working_day,
    next_working_day,
    nth_tribunal_working_day_after,
    nth_working_day_after,
    nth_working_day_beginning_with,
    previous_working_day,
    tribunal_due_date,
)

# --------------------------------------------------------------------------- bank holidays

EVERY_KIND_OF_BANK_HOLIDAY = [
    pytest.param(date(2026, 1, 1), id="new-year-thursday-2026"),
    pytest.param(date(2028, 1, 3), id="new-year-substitute-monday-2028"),
    pytest.param(date(2022, 1, 3), id="new-year-substitute-monday-2022"),
    pytest.param(date(2026, 4, 3), id="good-friday-2026"),
    pytest.param(date(2026, 4, 6), id="easter-monday-2026"),
    pytest.param(date(2026, 5, 4), id="early-may-2026"),
    pytest.param(date(2020, 5, 8), id="early-may-moved-to-ve-day-friday-2020"),
    pytest.param(date(2026, 5, 25), id="spring-2026"),
    pytest.param(date(2026, 8, 31), id="summer-2026"),
    pytest.param(date(2026, 12, 25), id="christmas-friday-2026"),
    pytest.param(date(2026, 12, 28), id="boxing-day-substitute-monday-2026"),
    pytest.param(date(2027, 12, 27), id="christmas-substitute-monday-2027"),
    pytest.param(date(2027, 12, 28), id="boxing-day-substitute-tuesday-2027"),
    pytest.param(date(2023, 5, 8), id="one-off-coronation-2023"),
]


@pytest.mark.parametrize("holiday", EVERY_KIND_OF_BANK_HOLIDAY)
def test_each_kind_of_bank_holiday_is_not_a_working_day(holiday: date) -> None:
    assert holiday.weekday() < 5  # all chosen holidays fall on weekdays
    assert not is_working_day(holiday)
    assert holiday in bank_holidays(holiday.year)


@pytest.mark.parametrize("holiday", EVERY_KIND_OF_BANK_HOLIDAY)
def test_counting_one_working_day_steps_over_each_kind_of_bank_holiday(holiday: date) -> None:
    day_before = previous_working_day(holiday)
    assert nth_working_day_after(day_before, 1) == next_working_day(holiday)
    assert nth_working_day_after(day_before, 1) > holiday


def test_ordinary_weekdays_are_working_days_and_weekends_are_not() -> None:
    assert is_working_day(date(2026, 1, 5))  # Monday
    assert is_working_day(date(2026, 1, 9))  # Friday
    assert not is_working_day(date(2026, 1, 10))  # Saturday
    assert not is_working_day(date(2026, 1, 11))  # Sunday


def test_christmas_2026_leaves_three_working_days_before_new_year() -> None:
    # Fri 25 Dec, Sat 26 Dec (Boxing Day), substitute Mon 28 Dec, then 29-31 Dec work.
    assert next_working_day(date(2026, 12, 24)) == date(2026, 12, 29)
    assert count_working_days(date(2026, 12, 21), date(2027, 1, 3)) == 4 + 3


def test_christmas_2027_substitute_days_fall_on_monday_and_tuesday() -> None:
    # Sat 25 and Sun 26 Dec 2027 move to Mon 27 and Tue 28 Dec.
    assert next_working_day(date(2027, 12, 24)) == date(2027, 12, 29)


def test_new_year_2028_on_a_saturday_moves_to_monday_3_january() -> None:
    assert next_working_day(date(2027, 12, 31)) == date(2028, 1, 4)


def test_easter_2026_weekend_is_four_days_off() -> None:
    assert previous_working_day(date(2026, 4, 7)) == date(2026, 4, 2)
    assert count_working_days(date(2026, 3, 30), date(2026, 4, 10)) == 8


def test_years_without_a_bank_holiday_table_are_refused() -> None:
    with pytest.raises(ValueError, match="bank-holiday table"):
        is_working_day(date(2150, 6, 3))


# --------------------------------------------------------------------------- weeks and months


def test_a_week_is_seven_calendar_days_whatever_the_holidays() -> None:
    assert add_weeks(date(2026, 12, 21), 2) == date(2027, 1, 4)


@pytest.mark.parametrize(("start", "months", "expected"), [
    pytest.param(date(2026, 1, 31), 1, date(2026, 2, 28), id="31-jan-plus-1-month"),
    pytest.param(date(2028, 1, 31), 1, date(2028, 2, 29), id="31-jan-plus-1-month-leap-year"),
    pytest.param(date(2026, 12, 31), 2, date(2027, 2, 28), id="31-dec-plus-2-months"),
    pytest.param(date(2027, 12, 31), 2, date(2028, 2, 29), id="31-dec-plus-2-months-into-2028"),
    pytest.param(date(2028, 2, 29), 12, date(2029, 2, 28), id="29-feb-plus-12-months"),
    pytest.param(date(2026, 10, 2), 2, date(2026, 12, 2), id="plain-corresponding-date"),
    pytest.param(date(2027, 7, 31), -5, date(2027, 2, 28), id="31-jul-minus-5-months"),
    pytest.param(date(2028, 7, 31), -5, date(2028, 2, 29), id="31-jul-minus-5-months-leap"),
    pytest.param(date(2027, 1, 15), -5, date(2026, 8, 15), id="minus-5-months-across-year"),
    pytest.param(date(2026, 3, 31), 1, date(2026, 4, 30), id="31-mar-plus-1-month"),
])
def test_months_use_the_corresponding_date_with_month_end_clamp(start: date, months: int,
                                                                 expected: date) -> None:
    assert add_months(start, months) == expected


@pytest.mark.parametrize(("start", "months", "expected"), [
    pytest.param(date(2026, 3, 10), 12, date(2027, 3, 9), id="ends-day-before-anniversary"),
    pytest.param(date(2026, 2, 10), 12, date(2027, 2, 9), id="example-9-backstop"),
    pytest.param(date(2028, 2, 29), 12, date(2029, 2, 28), id="starting-29-feb-ends-28-feb"),
    pytest.param(date(2027, 3, 1), 12, date(2028, 2, 29), id="starting-1-mar-ends-on-leap-day"),
    pytest.param(date(2027, 2, 28), 12, date(2028, 2, 27), id="starting-28-feb-ends-27-feb"),
    pytest.param(date(2026, 1, 1), 12, date(2026, 12, 31), id="calendar-year"),
    pytest.param(date(2027, 1, 6), 3, date(2027, 4, 5), id="three-months-from-transfer"),
    pytest.param(date(2026, 11, 30), 3, date(2027, 2, 28), id="no-30-feb-ends-month-end"),
    pytest.param(date(2026, 1, 31), 1, date(2026, 2, 28), id="no-31-feb-ends-month-end"),
])
def test_a_period_of_months_starting_with_x_ends_the_day_before_the_corresponding_date(
        start: date, months: int, expected: date) -> None:
    assert end_of_months_starting_with(start, months) == expected


def test_a_period_of_zero_months_is_refused() -> None:
    with pytest.raises(ValueError):
        end_of_months_starting_with(date(2026, 1, 1), 0)


# --------------------------------------------------------------------------- working-day periods


def test_beginning_with_a_working_day_counts_that_day_as_day_one() -> None:
    assert nth_working_day_beginning_with(date(2026, 1, 5), 1) == date(2026, 1, 5)
    assert nth_working_day_beginning_with(date(2026, 1, 5), 5) == date(2026, 1, 9)


def test_beginning_with_a_weekend_starts_counting_on_the_next_working_day() -> None:
    assert nth_working_day_beginning_with(date(2026, 1, 3), 1) == date(2026, 1, 5)
    # Good Friday 2026: day 1 is Tue 7 April (Easter Monday is a holiday too).
    assert nth_working_day_beginning_with(date(2026, 4, 3), 1) == date(2026, 4, 7)


def test_fifteen_working_days_beginning_with_14_dec_2026_end_on_6_jan_2027() -> None:
    # 14-18 Dec (5), 21-24 Dec (9), skip 25 and 28 Dec, 29-31 Dec (12), skip 1 Jan,
    # 4-6 Jan (15).
    assert nth_working_day_beginning_with(date(2026, 12, 14), 15) == date(2027, 1, 6)


def test_working_days_of_x_exclude_x_itself() -> None:
    # Thu 26 Nov 2026 + 3 working days: Fri 27, Mon 30, Tue 1 Dec.
    assert nth_working_day_after(date(2026, 11, 26), 3) == date(2026, 12, 1)


def test_working_day_counts_reject_non_positive_n() -> None:
    with pytest.raises(ValueError):
        nth_working_day_after(date(2026, 1, 5), 0)
    with pytest.raises(ValueError):
        nth_working_day_beginning_with(date(2026, 1, 5), 0)
    with pytest.raises(ValueError):
        nth_tribunal_working_day_after(date(2026, 1, 5), 0)


def test_counting_working_days_over_an_empty_range_gives_zero() -> None:
    assert count_working_days(date(2026, 1, 9), date(2026, 1, 8)) == 0


# --------------------------------------------------------------------------- the Tribunal


@pytest.mark.parametrize(("raw", "expected"), [
    pytest.param(date(2027, 1, 1), date(2027, 1, 4), id="1-jan-2027-goes-to-mon-4-jan"),
    pytest.param(date(2026, 12, 25), date(2027, 1, 4), id="christmas-day-goes-past-new-year"),
    pytest.param(date(2026, 12, 29), date(2027, 1, 4), id="working-day-inside-christmas-band"),
    pytest.param(date(2027, 12, 31), date(2028, 1, 4), id="band-then-substitute-new-year"),
    pytest.param(date(2026, 8, 14), date(2026, 9, 1), id="august-goes-to-1-sep"),
    pytest.param(date(2026, 8, 31), date(2026, 9, 1), id="summer-bank-holiday-in-august"),
    pytest.param(date(2027, 8, 2), date(2027, 9, 1), id="august-2027-to-wed-1-sep"),
    pytest.param(date(2026, 10, 17), date(2026, 10, 19), id="saturday-rolls-to-monday"),
    pytest.param(date(2026, 5, 25), date(2026, 5, 26), id="bank-holiday-rolls-to-tuesday"),
    pytest.param(date(2026, 12, 2), date(2026, 12, 2), id="working-day-stays"),
    # Documented reading: the branches apply once, so a weekend whose next working day is
    # in a band stays on that next working day (the earlier, family-safe date).
    pytest.param(date(2027, 7, 31), date(2027, 8, 2), id="sat-31-jul-rolls-to-mon-2-aug"),
    pytest.param(date(2022, 12, 24), date(2022, 12, 28), id="sat-24-dec-rolls-to-28-dec"),
])
def test_tribunal_roll_rules_follow_the_section_8_5_algorithm(raw: date, expected: date) -> None:
    assert tribunal_due_date(raw) == expected


def test_tribunal_working_days_exclude_christmas_band_and_august() -> None:
    assert is_working_day(date(2026, 12, 29))
    assert not is_tribunal_working_day(date(2026, 12, 29))
    assert not is_tribunal_working_day(date(2026, 8, 3))
    assert is_tribunal_working_day(date(2026, 9, 1))
    assert not is_tribunal_working_day(date(2026, 9, 5))  # Saturday


def test_thirty_tribunal_working_days_skip_all_of_august() -> None:
    # From Wed 1 Jul 2026: 22 working days in July (2-31 Jul), none in August,
    # then Tue 1 - Fri 4 Sep (26) and Mon 7 - Thu 10 Sep (30).
    assert nth_tribunal_working_day_after(date(2026, 7, 1), 30) == date(2026, 9, 10)
