"""How long `check_all_campaign_budgets` takes, on PostgreSQL.

    python bench/enforcement.py [--campaigns 10000] [--brands 50] [--runs 5]

Builds the data in its own database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/budget_system_bench, created and emptied here),
then prints the time and query count of: a sweep that pauses about a third of the
campaigns, the median of steady sweeps that change nothing, and a sweep that
resumes them all after the budgets are raised.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import create_database  # noqa: E402  (after the path is set)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/budget_system_bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--campaigns", type=int, default=10_000)
    parser.add_argument("--brands", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if args.campaigns < 1 or args.brands < 1 or args.runs < 1:
        parser.error("--campaigns, --brands and --runs must be at least 1")

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "budget_system.test_settings")
    os.environ["DJANGO_LOG_LEVEL"] = "WARNING"
    create_database(url)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    build(args.campaigns, args.brands)
    measure(args.campaigns, args.runs)


def build(campaign_count: int, brand_count: int) -> None:
    import datetime
    from decimal import Decimal

    from django.utils import timezone

    from brands.models import Brand
    from budget_system.timezones import local_date
    from campaigns.models import Campaign
    from dayparting.models import DaypartingSchedule
    from spend.models import Spend

    Brand.objects.all().delete()
    zones = ["UTC", "America/Los_Angeles", "Asia/Kolkata", "Asia/Kathmandu", "Pacific/Kiritimati", "Europe/Paris"]
    brands = Brand.objects.bulk_create(
        Brand(name=f"bench brand {i}", timezone=zones[i % len(zones)], monthly_budget=Decimal("100000000"))
        for i in range(brand_count)
    )
    campaigns = Campaign.objects.bulk_create(
        (
            Campaign(
                brand=brands[i % brand_count],
                name=f"bench campaign {i}",
                daily_budget=Decimal("75.00"),
                monthly_budget=Decimal("1500.00"),
                is_dayparting_enabled=i % 10 == 0,
            )
            for i in range(campaign_count)
        ),
        batch_size=5000,
    )
    now = timezone.now()
    rows, windows = [], []
    for i, campaign in enumerate(campaigns):
        today = local_date(now, campaign.brand.timezone)
        month_to_date = Decimal("0")
        for back in range(6, -1, -1):
            day = today - datetime.timedelta(days=back)
            if day.month != today.month:
                continue
            daily = Decimal("80.00") if (back == 0 and i % 3 == 0) else Decimal("40.00")
            month_to_date += daily
            rows.append(Spend(campaign=campaign, date=day, daily_spend=daily, monthly_spend=month_to_date))
        if campaign.is_dayparting_enabled:
            windows.append(
                DaypartingSchedule(
                    campaign=campaign,
                    day_of_week=today.weekday(),
                    start_time=datetime.time(0),
                    end_time=datetime.time(0),
                    timezone=campaign.brand.timezone,
                )
            )
    Spend.objects.bulk_create(rows, batch_size=10_000)
    DaypartingSchedule.objects.bulk_create(windows, batch_size=10_000)
    print(f"data: {campaign_count} campaigns, {brand_count} brands, {len(rows)} spend rows, {len(windows)} windows")


def timed_sweep() -> tuple[float, int, dict]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from campaigns.tasks import check_all_campaign_budgets

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        summary = check_all_campaign_budgets()
        elapsed = time.perf_counter() - started
    return elapsed, len(queries), summary


def measure(campaign_count: int, runs: int) -> None:
    from decimal import Decimal

    from campaigns.models import Campaign

    elapsed, queries, summary = timed_sweep()
    print(f"first sweep (pauses): {elapsed * 1000:.0f} ms, {queries} queries, {summary}")
    steady = [timed_sweep() for _ in range(runs)]
    print(
        f"steady sweep (no change), median of {runs}: "
        f"{statistics.median(t for t, _, _ in steady) * 1000:.0f} ms, {steady[0][1]} queries, {steady[0][2]}"
    )
    Campaign.objects.update(daily_budget=Decimal("1000.00"))
    elapsed, queries, summary = timed_sweep()
    print(f"sweep after raising budgets (resumes): {elapsed * 1000:.0f} ms, {queries} queries, {summary}")


if __name__ == "__main__":
    main()
