"""`manage.py import_spend FILE`: the API's checks and upsert, from CSV (SPEC §8, §9)."""

import datetime as dt
import io
from decimal import Decimal

import pytest
import time_machine
from django.core.management import CommandError, call_command

from campaigns.models import CampaignStatusChange
from campaigns.tests.factories import CampaignFactory
from spend.models import Spend
from spend.tests.factories import SpendFactory

NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)
HEADER = "campaign,date,daily_spend,monthly_spend\n"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


@pytest.fixture
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


def run(*args, stdin=None):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_spend", *args, stdout=out, stderr=err, stdin=stdin, skip_checks=True)
    return out.getvalue(), err.getvalue()


def write(tmp_path, text, name="spend.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def spend_table():
    return sorted(Spend.objects.values_list("campaign_id", "date", "daily_spend", "monthly_spend", "updated_at"))


def test_a_good_file_is_imported_with_a_summary(tmp_path, django_capture_on_commit_callbacks):
    first, second = CampaignFactory(), CampaignFactory()
    SpendFactory(campaign=first, date=dt.date(2026, 11, 23), daily_spend=Decimal("1.00"), monthly_spend=Decimal("1.00"))
    path = write(
        tmp_path,
        HEADER
        + f"{first.pk},2026-11-23,20.00,120.00\n"
        + f"{first.pk},2026-11-24,5,125\n"
        + f"\n{second.pk},2026-11-24,0.50,0.50\n",
    )
    with django_capture_on_commit_callbacks() as callbacks:
        out, err = run(path)
    assert f"Imported 3 rows from {path}: 2 created, 1 updated, 0 unchanged" in out
    assert err == ""
    assert len(callbacks) == 1
    assert Spend.objects.get(campaign=first, date=dt.date(2026, 11, 23)).daily_spend == Decimal("20.00")
    assert Spend.objects.get(campaign=second).monthly_spend == Decimal("0.50")


def test_columns_may_come_in_any_order_with_a_byte_order_mark(tmp_path):
    campaign = CampaignFactory()
    path = write(tmp_path, f"\ufeffdate, campaign ,monthly_spend,daily_spend\n2026-11-24,{campaign.pk},9,3\n")
    run(path)
    row = Spend.objects.get()
    assert (row.daily_spend, row.monthly_spend) == (Decimal("3.00"), Decimal("9.00"))


def test_dash_reads_standard_input():
    campaign = CampaignFactory()
    out, _ = run("-", stdin=io.StringIO(HEADER + f"{campaign.pk},2026-11-24,1.00,2.00\n"))
    assert "Imported 1 rows from -: 1 created" in out
    assert Spend.objects.filter(campaign=campaign).exists()


def test_importing_the_same_file_twice_changes_nothing(tmp_path):
    campaign = CampaignFactory()
    path = write(tmp_path, HEADER + f"{campaign.pk},2026-11-24,1.00,2.00\n{campaign.pk},2026-11-23,1.00,1.00\n")
    run(path)
    table = spend_table()
    out, _ = run(path)
    assert "0 created, 0 updated, 2 unchanged" in out
    assert spend_table() == table


def test_bad_rows_are_reported_by_line_field_and_value_and_nothing_is_stored(tmp_path):
    campaign = CampaignFactory()
    SpendFactory(campaign=campaign, date=dt.date(2026, 11, 1))
    before = spend_table()
    path = write(
        tmp_path,
        HEADER
        + f"{campaign.pk},2026-11-20,10.00,10.00\n"  # line 2: good, but must not be kept
        + f"{campaign.pk},2026-11-21,-3,10.00\n"  # line 3
        + f"{campaign.pk},2026-11-22,1.005,10.00\n"  # line 4
        + f"{campaign.pk},2026-11-23,20.00,10.00\n"  # line 5
        + f"{campaign.pk},2026-11-25,1.00,1.00\n"  # line 6: after today
        + "999999,2026-11-24,1.00,1.00\n"  # line 7
        + f"{campaign.pk},2026-11-20,1.00,1.00\n"  # line 8: duplicate of line 2
        + f"{campaign.pk},24/11/2026,1.00\n",  # line 9: bad date, a column short
    )
    with pytest.raises(CommandError, match=r"8 error\(s\) in .*spend.csv; nothing was imported"):
        run(path)
    assert spend_table() == before


def test_error_lines_name_line_field_and_value(tmp_path, capsys):
    campaign = CampaignFactory()
    path = write(tmp_path, HEADER + f"{campaign.pk},2026-11-21,-3,10.00\n{campaign.pk},2026-11-22,1,2,extra\n")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_spend", path, stdout=io.StringIO(), stderr=err, skip_checks=True)
    lines = err.getvalue().splitlines()
    assert lines == [
        f"{path} line 2: daily_spend '-3' is negative: spend must be at least 0 [field daily_spend, value '-3']",
        f"{path} line 3: unknown field 'column 5'; the fields are campaign, date, daily_spend, monthly_spend "
        "[field column 5, value 'extra']",
    ]


def test_a_bad_row_after_many_batches_still_rolls_everything_back(tmp_path):
    campaign = CampaignFactory()
    days = [dt.date(2026, 11, 24) - dt.timedelta(days=i) for i in range(30)]
    rows = "".join(f"{campaign.pk},{day},1.00,1.00\n" for day in days)
    path = write(tmp_path, HEADER + rows + f"{campaign.pk},2026-09-01,oops,1.00\n")
    with pytest.raises(CommandError, match="1 error"):
        run(path, "--batch-size", "7")
    assert not Spend.objects.exists()


def test_a_missing_file_is_named():
    with pytest.raises(CommandError, match="File not found: /no/such/spend.csv"):
        run("/no/such/spend.csv")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("campaign,date,daily\n1,2026-11-24,1\n", "missing daily_spend, monthly_spend; unexpected 'daily'"),
        ("campaign,date,daily_spend,monthly_spend,campaign\n", "repeated campaign"),
        ("", "is empty"),
    ],
)
def test_a_wrong_header_is_named(tmp_path, text, says):
    path = write(tmp_path, text)
    with pytest.raises(CommandError, match=says):
        run(path)


