from django.contrib import admin

from operations.models import TaskHeartbeat


@admin.register(TaskHeartbeat)
class TaskHeartbeatAdmin(admin.ModelAdmin):
    """Read only: the rows are written by the engine's run signals."""

    list_display = ["task_name", "last_started_at", "last_finished_at", "last_duration_ms", "runs_finished"]
    readonly_fields = [field.name for field in TaskHeartbeat._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
