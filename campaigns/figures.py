"""Spend figures as the rule reads them, for showing and for set-based reads.

A campaign's spend today and month-to-date in its brand's calendar, as ORM expressions,
so the API, the admin lists, forecasts and alerts read exactly what enforcement reads.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Case, DateField, DecimalField, OuterRef, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce

from brands.models import Brand
from budget_system.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from budget_system.timezones import local_date, month_start, timezone_names
from campaigns.models import Campaign
from spend.models import Spend

ZERO = Decimal("0.00")


def campaign_spend_expressions(today, first_of_month) -> tuple[Coalesce, Coalesce]:
    """A campaign's spend today and month-to-date, as expressions to annotate campaigns with.

    Daily: its row dated `today`, else 0. Month-to-date: its latest row from
    `first_of_month` to `today`, else 0 (rows after today are ignored; last month's rows
    never count). Both arguments are dates, or expressions such as `OuterRef` of a
    per-brand annotation (the campaigns API does that).
    """
    money = DecimalField(max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES)
    todays_row = Spend.objects.filter(campaign=OuterRef("pk"), date=today).order_by()
    latest_row_this_month = Spend.objects.filter(
        campaign=OuterRef("pk"), date__gte=first_of_month, date__lte=today
    ).order_by("-date")
    daily = Coalesce(
        Subquery(todays_row.values("daily_spend")[:1], output_field=money), Value(ZERO), output_field=money
    )
    monthly = Coalesce(
        Subquery(latest_row_this_month.values("monthly_spend")[:1], output_field=money),
        Value(ZERO),
        output_field=money,
    )
    return daily, monthly


def brand_local_dates(timezone_names_in_use: Iterable[str], *, now: datetime) -> dict[date, list[str]]:
    """The zones grouped by their local date at `now` (at most three dates at any instant).

    A name outside the IANA database (a row written straight to the table) is left out.
    """
    zones_by_today: dict[date, list[str]] = defaultdict(list)
    for name in set(timezone_names_in_use):
        if name in timezone_names():
            zones_by_today[local_date(now, name)].append(name)
    return zones_by_today


def campaigns_with_spend(campaigns: QuerySet[Campaign], *, now: datetime) -> QuerySet[Campaign]:
    """Annotate `brand_today`, `today_spend` and `month_to_date_spend` per the rule's reading.

    Each brand has its own today. At any instant the brands' local dates are at most
    three, so `brand_today` is a CASE over the distinct dates (keyed by timezone name;
    one small query finds the zones in use) and the spend comes from two correlated
    subqueries on the (campaign, date) unique index: set-based however many rows.
    """
    zones = Brand.objects.filter(pk__in=campaigns.values("brand_id")).order_by().values_list("timezone", flat=True)
    zones_by_today = brand_local_dates(zones.distinct(), now=now)
    brand_today = Case(
        *(When(brand__timezone__in=names, then=Value(day)) for day, names in zones_by_today.items()),
        default=Value(None),
        output_field=DateField(),
    )
    brand_month_start = Case(
        *(When(brand__timezone__in=names, then=Value(month_start(day))) for day, names in zones_by_today.items()),
        default=Value(None),
        output_field=DateField(),
    )
    today_spend, month_to_date_spend = campaign_spend_expressions(
        OuterRef("brand_today"), OuterRef("brand_month_start")
    )
    return campaigns.annotate(brand_today=brand_today, brand_month_start=brand_month_start).annotate(
        today_spend=today_spend, month_to_date_spend=month_to_date_spend
    )


def brand_spend_totals(*, brand_ids: Iterable[int], now: datetime) -> dict[int, tuple[Decimal, Decimal]]:
    """(spend today, month-to-date) of each brand: the sums over all its campaigns, as the rule reads them."""
    rows = (
        campaigns_with_spend(Campaign.objects.filter(brand_id__in=list(brand_ids)), now=now)
        .order_by()
        .values("brand_id")
        .annotate(daily=Sum("today_spend"), monthly=Sum("month_to_date_spend"))
    )
    return {row["brand_id"]: (row["daily"] or ZERO, row["monthly"] or ZERO) for row in rows}
