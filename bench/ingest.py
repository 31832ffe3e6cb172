"""Spend ingestion through the real HTTP API: throughput, and budget-crossing to pause latency.

    python bench/ingest.py [--campaigns 10000] [--requests 50] [--rows 1000] [--clients 1 4] [--tries 50]

Starts what production runs: gunicorn serving the project (DEBUG off) and a Celery
worker on Redis, both on a database of its own (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/bs_ingest_bench, created and emptied here) and
BENCH_REDIS_URL (default redis://127.0.0.1:6379/4) as broker and cache. Then:

- throughput: POST /api/v1/spend/ with requests of --rows new rows each, from 1 and
  from several client threads; rows per second over the wall time;
- latency: --tries times, a POST that takes a campaign to its daily budget, timed from
  just before the request until the campaign reads PAUSED_BY_SYSTEM in the database
  (the worker applied the rule); median and p95.

Goals: at least 10,000 rows/s; p95 under 1 s.
"""

import argparse
import datetime as dt
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.common import create_database  # noqa: E402  (after the path is set)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bs_ingest_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/4"
GOAL_ROWS_PER_SECOND = 10_000
GOAL_P95_SECONDS = 1.0
LATENCY_BRAND_CAMPAIGNS = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--campaigns", type=int, default=10_000, help="campaigns the throughput rows go to")
    parser.add_argument("--brands", type=int, default=100)
    parser.add_argument("--requests", type=int, default=50, help="requests per throughput run")
    parser.add_argument("--rows", type=int, default=1000, help="rows per request")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4], help="client threads, one run each")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--tries", type=int, default=50, help="latency measurements")
    parser.add_argument(
        "--interleave", action="store_true", help="spread every request over every brand (enforcement worst case)"
    )
    args = parser.parse_args()
    if min(args.campaigns, args.brands, args.requests, args.rows, args.web_workers, args.tries, *args.clients) < 1:
        parser.error("every number must be at least 1")
    if args.rows > args.campaigns:
        parser.error("--rows must be at most --campaigns (a request has one row per campaign)")

    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "budget_system.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_LOG_LEVEL": "WARNING",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        # Measure ingestion, not the throttle.
        "API_THROTTLE_USER_RATE": "1000000/minute",
    }
    os.environ.update(env)
    create_database(database_url)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    token, throughput_ids, latency_ids = build(args.campaigns, args.brands, args.tries + 1, interleave=args.interleave)
    purge_queue(redis_url)

    port = free_port()
    logs = Path(os.environ.get("BENCH_LOG_DIR", "/tmp"))
    processes = [
        start(
            [sys.executable, "-m", "celery", "-A", "budget_system", "worker", "-P", "solo",
             "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
            env, logs / "bench-ingest-worker.log",
        ),
        start(
            [sys.executable, "-m", "gunicorn", "budget_system.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", str(args.web_workers), "--log-level", "warning"],
            env, logs / "bench-ingest-web.log",
        ),
    ]  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(base)
        brands_per_request = (
            args.brands if args.interleave else min(args.brands, -(-args.rows * args.brands // args.campaigns) + 1)
        )
        print(
            f"data: {args.campaigns} campaigns in {args.brands} brands (a request touches about {brands_per_request} "
            f"brands); gunicorn {args.web_workers} workers; celery worker (solo) on {redis_url}"
        )
        day_offset = 2  # rows dated before every brand's today, whatever its zone
        # Warm-up, not counted: each gunicorn worker's first request loads the code.
        throughput(
            base, token, throughput_ids, 2 * args.web_workers, args.rows, args.web_workers, day_offset, quiet=True
        )
        day_offset += 2 * args.web_workers * args.rows // len(throughput_ids) + 1
        for clients in args.clients:
            throughput(base, token, throughput_ids, args.requests, args.rows, clients, day_offset)
            day_offset += args.requests * args.rows // len(throughput_ids) + 1
        drain = wait_for_empty_queue(redis_url)
        print(f"enforcement tasks still queued after the last request were done within {drain:.1f} s")
        latency(base, token, latency_ids)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def build(
    campaign_count: int, brand_count: int, latency_count: int, *, interleave: bool
) -> tuple[str, list[int], list[int]]:
    """Brands and campaigns without budgets for throughput; one brand per latency try."""
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from rest_framework.authtoken.models import Token

    from brands.models import Brand
    from campaigns.models import Campaign

    Brand.objects.all().delete()
    zones = ["UTC", "America/Los_Angeles", "Asia/Kolkata", "Europe/Paris", "Pacific/Kiritimati"]
    brands = Brand.objects.bulk_create(
        Brand(name=f"bench brand {i}", timezone=zones[i % len(zones)]) for i in range(brand_count)
    )
    # A brand's campaigns have neighbouring ids (created together), so a request of
    # consecutive campaigns touches few brands; --interleave spreads every request over
    # every brand, the worst case for the enforcement that follows each request.
    per_brand = -(-campaign_count // brand_count)
    throughput_campaigns = Campaign.objects.bulk_create(
        (
            Campaign(brand=brands[i % brand_count if interleave else i // per_brand], name=f"bench campaign {i}")
            for i in range(campaign_count)
        ),
        batch_size=5000,
    )
    latency_brands = Brand.objects.bulk_create(
        Brand(name=f"latency brand {i}", timezone=zones[i % len(zones)]) for i in range(latency_count)
    )
    targets = Campaign.objects.bulk_create(
        Campaign(brand=brand, name=f"latency target {i}", daily_budget=Decimal("100.00"))
        for i, brand in enumerate(latency_brands)
    )
    Campaign.objects.bulk_create(
        Campaign(brand=brand, name=f"latency sibling {i}.{j}")
        for i, brand in enumerate(latency_brands)
        for j in range(LATENCY_BRAND_CAMPAIGNS - 1)
    )
    user_model = get_user_model()
    user_model.objects.filter(username="bench-etl").delete()
    user = user_model.objects.create_user("bench-etl")
    user.user_permissions.add(*Permission.objects.filter(codename__in=["add_spend", "change_spend"]))
    token = Token.objects.create(user=user).key
    return token, [c.pk for c in throughput_campaigns], [c.pk for c in targets]


def purge_queue(redis_url: str) -> None:
    import redis

    redis.Redis.from_url(redis_url).delete("celery")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    output = log.open("w")
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT)


def wait_until_serving(base: str) -> None:
    import requests

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            # Any answer will do (401 without a token): the server is up.
            requests.get(f"{base}/api/v1/campaigns/", timeout=10)
            return
        except requests.RequestException:
            pass
        time.sleep(0.2)  # polling for the server to accept connections
    raise SystemExit("gunicorn did not start; see the bench-ingest-web.log")


def throughput(
    base: str,
    token: str,
    campaign_ids: list[int],
    requests_count: int,
    rows: int,
    clients: int,
    day_offset: int,
    *,
    quiet: bool = False,
) -> None:
    import requests

    utc_today = dt.datetime.now(dt.UTC).date()
    bodies = []
    for n in range(requests_count):
        first = n * rows
        body = [
            {
                "campaign": campaign_ids[(first + i) % len(campaign_ids)],
                "date": str(utc_today - dt.timedelta(days=day_offset + (first + i) // len(campaign_ids))),
                "daily_spend": "12.34",
                "monthly_spend": "56.78",
            }
            for i in range(rows)
        ]
        bodies.append(json.dumps(body).encode())
    pending = list(reversed(bodies))
    lock = threading.Lock()
    durations: list[float] = []
    failures: list[str] = []

    def client() -> None:
        session = requests.Session()
        session.headers.update({"Authorization": f"Token {token}", "Content-Type": "application/json"})
        while True:
            with lock:
                if not pending:
                    return
                body = pending.pop()
            started = time.perf_counter()
            response = session.post(f"{base}/api/v1/spend/", data=body, timeout=60)
            elapsed = time.perf_counter() - started
            with lock:
                durations.append(elapsed)
                if response.status_code != 200 or response.json()["created"] != rows:
                    failures.append(f"{response.status_code} {response.text[:300]}")

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{len(failures)} requests failed, e.g. {failures[0]}")
    if quiet:
        return
    total = requests_count * rows
    rate = total / wall
    print(
        f"throughput, {clients} client(s): {total} rows in {requests_count} requests of {rows} in {wall:.2f} s = "
        f"{rate:,.0f} rows/s (goal >= {GOAL_ROWS_PER_SECOND:,}: {verdict(rate >= GOAL_ROWS_PER_SECOND)}); "
        f"request median {statistics.median(durations) * 1000:.0f} ms, p95 {percentile(durations, 95) * 1000:.0f} ms"
    )


def wait_for_empty_queue(redis_url: str) -> float:
    """Let the worker take the enforcement tasks the throughput runs enqueued; seconds it took."""
    import redis

    queue = redis.Redis.from_url(redis_url)
    started = time.monotonic()
    while queue.llen("celery") and time.monotonic() < started + 300:
        time.sleep(0.05)  # polling the queue length
    return time.monotonic() - started


def latency(base: str, token: str, target_ids: list[int]) -> None:
    import requests
    from django.db import connection
    from django.utils import timezone

    from budget_system.timezones import local_date
    from campaigns.models import Campaign

    session = requests.Session()
    session.headers.update({"Authorization": f"Token {token}"})
    zone_of = dict(Campaign.objects.filter(pk__in=target_ids).values_list("pk", "brand__timezone"))
    results: list[float] = []
    with connection.cursor() as cursor:
        for n, campaign_id in enumerate(target_ids):
            today = local_date(timezone.now(), zone_of[campaign_id])
            body = [{"campaign": campaign_id, "date": str(today), "daily_spend": "100.00", "monthly_spend": "100.00"}]
            started = time.perf_counter()
            response = session.post(f"{base}/api/v1/spend/", json=body, timeout=30)
            if response.status_code != 200 or response.json()["enforcement"] != "queued":
                raise SystemExit(f"latency POST failed: {response.status_code} {response.text[:300]}")
            deadline = started + 30
            while True:
                cursor.execute("SELECT status FROM campaigns_campaign WHERE id = %s", [campaign_id])
                if cursor.fetchone()[0] == "PAUSED_BY_SYSTEM":
                    break
                if time.perf_counter() > deadline:
                    raise SystemExit(f"campaign {campaign_id} was not paused within 30 s; see bench-ingest-worker.log")
                time.sleep(0.002)  # polling the database for the worker's write
            if n:  # the first try warms the worker up and is not counted
                results.append(time.perf_counter() - started)
    p95 = percentile(results, 95)
    print(
        f"latency, POST crossing a daily budget -> campaign paused by the worker, {len(results)} tries: "
        f"median {statistics.median(results) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {max(results) * 1000:.0f} ms "
        f"(goal p95 < {GOAL_P95_SECONDS:g} s: {verdict(p95 < GOAL_P95_SECONDS)})"
    )


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def percentile(values: list[float], pct: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


if __name__ == "__main__":
    main()
