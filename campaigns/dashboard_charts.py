"""Bar charts for the dashboard, drawn as SVG on the server.

No JavaScript and nothing fetched from elsewhere: the geometry is worked out here and
`templates/admin/dashboard/bar_chart.html` writes it as `<rect>` and `<text>`
elements, coloured by the admin's CSS variables (so dark mode works too).
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from campaigns.dashboard import DaySpend, HourChanges

WIDTH, HEIGHT = 640, 220
# Room for the y-axis labels on the left and the x-axis labels below.
LEFT, RIGHT, TOP, BOTTOM = 56, 24, 12, 28
Y_TICKS = 4


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: str
    title: str


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Series:
    key: str
    label: str


@dataclass(frozen=True)
class Chart:
    title: str
    bars: list[Bar]
    y_ticks: list[Tick]
    x_labels: list[Tick]
    series: list[Series]
    width: int = WIDTH
    height: int = HEIGHT
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    plot_top: int = TOP
    plot_bottom: int = HEIGHT - BOTTOM

    @property
    def label_y(self) -> int:
        return self.plot_bottom + 18


# Axis tops: these times a power of ten, the smallest at or above the largest value.
# Each splits into four round ticks (0.25, 0.3, 0.4, 0.5, 0.6, 1, 1.5, 2).
_ROUND_TOPS = (1, 1.2, 1.6, 2, 2.4, 4, 6, 8, 10)


def nice_scale(largest: float, *, whole: bool = False) -> float:
    """A round axis top at or above `largest`; with `whole`, one whose ticks are whole numbers."""
    if largest <= 0:
        return float(Y_TICKS)
    magnitude = 10 ** math.floor(math.log10(largest))
    for factor in (*_ROUND_TOPS, *(10 * top for top in _ROUND_TOPS)):
        top = factor * magnitude
        if top >= largest and (not whole or (top >= Y_TICKS and top % Y_TICKS == 0)):
            return top
    return 100 * magnitude


def compact_usd(amount: float) -> str:
    """$0, $750, $12.5k, $1.2M: short labels for an axis."""
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(amount) >= size:
            return f"${amount / size:.3g}{suffix}"
    return f"${amount:.0f}"


def usd(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def _bar_chart(
    *,
    title: str,
    categories: Sequence[object],
    series: Sequence[Series],
    values: Callable[[object], Sequence[float]],
    bar_series: Callable[[object, Series], str],
    bar_title: Callable[[object, Series, float], str],
    x_label: Callable[[int, object], str | None],
    y_label: Callable[[float], str],
    legend: Sequence[Series] | None = None,
    whole: bool = False,
) -> Chart:
    """A grouped bar chart: one group per category, one bar per series in each group."""
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = nice_scale(max((value for category in categories for value in values(category)), default=0), whole=whole)
    group_width = plot_width / max(1, len(categories))
    bar_width = group_width * 0.8 / len(series)
    bars, x_labels = [], []
    for index, category in enumerate(categories):
        group_left = LEFT + index * group_width + group_width * 0.1
        for position, (one, value) in enumerate(zip(series, values(category), strict=True)):
            height = plot_height * value / top
            bars.append(
                Bar(
                    x=round(group_left + position * bar_width, 2),
                    y=round(TOP + plot_height - height, 2),
                    width=round(bar_width, 2),
                    height=round(height, 2),
                    series=bar_series(category, one),
                    title=bar_title(category, one, value),
                )
            )
        label = x_label(index, category)
        if label is not None:
            x_labels.append(Tick(round(LEFT + (index + 0.5) * group_width, 2), label))
    y_ticks = [
        Tick(round(TOP + plot_height - plot_height * n / Y_TICKS, 2), y_label(top * n / Y_TICKS))
        for n in range(Y_TICKS + 1)
    ]
    return Chart(title=title, bars=bars, y_ticks=y_ticks, x_labels=x_labels, series=list(legend or series))


def spend_chart(days: Sequence[DaySpend], *, partial_from: date | None = None) -> Chart:
    """Total spend per day; the days from `partial_from` on are some brand's today, still coming in."""
    settled, partial = Series("spend", "Spend"), Series("partial", "Today in some brand's zone (still coming in)")
    last = len(days) - 1
    return _bar_chart(
        title=f"Spend per day, last {len(days)} days",
        categories=days,
        series=[settled],
        values=lambda day: [float(day.spend)],
        bar_series=lambda day, one: "partial" if partial_from and day.day >= partial_from else "spend",
        bar_title=lambda day, one, value: f"{day.day:%a %-d %b}: {usd(day.spend)}",
        # Every fifth day back from the last, so the latest day is always labelled.
        x_label=lambda index, day: f"{day.day:%-d %b}" if (last - index) % 5 == 0 else None,
        y_label=compact_usd,
        legend=[settled, partial] if partial_from else [settled],
    )


def changes_chart(hours: Sequence[HourChanges]) -> Chart:
    """Pauses and resumes per hour (UTC), side by side."""
    pauses, resumes = Series("pauses", "Pauses"), Series("resumes", "Resumes")
    last = len(hours) - 1

    def bar_title(hour: HourChanges, one: Series, value: float) -> str:
        end = (hour.start.hour + 1) % 24
        what = one.label.lower() if value != 1 else one.label.lower().removesuffix("s")
        return f"{hour.start:%a %H}:00–{end:02d}:00 UTC: {int(value)} {what}"

    return _bar_chart(
        title=f"Pauses and resumes per hour, last {len(hours)} hours (UTC)",
        categories=hours,
        series=[pauses, resumes],
        values=lambda hour: [hour.pauses, hour.resumes],
        bar_series=lambda hour, one: one.key,
        bar_title=bar_title,
        x_label=lambda index, hour: f"{hour.start:%H}:00" if (last - index) % 3 == 0 else None,
        y_label=lambda value: f"{value:,.0f}",
        whole=True,
    )
