"""A campaign's (or a brand's) history in words: status changes and the edits behind them.

Status changes come from the audit trail (`CampaignStatusChange`); edits of budgets,
the brand's timezone, the dayparting flag and windows from django-simple-history's
records. Merged newest first, they answer "why did this campaign resume at 14:02?":
"ops1 raised the daily budget from $75.00 to $120.00", then "system: Paused by system
(Daily budget reached) → Active". A fixed number of queries, however long the history.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from brands.models import Brand
from budget_system.admin_format import budget_text, money
from budget_system.admin_history import BASELINE_REASON
from campaigns.models import Campaign, CampaignStatusChange
from dayparting.models import DaypartingSchedule
from dayparting.schedule import window_label
from dayparting.windows import Window

Reason = Campaign.PauseReason


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    who: str
    # "status" (the audit trail) or "edit" (a person changed what the rule reads).
    kind: str
    what: str
    # Where it came from: the task name, admin, api or command; or what was edited.
    source: str = ""
    # The figures that decided a status change, in words.
    figures: tuple[str, ...] = ()
    # Orders entries of the same instant: the row's id, edits before the changes they caused.
    sequence: tuple[int, int] = (0, 0)

    @property
    def order(self) -> tuple:
        return (self.at, self.sequence)


def status_label(status: str, reason: str) -> str:
    label = Campaign.Status(status).label
    return f"{label} ({Reason(reason).label})" if reason else label


def reason_label(reason: str) -> str:
    return Reason(reason).label if reason else "-"


# --- Status changes --------------------------------------------------------------------------

# (spend key, budget key, words) of the figures an audit row stores, in the rule's order.
BUDGET_FIGURES = (
    ("brand_monthly_spend", "brand_monthly_budget", "brand month-to-date"),
    ("campaign_monthly_spend", "campaign_monthly_budget", "campaign month-to-date"),
    ("brand_daily_spend", "brand_daily_budget", "brand spend today"),
    ("campaign_daily_spend", "campaign_daily_budget", "campaign spend today"),
)
# The words of the figure each reason reads.
FIGURE_OF_REASON = {
    Reason.BRAND_MONTHLY_BUDGET: "brand month-to-date",
    Reason.MONTHLY_BUDGET: "campaign month-to-date",
    Reason.BRAND_DAILY_BUDGET: "brand spend today",
    Reason.DAILY_BUDGET: "campaign spend today",
    Reason.DAYPARTING: "dayparting:",
}


def details_in_words(details: dict) -> tuple[str, ...]:
    """The figures of an audit row as a person reads them: money as money, labels in words."""
    if not details:
        return ()
    figures = []
    if details.get("local_date"):
        day = date.fromisoformat(details["local_date"])
        figures.append(f"local date {day:%a %-d %b %Y} ({details.get('timezone', '')})".replace(" ()", ""))
    known = {"now", "timezone", "local_date"}
    for spend_key, budget_key, words in BUDGET_FIGURES:
        known.update((spend_key, budget_key))
        budget = details.get(budget_key, "")
        if budget != "" and spend_key in details:
            figures.append(f"{words} {money(details[spend_key])} of {money(budget)}")
    if "in_dayparting_window" in details:
        count = details.get("dayparting_windows", "?")
        inside = details["in_dayparting_window"] == "true"
        figures.append(f"dayparting: {'inside' if inside else 'outside'} its {count} window(s)")
    known.update(("in_dayparting_window", "dayparting_windows"))
    for key in sorted(set(details) - known):
        figures.append(f"{key.replace('_', ' ')}: {details[key]}")
    return tuple(figures)


def key_figures(change: CampaignStatusChange) -> tuple[str, ...]:
    """The figure of the reason that changed (new, else old): a list's short form (its time is local already)."""
    figures = details_in_words(change.details)
    reason = change.new_reason or change.old_reason
    if not reason:
        return figures
    return tuple(figure for figure in figures if figure.startswith(FIGURE_OF_REASON[reason]))


def changed_by(change: CampaignStatusChange) -> str:
    """The user's name as it was (kept when the user is deleted), else "system"."""
    if change.username:
        return change.username
    return change.user.get_username() if change.user_id and change.user else change.get_actor_display().lower()


def _status_entry(change: CampaignStatusChange, *, with_campaign: bool = False) -> HistoryEntry:
    who = changed_by(change)
    what = (
        f"{status_label(change.old_status, change.old_reason)} → {status_label(change.new_status, change.new_reason)}"
    )
    if with_campaign:
        what = f"“{change.campaign_name or change.campaign_id}”: {what}"
    return HistoryEntry(
        at=change.created_at,
        who=who,
        kind="status",
        what=what,
        source=change.source,
        figures=key_figures(change),
        sequence=(1, change.pk),
    )


# --- Edits ------------------------------------------------------------------------------------


def _money_change(label: str, old: Decimal | None, new: Decimal | None) -> str | None:
    if old == new:
        return None
    if old is None:
        return f"set the {label} to {money(new)} (was no limit)"
    if new is None:
        return f"removed the {label} (was {money(old)}): no limit"
    verb = "raised" if new > old else "lowered"
    return f"{verb} the {label} from {money(old)} to {money(new)}"


def _campaign_changes(old, new, brand_names: dict[int, str]) -> list[str]:
    phrases = [
        _money_change("daily budget", old.daily_budget, new.daily_budget),
        _money_change("monthly budget", old.monthly_budget, new.monthly_budget),
    ]
    if old.is_dayparting_enabled != new.is_dayparting_enabled:
        phrases.append(f"turned dayparting {'on' if new.is_dayparting_enabled else 'off'}")
    if old.name != new.name:
        phrases.append(f"renamed it from “{old.name}” to “{new.name}”")
    if old.brand_id != new.brand_id:
        before, after = (brand_names.get(i, f"brand {i}") for i in (old.brand_id, new.brand_id))
        phrases.append(f"moved it from brand “{before}” to “{after}”")
    return [phrase for phrase in phrases if phrase]


