"""The dry run: what applying the rule would change, and why, writing nothing.

It is the engine's own decision (`enforcement.selection_preview`: on PostgreSQL the
very statement a run executes, up to its writes), so a preview cannot drift from what a
run then does. The `enforce --dry-run` command and the admin's "Preview enforcement"
action both read it from here.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from django.db import transaction

from campaigns.enforcement import PreviewedChange, Scope, Selection, selection_preview
from campaigns.models import Campaign

Reason = Campaign.PauseReason

# The figures behind each reason, as the audit details name them.
REASON_FIGURES = {
    Reason.BRAND_MONTHLY_BUDGET: ("brand month-to-date", "brand_monthly_spend", "brand_monthly_budget"),
    Reason.MONTHLY_BUDGET: ("month-to-date", "campaign_monthly_spend", "campaign_monthly_budget"),
    Reason.BRAND_DAILY_BUDGET: ("brand spend today", "brand_daily_spend", "brand_daily_budget"),
    Reason.DAILY_BUDGET: ("spend today", "campaign_daily_spend", "campaign_daily_budget"),
}
NAMES_PER_QUERY = 2000


@dataclass(frozen=True)
class PreviewLine:
    change: PreviewedChange
    campaign_name: str
    brand_id: int
    brand_name: str

    @property
    def why(self) -> str:
        return change_reason_text(self.change.new_reason, self.change.details)


def change_reason_text(new_reason: str, details: dict[str, str]) -> str:
    """Why the rule decides this, in words, with the figures that decided it."""
    where = f"on {details.get('local_date', '?')} in {details.get('timezone', '?')}"
    if new_reason in REASON_FIGURES:
        label, spend, budget = REASON_FIGURES[new_reason]
        return f"{label} {details.get(spend)} reached the budget of {details.get(budget)} ({where})"
    if new_reason == Reason.DAYPARTING:
        windows = details.get("dayparting_windows", "0")
        return f"outside its {windows} dayparting window(s) ({where})"
    return f"nothing blocks it: no budget reached, inside its schedule ({where})"


def _with_names(changes: Iterable[PreviewedChange]) -> Iterator[PreviewLine]:
    changes = iter(changes)
    while chunk := list(islice(changes, NAMES_PER_QUERY)):
        names = {
            pk: (name, brand_id, brand_name)
            for pk, name, brand_id, brand_name in Campaign.objects.filter(pk__in=[c.campaign_id for c in chunk])
            .order_by()
            .values_list("pk", "name", "brand_id", "brand__name")
        }
        for change in chunk:
            name, brand_id, brand_name = names.get(change.campaign_id, ("", 0, ""))
            yield PreviewLine(change, name, brand_id, brand_name)


def enforcement_preview(
    *, at: datetime, brand_ids: Iterable[int] | None = None, campaigns=None
) -> Iterator[PreviewLine]:
    """Every change applying the rule at `at` would make, by campaign id, with names and why.

    `brand_ids` or a `campaigns` queryset narrow it (never paused-by-user campaigns:
    the system does not touch those). Nothing is written: the whole preview runs in a
    transaction that is rolled back.
    """
    selection = Selection(
        scope=Scope.NOT_PAUSED_BY_USER,
        brand_ids=tuple(sorted(set(brand_ids))) if brand_ids is not None else None,
        campaigns=campaigns,
    )
    with transaction.atomic():
        yield from _with_names(selection_preview(selection=selection, now=at))
        transaction.set_rollback(True)
