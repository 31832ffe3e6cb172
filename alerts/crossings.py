"""Finding budget crossings, set-based: one INSERT ... SELECT ... ON CONFLICT DO NOTHING.

After enforcement has applied the rule to some brands (the `brands_enforced` signal),
every campaign of those brands and every one of those brands is compared with its
daily and monthly budget at each of the brand's thresholds. Spend is read exactly as
the rule reads it (`campaigns.figures.campaigns_with_spend`, compiled into the
statement). A crossing not yet recorded for its local period becomes a `BudgetAlert`
row; one already recorded is skipped by the partial unique constraints, so two runs
at once cannot both create it. Only the rows this statement created come back, and
only they get deliveries.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import F

from alerts.delivery import deliveries_create_for_alerts, deliveries_enqueue_on_commit
from alerts.models import AlertThreshold, BrandAlertSettings, BudgetAlert
from brands.models import Brand
from campaigns.figures import campaigns_with_spend
from campaigns.models import Campaign

logger = logging.getLogger(__name__)

# A deadlock between two detections inserting overlapping crossings is possible in
# principle (rows are inserted in key order, which makes it rare); the loser retries.
DEADLOCK_RETRIES = 3


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _campaign_figures(brand_ids: list[int] | None, now: datetime) -> tuple[str, tuple]:
    campaigns = Campaign.objects.all() if brand_ids is None else Campaign.objects.filter(brand_id__in=brand_ids)
    figures = (
        campaigns_with_spend(campaigns, now=now)
        .filter(brand_today__isnull=False)  # a brand whose zone is unknown is skipped, as enforcement does
        .order_by()
        .values(
            c_id=F("id"),
            b_id=F("brand_id"),
            zone=F("brand__timezone"),
            day=F("brand_today"),
            month_start=F("brand_month_start"),
            day_spend=F("today_spend"),
            month_spend=F("month_to_date_spend"),
            c_daily_budget=F("daily_budget"),
            c_monthly_budget=F("monthly_budget"),
        )
    )
    return figures.query.sql_with_params()


def _thresholds(brand_ids: list[int] | None) -> tuple[str, list]:
    """(brand_id, percent) rows: the brand's own thresholds, else the defaults."""
    thresholds, settings_table, brands = _table(AlertThreshold), _table(BrandAlertSettings), _table(Brand)
    own = f"SELECT th.settings_id AS brand_id, th.percent AS percent FROM {thresholds} th"
    params: list = []
    if brand_ids is not None:
        own += f" WHERE th.settings_id IN ({', '.join(['%s'] * len(brand_ids))})"
        params += brand_ids
    defaults = settings.ALERT_DEFAULT_THRESHOLDS
    if not defaults:
        return own, params
    default_percents = " UNION ALL ".join(["SELECT %s AS percent"] * len(defaults))
    params += defaults
    default_rows = (
        f"SELECT b.id AS brand_id, d.percent AS percent FROM {brands} b CROSS JOIN ({default_percents}) d "
        f"WHERE NOT EXISTS (SELECT 1 FROM {settings_table} s WHERE s.brand_id = b.id)"
    )
    if brand_ids is not None:
        default_rows += f" AND b.id IN ({', '.join(['%s'] * len(brand_ids))})"
        params += brand_ids
    return f"{own} UNION ALL {default_rows}", params


def _reached(spend: str, budget: str) -> str:
    # In whole cents, so SQLite's floating point cannot miss a crossing by a hair; a budget
    # of 0 has no percentage (the rule pauses it at once; the status-change feed tells).
    return f"{budget} > 0 AND ROUND({spend} * 100) * 100 >= ROUND({budget} * 100) * t.percent"


