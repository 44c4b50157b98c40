"""The admin's bulk actions read their selection as row ids, or refuse it in plain words."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.utils.html import format_html
from django.utils.translation import gettext as _

SELECTED_ID = forms.IntegerField(min_value=1, max_value=2**63 - 1)


class CheckedSelectionMixin(admin.ModelAdmin):
    """A selection that is not a list of row ids (a form tampered with) is refused in
    plain words and nothing is done; Django would filter on it and fail with a 500."""

    def response_action(self, request, queryset, *args, **kwargs):
        try:
            for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
                SELECTED_ID.clean(value)
        except ValidationError:
            self.message_user(
                request, "The selected rows could not be read. Select them again.", messages.ERROR
            )
            return HttpResponseRedirect(request.get_full_path())
        return super().response_action(request, queryset, *args, **kwargs)

    def action_checkbox(self, obj):
        """Django's checkbox for a row, written as HTML: rendering a form widget through
        the template engine for every row cost as much as the rest of the row."""
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            format_html(_("Select this object for an action - {}"), str(obj)),
        )
