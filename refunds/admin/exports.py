"""Auditors: exports of closures, refunds, the check register, final statements, held
funds, the unclaimed property report and the audit trail (SPEC §5, B6), and the list
of every export taken."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django_object_actions import DjangoObjectActions, action

from portal.errors import Refused

from ..exporters import EXPORTERS, export_response
from ..models import ExportRun
from . import forms
from .bank_files import naupa_view
from .base import ReadOnlyAdmin


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
    ]
    list_select_related = ["actor"]
    list_filter = ["exporter", "file_format"]
    changelist_actions = ["new_export"]

    @admin.display(description="export", ordering="exporter")
    def export(self, run):
        exporter = EXPORTERS.get(run.exporter)
        return exporter.label if exporter else run.exporter

    def get_urls(self):
        return [
            path(
                "new/",
                self.admin_site.admin_view(self.export_view),
                name="refunds_exportrun_export",
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
        """Pick an export, a format and a date range; the file downloads at once."""
        if not request.user.has_perm("refunds.export_records"):
            raise PermissionDenied
        form = forms.ExportForm(request.POST or None)
        if form.is_valid():
            try:
                return export_response(
                    exporter=EXPORTERS[form.cleaned_data["export"]],
                    file_format=form.cleaned_data["file_format"],
                    date_from=form.cleaned_data["date_from"],
                    date_to=form.cleaned_data["date_to"],
                    actor=request.user,
                )
            except Refused as refused:
                form.add_error(None, str(refused))
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
