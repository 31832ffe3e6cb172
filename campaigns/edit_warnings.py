"""Edits that warn: after an admin edit commits, say which campaigns the rule paused or resumed.

An edit of a budget, a brand's timezone, the dayparting flag or a window applies the
rule right after it commits (`enforce_after_commit`, in the same request). The rule
records every change in the audit trail, so the report reads it back from there: the
system's changes with source "admin" to the campaigns the edit touched, since the
request began. Two queries, however many campaigns changed.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib import messages
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from budget_system.admin_helpers import ADMIN_SOURCE
from campaigns.enforcement import enforce_after_commit
from campaigns.history import reason_label
from campaigns.models import Campaign, CampaignStatusChange

Status = Campaign.Status
# Campaigns named in a message; the rest are counted and linked to the audit list.
NAMES_SHOWN = 10


@dataclass
class EditScope:
    """What an admin request asked the rule to re-decide, and when the request began."""

    since: datetime
    brand_ids: set[int] = field(default_factory=set)
    campaign_ids: set[int] = field(default_factory=set)


def status_changes_after_edit(scope: EditScope):
    """The system's changes (source "admin") to the campaigns in scope since it began."""
    return CampaignStatusChange.objects.filter(
        Q(campaign_id__in=scope.campaign_ids) | Q(brand_id__in=scope.brand_ids),
        created_at__gte=scope.since,
        source=ADMIN_SOURCE,
        actor=CampaignStatusChange.Actor.SYSTEM,
    )


def edit_report_messages(scope: EditScope) -> list[tuple[int, str]]:
    """(message level, text) for the campaigns this edit paused (a warning) and resumed."""
    if not (scope.brand_ids or scope.campaign_ids):
        return []
    changes = status_changes_after_edit(scope)
    counts = {row["new_status"]: row["n"] for row in changes.values("new_status").annotate(n=Count("id")).order_by()}
    if not counts:
        return []
    named = list(changes.order_by("campaign_name", "campaign_id", "created_at")[: 2 * NAMES_SHOWN])
    audit_list = reverse("admin:campaigns_campaignstatuschange_changelist") + "?source=admin&actor=system"
    reports = []
    paused = [c for c in named if c.new_status == Status.PAUSED_BY_SYSTEM]
    if counts.get(Status.PAUSED_BY_SYSTEM):
        reports.append(
            (
                messages.WARNING,
                _sentence(
                    "This change paused",
                    counts[Status.PAUSED_BY_SYSTEM],
                    [(c.campaign_name, reason_label(c.new_reason)) for c in paused],
                    audit_list,
                ),
            )
        )
    resumed = [c for c in named if c.new_status == Status.ACTIVE]
    if counts.get(Status.ACTIVE):
        reports.append(
            (
                messages.INFO,
                _sentence(
                    "This change resumed", counts[Status.ACTIVE], [(c.campaign_name, "") for c in resumed], audit_list
                ),
            )
        )
    return reports


def _sentence(opening: str, total: int, named: list[tuple[str, str]], audit_list: str) -> str:
    shown = named[:NAMES_SHOWN]
    items = format_html_join(", ", "“{}”{}", ((name, f" ({reason})" if reason else "") for name, reason in shown))
    text = format_html("{} {} campaign{}: {}", opening, total, "" if total == 1 else "s", items)
    if total > len(shown):
        text = format_html('{} and <a href="{}">{} more</a>', text, audit_list, total - len(shown))
    return format_html("{}.", text)


class WarnOnEnforcedEdits:
    """ModelAdmin mixin: apply the rule after an edit commits, then say what it changed.

    Call `enforce_after_edit` where the edit is saved; the add, change and delete pages
    and the list's bulk delete then report the pauses as a warning and the resumes.
    """

    def enforce_after_edit(self, request, *, brand_ids: Iterable[int] = (), campaign_ids: Iterable[int] = ()) -> None:
        brand_ids, campaign_ids = set(brand_ids), set(campaign_ids)
        enforce_after_commit(brand_ids=brand_ids, campaign_ids=campaign_ids, source=ADMIN_SOURCE)
        scope = getattr(request, "_edit_scope", None)
        if scope is not None:
            scope.brand_ids |= brand_ids
            scope.campaign_ids |= campaign_ids

    def _reporting(self, request, view, *args, **kwargs):
        request._edit_scope = EditScope(since=timezone.now())
        # The view's transaction has committed when it returns: the rule has run.
        response = view(request, *args, **kwargs)
        for level, text in edit_report_messages(request._edit_scope):
            self.message_user(request, text, level)
        return response

    def changeform_view(self, request, *args, **kwargs):
        return self._reporting(request, super().changeform_view, *args, **kwargs)

    def delete_view(self, request, *args, **kwargs):
        return self._reporting(request, super().delete_view, *args, **kwargs)

    def changelist_view(self, request, *args, **kwargs):
        if request.method != "POST":
            return super().changelist_view(request, *args, **kwargs)
        return self._reporting(request, super().changelist_view, *args, **kwargs)