def _crossings_statement(brand_ids: list[int] | None, now: datetime, source: str) -> tuple[str, list]:
    figures_sql, figures_params = _campaign_figures(brand_ids, now)
    thresholds_sql, thresholds_params = _thresholds(brand_ids)
    alerts, brands = _table(BudgetAlert), _table(Brand)
    campaign_rows = [
        f"SELECT 'campaign' AS scope, '{period}' AS period, f.b_id AS brand_id, f.c_id AS campaign_id, "
        f"f.{start} AS period_start, t.percent AS threshold_percent, f.{spend} AS spend, f.{budget} AS budget, "
        f"f.zone AS zone FROM f JOIN t ON t.brand_id = f.b_id WHERE {_reached('f.' + spend, 'f.' + budget)}"
        for period, start, spend, budget in (
            ("daily", "day", "day_spend", "c_daily_budget"),
            ("monthly", "month_start", "month_spend", "c_monthly_budget"),
        )
    ]
    brand_rows = [
        f"SELECT 'brand', '{period}', g.b_id, NULL, g.{start}, t.percent, g.{spend}, b.{budget}, g.zone "
        f"FROM g JOIN {brands} b ON b.id = g.b_id JOIN t ON t.brand_id = g.b_id "
        f"WHERE {_reached('g.' + spend, 'b.' + budget)}"
        for period, start, spend, budget in (
            ("daily", "day", "day_spend", "daily_budget"),
            ("monthly", "month_start", "month_spend", "monthly_budget"),
        )
    ]
    # The campaigns' figures are computed once (f) and summed per brand (g): a brand's
    # spend is the sum over all its campaigns, whatever their status, as in the rule.
    sql = (
        f"WITH f AS ({figures_sql}), t AS ({thresholds_sql}), "
        "g AS (SELECT b_id, zone, day, month_start, SUM(day_spend) AS day_spend, SUM(month_spend) AS month_spend "
        "FROM f GROUP BY b_id, zone, day, month_start), "
        f"crossings AS ({' UNION ALL '.join(campaign_rows + brand_rows)}) "
        f"INSERT INTO {alerts} (scope, period, brand_id, campaign_id, period_start, threshold_percent, spend, "
        "budget, timezone, crossed_at, source) "
        "SELECT scope, period, brand_id, campaign_id, period_start, threshold_percent, spend, budget, zone, %s, %s "
        "FROM crossings WHERE 1 = 1 "
        # One insert order for everyone: concurrent detections wait for each other
        # instead of deadlocking on each other's rows.
        "ORDER BY scope, brand_id, campaign_id, period, period_start, threshold_percent "
        "ON CONFLICT DO NOTHING RETURNING id"
    )
    params = [*figures_params, *thresholds_params, connection.ops.adapt_datetimefield_value(now), source]
    return sql, params


def budget_alerts_detect(*, brand_ids: Iterable[int] | None, now: datetime, source: str) -> list[int]:
    """Record every threshold crossing of these brands (None: all) at `now` not yet recorded.

    Returns the ids of the alerts created by this call; their deliveries are created in
    the same transaction and enqueued after it commits. A fixed number of statements,
    however many campaigns.
    """
    brand_ids = None if brand_ids is None else sorted(set(brand_ids))
    if brand_ids == []:
        return []
    sql, params = _crossings_statement(brand_ids, now, source)
    for attempt in range(1, DEADLOCK_RETRIES + 1):
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(sql, params)
                    new_ids = [row[0] for row in cursor.fetchall()]
                deliveries = deliveries_create_for_alerts(alert_ids=new_ids) if new_ids else []
                deliveries_enqueue_on_commit(delivery_ids=[delivery.pk for delivery in deliveries])
            break
        except OperationalError as error:
            if "deadlock" not in str(error).lower() or attempt == DEADLOCK_RETRIES:
                raise
            logger.warning("budget alert detection deadlocked (attempt %d), retrying", attempt)
    if new_ids:
        logger.info(
            "budget alerts: %d new (%s)",
            len(new_ids),
            source,
            extra={"event": "budget_alerts", "alerts_created": len(new_ids), "source": source},
        )
    return new_ids
