from django.urls import path

from spend.api import SpendIngestView

urlpatterns = [
    path("spend/", SpendIngestView.as_view(), name="spend-report"),
]
