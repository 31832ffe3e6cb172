from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from alerts.api import StatusChangeFeedView
from campaigns.api import CampaignListView
from campaigns.views import admin_index
from operations import views as operations_views

# Ops see what this admin is for, not the framework's name.
admin.site.site_header = "Budget enforcement"
admin.site.site_title = "Budget enforcement"
admin.site.index_title = "Ops console"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    # The admin's front page is the ops dashboard (the rest of the admin is Django's).
    path("admin/", admin.site.admin_view(admin_index), name="admin-dashboard"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("spend.urls")),
    path("api/v1/campaigns/", CampaignListView.as_view(), name="campaign-list"),
    path("api/v1/status-changes/", StatusChangeFeedView.as_view(), name="status-change-feed"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-docs"),
    # Probes and metrics (SPEC §12); operations.middleware.ProbeMiddleware serves them first.
    path("healthz", operations_views.healthz, name="healthz"),
    path("healthz/enforcement", operations_views.enforcement_health, name="healthz-enforcement"),
    path("readyz", operations_views.readyz, name="readyz"),
    path("metrics", operations_views.metrics, name="metrics"),
]

# A database outage raised outside a view (e.g. saving the session) is a 503, not a 500.
handler500 = "budget_system.errors.server_error"
