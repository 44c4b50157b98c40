"""The Delete Account pages, D1-D6, through the Django test client."""

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import MailingAddress
from portal.models import AuditEvent
from refunds.models import Closure, Refund
from tests.factories import (
    PASSWORD,
    AdvanceConnectFactory,
    DirectBillChargeFactory,
    EMessagingFactory,
    LedgerEntryFactory,
    SecurusDebitFactory,
    VideoSessionFactory,
    VideoSubscriptionFactory,
)

pytestmark = pytest.mark.django_db


def url(step):
    return reverse(f"delete_account:{step}")


@pytest.fixture
def card_holder():
    ac = AdvanceConnectFactory()
    LedgerEntryFactory(advance_connect=ac, amount_cents=5000)
    LedgerEntryFactory(advance_connect=ac, settled_call=True, amount_cents=750)
    LedgerEntryFactory(advance_connect=ac, unsettled_call=True, amount_cents=315)
    return ac.account


@pytest.fixture
def mail_holder():
    ac = AdvanceConnectFactory()
    LedgerEntryFactory(advance_connect=ac, by_mail=True, amount_cents=2000)
    return ac.account


def signed_in(client, account):
    client.force_login(account.holder)
    return client


def reauthenticate(client):
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})


def walk_to_confirm(client):
    client.post(url("review"))
    client.post(url("address"), {"action": "confirm"})


def test_security_page_offers_delete_account(client, card_holder):
    html = signed_in(client, card_holder).get(reverse("accounts:settings_security")).content
    assert reverse("delete_account:start").encode() in html
    assert b"Delete Account" in html


def test_review_shows_each_service_with_amount_method_and_date(client, card_holder):
    signed_in(client, card_holder)
    response = client.get(url("start"), follow=True)
    assert response.redirect_chain[-1][0] == url("review")
    html = response.content.decode()
    # rule D1: $50 - $7.50 settled = $42.50; less $3.15 unsettled = $39.35 to the card.
    assert "$42.50" in html and "-$3.15" in html and "$39.35" in html
    assert "Visa card ending 4242" in html
    due = response.context["plan"].refund.due_date
    assert due.strftime("%A, %B %-d, %Y") in html
    assert "up to one billing cycle" in html
    # Services the account lacks are not shown.
    assert "Direct Bill" not in html and "VideoConnect" not in html
    assert "Securus Debit" not in html


def test_steps_cannot_be_skipped_and_land_on_the_right_page(client, card_holder):
    signed_in(client, card_holder)
    assert client.get(url("confirm")).url == url("review")
    assert client.get(url("address")).url == url("review")
    client.post(url("review"))
    assert client.get(url("confirm")).url == url("address")
    # A step the account does not need sends the holder where they should be.
    assert client.get(url("video")).url == url("address")
    # Going back is always allowed.
    assert client.get(url("review")).status_code == 200


def test_address_step_says_in_bold_that_the_check_goes_there(client, mail_holder):
    signed_in(client, mail_holder)
    client.post(url("review"))
    html = client.get(url("address")).content.decode()
    assert '<p class="fw-bold" id="check-warning">' in html
    assert "1200 E 6TH ST" in html


def test_confirming_the_address_records_when(client, card_holder):
    signed_in(client, card_holder)
    client.post(url("review"))
    before = timezone.now()
    response = client.post(url("address"), {"action": "confirm"})
    assert response.url == url("confirm")
    address = MailingAddress.objects.get(account=card_holder)
    assert address.confirmed_at >= before


