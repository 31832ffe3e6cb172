"""How long the console's list pages take over 100,000 campaigns, on PostgreSQL.

    python bench/admin_lists.py [--campaigns 100000] [--brands 1000] [--runs 7] [--reuse]

Builds the data with seed_data's fast path (`demo_data_create`: bulk inserts, spend by
COPY, then the rule applied) in its own database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/budget_system_bench_admin, dropped and created here;
`--reuse` keeps data of the same size from an earlier run). Then requests each page
through Django's test client as a logged-in superuser (the whole view: queries, the
explanations, template rendering) and prints the median time and the query count.
The target is under 300 ms a page.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import create_database, recreate_database  # noqa: E402  (after the path is set)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/budget_system_bench_admin"
TARGET_MS = 300


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--campaigns", type=int, default=100_000)
    parser.add_argument("--brands", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--reuse", action="store_true", help="keep the data of an earlier run of the same size")
    args = parser.parse_args()
    if args.campaigns < 1 or args.brands < 1 or args.runs < 1:
        parser.error("--campaigns, --brands and --runs must be at least 1")

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "budget_system.test_settings")
    os.environ["DJANGO_LOG_LEVEL"] = "WARNING"
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    (create_database if args.reuse else recreate_database)(url)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    build(args.campaigns, args.brands, reuse=args.reuse)
    measure(args.runs)


def build(campaign_count: int, brand_count: int, *, reuse: bool) -> None:
    from decimal import Decimal

    from django.db import connection

    from campaigns.demo_data import demo_data_create
    from campaigns.models import Campaign

    if reuse and Campaign.objects.count() == campaign_count:
        print(f"data: reusing {campaign_count} campaigns")
        return
    started = time.perf_counter()
    summary = demo_data_create(
        brands=brand_count,
        campaigns=campaign_count,
        spend_days=7,
        daily_budget=Decimal("75"),
        monthly_budget=Decimal("1500"),
        brand_daily_budget=Decimal(75 * campaign_count // brand_count),
        brand_monthly_budget=Decimal(1500 * campaign_count // brand_count),
        seed=100_000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"data ({time.perf_counter() - started:.0f} s): {summary.line()}")


def measure(runs: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from brands.models import Brand
    from campaigns.models import Campaign

    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    campaigns = reverse("admin:campaigns_campaign_changelist")
    brand = Brand.objects.order_by("id").first()
    campaign = Campaign.objects.filter(status=Campaign.Status.PAUSED_BY_SYSTEM).order_by("id").first()
    pages = {
        "campaign list, first page": campaigns,
        "campaign list, page 500": f"{campaigns}?p=500",
        "campaign list, paused by system": f"{campaigns}?status__exact=PAUSED_BY_SYSTEM",
        "campaign list, sorted by name": f"{campaigns}?o=1",
        "campaign list, search 'sale'": f"{campaigns}?q=sale",
        "campaign list, one brand": f"{campaigns}?brand__id__exact={brand.pk}",
        "brand list": reverse("admin:brands_brand_changelist"),
        "status change list": reverse("admin:campaigns_campaignstatuschange_changelist"),
        "campaign page": reverse("admin:campaigns_campaign_change", args=[campaign.pk]),
    }
    print(f"{'page':<36} {'median ms':>10} {'max ms':>8} {'queries':>8}")
    slow = []
    for name, url in pages.items():
        client.get(url)  # warm the caches and PostgreSQL's buffers
        timings = []
        for _ in range(runs):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")
        median = statistics.median(timings)
        print(f"{name:<36} {median:>10.0f} {max(timings):>8.0f} {len(queries):>8}")
        if median >= TARGET_MS:
            slow.append(name)
    print(f"target: under {TARGET_MS} ms a page; " + (f"over it: {', '.join(slow)}" if slow else "all under it"))


if __name__ == "__main__":
    main()
