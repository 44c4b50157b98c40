"""Delete Account: My Settings → Security → Delete Account (SPEC D1-D6)."""

from functools import wraps

from allauth.account.decorators import reauthentication_required
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.forms import AddressForm
from accounts.selectors import account_for_holder, current_address
from accounts.services import address_change, address_confirm

from . import flow
from .exporters.base import csv_stream
from .forms import address_to_save
from .models import Closure
from .selectors import holder_records
from .services import closure_confirm, closure_plan

STEP_URLS = {
    flow.REVIEW: "delete_account:review",
    flow.ADDRESS: "delete_account:address",
    flow.VIDEO: "delete_account:video",
    flow.NOT_REFUNDABLE: "delete_account:not_refundable",
    flow.CONFIRM: "delete_account:confirm",
}


class _Context:
    """Everything a step needs: the account, the plan as of now, the flow state."""

    def __init__(self, request):
        self.account = account_for_holder(request.user, with_lists=True)
        if self.account is None or not self.account.is_open:
            raise Http404(_("There is no open account to delete."))
        self.now = timezone.now()
        self.plan = closure_plan(account=self.account, at=self.now)
        self.address = current_address(self.account)
        self.state = flow.FlowState.load(request.session)

    def template_context(self, step, **extra):
        steps = flow.steps_for(self.plan)
        back = flow.previous_step(step, self.plan)
        return {
            "account": self.account,
            "plan": self.plan,
            "address": self.address,
            "step": step,
            "step_number": steps.index(step) + 1,
            "step_count": len(steps),
            "back_url": reverse(STEP_URLS[back]) if back else reverse("accounts:settings_security"),
            **extra,
        }


def _step_view(step):
    """Open a step only when the steps before it are done; otherwise go where the
    holder should be. Never an error for a reload, a Back or a jump ahead."""

    def decorator(view):
        @wraps(view)
        def wrapper(request):
            ctx = _Context(request)
            if not flow.may_open(step, ctx.state, ctx.plan, ctx.address):
                return _to_open_step(ctx)
            return view(request, ctx)

        return login_required(wrapper)

    return decorator


def _to_open_step(ctx):
    """Where the holder should be now: the first step not yet done."""
    return redirect(STEP_URLS[flow.first_open_step(ctx.state, ctx.plan, ctx.address)])


@login_required
def start(request):
    return _to_open_step(_Context(request))


@_step_view(flow.REVIEW)
def review(request, ctx):
    """D1: one panel per service saying what will happen, with the amounts."""
    if request.method == "POST":
        ctx.state.reviewed = True
        ctx.state.save(request.session)
        return _to_open_step(ctx)
    return render(request, "refunds/delete/review.html", ctx.template_context(flow.REVIEW))


@_step_view(flow.ADDRESS)
def address(request, ctx):
    """D2: confirm the address on record or correct it; the check goes there."""
    form = AddressForm(initial=ctx.address.as_dict() if ctx.address else None)
    action = request.POST.get("action")
    if request.method == "POST" and action == "confirm" and ctx.address is not None:
        address_confirm(address=ctx.address, at=ctx.now)
        ctx.state.address_id = ctx.address.pk
        ctx.state.save(request.session)
        return _to_open_step(ctx)
    if request.method == "POST" and action in ("check", "use_typed", "use_suggested"):
        form = AddressForm(request.POST)
        if form.is_valid():
            chosen, suggestion = address_to_save(form, action)
            if chosen is None:
                return render(
                    request,
                    "refunds/delete/address.html",
                    ctx.template_context(
                        flow.ADDRESS,
                        form=form,
                        suggestion=suggestion,
                        typed=form.address(),
                        editing=True,
                    ),
                )
            new_address = address_change(
                account=ctx.account, actor=request.user, at=ctx.now, confirmed=True, **chosen
            )
            ctx.address = new_address
            ctx.state.address_id = new_address.pk
            ctx.state.save(request.session)
            messages.success(request, _("Your address was updated and confirmed."))
            return _to_open_step(ctx)
    editing = action in ("edit", "check", "use_typed", "use_suggested") or ctx.address is None
    return render(
        request,
        "refunds/delete/address.html",
        ctx.template_context(flow.ADDRESS, form=form, editing=editing),
    )


@_step_view(flow.VIDEO)
def video(request, ctx):
    """D3: deleting voids every scheduled session and subscription, with no refund."""
    error = None
    if request.method == "POST":
        if request.POST.get("acknowledge") == "yes":
            ctx.state.video_acknowledged = flow.video_keys(ctx.plan)
            ctx.state.save(request.session)
            return _to_open_step(ctx)
        error = _("Tick the box to say you understand, or go back and cancel your sessions.")
    return render(
        request,
        "refunds/delete/video.html",
        ctx.template_context(flow.VIDEO, error=error),
        status=400 if error else 200,
    )


@_step_view(flow.NOT_REFUNDABLE)
def not_refundable(request, ctx):
    """D4: Securus Debit stays with the incarcerated person; stamps are forfeited."""
    if request.method == "POST":
        ctx.state.not_refundable_acknowledged = True
        ctx.state.save(request.session)
        return _to_open_step(ctx)
    return render(
        request, "refunds/delete/not_refundable.html", ctx.template_context(flow.NOT_REFUNDABLE)
    )


@_step_view(flow.CONFIRM)
def confirm(request, ctx):
    """D5: after a fresh password or MFA check, close the account, exactly once."""
    # allauth's password page, if it shows, keeps this step's number, Back and Cancel.
    context = ctx.template_context(flow.CONFIRM)
    request.session[flow.REAUTH_STEP_KEY] = {
        "step_number": context["step_number"],
        "step_count": context["step_count"],
        "back_url": context["back_url"],
        "confirm_url": reverse(STEP_URLS[flow.CONFIRM]),
        "minutes": settings.ACCOUNT_REAUTHENTICATION_TIMEOUT // 60,
    }
    return _confirm(request, ctx, context)


@reauthentication_required
def _confirm(request, ctx, context):
    if request.method == "POST":
        closure = closure_confirm(
            account=ctx.account, actor=request.user, at=ctx.now, address=ctx.address
        )
        flow.FlowState.clear(request.session)
        # rule E1 / D6: the session ends here; the Done page is shown signed out.
        logout(request)
        request.session[flow.DONE_KEY] = closure.reference
        return redirect("delete_account:done")
    return render(request, "refunds/delete/confirm.html", context)


def done(request):
    """D6: the reference, what happens next and by when, and that an email was sent."""
    reference = request.session.get(flow.DONE_KEY)
    closure = (
        Closure.objects.select_related("account__holder").filter(reference=reference).first()
        if reference
        else None
    )
    if closure is None:
        return redirect("account_login")
    # The account is closed: signing in is no help, the status page is.
    return render(request, "refunds/delete/done.html", {"closure": closure, "hide_sign_in": True})


@login_required
@require_POST
def cancel(request):
    flow.FlowState.clear(request.session)
    messages.info(request, _("Nothing was changed. Your account is still open."))
    return redirect("accounts:settings_security")


@login_required
def records_csv(request):
    """B1: the holder's deposits, calls, refunds and statements, to keep after closing."""
    account = account_for_holder(request.user)
    if account is None:
        raise Http404
    header = [_("Date"), _("Type"), _("Description"), _("Amount"), _("Status")]
    # The auditors' CSV writer: what was typed (memos, names) cannot run as a formula.
    rows = csv_stream(header, holder_records(account))
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="account-{account.number}.csv"'
    return response
