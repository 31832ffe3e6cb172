"""The admin's front page: the ops dashboard above Django's app list."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from campaigns.dashboard import OLDER_SPEND_CACHE_SECONDS, SETTLED_SPEND_CACHE_SECONDS, dashboard_figures
from campaigns.dashboard_charts import changes_chart, spend_chart


def admin_index(request: HttpRequest) -> HttpResponse:
    """Django's admin index with the dashboard's figures, for users who may view campaigns."""
    context = {}
    if request.user.has_perm("campaigns.view_campaign"):
        dashboard = dashboard_figures(now=timezone.now())
        context |= {
            "dashboard": dashboard,
            "spend_chart": spend_chart(
                dashboard.spend_by_day, partial_from=min((day for day, _ in dashboard.brand_todays), default=None)
            ),
            "changes_chart": changes_chart(dashboard.changes_by_hour),
            "settled_spend_minutes": SETTLED_SPEND_CACHE_SECONDS // 60,
            "older_spend_minutes": OLDER_SPEND_CACHE_SECONDS // 60,
            # What the template loops over: (figures, budget, period) and (budget, brands).
            "dashboard_totals": [(dashboard.today, "daily", "today"), (dashboard.month, "monthly", "this month")],
            "nearest_tables": [("daily", dashboard.nearest_daily), ("monthly", dashboard.nearest_monthly)],
            "reason_scale": max((item.count for item in dashboard.by_reason), default=0),
        }
    return admin.site.index(request, extra_context=context)
