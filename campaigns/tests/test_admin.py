"""The campaign admin: pages at a fixed query cost, status never written by the form,
pause/resume as bulk actions and as buttons, the rule applied after edits, the audit list
read-only. `AdminWorld`, `assert_queries_independent_of_size` and `change_form_data` are
shared with the other apps' admin tests.
"""

import datetime
from collections.abc import Callable, Iterable
from decimal import Decimal

import pytest
import time_machine
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from brands.tests.factories import BrandFactory
from campaigns.admin import CampaignAdmin
from campaigns.models import Campaign, CampaignStatusChange
from campaigns.tests.factories import CampaignFactory
from dayparting.models import DaypartingSchedule
from dayparting.tests.factories import DaypartingScheduleFactory
from spend.models import Spend
from spend.tests.factories import SpendFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

S = Campaign.Status
R = Campaign.PauseReason
NOW = datetime.datetime(2026, 11, 24, 12, 0, tzinfo=datetime.UTC)  # a Tuesday
TODAY = datetime.date(2026, 11, 24)
TUESDAY = 1

# --- Shared helpers -------------------------------------------------------------------


class AdminWorld:
    """Brands, campaigns, spend, windows and audit rows, grown in steps.

    `grow(n)` adds n brands with a campaign each, n campaigns to the focus brand, and n
    spend days, windows and audit rows to the focus campaign, so every list and every
    change page of the focus objects has more rows to show.
    """

    def __init__(self, user):
        self.user = user
        self.brand = BrandFactory(name="Focus brand", with_budgets=True)
        self.campaign = CampaignFactory(brand=self.brand, name="Focus campaign", is_dayparting_enabled=True)
        self.history_days = 0

    def grow(self, n: int) -> None:
        for _ in range(n):
            for campaign in (CampaignFactory(brand=BrandFactory()), CampaignFactory(brand=self.brand)):
                SpendFactory(campaign=campaign, date=TODAY)
                DaypartingScheduleFactory(campaign=campaign)
                add_status_change(campaign, user=self.user)
            SpendFactory(campaign=self.campaign, date=TODAY - datetime.timedelta(days=self.history_days))
            self.history_days += 1
            DaypartingScheduleFactory(campaign=self.campaign)
            add_status_change(self.campaign, user=self.user)

    def first(self, model):
        """The newest row of `model` (spend, window, audit row) of the focus campaign."""
        return model.objects.filter(campaign=self.campaign).first()


def add_status_change(campaign: Campaign, *, user=None) -> CampaignStatusChange:
    return CampaignStatusChange.objects.create(
        campaign=campaign,
        old_status=S.ACTIVE,
        new_status=S.PAUSED_BY_SYSTEM,
        old_reason="",
        new_reason=R.DAILY_BUDGET,
        actor=CampaignStatusChange.Actor.USER if user else CampaignStatusChange.Actor.SYSTEM,
        user=user,
        source="admin" if user else "check_all_campaign_budgets",
        details={"campaign_daily_spend": "10.00", "campaign_daily_budget": "10.00"},
    )


