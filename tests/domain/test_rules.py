"""Statutory and scheduling date rules, checked against worked examples written out by hand."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Any

import pytest

from app.domain import rules
from app.domain.errors import ValidationError
from app.domain.rules import (
    BankHolidayTable,
    CivilOrderTable,
    ContactFrequencyTable,
    DueItem,
    MopiRetentionTable,
    WorkingCalendar,
    add_months,
    add_years,
    change_notification_due,
    closure_reviews,
    contact_frequency_days,
    due_status,
    foreign_travel_notice_due,
    initial_notification_due,
    load_reference,
    next_contact_due,
    notification_end,
    notification_period,
    order_schedule,
    parse_bank_holidays,
    parse_civil_orders,
    parse_contact_frequency,
    parse_mopi_retention,
    period_last_day,
    reference_dir,
    referral_target_due,
    renotification_dates,
    renotification_due,
    retention_next_review,
)

D = date


@pytest.fixture(scope="module")
def holidays() -> BankHolidayTable:
    return parse_bank_holidays(load_reference("bank_holidays_ew"))


@pytest.fixture(scope="module")
def cal(holidays: BankHolidayTable) -> WorkingCalendar:
    return WorkingCalendar.from_table(holidays)


@pytest.fixture(scope="module")
def orders() -> CivilOrderTable:
    return parse_civil_orders(load_reference("civil_orders"))


@pytest.fixture(scope="module")
def contacts() -> ContactFrequencyTable:
    return parse_contact_frequency(load_reference("contact_frequency"))


@pytest.fixture(scope="module")
def mopi() -> MopiRetentionTable:
    return parse_mopi_retention(load_reference("mopi_retention"))


# --- month and year arithmetic --------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (D(2025, 1, 31), 1, D(2025, 2, 28)),
        (D(2028, 1, 31), 1, D(2028, 2, 29)),
        (D(2025, 3, 31), -1, D(2025, 2, 28)),
        (D(2025, 1, 31), 3, D(2025, 4, 30)),
        (D(2025, 11, 30), 3, D(2026, 2, 28)),
        (D(2025, 12, 15), 1, D(2026, 1, 15)),
        (D(2026, 1, 15), -1, D(2025, 12, 15)),
        (D(2025, 5, 31), 13, D(2026, 6, 30)),
        (D(2025, 6, 10), 0, D(2025, 6, 10)),
    ],
)
def test_add_months_clamps_to_month_end(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    ("start", "years", "expected"),
    [
        (D(2028, 2, 29), 1, D(2029, 2, 28)),
        (D(2028, 2, 29), 4, D(2032, 2, 29)),
        (D(2024, 2, 29), -1, D(2023, 2, 28)),
        (D(2025, 3, 1), 3, D(2028, 3, 1)),
    ],
)
def test_add_years_moves_29_february_to_28th(start: date, years: int, expected: date) -> None:
    assert add_years(start, years) == expected


def test_add_months_accepts_a_datetime_and_returns_a_date() -> None:
    assert add_months(datetime(2025, 1, 31, 16, 45), 1) == D(2025, 2, 28)
    assert type(add_months(datetime(2025, 1, 31, 16, 45), 1)) is date


def test_add_months_out_of_range_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        add_months(D(9999, 12, 1), 1)


@pytest.mark.parametrize(
    ("start", "months", "last_day"),
    [
        (D(2025, 1, 15), 12, D(2026, 1, 14)),
        (D(2025, 1, 28), 1, D(2025, 2, 27)),
        (D(2025, 1, 31), 1, D(2025, 2, 28)),
        (D(2025, 3, 1), 1, D(2025, 3, 31)),
        (D(2028, 2, 29), 120, D(2038, 2, 28)),
        (D(2028, 2, 29), 48, D(2032, 2, 28)),
    ],
)
def test_period_beginning_with_start_ends_the_day_before_the_corresponding_date(
    start: date, months: int, last_day: date
) -> None:
    assert period_last_day(start, months) == last_day


# --- bank holidays --------------------------------------------------------------------------


def _dates_in(table: BankHolidayTable, year: int) -> dict[date, str]:
    return {h.date: h.title for h in table.holidays if h.date.year == year}


def test_bank_holiday_file_is_versioned_and_covers_2015_to_2032(
    holidays: BankHolidayTable,
) -> None:
    assert holidays.version
    assert "gov.uk" in holidays.source.lower()
    assert (holidays.first_year, holidays.last_year) == (2015, 2032)
    assert {h.date.year for h in holidays.holidays} == set(range(2015, 2033))


def test_years_after_the_last_announced_year_are_marked_computed(
    holidays: BankHolidayTable,
) -> None:
    for h in holidays.holidays:
        assert h.computed == (h.date.year > holidays.last_announced_year)


def test_every_bank_holiday_is_a_weekday_and_each_year_has_the_right_count(
    holidays: BankHolidayTable,
) -> None:
    assert all(h.date.weekday() < 5 for h in holidays.holidays)
    counts = Counter(h.date.year for h in holidays.holidays)
    # 2022: jubilee and state funeral added; 2023: coronation added.
    expected = {y: 8 for y in range(2015, 2033)} | {2022: 10, 2023: 9}
    assert counts == expected


def test_easter_2027_and_2024(holidays: BankHolidayTable) -> None:
    y2027 = _dates_in(holidays, 2027)
    assert y2027[D(2027, 3, 26)] == "Good Friday"
    assert y2027[D(2027, 3, 29)] == "Easter Monday"
    y2024 = _dates_in(holidays, 2024)
    assert y2024[D(2024, 3, 29)] == "Good Friday"
    assert y2024[D(2024, 4, 1)] == "Easter Monday"


def test_easter_monday_in_every_year(holidays: BankHolidayTable) -> None:
    # The day after each Easter Sunday in the published tables.
    expected = [
        D(2015, 4, 6), D(2016, 3, 28), D(2017, 4, 17), D(2018, 4, 2), D(2019, 4, 22),
        D(2020, 4, 13), D(2021, 4, 5), D(2022, 4, 18), D(2023, 4, 10), D(2024, 4, 1),
        D(2025, 4, 21), D(2026, 4, 6), D(2027, 3, 29), D(2028, 4, 17), D(2029, 4, 2),
        D(2030, 4, 22), D(2031, 4, 14), D(2032, 3, 29),
    ]  # fmt: skip
    assert sorted(h.date for h in holidays.holidays if h.title == "Easter Monday") == expected
    good_fridays = sorted(h.date for h in holidays.holidays if h.title == "Good Friday")
    assert [(m - f).days for f, m in zip(good_fridays, expected, strict=True)] == [3] * 18


def test_christmas_on_a_saturday_gives_27_and_28_december(holidays: BankHolidayTable) -> None:
    assert D(2027, 12, 25).weekday() == 5
    y = _dates_in(holidays, 2027)
    assert D(2027, 12, 25) not in y
    assert y[D(2027, 12, 27)] == "Christmas Day"
    assert y[D(2027, 12, 28)] == "Boxing Day"


def test_christmas_on_a_sunday_gives_26_and_27_december(holidays: BankHolidayTable) -> None:
    y = _dates_in(holidays, 2022)
    assert y[D(2022, 12, 26)] == "Boxing Day"
    assert y[D(2022, 12, 27)] == "Christmas Day"


def test_christmas_on_a_friday_moves_boxing_day_to_monday(holidays: BankHolidayTable) -> None:
    y = _dates_in(holidays, 2020)
    assert D(2020, 12, 25) in y
    assert y[D(2020, 12, 28)] == "Boxing Day"


def test_new_year_at_a_weekend_is_kept_on_the_monday(holidays: BankHolidayTable) -> None:
    assert _dates_in(holidays, 2022)[D(2022, 1, 3)] == "New Year’s Day"
    assert _dates_in(holidays, 2028)[D(2028, 1, 3)] == "New Year’s Day"


def test_one_off_holidays(holidays: BankHolidayTable) -> None:
    all_dates = holidays.dates()
    assert D(2020, 5, 8) in all_dates  # VE day: early May moved from Monday 4 May
    assert D(2020, 5, 4) not in all_dates
    assert {D(2022, 6, 2), D(2022, 6, 3)} <= all_dates  # jubilee; spring moved from 30 May
    assert D(2022, 5, 30) not in all_dates
    assert D(2022, 9, 19) in all_dates  # state funeral
    assert {D(2023, 5, 1), D(2023, 5, 8)} <= all_dates  # early May and the coronation


# --- working days ---------------------------------------------------------------------------


def test_working_day_tests(cal: WorkingCalendar) -> None:
    assert cal.is_working_day(D(2027, 12, 29))
    assert not cal.is_working_day(D(2027, 12, 27))  # Christmas substitute
    assert not cal.is_working_day(D(2027, 12, 25))  # Saturday
    assert not cal.is_working_day(D(2027, 3, 26))  # Good Friday


def test_five_working_days_across_easter_2027(cal: WorkingCalendar) -> None:
    # Thu 25 Mar; Fri 26 and Mon 29 are holidays: Tue 30 (1), Wed 31 (2), Thu 1 (3), Fri 2 (4),
    # Mon 5 Apr (5).
    assert cal.add_working_days(D(2027, 3, 25), 5) == D(2027, 4, 5)
    assert cal.working_days_between(D(2027, 3, 25), D(2027, 4, 5)) == 5


def test_five_working_days_across_christmas_2027(cal: WorkingCalendar) -> None:
    # Wed 22 Dec: Thu 23 (1), Fri 24 (2), Mon 27 and Tue 28 holidays, Wed 29 (3), Thu 30 (4),
    # Fri 31 (5).
    assert cal.add_working_days(D(2027, 12, 22), 5) == D(2027, 12, 31)
    # Fri 24 Dec: Wed 29 (1), Thu 30 (2), Fri 31 (3), Mon 3 Jan 2028 holiday, Tue 4 (4), Wed 5 (5).
    assert cal.add_working_days(D(2027, 12, 24), 5) == D(2028, 1, 5)
    assert cal.working_days_between(D(2027, 12, 24), D(2028, 1, 5)) == 5


def test_working_days_from_a_weekend_and_backwards(cal: WorkingCalendar) -> None:
    assert cal.add_working_days(D(2025, 6, 7), 5) == D(2025, 6, 13)  # Saturday start
    assert cal.add_working_days(D(2025, 6, 7), 0) == D(2025, 6, 7)
    assert cal.add_working_days(D(2027, 3, 30), -1) == D(2027, 3, 25)
    assert cal.working_days_between(D(2027, 4, 5), D(2027, 3, 25)) == -5
    assert cal.working_days_between(D(2025, 6, 6), D(2025, 6, 9)) == 1  # Fri to Mon
    assert cal.working_days_between(D(2025, 6, 6), D(2025, 6, 6)) == 0


def test_working_days_between_inverts_add_working_days(cal: WorkingCalendar) -> None:
    start = D(2019, 12, 1)
    for offset in range(0, 400, 7):
        day = date.fromordinal(start.toordinal() + offset)
        for n in (1, 5, 23, 260):
            assert cal.working_days_between(day, cal.add_working_days(day, n)) == n


def test_calendar_reports_years_its_data_does_not_cover(cal: WorkingCalendar) -> None:
    assert cal.covers(D(2032, 12, 31))
    assert not cal.covers(D(2033, 1, 1))
    assert WorkingCalendar([]).covers(D(2099, 1, 1))


# --- notification requirements --------------------------------------------------------------

THIRTY = "30 years: sentence of 10 years or more"
FIFTEEN = "15 years: sentence of 5 years to under 10"
TEN = "10 years: sentence under 5 years"


@pytest.mark.parametrize(
    ("months", "years", "rule"),
    [
        (120, 30, THIRTY),  # exactly 10 years
        (119, 15, FIFTEEN),  # 9 years 11 months
        (60, 15, FIFTEEN),  # exactly 5 years
        (59, 10, TEN),  # 4 years 11 months
        (12, 10, TEN),
        (240, 30, THIRTY),
    ],
)
def test_notification_period_bands_by_months(months: int, years: int, rule: str) -> None:
    period = notification_period(months)
    assert (period.years, period.rule_text) == (years, rule)


@pytest.mark.parametrize(
    ("days", "years"),
    [(1826, 15), (1825, 10), (3652, 30), (3651, 15), (365, 10)],
)
def test_notification_period_bands_by_days(days: int, years: int) -> None:
    assert notification_period(sentence_days=days).years == years


def test_notification_period_for_life() -> None:
    assert notification_period(life=True).years == 30


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"sentence_months": 60, "sentence_days": 1826}, {"sentence_months": -1}],
)
def test_notification_period_needs_one_valid_sentence(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        notification_period(**kwargs)


def test_notification_end_is_the_last_day_of_the_period() -> None:
    assert notification_end(D(2025, 3, 10), notification_period(24)) == D(2035, 3, 9)
    assert notification_end(D(2024, 2, 29), notification_period(60)) == D(2039, 2, 28)
    assert notification_end(D(2025, 1, 1), notification_period(150)) == D(2054, 12, 31)


def test_three_day_windows_count_the_event_day_as_day_one() -> None:
    assert initial_notification_due(D(2025, 3, 10)) == D(2025, 3, 12)  # Mon -> Wed
    # Calendar days: no extension over Christmas.
    assert initial_notification_due(D(2025, 12, 24)) == D(2025, 12, 26)
    assert change_notification_due(D(2028, 2, 28)) == D(2028, 3, 1)  # through 29 Feb
    assert change_notification_due(D(2027, 2, 27)) == D(2027, 3, 1)
    assert initial_notification_due(datetime(2025, 3, 10, 23, 0)) == D(2025, 3, 12)


def test_yearly_renotification() -> None:
    assert renotification_due(D(2025, 6, 30)) == D(2026, 6, 30)
    assert renotification_due(D(2028, 2, 29)) == D(2029, 2, 28)
    assert renotification_dates(D(2025, 3, 10), D(2028, 3, 9)) == [D(2026, 3, 10), D(2027, 3, 10)]
    assert renotification_dates(D(2025, 3, 10), D(2028, 3, 10))[-1] == D(2028, 3, 10)
    assert renotification_dates(D(2028, 2, 29), D(2033, 1, 1)) == [
        D(2029, 2, 28),
        D(2030, 2, 28),
        D(2031, 2, 28),
        D(2032, 2, 29),
    ]
    assert renotification_dates(D(2025, 3, 10), D(2025, 12, 31)) == []


def test_foreign_travel_notice_is_due_before_leaving() -> None:
    assert foreign_travel_notice_due(D(2025, 8, 1)) == D(2025, 7, 25)
    assert foreign_travel_notice_due(D(2025, 8, 1), notice_days=1) == D(2025, 7, 31)


# --- civil orders ---------------------------------------------------------------------------


def test_tpim_runs_a_year_with_quarterly_reviews(orders: CivilOrderTable) -> None:
    s = order_schedule("tpim", D(2025, 1, 15), table=orders)
    assert s.end == D(2026, 1, 14)
    assert s.review_dates == (D(2025, 4, 15), D(2025, 7, 15), D(2025, 10, 15))
    assert s.rule_text.startswith("TPIM notice: 1 year")
    assert "reviewed every 3 months" in s.rule_text
    assert "extendable to 5 years" in s.rule_text


def test_tpim_reviews_from_a_month_end_do_not_drift(orders: CivilOrderTable) -> None:
    s = order_schedule("TPIM notice", D(2025, 11, 30), table=orders)
    assert s.end == D(2026, 11, 29)
    assert s.review_dates == (D(2026, 2, 28), D(2026, 5, 30), D(2026, 8, 30))


def test_extended_tpim_keeps_reviewing_and_is_capped_at_five_years(
    orders: CivilOrderTable,
) -> None:
    s = order_schedule("tpim", D(2025, 1, 15), D(2027, 1, 14), table=orders)
    assert s.review_dates[3:] == (D(2026, 1, 15), D(2026, 4, 15), D(2026, 7, 15), D(2026, 10, 15))
    assert order_schedule("tpim", D(2025, 1, 15), D(2030, 1, 14), table=orders).end == D(
        2030, 1, 14
    )
    with pytest.raises(ValidationError) as err:
        order_schedule("tpim", D(2025, 1, 15), D(2030, 1, 15), table=orders)
    assert err.value.field == "end"


def test_ftro_six_months_renewable(orders: CivilOrderTable) -> None:
    s = order_schedule("FTRO", D(2025, 3, 10), table=orders)
    assert (s.end, s.review_dates) == (D(2025, 9, 9), ())
    assert "6 months" in s.rule_text and "renewable" in s.rule_text
    # From 31 Aug the corresponding date (31 Feb) is missing: the order runs through 28 Feb.
    assert order_schedule("ftro", D(2025, 8, 31), table=orders).end == D(2026, 2, 28)


def test_scpo_up_to_five_years(orders: CivilOrderTable) -> None:
    assert order_schedule("SCPO", D(2025, 4, 1), table=orders).end == D(2030, 3, 31)
    court = order_schedule("Terrorism Prevention order", D(2025, 4, 1), D(2027, 4, 1), table=orders)
    assert court.end == D(2027, 4, 1)
    assert court.order_type == "scpo"
    assert court.rule_text.endswith("end as entered (at most 5 years)")
    with pytest.raises(ValidationError):
        order_schedule("scpo", D(2025, 4, 1), D(2030, 4, 1), table=orders)


def test_teo_two_years(orders: CivilOrderTable) -> None:
    assert order_schedule("TEO", D(2025, 6, 1), table=orders).end == D(2027, 5, 31)


def test_notification_order_needs_an_end(orders: CivilOrderTable) -> None:
    with pytest.raises(ValidationError):
        order_schedule("notification_order", D(2025, 6, 1), table=orders)
    s = order_schedule("Part 4 notification order", D(2025, 6, 1), D(2035, 5, 31), table=orders)
    assert s.end == D(2035, 5, 31)


def test_order_input_errors(orders: CivilOrderTable) -> None:
    with pytest.raises(ValidationError) as err:
        order_schedule("control order", D(2025, 6, 1), table=orders)
    assert err.value.field == "order_type"
    with pytest.raises(ValidationError):
        order_schedule("tpim", D(2025, 6, 1), D(2025, 5, 31), table=orders)


# --- contact plan ---------------------------------------------------------------------------


def test_contact_frequency_by_status_and_risk(contacts: ContactFrequencyTable) -> None:
    assert contacts.unverified
    assert contact_frequency_days("community", "high", contacts) == 14
    assert contact_frequency_days("community", "medium", contacts) == 28
    assert contact_frequency_days("Community", " LOW ", contacts) == 56
    assert contact_frequency_days("custody", "high", contacts) == 28
    assert contact_frequency_days("community", "low", contacts, override=7) == 7
    assert contact_frequency_days("deceased", None, contacts) is None
    assert contact_frequency_days("closed", "high", contacts, override=7) is None


@pytest.mark.parametrize(
    ("status", "risk", "override"),
    [("remand", "high", None), ("community", "extreme", None), ("community", None, None),
     ("community", "high", 0)],
)  # fmt: skip
def test_contact_frequency_bad_input(
    contacts: ContactFrequencyTable, status: str, risk: str | None, override: int | None
) -> None:
    with pytest.raises(ValidationError):
        contact_frequency_days(status, risk, contacts, override)


def test_next_contact_due() -> None:
    assert next_contact_due(D(2025, 2, 20), 14, D(2025, 1, 1)) == D(2025, 3, 6)
    assert next_contact_due(D(2028, 2, 20), 14, D(2028, 1, 1)) == D(2028, 3, 5)
    assert next_contact_due(None, 28, D(2025, 1, 1)) == D(2025, 1, 29)
    assert next_contact_due(datetime(2025, 2, 20, 15, 30), 14, D(2025, 1, 1)) == D(2025, 3, 6)
    assert next_contact_due(D(2025, 2, 20), None, D(2025, 1, 1)) is None


# --- Prevent --------------------------------------------------------------------------------


def test_referral_target_across_bank_holidays(cal: WorkingCalendar) -> None:
    assert referral_target_due(D(2027, 3, 25), calendar=cal) == D(2027, 4, 5)
    assert referral_target_due(datetime(2027, 12, 24, 17, 5), calendar=cal) == D(2028, 1, 5)
    assert referral_target_due(D(2025, 6, 9), 10, calendar=cal) == D(2025, 6, 23)
    with pytest.raises(ValidationError):
        referral_target_due(D(2025, 6, 9), 0, calendar=cal)


@pytest.mark.parametrize(
    ("closed", "six", "twelve"),
    [
        (D(2025, 8, 31), D(2026, 2, 28), D(2026, 8, 31)),
        (D(2027, 8, 31), D(2028, 2, 29), D(2028, 8, 31)),
        (D(2025, 3, 31), D(2025, 9, 30), D(2026, 3, 31)),
        (D(2025, 6, 15), D(2025, 12, 15), D(2026, 6, 15)),
    ],
)
def test_closure_reviews_at_six_and_twelve_months(closed: date, six: date, twelve: date) -> None:
    assert closure_reviews(closed) == (six, twelve)


# --- MOPI retention -------------------------------------------------------------------------


def test_mopi_table_is_unverified_and_has_three_groups(mopi: MopiRetentionTable) -> None:
    assert mopi.unverified
    assert sorted(mopi.groups) == [1, 2, 3]


def test_mopi_groups_2_and_3_review_periodically(mopi: MopiRetentionTable) -> None:
    due, text = retention_next_review(3, None, D(2025, 4, 10), mopi)
    assert due == D(2031, 4, 10)
    assert text.startswith("Group 3: review every 6 years")
    assert retention_next_review("2", D(1990, 1, 1), D(2024, 2, 29), mopi).due == D(2034, 2, 28)


def test_mopi_group_1_reviews_every_ten_years_until_age_100(mopi: MopiRetentionTable) -> None:
    assert retention_next_review(1, D(1960, 5, 1), D(2025, 1, 1), mopi).due == D(2035, 1, 1)
    # 100th birthday (15 Jun 2030) comes before the 10-year review (1 Jan 2035).
    review = retention_next_review(1, D(1930, 6, 15), D(2025, 1, 1), mopi)
    assert review.due == D(2030, 6, 15)
    assert "age 100" in review.rule_text
    assert retention_next_review(1, D(1928, 2, 29), D(2025, 1, 1), mopi).due == D(2028, 2, 29)
    # Already past 100 and retained on review: the 10-year cycle resumes.
    assert retention_next_review(1, D(1920, 1, 1), D(2021, 1, 1), mopi).due == D(2031, 1, 1)


def test_mopi_group_1_without_a_date_of_birth(mopi: MopiRetentionTable) -> None:
    review = retention_next_review(1, None, D(2025, 1, 1), mopi)
    assert review.due == D(2035, 1, 1)
    assert "date of birth unknown" in review.rule_text


@pytest.mark.parametrize(
    ("group", "dob"), [(4, None), ("x", None), (1, D(2026, 1, 1))]
)  # fmt: skip
def test_mopi_bad_input(mopi: MopiRetentionTable, group: int | str, dob: date | None) -> None:
    with pytest.raises(ValidationError):
        retention_next_review(group, dob, D(2025, 1, 1), mopi)


# --- due items ------------------------------------------------------------------------------


def test_due_kinds_match_the_calendar_contract() -> None:
    assert set(rules.DUE_KINDS) == {
        "contact_due", "notification_due", "order_expiry", "order_review", "licence_date",
        "referral_review", "retention_review", "meeting", "action_due",
    }  # fmt: skip


def test_due_item_checks_its_kind_and_serialises() -> None:
    item = DueItem(D(2025, 6, 10), "contact_due", "N-1", "Home visit")
    assert item.as_dict() == {
        "date": "2025-06-10",
        "kind": "contact_due",
        "ref": "N-1",
        "title": "Home visit",
    }
    with pytest.raises(ValidationError):
        DueItem(D(2025, 6, 10), "birthday", "N-1", "x")  # type: ignore[arg-type]


def test_items_serialise_in_bulk_exactly_as_one_by_one() -> None:
    items = [DueItem(D(2025, 6, 10 + n % 3), "contact_due", f"NM-{n:06d}", f"t{n}")
             for n in range(10)]
    items.append(DueItem(D(2024, 2, 29), "meeting", "MTG-000001", "Leap-day meeting"))
    bulk = rules.due_items_as_dicts(items)
    assert bulk == [i.as_dict() for i in items]
    assert [list(d) for d in bulk] == [list(i.as_dict()) for i in items]  # key order too
    assert rules.due_items_as_dicts([]) == []


@pytest.mark.parametrize(
    ("due", "lead", "status"),
    [
        (D(2025, 6, 9), 14, "overdue"),
        (D(2025, 6, 10), 14, "due_soon"),
        (D(2025, 6, 24), 14, "due_soon"),
        (D(2025, 6, 25), 14, "later"),
        (D(2025, 6, 11), 0, "later"),
        (D(2025, 6, 10), 0, "due_soon"),
    ],
)
def test_due_status(due: date, lead: int, status: str) -> None:
    assert due_status(due, D(2025, 6, 10), lead) == status


def test_due_status_refuses_negative_lead() -> None:
    with pytest.raises(ValidationError):
        due_status(D(2025, 6, 10), D(2025, 6, 10), -1)


# --- reference loading and parsing ----------------------------------------------------------


def test_every_reference_file_is_versioned() -> None:
    for name in ("bank_holidays_ew", "contact_frequency", "civil_orders", "mopi_retention"):
        assert (reference_dir() / f"{name}.json").is_file()
        assert load_reference(name)["version"]


@pytest.mark.parametrize("name", ["../pyproject", "Bank", "a/b", ""])
def test_load_reference_refuses_odd_names(name: str) -> None:
    with pytest.raises(ValidationError):
        load_reference(name)


def test_parse_functions_name_the_bad_field() -> None:
    with pytest.raises(ValidationError) as err:
        parse_contact_frequency(
            {
                "version": "t",
                "risk_levels": ["high", "low"],
                "statuses": {"community": {"days": {"high": 14}}},
            }
        )
    assert err.value.field == "contact_frequency.statuses.community.days.low"
    with pytest.raises(ValidationError) as err:
        parse_civil_orders(
            {"version": "t", "orders": {"x": {"label": "X", "default_months": 7, "max_months": 6}}}
        )
    assert err.value.field == "civil_orders.orders.x.default_months"
    with pytest.raises(ValidationError) as err:
        parse_bank_holidays(
            {
                "version": "t",
                "source": "s",
                "first_year": 2025,
                "last_year": 2025,
                "last_announced_year": 2025,
                "events": [{"date": "2025-13-01", "title": "x", "status": "announced"}],
            }
        )
    assert err.value.field == "bank_holidays_ew.events[0].date"
    with pytest.raises(ValidationError):
        parse_mopi_retention({"version": "t", "groups": {"1": {"label": "x"}}})
