from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """Watching the system run: task heartbeats, health and readiness probes, metrics."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "operations"

    def ready(self) -> None:
        # The heartbeat listens to the engine's run signals; the engine never imports us.
        from operations import receivers  # noqa: F401
