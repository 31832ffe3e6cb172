"""The rule of `campaigns/enforcement.py`, as set-based SQL for PostgreSQL.

`decide_campaign_status` is the readable reference; this module states the same rule
over a whole set of campaigns in one statement, and a property test
(`campaigns/tests/test_sql_agrees_with_rule.py`) keeps the two equal. A run over a
selection is a fixed number of statements however many campaigns it holds:

1. lock the selected campaign rows, in id order (the one lock order of the project);
2. decide them at the instant taken right after the lock, and in the same statement
   `UPDATE … FROM` the rows whose (status, reason) differ and `INSERT … SELECT` their
   audit rows with the figures that decided them.

Time comes from `zoneinfo` only: for every IANA zone, Python computes the local date,
the first of the month, the weekday and the wall-clock time at the instant and passes
them in as arrays, so PostgreSQL's own tz database never decides anything. Every
statement reads only the selection's brands (no join across brands), so the tables
could be distributed by brand id without changing it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection

from brands.models import Brand
from budget_system.timezones import timezone_names, zone
from campaigns.models import Campaign, CampaignStatusChange
from dayparting.models import DaypartingSchedule
from spend.models import Spend

logger = logging.getLogger(__name__)

# Per-change log lines per statement; past this, one line per kind of change (the audit
# trail has every change). Logging costs ~8 µs a line: 500,000 lines would be 4 s.
LOG_CHANGES_LIMIT = 1000

# Statement settings for the run's transaction: JIT compiles these big plans for
# seconds before running them, the default 4 MB work_mem sends the brand-total window
# sort to disk, and shards already run in parallel on the workers (one core each).
SESSION_SETTINGS = "SET LOCAL jit = off; SET LOCAL work_mem = '256MB'; SET LOCAL max_parallel_workers_per_gather = 0"


@dataclass(frozen=True)
class SqlSelection:
    """Which campaigns a run decides, as SQL over a campaign row aliased `c`.

    `where` picks the campaigns to decide; `brands_where` (over the brand id column
    named `{brand}`) narrows the brands they can belong to. The figures are then read
    for every campaign of the selected campaigns' brands: all of them count towards the
    brand totals, whatever the selection.
    """

    where: str
    params: tuple[Any, ...]
    brands_where: str
    brands_params: tuple[Any, ...]


@lru_cache(maxsize=1)
def _zone_names() -> tuple[str, ...]:
    return tuple(sorted(timezone_names()))


def zone_parameters(now: datetime) -> dict[str, Any]:
    """Each IANA zone's local date, month start, weekday and wall-clock time at `now`."""
    names = _zone_names()
    local = [now.astimezone(zone(name)) for name in names]
    return {
        "zone_names": list(names),
        "zone_today": [moment.date() for moment in local],
        "zone_month_start": [moment.date().replace(day=1) for moment in local],
        "zone_weekday": [moment.weekday() for moment in local],
        # fold=0 and no tzinfo: the wall clock, as dayparting/windows.py compares it.
        "zone_wall_time": [moment.time().replace(tzinfo=None, fold=0) for moment in local],
    }


def _tables() -> dict[str, str]:
    quote = connection.ops.quote_name
    return {
        "brand": quote(Brand._meta.db_table),
        "campaign": quote(Campaign._meta.db_table),
        "spend": quote(Spend._meta.db_table),
        "window": quote(DaypartingSchedule._meta.db_table),
        "audit": quote(CampaignStatusChange._meta.db_table),
        "user": quote(get_user_model()._meta.db_table),
        "username": quote(get_user_model().USERNAME_FIELD),
    }


