"""Auditors: exports of closures, refunds, the check register, final statements, held
funds, the unclaimed property report and the audit trail (SPEC §5, B6), and the list
of every export taken."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django_object_actions import DjangoObjectActions, action

from portal.display import business_datetime
from portal.errors import Refused

from ..exporters import EXPORTERS
from ..exporters.base import export_record, export_send
from ..exporters.files import ExportFileUnavailable, export_file_available, export_file_open
from ..models import ExportRun
from . import forms
from .bank_files import naupa_view
from .base import ReadOnlyAdmin

Status = ExportRun.Status
CONTENT_TYPES: dict[str, str] = {
    ExportRun.Format.CSV: "text/csv; charset=utf-8",
    ExportRun.Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@admin.register(ExportRun)
class ExportRunAdmin(DjangoObjectActions, ReadOnlyAdmin):
    list_display = [
        "created_at",
        "actor",
        "export",
        "file_format",
        "date_from",
        "date_to",
        "row_count",
        "file_status",
    ]
    list_select_related = ["actor"]
    list_filter = ["exporter", "file_format", "status"]
    changelist_actions = ["new_export"]

    @admin.display(description="export", ordering="exporter")
    def export(self, run):
        exporter = EXPORTERS.get(run.exporter)
        return exporter.label if exporter else run.exporter

    @admin.display(description="file", ordering="status")
    def file_status(self, run):
        """A background export's status, linked to its page; "sent at once" otherwise."""
        if run.status == Status.STREAMED:
            return run.get_status_display()
        url = reverse("admin:refunds_exportrun_file", args=[run.pk])
        return format_html('<a href="{}">{}</a>', url, _status_words(run, timezone.now()))

    def get_urls(self):
        return [
            path(
                "new/",
                self.admin_site.admin_view(self.export_view),
                name="refunds_exportrun_export",
            ),
            path(
                "<int:run_id>/file/",
                self.admin_site.admin_view(self.file_view),
                name="refunds_exportrun_file",
            ),
            path(
                "<int:run_id>/file/download/",
                self.admin_site.admin_view(self.download_view),
                name="refunds_exportrun_download",
            ),
            path(
                "naupa/",
                self.admin_site.admin_view(lambda request: naupa_view(self, request)),
                name="refunds_exportrun_naupa",
            ),
            *super().get_urls(),
        ]

    def get_changelist_actions(self, request):
        return self.changelist_actions if request.user.has_perm("refunds.export_records") else []

    @action(label="New export", methods=("GET",), button_type="a")
    def new_export(self, request, queryset):
        return redirect("admin:refunds_exportrun_export")

    def export_view(self, request):
        """Pick an export, a format and a date range. A CSV up to
        `EXPORT_CSV_BACKGROUND_ROWS` rows downloads at once; XLSX and bigger CSV are
        written in the background, and the auditor is taken to the file's page (rule
        S5.exports: recorded before any row is read, either way)."""
        if not request.user.has_perm("refunds.export_records"):
            raise PermissionDenied
        form = forms.ExportForm(request.POST or None)
        if form.is_valid():
            exporter = EXPORTERS[form.cleaned_data["export"]]
            try:
                run, queryset = export_record(
                    exporter=exporter,
                    file_format=form.cleaned_data["file_format"],
                    date_from=form.cleaned_data["date_from"],
                    date_to=form.cleaned_data["date_to"],
                    actor=request.user,
                )
            except Refused as refused:
                form.add_error(None, str(refused))
            else:
                if run.status == Status.STREAMED:
                    return export_send(exporter, run, queryset)
                return redirect("admin:refunds_exportrun_file", run.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": "Export records",
            "opts": self.model._meta,
            "form": form,
            "objects": [],
            "hidden": [],
            "cancel_url": reverse("admin:refunds_exportrun_changelist"),
            "submit_label": "Export",
        }
        return TemplateResponse(request, "admin/backoffice/action_form.html", context)

    def _file_page(self, request, run, *, problem="", status=200):
        now = timezone.now()
        exporter = EXPORTERS.get(run.exporter)
        done = run.row_count if run.status in (Status.READY, Status.EXPIRED) else run.rows_written
        percent = 100 if not run.row_count else min(100, done * 100 // run.row_count)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Export: {exporter.label if exporter else run.exporter}",
            "opts": self.model._meta,
            "run": run,
            "status_words": _status_words(run, now),
            "working": run.status in (Status.QUEUED, Status.RUNNING),
            "rows_done": done,
            "percent": percent,
            "available": export_file_available(run, now),
            "expired": run.status == Status.EXPIRED
            or (run.status == Status.READY and not export_file_available(run, now)),
            "mine": run.actor_id == request.user.pk,
            "expires_at": business_datetime(run.expires_at),
            "problem": problem,
            "new_export_url": reverse("admin:refunds_exportrun_export"),
        }
        return TemplateResponse(
            request, "admin/backoffice/export_file.html", context, status=status
        )

    def file_view(self, request, run_id):
        """Rule S5.exports: a background export's page: its progress while it is
        written (the page reloads itself), then the download, the expiry, or why it
        failed."""
        if not request.user.has_perm("refunds.export_records"):
            raise PermissionDenied
        run = get_object_or_404(ExportRun.objects.exclude(status=Status.STREAMED), pk=run_id)
        return self._file_page(request, run)

    def download_view(self, request, run_id):
        """Rule S5.exports: the file, for the auditor who asked for it alone (anyone
        else: not found, nothing recorded); each download audited."""
        if not request.user.has_perm("refunds.export_records"):
            raise PermissionDenied
        run = get_object_or_404(ExportRun, pk=run_id, actor=request.user)
        try:
            handle = export_file_open(run_id=run.pk, actor=request.user)
        except ExportFileUnavailable as refused:
            run.refresh_from_db()
            return self._file_page(request, run, problem=str(refused), status=410)
        except Refused as refused:
            return self._file_page(request, run, problem=str(refused), status=409)
        filename = f"{run.exporter}_{run.date_from}_{run.date_to}.{run.file_format}"
        return FileResponse(
            handle,
            as_attachment=True,
            filename=filename,
            content_type=CONTENT_TYPES[run.file_format],
        )


def _status_words(run, now) -> str:
    """The status as the auditor reads it: a ready file past its expiry is expired."""
    if run.status == Status.READY and not export_file_available(run, now):
        return Status.EXPIRED.label
    if run.status == Status.RUNNING and run.row_count:
        return f"{run.get_status_display()} ({run.rows_written * 100 // run.row_count}%)"
    return run.get_status_display()
