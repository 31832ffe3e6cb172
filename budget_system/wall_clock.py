"""Instants of a zone's wall clock: when a local date, month or wall time begins.

Found from `zoneinfo`, never by adding a day to a local datetime: on a DST night a wall
time may not exist (the clock jumps past it) or exist twice (the clock goes back).
"""

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from budget_system.timezones import local_date, zone


def _wall(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None, fold=0)


def first_instant_at_wall(tz: ZoneInfo, day: date, wall: time) -> datetime:
    """The first instant (UTC) at which the wall clock of `tz` reads `day` `wall` or later.

    For a wall time that exists this is its first occurrence; for one skipped by a DST
    jump it is the instant of the jump.
    """
    naive = datetime.combine(day, wall)
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if _wall(first, tz) == naive:
        return first
    # In a gap: fold=1 reads it with the offset after the jump (an instant before the
    # jump), fold=0 with the offset before it (an instant after). The jump lies between.
    before = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    return _first_second(before, first, lambda instant: _wall(instant, tz) >= naive)


def _first_second(low: datetime, high: datetime, reached) -> datetime:
    """The first whole second in (low, high] at which `reached` holds (it holds at high)."""
    low_second, high_second = int(low.timestamp()), int(high.timestamp())
    while high_second - low_second > 1:
        middle = (low_second + high_second) // 2
        if reached(datetime.fromtimestamp(middle, UTC)):
            high_second = middle
        else:
            low_second = middle
    return datetime.fromtimestamp(high_second, UTC)


def second_occurrence(tz: ZoneInfo, day: date, wall: time) -> datetime | None:
    """The instant of the second pass through a wall time repeated on a fall-back night."""
    naive = datetime.combine(day, wall)
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    second = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    return second if second != first and _wall(second, tz) == naive else None


def next_local_midnight(after: datetime, timezone_name: str) -> datetime:
    """The first instant after `after` at which the zone's local date is a new day."""
    return first_instant_at_wall(zone(timezone_name), local_date(after, timezone_name) + timedelta(days=1), time(0))


def next_month_start(after: datetime, timezone_name: str) -> datetime:
    """The first instant after `after` at which the zone's local date is the 1st of a new month."""
    today = local_date(after, timezone_name)
    first = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    return first_instant_at_wall(zone(timezone_name), first, time(0))


def transitions_on(tz: ZoneInfo, day: date) -> Iterator[datetime]:
    """The instant the zone's UTC offset changes on `day`, if it does (one a day at most)."""
    start = first_instant_at_wall(tz, day, time(0))
    end = first_instant_at_wall(tz, day + timedelta(days=1), time(0))
    if start.astimezone(tz).utcoffset() == end.astimezone(tz).utcoffset():
        return
    offset = start.astimezone(tz).utcoffset()
    yield _first_second(start, end, lambda instant: instant.astimezone(tz).utcoffset() != offset)
