"""Admin template tags: the heartbeat panel for the front page, the late banner for every page."""

from django import template
from django.utils import timezone

from operations.heartbeats import enforcement_late_tasks, heartbeats_for_display

register = template.Library()


@register.inclusion_tag("operations/late_banner.html", takes_context=True)
def enforcement_late_banner(context) -> dict:
    """A red banner naming the late tasks, for staff, on every admin page (one query)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if not (user and user.is_active and user.is_staff):
        return {"late": []}
    now = timezone.now()
    return {"late": [task.describe(now) for task in enforcement_late_tasks(now=now)]}


@register.inclusion_tag("operations/heartbeat_panel.html")
def heartbeat_panel() -> dict:
    """Each enforcement task's last start, finish, duration and summary (one query)."""
    return {"rows": heartbeats_for_display()}
