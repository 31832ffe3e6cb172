"""Spend ingestion through the real HTTP API: throughput, budget-crossing to pause latency, sustained load.

    python bench/ingest.py [--campaigns 10000] [--requests 50] [--rows 1000] [--clients 1 4] [--tries 50]
    python bench/ingest.py --sustained SECONDS [--clients 4] [--campaigns 100000] [--sweep-minutes N]

Both modes run on a database of their own (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/bs_ingest_bench) and a Redis database of their own
(BENCH_REDIS_URL, default redis://127.0.0.1:6379/4) as broker and cache, with gunicorn
serving the project (DEBUG off). Logs go to BENCH_LOG_DIR (default /tmp).

Bursts (the default): a Celery worker (solo), then

- throughput: POST /api/v1/spend/ with requests of --rows new rows each, from 1 and
  from several client threads; rows per second over the wall time;
- latency: --tries times, a POST that takes a campaign to its daily budget, timed from
  just before the request until the campaign reads PAUSED_BY_SYSTEM in the database
  (the worker applied the rule); median and p95.

Goals: at least 10,000 rows/s; p95 under 1 s.

Sustained (--sustained SECONDS): the whole system as production runs it, under load for
that long. The database is made again with issue 8's data set (bench/dataset.py,
--campaigns, default 100,000); the Procfile's three Celery workers (`-Q periodic
--concurrency=2`, `-Q drains` and `-Q celery`, prefork, INFO logs) and celery beat with the
real schedule (DatabaseScheduler). --sweep-minutes N runs the budget and reactivation
sweeps every N minutes instead (as an operator could set in the admin), their messages
expiring before the next is due, so several sweeps fall in a short run. --clients K
threads post --rows-row batches of spend dated each campaign's today, continuously; the
amounts climb from 0 to 150 over the run (the campaigns' daily budget is 75, so they
cross it midway). It prints:

- rows/s ingested, and the requests' p50/p95/max;
- POST -> pause latency as above, at rest before the load (--tries) and during it (a
  probe every --probe-every seconds);
- the longest length of each queue (Redis LLEN of periodic, drains and celery every
  0.5 s) and the most brands pending a drain;
- each periodic sweep's runs: beat's ticks, the delay from a tick to its run's start
  (EnforcementRun.started_at), ticks without a run, messages the workers discarded as
  expired, runs never finished; and the drain tasks run;
- once the load stopped and the last drain ended, the campaigns whose status the rule
  would still change (the dry run, campaigns/dry_run.py): 0 expected.
"""

import argparse
import datetime as dt
import itertools
import json
import os
import re
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.common import create_database, recreate_database  # noqa: E402  (after the path is set)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bs_ingest_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/4"
GOAL_ROWS_PER_SECOND = 10_000
GOAL_P95_SECONDS = 1.0
LATENCY_BRAND_CAMPAIGNS = 10
LATENCY_ZONES = ["UTC", "America/Los_Angeles", "Asia/Kolkata", "Europe/Paris", "Pacific/Kiritimati"]
PAUSE_TIMEOUT_SECONDS = 30

# Sustained mode.
QUEUES = ("periodic", "drains", "celery")
SAMPLE_SECONDS = 0.5
# The load's daily spend climbs from 0 to this over the run (bench/dataset.py: daily budgets of 75).
RAMP_TOP = 150.0
MONTH_BEFORE_TODAY = 400.0
# Beat's entries that --sweep-minutes reschedules.
SWEEP_ENTRIES = ("check-all-campaign-budgets", "reactivate-daily-campaigns", "reactivate-monthly-campaigns")
DRAIN_TASK = "campaigns.tasks.drain_pending_brands"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--campaigns", type=int, help="campaigns the rows go to (default 10,000; sustained: 100,000, in N/10 brands)"
    )
    parser.add_argument("--brands", type=int, default=100, help="bursts: brands of the throughput campaigns")
    parser.add_argument("--requests", type=int, default=50, help="bursts: requests per throughput run")
    parser.add_argument("--rows", type=int, default=1000, help="rows per request")
    parser.add_argument(
        "--clients", type=int, nargs="+", default=[1, 4], help="client threads, one run each (sustained: the largest)"
    )
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--tries", type=int, default=50, help="latency measurements (sustained: at rest)")
    parser.add_argument(
        "--interleave", action="store_true", help="spread every request over every brand (enforcement worst case)"
    )
    parser.add_argument("--sustained", type=int, default=0, metavar="SECONDS", help="sustained load for this long")
    parser.add_argument(
        "--sweep-minutes", type=int, help="sustained: budget and reactivation sweeps every N minutes (default: beat's)"
    )
    parser.add_argument("--probe-every", type=float, default=2.0, help="sustained: seconds between latency probes")
    args = parser.parse_args()
    if args.campaigns is None:
        args.campaigns = 100_000 if args.sustained else 10_000
    numbers = [args.campaigns, args.brands, args.requests, args.rows, args.web_workers, args.tries, *args.clients]
    if min(numbers) < 1 or args.sustained < 0 or args.probe_every <= 0 or (args.sweep_minutes or 1) < 1:
        parser.error("every number must be at least 1")
    if args.rows > args.campaigns:
        parser.error("--rows must be at most --campaigns (a request has one row per campaign)")
    if args.sweep_minutes and (args.sweep_minutes > 59 or 60 % args.sweep_minutes):
        parser.error("--sweep-minutes must divide an hour (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30)")

    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    if args.sustained:
        sustained(args, database_url, redis_url)
    else:
        bursts(args, database_url, redis_url)