def _decided_sql(selection: SqlSelection, brand_ids: list[int]) -> tuple[str, list[Any]]:
    """CTEs ending in `decided`: one row per selected campaign, its stored state and the rule's.

    Reads like SPEC §4: the campaign's row of the month that is latest up to today (its
    month-to-date, and its daily spend if dated today), brand totals over all the
    brand's campaigns, whether any window of the campaign holds `now`, then the first
    reason that holds. Named parameters come from `zone_parameters`.
    """
    t = _tables()
    sql = f"""
WITH zone AS (
    SELECT * FROM unnest(%(zone_names)s::text[], %(zone_today)s::date[], %(zone_month_start)s::date[],
                         %(zone_weekday)s::int[], %(zone_wall_time)s::time[])
        AS z(name, today, month_start, weekday, wall_time)
), window_state AS (
    -- Whether each dayparted campaign of the brands is inside one of its windows now.
    SELECT w.campaign_id, count(*) AS windows,
           bool_or(CASE WHEN w.end_time > w.start_time
                        THEN wz.weekday = w.day_of_week
                             AND wz.wall_time >= w.start_time AND wz.wall_time < w.end_time
                        ELSE (wz.weekday = w.day_of_week AND wz.wall_time >= w.start_time)
                          OR (wz.weekday = (w.day_of_week + 1) %% 7 AND wz.wall_time < w.end_time)
                   END) AS open
    FROM {t["campaign"]} dc
    JOIN {t["window"]} w ON w.campaign_id = dc.id
    JOIN zone wz ON wz.name = w.timezone
    WHERE dc.is_dayparting_enabled AND dc.brand_id = ANY(%(brand_ids)s::bigint[])
    GROUP BY w.campaign_id
), figures AS (
    SELECT c.id, c.brand_id, c.name AS campaign_name, b.name AS brand_name,
           c.status, c.pause_reason, c.is_dayparting_enabled,
           c.daily_budget, c.monthly_budget,
           b.daily_budget AS brand_daily_budget, b.monthly_budget AS brand_monthly_budget,
           b.timezone AS brand_timezone, z.today,
           COALESCE(CASE WHEN latest.date = z.today THEN latest.daily_spend END, 0.00) AS daily,
           COALESCE(latest.monthly_spend, 0.00) AS monthly,
           COALESCE(window_state.windows, 0) AS windows, COALESCE(window_state.open, false) AS in_window
    FROM {t["brand"]} b
    JOIN zone z ON z.name = b.timezone
    JOIN {t["campaign"]} c ON c.brand_id = b.id
    LEFT JOIN LATERAL (
        SELECT s.date, s.daily_spend, s.monthly_spend FROM {t["spend"]} s
        WHERE s.campaign_id = c.id AND s.date BETWEEN z.month_start AND z.today
        ORDER BY s.date DESC LIMIT 1
    ) latest ON true
    LEFT JOIN window_state ON window_state.campaign_id = c.id
    WHERE b.id = ANY(%(brand_ids)s::bigint[])
), with_totals AS (
    SELECT f.*, sum(f.daily) OVER brand AS brand_daily, sum(f.monthly) OVER brand AS brand_monthly
    FROM figures f WINDOW brand AS (PARTITION BY f.brand_id)
), reasoned AS (
    SELECT c.*,
           CASE WHEN c.brand_monthly_budget IS NOT NULL AND c.brand_monthly >= c.brand_monthly_budget
                    THEN 'BRAND_MONTHLY_BUDGET'
                WHEN c.monthly_budget IS NOT NULL AND c.monthly >= c.monthly_budget THEN 'MONTHLY_BUDGET'
                WHEN c.brand_daily_budget IS NOT NULL AND c.brand_daily >= c.brand_daily_budget
                    THEN 'BRAND_DAILY_BUDGET'
                WHEN c.daily_budget IS NOT NULL AND c.daily >= c.daily_budget THEN 'DAILY_BUDGET'
                WHEN c.is_dayparting_enabled AND NOT c.in_window THEN 'DAYPARTING'
                ELSE ''
           END AS new_reason
    FROM with_totals c
    WHERE {selection.where}
), decided AS (
    SELECT r.*, CASE WHEN r.new_reason = '' THEN 'ACTIVE' ELSE 'PAUSED_BY_SYSTEM' END AS new_status
    FROM reasoned r
), changed AS (
    SELECT * FROM decided WHERE (status, pause_reason) IS DISTINCT FROM (new_status, new_reason)
)"""
    return sql, [*selection.params]


