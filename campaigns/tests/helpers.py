"""Small builders shared by the enforcement tests."""

import datetime
from decimal import Decimal

from campaigns.models import Campaign
from spend.models import Spend


def money(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def add_spend(campaign: Campaign, day: datetime.date, daily, monthly=None) -> Spend:
    """A spend row as an ETL would report it (written straight, as the ETL may)."""
    return Spend.objects.create(
        campaign=campaign,
        date=day,
        daily_spend=money(daily),
        monthly_spend=money(daily if monthly is None else monthly),
    )


def state(campaign: Campaign) -> tuple[str, str]:
    campaign.refresh_from_db()
    return campaign.status, campaign.pause_reason