def bench_environment(database_url: str, redis_url: str, *, log_level: str) -> dict[str, str]:
    """The environment of the bench and of every process it starts."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "budget_system.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_LOG_LEVEL": log_level,
        "DJANGO_ENV_FILE": "",
        "PYTHONUNBUFFERED": "1",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        # Measure ingestion, not the throttles.
        "API_THROTTLE_USER_RATE": "1000000/minute",
        "API_THROTTLE_SPEND_RATE": "1000000/minute",
    }


def django_setup() -> None:
    import logging

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    logging.disable(logging.INFO)  # the bench's own process; the servers log as configured


# --- Bursts ----------------------------------------------------------------------------------


def bursts(args, database_url: str, redis_url: str) -> None:
    env = bench_environment(database_url, redis_url, log_level="WARNING")
    os.environ.update(env)
    create_database(database_url)
    django_setup()
    token, throughput_ids, latency_ids = build(args.campaigns, args.brands, args.tries + 1, interleave=args.interleave)
    clear_broker(redis_url)

    port = free_port()
    logs = log_dir()
    processes = [
        start(
            [sys.executable, "-m", "celery", "-A", "budget_system", "worker", "-P", "solo",
             "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
            env, logs / "bench-ingest-worker.log",
        ),
        start(gunicorn_command(port, args.web_workers), env, logs / "bench-ingest-web.log"),
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
        drain = wait_for_empty_queues(redis_url)
        print(f"enforcement tasks still queued after the last request were done within {drain:.1f} s")
        latency(base, token, latency_ids)
    finally:
        stop(processes)


def build(
    campaign_count: int, brand_count: int, latency_count: int, *, interleave: bool
) -> tuple[str, list[int], list[int]]:
    """Brands and campaigns without budgets for throughput; one brand per latency try."""
    from brands.models import Brand
    from campaigns.models import Campaign

    Brand.objects.all().delete()
    brands = Brand.objects.bulk_create(
        Brand(name=f"bench brand {i}", timezone=LATENCY_ZONES[i % len(LATENCY_ZONES)]) for i in range(brand_count)
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
    targets = latency_targets(latency_count)
    return bench_user(), [c.pk for c in throughput_campaigns], targets


def latency_targets(count: int) -> list[int]:
    """One brand per try, of LATENCY_BRAND_CAMPAIGNS campaigns; the target has a daily budget of 100."""
    from decimal import Decimal

    from brands.models import Brand
    from campaigns.models import Campaign

    latency_brands = Brand.objects.bulk_create(
        Brand(name=f"latency brand {i}", timezone=LATENCY_ZONES[i % len(LATENCY_ZONES)]) for i in range(count)
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
    return [c.pk for c in targets]


def bench_user() -> str:
    """An API user allowed to post spend; its token."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from rest_framework.authtoken.models import Token

    user_model = get_user_model()
    user_model.objects.filter(username="bench-etl").delete()
    user = user_model.objects.create_user("bench-etl")
    user.user_permissions.add(*Permission.objects.filter(codename__in=["add_spend", "change_spend"]))
    return Token.objects.create(user=user).key


