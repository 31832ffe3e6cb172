"""The Celery application: `app`, configured from Django settings (CELERY_ namespace)."""

import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "budget_system.settings")

app = Celery("budget_system")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# A worker waits this long for a broker that stopped answering (a Redis fork, swap or
# SIGSTOP) rather than the settings' 5 s: an acknowledgement that times out is dropped
# by kombu while its prefetch slot stays taken, and with every slot taken the worker
# stops taking tasks for good (seen after a 12 s freeze). Waiting out the freeze keeps
# the slot's acknowledgement, and the worker, alive.
WORKER_BROKER_SOCKET_TIMEOUT_SECONDS = 120


# Set in a worker process (and the pool children it forks).
in_worker = False


@worker_init.connect
def worker_waits_out_a_frozen_broker(sender, **kwargs) -> None:
    global in_worker
    in_worker = True
    options = sender.app.conf.broker_transport_options or {}
    if "socket_timeout" in options:
        sender.app.conf.broker_transport_options = options | {"socket_timeout": WORKER_BROKER_SOCKET_TIMEOUT_SECONDS}


# A web request that enqueues may wait this long on a stopped or frozen broker, once:
# the settings' socket timeouts (5 s, with a retry) suit workers, not a client waiting.
QUICK_PUBLISH_TIMEOUT_SECONDS = 0.25


def send_quickly(signature, **options):
    """Publish `signature` on a connection of its own that gives up within a fraction of
    a second and never retries; the caller decides what a failure means (it raises).

    In a worker, which waits out the broker anyway, and in eager mode (which runs the
    task in-process) it is a plain `apply_async`: a Redis blip must not drop a worker's
    follow-up work.
    """
    if in_worker or app.conf.task_always_eager:
        return signature.apply_async(**options)
    quick = {
        "socket_timeout": QUICK_PUBLISH_TIMEOUT_SECONDS,
        "socket_connect_timeout": QUICK_PUBLISH_TIMEOUT_SECONDS,
        "max_retries": 0,
    }
    with app.connection_for_write(transport_options=quick) as connection:
        return signature.apply_async(connection=connection, retry=False, **options)
