"""Budget enforcement: the one rule that decides a campaign's status, and the service that applies it.

- `decide_campaign_status` is the rule (SPEC §4), a pure function of plain facts: the
  readable reference.
- `campaigns/enforcement_sql.py` states the same rule as set-based SQL; on PostgreSQL
  every run decides and writes through it, a fixed number of statements per run.
  Elsewhere (SQLite, the local default) `campaigns/enforcement_reference.py` applies
  `decide_campaign_status` row by row. A property test keeps the two in agreement.
- `campaigns/tasks.py` schedules it: sweeps sharded by brand, and the drain of brands
  whose spend changed.

Every task, admin action, API call and command goes through the entry points below.
Whatever the engine, a run locks the campaigns it decides (in id order, the one lock
order everywhere) before it reads anything, and decides at the instant taken after the
lock: a decision is never older than the rows it replaces.
"""

import enum
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from brands.models import Brand
from campaigns.models import Campaign, CampaignStatusChange, DrainRequest, PendingBrand
from dayparting.windows import Window, any_window_contains

logger = logging.getLogger(__name__)

Status = Campaign.Status
Reason = Campaign.PauseReason

CENT = Decimal("0.01")

DAILY_REASONS = (Reason.DAILY_BUDGET, Reason.BRAND_DAILY_BUDGET)
MONTHLY_REASONS = (Reason.MONTHLY_BUDGET, Reason.BRAND_MONTHLY_BUDGET)

# --- The rule ------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignFacts:
    """Everything the rule needs about one campaign at one instant."""

    brand_timezone: str
    brand_today: date
    brand_daily_budget: Decimal | None
    brand_monthly_budget: Decimal | None
    brand_daily_spend: Decimal
    brand_monthly_spend: Decimal
    campaign_daily_budget: Decimal | None
    campaign_monthly_budget: Decimal | None
    campaign_daily_spend: Decimal
    campaign_monthly_spend: Decimal
    is_dayparting_enabled: bool = False
    windows: tuple[Window, ...] = ()


@dataclass(frozen=True)
class Decision:
    status: str
    reason: str
    details: dict[str, str]


def _reached(spend: Decimal, budget: Decimal | None) -> bool:
    # An empty budget is no limit; a budget of 0 is reached at once.
    return budget is not None and spend >= budget


def _text(value: object) -> str:
    # Money with its two places on every backend (SQLite hands back 120 or 333.370000000000).
    if isinstance(value, Decimal):
        return str(value.quantize(CENT))
    return "" if value is None else str(value)


def decide_campaign_status(facts: CampaignFacts, *, now: datetime) -> Decision:
    """The rule: the first blocking reason in SPEC order, else ACTIVE."""
    budget_checks = (
        (Reason.BRAND_MONTHLY_BUDGET, facts.brand_monthly_spend, facts.brand_monthly_budget),
        (Reason.MONTHLY_BUDGET, facts.campaign_monthly_spend, facts.campaign_monthly_budget),
        (Reason.BRAND_DAILY_BUDGET, facts.brand_daily_spend, facts.brand_daily_budget),
        (Reason.DAILY_BUDGET, facts.campaign_daily_spend, facts.campaign_daily_budget),
    )
    reason = next((r for r, spend, budget in budget_checks if _reached(spend, budget)), "")
    in_window = any_window_contains(facts.windows, now) if facts.is_dayparting_enabled else None
    if not reason and in_window is False:
        reason = Reason.DAYPARTING

    details = {
        "now": now.astimezone(UTC).isoformat(),
        "timezone": facts.brand_timezone,
        "local_date": facts.brand_today.isoformat(),
        "brand_monthly_spend": _text(facts.brand_monthly_spend),
        "brand_monthly_budget": _text(facts.brand_monthly_budget),
        "campaign_monthly_spend": _text(facts.campaign_monthly_spend),
        "campaign_monthly_budget": _text(facts.campaign_monthly_budget),
        "brand_daily_spend": _text(facts.brand_daily_spend),
        "brand_daily_budget": _text(facts.brand_daily_budget),
        "campaign_daily_spend": _text(facts.campaign_daily_spend),
        "campaign_daily_budget": _text(facts.campaign_daily_budget),
    }
    if facts.is_dayparting_enabled:
        details["dayparting_windows"] = str(len(facts.windows))
        details["in_dayparting_window"] = str(in_window).lower()
    status = Status.PAUSED_BY_SYSTEM if reason else Status.ACTIVE
    return Decision(status=str(status), reason=str(reason), details=details)


