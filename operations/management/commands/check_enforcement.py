"""`manage.py check_enforcement`: exit 1 and say what is late, for cron or a monitor."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from operations.heartbeats import enforcement_late_tasks, thresholds


class Command(BaseCommand):
    help = (
        "Exit 0 when every watched enforcement task finished within its threshold "
        "(ENFORCEMENT_LATE_*_MINUTES), else print what is late and exit 1."
    )

    def handle(self, *args, **options) -> None:
        now = timezone.now()
        late = enforcement_late_tasks(now=now)
        if late:
            # CommandError prints to stderr and exits 1.
            raise CommandError("enforcement is late: " + "; ".join(task.describe(now) for task in late))
        watched = ", ".join(
            f"{name} (within {limit.total_seconds() / 60:g} min)" for name, limit in thresholds().items()
        )
        self.stdout.write(f"enforcement on time: {watched}")
