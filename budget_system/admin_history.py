"""Who changed what: keeping django-simple-history's records complete for admin edits.

Rows written in bulk (demo data, an ETL, a migration) have no history record yet, so
their first edit would have nothing to compare with. Before the admin saves an edit,
`history_baseline` records the stored state of such rows once, marked as a baseline, so
the history can say "raised the daily budget from $75.00 to $120.00".
"""

from collections.abc import Iterable

from django.db.models import Model
from django.utils import timezone

# The change reason of a baseline record: the state found before the first tracked edit.
BASELINE_REASON = "state before the first recorded edit"


def history_baseline(model: type[Model], pks: Iterable[int]) -> None:
    """Record the stored state of the rows among `pks` that have no history yet (two queries)."""
    pks = [pk for pk in pks if pk is not None]
    if not pks:
        return
    history = model.history.model
    recorded = set(history.objects.filter(id__in=pks).values_list("id", flat=True).distinct())
    missing = [obj for obj in model._default_manager.filter(pk__in=pks) if obj.pk not in recorded]
    if missing:
        model.history.bulk_history_create(
            missing, update=True, default_change_reason=BASELINE_REASON, default_date=timezone.now()
        )


def tracks_history(model: type[Model]) -> bool:
    return hasattr(model._meta, "simple_history_manager_attribute")


class HistoryBaselineMixin:
    """ModelAdmin mixin: a baseline record before the object or its inline rows are edited."""

    def save_form(self, request, form, change):
        # Called before save_model, whatever columns that then writes.
        if change and tracks_history(form._meta.model) and form.changed_data:
            history_baseline(form._meta.model, [form.instance.pk])
        return super().save_form(request, form, change)

    def save_formset(self, request, form, formset, change):
        model = formset.model
        if tracks_history(model):
            edited = [
                inline_form.instance.pk
                for inline_form in formset.initial_forms
                if inline_form.has_changed() or formset._should_delete_form(inline_form)
            ]
            history_baseline(model, edited)
        super().save_formset(request, form, formset, change)
