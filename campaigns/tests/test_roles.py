"""Roles: the groups `Ops` (manage, pause, resume) and `Viewer` (read only) exist after migrations."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from brands.tests.factories import BrandFactory
from campaigns.models import Campaign, CampaignStatusChange
from campaigns.tests.factories import CampaignFactory
from campaigns.tests.test_admin import change_form_data, change_url

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

S = Campaign.Status


def member_of(group_name: str, django_user_model, client, username: str):
    user = django_user_model.objects.create_user(username=username, password="pw-for-tests-1", is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    client.force_login(user)
    return client


@pytest.fixture
def viewer(client, django_user_model):
    return member_of("Viewer", django_user_model, client, "viewer1")


@pytest.fixture
def ops(client, django_user_model):
    return member_of("Ops", django_user_model, client, "ops1")


def codenames(group_name: str) -> set[str]:
    return set(Group.objects.get(name=group_name).permissions.values_list("codename", flat=True))


def test_the_migration_creates_both_groups_with_their_permissions():
    assert codenames("Viewer") == {
        "view_brand",
        "view_campaign",
        "view_campaignstatuschange",
        "view_spend",
        "view_daypartingschedule",
        "view_periodictask",
        # alerts 0002: alerts and their deliveries, and the heartbeats, are read by both.
        "view_brandalertsettings",
        "view_alertthreshold",
        "view_budgetalert",
        "view_delivery",
        "view_deliveryattempt",
        "view_taskheartbeat",
    }
    ops = codenames("Ops")
    assert codenames("Viewer") < ops
    for model in ("brand", "campaign", "spend", "daypartingschedule"):
        assert {f"add_{model}", f"change_{model}", f"delete_{model}"} <= ops
    # Ops set alert thresholds, recipients and webhooks, and send an alert again.
    assert {"change_brandalertsettings", "add_alertthreshold", "change_budgetalert", "change_delivery"} <= ops
    assert "change_budgetalert" not in codenames("Viewer")
    # Nobody edits the audit trail.
    assert not {"add_campaignstatuschange", "change_campaignstatuschange", "delete_campaignstatuschange"} & ops


def test_a_viewer_sees_every_page_and_can_export(viewer):
    campaign = CampaignFactory(daily_budget=Decimal("0"))
    for url in (
        reverse("admin:campaigns_campaign_changelist"),
        change_url(campaign),
        reverse("admin:campaigns_campaign_history", args=[campaign.pk]),
        reverse("admin:brands_brand_changelist"),
        change_url(campaign.brand),
        reverse("admin:campaigns_campaignstatuschange_changelist"),
        reverse("admin:dayparting_daypartingschedule_changelist"),
        reverse("admin:spend_spend_changelist"),
        reverse("admin:campaigns_campaign_export"),
        reverse("admin:campaigns_campaignstatuschange_export"),
    ):
        assert viewer.get(url).status_code == 200, url


def test_a_viewer_cannot_change_pause_or_resume(viewer):
    campaign = CampaignFactory(name="Launch", daily_budget=Decimal("10"))
    page = viewer.get(change_url(campaign))
    html = page.content.decode()

    assert 'name="_save"' not in html
    assert 'name="pause"' not in html and 'name="resume"' not in html
    assert "pause_selected" not in viewer.get(reverse("admin:campaigns_campaign_changelist")).content.decode()
    assert viewer.post(reverse("admin:campaigns_campaign_pause", args=[campaign.pk])).status_code == 403
    assert viewer.post(reverse("admin:campaigns_campaign_resume", args=[campaign.pk])).status_code == 403
    data = change_form_data(page) | {"name": "Renamed", "daily_budget": "999.00"}
    assert viewer.post(change_url(campaign), data).status_code == 403
    assert viewer.get(reverse("admin:brands_brand_add")).status_code == 403
    campaign.refresh_from_db()
    assert (campaign.name, campaign.daily_budget, campaign.status) == ("Launch", Decimal("10.00"), S.ACTIVE)
    assert not CampaignStatusChange.objects.exists()


def test_ops_can_pause_resume_and_edit_budgets(ops, django_capture_on_commit_callbacks):
    campaign = CampaignFactory(name="Launch", brand=BrandFactory())

    assert ops.post(reverse("admin:campaigns_campaign_pause", args=[campaign.pk])).status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == S.PAUSED_BY_USER
    assert ops.post(reverse("admin:campaigns_campaign_resume", args=[campaign.pk])).status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == S.ACTIVE

    data = change_form_data(ops.get(change_url(campaign))) | {"daily_budget": "0.00"}
    with django_capture_on_commit_callbacks(execute=True):
        assert ops.post(change_url(campaign), data).status_code == 302
    campaign.refresh_from_db()
    assert (campaign.daily_budget, campaign.status) == (Decimal("0.00"), S.PAUSED_BY_SYSTEM)
    assert list(CampaignStatusChange.objects.filter(user__username="ops1").values_list("new_status", flat=True)) == [
        S.ACTIVE,
        S.PAUSED_BY_USER,
    ]


def test_ops_cannot_edit_the_audit_trail(ops):
    assert ops.get(reverse("admin:campaigns_campaignstatuschange_add")).status_code == 403
