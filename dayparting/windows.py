"""Is an instant inside a campaign's dayparting windows? Pure functions, no database.

A window is read as wall-clock time in its own timezone. It opens at `start_time` on
`day_of_week` (0 = Monday) and closes, exclusive, at `end_time` the same day when
`end_time > start_time`, otherwise the next day: Friday 22:00-02:00 runs into Saturday,
and 00:00-00:00 is the whole day.

Comparing wall-clock readings (not adding durations) is what makes DST right: on a
spring-forward night a window of 02:00-03:00 covers no instant at all, and on a
fall-back night 01:00-02:00 covers both passes through that hour.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time

from budget_system.timezones import zone


@dataclass(frozen=True)
class Window:
    day_of_week: int
    start_time: time
    end_time: time
    timezone: str

    @property
    def is_overnight(self) -> bool:
        return self.end_time <= self.start_time


def window_contains(window: Window, now: datetime) -> bool:
    local = now.astimezone(zone(window.timezone))
    weekday = local.weekday()
    wall_clock = local.time().replace(tzinfo=None, fold=0)
    if not window.is_overnight:
        return weekday == window.day_of_week and window.start_time <= wall_clock < window.end_time
    opening_day = weekday == window.day_of_week and wall_clock >= window.start_time
    next_day = weekday == (window.day_of_week + 1) % 7 and wall_clock < window.end_time
    return opening_day or next_day


def any_window_contains(windows: Iterable[Window], now: datetime) -> bool:
    return any(window_contains(window, now) for window in windows)
