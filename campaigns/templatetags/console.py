"""Template filters of the ops console: local times with the zone named, money."""

from django import template

from budget_system.admin_format import local_time, money

register = template.Library()


@register.filter(name="local_time")
def local_time_filter(instant, timezone_name: str):
    """{{ change.at|local_time:"Europe/Berlin" }}: 24-hour wall clock in the zone, UTC on hover."""
    return local_time(instant, timezone_name)


@register.filter(name="money")
def money_filter(value) -> str:
    return money(value)