# --- What a run applies the rule to ---------------------------------------------------


class Scope(enum.StrEnum):
    """The campaigns a run looks at (SPEC §5), within its brands."""

    NOT_PAUSED_BY_USER = "not_paused_by_user"  # check_all_campaign_budgets, spend, edits
    DAILY_PAUSED = "daily_paused"  # reactivate_daily_campaigns
    MONTHLY_PAUSED = "monthly_paused"  # reactivate_monthly_campaigns
    DAYPARTING = "dayparting"  # enforce_dayparting_for_all_campaigns
    PAUSED_BY_USER = "paused_by_user"  # an ops resume

    def condition(self) -> Q:
        user_paused = Q(status=Status.PAUSED_BY_USER)
        return {
            Scope.NOT_PAUSED_BY_USER: ~user_paused,
            Scope.DAILY_PAUSED: Q(status=Status.PAUSED_BY_SYSTEM, pause_reason__in=DAILY_REASONS),
            Scope.MONTHLY_PAUSED: Q(status=Status.PAUSED_BY_SYSTEM, pause_reason__in=MONTHLY_REASONS),
            Scope.DAYPARTING: ~user_paused & (Q(is_dayparting_enabled=True) | Q(pause_reason=Reason.DAYPARTING)),
            Scope.PAUSED_BY_USER: user_paused,
        }[self]

    def sql(self) -> tuple[str, list]:
        """The same condition over a campaign row aliased `c`."""
        return {
            Scope.NOT_PAUSED_BY_USER: ("c.status <> %s", [Status.PAUSED_BY_USER]),
            Scope.DAILY_PAUSED: (
                "c.status = %s AND c.pause_reason IN (%s, %s)",
                [Status.PAUSED_BY_SYSTEM, *DAILY_REASONS],
            ),
            Scope.MONTHLY_PAUSED: (
                "c.status = %s AND c.pause_reason IN (%s, %s)",
                [Status.PAUSED_BY_SYSTEM, *MONTHLY_REASONS],
            ),
            Scope.DAYPARTING: (
                "c.status <> %s AND (c.is_dayparting_enabled OR c.pause_reason = %s)",
                [Status.PAUSED_BY_USER, Reason.DAYPARTING],
            ),
            Scope.PAUSED_BY_USER: ("c.status = %s", [Status.PAUSED_BY_USER]),
        }[self]