def clear_broker(redis_url: str) -> None:
    """Empty the bench's own queues (and the messages a killed worker left unacknowledged)."""
    import redis

    redis.Redis.from_url(redis_url).delete(*QUEUES, "unacked", "unacked_index")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def log_dir() -> Path:
    return Path(os.environ.get("BENCH_LOG_DIR", "/tmp"))


def gunicorn_command(port: int, workers: int) -> list[str]:
    return [
        sys.executable, "-m", "gunicorn", "budget_system.wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--log-level", "warning",
    ]  # fmt: skip


def start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    # A session of its own: stopping it reaches the pool processes it forked too.
    output = log.open("w")
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)


def stop(processes) -> None:
    """SIGTERM (Celery's warm shutdown lets running tasks finish), then SIGKILL to the group."""
    processes = list(processes)
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


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
    raise SystemExit("gunicorn did not start; see the web log in BENCH_LOG_DIR")


def api_session(token: str):
    import requests

    session = requests.Session()
    session.headers.update({"Authorization": f"Token {token}", "Content-Type": "application/json"})
    return session


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
        session = api_session(token)
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


def wait_for_empty_queues(redis_url: str, timeout: float = 300) -> float:
    """Let the workers take the tasks still queued; seconds it took."""
    import redis

    queue = redis.Redis.from_url(redis_url)
    started = time.monotonic()
    while any(queue.llen(name) for name in QUEUES) and time.monotonic() < started + timeout:
        time.sleep(0.05)  # polling the queue lengths
    return time.monotonic() - started


def probe_pause(session, base: str, campaign_id: int, zone: str, *, poll: float = 0.002) -> float | None:
    """POST the spend that takes the campaign to its daily budget of 100; seconds until it
    reads PAUSED_BY_SYSTEM, or None if not within PAUSE_TIMEOUT_SECONDS.

    Raises RuntimeError when the POST itself fails.
    """
    from django.db import connection
    from django.utils import timezone

    from budget_system.timezones import local_date

    today = local_date(timezone.now(), zone)
    body = [{"campaign": campaign_id, "date": str(today), "daily_spend": "100.00", "monthly_spend": "100.00"}]
    started = time.perf_counter()
    response = session.post(f"{base}/api/v1/spend/", data=json.dumps(body), timeout=PAUSE_TIMEOUT_SECONDS)
    if response.status_code != 200 or response.json()["enforcement"] != "queued":
        raise RuntimeError(f"latency POST failed: {response.status_code} {response.text[:300]}")
    with connection.cursor() as cursor:
        while time.perf_counter() < started + PAUSE_TIMEOUT_SECONDS:
            cursor.execute("SELECT status FROM campaigns_campaign WHERE id = %s", [campaign_id])
            if cursor.fetchone()[0] == "PAUSED_BY_SYSTEM":
                return time.perf_counter() - started
            time.sleep(poll)  # polling the database for the worker's write
    return None


def zones_of(campaign_ids: list[int]) -> dict[int, str]:
    from campaigns.models import Campaign

    return dict(Campaign.objects.filter(pk__in=campaign_ids).values_list("pk", "brand__timezone"))


def latency(base: str, token: str, target_ids: list[int]) -> None:
    session = api_session(token)
    zone_of = zones_of(target_ids)
    results: list[float] = []
    for n, campaign_id in enumerate(target_ids):
        try:
            seconds = probe_pause(session, base, campaign_id, zone_of[campaign_id])
        except RuntimeError as exc:
            raise SystemExit(str(exc)) from None
        if seconds is None:
            raise SystemExit(f"campaign {campaign_id} was not paused within 30 s; see bench-ingest-worker.log")
        if n:  # the first try warms the worker up and is not counted
            results.append(seconds)
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


# --- Sustained --------------------------------------------------------------------------------


