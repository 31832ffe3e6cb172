"""`manage.py enforce [--dry-run] [--brand ID] [--at ISO-INSTANT]` (SPEC §12).

Applies the rule now to every campaign (or one brand's), as the 10-minute sweep does;
with --dry-run lists what it would change and why, writing nothing. --at previews at
another instant (a dry run only: a real run decides at the instant it holds its rows).
"""

import re
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from brands.models import Brand
from campaigns import enforcement
from campaigns.dry_run import enforcement_preview
from campaigns.enforcement import EnforcementSummary, Selection

_ID = re.compile(r"[0-9]{1,19}")


class Command(BaseCommand):
    help = "Apply the budget rule now, or with --dry-run list what it would change and why (writing nothing)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="list the changes; write nothing")
        parser.add_argument("--brand", metavar="ID", help="only this brand's campaigns")
        parser.add_argument(
            "--at",
            metavar="ISO-INSTANT",
            help="with --dry-run: decide at this instant, e.g. 2026-11-25T00:00:00+05:45 (default: now)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        brand_ids = _brand_ids(options.get("brand"))
        at = _instant(options.get("at"))
        if at is not None and not options["dry_run"]:
            raise CommandError("--at needs --dry-run: a real run decides at the instant it holds its campaigns.")
        if options["dry_run"]:
            self._preview(at=at or timezone.now(), brand_ids=brand_ids)
        else:
            self._run(brand_ids=brand_ids)

    def _preview(self, *, at: datetime, brand_ids: list[int] | None) -> None:
        summary = EnforcementSummary()
        for line in enforcement_preview(at=at, brand_ids=brand_ids):
            change = line.change
            summary.count(change.old_status, change.new_status)
            old = change.old_status + (f"/{change.old_reason}" if change.old_reason else "")
            new = change.new_status + (f"/{change.new_reason}" if change.new_reason else "")
            self.stdout.write(
                f"campaign {change.campaign_id} {line.campaign_name!r} (brand {line.brand_id} {line.brand_name!r}): "
                f"{old} -> {new}: {line.why}"
            )
        changes = summary.activated + summary.paused + summary.reason_changed
        self.stdout.write(
            f"Dry run at {at.isoformat()}: {changes} campaign(s) would change ({summary.paused} paused, "
            f"{summary.activated} activated, {summary.reason_changed} with another reason); nothing was written."
        )

    def _run(self, *, brand_ids: list[int] | None) -> None:
        if brand_ids is not None:
            summary = enforcement.brands_enforce(brand_ids=brand_ids, source="command")
        else:
            summary = EnforcementSummary()
            for brand_range in enforcement.brand_shards():
                summary.add(
                    enforcement.selection_enforce(selection=Selection(brand_range=brand_range), source="command")
                )
        self.stdout.write(
            f"Applied the rule to {summary.examined} campaign(s): {summary.paused} paused, "
            f"{summary.activated} activated, {summary.reason_changed} with another reason."
        )


def _brand_ids(raw: str | None) -> list[int] | None:
    if raw is None:
        return None
    text = str(raw).strip()
    if not _ID.fullmatch(text) or int(text) < 1:
        raise CommandError(f"--brand must be a brand id (a positive whole number), got {raw!r}.")
    if not Brand.objects.filter(pk=int(text)).exists():
        raise CommandError(f"--brand {text}: no brand has this id.")
    return [int(text)]


def _instant(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        at = datetime.fromisoformat(str(raw).strip())
    except ValueError:
        raise CommandError(
            f"--at must be an ISO 8601 instant with its offset, e.g. 2026-11-25T00:00:00+05:45, got {raw!r}."
        ) from None
    if at.tzinfo is None:
        raise CommandError(f"--at {raw!r} has no UTC offset: add one (e.g. +00:00 or Z) so the instant is exact.")
    if not 2000 <= at.year <= 9998:
        raise CommandError(f"--at {raw!r} is out of range: use a year from 2000 to 9998.")
    return at
