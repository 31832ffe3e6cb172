"""The status-change feed: the audit trail in commit order, with a cursor that skips nothing.

Each change has a position (txid, id): the id of the transaction that wrote it (0 on
SQLite) and its own id. A reader asks for the changes after the position it holds, and
only gets changes of transactions that have all finished (below the "horizon"): on
PostgreSQL, transactions older than the oldest one of this database still in progress
in the snapshot (sessions on other databases of the server cannot write these rows);
every transaction that could still commit has a txid at or above it, so it cannot land
behind a position already handed out. On SQLite writers are serialized, so every id up
to the largest one seen is final. Positions are ordered, so a client that keeps the last
cursor gets each change exactly once, in order, however transactions interleave.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Max, Q, QuerySet

from campaigns.models import CampaignStatusChange

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
_CURSOR = re.compile(r"(0|[1-9][0-9]{0,18})-(0|[1-9][0-9]{0,18})")
_MAX_BIGINT = 2**63 - 1


class FeedCursorError(ValueError):
    def __init__(self, value: str) -> None:
        self.value = value
        super().__init__(
            f"after={value!r} is not a cursor: pass the next_cursor of an earlier page, "
            "or nothing to start at the beginning"
        )


@dataclass(frozen=True, order=True)
class FeedPosition:
    txid: int
    id: int

    def __str__(self) -> str:
        return f"{self.txid}-{self.id}"


START = FeedPosition(0, 0)


def feed_cursor_parse(value: str | None) -> FeedPosition:
    """The position a cursor string stands for; FeedCursorError names a malformed one."""
    if value is None or value == "":
        return START
    match = _CURSOR.fullmatch(value)
    if not match or int(match[1]) > _MAX_BIGINT or int(match[2]) > _MAX_BIGINT:
        raise FeedCursorError(value)
    return FeedPosition(int(match[1]), int(match[2]))


# The lowest transaction id that may still commit rows in this database: the snapshot's
# in-progress ids, less those of sessions connected to other databases of the server
# (they cannot write our tables, so they must not hold the feed back), else its xmax.
# An in-progress id whose session is not found (it ended meanwhile, a prepared
# transaction, stats hidden) counts as ours: the horizon can only err low, never high.
_HORIZON_SQL = """
WITH snap AS (SELECT pg_current_snapshot() AS s),
other_databases AS (
    SELECT (backend_xid::text)::bigint AS xid32 FROM pg_stat_activity
    WHERE backend_xid IS NOT NULL AND datname IS DISTINCT FROM current_database()
)
SELECT LEAST(
    (SELECT (pg_snapshot_xmax(s)::text)::bigint FROM snap),
    (SELECT MIN((x::text)::bigint) FROM snap, pg_snapshot_xip(snap.s) AS x
     WHERE (x::text)::bigint % 4294967296 NOT IN (SELECT xid32 FROM other_databases))
)
"""


def feed_horizon() -> int:
    """The bound below which every change is final: a txid on PostgreSQL, an id on SQLite.

    Read once and used for every query of one page, so a page and its cursor agree.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_HORIZON_SQL)
            return cursor.fetchone()[0]
    return CampaignStatusChange.objects.aggregate(last=Max("id"))["last"] or 0


def visible_changes(horizon: int) -> QuerySet[CampaignStatusChange]:
    """Changes whose transactions had all finished when `horizon` was read."""
    if connection.vendor == "postgresql":
        return CampaignStatusChange.objects.filter(txid__lt=horizon)
    return CampaignStatusChange.objects.filter(id__lte=horizon)


def changes_after(changes: QuerySet[CampaignStatusChange], after: FeedPosition) -> QuerySet[CampaignStatusChange]:
    # `txid >= t` first, so PostgreSQL range-scans the (txid, id) index.
    return (
        changes.filter(txid__gte=after.txid).filter(Q(txid__gt=after.txid) | Q(id__gt=after.id)).order_by("txid", "id")
    )


def last_position(changes: QuerySet[CampaignStatusChange]) -> FeedPosition | None:
    row = changes.order_by("-txid", "-id").values_list("txid", "id").first()
    return FeedPosition(*row) if row else None


FIELDS = (
    "id",
    "txid",
    "campaign_id",
    "campaign_name",
    "brand_id",
    "brand_name",
    "created_at",
    "old_status",
    "old_reason",
    "new_status",
    "new_reason",
    "actor",
    "username",
    "source",
    "details",
)


def status_change_as_dict(row: dict[str, Any]) -> dict[str, Any]:
    """One change as the feed and the status-change webhook send it."""
    return {
        "id": row["id"],
        "cursor": str(FeedPosition(row["txid"], row["id"])),
        "campaign": row["campaign_id"],
        "campaign_name": row["campaign_name"],
        "brand": row["brand_id"],
        "brand_name": row["brand_name"],
        "created_at": row["created_at"].isoformat().replace("+00:00", "Z"),
        "old_status": row["old_status"],
        "old_reason": row["old_reason"],
        "new_status": row["new_status"],
        "new_reason": row["new_reason"],
        "actor": row["actor"],
        "user": row["username"] or None,
        "source": row["source"],
        "details": row["details"],
    }


@dataclass(frozen=True)
class FeedPage:
    changes: list[dict[str, Any]]
    next_cursor: FeedPosition
    has_more: bool


def status_changes_page(
    *, after: FeedPosition, limit: int = DEFAULT_PAGE_SIZE, brand_ids: Any = None, horizon: int | None = None
) -> FeedPage:
    """The changes after `after`, oldest first, at most `limit` (two queries).

    `next_cursor` is the last change's position, or `after` when there is nothing new:
    the client keeps it and asks again later. `brand_ids` (ids or a subquery) narrows it
    to those brands' changes.
    """
    horizon = feed_horizon() if horizon is None else horizon
    changes = changes_after(visible_changes(horizon), after)
    if brand_ids is not None:
        changes = changes.filter(brand_id__in=brand_ids)
    rows = list(changes.values(*FIELDS)[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = FeedPosition(rows[-1]["txid"], rows[-1]["id"]) if rows else after
    return FeedPage([status_change_as_dict(row) for row in rows], next_cursor, has_more)
