"""Why a campaign has its status, and until when: the rule read back for people.

The admin lists, the campaign page and the CSV export show what this module says. It
reads spend exactly as the rule does (`campaigns.figures`), builds the rule's own facts
(`CampaignFacts`) and asks the rule itself (`decide_campaign_status`) every question:

- every reason that holds now: the rule's first reason, then the rule asked again with
  that reason taken away (its budget removed, dayparting off), until nothing blocks;
- when the system resumes a campaign it paused: the rule asked at the next instants
  where its facts change by themselves (the brand's next local midnight, the 1st, the
  next window opening), assuming no new spend and no edits. A budget of 0 never clears
  by itself: that campaign resumes "when a budget is raised".

Set-based: a fixed number of queries for any number of campaigns or brands.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from functools import cached_property

from django.db.models import Count
from django.utils import timezone

from brands.models import Brand
from budget_system.timezones import local_date
from budget_system.wall_clock import next_local_midnight, next_month_start
from campaigns.enforcement import CampaignFacts, decide_campaign_status
from campaigns.enforcement_reference import load_campaign_facts
from campaigns.figures import ZERO, brand_spend_totals
from campaigns.models import Campaign
from dayparting.schedule import next_window_change
from dayparting.windows import any_window_contains

Status = Campaign.Status
Reason = Campaign.PauseReason

# A use of a budget shows amber from this share of it, red once reached.
WARNING_PERCENT = Decimal(80)
# Steps of the resume search: each step clears one reason (a day, a month, a window).
MAX_RESUME_STEPS = 12

# The fact each reason reads: (spend attribute, budget attribute) of CampaignFacts.
BUDGET_OF_REASON = {
    Reason.BRAND_MONTHLY_BUDGET: ("brand_monthly_spend", "brand_monthly_budget"),
    Reason.MONTHLY_BUDGET: ("campaign_monthly_spend", "campaign_monthly_budget"),
    Reason.BRAND_DAILY_BUDGET: ("brand_daily_spend", "brand_daily_budget"),
    Reason.DAILY_BUDGET: ("campaign_daily_spend", "campaign_daily_budget"),
}


@dataclass(frozen=True)
class BudgetUse:
    """Spend against one budget; `budget` None means no limit."""

    spend: Decimal
    budget: Decimal | None

    @property
    def reached(self) -> bool:
        # The rule's reading: reaching the budget pauses, a budget of 0 at once.
        return self.budget is not None and self.spend >= self.budget

    @property
    def percent(self) -> Decimal | None:
        if self.budget is None:
            return None
        if self.budget == 0:
            return Decimal(100)
        # Rounded down: 99.99 % of a budget must not read "100 %" while it is not reached.
        return (self.spend * 100 / self.budget).quantize(Decimal("1"), rounding=ROUND_FLOOR)

    @property
    def level(self) -> str:
        """'none' (no budget), 'ok', 'warn' (from 80 %) or 'over' (reached)."""
        if self.budget is None:
            return "none"
        if self.reached:
            return "over"
        return "warn" if self.spend * 100 >= WARNING_PERCENT * self.budget else "ok"


@dataclass(frozen=True)
class Resume:
    """When the system resumes a campaign: `at` an instant, or only `how` in words."""

    at: datetime | None
    how: str


NOT_PAUSED = Resume(None, "")


def _without(facts: CampaignFacts, reason: str) -> CampaignFacts:
    """The facts with one reason taken away, so the rule reports the next one."""
    if reason == Reason.DAYPARTING:
        return replace(facts, is_dayparting_enabled=False)
    return replace(facts, **{BUDGET_OF_REASON[reason][1]: None})


def reasons_that_hold(facts: CampaignFacts, *, now: datetime) -> tuple[str, ...]:
    """Every blocking reason at `now`, in the rule's order; the first is the rule's decision."""
    reasons: list[str] = []
    while reason := decide_campaign_status(facts, now=now).reason:
        reasons.append(reason)
        facts = _without(facts, reason)
    return tuple(reasons)


def facts_at(facts: CampaignFacts, at: datetime) -> CampaignFacts:
    """The facts at a later instant if nobody reports spend or edits anything meanwhile.

    A new local day starts with no spend today; a new month with no spend this month.
    """
    day = local_date(at, facts.brand_timezone)
    if day == facts.brand_today:
        return facts
    later = replace(facts, brand_today=day, brand_daily_spend=ZERO, campaign_daily_spend=ZERO)
    if (day.year, day.month) != (facts.brand_today.year, facts.brand_today.month):
        later = replace(later, brand_monthly_spend=ZERO, campaign_monthly_spend=ZERO)
    return later


def resume_forecast(facts: CampaignFacts, *, status: str, now: datetime) -> Resume:
    """When the system will resume this campaign (see the module's docstring)."""
    if status == Status.ACTIVE:
        return NOT_PAUSED
    if status == Status.PAUSED_BY_USER:
        return Resume(None, "when someone resumes it")
    at, how = now, ""
    for _ in range(MAX_RESUME_STEPS):
        reason = decide_campaign_status(facts_at(facts, at), now=at).reason
        if not reason:
            return Resume(at, how) if at > now else Resume(None, "at the next check: nothing blocks it now")
        if reason == Reason.DAYPARTING:
            opening = next_window_change(facts.windows, after=at)
            if opening is None:
                return Resume(None, "when a dayparting window is added or dayparting is turned off")
            at, how = opening, "when a window opens"
            continue
        if getattr(facts, BUDGET_OF_REASON[reason][1]) == 0:
            return Resume(None, "when a budget is raised")
        if reason in (Reason.MONTHLY_BUDGET, Reason.BRAND_MONTHLY_BUDGET):
            at, how = next_month_start(at, facts.brand_timezone), "on the 1st (a new month)"
        else:
            at, how = next_local_midnight(at, facts.brand_timezone), "at local midnight (a new day)"
    return Resume(None, "when a budget is raised")


@dataclass
class CampaignExplanation:
    """A campaign's stored status, and the rule's reading of it at `now`."""

    campaign_id: int
    status: str
    pause_reason: str
    facts: CampaignFacts
    now: datetime
    reasons: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.reasons = reasons_that_hold(self.facts, now=self.now)

    @property
    def timezone(self) -> str:
        return self.facts.brand_timezone

    @property
    def rule_status(self) -> str:
        """What the rule decides now for a campaign the system may change."""
        return Status.PAUSED_BY_SYSTEM if self.reasons else Status.ACTIVE

    @property
    def is_stale(self) -> bool:
        """The stored status differs from the rule's now: the next check will change it."""
        if self.status == Status.PAUSED_BY_USER:
            return False
        return (self.status, self.pause_reason) != (self.rule_status, self.reasons[0] if self.reasons else "")

    @property
    def campaign_today(self) -> BudgetUse:
        return BudgetUse(self.facts.campaign_daily_spend, self.facts.campaign_daily_budget)

    @property
    def campaign_month(self) -> BudgetUse:
        return BudgetUse(self.facts.campaign_monthly_spend, self.facts.campaign_monthly_budget)

    @property
    def brand_today(self) -> BudgetUse:
        return BudgetUse(self.facts.brand_daily_spend, self.facts.brand_daily_budget)

    @property
    def brand_month(self) -> BudgetUse:
        return BudgetUse(self.facts.brand_monthly_spend, self.facts.brand_monthly_budget)

    @property
    def window_open_now(self) -> bool | None:
        """None when dayparting is off: windows then decide nothing."""
        if not self.facts.is_dayparting_enabled:
            return None
        return any_window_contains(self.facts.windows, self.now)

    @cached_property
    def next_window_change(self) -> datetime | None:
        """When the windows next open (closed now) or close (open now)."""
        return next_window_change(self.facts.windows, after=self.now)

    @cached_property
    def resume(self) -> Resume:
        return resume_forecast(self.facts, status=self.status, now=self.now)


def campaigns_explain(*, campaign_ids: Iterable[int], now: datetime | None = None) -> dict[int, CampaignExplanation]:
    """The explanation of each campaign, by id, in five queries however many there are.

    From the facts the reference engine reads (`load_campaign_facts`). A campaign whose
    brand's stored timezone is unknown is left out: the rule skips it too.
    """
    now = now or timezone.now()
    return {
        stored.id: CampaignExplanation(
            campaign_id=stored.id, status=stored.status, pause_reason=stored.pause_reason, facts=stored.facts, now=now
        )
        for stored in load_campaign_facts(Campaign.objects.filter(pk__in=list(campaign_ids)), now=now)
    }


@dataclass(frozen=True)
class BrandOverview:
    brand_id: int
    timezone: str
    today: BudgetUse
    month: BudgetUse
    # Number of the brand's campaigns in each status (absent: none).
    campaigns_by_status: dict[str, int]
    now: datetime

    @property
    def campaign_count(self) -> int:
        return sum(self.campaigns_by_status.values())


def brands_overview(*, brand_ids: Iterable[int], now: datetime | None = None) -> dict[int, BrandOverview]:
    """Each brand's spend against its budgets and its campaigns by status, in four queries."""
    now = now or timezone.now()
    brand_ids = list(brand_ids)
    brands = Brand.objects.filter(pk__in=brand_ids).values("id", "timezone", "daily_budget", "monthly_budget")
    totals = brand_spend_totals(brand_ids=brand_ids, now=now)
    by_status: dict[int, dict[str, int]] = defaultdict(dict)
    for row in (
        Campaign.objects.filter(brand_id__in=brand_ids).values("brand_id", "status").annotate(n=Count("id")).order_by()
    ):
        by_status[row["brand_id"]][row["status"]] = row["n"]
    overviews = {}
    for brand in brands:
        daily, monthly = totals.get(brand["id"], (ZERO, ZERO))
        overviews[brand["id"]] = BrandOverview(
            brand_id=brand["id"],
            timezone=brand["timezone"],
            today=BudgetUse(daily, brand["daily_budget"]),
            month=BudgetUse(monthly, brand["monthly_budget"]),
            campaigns_by_status=by_status.get(brand["id"], {}),
            now=now,
        )
    return overviews
