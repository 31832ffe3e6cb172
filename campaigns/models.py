from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from budget_system.money import money_field, null_or_non_negative
from campaigns.txid import CurrentTransactionId


class Campaign(models.Model):
    """One campaign (one ad) of a brand; `status` is kept by the enforcement service."""

    class Status(models.TextChoices):
        ACTIVE = "ACTIVE", "Active"
        PAUSED_BY_SYSTEM = "PAUSED_BY_SYSTEM", "Paused by system"
        PAUSED_BY_USER = "PAUSED_BY_USER", "Paused by user"

    class PauseReason(models.TextChoices):
        NONE = "", "None"
        BRAND_MONTHLY_BUDGET = "BRAND_MONTHLY_BUDGET", "Brand monthly budget reached"
        MONTHLY_BUDGET = "MONTHLY_BUDGET", "Monthly budget reached"
        BRAND_DAILY_BUDGET = "BRAND_DAILY_BUDGET", "Brand daily budget reached"
        DAILY_BUDGET = "DAILY_BUDGET", "Daily budget reached"
        DAYPARTING = "DAYPARTING", "Outside dayparting windows"

    brand = models.ForeignKey("brands.Brand", on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(max_length=200)
    daily_budget = money_field("daily budget (USD)", optional=True)
    monthly_budget = money_field("monthly budget (USD)", optional=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    pause_reason = models.CharField(max_length=24, choices=PauseReason.choices, default=PauseReason.NONE, blank=True)
    is_dayparting_enabled = models.BooleanField("dayparting enabled", default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Who changed what ops own (budgets, the flag, name, brand), shown beside the status
    # history. Status is left out: the enforcement service writes it with UPDATEs, never
    # save(), and the audit trail (CampaignStatusChange) records every status change.
    history = HistoricalRecords(excluded_fields=["status", "pause_reason", "created_at", "updated_at"])

    class Meta:
        ordering = ["brand_id", "name", "id"]
        constraints = [
            null_or_non_negative("daily_budget", name="campaign_daily_budget_null_or_non_negative"),
            null_or_non_negative("monthly_budget", name="campaign_monthly_budget_null_or_non_negative"),
            models.CheckConstraint(
                condition=Q(status__in=["ACTIVE", "PAUSED_BY_SYSTEM", "PAUSED_BY_USER"]),
                name="campaign_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(
                    pause_reason__in=[
                        "",
                        "BRAND_MONTHLY_BUDGET",
                        "MONTHLY_BUDGET",
                        "BRAND_DAILY_BUDGET",
                        "DAILY_BUDGET",
                        "DAYPARTING",
                    ]
                ),
                name="campaign_pause_reason_valid",
            ),
            # A reason exactly when the system paused it: the admin shows it as "why".
            models.CheckConstraint(
                condition=(
                    Q(status="PAUSED_BY_SYSTEM") & ~Q(pause_reason="")
                    | ~Q(status="PAUSED_BY_SYSTEM") & Q(pause_reason="")
                ),
                name="campaign_pause_reason_iff_paused_by_system",
                violation_error_message=("pause_reason must be set exactly when status is PAUSED_BY_SYSTEM."),
            ),
        ]
        indexes = [
            # No index on status or pause_reason: every sweep reads a shard's campaigns by
            # brand (the brand_id index), and leaving the columns the engine writes out of
            # every index lets PostgreSQL update them in place (HOT, with the fill factor
            # set in migration 0005), the bulk of a first sweep's cost otherwise.
            # The engine's windows of a shard's dayparted campaigns:
            # WHERE is_dayparting_enabled AND brand_id BETWEEN …
            models.Index(
                fields=["brand_id", "id"], condition=Q(is_dayparting_enabled=True), name="campaign_dayparting_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignStatusChange(models.Model):
    """The audit trail: one row per change of a campaign's status or pause reason."""

    class Actor(models.TextChoices):
        SYSTEM = "system", "System"
        USER = "user", "User"

    # History outlives what it describes: no database constraint (and no foreign-key
    # check on the engine's bulk inserts), so deleting a campaign, a brand or a user
    # keeps their rows, which carry the names as they were when the change was made.
    campaign = models.ForeignKey(Campaign, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False)
    campaign_name = models.CharField(max_length=200, blank=True)
    brand = models.ForeignKey(
        "brands.Brand", on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, null=True, related_name="+"
    )
    brand_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    old_status = models.CharField(max_length=20, choices=Campaign.Status.choices)
    new_status = models.CharField(max_length=20, choices=Campaign.Status.choices)
    old_reason = models.CharField(max_length=24, choices=Campaign.PauseReason.choices, blank=True)
    new_reason = models.CharField(max_length=24, choices=Campaign.PauseReason.choices, blank=True)
    actor = models.CharField(max_length=10, choices=Actor.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    # Who, kept when the user is deleted (`user` is then emptied).
    username = models.CharField(max_length=150, blank=True)
    # The task name, "admin", "api" or "command".
    source = models.CharField(max_length=100)
    # The figures that decided the change, as strings (spend, budgets, local date, zone).
    details = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    # The writing transaction's id (0 on SQLite), filled by the database: the status-change
    # feed reads in (txid, id) order, which is commit order (campaigns/txid.py).
    txid = models.BigIntegerField(db_default=CurrentTransactionId(), editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        get_latest_by = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(old_status=models.F("new_status")) | ~Q(old_reason=models.F("new_reason")),
                name="status_change_changes_something",
            ),
            models.CheckConstraint(condition=Q(actor__in=["system", "user"]), name="status_change_actor_valid"),
        ]
        indexes = [
            # A campaign's history, newest first (campaign page inline).
            models.Index(fields=["campaign", "-created_at"], name="status_change_campaign_idx"),
            # The audit list in the admin, newest first, across all campaigns.
            models.Index(fields=["-created_at"], name="status_change_created_idx"),
            # Deleting a user empties `user` on their rows; system rows (nearly all) stay out.
            models.Index(fields=["user"], condition=Q(user__isnull=False), name="status_change_user_idx"),
            # The status-change feed: WHERE (txid, id) > cursor AND txid < xmin ORDER BY txid, id.
            models.Index(fields=["txid", "id"], name="status_change_feed_idx"),
        ]

    def __str__(self) -> str:
        old = f"{self.old_status}/{self.old_reason or '-'}"
        return f"{self.campaign_id}: {old} -> {self.new_status}/{self.new_reason or '-'}"


class PendingBrand(models.Model):
    """A brand whose spend changed and whose campaigns wait for the next enforcement drain.

    Writers of spend mark brands here after their write commits (a set: marking a brand
    that is already pending changes nothing but `mark_seq`); one drain at a time
    enforces every pending brand and removes the rows it covered. Kept in the database,
    so an outage of the broker loses no brand.
    """

    brand = models.OneToOneField("brands.Brand", on_delete=models.CASCADE, primary_key=True, related_name="+")
    # When the brand first became pending: the drain lag is now minus the oldest of these.
    marked_at = models.DateTimeField()
    # Bumped by every mark: a drain removes a row only if nobody marked it again meanwhile.
    mark_seq = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"brand {self.brand_id} pending since {self.marked_at:%Y-%m-%d %H:%M:%S}"


class DrainRequest(models.Model):
    """One row: whether a drain of pending brands has been asked for and not yet ended.

    Spend writers send a drain task only when they set `requested_at` from empty (or
    from stale), so a burst of posts asks for one drain, not one each; the drain clears
    it as it ends.
    """

    requested_at = models.DateTimeField(null=True, blank=True)
    # The last send failed (broker down): writers meanwhile say their enforcement is
    # deferred, not queued, until a send succeeds or the drain ends.
    # db_default: processes still on the code before this column insert without it.
    send_failed = models.BooleanField(default=False, db_default=False)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="drain_request_single_row")]

    def __str__(self) -> str:
        return f"drain requested at {self.requested_at}" if self.requested_at else "no drain requested"


class EnforcementRun(models.Model):
    """A sweep split into shards over workers: the shards add their summaries here.

    The shard that completes the count finishes the run (logs and announces the summed
    summary). Kept for two days.
    """

    task_name = models.CharField(max_length=100)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    shards_total = models.PositiveIntegerField()
    shards_done = models.PositiveIntegerField(default=0)
    examined = models.PositiveIntegerField(default=0)
    activated = models.PositiveIntegerField(default=0)
    paused = models.PositiveIntegerField(default=0)
    reason_changed = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(shards_done__lte=models.F("shards_total")), name="run_shards_done_le_total"
            )
        ]

    def __str__(self) -> str:
        return f"{self.task_name} at {self.started_at:%Y-%m-%d %H:%M:%S} ({self.shards_done}/{self.shards_total})"


class EnforcementRunShard(models.Model):
    """A shard of a run that committed: a redelivered shard finds itself here and stops."""

    run = models.ForeignKey(EnforcementRun, on_delete=models.CASCADE, related_name="shards")
    number = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "number"], name="run_shard_unique")]

    def __str__(self) -> str:
        return f"shard {self.number} of run {self.run_id}"
