"""CSV export of what an admin list shows filtered, streamed row by row.

The list's own ChangeList reads the filters, search and ordering from the query string,
so the export holds exactly the rows the list would page through. Rows are produced by
the admin's `csv_rows(queryset)`, set-based in chunks, and streamed: a list of a
million rows never sits in memory.
"""

import csv
from collections.abc import Iterable, Iterator
from itertools import islice

from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBadRequest, StreamingHttpResponse
from django.urls import path
from django.utils import timezone

# Rows read and explained per round trip.
EXPORT_CHUNK = 2000


def chunked(iterable: Iterable, size: int) -> Iterator[list]:
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk


class _Echo:
    """A file-like object whose write returns the line: csv.writer then yields lines."""

    def write(self, value: str) -> str:
        return value


class CsvExportMixin:
    """ModelAdmin mixin: an "Export CSV" view at `export/` of what the list shows filtered.

    Needs `csv_header()` and `csv_rows(queryset)`; viewing the list is enough to export it.
    """

    csv_name = "export"

    def csv_header(self) -> list[str]:
        raise NotImplementedError

    def csv_rows(self, queryset) -> Iterator[list]:
        raise NotImplementedError

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("export/", self.admin_site.admin_view(self.export_csv_view), name="{}_{}_export".format(*info)),
            *super().get_urls(),
        ]

    def export_csv_view(self, request: HttpRequest):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters as error:
            return HttpResponseBadRequest(f"The list's filters are not valid: {error}")
        writer = csv.writer(_Echo())
        lines = (writer.writerow(row) for row in self._csv_lines(changelist.queryset))
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="{self.csv_name}-{stamp}.csv"'
        return response

    def _csv_lines(self, queryset) -> Iterator[list]:
        yield self.csv_header()
        yield from self.csv_rows(queryset)
