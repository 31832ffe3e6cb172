"""Admin pieces every app's admin shares: widgets, filters, inlines, a paginator, saving.

They live in the project package so that no app imports another app's admin.
"""

import functools

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Model
from django.forms.models import BaseInlineFormSet
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from budget_system.timezones import timezone_names

# The audit `source` of every change made in the admin.
ADMIN_SOURCE = "admin"


class TimezoneInput(forms.TextInput):
    """A text box that suggests IANA names and leaves the checking to the model.

    The suggestions are an HTML <datalist>; the field's own validator refuses any other
    value with a message naming it. `with_datalist=False` is for inline rows: they point
    at one list rendered once per page instead of repeating ~600 options per row.
    """

    datalist_id = "iana-timezone-names"

    def __init__(self, attrs=None, *, with_datalist: bool = True):
        super().__init__({"list": self.datalist_id, "autocomplete": "off", **(attrs or {})})
        self.with_datalist = with_datalist

    @classmethod
    def datalist(cls) -> SafeString:
        return _timezone_datalist(cls.datalist_id)

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        html = super().render(name, value, attrs, renderer)
        return html + self.datalist() if self.with_datalist else html


@functools.cache
def _timezone_datalist(datalist_id: str) -> SafeString:
    options = format_html_join("", '<option value="{}">', ((name,) for name in sorted(timezone_names())))
    return format_html('<datalist id="{}">{}</datalist>', datalist_id, options)


class WallClockInput(forms.TimeInput):
    """A 24-hour HH:MM box, without the admin's clock picker (it offers "6 a.m.")."""

    def __init__(self, attrs=None):
        super().__init__(
            {"placeholder": "HH:MM", "size": 6, "pattern": "[0-9]{1,2}:[0-9]{2}(:[0-9]{2})?", **(attrs or {})},
            format="%H:%M",
        )


class AutocompleteFilter(admin.RelatedFieldListFilter):
    """Filter by a related object picked in a search box, like an autocomplete field.

    The stock related filter lists every brand (or campaign) in the sidebar; this one
    lists none and loads the selected one only, so the page costs the same however many
    there are. It uses the admin's own autocomplete view, so the related model's admin
    needs `search_fields`. `AutocompleteFilterMedia` adds the select2 scripts.
    """

    template = "admin/autocomplete_filter.html"

    def __init__(self, field, request, params, model, model_admin, field_path):
        self.model_admin = model_admin
        # A cleared search box submits an empty value: treat it as no filter, not an error.
        lookup_kwarg = f"{field_path}__{field.target_field.name}__exact"
        if params.get(lookup_kwarg) in ([""], ""):
            params.pop(lookup_kwarg)
        super().__init__(field, request, params, model, model_admin, field_path)

    def field_choices(self, field, request, model_admin):
        return []  # Nothing listed: the search box replaces the list.

    def has_output(self) -> bool:
        return True

    def get_facet_counts(self, pk_attname, filtered_qs):
        return {}

    def choices(self, changelist):
        selected = self.lookup_val[-1] if self.lookup_val else None
        keep = changelist.get_query_string(remove=[self.lookup_kwarg, self.lookup_kwarg_isnull])
        search_box = forms.ModelChoiceField(
            queryset=self.field.remote_field.model._default_manager.all(),
            required=False,
            widget=AutocompleteSelect(self.field, self.model_admin.admin_site, attrs={"style": "width: 100%"}),
        )
        yield {
            "selected": selected is None,
            "query_string": keep,
            "display": "All",
            # The search form resubmits every other filter, search and ordering in use.
            "hidden_params": [
                (name, value)
                for name, values in changelist.filter_params.items()
                if name not in (self.lookup_kwarg, self.lookup_kwarg_isnull)
                for value in values
            ],
            "widget": search_box.widget.render(self.lookup_kwarg, selected, attrs={"id": f"id_{self.lookup_kwarg}"}),
        }


class AutocompleteFilterMedia:
    """ModelAdmin mixin: the scripts the `AutocompleteFilter` search boxes need on the list."""

    @property
    def media(self):
        # The widget's scripts do not depend on the field it serves.
        return super().media + AutocompleteSelect(None, admin.site).media


class ConsoleMedia:
    """ModelAdmin mixin: the console's style sheet (bars, panels, the week grid)."""

    @property
    def media(self):
        return super().media + forms.Media(css={"all": ["console/console.css"]})


class FirstRowsInlineFormSet(BaseInlineFormSet):
    """An inline formset showing only the first `max_rows` rows of its ordering.

    A brand may have thousands of campaigns and a campaign years of spend and audit
    rows; the page shows the newest (or first) few, loaded in one query.
    """

    max_rows: int = 20

    def get_queryset(self):
        # One queryset object, kept: the formset indexes into it for every row.
        if not hasattr(self, "_first_rows"):
            queryset = super().get_queryset()
            if self.is_bound:
                # The rows the page showed, even if others have sorted in before them
                # since: re-slicing would silently drop the edits to the rows pushed out.
                queryset = queryset.filter(pk__in=self._posted_pks())
            else:
                queryset = queryset[: self.max_rows]
            self._first_rows = queryset
        return self._first_rows

    def _posted_pks(self) -> list[str]:
        pk_name = self.model._meta.pk.name
        shown = min(self.initial_form_count(), self.max_rows)
        posted = (self.data.get(f"{self.add_prefix(i)}-{pk_name}", "") for i in range(shown))
        return [pk for pk in posted if pk.isdigit()]


class FirstRowsInline:
    """InlineModelAdmin mixin: show only `max_rows_shown` rows (see FirstRowsInlineFormSet)."""

    max_rows_shown = 20

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.max_rows = self.max_rows_shown
        return formset


class ViewOnlyInline:
    """InlineModelAdmin mixin for rows that are shown, never edited from this page."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class EstimatedCountPaginator(Paginator):
    """Counts a whole big table from PostgreSQL's statistics instead of scanning it.

    For the spend and audit lists, which grow every day: unfiltered, an exact COUNT(*)
    would read the whole table on every page view. Filtered lists and small tables are
    counted exactly.
    """

    exact_below = 50_000

    @cached_property
    def count(self) -> int:
        query = getattr(self.object_list, "query", None)
        if query is not None and not query.where and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
                    [query.model._meta.db_table],
                )
                row = cursor.fetchone()
            # reltuples is -1 for a table never analysed.
            if row and row[0] >= self.exact_below:
                return row[0]
        return super().count


def edited_model_fields(form: forms.ModelForm) -> list[str]:
    """The model fields this form changed: what a save may write, and nothing else."""
    concrete = {field.name for field in form._meta.model._meta.concrete_fields}
    return [name for name in form.changed_data if name in concrete]


def save_form_edits(obj: Model, form: forms.ModelForm) -> None:
    """Save an object from an admin form writing only the columns the form changed.

    For campaigns: the enforcement service may have paused or resumed one since the page
    was loaded (or even since this request read it); writing only the edited columns
    keeps a stale form from undoing that.
    """
    if obj._state.adding:
        obj.save()
    else:
        obj.save(update_fields=[*edited_model_fields(form), "updated_at"])