@dataclass(frozen=True)
class Selection:
    """The campaigns of a run: a scope, narrowed to brands, a brand-id range or a queryset."""

    scope: Scope = Scope.NOT_PAUSED_BY_USER
    brand_ids: tuple[int, ...] | None = None
    # A shard: brands with after < id <= up_to (None: unbounded).
    brand_range: tuple[int | None, int | None] | None = None
    campaigns: QuerySet | None = field(default=None, compare=False)

    def is_empty(self) -> bool:
        return self.brand_ids is not None and not self.brand_ids

    def queryset(self) -> QuerySet[Campaign]:
        selected = Campaign.objects.filter(self.scope.condition())
        if self.brand_ids is not None:
            selected = selected.filter(brand_id__in=self.brand_ids)
        if self.brand_range is not None:
            after, up_to = self.brand_range
            selected = selected.filter(**({"brand_id__gt": after} if after is not None else {}))
            selected = selected.filter(**({"brand_id__lte": up_to} if up_to is not None else {}))
        if self.campaigns is not None:
            selected = selected.filter(pk__in=self.campaigns.order_by().values("pk"))
        return selected

    def sql(self):
        from campaigns.enforcement_sql import SqlSelection

        where, params = self.scope.sql()
        # Over the brand id column named {brand}: which brands the selection can touch.
        brands_where, brands_params = ["true"], []
        conditions, condition_params = [where], list(params)
        if self.brand_ids is not None:
            conditions.append("c.brand_id = ANY(%s)")
            condition_params.append(list(self.brand_ids))
            brands_where.append("{brand} = ANY(%s)")
            brands_params.append(list(self.brand_ids))
        if self.brand_range is not None:
            for bound, operator in zip(self.brand_range, (">", "<="), strict=True):
                if bound is not None:
                    conditions.append(f"c.brand_id {operator} %s")
                    condition_params.append(bound)
                    brands_where.append(f"{{brand}} {operator} %s")
                    brands_params.append(bound)
        if self.campaigns is not None:
            subquery, subquery_params = self.campaigns.order_by().values("pk").query.sql_with_params()
            conditions.append(f"c.id IN ({subquery})")
            condition_params.extend(subquery_params)
        if self.campaigns is not None:
            # Only the brands of the chosen campaigns (a few, from the admin or a command).
            table = connection.ops.quote_name(Campaign._meta.db_table)
            brands_where.append(f"{{brand}} IN (SELECT c.brand_id FROM {table} c WHERE c.id IN ({subquery}))")
            brands_params.extend(subquery_params)
        return SqlSelection(
            where=" AND ".join(conditions),
            params=tuple(condition_params),
            brands_where=" AND ".join(brands_where),
            brands_params=tuple(brands_params),
        )


# --- Applying the rule ------------------------------------------------------------------


@dataclass
class EnforcementSummary:
    examined: int = 0
    activated: int = 0
    paused: int = 0
    reason_changed: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def count(self, old_status: str, new_status: str, times: int = 1) -> None:
        if new_status == Status.ACTIVE:
            self.activated += times
        elif new_status == old_status:
            self.reason_changed += times
        else:
            self.paused += times

    def add(self, other: "EnforcementSummary") -> None:
        for name, value in other.as_dict().items():
            setattr(self, name, getattr(self, name) + value)


# A deadlock or serialization failure is retried this many times, then raised (a task
# retries it again with backoff). The lock order makes them rare, not impossible: an
# ETL writing straight to the tables may lock in any order.
CONFLICT_ATTEMPTS = 4


def _is_conflict(exc: OperationalError) -> bool:
    return getattr(exc.__cause__, "pgcode", None) in {"40P01", "40001"}  # deadlock, serialization failure


def retrying_conflicts(attempt):
    """Run `attempt` (a whole transaction), again on a deadlock or serialization failure."""
    for number in range(1, CONFLICT_ATTEMPTS + 1):
        try:
            return attempt()
        except OperationalError as exc:
            if not _is_conflict(exc) or number == CONFLICT_ATTEMPTS:
                raise
            logger.warning("enforcement: %s; retrying (attempt %d of %d)", exc, number + 1, CONFLICT_ATTEMPTS)
            time.sleep(0.05 * number)


def _reason_suffix(reason: str) -> str:
    return f"/{reason}" if reason else ""


def log_status_change(campaign_id, old_status, old_reason, new_status, new_reason, *, actor: str, source: str):
    logger.info(
        "campaign %s %s%s -> %s%s (%s, %s)",
        campaign_id,
        old_status,
        _reason_suffix(old_reason),
        new_status,
        _reason_suffix(new_reason),
        actor,
        source,
        extra={
            "event": "status_change",
            "campaign_id": campaign_id,
            "old_status": old_status,
            "old_reason": old_reason,
            "new_status": new_status,
            "new_reason": new_reason,
            "actor": actor,
            "source": source,
        },
    )


