"""What the campaign pages write: status and reasons, budget bars, resume times, CSV rows, messages.

HTML and text only; the figures and reasons come from `campaigns/explain.py`.
"""

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from budget_system.admin_format import local_time, local_time_text, usage_bar
from campaigns.explain import BudgetUse, CampaignExplanation, campaigns_explain
from campaigns.forecast import SpendForecast
from campaigns.history import reason_label
from campaigns.models import Campaign

Status = Campaign.Status


def status_html(status: str, explanation: CampaignExplanation | None) -> SafeString:
    """The stored status, and every reason that holds now."""
    label = format_html('<span class="status status-{}">{}</span>', status.lower(), Status(status).label)
    if explanation is None:
        return format_html("{} <small>(brand timezone unknown: not enforced)</small>", label)
    reasons = format_html_join("", "<li>{}</li>", ((reason_label(r),) for r in explanation.reasons))
    if status == Status.PAUSED_BY_USER:
        if not explanation.reasons:
            return label
        return format_html('{}<ul class="reasons reasons-muted" title="would hold on Resume">{}</ul>', label, reasons)
    html = format_html('{}<ul class="reasons">{}</ul>', label, reasons) if explanation.reasons else label
    if explanation.is_stale:
        html = format_html("{}<small> (the next check updates it)</small>", html)
    return html


def use_html(label: str, use: BudgetUse) -> SafeString:
    return usage_bar(label=label, spend=use.spend, budget=use.budget, percent=use.percent, level=use.level)


def resume_html(explanation: CampaignExplanation | None, *, with_year: bool = True) -> SafeString | str:
    if explanation is None or explanation.status == Status.ACTIVE:
        return "-"
    resume = explanation.resume
    if resume.at is None:
        return format_html('<span class="resume-how">{}</span>', resume.how)
    return format_html(
        '{}<br><span class="resume-how">{}</span>',
        local_time(resume.at, explanation.timezone, with_year=with_year),
        resume.how,
    )


def pace_html(forecast: SpendForecast, zone_name: str) -> SafeString | str:
    """At today's pace: spend by the end of the local day, and when the budget is reached."""
    day = forecast.daily
    if day.budget_reached:
        return mark_safe('<span class="pace pace-reached">daily budget reached</span>')  # noqa: S308  (a constant)
    if day.projected_spend is None:
        return "-"
    projected = format_html("≈ ${} by midnight", f"{day.projected_spend:,.2f}")
    if day.budget_reached_at is not None:
        return format_html(
            '{}<br><span class="pace pace-warn">budget at {}</span>',
            projected,
            local_time(day.budget_reached_at, zone_name, with_year=False),
        )
    month = forecast.monthly
    if month.budget_reached_at is not None:
        return format_html(
            '{}<br><span class="pace pace-warn">monthly budget on {}</span>',
            projected,
            local_time(month.budget_reached_at, zone_name, with_year=False),
        )
    return projected


def campaign_csv_row(campaign: Campaign, explanation: CampaignExplanation | None) -> list:
    row = [campaign.pk, campaign.name, campaign.brand.name, campaign.brand.timezone, campaign.get_status_display()]
    if explanation is None:
        return [*row, "brand timezone unknown", "", "", "", "", "", "", "", "", "", ""]
    today, month, resume = explanation.campaign_today, explanation.campaign_month, explanation.resume
    return [
        *row,
        "; ".join(reason_label(reason) for reason in explanation.reasons),
        "" if today.budget is None else f"{today.budget:.2f}",
        f"{today.spend:.2f}",
        "" if today.percent is None else today.percent,
        "" if month.budget is None else f"{month.budget:.2f}",
        f"{month.spend:.2f}",
        "" if month.percent is None else month.percent,
        local_time_text(resume.at, explanation.timezone) if resume.at else "",
        resume.at.isoformat() if resume.at else "",
        resume.how,
        "off" if explanation.window_open_now is None else ("open now" if explanation.window_open_now else "closed now"),
    ]


def paused_again_message(campaign: Campaign) -> str:
    """A Resume the rule undid at once: why, and when the system will resume it."""
    explanation = campaigns_explain(campaign_ids=[campaign.pk]).get(campaign.pk)
    reasons = [reason_label(campaign.pause_reason)]
    if explanation is not None:
        reasons += [reason_label(r) for r in explanation.reasons if r != campaign.pause_reason]
    text = f"Resumed “{campaign}”, but the system paused it again at once: {'; '.join(reasons)}."
    if explanation is not None and explanation.resume.at is not None:
        when = local_time_text(explanation.resume.at, explanation.timezone)
        text += f" It resumes {explanation.resume.how}: {when}."
    elif explanation is not None and explanation.resume.how:
        text += f" It resumes {explanation.resume.how}."
    return text


def pause_message(paused: int, selected: int) -> str:
    message = f"Paused {paused} campaign{'s' if paused != 1 else ''}."
    if selected > paused:
        message += f" {selected - paused} already paused by a user, left as they were."
    return message


def resume_message(summary, selected: int) -> str:
    resumed = summary.activated + summary.paused
    message = f"Resumed {resumed} campaign{'s' if resumed != 1 else ''}: {summary.activated} now active"
    if summary.paused:
        message += f", {summary.paused} paused by the system again at once (a budget or the schedule still blocks them)"
    message += "."
    if selected > summary.examined:
        message += f" {selected - summary.examined} not paused by a user, left as they were."
    return message
