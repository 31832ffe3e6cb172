"""`python manage.py import_spend FILE`: load spend from CSV, like `POST /api/v1/spend/`.

The same service validates and writes (spend.services.spend_ingest): all or nothing,
upsert on (campaign, date), then the rule for every brand touched. When the broker
cannot be reached the command applies the rule in this process instead, since an
operator running an import can wait the few seconds that takes.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from campaigns.enforcement import DrainRequested, brands_mark_pending, pending_brands_enforce
from spend.services import (
    DEFAULT_CHUNK_SIZE,
    FIELDS,
    Enforcement,
    SpendValidationError,
    SpendWriteConflict,
    spend_ingest,
)

# Below this many rows an import takes about a second: no progress bar unless asked.
PROGRESS_MIN_ROWS = 10_000


class Command(BaseCommand):
    help = (
        "Import spend from a CSV file with the header campaign,date,daily_spend,monthly_spend "
        "('-' reads standard input). Upserts on (campaign, date); nothing is stored if any row is bad."
    )
    # Tests hand a file-like object in; from the shell it is sys.stdin.
    stealth_options = ("stdin",)

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="Path of the CSV file, or - for standard input.")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_CHUNK_SIZE,
            help="Rows checked and written per statement (default %(default)s).",
        )
        parser.add_argument(
            "--max-errors", type=int, default=1000, help="Stop reporting after this many errors (default %(default)s)."
        )
        progress = parser.add_mutually_exclusive_group()
        progress.add_argument(
            "--progress",
            action="store_true",
            default=None,
            help=f"Always show a progress bar (default: on a terminal for {PROGRESS_MIN_ROWS:,}+ rows).",
        )
        progress.add_argument("--no-progress", action="store_false", dest="progress", help="Never show one.")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["file"]
        if options["batch_size"] < 1 or options["max_errors"] < 1:
            raise CommandError("--batch-size and --max-errors must be at least 1.")
        with _open_csv(name, options.get("stdin")) as stream:
            # strict: a stray or unterminated quote is an error, not a silently merged field.
            reader = csv.reader(stream, strict=True)
            columns = _read_header(reader, name)
            show = self.stderr.isatty() if options["progress"] is None else options["progress"]
            total = _count_rows(name) if show and name != "-" else None
            if options["progress"] is None and total is not None and total < PROGRESS_MIN_ROWS:
                show = False
            bar = tqdm(total=total, unit=" rows", file=self.stderr._out, disable=not show, desc=name)
            try:
                result = spend_ingest(
                    items=_items(reader, columns, name),
                    source="command",
                    chunk_size=options["batch_size"],
                    position_name="line",
                    max_errors=options["max_errors"],
                    on_progress=bar.update,
                    on_committed=_enforce_brands,
                )
            except SpendValidationError as exc:
                bar.close()
                for error in exc.errors:
                    self.stderr.write(
                        f"{name} line {error.position}: {error.message} [field {error.field}, value {error.value!r}]"
                    )
                more = f" (stopped after the first {len(exc.errors)})" if exc.truncated else ""
                raise CommandError(f"{len(exc.errors)} error(s) in {name}{more}; nothing was imported.") from None
            except SpendWriteConflict as exc:
                raise CommandError(str(exc)) from None
            finally:
                bar.close()
        self.stdout.write(
            f"Imported {result.received} rows from {name}: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged; {_enforcement_text(result.enforcement, len(result.brand_ids))}."
        )


@contextmanager
def _open_csv(name: str, stdin: IO[str] | None) -> Iterator[IO[str]]:
    if name == "-":
        if stdin is not None:  # a test's file-like object
            yield stdin
            return
        # Read standard input exactly as a file: a byte-order mark dropped, newlines left
        # to the csv module, bad bytes kept as escapes so the error can name their line.
        stream = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", errors="surrogateescape", newline="")
        try:
            yield stream
        finally:
            stream.detach()  # leave the process's stdin open
        return
    path = Path(name)
    try:
        # utf-8-sig: spreadsheet exports often start with a byte-order mark. Bytes that are
        # not UTF-8 stay as escapes, so the checks name the line and field that holds them.
        stream = path.open(newline="", encoding="utf-8-sig", errors="surrogateescape")
    except FileNotFoundError:
        raise CommandError(f"File not found: {name}") from None
    except OSError as exc:
        raise CommandError(f"Cannot read {name}: {exc.strerror or exc}") from None
    with stream:
        yield stream


def _read_header(reader: Any, name: str) -> list[str]:
    try:
        header = next(reader, None)
    except (csv.Error, UnicodeDecodeError) as exc:
        raise CommandError(f"{name} line 1: cannot read the header: {exc}") from None
    if not header:
        raise CommandError(f"{name} is empty: expected the header {','.join(FIELDS)}.")
    columns = [column.strip() for column in header]
    missing = [f for f in FIELDS if f not in columns]
    unexpected = [c for c in columns if c not in FIELDS]
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if missing or unexpected or repeated:
        problems = []
        if missing:
            problems.append(f"missing {', '.join(missing)}")
        if unexpected:
            problems.append(f"unexpected {', '.join(repr(c) for c in unexpected)}")
        if repeated:
            problems.append(f"repeated {', '.join(repeated)}")
        raise CommandError(
            f"{name} line 1: the header must be {','.join(FIELDS)} (in any order); "
            f"got {','.join(header)!r}: {'; '.join(problems)}."
        )
    return columns


def _items(reader: Any, columns: list[str], name: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, item) for each record; a malformed record becomes an item the checks name."""
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except (csv.Error, UnicodeDecodeError) as exc:
            raise CommandError(f"{name} line {reader.line_num}: malformed CSV: {exc}; nothing was imported.") from None
        if not record:  # a blank line
            continue
        # A short record leaves fields out (named as missing); a long one gets "column N" keys.
        item = dict(zip(columns, record, strict=False))
        for position in range(len(columns), len(record)):
            item[f"column {position + 1}"] = record[position]
        yield reader.line_num, item


def _count_rows(name: str) -> int:
    """Records in the file, for the progress bar's total (a quick pass over the bytes)."""
    lines = 0
    with open(name, "rb") as raw:
        for block in iter(lambda: raw.read(1 << 20), b""):
            lines += block.count(b"\n")
    return max(lines - 1, 0)


def _enforce_brands(brand_ids: list[int]) -> str:
    """Mark the brands pending; with the broker down, drain them here (a few seconds more are fine)."""
    if brands_mark_pending(brand_ids=brand_ids, source="command") != DrainRequested.BROKER_DOWN:
        return Enforcement.QUEUED
    while pending_brands_enforce(source="command")[0]:
        pass
    return Enforcement.IN_PROCESS


def _enforcement_text(enforcement: str, brands: int) -> str:
    if enforcement == Enforcement.QUEUED:
        return f"enforcement queued for {brands} brand(s)"
    if enforcement == Enforcement.IN_PROCESS:
        return f"broker unreachable: the rule was applied in-process for {brands} brand(s)"
    if enforcement == Enforcement.DEFERRED:
        return f"broker unreachable: the periodic drain will apply the rule for {brands} brand(s)"
    if enforcement == Enforcement.NEXT_SWEEP:
        return f"database lost after the commit: the next sweep will apply the rule for {brands} brand(s)"
    if enforcement == Enforcement.NONE:
        return "no rows, nothing to enforce"
    return f"enforcement for {brands} brand(s) runs when the transaction commits"