def _enforce_sql(selection: Selection, *, source: str, now, actor: str, user) -> EnforcementSummary:
    from campaigns import enforcement_sql

    sql_selection = selection.sql()

    def attempt():
        with transaction.atomic():
            examined, brand_ids = enforcement_sql.selection_brands(sql_selection, lock=True)
            if not examined:
                return 0, None
            applied = enforcement_sql.decide_and_write(
                sql_selection,
                brand_ids=brand_ids,
                now=now or timezone.now(),
                source=source,
                actor=actor,
                user_id=getattr(user, "pk", None),
            )
            return examined, applied

    examined, applied = retrying_conflicts(attempt)
    summary = EnforcementSummary(examined=examined)
    if applied is None:
        return summary
    for change in applied.sample:
        log_status_change(*change, actor=actor, source=source)
    changed = 0
    for transition in applied.transitions:
        summary.count(transition.old_status, transition.new_status, transition.count)
        changed += transition.count
    if changed > len(applied.sample):
        # A first sweep can change half a million campaigns: past the limit the log gets
        # one line per kind of change (every change is in the audit trail).
        for t in applied.transitions:
            logger.info(
                "%d campaigns %s%s -> %s%s (%s, %s); %d changes in all, the first %d logged one by one",
                t.count,
                t.old_status,
                _reason_suffix(t.old_reason),
                t.new_status,
                _reason_suffix(t.new_reason),
                actor,
                source,
                changed,
                len(applied.sample),
                extra={
                    "event": "status_changes",
                    "count": t.count,
                    "old_status": t.old_status,
                    "old_reason": t.old_reason,
                    "new_status": t.new_status,
                    "new_reason": t.new_reason,
                    "actor": actor,
                    "source": source,
                },
            )
    return summary


def _enforce_reference(selection: Selection, *, source: str, now, actor: str, user) -> EnforcementSummary:
    from campaigns.enforcement_reference import reference_apply

    examined, changes = retrying_conflicts(
        lambda: reference_apply(selection.queryset(), now=now, source=source, actor=actor, user=user, write=True)
    )
    summary = EnforcementSummary(examined=examined)
    for change in changes:
        summary.count(change.old_status, change.new_status)
        log_status_change(
            change.campaign_id,
            change.old_status,
            change.old_reason,
            change.new_status,
            change.new_reason,
            actor=actor,
            source=source,
        )
    return summary


def stored_timezones_check() -> None:
    """Log each brand or window whose stored timezone is unknown (an ETL wrote it past the checks).

    One bad row must not stop enforcement for all the others: such a brand's campaigns
    are left as they are, such a window counts as closed, until the row is fixed.
    """
    if not uses_sql_engine():
        return  # the reference engine logs them as it meets them
    from campaigns.enforcement_sql import unknown_timezones

    for kind, pk, campaign_id, name in unknown_timezones():
        if kind == "brand":
            logger.error("brand %s has unknown timezone %r: its campaigns are not enforced until it is fixed", pk, name)
        else:
            logger.error(
                "dayparting window %s of campaign %s has unknown timezone %r: it counts as closed",
                pk,
                campaign_id,
                name,
            )


def uses_sql_engine() -> bool:
    return connection.vendor == "postgresql"


def selection_enforce(
    *,
    selection: Selection,
    source: str,
    now: datetime | None = None,
    actor: str = CampaignStatusChange.Actor.SYSTEM,
    user=None,
) -> EnforcementSummary:
    """Apply the rule to the selection and write what differs, with audit rows.

    `now` fixes the instant of the decision (tests, a replay); without it the instant
    is taken right after the selection's rows are locked.
    """
    if selection.is_empty():
        return EnforcementSummary()
    engine = _enforce_sql if uses_sql_engine() else _enforce_reference
    return engine(selection, source=source, now=now, actor=actor, user=user)


@dataclass(frozen=True)
class PreviewedChange:
    campaign_id: int
    old_status: str
    old_reason: str
    new_status: str
    new_reason: str
    details: dict[str, str]


