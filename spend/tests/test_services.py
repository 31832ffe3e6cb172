"""The spend ingestion service: the checks of SPEC §9, the upsert, all or nothing."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from brands.tests.factories import BrandFactory
from campaigns.tests.factories import CampaignFactory
from spend.models import Spend
from spend.services import (
    Enforcement,
    SpendRow,
    SpendValidationError,
    parse_money,
    spend_ingest,
    spend_items_validate,
    spend_rows_upsert,
)
from spend.tests.factories import SpendFactory

# 02:00 UTC on 24 November: still the 23rd in New York, already the 24th in UTC.
NOW = dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 24)


def item(campaign, day=TODAY, daily="10.00", monthly="100.00"):
    return {"campaign": campaign, "date": str(day), "daily_spend": daily, "monthly_spend": monthly}


def problems(excinfo):
    return [(e.position, e.field, e.value) for e in excinfo.value.errors]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12.50", Decimal("12.50")),
        ("0", Decimal("0.00")),
        (" 7 ", Decimal("7.00")),
        (12, Decimal("12.00")),
        (Decimal("12.5"), Decimal("12.50")),
        ("1.000", Decimal("1.00")),
        ("999999999999.99", Decimal("999999999999.99")),
    ],
)
def test_money_is_read_exactly_as_cents(raw, expected):
    value = parse_money(raw)
    assert value == expected
    assert value.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("-0.01", "negative"),
        ("1.001", "more than 2 decimal places"),
        (Decimal("0.005"), "more than 2 decimal places"),
        ("1e3", "decimal string"),
        ("12,50", "decimal string"),
        ("NaN", "decimal string"),
        (True, "boolean"),
        ([1], "not a list"),
        ("1000000000000", "too large"),
        (Decimal("Infinity"), "finite"),
    ],
)
def test_bad_money_is_refused_with_the_reason(raw, says):
    from spend.services import _Invalid

    with pytest.raises(_Invalid, match=says):
        parse_money(raw)


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_every_problem_is_named_with_its_position_field_and_value():
    campaign = CampaignFactory()
    items = [
        item(campaign.pk),  # 0: good
        item(campaign.pk, day=dt.date(2026, 11, 23), daily="-1"),  # 1
        item(campaign.pk, day=dt.date(2026, 11, 22), monthly="5.00"),  # 2: monthly < daily
        item(999_999),  # 3: unknown campaign
        item(campaign.pk, day=dt.date(2026, 11, 25)),  # 4: after the brand's today
        item(campaign.pk),  # 5: duplicate of 0
        {"campaign": campaign.pk, "date": "2026-11-21"},  # 6: missing money
        "not an object",  # 7
        item(campaign.pk, day=dt.date(2026, 11, 20)) | {"currency": "EUR"},  # 8: unknown field
    ]
    with pytest.raises(SpendValidationError) as excinfo:
        spend_items_validate(items=items)
    assert problems(excinfo) == [
        (1, "daily_spend", "-1"),
        (2, "monthly_spend", "5.00"),
        (3, "campaign", 999_999),
        (4, "date", "2026-11-25"),
        (5, "date", "2026-11-24"),
        (6, "daily_spend", None),
        (6, "monthly_spend", None),
        (7, "item", "not an object"),
        (8, "currency", "EUR"),
    ]
    messages = [e.message for e in excinfo.value.errors]
    assert "is negative" in messages[0]
    assert "monthly_spend 5.00 is less than daily_spend 10.00" in messages[1]
    assert "campaign 999999 does not exist" in messages[2]
    assert "after today (2026-11-24) in the brand's timezone UTC" in messages[3]
    assert "duplicate of item 0" in messages[4]


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_future_date_is_judged_in_each_brands_own_calendar():
    new_york = CampaignFactory(brand=BrandFactory(timezone="America/New_York"))
    kiritimati = CampaignFactory(brand=BrandFactory(timezone="Pacific/Kiritimati"))  # UTC+14
    with pytest.raises(SpendValidationError) as excinfo:
        spend_items_validate(
            items=[
                item(new_york.pk, day=dt.date(2026, 11, 24)),  # New York is still on the 23rd
                item(new_york.pk, day=dt.date(2026, 11, 23)),
                item(kiritimati.pk, day=dt.date(2026, 11, 24)),  # 16:00 on the 24th there
                item(kiritimati.pk, day=dt.date(2026, 11, 25)),
            ]
        )
    assert problems(excinfo) == [(0, "date", "2026-11-24"), (3, "date", "2026-11-25")]
    assert "today (2026-11-23) in the brand's timezone America/New_York" in excinfo.value.errors[0].message


@pytest.mark.django_db
@pytest.mark.parametrize("size", [10, 500])
def test_validation_costs_one_query_however_many_items(size, django_assert_num_queries):
    campaigns = CampaignFactory.create_batch(5)
    items = [item(campaigns[i % 5].pk, day=TODAY - dt.timedelta(days=i // 5)) for i in range(size)]
    with time_machine.travel(NOW, tick=False), django_assert_num_queries(1):
        rows = spend_items_validate(items=items)
    assert len(rows) == size


@pytest.mark.django_db
def test_upsert_creates_replaces_and_leaves_equal_rows_untouched():
    campaign = CampaignFactory()
    kept = SpendFactory(
        campaign=campaign, date=dt.date(2026, 11, 1), daily_spend=Decimal("5"), monthly_spend=Decimal("5")
    )
    replaced = SpendFactory(
        campaign=campaign, date=dt.date(2026, 11, 2), daily_spend=Decimal("6"), monthly_spend=Decimal("11")
    )
    kept_updated_at = Spend.objects.get(pk=kept.pk).updated_at
    rows = [
        SpendRow(campaign.pk, campaign.brand_id, dt.date(2026, 11, 1), Decimal("5.00"), Decimal("5.00")),
        SpendRow(campaign.pk, campaign.brand_id, dt.date(2026, 11, 2), Decimal("7.00"), Decimal("12.00")),
        SpendRow(campaign.pk, campaign.brand_id, dt.date(2026, 11, 3), Decimal("1.00"), Decimal("13.00")),
    ]
    assert spend_rows_upsert(rows=rows) == (1, 1, 1)
    replaced.refresh_from_db()
    assert (replaced.daily_spend, replaced.monthly_spend) == (Decimal("7.00"), Decimal("12.00"))
    assert Spend.objects.get(pk=kept.pk).updated_at == kept_updated_at
    assert Spend.objects.filter(campaign=campaign).count() == 3


@pytest.mark.postgres  # elsewhere: a read, then bulk_create split by the parameter limit
@pytest.mark.django_db
@pytest.mark.parametrize("size", [10, 1000])
def test_an_upsert_is_one_statement_on_postgresql(size, django_assert_num_queries):
    campaigns = CampaignFactory.create_batch(10)
    rows = [
        SpendRow(c.pk, c.brand_id, TODAY - dt.timedelta(days=i), Decimal("1.00"), Decimal("1.00"))
        for i in range(size // 10)
        for c in campaigns
    ]
    with django_assert_num_queries(1):
        assert spend_rows_upsert(rows=rows) == (size, 0, 0)
    changed = [SpendRow(r.campaign_id, r.brand_id, r.date, r.daily_spend, Decimal("2.00")) for r in rows[::2]]
    with django_assert_num_queries(1):
        assert spend_rows_upsert(rows=changed + rows[1::2]) == (0, len(changed), size - len(changed))


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_a_bad_row_in_a_later_batch_rolls_back_the_earlier_batches():
    campaign = CampaignFactory()
    items = [item(campaign.pk, day=TODAY - dt.timedelta(days=i)) for i in range(9)]
    items.append(item(campaign.pk, day=TODAY - dt.timedelta(days=20), daily="oops"))
    with pytest.raises(SpendValidationError) as excinfo:
        spend_ingest(items=enumerate(items), source="test", chunk_size=3)
    assert problems(excinfo) == [(9, "daily_spend", "oops")]
    assert not Spend.objects.exists()


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_duplicates_are_found_across_batches():
    campaign = CampaignFactory()
    items = [item(campaign.pk, day=TODAY - dt.timedelta(days=i)) for i in range(4)] + [item(campaign.pk)]
    with pytest.raises(SpendValidationError) as excinfo:
        spend_ingest(items=enumerate(items, start=2), source="test", chunk_size=2, position_name="line")
    assert problems(excinfo) == [(6, "date", "2026-11-24")]
    assert "duplicate of line 2" in excinfo.value.errors[0].message


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_reporting_stops_at_max_errors():
    campaign = CampaignFactory()
    items = [item(campaign.pk, day=TODAY - dt.timedelta(days=i), daily="-1") for i in range(50)]
    with pytest.raises(SpendValidationError) as excinfo:
        spend_ingest(items=enumerate(items), source="test", chunk_size=10, max_errors=15)
    assert len(excinfo.value.errors) == 15
    assert excinfo.value.truncated


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_ingest_counts_and_names_the_brands_to_enforce(django_capture_on_commit_callbacks):
    first, second = CampaignFactory(), CampaignFactory()
    SpendFactory(campaign=first, date=TODAY, daily_spend=Decimal("1.00"), monthly_spend=Decimal("1.00"))
    handed_over = []
    with django_capture_on_commit_callbacks() as callbacks:
        result = spend_ingest(
            items=enumerate([item(first.pk), item(second.pk), item(second.pk, day=dt.date(2026, 11, 23))]),
            source="test",
            on_committed=lambda brand_ids: handed_over.append(brand_ids) or Enforcement.QUEUED,
        )
    assert (result.received, result.created, result.updated, result.unchanged) == (3, 2, 1, 0)
    assert result.brand_ids == sorted([first.brand_id, second.brand_id])
    assert result.enforcement == Enforcement.PENDING
    assert handed_over == []  # nothing before the commit
    assert len(callbacks) == 1
    callbacks[0]()
    assert handed_over == [result.brand_ids]
    assert result.enforcement == Enforcement.QUEUED


@pytest.mark.django_db
def test_nothing_received_enqueues_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        result = spend_ingest(items=[], source="test")
    assert result.enforcement == Enforcement.NONE
    assert callbacks == []
