"""One log line when a backing service goes away, one when it is back.

A web process that degrades instead of failing (Redis down: per-process throttle
counts; PostgreSQL down: 503 answers) would otherwise log the same error on every
request, drowning the one line an operator needs. `Outage` keeps the state of one
service in one process: the first failure logs a warning, later ones only count,
and the first success after them logs how long it lasted. It also says when to try
the service again (`should_try`), so a frozen service costs one timeout per probe
interval, not one per request.
"""

from __future__ import annotations

import logging
import threading
import time


class Outage:
    def __init__(self, service: str, *, logger: logging.Logger, probe_seconds: float = 0.0) -> None:
        self.service = service
        self.logger = logger
        self.probe_seconds = probe_seconds
        self._lock = threading.Lock()
        self._since: float | None = None
        self._next_probe = 0.0
        self._failures = 0

    @property
    def is_down(self) -> bool:
        return self._since is not None

    def should_try(self) -> bool:
        """True when the service is up, or down and due for another try."""
        if self._since is None:
            return True
        with self._lock:
            now = time.monotonic()
            if now < self._next_probe:
                return False
            # One caller probes; the others keep to the fallback until it reports.
            self._next_probe = now + self.probe_seconds
            return True

    def failed(self, error: BaseException, *, fallback: str) -> None:
        with self._lock:
            self._failures += 1
            self._next_probe = time.monotonic() + self.probe_seconds
            if self._since is not None:
                return
            self._since = time.monotonic()
        self.logger.warning(
            "%s is unavailable (%s: %s): %s until it answers again; logged once per outage.",
            self.service,
            type(error).__name__,
            error,
            fallback,
            extra={"event": "outage_started", "service": self.service, "error": f"{type(error).__name__}: {error}"},
        )

    def succeeded(self) -> None:
        if self._since is None:
            return
        with self._lock:
            if self._since is None:
                return
            duration_ms = round((time.monotonic() - self._since) * 1000)
            failures, self._since, self._failures = self._failures, None, 0
        self.logger.warning(
            "%s is available again after %d ms (%d requests degraded meanwhile).",
            self.service,
            duration_ms,
            failures,
            extra={"event": "outage_ended", "service": self.service, "duration_ms": duration_ms, "failures": failures},
        )
