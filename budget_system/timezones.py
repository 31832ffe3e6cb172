"""Calendars: IANA timezone names and a brand's local date.

The standard library's `zoneinfo` reads the IANA database (the `tzdata` package
supplies it where the OS has none); pytz is not used anywhere.
"""

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from django.core.exceptions import ValidationError


@lru_cache(maxsize=1)
def timezone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def validate_timezone_name(value: str) -> None:
    """Refuse anything that is not a name in the IANA timezone database."""
    if value not in timezone_names():
        raise ValidationError(
            "%(value)r is not a known IANA timezone name (for example 'UTC' or 'Europe/Paris').",
            code="unknown_timezone",
            params={"value": value},
        )


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_date(now: datetime, timezone_name: str) -> date:
    """The calendar date at instant `now` in the given zone."""
    return now.astimezone(zone(timezone_name)).date()


def month_start(day: date) -> date:
    return day.replace(day=1)
