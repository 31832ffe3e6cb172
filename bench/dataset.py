"""The benchmark data set of issue 8, written with a few set-based statements.

N campaigns over N/10 brands in zones on both sides of UTC (whole, half and
45-minute offsets); every campaign has one spend row dated its brand's today, about
half of them over a budget (own daily, own monthly, or one in ten brands'); 30 % have
dayparting, half of those with a window open now. Built with `INSERT … SELECT
generate_series`, so a million campaigns take seconds, not minutes.
"""

import datetime

from django.db import connection
from django.utils import timezone

from budget_system.timezones import local_date

ZONES = (
    "UTC",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Pacific/Kiritimati",
    "Europe/Paris",
    "Pacific/Chatham",
    "America/St_Johns",
    "Pacific/Pago_Pago",
    "Australia/Eucla",
)


def dataset_build(*, campaigns: int) -> dict[str, int]:
    """Empty the tables and build the data set; return the row counts."""
    brands = max(campaigns // 10, 1)
    now = timezone.now()
    todays = [local_date(now, name) for name in ZONES]
    weekdays = [day.weekday() for day in todays]
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE campaigns_campaignstatuschange, spend_spend, dayparting_daypartingschedule, "
            "campaigns_pendingbrand, campaigns_campaign, brands_brand RESTART IDENTITY CASCADE"
        )
        # One brand in twenty has a daily budget, another a monthly one, that its
        # campaigns' spend together reaches.
        cursor.execute(
            """
            INSERT INTO brands_brand (name, timezone, daily_budget, monthly_budget, created_at, updated_at)
            SELECT 'bench brand ' || b, (%s::text[])[1 + b %% %s],
                   CASE WHEN b %% 20 = 0 THEN 500.00 END, CASE WHEN b %% 20 = 10 THEN 4000.00 END, now(), now()
            FROM generate_series(0, %s - 1) AS b
            """,
            [list(ZONES), len(ZONES), brands],
        )
        cursor.execute(
            """
            INSERT INTO campaigns_campaign (brand_id, name, daily_budget, monthly_budget, status, pause_reason,
                                            is_dayparting_enabled, created_at, updated_at)
            SELECT 1 + i %% %s, 'bench campaign ' || i, 75.00, 1500.00, 'ACTIVE', '', i %% 10 < 3, now(), now()
            FROM generate_series(0, %s - 1) AS i
            """,
            [brands, campaigns],
        )
        # Spend dated each brand's today: every other campaign over its daily budget,
        # one in fourteen of those over its monthly one too.
        cursor.execute(
            """
            INSERT INTO spend_spend (campaign_id, date, daily_spend, monthly_spend, created_at, updated_at)
            SELECT c.id, z.today,
                   CASE WHEN c.id %% 2 = 0 THEN 80.00 ELSE 40.00 END,
                   CASE WHEN c.id %% 14 = 0 THEN 1600.00 ELSE 400.00 END, now(), now()
            FROM campaigns_campaign c
            JOIN brands_brand b ON b.id = c.brand_id
            JOIN unnest(%s::text[], %s::date[]) AS z(name, today) ON z.name = b.timezone
            """,
            [list(ZONES), todays],
        )
        # One window a day for dayparted campaigns: half open now (the whole of today in
        # the brand's zone), half closed (a window on another weekday).
        cursor.execute(
            """
            INSERT INTO dayparting_daypartingschedule (campaign_id, day_of_week, start_time, end_time, timezone)
            SELECT c.id, CASE WHEN c.id %% 2 = 0 THEN z.weekday ELSE (z.weekday + 3) %% 7 END,
                   '00:00', '00:00', b.timezone
            FROM campaigns_campaign c
            JOIN brands_brand b ON b.id = c.brand_id
            JOIN unnest(%s::text[], %s::int[]) AS z(name, weekday) ON z.name = b.timezone
            WHERE c.is_dayparting_enabled
            """,
            [list(ZONES), weekdays],
        )
        cursor.execute("ANALYZE")
        counts = {}
        for table in ("brands_brand", "campaigns_campaign", "spend_spend", "dayparting_daypartingschedule"):
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    return counts


def today_in(zone_name: str) -> datetime.date:
    return local_date(timezone.now(), zone_name)