def _brand_changes(old, new) -> list[str]:
    phrases = [
        _money_change("brand's daily budget", old.daily_budget, new.daily_budget),
        _money_change("brand's monthly budget", old.monthly_budget, new.monthly_budget),
    ]
    if old.timezone != new.timezone:
        phrases.append(f"changed the brand's timezone from {old.timezone} to {new.timezone}")
    if old.name != new.name:
        phrases.append(f"renamed the brand from “{old.name}” to “{new.name}”")
    return [phrase for phrase in phrases if phrase]


def _window_text(record) -> str:
    window = Window(record.day_of_week, record.start_time, record.end_time, record.timezone)
    return f"{window_label(window)} {record.timezone}"


def _window_changes(old, new) -> list[str]:
    if new.history_type == "-":
        return [f"removed the dayparting window {_window_text(new)}"]
    if old is None:
        verb = "added" if new.history_type == "+" else "changed"
        return [f"{verb} the dayparting window {_window_text(new)}"]
    before, after = _window_text(old), _window_text(new)
    return [f"changed a dayparting window from {before} to {after}"] if before != after else []


def _created_text(record, kind: str) -> list[str]:
    if kind == "campaign":
        return [
            f"created the campaign (daily budget {budget_text(record.daily_budget)}, "
            f"monthly budget {budget_text(record.monthly_budget)}, "
            f"dayparting {'on' if record.is_dayparting_enabled else 'off'})"
        ]
    return [
        f"created the brand (timezone {record.timezone}, daily budget {budget_text(record.daily_budget)}, "
        f"monthly budget {budget_text(record.monthly_budget)})"
    ]


def _who(record) -> str:
    return record.history_user.get_username() if record.history_user else "unknown (not in the admin)"


EDIT_SOURCES = {"campaign": "campaign settings", "brand": "brand settings", "window": "dayparting windows"}


def _edit_entries(records: Sequence, kind: str, describe, *, with_creation: bool = True) -> list[HistoryEntry]:
    """Entries for consecutive records of each object, oldest first within an object.

    A record without its predecessor among `records` (the oldest fetched) is compared
    with nothing: a creation says so, anything else is shown only if it is a window.
    Baseline records are never shown; they only give the next edit its old values.
    """
    by_object: dict[int, list] = defaultdict(list)
    for record in sorted(records, key=lambda r: (r.history_date, r.history_id)):
        by_object[record.id].append(record)
    entries = []
    for versions in by_object.values():
        previous = None
        for record in versions:
            if record.history_change_reason == BASELINE_REASON:
                previous = record
                continue
            if record.history_type == "+" and kind in ("campaign", "brand"):
                phrases = _created_text(record, kind) if with_creation else []
            elif previous is None and kind != "window":
                phrases = []
            else:
                phrases = describe(previous, record)
            if phrases:
                entries.append(
                    HistoryEntry(
                        at=record.history_date,
                        who=_who(record),
                        kind="edit",
                        what="; ".join(phrases),
                        source=EDIT_SOURCES[kind],
                        sequence=(0, record.history_id),
                    )
                )
            previous = record
    return entries


def _latest(queryset, limit: int) -> list:
    return list(queryset.select_related("history_user").order_by("-history_date", "-history_id")[:limit])


def _brand_names(records: Iterable) -> dict[int, str]:
    ids = {record.brand_id for record in records}
    return dict(Brand.objects.filter(pk__in=ids).values_list("id", "name")) if len(ids) > 1 else {}


def campaign_history(*, campaign: Campaign, limit: int = 20) -> list[HistoryEntry]:
    """The campaign's latest status changes and edits (its own, its windows', its brand's), newest first."""
    changes = CampaignStatusChange.objects.filter(campaign=campaign).select_related("user")[:limit]
    # One more than shown, so the oldest shown edit has the values it changed from.
    campaign_records = _latest(Campaign.history.filter(id=campaign.pk), limit + 1)
    brand_records = _latest(Brand.history.filter(id=campaign.brand_id), limit + 1)
    window_records = _latest(DaypartingSchedule.history.filter(campaign_id=campaign.pk), 3 * limit)
    names = _brand_names(campaign_records)
    entries = [_status_entry(change) for change in changes]
    entries += _edit_entries(campaign_records, "campaign", lambda old, new: _campaign_changes(old, new, names))
    # The brand's budgets and calendar decide this campaign too; its creation does not.
    entries += _edit_entries(brand_records, "brand", _brand_changes, with_creation=False)
    entries += _edit_entries(window_records, "window", _window_changes)
    return sorted(entries, key=lambda entry: entry.order, reverse=True)[:limit]


def brand_history(*, brand: Brand, limit: int = 20) -> list[HistoryEntry]:
    """The brand's edits and the latest status changes of its campaigns, newest first."""
    changes = (
        CampaignStatusChange.objects.filter(brand_id=brand.pk)
        .select_related("user")
        .order_by("-created_at", "-id")[:limit]
    )
    entries = [_status_entry(change, with_campaign=True) for change in changes]
    entries += _edit_entries(_latest(Brand.history.filter(id=brand.pk), limit + 1), "brand", _brand_changes)
    return sorted(entries, key=lambda entry: entry.order, reverse=True)[:limit]
