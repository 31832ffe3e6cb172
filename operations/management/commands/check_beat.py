"""`manage.py check_beat`: exit 0 when Celery beat has sent a periodic task recently.

The health check of the compose `beat` service. Beat's DatabaseScheduler records when
it last sent each entry (`last_run_at`, written back every few minutes); dayparting is
sent every minute, so a live beat's newest `last_run_at` is a few minutes old at most.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Max
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

# The DatabaseScheduler writes last_run_at back every 3 minutes (celery's sync_every),
# and the most frequent entry runs every minute: 6 minutes leaves room for both.
DEFAULT_MAX_AGE_SECONDS = 360


class Command(BaseCommand):
    help = "Exit 0 when beat sent a periodic task within --max-age seconds, else say so and exit 1."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--max-age", type=int, default=DEFAULT_MAX_AGE_SECONDS, help="seconds (default 360)")

    def handle(self, *args, max_age: int, **options) -> None:
        if max_age < 1:
            raise CommandError(f"--max-age {max_age} is not a positive number of seconds.")
        last_tick = PeriodicTask.objects.filter(enabled=True).aggregate(last=Max("last_run_at"))["last"]
        if last_tick is None:
            raise CommandError("beat has not sent any enabled periodic task yet")
        age = timezone.now() - last_tick
        if age > timedelta(seconds=max_age):
            raise CommandError(f"beat last sent a periodic task {int(age.total_seconds())} s ago (limit {max_age} s)")
        self.stdout.write(f"beat last sent a periodic task {int(age.total_seconds())} s ago")
