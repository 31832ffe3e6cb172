from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from budget_system.timezones import validate_timezone_name


class DaypartingSchedule(models.Model):
    """A weekly window in which the campaign may run, read as wall-clock time in `timezone`.

    The window starts at `start_time` on `day_of_week` and ends, exclusive, at `end_time`
    the same day when `end_time > start_time`, otherwise the next day (so 22:00-02:00
    runs overnight and 00:00-00:00 is the whole day).
    """

    class Weekday(models.IntegerChoices):
        MONDAY = 0
        TUESDAY = 1
        WEDNESDAY = 2
        THURSDAY = 3
        FRIDAY = 4
        SATURDAY = 5
        SUNDAY = 6

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="dayparting_schedules")
    day_of_week = models.PositiveSmallIntegerField(
        choices=Weekday.choices, validators=[MinValueValidator(0), MaxValueValidator(6)]
    )
    start_time = models.TimeField()
    end_time = models.TimeField(help_text="Exclusive; at or before the start time means the next day.")
    timezone = models.CharField(
        max_length=64, default="UTC", validators=[validate_timezone_name], help_text="IANA name."
    )
    # Windows added, moved and removed, with who did it (django-simple-history).
    history = HistoricalRecords()

    class Meta:
        ordering = ["campaign_id", "day_of_week", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(day_of_week__gte=0) & Q(day_of_week__lte=6),
                name="dayparting_day_of_week_0_to_6",
                violation_error_message="day_of_week must be 0 (Monday) to 6 (Sunday).",
            ),
            models.CheckConstraint(condition=~Q(timezone=""), name="dayparting_timezone_not_empty"),
        ]
        # The foreign key's index serves the enforcement lookup
        # (WHERE campaign_id IN (...)); no other query reads this table.

    def __str__(self) -> str:
        return f"{self.get_day_of_week_display()} {self.start_time:%H:%M}-{self.end_time:%H:%M} {self.timezone}"
