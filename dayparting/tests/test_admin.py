"""The dayparting admin: list at a fixed query cost, timezone checked by name, and the
campaign re-decided after a window is added, moved or deleted."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory
from campaigns.tests.test_admin import AdminWorld, assert_queries_independent_of_size, change_form_data, change_url
from dayparting.models import DaypartingSchedule
from dayparting.tests.factories import DaypartingScheduleFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

S = Campaign.Status
R = Campaign.PauseReason
NOW = datetime.datetime(2026, 11, 24, 12, 0, tzinfo=datetime.UTC)  # Tuesday 12:00 UTC
TUESDAY = 1


def window_form(staff_client, **values) -> dict:
    data = change_form_data(staff_client.get(reverse("admin:dayparting_daypartingschedule_add")))
    data.update({name: str(value) for name, value in values.items()})
    return data


def test_dayparting_pages_cost_the_same_queries_at_3_and_60_rows(
    staff_client, staff_user, django_assert_max_num_queries
):
    world = AdminWorld(staff_user)
    world.grow(3)
    changelist = reverse("admin:dayparting_daypartingschedule_changelist")
    urls = [
        changelist,
        f"{changelist}?campaign__brand__id__exact={world.brand.pk}&day_of_week__exact=0",
        f"{changelist}?campaign__id__exact={world.campaign.pk}&campaign__is_dayparting_enabled__exact=1",
        f"{changelist}?q=focus",
        reverse("admin:dayparting_daypartingschedule_add"),
        change_url(world.first(DaypartingSchedule)),
    ]
    assert_queries_independent_of_size(
        staff_client, urls, lambda: world.grow(57), most=8, django_assert_max_num_queries=django_assert_max_num_queries
    )


def test_an_unknown_window_timezone_is_refused_with_its_name(staff_client):
    data = window_form(
        staff_client,
        campaign=CampaignFactory().pk,
        day_of_week=0,
        start_time="09:00",
        end_time="17:00",
        timezone="Europe/Atlantis",
    )
    response = staff_client.post(reverse("admin:dayparting_daypartingschedule_add"), data)
    assert response.context["adminform"].form.errors["timezone"] == [
        "'Europe/Atlantis' is not a known IANA timezone name (for example 'UTC' or 'Europe/Paris')."
    ]
    assert not DaypartingSchedule.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_adding_a_window_around_now_resumes_the_campaign(staff_client, django_capture_on_commit_callbacks):
    campaign = CampaignFactory(is_dayparting_enabled=True, status=S.PAUSED_BY_SYSTEM, pause_reason=R.DAYPARTING)
    data = window_form(
        staff_client, campaign=campaign.pk, day_of_week=TUESDAY, start_time="11:00", end_time="13:00", timezone="UTC"
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert staff_client.post(reverse("admin:dayparting_daypartingschedule_add"), data).status_code == 302

    campaign.refresh_from_db()
    assert (campaign.status, campaign.pause_reason) == (S.ACTIVE, "")


@time_machine.travel(NOW, tick=False)
def test_moving_a_window_to_another_campaign_re_decides_both(staff_client, django_capture_on_commit_callbacks):
    old = CampaignFactory(is_dayparting_enabled=True)
    new = CampaignFactory(is_dayparting_enabled=True, status=S.PAUSED_BY_SYSTEM, pause_reason=R.DAYPARTING)
    window = DaypartingScheduleFactory(
        campaign=old, day_of_week=TUESDAY, start_time=datetime.time(11), end_time=datetime.time(13)
    )
    data = change_form_data(staff_client.get(change_url(window)))
    data["campaign"] = new.pk

    with django_capture_on_commit_callbacks(execute=True):
        assert staff_client.post(change_url(window), data).status_code == 302

    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.status, old.pause_reason) == (S.PAUSED_BY_SYSTEM, R.DAYPARTING)
    assert (new.status, new.pause_reason) == (S.ACTIVE, "")


@time_machine.travel(NOW, tick=False)
def test_deleting_the_open_window_pauses_the_campaign(staff_client, django_capture_on_commit_callbacks):
    campaign = CampaignFactory(is_dayparting_enabled=True)
    window = DaypartingScheduleFactory(
        campaign=campaign, day_of_week=TUESDAY, start_time=datetime.time(11), end_time=datetime.time(13)
    )
    delete_url = reverse("admin:dayparting_daypartingschedule_delete", args=[window.pk])

    with django_capture_on_commit_callbacks(execute=True):
        assert staff_client.post(delete_url, {"post": "yes"}).status_code == 302

    campaign.refresh_from_db()
    assert (campaign.status, campaign.pause_reason) == (S.PAUSED_BY_SYSTEM, R.DAYPARTING)
