"""Readiness: can this process reach its database and its Celery broker right now?

Each check opens a fresh connection of its own with a short timeout (never the
request's pooled connection, so a half-dead pooled socket cannot hang the probe), and
both run at once in worker threads: the answer comes within `timeout` seconds even
when a server silently drops packets. A check still running then counts as failed; its
thread ends by itself when its own connect timeout expires.
"""

import logging
import math
import os
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from kombu import Connection

logger = logging.getLogger(__name__)

READINESS_TIMEOUT_SECONDS = 1.5


def database_check(timeout: float) -> None:
    """Open a new connection to the default database and run SELECT 1; raise if it fails."""
    current = connections[DEFAULT_DB_ALIAS]
    probe = current.__class__(dict(current.settings_dict), alias=DEFAULT_DB_ALIAS)
    params = probe.get_connection_params()
    if probe.vendor == "postgresql":
        # libpq counts connect_timeout in whole seconds, 2 at the least.
        params["connect_timeout"] = max(2, math.ceil(timeout))
    raw = probe.get_new_connection(params)
    try:
        cursor = raw.cursor()
        cursor.execute("SELECT 1")
        cursor.fetchone()
        cursor.close()
    finally:
        raw.close()


def broker_check(timeout: float) -> None:
    """Connect to the Celery broker once, without retrying; raise if it cannot."""
    url = settings.CELERY_BROKER_URL
    options = dict(getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", None) or {})
    if url.startswith("filesystem://"):
        # kombu's filesystem transport "connects" to any path; the folders are the broker.
        for key in ("data_folder_in", "data_folder_out"):
            folder = Path(options.get(key, "."))
            if not (folder.is_dir() and os.access(folder, os.W_OK)):
                raise OSError(f"the broker folder {folder} is missing or not writable")
        return
    options.update({"socket_connect_timeout": timeout, "socket_timeout": timeout, "max_retries": 0})
    with Connection(url, connect_timeout=timeout, transport_options=options) as conn:
        conn.ensure_connection(max_retries=0, timeout=timeout)


CHECKS = {"database": database_check, "broker": broker_check}


def readiness_failures(*, timeout: float = READINESS_TIMEOUT_SECONDS) -> list[str]:
    """The names of the services that are not reachable ("database", "broker"), in that order."""
    pool = ThreadPoolExecutor(max_workers=len(CHECKS), thread_name_prefix="readiness")
    try:
        futures = {name: pool.submit(check, timeout) for name, check in CHECKS.items()}
        wait(futures.values(), timeout=timeout)
    finally:
        # Do not wait for a check that hangs: its own connect timeout ends it.
        pool.shutdown(wait=False, cancel_futures=True)
    failures = []
    for name, future in futures.items():
        if not future.done():
            logger.warning("readiness: %s did not answer within %.1f s", name, timeout)
            failures.append(name)
        elif future.exception() is not None:
            logger.warning("readiness: %s is not reachable: %s", name, future.exception())
            failures.append(name)
    return failures