def sustained(args, database_url: str, redis_url: str) -> None:
    from django.utils import timezone

    os.environ.update(bench_environment(database_url, redis_url, log_level="WARNING"))
    env = {**os.environ, "DJANGO_LOG_LEVEL": "INFO"}  # the servers log as production does
    recreate_database(database_url)
    django_setup()
    from bench.dataset import dataset_build

    clients = max(args.clients)
    counts = dataset_build(campaigns=args.campaigns)
    token = bench_user()
    plan = LoadPlan(load_campaigns(interleave=args.interleave), args.rows, args.sustained)
    probes = latency_targets(args.tries + 2 + int(args.sustained / args.probe_every))
    clear_broker(redis_url)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    logs = {name: log_dir() / f"bench-sustained-{name}.log" for name in ("web", *WORKERS, "beat")}
    processes = {"web": start(gunicorn_command(port, args.web_workers), env, logs["web"])}
    try:
        for name in WORKERS:
            processes[name] = start(procfile_command(name), env, logs[name])
        wait_until_serving(base)
        for name in WORKERS:
            wait_for_line(logs[name], " ready.", processes[name])
        processes["beat"] = start(procfile_command("beat"), env, logs["beat"])
        schedule_note = beat_schedule_ready(args.sweep_minutes)
        schedule_from = timezone.now()
        print(
            f"data: {counts['campaigns_campaign']:,} campaigns in {counts['brands_brand']:,} brands "
            f"(bench/dataset.py) + {len(probes)} probe brands; a request of {args.rows} rows touches about "
            f"{plan.brands_per_request(args.rows)} brands; gunicorn {args.web_workers} workers; the Procfile's "
            f"workers and beat on {redis_url}; {schedule_note}; logs: {log_dir()}/bench-sustained-*.log"
        )
        sampler = Sampler(redis_url)
        sampler.start()
        session = api_session(token)
        zone_of = zones_of(probes)
        at_rest = [timed_probe(session, base, pk, zone_of[pk]) for pk in probes[: args.tries + 1]][1:]
        sampler.phase = "load"
        load = run_load(base, token, plan, clients, args.sustained, probes[args.tries + 1 :], args.probe_every)
        sampler.phase = "after"
        catch_up = wait_for_catch_up(redis_url) - load.ended
        schedule_until = timezone.now()
        stop([processes.pop("beat")])
        settle = wait_for_runs(redis_url)
        left = queue_lengths(redis_url)
        sampler.finish()
        differences = rule_differences()
    finally:
        stop(processes.values())

    print_load(load, clients, args.rows)
    print_latency("at rest, before the load", at_rest, [])
    print_latency("during the load", load.probes, load.probe_errors)
    print_queues(sampler, left)
    print(
        f"after the load: the last drain ended {catch_up:.1f} s after the clients stopped; sweeps in flight "
        f"settled {settle:.1f} s after beat stopped"
    )
    worker_logs = read_logs(*(logs[name] for name in WORKERS))
    print_tasks(logs)
    print_periodic(schedule_from, schedule_until, worker_logs, read_logs(logs["beat"]))
    print_drains(worker_logs)
    print_log_errors(logs)
    print_differences(differences)


# The Procfile's Celery workers: beat's runs, drains, other background work.
WORKERS = ("worker", "worker-drains", "worker-background")


def procfile_command(name: str) -> list[str]:
    """The Procfile's command for process `name`, with this interpreter's celery."""
    for line in (REPO / "Procfile").read_text().splitlines():
        process, _, command = line.partition(":")
        if process.strip() == name:
            words = shlex.split(command)
            if words[0] == "celery":
                words = [sys.executable, "-m", "celery", *words[1:]]
            return words
    raise SystemExit(f"no {name} process in the Procfile")