def test_malformed_csv_is_named_with_its_line(tmp_path):
    campaign = CampaignFactory()
    path = write(tmp_path, HEADER + f'{campaign.pk},2026-11-24,1.00,1.00\n{campaign.pk},"2026-11-23"x,1,1\n')
    with pytest.raises(CommandError, match="line 3: malformed CSV: ',' expected after"):
        run(path)
    assert not Spend.objects.exists()


def test_bytes_that_are_not_utf8_are_named_by_line_and_field(tmp_path):
    campaign = CampaignFactory()
    path = tmp_path / "latin.csv"
    path.write_bytes(HEADER.encode() + f"{campaign.pk},2026-11-24,1,1\u20ac\n".encode("cp1252"))
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 error"):
        call_command("import_spend", str(path), stdout=io.StringIO(), stderr=err, skip_checks=True)
    assert (
        "line 2: monthly_spend holds a lone UTF-16 surrogate (\\udc80; read from a file: the byte 0x80, "
        "which is not UTF-8) at position 1, which cannot be stored [field monthly_spend, value '1\\\\udc80']"
    ) in err.getvalue()


def test_an_import_that_crosses_a_budget_pauses_the_campaign(tmp_path, eager_tasks, django_capture_on_commit_callbacks):
    campaign = CampaignFactory(monthly_budget=Decimal("1000.00"))
    path = write(tmp_path, HEADER + f"{campaign.pk},2026-11-24,50.00,1000.00\n")
    with django_capture_on_commit_callbacks(execute=True):
        run(path)
    campaign.refresh_from_db()
    assert (campaign.status, campaign.pause_reason) == ("PAUSED_BY_SYSTEM", "MONTHLY_BUDGET")
    assert CampaignStatusChange.objects.get().source == "command"


def test_a_progress_bar_can_be_forced_onto_stderr(tmp_path):
    campaign = CampaignFactory()
    path = write(tmp_path, HEADER + f"{campaign.pk},2026-11-24,1.00,1.00\n")
    _, err = run(path, "--progress")
    assert "1/1" in err
    _, err = run(path)
    assert err == ""  # not a terminal, and small: no bar
