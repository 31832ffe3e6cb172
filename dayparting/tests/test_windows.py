"""Dayparting windows as pure functions: wall-clock time in the window's own timezone."""

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from dayparting.windows import Window, any_window_contains, window_contains

MON, TUE, FRI, SAT, SUN = 0, 1, 4, 5, 6
NEW_YORK = ZoneInfo("America/New_York")


def at(tz: str, *args) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(tz))


@pytest.mark.parametrize(
    ("local", "inside"),
    [
        ((2026, 11, 23, 8, 59), False),  # Monday, a minute before
        ((2026, 11, 23, 9, 0), True),  # opens at start_time
        ((2026, 11, 23, 16, 59), True),
        ((2026, 11, 23, 17, 0), False),  # end is exclusive
        ((2026, 11, 24, 10, 0), False),  # Tuesday
    ],
)
def test_same_day_window_is_start_inclusive_end_exclusive(local, inside):
    window = Window(MON, time(9), time(17), "UTC")
    assert window_contains(window, at("UTC", *local)) is inside


@pytest.mark.parametrize(
    ("local", "inside"),
    [
        ((2026, 11, 27, 21, 59), False),  # Friday before it opens
        ((2026, 11, 27, 22, 0), True),  # Friday 22:00
        ((2026, 11, 27, 23, 59), True),
        ((2026, 11, 28, 0, 0), True),  # past midnight: Saturday
        ((2026, 11, 28, 1, 59), True),
        ((2026, 11, 28, 2, 0), False),  # Saturday 02:00, exclusive
        ((2026, 11, 28, 22, 30), False),  # Saturday night is not Friday's window
        ((2026, 11, 21, 1, 0), True),  # the Saturday a week earlier, same window
    ],
)
def test_overnight_window_runs_into_the_next_weekday(local, inside):
    window = Window(FRI, time(22), time(2), "UTC")
    assert window_contains(window, at("UTC", *local)) is inside


def test_sunday_overnight_window_wraps_into_monday():
    window = Window(SUN, time(23), time(1), "UTC")
    assert window_contains(window, at("UTC", 2026, 11, 30, 0, 30))  # Monday 00:30
    assert not window_contains(window, at("UTC", 2026, 11, 30, 1, 0))


@pytest.mark.parametrize("hour", [0, 6, 12, 23])
def test_midnight_to_midnight_is_the_whole_day(hour):
    window = Window(TUE, time(0), time(0), "UTC")
    assert window_contains(window, at("UTC", 2026, 11, 24, hour, 59))
    assert not window_contains(window, at("UTC", 2026, 11, 25, hour, 0))  # Wednesday
    assert not window_contains(window, at("UTC", 2026, 11, 23, hour, 0))  # Monday


def test_several_windows_a_day_and_overlaps():
    windows = [
        Window(MON, time(6), time(9), "UTC"),
        Window(MON, time(8), time(10), "UTC"),
        Window(MON, time(18), time(20), "UTC"),
    ]
    assert any_window_contains(windows, at("UTC", 2026, 11, 23, 9, 30))
    assert not any_window_contains(windows, at("UTC", 2026, 11, 23, 12, 0))
    assert any_window_contains(windows, at("UTC", 2026, 11, 23, 19, 0))
    assert not any_window_contains([], at("UTC", 2026, 11, 23, 19, 0))


def test_window_is_read_in_its_own_timezone_not_utc():
    window = Window(MON, time(9), time(17), "Asia/Tokyo")
    # 00:30 UTC Monday is 09:30 Monday in Tokyo.
    assert window_contains(window, datetime(2026, 11, 23, 0, 30, tzinfo=UTC))
    # 09:30 UTC Monday is 18:30 in Tokyo: closed.
    assert not window_contains(window, datetime(2026, 11, 23, 9, 30, tzinfo=UTC))


def test_spring_forward_sunday_follows_the_wall_clock():
    # 2026-03-08: New York clocks jump from 02:00 EST to 03:00 EDT.
    morning = Window(SUN, time(1), time(4), "America/New_York")
    missing_hour = Window(SUN, time(2), time(3), "America/New_York")
    before_jump = datetime(2026, 3, 8, 6, 59, tzinfo=UTC)  # 01:59 EST
    after_jump = datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # 03:00 EDT
    assert before_jump.astimezone(NEW_YORK).hour == 1 and after_jump.astimezone(NEW_YORK).hour == 3
    assert window_contains(morning, before_jump) and window_contains(morning, after_jump)
    # 02:00-03:00 does not exist that night: no instant falls in it.
    assert not window_contains(missing_hour, before_jump)
    assert not window_contains(missing_hour, after_jump)
    # The window ends at 04:00 EDT = 08:00 UTC, only three real hours after it opened.
    assert window_contains(morning, datetime(2026, 3, 8, 7, 59, tzinfo=UTC))
    assert not window_contains(morning, datetime(2026, 3, 8, 8, 0, tzinfo=UTC))


def test_fall_back_sunday_covers_the_repeated_hour_twice():
    # 2026-11-01: New York clocks go back from 02:00 EDT to 01:00 EST.
    repeated_hour = Window(SUN, time(1), time(2), "America/New_York")
    first_pass = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT
    second_pass = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)  # 01:30 EST
    assert window_contains(repeated_hour, first_pass)
    assert window_contains(repeated_hour, second_pass)
    assert not window_contains(repeated_hour, datetime(2026, 11, 1, 7, 0, tzinfo=UTC))  # 02:00 EST
