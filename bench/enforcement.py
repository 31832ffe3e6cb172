"""The four periodic tasks on PostgreSQL at scale: seconds, statements and peak memory.

    python bench/enforcement.py [--campaigns 100000] [--workers 2] [--reference] [--runs 3] [--task NAME]

Builds issue 8's data set (`bench/dataset.py`: N campaigns over N/10 brands, one spend
row each, about half over a budget, 30 % dayparted) in its own database
(BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/budget_system_bench),
then for each task prints its first run (the changes to make) and its steady run
(nothing to change; the median of --runs):

- in-process (the task called directly: its shards in a loop), with the statements it
  sent and the peak resident memory of the process that ran it (a fresh fork per
  measurement, so one measurement's memory does not hide another's);
- with --workers K: through a real Celery worker with K processes on Redis
  (BENCH_REDIS_URL, default redis://127.0.0.1:6379/15), from sending the task to the
  last shard's commit;
- with --reference: the same figures for the reference engine (the rule applied
  row by row in Python, the engine before issue 8), where that is cheap enough.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import create_database  # noqa: E402  (after the path is set)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/budget_system_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"

TASKS = (
    "check_all_campaign_budgets",
    "enforce_dayparting_for_all_campaigns",
    "reactivate_daily_campaigns",
    "reactivate_monthly_campaigns",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--campaigns", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3, help="steady runs to take the median of")
    parser.add_argument("--workers", type=int, default=0, help="also run through a Celery worker with K processes")
    parser.add_argument("--reference", action="store_true", help="also measure the row-by-row reference engine")
    parser.add_argument("--workers-only", action="store_true", help="with --workers: skip the in-process runs")
    parser.add_argument(
        "--task", choices=TASKS, action="append", help="only these tasks (repeatable); default all four"
    )
    args = parser.parse_args()
    if args.campaigns < 10 or args.runs < 1 or args.workers < 0:
        parser.error("--campaigns must be at least 10, --runs at least 1, --workers at least 0")

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "budget_system.test_settings"
    os.environ["DJANGO_LOG_LEVEL"] = "WARNING"
    os.environ["CELERY_BROKER_URL"] = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)
    create_database(url)

    import django

    django.setup()
    import logging

    from django.core.management import call_command

    from bench.dataset import dataset_build

    logging.disable(logging.INFO)  # per-change lines are not what is measured
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    counts = dataset_build(campaigns=args.campaigns)
    print(f"data: {counts} in {time.perf_counter() - started:.1f} s")
    print(f"{'task':40} {'engine':12} {'run':7} {'seconds':>8} {'statements':>10} {'peak MB':>8}  summary")
    tasks = args.task or TASKS
    engines = [("sql", False)] + ([("reference", True)] if args.reference else [])
    if args.workers_only:
        engines = []
    for engine, reference in engines:
        for task in tasks:
            prepare(task)
            report(task, engine, "first", *in_fork(task, reference))
            steady = [in_fork(task, reference) for _ in range(args.runs)]
            median = statistics.median(seconds for seconds, _, _, _ in steady)
            report(task, engine, "steady", median, *steady[0][1:])
    if args.workers:
        with celery_worker(args.workers):
            for task in tasks:
                prepare(task)
                seconds, summary = through_worker(task)
                report(task, f"{args.workers} workers", "first", seconds, None, None, summary)
                steady = [through_worker(task) for _ in range(args.runs)]
                report(
                    task,
                    f"{args.workers} workers",
                    "steady",
                    statistics.median(s for s, _ in steady),
                    None,
                    None,
                    steady[0][1],
                )


def report(task, engine, run, seconds, statements, peak_mb, summary) -> None:
    statements = "" if statements is None else statements
    peak = "" if peak_mb is None else f"{peak_mb:.0f}"
    print(f"{task:40} {engine:12} {run:7} {seconds:8.2f} {statements:>10} {peak:>8}  {summary}", flush=True)


def prepare(task: str) -> None:
    """The state before a task's first run: what it will have to change."""
    from django.db import connection

    from campaigns.enforcement import Scope, Selection, selection_enforce

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE campaigns_campaignstatuschange, campaigns_enforcementrun CASCADE")
        if task in ("check_all_campaign_budgets", "enforce_dayparting_for_all_campaigns"):
            cursor.execute("UPDATE campaigns_campaign SET status = 'ACTIVE', pause_reason = ''")
        else:
            # Every campaign paused for the reason this reactivation looks at.
            reason = "DAILY_BUDGET" if task == "reactivate_daily_campaigns" else "MONTHLY_BUDGET"
            cursor.execute("UPDATE campaigns_campaign SET status = 'PAUSED_BY_SYSTEM', pause_reason = %s", [reason])
        if task == "enforce_dayparting_for_all_campaigns":
            # Budgets decided already: what is left to the dayparting run is the windows.
            selection_enforce(selection=Selection(scope=Scope.NOT_PAUSED_BY_USER), source="bench")
            cursor.execute(
                "UPDATE campaigns_campaign SET status = 'ACTIVE', pause_reason = '' WHERE pause_reason = 'DAYPARTING'"
            )
            cursor.execute("TRUNCATE campaigns_campaignstatuschange")
    vacuum()


