"""Windows read as a timetable (dayparting/schedule.py): next opening and closing, the week grid.

Checked against the rule's own `any_window_contains`, minute by minute, on DST weeks.
"""

import datetime
import random

import pytest

from budget_system.timezones import zone
from budget_system.wall_clock import first_instant_at_wall, next_local_midnight, next_month_start
from dayparting.schedule import next_window_change, week_grids, window_label
from dayparting.windows import Window, any_window_contains

UTC = datetime.UTC


def utc(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)


def t(hour: int, minute: int = 0) -> datetime.time:
    return datetime.time(hour, minute)


def test_a_window_opening_inside_a_spring_forward_gap_opens_when_the_clock_jumps():
    # New York, Sunday 8 Mar 2026: 02:00 EST jumps to 03:00 EDT (07:00 UTC).
    window = Window(6, t(2, 30), t(5), "America/New_York")
    assert next_window_change([window], after=utc(2026, 3, 7, 12)) == utc(2026, 3, 8, 7, 0)


def test_a_window_inside_a_spring_forward_gap_never_opens_that_night():
    # 02:00-03:00 does not exist on that Sunday: the next opening is a week later.
    window = Window(6, t(2), t(3), "America/New_York")
    assert next_window_change([window], after=utc(2026, 3, 7, 12)) == utc(2026, 3, 15, 6, 0)


def test_a_window_on_a_fall_back_night_closes_and_opens_again_on_the_second_pass():
    # New York, Sunday 1 Nov 2026: 01:00-01:30 happens twice (EDT, then EST).
    window = Window(6, t(1), t(1, 30), "America/New_York")
    opens = next_window_change([window], after=utc(2026, 10, 31, 12))
    closes = next_window_change([window], after=opens)
    reopens = next_window_change([window], after=closes)
    assert (opens, closes, reopens) == (utc(2026, 11, 1, 5, 0), utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 0))
    assert next_window_change([window], after=reopens) == utc(2026, 11, 1, 6, 30)


def test_an_overnight_window_closes_the_next_morning():
    # Friday 22:00-02:00 in Sydney (UTC+11 in November): closes Saturday 02:00 = Friday 15:00 UTC.
    window = Window(4, t(22), t(2), "Australia/Sydney")
    opens = next_window_change([window], after=utc(2026, 11, 24))
    assert opens == utc(2026, 11, 27, 11, 0)
    assert next_window_change([window], after=opens) == utc(2026, 11, 27, 15, 0)


def test_no_windows_never_open_and_a_whole_week_never_closes():
    assert next_window_change([], after=utc(2026, 11, 24)) is None
    whole_week = [Window(day, t(0), t(0), "UTC") for day in range(7)]
    assert next_window_change(whole_week, after=utc(2026, 11, 24)) is None


WEEKS = [utc(2026, 3, 6), utc(2026, 3, 27), utc(2026, 10, 23), utc(2026, 10, 30), utc(2026, 9, 4)]
ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Australia/Sydney", "America/Santiago", "Asia/Kathmandu"]


@pytest.mark.parametrize("seed", range(12))
def test_next_change_agrees_with_the_rule_minute_by_minute_over_dst_weeks(seed):
    rng = random.Random(seed)
    windows = [
        Window(rng.randrange(7), t(rng.randrange(24), rng.choice([0, 15, 30])), t(rng.randrange(24)), rng.choice(ZONES))
        for _ in range(rng.randint(1, 3))
    ]
    start = rng.choice(WEEKS)
    minute = datetime.timedelta(minutes=1)
    instant = start
    while instant < start + datetime.timedelta(days=8):
        change = next_window_change(windows, after=instant)
        state = any_window_contains(windows, instant)
        scan = instant + minute
        while scan < instant + datetime.timedelta(days=9) and any_window_contains(windows, scan) == state:
            scan += minute
        if change is None:
            assert any_window_contains(windows, scan) == state
            break
        # The change falls within the minute the scan found it in, and holds at that instant.
        assert scan - minute < change <= scan, (windows, instant)
        assert any_window_contains(windows, change) != state
        instant = change


def test_midnights_and_month_starts_are_read_from_the_zone():
    assert next_local_midnight(utc(2026, 11, 24, 9), "Pacific/Kiritimati") == utc(2026, 11, 24, 10)
    assert next_month_start(utc(2026, 12, 31, 10), "Pacific/Auckland") == utc(2026, 12, 31, 11)
    assert next_month_start(utc(2026, 12, 31, 12), "Pacific/Auckland") == utc(2027, 1, 31, 11)
    # Santiago's Sunday 6 Sep 2026 starts at 01:00: its first instant is the jump.
    assert first_instant_at_wall(zone("America/Santiago"), datetime.date(2026, 9, 6), t(0)) == utc(2026, 9, 6, 4)


# --- The week grid -----------------------------------------------------------------------------


def cells(grid, weekday: int) -> list[int]:
    return [cell.minutes_open for cell in grid.rows[weekday][1]]


def test_the_grid_draws_an_overnight_window_across_midnight():
    friday_night = Window(4, t(22), t(2), "Europe/Berlin")
    [grid] = week_grids([friday_night], now=utc(2026, 11, 24, 12))
    assert grid.timezone == "Europe/Berlin"
    assert cells(grid, 4)[20:] == [0, 0, 60, 60]
    assert cells(grid, 5)[:4] == [60, 60, 0, 0]
    assert grid.rows[5][1][0].labels == ("Fri 22:00–02:00 (next day)",)


def test_a_sunday_overnight_window_runs_into_monday():
    [grid] = week_grids([Window(6, t(23), t(1), "UTC")], now=utc(2026, 11, 24, 12))
    assert cells(grid, 6)[23] == 60
    assert cells(grid, 0)[0] == 60


def test_the_grid_fills_part_hours_and_marks_now_in_the_windows_zone():
    window = Window(1, t(9, 30), t(17), "Asia/Tokyo")
    # 01:00 UTC on Tuesday 24 Nov is 10:00 in Tokyo.
    [grid] = week_grids([window], now=utc(2026, 11, 24, 1))
    tuesday = grid.rows[1][1]
    assert [c.fill for c in tuesday[8:11]] == ["empty", "part", "full"]
    assert tuesday[9].minutes_open == 30
    assert [c.hour for c in tuesday if c.is_now] == [10]
    assert grid.open_now is True


def test_windows_in_two_zones_get_a_grid_each():
    grids = week_grids(
        [Window(0, t(9), t(17), "UTC"), Window(0, t(9), t(17), "America/New_York")], now=utc(2026, 11, 24)
    )
    assert [grid.timezone for grid in grids] == ["America/New_York", "UTC"]


def test_window_labels_are_24_hour():
    assert window_label(Window(2, t(13, 5), t(21, 45), "UTC")) == "Wed 13:05–21:45"
    assert window_label(Window(0, t(0), t(0), "UTC")) == "Mon 00:00–00:00 (whole day)"
