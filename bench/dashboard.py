"""How long the dashboard (the admin's front page) takes to load, on PostgreSQL.

    python bench/dashboard.py [--campaigns 100000] [--brands 1000] [--spend-days 30] [--runs 7]
                              [--rebuild] [--explain]

Builds the data with `seed_data` (the demo's shapes: every pause reason, brand budgets,
a day of history) in its own database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/budget_system_bench_dashboard). The data is kept
between runs when the database already holds that many brands, campaigns and spend
rows; --rebuild empties it and builds it again. Then it prints the median and the range
of the dashboard's figures, and of the whole page (GET /admin/, logged in): with no
day's total cached (as once an hour), with the day before read again (as every 5
minutes) and warm; with the number of queries. With
--explain it prints EXPLAIN (ANALYZE, BUFFERS) of each of the figures' queries.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import create_database  # noqa: E402  (after the path is set)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/budget_system_bench_dashboard"
BENCH_USER = "bench-ops"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--campaigns", type=int, default=100_000)
    parser.add_argument("--brands", type=int, default=1_000)
    parser.add_argument("--spend-days", type=int, default=30)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--rebuild", action="store_true", help="empty the database and build the data again")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN (ANALYZE, BUFFERS) of each query")
    args = parser.parse_args()
    if args.campaigns < 1 or args.brands < 1 or args.runs < 1 or args.spend_days < 1:
        parser.error("--campaigns, --brands, --spend-days and --runs must be at least 1")

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "budget_system.test_settings")
    os.environ["DJANGO_LOG_LEVEL"] = "WARNING"
    create_database(url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's host name, and no e-mail sent
    call_command("migrate", verbosity=0)
    if args.rebuild or not holds(args.brands, args.campaigns, args.spend_days):
        build(args.brands, args.campaigns, args.spend_days)
    else:
        print(f"Reusing {args.brands} brands, {args.campaigns} campaigns (--rebuild to build again).")
    measure(args.runs, explain=args.explain)


def holds(brands: int, campaigns: int, spend_days: int) -> bool:
    from brands.models import Brand
    from campaigns.models import Campaign
    from spend.models import Spend

    return (
        Brand.objects.count() == brands
        and Campaign.objects.count() == campaigns
        and Spend.objects.count() == campaigns * spend_days
    )


def build(brands: int, campaigns: int, spend_days: int) -> None:
    from io import StringIO

    from django.core.management import call_command
    from django.db import connection

    from brands.models import Brand
    from campaigns.models import CampaignStatusChange

    with connection.cursor() as cursor:
        # The audit trail has no foreign keys (it outlives deletions): named on its own.
        # TRUNCATE: deleting millions of spend rows through the ORM would take minutes.
        cursor.execute(f"TRUNCATE {Brand._meta.db_table}, {CampaignStatusChange._meta.db_table} CASCADE")
    out = StringIO()
    started = time.perf_counter()
    call_command(
        "seed_data",
        brands=brands,
        campaigns=campaigns,
        spend_days=spend_days,
        seed=1,
        stdout=out,
    )
    print(f"seed_data --brands={brands} --campaigns={campaigns} --spend-days={spend_days}: "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    print(f"  {out.getvalue().strip()}")
    with connection.cursor() as cursor:
        # What autovacuum would have done by the time anyone looks at a dashboard.
        cursor.execute("VACUUM ANALYZE")


def measure(runs: int, *, explain: bool) -> None:
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from campaigns.dashboard import dashboard_figures, settled_day_key

    user_model = get_user_model()
    user = user_model.objects.filter(username=BENCH_USER).first() or user_model.objects.create_superuser(
        username=BENCH_USER, email="bench@example.com", password=None
    )
    client = Client()
    client.force_login(user)

    def figures() -> None:
        dashboard_figures(now=timezone.now())

    def page() -> None:
        response = client.get("/admin/")
        assert response.status_code == 200, response.status_code

    def day_before_key() -> str:
        earliest_today = min(day for day, _ in dashboard_figures(now=timezone.now()).brand_todays)
        return settled_day_key(earliest_today - timedelta(days=1))

    def forget_all() -> None:
        cache.clear()

    def forget_the_day_before() -> None:
        cache.delete(day_before_key())

    for label, run, forget in (
        ("figures, nothing cached (once an hour)", figures, forget_all),
        ("figures, the day before read again (every 5 minutes)", figures, forget_the_day_before),
        ("figures, warm", figures, None),
        ("page GET /admin/, nothing cached", page, forget_all),
        ("page GET /admin/, the day before read again", page, forget_the_day_before),
        ("page GET /admin/, warm", page, None),
    ):
        run()  # once to warm PostgreSQL's buffers and fill the cache
        times, queries = [], 0
        for _ in range(runs):
            if forget:
                forget()
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                run()
                times.append((time.perf_counter() - started) * 1000)
            queries = len(captured)
        print(
            f"{label}: median {statistics.median(times):.0f} ms "
            f"(min {min(times):.0f}, max {max(times):.0f}; {runs} runs), {queries} queries"
        )
    if explain:
        explain_queries(figures)


def explain_queries(figures) -> None:
    from django.core.cache import cache
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        figures()
    for query in captured.captured_queries:
        sql = query["sql"]
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off; SET LOCAL work_mem = '32MB'")  # as the dashboard does
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        print(f"\n-- {query['time']} s: {sql[:300]}{'...' if len(sql) > 300 else ''}\n{plan}")


if __name__ == "__main__":
    main()
