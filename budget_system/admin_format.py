"""How the console writes money, percentages, local times and budget bars.

Money is USD with two places and thousands separators; times are 24-hour, in the zone
that decides them (a brand's, a window's), with the zone named and UTC on hover.
"""

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from django.utils.html import format_html
from django.utils.safestring import SafeString

from budget_system.timezones import timezone_names, zone

NO_LIMIT = "no limit"


def money(value: object) -> str:
    """'$1,234.50' from a Decimal, a number or the text an audit row stores; '' for empty."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return f"${amount:,.2f}"


def budget_text(value: object) -> str:
    return NO_LIMIT if value is None or value == "" else money(value)


def local_time_text(instant: datetime, timezone_name: str, *, with_date: bool = True, with_year: bool = True) -> str:
    """'Tue 24 Nov 2026 13:00 CET' in the zone (abbreviation as the IANA data has it).

    A zone name outside the IANA database (a row written straight to the table) reads as UTC.
    """
    local = instant.astimezone(zone(timezone_name) if timezone_name in timezone_names() else UTC)
    if not with_date:
        return local.strftime("%H:%M %Z")
    return local.strftime("%a %-d %b %Y %H:%M %Z" if with_year else "%a %-d %b %H:%M %Z")


def utc_text(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def local_time(
    instant: datetime | None, timezone_name: str, *, with_date: bool = True, with_year: bool = True
) -> SafeString | str:
    """A <time> element in the zone's wall clock, UTC in its tooltip."""
    if instant is None:
        return ""
    return format_html(
        '<time datetime="{}" title="{} · {}">{}</time>',
        instant.astimezone(UTC).isoformat(),
        utc_text(instant),
        timezone_name,
        local_time_text(instant, timezone_name, with_date=with_date, with_year=with_year),
    )


def usage_bar(*, label: str, spend: Decimal, budget: Decimal | None, percent: Decimal | None, level: str) -> SafeString:
    """'$62.50 / $75.00 83 %' over a small bar: amber from 80 %, red once reached.

    `label` names the figure in a panel ("Campaign today"); a list column leaves it empty.
    """
    caption = format_html('<span class="usage-label">{}</span> ', label) if label else ""
    if budget is None:
        return format_html(
            '<div class="usage usage-none">{}{} <span class="usage-muted">/ {}</span></div>',
            caption,
            money(spend),
            NO_LIMIT,
        )
    return format_html(
        '<div class="usage usage-{}" title="{}{} of {} ({} %)">{}{} <span class="usage-muted">/ {}</span> '
        '<strong>{} %</strong><span class="usage-bar"><span style="width: {}%"></span></span></div>',
        level,
        f"{label}: " if label else "",
        money(spend),
        money(budget),
        percent,
        caption,
        money(spend),
        money(budget),
        percent,
        min(int(percent), 100),
    )