def wait_for_line(log: Path, text: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log.read_text(errors="replace"):
            return
        if process.poll() is not None:
            raise SystemExit(f"{log} ended before {text!r}")
        time.sleep(0.2)  # polling the log for the worker's start
    raise SystemExit(f"no {text!r} in {log} within {timeout:.0f} s")


def beat_schedule_ready(sweep_minutes: int | None) -> str:
    """Wait until beat has written its schedule to the database; reschedule the sweeps if asked.

    The rescheduling is what an operator would do in the admin: beat reads the change
    within its 5-second check.
    """
    from django.conf import settings
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    names = set(settings.CELERY_BEAT_SCHEDULE)
    deadline = time.monotonic() + 60
    while PeriodicTask.objects.filter(name__in=names).count() < len(names):
        if time.monotonic() > deadline:
            raise SystemExit("beat did not write its schedule within 60 s; see bench-sustained-beat.log")
        time.sleep(0.2)  # polling for beat's schedule
    if not sweep_minutes:
        return "beat's schedule as configured (budgets every 10 minutes, reactivations at :00 :15 :30 :45)"
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute=f"*/{sweep_minutes}", hour="*", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    for task in PeriodicTask.objects.filter(name__in=SWEEP_ENTRIES):
        task.crontab = crontab
        # Each run still expires before the next is due, as in production.
        task.expire_seconds = min(task.expire_seconds or sweep_minutes * 60, sweep_minutes * 60 - 5)
        task.save()
    time.sleep(6)  # beat's DatabaseScheduler looks for changes every 5 s
    return (
        f"SHORTENED SCHEDULE (--sweep-minutes {sweep_minutes}): budgets and reactivation sweeps every "
        f"{sweep_minutes} minute(s), beat's messages expiring after {sweep_minutes * 60 - 5} s (the shards' own "
        "expiry stays the task's); dayparting and drains every minute as configured"
    )


def load_campaigns(*, interleave: bool) -> list[tuple[int, str]]:
    """(campaign id, its brand's zone), a brand's campaigns together unless `interleave`."""
    from campaigns.models import Campaign

    order = ("pk",) if interleave else ("brand_id", "pk")
    return list(
        Campaign.objects.filter(name__startswith="bench campaign ")
        .order_by(*order)
        .values_list("pk", "brand__timezone")
    )


class LoadPlan:
    """What the clients post: --rows consecutive campaigns a request, round and round, each
    row dated its brand's today; the amounts climb from 0 to RAMP_TOP over the run."""

    def __init__(self, campaigns: list[tuple[int, str]], rows: int, seconds: float) -> None:
        self.campaigns, self.rows, self.seconds = campaigns, rows, seconds
        self.requests = itertools.count()
        self.started = time.monotonic()

    def brands_per_request(self, rows: int) -> int:
        from campaigns.models import Campaign

        first = [pk for pk, _ in self.campaigns[:rows]]
        return Campaign.objects.filter(pk__in=first).values("brand_id").distinct().count()

    def next_body(self) -> bytes:
        from django.utils import timezone

        from budget_system.timezones import local_date

        first = next(self.requests) * self.rows
        chunk = [self.campaigns[(first + i) % len(self.campaigns)] for i in range(self.rows)]
        now = timezone.now()
        today = {zone: str(local_date(now, zone)) for zone in {zone for _, zone in chunk}}
        level = RAMP_TOP * min(1.0, (time.monotonic() - self.started) / self.seconds)
        daily, monthly = f"{level:.2f}", f"{level + MONTH_BEFORE_TODAY:.2f}"
        return json.dumps(
            [
                {"campaign": pk, "date": today[zone], "daily_spend": daily, "monthly_spend": monthly}
                for pk, zone in chunk
            ]
        ).encode()


class LoadResult:
    """The clients' requests and the probes, added to from several threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.durations: list[float] = []
        self.rows = Counter()
        self.failures = Counter()
        self.first_failure = ""
        self.probes: list[tuple[dt.datetime, float | None]] = []
        self.probe_errors: list[str] = []
        self.wall = 0.0
        self.ended = 0.0  # time.monotonic() when the last client's last request ended

    def record(self, seconds: float, response) -> None:
        with self.lock:
            self.durations.append(seconds)
            if response.status_code == 200:
                self.rows.update({k: v for k, v in response.json().items() if k in ("created", "updated", "unchanged")})
            else:
                self.failed(f"HTTP {response.status_code}", response.text[:300])

    def failed(self, kind: str, text: str) -> None:
        self.failures[kind] += 1
        self.first_failure = self.first_failure or f"{kind}: {text}"


def run_load(
    base: str, token: str, plan: LoadPlan, clients: int, seconds: float, probes: list[int], probe_every: float
) -> LoadResult:
    """K clients posting for `seconds`, and a probe every `probe_every` seconds meanwhile."""
    result = LoadResult()
    stop_at = time.monotonic() + seconds
    threads = [threading.Thread(target=spend_client, args=(base, token, plan, stop_at, result)) for _ in range(clients)]
    threads.append(threading.Thread(target=probe_during, args=(base, token, probes, stop_at, probe_every, result)))
    started = time.perf_counter()
    plan.started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads[:-1]:
        thread.join()
    result.wall = time.perf_counter() - started  # to the end of the last request
    result.ended = time.monotonic()
    threads[-1].join()
    return result


def spend_client(base: str, token: str, plan: LoadPlan, stop_at: float, result: LoadResult) -> None:
    import requests

    session = api_session(token)
    while time.monotonic() < stop_at:
        body = plan.next_body()
        started = time.perf_counter()
        try:
            response = session.post(f"{base}/api/v1/spend/", data=body, timeout=60)
        except requests.RequestException as exc:
            with result.lock:
                result.failed(type(exc).__name__, str(exc)[:300])
            continue
        result.record(time.perf_counter() - started, response)


def timed_probe(session, base: str, campaign_id: int, zone: str, **options) -> tuple[dt.datetime, float | None]:
    """When the probe was posted (UTC), and probe_pause's answer."""
    posted_at = dt.datetime.now(dt.UTC)
    return posted_at, probe_pause(session, base, campaign_id, zone, **options)


def probe_during(base: str, token: str, probes: list[int], stop_at: float, every: float, result: LoadResult) -> None:
    from django.db import connection

    session = api_session(token)
    zone_of = zones_of(probes)
    for campaign_id in probes:
        started = time.monotonic()
        if started >= stop_at:
            break
        try:
            result.probes.append(timed_probe(session, base, campaign_id, zone_of[campaign_id], poll=0.01))
        except Exception as exc:  # any failure is reported, and the load goes on
            result.probe_errors.append(str(exc)[:300])
        time.sleep(max(0.0, started + every - time.monotonic()))  # the probes' pace
    connection.close()


class Sampler(threading.Thread):
    """Every SAMPLE_SECONDS: each queue's LLEN and the brands pending a drain, tagged with the phase."""

    def __init__(self, redis_url: str) -> None:
        super().__init__(daemon=True)
        self.redis_url = redis_url
        self.phase = "at rest"
        self.samples: list[tuple[str, dict[str, int], int]] = []
        self.done = threading.Event()

    def run(self) -> None:
        import redis
        from django.db import connection

        queue = redis.Redis.from_url(self.redis_url)
        with connection.cursor() as cursor:
            while not self.done.wait(SAMPLE_SECONDS):
                lengths = {name: queue.llen(name) for name in QUEUES}
                cursor.execute("SELECT count(*) FROM campaigns_pendingbrand")
                self.samples.append((self.phase, lengths, cursor.fetchone()[0]))
        connection.close()

    def finish(self) -> None:
        self.done.set()
        self.join()

    def longest(self, phase: str) -> tuple[dict[str, int], int]:
        taken = [(lengths, pending) for p, lengths, pending in self.samples if p == phase]
        queues = {name: max((lengths[name] for lengths, _ in taken), default=0) for name in QUEUES}
        return queues, max((pending for _, pending in taken), default=0)


def queue_lengths(redis_url: str) -> dict[str, int]:
    import redis

    queue = redis.Redis.from_url(redis_url)
    return {name: queue.llen(name) for name in QUEUES}


def wait_for_catch_up(redis_url: str, timeout: float = 180) -> float:
    """The instant (time.monotonic) when no brand is pending, no drain is queued and the last one ended."""
    from campaigns.models import DrainRequest, PendingBrand

    started = time.monotonic()
    while time.monotonic() < started + timeout:
        drained = not PendingBrand.objects.exists() and not queue_lengths(redis_url)["drains"]
        if drained and not DrainRequest.objects.filter(requested_at__isnull=False).exists():
            break
        time.sleep(0.1)  # polling the pending set
    return time.monotonic()


def wait_for_runs(redis_url: str, timeout: float = 70) -> float:
    """Seconds until the periodic queue is empty and every sweep run finished (or the timeout)."""
    from campaigns.models import EnforcementRun

    started = time.monotonic()
    while time.monotonic() < started + timeout:
        if not queue_lengths(redis_url)["periodic"] and not EnforcementRun.objects.filter(finished_at=None).exists():
            break
        time.sleep(0.2)  # polling the runs
    return time.monotonic() - started


def rule_differences() -> Counter:
    """What applying the rule now would change (the dry run), by kind of change."""
    from django.utils import timezone

    from campaigns.dry_run import enforcement_preview

    return Counter(
        f"{line.change.old_status}/{line.change.old_reason or '-'} -> "
        f"{line.change.new_status}/{line.change.new_reason or '-'}"
        for line in enforcement_preview(at=timezone.now())
    )


def read_logs(*paths: Path) -> str:
    return "\n".join(path.read_text(errors="replace") for path in paths)


# --- Sustained: the report -------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def print_load(load: LoadResult, clients: int, rows: int) -> None:
    ingested = sum(load.rows.values())
    rate = ingested / load.wall
    print(
        f"ingest, {clients} clients for {load.wall:.0f} s: {ingested:,} rows in {len(load.durations):,} requests of "
        f"{rows} = {rate:,.0f} rows/s (goal >= {GOAL_ROWS_PER_SECOND:,}: {verdict(rate >= GOAL_ROWS_PER_SECOND)}; "
        f"{load.rows['created']:,} created, {load.rows['updated']:,} updated, {load.rows['unchanged']:,} unchanged); "
        f"request p50 {ms(percentile(load.durations, 50))}, p95 {ms(percentile(load.durations, 95))}, "
        f"max {ms(max(load.durations))}"
    )
    if load.failures:
        print(f"  FAILED requests: {dict(load.failures)}; first: {load.first_failure}")


def print_latency(when: str, results: list[tuple[dt.datetime, float | None]], errors: list[str]) -> None:
    paused = [seconds for _, seconds in results if seconds is not None]
    late = [f"{posted_at:%H:%M:%S}" for posted_at, seconds in results if seconds is None]
    line = f"POST -> PAUSED_BY_SYSTEM, {when}, {len(results)} probes: "
    if paused:
        p95 = percentile(paused, 95)
        worst = max((seconds, posted_at) for posted_at, seconds in results if seconds is not None)
        line += (
            f"p50 {ms(percentile(paused, 50))}, p95 {ms(p95)}, max {ms(worst[0])} (posted {worst[1]:%H:%M:%S} UTC); "
            f"over 1 s: {sum(seconds > 1 for seconds in paused)} "
            f"(goal p95 < {GOAL_P95_SECONDS:g} s: {verdict(p95 < GOAL_P95_SECONDS and not late)})"
        )
    if late:
        line += f"; {len(late)} NOT PAUSED within {PAUSE_TIMEOUT_SECONDS} s (posted {', '.join(late)})"
    if errors:
        line += f"; {len(errors)} probe POSTs FAILED, first: {errors[0]}"
    print(line)


def print_queues(sampler: Sampler, left: dict[str, int]) -> None:
    for phase in ("at rest", "load", "after"):
        queues, pending = sampler.longest(phase)
        lengths = ", ".join(f"{name} {length}" for name, length in queues.items())
        print(f"longest queues ({phase}; LLEN every {SAMPLE_SECONDS} s): {lengths}; pending brands at most {pending:,}")
    print(f"messages left in the queues at the end: {left}")


def print_periodic(since: dt.datetime, until: dt.datetime, worker_logs: str, beat_log: str) -> None:
    """Per sweep: beat's ticks in (since, until], each tick's run and its delay; what was discarded."""
    from django.conf import settings
    from django_celery_beat.models import PeriodicTask

    from campaigns.tasks import SWEEPS

    discarded = Counter(re.findall(r"Discarding revoked task: ([\w.]+)\[", worker_logs))
    sent = Counter(re.findall(r"Sending due task ([\w-]+) ", beat_log))
    print(f"periodic sweeps, beat's ticks after {since:%H:%M:%S} up to {until:%H:%M:%S} UTC:")
    names = [name for name, entry in settings.CELERY_BEAT_SCHEDULE.items() if entry["task"].split(".")[-1] in SWEEPS]
    entries = list(PeriodicTask.objects.filter(name__in=names).select_related("crontab").order_by("name"))
    for entry in entries:
        print(f"  {sweep_report(entry, since, until)}; beat sent {sent[entry.name]}, discarded as expired "
              f"{discarded.pop(entry.task, 0)}")  # fmt: skip
    print(f"  sweep shards (enforce_shard) discarded as expired: {discarded.pop('campaigns.tasks.enforce_shard', 0)}")
    if discarded:
        print(f"  other tasks discarded as expired: {dict(discarded)}")


def sweep_report(entry, since: dt.datetime, until: dt.datetime) -> str:
    """One sweep's ticks, runs (EnforcementRun rows), delays and unfinished runs, in a line."""
    from campaigns.models import EnforcementRun

    task_name = entry.task.split(".")[-1]
    schedule = entry.crontab.schedule
    ticks = schedule_ticks(schedule, since, until)
    runs = list(EnforcementRun.objects.filter(task_name=task_name, started_at__gt=since).order_by("started_at"))
    by_tick: dict[dt.datetime, list] = {}
    for run in runs:
        by_tick.setdefault(tick_of(schedule, run.started_at), []).append(run)
    delays = [(by_tick[tick][0].started_at - tick).total_seconds() for tick in ticks if tick in by_tick]
    missed = [f"{tick:%H:%M}" for tick in ticks if tick not in by_tick]
    extra = sum(len(same) - 1 for same in by_tick.values())
    unfinished = [f"{run.started_at:%H:%M:%S} ({run.shards_done}/{run.shards_total} shards)" for run in runs
                  if run.finished_at is None]  # fmt: skip
    durations = [(run.finished_at - run.started_at).total_seconds() for run in runs if run.finished_at]
    line = f"{task_name} (minute {entry.crontab.minute}, expires {entry.expire_seconds} s): {len(ticks)} ticks, "
    line += f"{len(delays)} ran"
    if delays:
        line += f", delay tick -> start p50 {ms(percentile(delays, 50))}, max {ms(max(delays))}"
    if durations:
        line += f", longest run {max(durations):.1f} s"
    line += f"; ticks without a run: {', '.join(missed) or 'none'}"
    line += f"; runs never finished: {len(unfinished)}" + (f" [{', '.join(unfinished)}]" if unfinished else "")
    if extra:
        line += f"; {extra} more run(s) for a tick already run (retries, redeliveries)"
    return line


def schedule_ticks(schedule, since: dt.datetime, until: dt.datetime) -> list[dt.datetime]:
    """The minutes in (since, until] a crontab fires (its minute and hour fields: beat's entries use no others)."""
    tick = since.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    ticks = []
    while tick <= until:
        if tick.minute in schedule.minute and tick.hour in schedule.hour:
            ticks.append(tick)
        tick += dt.timedelta(minutes=1)
    return ticks


def tick_of(schedule, instant: dt.datetime) -> dt.datetime:
    """The latest tick at or before `instant`: the one a run belongs to, since each expires before the next."""
    tick = instant.replace(second=0, microsecond=0)
    while not (tick.minute in schedule.minute and tick.hour in schedule.hour):
        tick -= dt.timedelta(minutes=1)
    return tick


def print_tasks(logs: dict[str, Path]) -> None:
    """Per worker, the tasks that succeeded: how many, seconds in all, the longest."""
    for name in WORKERS:
        seconds: dict[str, list[float]] = {}
        for task, took in re.findall(r"Task ([\w.]+)\[[^\]]+\] succeeded in ([\d.]+)s", read_logs(logs[name])):
            seconds.setdefault(task.split(".")[-1], []).append(float(took))
        done = ", ".join(
            f"{task} {len(took)} ({sum(took):.1f} s in all, longest {max(took):.1f} s)"
            for task, took in sorted(seconds.items(), key=lambda item: -sum(item[1]))
        )
        command = procfile_command(name)
        print(f"tasks run by the worker on -Q {command[command.index('-Q') + 1]}: {done or 'none'}")


def print_drains(worker_logs: str) -> None:
    tasks = len(re.findall(rf"Task {re.escape(DRAIN_TASK)}\[[^\]]+\] succeeded", worker_logs))
    failed = len(re.findall(rf"Task {re.escape(DRAIN_TASK)}\[[^\]]+\] (?:raised|retry)", worker_logs))
    runs = [(int(b), int(s)) for b, s in re.findall(r"drain_pending_brands brands=(\d+) steps=(\d+)", worker_logs)]
    line = f"drain tasks run: {tasks} ({len(runs)} enforced brands, the rest found none pending)"
    if runs:
        line += (
            f"; steps {sum(s for _, s in runs):,} in all, at most {max(s for _, s in runs)} in one drain; "
            f"at most {max(b for b, _ in runs):,} brands in one drain"
        )
    if failed:
        line += f"; {failed} drain tasks FAILED or retried"
    print(line)


def print_log_errors(logs: dict[str, Path]) -> None:
    for name, path in logs.items():
        lines = [
            line for line in path.read_text(errors="replace").splitlines() if re.search(r"\b(ERROR|CRITICAL)\b", line)
        ]
        if lines:
            print(f"{name} log: {len(lines)} ERROR lines, first: {lines[0][:300]}")


def print_differences(differences: Counter) -> None:
    total = sum(differences.values())
    line = f"campaigns whose status differs from the rule after the load (dry run): {total} (expected 0)"
    if total:
        line += ": " + ", ".join(f"{kind}: {count}" for kind, count in differences.most_common())
    print(line)


if __name__ == "__main__":
    main()