def queries_to_render(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, f"GET {url} answered {response.status_code}"
    return len(queries)


def assert_queries_independent_of_size(
    client: Client,
    urls: Iterable[str],
    grow: Callable[[], None],
    *,
    most: int,
    django_assert_max_num_queries,
) -> None:
    """Each page costs the same number of queries before and after `grow()`, at most `most`."""
    urls = list(urls)
    for url in urls:
        client.get(url)  # warm the per-process caches (content types, permissions)
    small = {url: queries_to_render(client, url) for url in urls}
    grow()
    large = {}
    for url in urls:
        with django_assert_max_num_queries(most):
            large[url] = queries_to_render(client, url)
    assert large == small


def change_form_data(response) -> dict:
    """The POST data a browser would send back for an admin add/change page, unedited."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({management.add_prefix(name): value for name, value in management.initial.items()})
        forms.extend(inline.formset.forms)
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            data[form.add_prefix(name)] = "on" if value is True else value
    return data


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


# --- Pages render, at a fixed number of queries ------------------------------------------


def test_every_registered_admin_list_add_and_change_page_renders(staff_client):
    AdminWorld(None).grow(2)
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        response = staff_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        assert response.status_code == 200, f"{opts.label} list: {response.status_code}"
        if model_admin.has_add_permission(response.wsgi_request):
            response = staff_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
            assert response.status_code == 200, f"{opts.label} add: {response.status_code}"
        if (obj := model._default_manager.first()) is not None:
            response = staff_client.get(change_url(obj))
            assert response.status_code == 200, f"{opts.label} change: {response.status_code}"


def test_campaign_pages_cost_the_same_queries_at_3_and_60_rows(staff_client, staff_user, django_assert_max_num_queries):
    world = AdminWorld(staff_user)
    world.grow(3)

    changelist = reverse("admin:campaigns_campaign_changelist")
    urls = [
        changelist,
        f"{changelist}?brand__id__exact={world.brand.pk}&status=ACTIVE",
        f"{changelist}?q=campaign",
        reverse("admin:campaigns_campaign_add"),
        change_url(world.campaign),
    ]

    assert_queries_independent_of_size(
        staff_client, urls, lambda: world.grow(57), most=18, django_assert_max_num_queries=django_assert_max_num_queries
    )


def test_audit_pages_cost_the_same_queries_at_3_and_60_rows(staff_client, staff_user, django_assert_max_num_queries):
    world = AdminWorld(staff_user)
    world.grow(3)

    changelist = reverse("admin:campaigns_campaignstatuschange_changelist")
    urls = [
        changelist,
        f"{changelist}?campaign__id__exact={world.campaign.pk}&actor=user&source=admin",
        f"{changelist}?created_at__year=2026",
        f"{changelist}?q=focus",
        change_url(world.first(CampaignStatusChange)),
    ]

    assert_queries_independent_of_size(
        staff_client, urls, lambda: world.grow(57), most=14, django_assert_max_num_queries=django_assert_max_num_queries
    )


def test_campaign_page_shows_recent_spend_windows_and_history(staff_client, staff_user):
    world = AdminWorld(staff_user)
    world.grow(30)
    response = staff_client.get(change_url(world.campaign))
    inlines = {inline.formset.model: inline.formset for inline in response.context["inline_admin_formsets"]}
    # All windows (editable); the latest 14 spend days and 20 status changes, newest first.
    assert len(inlines[DaypartingSchedule].forms) == 30
    spend_dates = [form.instance.date for form in inlines[Spend].forms]
    assert spend_dates == [TODAY - datetime.timedelta(days=i) for i in range(14)]
    # One history: the latest 20 status changes and edits, newest first.
    assert CampaignStatusChange not in inlines
    history = response.context["history"]
    assert len(history) == 20
    assert [entry.at for entry in history] == sorted((entry.at for entry in history), reverse=True)
    assert "Paused by system (Daily budget reached)" in response.content.decode()


def test_brand_filter_is_a_search_box_that_filters(staff_client):
    mine = CampaignFactory(brand=BrandFactory(name="Acme"), name="mine")
    CampaignFactory(brand=BrandFactory(name="Other"), name="theirs")
    changelist = reverse("admin:campaigns_campaign_changelist")

    response = staff_client.get(f"{changelist}?brand__id__exact={mine.brand_id}&q=i")
    assert [c.name for c in response.context["cl"].result_list] == ["mine"]
    page = response.content.decode()
    # The selected brand is the search box's one option; the search term is kept.
    assert f'<option value="{mine.brand_id}" selected>Acme</option>' in page
    assert '<input type="hidden" name="q" value="i">' in page
    assert "Other" not in page

    # A cleared search box submits an empty value: no filter, not an error page.
    response = staff_client.get(f"{changelist}?brand__id__exact=")
    assert response.status_code == 200
    assert {c.name for c in response.context["cl"].result_list} == {"mine", "theirs"}

    # The search box asks the admin's autocomplete view for brands.
    response = staff_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "campaigns", "model_name": "campaign", "field_name": "brand", "term": "acm"},
    )
    assert [r["text"] for r in response.json()["results"]] == ["Acme"]


# --- Who can reach the admin ------------------------------------------------------------


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:index",
        "admin:campaigns_campaign_changelist",
        "admin:campaigns_campaignstatuschange_changelist",
        "admin:brands_brand_changelist",
        "admin:spend_spend_changelist",
        "admin:dayparting_daypartingschedule_changelist",
    ],
)
def test_anonymous_and_non_staff_users_are_sent_to_the_login_page(client, django_user_model, url_name):
    url = reverse(url_name)
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))

    client.force_login(django_user_model.objects.create_user(username="customer", password="pw-customer-1"))
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))


def test_non_staff_user_cannot_pause_a_campaign(client, django_user_model):
    campaign = CampaignFactory()
    client.force_login(django_user_model.objects.create_user(username="customer", password="pw-customer-1"))
    response = client.post(reverse("admin:campaigns_campaign_pause", args=[campaign.pk]))
    assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))
    campaign.refresh_from_db()
    assert campaign.status == S.ACTIVE


# --- The form never writes the status ---------------------------------------------------


def test_posting_a_status_in_the_campaign_form_does_not_change_it(staff_client):
    campaign = CampaignFactory(name="Launch")
    url = change_url(campaign)
    data = change_form_data(staff_client.get(url))
    data.update(name="Launch 2", status=S.PAUSED_BY_USER, pause_reason=R.DAILY_BUDGET)

    response = staff_client.post(url, data)

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    campaign.refresh_from_db()
    assert (campaign.name, campaign.status, campaign.pause_reason) == ("Launch 2", S.ACTIVE, "")
    assert not CampaignStatusChange.objects.filter(campaign=campaign).exists()


def test_a_stale_campaign_form_does_not_undo_a_pause_the_system_made_meanwhile(
    staff_client, django_capture_on_commit_callbacks
):
    campaign = CampaignFactory(name="Launch")
    url = change_url(campaign)
    data = change_form_data(staff_client.get(url))  # ops opened the page while it was active
    Campaign.objects.filter(pk=campaign.pk).update(status=S.PAUSED_BY_SYSTEM, pause_reason=R.DAILY_BUDGET)
    data["name"] = "Launch renamed"

    with django_capture_on_commit_callbacks(execute=False):
        response = staff_client.post(url, data)

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.name, campaign.status, campaign.pause_reason) == (
        "Launch renamed",
        S.PAUSED_BY_SYSTEM,
        R.DAILY_BUDGET,
    )


def test_a_pause_written_while_the_campaign_form_saves_is_kept(staff_client, monkeypatch):
    """The race the read-only field cannot close: the system writes between the admin's
    read of the campaign and its save. The save writes only the edited columns."""
    campaign = CampaignFactory(name="Launch")
    url = change_url(campaign)
    data = change_form_data(staff_client.get(url))
    data["name"] = "Launch renamed"
    save_form = CampaignAdmin.save_form

    def system_pauses_meanwhile(self, request, form, change):
        Campaign.objects.filter(pk=campaign.pk).update(status=S.PAUSED_BY_SYSTEM, pause_reason=R.DAILY_BUDGET)
        return save_form(self, request, form, change)

    monkeypatch.setattr(CampaignAdmin, "save_form", system_pauses_meanwhile)
    assert staff_client.post(url, data).status_code == 302

    campaign.refresh_from_db()
    assert (campaign.name, campaign.status, campaign.pause_reason) == (
        "Launch renamed",
        S.PAUSED_BY_SYSTEM,
        R.DAILY_BUDGET,
    )


# --- Saving applies the rule after commit ---------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_lowering_a_campaign_budget_in_the_admin_pauses_it_after_commit(
    staff_client, django_capture_on_commit_callbacks
):
    campaign = CampaignFactory(daily_budget=Decimal("500"))
    SpendFactory(campaign=campaign, date=TODAY, daily_spend=Decimal("120"))
    url = change_url(campaign)
    data = change_form_data(staff_client.get(url))
    data["daily_budget"] = "100.00"

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = staff_client.post(url, data)

    assert response.status_code == 302
    assert len(callbacks) == 1
    campaign.refresh_from_db()
    assert (campaign.status, campaign.pause_reason) == (S.PAUSED_BY_SYSTEM, R.DAILY_BUDGET)
    change = CampaignStatusChange.objects.get(campaign=campaign)
    assert (change.actor, change.source, change.details["campaign_daily_spend"]) == ("system", "admin", "120.00")


@time_machine.travel(NOW, tick=False)
def test_dayparting_windows_saved_on_the_campaign_page_decide_its_status(
    staff_client, django_capture_on_commit_callbacks
):
    campaign = CampaignFactory()
    url = change_url(campaign)

    # Dayparting on, no window: never inside one.
    data = change_form_data(staff_client.get(url))
    data["is_dayparting_enabled"] = "on"
    with django_capture_on_commit_callbacks(execute=True):
        assert staff_client.post(url, data).status_code == 302
    campaign.refresh_from_db()
    assert (campaign.status, campaign.pause_reason) == (S.PAUSED_BY_SYSTEM, R.DAYPARTING)

    # A window around now, added in the inline, resumes it.
    data = change_form_data(staff_client.get(url))
    data.update(
        {
            "dayparting_schedules-TOTAL_FORMS": "1",
            "dayparting_schedules-0-day_of_week": str(TUESDAY),
            "dayparting_schedules-0-start_time": "11:00",
            "dayparting_schedules-0-end_time": "13:00",
            "dayparting_schedules-0-timezone": "UTC",
        }
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert staff_client.post(url, data).status_code == 302
    campaign.refresh_from_db()
    assert (campaign.status, campaign.pause_reason) == (S.ACTIVE, "")


@time_machine.travel(NOW, tick=False)
def test_a_window_with_an_unknown_timezone_is_refused_with_its_name(staff_client):
    campaign = CampaignFactory()
    url = change_url(campaign)
    data = change_form_data(staff_client.get(url))
    data.update(
        {
            "dayparting_schedules-TOTAL_FORMS": "1",
            "dayparting_schedules-0-day_of_week": "0",
            "dayparting_schedules-0-start_time": "09:00",
            "dayparting_schedules-0-end_time": "17:00",
            "dayparting_schedules-0-timezone": "Europe/Atlantis",
        }
    )
    response = staff_client.post(url, data)
    assert response.status_code == 200
    assert "&#x27;Europe/Atlantis&#x27; is not a known IANA timezone name" in response.content.decode()
    assert not DaypartingSchedule.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_a_new_campaign_gets_the_rule_at_once(staff_client, django_capture_on_commit_callbacks):
    brand = BrandFactory(daily_budget=Decimal("0"))
    response = staff_client.get(reverse("admin:campaigns_campaign_add"))
    data = change_form_data(response)
    data.update(brand=brand.pk, name="Fresh")

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse("admin:campaigns_campaign_add"), data)

    assert response.status_code == 302
    campaign = Campaign.objects.get(name="Fresh")
    assert (campaign.status, campaign.pause_reason) == (S.PAUSED_BY_SYSTEM, R.BRAND_DAILY_BUDGET)


@time_machine.travel(NOW, tick=False)
def test_moving_a_campaign_to_another_brand_re_decides_both_brands(staff_client, django_capture_on_commit_callbacks):
    capped = BrandFactory(daily_budget=Decimal("100"))
    spender = CampaignFactory(brand=capped, status=S.PAUSED_BY_SYSTEM, pause_reason=R.BRAND_DAILY_BUDGET)
    SpendFactory(campaign=spender, date=TODAY, daily_spend=Decimal("100"))
    sibling = CampaignFactory(brand=capped, status=S.PAUSED_BY_SYSTEM, pause_reason=R.BRAND_DAILY_BUDGET)
    uncapped = BrandFactory()
    url = change_url(spender)
    data = change_form_data(staff_client.get(url))
    data["brand"] = uncapped.pk

    with django_capture_on_commit_callbacks(execute=True):
        assert staff_client.post(url, data).status_code == 302

    spender.refresh_from_db()
    sibling.refresh_from_db()
    assert (spender.brand, spender.status, spender.pause_reason) == (uncapped, S.ACTIVE, "")
    assert (sibling.status, sibling.pause_reason) == (S.ACTIVE, "")


@time_machine.travel(NOW, tick=False)
def test_deleting_a_campaign_re_decides_its_brand_siblings(staff_client, django_capture_on_commit_callbacks):
    brand = BrandFactory(daily_budget=Decimal("100"))
    spender = CampaignFactory(brand=brand)
    SpendFactory(campaign=spender, date=TODAY, daily_spend=Decimal("100"))
    sibling = CampaignFactory(brand=brand, status=S.PAUSED_BY_SYSTEM, pause_reason=R.BRAND_DAILY_BUDGET)

    delete_url = reverse("admin:campaigns_campaign_delete", args=[spender.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(delete_url, {"post": "yes"})

    assert response.status_code == 302
    sibling.refresh_from_db()
    assert (sibling.status, sibling.pause_reason) == (S.ACTIVE, "")


# --- Pause and resume -----------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_bulk_pause_pauses_and_audits_with_the_user(staff_client, staff_user):
    active = CampaignFactory()
    system_paused = CampaignFactory(status=S.PAUSED_BY_SYSTEM, pause_reason=R.DAILY_BUDGET)
    user_paused = CampaignFactory(status=S.PAUSED_BY_USER)
    untouched = CampaignFactory()

    response = staff_client.post(
        reverse("admin:campaigns_campaign_changelist"),
        {"action": "pause_selected", "_selected_action": [active.pk, system_paused.pk, user_paused.pk]},
        follow=True,
    )

    assert "Paused 2 campaigns. 1 already paused by a user, left as they were." in response.content.decode()
    for campaign in (active, system_paused, user_paused):
        campaign.refresh_from_db()
        assert (campaign.status, campaign.pause_reason) == (S.PAUSED_BY_USER, "")
    untouched.refresh_from_db()
    assert untouched.status == S.ACTIVE
    changes = CampaignStatusChange.objects.order_by("campaign_id")
    assert [(c.campaign_id, c.old_status, c.old_reason) for c in changes] == [
        (active.pk, S.ACTIVE, ""),
        (system_paused.pk, S.PAUSED_BY_SYSTEM, R.DAILY_BUDGET),
    ]
    assert {(c.new_status, c.actor, c.user, c.source) for c in changes} == {
        (S.PAUSED_BY_USER, "user", staff_user, "admin")
    }


@time_machine.travel(NOW, tick=False)
def test_bulk_resume_applies_the_rule_and_audits_with_the_user(staff_client, staff_user):
    free = CampaignFactory(status=S.PAUSED_BY_USER)
    over_budget = CampaignFactory(status=S.PAUSED_BY_USER, daily_budget=Decimal("50"))
    SpendFactory(campaign=over_budget, date=TODAY, daily_spend=Decimal("50"))
    active = CampaignFactory()

    response = staff_client.post(
        reverse("admin:campaigns_campaign_changelist"),
        {"action": "resume_selected", "_selected_action": [free.pk, over_budget.pk, active.pk]},
        follow=True,
    )

    [message] = response.context["messages"]
    assert message.level_tag == "warning"
    assert message.message == (
        "Resumed 2 campaigns: 1 now active, 1 paused by the system again at once "
        "(a budget or the schedule still blocks them). 1 not paused by a user, left as they were."
    )
    free.refresh_from_db()
    over_budget.refresh_from_db()
    active.refresh_from_db()
    assert (free.status, free.pause_reason) == (S.ACTIVE, "")
    assert (over_budget.status, over_budget.pause_reason) == (S.PAUSED_BY_SYSTEM, R.DAILY_BUDGET)
    assert active.status == S.ACTIVE
    changes = {c.campaign_id: c for c in CampaignStatusChange.objects.all()}
    assert set(changes) == {free.pk, over_budget.pk}
    assert {(c.old_status, c.actor, c.user, c.source) for c in changes.values()} == {
        (S.PAUSED_BY_USER, "user", staff_user, "admin")
    }


def test_staff_with_view_permission_only_get_no_pause_or_resume_action(client, django_user_model):
    viewer = django_user_model.objects.create_user(username="viewer", password="pw-viewer-1", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_campaign"))
    client.force_login(viewer)
    campaign = CampaignFactory()

    response = client.get(reverse("admin:campaigns_campaign_changelist"))
    assert response.status_code == 200
    assert response.context["action_form"] is None or not {"pause_selected", "resume_selected"} & {
        name for name, _ in response.context["action_form"].fields["action"].choices
    }
    page = client.get(change_url(campaign)).content.decode()
    assert reverse("admin:campaigns_campaign_pause", args=[campaign.pk]) not in page

    response = client.post(reverse("admin:campaigns_campaign_pause", args=[campaign.pk]))
    assert response.status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == S.ACTIVE


@time_machine.travel(NOW, tick=False)
def test_pause_and_resume_buttons_on_the_campaign_page(staff_client, staff_user):
    campaign = CampaignFactory(name="Launch")
    page = change_url(campaign)
    pause_url = reverse("admin:campaigns_campaign_pause", args=[campaign.pk])
    resume_url = reverse("admin:campaigns_campaign_resume", args=[campaign.pk])

    content = staff_client.get(page).content.decode()
    assert f'action="{pause_url}"' in content and f'action="{resume_url}"' not in content

    response = staff_client.post(pause_url, follow=True)
    assert response.redirect_chain == [(page, 302)]
    assert "Paused “Launch”." in response.content.decode()
    assert f'action="{resume_url}"' in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == S.PAUSED_BY_USER

    response = staff_client.post(resume_url, follow=True)
    assert response.redirect_chain == [(page, 302)]
    assert "Resumed “Launch”: it is active." in response.content.decode()
    campaign.refresh_from_db()
    assert (campaign.status, campaign.pause_reason) == (S.ACTIVE, "")

    changes = CampaignStatusChange.objects.filter(campaign=campaign).order_by("id")
    assert [(c.old_status, c.new_status, c.actor, c.user, c.source) for c in changes] == [
        (S.ACTIVE, S.PAUSED_BY_USER, "user", staff_user, "admin"),
        (S.PAUSED_BY_USER, S.ACTIVE, "user", staff_user, "admin"),
    ]


@time_machine.travel(NOW, tick=False)
def test_resume_button_says_when_the_rule_pauses_the_campaign_again(staff_client):
    campaign = CampaignFactory(name="Launch", status=S.PAUSED_BY_USER, monthly_budget=Decimal("10"))
    SpendFactory(campaign=campaign, date=TODAY, daily_spend=Decimal("10"))
    response = staff_client.post(reverse("admin:campaigns_campaign_resume", args=[campaign.pk]), follow=True)
    [message] = response.context["messages"]
    # A warning, not a success: the campaign is not running.
    assert message.level_tag == "warning"
    assert message.message == (
        "Resumed “Launch”, but the system paused it again at once: Monthly budget reached. "
        "It resumes on the 1st (a new month): Tue 1 Dec 2026 00:00 UTC."
    )
    campaign.refresh_from_db()
    assert (campaign.status, campaign.pause_reason) == (S.PAUSED_BY_SYSTEM, R.MONTHLY_BUDGET)


def test_pause_button_needs_post_and_a_csrf_token(staff_user):
    campaign = CampaignFactory()
    pause_url = reverse("admin:campaigns_campaign_pause", args=[campaign.pk])
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff_user)

    assert browser.get(pause_url).status_code == 405
    assert browser.post(pause_url).status_code == 403  # no CSRF token
    campaign.refresh_from_db()
    assert campaign.status == S.ACTIVE
    assert not CampaignStatusChange.objects.exists()


def test_pause_button_on_a_missing_campaign_redirects_with_a_message(staff_client):
    response = staff_client.post(reverse("admin:campaigns_campaign_pause", args=[999999]), follow=True)
    assert response.status_code == 200
    assert "doesn’t exist" in response.content.decode()


# --- The audit trail is read-only ------------------------------------------------------------


def test_the_audit_trail_cannot_be_added_changed_or_deleted_in_the_admin(staff_client):
    change = add_status_change(CampaignFactory())
    opts = "admin:campaigns_campaignstatuschange"

    assert staff_client.get(reverse(f"{opts}_add")).status_code == 403
    assert staff_client.post(reverse(f"{opts}_add"), {}).status_code == 403
    assert staff_client.get(reverse(f"{opts}_delete", args=[change.pk])).status_code == 403
    assert staff_client.post(reverse(f"{opts}_delete", args=[change.pk]), {"post": "yes"}).status_code == 403

    response = staff_client.get(reverse(f"{opts}_change", args=[change.pk]))
    assert response.status_code == 200
    assert not response.context["has_change_permission"] and not response.context["has_delete_permission"]
    assert 'name="_save"' not in response.content.decode()
    response = staff_client.post(reverse(f"{opts}_change", args=[change.pk]), {"source": "forged"})
    assert response.status_code == 403

    response = staff_client.get(reverse(f"{opts}_changelist"))
    assert response.context["action_form"] is None  # no "delete selected"
    change.refresh_from_db()
    assert change.source == "check_all_campaign_budgets"
