import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from budget_system.money import money_field
from budget_system.timezones import local_date

# The first day spend may be dated: no campaign of this system ran before it, and a
# date like 0001-01-01 is a feed's placeholder, not a day of spend.
SPEND_DATE_FLOOR = dt.date(2000, 1, 1)


class Spend(models.Model):
    """A campaign's spend as reported from outside, one row per day of its brand's calendar."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE)
    date = models.DateField(help_text="A day of the brand's calendar (its timezone).")
    daily_spend = money_field("daily spend (USD)")
    monthly_spend = money_field(
        "month-to-date spend (USD)", help_text="Spend from the 1st of the month up to and including this date."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "spend"
        ordering = ["-date", "campaign_id"]
        constraints = [
            # Also the index of the enforcement lookups: a campaign's row for today and its
            # latest row of the month (WHERE campaign_id = ? AND date BETWEEN ? AND ?).
            models.UniqueConstraint(fields=["campaign", "date"], name="spend_unique_campaign_date"),
            models.CheckConstraint(condition=Q(daily_spend__gte=0), name="spend_daily_non_negative"),
            models.CheckConstraint(
                condition=Q(date__gte=SPEND_DATE_FLOOR),
                name="spend_date_from_2000",
                violation_error_message=f"date must be {SPEND_DATE_FLOOR} or later.",
            ),
            models.CheckConstraint(
                condition=Q(monthly_spend__gte=F("daily_spend")),
                name="spend_monthly_at_least_daily",
                violation_error_message="monthly_spend must be at least daily_spend.",
            ),
        ]
        indexes = [
            # The admin spend list and date hierarchy: ORDER BY date DESC, campaign_id.
            models.Index(fields=["-date", "campaign"], name="spend_date_campaign_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} on {self.date}"

    def clean(self) -> None:
        super().clean()
        errors = {}
        if self.daily_spend is not None and self.monthly_spend is not None and self.monthly_spend < self.daily_spend:
            errors["monthly_spend"] = ValidationError(
                "monthly_spend %(monthly)s is less than daily_spend %(daily)s.",
                code="monthly_below_daily",
                params={"monthly": self.monthly_spend, "daily": self.daily_spend},
            )
        if self.date is not None and self.date < SPEND_DATE_FLOOR:
            errors["date"] = ValidationError(
                "date %(date)s is before %(floor)s: spend dates start on %(floor)s.",
                code="before_floor",
                params={"date": self.date, "floor": SPEND_DATE_FLOOR},
            )
        elif self.date is not None and self.campaign_id is not None:
            brand = self.campaign.brand
            brand_today = local_date(timezone.now(), brand.timezone)
            if self.date > brand_today:
                errors["date"] = ValidationError(
                    "date %(date)s is after today (%(today)s) in the brand's timezone %(tz)s.",
                    code="future_date",
                    params={"date": self.date, "today": brand_today, "tz": brand.timezone},
                )
        if errors:
            raise ValidationError(errors)
