"""Formats for the dashboard's figures: money, utilization and bar widths."""

from decimal import Decimal

from django import template

from campaigns.dashboard_charts import usd as usd_text

register = template.Library()


@register.filter
def usd(amount: Decimal | None) -> str:
    """$1,234.56; an empty budget reads "no budget"."""
    return "no budget" if amount is None else usd_text(amount)


@register.filter
def percent(fraction: Decimal | None) -> str:
    """87%, or an em dash when there is nothing to divide by."""
    return "—" if fraction is None else f"{fraction * 100:,.0f}%"


@register.filter
def bar_width(fraction: Decimal | float | None) -> str:
    """A CSS width for a utilization bar: the fraction as a percentage, 0 to 100."""
    if fraction is None:
        return "100"
    return f"{min(Decimal(100), max(Decimal(0), Decimal(fraction) * 100)):.1f}"


@register.filter
def share(count: int, total: int) -> Decimal:
    """count / total, for bars against the largest of a list (0 when the total is 0)."""
    return Decimal(count) / Decimal(total) if total else Decimal(0)
