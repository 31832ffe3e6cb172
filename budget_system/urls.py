from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from alerts.api import StatusChangeFeedView
from campaigns.api import CampaignListView
from operations import views as operations_views

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
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
