"""The Celery application: `app`, configured from Django settings (CELERY_ namespace)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "budget_system.settings")

app = Celery("budget_system")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# A web request that enqueues may wait this long on a stopped or frozen broker, once:
# the settings' socket timeouts (5 s, with a retry) suit workers, not a client waiting.
QUICK_PUBLISH_TIMEOUT_SECONDS = 0.25


def send_quickly(signature, **options):
    """Publish `signature` on a connection of its own that gives up within a fraction of
    a second and never retries; the caller decides what a failure means (it raises).

    Eager mode runs the task in-process, as `apply_async` always does there.
    """
    if app.conf.task_always_eager:
        return signature.apply_async(**options)
    quick = {
        "socket_timeout": QUICK_PUBLISH_TIMEOUT_SECONDS,
        "socket_connect_timeout": QUICK_PUBLISH_TIMEOUT_SECONDS,
        "max_retries": 0,
    }
    with app.connection_for_write(transport_options=quick) as connection:
        return signature.apply_async(connection=connection, retry=False, **options)