def selection_preview(*, selection: Selection, now: datetime) -> Iterator[PreviewedChange]:
    """What `selection_enforce` would change at `now`, writing nothing (the dry run).

    The same engine and the same statement as a real run, up to its writes. Iterate it
    inside a transaction (`atomic`): on PostgreSQL the rows stream from a cursor.
    """
    if selection.is_empty():
        return
    if uses_sql_engine():
        from campaigns.enforcement_sql import preview_changes

        for row in preview_changes(selection.sql(), now=now):
            yield PreviewedChange(*row)
        return
    from campaigns.enforcement_reference import reference_apply

    _, changes = reference_apply(selection.queryset(), now=now, source="", actor="", user=None, write=False)
    for change in changes:
        yield PreviewedChange(
            change.campaign_id,
            change.old_status,
            change.old_reason,
            change.new_status,
            change.new_reason,
            change.details,
        )


# --- The service's entry points ---------------------------------------------------------


def campaigns_enforce(*, campaigns: QuerySet[Campaign], source: str, now: datetime | None = None) -> EnforcementSummary:
    """Apply the rule to `campaigns`; the system never touches PAUSED_BY_USER ones."""
    return selection_enforce(selection=Selection(campaigns=campaigns), source=source, now=now)


def brands_enforce(*, brand_ids: Iterable[int], source: str, now: datetime | None = None) -> EnforcementSummary:
    """Apply the rule to every campaign of these brands (after their spend or budgets changed)."""
    return selection_enforce(selection=Selection(brand_ids=tuple(sorted(set(brand_ids)))), source=source, now=now)


def campaigns_resume(*, campaigns: QuerySet[Campaign], user, source: str) -> EnforcementSummary:
    """Ops resume: PAUSED_BY_USER -> whatever the rule says now, audited with the user."""
    return selection_enforce(
        selection=Selection(scope=Scope.PAUSED_BY_USER, campaigns=campaigns),
        source=source,
        actor=CampaignStatusChange.Actor.USER,
        user=user,
    )


def campaigns_pause(*, campaigns: QuerySet[Campaign], user, source: str) -> int:
    """Ops pause: ACTIVE / PAUSED_BY_SYSTEM -> PAUSED_BY_USER, audited with the user."""
    with transaction.atomic():
        rows = list(
            Campaign.objects.select_for_update(of=("self",), no_key=True)
            .filter(pk__in=campaigns.values("pk"))
            .exclude(status=Status.PAUSED_BY_USER)
            .order_by("pk")
            .values_list("pk", "status", "pause_reason", "name", "brand_id", "brand__name")
        )
        now = timezone.now()  # under the lock, like every decision
        Campaign.objects.filter(pk__in=[row[0] for row in rows]).update(
            status=Status.PAUSED_BY_USER, pause_reason=Reason.NONE, updated_at=now
        )
        CampaignStatusChange.objects.bulk_create(
            CampaignStatusChange(
                campaign_id=pk,
                campaign_name=campaign_name,
                brand_id=brand_id,
                brand_name=brand_name,
                username=user.get_username() if user is not None else "",
                created_at=now,
                old_status=status,
                new_status=Status.PAUSED_BY_USER,
                old_reason=reason,
                new_reason=Reason.NONE,
                actor=CampaignStatusChange.Actor.USER,
                user=user,
                source=source,
                details={"now": now.astimezone(UTC).isoformat()},
            )
            for pk, status, reason, campaign_name, brand_id, brand_name in rows
        )
    for pk, status, reason, *_ in rows:
        log_status_change(pk, status, reason, Status.PAUSED_BY_USER, Reason.NONE, actor=f"user {user}", source=source)
    return len(rows)


def enforce_after_commit(*, brand_ids: Iterable[int] = (), campaign_ids: Iterable[int] = (), source: str) -> None:
    """Apply the rule in-process once the surrounding transaction commits.

    For edits that change what the rule reads (budgets, a timezone, windows, the
    dayparting flag, spend in the admin, a new campaign). A failure is logged, not
    raised: the change itself is saved, and the next periodic sweep applies the rule.
    """
    brand_ids, campaign_ids = list(brand_ids), list(campaign_ids)

    def enforce() -> None:
        selected = Campaign.objects.filter(Q(brand_id__in=brand_ids) | Q(pk__in=campaign_ids))
        campaigns_enforce(campaigns=selected, source=source)

    transaction.on_commit(enforce, robust=True)


