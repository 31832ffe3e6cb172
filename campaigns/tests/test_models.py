"""Campaign and audit invariants held by the database itself."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from brands.tests.factories import BrandFactory
from campaigns.models import Campaign, CampaignStatusChange
from campaigns.tests.factories import CampaignFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

S = Campaign.Status
R = Campaign.PauseReason


def refused(constraint: str):
    return pytest.raises(IntegrityError, match=constraint)


def test_status_values_are_exactly_the_contract_strings():
    assert {s.value for s in S} == {"ACTIVE", "PAUSED_BY_SYSTEM", "PAUSED_BY_USER"}
    assert {r.value for r in R} == {
        "",
        "BRAND_MONTHLY_BUDGET",
        "MONTHLY_BUDGET",
        "BRAND_DAILY_BUDGET",
        "DAILY_BUDGET",
        "DAYPARTING",
    }


def test_new_campaign_starts_active_without_dayparting():
    campaign = CampaignFactory()
    assert (campaign.status, campaign.pause_reason, campaign.is_dayparting_enabled) == ("ACTIVE", "", False)
    assert list(campaign.brand.campaigns.all()) == [campaign]


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (S.PAUSED_BY_SYSTEM, ""),  # system pause without a reason
        (S.ACTIVE, R.DAILY_BUDGET),  # a reason while active
        (S.PAUSED_BY_USER, R.DAYPARTING),  # a reason on a user pause
    ],
)
def test_reason_exactly_when_paused_by_system(status, reason):
    brand = CampaignFactory().brand
    with refused("campaign_pause_reason_iff_paused_by_system"), transaction.atomic():
        Campaign.objects.bulk_create([Campaign(brand=brand, name="x", status=status, pause_reason=reason)])
    campaign = CampaignFactory(brand=brand)
    with refused("campaign_pause_reason_iff_paused_by_system"), transaction.atomic():
        Campaign.objects.filter(pk=campaign.pk).update(status=status, pause_reason=reason)


def test_unknown_status_or_reason_is_refused():
    campaign = CampaignFactory()
    with refused("campaign_status_valid"), transaction.atomic():
        Campaign.objects.filter(pk=campaign.pk).update(status="PAUSED")
    with refused("campaign_pause_reason_valid"), transaction.atomic():
        Campaign.objects.filter(pk=campaign.pk).update(status=S.PAUSED_BY_SYSTEM, pause_reason="BORED")


@pytest.mark.parametrize("field", ["daily_budget", "monthly_budget"])
def test_negative_campaign_budget_is_refused(field):
    campaign = CampaignFactory()
    with refused(f"campaign_{field}_null_or_non_negative"), transaction.atomic():
        Campaign.objects.filter(pk=campaign.pk).update(**{field: Decimal("-0.01")})
    with refused(f"campaign_{field}_null_or_non_negative"), transaction.atomic():
        Campaign.objects.bulk_create([Campaign(brand=campaign.brand, name="y", **{field: Decimal("-1")})])


def test_audit_row_must_record_a_change_and_a_known_actor():
    campaign = CampaignFactory()
    same = dict(old_status=S.ACTIVE, new_status=S.ACTIVE, old_reason="", new_reason="")
    with refused("status_change_changes_something"), transaction.atomic():
        CampaignStatusChange.objects.bulk_create(
            [CampaignStatusChange(campaign=campaign, actor="system", source="test", **same)]
        )
    with refused("status_change_actor_valid"), transaction.atomic():
        CampaignStatusChange.objects.create(
            campaign=campaign, actor="robot", source="test", old_status=S.ACTIVE, new_status=S.PAUSED_BY_USER
        )


@pytest.mark.django_db(transaction=True)
def test_a_campaign_created_through_the_orm_is_enforced_as_soon_as_it_commits():

    brand = BrandFactory()
    with transaction.atomic():
        campaign = Campaign.objects.create(brand=brand, name="From a script", daily_budget=Decimal("0"))
        assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.ACTIVE  # not before the commit
    campaign.refresh_from_db()
    assert (campaign.status, campaign.pause_reason) == ("PAUSED_BY_SYSTEM", "DAILY_BUDGET")
    change = CampaignStatusChange.objects.get(campaign=campaign)
    assert (change.source, change.actor, change.campaign_name) == ("created", "system", "From a script")


@pytest.mark.django_db(transaction=True)
def test_a_campaign_created_with_nothing_blocking_it_stays_active_with_no_audit_row():

    campaign = Campaign.objects.create(brand=BrandFactory(), name="Free to run", daily_budget=Decimal("50"))
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.ACTIVE
    assert not CampaignStatusChange.objects.exists()