def test_a_bad_corrected_address_is_refused_in_plain_words_and_nothing_changes(client, mail_holder):
    signed_in(client, mail_holder)
    client.post(url("review"))
    response = client.post(
        url("address"),
        {"action": "check", "line1": "", "city": "Austin", "state": "XX", "zip_code": "7870"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "This field is required." in html
    assert "Enter a zip code in the format XXXXX or XXXXX-XXXX." in html
    assert MailingAddress.objects.filter(account=mail_holder).count() == 1
    assert client.get(url("confirm")).url == url("address")


def test_a_corrected_address_is_the_one_the_check_goes_to(client, mail_holder):
    signed_in(client, mail_holder)
    client.post(url("review"))
    new = {"line1": "77 Oak Street", "line2": "Apt 2", "city": "El Paso", "state": "TX"}
    response = client.post(url("address"), {"action": "use_typed", "zip_code": "79901", **new})
    assert response.url == url("confirm")
    reauthenticate(client)
    client.post(url("confirm"))
    refund = Refund.objects.get()
    assert refund.method == Refund.Method.CHECK
    assert refund.address_lines() == ["77 OAK STREET", "APT 2", "EL PASO TX 79901"]
    closure = Closure.objects.get()
    assert closure.address.line1 == "77 OAK STREET"
    assert closure.address_confirmed_at is not None
    old = MailingAddress.objects.get(account=mail_holder, line1="1200 E 6TH ST")
    assert old.replaced_at is not None  # history kept


def test_usps_style_suggestion_is_offered_and_can_be_taken(client, mail_holder):
    signed_in(client, mail_holder)
    client.post(url("review"))
    typed = {
        "line1": "77 north Oak street",
        "line2": "apartment 2",
        "city": "El Paso",
        "state": "TX",
        "zip_code": "79901",
    }
    shown = client.post(url("address"), {"action": "check", **typed})
    assert shown.status_code == 200
    suggestion = shown.context["suggestion"]
    assert suggestion["line1"] == "77 N OAK ST"
    response = client.post(url("address"), {"action": "use_suggested", **typed})
    assert response.url == url("confirm")
    assert MailingAddress.objects.get(account=mail_holder, replaced_at=None).line1 == "77 N OAK ST"


def test_video_warning_lists_sessions_and_needs_the_acknowledgement(client, card_holder):
    session = VideoSessionFactory(
        account=card_holder, starts_at=timezone.now() + dt.timedelta(days=3)
    )
    VideoSubscriptionFactory(account=card_holder)
    signed_in(client, card_holder)
    walk_to_confirm(client)
    assert client.get(url("confirm")).url == url("video")
    html = client.get(url("video")).content.decode()
    assert session.incarcerated_name in html and "$12.95" in html
    assert "VideoConnect Monthly" in html
    refused = client.post(url("video"), {})
    assert refused.status_code == 400
    assert "Tick the box" in refused.content.decode()
    assert client.get(url("confirm")).url == url("video")
    assert client.post(url("video"), {"acknowledge": "yes"}).url == url("confirm")


def test_a_session_booked_after_the_acknowledgement_needs_a_new_one(client, card_holder):
    VideoSessionFactory(account=card_holder)
    signed_in(client, card_holder)
    walk_to_confirm(client)
    client.post(url("video"), {"acknowledge": "yes"})
    VideoSessionFactory(account=card_holder, starts_at=timezone.now() + dt.timedelta(days=8))
    assert client.get(url("confirm")).url == url("video")


def test_not_refundable_step_shows_debit_and_stamps(client, card_holder):
    SecurusDebitFactory(account=card_holder, balance_cents=3100)
    EMessagingFactory(account=card_holder, stamps=12)
    signed_in(client, card_holder)
    walk_to_confirm(client)
    html = client.get(url("not_refundable")).content.decode()
    assert "$31.00" in html and "Luis Reyes" in html
    assert "eMessaging stamps" in html and ": 12" in html
    assert client.post(url("not_refundable")).url == url("confirm")


def test_confirm_needs_a_fresh_password(client, card_holder):
    signed_in(client, card_holder)
    walk_to_confirm(client)
    # force_login is not a fresh sign-in: allauth asks for the password again.
    response = client.post(url("confirm"))
    assert response.url.startswith(reverse("account_reauthenticate"))
    assert not Closure.objects.exists()
    reauthenticate(client)
    assert client.get(url("confirm")).status_code == 200


def test_confirm_closes_once_signs_out_and_shows_done(client, card_holder):
    signed_in(client, card_holder)
    walk_to_confirm(client)
    reauthenticate(client)
    response = client.post(url("confirm"))
    assert response.url == url("done")
    closure = Closure.objects.get(account=card_holder)
    assert closure.reason == Closure.Reason.HOLDER_REQUEST
    assert closure.closed_by == card_holder.holder
    # D6: signed out, the reference and what happens next.
    assert "_auth_user_id" not in client.session
    done = client.get(url("done")).content.decode()
    assert closure.reference in done
    assert "$39.35" in done and "Visa card ending 4242" in done
    assert card_holder.holder.email in done
    # A resubmitted form or replayed request does not close anything again.
    again = client.post(url("confirm"))
    assert again.status_code == 302
    assert Closure.objects.count() == 1 and Refund.objects.count() == 1
    assert AuditEvent.objects.filter(action="closure.confirmed").count() == 1


def test_the_holder_cannot_sign_in_after_closing(client, card_holder):
    signed_in(client, card_holder)
    walk_to_confirm(client)
    reauthenticate(client)
    client.post(url("confirm"))
    response = client.post(
        reverse("account_login"),
        {"login": card_holder.holder.email, "password": PASSWORD},
        follow=True,
    )
    html = response.content.decode()
    assert "This account is closed" in html
    assert "1-800-844-6591" in html
    assert "_auth_user_id" not in client.session


def test_other_sessions_of_the_holder_end_at_closure(client, django_user_model, card_holder):
    from django.test import Client

    other_tab = Client()
    other_tab.force_login(card_holder.holder)
    signed_in(client, card_holder)
    walk_to_confirm(client)
    reauthenticate(client)
    client.post(url("confirm"))
    response = other_tab.get(reverse("accounts:my_account"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_cancel_changes_nothing(client, card_holder):
    signed_in(client, card_holder)
    client.post(url("review"))
    response = client.post(url("cancel"))
    assert response.url == reverse("accounts:settings_security")
    assert client.get(url("start")).url == url("review")
    card_holder.refresh_from_db()
    assert card_holder.is_open


def test_records_download_has_deposits_and_calls(client, card_holder):
    """Rule B1: the holder's records as CSV, to keep after the account is closed."""
    signed_in(client, card_holder)
    response = client.get(url("records_csv"))
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = body.strip().splitlines()
    assert lines[0] == "Date,Type,Description,Amount,Status"
    assert any("Deposit" in line and "50.00" in line and "Visa 4242" in line for line in lines)
    assert any(
        "Call charge" in line and "-3.15" in line and "not yet settled" in line for line in lines
    )


@pytest.mark.parametrize("step", ["review", "address", "confirm"])
def test_each_step_runs_in_a_bounded_number_of_queries(
    client, card_holder, django_assert_max_num_queries, step
):
    ac = card_holder.advance_connect
    LedgerEntryFactory.create_batch(200, advance_connect=ac, settled_call=True, amount_cents=1)
    signed_in(client, card_holder)
    if step != "review":
        client.post(url("review"))
    if step == "confirm":
        client.post(url("address"), {"action": "confirm"})
        reauthenticate(client)
    with django_assert_max_num_queries(25):
        assert client.get(url(step)).status_code == 200


def test_review_reads_only_the_services_the_account_has(
    client, card_holder, django_assert_num_queries
):
    """Issue 13: D1 for an account with AdvanceConnect alone reads the session, the user,
    the account (with its one-to-one services and which lists it has), the AdvanceConnect
    summary and last deposit, the unsettled calls by age and the address: nothing for the
    services it lacks, however many there could be."""
    signed_in(client, card_holder)
    client.get(url("review"))
    with django_assert_num_queries(7):
        response = client.get(url("review"))
    assert response.status_code == 200
    assert "$3.15" in response.content.decode()


# --- after closing, the portal keeps helping; every holder's situation in plain words ---


def close_through_the_flow(client, account, capture=None):
    signed_in(client, account)
    walk_to_confirm(client)
    reauthenticate(client)
    if capture is None:
        client.post(url("confirm"))
    else:
        with capture(execute=True):
            client.post(url("confirm"))
    return Closure.objects.get(account=account)


def test_done_page_links_to_the_status_page_with_the_reference_and_offers_no_sign_in(
    client, card_holder
):
    closure = close_through_the_flow(client, card_holder)
    html = client.get(url("done")).content.decode()
    status_link = f"{reverse('refund_status')}?reference={closure.reference}"
    assert f'href="{status_link}"' in html
    assert "have the ZIP code of your address and your last name ready" in html
    assert f'href="{reverse("account_login")}">Sign in' not in html
    assert ">Sign in<" not in html
    # The support number is a tap-to-call link that does not wrap.
    assert '<a class="text-nowrap" href="tel:18008446591">1-800-844-6591</a>' in html


def test_the_status_link_only_fills_in_the_reference(client, card_holder):
    closure = close_through_the_flow(client, card_holder)
    page = client.get(reverse("refund_status"), {"reference": closure.reference})
    html = page.content.decode()
    assert f'value="{closure.reference}"' in html
    # A GET never looks anything up: no refund, no "not found".
    assert "$39.35" not in html and 'id="no-match"' not in html
    junk = client.get(reverse("refund_status"), {"reference": '"><script>x</script>'})
    assert junk.status_code == 200 and "<script>x" not in junk.content.decode()


def test_the_confirmation_email_links_to_the_status_page(
    client, card_holder, django_capture_on_commit_callbacks, settings
):
    settings.PORTAL_URL = "https://portal.example.test"
    closure = close_through_the_flow(client, card_holder, django_capture_on_commit_callbacks)
    email = next(m for m in mail.outbox if closure.reference in m.subject)
    link = f"https://portal.example.test/refund-status/?reference={closure.reference}"
    assert link in email.body
    assert "have the ZIP code of your address and your last name ready" in email.body
    html = email.alternatives[0][0]
    assert f'href="{link}"' in html and 'href="tel:18008446591"' in html


@pytest.fixture
def direct_bill_holder():
    """Direct Bill only, with $3.15 of calls not yet billed: no AdvanceConnect at all."""
    charge = DirectBillChargeFactory(amount_cents=315)
    return charge.direct_bill.account


def test_direct_bill_holder_is_told_the_hold_and_the_final_statement_not_a_balance(
    client, direct_bill_holder, django_capture_on_commit_callbacks
):
    closure = close_through_the_flow(client, direct_bill_holder, django_capture_on_commit_callbacks)
    start = closure.direct_bill_hold_from.strftime("%A, %B %-d, %Y")
    end = closure.direct_bill_hold_until.strftime("%A, %B %-d, %Y")
    done = client.get(url("done")).content.decode()
    email = next(m for m in mail.outbox if closure.reference in m.subject).body
    for text in (done, email):
        assert f"Your final bill comes between {start} and {end}" in text
        assert "AdvanceConnect" not in text
    # The status page says the same once looked up.
    status = client.post(
        reverse("refund_status"),
        {
            "reference": closure.reference,
            "zip_code": closure.address.zip_code,
            "last_name": direct_bill_holder.holder.last_name,
        },
    )
    lookup = status.content.decode()
    assert 'id="direct-bill-heading"' in lookup
    assert f"Your final bill comes between {start} and {end}" in lookup
    assert "no balance to refund" not in lookup


def test_a_check_refund_says_why_it_is_a_check(client, mail_holder):
    signed_in(client, mail_holder)
    review = client.get(url("review")).content.decode()
    assert "the last time you added money, you paid by mail" in review
    closure = close_through_the_flow(client, mail_holder)
    done = client.get(url("done")).content.decode()
    assert closure.refunds.get().method == Refund.Method.CHECK
    assert "It comes as a check because the last time you added money, you paid by mail." in done


def test_review_states_the_24_hour_rule_even_without_recent_calls(client, mail_holder):
    html = signed_in(client, mail_holder).get(url("review")).content.decode()
    assert "Calls from the last 24 hours are deducted before the refund" in html
    assert 'id="deducted-recent"' not in html and 'id="deducted-older"' not in html


def test_review_labels_deductions_by_their_true_age(client, mail_holder):
    ac = mail_holder.advance_connect
    LedgerEntryFactory(
        advance_connect=ac,
        unsettled_call=True,
        amount_cents=100,
        occurred_at=timezone.now() - dt.timedelta(days=3),
    )
    LedgerEntryFactory(advance_connect=ac, unsettled_call=True, amount_cents=250)
    LedgerEntryFactory(advance_connect=ac, unsettled_call=True, amount_cents=50)
    html = signed_in(client, mail_holder).get(url("review")).content.decode()
    assert "Less 2 calls from the last 24 hours, not yet deducted" in html
    assert "-$3.00" in html
    # rule E3: the $1.00 call of three days ago is "older", not "of the last day".
    assert "Less 1 older call, not yet deducted" in html and "-$1.00" in html
    assert "$16.00" in html  # $20.00 - $3.00 - $1.00


def test_video_counts_use_real_plurals_on_the_done_page(client, card_holder):
    VideoSessionFactory(account=card_holder)
    closure = close_through_the_flow_with_video(client, card_holder)
    html = client.get(url("done")).content.decode()
    assert closure.sessions_voided == 1
    assert "1 scheduled session was voided" in html and "(s)" not in html


def close_through_the_flow_with_video(client, account):
    signed_in(client, account)
    walk_to_confirm(client)
    client.post(url("video"), {"acknowledge": "yes"})
    reauthenticate(client)
    client.post(url("confirm"))
    return Closure.objects.get(account=account)


def test_d5_password_page_keeps_the_step_back_and_cancel_and_says_why(client, card_holder):
    signed_in(client, card_holder)
    walk_to_confirm(client)
    page = client.get(url("confirm"), follow=True)
    assert page.redirect_chain[-1][0].startswith(reverse("account_reauthenticate"))
    html = page.content.decode()
    assert "Step 3 of 3" in html
    assert f'href="{url("address")}">Back' in html
    assert f'action="{url("cancel")}"' in html
    # rule D5: not asked within ACCOUNT_REAUTHENTICATION_TIMEOUT (300 s): 5 minutes.
    assert "in the last 5 minutes" in html and "cannot be undone" in html


def test_d5_does_not_ask_again_right_after_signing_in(client, card_holder):
    client.post(reverse("account_login"), {"login": card_holder.holder.email, "password": PASSWORD})
    walk_to_confirm(client)
    response = client.get(url("confirm"))
    assert response.status_code == 200
    assert "Confirm: delete your account" in response.content.decode()