def vacuum() -> None:
    from django.db import connection

    connection.ensure_connection()
    saved = connection.connection.autocommit
    connection.connection.autocommit = True
    with connection.connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE campaigns_campaign")
        cursor.execute("VACUUM ANALYZE campaigns_campaignstatuschange")
    connection.connection.autocommit = saved


def in_fork(task: str, reference: bool):
    """Run the task called directly in a forked child; (seconds, statements, peak MB, summary)."""
    import json

    from django.db import connections

    connections.close_all()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: measure, report through the pipe, leave at once
        os.close(read)
        try:
            result = measure_here(task, reference)
            os.write(write, json.dumps(result).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    seconds, statements, peak_mb, summary = json.loads(data)
    return seconds, statements, peak_mb, summary


def measure_here(task: str, reference: bool):
    from unittest import mock

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from campaigns import enforcement, tasks

    patches = [mock.patch.object(enforcement, "uses_sql_engine", return_value=not reference)]
    for patch in patches:
        patch.start()
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        summary = getattr(tasks, task)()
        seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return seconds, len(queries), peak_mb, summary


class celery_worker:
    """A real worker with K prefork processes serving the periodic queue, for the run."""

    def __init__(self, processes: int) -> None:
        self.processes = processes

    def __enter__(self):
        from budget_system.celery import app

        app.control.purge()
        self.log = tempfile.NamedTemporaryFile("w", suffix=".log", delete=False)
        command = [sys.executable, "-m", "celery", "-A", "budget_system", "worker", "-Q", "periodic"]
        command += ["-c", str(self.processes), "-n", f"bench-{os.getpid()}@localhost", "--without-gossip"]
        command += ["--without-mingle", "-l", "warning"]
        self.worker = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, env=os.environ.copy())
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=0.5):
            if self.worker.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the worker did not start: see {self.log.name}")
        return self

    def __exit__(self, *exc) -> None:
        self.worker.terminate()
        self.worker.wait(timeout=60)


def through_worker(task: str):
    """Send the task as beat does; wait for its run to finish. (seconds, summary)."""

    from budget_system.celery import app
    from campaigns.models import EnforcementRun

    before = EnforcementRun.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    started = time.perf_counter()
    app.send_task(f"campaigns.tasks.{task}")
    while True:
        run = EnforcementRun.objects.filter(pk__gt=before, finished_at__isnull=False).first()
        if run is not None:
            break
        if time.perf_counter() - started > 600:
            raise SystemExit(f"{task} did not finish within 10 minutes")
        # One connection in autocommit: each poll is its own transaction and sees the
        # latest commit (a new connection per poll cost a backend fork every 20 ms).
        time.sleep(0.02)
    # From sending the task (as beat would) to seeing the last shard's commit.
    seconds = time.perf_counter() - started
    summary = {name: getattr(run, name) for name in ("examined", "activated", "paused", "reason_changed")}
    return seconds, summary | {"shards": run.shards_total}


if __name__ == "__main__":
    main()
