"""A campaign's windows read as a timetable: when they next open or close, and as a week.

Pure functions over `dayparting.windows.Window`, no database. Whether a window is open
at an instant is always asked of `any_window_contains`, the rule's own reading, so what
this module says about the future is what the rule will say then.

A window's state can only change when the wall clock of its zone reaches its start or
end time, or jumps (a DST transition). So the next change is found by listing those
instants, day by day, and asking the rule at each: no stepping minute by minute, and
DST nights come out right (a 02:30 opening on a spring-forward night happens at 03:00,
when the clock jumps past it; a 01:30 one on a fall-back night happens twice).
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from budget_system.timezones import local_date, zone
from budget_system.wall_clock import first_instant_at_wall, second_occurrence, transitions_on
from dayparting.windows import Window, any_window_contains

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
# A weekly schedule repeats within 7 days; one more covers an overnight window and a
# DST night at either end.
SEARCH_DAYS = 9
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _boundaries_on(windows: Sequence[Window], day_offset: int, after: datetime) -> set[datetime]:
    """The instants on one local day (counted from `after`'s) where a window may open or close."""
    by_zone: dict[str, set[time]] = defaultdict(set)
    for window in windows:
        by_zone[window.timezone].update((window.start_time, window.end_time))
    instants: set[datetime] = set()
    for name, walls in by_zone.items():
        tz = zone(name)
        day = local_date(after, name) + timedelta(days=day_offset)
        for wall in walls:
            instants.add(first_instant_at_wall(tz, day, wall))
            if (second := second_occurrence(tz, day, wall)) is not None:
                instants.add(second)
        instants.update(transitions_on(tz, day))
    return instants


def next_window_change(windows: Iterable[Window], *, after: datetime) -> datetime | None:
    """The first instant after `after` at which the windows open (if closed then) or close (if open).

    None when that never happens within a week: no windows (never open), windows that
    cover the whole week (never closed), or only windows that fall in a DST gap.
    """
    windows = list(windows)
    if not windows:
        return None
    open_now = any_window_contains(windows, after)
    # All days at once, in UTC order: a later local day of one zone may come before an
    # earlier local day of another.
    boundaries = sorted(
        {instant for offset in range(-1, SEARCH_DAYS) for instant in _boundaries_on(windows, offset, after)}
    )
    for instant in boundaries:
        if instant > after and any_window_contains(windows, instant) != open_now:
            return instant
    return None


# --- The week as a grid -----------------------------------------------------------------


@dataclass(frozen=True)
class GridCell:
    weekday: int
    hour: int
    # Minutes of this hour inside a window (0-60), and the windows that cover any of it.
    minutes_open: int
    labels: tuple[str, ...]
    is_now: bool = False

    @property
    def fill(self) -> str:
        if self.minutes_open == 60:
            return "full"
        return "part" if self.minutes_open else "empty"


@dataclass(frozen=True)
class WeekGrid:
    """The windows of one zone drawn on a Monday-to-Sunday, 00-23 grid of that zone's wall clock."""

    timezone: str
    rows: tuple[tuple[str, tuple[GridCell, ...]], ...]  # (weekday name, 24 cells)
    open_now: bool
    local_now: datetime


def window_label(window: Window) -> str:
    """'Fri 22:00–02:00 (next day)' in 24-hour time."""
    label = f"{WEEKDAY_NAMES[window.day_of_week][:3]} {window.start_time:%H:%M}–{window.end_time:%H:%M}"
    if window.is_overnight and window.start_time != window.end_time:
        label += " (next day)"
    elif window.start_time == window.end_time:
        label += " (whole day)"
    return label


def _minutes_of(window: Window) -> range:
    """The window as minutes of the week from Monday 00:00 (may run past Sunday 24:00)."""
    start = window.day_of_week * MINUTES_PER_DAY + window.start_time.hour * 60 + window.start_time.minute
    end = window.day_of_week * MINUTES_PER_DAY + window.end_time.hour * 60 + window.end_time.minute
    if window.is_overnight:
        end += MINUTES_PER_DAY
    return range(start, end)


def week_grids(windows: Iterable[Window], *, now: datetime) -> list[WeekGrid]:
    """One grid per zone used by the windows, each hour cell filled by the minutes it is open.

    Drawn from the schedule's wall-clock times (an overnight window fills the evening of
    its day and the morning of the next; Sunday night runs into Monday); "open now" is
    the rule's own reading at `now`.
    """
    by_zone: dict[str, list[Window]] = defaultdict(list)
    for window in windows:
        by_zone[window.timezone].append(window)
    grids = []
    for name in sorted(by_zone):
        zone_windows = sorted(by_zone[name], key=lambda w: (w.day_of_week, w.start_time, w.end_time))
        open_minutes = [False] * MINUTES_PER_WEEK
        labels_by_cell: dict[int, list[str]] = defaultdict(list)
        for window in zone_windows:
            label = window_label(window)
            for minute in _minutes_of(window):
                open_minutes[minute % MINUTES_PER_WEEK] = True
                cell = (minute % MINUTES_PER_WEEK) // 60
                if not labels_by_cell[cell] or labels_by_cell[cell][-1] != label:
                    labels_by_cell[cell].append(label)
        local_now = now.astimezone(zone(name))
        now_cell = local_now.weekday() * 24 + local_now.hour
        rows = []
        for weekday in range(7):
            cells = []
            for hour in range(24):
                index = weekday * 24 + hour
                cells.append(
                    GridCell(
                        weekday=weekday,
                        hour=hour,
                        minutes_open=sum(open_minutes[index * 60 : index * 60 + 60]),
                        labels=tuple(dict.fromkeys(labels_by_cell.get(index, ()))),
                        is_now=index == now_cell,
                    )
                )
            rows.append((WEEKDAY_NAMES[weekday], tuple(cells)))
        grids.append(
            WeekGrid(
                timezone=name,
                rows=tuple(rows),
                open_now=any_window_contains(zone_windows, now),
                local_now=local_now,
            )
        )
    return grids
