"""Rows of the demo data: spend written with COPY (or `bulk_create`), dayparting windows.

`campaigns/demo_data.py` decides what to write; these build and write the rows.
"""

import io
import random
from collections.abc import Sequence
from datetime import date, datetime, time

from django.db import connection

from campaigns.demo_spend import money
from dayparting.models import DaypartingSchedule
from spend.models import Spend

BATCH_SIZE = 5000


# (campaign id, date, daily spend in cents, month-to-date spend in cents)
SpendRow = tuple[int, date, int, int]


def copy_supported() -> bool:
    return connection.vendor == "postgresql"


def spend_insert(rows: Sequence[SpendRow], *, now: datetime) -> None:
    """Write spend rows: COPY on PostgreSQL, `bulk_create` elsewhere.

    Spend is thirty rows per campaign by default, most of what is written; building
    millions of model instances for `bulk_create` alone takes longer than the whole
    minute a benchmark-sized run allows, while COPY takes seconds. The rows are the
    same either way (tests compare the two paths).
    """
    if not rows:
        return
    if not copy_supported():
        Spend.objects.bulk_create(
            (
                Spend(campaign_id=campaign_id, date=day, daily_spend=money(daily), monthly_spend=money(monthly))
                for campaign_id, day, daily, monthly in rows
            ),
            batch_size=BATCH_SIZE,
        )
        return
    # Cents as text with two places: exact, and no Decimal per value. No value holds a
    # tab, newline or backslash, so COPY's text format needs no escaping.
    stamps = "\t" + now.isoformat() + "\t" + now.isoformat() + "\n"
    iso_dates = {day: day.isoformat() for day in {row[1] for row in rows}}
    data = "".join(
        f"{campaign_id}\t{iso_dates[day]}\t{daily // 100}.{daily % 100:02d}\t"
        f"{monthly // 100}.{monthly % 100:02d}{stamps}"
        for campaign_id, day, daily, monthly in rows
    )
    quote = connection.ops.quote_name
    fields = [Spend._meta.get_field(name) for name in ("campaign", "date", "daily_spend", "monthly_spend")]
    fields += [Spend._meta.get_field("created_at"), Spend._meta.get_field("updated_at")]
    sql = f"COPY {quote(Spend._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) FROM STDIN"
    with connection.cursor() as cursor:
        raw = cursor.cursor
        if hasattr(raw, "copy_expert"):  # psycopg2
            raw.copy_expert(sql, io.StringIO(data))
        else:  # psycopg 3
            with raw.copy(sql) as copy:
                copy.write(data)


def dayparting_windows(
    rng: random.Random, campaign_id: int, tz: str, *, open_at: datetime | None = None
) -> list[DaypartingSchedule]:
    """Two daytime windows on different days and one overnight window (e.g. Fri 22:00-02:00).

    With `open_at` (a local time in `tz`) the first daytime window is on that weekday
    and spans that time, so the campaign is inside a window then.
    """
    days = rng.sample(range(7), 2)
    hours = []
    for _ in days:
        start = rng.randint(6, 11)
        hours.append((time(start), time(start + rng.randint(6, 10))))
    if open_at is not None:
        days[0] = open_at.weekday()
        if days[1] == days[0]:
            days[1] = (days[1] + 1) % 7
        end_hour = open_at.hour + rng.randint(2, 6)
        # A daytime window ends the same day: 23:59 at the latest.
        hours[0] = (time(max(0, open_at.hour - rng.randint(1, 4))), time(end_hour) if end_hour < 24 else time(23, 59))
    windows = [
        DaypartingSchedule(campaign_id=campaign_id, day_of_week=day, start_time=start, end_time=end, timezone=tz)
        for day, (start, end) in zip(days, hours, strict=True)
    ]
    windows.append(
        DaypartingSchedule(
            campaign_id=campaign_id,
            day_of_week=rng.randrange(7),
            start_time=time(rng.randint(20, 23)),
            end_time=time(rng.randint(1, 4)),
            timezone=tz,
        )
    )
    return windows