# The figures that decided a change, as strings (SPEC §6), over a `changed` row `ch`;
# built only for the rows that change.
DETAILS_SQL = """jsonb_build_object(
        'now', %(now_text)s::text, 'timezone', ch.brand_timezone, 'local_date', ch.today::text,
        'brand_monthly_spend', ch.brand_monthly::text,
        'brand_monthly_budget', COALESCE(ch.brand_monthly_budget::text, ''),
        'campaign_monthly_spend', ch.monthly::text,
        'campaign_monthly_budget', COALESCE(ch.monthly_budget::text, ''),
        'brand_daily_spend', ch.brand_daily::text,
        'brand_daily_budget', COALESCE(ch.brand_daily_budget::text, ''),
        'campaign_daily_spend', ch.daily::text,
        'campaign_daily_budget', COALESCE(ch.daily_budget::text, '')
    ) || CASE WHEN ch.is_dayparting_enabled
              THEN jsonb_build_object('dayparting_windows', ch.windows::text,
                                      'in_dayparting_window', ch.in_window::text)
              ELSE '{}'::jsonb END"""


def _named(sql: str, positional: list[Any], named: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """One parameter style for the statement: positional %s become named ones."""
    params = dict(named)
    parts = sql.split("%s")
    out = [parts[0]]
    for index, part in enumerate(parts[1:]):
        key = f"p{index}"
        params[key] = positional[index]
        out.append(f"%({key})s{part}")
    return "".join(out), params


def selection_brands(selection: SqlSelection, *, lock: bool) -> tuple[int, list[int]]:
    """The selected campaigns' count and brand ids, locking the campaigns in id order if `lock`.

    FOR NO KEY UPDATE, not FOR UPDATE: spend rows referencing a campaign take KEY SHARE
    locks for their foreign key, which this does not block. A campaign whose brand's
    timezone is unknown is neither locked nor decided (`unknown_timezones` logs it).
    The brand ids, passed on as an array, also give the planner the decision's true size.
    """
    t = _tables()
    locking = "ORDER BY c.id FOR NO KEY UPDATE OF c" if lock else ""
    with connection.cursor() as cursor:
        cursor.execute(SESSION_SETTINGS)
        cursor.execute(
            f"SELECT count(*), array_agg(DISTINCT brand_id) FROM (SELECT c.id, c.brand_id FROM {t['campaign']} c "
            f"JOIN {t['brand']} b ON b.id = c.brand_id "
            f"WHERE {selection.where} AND {selection.brands_where.replace('{brand}', 'b.id')} "
            f"AND b.timezone = ANY(%s) {locking}) selected",
            [*selection.params, *selection.brands_params, list(_zone_names())],
        )
        count, brand_ids = cursor.fetchone()
    return count, brand_ids or []


def unknown_timezones(limit: int = 100) -> list[tuple[str, int, int | None, str]]:
    """Brands and windows whose stored timezone is not an IANA name (written past the validation).

    (kind, id, campaign id for a window, the name), at most `limit` of each kind.
    """
    t = _tables()
    zones = list(_zone_names())
    with connection.cursor() as cursor:
        cursor.execute(
            f"(SELECT 'brand', id, NULL::bigint, timezone FROM {t['brand']} WHERE timezone <> ALL(%s) "
            f"ORDER BY id LIMIT %s) UNION ALL "
            f"(SELECT 'window', id, campaign_id, timezone FROM {t['window']} WHERE timezone <> ALL(%s) "
            f"ORDER BY id LIMIT %s)",
            [zones, limit, zones, limit],
        )
        return cursor.fetchall()


@dataclass(frozen=True)
class Transition:
    old_status: str
    old_reason: str
    new_status: str
    new_reason: str
    count: int


@dataclass(frozen=True)
class AppliedChanges:
    transitions: list[Transition]
    # The first LOG_CHANGES_LIMIT changes, by campaign id, for the log.
    sample: list[tuple[int, str, str, str, str]]


def decide_and_write(
    selection: SqlSelection, *, brand_ids: list[int], now: datetime, source: str, actor: str, user_id: int | None
) -> AppliedChanges:
    """Decide the (locked) selection at `now`; write what differs and its audit rows.

    The UPDATE is also conditional on the status it was decided from, so a row that
    somebody else changed meanwhile (one the lock did not cover) is left alone, and
    only the rows actually updated get an audit row.
    """
    t = _tables()
    decided, positional = _decided_sql(selection, brand_ids)
    positional += list(selection.params)
    sql = f"""{decided}, updated AS (
    UPDATE {t["campaign"]} c SET status = ch.new_status, pause_reason = ch.new_reason, updated_at = %(now)s
    FROM changed ch
    WHERE c.id = ch.id AND c.status = ch.status AND c.pause_reason = ch.pause_reason
      AND {selection.where}  -- the selection's own rows: the join stays within its brands
    RETURNING ch.*
), audited AS (
    INSERT INTO {t["audit"]} (campaign_id, campaign_name, brand_id, brand_name, created_at, old_status,
                              new_status, old_reason, new_reason, actor, user_id, username, source, details)
    SELECT ch.id, ch.campaign_name, ch.brand_id, ch.brand_name, %(now)s, ch.status,
           ch.new_status, ch.pause_reason, ch.new_reason, %(actor)s, %(user_id)s,
           COALESCE((SELECT u.{t["username"]} FROM {t["user"]} u WHERE u.id = %(user_id)s), ''),
           %(source)s, {DETAILS_SQL}
    FROM updated ch  -- the rows updated, with the figures that decided them
    RETURNING campaign_id, old_status, old_reason, new_status, new_reason
)
SELECT 'transition', NULL, old_status, old_reason, new_status, new_reason, count(*)
FROM audited GROUP BY old_status, old_reason, new_status, new_reason
UNION ALL
(SELECT 'change', campaign_id, old_status, old_reason, new_status, new_reason, 1
 FROM audited ORDER BY campaign_id LIMIT %(log_limit)s)"""
    named = zone_parameters(now) | {
        "now": now,
        "now_text": now.astimezone(UTC).isoformat(),
        "actor": actor,
        "user_id": user_id,
        "source": source,
        "log_limit": LOG_CHANGES_LIMIT,
        "brand_ids": brand_ids,
    }
    sql, params = _named(sql, positional, named)
    transitions, sample = [], []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for kind, campaign_id, old_status, old_reason, new_status, new_reason, count in cursor.fetchall():
            if kind == "transition":
                transitions.append(Transition(old_status, old_reason, new_status, new_reason, count))
            else:
                sample.append((campaign_id, old_status, old_reason, new_status, new_reason))
    return AppliedChanges(transitions, sample)


def preview_changes(selection: SqlSelection, *, now: datetime):
    """What `decide_and_write` would change at `now`, writing nothing: rows of
    (campaign id, old status, old reason, new status, new reason, details), by id.

    The same statement up to the writes, so a preview cannot drift from a run. Rows are
    streamed from a server-side cursor, so a preview of a million changes stays small.
    Call it inside a transaction (a server-side cursor needs one).
    """
    _, brand_ids = selection_brands(selection, lock=False)
    decided, positional = _decided_sql(selection, brand_ids)
    sql = f"""{decided}
SELECT ch.id, ch.status, ch.pause_reason, ch.new_status, ch.new_reason, {DETAILS_SQL} FROM changed ch ORDER BY ch.id"""
    named = zone_parameters(now) | {"now_text": now.astimezone(UTC).isoformat(), "brand_ids": brand_ids}
    sql, params = _named(sql, positional, named)
    with connection.connection.cursor(name="enforcement_preview") as cursor:
        cursor.itersize = 2000
        cursor.execute(sql, params)
        for campaign_id, old_status, old_reason, new_status, new_reason, details in cursor:
            yield campaign_id, old_status, old_reason, new_status, new_reason, _json(details)


def _json(value: Any) -> dict[str, str]:
    # Django's psycopg2 setup hands jsonb over as text.
    return json.loads(value) if isinstance(value, str) else value
