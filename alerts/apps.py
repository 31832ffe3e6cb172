from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts and notifications"

    def ready(self) -> None:
        from alerts import receivers  # noqa: F401  (connects to campaigns.signals)