# --- Spend-triggered enforcement: pending brands and their drain ------------------------

# A drain request older than this is taken as lost (its worker died, its message
# expired) and the next mark asks again.
DRAIN_REQUEST_STALE_SECONDS = 60
# After a send that failed (broker down), the next mark tries again after this long:
# soon enough to catch up as the broker returns, rarely enough that posts do not each
# pay a failed send.
DRAIN_REQUEST_RETRY_SECONDS = 5
# Brands enforced per drain step: one statement set, row locks held for one step.
DRAIN_BRANDS_PER_STEP = 2000


class DrainRequested(enum.StrEnum):
    """What became of the request for a drain after brands were marked pending."""

    REQUESTED = "queued"  # a drain task was sent
    ALREADY = "queued with a drain already requested"
    BROKER_DOWN = "deferred to the periodic drain"  # stored in the database; the beat's drain takes it


def brands_mark_pending(*, brand_ids: Iterable[int], source: str) -> DrainRequested:
    """Mark brands whose spend changed (call after the write commits) and ask for a drain.

    The mark is a set in the database (`PendingBrand`), so however many writes touch a
    brand it is enforced once per drain, and a broker outage loses nothing. At most one
    drain is requested at a time: the request is a flag the drain clears as it ends.
    """
    brand_ids = sorted(set(brand_ids))
    if not brand_ids:
        return DrainRequested.ALREADY
    now = timezone.now()
    pending, brands = (connection.ops.quote_name(m._meta.db_table) for m in (PendingBrand, Brand))
    with connection.cursor() as cursor:
        # Brand id order: two writers marking overlapping brands lock them in one order.
        cursor.execute(
            f"INSERT INTO {pending} (brand_id, marked_at, mark_seq) "
            f"SELECT id, %s, 1 FROM {brands} WHERE id IN ({', '.join(['%s'] * len(brand_ids))}) ORDER BY id "
            f"ON CONFLICT (brand_id) DO UPDATE SET mark_seq = {pending}.mark_seq + 1",
            [now, *brand_ids],
        )
    return drain_request(source=source)


def drain_request(*, source: str, force: bool = False, after_brand_id: int = 0) -> DrainRequested:
    """Send a drain task unless one is already requested (or `force`)."""
    now = timezone.now()
    table = connection.ops.quote_name(DrainRequest._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (id, requested_at, send_failed) VALUES (1, %s, false) ON CONFLICT (id) DO UPDATE "
            f"SET requested_at = EXCLUDED.requested_at, send_failed = false WHERE {table}.requested_at IS NULL "
            f"OR {table}.requested_at < %s OR %s RETURNING id",
            [now, now - timedelta(seconds=DRAIN_REQUEST_STALE_SECONDS), force],
        )
        if cursor.fetchone() is None:
            # A drain stands requested, unless the send that requested it failed.
            if DrainRequest.objects.filter(pk=1, send_failed=True).exists():
                return DrainRequested.BROKER_DOWN
            return DrainRequested.ALREADY
    from budget_system.celery import send_quickly

    # Imported here: the tasks module imports this one. (A signature by name would be
    # sent to the broker even in eager mode when nothing had imported the task yet.)
    from campaigns.tasks import drain_pending_brands

    try:
        # Quickly: this runs inside a web request, which must not hang on a frozen broker.
        send_quickly(drain_pending_brands.s(source=source, after_brand_id=after_brand_id))
    except Exception:  # any broker error: the brands stay pending in the database
        logger.warning(
            "could not send drain_pending_brands (source %s): the brands stay pending; the periodic "
            "drain enforces them, and a write in %s s asks again",
            source,
            DRAIN_REQUEST_RETRY_SECONDS,
            exc_info=True,
        )
        # Not sent, so not requested: backdate the flag so a mark soon asks again.
        # Raw SQL with the same parameter as the upsert: SQLite stores the instant as
        # the upsert wrote it, which an ORM filter's own formatting would not match.
        retry_at = now - timedelta(seconds=DRAIN_REQUEST_STALE_SECONDS - DRAIN_REQUEST_RETRY_SECONDS)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET requested_at = %s, send_failed = %s WHERE id = 1 AND requested_at = %s",
                [retry_at, True, now],
            )
        return DrainRequested.BROKER_DOWN
    return DrainRequested.REQUESTED


