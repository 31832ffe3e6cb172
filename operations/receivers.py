"""Receivers of the engine's run signals: keep the task heartbeats.

The engine sends with `send_robust`, which swallows a receiver's exception silently;
these log their own failure instead, so a heartbeat that stopped being written shows
up in the logs, not only as a late task.
"""

import logging

from django.dispatch import receiver

from campaigns.signals import enforcement_run_finished, enforcement_run_started
from operations.heartbeats import heartbeat_record_finished, heartbeat_record_started

logger = logging.getLogger(__name__)


@receiver(enforcement_run_started, dispatch_uid="operations.heartbeat_started")
def record_run_started(sender, *, task_name, started_at, **kwargs) -> None:
    try:
        heartbeat_record_started(task_name=task_name, started_at=started_at)
    except Exception:
        logger.exception("could not record the start of %s in its heartbeat", task_name)


@receiver(enforcement_run_finished, dispatch_uid="operations.heartbeat_finished")
def record_run_finished(sender, *, task_name, started_at, finished_at, summary=None, **kwargs) -> None:
    try:
        heartbeat_record_finished(task_name=task_name, started_at=started_at, finished_at=finished_at, summary=summary)
    except Exception:
        logger.exception("could not record the finish of %s in its heartbeat", task_name)
