from django.db import models
from simple_history.models import HistoricalRecords

from budget_system.money import money_field, null_or_non_negative
from budget_system.timezones import validate_timezone_name


class Brand(models.Model):
    """An advertiser; its budgets cap the sum of all its campaigns' spend."""

    name = models.CharField(max_length=200, unique=True)
    daily_budget = money_field("daily budget (USD)", optional=True)
    monthly_budget = money_field("monthly budget (USD)", optional=True)
    timezone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_timezone_name],
        help_text="IANA name, e.g. America/New_York: the brand's day and month boundaries.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Who changed the budgets or the calendar, and from what (django-simple-history).
    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["name"]
        constraints = [
            null_or_non_negative("daily_budget", name="brand_daily_budget_null_or_non_negative"),
            null_or_non_negative("monthly_budget", name="brand_monthly_budget_null_or_non_negative"),
            models.CheckConstraint(condition=~models.Q(timezone=""), name="brand_timezone_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name