def drain_request_clear() -> None:
    DrainRequest.objects.filter(pk=1).update(requested_at=None, send_failed=False)


def pending_brands_exist() -> bool:
    return PendingBrand.objects.exists()


def pending_brands_enforce(*, source: str, after_brand_id: int = 0) -> tuple[list[int], EnforcementSummary]:
    """One drain step: enforce the next pending brands and remove the marks it covered.

    The next brands are those after `after_brand_id` (the last one the previous step
    took), wrapping round to the lowest ids: under a stream of marks the first brands
    are pending again at every step, and always taking the lowest ids would leave the
    rest waiting. A mark made after the brands were read (its `mark_seq` moved on)
    stays, so spend written during the step is enforced by a later one.
    """
    pending = PendingBrand.objects.order_by("brand_id").values_list("brand_id", "mark_seq")
    claimed = list(pending.filter(brand_id__gt=after_brand_id)[:DRAIN_BRANDS_PER_STEP])
    if len(claimed) < DRAIN_BRANDS_PER_STEP and after_brand_id:
        claimed += list(pending.filter(brand_id__lte=after_brand_id)[: DRAIN_BRANDS_PER_STEP - len(claimed)])
    if not claimed:
        return [], EnforcementSummary()
    brand_ids = [brand_id for brand_id, _ in claimed]
    summary = brands_enforce(brand_ids=brand_ids, source=source)
    covered = Q()
    for brand_id, mark_seq in claimed:
        covered |= Q(brand_id=brand_id, mark_seq=mark_seq)
    PendingBrand.objects.filter(covered).delete()
    return brand_ids, summary


# --- Shards -------------------------------------------------------------------------------


# About this many campaigns' brand ids decide the shards' cut points.
SHARD_SAMPLE_CAMPAIGNS = 50_000


def brand_shards(*, campaigns_per_shard: int | None = None) -> list[tuple[int | None, int | None]]:
    """Brand-id ranges (after, up_to] holding about `campaigns_per_shard` campaigns each.

    A brand's campaigns are always in one shard: brand totals need them all. The cut
    points are percentiles of the brand ids of a sample of the campaigns' pages: sorting
    every brand id took a second at a million campaigns, and shards need only be about
    even (the ranges cover every brand whatever the cuts).
    """
    if not uses_sql_engine():
        return [(None, None)]
    campaigns_per_shard = campaigns_per_shard or settings.ENFORCEMENT_SHARD_CAMPAIGNS
    table = connection.ops.quote_name(Campaign._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [Campaign._meta.db_table])
        estimate = max((cursor.fetchone() or [0])[0], 0)
        shards = max(1, -(-estimate // campaigns_per_shard))
        if shards == 1:
            return [(None, None)]
        fractions = [index / shards for index in range(1, shards)]
        sample_percent = min(100.0, 100.0 * SHARD_SAMPLE_CAMPAIGNS / estimate)
        cursor.execute(
            f"SELECT percentile_disc(%s::float8[]) WITHIN GROUP (ORDER BY brand_id) "
            f"FROM {table} TABLESAMPLE SYSTEM (%s)",
            [fractions, sample_percent],
        )
        cuts = sorted(set(cursor.fetchone()[0] or []))
    bounds = [None, *cuts, None]
    return list(zip(bounds[:-1], bounds[1:], strict=True))
