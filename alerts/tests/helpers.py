"""Builders shared by the alerts tests."""

import datetime
from decimal import Decimal

from spend.models import Spend


def report_spend(campaign, day: datetime.date, daily, monthly=None) -> None:
    """Store the campaign's spend for `day` as an ETL would (insert or replace)."""
    daily = Decimal(str(daily))
    Spend.objects.update_or_create(
        campaign=campaign,
        date=day,
        defaults={"daily_spend": daily, "monthly_spend": Decimal(str(monthly)) if monthly is not None else daily},
    )
