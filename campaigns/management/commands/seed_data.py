"""`manage.py seed_data`: demo or benchmark data. Parses the options; campaigns.demo_data does the work."""

import logging
import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from budget_system.timezones import validate_timezone_name
from campaigns.demo_data import (
    AUTO,
    DEFAULT_HISTORY_HOURS,
    DEMO_TIMEZONES,
    HISTORY_MAX_CAMPAIGNS,
    MAX_BUDGET,
    MAX_HISTORY_HOURS,
    MAX_SPEND_DAYS,
    demo_data_create,
)

NO_BUDGET = {"", "none"}


def _whole_number(option: str, value, *, minimum: int, maximum: int | None = None) -> int:
    # call_command(brands=...) passes values as given, not through argparse: accept
    # ints and their text, refuse bools, floats and anything else.
    text = str(value).strip()
    valid = not isinstance(value, bool | float) and re.fullmatch(r"-?[0-9]+", text)
    number = int(text) if valid else None
    if number is None or number < minimum or (maximum is not None and number > maximum):
        limits = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
        raise CommandError(f"{option} must be a whole number {limits}, got {value!r}.")
    return number


def _budget(option: str, value) -> Decimal | None:
    if value is None or str(value).strip().lower() in NO_BUDGET:
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        amount = None
    if (
        isinstance(value, float)
        or amount is None
        or not amount.is_finite()
        or not 0 <= amount <= MAX_BUDGET
        or amount != amount.quantize(Decimal("0.01"))
    ):
        raise CommandError(
            f"{option} must be an amount in USD from 0 to {MAX_BUDGET} with at most 2 decimal places, "
            f"or 'none' for no budget; got {value!r}."
        )
    return amount.quantize(Decimal("0.01"))


def _brand_budget(option: str, value):
    if str(value).strip().lower() == AUTO:
        return AUTO
    try:
        return _budget(option, value)
    except CommandError:
        raise CommandError(
            f"{option} must be an amount in USD from 0 to {MAX_BUDGET} with at most 2 decimal places, "
            f"'none' for no budget, or 'auto'; got {value!r}."
        ) from None


def _timezones(value) -> list[str]:
    names = [name.strip() for name in str(value).split(",") if name.strip()]
    if not names:
        raise CommandError(f"--timezones must list at least one IANA timezone name, got {value!r}.")
    for name in names:
        try:
            validate_timezone_name(name)
        except ValidationError:
            raise CommandError(
                f"--timezones: {name!r} is not a known IANA timezone name (for example 'UTC' or 'Europe/Paris')."
            ) from None
    return names


class Command(BaseCommand):
    help = (
        "Add demo data: brands with budgets, campaigns spread evenly over them, one spend row a day per "
        "campaign for the last --spend-days days of its brand's calendar (monthly_spend is the "
        "month-to-date total), and dayparting windows on every third campaign. Spend and brand budgets "
        "are shaped so that the rule pauses campaigns for each reason. Then applies the budget rule to "
        "the new campaigns, once an hour over the last --history-hours hours and now, and pauses the "
        "last active one as a user. Only adds rows; --seed makes it repeatable."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--brands",
            default=8,
            help="Number of brands to add, at least 1 (default 8; six or more show every pause reason).",
        )
        parser.add_argument(
            "--campaigns",
            default=120,
            help="Campaigns in all, spread evenly over the brands (0 allowed; with fewer campaigns "
            "than brands some brands get none). Default 120.",
        )
        parser.add_argument(
            "--spend-days",
            default=30,
            help=f"Spend rows per campaign, one a day ending on its brand's today, 0 to {MAX_SPEND_DAYS} (default 30).",
        )
        parser.add_argument(
            "--daily-budget", default="75", help="Each campaign's daily budget in USD, or 'none' (default 75)."
        )
        parser.add_argument(
            "--monthly-budget", default="1500", help="Each campaign's monthly budget in USD, or 'none' (default 1500)."
        )
        parser.add_argument(
            "--brand-daily-budget",
            default=AUTO,
            help="Each new brand's daily budget in USD, 'none', or 'auto' (the default): set per brand from "
            "its campaigns' spend, so that some brands have room, one reached it today, one is near it, "
            "and one has no budgets.",
        )
        parser.add_argument(
            "--brand-monthly-budget",
            default=AUTO,
            help="Each new brand's monthly budget in USD, 'none', or 'auto' (the default; likewise, with one "
            "brand that reached it this month).",
        )
        parser.add_argument(
            "--timezones",
            default=",".join(DEMO_TIMEZONES),
            help="Comma-separated IANA zones that brand timezones are drawn from (default: a varied list "
            "of real zones, from Pacific/Honolulu to Pacific/Auckland).",
        )
        parser.add_argument(
            "--seed", default=None, help="Integer seed: the same seed and clock give the same data. Default: random."
        )
        parser.add_argument(
            "--history-hours",
            default=DEFAULT_HISTORY_HOURS,
            help=f"Apply the rule once an hour over this many hours before now, as beat would have, so the "
            f"audit trail has history; 0 to {MAX_HISTORY_HOURS} (default {DEFAULT_HISTORY_HOURS}). Covers "
            f"the campaigns of the first brands up to {HISTORY_MAX_CAMPAIGNS} campaigns.",
        )
        parser.add_argument(
            "--no-enforce",
            action="store_true",
            help="Do not apply the budget rule to the new campaigns (they stay ACTIVE until the next sweep), "
            "make no history and pause none as a user.",
        )

    def handle(self, *args, **options) -> None:
        # Everything is checked before anything is written.
        brands = _whole_number("--brands", options["brands"], minimum=1)
        campaigns = _whole_number("--campaigns", options["campaigns"], minimum=0)
        spend_days = _whole_number("--spend-days", options["spend_days"], minimum=0, maximum=MAX_SPEND_DAYS)
        daily_budget = _budget("--daily-budget", options["daily_budget"])
        monthly_budget = _budget("--monthly-budget", options["monthly_budget"])
        brand_daily_budget = _brand_budget("--brand-daily-budget", options["brand_daily_budget"])
        brand_monthly_budget = _brand_budget("--brand-monthly-budget", options["brand_monthly_budget"])
        history_hours = _whole_number("--history-hours", options["history_hours"], minimum=0, maximum=MAX_HISTORY_HOURS)
        timezones = _timezones(options["timezones"])
        seed = None
        if options["seed"] is not None:
            seed = _whole_number("--seed", options["seed"], minimum=0, maximum=2**63 - 1)

        verbose = options["verbosity"] >= 2
        # The rule logs one line per paused campaign; its audit rows record them anyway,
        # and in a benchmark-sized run the lines would bury the summary. -v 2 shows them.
        enforcement_logger = logging.getLogger("campaigns.enforcement")
        previous_level = enforcement_logger.level
        if not verbose:
            enforcement_logger.setLevel(logging.WARNING)
        try:
            summary = demo_data_create(
                brands=brands,
                campaigns=campaigns,
                spend_days=spend_days,
                daily_budget=daily_budget,
                monthly_budget=monthly_budget,
                brand_daily_budget=brand_daily_budget,
                brand_monthly_budget=brand_monthly_budget,
                timezones=timezones,
                seed=seed,
                enforce=not options["no_enforce"],
                history_hours=history_hours,
                progress=(lambda message: self.stdout.write(message)) if verbose else None,
            )
        finally:
            enforcement_logger.setLevel(previous_level)
        self.stdout.write(summary.line())
