"""Rule N3: "Keep my account open", for New Mexico holders. GET shows, POST acts."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.selectors import account_for_holder
from accounts.services import account_keep_open
from portal.dates import date_text

from .services.inactivity import inactivity_outlook


@login_required
@require_http_methods(["GET", "POST"])
def keep_account_open(request):
    """The page the notices link to (after sign-in), and where My Account's button posts.
    Holders the rule does not cover get a 404: they see nothing of it."""
    account = account_for_holder(request.user)
    now = timezone.now()
    outlook = inactivity_outlook(account=account, now=now) if account else None
    if account is None or outlook is None:
        raise Http404
    if request.method == "POST":
        account_keep_open(account=account, actor=request.user, at=now)
        outlook = inactivity_outlook(account=account, now=now)
        if outlook is None:  # keeping the account open does not change who is covered
            raise AssertionError(f"account {account.pk} is no longer covered")
        messages.success(
            request,
            _("Your account stays open. Without activity it would now close on %(date)s.")
            % {"date": date_text(outlook.closes_on)},
        )
        return redirect("accounts:my_account")
    return render(request, "refunds/keep_open.html", {"outlook": outlook})
